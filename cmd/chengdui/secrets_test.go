package main

import (
	"encoding/json"
	"io"
	nethttp "net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// TestNoSecretsInLogs runs a whole flow against dev with debug logging —
// sign-up, failed and good logins, 2FA enrolment, an API key created and
// used, a wrong code — and greps everything dev logged, and every error
// answer, for the secrets that passed through: passwords, session tokens,
// the TOTP secret, recovery codes, the API key, the keystore passphrase.
func TestNoSecretsInLogs(t *testing.T) {
	dir := t.TempDir()
	dev := startServer(t, nil, devURLLine, "/healthz", "dev", "--no-bitcoin", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "debug")
	var errorBodies []string
	call := func(method, path, authorization, body string) (int, []byte) {
		t.Helper()
		req, err := nethttp.NewRequest(method, dev.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := nethttp.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 {
			errorBodies = append(errorBodies, string(b))
		}
		return resp.StatusCode, b
	}
	field := func(b []byte, name string) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		v, _ := m[name].(string)
		return v
	}
	const password = "Secret-Passphrase-42"
	creds := `{"email":"secrets@example.com","password":"` + password + `"}`
	status, body := call("POST", "/api/v1/users", "", creds)
	require.Equal(t, 201, status, "%s", body)
	status, _ = call("POST", "/api/v1/sessions", "", `{"email":"secrets@example.com","password":"Wrong-Passphrase-43"}`)
	require.Equal(t, 401, status)
	status, body = call("POST", "/api/v1/sessions", "", creds)
	require.Equal(t, 201, status)
	token := field(body, "token")
	bearer := "Bearer " + token

	status, body = call("POST", "/api/v1/users/me/2fa/totp", bearer, "")
	require.Equal(t, 201, status)
	secret := field(body, "secret")
	code, err := totp.GenerateCode(secret, time.Now())
	require.NoError(t, err)
	status, body = call("POST", "/api/v1/users/me/2fa/totp/confirm", bearer, `{"code":"`+code+`"}`)
	require.Equal(t, 200, status, "%s", body)
	var rec struct {
		Codes []string `json:"recovery_codes"`
	}
	require.NoError(t, json.Unmarshal(body, &rec))

	status, body = call("POST", "/api/v1/stores", bearer, `{"name":"Secret Shop","default_currency":"USD"}`)
	require.Equal(t, 201, status)
	store := field(body, "id")
	status, _ = call("POST", "/api/v1/stores/"+store+"/api-keys", bearer, `{"label":"k","permissions":["invoice:read"],"otp":"`+rec.Codes[1]+`x"}`)
	require.Equal(t, 401, status)
	status, body = call("POST", "/api/v1/stores/"+store+"/api-keys", bearer, `{"label":"k","permissions":["invoice:read"],"otp":"`+rec.Codes[0]+`"}`)
	require.Equal(t, 201, status, "%s", body)
	key := field(body, "api_key")
	status, _ = call("GET", "/api/v1/api-keys/current", "token "+key, "")
	require.Equal(t, 200, status)
	status, _ = call("GET", "/api/v1/api-keys/current", "token "+key+"x", "")
	require.Equal(t, 401, status)
	dev.Stop(t)

	pass, err := os.ReadFile(filepath.Join(dir, "keystore.pass"))
	require.NoError(t, err)
	logs := dev.Stderr.String()
	require.Contains(t, logs, "http request", "debug logging was on")
	secrets := map[string]string{"password": password, "wrong password": "Wrong-Passphrase-43", "session token": token,
		"TOTP secret": secret, "API key": key, "keystore passphrase": strings.TrimSpace(string(pass))}
	for i, c := range rec.Codes {
		secrets["recovery code "+string(rune('0'+i))] = c
	}
	for name, s := range secrets {
		require.NotEmpty(t, s, name)
		require.NotContains(t, logs, s, "%s in the logs", name)
		for _, b := range errorBodies {
			require.NotContains(t, b, s, "%s in an error answer", name)
		}
	}
	// Nothing that looks like a key or a token leaks either.
	require.False(t, regexp.MustCompile(`cd_[0-9A-Za-z]{8}_`).MatchString(logs))
}
