package http

import (
	"context"
	nethttp "net/http"

	"chengdui"
	"chengdui/auth"
	"chengdui/payout"
	"chengdui/rail"
)

// Payouts is the payout service (chengdui/payout.Service).
type Payouts interface {
	Create(ctx context.Context, req payout.CreateRequest) (payout.Payout, error)
	Get(ctx context.Context, id string) (payout.Payout, error)
	List(ctx context.Context, f payout.Filter) ([]payout.Payout, error)
	Cancel(ctx context.Context, id, by string) (payout.Payout, error)
}

// payoutRoutes adds a store's payouts: create (API key with
// payout:create, Idempotency-Key honoured, the body's id is the payout's
// idempotency key), list, read and cancel (Greenfield's DELETE: only a
// payout not yet sent; its hold is released).
func (s *Server) payoutRoutes(mux *nethttp.ServeMux) {
	if s.cfg.Payouts == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/stores/{storeId}/payouts", s.handleCreatePayout)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/payouts", s.handlePayouts)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/payouts/{payoutId}", s.handlePayout)
	mux.HandleFunc("DELETE /api/v1/stores/{storeId}/payouts/{payoutId}", s.handleCancelPayout)
}

// payoutJSON is a payout as the API shows it. Amounts are decimal strings
// in whole units of the asset; times are Unix seconds, as Greenfield's.
type payoutJSON struct {
	ID        string      `json:"id"`
	StoreID   string      `json:"storeId"`
	Asset     string      `json:"asset"`
	Amount    string      `json:"amount"`
	Method    string      `json:"method"`
	Rail      string      `json:"rail,omitempty"`
	Creditor  *rail.Party `json:"creditor,omitempty"`
	Address   string      `json:"address,omitempty"`
	Reference string      `json:"reference,omitempty"`
	State     string      `json:"state"`
	Reason    string      `json:"reason,omitempty"`
	Ref       string      `json:"ref,omitempty"` // the bank's reference or the txid
	CreatedAt int64       `json:"createdTime"`
	UpdatedAt int64       `json:"updatedTime"`
}

// payoutDecimals reads the assets' decimals once per request.
func (s *Server) payoutDecimals(ctx context.Context) map[string]uint8 {
	assets, err := s.cfg.Store.Assets(ctx)
	if err != nil {
		return nil // amounts are then shown in smallest units
	}
	return decimalsByAsset(assets)
}

func newPayoutJSON(p payout.Payout, decimals map[string]uint8) payoutJSON {
	out := payoutJSON{ID: p.ID, StoreID: p.StoreID, Asset: p.Asset, Amount: p.Amount.String(), Method: string(p.Method), Rail: p.Rail,
		Address: p.Address, Reference: p.Reference, State: string(p.State), Reason: p.Reason, Ref: p.Ref,
		CreatedAt: p.CreatedAt.Unix(), UpdatedAt: p.UpdatedAt.Unix()}
	if p.Method == payout.Bank {
		c := p.Creditor
		out.Creditor = &c
	}
	if d, ok := decimals[p.Asset]; ok {
		out.Amount = chengdui.FormatDecimal(p.Amount, d)
	}
	return out
}

// handleCreatePayout pays a store's balance out: to a bank account
// (method BANK, creditor) or an address (method CHAIN). The amount is held
// at once; 422 exceeds_credits when the balance is short (nothing held).
func (s *Server) handleCreatePayout(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, body []byte) {
		var req struct {
			ID        string      `json:"id"`
			Asset     string      `json:"asset"`
			Amount    string      `json:"amount"`
			Method    string      `json:"method"`
			Creditor  *rail.Party `json:"creditor"`
			Address   string      `json:"address"`
			Reference string      `json:"reference"`
		}
		if err := decodeGreenfield(body, &req); err != nil {
			Error(w, r, err)
			return
		}
		if req.ID == "" {
			req.ID = r.Header.Get("Idempotency-Key")
		}
		cr := payout.CreateRequest{ID: req.ID, StoreID: k.StoreID, Asset: req.Asset, Amount: req.Amount, Method: payout.Method(req.Method),
			Address: req.Address, Reference: req.Reference, CreatedBy: "api-key-" + k.ID}
		if req.Creditor != nil {
			cr.Creditor = *req.Creditor
		}
		p, err := s.cfg.Payouts.Create(r.Context(), cr)
		if err != nil {
			Error(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusCreated, newPayoutJSON(p, s.payoutDecimals(r.Context())))
	})
}

// handlePayouts lists a store's payouts, oldest first; ?after=ID&limit=N.
func (s *Server) handlePayouts(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	limit, err := parseLimit(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	f := payout.Filter{StoreID: k.StoreID, State: payout.State(r.URL.Query().Get("state")), After: r.URL.Query().Get("after"), Limit: limit}
	if f.State != "" && !f.State.Valid() {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "state %q: use AwaitingApproval, AwaitingPayment, InProgress, Completed, Failed or Cancelled", f.State))
		return
	}
	ps, err := s.cfg.Payouts.List(r.Context(), f)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := page[payoutJSON]{Data: []payoutJSON{}}
	decimals := s.payoutDecimals(r.Context())
	for _, p := range ps {
		out.Data = append(out.Data, newPayoutJSON(p, decimals))
	}
	if len(ps) == limit {
		out.Next = ps[len(ps)-1].ID
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// handlePayout answers one of the store's payouts; another store's is 404.
func (s *Server) handlePayout(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	p, ok := s.storePayout(w, r, k.StoreID)
	if !ok {
		return
	}
	writeJSON(w, nethttp.StatusOK, newPayoutJSON(p, s.payoutDecimals(r.Context())))
}

// handleCancelPayout cancels one of the store's payouts that was not sent
// yet and releases its hold (200 with the payout; cancelling a cancelled
// payout again answers the same); 409 conflict once it was sent.
func (s *Server) handleCancelPayout(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	if _, ok := s.storePayout(w, r, k.StoreID); !ok {
		return
	}
	p, err := s.cfg.Payouts.Cancel(r.Context(), r.PathValue("payoutId"), "api-key-"+k.ID)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, newPayoutJSON(p, s.payoutDecimals(r.Context())))
}

// storePayout reads the path's payout, answering 404 when it is missing or
// another store's.
func (s *Server) storePayout(w nethttp.ResponseWriter, r *nethttp.Request, storeID string) (payout.Payout, bool) {
	p, err := s.cfg.Payouts.Get(r.Context(), r.PathValue("payoutId"))
	if err == nil && p.StoreID != storeID {
		err = chengdui.Errorf(chengdui.ENotFound, "no payout %q in this store", r.PathValue("payoutId"))
	}
	if err != nil {
		Error(w, r, err)
		return payout.Payout{}, false
	}
	return p, true
}
