package http

import (
	"bytes"
	"context"
	nethttp "net/http"
	"strings"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"
	"chengdui/statement"
)

// statementRoutes adds what a store's dashboards and accounting tools read
// of its money (package statement): its balances now, and its statement
// of a period in JSON or CSV, and its settlements (the invoice payments
// credited to it, with their conversions) of a period. All take a store API key of the route's
// store with btcpay.store.canviewinvoices (invoice:read): whoever may
// read the invoices may read what they brought.
func (s *Server) statementRoutes(mux *nethttp.ServeMux) {
	if s.cfg.Merchants == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/stores/{storeId}/balances", s.handleStoreBalances)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/statement", s.handleStatement)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/settlements", s.handleSettlements)
}

// ledgerSource reads statements from the ledger, with the assets the
// store lists.
type ledgerSource struct {
	chengdui.Ledger
	store interface {
		Assets(ctx context.Context) ([]chengdui.Asset, error)
	}
}

func (l ledgerSource) Assets(ctx context.Context) ([]chengdui.Asset, error) {
	return l.store.Assets(ctx)
}

func (s *Server) statementSource() ledgerSource {
	return ledgerSource{Ledger: s.cfg.Ledger, store: s.cfg.Store}
}

// balancesJSON is the body of GET /api/v1/stores/{storeId}/balances.
type balancesJSON struct {
	StoreID  string              `json:"store_id"`
	Balances []statement.Balance `json:"balances"`
}

// handleStoreBalances answers a store's balance of each asset it has an
// account of: available, on hold (pending payouts) and total.
func (s *Server) handleStoreBalances(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	bs, err := statement.Balances(r.Context(), s.statementSource(), k.StoreID)
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, balancesJSON{StoreID: k.StoreID, Balances: bs})
}

// settlementsJSON is the body of GET /api/v1/stores/{storeId}/settlements.
type settlementsJSON struct {
	StoreID string                 `json:"store_id"`
	From    time.Time              `json:"from"`
	To      time.Time              `json:"to"`
	Data    []statement.Settlement `json:"data"`
}

// handleSettlements answers a store's settlements of a period (?from= and
// ?to= as the statement's): each invoice payment credited to the store, in
// journal order, with the asset paid, the locked rate, gross, fee, spread
// and net in the settlement asset.
func (s *Server) handleSettlements(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	q := r.URL.Query()
	var bad []invoice.FieldError
	for _, name := range []string{"from", "to"} {
		if len(q[name]) > 1 {
			bad = append(bad, invoice.FieldError{Field: name, Message: "is given more than once"})
		}
	}
	if len(bad) > 0 {
		nativeError(w, r, &invoice.ValidationError{Fields: bad})
		return
	}
	st, ok := s.periodStatement(w, r, k.StoreID)
	if !ok {
		return
	}
	out := settlementsJSON{StoreID: k.StoreID, From: st.From.UTC(), To: st.To.UTC(), Data: st.Settlements()}
	if out.Data == nil {
		out.Data = []statement.Settlement{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, out)
}

// periodStatement builds a store's statement of the request's period
// (?from= and ?to=, statement.ParsePeriod), answering the error itself
// when it cannot.
func (s *Server) periodStatement(w nethttp.ResponseWriter, r *nethttp.Request, storeID string) (statement.Statement, bool) {
	q := r.URL.Query()
	from, to, err := statement.ParsePeriod(q.Get("from"), q.Get("to"), s.cfg.Now())
	if err != nil {
		nativeError(w, r, err)
		return statement.Statement{}, false
	}
	st, err := statement.Build(r.Context(), s.statementSource(), storeID, from, to)
	if err != nil {
		Error(w, r, err)
		return statement.Statement{}, false
	}
	return st, true
}

// handleStatement answers a store's statement of a period: ?from= and
// ?to= (statement.ParsePeriod: RFC 3339, Unix seconds or YYYY-MM-DD, the
// current month to date by default), ?format=json (default) or csv. A
// bad query is 400 "invalid" with the fields at fault.
func (s *Server) handleStatement(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	q := r.URL.Query()
	var bad []invoice.FieldError
	for _, name := range []string{"from", "to", "format"} {
		if len(q[name]) > 1 {
			bad = append(bad, invoice.FieldError{Field: name, Message: "is given more than once"})
		}
	}
	format := q.Get("format")
	switch format {
	case "", "json", "csv":
	default:
		bad = append(bad, invoice.FieldError{Field: "format", Message: "must be json or csv"})
	}
	if len(bad) > 0 {
		nativeError(w, r, &invoice.ValidationError{Fields: bad})
		return
	}
	st, ok := s.periodStatement(w, r, k.StoreID)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format != "csv" {
		writeJSON(w, nethttp.StatusOK, st)
		return
	}
	var buf bytes.Buffer
	if err := st.WriteCSV(&buf); err != nil {
		Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `attachment; filename="`+statementFilename(k.StoreID, st)+`"`)
	w.WriteHeader(nethttp.StatusOK)
	w.Write(buf.Bytes())
}

// statementFilename names a CSV statement after its store and period,
// keeping to characters safe in a header and a file system.
func statementFilename(storeID string, st statement.Statement) string {
	safe := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, storeID)
	const stamp = "20060102T150405Z"
	return "statement-" + safe + "-" + st.From.UTC().Format(stamp) + "-" + st.To.UTC().Format(stamp) + ".csv"
}
