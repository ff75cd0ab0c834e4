package http_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"chengdui"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// login registers email and returns a session token.
func (h *harness) login(t *testing.T, email string) string {
	t.Helper()
	creds := `{"email":"` + email + `","password":"a long enough passphrase"}`
	status, _, body := h.send(t, "POST", "/api/v1/users", "", creds)
	require.Equal(t, 201, status, "%s", body)
	status, _, body = h.send(t, "POST", "/api/v1/sessions", "", creds)
	require.Equal(t, 201, status, "%s", body)
	var s struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &s))
	return s.Token
}

func TestMerchantFlow(t *testing.T) {
	h := walletHarness(t)
	tok := h.login(t, "owner@example.com")

	status, _, body := h.send(t, "POST", "/api/v1/stores", tok, `{"name":"茶馆","default_currency":"CNY"}`)
	require.Equal(t, 201, status, "%s", body)
	var st chengdui.Store
	require.NoError(t, json.Unmarshal(body, &st))
	status, _, body = h.send(t, "GET", "/api/v1/stores", tok, "")
	require.Equal(t, 200, status)
	require.Contains(t, string(body), st.ID)

	keyReq := `{"label":"shop","permissions":["invoice:create","invoice:read"],"otp":"%s"}`
	status, _, body = h.send(t, "POST", "/api/v1/stores/"+st.ID+"/api-keys", tok, strings.Replace(keyReq, "%s", "", 1))
	require.Equal(t, 403, status, "%s", body)
	require.Contains(t, string(body), chengdui.ESecondFactorRequired)

	// Enrol TOTP: secret and QR code, then confirm with a code.
	status, hdr, body := h.send(t, "POST", "/api/v1/users/me/2fa/totp", tok, "")
	require.Equal(t, 201, status, "%s", body)
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	var enrol struct {
		Secret string `json:"secret"`
		URL    string `json:"otpauth_url"`
		QR     string `json:"qr_png_base64"`
	}
	require.NoError(t, json.Unmarshal(body, &enrol))
	png, err := base64.StdEncoding.DecodeString(enrol.QR)
	require.NoError(t, err)
	require.Equal(t, "\x89PNG", string(png[:4]))
	code, err := totp.GenerateCode(enrol.Secret, time.Now())
	require.NoError(t, err)
	status, _, body = h.send(t, "POST", "/api/v1/users/me/2fa/totp/confirm", tok, `{"code":"`+code+`"}`)
	require.Equal(t, 200, status, "%s", body)
	var rec struct {
		Codes []string `json:"recovery_codes"`
	}
	require.NoError(t, json.Unmarshal(body, &rec))
	require.Len(t, rec.Codes, 10)

	// The confirming code was used; a recovery code creates the key.
	status, _, body = h.send(t, "POST", "/api/v1/stores/"+st.ID+"/api-keys", tok, strings.Replace(keyReq, "%s", code, 1))
	require.Equal(t, 401, status, "a used code is refused: %s", body)
	status, _, body = h.send(t, "POST", "/api/v1/stores/"+st.ID+"/api-keys", tok, strings.Replace(keyReq, "%s", rec.Codes[0], 1))
	require.Equal(t, 201, status, "%s", body)
	var created struct {
		ID  string `json:"id"`
		Key string `json:"api_key"`
	}
	require.NoError(t, json.Unmarshal(body, &created))
	require.True(t, strings.HasPrefix(created.Key, "cd_"), created.Key)

	// The key authenticates Greenfield-style; listing never shows it.
	req := func(authorization string) (int, []byte) {
		status, _, body := h.sendAuth(t, "GET", "/api/v1/api-keys/current", authorization, "")
		return status, body
	}
	status, body = req("token " + created.Key)
	require.Equal(t, 200, status, "%s", body)
	require.Contains(t, string(body), `"permissions":["invoice:create","invoice:read"]`)
	status, _, body = h.send(t, "GET", "/api/v1/stores/"+st.ID+"/api-keys", tok, "")
	require.Equal(t, 200, status)
	require.NotContains(t, string(body), created.Key)
	require.NotContains(t, string(body), `"hash"`)

	// Another user sees none of it.
	other := h.login(t, "other@example.com")
	status, _, _ = h.send(t, "GET", "/api/v1/stores/"+st.ID+"/api-keys", other, "")
	require.Equal(t, 404, status)

	// Revoke: the key stops working at once.
	status, _, _ = h.send(t, "DELETE", "/api/v1/stores/"+st.ID+"/api-keys/"+created.ID, tok, "")
	require.Equal(t, 204, status)
	status, body = req("token " + created.Key)
	require.Equal(t, 401, status, "%s", body)
	for _, bad := range []string{"", "token nope", "Basic " + created.Key} {
		status, _ = req(bad)
		require.Equal(t, 401, status, bad)
	}
	require.NotContains(t, h.log.String(), created.Key, "keys are never logged")
}
