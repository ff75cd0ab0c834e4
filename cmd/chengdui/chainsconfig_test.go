package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/deposit"
	"chengdui/evm/gethtest"
	"chengdui/keys"
)

const (
	usdt = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
	usdc = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
)

// testXPubs returns the account xpubs of the all-"abandon" mnemonic on net.
func testXPubs(t *testing.T, net keys.Network) (p2wpkh, evmXPub string) {
	t.Helper()
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	p2wpkh, err = keys.SchemeXPub(seed, keys.P2WPKH, net, 0)
	require.NoError(t, err)
	evmXPub, err = keys.SchemeXPub(seed, keys.EVM, net, 0)
	require.NoError(t, err)
	return p2wpkh, evmXPub
}

// planFromYAML reads a serve config file as runServe does, up to the
// chains plan.
func planFromYAML(t *testing.T, path string, getenv map[string]string) (*chainsPlan, error) {
	t.Helper()
	e := &env{getenv: mapEnv(getenv), stdin: eofReader{}, stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	cfg, err := loadServeConfig(e, []string{"--config", path})
	if err != nil {
		return nil, err
	}
	ws, err := parseWalletConfig(cfg.BitcoinNetwork, cfg.XPubs)
	if err != nil {
		return nil, err
	}
	return parseChainsConfig(cfg, ws, mapEnv(getenv))
}

func TestParseChainsConfig(t *testing.T) {
	t.Parallel()
	tpub, evmXPub := testXPubs(t, keys.Testnet)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	passFile := write("btc.pass", "s3cret\nignored second line\n")
	emptyPass := write("empty.pass", "\n")
	certFile := write("rpc.cert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	wallet := "db: sqlite:x.db\nbitcoin_network: testnet\nxpubs:\n  p2wpkh: " + tpub + "\n  evm: " + evmXPub + "\n"
	btc := func(lines ...string) string {
		return "bitcoin:\n  rpc: 127.0.0.1:18332\n  rpc_user: chengdui\n  rpc_pass_file: " + passFile + "\n  confirmations: 2\n" + indent("  ", lines)
	}
	eth := func(lines ...string) string {
		return "  - name: ethereum\n    chain_id: 1\n    rpc: https://eth.example/v2/KEY123\n    native_asset: ETH\n    confirmations: 12\n" + indent("    ", lines)
	}
	ethTokens := eth("tokens:",
		"  - {asset: USDT-ERC20, address: "+usdt+", decimals: 6, confirmations: 20}",
		"  - {asset: USDC-ERC20, address: "+usdc+", decimals: 6}")
	polygon := "  - name: polygon\n    chain_id: 137\n    rpc: wss://polygon.example/ws\n    native_asset: POL\n    confirmations: 64\n    start_height: 5\n" +
		"    router: 0x1111111111111111111111111111111111111111\n    tokens:\n      - {asset: USDT-POLYGON, address: 0xc2132d05d31c914a87c6611c10748aeb04b58e8f, decimals: 6}\n"

	btcConfig := &bitcoin.Config{Host: "127.0.0.1:18332", User: "chengdui", Pass: "s3cret", Network: keys.Testnet, DisableTLS: true}
	btcAsset := chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8}
	ethSetup := func() *evmSetup {
		return &evmSetup{Chain: "evm:1", Name: "ethereum", NativeAsset: "ETH", Tokens: map[string]common.Address{
			"USDT-ERC20": common.HexToAddress(usdt), "USDC-ERC20": common.HexToAddress(usdc)}}
	}

	ok := []struct {
		name string
		yaml string
		env  map[string]string
		want *chainsPlan
	}{
		{name: "no chains", yaml: wallet},
		{name: "bitcoin and two evm chains", yaml: wallet + btc("start_height: 800000") + "evm:\n" + ethTokens + polygon,
			want: &chainsPlan{
				setup: &chainsSetup{
					Bitcoin: &btcSetup{Chain: "bitcoin:testnet", Network: keys.Testnet, StartHeight: 800000},
					EVM: []*evmSetup{ethSetup(), {Chain: "evm:137", Name: "polygon", NativeAsset: "POL", StartHeight: 5,
						Router: common.HexToAddress("0x1111111111111111111111111111111111111111"),
						Tokens: map[string]common.Address{"USDT-POLYGON": common.HexToAddress("0xc2132d05d31c914a87c6611c10748aeb04b58e8f")}}},
					Policies: map[string]deposit.Policy{"BTC": {Depth: 2}, "ETH": {Depth: 12}, "USDT-ERC20": {Depth: 20}, "USDC-ERC20": {Depth: 12},
						"POL": {Depth: 64}, "USDT-POLYGON": {Depth: 64}},
					Assets: []chengdui.Asset{btcAsset, {Code: "ETH", Network: "ethereum", Decimals: 18},
						{Code: "USDT-ERC20", Network: "ethereum", Decimals: 6}, {Code: "USDC-ERC20", Network: "ethereum", Decimals: 6},
						{Code: "POL", Network: "polygon", Decimals: 18}, {Code: "USDT-POLYGON", Network: "polygon", Decimals: 6}},
				},
				bitcoin: btcConfig,
				evm:     []evmNode{{url: "https://eth.example/v2/KEY123", chainID: 1}, {url: "wss://polygon.example/ws", chainID: 137}},
			}},
		{name: "bitcoin zero-conf over TLS to another host",
			yaml: wallet + "bitcoin:\n  rpc: btc.internal:8334\n  rpc_user: u\n  rpc_pass_file: " + passFile + "\n  tls_cert: " + certFile + "\n  confirmations: 0\n  zero_conf_max: \"0.001\"\n",
			want: &chainsPlan{
				setup: &chainsSetup{Bitcoin: &btcSetup{Chain: "bitcoin:testnet", Network: keys.Testnet},
					Policies: map[string]deposit.Policy{"BTC": {Depth: 0, ZeroConfMax: chengdui.Amount{Lo: 100000}}},
					Assets:   []chengdui.Asset{btcAsset}},
				bitcoin: &bitcoin.Config{Host: "btc.internal:8334", User: "u", Pass: "s3cret", Network: keys.Testnet,
					Certificates: []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")},
			}},
		{name: "zero_conf_max unquoted, confirmations left out", yaml: wallet + "bitcoin:\n  rpc: localhost:18332\n  rpc_user: u\n  rpc_pass_file: " + passFile + "\n  zero_conf_max: 0.5\n",
			want: &chainsPlan{
				setup: &chainsSetup{Bitcoin: &btcSetup{Chain: "bitcoin:testnet", Network: keys.Testnet},
					Policies: map[string]deposit.Policy{"BTC": {ZeroConfMax: chengdui.Amount{Lo: 50_000_000}}},
					Assets:   []chengdui.Asset{btcAsset}},
				bitcoin: &bitcoin.Config{Host: "localhost:18332", User: "u", Pass: "s3cret", Network: keys.Testnet, DisableTLS: true},
			}},
		{name: "credentials from the environment win", yaml: wallet + "bitcoin:\n  rpc: '[::1]:18332'\n  rpc_user: fileuser\n  rpc_pass_file: " + passFile + "\n  confirmations: 1\n",
			env: map[string]string{envBitcoinRPCUser: "envuser", envBitcoinRPCPass: "envpass"},
			want: &chainsPlan{
				setup: &chainsSetup{Bitcoin: &btcSetup{Chain: "bitcoin:testnet", Network: keys.Testnet},
					Policies: map[string]deposit.Policy{"BTC": {Depth: 1}}, Assets: []chengdui.Asset{btcAsset}},
				bitcoin: &bitcoin.Config{Host: "[::1]:18332", User: "envuser", Pass: "envpass", Network: keys.Testnet, DisableTLS: true},
			}},
		{name: "credentials from the environment only", yaml: wallet + "bitcoin:\n  rpc: 127.0.0.1:18332\n  confirmations: 1\n",
			env: map[string]string{envBitcoinRPCUser: "envuser", envBitcoinRPCPass: "envpass"},
			want: &chainsPlan{
				setup: &chainsSetup{Bitcoin: &btcSetup{Chain: "bitcoin:testnet", Network: keys.Testnet},
					Policies: map[string]deposit.Policy{"BTC": {Depth: 1}}, Assets: []chengdui.Asset{btcAsset}},
				bitcoin: &bitcoin.Config{Host: "127.0.0.1:18332", User: "envuser", Pass: "envpass", Network: keys.Testnet, DisableTLS: true},
			}},
		{name: "evm only, with only the evm xpub", yaml: "db: sqlite:x.db\nbitcoin_network: testnet\nxpubs:\n  evm: " + evmXPub + "\nevm:\n" + ethTokens,
			want: &chainsPlan{
				setup: &chainsSetup{EVM: []*evmSetup{ethSetup()},
					Policies: map[string]deposit.Policy{"ETH": {Depth: 12}, "USDT-ERC20": {Depth: 20}, "USDC-ERC20": {Depth: 12}},
					Assets: []chengdui.Asset{{Code: "ETH", Network: "ethereum", Decimals: 18},
						{Code: "USDT-ERC20", Network: "ethereum", Decimals: 6}, {Code: "USDC-ERC20", Network: "ethereum", Decimals: 6}}},
				evm: []evmNode{{url: "https://eth.example/v2/KEY123", chainID: 1}},
			}},
	}
	for i, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := planFromYAML(t, write(fmt.Sprintf("ok%d.yaml", i), tt.yaml), tt.env)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	refused := []struct {
		name string
		yaml string
		env  map[string]string
		want string
	}{
		{"bitcoin without xpubs", "db: sqlite:x.db\n" + btc(), nil, "no xpubs are"},
		{"evm without xpubs", "db: sqlite:x.db\nevm:\n" + eth(), nil, "no xpubs are"},
		{"bitcoin without the p2wpkh xpub", "db: sqlite:x.db\nbitcoin_network: testnet\nxpubs:\n  evm: " + evmXPub + "\n" + btc(), nil, "xpubs.p2wpkh is not"},
		{"evm without the evm xpub", "db: sqlite:x.db\nbitcoin_network: testnet\nxpubs:\n  p2wpkh: " + tpub + "\nevm:\n" + eth(), nil, "xpubs.evm is not"},
		{"bitcoin xpub of another network", "db: sqlite:x.db\nbitcoin_network: mainnet\nxpubs:\n  p2wpkh: " + tpub + "\n" + btc(), nil, "xpubs.p2wpkh"},
		{"password inline", wallet + btc("rpc_pass: hunter2"), nil, "never write the password in the config file"},
		{"no rpc", wallet + "bitcoin:\n  rpc_user: u\n  confirmations: 1\n", nil, `bitcoin.rpc "": give the node's RPC address as host:port`},
		{"rpc without port", wallet + "bitcoin:\n  rpc: 127.0.0.1\n", nil, `bitcoin.rpc "127.0.0.1"`},
		{"no rpc user", wallet + "bitcoin:\n  rpc: 127.0.0.1:8332\n  rpc_pass_file: " + passFile + "\n  confirmations: 1\n", nil, "no RPC user; set bitcoin.rpc_user or CHENGDUI_BITCOIN_RPC_USER"},
		{"no rpc password", wallet + "bitcoin:\n  rpc: 127.0.0.1:8332\n  rpc_user: u\n  confirmations: 1\n", nil, "no RPC password; set bitcoin.rpc_pass_file"},
		{"missing password file", wallet + "bitcoin:\n  rpc: 127.0.0.1:8332\n  rpc_user: u\n  rpc_pass_file: " + filepath.Join(dir, "nope") + "\n", nil, "bitcoin.rpc_pass_file: open"},
		{"empty password file", wallet + "bitcoin:\n  rpc: 127.0.0.1:8332\n  rpc_user: u\n  rpc_pass_file: " + emptyPass + "\n", nil, "its first line is empty"},
		{"plain HTTP to another host", wallet + "bitcoin:\n  rpc: 10.0.0.5:8332\n  rpc_user: u\n  rpc_pass_file: " + passFile + "\n  confirmations: 1\n", nil, "allowed only to a loopback host"},
		{"missing certificate", wallet + btc("tls_cert: "+filepath.Join(dir, "nope.cert")), nil, "bitcoin.tls_cert: open"},
		{"negative bitcoin confirmations", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: -1", 1), nil, "bitcoin.confirmations -1"},
		{"bitcoin confirmations 0 alone", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: 0", 1), nil, "bitcoin.confirmations: missing or 0"},
		{"zero_conf_max not a decimal", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: 0", 1) + "  zero_conf_max: lots\n", nil, `bitcoin.zero_conf_max "lots"`},
		{"zero_conf_max below a satoshi", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: 0", 1) + "  zero_conf_max: \"0.000000001\"\n", nil, "bitcoin.zero_conf_max"},
		{"zero_conf_max negative", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: 0", 1) + "  zero_conf_max: \"-0.1\"\n", nil, "bitcoin.zero_conf_max"},
		{"zero_conf_max zero", wallet + strings.Replace(btc(), "confirmations: 2", "confirmations: 0", 1) + "  zero_conf_max: \"0\"\n", nil, "above 0"},
		{"zero_conf_max with confirmations", wallet + btc("zero_conf_max: \"0.001\""), nil, "zero_conf_max applies only with bitcoin.confirmations: 0"},
		{"negative bitcoin start height", wallet + btc("start_height: -5"), nil, "bitcoin.start_height -5"},
		{"unknown bitcoin key", wallet + btc("rpcuser: u"), nil, "field rpcuser not found"},
		{"unknown network", wallet + "evm:\n" + strings.Replace(eth(), "ethereum", "solana", 1), nil, `evm[0].name "solana": use one of ethereum, polygon, base, bsc, arbitrum, optimism`},
		{"missing network", wallet + "evm:\n  - chain_id: 1\n", nil, `evm[0].name ""`},
		{"missing chain id", wallet + "evm:\n" + strings.Replace(eth(), "    chain_id: 1\n", "", 1), nil, "evm[0].chain_id 0: give the chain's id"},
		{"negative chain id", wallet + "evm:\n" + strings.Replace(eth(), "chain_id: 1", "chain_id: -1", 1), nil, "evm[0].chain_id -1"},
		{"duplicate chain id", wallet + "evm:\n" + eth() + strings.Replace(strings.Replace(eth(), "ETH", "ETH2", 1), "ethereum", "base", 1), nil, "evm[1].chain_id 1: evm[0] has the same chain id"},
		{"missing rpc", wallet + "evm:\n" + strings.Replace(eth(), "    rpc: https://eth.example/v2/KEY123\n", "", 1), nil, "evm[0].rpc: missing"},
		{"rpc of another scheme", wallet + "evm:\n" + strings.Replace(eth(), "https://", "ftp://", 1), nil, "evm[0].rpc: not an http(s):// or ws(s):// URL"},
		{"rpc without host", wallet + "evm:\n" + strings.Replace(eth(), "https://eth.example/v2/KEY123", "http:///KEY123", 1), nil, "evm[0].rpc: the URL has no host"},
		{"missing evm confirmations", wallet + "evm:\n" + strings.Replace(eth(), "    confirmations: 12\n", "", 1), nil, "evm[0].confirmations 0"},
		{"negative evm confirmations", wallet + "evm:\n" + strings.Replace(eth(), "confirmations: 12", "confirmations: -12", 1), nil, "evm[0].confirmations -12"},
		{"negative evm start height", wallet + "evm:\n" + eth("start_height: -1"), nil, "evm[0].start_height -1"},
		{"missing native asset", wallet + "evm:\n" + strings.Replace(eth(), "    native_asset: ETH\n", "", 1), nil, "evm[0].native_asset: missing"},
		{"bad native asset code", wallet + "evm:\n" + strings.Replace(eth(), "native_asset: ETH", "native_asset: E T H", 1), nil, `evm[0].native_asset "E T H": use 1-32 letters`},
		{"bad router", wallet + "evm:\n" + eth("router: 0x1234"), nil, `evm[0].router "0x1234"`},
		{"token address not an address", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: dAC17F958D2ee523a2206206994597C13D831ec7, decimals: 6}"), nil, "evm[0].tokens[0].address"},
		{"token address fails its checksum", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: 0xdac17F958D2ee523a2206206994597C13D831ec7, decimals: 6}"), nil, "EIP-55 checksum"},
		{"token listed twice", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+", decimals: 6}", "  - {asset: USDT2, address: "+strings.ToLower(usdt)+", decimals: 6}"), nil, "evm[0].tokens[1].address " + strings.ToLower(usdt) + ": evm[0].tokens[0] has the same contract"},
		{"token decimals missing", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+"}"), nil, "evm[0].tokens[0].decimals: missing"},
		{"token decimals above 36", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+", decimals: 37}"), nil, "evm[0].tokens[0].decimals 37: give the token contract's decimals(), 0 to 36"},
		{"token decimals negative", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+", decimals: -6}"), nil, "evm[0].tokens[0].decimals -6"},
		{"token confirmations zero", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+", decimals: 6, confirmations: 0}"), nil, "evm[0].tokens[0].confirmations 0: give 1 to 100000, or leave it out to use the chain's 12"},
		{"token confirmations negative", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, address: "+usdt+", decimals: 6, confirmations: -1}"), nil, "evm[0].tokens[0].confirmations -1"},
		{"token asset missing", wallet + "evm:\n" + eth("tokens:", "  - {address: "+usdt+", decimals: 6}"), nil, `evm[0].tokens[0].asset "": use 1-32 letters`},
		{"token asset is the native asset", wallet + "evm:\n" + eth("tokens:", "  - {asset: ETH, address: "+usdt+", decimals: 6}"), nil, "evm[0].tokens[0].asset ETH: evm[0].native_asset already is ETH; an asset lives on one chain"},
		{"asset on two chains", wallet + "evm:\n" + ethTokens + strings.Replace(polygon, "USDT-POLYGON", "USDT-ERC20", 1), nil, "evm[1].tokens[0].asset USDT-ERC20: evm[0].tokens[0].asset already is USDT-ERC20"},
		{"native asset on two chains", wallet + "evm:\n" + eth() + strings.Replace(polygon, "POL\n", "ETH\n", 1), nil, "evm[1].native_asset ETH: evm[0].native_asset already is ETH"},
		{"BTC on an evm chain", wallet + btc() + "evm:\n" + eth("tokens:", "  - {asset: BTC, address: "+usdt+", decimals: 8}"), nil, "evm[0].tokens[0].asset BTC: bitcoin already is BTC"},
		{"unknown evm key", wallet + "evm:\n" + eth("rpc_url: http://x"), nil, "field rpc_url not found"},
		{"unknown token key", wallet + "evm:\n" + eth("tokens:", "  - {asset: USDT-ERC20, contract: "+usdt+", decimals: 6}"), nil, "field contract not found"},
	}
	for i, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := planFromYAML(t, write(fmt.Sprintf("refused%d.yaml", i), tt.yaml), tt.env)
			var ue usageError
			require.True(t, errors.As(err, &ue), "want a usage error, got %v", err)
			require.Contains(t, err.Error(), tt.want)
			require.Nil(t, got)
			for _, secret := range []string{"KEY123", "hunter2", "s3cret"} {
				require.NotContains(t, err.Error(), secret, "errors never carry secrets")
			}
		})
	}
}

// indent prefixes each line and ends it with a newline.
func indent(prefix string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// TestServeChainsConfigRefusedChangesNothing: a refused chains setting
// stops serve before it opens the database.
func TestServeChainsConfigRefusedChangesNothing(t *testing.T) {
	t.Parallel()
	tpub, _ := testXPubs(t, keys.Testnet)
	dir := t.TempDir()
	db := filepath.Join(dir, "serve.db")
	cfg := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("db: sqlite:"+db+"\nauto_migrate: true\nbitcoin_network: testnet\nxpubs:\n  p2wpkh: "+tpub+
		"\nbitcoin:\n  rpc: 192.0.2.1:8332\n  rpc_user: u\n  confirmations: 1\n"), 0o600))
	stdout, stderr, code := runCmd(t, context.Background(), map[string]string{envBitcoinRPCPass: "hunter2"}, "", "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "bitcoin.rpc 192.0.2.1:8332: without bitcoin.tls_cert the RPC is plain HTTP")
	require.NotContains(t, stderr+stdout, "hunter2")
	require.NoFileExists(t, db)
}

// TestServeHelpDocumentsChains: serve --help documents the chain keys and
// says that serve sends nothing.
func TestServeHelpDocumentsChains(t *testing.T) {
	t.Parallel()
	_, stderr, code := runCmd(t, context.Background(), nil, "", "serve", "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"Usage: chengdui serve", "-config", "bitcoin:", "rpc_pass_file", "CHENGDUI_BITCOIN_RPC_PASS", "zero_conf_max", "evm:", "chain_id", "native_asset", "tokens:", "watch-only", "sends nothing"} {
		require.Contains(t, stderr, want)
	}
}

// TestServeFollowsRealNodes runs serve against a real btcd (regtest, plain
// HTTP on loopback) and a real geth --dev: it dials both, creates the
// chains' assets and is ready; a chain_id other than the node's is refused
// at start. The geth RPC URL carries a query "API key" that must appear in
// no output.
func TestServeFollowsRealNodes(t *testing.T) {
	t.Parallel()
	btcd := btcdtest.Start(t)
	geth := gethtest.Start(t)
	tpub, evmXPub := testXPubs(t, keys.Regtest)
	dir := t.TempDir()
	passFile := filepath.Join(dir, "btc.pass")
	require.NoError(t, os.WriteFile(passFile, []byte(btcd.Pass+"\n"), 0o600))
	const apiKey = "apikey-7f3e9c"
	config := func(name string, chainID int64) string {
		p := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf(`db: sqlite:%s
auto_migrate: true
bitcoin_network: regtest
xpubs:
  p2wpkh: %s
  evm: %s
bitcoin:
  rpc: %s
  rpc_pass_file: %s
  confirmations: 1
evm:
  - name: ethereum
    chain_id: %d
    rpc: %s/?key=%s
    native_asset: ETH
    confirmations: 2
    tokens:
      - {asset: USDT-ERC20, address: %s, decimals: 6}
`, filepath.Join(dir, name+".db"), tpub, evmXPub, btcd.Host, passFile, chainID, geth.URL, apiKey, usdt)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	getenv := map[string]string{envBitcoinRPCUser: btcd.User}

	srv := startServer(t, getenv, serveURLLine, "/readyz", "serve", "--config", config("good", gethtest.ChainID), "--addr", "127.0.0.1:0", "--log-format", "text")
	var assets struct {
		Data []chengdui.Asset `json:"data"`
	}
	status, body := httpGet(t, srv.URL+"/api/v1/ledger/assets")
	require.Equal(t, 200, status, body)
	require.NoError(t, json.Unmarshal([]byte(body), &assets), body)
	codes := map[string]string{}
	for _, a := range assets.Data {
		codes[a.Code] = a.Network
	}
	require.Equal(t, map[string]string{"BTC": "bitcoin", "ETH": "ethereum", "USDT-ERC20": "ethereum"}, codes)
	srv.Stop(t)
	logs := srv.Stderr.String()
	require.Contains(t, logs, "chains are watch-only")
	require.Regexp(t, regexp.MustCompile(`msg="following bitcoin" chain=bitcoin:regtest rpc=`+regexp.QuoteMeta(btcd.Host)+` tls=false`), logs)
	require.Contains(t, logs, `msg="following evm chain" chain=evm:1337 name=ethereum`)
	requireInOrder(t, logs, "http stopped", "chain watchers and payers stopped", "ledger stopped", "database closed")
	require.NotContains(t, logs+srv.Stdout.String(), apiKey)
	require.NotContains(t, logs+srv.Stdout.String(), btcd.Pass)

	stdout, stderr, code := runCmd(t, context.Background(), getenv, "", "serve", "--config", config("wrong", 1), "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "evm node for ethereum is on chain 1337, not chain_id 1: fix chain_id")
	require.NotContains(t, stdout, "listening")
	require.NotContains(t, stderr+stdout, apiKey)
}
