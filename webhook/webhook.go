package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Events is which events a webhook receives: all of its store's
// (Everything), or those named in Specific (Greenfield's
// authorizedEvents).
type Events struct {
	Everything bool
	Specific   []string
}

// Match reports whether an event of type typ is to be sent.
func (e Events) Match(typ string) bool {
	if e.Everything {
		return true
	}
	for _, s := range e.Specific {
		if s == typ {
			return true
		}
	}
	return false
}

// Webhook is a store's endpoint for event notifications.
type Webhook struct {
	ID      string
	StoreID string
	URL     string
	// Secret keys the BTCPay-Sig HMAC. It is stored as given: the sender
	// needs it to sign.
	Secret              string
	Enabled             bool
	AutomaticRedelivery bool
	Events              Events
	CreatedAt           time.Time
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses. Pending is Chengdui's own (Greenfield shows only final
// deliveries' statuses); the others are Greenfield's.
const (
	Pending     DeliveryStatus = "Pending"     // not sent yet, or to be retried at NextAttemptAt
	HTTPSuccess DeliveryStatus = "HttpSuccess" // the endpoint answered 2xx
	HTTPError   DeliveryStatus = "HttpError"   // the endpoint answered another status; final
	Failed      DeliveryStatus = "Failed"      // no answer, or retries exhausted; final
)

// Delivery is one event sent (or to be sent) to one webhook.
type Delivery struct {
	ID        string
	WebhookID string
	StoreID   string
	EventID   string // the outbox event's id (invoice.Event.ID)
	EventSeq  int64
	Type      string
	Status    DeliveryStatus
	Attempts  int
	// HTTPCode is the last answer's status, 0 when there was none.
	HTTPCode int
	// Error says why the last attempt failed, "" after a success.
	Error string
	// Body is the exact bytes sent, built when the delivery was created.
	Body []byte
	// CreatedAt is when the delivery was created (Greenfield "timestamp").
	CreatedAt time.Time
	// DeliveredAt is when the last attempt was made (Greenfield
	// "deliveryTime"); nil before the first.
	DeliveredAt *time.Time
	// NextAttemptAt is when a Pending delivery is due; while an attempt
	// is in flight it holds the claim's lease.
	NextAttemptAt time.Time
	// Redelivery is true for a delivery made by Redeliver; OriginalID is
	// the first delivery of the event to the webhook (its own ID for a
	// first delivery, as in the payload's originalDeliveryId).
	Redelivery bool
	OriginalID string
}

// Final reports whether no more attempts will be made.
func (d Delivery) Final() bool { return d.Status != Pending }

// Store keeps webhooks, deliveries and the dispatcher's outbox cursor. The
// sqlite and postgres packages implement it; storetest.RunWebhook checks
// both.
type Store interface {
	// CreateWebhook stores a new webhook. Codes: EConflict when the id
	// exists.
	CreateWebhook(ctx context.Context, w Webhook) error
	// Webhook returns a webhook. Codes: ENotFound.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// Webhooks lists a store's webhooks, oldest first.
	Webhooks(ctx context.Context, storeID string) ([]Webhook, error)
	// UpdateWebhook saves the URL, secret, flags and events of the webhook
	// with w's ID and StoreID. Codes: ENotFound.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook deletes a store's webhook and its deliveries. Codes:
	// ENotFound.
	DeleteWebhook(ctx context.Context, storeID, id string) error

	// DispatchCursor is the Seq of the last outbox event fanned out.
	DispatchCursor(ctx context.Context) (int64, error)
	// Dispatch moves the cursor from from to to and adds deliveries, in
	// one transaction, as AddDeliveries does. Codes: EConflict when the
	// cursor is no longer from (another dispatcher moved it; nothing is
	// written).
	Dispatch(ctx context.Context, from, to int64, ds []Delivery) error
	// AddDeliveries adds deliveries and returns how many it added. It
	// skips those whose webhook no longer exists, and a first delivery
	// (Redelivery false) of an event to a webhook that already has one.
	AddDeliveries(ctx context.Context, ds []Delivery) (int, error)
	// Delivery returns a delivery. Codes: ENotFound.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// Deliveries lists a webhook's deliveries, newest first (CreatedAt,
	// then EventSeq, then ID, descending), at most limit.
	Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error)
	// ClaimDeliveries takes up to limit Pending deliveries due at now
	// (NextAttemptAt <= now), sets their NextAttemptAt to lease so that no
	// other claim takes them before then, and returns them with it, by
	// EventSeq, then CreatedAt, then ID.
	ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]Delivery, error)
	// FinishAttempt saves an attempt's outcome: d's Status, Attempts,
	// HTTPCode, Error, DeliveredAt and NextAttemptAt, if the delivery is
	// still held by the claim (Pending, NextAttemptAt still lease; a lease
	// is a claim's token). Codes: EConflict when the claim was lost (its
	// lease ran out and another sender took it, or the webhook was
	// deleted); nothing is written.
	FinishAttempt(ctx context.Context, d Delivery, lease time.Time) error
	// NextAttempt is the earliest NextAttemptAt of Pending deliveries; ok
	// is false when there are none.
	NextAttempt(ctx context.Context) (at time.Time, ok bool, err error)
}

// Sign returns the BTCPay-Sig header value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret's UTF-8 bytes.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// KnownEvent reports whether name is an event Greenfield defines, which a
// webhook may subscribe to, plus Chengdui's RefundCreated and
// RefundCancelled. Chengdui sends the invoice, payout and refund ones; the
// others are accepted so that clients written for BTCPay can register
// them.
func KnownEvent(name string) bool {
	for _, t := range eventTypes {
		if t == name {
			return true
		}
	}
	return false
}

var eventTypes = [...]string{
	"InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceExpired",
	"InvoiceSettled", "InvoiceInvalid", "InvoicePaymentSettled",
	"PaymentRequestCreated", "PaymentRequestUpdated", "PaymentRequestArchived", "PaymentRequestStatusChanged",
	"PayoutCreated", "PayoutApproved", "PayoutUpdated",
	"SubscriberCreated", "SubscriberCredited", "SubscriberCharged", "SubscriberActivated",
	"SubscriberPhaseChanged", "SubscriberDisabled", "PaymentReminder", "PlanStarted", "SubscriberNeedUpgrade",
	// Chengdui's own: a refund (Greenfield's pull payment) made and taken back.
	"RefundCreated", "RefundCancelled",
}
