// Package webhook sends BTCPay Greenfield-compatible webhooks: a store's
// endpoints receive its invoices' and payouts' events as signed JSON POSTs.
//
// # From outbox to endpoint
//
// Invoice changes write their events to an outbox (invoice.Event) in the
// same transaction as the change; so do payout changes (payout.Event:
// PayoutCreated, PayoutApproved, PayoutUpdated, with no invoice). The dispatcher reads the outbox after its
// stored cursor and, for every enabled webhook of the event's store that
// subscribes to the event type, creates a Delivery holding the complete
// payload body, built once: a redelivery or a restart sends the same bytes.
// Creating a batch's deliveries and moving the cursor past it is one
// transaction (Store.Dispatch), conditional on the cursor's old value, so
// a crash neither loses nor duplicates a delivery and several processes
// may dispatch on one database: the loser of a race drops its batch and
// reads again. The store also refuses a second first delivery of an event
// to a webhook.
//
// The sender claims due Pending deliveries (Store.ClaimDeliveries sets
// their NextAttemptAt to a lease, so no other process takes them while the
// attempt is in flight), POSTs each body with Content-Type
// application/json, User-Agent Chengdui-Webhook/1 and
// BTCPay-Sig: sha256=<hex HMAC-SHA256(secret, body)>, and saves the
// outcome if it still holds the claim:
//
//   - 2xx: HttpSuccess.
//   - No answer (network error, timeout), 5xx, 408 or 429: when the webhook
//     has AutomaticRedelivery, Pending again after the next wait of Backoff
//     (Greenfield's 10 s, 1 min, then 10 min six times), and Failed once
//     the schedule is spent; without it, final at once (HttpError with an
//     answer, Failed without).
//   - Any other status, redirects included (they are not followed):
//     HttpError, final.
//
// A webhook's deliveries claimed together are sent in event order by one
// sender; different webhooks' go in parallel (Workers). A webhook disabled
// after a delivery was created makes it Failed ("webhook is disabled");
// Redeliver sends regardless. Deleting a webhook deletes its deliveries.
//
// Notify wakes the dispatcher, which wakes the sender as soon as it created
// deliveries: an event committed with Notify leaves within milliseconds,
// not a Poll interval. Poll only catches work other processes made.
//
// # Payloads
//
// A body is Greenfield's WebhookInvoiceEvent: deliveryId, webhookId,
// originalDeliveryId (the deliveryId itself on a first delivery, as BTCPay
// does), isRedelivery, type, timestamp (unix seconds of the event),
// storeId, invoiceId and metadata (the invoice's metadata object, {} when
// it has none), then the event's Data fields (afterExpiration,
// paymentMethodId, payment, overPaid, manuallyMarked, partiallyPaid…) by
// name. A payout's event has no invoiceId nor metadata; its Data is
// Greenfield's payoutId, pullPaymentId and payoutState (Failed is sent as
// Cancelled, Greenfield having no Failed) and Chengdui's state, asset,
// method, reason and ref. A redelivery's body differs only in deliveryId, webhookId and
// isRedelivery (true); originalDeliveryId stays the first delivery's.
//
// # Server-side request forgery
//
// Webhook URLs are chosen by merchants, so the sender must not become a
// way into the operator's network. CheckURL, run by Create and Update,
// refuses URLs that are not http or https, carry a user name or password,
// or whose host is or resolves to a loopback, private (RFC 1918,
// fc00::/7), link-local, shared (100.64.0.0/10), unspecified, multicast or
// reserved address. Since a name can resolve elsewhere later (DNS
// rebinding), the default HTTP client checks again the address it actually
// connects to (net.Dialer.Control), uses no proxy and follows no redirects.
// Config.AllowPrivate lifts both checks for development; a Config.Client
// replaces the second.
package webhook
