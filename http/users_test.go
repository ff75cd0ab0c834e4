package http_test

import (
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/sqlite"
	"chengdui/wallet"

	"github.com/stretchr/testify/require"
)

// walletHarness is a server with users, wallets and merchants on the real
// SQLite store and ledger, with regtest xpubs of the BIP39 test mnemonic.
func walletHarness(t *testing.T) *harness {
	t.Helper()
	return walletHarnessWith(t, nil)
}

// walletHarnessWith is walletHarness with a Config edit.
func walletHarnessWith(t *testing.T, edit func(*chttp.Config)) *harness {
	t.Helper()
	seed, err := keys.MnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "", keys.English)
	require.NoError(t, err)
	xpubs := map[keys.Scheme]string{}
	for _, s := range []keys.Scheme{keys.P2WPKH, keys.EVM} {
		xpubs[s], err = keys.SchemeXPub(seed, s, keys.Regtest, 0)
		require.NoError(t, err)
	}
	h := newHarnessWith(t, func(db *sqlite.DB, eng *ledger.Engine, c *chttp.Config) {
		svc, err := wallet.New(db, eng, db, wallet.Config{Network: keys.Regtest, XPubs: xpubs, Password: auth.TestParams()})
		require.NoError(t, err)
		c.Wallets = svc
		c.Merchants = merchant.New(db, merchant.Config{})
		if edit != nil {
			edit(c)
		}
	})
	_, err = h.eng.CreateAsset(context.Background(), chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)
	return h
}

func (h *harness) send(t *testing.T, method, path, token, body string) (int, nethttp.Header, []byte) {
	t.Helper()
	authorization := ""
	if token != "" {
		authorization = "Bearer " + token
	}
	return h.sendAuth(t, method, path, authorization, body)
}

// sendAuth sends a request with a raw Authorization header.
func (h *harness) sendAuth(t *testing.T, method, path, authorization, body string) (int, nethttp.Header, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest(method, h.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

func TestUsersAndWallet(t *testing.T) {
	h := walletHarness(t)
	status, _, body := h.send(t, "POST", "/api/v1/users", "", `{"email":"zhang.san@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 201, status, "%s", body)
	var user struct{ ID, Email string }
	require.NoError(t, json.Unmarshal(body, &user))
	require.Equal(t, "zhang.san@example.com", user.Email)
	require.NotContains(t, string(body), "password")

	status, hdr, body := h.send(t, "POST", "/api/v1/sessions", "", `{"email":"zhang.san@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 201, status, "%s", body)
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	var sess struct {
		Token  string `json:"token"`
		UserID string `json:"user_id"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	require.Equal(t, user.ID, sess.UserID)
	require.NotEmpty(t, sess.Token)
	require.NotContains(t, h.log.String(), sess.Token, "tokens are never logged")

	status, _, body = h.send(t, "GET", "/api/v1/wallet", sess.Token, "")
	require.Equal(t, 200, status, "%s", body)
	var w chengdui.Wallet
	require.NoError(t, json.Unmarshal(body, &w))
	require.Equal(t, user.ID, w.UserID)
	require.Len(t, w.Balances, 1)
	require.Equal(t, "0.00000000", w.Balances[0].Available)
	require.Len(t, w.Addresses, 2)
	for _, a := range w.Addresses {
		switch a.Scheme {
		case "p2wpkh":
			require.True(t, strings.HasPrefix(a.Address, "bcrt1q"), a.Address)
			require.Equal(t, "bitcoin:"+a.Address+"?label=Chengdui%20deposit", a.URI)
		case "evm":
			require.True(t, strings.HasPrefix(a.URI, "ethereum:0x"), a.URI)
		}
	}

	status, _, _ = h.send(t, "DELETE", "/api/v1/sessions/current", sess.Token, "")
	require.Equal(t, 204, status)
	status, hdr, _ = h.send(t, "GET", "/api/v1/wallet", sess.Token, "")
	require.Equal(t, 401, status)
	require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
}

func TestUsersBadInput(t *testing.T) {
	h := walletHarness(t)
	status, _, _ := h.send(t, "POST", "/api/v1/users", "", `{"email":"taken@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 201, status)
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"empty body", "POST", "/api/v1/users", "", ``, 400, chengdui.EInvalid},
		{"not JSON", "POST", "/api/v1/users", "", `{email`, 400, chengdui.EInvalid},
		{"unknown field", "POST", "/api/v1/users", "", `{"email":"a@example.com","password":"a long enough passphrase","admin":true}`, 400, chengdui.EInvalid},
		{"wrong type", "POST", "/api/v1/users", "", `{"email":5,"password":"x"}`, 400, chengdui.EInvalid},
		{"two objects", "POST", "/api/v1/users", "", `{"email":"b@example.com","password":"a long enough passphrase"}{}`, 400, chengdui.EInvalid},
		{"bad email", "POST", "/api/v1/users", "", `{"email":"nope","password":"a long enough passphrase"}`, 400, chengdui.EInvalid},
		{"short password", "POST", "/api/v1/users", "", `{"email":"c@example.com","password":"short"}`, 400, chengdui.EInvalid},
		{"email taken", "POST", "/api/v1/users", "", `{"email":"Taken@example.com","password":"a long enough passphrase"}`, 409, chengdui.EConflict},
		{"huge body", "POST", "/api/v1/users", "", `{"email":"` + strings.Repeat("a", 70000) + `@example.com","password":"x"}`, 400, chengdui.EInvalid},
		{"wrong password", "POST", "/api/v1/sessions", "", `{"email":"taken@example.com","password":"not the passphrase"}`, 401, chengdui.EUnauthorized},
		{"unknown email", "POST", "/api/v1/sessions", "", `{"email":"who@example.com","password":"not the passphrase"}`, 401, chengdui.EUnauthorized},
		{"no token", "GET", "/api/v1/wallet", "", "", 401, chengdui.EUnauthorized},
		{"bad token", "GET", "/api/v1/wallet", "garbage", "", 401, chengdui.EUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := h.send(t, tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, status, "%s", body)
			var e struct{ Code, Message string }
			require.NoError(t, json.Unmarshal(body, &e))
			require.Equal(t, tc.code, e.Code)
			require.NotEmpty(t, e.Message)
			require.NotContains(t, e.Message, "a long enough passphrase")
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	h := walletHarnessWith(t, func(c *chttp.Config) { c.Now = func() time.Time { return time.Unix(0, now.Load()) } })
	status, _, _ := h.send(t, "POST", "/api/v1/users", "", `{"email":"zhao@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 201, status)
	for i := 0; i < 5; i++ {
		status, _, _ := h.send(t, "POST", "/api/v1/sessions", "", `{"email":"zhao@example.com","password":"not the passphrase"}`)
		require.Equal(t, 401, status, "attempt %d", i)
	}
	status, hdr, body := h.send(t, "POST", "/api/v1/sessions", "", `{"email":"ZHAO@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 429, status, "even the right password waits: %s", body)
	require.Contains(t, string(body), chengdui.ERateLimited)
	require.Equal(t, "60", hdr.Get("Retry-After"))
	now.Add(int64(61 * time.Second))
	status, _, body = h.send(t, "POST", "/api/v1/sessions", "", `{"email":"zhao@example.com","password":"a long enough passphrase"}`)
	require.Equal(t, 201, status, "%s", body)
}
