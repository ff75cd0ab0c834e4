package refund

import (
	"encoding/json"

	"chengdui/invoice"
)

// Webhook events of refunds. A refund is Greenfield's pull payment: its
// claims are payouts of it, announced with Greenfield's Payout* names
// (pullPaymentId the refund's id); the refund itself is announced with
// Chengdui's RefundCreated and RefundCancelled, Greenfield having no
// pull-payment events.
const (
	EventCreated       = "RefundCreated"
	EventCancelled     = "RefundCancelled"
	EventPayoutCreated = "PayoutCreated"
	EventPayoutUpdated = "PayoutUpdated"
)

// PayoutID is the id under which a refund's current claim is announced
// as a payout: the withdrawal's for a claim to an address, else the same
// form (the claim's attempt number).
func (r Refund) PayoutID() string {
	if r.WithdrawalID != "" {
		return r.WithdrawalID
	}
	return WithdrawalID(r.ID, r.Attempt)
}

// Event is the outbox event announcing a refund in its stored state, ok
// false for a state announced by none (Creating). Its id is derived from
// the refund, its claim attempt and its state, so announcing the same
// state twice (Notify after a retry, Recover) is one event in an outbox
// that skips known ids:
//
//   - AwaitingClaim, first: RefundCreated.
//   - InProgress: PayoutCreated, payoutState InProgress.
//   - Completed: PayoutUpdated, payoutState Completed.
//   - AwaitingClaim after a claim whose withdrawal failed: PayoutUpdated,
//     payoutState Cancelled, with the reason.
//   - Cancelled: RefundCancelled.
func Event(r Refund) (invoice.Event, bool) {
	type data struct {
		RefundID      string  `json:"refundId"`
		InvoiceID     string  `json:"refundedInvoiceId"`
		State         State   `json:"state"`
		Asset         string  `json:"asset"`
		PayoutID      string  `json:"payoutId,omitempty"`
		PullPaymentID *string `json:"pullPaymentId,omitempty"`
		PayoutState   string  `json:"payoutState,omitempty"`
		Claim         string  `json:"claim,omitempty"`
		TxID          string  `json:"txid,omitempty"`
		Reason        string  `json:"reason,omitempty"`
	}
	d := data{RefundID: r.ID, InvoiceID: r.InvoiceID, State: r.State, Asset: r.Asset}
	payout := func(state string) {
		id := r.ID
		d.PayoutID, d.PullPaymentID, d.PayoutState, d.Claim, d.TxID = r.PayoutID(), &id, state, r.Claim, r.TxID
	}
	var typ, key string
	switch {
	case r.State == AwaitingClaim && r.Attempt == 0:
		typ, key = EventCreated, "created"
	case r.State == AwaitingClaim:
		typ, key = EventPayoutUpdated, "failed"
		payout("Cancelled")
		d.Reason = r.Reason
	case r.State == InProgress:
		typ, key = EventPayoutCreated, "claimed"
		payout("InProgress")
	case r.State == Completed:
		typ, key = EventPayoutUpdated, "completed"
		payout("Completed")
	case r.State == Cancelled:
		typ, key = EventCancelled, "cancelled"
	default:
		return invoice.Event{}, false
	}
	raw, _ := json.Marshal(d) // strings only: cannot fail
	// The refunded invoice is named in the data, not as the event's
	// invoice: Greenfield's payout events carry no invoiceId.
	return invoice.Event{ID: "rf:" + r.ID + ":" + itoa(r.Attempt) + ":" + key, StoreID: r.StoreID, Type: typ, Data: raw,
		CreatedAt: r.UpdatedAt}, true
}
