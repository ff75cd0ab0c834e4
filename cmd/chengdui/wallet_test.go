package main

import (
	"encoding/json"
	"io"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDevWallets: dev serves registration, login and wallets from a dev
// keystore it creates, and a restart keeps the same keys.
func TestDevWallets(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, dir)
	post := func(path, body string) (int, []byte) {
		resp, err := nethttp.Post(dev.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, body := post("/api/v1/users", `{"email":"li.wei@example.com","password":"correct horse battery"}`)
	require.Equal(t, 201, status, "%s", body)
	wallet := func() map[string]any {
		status, body := post("/api/v1/sessions", `{"email":"li.wei@example.com","password":"correct horse battery"}`)
		require.Equal(t, 201, status, "%s", body)
		var s struct{ Token string }
		require.NoError(t, json.Unmarshal(body, &s))
		req, _ := nethttp.NewRequest("GET", dev.URL+"/api/v1/wallet", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := nethttp.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		var w map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&w))
		return w
	}
	w := wallet()
	require.Len(t, w["balances"], 6, "one account per seeded asset")
	addrs := w["addresses"].([]any)
	require.Len(t, addrs, 2)
	btc := addrs[0].(map[string]any)["address"].(string)
	require.True(t, strings.HasPrefix(btc, "bcrt1q"), btc)

	for _, f := range []string{"keystore.json", "keystore.pass"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	require.NotContains(t, dev.Stderr.String(), "correct horse battery")
	dev.Stop(t)

	dev = startDev(t, dir)
	defer dev.Stop(t)
	w = wallet()
	require.Equal(t, btc, w["addresses"].([]any)[0].(map[string]any)["address"], "same keystore, same address after a restart")
}
