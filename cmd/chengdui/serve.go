package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"chengdui/invoice"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/withdraw"
)

// serveConfig is the production configuration. Sources, lowest precedence
// first: defaults, the YAML file (--config or CHENGDUI_CONFIG), CHENGDUI_*
// environment variables, flags given on the command line. The chains
// (bitcoin:, evm:) come from the file only, the bitcoin node's RPC login
// from the file or the environment; serveConfigHelp documents every key.
type serveConfig struct {
	Addr            string        `yaml:"addr"`
	DB              string        `yaml:"db"`
	LogFormat       string        `yaml:"log_format"`
	LogLevel        string        `yaml:"log_level"`
	MaxBatch        int           `yaml:"max_batch"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	AutoMigrate     bool          `yaml:"auto_migrate"`
	// BitcoinNetwork and XPubs enable users and wallets: account-level
	// extended public keys per scheme (p2wpkh, p2tr, evm) from
	// `chengdui keys show-xpub`. The server derives addresses watch-only.
	BitcoinNetwork string            `yaml:"bitcoin_network"`
	XPubs          map[string]string `yaml:"xpubs"`
	// Bitcoin and EVM are the chains whose deposits are credited
	// (chainsconfig.go), watch-only: serve holds no seed and sends nothing.
	Bitcoin *bitcoinConfig `yaml:"bitcoin"`
	EVM     []evmConfig    `yaml:"evm"`
	// Rates prices invoices: "exchanges" (Kraken, Coinbase, Binance and
	// OKX public tickers, the median of the healthy ones) or "fixed" (dev's
	// table, for staging without internet access).
	Rates string `yaml:"rates"`
	// FeeBps is the platform's conversion fee in hundredths of a percent.
	FeeBps uint32 `yaml:"fee_bps"`
	// PublicURL is the external base URL checkout links start with.
	PublicURL string `yaml:"public_url"`
	// AllowPrivateWebhooks lets webhooks call loopback and private
	// addresses (a shop on the same network); off by default (SSRF).
	AllowPrivateWebhooks bool `yaml:"allow_private_webhooks"`
	// SettlementChangeDelay is how long a store's new payout destination
	// waits before it takes effect (default 24h).
	SettlementChangeDelay time.Duration `yaml:"settlement_change_delay"`
	// Payouts configures stores' payouts (servepayouts.go); none without.
	Payouts *payoutsConfig `yaml:"payouts"`
}

// serveConfigHelp is the config file's reference, printed by serve --help.
const serveConfigHelp = `
Config file (YAML; unknown keys are refused; env and flags override it):
  addr: 127.0.0.1:8080          db: sqlite:PATH or postgres://…
  log_format: json              log_level: info
  max_batch: 4096               shutdown_timeout: 15s
  auto_migrate: false
  bitcoin_network: mainnet      # mainnet, testnet, signet or regtest
  xpubs: {p2wpkh: xpub…, evm: xpub…}   # from 'chengdui keys show-xpub'
  rates: exchanges              # or fixed (dev's table); invoices need users (xpubs)
  fee_bps: 100                  # conversion fee, hundredths of a percent (1 %)
  public_url: https://pay.example.com  # checkout links; default: the request's host
  allow_private_webhooks: false # true lets webhooks reach loopback/private addresses
  settlement_change_delay: 24h  # a store's new payout destination takes effect after it

Payouts: stores' balances paid out (API, daily or instant settlement). EUR
goes out as SEPA pain.001.001.09 files for the bank (upload them by EBICS or
the bank's portal; apply what the bank reports of each with 'chengdui payout
report'); crypto payouts need a hot wallet, which serve has not.
  payouts:
    approval_above: {EUR: "10000.00", CNY: "50000.00"}  # a second operator
                                # (chengdui payout approve) above these
    sepa:
      dir: /var/lib/chengdui/sepa   # one file per flush; keep them there: they are read
                                    # back at start, and a payout in none is sent again
      debtor_name: Example Payments Ltd
      iban: DE89370400440532013000  # the account payouts are paid from
      bic: COBADEFFXXX              # optional
      flush_every: 1h               # how often queued payouts are written
      execution_days: 0             # requested execution date: flush day + N

Chains: serve is watch-only. It credits deposits to users' addresses,
derived from the xpubs; it holds no seed and sends nothing (no withdrawals,
no sweeps). A chain needs the xpub of its addresses.
  bitcoin:
    rpc: 127.0.0.1:8332         # the node's RPC host:port (btcd or bitcoind)
    rpc_user: chengdui          # or env CHENGDUI_BITCOIN_RPC_USER
    rpc_pass_file: /run/secrets/btc   # first line; or env CHENGDUI_BITCOIN_RPC_PASS
                                # (never the password itself in this file)
    tls_cert: /path/rpc.cert    # btcd's RPC certificate; without it plain
                                # HTTP, allowed only to a loopback host
    confirmations: 2            # before a deposit is credited
    zero_conf_max: "0.001"      # with confirmations: 0, credit non-RBF
                                # payments up to this many BTC from the mempool
    start_height: 800000        # where the first start begins scanning
  evm:                          # any number of chains, one per chain id
    - name: ethereum            # ethereum, polygon, base, bsc, arbitrum, optimism
      chain_id: 1               # the node must be on it
      rpc: https://…            # http(s):// or ws(s)://; an API key in it is never logged
      native_asset: ETH         # ledger asset of the coin (18 decimals)
      confirmations: 12
      start_height: 21000000    # first start only
      router: 0x…               # optional PaymentRouter contract
      batch_payer: 0x…          # optional BatchPayer contract: batched payouts,
                                # where a hot wallet signs (not in watch-only serve)
      tokens:                   # each asset code on one chain only
        - {asset: USDT-ERC20, address: 0xdAC1…, decimals: 6, confirmations: 12}
        - {asset: USDC-ERC20, address: 0xA0b8…, decimals: 6}  # chain's confirmations
The assets are created in the ledger at start if missing.
`

func defaultServeConfig() serveConfig {
	return serveConfig{Addr: "127.0.0.1:8080", LogFormat: "json", LogLevel: "info", MaxBatch: 4096,
		ShutdownTimeout: 15 * time.Second, AutoMigrate: false, BitcoinNetwork: "mainnet", Rates: "exchanges", FeeBps: 100}
}

// loadServeConfig resolves the configuration from all sources.
func loadServeConfig(e *env, args []string) (serveConfig, error) {
	cfg := defaultServeConfig()
	fs := newFlagSet(e, "serve", "serve [--config FILE] [--db DSN] [--addr HOST:PORT] [flags]")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: chengdui serve [--config FILE] [--db DSN] [--addr HOST:PORT] [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprint(e.stderr, serveConfigHelp)
	}
	configPath := fs.String("config", "", "YAML config file (env CHENGDUI_CONFIG); keys below")
	addr := fs.String("addr", cfg.Addr, "HTTP listen address (env CHENGDUI_ADDR)")
	db := fs.String("db", "", "database: sqlite:PATH or postgres://… (env CHENGDUI_DB)")
	dataDir := fs.String("data-dir", "", "use the embedded store in this directory instead of --db")
	logFormat := fs.String("log-format", cfg.LogFormat, "log format: text or json (env CHENGDUI_LOG_FORMAT)")
	logLevel := fs.String("log-level", cfg.LogLevel, "debug, info, warn or error (env CHENGDUI_LOG_LEVEL)")
	maxBatch := fs.Int("max-batch", cfg.MaxBatch, "transfers per ledger group commit (env CHENGDUI_MAX_BATCH)")
	shutdown := fs.Duration("shutdown-timeout", cfg.ShutdownTimeout, "time to drain HTTP requests on shutdown (env CHENGDUI_SHUTDOWN_TIMEOUT)")
	autoMigrate := fs.Bool("auto-migrate", cfg.AutoMigrate, "apply migrations at start (env CHENGDUI_AUTO_MIGRATE)")
	if err := parse(fs, args); err != nil {
		return cfg, err
	}
	if *configPath == "" {
		*configPath = e.getenv("CHENGDUI_CONFIG")
	}
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return cfg, usagef("config file: %v", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usagef("config file %s: %v", *configPath, err)
		}
	}
	envs := []struct {
		key string
		set func(string) error
	}{
		{"CHENGDUI_ADDR", func(v string) error { cfg.Addr = v; return nil }},
		{"CHENGDUI_DB", func(v string) error { cfg.DB = v; return nil }},
		{"CHENGDUI_LOG_FORMAT", func(v string) error { cfg.LogFormat = v; return nil }},
		{"CHENGDUI_LOG_LEVEL", func(v string) error { cfg.LogLevel = v; return nil }},
		{"CHENGDUI_MAX_BATCH", func(v string) (err error) { cfg.MaxBatch, err = strconv.Atoi(v); return }},
		{"CHENGDUI_SHUTDOWN_TIMEOUT", func(v string) (err error) { cfg.ShutdownTimeout, err = time.ParseDuration(v); return }},
		{"CHENGDUI_AUTO_MIGRATE", func(v string) (err error) { cfg.AutoMigrate, err = strconv.ParseBool(v); return }},
	}
	for _, ev := range envs {
		if v := e.getenv(ev.key); v != "" {
			if err := ev.set(v); err != nil {
				return cfg, usagef("%s=%q: %v", ev.key, v, err)
			}
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = *addr
		case "db":
			cfg.DB = *db
		case "data-dir":
			cfg.DB = (&storeFlags{dataDir: *dataDir}).resolve()
		case "log-format":
			cfg.LogFormat = *logFormat
		case "log-level":
			cfg.LogLevel = *logLevel
		case "max-batch":
			cfg.MaxBatch = *maxBatch
		case "shutdown-timeout":
			cfg.ShutdownTimeout = *shutdown
		case "auto-migrate":
			cfg.AutoMigrate = *autoMigrate
		}
	})
	if cfg.DB == "" {
		return cfg, usagef("serve: no database; set --db, CHENGDUI_DB or db: in the config file (sqlite:PATH or postgres://…)")
	}
	if cfg.FeeBps >= 10000 {
		return cfg, usagef("fee_bps %d: the fee is hundredths of a percent, below 10000", cfg.FeeBps)
	}
	if cfg.Rates != "exchanges" && cfg.Rates != "fixed" {
		return cfg, usagef("rates %q: use exchanges or fixed", cfg.Rates)
	}
	if cfg.SettlementChangeDelay < 0 {
		return cfg, usagef("settlement_change_delay %s: give a duration, 0 or more (24h by default)", cfg.SettlementChangeDelay)
	}
	if cfg.Payouts != nil {
		if err := cfg.Payouts.check(); err != nil {
			return cfg, err
		}
	}
	if cfg.MaxBatch < 1 || cfg.MaxBatch > 1<<16 {
		return cfg, usagef("max_batch %d: use 1 to 65536", cfg.MaxBatch)
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	cfg, err := loadServeConfig(e, args)
	if err != nil {
		return err
	}
	log, err := newLogger(e.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	ws, err := parseWalletConfig(cfg.BitcoinNetwork, cfg.XPubs)
	if err != nil {
		return err
	}
	chains, err := parseChainsConfig(cfg, ws, e.getenv)
	if err != nil {
		return err
	}
	log.Info("starting chengdui", "version", versionString(), "db", redact(cfg.DB), "addr", cfg.Addr, "wallets", ws != nil, "chains", chains != nil)
	app := appConfig{Addr: cfg.Addr, DSN: cfg.DB, MaxBatch: cfg.MaxBatch,
		ShutdownTimeout: cfg.ShutdownTimeout, AutoMigrate: cfg.AutoMigrate, Wallet: ws,
		PublicURL: cfg.PublicURL, AllowPrivateWebhooks: cfg.AllowPrivateWebhooks, FeeBps: cfg.FeeBps,
		SettlementDelay: cfg.SettlementChangeDelay,
		Ready:           func(base string) { fmt.Fprintf(e.stdout, "chengdui listening on %s\n", base) }}
	if cfg.Payouts != nil {
		pc := *cfg.Payouts
		app.Payouts = func(ctx context.Context, db database, eng *ledger.Engine, withdrawals *withdraw.Service) (*payout.Service, func(), error) {
			return startServePayouts(ctx, pc, db, eng, withdrawals, log)
		}
	}
	if ws != nil {
		app.Rates = func(ctx context.Context) (invoice.Quoter, func(), error) {
			if cfg.Rates == "fixed" {
				return devRates(ctx, log)
			}
			return exchangeRates(ctx, log)
		}
	}
	if chains != nil {
		log.Info("chains are watch-only: deposits are credited, nothing is sent (no withdrawals, no sweeps)")
		app.Chains = func(ctx context.Context) (*chainsSetup, func(), error) { return chains.dial(ctx, log) }
	}
	return serveApp(ctx, log, app)
}
