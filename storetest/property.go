package storetest

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"chengdui"
	"chengdui/ledger"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// testProperty runs random sequences of transfers, pendings, posts, voids,
// linked chains and retries, and checks after every step that
//   - a refused operation changed no balance,
//   - a retry returns the first result,
//   - debits equal credits per asset,
//   - no account breaches its limit flag,
//   - the stored balances equal a replay of the accepted transfers,
//
// and at the end that ledger.Verify agrees with storage.
func testProperty(t *testing.T, f Factory) {
	v := start(t, f)
	iter := 0
	rapid.Check(t, func(rt *rapid.T) {
		iter++
		prefix := fmt.Sprintf("p%d", iter)
		asset := fmt.Sprintf("A%d", iter)
		v.asset(asset, 6)
		nacc := rapid.IntRange(2, 5).Draw(rt, "accounts")
		accs := make([]string, nacc)
		flags := make([]chengdui.AccountFlags, nacc)
		for i := range accs {
			accs[i] = fmt.Sprintf("%s-a%d", prefix, i)
			flags[i] = rapid.SampledFrom([]chengdui.AccountFlags{0, chengdui.DebitsMustNotExceedCredits, chengdui.CreditsMustNotExceedDebits}).Draw(rt, "flags")
			v.account(accs[i], asset, flags[i])
		}
		model := newModel()
		var done [][]chengdui.Transfer // requests that committed wholly, for retries
		var pendings []string
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for s := 0; s < steps; s++ {
			tid := fmt.Sprintf("%s-t%d", prefix, s)
			var req []chengdui.Transfer
			switch op := rapid.IntRange(0, 5).Draw(rt, "op"); op {
			case 0, 1: // posted or pending transfer
				tr := chengdui.Transfer{ID: tid, DebitAccountID: rapid.SampledFrom(accs).Draw(rt, "dr"),
					CreditAccountID: rapid.SampledFrom(accs).Draw(rt, "cr"), Amount: amt(rapid.Uint64Range(0, 1000).Draw(rt, "amount"))}
				if op == 1 {
					tr.Flags = chengdui.Pending
				}
				req = []chengdui.Transfer{tr}
			case 2: // post or void a pending transfer, maybe partially
				if len(pendings) == 0 {
					continue
				}
				tr := chengdui.Transfer{ID: tid, PendingID: rapid.SampledFrom(pendings).Draw(rt, "pending"),
					Flags: rapid.SampledFrom([]chengdui.TransferFlags{chengdui.PostPending, chengdui.VoidPending}).Draw(rt, "resolve")}
				tr.Amount = amt(rapid.Uint64Range(0, 1000).Draw(rt, "partial"))
				req = []chengdui.Transfer{tr}
			case 3: // linked chain
				n := rapid.IntRange(2, 4).Draw(rt, "chain")
				for k := 0; k < n; k++ {
					tr := chengdui.Transfer{ID: fmt.Sprintf("%s.%d", tid, k), DebitAccountID: rapid.SampledFrom(accs).Draw(rt, "dr"),
						CreditAccountID: rapid.SampledFrom(accs).Draw(rt, "cr"), Amount: amt(rapid.Uint64Range(1, 500).Draw(rt, "amount"))}
					if k < n-1 {
						tr.Flags = chengdui.Linked
					}
					req = append(req, tr)
				}
			case 4: // retry an earlier committed transfer
				if len(done) == 0 {
					continue
				}
				prev := rapid.SampledFrom(done).Draw(rt, "retry")
				before := snapshot(v, accs)
				res, err := v.e.CreateTransfers(context.Background(), prev)
				if err != nil {
					rt.Fatalf("retry of %s: %v", prev[0].ID, err)
				}
				for _, r := range res {
					if r.Err != nil || !r.Existed {
						rt.Fatalf("retry of %s: existed=%v err=%v", prev[0].ID, r.Existed, r.Err)
					}
				}
				if after := snapshot(v, accs); after != before {
					rt.Fatalf("retry of %s moved money", prev[0].ID)
				}
				continue
			case 5: // fund from the first account (no limits on some)
				req = []chengdui.Transfer{{ID: tid, DebitAccountID: accs[0], CreditAccountID: rapid.SampledFrom(accs[1:]).Draw(rt, "to"), Amount: amt(rapid.Uint64Range(1, 2000).Draw(rt, "fund"))}}
			}
			before := snapshot(v, accs)
			res, err := v.e.CreateTransfers(context.Background(), req)
			if err != nil {
				rt.Fatalf("request: %v", err)
			}
			anyOK := false
			for _, r := range res {
				if r.Err != nil {
					continue
				}
				anyOK = true
				model.apply(r.Transfer)
				if r.Transfer.Flags&chengdui.Pending != 0 {
					pendings = append(pendings, r.Transfer.ID)
				}
			}
			if anyOK {
				done = append(done, req)
			}
			if !anyOK && snapshot(v, accs) != before {
				rt.Fatalf("refused request %v changed balances", req[0].ID)
			}
			checkInvariants(rt, v, accs, flags, model)
		}
	})
	rep := v.verify()
	require.True(t, rep.OK(), "%v", rep.Problems)
}

// model replays accepted transfers into expected balances.
type model struct {
	bal     map[string]*[4]big.Int // debits pending, posted, credits pending, posted
	pending map[string]chengdui.Transfer
}

func newModel() *model {
	return &model{bal: map[string]*[4]big.Int{}, pending: map[string]chengdui.Transfer{}}
}

func (m *model) get(id string) *[4]big.Int {
	if m.bal[id] == nil {
		m.bal[id] = &[4]big.Int{}
	}
	return m.bal[id]
}

func (m *model) apply(t chengdui.Transfer) {
	d, c := m.get(t.DebitAccountID), m.get(t.CreditAccountID)
	switch {
	case t.Flags&chengdui.Pending != 0:
		m.pending[t.ID] = t
		d[0].Add(&d[0], t.Amount.Big())
		c[2].Add(&c[2], t.Amount.Big())
	case t.Flags&(chengdui.PostPending|chengdui.VoidPending) != 0:
		p := m.pending[t.PendingID]
		d[0].Sub(&d[0], p.Amount.Big())
		c[2].Sub(&c[2], p.Amount.Big())
		if t.Flags&chengdui.PostPending != 0 {
			d[1].Add(&d[1], t.Amount.Big())
			c[3].Add(&c[3], t.Amount.Big())
		}
	default:
		d[1].Add(&d[1], t.Amount.Big())
		c[3].Add(&c[3], t.Amount.Big())
	}
}

func snapshot(v *env, accs []string) string {
	s := ""
	for _, a := range accs {
		acc, err := v.e.Account(v.ctx, a)
		if err != nil {
			v.t.Fatalf("account %s: %v", a, err)
		}
		s += fmt.Sprintf("%s:%s/%s/%s/%s;", a, acc.DebitsPending, acc.DebitsPosted, acc.CreditsPending, acc.CreditsPosted)
	}
	return s
}

func checkInvariants(rt *rapid.T, v *env, accs []string, flags []chengdui.AccountFlags, m *model) {
	var debits, credits big.Int
	for i, id := range accs {
		a, err := v.e.Account(v.ctx, id)
		if err != nil {
			rt.Fatalf("account %s: %v", id, err)
		}
		debits.Add(&debits, a.DebitsPending.Big())
		debits.Add(&debits, a.DebitsPosted.Big())
		credits.Add(&credits, a.CreditsPending.Big())
		credits.Add(&credits, a.CreditsPosted.Big())
		want := m.get(id)
		got := [4]*big.Int{a.DebitsPending.Big(), a.DebitsPosted.Big(), a.CreditsPending.Big(), a.CreditsPosted.Big()}
		for k := range got {
			if got[k].Cmp(&want[k]) != 0 {
				rt.Fatalf("account %s balance %d: stored %s, replay %s", id, k, got[k], &want[k])
			}
		}
		dsum := new(big.Int).Add(got[0], got[1])
		csum := new(big.Int).Add(got[2], got[3])
		if flags[i]&chengdui.DebitsMustNotExceedCredits != 0 && dsum.Cmp(got[3]) > 0 {
			rt.Fatalf("account %s: debits %s exceed credits %s", id, dsum, got[3])
		}
		if flags[i]&chengdui.CreditsMustNotExceedDebits != 0 && csum.Cmp(got[1]) > 0 {
			rt.Fatalf("account %s: credits %s exceed debits %s", id, csum, got[1])
		}
	}
	if debits.Cmp(&credits) != 0 {
		rt.Fatalf("debits %s != credits %s", &debits, &credits)
	}
}

// testConcurrency hammers a few hot accounts from many goroutines: no
// update is lost, no limit breached, and the journal verifies.
func testConcurrency(t *testing.T, f Factory) {
	v := start(t, f)
	v.asset("USD", 2)
	v.account("src", "USD", 0)
	const hot = 4
	for i := 0; i < hot; i++ {
		v.account(id("hot", i), "USD", chengdui.DebitsMustNotExceedCredits)
		v.ok(chengdui.Transfer{ID: id("seed", i), DebitAccountID: "src", CreditAccountID: id("hot", i), Amount: amt(500)})
	}
	workers, per := 16, 40
	if testing.Short() {
		per = 15
	}
	var mu sync.Mutex
	okByAcc := map[string]uint64{}
	var wg sync.WaitGroup
	// Verify reads a snapshot: it must pass while commits go on.
	verifyDone := make(chan struct{})
	go func() {
		defer close(verifyDone)
		for i := 0; i < 5; i++ {
			rep, err := ledger.Verify(v.ctx, v.h.Store, nil)
			if err != nil {
				t.Errorf("verify during commits: %v", err)
				return
			}
			if !rep.OK() {
				t.Errorf("verify during commits: %v", rep.Problems)
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				from, to := id("hot", (w+i)%hot), id("hot", (w+i+1)%hot)
				tr := chengdui.Transfer{ID: fmt.Sprintf("c-%d-%d", w, i), DebitAccountID: from, CreditAccountID: to, Amount: amt(uint64(7 + i%13))}
				if i%5 == 0 { // drain attempts that must sometimes fail
					tr.Amount = amt(400)
				}
				res, err := v.e.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
				if err != nil {
					t.Error(err)
					return
				}
				if res[0].Err == nil {
					mu.Lock()
					okByAcc[from] -= tr.Amount.Lo
					okByAcc[to] += tr.Amount.Lo
					mu.Unlock()
				} else if c := chengdui.ErrorCode(res[0].Err); c != chengdui.EExceedsCredits {
					t.Errorf("unexpected refusal %s", c)
				}
			}
		}(w)
	}
	wg.Wait()
	<-verifyDone
	var total uint64
	for i := 0; i < hot; i++ {
		a, err := v.e.Account(v.ctx, id("hot", i))
		require.NoError(t, err)
		bal, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
		require.True(t, ok, "limit breached on %s", a.ID)
		require.Equal(t, 500+okByAcc[a.ID], bal.Lo, "lost update on %s", a.ID)
		total += bal.Lo
	}
	require.Equal(t, uint64(500*hot), total)
	rep := v.verify()
	require.True(t, rep.OK(), "%v", rep.Problems)
}

// testCancel cancels requests while batches commit: every request is
// either wholly in the journal or wholly absent, and storage verifies.
func testCancel(t *testing.T, f Factory) {
	v := start(t, f)
	setupBasic(v)
	var wg sync.WaitGroup
	results := make([][]chengdui.TransferResult, 40)
	errs := make([]error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			if i%2 == 0 {
				cancel()
			} else {
				defer cancel()
			}
			chain := []chengdui.Transfer{
				{ID: fmt.Sprintf("k%d.0", i), DebitAccountID: "bank", CreditAccountID: "bob", Amount: amt(3), Flags: chengdui.Linked},
				{ID: fmt.Sprintf("k%d.1", i), DebitAccountID: "bob", CreditAccountID: "alice", Amount: amt(2)},
			}
			results[i], errs[i] = v.e.CreateTransfers(ctx, chain)
		}(i)
	}
	wg.Wait()
	for i := 0; i < 40; i++ {
		_, e0 := v.h.Store.Transfer(v.ctx, fmt.Sprintf("k%d.0", i))
		_, e1 := v.h.Store.Transfer(v.ctx, fmt.Sprintf("k%d.1", i))
		require.Equal(t, e0 == nil, e1 == nil, "request %d half committed", i)
		if errs[i] == nil {
			require.NoError(t, e0, "request %d reported committed but absent", i)
		}
	}
	rep, err := ledger.Verify(v.ctx, v.h.Store, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
}
