package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/keys"
	"chengdui/ledger"
)

// bitcoinConfig is serve's bitcoin: section: the node whose blocks credit
// BTC deposits.
type bitcoinConfig struct {
	RPC         string `yaml:"rpc"`           // host:port
	RPCUser     string `yaml:"rpc_user"`      // or CHENGDUI_BITCOIN_RPC_USER
	RPCPassFile string `yaml:"rpc_pass_file"` // or CHENGDUI_BITCOIN_RPC_PASS
	// RPCPass exists only to refuse it with a clear message: a password
	// is never written in the config file.
	RPCPass string `yaml:"rpc_pass"`
	// TLSCert is the node's RPC certificate (PEM); without it the RPC is
	// plain HTTP, allowed only to a loopback host.
	TLSCert       string `yaml:"tls_cert"`
	Confirmations int64  `yaml:"confirmations"`
	ZeroConfMax   string `yaml:"zero_conf_max"` // BTC; needs confirmations: 0
	StartHeight   int64  `yaml:"start_height"`  // first start only
}

// evmConfig is one entry of serve's evm: list: a chain, by chain id.
type evmConfig struct {
	Name          string        `yaml:"name"` // the assets' network: ethereum, polygon, …
	ChainID       int64         `yaml:"chain_id"`
	RPC           string        `yaml:"rpc"` // http(s) or ws(s) URL; may carry an API key
	NativeAsset   string        `yaml:"native_asset"`
	Confirmations int64         `yaml:"confirmations"`
	StartHeight   int64         `yaml:"start_height"` // first start only
	Router        string        `yaml:"router"`       // optional PaymentRouter
	BatchPayer    string        `yaml:"batch_payer"`  // optional BatchPayer: batched withdrawals and payouts
	Tokens        []tokenConfig `yaml:"tokens"`
}

// tokenConfig is an ERC-20 token an EVM chain accepts. Decimals has no
// default: a wrong one misstates every amount.
type tokenConfig struct {
	Asset         string `yaml:"asset"`
	Address       string `yaml:"address"`
	Decimals      *int   `yaml:"decimals"`
	Confirmations *int64 `yaml:"confirmations"` // nil: the chain's
}

// Bounds of the chain settings.
const (
	maxConfirmations = 100_000
	maxTokenDecimals = 36
	nativeDecimals   = 18 // every listed EVM network's coin
)

// evmNetworks are the networks whose assets the wallet service gives EVM
// deposit addresses (wallet's schemeFor).
var evmNetworks = []string{"ethereum", "polygon", "base", "bsc", "arbitrum", "optimism"}

// chainsPlan is the chains serve follows, checked but not connected: the
// chainsSetup without its node clients, and where the nodes are.
type chainsPlan struct {
	setup   *chainsSetup
	bitcoin *bitcoin.Config // nil without a bitcoin: section
	evm     []evmNode       // one per setup.EVM, in order
}

// evmNode is where an EVM chain's node answers.
type evmNode struct {
	url     string // may carry an API key: never logged
	chainID int64
}

// chainsConfigured tells whether serve's configuration names any chain.
func (c serveConfig) chainsConfigured() bool { return c.Bitcoin != nil || len(c.EVM) > 0 }

// parseChainsConfig checks serve's bitcoin: and evm: sections and builds
// the chains to follow, watch-only (no signer). It reads the bitcoin RPC
// credentials from getenv and files; ws is the wallet configuration
// (deposit addresses need xpubs). It returns nil when no chain is
// configured. Every error is a usage error that names the setting.
func parseChainsConfig(cfg serveConfig, ws *walletSetup, getenv func(string) string) (*chainsPlan, error) {
	if !cfg.chainsConfigured() {
		return nil, nil
	}
	if ws == nil {
		return nil, usagef("chains are configured but no xpubs are: deposits are credited to users' deposit addresses, derived from the account xpubs; add xpubs: (and bitcoin_network:) from 'chengdui keys show-xpub'")
	}
	p := &chainsPlan{setup: &chainsSetup{Policies: map[string]deposit.Policy{}}}
	owner := map[string]string{} // asset → the setting that defines it
	addAsset := func(where string, a chengdui.Asset, pol deposit.Policy) error {
		if err := ledger.ValidateAsset(a); err != nil {
			return usagef("%s %q: use 1-32 letters, digits, '-' or '_'", where, a.Code)
		}
		if prev, ok := owner[a.Code]; ok {
			return usagef("%s %s: %s already is %s; an asset lives on one chain, so give each its own code (e.g. USDT-ERC20, USDT-POLYGON)", where, a.Code, prev, a.Code)
		}
		owner[a.Code] = where
		p.setup.Assets = append(p.setup.Assets, a)
		p.setup.Policies[a.Code] = pol
		return nil
	}

	if b := cfg.Bitcoin; b != nil {
		bc, pol, err := parseBitcoinConfig(b, ws, getenv)
		if err != nil {
			return nil, err
		}
		if err := addAsset("bitcoin", chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8}, pol); err != nil {
			return nil, err
		}
		p.bitcoin = bc
		p.setup.Bitcoin = &btcSetup{Chain: "bitcoin:" + ws.Network.String(), Network: ws.Network, StartHeight: uint64(b.StartHeight)}
	}

	if len(cfg.EVM) > 0 && ws.XPubs[keys.EVM] == "" {
		return nil, usagef("evm chains are configured but xpubs.evm is not: users' EVM deposit addresses are derived from it; add it from 'chengdui keys show-xpub --scheme evm'")
	}
	chainIDs := map[int64]int{}
	for i, c := range cfg.EVM {
		at := fmt.Sprintf("evm[%d]", i)
		if !validEVMNetwork(c.Name) {
			return nil, usagef("%s.name %q: use one of %s (the network of the chain's assets)", at, c.Name, strings.Join(evmNetworks, ", "))
		}
		if c.ChainID <= 0 {
			return nil, usagef("%s.chain_id %d: give the chain's id, a positive number (1 Ethereum, 137 Polygon, 8453 Base, 56 BSC, 42161 Arbitrum One, 10 OP Mainnet)", at, c.ChainID)
		}
		if j, dup := chainIDs[c.ChainID]; dup {
			return nil, usagef("%s.chain_id %d: evm[%d] has the same chain id; list each chain once, with all its tokens", at, c.ChainID, j)
		}
		chainIDs[c.ChainID] = i
		if err := checkEVMURL(c.RPC); err != nil {
			return nil, usagef("%s.rpc: %v", at, err)
		}
		if c.Confirmations < 1 || c.Confirmations > maxConfirmations {
			return nil, usagef("%s.confirmations %d: give how many confirmations a deposit needs, 1 to %d (e.g. 12 on Ethereum)", at, c.Confirmations, maxConfirmations)
		}
		if c.StartHeight < 0 {
			return nil, usagef("%s.start_height %d: give a block number, 0 or more", at, c.StartHeight)
		}
		es := &evmSetup{Chain: "evm:" + strconv.FormatInt(c.ChainID, 10), Name: c.Name, NativeAsset: c.NativeAsset,
			Tokens: map[string]common.Address{}, StartHeight: uint64(c.StartHeight)}
		if c.Router != "" {
			r, err := keys.ParseEVMAddress(c.Router)
			if err != nil {
				return nil, usagef("%s.router %q: %v", at, c.Router, err)
			}
			es.Router = r
		}
		if c.BatchPayer != "" {
			b, err := keys.ParseEVMAddress(c.BatchPayer)
			if err != nil {
				return nil, usagef("%s.batch_payer %q: %v", at, c.BatchPayer, err)
			}
			es.BatchPayer = b
		}
		if c.NativeAsset == "" {
			return nil, usagef("%s.native_asset: missing; give the ledger asset code of the chain's coin (e.g. ETH, POL, BNB, ETH-BASE)", at)
		}
		if err := addAsset(at+".native_asset", chengdui.Asset{Code: c.NativeAsset, Network: c.Name, Decimals: nativeDecimals},
			deposit.Policy{Depth: uint32(c.Confirmations)}); err != nil {
			return nil, err
		}
		contracts := map[common.Address]string{}
		for k, t := range c.Tokens {
			tat := fmt.Sprintf("%s.tokens[%d]", at, k)
			addr, err := keys.ParseEVMAddress(t.Address)
			if err != nil {
				return nil, usagef("%s.address %q: %v", tat, t.Address, err)
			}
			if prev, dup := contracts[addr]; dup {
				return nil, usagef("%s.address %s: %s has the same contract; list each token once", tat, t.Address, prev)
			}
			contracts[addr] = tat
			if t.Decimals == nil {
				return nil, usagef("%s.decimals: missing; give the token contract's decimals() (6 for USDT and USDC on Ethereum)", tat)
			}
			if *t.Decimals < 0 || *t.Decimals > maxTokenDecimals {
				return nil, usagef("%s.decimals %d: give the token contract's decimals(), 0 to %d", tat, *t.Decimals, maxTokenDecimals)
			}
			depth := c.Confirmations
			if t.Confirmations != nil {
				depth = *t.Confirmations
				if depth < 1 || depth > maxConfirmations {
					return nil, usagef("%s.confirmations %d: give 1 to %d, or leave it out to use the chain's %d", tat, depth, maxConfirmations, c.Confirmations)
				}
			}
			if err := addAsset(tat+".asset", chengdui.Asset{Code: t.Asset, Network: c.Name, Decimals: uint8(*t.Decimals)},
				deposit.Policy{Depth: uint32(depth)}); err != nil {
				return nil, err
			}
			es.Tokens[t.Asset] = addr
		}
		p.setup.EVM = append(p.setup.EVM, es)
		p.evm = append(p.evm, evmNode{url: c.RPC, chainID: c.ChainID})
	}
	return p, nil
}

// parseBitcoinConfig checks the bitcoin: section and reads the node's
// credentials and certificate.
func parseBitcoinConfig(b *bitcoinConfig, ws *walletSetup, getenv func(string) string) (*bitcoin.Config, deposit.Policy, error) {
	var pol deposit.Policy
	if ws.XPubs[keys.P2WPKH] == "" {
		return nil, pol, usagef("bitcoin is configured but xpubs.p2wpkh is not: BTC deposit addresses are derived from it; add it, and bitcoin_network:, from 'chengdui keys show-xpub'")
	}
	if b.RPCPass != "" {
		return nil, pol, usagef("bitcoin.rpc_pass: never write the password in the config file; put it in a file named by bitcoin.rpc_pass_file, or in %s", envBitcoinRPCPass)
	}
	host, _, err := net.SplitHostPort(b.RPC)
	if b.RPC == "" || err != nil || host == "" {
		return nil, pol, usagef("bitcoin.rpc %q: give the node's RPC address as host:port (e.g. 127.0.0.1:8332)", b.RPC)
	}
	bc := &bitcoin.Config{Host: b.RPC, User: b.RPCUser, Network: ws.Network}
	if v := getenv(envBitcoinRPCUser); v != "" {
		bc.User = v
	}
	if bc.User == "" {
		return nil, pol, usagef("bitcoin: no RPC user; set bitcoin.rpc_user or %s", envBitcoinRPCUser)
	}
	switch v := getenv(envBitcoinRPCPass); {
	case v != "":
		bc.Pass = v
	case b.RPCPassFile != "":
		pass, err := os.ReadFile(b.RPCPassFile)
		if err != nil {
			return nil, pol, usagef("bitcoin.rpc_pass_file: %v", err)
		}
		line, _, _ := strings.Cut(string(pass), "\n") // as 'cold' reads it
		bc.Pass = strings.TrimSuffix(line, "\r")
		if bc.Pass == "" {
			return nil, pol, usagef("bitcoin.rpc_pass_file %s: its first line is empty; put the node's RPC password there", b.RPCPassFile)
		}
	default:
		return nil, pol, usagef("bitcoin: no RPC password; set bitcoin.rpc_pass_file (a file holding it) or %s", envBitcoinRPCPass)
	}
	if b.TLSCert != "" {
		pem, err := os.ReadFile(b.TLSCert)
		if err != nil {
			return nil, pol, usagef("bitcoin.tls_cert: %v", err)
		}
		bc.Certificates = pem
	} else {
		if !isLoopback(host) {
			return nil, pol, usagef("bitcoin.rpc %s: without bitcoin.tls_cert the RPC is plain HTTP, which carries the password in clear; that is allowed only to a loopback host (127.0.0.1, ::1, localhost): give the node's RPC certificate in tls_cert, or reach the node through a local tunnel", b.RPC)
		}
		bc.DisableTLS = true
	}
	if b.Confirmations < 0 || b.Confirmations > maxConfirmations {
		return nil, pol, usagef("bitcoin.confirmations %d: give 0 to %d", b.Confirmations, maxConfirmations)
	}
	if b.StartHeight < 0 || b.StartHeight > math.MaxInt32 {
		return nil, pol, usagef("bitcoin.start_height %d: give a block height, 0 or more", b.StartHeight)
	}
	pol.Depth = uint32(b.Confirmations)
	switch {
	case b.ZeroConfMax != "":
		limit, err := chengdui.ParseDecimal(b.ZeroConfMax, 8)
		if err != nil || limit.IsZero() {
			return nil, pol, usagef("bitcoin.zero_conf_max %q: give an amount of BTC above 0 as a decimal, e.g. \"0.001\"", b.ZeroConfMax)
		}
		if b.Confirmations != 0 {
			return nil, pol, usagef("bitcoin.zero_conf_max applies only with bitcoin.confirmations: 0 (payments above it then wait for one confirmation); remove one of the two")
		}
		pol.ZeroConfMax = limit
	case b.Confirmations == 0:
		return nil, pol, usagef("bitcoin.confirmations: missing or 0; give how many confirmations a deposit needs (e.g. 2), or 0 with zero_conf_max to credit small payments from the mempool")
	}
	return bc, pol, nil
}

func validEVMNetwork(name string) bool {
	for _, n := range evmNetworks {
		if n == name {
			return true
		}
	}
	return false
}

// checkEVMURL refuses what evm.Dial cannot use. Its errors never repeat
// the URL: it may carry an API key.
func checkEVMURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("missing; give the node's JSON-RPC URL, http(s):// or ws(s)://")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL; give the node's JSON-RPC URL, http(s):// or ws(s)://")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return errors.New("not an http(s):// or ws(s):// URL")
	}
	if u.Host == "" {
		return errors.New("the URL has no host")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dial connects to every node of the plan, checking that each is on the
// configured chain, and returns the chains to follow and a stop func that
// closes the clients. On an error nothing stays open.
func (p *chainsPlan) dial(ctx context.Context, log *slog.Logger) (*chainsSetup, func(), error) {
	cs := *p.setup
	var closers []func()
	stop := func() {
		for _, c := range closers {
			c()
		}
	}
	if p.bitcoin != nil {
		node, err := bitcoin.Dial(ctx, *p.bitcoin)
		if err != nil {
			return nil, nil, fmt.Errorf("bitcoin: %w", err) // the error names the host
		}
		closers = append(closers, func() { node.Close() })
		b := *p.setup.Bitcoin
		b.Node = node
		cs.Bitcoin = &b
		log.Info("following bitcoin", "chain", b.Chain, "rpc", p.bitcoin.Host, "tls", !p.bitcoin.DisableTLS)
	}
	cs.EVM = nil
	for i, es := range p.setup.EVM {
		n := p.evm[i]
		client, err := evm.Dial(ctx, n.url)
		if err == nil {
			err = checkChainID(ctx, client, es.Name, n.chainID)
			if err != nil {
				client.Close()
			}
		}
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("evm chain %s (%s): %w", es.Name, es.Chain, err)
		}
		closers = append(closers, client.Close)
		e := *es
		e.Client = client
		cs.EVM = append(cs.EVM, &e)
		log.Info("following evm chain", "chain", e.Chain, "name", e.Name, "native", e.NativeAsset, "tokens", len(e.Tokens))
	}
	return &cs, stop, nil
}

// checkChainID refuses a node on another chain than the configured one:
// following it would credit deposits that were made elsewhere.
func checkChainID(ctx context.Context, c *ethclient.Client, name string, want int64) error {
	id, err := c.ChainID(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Not err itself: the client's errors may quote the URL, API key
		// and all.
		return chengdui.Errorf(chengdui.EUnavailable, "evm node for %s did not answer eth_chainId: is it running?", name)
	}
	if !id.IsInt64() || id.Int64() != want {
		return usagef("evm node for %s is on chain %s, not chain_id %d: fix chain_id, or point rpc at a node of chain %d", name, id, want, want)
	}
	return nil
}
