package invoice

import (
	"encoding/json"
	"math/big"
	"time"

	"chengdui"
)

// The lifecycle, as BTCPay Greenfield runs it (see doc.go for the rules):
//
//	New ──paid in full (unconfirmed)──▶ Processing ──confirmed──▶ Settled
//	 │  └──────────paid in full and confirmed (Processing, then Settled)──┘
//	 └──expiry, not paid in full──▶ Expired (PaidPartial if anything came, PaidLate for later payments)
//	Processing ──monitoring window ends unconfirmed, or payments invalidated──▶ Invalid
//	any but Settled ──marked by the merchant──▶ Settled/Invalid (Marked)
//
// evaluate is the one place these rules live: a pure function of the
// invoice, its payments and the clock, returning the new invoice and the
// events its change announces.

// coverage sums the valid payments as fractions of the invoice: a payment
// of an asset counts amount/due of that asset's quote. settled counts
// only confirmed payments.
func coverage(inv Invoice, pays []Payment) (all, settled *big.Rat) {
	all, settled = new(big.Rat), new(big.Rat)
	for _, p := range pays {
		if p.Status == PaymentInvalid {
			continue
		}
		f := fraction(inv, p)
		all.Add(all, f)
		if p.Status == PaymentSettled {
			settled.Add(settled, f)
		}
	}
	return all, settled
}

// fraction is how much of the invoice p pays. A top-up invoice is paid in
// full by any payment; a payment in an asset without a quote pays nothing.
func fraction(inv Invoice, p Payment) *big.Rat {
	if p.Amount.IsZero() {
		return new(big.Rat)
	}
	if inv.TopUp {
		return big.NewRat(1, 1)
	}
	q, ok := inv.Quote(p.Asset)
	if !ok || q.Due.IsZero() {
		return new(big.Rat)
	}
	return new(big.Rat).SetFrac(p.Amount.Big(), q.Due.Big())
}

// threshold is the fraction that pays in full: 1 - tolerance.
func threshold(inv Invoice) *big.Rat {
	return new(big.Rat).Sub(big.NewRat(1, 1), big.NewRat(int64(inv.ToleranceBps), 10000))
}

var one = big.NewRat(1, 1)

// change is one evaluation's outcome.
type change struct {
	inv    Invoice
	events []Event
}

// eventData builds an event's type-specific fields.
type eventData map[string]any

// evaluate applies the lifecycle to inv given its payments (all of them,
// including those just seen: fresh holds the ids of payments new to the
// invoice, confirmed those that became settled in this change) at now.
func evaluate(inv Invoice, pays []Payment, fresh, confirmed map[string]bool, now time.Time) change {
	c := change{inv: inv}
	add := func(typ string, d eventData) {
		if d == nil {
			d = eventData{}
		}
		raw, _ := json.Marshal(d)
		c.events = append(c.events, Event{StoreID: inv.StoreID, InvoiceID: inv.ID, Type: typ, Data: raw, CreatedAt: now})
	}
	all, settled := coverage(inv, pays)
	full := all.Cmp(threshold(inv)) >= 0
	fullSettled := settled.Cmp(threshold(inv)) >= 0
	over := !inv.TopUp && all.Cmp(one) > 0
	any := all.Sign() > 0
	expired := !now.Before(inv.ExpiresAt)
	afterExpiry := inv.Status == Expired || (inv.Status == New && expired)

	// Payment events first, in the order the payments were received.
	for _, p := range pays {
		if fresh[p.ID] {
			add(EventReceivedPayment, eventData{"afterExpiration": afterExpiry, "paymentMethodId": p.Method, "payment": paymentData(inv, p)})
		}
	}
	for _, p := range pays {
		if confirmed[p.ID] {
			add(EventPaymentSettled, eventData{"afterExpiration": afterExpiry, "paymentMethodId": p.Method, "payment": paymentData(inv, p)})
		}
	}

	switch inv.Status {
	case New:
		switch {
		case full && fullSettled:
			c.inv.Status, c.inv.Additional = Settled, overOrNone(over)
			add(EventProcessing, eventData{"overPaid": over})
			add(EventSettled, eventData{"manuallyMarked": false, "overPaid": over})
		case full:
			c.inv.Status, c.inv.Additional = Processing, overOrNone(over)
			add(EventProcessing, eventData{"overPaid": over})
			if !now.Before(inv.MonitoringUntil) {
				// Seen only once the monitoring window had ended: it can
				// no longer settle, as a Processing invoice past it.
				c.inv.Status, c.inv.Additional = Invalid, None
				add(EventInvalid, eventData{"manuallyMarked": false})
			}
		case expired:
			c.inv.Status = Expired
			c.inv.Additional = None
			if any {
				c.inv.Additional = PaidPartial
			}
			add(EventExpired, eventData{"partiallyPaid": any})
		case any:
			c.inv.Additional = PaidPartial
		}
	case Processing:
		switch {
		case fullSettled:
			c.inv.Status, c.inv.Additional = Settled, overOrNone(over)
			add(EventSettled, eventData{"manuallyMarked": false, "overPaid": over})
		case !full:
			// A payment that made it full was replaced or reorganised away.
			c.inv.Status, c.inv.Additional = Invalid, AddInvalid
			add(EventInvalid, eventData{"manuallyMarked": false})
		case !now.Before(inv.MonitoringUntil):
			c.inv.Status, c.inv.Additional = Invalid, None
			add(EventInvalid, eventData{"manuallyMarked": false})
		default:
			c.inv.Additional = overOrNone(over)
		}
	case Expired:
		if len(fresh) > 0 {
			c.inv.Additional = PaidLate
		}
	case Settled:
		if inv.Additional != Marked && over {
			c.inv.Additional = PaidOver
		}
	}
	if !now.Before(inv.MonitoringUntil) && !c.inv.Closed {
		c.inv.Closed = true
	}
	return c
}

func overOrNone(over bool) Additional {
	if over {
		return PaidOver
	}
	return None
}

// paymentData is a payment as Greenfield's Payment schema shows it.
func paymentData(inv Invoice, p Payment) map[string]any {
	value := chengdui.FormatDecimal(p.Amount, decimalsOf(inv, p.Asset))
	return map[string]any{
		"id":           p.ID,
		"receivedDate": p.ReceivedAt.Unix(),
		"value":        value,
		"fee":          "0",
		"status":       string(p.Status),
		"destination":  p.Destination,
	}
}

func decimalsOf(inv Invoice, asset string) uint8 {
	if q, ok := inv.Quote(asset); ok {
		return q.Decimals
	}
	return 0
}

// mark applies a merchant's manual marking.
func mark(inv Invoice, to Status, now time.Time) (change, error) {
	c := change{inv: inv}
	add := func(typ string, d eventData) {
		raw, _ := json.Marshal(d)
		c.events = append(c.events, Event{StoreID: inv.StoreID, InvoiceID: inv.ID, Type: typ, Data: raw, CreatedAt: now})
	}
	switch {
	case to != Settled && to != Invalid:
		return c, chengdui.Errorf(chengdui.EInvalid, "an invoice can be marked Settled or Invalid, not %q", to)
	case inv.Status == to:
		return c, chengdui.Errorf(chengdui.EConflict, "invoice %s is already %s", inv.ID, to)
	case to == Invalid && inv.Status == Settled && inv.Additional != Marked:
		// Money was credited to the merchant: take it back with a refund,
		// not by relabelling the invoice.
		return c, chengdui.Errorf(chengdui.EConflict, "invoice %s was settled by its payments; refund it instead of marking it invalid", inv.ID)
	}
	c.inv.Status, c.inv.Additional = to, Marked
	if to == Settled {
		add(EventSettled, eventData{"manuallyMarked": true, "overPaid": false})
	} else {
		add(EventInvalid, eventData{"manuallyMarked": true})
	}
	return c, nil
}

// AvailableMarks lists the statuses an invoice can be marked as.
func AvailableMarks(inv Invoice) []Status {
	var out []Status
	for _, to := range []Status{Settled, Invalid} {
		if _, err := mark(inv, to, time.Time{}); err == nil {
			out = append(out, to)
		}
	}
	return out
}
