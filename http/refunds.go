package http

import (
	"bytes"
	"context"
	"encoding/json"
	nethttp "net/http"
	"net/url"
	"strings"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"
	"chengdui/refund"
)

// Refunds: Greenfield's invoice refund (greenfield.go's
// handleRefundInvoice) answers a pull payment whose viewLink is the
// refund's page, /refunds/{refundId}: the payer takes the refund to their
// platform balance (logged in) or gives an outside address. The same
// claim has a JSON route; merchants read, list and cancel their refunds.

// Refunds is the refund service (chengdui/refund.Service).
type Refunds interface {
	Create(ctx context.Context, req refund.CreateRequest) (refund.Refund, error)
	Get(ctx context.Context, storeID, id string) (refund.Refund, error)
	Refund(ctx context.Context, id string) (refund.Refund, error)
	List(ctx context.Context, f refund.Filter) ([]refund.Refund, error)
	ClaimToBalance(ctx context.Context, id, userID string) (refund.Refund, error)
	ClaimToAddress(ctx context.Context, id, address string) (refund.Refund, error)
	Cancel(ctx context.Context, storeID, id string) (refund.Refund, error)
}

// refundRoutes adds the refund page and claims, and with Merchants a
// store's refunds (API key with payout:create, Greenfield's
// btcpay.store.cancreatepullpayments).
func (s *Server) refundRoutes(mux *nethttp.ServeMux) {
	if s.cfg.Refunds == nil {
		return
	}
	mux.HandleFunc("GET /refunds/{refundId}", s.handleRefundPage)
	mux.HandleFunc("POST /refunds/{refundId}/claim", s.handleRefundClaimForm)
	mux.HandleFunc("GET /api/v1/refunds/{refundId}", s.handlePublicRefund)
	mux.HandleFunc("POST /api/v1/refunds/{refundId}/claim", s.handleRefundClaim)
	if s.cfg.Merchants == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/stores/{storeId}/refunds", s.handleRefunds)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/refunds/{refundId}", s.handleRefund)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/refunds/{refundId}/cancel", s.handleCancelRefund)
}

// refundError answers a refund error: the refund package's own code is
// 422 (a refund that would pass what the invoice was paid), as the ledger's
// balance refusals are.
func refundError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	if chengdui.ErrorCode(err) == refund.EExceedsPaid {
		writeJSON(w, nethttp.StatusUnprocessableEntity, errorJSON{Code: refund.EExceedsPaid, Message: chengdui.ErrorMessage(err)})
		return
	}
	greenfieldError(w, r, err)
}

// refundJSON is a refund as Greenfield's PullPaymentData, with Chengdui's
// fields after. Amount is in whole units of Currency: the asset paid back,
// or for a Fiat refund not claimed yet the invoice's currency.
type refundJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	Currency          string `json:"currency"`
	Amount            string `json:"amount"`
	BOLT11Expiration  string `json:"BOLT11Expiration"`
	AutoApproveClaims bool   `json:"autoApproveClaims"`
	Archived          bool   `json:"archived"`
	ViewLink          string `json:"viewLink"`

	InvoiceID string         `json:"invoiceId"`
	Variant   refund.Variant `json:"refundVariant"`
	State     refund.State   `json:"state"`
	// Asset and AssetAmount: what is paid back (AssetAmount "" until a
	// Fiat refund is claimed); FiatCurrency and FiatAmount a Fiat
	// refund's amount in the invoice's currency.
	Asset        string `json:"asset"`
	AssetAmount  string `json:"assetAmount"`
	FiatCurrency string `json:"fiatCurrency,omitempty"`
	FiatAmount   string `json:"fiatAmount,omitempty"`
	Claim        string `json:"claim,omitempty"`
	Address      string `json:"address,omitempty"`
	TxID         string `json:"txid,omitempty"`
	Reason       string `json:"reason,omitempty"`
	CreatedTime  int64  `json:"createdTime"`
	UpdatedTime  int64  `json:"updatedTime"`
}

// refundLink is a refund's public page.
func (s *Server) refundLink(r *nethttp.Request, id string) string {
	return s.checkoutBase(r) + "/refunds/" + url.PathEscape(id)
}

func (s *Server) toRefundJSON(r *nethttp.Request, rf refund.Refund, decimals map[string]uint8) refundJSON {
	format := func(a chengdui.Amount, asset string) string {
		if d, ok := decimals[asset]; ok {
			return chengdui.FormatDecimal(a, d)
		}
		return a.String()
	}
	out := refundJSON{ID: rf.ID, Name: rf.Name, Description: rf.Description, BOLT11Expiration: "30", AutoApproveClaims: true,
		Archived: rf.State == refund.Cancelled, ViewLink: s.refundLink(r, rf.ID), InvoiceID: rf.InvoiceID, Variant: rf.Variant,
		State: rf.State, Asset: rf.Asset, Claim: rf.Claim, Address: rf.ClaimAddress, TxID: rf.TxID, Reason: rf.Reason,
		CreatedTime: rf.CreatedAt.Unix(), UpdatedTime: rf.UpdatedAt.Unix()}
	if rf.Variant == refund.Fiat && !rf.FiatAmount.IsZero() {
		out.FiatCurrency, out.FiatAmount = rf.Currency, format(rf.FiatAmount, rf.Currency)
	}
	if rf.Converted() {
		out.Currency, out.Amount, out.AssetAmount = rf.Asset, format(rf.Amount, rf.Asset), format(rf.Amount, rf.Asset)
	} else {
		out.Currency, out.Amount = rf.Currency, format(rf.FiatAmount, rf.Currency)
	}
	return out
}

// refundInvoiceRequest is Greenfield's RefundInvoiceRequest, with the
// deprecated single paymentMethod BTCPay still accepts.
type refundInvoiceRequest struct {
	Name               *string         `json:"name"`
	Description        *string         `json:"description"`
	PayoutMethods      []string        `json:"payoutMethods"`
	PaymentMethod      *string         `json:"paymentMethod"`
	RefundVariant      *string         `json:"refundVariant"`
	SubtractPercentage json.RawMessage `json:"subtractPercentage"`
	CustomAmount       json.RawMessage `json:"customAmount"`
	CustomCurrency     *string         `json:"customCurrency"`
}

// createRequest checks what the service cannot see (JSON types, the
// required variant) and builds the service's request.
func (req refundInvoiceRequest) createRequest(k chengdui.APIKey, invoiceID, clientID string) (refund.CreateRequest, error) {
	out := refund.CreateRequest{ID: clientID, StoreID: k.StoreID, InvoiceID: invoiceID, Name: deref(req.Name), Description: deref(req.Description),
		PayoutMethods: req.PayoutMethods, CustomCurrency: deref(req.CustomCurrency), CreatedBy: "api-key-" + k.ID}
	var fields []invoice.FieldError
	if req.RefundVariant == nil || *req.RefundVariant == "" {
		fields = append(fields, invoice.FieldError{Field: "refundVariant", Message: "is required: RateThen, CurrentRate, OverpaidAmount, Fiat or Custom"})
	} else {
		out.Variant = refund.Variant(*req.RefundVariant)
	}
	if len(out.PayoutMethods) == 0 && req.PaymentMethod != nil && *req.PaymentMethod != "" {
		out.PayoutMethods = []string{*req.PaymentMethod}
	}
	for _, n := range []struct {
		path string
		raw  json.RawMessage
		to   *string
	}{{"subtractPercentage", req.SubtractPercentage, &out.SubtractPercentage}, {"customAmount", req.CustomAmount, &out.CustomAmount}} {
		v := strings.TrimSpace(string(n.raw))
		if v != "" && v[0] == '"' {
			if err := json.Unmarshal(n.raw, n.to); err != nil {
				fields = append(fields, invoice.FieldError{Field: n.path, Message: "must be a decimal string"})
			}
			continue
		}
		num, ok := jsonNumber(n.raw)
		if !ok {
			fields = append(fields, invoice.FieldError{Field: n.path, Message: "must be a decimal string"})
		}
		*n.to = num
	}
	if len(fields) > 0 {
		return refund.CreateRequest{}, &invoice.ValidationError{Fields: fields}
	}
	return out, nil
}

// createRefund serves Greenfield's POST /invoices/{invoiceId}/refund once
// the refund service is configured: the refund as PullPaymentData (200).
// The Idempotency-Key, if any, is also the refund's client id.
func (s *Server) createRefund(w nethttp.ResponseWriter, r *nethttp.Request, k chengdui.APIKey, body []byte) {
	var req refundInvoiceRequest
	if err := decodeGreenfield(body, &req); err != nil {
		greenfieldError(w, r, err)
		return
	}
	cr, err := req.createRequest(k, r.PathValue("invoiceId"), r.Header.Get("Idempotency-Key"))
	if err != nil {
		greenfieldError(w, r, err)
		return
	}
	rf, err := s.cfg.Refunds.Create(r.Context(), cr)
	if err != nil {
		refundError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, s.toRefundJSON(r, rf, s.payoutDecimals(r.Context())))
}

// handleRefunds lists a store's refunds, oldest first;
// ?invoiceId=&after=ID&limit=N.
func (s *Server) handleRefunds(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	limit, err := parseLimit(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	q := r.URL.Query()
	rs, err := s.cfg.Refunds.List(r.Context(), refund.Filter{StoreID: k.StoreID, InvoiceID: q.Get("invoiceId"), After: q.Get("after"), Limit: limit})
	if err != nil {
		Error(w, r, err)
		return
	}
	out := page[refundJSON]{Data: []refundJSON{}}
	decimals := s.payoutDecimals(r.Context())
	for _, rf := range rs {
		out.Data = append(out.Data, s.toRefundJSON(r, rf, decimals))
	}
	if len(rs) == limit {
		out.Next = rs[len(rs)-1].ID
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// handleRefund answers one of the store's refunds; another store's is 404.
func (s *Server) handleRefund(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	rf, err := s.cfg.Refunds.Get(r.Context(), k.StoreID, r.PathValue("refundId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, s.toRefundJSON(r, rf, s.payoutDecimals(r.Context())))
}

// handleCancelRefund takes an unclaimed refund back into the store's
// balance: 409 conflict once it is claimed.
func (s *Server) handleCancelRefund(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.apiKey(w, r, auth.ScopePayoutCreate)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, _ []byte) {
		rf, err := s.cfg.Refunds.Cancel(r.Context(), k.StoreID, r.PathValue("refundId"))
		if err != nil {
			Error(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, s.toRefundJSON(r, rf, s.payoutDecimals(r.Context())))
	})
}

// handlePublicRefund answers a refund to whoever has its link (the link is
// the payer's: the id is unguessable).
func (s *Server) handlePublicRefund(w nethttp.ResponseWriter, r *nethttp.Request) {
	rf, err := s.cfg.Refunds.Refund(r.Context(), r.PathValue("refundId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusOK, s.toRefundJSON(r, rf, s.payoutDecimals(r.Context())))
}

// claimRequest is the JSON claim: an outside address, or toBalance with
// the payer's session (Authorization: Bearer).
type claimRequest struct {
	Address   string `json:"address"`
	ToBalance bool   `json:"toBalance"`
}

// handleRefundClaim claims a refund: 200 with the refund (InProgress to an
// address, Completed to a balance); 409 when it is claimed or cancelled
// already; 401 toBalance without a session; 400 a bad address.
func (s *Server) handleRefundClaim(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.idempotent(w, r, "refund:"+r.PathValue("refundId"), func(w nethttp.ResponseWriter, body []byte) {
		var req claimRequest
		if err := decodeGreenfield(body, &req); err != nil {
			nativeError(w, r, err)
			return
		}
		var rf refund.Refund
		var err error
		switch {
		case req.ToBalance && req.Address != "":
			err = chengdui.Errorf(chengdui.EInvalid, "give an address or toBalance, not both")
		case req.ToBalance:
			if s.cfg.Wallets == nil {
				err = chengdui.Errorf(chengdui.EUnavailable, "this server has no platform balances: give an address")
				break
			}
			u, ok := s.user(w, r)
			if !ok {
				return
			}
			rf, err = s.cfg.Refunds.ClaimToBalance(r.Context(), r.PathValue("refundId"), u.ID)
		case req.Address != "":
			rf, err = s.cfg.Refunds.ClaimToAddress(r.Context(), r.PathValue("refundId"), req.Address)
		default:
			err = &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "address", Message: "give an address, or toBalance with your session"}}}
		}
		if err != nil {
			if chengdui.ErrorCode(err) == refund.EExceedsPaid {
				refundError(w, r, err)
				return
			}
			nativeError(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, s.toRefundJSON(r, rf, s.payoutDecimals(r.Context())))
	})
}

// rfMessages are the refund page's strings, in the checkout's languages.
var rfMessages = map[string]coText{
	"title":          {"Refund", "退款"},
	"store":          {"Store", "商户"},
	"invoice":        {"Invoice %[1]s", "账单 %[1]s"},
	"amount":         {"Amount", "金额"},
	"fiat":           {"%[1]s %[2]s, paid in %[3]s at the rate when you claim it", "%[1]s %[2]s，领取时按当时汇率以 %[3]s 支付"},
	"status":         {"Status", "状态"},
	"AwaitingClaim":  {"Ready to claim", "待领取"},
	"InProgress":     {"Being sent", "发送中"},
	"Completed":      {"Refunded", "已退款"},
	"Cancelled":      {"Cancelled by the store", "商户已取消"},
	"claim.intro":    {"Choose where the refund goes.", "请选择退款去向。"},
	"balance":        {"To my Chengdui balance", "退到我的承兑账户余额"},
	"balance.user":   {"Logged in as %[1]s", "当前登录：%[1]s"},
	"balance.take":   {"Take it to my balance", "退到我的余额"},
	"balance.login":  {"Log in to take it to your balance", "登录后退到余额"},
	"address":        {"To an address of my own", "退到我自己的地址"},
	"address.label":  {"Your %[1]s address", "您的 %[1]s 地址"},
	"address.send":   {"Send it to this address", "发送到此地址"},
	"address.warn":   {"Check the address: a payment on chain cannot be undone.", "请核对地址：链上转账无法撤回。"},
	"done.balance":   {"The refund is in your balance.", "退款已存入您的余额。"},
	"done.address":   {"The refund was sent to %[1]s.", "退款已发送至 %[1]s。"},
	"sending":        {"The refund is being sent to %[1]s. This page shows when it arrives.", "退款正在发送至 %[1]s，到账后本页面会更新。"},
	"txid":           {"Transaction", "交易"},
	"cancelled":      {"The store cancelled this refund. Contact the store.", "商户已取消此退款，请联系商户。"},
	"retry":          {"The last transfer failed (%[1]s): claim it again.", "上次转账失败（%[1]s），请重新领取。"},
	"language":       {"Language", "语言"},
	"notfound.title": {"Refund not found", "找不到该退款"},
	"err.csrf":       {"This form expired. Reload the page and try again.", "表单已过期，请刷新页面后重试。"},
	"err.login":      {"Log in to take the refund to your balance.", "请先登录再退到余额。"},
	"err.address":    {"That address cannot receive this refund. Nothing was sent.", "该地址无法接收此退款，未发送。"},
	"err.claimed":    {"This refund was claimed or cancelled already.", "此退款已被领取或已取消。"},
	"err.exceeds":    {"At today's rate this refund is more than was paid. Nothing was sent; contact the store.", "按当前汇率此退款超过实付金额，未发送，请联系商户。"},
	"err.internal":   {"Something went wrong and nothing was sent. Try again in a moment.", "出现错误，未发送。请稍后重试。"},
}

// rfLang is a refund page language: the checkout's languages with the
// refund's messages.
type rfLang struct{ coLang }

// T returns a message in the language; an unknown key fails the render.
func (l rfLang) T(key string) (string, error) {
	return message(rfMessages, "refund page", l.coLang, key)
}

// F formats a message in the language.
func (l rfLang) F(key string, args ...any) (string, error) {
	return formatMessage(rfMessages, "refund page", l.coLang, key, args)
}

func (l rfLang) t(key string, args ...any) string {
	return mustMessage(rfMessages, "refund page", l.coLang, key, args)
}

// rfPage is the refund template's data. It has the fields checkout-head
// reads (L, Lang, Nonce, StoreName, Status, AutoRedirect, RedirectURL).
type rfPage struct {
	L            rfLang
	Lang         coLang
	Nonce        string
	StoreName    string
	Status       refund.State
	AutoRedirect bool
	RedirectURL  string

	ID, InvoiceID string
	Name          string
	Description   string
	Amount, Unit  string
	Fiat          string // a Fiat refund not claimed yet, in words
	StatusText    string
	Claimable     bool
	Balance       bool // the server has balances
	LoggedIn      bool
	UserEmail     string
	CSRF          string
	Address       string // the address given (form value, or the claim's)
	TxID          string
	Claim         string
	Retry         string
	Error         string
	LangLinks     []coTab
	NotFound      bool
}

// rfLangOf picks the page language: ?lang= (or the form's), else the
// browser's.
func rfLangOf(r *nethttp.Request) coLang { return checkoutLang(r, nil) }

// handleRefundPage renders a refund's page.
func (s *Server) handleRefundPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.rfShow(w, r, nethttp.StatusOK, "", "")
}

// rfShow renders the page, with a refusal's message when errKey is set.
func (s *Server) rfShow(w nethttp.ResponseWriter, r *nethttp.Request, status int, errKey, address string) {
	ctx := r.Context()
	lang := rfLangOf(r)
	l := rfLang{lang}
	rf, err := s.cfg.Refunds.Refund(ctx, r.PathValue("refundId"))
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		s.rfRender(w, r, nethttp.StatusNotFound, rfPage{L: l, Lang: lang, NotFound: true})
		return
	} else if err != nil {
		s.pageError(w, r, err)
		return
	}
	decimals := s.payoutDecimals(ctx)
	j := s.toRefundJSON(r, rf, decimals)
	p := rfPage{L: l, Lang: lang, StoreName: s.coStoreName(ctx, rf.StoreID), Status: rf.State, ID: rf.ID, InvoiceID: rf.InvoiceID,
		Name: rf.Name, Description: rf.Description, Amount: j.Amount, Unit: coUnit(j.Currency), StatusText: l.t(string(rf.State)),
		Claimable: rf.State == refund.AwaitingClaim, Balance: s.cfg.Wallets != nil, Address: address, TxID: rf.TxID, Claim: rf.Claim}
	if !rf.Converted() {
		p.Fiat = l.t("fiat", j.FiatAmount, rf.Currency, coUnit(rf.Asset))
	}
	if p.Address == "" {
		p.Address = rf.ClaimAddress
	}
	if rf.State == refund.AwaitingClaim && rf.Reason != "" {
		p.Retry = l.t("retry", rf.Reason)
	}
	if p.Claimable {
		p.CSRF = s.csrf(w, r)
		if u := s.coUser(r); u != nil {
			p.LoggedIn, p.UserEmail = true, u.Email
		}
	}
	for _, other := range []struct {
		lang  coLang
		label string
	}{{coEN, "English"}, {coZH, "简体中文"}} {
		p.LangLinks = append(p.LangLinks, coTab{Label: other.label, Href: "/refunds/" + url.PathEscape(rf.ID) + "?lang=" + string(other.lang),
			Current: other.lang == lang, Lang: other.lang})
	}
	if errKey != "" {
		p.Error = l.t(errKey)
	}
	s.rfRender(w, r, status, p)
}

// rfRender writes the refund page with the checkout's security headers
// (coRender's): only this response's inline style runs, no script, and
// the page may not be framed.
func (s *Server) rfRender(w nethttp.ResponseWriter, r *nethttp.Request, status int, p rfPage) {
	p.Nonce = coNonce()
	var buf bytes.Buffer
	if err := s.index.ExecuteTemplate(&buf, "refund.html", p); err != nil {
		s.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// handleRefundClaimForm claims a refund from its page: to the logged-in
// visitor's balance (to=balance) or to the form's address, then shows the
// page again, updated or with why nothing was sent.
func (s *Server) handleRefundClaimForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxBody)
	id := r.PathValue("refundId")
	address := strings.TrimSpace(r.PostFormValue("address"))
	if !s.checkCSRF(r) {
		s.rfShow(w, r, nethttp.StatusForbidden, "err.csrf", address)
		return
	}
	var err error
	if r.PostFormValue("to") == "balance" {
		user := s.coUser(r)
		if user == nil {
			s.rfShow(w, r, nethttp.StatusUnauthorized, "err.login", "")
			return
		}
		_, err = s.cfg.Refunds.ClaimToBalance(ctx, id, user.ID)
	} else {
		_, err = s.cfg.Refunds.ClaimToAddress(ctx, id, address)
	}
	if err == nil {
		nethttp.Redirect(w, r, "/refunds/"+url.PathEscape(id)+"?lang="+string(rfLangOf(r)), nethttp.StatusSeeOther)
		return
	}
	status, _ := resolveError(r, err)
	switch chengdui.ErrorCode(err) {
	case chengdui.ENotFound:
		s.rfShow(w, r, nethttp.StatusNotFound, "", "")
	case chengdui.EInvalid:
		s.rfShow(w, r, status, "err.address", address)
	case chengdui.EConflict:
		s.rfShow(w, r, status, "err.claimed", "")
	case refund.EExceedsPaid:
		s.rfShow(w, r, nethttp.StatusUnprocessableEntity, "err.exceeds", "")
	default:
		s.rfShow(w, r, status, "err.internal", address)
	}
}
