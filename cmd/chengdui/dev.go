package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"chengdui"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/invoice"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail/sandbox"
	"chengdui/settle"
	"chengdui/withdraw"
)

func runDev(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dev", "dev [--addr 127.0.0.1:8080] [--data-dir ./data]")
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address (port 0 picks a free one)")
	dataDir := fs.String("data-dir", "./data", "directory of the embedded SQLite store")
	seed := fs.Bool("seed", true, "seed demo assets, accounts and transfers on first start")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	blockTime := fs.Duration("block-time", time.Second, "how often the in-process EVM chain seals a block (0: never)")
	btcBlockTime := fs.Duration("btc-block-time", 2*time.Second, "how often the regtest btcd mines a block (0: never)")
	noBitcoin := fs.Bool("no-bitcoin", false, "run without btcd (no BTC deposits or withdrawals)")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(e.stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	dsn := "sqlite:" + filepath.Join(*dataDir, "chengdui.db")
	if *blockTime < 0 {
		return usagef("--block-time %s: give a positive duration, or 0 to seal no blocks", *blockTime)
	}
	ws, signer, err := devWallet(*dataDir)
	if err != nil {
		return err
	}
	defer signer.Close()
	if *btcBlockTime < 0 {
		return usagef("--btc-block-time %s: give a positive duration, or 0 to mine no blocks", *btcBlockTime)
	}
	var demo *demoUsers    // filled by Seed, printed by Ready
	var demoInvoice string // filled by SeedInvoices
	var bankURL string     // the sandbox bank, filled by Payouts
	var bank *sandbox.Client
	var bankKey string
	var chains *chainsSetup
	devEVM := newDevChain(signer, *blockTime)
	var devBTC *devBitcoin
	if !*noBitcoin {
		devBTC = newDevBitcoin(*dataDir, signer, *btcBlockTime)
	}
	if devStarted != nil {
		devStarted(*dataDir, devEVM, devBTC)
	}
	cfg := appConfig{Addr: *addr, DSN: dsn, ShutdownTimeout: 10 * time.Second, AutoMigrate: true, Wallet: ws,
		DevChain: devEVM,
		Rates:    func(ctx context.Context) (invoice.Quoter, func(), error) { return devRates(ctx, log) },
		// The shop a developer tests webhooks with runs on this machine.
		AllowPrivateWebhooks: true,
		FeeBps:               devFeeBps,
		// Destination changes take effect at once in dev (still behind
		// the owner's second factor); serve waits 24 h.
		SettlementDelay: settle.NoDelay,
		Payouts: func(ctx context.Context, db database, eng *ledger.Engine, withdrawals *withdraw.Service) (*payout.Service, func(), error) {
			p, err := startDevPayouts(ctx, db, eng, withdrawals, *dataDir, log)
			if err != nil {
				return nil, nil, err
			}
			bankURL, bank, bankKey = p.BankURL, p.Bank, p.KeyFile
			return p.Service, p.Stop, nil
		},
		Chains: func(ctx context.Context) (*chainsSetup, func(), error) {
			cs, stop, err := devChains(ctx, devEVM, devBTC, signer, log)
			chains = cs
			return cs, stop, err
		},
		AssetFaucet: func(ctx context.Context, asset, to, amount string) (string, error) {
			if asset == "BTC" {
				if devBTC == nil {
					return "", chengdui.Errorf(chengdui.EInvalid, "dev runs without bitcoin (--no-bitcoin)")
				}
				return devBTC.Faucet(ctx, to, amount)
			}
			return devEVM.MintToken(ctx, asset, to, amount)
		},
		Ready: func(base string) {
			if devWired != nil {
				devWired(*dataDir, chains, bank)
			}
			fmt.Fprintf(e.stdout, "Chengdui 承兑 (dev) is running; data in %s\n", *dataDir)
			fmt.Fprintf(e.stdout, "  Ledger page:  %s/\n", base)
			fmt.Fprintf(e.stdout, "  Journal API:  %s/api/v1/ledger/transfers\n", base)
			fmt.Fprintf(e.stdout, "  Health:       %s/healthz  %s/readyz\n", base, base)
			fmt.Fprintf(e.stdout, "  Metrics:      %s/metrics\n", base)
			fmt.Fprintf(e.stdout, "  Sign up:      curl -d '{\"email\":\"you@example.com\",\"password\":\"…\"}' %s/api/v1/users\n", base)
			fmt.Fprintf(e.stdout, "  Verify:       chengdui ledger verify --data-dir %s\n", *dataDir)
			fmt.Fprintf(e.stdout, "  EVM chain:    in-process, chain id %d, %s; faucet POST %s/api/v1/dev/faucet\n", evm.SimulatedChainID, blockTimeText(*blockTime), base)
			if devBTC != nil {
				fmt.Fprintf(e.stdout, "  Bitcoin:      btcd regtest at %s, block every %s; faucet POST %s/api/v1/dev/faucet {\"asset\":\"BTC\",…}\n", devBTC.proc.Host, *btcBlockTime, base)
				fmt.Fprintf(e.stdout, "  Cold storage: 2-of-3, keys in %s; above 2 BTC the hot wallet sweeps there\n", filepath.Join(*dataDir, "cold"))
				fmt.Fprintf(e.stdout, "                chengdui cold … --node %s --rpc-user %s --rpc-pass-file %s\n", devBTC.proc.Host, devBTC.proc.User, devBTC.PassFile())
			}
			fmt.Fprintf(e.stdout, "  Withdraw:     POST %s/api/v1/withdrawals (session + 2FA code + Idempotency-Key)\n", base)
			if bankURL != "" {
				fmt.Fprintf(e.stdout, "  Bank:         sandbox bank at %s (fiat payouts: POST %s/api/v1/stores/{storeId}/payouts)\n", bankURL, base)
				fmt.Fprintf(e.stdout, "  Reconcile:    chengdui reconcile --data-dir %s --bank %s --bank-key-file %s\n", *dataDir, bankURL, bankKey)
				fmt.Fprintf(e.stdout, "  Settlement:   PUT %s/api/v1/stores/{storeId}/settlement (splits, daily/instant payouts; changes apply at once in dev)\n", base)
				fmt.Fprintf(e.stdout, "  Approvals:    payouts above 10,000 CNY wait for a second operator: chengdui payout approve --data-dir %s --operator NAME ID\n", *dataDir)
			}
			if demoInvoice != "" {
				fmt.Fprintf(e.stdout, "  Checkout:     %s/i/%s  (a demo invoice of CNY 88.00: pay from the demo payer's balance or on chain)\n", base, demoInvoice)
				fmt.Fprintf(e.stdout, "  Merchant API: %s/api/openapi.yaml; Greenfield-compatible under %s/api/v1/stores/{storeId}/invoices\n", base, base)
				fmt.Fprintf(e.stdout, "  Merchant:     %s/merchant (the demo merchant's balances, settlements, payouts, refunds)\n", base)
			}
			if demo != nil {
				fmt.Fprintf(e.stdout, "Demo accounts (log in at %s/login):\n", base)
				for _, u := range []demoUser{demo.Payer, demo.Merchant} {
					fmt.Fprintf(e.stdout, "  %-9s %s  password: %s\n", u.Role, u.Email, u.Password)
				}
			}
			fmt.Fprintln(e.stdout, "Press Ctrl-C to stop.")
		}}
	if *seed {
		cfg.Seed = func(ctx context.Context, svcs services) (err error) {
			if err := seedDemo(ctx, svcs.Ledger); err != nil {
				return err
			}
			demo, err = seedDemoUsers(ctx, svcs, *dataDir)
			return err
		}
		cfg.SeedInvoices = func(ctx context.Context, svcs services) (err error) {
			// The operator's fiat inventory that conversions pay merchants from.
			if err := fundInventory(ctx, svcs.Ledger, "CNY", "1000000", 2); err != nil {
				return err
			}
			if err := fundInventory(ctx, svcs.Ledger, "USD", "100000", 2); err != nil {
				return err
			}
			demoInvoice, err = seedDemoInvoice(ctx, svcs, demo)
			return err
		}
	}
	return serveApp(ctx, log, cfg)
}

// seedDemo gives a newcomer a living ledger: assets, platform and customer
// accounts, deposits, a payment, a hold that was posted and a conversion.
// It runs only on an empty journal; ids are fixed, so a rerun is a no-op.
// devGrant is the account dev's demo money is granted from: the demo
// users' balances are real ledger balances, but no chain holds them.
func devGrant(asset string) string { return "platform:" + asset + ":dev-grant" }

func seedDemo(ctx context.Context, l *ledger.Engine) error {
	head, err := l.Head(ctx)
	if err != nil || head.Size > 0 {
		return err
	}
	assets := []chengdui.Asset{
		{Code: "BTC", Network: "bitcoin", Decimals: 8},
		{Code: "ETH", Network: "ethereum", Decimals: 18},
		{Code: "USDT-ERC20", Network: "ethereum", Decimals: 6},
		{Code: "USDC-ERC20", Network: "ethereum", Decimals: 6},
		{Code: "CNY", Network: "fiat", Decimals: 2},
		{Code: "USD", Network: "fiat", Decimals: 2},
	}
	for _, a := range assets {
		if _, err := l.CreateAsset(ctx, a); err != nil {
			return err
		}
		for _, acc := range []chengdui.Account{
			{ID: "platform:" + a.Code + ":chain", Asset: a.Code, Metadata: map[string]string{"role": "on-chain holdings"}},
			// Dev's demo money comes from here, not from a chain: what the
			// chain accounts hold must be on chain (chengdui reconcile).
			{ID: devGrant(a.Code), Asset: a.Code, Metadata: map[string]string{"role": "dev demo money, on no chain"}},
			settle.InventoryAccount(a.Code),
			{ID: "platform:" + a.Code + ":revenue", Asset: a.Code, Metadata: map[string]string{"role": "fees"}},
			{ID: "user:alice:" + a.Code, Asset: a.Code, Flags: chengdui.DebitsMustNotExceedCredits},
			{ID: "merchant:teahouse:" + a.Code, Asset: a.Code, Flags: chengdui.DebitsMustNotExceedCredits},
		} {
			if _, err := l.CreateAccount(ctx, acc); err != nil {
				return err
			}
		}
	}
	amount := func(s string, dec uint8) chengdui.Amount {
		a, err := chengdui.ParseDecimal(s, dec)
		if err != nil {
			panic(err) // fixed demo literals
		}
		return a
	}
	steps := [][]chengdui.Transfer{
		{{ID: "demo:deposit:btc", DebitAccountID: devGrant("BTC"), CreditAccountID: "user:alice:BTC", Amount: amount("0.5", 8), Code: 1,
			Metadata: map[string]string{"kind": "dev grant"}}},
		{{ID: "demo:deposit:usdt", DebitAccountID: devGrant("USDT-ERC20"), CreditAccountID: "user:alice:USDT-ERC20", Amount: amount("1000", 6), Code: 1,
			Metadata: map[string]string{"kind": "dev grant"}}},
		{{ID: "demo:deposit:eth", DebitAccountID: devGrant("ETH"), CreditAccountID: "user:alice:ETH", Amount: amount("1.000000000000000001", 18), Code: 1,
			Metadata: map[string]string{"kind": "dev grant"}}},
		{{ID: "demo:inventory:cny", DebitAccountID: devGrant("CNY"), CreditAccountID: "platform:CNY:inventory", Amount: amount("100000", 2), Code: 2,
			Metadata: map[string]string{"kind": "inventory funding"}}},
		// Alice pays the teahouse 100 USDT: a hold, then posted.
		{{ID: "demo:invoice-1:hold", DebitAccountID: "user:alice:USDT-ERC20", CreditAccountID: "merchant:teahouse:USDT-ERC20", Amount: amount("100", 6),
			Flags: chengdui.Pending, Timeout: 900, Code: 3, Metadata: map[string]string{"invoice": "demo-1"}}},
		{{ID: "demo:invoice-1:post", PendingID: "demo:invoice-1:hold", Flags: chengdui.PostPending, Code: 3}},
		// 承兑: the teahouse converts 50 USDT to CNY at 7.1000 with a 1 % fee, in one linked batch.
		{
			{ID: "demo:convert-1:in", DebitAccountID: "merchant:teahouse:USDT-ERC20", CreditAccountID: "platform:USDT-ERC20:inventory", Amount: amount("50", 6), Code: 4, Flags: chengdui.Linked},
			{ID: "demo:convert-1:out", DebitAccountID: "platform:CNY:inventory", CreditAccountID: "merchant:teahouse:CNY", Amount: amount("351.45", 2), Code: 4, Flags: chengdui.Linked,
				Metadata: map[string]string{"rate": "7.1000", "fee": "3.55"}},
			{ID: "demo:convert-1:fee", DebitAccountID: "platform:CNY:inventory", CreditAccountID: "platform:CNY:revenue", Amount: amount("3.55", 2), Code: 5},
		},
	}
	for _, ts := range steps {
		res, err := l.CreateTransfers(ctx, ts)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return nil
}

// devFeeBps is dev's conversion fee: 1 %.
const devFeeBps = 100

// devStarted, set by tests only (in an init, before any test runs), is
// given dev's chains as they are made, by data directory, so a test can
// pay from outside the platform (sign router payments).
var devStarted func(dataDir string, evm *devChain, btc *devBitcoin)

// devWired, set by tests only (in an init), is called once dev serves,
// with its chains and a client of its sandbox bank (what `chengdui
// reconcile` reads).
var devWired func(dataDir string, cs *chainsSetup, bank *sandbox.Client)

// devPolicies are dev's confirmation depths: a BTC deposit is credited at
// 2 confirmations (4 s at the default block time), EVM deposits at 3.
var devPolicies = map[string]deposit.Policy{
	"BTC": {Depth: 2}, "ETH": {Depth: 3}, "USDT-ERC20": {Depth: 3}, "USDC-ERC20": {Depth: 3},
}

// devChains starts dev's btcd (unless disabled) and describes both chains
// to the chain services. The EVM chain's key carries a run id: the
// in-process chain starts from genesis at every run, and its blocks must
// not be mistaken for a reorganisation of the last run's.
func devChains(ctx context.Context, devEVM *devChain, devBTC *devBitcoin, signer *keys.SeedSigner, log *slog.Logger) (*chainsSetup, func(), error) {
	cs := &chainsSetup{Signer: signer, Policies: devPolicies,
		EVM: []*evmSetup{devEVM.setup(time.Now().UTC().Format("20060102T150405"))}}
	stop := func() {}
	if devBTC != nil {
		log.Info("starting btcd in regtest (the first start builds it: about 20 seconds)")
		if err := devBTC.Start(ctx); err != nil {
			return nil, nil, fmt.Errorf("%w (run with --no-bitcoin to go on without it)", err)
		}
		b, err := devBTC.setup()
		if err != nil {
			devBTC.Stop()
			return nil, nil, err
		}
		cs.Bitcoin = b
		stop = func() {
			devBTC.Stop()
			log.Info("btcd stopped")
		}
	}
	return cs, stop, nil
}
