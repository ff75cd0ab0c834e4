package http

import (
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"strings"
	"time"

	"chengdui"
)

// maxBody bounds JSON request bodies.
const maxBody = 64 << 10

// decodeJSON reads one JSON object into v, refusing unknown fields, more
// than maxBody bytes and trailing data.
func decodeJSON(r *nethttp.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return chengdui.Errorf(chengdui.EInvalid, "request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return chengdui.Errorf(chengdui.EInvalid, "request body: one JSON object expected")
	}
	return nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty; send a JSON object"
	case errors.As(err, &syn):
		return "not valid JSON"
	case errors.As(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not a JSON object of the expected shape"
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *nethttp.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// handleRegister creates a user and their wallet.
func (s *Server) handleRegister(w nethttp.ResponseWriter, r *nethttp.Request) {
	var c credentials
	if err := decodeJSON(r, &c); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.limited(w, r, c.Email); err != nil {
		Error(w, r, err)
		return
	}
	u, err := s.cfg.Wallets.Register(r.Context(), c.Email, c.Password)
	if err != nil {
		s.countFailure(r, c.Email, err)
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, userJSON{ID: u.ID, Email: u.Email, CreatedAt: u.CreatedAt})
}

type sessionJSON struct {
	Token     string    `json:"token"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// handleLogin opens a session; the token is in the answer and nowhere else.
func (s *Server) handleLogin(w nethttp.ResponseWriter, r *nethttp.Request) {
	var c credentials
	if err := decodeJSON(r, &c); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.limited(w, r, c.Email); err != nil {
		Error(w, r, err)
		return
	}
	token, sess, err := s.cfg.Wallets.Login(r.Context(), c.Email, c.Password)
	if err != nil {
		s.countFailure(r, c.Email, err)
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusCreated, sessionJSON{Token: token, UserID: sess.UserID, ExpiresAt: sess.ExpiresAt})
}

// handleLogout ends the caller's session.
func (s *Server) handleLogout(w nethttp.ResponseWriter, r *nethttp.Request) {
	if err := s.cfg.Wallets.Logout(r.Context(), bearer(r)); err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(nethttp.StatusNoContent)
}

// handleWallet shows the caller's balances and deposit addresses.
func (s *Server) handleWallet(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	wallet, err := s.cfg.Wallets.Wallet(r.Context(), u.ID)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, wallet)
}
