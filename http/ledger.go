package http

import (
	nethttp "net/http"
	"strconv"

	"chengdui"
)

func (s *Server) handleAssets(w nethttp.ResponseWriter, r *nethttp.Request) {
	assets, err := s.cfg.Store.Assets(r.Context())
	if err != nil {
		Error(w, r, err)
		return
	}
	if assets == nil {
		assets = []chengdui.Asset{}
	}
	writeJSON(w, nethttp.StatusOK, page[chengdui.Asset]{Data: assets})
}

// handleAccounts lists accounts in id order; ?after= is the last id seen.
func (s *Server) handleAccounts(w nethttp.ResponseWriter, r *nethttp.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	ctx := r.Context()
	accounts, err := s.cfg.Store.Accounts(ctx, r.URL.Query().Get("after"), limit)
	if err != nil {
		Error(w, r, err)
		return
	}
	assets, err := s.cfg.Store.Assets(ctx)
	if err != nil {
		Error(w, r, err)
		return
	}
	decimals := decimalsByAsset(assets)
	out := page[accountJSON]{Data: make([]accountJSON, len(accounts))}
	for i, a := range accounts {
		out.Data[i] = newAccountJSON(a, decimals)
	}
	if len(accounts) == limit {
		out.Next = accounts[len(accounts)-1].ID
	}
	writeJSON(w, nethttp.StatusOK, out)
}

func (s *Server) handleAccount(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	a, err := s.cfg.Ledger.Account(ctx, r.PathValue("id"))
	if err != nil {
		Error(w, r, err)
		return
	}
	assets, err := s.cfg.Store.Assets(ctx)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, newAccountJSON(a, decimalsByAsset(assets)))
}

// handleAccountTransfers lists one account's transfers, both sides, in
// journal order.
func (s *Server) handleAccountTransfers(w nethttp.ResponseWriter, r *nethttp.Request) {
	id := r.PathValue("id")
	// An unknown account would otherwise look like one without history.
	if _, err := s.cfg.Ledger.Account(r.Context(), id); err != nil {
		Error(w, r, err)
		return
	}
	s.listTransfers(w, r, id)
}

// handleTransfers lists the public journal.
func (s *Server) handleTransfers(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.listTransfers(w, r, "")
}

// listTransfers serves a page of transfers; ?after= is the last seq seen.
func (s *Server) listTransfers(w nethttp.ResponseWriter, r *nethttp.Request, accountID string) {
	limit, err := parseLimit(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	after, err := parseSeqCursor(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	ctx := r.Context()
	ts, err := s.cfg.Ledger.Transfers(ctx, chengdui.TransferFilter{AccountID: accountID, AfterSeq: after, Limit: limit})
	if err != nil {
		Error(w, r, err)
		return
	}
	assets, err := s.cfg.Store.Assets(ctx)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := page[transferJSON]{Data: newTransfersJSON(ts, decimalsByAsset(assets))}
	if len(ts) == limit {
		out.Next = strconv.FormatUint(ts[len(ts)-1].Seq, 10)
	}
	writeJSON(w, nethttp.StatusOK, out)
}

func (s *Server) handleHead(w nethttp.ResponseWriter, r *nethttp.Request) {
	h, err := s.cfg.Ledger.Head(r.Context())
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, newHeadJSON(h))
}

// handleAPINotFound keeps unknown API paths answering in JSON.
func (s *Server) handleAPINotFound(w nethttp.ResponseWriter, r *nethttp.Request) {
	Error(w, r, chengdui.Errorf(chengdui.ENotFound, "no such API route"))
}
