package http

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"image/png"
	"net"
	nethttp "net/http"
	"strings"
	"time"

	"chengdui"
	"chengdui/auth"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// Cookies of the HTML pages. The session cookie holds the same bearer
// token the API answers on login; the CSRF cookie is a random value whose
// HMAC under the server's key (auth.CSRFToken) every form must echo.
const (
	sessionCookie = "chengdui_session"
	csrfCookie    = "chengdui_csrf"
)

// pageData is what every page template gets.
type pageData struct {
	Title, TitleZH string
	Error          string
	CSRF           string
	Email          string
	User           *chengdui.User
	Wallet         chengdui.Wallet
	Addresses      []addressView
	Stores         []storeView // the merchant dashboard's
}

type addressView struct {
	chengdui.WalletAddress
	URI template.URL // bitcoin:/ethereum: URIs the template would otherwise refuse
	QR  template.URL // data:image/png;base64,… of the URI
}

// secureCookies reports whether cookies must be Secure: always, except
// over plain HTTP to a loopback address (dev), where a Secure cookie would
// not be sent back and nothing leaves the machine anyway.
func secureCookies(r *nethttp.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return !(host == "localhost" || (ip != nil && ip.IsLoopback()))
}

// csrf returns the form token for this browser, setting its CSRF cookie
// first if it has none.
func (s *Server) csrf(w nethttp.ResponseWriter, r *nethttp.Request) string {
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && len(c.Value) >= 32 {
		value = c.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		value = base64.RawURLEncoding.EncodeToString(b)
		nethttp.SetCookie(w, &nethttp.Cookie{Name: csrfCookie, Value: value, Path: "/", HttpOnly: true,
			Secure: secureCookies(r), SameSite: nethttp.SameSiteStrictMode})
	}
	return auth.CSRFToken(s.csrfKey, value)
}

// checkCSRF verifies a form's token against the browser's CSRF cookie.
func (s *Server) checkCSRF(r *nethttp.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && auth.CheckCSRF(s.csrfKey, c.Value, r.PostFormValue("csrf"))
}

// render writes a page template.
func (s *Server) render(w nethttp.ResponseWriter, r *nethttp.Request, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.index.ExecuteTemplate(&buf, name, data); err != nil {
		s.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// formError renders a form again with the refusal's message.
func (s *Server) formError(w nethttp.ResponseWriter, r *nethttp.Request, name string, data pageData, err error) {
	status, body := resolveError(r, err)
	data.Error = body.Message
	data.CSRF = s.csrf(w, r)
	s.render(w, r, status, name, data)
}

var (
	registerPage = pageData{Title: "Sign up", TitleZH: "注册"}
	loginPage    = pageData{Title: "Log in", TitleZH: "登录"}
)

func (s *Server) handleRegisterPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	d := registerPage
	d.CSRF = s.csrf(w, r)
	s.render(w, r, nethttp.StatusOK, "register.html", d)
}

func (s *Server) handleLoginPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	d := loginPage
	d.CSRF = s.csrf(w, r)
	s.render(w, r, nethttp.StatusOK, "login.html", d)
}

var errCSRF = chengdui.Errorf(chengdui.EUnauthorized, "the form expired or did not come from this site: reload the page and try again")

// handleRegisterForm creates the user, logs them in and shows the wallet.
func (s *Server) handleRegisterForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxBody)
	d := registerPage
	d.Email = r.PostFormValue("email")
	if !s.checkCSRF(r) {
		s.formError(w, r, "register.html", d, errCSRF)
		return
	}
	if err := s.limited(w, r, d.Email); err != nil {
		s.formError(w, r, "register.html", d, err)
		return
	}
	password := r.PostFormValue("password")
	if _, err := s.cfg.Wallets.Register(r.Context(), d.Email, password); err != nil {
		s.countFailure(r, d.Email, err)
		s.formError(w, r, "register.html", d, err)
		return
	}
	s.startSession(w, r, "register.html", d, password)
}

// handleLoginForm checks the password and sets the session cookie.
func (s *Server) handleLoginForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxBody)
	d := loginPage
	d.Email = r.PostFormValue("email")
	if !s.checkCSRF(r) {
		s.formError(w, r, "login.html", d, errCSRF)
		return
	}
	if err := s.limited(w, r, d.Email); err != nil {
		s.formError(w, r, "login.html", d, err)
		return
	}
	s.startSession(w, r, "login.html", d, r.PostFormValue("password"))
}

func (s *Server) startSession(w nethttp.ResponseWriter, r *nethttp.Request, page string, d pageData, password string) {
	token, sess, err := s.cfg.Wallets.Login(r.Context(), d.Email, password)
	if err != nil {
		s.countFailure(r, d.Email, err)
		s.formError(w, r, page, d, err)
		return
	}
	nethttp.SetCookie(w, &nethttp.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: secureCookies(r), SameSite: nethttp.SameSiteLaxMode})
	nethttp.Redirect(w, r, "/wallet", nethttp.StatusSeeOther)
}

// handleLogoutForm ends the session and clears the cookie.
func (s *Server) handleLogoutForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	if !s.checkCSRF(r) {
		s.formError(w, r, "login.html", loginPage, errCSRF)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Wallets.Logout(r.Context(), c.Value); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	nethttp.SetCookie(w, &nethttp.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HttpOnly: true, Secure: secureCookies(r), SameSite: nethttp.SameSiteLaxMode})
	nethttp.Redirect(w, r, "/login", nethttp.StatusSeeOther)
}

// pageUser is the user a page's session cookie names; without a valid
// one it sends the browser to the login page and reports false.
func (s *Server) pageUser(w nethttp.ResponseWriter, r *nethttp.Request) (chengdui.User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		nethttp.Redirect(w, r, "/login", nethttp.StatusSeeOther)
		return chengdui.User{}, false
	}
	u, err := s.cfg.Wallets.Authenticate(r.Context(), c.Value)
	if chengdui.ErrorCode(err) == chengdui.EUnauthorized {
		nethttp.Redirect(w, r, "/login", nethttp.StatusSeeOther)
		return chengdui.User{}, false
	} else if err != nil {
		s.pageError(w, r, err)
		return chengdui.User{}, false
	}
	return u, true
}

// handleWalletPage shows the logged-in user's balances and addresses.
func (s *Server) handleWalletPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	wallet, err := s.cfg.Wallets.Wallet(r.Context(), u.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := pageData{Title: "Wallet", TitleZH: "钱包", User: &u, Wallet: wallet, CSRF: s.csrf(w, r)}
	for _, a := range wallet.Addresses {
		d.Addresses = append(d.Addresses, addressView{WalletAddress: a, URI: template.URL(a.URI), QR: qrDataURL(a.URI)})
	}
	s.render(w, r, nethttp.StatusOK, "wallet.html", d)
}

// qrDataURL renders s as a QR code PNG data URL, "" if it cannot.
func qrDataURL(s string) template.URL {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return ""
	}
	if code, err = barcode.Scale(code, 256, 256); err != nil {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}
