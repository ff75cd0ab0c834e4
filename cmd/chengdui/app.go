package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"sync"
	"time"

	"chengdui"
	"chengdui/audit"
	chttp "chengdui/http"
	"chengdui/invoice"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/payout"
	"chengdui/settle"
	"chengdui/wallet"
	"chengdui/webhook"
	"chengdui/withdraw"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// appConfig is what dev and serve share.
type appConfig struct {
	Addr            string
	DSN             string
	MaxBatch        int
	ShutdownTimeout time.Duration
	AutoMigrate     bool
	// Seed, if set, runs once the ledger and the user services are up
	// (dev's demo data). Wallets and Merchants are nil without Wallet.
	Seed func(ctx context.Context, s services) error
	// Ready is called with the base URL once the server listens.
	Ready func(baseURL string)
	// Wallet, if set, serves users, sessions and wallets.
	Wallet *walletSetup
	// DevChain, if set, is dev's in-process EVM chain: started after the
	// ledger, stopped after HTTP, and serving the faucet routes.
	DevChain *devChain
	// Chains, if set (it needs Wallet), returns the chains to follow once
	// the ledger runs: watchers credit deposits, payers send withdrawals.
	// Dev's come from its in-process EVM chain and regtest btcd.
	// The returned stop runs after the watchers have stopped.
	Chains func(ctx context.Context) (cs *chainsSetup, stop func(), err error)
	// Rates, if set (it needs Wallet), returns the quoter invoices are
	// priced with; without it there are no invoices.
	Rates func(ctx context.Context) (q invoice.Quoter, stop func(), err error)
	// FeeBps is the platform's conversion fee (hundredths of a percent).
	FeeBps uint32
	// PublicURL is the external base URL of checkout links ("": the
	// request's host).
	PublicURL string
	// AllowPrivateWebhooks lets webhooks target loopback and private
	// addresses (dev: a shop on the same machine).
	AllowPrivateWebhooks bool
	// Payouts, if set, starts the payout service with its rails (dev: the
	// sandbox bank) and, with withdrawals (a signing hot wallet), crypto
	// payouts through the chains' payers; stop runs at shutdown.
	Payouts func(ctx context.Context, db database, eng *ledger.Engine, withdrawals *withdraw.Service) (svc *payout.Service, stop func(), err error)
	// SettlementDelay is how long a new settlement destination waits
	// before it takes effect: 0 is settle.DefaultChangeDelay (24 h),
	// settle.NoDelay none (dev).
	SettlementDelay time.Duration
	// SeedInvoices, if set, runs once invoices are up (dev's demo invoice).
	SeedInvoices func(ctx context.Context, s services) error
	// Faucets, dev only: BTC and test-token faucets for the faucet route.
	AssetFaucet func(ctx context.Context, asset, to, amount string) (string, error)
}

// services are what serveApp runs, for Seed.
type services struct {
	Ledger    *ledger.Engine
	Wallets   *wallet.Service
	Merchants *merchant.Service
	Invoices  *invoice.Service // set before SeedInvoices
	DB        database
}

// serveApp runs the platform until ctx is cancelled, then shuts down in
// this order: stop accepting HTTP and drain requests (up to
// ShutdownTimeout), stop the dev EVM chain if any, stop the ledger engine
// (it commits what is queued), close the database.
func serveApp(ctx context.Context, log *slog.Logger, cfg appConfig) error {
	db, err := openMigrated(ctx, cfg.DSN, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer func() {
		db.Close()
		log.Info("database closed")
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng := ledger.New(db, ledger.Options{Logger: log, Metrics: ledger.NewMetrics(reg), MaxBatch: cfg.MaxBatch})
	if err := eng.Start(ctx); err != nil {
		return err
	}
	defer func() {
		eng.Stop()
		log.Info("ledger stopped")
	}()
	hcfg := chttp.Config{}
	if cfg.DevChain != nil {
		if err := cfg.DevChain.Start(ctx); err != nil {
			return fmt.Errorf("dev evm chain: %w", err)
		}
		// Deferred after the ledger's stop, so it runs before it.
		defer func() {
			cfg.DevChain.Stop()
			log.Info("evm chain stopped")
		}()
		hcfg.Faucet, hcfg.Balance = cfg.DevChain.Faucet, cfg.DevChain.Balance
	}
	var wallets chengdui.Wallets
	var merchants chengdui.Merchants
	svcs := services{Ledger: eng, DB: db}
	if cfg.Wallet != nil {
		if svcs.Wallets, svcs.Merchants, err = newUserServices(db, eng, cfg.Wallet, log); err != nil {
			return err
		}
		wallets, merchants = svcs.Wallets, svcs.Merchants
	}
	if cfg.Seed != nil {
		if err := cfg.Seed(ctx, svcs); err != nil {
			return fmt.Errorf("seeding demo data: %w", err)
		}
	}
	var cs *chainsSetup
	if cfg.Chains != nil && svcs.Wallets != nil {
		var stopChains func()
		if cs, stopChains, err = cfg.Chains(ctx); err != nil {
			return fmt.Errorf("chains: %w", err)
		}
		defer stopChains()
	}
	// Background services (invoice clock, webhook delivery) run until the
	// deferred cancel, before the ledger stops.
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	defer func() {
		bgCancel()
		bg.Wait()
	}()
	var invoices *invoice.Service
	var quoter invoice.Quoter
	var hooks *webhook.Service
	if svcs.Merchants != nil && cfg.Rates != nil {
		q, stopRates, err := cfg.Rates(ctx)
		if err != nil {
			return fmt.Errorf("rates: %w", err)
		}
		defer stopRates()
		quoter = q
		if hooks, err = newWebhooks(db, cfg.AllowPrivateWebhooks, log); err != nil {
			return err
		}
		var alerts settle.Alerter
		if astore, ok := db.(audit.Store); ok {
			alerts = &audit.Recorder{Store: astore, Log: log}
		}
		invoices, err = newInvoices(invoiceDeps{DB: db, Ledger: eng, Wallets: svcs.Wallets, Chains: cs, Quoter: quoter, Notify: hooks.Notify, Log: log,
			FeeBps: cfg.FeeBps, Alerts: alerts})
		if err != nil {
			return fmt.Errorf("invoices: %w", err)
		}
		bg.Add(2)
		go func() {
			defer bg.Done()
			if err := hooks.Run(bgCtx); err != nil && bgCtx.Err() == nil {
				log.Error("webhook delivery stopped", "err", err)
			}
		}()
		go func() {
			defer bg.Done()
			invoices.Run(bgCtx, invoiceTick)
		}()
		idem, ok := db.(chengdui.IdempotencyStore)
		if !ok {
			return fmt.Errorf("database %T does not keep idempotency keys", db)
		}
		hcfg.Invoices, hcfg.Webhooks, hcfg.Idempotency, hcfg.PublicURL = invoices, hooks, idem, cfg.PublicURL
		svcs.Invoices = invoices
	}
	var rt *chainRuntime
	if cs != nil {
		if rt, err = startChains(ctx, cs, db, eng, svcs.Wallets, invoices, log); err != nil {
			return err
		}
		// Deferred after the ledger's stop, so it runs before it.
		defer func() {
			rt.stop()
			log.Info("chain watchers and payers stopped")
		}()
		hcfg.Deposits = rt.UserDeps
		if cs.Signer != nil {
			hcfg.Withdrawals = rt.Withdrawals // watch-only: no route, nothing would pay it
		}
	}
	if invoices != nil {
		var withdrawals *withdraw.Service
		if rt != nil && cs.Signer != nil {
			withdrawals = rt.Withdrawals
		}
		var check func(asset, address string) (string, error)
		if withdrawals != nil {
			check = withdrawals.CheckAddress
		}
		profiles, err := newProfiles(db, cfg.SettlementDelay, check, hooks.Notify, log)
		if err != nil {
			return fmt.Errorf("settlement profiles: %w", err)
		}
		hcfg.Settlement = profiles
		if cfg.Payouts != nil {
			svc, stop, err := cfg.Payouts(ctx, db, eng, withdrawals)
			if err != nil {
				return fmt.Errorf("payouts: %w", err)
			}
			defer stop()
			hcfg.Payouts = svc
			stopScheduler, err := startScheduler(profiles, svc, eng, db, log)
			if err != nil {
				return fmt.Errorf("settlement scheduler: %w", err)
			}
			defer stopScheduler()
		}
		refunds, err := newRefunds(db, eng, invoices, quoter, withdrawals, hooks.Notify, log)
		if err != nil {
			return fmt.Errorf("refunds: %w", err)
		}
		bg.Add(1)
		go func() {
			defer bg.Done()
			refunds.Run(bgCtx, refundInterval)
		}()
		hcfg.Refunds = refunds
		// Deposits whose invoice change a crash lost are applied again.
		if err := invoices.Recover(ctx); err != nil {
			return fmt.Errorf("invoices: recover: %w", err)
		}
		if cfg.SeedInvoices != nil {
			if err := cfg.SeedInvoices(ctx, svcs); err != nil {
				return fmt.Errorf("seeding demo invoices: %w", err)
			}
		}
	}
	hcfg.AssetFaucet = cfg.AssetFaucet
	hcfg.Wallets, hcfg.Merchants = wallets, merchants
	hcfg.Ledger, hcfg.Store = eng, db
	hcfg.Registry, hcfg.Logger, hcfg.Version = reg, log, versionString()
	hcfg.Ready = func(ctx context.Context) error {
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		if v == 0 {
			return errors.New("migrations have not run")
		}
		return nil
	}
	srv := chttp.NewServer(hcfg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usagef("listen on %s: %v (is another chengdui running? pick another --addr)", cfg.Addr, err)
	}
	hs := &nethttp.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	hs.RegisterOnShutdown(srv.StopStreams)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	log.Info("listening", "url", base)
	if cfg.Ready != nil {
		cfg.Ready(base)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	if cfg.DevChain != nil {
		log.Info("shutting down: http, then evm chain, then ledger, then database")
	} else {
		log.Info("shutting down: http, then ledger, then database")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("http stopped")
	return nil
}
