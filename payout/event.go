package payout

import (
	"encoding/json"
	"strconv"

	"chengdui/invoice"
)

// Webhook events of payouts: Greenfield's names.
const (
	EventCreated  = "PayoutCreated"
	EventApproved = "PayoutApproved"
	EventUpdated  = "PayoutUpdated"
)

// GreenfieldState is a state as Greenfield's PayoutState names it: it has
// no Failed, so a failed (or returned) payout is Cancelled there; the
// event's "state" field keeps Chengdui's own.
func (s State) GreenfieldState() string {
	if s == Failed {
		return string(Cancelled)
	}
	return string(s)
}

// Event is the outbox event that announces a stored payout change, old
// being the payout before it (nil when p was just created): PayoutCreated
// for a new payout, PayoutApproved when a second operator approved it,
// PayoutUpdated for any other change of state. A change that leaves the
// state as it was (a bank reference recorded) announces nothing (ok
// false). The event's id is the payout's id and version, so a store
// writing it in the same transaction as the change writes it once.
//
// The payload has Greenfield's payoutId, pullPaymentId (the refund a
// payout pays, else null) and payoutState, and Chengdui's state, storeId
// is the envelope's, asset, method, reason and ref.
func Event(old *Payout, p Payout) (ev invoice.Event, ok bool) {
	typ := EventUpdated
	switch {
	case old == nil:
		typ = EventCreated
	case old.State == p.State:
		return invoice.Event{}, false
	case old.State == AwaitingApproval && p.State == AwaitingPayment:
		typ = EventApproved
	}
	data := struct {
		PayoutID      string  `json:"payoutId"`
		PullPaymentID *string `json:"pullPaymentId"`
		PayoutState   string  `json:"payoutState"`
		State         State   `json:"state"`
		Asset         string  `json:"asset"`
		Method        Method  `json:"method"`
		Reason        string  `json:"reason,omitempty"`
		Ref           string  `json:"ref,omitempty"`
	}{PayoutID: p.ID, PayoutState: p.State.GreenfieldState(), State: p.State, Asset: p.Asset,
		Method: p.Method, Reason: p.Reason, Ref: p.Ref}
	raw, _ := json.Marshal(data) // plain strings: cannot fail
	return invoice.Event{ID: "po:" + p.ID + ":v" + strconv.FormatInt(p.Version, 10), StoreID: p.StoreID, Type: typ,
		Data: raw, CreatedAt: p.UpdatedAt}, true
}
