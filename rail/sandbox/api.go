package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chengdui"
	"chengdui/rail"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// Handler serves the bank's API:
//
//	POST /v1/payment-orders                (Idempotency-Key: order id) → 201, or 200 for a replay
//	GET  /v1/payment-orders/{id}           (our order id or the bank reference)
//	POST /v1/payment-orders/{id}/return    ({"reason": "..."}, optional) → 200
//	GET  /v1/accounts/{id}/statement       (?after=SEQ: only later entries)
//
// Every request needs the API key. Errors are JSON {"code","message"}
// with the status of their code: 400 invalid input, 401 no or a wrong
// key, 404 unknown order, account or route, 409 conflict, 413 a body
// above 64 KiB, 503 after Close.
func (b *Bank) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payment-orders", b.handleSubmit)
	mux.HandleFunc("GET /v1/payment-orders/{id}", b.handleGet)
	mux.HandleFunc("POST /v1/payment-orders/{id}/return", b.handleReturn)
	mux.HandleFunc("GET /v1/accounts/{id}/statement", b.handleStatement)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, chengdui.Errorf(chengdui.ENotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return b.authenticate(mux)
}

// authenticate refuses requests without the API key, as a bearer token
// or a basic-auth password.
func (b *Bank) authenticate(next http.Handler) http.Handler {
	want := []byte(b.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := "", false
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
			key, ok = strings.TrimSpace(h[7:]), true
		} else {
			_, key, ok = r.BasicAuth()
		}
		if !ok || subtle.ConstantTimeCompare([]byte(key), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="sandbox bank"`)
			writeError(w, chengdui.Errorf(chengdui.EUnauthorized, "a valid API key is required"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// orderRequest is the body of POST /v1/payment-orders. The order id is
// the Idempotency-Key header.
type orderRequest struct {
	Currency  string     `json:"currency"`
	Amount    string     `json:"amount"` // decimal in whole units: "12.34"
	Creditor  rail.Party `json:"creditor"`
	Reference string     `json:"reference,omitempty"`
}

// orderView is a payment order as the API shows it.
type orderView struct {
	OrderID         string      `json:"order_id"`
	BankRef         string      `json:"bank_ref"`
	Status          rail.Status `json:"status"`
	Reason          string      `json:"reason,omitempty"`
	Currency        string      `json:"currency"`
	Amount          string      `json:"amount"`
	Creditor        rail.Party  `json:"creditor"`
	Reference       string      `json:"reference,omitempty"`
	DebtorAccount   string      `json:"debtor_account"`
	CreditorAccount string      `json:"creditor_account"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

func (o *order) view() orderView {
	return orderView{OrderID: o.o.ID, BankRef: o.ref, Status: o.status, Reason: o.reason,
		Currency: o.o.Currency, Amount: chengdui.FormatDecimal(o.o.Amount, o.o.Decimals),
		Creditor: o.o.Creditor, Reference: o.o.Reference, DebtorAccount: o.debtor, CreditorAccount: o.creditor, CreatedAt: o.created, UpdatedAt: o.at}
}

func (v orderView) update() rail.Update {
	return rail.Update{OrderID: v.OrderID, BankRef: v.BankRef, Status: v.Status, Reason: v.Reason, At: v.UpdatedAt}
}

// parseOrder turns a request into an order and validates it.
func parseOrder(id string, req orderRequest) (rail.Order, error) {
	d, ok := rail.CurrencyDecimals(req.Currency)
	if !ok {
		return rail.Order{}, chengdui.Errorf(chengdui.EInvalid, "currency %q is not supported (CNY, EUR, USD)", clip(req.Currency))
	}
	amount, err := chengdui.ParseDecimal(req.Amount, d)
	if err != nil {
		return rail.Order{}, err
	}
	o := rail.Order{ID: id, Currency: req.Currency, Amount: amount, Decimals: d, Reference: req.Reference, Creditor: req.Creditor}
	if err := o.Validate(); err != nil {
		return rail.Order{}, err
	}
	return o, nil
}

func (b *Bank) handleSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Idempotency-Key")
	if id == "" {
		writeError(w, chengdui.Errorf(chengdui.EInvalid, "the Idempotency-Key header (the order id) is required"))
		return
	}
	if !rail.ValidID(id) {
		writeError(w, chengdui.Errorf(chengdui.EInvalid, "Idempotency-Key %q must be 1-%d letters, digits, '-', '.' or ':'", clip(id), rail.MaxIDLen))
		return
	}
	var req orderRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	o, err := parseOrder(id, req)
	if err != nil {
		writeError(w, err)
		return
	}
	v, created, err := b.submit(o)
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
}

func (b *Bank) handleGet(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	ord := b.find(r.PathValue("id"))
	var v orderView
	if ord != nil {
		v = ord.view()
	}
	b.mu.Unlock()
	if ord == nil {
		writeError(w, chengdui.Errorf(chengdui.ENotFound, "no payment order %q", clip(r.PathValue("id"))))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (b *Bank) handleReturn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
	}
	if len(req.Reason) > 140 || strings.ContainsFunc(req.Reason, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		writeError(w, chengdui.Errorf(chengdui.EInvalid, "the reason must be at most 140 bytes without control characters"))
		return
	}
	v, err := b.returnOrder(r.PathValue("id"), req.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (b *Bank) handleStatement(w http.ResponseWriter, r *http.Request) {
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			writeError(w, chengdui.Errorf(chengdui.EInvalid, "after must be a non-negative entry number"))
			return
		}
		after = n
	}
	s, err := b.statement(r.PathValue("id"), after)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.wire())
}

// decode reads one JSON object of at most maxBody bytes with known fields
// only.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return chengdui.Errorf(chengdui.EInvalid, "the body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return chengdui.Errorf(codeTooLarge, "the body exceeds %d bytes", maxBody)
		}
		return chengdui.Errorf(chengdui.EInvalid, "reading the body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return chengdui.Errorf(chengdui.EInvalid, "the body is not a valid JSON request: %v", err)
	}
	if dec.More() {
		return chengdui.Errorf(chengdui.EInvalid, "the body holds more than one JSON value")
	}
	return nil
}

// codeTooLarge is the error code of a body above maxBody.
const codeTooLarge = "too_large"

var statusByCode = map[string]int{
	chengdui.EInvalid:       http.StatusBadRequest,
	chengdui.EInvalidAmount: http.StatusBadRequest,
	chengdui.EZeroAmount:    http.StatusBadRequest,
	chengdui.EUnauthorized:  http.StatusUnauthorized,
	chengdui.ENotFound:      http.StatusNotFound,
	chengdui.EConflict:      http.StatusConflict,
	chengdui.EIDConflict:    http.StatusConflict,
	codeTooLarge:            http.StatusRequestEntityTooLarge,
	chengdui.EUnavailable:   http.StatusServiceUnavailable,
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	code := chengdui.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status, code = http.StatusInternalServerError, chengdui.EInternal
	}
	writeJSON(w, status, errorJSON{Code: code, Message: chengdui.ErrorMessage(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"code":"internal","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// clip keeps hostile input from flooding error messages.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
