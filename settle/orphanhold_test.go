package settle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
)

// failCreateOnce is a payout store whose first CreatePayout fails, as if
// the process stopped between payout.Service.Create's hold and its record.
type failCreateOnce struct {
	payout.Store
	failed bool
}

func (f *failCreateOnce) CreatePayout(ctx context.Context, p payout.Payout) error {
	if !f.failed {
		f.failed = true
		return errors.New("the process stopped")
	}
	return f.Store.CreatePayout(ctx, p)
}

// idleRail accepts nothing: the test only creates payouts.
type idleRail struct{ rail.Rail }

func (*idleRail) Name() string         { return "idle" }
func (*idleRail) Currencies() []string { return []string{"CNY"} }

// TestSchedulerCompletesOrphanHold: a daily payout whose hold was placed
// but whose record was not (a crash inside payout.Create) is completed by
// the next tick with the held amount, not left holding the store's money.
func TestSchedulerCompletesOrphanHold(t *testing.T) {
	e := setupSched(t, settle.NoDelay)
	ctx := context.Background()
	_, err := e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{Splits: []chengdui.SettlementSplit{bankSplit(10000, "CNY", "Tea House")},
		Schedule: chengdui.PayoutSchedule{Kind: "daily", At: "00:00"}, OTP: e.code(t)})
	require.NoError(t, err)
	e.payouts, err = payout.New(payout.Config{Store: &failCreateOnce{Store: e.DB}, Ledger: e.Ledger, Assets: e.DB, Now: e.Now,
		Rails: map[string]rail.Rail{"CNY": &idleRail{}}})
	require.NoError(t, err)
	sched, err := settle.NewScheduler(settle.SchedulerConfig{Profiles: e.profiles, Payouts: e.payouts, Balances: e.Ledger, Transfers: e.DB, Now: e.Now})
	require.NoError(t, err)
	e.fund(t, "CNY", "100000", 2)
	e.earn(t, "100.00", "0xa")
	before := e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY"))
	_, err = sched.Tick(ctx, e.Now())
	require.Error(t, err, "the first attempt stops after the hold")
	e.earn(t, "50.00", "0xb")
	n, err := sched.Tick(ctx, e.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ps, err := e.payouts.List(ctx, payout.Filter{StoreID: e.StoreID})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, before, ps[0].Amount, "the held amount, not the balance left after the hold")
	a, err := e.Ledger.Account(ctx, invoice.StoreAccount(e.StoreID, "CNY"))
	require.NoError(t, err)
	require.Equal(t, before, a.DebitsPending, "one hold, the payout's")
}
