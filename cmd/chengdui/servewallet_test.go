package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chengdui/keys"

	"github.com/stretchr/testify/require"
)

// TestServeWatchOnlyWallets: serve with account xpubs in its config (no
// seed on the server) gives users deposit addresses; bad xpub settings are
// refused at start with a clear message.
func TestServeWatchOnlyWallets(t *testing.T) {
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	tpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Testnet, 0)
	require.NoError(t, err)
	evmXPub, err := keys.SchemeXPub(seed, keys.EVM, keys.Testnet, 0)
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	dsn := "sqlite:" + filepath.Join(dir, "serve.db")
	good := write("good.yaml", "db: "+dsn+"\nauto_migrate: true\nbitcoin_network: testnet\nxpubs:\n  p2wpkh: "+tpub+"\n  evm: "+evmXPub+"\n")

	srv := startServer(t, nil, serveURLLine, "/readyz", "serve", "--config", good, "--addr", "127.0.0.1:0")
	resp, err := http.Post(srv.URL+"/api/v1/users", "application/json", strings.NewReader(`{"email":"ops@example.com","password":"a long enough passphrase"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	srv.Stop(t)

	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown scheme": {"db: " + dsn + "\nxpubs:\n  p2pkh: " + tpub + "\n", "unknown scheme"},
		"bad xpub":       {"db: " + dsn + "\nxpubs:\n  p2wpkh: xpub-nope\n", "xpubs.p2wpkh"},
		"other network":  {"db: " + dsn + "\nbitcoin_network: mainnet\nxpubs:\n  p2wpkh: " + tpub + "\n", "xpubs.p2wpkh"},
		"bad network":    {"db: " + dsn + "\nbitcoin_network: moon\nxpubs:\n  p2wpkh: " + tpub + "\n", "bitcoin_network"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCmd(t, context.Background(), nil, "", "serve", "--config", write(strings.ReplaceAll(name, " ", "-")+".yaml", tc.yaml), "--addr", "127.0.0.1:0")
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
}
