package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"strings"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"
)

// invoiceRoutes adds the merchant API: native invoices, Greenfield
// invoices and webhooks, the OpenAPI document.
//
// Greenfield routes authenticate with a store API key ("Authorization:
// token KEY" or "Bearer KEY"). Each route exists twice: under
// /api/v1/stores/{storeId}/…, where {storeId} must be the key's store
// (403 "forbidden" otherwise), and under BTCPay's newer store-less paths,
// where the key's store is used and another store's invoice or webhook is
// answered 404, as one that does not exist. Every POST takes an optional
// Idempotency-Key (see idempotent).
func (s *Server) invoiceRoutes(mux *nethttp.ServeMux) {
	mux.HandleFunc("GET /api/openapi.yaml", s.handleOpenAPI)
	if s.cfg.Wallets != nil {
		mux.HandleFunc("POST /api/v1/invoices/{invoiceId}/pay", s.handlePayInvoice)
	}
	if s.cfg.Merchants == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/stores/{storeId}/invoices", s.handleCreateInvoice)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/invoices", s.handleInvoices)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/invoices/{invoiceId}", s.handleInvoice)
	mux.HandleFunc("PUT /api/v1/stores/{storeId}/invoices/{invoiceId}", s.handleUpdateInvoice)
	mux.HandleFunc("DELETE /api/v1/stores/{storeId}/invoices/{invoiceId}", s.handleArchiveInvoice)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods", s.handleInvoicePaymentMethods)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status", s.handleMarkInvoice)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/invoices/{invoiceId}/unarchive", s.handleUnarchiveInvoice)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/invoices/{invoiceId}/refund", s.handleRefundInvoice)
	mux.HandleFunc("GET /api/v1/invoices/{invoiceId}", s.handleInvoice)
	mux.HandleFunc("PUT /api/v1/invoices/{invoiceId}", s.handleUpdateInvoice)
	mux.HandleFunc("DELETE /api/v1/invoices/{invoiceId}", s.handleArchiveInvoice)
	mux.HandleFunc("GET /api/v1/invoices/{invoiceId}/payment-methods", s.handleInvoicePaymentMethods)
	mux.HandleFunc("POST /api/v1/invoices/{invoiceId}/status", s.handleMarkInvoice)
	mux.HandleFunc("POST /api/v1/invoices/{invoiceId}/unarchive", s.handleUnarchiveInvoice)
	mux.HandleFunc("POST /api/v1/invoices/{invoiceId}/refund", s.handleRefundInvoice)
	s.statementRoutes(mux)  // http/statements.go
	s.payoutRoutes(mux)     // http/payouts.go
	s.settlementRoutes(mux) // http/settlement.go
	if s.cfg.Webhooks == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/stores/{storeId}/webhooks", s.handleWebhooks)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/webhooks", s.handleCreateWebhook)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/webhooks/{webhookId}", s.handleWebhook)
	mux.HandleFunc("PUT /api/v1/stores/{storeId}/webhooks/{webhookId}", s.handleUpdateWebhook)
	mux.HandleFunc("DELETE /api/v1/stores/{storeId}/webhooks/{webhookId}", s.handleDeleteWebhook)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries", s.handleDeliveries)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}", s.handleDelivery)
	mux.HandleFunc("GET /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/request", s.handleDeliveryRequest)
	mux.HandleFunc("POST /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", s.handleRedeliver)
	mux.HandleFunc("GET /api/v1/webhooks/{webhookId}", s.handleWebhook)
	mux.HandleFunc("PUT /api/v1/webhooks/{webhookId}", s.handleUpdateWebhook)
	mux.HandleFunc("DELETE /api/v1/webhooks/{webhookId}", s.handleDeleteWebhook)
	mux.HandleFunc("GET /api/v1/webhooks/{webhookId}/deliveries", s.handleDeliveries)
	mux.HandleFunc("GET /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}", s.handleDelivery)
	mux.HandleFunc("GET /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/request", s.handleDeliveryRequest)
	mux.HandleFunc("POST /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", s.handleRedeliver)
}

// Error codes of the merchant API that have no counterpart in the domain.
// error.go maps them to their statuses.
const (
	// codeForbidden: authenticated, but the key belongs to another store
	// or lacks the route's permission (403).
	codeForbidden = "forbidden"
	// codeTooLarge: the request body exceeds maxBody (413).
	codeTooLarge = "too_large"
	// codeNotImplemented: the route exists in Greenfield but not yet here
	// (501).
	codeNotImplemented = "not_implemented"
)

// greenfieldPermission names a scope as Greenfield does, for messages.
var greenfieldPermission = map[auth.Scope]string{
	auth.ScopeInvoiceCreate: "btcpay.store.cancreateinvoice",
	auth.ScopeInvoiceRead:   "btcpay.store.canviewinvoices",
	auth.ScopeInvoiceWrite:  "btcpay.store.canmodifyinvoices",
	auth.ScopeWebhookManage: "btcpay.store.webhooks.canmodifywebhooks",
	auth.ScopePayoutCreate:  "btcpay.store.cancreatepullpayments",
}

// apiKey authenticates the request's store API key and checks that it
// belongs to the route's {storeId}, if the route has one, and grants need.
// It answers 401 (no key, or a bad one) or 403 itself and reports false.
func (s *Server) apiKey(w nethttp.ResponseWriter, r *nethttp.Request, need auth.Scope) (chengdui.APIKey, bool) {
	k, err := s.cfg.Merchants.AuthenticateAPIKey(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EUnauthorized {
			w.Header().Set("WWW-Authenticate", `token realm="chengdui"`)
		}
		Error(w, r, err)
		return chengdui.APIKey{}, false
	}
	if st := r.PathValue("storeId"); st != "" && st != k.StoreID {
		Error(w, r, chengdui.Errorf(codeForbidden, "this API key belongs to another store"))
		return chengdui.APIKey{}, false
	}
	scopes := make(auth.Scopes, len(k.Scopes))
	for i, sc := range k.Scopes {
		scopes[i] = auth.Scope(sc)
	}
	if !scopes.Allows(need) {
		Error(w, r, chengdui.Errorf(codeForbidden, "this API key lacks the permission %s (%s)", greenfieldPermission[need], need))
		return chengdui.APIKey{}, false
	}
	return k, true
}

// readBody reads a request body of at most maxBody bytes. Codes:
// codeTooLarge.
func readBody(r *nethttp.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "request body could not be read")
	}
	if len(b) > maxBody {
		return nil, chengdui.Errorf(codeTooLarge, "request body is larger than %d KiB", maxBody>>10)
	}
	return b, nil
}

// decodeGreenfield reads one JSON object into v, refusing unknown fields
// (Greenfield's schemas forbid them) and trailing data. A value of the
// wrong JSON type is a *invoice.ValidationError naming its path; other
// problems are EInvalid.
func decodeGreenfield(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return &invoice.ValidationError{Fields: []invoice.FieldError{{Field: typ.Field, Message: "must be " + jsonKind(typ.Type.Kind().String())}}}
		}
		return chengdui.Errorf(chengdui.EInvalid, "request body: %s", jsonProblem(err))
	}
	if dec.More() {
		return chengdui.Errorf(chengdui.EInvalid, "request body: one JSON object expected")
	}
	return nil
}

// jsonKind names a Go kind as the JSON type a client should send.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice" || kind == "array":
		return "an array"
	case kind == "struct" || kind == "map":
		return "an object"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	}
	return "of another type"
}

// asValidation returns err's *invoice.ValidationError, or nil.
func asValidation(err error) *invoice.ValidationError {
	var ve *invoice.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

// greenfieldError answers a Greenfield route's error: a validation error
// as BTCPay does, 422 with Greenfield's ValidationProblemDetails (a JSON
// array of {"path","message"}); anything else as Error does, with
// ProblemDetails ({"code","message"}).
func greenfieldError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	if ve := asValidation(err); ve != nil {
		writeJSON(w, nethttp.StatusUnprocessableEntity, ve.Fields)
		return
	}
	Error(w, r, err)
}

// fieldsErrorJSON is a native route's validation error: the usual error
// body with the fields at fault.
type fieldsErrorJSON struct {
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  []invoice.FieldError `json:"fields"`
}

// nativeError answers a native route's error: a validation error is 400
// {"code":"invalid","message","fields":[{"path","message"}]}, as every
// "invalid" of the native API is 400; anything else as Error does.
func nativeError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	if ve := asValidation(err); ve != nil {
		writeJSON(w, nethttp.StatusBadRequest, fieldsErrorJSON{Code: chengdui.EInvalid, Message: ve.Error(), Fields: ve.Fields})
		return
	}
	Error(w, r, err)
}

// clipped shortens a client's string before it goes into a message.
func clipped(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// payerInvoiceJSON is an invoice as its payer sees it after paying: no
// metadata (the merchant's), amounts in whole units of the currency.
type payerInvoiceJSON struct {
	ID               string             `json:"id"`
	Status           invoice.Status     `json:"status"`
	AdditionalStatus invoice.Additional `json:"additional_status"`
	Currency         string             `json:"currency"`
	Amount           string             `json:"amount"`
	PaidAmount       string             `json:"paid_amount"`
	ExpiresAt        time.Time          `json:"expires_at"`
	CheckoutLink     string             `json:"checkout_link"`
	RedirectURL      string             `json:"redirect_url,omitempty"`
}

// payRequest is the body of POST /api/v1/invoices/{invoiceId}/pay.
type payRequest struct {
	Asset string `json:"asset"`
}

// handlePayInvoice pays what is left of an invoice from the signed-in
// user's balance of an asset. A retry pays nothing more and answers the
// invoice.
func (s *Server) handlePayInvoice(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	s.idempotent(w, r, "user:"+u.ID, func(w nethttp.ResponseWriter, body []byte) {
		var req payRequest
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decodeJSON(r, &req); err != nil {
			nativeError(w, r, err)
			return
		}
		if strings.TrimSpace(req.Asset) == "" {
			nativeError(w, r, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "asset", Message: "is required, e.g. USDT-ERC20"}}})
			return
		}
		inv, err := s.cfg.Invoices.PayFromBalance(r.Context(), u.ID, r.PathValue("invoiceId"), req.Asset)
		if err != nil {
			nativeError(w, r, err)
			return
		}
		v, err := s.cfg.Invoices.View(r.Context(), inv)
		if err != nil {
			Error(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, payerInvoiceJSON{ID: inv.ID, Status: inv.Status, AdditionalStatus: inv.Additional,
			Currency: inv.Currency, Amount: chengdui.FormatDecimal(inv.Amount, inv.Decimals), PaidAmount: chengdui.FormatDecimal(v.Paid, inv.Decimals),
			ExpiresAt: inv.ExpiresAt, CheckoutLink: s.checkoutLink(r, inv.ID), RedirectURL: inv.Checkout.RedirectURL})
	})
}
