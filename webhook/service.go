package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"time"

	"chengdui"
	"chengdui/invoice"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// EventSource is where the dispatcher reads the outbox; invoice.Store is
// one.
type EventSource interface {
	// Events lists events with Seq > after, ascending, at most limit;
	// invoiceID "" means every invoice's.
	Events(ctx context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error)
	// Invoice returns an invoice, for the metadata of payloads.
	Invoice(ctx context.Context, id string) (invoice.Invoice, error)
}

// Config configures a Service. Store and Events are required.
type Config struct {
	Store  Store
	Events EventSource
	// Client sends the deliveries; nil builds one that refuses to connect
	// to non-public addresses (unless AllowPrivate), uses no proxy and
	// follows no redirects.
	Client *http.Client
	// AllowPrivate lets webhooks call loopback and private addresses
	// (development, tests).
	AllowPrivate bool
	// Timeout bounds one attempt; 0 means 10 s.
	Timeout time.Duration
	// Poll is how often the dispatcher and sender look for work nobody
	// told them about (another process's events, deliveries or
	// Notify lost); 0 means 1 s.
	Poll time.Duration
	// Workers is how many deliveries are sent at once; 0 means 16. Slow
	// endpoints hold a worker up to Timeout, so keep it well above the
	// number expected to hang at once.
	Workers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives the dispatcher's and sender's reports; nil discards
	// them. Entries never hold secrets, URLs or bodies.
	Log *slog.Logger
	// Backoff is the wait before each retry of a delivery whose attempt
	// failed with a network error, a timeout, 5xx, 408 or 429, when its
	// webhook has AutomaticRedelivery; after the last, the delivery is
	// Failed. nil means Greenfield's 10 s, 1 min, then 10 min six times.
	Backoff []time.Duration
}

// DefaultBackoff is Greenfield's retry schedule: 10 s, 1 min, then 10 min
// six times.
func DefaultBackoff() []time.Duration {
	b := []time.Duration{10 * time.Second, time.Minute}
	for range 6 {
		b = append(b, 10*time.Minute)
	}
	return b
}

// Service manages a store's webhooks and delivers outbox events to them.
type Service struct {
	store        Store
	events       EventSource
	client       *http.Client
	allowPrivate bool
	timeout      time.Duration
	poll         time.Duration
	workers      int
	now          func() time.Time
	log          *slog.Logger
	backoff      []time.Duration
	lookup       lookupFunc

	dispatchWake chan struct{}
	sendWake     chan struct{}
}

// New returns a Service. Codes: EInvalid for a missing Store or Events or
// a negative setting.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Events == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "webhook: Store and Events are required")
	}
	if cfg.Timeout < 0 || cfg.Poll < 0 || cfg.Workers < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "webhook: Timeout, Poll and Workers must not be negative")
	}
	for _, b := range cfg.Backoff {
		if b <= 0 {
			return nil, chengdui.Errorf(chengdui.EInvalid, "webhook: Backoff waits must be positive")
		}
	}
	s := &Service{
		store: cfg.Store, events: cfg.Events, client: cfg.Client, allowPrivate: cfg.AllowPrivate,
		timeout: cfg.Timeout, poll: cfg.Poll, workers: cfg.Workers, now: cfg.Now, log: cfg.Log,
		backoff: cfg.Backoff, lookup: net.DefaultResolver.LookupNetIP,
		dispatchWake: make(chan struct{}, 1), sendWake: make(chan struct{}, 1),
	}
	if s.timeout == 0 {
		s.timeout = 10 * time.Second
	}
	if s.poll == 0 {
		s.poll = time.Second
	}
	if s.workers == 0 {
		s.workers = 16
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.backoff == nil {
		s.backoff = DefaultBackoff()
	}
	if s.client == nil {
		s.client = newClient(s.allowPrivate, s.timeout)
	}
	return s, nil
}

// clock is the current time at the storage's resolution.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// newID is a BTCPay-style id: 16 random bytes in base58.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base58.Encode(b)
}

// newSecret is a webhook secret: 24 random bytes, base64url.
func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const (
	maxIDLen     = 64
	maxSecretLen = 1024
)

// check validates w's settable fields and normalises its events.
func (s *Service) check(ctx context.Context, w *Webhook) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := checkURL(ctx, w.URL, s.allowPrivate, s.lookup); err != nil {
		return err
	}
	if len(w.Secret) > maxSecretLen {
		return chengdui.Errorf(chengdui.EInvalid, "webhook secret is longer than %d bytes", maxSecretLen)
	}
	var specific []string
	seen := map[string]bool{}
	for _, e := range w.Events.Specific {
		if !KnownEvent(e) {
			return chengdui.Errorf(chengdui.EInvalid, "unknown webhook event %q", e)
		}
		if !seen[e] {
			seen[e] = true
			specific = append(specific, e)
		}
	}
	w.Events.Specific = specific
	return nil
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Create adds a webhook to a store. An empty ID or Secret is generated;
// CreatedAt is now. Codes: EInvalid for a missing store, a bad URL (see
// CheckURL), an unknown event name, a bad id or an over-long secret;
// EConflict when the id exists.
func (s *Service) Create(ctx context.Context, storeID string, w Webhook) (Webhook, error) {
	if storeID == "" {
		return Webhook{}, chengdui.Errorf(chengdui.EInvalid, "store id is required")
	}
	if w.ID == "" {
		w.ID = newID()
	} else if !validID(w.ID) {
		return Webhook{}, chengdui.Errorf(chengdui.EInvalid, "webhook id must be 1 to %d letters, digits, '-' or '_'", maxIDLen)
	}
	if err := s.check(ctx, &w); err != nil {
		return Webhook{}, err
	}
	if w.Secret == "" {
		w.Secret = newSecret()
	}
	w.StoreID, w.CreatedAt = storeID, s.clock()
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Get returns a store's webhook. Codes: ENotFound, also for another
// store's webhook.
func (s *Service) Get(ctx context.Context, storeID, id string) (Webhook, error) {
	w, err := s.store.Webhook(ctx, id)
	if err == nil && w.StoreID != storeID {
		return Webhook{}, notFound(id)
	}
	return w, err
}

func notFound(id string) error { return chengdui.Errorf(chengdui.ENotFound, "no webhook %q", id) }

// List returns a store's webhooks, oldest first.
func (s *Service) List(ctx context.Context, storeID string) ([]Webhook, error) {
	return s.store.Webhooks(ctx, storeID)
}

// Update replaces a webhook's URL, flags and events, and its secret unless
// w.Secret is empty. ID, StoreID and CreatedAt do not change. Codes:
// ENotFound (also for another store's webhook), EInvalid as Create.
func (s *Service) Update(ctx context.Context, storeID, id string, w Webhook) (Webhook, error) {
	old, err := s.Get(ctx, storeID, id)
	if err != nil {
		return Webhook{}, err
	}
	if err := s.check(ctx, &w); err != nil {
		return Webhook{}, err
	}
	if w.Secret == "" {
		w.Secret = old.Secret
	}
	w.ID, w.StoreID, w.CreatedAt = old.ID, old.StoreID, old.CreatedAt
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Delete removes a store's webhook and its deliveries; pending ones are
// not sent. Codes: ENotFound.
func (s *Service) Delete(ctx context.Context, storeID, id string) error {
	return s.store.DeleteWebhook(ctx, storeID, id)
}

// Deliveries lists a webhook's deliveries, newest first, at most limit (0:
// 50). Codes: ENotFound for a webhook not of the store; EInvalid for a
// negative limit.
func (s *Service) Deliveries(ctx context.Context, storeID, webhookID string, limit int) ([]Delivery, error) {
	if limit < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "limit must not be negative")
	}
	if limit == 0 {
		limit = 50
	}
	if _, err := s.Get(ctx, storeID, webhookID); err != nil {
		return nil, err
	}
	return s.store.Deliveries(ctx, webhookID, limit)
}

// Delivery returns one delivery of a store's webhook. Codes: ENotFound.
func (s *Service) Delivery(ctx context.Context, storeID, webhookID, deliveryID string) (Delivery, error) {
	if _, err := s.Get(ctx, storeID, webhookID); err != nil {
		return Delivery{}, err
	}
	d, err := s.store.Delivery(ctx, deliveryID)
	if err == nil && (d.WebhookID != webhookID || d.StoreID != storeID) {
		err = chengdui.Errorf(chengdui.ENotFound, "no delivery %q", deliveryID)
	}
	if err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// Redeliver sends a delivery's event to its webhook again, as a new
// Pending delivery with the same body but for deliveryId, isRedelivery
// true and originalDeliveryId (the event's first delivery), and returns
// it. It is sent to the webhook's current URL, at once, whether or not the
// webhook is enabled or subscribes to the event any more. Codes:
// ENotFound.
func (s *Service) Redeliver(ctx context.Context, storeID, webhookID, deliveryID string) (Delivery, error) {
	old, err := s.Delivery(ctx, storeID, webhookID, deliveryID)
	if err != nil {
		return Delivery{}, err
	}
	now := s.clock()
	d := Delivery{
		ID: newID(), WebhookID: old.WebhookID, StoreID: old.StoreID, EventID: old.EventID, EventSeq: old.EventSeq,
		Type: old.Type, Status: Pending, CreatedAt: now, NextAttemptAt: now, Redelivery: true, OriginalID: old.OriginalID,
	}
	if d.OriginalID == "" {
		d.OriginalID = old.ID
	}
	if d.Body, err = redeliveryBody(old.Body, d.ID, d.WebhookID, d.OriginalID); err != nil {
		return Delivery{}, chengdui.Errorf(chengdui.EInternal, "delivery %s: %v", old.ID, err)
	}
	n, err := s.store.AddDeliveries(ctx, []Delivery{d})
	if err != nil {
		return Delivery{}, err
	}
	if n == 0 {
		return Delivery{}, notFound(webhookID)
	}
	wake(s.sendWake)
	return d, nil
}

// Notify wakes the dispatcher: call it right after events are committed.
// It never blocks.
func (s *Service) Notify() { wake(s.dispatchWake) }

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
