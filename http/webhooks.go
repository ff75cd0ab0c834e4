package http

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"strconv"
	"strings"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"
	"chengdui/webhook"
)

// Webhooks is the webhook service the merchant API needs
// (chengdui/webhook.Service).
type Webhooks interface {
	// Create adds a webhook to a store, generating its ID and Secret when
	// empty. Codes: EInvalid (URL, events, secret).
	Create(ctx context.Context, storeID string, w webhook.Webhook) (webhook.Webhook, error)
	// Get returns a store's webhook. Codes: ENotFound.
	Get(ctx context.Context, storeID, id string) (webhook.Webhook, error)
	// List returns a store's webhooks, oldest first.
	List(ctx context.Context, storeID string) ([]webhook.Webhook, error)
	// Update replaces a webhook's settings; an empty Secret keeps the old
	// one. Codes: ENotFound, EInvalid.
	Update(ctx context.Context, storeID, id string, w webhook.Webhook) (webhook.Webhook, error)
	// Delete removes a webhook and its deliveries. Codes: ENotFound.
	Delete(ctx context.Context, storeID, id string) error
	// Deliveries lists a webhook's deliveries, newest first (limit 0:
	// the service's default). Codes: ENotFound.
	Deliveries(ctx context.Context, storeID, webhookID string, limit int) ([]webhook.Delivery, error)
	// Delivery returns one delivery. Codes: ENotFound.
	Delivery(ctx context.Context, storeID, webhookID, deliveryID string) (webhook.Delivery, error)
	// Redeliver sends a delivery's event again as a new delivery.
	// Codes: ENotFound.
	Redeliver(ctx context.Context, storeID, webhookID, deliveryID string) (webhook.Delivery, error)
}

// webhookAuthorizedEvents is Greenfield's authorizedEvents.
type webhookAuthorizedEvents struct {
	Everything     bool     `json:"everything"`
	SpecificEvents []string `json:"specificEvents"`
}

// webhookData is Greenfield's WebhookData; Secret is set only in the
// creation answer (WebhookDataCreateResult), the one time it is shown.
type webhookData struct {
	ID                  string                  `json:"id"`
	Enabled             bool                    `json:"enabled"`
	AutomaticRedelivery bool                    `json:"automaticRedelivery"`
	URL                 string                  `json:"url"`
	AuthorizedEvents    webhookAuthorizedEvents `json:"authorizedEvents"`
	Secret              string                  `json:"secret,omitempty"`
}

func toWebhookData(w webhook.Webhook) webhookData {
	specific := w.Events.Specific
	if specific == nil {
		specific = []string{}
	}
	return webhookData{ID: w.ID, Enabled: w.Enabled, AutomaticRedelivery: w.AutomaticRedelivery, URL: w.URL,
		AuthorizedEvents: webhookAuthorizedEvents{Everything: w.Events.Everything, SpecificEvents: specific}}
}

// webhookRequest is Greenfield's WebhookDataCreate and WebhookDataUpdate.
// Omitted flags take Greenfield's defaults (true).
type webhookRequest struct {
	Enabled             *bool   `json:"enabled"`
	AutomaticRedelivery *bool   `json:"automaticRedelivery"`
	URL                 *string `json:"url"`
	AuthorizedEvents    *struct {
		Everything     *bool    `json:"everything"`
		SpecificEvents []string `json:"specificEvents"`
	} `json:"authorizedEvents"`
	Secret *string `json:"secret"`
}

// maxWebhookSecret mirrors the webhook service's bound, so that the answer
// names the field.
const maxWebhookSecret = 1024

// webhook checks a request and builds the webhook it asks for. everything
// defaults to true only when no specific events are named: a client that
// lists events wants those (BTCPay would send it everything).
func (req webhookRequest) webhook() (webhook.Webhook, error) {
	var fields []invoice.FieldError
	bad := func(path, msg string) { fields = append(fields, invoice.FieldError{Field: path, Message: msg}) }
	w := webhook.Webhook{Enabled: true, AutomaticRedelivery: true, Events: webhook.Events{Everything: true}}
	if req.Enabled != nil {
		w.Enabled = *req.Enabled
	}
	if req.AutomaticRedelivery != nil {
		w.AutomaticRedelivery = *req.AutomaticRedelivery
	}
	if req.URL == nil || strings.TrimSpace(*req.URL) == "" {
		bad("url", "is required")
	} else {
		w.URL = strings.TrimSpace(*req.URL)
	}
	if req.Secret != nil {
		w.Secret = *req.Secret
		if len(w.Secret) > maxWebhookSecret {
			bad("secret", "must be at most "+strconv.Itoa(maxWebhookSecret)+" bytes")
		}
	}
	if ev := req.AuthorizedEvents; ev != nil {
		w.Events.Specific = ev.SpecificEvents
		w.Events.Everything = len(ev.SpecificEvents) == 0
		if ev.Everything != nil {
			w.Events.Everything = *ev.Everything
		}
		for i, e := range ev.SpecificEvents {
			if !webhook.KnownEvent(e) {
				bad("authorizedEvents.specificEvents["+strconv.Itoa(i)+"]", "unknown event "+strconv.Quote(clipped(e)))
			}
		}
		if !w.Events.Everything && len(w.Events.Specific) == 0 {
			bad("authorizedEvents.specificEvents", "name at least one event, or set everything")
		}
	}
	if len(fields) > 0 {
		return webhook.Webhook{}, &invoice.ValidationError{Fields: fields}
	}
	return w, nil
}

// webhookFieldError gives an EInvalid refusal of the webhook service the
// field it is about. The request's own checks name every other field
// first, so what the service still refuses is the URL (its form, or an
// address it will not call).
func webhookFieldError(err error) error {
	if chengdui.ErrorCode(err) != chengdui.EInvalid || asValidation(err) != nil {
		return err
	}
	path := "url"
	if msg := chengdui.ErrorMessage(err); strings.Contains(msg, "secret") {
		path = "secret"
	} else if strings.Contains(msg, "event") {
		path = "authorizedEvents.specificEvents"
	}
	return &invoice.ValidationError{Fields: []invoice.FieldError{{Field: path, Message: chengdui.ErrorMessage(err)}}}
}

// webhookDeliveryData is Greenfield's WebhookDeliveryData, with
// Chengdui's additions (eventType, attempts, isRedelivery,
// originalDeliveryId). Status is Greenfield's, or "Pending" while the
// delivery is still being attempted.
type webhookDeliveryData struct {
	ID           string `json:"id"`
	Timestamp    int64  `json:"timestamp"`
	DeliveryTime *int64 `json:"deliveryTime,omitempty"`
	HTTPCode     *int   `json:"httpCode"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Status       string `json:"status"`
	EventType    string `json:"eventType"`
	Attempts     int    `json:"attempts"`
	IsRedelivery bool   `json:"isRedelivery"`
	OriginalID   string `json:"originalDeliveryId,omitempty"`
}

func toDeliveryData(d webhook.Delivery) webhookDeliveryData {
	out := webhookDeliveryData{ID: d.ID, Timestamp: d.CreatedAt.Unix(), ErrorMessage: d.Error, Status: string(d.Status),
		EventType: d.Type, Attempts: d.Attempts, IsRedelivery: d.Redelivery, OriginalID: d.OriginalID}
	if d.DeliveredAt != nil {
		t := d.DeliveredAt.Unix()
		out.DeliveryTime = &t
	}
	if d.HTTPCode != 0 {
		code := d.HTTPCode
		out.HTTPCode = &code
	}
	return out
}

// webhookStore is the store a webhook route acts on: {storeId} when the
// route has it (checked against the key), else the key's own.
func (s *Server) webhookStore(w nethttp.ResponseWriter, r *nethttp.Request) (chengdui.APIKey, bool) {
	return s.apiKey(w, r, auth.ScopeWebhookManage)
}

// handleWebhooks is Greenfield's GET /stores/{storeId}/webhooks.
func (s *Server) handleWebhooks(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	hooks, err := s.cfg.Webhooks.List(r.Context(), k.StoreID)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]webhookData, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, toWebhookData(h))
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// handleCreateWebhook is Greenfield's POST /stores/{storeId}/webhooks. The
// answer holds the secret, the only time it is shown.
func (s *Server) handleCreateWebhook(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, body []byte) {
		var req webhookRequest
		if err := decodeGreenfield(body, &req); err != nil {
			greenfieldError(w, r, err)
			return
		}
		hook, err := req.webhook()
		if err == nil {
			hook, err = s.cfg.Webhooks.Create(r.Context(), k.StoreID, hook)
		}
		if err != nil {
			greenfieldError(w, r, webhookFieldError(err))
			return
		}
		out := toWebhookData(hook)
		out.Secret = hook.Secret
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, nethttp.StatusOK, out)
	})
}

// handleWebhook is Greenfield's GET /webhooks/{webhookId}.
func (s *Server) handleWebhook(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	hook, err := s.cfg.Webhooks.Get(r.Context(), k.StoreID, r.PathValue("webhookId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, toWebhookData(hook))
}

// handleUpdateWebhook is Greenfield's PUT /webhooks/{webhookId}: every
// setting is replaced (omitted flags take their defaults); an omitted or
// empty secret keeps the current one.
func (s *Server) handleUpdateWebhook(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	body, err := readBody(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	var req webhookRequest
	if err := decodeGreenfield(body, &req); err != nil {
		greenfieldError(w, r, err)
		return
	}
	hook, err := req.webhook()
	if err == nil {
		hook, err = s.cfg.Webhooks.Update(r.Context(), k.StoreID, r.PathValue("webhookId"), hook)
	}
	if err != nil {
		greenfieldError(w, r, webhookFieldError(err))
		return
	}
	writeJSON(w, nethttp.StatusOK, toWebhookData(hook))
}

// handleDeleteWebhook is Greenfield's DELETE /webhooks/{webhookId}: 200
// with no body.
func (s *Server) handleDeleteWebhook(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Webhooks.Delete(r.Context(), k.StoreID, r.PathValue("webhookId")); err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(nethttp.StatusOK)
}

// maxDeliveries bounds ?count= of the deliveries list.
const maxDeliveries = 1000

// handleDeliveries is Greenfield's GET /webhooks/{webhookId}/deliveries:
// the latest deliveries, newest first; ?count= (1 to 1000, default 50).
func (s *Server) handleDeliveries(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	limit := 0
	if c := r.URL.Query().Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > maxDeliveries {
			Error(w, r, chengdui.Errorf(chengdui.EInvalid, "count must be a whole number from 1 to %d", maxDeliveries))
			return
		}
		limit = n
	}
	ds, err := s.cfg.Webhooks.Deliveries(r.Context(), k.StoreID, r.PathValue("webhookId"), limit)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]webhookDeliveryData, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDeliveryData(d))
	}
	writeJSON(w, nethttp.StatusOK, out)
}

// handleDelivery is Greenfield's GET
// /webhooks/{webhookId}/deliveries/{deliveryId}.
func (s *Server) handleDelivery(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	d, err := s.cfg.Webhooks.Delivery(r.Context(), k.StoreID, r.PathValue("webhookId"), r.PathValue("deliveryId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, toDeliveryData(d))
}

// handleDeliveryRequest is Greenfield's GET
// /webhooks/{webhookId}/deliveries/{deliveryId}/request: the exact body
// that was (or will be) sent, so a receiver can check its signature.
func (s *Server) handleDeliveryRequest(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	d, err := s.cfg.Webhooks.Delivery(r.Context(), k.StoreID, r.PathValue("webhookId"), r.PathValue("deliveryId"))
	if err != nil {
		Error(w, r, err)
		return
	}
	if len(d.Body) == 0 || !json.Valid(d.Body) {
		Error(w, r, chengdui.Errorf(chengdui.EConflict, "delivery %s has no stored request", d.ID))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(nethttp.StatusOK)
	w.Write(d.Body)
}

// handleRedeliver is Greenfield's POST
// /webhooks/{webhookId}/deliveries/{deliveryId}/redeliver: the new
// delivery's id, as a JSON string; it is sent in the background.
func (s *Server) handleRedeliver(w nethttp.ResponseWriter, r *nethttp.Request) {
	k, ok := s.webhookStore(w, r)
	if !ok {
		return
	}
	s.idempotent(w, r, "store:"+k.StoreID, func(w nethttp.ResponseWriter, _ []byte) {
		d, err := s.cfg.Webhooks.Redeliver(r.Context(), k.StoreID, r.PathValue("webhookId"), r.PathValue("deliveryId"))
		if err != nil {
			Error(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, d.ID)
	})
}
