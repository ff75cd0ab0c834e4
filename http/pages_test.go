package http_test

import (
	"io"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestPages(t *testing.T) {
	h := walletHarness(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &nethttp.Client{Jar: jar, CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}
	get := func(path string) (*nethttp.Response, string) {
		resp, err := client.Get(h.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	post := func(path string, form url.Values) (*nethttp.Response, string) {
		resp, err := client.PostForm(h.url+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// The wallet page sends strangers to the login page.
	resp, _ := get("/wallet")
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))

	resp, body := get("/register")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, body, "注册")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "form-action 'self'")
	cookie := resp.Header.Get("Set-Cookie")
	require.Contains(t, cookie, "chengdui_csrf=")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Strict")
	token := csrfField.FindStringSubmatch(body)[1]

	form := url.Values{"email": {"wu.fang@example.com"}, "password": {"correct horse battery"}}
	// Without the token, or with another, nothing is created.
	resp, body = post("/register", form)
	require.Equal(t, 401, resp.StatusCode)
	require.Contains(t, body, "reload the page")
	form.Set("csrf", token+"x")
	resp, _ = post("/register", form)
	require.Equal(t, 401, resp.StatusCode)
	// A bad password re-renders the form with the reason and the email.
	form.Set("csrf", token)
	form.Set("password", "short")
	resp, body = post("/register", form)
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, body, `class="error"`)
	require.Contains(t, body, `value="wu.fang@example.com"`)
	require.NotContains(t, body, "short\"")

	form.Set("password", "correct horse battery")
	resp, _ = post("/register", form)
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, "/wallet", resp.Header.Get("Location"))
	session := resp.Header.Get("Set-Cookie")
	require.Contains(t, session, "chengdui_session=")
	require.Contains(t, session, "HttpOnly")
	require.Contains(t, session, "SameSite=Lax")
	require.NotContains(t, session, "Secure", "plain HTTP to loopback: a Secure cookie would never come back")

	resp, body = get("/wallet")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, body, "wu.fang@example.com")
	require.Regexp(t, `<code class="address">bcrt1q[0-9a-z]+</code>`, body)
	require.Contains(t, body, `href="bitcoin:bcrt1q`)
	require.Contains(t, body, `src="data:image/png;base64,`)

	// Logging out needs the token too; then the wallet is closed.
	resp, _ = post("/logout", url.Values{})
	require.Equal(t, 401, resp.StatusCode)
	_, body = get("/wallet")
	token = csrfField.FindStringSubmatch(body)[1]
	resp, _ = post("/logout", url.Values{"csrf": {token}})
	require.Equal(t, 303, resp.StatusCode)
	resp, _ = get("/wallet")
	require.Equal(t, 303, resp.StatusCode)

	// Behind TLS (a proxy saying so), cookies are Secure.
	req, _ := nethttp.NewRequest("GET", h.url+"/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err = nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.True(t, strings.Contains(resp.Header.Get("Set-Cookie"), "Secure"))
}
