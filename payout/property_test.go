package payout_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/payout"
	"chengdui/rail"
)

// TestPropertyMoneyConserved runs random sequences of creations,
// approvals, cancellations, dispatches, bank updates (duplicated,
// reordered, contradictory) and lost replies, and checks after every step
// that the store's balance splits exactly into what is available, what
// payouts not yet settled hold, and what completed payouts took.
func TestPropertyMoneyConserved(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 42))
			var ids []string
			statuses := []rail.Status{rail.Accepted, rail.Completed, rail.Failed, rail.Returned}
			for step := range 150 {
				switch op := rng.IntN(10); {
				case op < 3:
					whole := rng.IntN(100)
					if rng.IntN(5) == 0 {
						whole += 450 // around the approval threshold
					}
					amount := fmt.Sprintf("%d.%02d", whole, rng.IntN(100))
					p, err := f.svc.Create(ctx, eurRequest(fmt.Sprintf("p%d", rng.IntN(80)), amount))
					if err == nil && (len(ids) == 0 || !contains(ids, p.ID)) {
						ids = append(ids, p.ID)
					}
					requireKnownCode(t, err, chengdui.EExceedsCredits, chengdui.EConflict, chengdui.EZeroAmount)
				case op < 4 && len(ids) > 0:
					_, err := f.svc.Approve(ctx, ids[rng.IntN(len(ids))], []string{"alice", "bob"}[rng.IntN(2)])
					requireKnownCode(t, err, chengdui.EConflict, chengdui.EUnauthorized)
				case op < 5 && len(ids) > 0:
					_, err := f.svc.Cancel(ctx, ids[rng.IntN(len(ids))], "bob")
					requireKnownCode(t, err, chengdui.EConflict)
				case op < 7:
					if len(ids) > 0 && rng.IntN(4) == 0 {
						f.bank.mu.Lock()
						f.bank.lose[ids[rng.IntN(len(ids))]] = 1
						f.bank.mu.Unlock()
					}
					_, err := f.svc.Dispatch(ctx)
					require.NoError(t, err)
				case op < 8:
					f.clock.Advance(time.Duration(rng.IntN(90)) * time.Second)
				case len(ids) > 0:
					id := ids[rng.IntN(len(ids))]
					_, err := f.svc.Apply(ctx, rail.Update{OrderID: id, BankRef: "REF-" + id, Status: statuses[rng.IntN(len(statuses))], Reason: "r"})
					requireKnownCode(t, err, chengdui.EConflict)
				}
				f.checkConserved(t, step, ids)
			}
			seen := map[payout.State]int{}
			for _, id := range ids {
				seen[f.get(id).State]++
			}
			t.Logf("payouts by state: %v", seen)
			require.GreaterOrEqual(t, len(seen), 3, "the sequence reached too few states to mean much")
		})
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func requireKnownCode(t *testing.T, err error, codes ...string) {
	t.Helper()
	if err != nil {
		require.Contains(t, codes, chengdui.ErrorCode(err), "%v", err)
	}
}

func (f *fixture) checkConserved(t *testing.T, step int, ids []string) {
	t.Helper()
	var held, paid chengdui.Amount
	all, err := f.svc.List(context.Background(), payout.Filter{Limit: payout.MaxLimit})
	require.NoError(t, err)
	require.Len(t, all, len(ids))
	for _, p := range all {
		id := p.ID
		switch p.State {
		case payout.AwaitingApproval, payout.AwaitingPayment, payout.InProgress:
			held = held.Add(p.Amount)
		case payout.Completed:
			paid = paid.Add(p.Amount)
		}
		if p.State == payout.Cancelled {
			require.Zero(t, f.bank.count(id), "step %d: payout %s was cancelled but sent", step, id)
		}
	}
	store := f.account("store:s1:EUR")
	require.Equal(t, held, store.DebitsPending, "step %d: held", step)
	acct, err := f.eng.Account(context.Background(), payout.Account("EUR"))
	if chengdui.ErrorCode(err) != chengdui.EAccountNotFound { // created by the first payout
		require.NoError(t, err)
	}
	require.Equal(t, paid, acct.CreditsPosted.Sub(acct.DebitsPosted), "step %d: paid out", step)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR").Add(held).Add(paid), "step %d: conserved", step)
}

// FuzzCreate feeds Create outside input: it is refused with a client's
// code and holds nothing, or it holds exactly the amount it parsed, once
// per payout.
func FuzzCreate(f *testing.F) {
	f.Add("c1", "125.50", "BANK", "DE89 3704 0044 0532 0130 00", "", "alice")
	f.Add("c2", "0.5", "CHAIN", "", dest, "alice")
	f.Add("c1", "1e3", "BANK", "DE89370400440532013001", "x", "alice")
	f.Add("", "-1", "", "", "", "")
	f.Add("id\x00", "00000000000000000000000000000000000000001.00", "CHAIN", "GB82WEST12345698765432", "0x", "a:b")
	fx := setup(f)
	seen := map[string]bool{}
	f.Fuzz(func(t *testing.T, id, amount, method, iban, address, by string) {
		ctx := context.Background()
		asset := "EUR"
		if method == string(payout.Chain) {
			asset = "ETH"
		}
		heldOf := func() chengdui.Amount {
			a, err := fx.eng.Account(ctx, "store:s1:"+asset)
			require.NoError(t, err)
			return a.DebitsPending
		}
		before := heldOf()
		req := payout.CreateRequest{ID: id, StoreID: "s1", Asset: asset, Amount: amount, Method: payout.Method(method),
			Creditor: rail.Party{Name: "Fuzz", IBAN: iban}, Address: address, CreatedBy: by}
		if method == string(payout.Chain) {
			req.Creditor = rail.Party{}
		}
		p, err := fx.svc.Create(ctx, req)
		if err != nil {
			code := chengdui.ErrorCode(err)
			require.NotEqual(t, chengdui.EInternal, code, "%v", err)
			require.Equal(t, before, heldOf(), "a refused request holds nothing")
			return
		}
		dec := map[string]uint8{"EUR": 2, "ETH": 18}[asset]
		want, perr := chengdui.ParseDecimal(amount, dec)
		require.NoError(t, perr)
		require.Equal(t, want, p.Amount)
		require.True(t, rail.ValidID(p.ID))
		got, err := fx.svc.Get(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)
		if seen[p.ID] {
			require.Equal(t, before, heldOf(), "a repeated request holds nothing more")
		} else {
			require.Equal(t, before.Add(p.Amount), heldOf())
		}
		seen[p.ID] = true
	})
}
