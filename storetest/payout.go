package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/payout"
	"chengdui/rail"

	"github.com/stretchr/testify/require"
)

// RunPayout runs the payout.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunPayout(t *testing.T, f func(t testing.TB) payout.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testPayoutRoundTrip(t, f(t)) })
	t.Run("CompareAndSet", func(t *testing.T) { testPayoutCompareAndSet(t, f(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { RunPayoutClaims(t, f(t)) })
	t.Run("Filter", func(t *testing.T) { testPayoutFilter(t, f(t)) })
	t.Run("Pages", func(t *testing.T) { testPayoutPages(t, f(t)) })
	t.Run("Due", func(t *testing.T) { testPayoutDue(t, f(t)) })
	t.Run("Events", func(t *testing.T) { testPayoutEvents(t, f(t)) })
}

// testPayoutEvents checks that payout changes are announced in the outbox
// the webhook sender reads (invoice.Store's Events), in the change's own
// transaction: PayoutCreated, PayoutApproved, PayoutUpdated per change of
// state, nothing for a change that keeps the state or loses its
// compare-and-set.
func testPayoutEvents(t *testing.T, s payout.Store) {
	ctx := context.Background()
	events, ok := s.(interface {
		Events(ctx context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error)
	})
	require.True(t, ok, "the payout store is the outbox's store")
	p := chainPayout("po-ev", payoutEpoch)
	require.NoError(t, s.CreatePayout(ctx, p))
	p.State, p.ApprovedBy = payout.AwaitingPayment, "carol"
	p, err := s.UpdatePayout(ctx, p)
	require.NoError(t, err)
	stale := p
	stale.Version = 1
	stale.State = payout.Cancelled
	_, err = s.UpdatePayout(ctx, stale)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	p.State = payout.InProgress
	p, err = s.UpdatePayout(ctx, p)
	require.NoError(t, err)
	p.Ref = "0xabc"
	p, err = s.UpdatePayout(ctx, p)
	require.NoError(t, err)
	p.State, p.Reason = payout.Failed, "failed at the bank"
	_, err = s.UpdatePayout(ctx, p)
	require.NoError(t, err)
	evs, err := events.Events(ctx, "", 0, 100)
	require.NoError(t, err)
	var types, states []string
	for _, ev := range evs {
		require.Equal(t, "store2", ev.StoreID)
		require.Empty(t, ev.InvoiceID)
		var d struct {
			PayoutID    string `json:"payoutId"`
			PayoutState string `json:"payoutState"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		require.Equal(t, "po-ev", d.PayoutID)
		types, states = append(types, ev.Type), append(states, d.PayoutState)
	}
	require.Equal(t, []string{payout.EventCreated, payout.EventApproved, payout.EventUpdated, payout.EventUpdated}, types)
	require.Equal(t, []string{"AwaitingApproval", "AwaitingPayment", "InProgress", "Cancelled"}, states, "Failed is Greenfield's Cancelled")
}

var payoutEpoch = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func bankPayout(id string, at time.Time) payout.Payout {
	return payout.Payout{ID: id, StoreID: "store1", Asset: "EUR", Amount: chengdui.Amount{Lo: 12550}, Method: payout.Bank, Rail: "sandbox",
		Creditor:  rail.Party{Name: "Zoë Müller GmbH", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX", Country: "DE"},
		Reference: "Invoice 2026-11 ü", State: payout.AwaitingPayment, CreatedBy: "alice", CreatedAt: at, UpdatedAt: at, Version: 1}
}

func chainPayout(id string, at time.Time) payout.Payout {
	return payout.Payout{ID: id, StoreID: "store2", Asset: "USDT-ERC20", Amount: chengdui.Amount{Lo: 1, Hi: 1 << 60}, Method: payout.Chain,
		Address: "0x52908400098527886E0F7030069857D2E4169EE7", Reference: "Payout " + id, State: payout.AwaitingApproval,
		CreatedBy: "bob", CreatedAt: at, UpdatedAt: at, Version: 1}
}

func testPayoutRoundTrip(t *testing.T, s payout.Store) {
	ctx := context.Background()
	for _, p := range []payout.Payout{bankPayout("po-bank", payoutEpoch), chainPayout("po-chain", payoutEpoch)} {
		require.NoError(t, s.CreatePayout(ctx, p))
		got, err := s.Payout(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)
		require.True(t, got.SubmittedAt.IsZero(), "a zero SubmittedAt stays zero")
	}
	err := s.CreatePayout(ctx, bankPayout("po-bank", payoutEpoch))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Payout(ctx, "po-nobody")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	// The largest amount, a Bank payout with a domestic account, and
	// every mutable field set.
	max := bankPayout("po-max", payoutEpoch)
	max.Asset, max.Amount = "CNY", chengdui.Amount{Lo: ^uint64(0), Hi: ^uint64(0)}
	max.Creditor = rail.Party{Name: "成都商户", Account: "6222020200112233445", BankCode: "102100099996", Country: "CN"}
	max.State, max.ApprovedBy, max.Reason, max.Ref = payout.Failed, "carol", payout.ReasonReturned+": MD06", "SBX0001"
	max.SubmittedAt, max.UpdatedAt, max.Version = payoutEpoch.Add(time.Second), payoutEpoch.Add(time.Hour), 7
	require.NoError(t, s.CreatePayout(ctx, max))
	got, err := s.Payout(ctx, max.ID)
	require.NoError(t, err)
	require.Equal(t, max, got)
	require.Equal(t, "340282366920938463463374607431768211455", got.Amount.String())
}

func testPayoutCompareAndSet(t *testing.T, s payout.Store) {
	ctx := context.Background()
	p := bankPayout("po-1", payoutEpoch)
	require.NoError(t, s.CreatePayout(ctx, p))

	next := p
	next.State, next.Ref, next.SubmittedAt, next.UpdatedAt = payout.InProgress, "SBX1", payoutEpoch.Add(time.Second), payoutEpoch.Add(time.Second)
	// Immutable fields are not changed by an update.
	changed := next
	changed.Amount, changed.Creditor.IBAN, changed.StoreID, changed.CreatedBy = chengdui.Amount{Lo: 5}, "elsewhere", "store9", "mallory"
	saved, err := s.UpdatePayout(ctx, changed)
	require.NoError(t, err)
	require.Equal(t, int64(2), saved.Version)
	want := next
	want.Version = 2
	got, err := s.Payout(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// The same old version again: refused, nothing written.
	stale := p
	stale.State, stale.Reason, stale.UpdatedAt = payout.Cancelled, "cancelled by bob", payoutEpoch.Add(time.Minute)
	_, err = s.UpdatePayout(ctx, stale)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	got, err = s.Payout(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// From the version read, it goes on; SubmittedAt can go back to zero.
	got.State, got.Ref, got.SubmittedAt, got.Reason = payout.Failed, "", time.Time{}, "refused"
	saved, err = s.UpdatePayout(ctx, got)
	require.NoError(t, err)
	require.Equal(t, int64(3), saved.Version)
	again, err := s.Payout(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, saved, again)
	require.True(t, again.SubmittedAt.IsZero())

	_, err = s.UpdatePayout(ctx, bankPayout("po-missing", payoutEpoch))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

// RunPayoutClaims has workers race to move the same payouts out of
// AwaitingPayment, as Dispatch in several processes does: each payout is
// claimed by exactly one. stores are handles on one empty, migrated
// database (more than one, as separate processes would hold); workers
// take turns among them.
func RunPayoutClaims(t *testing.T, stores ...payout.Store) {
	ctx := context.Background()
	s := stores[0]
	const payouts, workers = 20, 8
	for i := range payouts {
		require.NoError(t, s.CreatePayout(ctx, bankPayout(fmt.Sprintf("po-%02d", i), payoutEpoch.Add(time.Duration(i)*time.Millisecond))))
	}
	var mu sync.Mutex
	winners := map[string][]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			<-start
			for i := range payouts {
				id := fmt.Sprintf("po-%02d", i)
				p, err := s.Payout(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				if p.State != payout.AwaitingPayment {
					continue
				}
				p.State, p.Reason, p.UpdatedAt = payout.InProgress, fmt.Sprintf("worker %d", w), payoutEpoch.Add(time.Hour)
				_, err = s.UpdatePayout(ctx, p)
				switch chengdui.ErrorCode(err) {
				case "":
					mu.Lock()
					winners[id] = append(winners[id], w)
					mu.Unlock()
				case chengdui.EConflict:
				default:
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, winners, payouts)
	for i := range payouts {
		id := fmt.Sprintf("po-%02d", i)
		require.Len(t, winners[id], 1, "payout %s claimed by %v", id, winners[id])
		got, err := s.Payout(ctx, id)
		require.NoError(t, err)
		require.Equal(t, payout.InProgress, got.State)
		require.Equal(t, fmt.Sprintf("worker %d", winners[id][0]), got.Reason, "the winner's write is the one stored")
		require.Equal(t, int64(2), got.Version)
	}
}

func payoutIDs(t *testing.T, s payout.Store, f payout.Filter) []string {
	t.Helper()
	ps, err := s.Payouts(context.Background(), f)
	require.NoError(t, err)
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func testPayoutFilter(t *testing.T, s payout.Store) {
	ctx := context.Background()
	for i := range 6 {
		p := bankPayout(fmt.Sprintf("p%d", i), payoutEpoch.Add(time.Duration(i)*time.Second))
		if i%2 == 1 {
			p = chainPayout(p.ID, p.CreatedAt)
		}
		if i >= 4 {
			p.State, p.UpdatedAt = payout.Cancelled, payoutEpoch.Add(time.Hour)
		}
		require.NoError(t, s.CreatePayout(ctx, p))
	}
	require.Equal(t, []string{"p0", "p1", "p2", "p3", "p4", "p5"}, payoutIDs(t, s, payout.Filter{}))
	require.Equal(t, []string{"p0", "p2", "p4"}, payoutIDs(t, s, payout.Filter{StoreID: "store1"}))
	require.Equal(t, []string{"p4", "p5"}, payoutIDs(t, s, payout.Filter{State: payout.Cancelled}))
	require.Equal(t, []string{"p1", "p3"}, payoutIDs(t, s, payout.Filter{StoreID: "store2", State: payout.AwaitingApproval}))
	require.Equal(t, []string{"p4", "p5"}, payoutIDs(t, s, payout.Filter{UpdatedSince: payoutEpoch.Add(time.Hour)}))
	require.Equal(t, []string{"p5"}, payoutIDs(t, s, payout.Filter{StoreID: "store2", UpdatedSince: payoutEpoch.Add(time.Minute)}))
	require.Equal(t, []string{}, payoutIDs(t, s, payout.Filter{UpdatedSince: payoutEpoch.Add(2 * time.Hour)}))
	require.Equal(t, []string{"p0", "p1"}, payoutIDs(t, s, payout.Filter{Limit: 2}))
	require.Equal(t, []string{}, payoutIDs(t, s, payout.Filter{StoreID: "store3"}))
	require.Equal(t, []string{}, payoutIDs(t, s, payout.Filter{State: payout.Completed}))
}

// testPayoutPages pages through payouts several of which share a
// creation time: the id breaks ties, so no page repeats or skips one.
func testPayoutPages(t *testing.T, s payout.Store) {
	ctx := context.Background()
	// Inserted out of order; "B" < "a" in byte order on both engines.
	want := []string{"po-A", "po-B", "po-a", "po-b", "po-c", "po-d", "po-e"}
	for _, id := range []string{"po-d", "po-a", "po-B", "po-e", "po-c", "po-A", "po-b"} {
		at := payoutEpoch
		switch id {
		case "po-d", "po-e":
			at = at.Add(time.Second)
		case "po-c":
			at = at.Add(time.Microsecond)
		}
		require.NoError(t, s.CreatePayout(ctx, bankPayout(id, at)))
	}
	var got []string
	f := payout.Filter{Limit: 3}
	for range 10 {
		page := payoutIDs(t, s, f)
		got = append(got, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1]
	}
	require.Equal(t, want, got)
	require.Equal(t, []string{"po-b", "po-c"}, payoutIDs(t, s, payout.Filter{After: "po-a", Limit: 2}))
	require.Equal(t, []string{}, payoutIDs(t, s, payout.Filter{After: "po-e"}))
	require.Equal(t, []string{}, payoutIDs(t, s, payout.Filter{After: "po-unknown"}))
	require.Equal(t, []string{"po-d"}, payoutIDs(t, s, payout.Filter{After: "po-c", StoreID: "store1", Limit: 1}))
}

func testPayoutDue(t *testing.T, s payout.Store) {
	ctx := context.Background()
	staleBefore := payoutEpoch.Add(time.Hour)
	type row struct {
		id        string
		state     payout.State
		submitted bool
		updated   time.Duration // after payoutEpoch
	}
	for i, r := range []row{
		{"d-waiting", payout.AwaitingPayment, false, 2 * time.Hour}, // due however recent
		{"d-approval", payout.AwaitingApproval, false, 0},
		{"d-stale", payout.InProgress, false, 59 * time.Minute}, // claimed, never accepted
		{"d-fresh", payout.InProgress, false, time.Hour},        // claimed just now: not yet
		{"d-accepted", payout.InProgress, true, 0},              // the rail has it
		{"d-done", payout.Completed, true, 0},
		{"d-cancelled", payout.Cancelled, false, 0},
		{"d-failed", payout.Failed, false, 0},
		{"d-waiting2", payout.AwaitingPayment, false, 0},
	} {
		p := bankPayout(r.id, payoutEpoch.Add(time.Duration(i)*time.Second))
		p.State, p.UpdatedAt = r.state, payoutEpoch.Add(r.updated)
		if r.submitted {
			p.SubmittedAt, p.Ref = payoutEpoch, "SBX-"+r.id
		}
		require.NoError(t, s.CreatePayout(ctx, p))
	}
	due := func(after string, limit int) []string {
		ps, err := s.DuePayouts(ctx, staleBefore, after, limit)
		require.NoError(t, err)
		out := []string{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	require.Equal(t, []string{"d-waiting", "d-stale", "d-waiting2"}, due("", 10))
	require.Equal(t, []string{"d-waiting", "d-stale"}, due("", 2))
	require.Equal(t, []string{"d-waiting2"}, due("d-stale", 2))
	require.Equal(t, []string{"d-stale", "d-waiting2"}, due("d-waiting", 10))
	require.Equal(t, []string{}, due("d-waiting2", 10))

	// Accepted by the rail, the stale one is no longer due.
	p, err := s.Payout(ctx, "d-stale")
	require.NoError(t, err)
	p.SubmittedAt, p.Ref = staleBefore, "SBX-late"
	_, err = s.UpdatePayout(ctx, p)
	require.NoError(t, err)
	require.Equal(t, []string{"d-waiting", "d-waiting2"}, due("", 10))
}
