package http

import (
	"context"
	nethttp "net/http"
	"strings"

	"chengdui"
	"chengdui/auth"
	"chengdui/settle"
)

// Settlement is the settlement profile service (chengdui/settle.Profiles).
type Settlement interface {
	// Get returns a store's settlement for its owner, or for userID ""
	// (a caller its API key authenticated). Codes: ENotFound.
	Get(ctx context.Context, userID, storeID string) (chengdui.StoreSettlement, error)
	// Update replaces the profile; destination changes need req.OTP and
	// wait. Codes: ENotFound, EInvalid (*invoice.ValidationError),
	// EUnauthorized, ESecondFactorRequired, EConflict.
	Update(ctx context.Context, userID, storeID string, req settle.UpdateRequest) (chengdui.StoreSettlement, error)
	// CancelPending cancels a waiting destination change. Codes:
	// ENotFound, EConflict.
	CancelPending(ctx context.Context, userID, storeID string) (chengdui.StoreSettlement, error)
}

// settlementRoutes adds a store's settlement profile: splits among
// assets and destinations, payout schedule, minimums, and the pending
// destination change. Reading takes the owner's session or a store API
// key with invoice:read (btcpay.store.canviewinvoices); changing takes
// the owner's session, and the owner's second factor ("otp") when a
// destination is added or changed.
func (s *Server) settlementRoutes(mux *nethttp.ServeMux) {
	if s.cfg.Settlement == nil || s.cfg.Wallets == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/stores/{storeId}/settlement", s.handleSettlement)
	mux.HandleFunc("PUT /api/v1/stores/{storeId}/settlement", s.handleUpdateSettlement)
	mux.HandleFunc("DELETE /api/v1/stores/{storeId}/settlement/pending", s.handleCancelSettlementChange)
}

// settlementJSON is a store's settlement profile as the API shows it.
// The operator's fee settings are not part of it.
type settlementJSON struct {
	StoreID   string                     `json:"store_id"`
	Splits    []chengdui.SettlementSplit `json:"splits"`
	Schedule  chengdui.PayoutSchedule    `json:"schedule"`
	MinPayout map[string]string          `json:"min_payout"`
	Pending   *chengdui.SettlementChange `json:"pending"`
}

func newSettlementJSON(storeID string, st chengdui.StoreSettlement) settlementJSON {
	out := settlementJSON{StoreID: storeID, Splits: st.Splits, Schedule: st.Schedule, MinPayout: st.MinPayout, Pending: st.Pending}
	if out.Splits == nil {
		out.Splits = []chengdui.SettlementSplit{}
	}
	if out.MinPayout == nil {
		out.MinPayout = map[string]string{}
	}
	if out.Schedule.Kind == "" {
		out.Schedule.Kind = chengdui.ScheduleManual
	}
	return out
}

// isAPIKey tells a store API key ("token KEY", or a bearer "cd_…") from
// a session token.
func isAPIKey(r *nethttp.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "token") || strings.HasPrefix(strings.TrimSpace(token), "cd_")
}

// handleSettlement answers a store's settlement profile.
func (s *Server) handleSettlement(w nethttp.ResponseWriter, r *nethttp.Request) {
	storeID, userID := r.PathValue("storeId"), ""
	if isAPIKey(r) {
		if s.cfg.Merchants == nil {
			Error(w, r, chengdui.Errorf(chengdui.EUnauthorized, "store API keys are not accepted here"))
			return
		}
		if _, ok := s.apiKey(w, r, auth.ScopeInvoiceRead); !ok {
			return
		}
	} else {
		u, ok := s.user(w, r)
		if !ok {
			return
		}
		userID = u.ID
	}
	st, err := s.cfg.Settlement.Get(r.Context(), userID, storeID)
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, newSettlementJSON(storeID, st))
}

// handleUpdateSettlement replaces a store's profile for its owner: the
// schedule and minimums at once, destination changes after the delay
// (with "otp"). A bad profile is 422 with the fields at fault, and
// changes nothing.
func (s *Server) handleUpdateSettlement(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	body, err := readBody(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	req, err := settle.ParseUpdate(body)
	if err != nil {
		greenfieldError(w, r, err)
		return
	}
	if req.OTP != "" {
		if err := s.limited(w, r, u.ID); err != nil {
			Error(w, r, err)
			return
		}
	}
	st, err := s.cfg.Settlement.Update(r.Context(), u.ID, r.PathValue("storeId"), req)
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized && req.OTP != "" { // a wrong second factor
			s.countFailure(r, u.ID, err)
		}
		greenfieldError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, newSettlementJSON(r.PathValue("storeId"), st))
}

// handleCancelSettlementChange cancels the store's pending destination
// change; 404 when there is none.
func (s *Server) handleCancelSettlementChange(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	st, err := s.cfg.Settlement.CancelPending(r.Context(), u.ID, r.PathValue("storeId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, newSettlementJSON(r.PathValue("storeId"), st))
}
