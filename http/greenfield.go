package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"

	"lukechampine.com/uint128"
)

// The Greenfield invoice routes answer with BTCPay's schemas
// (shared/greenfield/swagger.template.invoices.json): camelCase names,
// amounts as decimal strings in whole units, times as Unix seconds.

// invoiceData is Greenfield's InvoiceData. PaymentMethods is filled only
// when ?includePaymentMethods=true, as BTCPay does (InvoiceDataList).
type invoiceData struct {
	ID                                string              `json:"id"`
	StoreID                           string              `json:"storeId"`
	Amount                            string              `json:"amount"`
	PaidAmount                        string              `json:"paidAmount"`
	Currency                          string              `json:"currency"`
	Type                              string              `json:"type"`
	CheckoutLink                      string              `json:"checkoutLink"`
	CreatedTime                       int64               `json:"createdTime"`
	ExpirationTime                    int64               `json:"expirationTime"`
	MonitoringExpiration              int64               `json:"monitoringExpiration"`
	Status                            invoice.Status      `json:"status"`
	AdditionalStatus                  invoice.Additional  `json:"additionalStatus"`
	AvailableStatusesForManualMarking []invoice.Status    `json:"availableStatusesForManualMarking"`
	Archived                          bool                `json:"archived"`
	Metadata                          json.RawMessage     `json:"metadata"`
	Checkout                          checkoutOptions     `json:"checkout"`
	Receipt                           receiptOptions      `json:"receipt"`
	PaymentMethods                    []paymentMethodData `json:"paymentMethods,omitempty"`
}

// checkoutOptions is Greenfield's CheckoutOptions as an invoice shows
// them. Minutes and the tolerance are JSON numbers written from exact
// decimals.
type checkoutOptions struct {
	SpeedPolicy           invoice.SpeedPolicy `json:"speedPolicy"`
	PaymentMethods        []string            `json:"paymentMethods"`
	DefaultPaymentMethod  *string             `json:"defaultPaymentMethod"`
	LazyPaymentMethods    bool                `json:"lazyPaymentMethods"`
	ExpirationMinutes     json.Number         `json:"expirationMinutes"`
	MonitoringMinutes     json.Number         `json:"monitoringMinutes"`
	PaymentTolerance      json.Number         `json:"paymentTolerance"`
	RedirectURL           *string             `json:"redirectURL"`
	RedirectAutomatically bool                `json:"redirectAutomatically"`
	DefaultLanguage       *string             `json:"defaultLanguage"`
}

// receiptOptions is Greenfield's ReceiptOptions. Chengdui has no public
// receipt settings: every field is null ("the store's default").
type receiptOptions struct {
	Enabled      *bool `json:"enabled"`
	ShowQR       *bool `json:"showQR"`
	ShowPayments *bool `json:"showPayments"`
}

// paymentMethodData is Greenfield's InvoicePaymentMethodDataModel.
// Amounts are in whole units of Currency; Due is negative when overpaid.
type paymentMethodData struct {
	PaymentMethodID   string          `json:"paymentMethodId"`
	Currency          string          `json:"currency"`
	Destination       string          `json:"destination"`
	PaymentLink       *string         `json:"paymentLink"`
	Rate              string          `json:"rate"`
	PaymentMethodPaid string          `json:"paymentMethodPaid"`
	TotalPaid         string          `json:"totalPaid"`
	Due               string          `json:"due"`
	Amount            string          `json:"amount"`
	PaymentMethodFee  string          `json:"paymentMethodFee"`
	Payments          []paymentData   `json:"payments"`
	Activated         bool            `json:"activated"`
	AdditionalData    json.RawMessage `json:"additionalData"`
}

// paymentData is Greenfield's Payment.
type paymentData struct {
	ID           string                `json:"id"`
	ReceivedDate int64                 `json:"receivedDate"`
	Value        string                `json:"value"`
	Fee          string                `json:"fee"`
	Status       invoice.PaymentStatus `json:"status"`
	Destination  string                `json:"destination"`
}

// intentData is a signed PaymentRouter intent in an EVM method's
// additionalData. Amount and Fee are smallest units of the token (wei for
// ether) as decimal strings; Deadline is Unix seconds.
type intentData struct {
	Router       string `json:"router"`
	ChainID      uint64 `json:"chainId"`
	ID           string `json:"id"`
	Token        string `json:"token"`
	Amount       string `json:"amount"`
	Fee          string `json:"fee"`
	Recipient    string `json:"recipient"`
	FeeRecipient string `json:"feeRecipient"`
	Deadline     int64  `json:"deadline"`
	Signature    string `json:"signature"`
}

// evmData is an EVM method's additionalData.
type evmData struct {
	ChainID uint64      `json:"chainId"`
	Token   string      `json:"token,omitempty"` // "" for ether
	Intent  *intentData `json:"intent,omitempty"`
}

// chainData is a bitcoin method's additionalData (Greenfield's *-CHAIN).
type chainData struct {
	KeyPath        string `json:"keyPath"`
	PayjoinEnabled bool   `json:"payjoinEnabled"`
}

// checkoutBase is the origin checkout links start with.
func (s *Server) checkoutBase(r *nethttp.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// checkoutLink is the hosted checkout page of an invoice.
func (s *Server) checkoutLink(r *nethttp.Request, id string) string {
	return s.checkoutBase(r) + "/i/" + url.PathEscape(id)
}

// minutes writes a duration in minutes as an exact JSON number.
func minutes(d time.Duration) json.Number {
	if d <= 0 {
		return "0"
	}
	if d%time.Minute == 0 {
		return json.Number(strconv.FormatInt(int64(d/time.Minute), 10))
	}
	return json.Number(new(big.Rat).SetFrac64(int64(d/time.Second), 60).FloatString(4))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toInvoiceData renders a view as Greenfield's InvoiceData.
func (s *Server) toInvoiceData(r *nethttp.Request, v invoice.View, withMethods, accountedOnly bool) invoiceData {
	inv := v.Invoice
	typ := "Standard"
	if inv.TopUp {
		typ = "TopUp"
	}
	meta := inv.Metadata
	if len(meta) == 0 || string(meta) == "null" {
		meta = json.RawMessage(`{}`)
	}
	marks := v.Marks
	if marks == nil {
		marks = []invoice.Status{}
	}
	ids := make([]string, 0, len(inv.Methods))
	for _, m := range inv.Methods {
		ids = append(ids, m.ID)
	}
	out := invoiceData{
		ID: inv.ID, StoreID: inv.StoreID,
		Amount:     chengdui.FormatDecimal(inv.Amount, inv.Decimals),
		PaidAmount: chengdui.FormatDecimal(v.Paid, inv.Decimals),
		Currency:   inv.Currency, Type: typ,
		CheckoutLink:         s.checkoutLink(r, inv.ID),
		CreatedTime:          inv.CreatedAt.Unix(),
		ExpirationTime:       inv.ExpiresAt.Unix(),
		MonitoringExpiration: inv.MonitoringUntil.Unix(),
		Status:               inv.Status, AdditionalStatus: inv.Additional,
		AvailableStatusesForManualMarking: marks,
		Archived:                          inv.Archived,
		Metadata:                          meta,
		Checkout: checkoutOptions{
			SpeedPolicy:           inv.SpeedPolicy,
			PaymentMethods:        ids,
			DefaultPaymentMethod:  optional(inv.Checkout.DefaultPaymentMethod),
			ExpirationMinutes:     minutes(inv.ExpiresAt.Sub(inv.CreatedAt)),
			MonitoringMinutes:     minutes(inv.MonitoringUntil.Sub(inv.ExpiresAt)),
			PaymentTolerance:      json.Number(chengdui.FormatDecimal(uint128.From64(uint64(inv.ToleranceBps)), 2)),
			RedirectURL:           optional(inv.Checkout.RedirectURL),
			RedirectAutomatically: inv.Checkout.RedirectAutomatically,
			DefaultLanguage:       optional(inv.Checkout.DefaultLanguage),
		},
	}
	if withMethods {
		out.PaymentMethods = toPaymentMethods(v, accountedOnly)
	}
	return out
}

// signed writes a-b in whole units, with a leading "-" when b > a.
func signed(a, b chengdui.Amount, decimals uint8) string {
	if d, ok := chengdui.SubAmounts(a, b); ok {
		return chengdui.FormatDecimal(d, decimals)
	}
	d, _ := chengdui.SubAmounts(b, a)
	return "-" + chengdui.FormatDecimal(d, decimals)
}

// valueIn is what a payment is worth in the invoice's currency (smallest
// units, rounded down): the share of the invoice it pays, as the invoice
// service counts it (so a payment of all that was due is worth the whole
// amount), or for a top-up invoice its value at the rate locked for its
// asset.
func valueIn(inv invoice.Invoice, p invoice.Payment) chengdui.Amount {
	q, ok := inv.Quote(p.Asset)
	if !ok {
		return chengdui.Amount{}
	}
	v := new(big.Rat).SetInt(p.Amount.Big())
	if !inv.TopUp && !q.Due.IsZero() {
		v.Mul(v, new(big.Rat).SetFrac(inv.Amount.Big(), q.Due.Big()))
	} else {
		rate, ok := new(big.Rat).SetString(q.Rate)
		if !ok || rate.Sign() <= 0 {
			return chengdui.Amount{}
		}
		v.Mul(v, rate)
		v.Mul(v, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(inv.Decimals)), nil)))
		v.Quo(v, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(q.Decimals)), nil)))
	}
	n := new(big.Int).Quo(v.Num(), v.Denom())
	if n.BitLen() > 128 {
		return uint128.Max
	}
	return uint128.FromBig(n)
}

// toPaymentMethods renders a view's methods as Greenfield's
// InvoicePaymentMethodDataModel list. accountedOnly leaves invalid
// payments out (Greenfield's onlyAccountedPayments, default true).
func toPaymentMethods(v invoice.View, accountedOnly bool) []paymentMethodData {
	inv := v.Invoice
	out := make([]paymentMethodData, 0, len(v.Methods))
	for _, mv := range v.Methods {
		pays := []paymentData{}
		if mv.ID == invoice.MethodBalance {
			// Paid in any quoted asset: shown in the invoice's currency.
			var paid chengdui.Amount
			for _, p := range v.Payments {
				if p.Method != invoice.MethodBalance || (accountedOnly && p.Status == invoice.PaymentInvalid) {
					continue
				}
				val := valueIn(inv, p)
				if p.Status != invoice.PaymentInvalid {
					paid, _ = chengdui.AddAmounts(paid, val)
				}
				// The payment id and account name the payer: merchants see
				// neither.
				pays = append(pays, paymentData{ID: opaque("bal_", p.ID), ReceivedDate: p.ReceivedAt.Unix(),
					Value: chengdui.FormatDecimal(val, inv.Decimals), Fee: "0", Status: p.Status, Destination: p.Asset})
			}
			due := signed(inv.Amount, v.Paid, inv.Decimals)
			if inv.TopUp {
				due = chengdui.FormatDecimal(chengdui.Amount{}, inv.Decimals)
			}
			out = append(out, paymentMethodData{PaymentMethodID: mv.ID, Currency: inv.Currency, Rate: "1",
				PaymentMethodPaid: chengdui.FormatDecimal(paid, inv.Decimals), TotalPaid: chengdui.FormatDecimal(v.Paid, inv.Decimals),
				Due: due, Amount: chengdui.FormatDecimal(inv.Amount, inv.Decimals), PaymentMethodFee: "0",
				Payments: pays, Activated: true, AdditionalData: json.RawMessage(`{}`)})
			continue
		}
		dec := mv.Quote.Decimals
		for _, p := range v.Payments {
			if p.Method != mv.ID || (accountedOnly && p.Status == invoice.PaymentInvalid) {
				continue
			}
			pays = append(pays, paymentData{ID: p.ID, ReceivedDate: p.ReceivedAt.Unix(), Value: chengdui.FormatDecimal(p.Amount, dec),
				Fee: "0", Status: p.Status, Destination: p.Destination})
		}
		due := chengdui.FormatDecimal(mv.Due, dec)
		if !mv.Overpaid.IsZero() {
			due = "-" + chengdui.FormatDecimal(mv.Overpaid, dec)
		}
		out = append(out, paymentMethodData{PaymentMethodID: mv.ID, Currency: mv.Asset, Destination: mv.Destination,
			PaymentLink: optional(mv.Link), Rate: mv.Quote.Rate,
			PaymentMethodPaid: chengdui.FormatDecimal(mv.Paid, dec), TotalPaid: chengdui.FormatDecimal(mv.TotalPaid, dec),
			Due: due, Amount: chengdui.FormatDecimal(mv.Quote.Due, dec), PaymentMethodFee: "0",
			Payments: pays, Activated: true, AdditionalData: additionalData(mv.Method)})
	}
	return out
}

// additionalData is a method's Greenfield additionalData: the key path of
// a bitcoin address, or an EVM method's chain, token and router intent.
func additionalData(m invoice.Method) json.RawMessage {
	var v any = struct{}{}
	switch {
	case m.ChainID != 0:
		d := evmData{ChainID: m.ChainID, Token: m.Token}
		if in := m.Intent; in != nil {
			d.Intent = &intentData{Router: in.Router, ChainID: in.ChainID, ID: in.ID, Token: in.Token, Amount: in.Amount.String(),
				Fee: in.Fee.String(), Recipient: in.Recipient, FeeRecipient: in.FeeRecipient, Deadline: in.Deadline, Signature: in.Signature}
		}
		v = d
	case m.Destination != "":
		v = chainData{KeyPath: "0/" + strconv.FormatUint(uint64(m.Index), 10)}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// createInvoiceRequest is Greenfield's CreateInvoiceRequest. Amount is a
// decimal string; a JSON number is taken as written (never through a
// float), null or absent makes a top-up invoice. Receipt options and
// additional search terms are accepted and not used: Chengdui has no
// receipt page nor text search.
type createInvoiceRequest struct {
	Amount                json.RawMessage  `json:"amount"`
	Currency              *string          `json:"currency"`
	Metadata              json.RawMessage  `json:"metadata"`
	Checkout              *checkoutRequest `json:"checkout"`
	Receipt               *receiptOptions  `json:"receipt"`
	AdditionalSearchTerms []string         `json:"additionalSearchTerms"`
}

// checkoutRequest is Greenfield's CheckoutOptions in a request. All
// payment methods are always active: lazyPaymentMethods is accepted and
// has no effect.
type checkoutRequest struct {
	SpeedPolicy           *string         `json:"speedPolicy"`
	PaymentMethods        []string        `json:"paymentMethods"`
	DefaultPaymentMethod  *string         `json:"defaultPaymentMethod"`
	LazyPaymentMethods    *bool           `json:"lazyPaymentMethods"`
	ExpirationMinutes     json.RawMessage `json:"expirationMinutes"`
	MonitoringMinutes     json.RawMessage `json:"monitoringMinutes"`
	PaymentTolerance      json.RawMessage `json:"paymentTolerance"`
	RedirectURL           *string         `json:"redirectURL"`
	RedirectAutomatically *bool           `json:"redirectAutomatically"`
	DefaultLanguage       *string         `json:"defaultLanguage"`
}

// methodAlias maps BTCPay's older payment method names to today's.
func methodAlias(id string) string {
	switch strings.ToUpper(strings.TrimSpace(id)) {
	case "BTC", "BTC-ONCHAIN", "BTC_ONCHAIN":
		return invoice.MethodBTC
	}
	return strings.TrimSpace(id)
}

// jsonNumber reads a JSON number, or a string holding one, as written;
// "" for null or absent. ok is false for any other value.
func jsonNumber(raw json.RawMessage) (num string, ok bool) {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "null" {
		return "", true
	}
	if v[0] == '"' {
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false
		}
	}
	if !json.Valid([]byte(v)) || v == "" || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return "", false
	}
	return v, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// createRequest checks the parts of a request the service cannot see
// (JSON types) and builds the service's request.
func (req createInvoiceRequest) createRequest(storeID string) (invoice.CreateRequest, error) {
	var fields []invoice.FieldError
	bad := func(path, msg string) { fields = append(fields, invoice.FieldError{Field: path, Message: msg}) }
	out := invoice.CreateRequest{StoreID: storeID, Currency: deref(req.Currency)}
	if a := strings.TrimSpace(string(req.Amount)); a != "" && a[0] == '"' {
		// A string is passed on as is: the service says what is wrong
		// with it.
		if err := json.Unmarshal(req.Amount, &out.Amount); err != nil {
			bad("amount", "must be a decimal string")
		}
	} else if num, ok := jsonNumber(req.Amount); ok {
		out.Amount = num // a JSON number, as written
	} else {
		bad("amount", "must be a decimal string")
	}
	if m := strings.TrimSpace(string(req.Metadata)); m != "" && m != "null" {
		out.Metadata = req.Metadata
	}
	if c := req.Checkout; c != nil {
		out.SpeedPolicy = invoice.SpeedPolicy(deref(c.SpeedPolicy))
		for _, m := range c.PaymentMethods {
			out.Methods = append(out.Methods, methodAlias(m))
		}
		if c.DefaultPaymentMethod != nil {
			out.DefaultPaymentMethod = methodAlias(*c.DefaultPaymentMethod)
		}
		for _, n := range []struct {
			path string
			raw  json.RawMessage
			to   *float64
		}{{"checkout.expirationMinutes", c.ExpirationMinutes, &out.ExpirationMinutes}, {"checkout.monitoringMinutes", c.MonitoringMinutes, &out.MonitoringMinutes}} {
			num, ok := jsonNumber(n.raw)
			if !ok {
				bad(n.path, "must be a number of minutes")
				continue
			}
			if num != "" {
				f, err := strconv.ParseFloat(num, 64)
				if err != nil {
					bad(n.path, "must be a number of minutes")
					continue
				}
				*n.to = f
			}
		}
		tolerance, ok := jsonNumber(c.PaymentTolerance)
		if !ok {
			bad("checkout.paymentTolerance", "must be a percentage from 0 to 100")
		}
		out.TolerancePercent = tolerance
		out.RedirectURL = deref(c.RedirectURL)
		if c.RedirectAutomatically != nil {
			out.RedirectAutomatically = *c.RedirectAutomatically
		}
		out.DefaultLanguage = deref(c.DefaultLanguage)
	}
	if len(fields) > 0 {
		return invoice.CreateRequest{}, &invoice.ValidationError{Fields: fields}
	}
	return out, nil
}

// handleCreateInvoice is Greenfield's POST /stores/{storeId}/invoices.
func (s *Server) handleCreateInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceCreate)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, body []byte) {
		var req createInvoiceRequest
		if err := decodeGreenfield(body, &req); err != nil {
			greenfieldError(w, r, err)
			return
		}
		cr, err := req.createRequest(k.StoreID)
		if err != nil {
			greenfieldError(w, r, err)
			return
		}
		inv, err := s.cfg.Invoices.Create(r.Context(), cr)
		if err != nil {
			greenfieldError(w, r, err)
			return
		}
		// A new invoice has no payments: no need to ask the database.
		with, err := queryBool(r, "includePaymentMethods", false)
		if err != nil {
			greenfieldError(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, s.toInvoiceData(r, invoice.NewView(inv, nil), with, true))
	})
}

// answerInvoice writes an invoice as InvoiceData, with its payments.
func (s *Server) answerInvoice(w nethttp.ResponseWriter, r *nethttp.Request, inv invoice.Invoice) {
	v, err := s.cfg.Invoices.View(r.Context(), inv)
	if err != nil {
		Error(w, r, err)
		return
	}
	with, err := queryBool(r, "includePaymentMethods", false)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, s.toInvoiceData(r, v, with, true))
}

// queryBool reads a boolean query parameter.
func queryBool(r *nethttp.Request, name string, def bool) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, chengdui.Errorf(chengdui.EInvalid, "%s must be true or false", name)
	}
	return b, nil
}

// List bounds: take defaults to 100 and is at most 1000; skip walks the
// list by cursor, so it is bounded too (use ?after= to go further).
const (
	defaultTake = 100
	maxTake     = 1000
	maxSkip     = 10000
)

// invoiceFilter reads Greenfield's list query: orderId and status
// (repeatable), startDate and endDate (Unix seconds, both inclusive),
// skip, take, includeArchived, and Chengdui's cursor after (the id of the
// last invoice of the previous page).
func invoiceFilter(r *nethttp.Request, storeID string) (f invoice.Filter, skip int, err error) {
	q := r.URL.Query()
	f = invoice.Filter{StoreID: storeID, OrderIDs: q["orderId"], After: q.Get("after"), Limit: defaultTake}
	if q.Has("textSearch") {
		return f, 0, chengdui.Errorf(chengdui.EInvalid, "textSearch is not supported; filter by orderId or status")
	}
	for _, st := range q["status"] {
		switch s := invoice.Status(st); s {
		case invoice.New, invoice.Processing, invoice.Settled, invoice.Expired, invoice.Invalid:
			f.Statuses = append(f.Statuses, s)
		default:
			return f, 0, chengdui.Errorf(chengdui.EInvalid, "status must be New, Processing, Settled, Expired or Invalid")
		}
	}
	unix := func(name string) (time.Time, error) {
		s := q.Get(name)
		if s == "" {
			return time.Time{}, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return time.Time{}, chengdui.Errorf(chengdui.EInvalid, "%s must be a Unix time in seconds", name)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if f.Since, err = unix("startDate"); err != nil {
		return f, 0, err
	}
	end, err := unix("endDate")
	if err != nil {
		return f, 0, err
	}
	if !end.IsZero() {
		f.Until = end.Add(time.Second) // endDate is inclusive, to the second
	}
	count := func(name string, def, lo, hi int) (int, error) {
		s := q.Get(name)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, chengdui.Errorf(chengdui.EInvalid, "%s must be a whole number from %d to %d", name, lo, hi)
		}
		return n, nil
	}
	if f.Limit, err = count("take", defaultTake, 1, maxTake); err != nil {
		return f, 0, err
	}
	if skip, err = count("skip", 0, 0, maxSkip); err != nil {
		return f, 0, err
	}
	if f.Archived, err = queryBool(r, "includeArchived", false); err != nil {
		return f, 0, err
	}
	return f, skip, nil
}

// handleInvoices is Greenfield's GET /stores/{storeId}/invoices, newest
// first. A full page carries a Link header to the next (rel="next").
func (s *Server) handleInvoices(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	f, skip, err := invoiceFilter(r, k.StoreID)
	if err != nil {
		Error(w, r, err)
		return
	}
	withMethods, err := queryBool(r, "includePaymentMethods", false)
	if err != nil {
		Error(w, r, err)
		return
	}
	more, err := skipInvoices(r.Context(), s.cfg.Invoices, &f, skip)
	if err != nil {
		Error(w, r, err)
		return
	}
	invs := []invoice.Invoice{}
	if more {
		if invs, err = s.cfg.Invoices.List(r.Context(), f); err != nil {
			Error(w, r, err)
			return
		}
	}
	out := make([]invoiceData, 0, len(invs))
	for _, inv := range invs {
		v, err := s.cfg.Invoices.View(r.Context(), inv)
		if err != nil {
			Error(w, r, err)
			return
		}
		out = append(out, s.toInvoiceData(r, v, withMethods, true))
	}
	if len(invs) == f.Limit {
		next := *r.URL
		q := next.Query()
		q.Del("skip")
		q.Set("after", invs[len(invs)-1].ID)
		next.RawQuery = q.Encode()
		w.Header().Set("Link", "<"+next.RequestURI()+`>; rel="next"`)
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// skipInvoices moves f's cursor past skip invoices, a page at a time;
// more is false when the list ended before.
func skipInvoices(ctx context.Context, svc *invoice.Service, f *invoice.Filter, skip int) (more bool, err error) {
	page := *f
	for skip > 0 {
		page.Limit = min(skip, maxTake)
		invs, err := svc.List(ctx, page)
		if err != nil {
			return false, err
		}
		if len(invs) < page.Limit {
			return false, nil
		}
		page.After = invs[len(invs)-1].ID
		skip -= len(invs)
	}
	f.After = page.After
	return true, nil
}

// handleInvoice is Greenfield's GET /invoices/{invoiceId} (and its
// store-path twin).
func (s *Server) handleInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	inv, err := s.cfg.Invoices.Get(r.Context(), k.StoreID, r.PathValue("invoiceId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	s.answerInvoice(w, r, inv)
}

// updateInvoiceRequest is Greenfield's UpdateInvoiceRequest.
type updateInvoiceRequest struct {
	Metadata json.RawMessage `json:"metadata"`
}

// handleUpdateInvoice is Greenfield's PUT /invoices/{invoiceId}: it
// replaces the metadata.
func (s *Server) handleUpdateInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceWrite)
	if !ok {
		return
	}
	body, err := readBody(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	var req updateInvoiceRequest
	if err := decodeGreenfield(body, &req); err != nil {
		greenfieldError(w, r, err)
		return
	}
	inv, err := s.cfg.Invoices.UpdateMetadata(r.Context(), k.StoreID, r.PathValue("invoiceId"), req.Metadata)
	if err != nil {
		greenfieldError(w, r, err)
		return
	}
	s.answerInvoice(w, r, inv)
}

// handleArchiveInvoice is Greenfield's DELETE /invoices/{invoiceId}: it
// archives the invoice (200, no body).
func (s *Server) handleArchiveInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceWrite)
	if !ok {
		return
	}
	if _, err := s.cfg.Invoices.Archive(r.Context(), k.StoreID, r.PathValue("invoiceId"), true); err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(nethttp.StatusOK)
}

// handleUnarchiveInvoice is Greenfield's POST /invoices/{invoiceId}/unarchive.
func (s *Server) handleUnarchiveInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceWrite)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, _ []byte) {
		inv, err := s.cfg.Invoices.Archive(r.Context(), k.StoreID, r.PathValue("invoiceId"), false)
		if err != nil {
			Error(w, r, err)
			return
		}
		s.answerInvoice(w, r, inv)
	})
}

// markRequest is Greenfield's MarkInvoiceStatusRequest.
type markRequest struct {
	Status string `json:"status"`
}

// handleMarkInvoice is Greenfield's POST /invoices/{invoiceId}/status.
func (s *Server) handleMarkInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceWrite)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, body []byte) {
		var req markRequest
		if err := decodeGreenfield(body, &req); err != nil {
			greenfieldError(w, r, err)
			return
		}
		to := invoice.Status(req.Status)
		if to != invoice.Settled && to != invoice.Invalid {
			greenfieldError(w, r, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "status", Message: "must be Settled or Invalid"}}})
			return
		}
		inv, err := s.cfg.Invoices.Mark(r.Context(), k.StoreID, r.PathValue("invoiceId"), to)
		if err != nil {
			greenfieldError(w, r, err)
			return
		}
		s.answerInvoice(w, r, inv)
	})
}

// handleInvoicePaymentMethods is Greenfield's GET
// /invoices/{invoiceId}/payment-methods.
func (s *Server) handleInvoicePaymentMethods(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopeInvoiceRead)
	if !ok {
		return
	}
	accounted, err := queryBool(r, "onlyAccountedPayments", true)
	if err != nil {
		Error(w, r, err)
		return
	}
	if sensitive, err := queryBool(r, "includeSensitive", false); err != nil || sensitive {
		if err == nil {
			err = chengdui.Errorf(codeForbidden, "includeSensitive is not available: Chengdui never shows account keys")
		}
		Error(w, r, err)
		return
	}
	inv, err := s.cfg.Invoices.Get(r.Context(), k.StoreID, r.PathValue("invoiceId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	v, err := s.cfg.Invoices.View(r.Context(), inv)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, toPaymentMethods(v, accounted))
}

// handleRefundInvoice is Greenfield's POST /invoices/{invoiceId}/refund:
// the refund as a pull payment (see createRefund in refunds.go), or 501
// when the server has no refund service. The invoice must be the store's.
func (s *Server) handleRefundInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, body []byte) {
		if s.cfg.Refunds != nil {
			s.createRefund(w, r, k, body)
			return
		}
		if _, err := s.cfg.Invoices.Get(r.Context(), k.StoreID, r.PathValue("invoiceId")); err != nil {
			Error(w, r, err)
			return
		}
		Error(w, r, chengdui.Errorf(codeNotImplemented, "refunds are not configured on this server"))
	})
}

// opaque hides an internal id (one naming a payer) behind a stable digest.
func opaque(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	return prefix + hex.EncodeToString(sum[:12])
}
