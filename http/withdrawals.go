package http

import (
	"context"
	nethttp "net/http"
	"strings"

	"chengdui"
	"chengdui/withdraw"
)

// Withdrawals is the withdrawal service the HTTP edge needs:
// withdraw.Service, bound to the ledger's asset decimals.
type Withdrawals interface {
	Withdraw(ctx context.Context, userID string, r withdraw.Request) (withdraw.Withdrawal, error)
	Get(ctx context.Context, userID, id string) (withdraw.Withdrawal, error)
	List(ctx context.Context, userID string) ([]withdraw.Withdrawal, error)
}

type withdrawalJSON struct {
	withdraw.Withdrawal
	Amount string `json:"amount"`
	Fee    string `json:"fee"`
}

// toWithdrawalJSON answers a withdrawal with the client's own key as its
// id (the Idempotency-Key it was made with), the one GET takes.
func toWithdrawalJSON(w withdraw.Withdrawal) withdrawalJSON {
	w.ID = strings.TrimPrefix(w.ID, w.UserID+"-")
	return withdrawalJSON{Withdrawal: w, Amount: w.Amount.String(), Fee: w.Fee.String()}
}

// handleWithdraw asks for a withdrawal. The Idempotency-Key header names
// it: a retry with the same key and body answers the first withdrawal
// (200), a new one answers 201. It needs the user's second factor in
// "code"; wrong codes count towards the rate limit.
func (s *Server) handleWithdraw(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	var body struct {
		Asset  string `json:"asset"`
		To     string `json:"to"`
		Amount string `json:"amount"` // whole units, e.g. "0.015"
		Code   string `json:"code"`
	}
	if err := decodeJSON(r, &body); err != nil {
		Error(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		Error(w, r, chengdui.Errorf(chengdui.EInvalid, "send an Idempotency-Key header (e.g. a UUID) so that a retry cannot withdraw twice"))
		return
	}
	if err := s.limited(w, r, u.ID); err != nil {
		Error(w, r, err)
		return
	}
	before, err := s.cfg.Withdrawals.Get(r.Context(), u.ID, key)
	existed := err == nil
	wd, err := s.cfg.Withdrawals.Withdraw(r.Context(), u.ID, withdraw.Request{ID: key, Asset: body.Asset, To: body.To, Amount: body.Amount, Code: body.Code})
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized {
			s.countFailure(r, u.ID, err)
		}
		Error(w, r, err)
		return
	}
	status := nethttp.StatusCreated
	if existed && before.ID == wd.ID {
		status = nethttp.StatusOK
	}
	writeJSON(w, status, toWithdrawalJSON(wd))
}

// handleWithdrawals lists the caller's withdrawals, oldest first.
func (s *Server) handleWithdrawals(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	ws, err := s.cfg.Withdrawals.List(r.Context(), u.ID)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]withdrawalJSON, 0, len(ws))
	for _, wd := range ws {
		out = append(out, toWithdrawalJSON(wd))
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"withdrawals": out})
}

// handleWithdrawal shows one of the caller's withdrawals by its key.
func (s *Server) handleWithdrawal(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	wd, err := s.cfg.Withdrawals.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, toWithdrawalJSON(wd))
}
