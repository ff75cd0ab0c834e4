package refund_test

import (
	"context"
	"fmt"
	"testing"

	"chengdui"
	"chengdui/invoice"
	"chengdui/refund"

	"pgregory.net/rapid"
)

// TestRefundsNeverExceedPaid drives random refunds, claims and cancels of
// settled invoices and checks after every step: the live refunds of an
// invoice never add up to more than it received; each refund's ledger
// account holds what its state says; the store's balance moved by exactly
// the value of its live refunds.
func TestRefundsNeverExceedPaid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.settled(t, "1.00", 0) // opens the store's CNY account
	f.topUpStore(t, "property", 1_000_000_000)
	store := invoice.StoreAccount(f.StoreID, "CNY")
	rapid.Check(t, func(rt *rapid.T) {
		extra := rapid.Uint64Range(0, 20_000).Draw(rt, "overpaid")
		inv := f.settled(t, "72.00", extra)
		start := f.bal(t, store)
		var ids []string
		for step := range rapid.IntRange(1, 12).Draw(rt, "steps") {
			switch op := rapid.IntRange(0, 3).Draw(rt, "op"); {
			case op == 0 || len(ids) == 0:
				req := refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID,
					Variant:            rapid.SampledFrom([]refund.Variant{refund.RateThen, refund.CurrentRate, refund.OverpaidAmount, refund.Fiat, refund.Custom}).Draw(rt, "variant"),
					SubtractPercentage: fmt.Sprint(rapid.IntRange(0, 100).Draw(rt, "pct"))}
				if req.Variant == refund.Custom {
					if rapid.Bool().Draw(rt, "inAsset") {
						req.CustomAmount, req.CustomCurrency = chengdui.FormatDecimal(chengdui.Amount{Lo: rapid.Uint64Range(0, 40_000).Draw(rt, "sat")}, 8), "BTC"
					} else {
						req.CustomAmount, req.CustomCurrency = chengdui.FormatDecimal(chengdui.Amount{Lo: rapid.Uint64Range(0, 15_000).Draw(rt, "fen")}, 2), "CNY"
					}
				}
				if rapid.Bool().Draw(rt, "rateMoves") {
					f.Rates.Set("BTC", "CNY", fmt.Sprint(rapid.IntRange(200_000, 600_000).Draw(rt, "rate")))
				}
				r, err := f.svc.Create(ctx, req)
				switch code := chengdui.ErrorCode(err); code {
				case "":
					ids = append(ids, r.ID)
				case chengdui.EInvalid, refund.EExceedsPaid:
				default:
					rt.Fatalf("step %d: create: %v", step, err)
				}
			case op == 1:
				id := rapid.SampledFrom(ids).Draw(rt, "claim")
				if _, err := f.svc.ClaimToBalance(ctx, id, f.Payer); err != nil {
					if c := chengdui.ErrorCode(err); c != chengdui.EConflict && c != refund.EExceedsPaid && c != chengdui.EInvalid {
						rt.Fatalf("step %d: claim: %v", step, err)
					}
				}
			default:
				id := rapid.SampledFrom(ids).Draw(rt, "cancel")
				if _, err := f.svc.Cancel(ctx, f.StoreID, id); err != nil && chengdui.ErrorCode(err) != chengdui.EConflict {
					rt.Fatalf("step %d: cancel: %v", step, err)
				}
			}
			checkBound(t, f, inv.ID)
			rs, err := f.svc.List(ctx, refund.Filter{InvoiceID: inv.ID, Limit: refund.MaxLimit})
			if err != nil {
				rt.Fatal(err)
			}
			var given uint64
			for _, r := range rs {
				if r.State != refund.Cancelled {
					given += r.Value.Lo
				}
			}
			if got := f.bal(t, store); got != start-given {
				rt.Fatalf("step %d: the store holds %d, want %d − %d", step, got, start, given)
			}
		}
	})
}
