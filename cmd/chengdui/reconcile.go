package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	nethttp "net/http"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/invoice"
	"chengdui/keys"
	"chengdui/rail/sandbox"
	"chengdui/reconcile"
	"chengdui/wallet"
	"chengdui/withdraw"
)

// envBankAPIKey holds the bank API key for reconcile (never a flag: flags
// show in process lists).
const envBankAPIKey = "CHENGDUI_BANK_API_KEY"

// defaultColdSearch is how many cold addresses per branch reconcile
// recognises: more than the sweeps a cold wallet has had.
const defaultColdSearch = 1000

const reconcileHelp = `
Compares, per asset, the ledger's platform accounts with what the chains and
the bank hold, and lists every difference with the transfers that explain
it or fail to:
  crypto  platform:<ASSET>:chain (debits minus credits posted) against the
          coins of the platform's addresses (Bitcoin: every coin of the coin
          store checked with the node's gettxout, cold outputs of sweeps
          included with --cold-xpub) or their balances at the head (EVM:
          deposit and invoice addresses, and --evm-address for the hot
          wallet and cold addresses);
  fiat    platform:<CUR>:payouts against the bank's statement of its
          operating account (payments less returns), payout by payout.
Explained: deposits below their depth, withdrawals whose transaction is on
the chain but not completed, network fees paid but not booked yet, payouts
the bank completed or returned before the platform applied it.

The chains come from serve's config file (bitcoin:, evm:, xpubs:; see
'chengdui serve --help'); the bank from --bank with its API key in
$CHENGDUI_BANK_API_KEY or --bank-key-file. Reconcile only reads.

Exit codes: 0 every difference explained, 3 an unexplained difference,
1 a source could not be read, 2 bad usage.
`

// floatList is a repeatable ASSET=AMOUNT flag.
type floatList []string

func (l *floatList) String() string     { return strings.Join(*l, ",") }
func (l *floatList) Set(s string) error { *l = append(*l, s); return nil }

func runReconcile(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "reconcile", "reconcile [--config FILE] [--db DSN | --data-dir DIR] [--bank URL] [flags]")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: chengdui reconcile [--config FILE] [--db DSN | --data-dir DIR] [--bank URL] [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprint(e.stderr, reconcileHelp)
	}
	var sf storeFlags
	sf.register(fs)
	configPath := fs.String("config", "", "serve's YAML config file (env CHENGDUI_CONFIG): the database and the chains")
	bankURL := fs.String("bank", "", "the sandbox bank's base URL; its API key in $"+envBankAPIKey+" or --bank-key-file")
	bankKeyFile := fs.String("bank-key-file", "", "file whose first line is the bank's API key")
	currencies := fs.String("currencies", "", "fiat currencies to reconcile with the bank, comma-separated (default: every currency the bank has)")
	var evmAddrs, coldXPubs coldList
	fs.Var(&evmAddrs, "evm-address", "a platform EVM address that is no deposit or invoice address (the hot wallet, cold storage); repeatable")
	fs.Var(&coldXPubs, "cold-xpub", "a cosigner key of the Bitcoin cold wallet, as 'chengdui cold' takes them; three times")
	coldSearch := fs.Uint("cold-search", defaultColdSearch, "cold addresses recognised per branch")
	var floats floatList
	fs.Var(&floats, "float", "ASSET=AMOUNT held on the platform's addresses outside the ledger (a float funded by the operator); repeatable")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("reconcile: unexpected argument %q", fs.Arg(0))
	}

	// The database and chains as serve reads them.
	serveArgs := []string{}
	if *configPath != "" {
		serveArgs = append(serveArgs, "--config", *configPath)
	}
	dbSet := false
	fs.Visit(func(f *flag.Flag) { dbSet = dbSet || f.Name == "db" || f.Name == "data-dir" })
	if dbSet || (*configPath == "" && e.getenv("CHENGDUI_CONFIG") == "" && e.getenv("CHENGDUI_DB") == "") {
		serveArgs = append(serveArgs, "--db", sf.resolve())
	}
	quietEnv := &env{getenv: e.getenv, stdin: e.stdin, stdout: io.Discard, stderr: e.stderr, log: e.log}
	scfg, err := loadServeConfig(quietEnv, serveArgs)
	if err != nil {
		return err
	}
	ws, err := parseWalletConfig(scfg.BitcoinNetwork, scfg.XPubs)
	if err != nil {
		return err
	}
	plan, err := parseChainsConfig(scfg, ws, e.getenv)
	if err != nil {
		return err
	}
	floatOf, err := parseFloats(floats)
	if err != nil {
		return err
	}
	var extra []common.Address
	for _, a := range evmAddrs {
		for _, s := range strings.Split(a, ",") {
			addr, err := keys.ParseEVMAddress(strings.TrimSpace(s))
			if err != nil {
				return usagef("--evm-address %q: %s", s, chengdui.ErrorMessage(err))
			}
			extra = append(extra, addr)
		}
	}
	var bank *reconcile.Bank
	if *bankURL != "" {
		key := e.getenv(envBankAPIKey)
		if *bankKeyFile != "" {
			b, err := os.ReadFile(*bankKeyFile)
			if err != nil {
				return usagef("--bank-key-file: %v", err)
			}
			line, _, _ := strings.Cut(string(b), "\n")
			key = strings.TrimSuffix(line, "\r")
		}
		if key == "" {
			return usagef("--bank: no API key; put it in $%s or in a file named by --bank-key-file", envBankAPIKey)
		}
		client := sandbox.NewClient(strings.TrimSuffix(*bankURL, "/"), key, &nethttp.Client{Timeout: 30 * time.Second})
		bank = &reconcile.Bank{Statements: client, Currencies: client.Currencies()}
		if *currencies != "" {
			bank.Currencies = nil
			for _, c := range strings.Split(*currencies, ",") {
				bank.Currencies = append(bank.Currencies, strings.ToUpper(strings.TrimSpace(c)))
			}
		}
	}

	db, err := openMigrated(ctx, scfg.DB, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var cs *chainsSetup
	if plan != nil {
		var stop func()
		if cs, stop, err = plan.dial(ctx, slog.New(slog.DiscardHandler)); err != nil {
			return err
		}
		defer stop()
		if cs.Bitcoin != nil && len(coldXPubs) > 0 {
			if cs.Bitcoin.Cold, err = coldWallet(coldXPubs, cs.Bitcoin.Network.String()); err != nil {
				return err
			}
		}
	} else if len(coldXPubs) > 0 {
		return usagef("--cold-xpub: no bitcoin: chain is configured (--config)")
	}
	if cs == nil && bank == nil {
		return usagef("reconcile: nothing to reconcile: give a config file with chains (--config) and/or a bank (--bank)")
	}
	cfg, err := reconcileConfig(db, cs, extra, uint32(*coldSearch))
	if err != nil {
		return err
	}
	cfg.Bank = bank
	if cfg.Float, err = floatAmounts(ctx, db, floatOf); err != nil {
		return err
	}
	if !*quiet {
		cfg.Progress = e.stderr
	}
	rep, err := reconcile.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if !rep.OK() {
		return exitError{code: exitMismatch, msg: "reconcile: unexplained difference in " + strings.Join(rep.Unexplained(), ", ")}
	}
	return nil
}

// parseFloats reads --float ASSET=AMOUNT flags, the amounts as decimal
// strings until the ledger's assets give their decimals (floatAmounts).
func parseFloats(fl floatList) (map[string]string, error) {
	if len(fl) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range fl {
		asset, amount, ok := strings.Cut(f, "=")
		if !ok || asset == "" || amount == "" {
			return nil, usagef("--float %q: give ASSET=AMOUNT, e.g. ETH=1000000", f)
		}
		out[strings.TrimSpace(asset)] = strings.TrimSpace(amount)
	}
	return out, nil
}

// floatAmounts turns --float amounts into smallest units of the ledger's
// assets.
func floatAmounts(ctx context.Context, db database, fl map[string]string) (map[string]chengdui.Amount, error) {
	if len(fl) == 0 {
		return nil, nil
	}
	as, err := db.Assets(ctx)
	if err != nil {
		return nil, err
	}
	decimals := map[string]uint8{}
	for _, a := range as {
		decimals[a.Code] = a.Decimals
	}
	out := map[string]chengdui.Amount{}
	for asset, amount := range fl {
		d, ok := decimals[asset]
		if !ok {
			return nil, usagef("--float %s=%s: the ledger has no asset %s", asset, amount, asset)
		}
		v, err := chengdui.ParseDecimal(amount, d)
		if err != nil {
			return nil, usagef("--float %s=%s: %s", asset, amount, chengdui.ErrorMessage(err))
		}
		out[asset] = v
	}
	return out, nil
}

// devFloat is what dev's genesis puts on the EVM hot wallet outside the
// ledger (devchain.go): reconciling dev, pass it as reconcile.Config.Float.
func devFloat() map[string]chengdui.Amount {
	// FromBig shifts its argument: give it copies.
	out := map[string]chengdui.Amount{"ETH": uint128.FromBig(new(big.Int).Set(devChainFunds))}
	for _, t := range devTokens {
		out[t.Asset] = uint128.FromBig(new(big.Int).Set(devTokenFloat))
	}
	return out
}

// reconcileConfig builds reconcile.Config from what serveApp runs: the
// database (the ledger and every store) and the chains (dev's or serve's
// chainsSetup, nil for none). The EVM addresses reconciled are every
// deposit and invoice address, the hot wallet when cs has a signer, and
// extra (serve's hot wallet and cold addresses, which it cannot derive);
// the Bitcoin cold wallet's outputs are recognised among the first
// coldSearch addresses of each branch when cs.Bitcoin.Cold is set. The
// caller sets Bank, Float and Progress.
func reconcileConfig(db database, cs *chainsSetup, extra []common.Address, coldSearch uint32) (reconcile.Config, error) {
	cfg := reconcile.Config{Ledger: db}
	if cs == nil {
		return cfg, nil
	}
	dstore, ok1 := db.(deposit.Store)
	coins, ok2 := db.(bitcoin.CoinStore)
	wstore, ok3 := db.(withdraw.Store)
	sends, ok4 := db.(evm.SendStore)
	ustore, ok5 := db.(wallet.Store)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return cfg, fmt.Errorf("database %T does not store deposits, coins, withdrawals, sends and addresses", db)
	}
	istore, _ := db.(invoice.Store)
	if b := cs.Bitcoin; b != nil {
		rb := &reconcile.Bitcoin{Chain: b.Chain, Node: b.Node, Coins: coins, Deposits: dstore, Withdrawals: wstore}
		if b.Cold != nil {
			match, err := reconcile.ColdScripts(b.Cold, coldSearch)
			if err != nil {
				return cfg, err
			}
			rb.Cold = match
		}
		cfg.Bitcoin = rb
	}
	for _, es := range cs.EVM {
		var own []reconcile.Address
		if cs.Signer != nil {
			hot, err := evm.NewAccount(cs.Signer, es.HotPath)
			if err != nil {
				return cfg, err
			}
			own = append(own, reconcile.Address{Address: hot.Address, Role: "hot"})
		}
		for _, a := range extra {
			own = append(own, reconcile.Address{Address: a, Role: "hot"})
		}
		cfg.EVM = append(cfg.EVM, reconcile.EVM{Chain: es.Chain, Client: es.Client, NativeAsset: es.NativeAsset, Tokens: es.Tokens,
			Deposits: dstore, Sends: sends, Withdrawals: wstore,
			Addresses: func(ctx context.Context) ([]reconcile.Address, error) {
				out := append([]reconcile.Address(nil), own...)
				users, err := ustore.AddressesOf(ctx, keys.EVM.String(), "evm")
				if err != nil {
					return nil, err
				}
				for _, a := range users {
					out = append(out, reconcile.Address{Address: common.HexToAddress(a.Address), Role: "deposit"})
				}
				if istore != nil {
					invs, err := invoiceAddresses(ctx, istore, keys.EVM.String(), "evm")
					if err != nil {
						return nil, err
					}
					for _, a := range invs {
						out = append(out, reconcile.Address{Address: common.HexToAddress(a.Address), Role: "invoice"})
					}
				}
				return out, nil
			}})
	}
	return cfg, nil
}
