package http

import (
	"encoding/base64"
	nethttp "net/http"
	"time"

	"chengdui"
)

// user authenticates the caller's session, answering 401 itself when it
// fails.
func (s *Server) user(w nethttp.ResponseWriter, r *nethttp.Request) (chengdui.User, bool) {
	u, err := s.cfg.Wallets.Authenticate(r.Context(), bearer(r))
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chengdui"`)
		}
		Error(w, r, err)
		return chengdui.User{}, false
	}
	return u, true
}

type totpEnrolmentJSON struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRCodePNG  string `json:"qr_png_base64"`
}

// handleEnrollTOTP starts two-factor enrolment: the secret and its QR code.
func (s *Server) handleEnrollTOTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	e, err := s.cfg.Merchants.EnrollTOTP(r.Context(), u)
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusCreated, totpEnrolmentJSON{Secret: e.Secret, OTPAuthURL: e.URL, QRCodePNG: base64.StdEncoding.EncodeToString(e.PNG)})
}

// handleConfirmTOTP enables two-factor authentication with a first code
// and answers the recovery codes, once.
func (s *Server) handleConfirmTOTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &body); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.limited(w, r, u.ID); err != nil {
		Error(w, r, err)
		return
	}
	codes, err := s.cfg.Merchants.ConfirmTOTP(r.Context(), u.ID, body.Code)
	if err != nil {
		s.countFailure(r, u.ID, err)
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, map[string][]string{"recovery_codes": codes})
}

// handleCreateStore opens a store for the caller.
func (s *Server) handleCreateStore(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var body struct {
		Name            string `json:"name"`
		DefaultCurrency string `json:"default_currency"`
	}
	if err := decodeJSON(r, &body); err != nil {
		Error(w, r, err)
		return
	}
	st, err := s.cfg.Merchants.CreateStore(r.Context(), u.ID, body.Name, body.DefaultCurrency)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, st)
}

// handleStores lists the caller's stores.
func (s *Server) handleStores(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	sts, err := s.cfg.Merchants.Stores(r.Context(), u.ID)
	if err != nil {
		Error(w, r, err)
		return
	}
	if sts == nil {
		sts = []chengdui.Store{}
	}
	writeJSON(w, nethttp.StatusOK, page[chengdui.Store]{Data: sts})
}

type apiKeyJSON struct {
	chengdui.APIKey
	Key string `json:"api_key,omitempty"` // only in the creation answer
}

// handleCreateAPIKey makes a store API key; the caller's second factor is
// required ("otp": a TOTP or recovery code).
func (s *Server) handleCreateAPIKey(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var body struct {
		Label       string   `json:"label"`
		Permissions []string `json:"permissions"`
		OTP         string   `json:"otp"`
	}
	if err := decodeJSON(r, &body); err != nil {
		Error(w, r, err)
		return
	}
	if err := s.limited(w, r, u.ID); err != nil {
		Error(w, r, err)
		return
	}
	plain, k, err := s.cfg.Merchants.CreateAPIKey(r.Context(), u.ID, r.PathValue("storeId"), body.Label, body.Permissions, body.OTP)
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized { // a wrong second factor
			s.countFailure(r, u.ID, err)
		}
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusCreated, apiKeyJSON{APIKey: k, Key: plain})
}

// handleAPIKeys lists a store's keys, without secrets.
func (s *Server) handleAPIKeys(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	ks, err := s.cfg.Merchants.APIKeys(r.Context(), u.ID, r.PathValue("storeId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	if ks == nil {
		ks = []chengdui.APIKey{}
	}
	writeJSON(w, nethttp.StatusOK, page[chengdui.APIKey]{Data: ks})
}

// handleRevokeAPIKey revokes a key at once.
func (s *Server) handleRevokeAPIKey(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Merchants.RevokeAPIKey(r.Context(), u.ID, r.PathValue("storeId"), r.PathValue("keyId")); err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(nethttp.StatusNoContent)
}

type currentKeyJSON struct {
	ID          string     `json:"id"`
	StoreID     string     `json:"store_id"`
	Label       string     `json:"label"`
	Permissions []string   `json:"permissions"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

// handleCurrentAPIKey is Greenfield's GET /api/v1/api-keys/current: the key
// the request is authenticated with ("Authorization: token KEY").
func (s *Server) handleCurrentAPIKey(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, err := s.cfg.Merchants.AuthenticateAPIKey(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized {
			w.Header().Set("WWW-Authenticate", `token realm="chengdui"`)
		}
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, currentKeyJSON{ID: k.ID, StoreID: k.StoreID, Label: k.Label, Permissions: k.Scopes,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
}
