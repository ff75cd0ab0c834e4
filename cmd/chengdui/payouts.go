package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"time"

	"chengdui"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/rail/sandbox"
	"chengdui/withdraw"
)

// devPayouts are dev's fiat payouts: the sandbox bank runs in process on
// loopback with its own HTTP API, and a callback receiver, also on
// loopback, applies the bank's signed updates to the payouts.
type devPayouts struct {
	Service *payout.Service
	BankURL string
	// KeyFile holds the bank's API key (mode 0600), for `chengdui
	// reconcile --bank-key-file`.
	KeyFile string
	Bank    *sandbox.Client // the platform's client of the bank
	stop    []func()
}

// payoutInterval is how often payouts awaiting payment are dispatched.
const payoutInterval = time.Second

// startDevPayouts starts the sandbox bank (funded with 10,000,000 of CNY,
// USD and EUR), the callback receiver and the payout dispatcher; with
// withdrawals (dev's hot wallets), crypto payouts too.
func startDevPayouts(ctx context.Context, db database, eng *ledger.Engine, withdrawals *withdraw.Service, dataDir string, log *slog.Logger) (*devPayouts, error) {
	store, ok1 := db.(payout.Store)
	assets, ok2 := db.(payout.Assets)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("database %T does not store payouts", db)
	}
	key, secret := randomHex(16), randomHex(32)
	d := &devPayouts{KeyFile: filepath.Join(dataDir, "sandbox-bank.key")}
	// The bank lives as long as the process; its key changes with it.
	if err := os.WriteFile(d.KeyFile, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the sandbox bank's key: %w", err)
	}
	// The receiver listens first: the bank is told where to call back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	funding := map[string]chengdui.Amount{}
	for _, c := range []string{"CNY", "USD", "EUR"} {
		funding[c], _ = chengdui.ParseDecimal("10000000", 2)
	}
	bank, err := sandbox.NewBank(sandbox.Config{APIKey: key, CallbackURL: "http://" + ln.Addr().String() + "/callback",
		CallbackSecret: secret, Funding: funding, OperatingName: "Chengdui dev operating account", Logger: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if d.BankURL, err = startBank(bank, &d.stop); err != nil {
		ln.Close()
		return nil, err
	}
	client := sandbox.NewClient(d.BankURL, key, &nethttp.Client{Timeout: 10 * time.Second})
	d.Bank = client
	rails := map[string]rail.Rail{}
	for _, c := range client.Currencies() {
		rails[c] = client
	}
	pcfg := payout.Config{Store: store, Ledger: eng, Assets: assets, Rails: rails, Log: log, ApprovalAbove: devApprovalAbove()}
	if d.Service, err = newPayoutService(pcfg, withdrawals); err != nil {
		ln.Close()
		d.Stop()
		return nil, err
	}
	srv := &nethttp.Server{ReadHeaderTimeout: 5 * time.Second, Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Method != nethttp.MethodPost || r.URL.Path != "/callback" {
			nethttp.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			nethttp.Error(w, "read", nethttp.StatusBadRequest)
			return
		}
		u, err := sandbox.VerifyCallback(secret, body, r.Header.Get(sandbox.SignatureHeader))
		if err != nil {
			log.Warn("sandbox bank callback refused", "err", err)
			nethttp.Error(w, chengdui.ErrorMessage(err), nethttp.StatusUnauthorized)
			return
		}
		if _, err := d.Service.Apply(r.Context(), u); err != nil && chengdui.ErrorCode(err) != chengdui.EConflict {
			log.Error("payout update from the sandbox bank", "payout", u.OrderID, "status", string(u.Status), "err", err)
			nethttp.Error(w, "retry", nethttp.StatusServiceUnavailable) // the bank retries
			return
		}
		w.WriteHeader(nethttp.StatusNoContent)
	})}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			log.Error("sandbox bank callback receiver", "err", err)
		}
	}()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Service.Run(runCtx, payoutInterval); err != nil && runCtx.Err() == nil {
			log.Error("payout dispatcher stopped", "err", err)
		}
	}()
	d.stop = append(d.stop, func() { cancel(); <-done }, func() { srv.Close() })
	return d, nil
}

// devApprovalAbove are dev's second-operator thresholds: a payout above
// them waits for `chengdui payout approve` by an operator who did not
// create it.
func devApprovalAbove() map[string]chengdui.Amount {
	out := map[string]chengdui.Amount{}
	for asset, v := range map[string]struct {
		amount string
		dec    uint8
	}{"CNY": {"10000", 2}, "USD": {"1500", 2}, "EUR": {"1500", 2}, "BTC": {"0.1", 8}, "ETH": {"1", 18},
		"USDT-ERC20": {"1500", 6}, "USDC-ERC20": {"1500", 6}} {
		out[asset], _ = chengdui.ParseDecimal(v.amount, v.dec) // fixed literals
	}
	return out
}

// newPayoutService builds the payout service of cfg; with withdrawals (a
// signing hot wallet) crypto payouts go out through the chains' payers,
// batched.
func newPayoutService(cfg payout.Config, withdrawals *withdraw.Service) (*payout.Service, error) {
	var chain *payout.ChainSender
	if withdrawals != nil {
		chain = payout.NewChainSender(withdrawals)
		cfg.Crypto = chain
	}
	svc, err := payout.New(cfg)
	if err != nil {
		return nil, err
	}
	if chain != nil {
		chain.Attach(svc)
	}
	return svc, nil
}

// startBank serves the bank on a free loopback port.
func startBank(bank *sandbox.Bank, stops *[]func()) (string, error) {
	url, stop, err := bank.Start("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	*stops = append(*stops, stop, func() { bank.Close() })
	return url, nil
}

// Stop ends the dispatcher, the receiver and the bank.
func (d *devPayouts) Stop() {
	for i := len(d.stop) - 1; i >= 0; i-- {
		d.stop[i]()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}
