package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/refund"

	"github.com/stretchr/testify/require"
)

// RunRefund runs the refund.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunRefund(t *testing.T, f func(t testing.TB) refund.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRefundRoundTrip(t, f(t)) })
	t.Run("CompareAndSet", func(t *testing.T) { testRefundCompareAndSet(t, f(t)) })
	t.Run("Bound", func(t *testing.T) { testRefundBound(t, f(t)) })
	t.Run("ConcurrentBound", func(t *testing.T) { s := f(t); RunRefundRace(t, s, s) })
	t.Run("Delete", func(t *testing.T) { testRefundDelete(t, f(t)) })
	t.Run("Lists", func(t *testing.T) { testRefundLists(t, f(t)) })
}

var refundEpoch = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func aRefund(id, invoiceID string, amount uint64, at time.Time) refund.Refund {
	return refund.Refund{ID: id, StoreID: "store1", InvoiceID: invoiceID, Variant: refund.RateThen, Name: "Refund " + invoiceID,
		Description: "茶叶退款", Asset: "BTC", Amount: chengdui.Amount{Lo: amount}, Currency: "CNY", ValueAsset: "CNY",
		Value: chengdui.Amount{Lo: amount * 432 / 100}, Rate: "432000.000000000000", SubtractBps: 250, State: refund.AwaitingClaim,
		Booked: true, RequestHash: "h-" + id, CreatedBy: "api-key-1", CreatedAt: at, UpdatedAt: at, Version: 1}
}

func testRefundRoundTrip(t *testing.T, s refund.Store) {
	ctx := context.Background()
	r := aRefund("rf1", "inv1", 50_000, refundEpoch)
	require.NoError(t, s.CreateRefund(ctx, r, chengdui.Amount{Lo: 100_000}))
	got, err := s.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, r, got)
	err = s.CreateRefund(ctx, r, chengdui.Amount{Lo: 1 << 40})
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Refund(ctx, "rfNobody")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	// The largest amounts, a Fiat refund with every field set.
	max := chengdui.Amount{Lo: ^uint64(0), Hi: ^uint64(0)}
	f := aRefund("rf2", "inv2", 0, refundEpoch)
	f.Variant, f.Asset, f.Amount, f.FiatAmount, f.Value = refund.Fiat, "ETH", max, max, max
	f.State, f.Booked, f.Attempt, f.Claim, f.ClaimAddress, f.WithdrawalID, f.TxID, f.Reason = refund.InProgress, false, 7, refund.ToAddress,
		"0x52908400098527886E0F7030069857D2E4169EE7", "rf-rf2-7", "0xabc", "a reason ü"
	f.ClaimUser, f.Rate, f.SubtractBps = "user-9", "", 10000
	require.NoError(t, s.CreateRefund(ctx, f, max))
	got, err = s.Refund(ctx, f.ID)
	require.NoError(t, err)
	require.Equal(t, f, got)
}

func testRefundCompareAndSet(t *testing.T, s refund.Store) {
	ctx := context.Background()
	r := aRefund("rf1", "inv1", 50_000, refundEpoch)
	r.State, r.Booked = refund.Creating, false
	require.NoError(t, s.CreateRefund(ctx, r, chengdui.Amount{Lo: 50_000}))

	next := r
	next.State, next.Booked, next.Attempt, next.Claim, next.ClaimUser = refund.InProgress, true, 1, refund.ToBalance, "u1"
	next.UpdatedAt = refundEpoch.Add(time.Second)
	saved, err := s.UpdateRefund(ctx, next, chengdui.Amount{})
	require.NoError(t, err)
	require.Equal(t, int64(2), saved.Version)
	next.Version = 2
	require.Equal(t, next, saved)

	// A stale version writes nothing.
	stale := r
	stale.State = refund.Cancelled
	_, err = s.UpdateRefund(ctx, stale, chengdui.Amount{})
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	got, err := s.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.InProgress, got.State)
	_, err = s.UpdateRefund(ctx, aRefund("rfNobody", "inv1", 1, refundEpoch), chengdui.Amount{})
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	// Immutable fields stay as created.
	other := got
	other.StoreID, other.InvoiceID, other.Asset, other.Value = "elsewhere", "inv9", "ETH", chengdui.Amount{Lo: 1}
	other, err = s.UpdateRefund(ctx, other, chengdui.Amount{})
	require.NoError(t, err)
	require.Equal(t, "store1", other.StoreID)
	require.Equal(t, "inv1", other.InvoiceID)
	require.Equal(t, "BTC", other.Asset)
}

func testRefundBound(t *testing.T, s refund.Store) {
	ctx := context.Background()
	paid := chengdui.Amount{Lo: 100}
	require.NoError(t, s.CreateRefund(ctx, aRefund("rfA", "inv1", 60, refundEpoch), paid))
	err := s.CreateRefund(ctx, aRefund("rfB", "inv1", 41, refundEpoch), paid)
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Refund(ctx, "rfB")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "nothing written")
	require.NoError(t, s.CreateRefund(ctx, aRefund("rfB", "inv1", 40, refundEpoch), paid))
	// Another asset and another invoice have their own bounds.
	eth := aRefund("rfC", "inv1", 100, refundEpoch)
	eth.Asset = "ETH"
	require.NoError(t, s.CreateRefund(ctx, eth, paid))
	require.NoError(t, s.CreateRefund(ctx, aRefund("rfD", "inv2", 100, refundEpoch), paid))

	// A cancelled refund frees its amount.
	a, err := s.Refund(ctx, "rfA")
	require.NoError(t, err)
	a.State = refund.Cancelled
	_, err = s.UpdateRefund(ctx, a, chengdui.Amount{})
	require.NoError(t, err)
	// A Fiat refund converted at its claim is checked as it grows.
	f := aRefund("rfF", "inv1", 0, refundEpoch)
	f.Variant = refund.Fiat
	require.NoError(t, s.CreateRefund(ctx, f, paid))
	f.Amount, f.State = chengdui.Amount{Lo: 61}, refund.InProgress
	_, err = s.UpdateRefund(ctx, f, paid)
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	got, err := s.Refund(ctx, "rfF")
	require.NoError(t, err)
	require.True(t, got.Amount.IsZero(), "nothing written")
	require.Equal(t, refund.AwaitingClaim, got.State)
	f.Amount = chengdui.Amount{Lo: 60}
	_, err = s.UpdateRefund(ctx, f, paid)
	require.NoError(t, err)
	// An amount that does not grow is not checked again.
	f, err = s.Refund(ctx, "rfF")
	require.NoError(t, err)
	f.State = refund.Completed
	_, err = s.UpdateRefund(ctx, f, chengdui.Amount{})
	require.NoError(t, err)
}

// RunRefundRace creates refunds of one invoice and asset concurrently
// through a and b (one store, or two handles on one database): their
// amounts never add up to more than paid, whatever the interleaving.
func RunRefundRace(t *testing.T, a, b refund.Store) {
	ctx := context.Background()
	const n, each = 24, 10
	paid := chengdui.Amount{Lo: 95} // room for 9 of them
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			errs[i] = s.CreateRefund(ctx, aRefund(fmt.Sprintf("rf%02d", i), "inv1", each, refundEpoch.Add(time.Duration(i))), paid)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	}
	require.Equal(t, 9, ok)
	rs, err := a.Refunds(ctx, refund.Filter{InvoiceID: "inv1"})
	require.NoError(t, err)
	sum, _ := refund.Paid(rs)
	require.Equal(t, uint64(90), sum.Lo)
}

func testRefundDelete(t *testing.T, s refund.Store) {
	ctx := context.Background()
	r := aRefund("rf1", "inv1", 10, refundEpoch)
	r.State, r.Booked = refund.Creating, false
	require.NoError(t, s.CreateRefund(ctx, r, chengdui.Amount{Lo: 10}))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(s.DeleteRefund(ctx, "rf1", 2)))
	require.NoError(t, s.DeleteRefund(ctx, "rf1", 1))
	_, err := s.Refund(ctx, "rf1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(s.DeleteRefund(ctx, "rf1", 1)))
	// Its amount is free again; a refund past Creating is never removed.
	live := aRefund("rf2", "inv1", 10, refundEpoch)
	require.NoError(t, s.CreateRefund(ctx, live, chengdui.Amount{Lo: 10}))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(s.DeleteRefund(ctx, "rf2", 1)))
}

func testRefundLists(t *testing.T, s refund.Store) {
	ctx := context.Background()
	big := chengdui.Amount{Lo: 1 << 40}
	for i := range 5 {
		r := aRefund(fmt.Sprintf("rf%d", i), "inv1", 1, refundEpoch.Add(time.Duration(i)*time.Second))
		if i == 3 {
			r.StoreID, r.InvoiceID = "store2", "inv2"
		}
		if i == 4 {
			r.State, r.Booked = refund.Creating, false
		}
		require.NoError(t, s.CreateRefund(ctx, r, big))
	}
	ids := func(f refund.Filter) []string {
		rs, err := s.Refunds(ctx, f)
		require.NoError(t, err)
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	require.Equal(t, []string{"rf0", "rf1", "rf2", "rf3"}, ids(refund.Filter{}), "refunds being created are not listed")
	require.Equal(t, []string{"rf0", "rf1", "rf2"}, ids(refund.Filter{StoreID: "store1"}))
	require.Equal(t, []string{"rf3"}, ids(refund.Filter{InvoiceID: "inv2"}))
	require.Equal(t, []string{"rf1", "rf2"}, ids(refund.Filter{StoreID: "store1", After: "rf0", Limit: 2}))
	require.Equal(t, []string{}, ids(refund.Filter{After: "rfNone"}))

	rs, err := s.UnbookedRefunds(ctx, refundEpoch.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, "rf4", rs[0].ID)
	rs, err = s.UnbookedRefunds(ctx, refundEpoch, 10)
	require.NoError(t, err)
	require.Empty(t, rs, "updated too recently")
}
