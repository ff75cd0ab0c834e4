package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin/btcdtest"
	"chengdui/deposit"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/rail"
	"chengdui/rail/sandbox"
	"chengdui/reconcile"
)

func TestReconcileHelp(t *testing.T) {
	t.Parallel()
	_, stderr, code := runCmd(t, context.Background(), nil, "", "reconcile", "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"Usage: chengdui reconcile", "-config", "-bank", "-evm-address", "-cold-xpub", "-float", "-json",
		"platform:<ASSET>:chain", "platform:<CUR>:payouts", "gettxout", envBankAPIKey, "3 an unexplained difference"} {
		require.Contains(t, stderr, want)
	}
	stdout, _, code := runCmd(t, context.Background(), nil, "", "help")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "reconcile")
}

func TestReconcileRefusals(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "r.db")
	db, err := openMigrated(context.Background(), dsn, true)
	require.NoError(t, err)
	db.Close()
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to compare", nil, []string{"--db", dsn}, "nothing to reconcile"},
		{"bank without key", nil, []string{"--db", dsn, "--bank", "http://127.0.0.1:1"}, "no API key"},
		{"bad float", map[string]string{envBankAPIKey: "k"}, []string{"--db", dsn, "--bank", "http://127.0.0.1:1", "--float", "ETH"}, "give ASSET=AMOUNT"},
		{"bad evm address", nil, []string{"--db", dsn, "--evm-address", "0x12"}, "--evm-address"},
		{"cold without bitcoin", nil, []string{"--db", dsn, "--cold-xpub", "x"}, "no bitcoin: chain"},
		{"stray argument", nil, []string{"--db", dsn, "extra"}, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, context.Background(), c.env, "", append([]string{"reconcile"}, c.args...)...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, c.want)
		})
	}
}

// TestReconcileCommand runs the command against a real btcd and the
// sandbox bank: a clean platform exits 0; a ledger credit no coin backs,
// and a bank payment no payout matches, exit 3 and are named.
func TestReconcileCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	btcd := btcdtest.Start(t)
	tpub, _ := testXPubs(t, keys.Regtest)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "chengdui.db")
	passFile := filepath.Join(dir, "btc.pass")
	require.NoError(t, os.WriteFile(passFile, []byte(btcd.Pass+"\n"), 0o600))
	config := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`db: sqlite:%s
bitcoin_network: regtest
xpubs:
  p2wpkh: %s
bitcoin:
  rpc: %s
  rpc_user: %s
  rpc_pass_file: %s
  confirmations: 1
`, dbPath, tpub, btcd.Host, btcd.User, passFile)), 0o600))

	db, err := openMigrated(ctx, "sqlite:"+dbPath, true)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)
	for _, a := range []chengdui.Account{{ID: deposit.ChainAccount("BTC"), Asset: "BTC"}, {ID: "user:u1:BTC", Asset: "BTC"}} {
		_, err := eng.CreateAccount(ctx, a)
		require.NoError(t, err)
	}

	funding := map[string]chengdui.Amount{"EUR": {Lo: 1_000_000}}
	bank, err := sandbox.NewBank(sandbox.Config{APIKey: "bank-key", ConfirmDelay: time.Millisecond, Funding: funding, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	bankURL, stop, err := bank.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { stop(); bank.Close() })
	env := map[string]string{envBankAPIKey: "bank-key"}
	args := []string{"reconcile", "--config", config, "--bank", bankURL}

	stdout, stderr, code := runCmd(t, ctx, env, "", args...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "BTC on bitcoin:regtest (ledger account platform:BTC:chain)")
	require.Contains(t, stdout, "EUR on bank:sandbox")
	require.Contains(t, stdout, "OK: 4 asset(s), every difference explained")
	require.Contains(t, stderr, "reconciling BTC on bitcoin:regtest")
	require.NotContains(t, stdout+stderr, "bank-key")
	require.NotContains(t, stdout+stderr, btcd.Pass)

	// A credit the chain never saw.
	res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: "dep:forged", DebitAccountID: deposit.ChainAccount("BTC"), CreditAccountID: "user:u1:BTC",
		Amount: chengdui.Amount{Lo: 250_000}, Code: deposit.CodeDeposit}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	eng.Stop()
	db.Close()
	stdout, stderr, code = runCmd(t, ctx, env, "", append(args, "--quiet")...)
	require.Equal(t, exitMismatch, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "UNEXPLAINED -0.00250000")
	require.Contains(t, stderr, "reconcile: unexplained difference in BTC on bitcoin:regtest")
	require.NotContains(t, stderr, "reconciling")

	// A bank payment no payout accounts for, in JSON.
	client := sandbox.NewClient(bankURL, "bank-key", &http.Client{Timeout: 5 * time.Second})
	_, err = client.Submit(ctx, rail.Order{ID: "po-stray", Currency: "EUR", Amount: chengdui.Amount{Lo: 1234}, Decimals: 2,
		Creditor: rail.Party{Name: "Zoë Müller", IBAN: "DE89370400440532013000"}, Reference: "stray"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		u, err := client.Status(ctx, "po-stray")
		return err == nil && u.Status == rail.Completed
	}, 5*time.Second, 5*time.Millisecond)
	stdout, stderr, code = runCmd(t, ctx, env, "", append(args, "--json", "--quiet")...)
	require.Equal(t, exitMismatch, code, "stderr:\n%s", stderr)
	var rep struct {
		OK          bool     `json:"ok"`
		Unexplained []string `json:"unexplained"`
		Assets      []struct {
			Asset string `json:"asset"`
			Items []struct {
				Kind   string `json:"kind"`
				Ref    string `json:"ref"`
				Effect string `json:"effect"`
			} `json:"unexplained_items"`
		} `json:"assets"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
	require.False(t, rep.OK)
	require.Equal(t, []string{"BTC on bitcoin:regtest", "EUR on bank:sandbox"}, rep.Unexplained)
	for _, a := range rep.Assets {
		if a.Asset == "EUR" {
			require.Len(t, a.Items, 1)
			require.Equal(t, "bank_mismatch", a.Items[0].Kind)
			require.Equal(t, "po-stray", a.Items[0].Ref)
			require.Equal(t, "+12.34", a.Items[0].Effect)
		}
	}
}

// TestReconcileDevChain reconciles dev's in-process EVM chain as the
// integrator's end-to-end test does, through reconcileConfig: the hot
// wallet's genesis funds are the float, and a fresh platform has no
// difference.
func TestReconcileDevChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	chain := newDevChain(signer, 0)
	require.NoError(t, chain.Start(ctx))
	t.Cleanup(chain.Stop)
	db, err := openMigrated(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dev.db"), true)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for _, a := range []chengdui.Asset{{Code: "ETH", Network: "ethereum", Decimals: 18}, {Code: "USDT-ERC20", Network: "ethereum", Decimals: 6},
		{Code: "USDC-ERC20", Network: "ethereum", Decimals: 6}} {
		_, err := db.CreateAsset(ctx, a)
		require.NoError(t, err)
	}
	cs := &chainsSetup{EVM: []*evmSetup{chain.setup("test")}, Signer: signer}
	cfg, err := reconcileConfig(db, cs, nil, defaultColdSearch)
	require.NoError(t, err)
	cfg.Float = devFloat()
	rep, err := reconcile.Run(ctx, cfg)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	require.Len(t, rep.Assets, 3)
	for _, a := range rep.Assets {
		require.Zero(t, a.Difference().Sign(), a.Asset)
		require.Len(t, a.Holdings, 1, a.Asset)
		require.Equal(t, "hot", a.Holdings[0].Role)
	}

	// Without the float, the hot wallet's funds are unexplained.
	cfg.Float = nil
	rep, err = reconcile.Run(ctx, cfg)
	require.NoError(t, err)
	require.False(t, rep.OK())
}
