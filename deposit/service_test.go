package deposit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"chengdui"
	"chengdui/deposit"
	"chengdui/ledger"
	"chengdui/sqlite"
)

const chain = "bitcoin:regtest"

// resolver maps addresses to accounts: the test's own address book.
type resolver map[string]string

func (r resolver) Resolve(_ context.Context, p deposit.Payment) (string, error) {
	if a, ok := r[p.Address]; ok {
		return a, nil
	}
	return "", chengdui.Errorf(chengdui.ENotFound, "nobody's address")
}

type alerts struct {
	mu     sync.Mutex
	events []string
}

func (a *alerts) Record(_ context.Context, event, _ string, _ map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, event)
}

type fixture struct {
	svc    *deposit.Service
	db     *sqlite.DB
	eng    *ledger.Engine
	alerts *alerts
}

func setup(t testing.TB, policy deposit.Policy) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)
	for _, id := range []string{"user:alice:BTC", "user:bob:BTC"} {
		_, err := eng.CreateAccount(ctx, chengdui.Account{ID: id, Asset: "BTC", Flags: chengdui.DebitsMustNotExceedCredits})
		require.NoError(t, err)
	}
	f := &fixture{db: db, eng: eng, alerts: &alerts{}}
	f.svc = deposit.New(db, eng, resolver{"addr-alice": "user:alice:BTC", "addr-bob": "user:bob:BTC"},
		deposit.Config{Policies: map[string]deposit.Policy{"BTC": policy}, Alerts: f.alerts})
	return f
}

func pay(tx string, vout uint32, addr string, sat uint64, height uint64) deposit.Payment {
	p := deposit.Payment{Key: deposit.Key{Chain: chain, TxID: tx, Kind: deposit.KindOutput, Index: vout}, Address: addr, Asset: "BTC", Amount: chengdui.Amount{Lo: sat}, Height: height}
	if height > 0 {
		p.BlockHash = fmt.Sprintf("block-%d", height)
	}
	return p
}

func (f *fixture) balance(t testing.TB, acct string) chengdui.Amount {
	a, err := f.eng.Account(context.Background(), acct)
	require.NoError(t, err)
	return a.CreditsPosted.Sub(a.DebitsPosted)
}

// transfer finds a committed transfer of an account by id.
func (f *fixture) transfer(t testing.TB, acct, id string) chengdui.Transfer {
	ts, err := f.eng.Transfers(context.Background(), chengdui.TransferFilter{AccountID: acct, Limit: 1000})
	require.NoError(t, err)
	for _, tr := range ts {
		if tr.ID == id {
			return tr
		}
	}
	t.Fatalf("no transfer %s on %s", id, acct)
	return chengdui.Transfer{}
}

func (f *fixture) status(t testing.TB, p deposit.Payment) deposit.Status {
	d, err := f.db.Deposit(context.Background(), p.Key)
	require.NoError(t, err)
	return d.Status
}

func TestCreditAtDepthOnce(t *testing.T) {
	f := setup(t, deposit.Policy{Depth: 3})
	ctx := context.Background()
	p := pay("tx1", 1, "addr-alice", 5000, 100)
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{p}))
	for tip := uint64(100); tip < 102; tip++ {
		res, err := f.svc.Settle(ctx, chain, tip)
		require.NoError(t, err)
		require.Zero(t, res.Credited, "tip %d: %d confirmations are not enough", tip, tip-99)
	}
	res, err := f.svc.Settle(ctx, chain, 102)
	require.NoError(t, err)
	require.Equal(t, 1, res.Credited)
	require.Equal(t, chengdui.Amount{Lo: 5000}, f.balance(t, "user:alice:BTC"))
	// Seen again, settled again: nothing more.
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{p}))
	res, err = f.svc.Settle(ctx, chain, 110)
	require.NoError(t, err)
	require.Zero(t, res.Credited)
	require.Equal(t, chengdui.Amount{Lo: 5000}, f.balance(t, "user:alice:BTC"))

	tr := f.transfer(t, "user:alice:BTC", deposit.CreditID(p.Key, 0))
	require.Equal(t, "tx1", tr.Metadata["txid"])
	require.Equal(t, "1", tr.Metadata["index"])

	// A changed amount for a known payment is refused.
	bad := p
	bad.Amount = chengdui.Amount{Lo: 1}
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(f.svc.Observe(ctx, []deposit.Payment{bad})))
}

func TestReorgReversesAndRecredits(t *testing.T) {
	f := setup(t, deposit.Policy{Depth: 2})
	ctx := context.Background()
	credited := pay("tx1", 0, "addr-alice", 7000, 100)
	early := pay("tx2", 0, "addr-bob", 300, 101)
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{credited, early}))
	_, err := f.svc.Settle(ctx, chain, 101)
	require.NoError(t, err)
	require.Equal(t, deposit.Credited, f.status(t, credited))
	require.Equal(t, deposit.Seen, f.status(t, early))

	// Blocks 100 and up leave the chain.
	require.NoError(t, f.svc.Disconnect(ctx, chain, 100))
	require.Equal(t, deposit.Orphaned, f.status(t, early))
	res, err := f.svc.Settle(ctx, chain, 99)
	require.NoError(t, err)
	require.Equal(t, 1, res.Reversed)
	require.Zero(t, res.Credited)
	require.True(t, f.balance(t, "user:alice:BTC").IsZero())
	require.True(t, f.balance(t, "user:bob:BTC").IsZero(), "orphaned before its depth: never credited")
	require.Contains(t, f.alerts.events, deposit.AlertReversed)

	// Mined again in the new chain: credited again under a new id.
	again := credited
	again.BlockHash, again.Height = "block-b-103", 103
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{again}))
	res, err = f.svc.Settle(ctx, chain, 104)
	require.NoError(t, err)
	require.Equal(t, 1, res.Credited)
	require.Equal(t, chengdui.Amount{Lo: 7000}, f.balance(t, "user:alice:BTC"))
	f.transfer(t, "user:alice:BTC", deposit.CreditID(credited.Key, 1))
}

func TestZeroConfAndReplace(t *testing.T) {
	f := setup(t, deposit.Policy{Depth: 0, ZeroConfMax: chengdui.Amount{Lo: 10000}})
	ctx := context.Background()
	small := pay("tx1", 0, "addr-alice", 900, 0)
	rbf := pay("tx2", 0, "addr-alice", 900, 0)
	rbf.RBF = true
	big := pay("tx3", 0, "addr-alice", 20000, 0)
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{small, rbf, big}))
	res, err := f.svc.Settle(ctx, chain, 50)
	require.NoError(t, err)
	require.Equal(t, 1, res.Credited, "only the small non-RBF payment is credited from the mempool")
	require.Equal(t, chengdui.Amount{Lo: 900}, f.balance(t, "user:alice:BTC"))

	// It is double-spent: the credit is reversed.
	require.NoError(t, f.svc.Replace(ctx, chain, "tx1"))
	require.Equal(t, deposit.Replaced, f.status(t, small))
	require.True(t, f.balance(t, "user:alice:BTC").IsZero())
	// The RBF one is replaced before any credit: nothing to reverse.
	require.NoError(t, f.svc.Replace(ctx, chain, "tx2"))
	require.Equal(t, deposit.Replaced, f.status(t, rbf))
	// The big one confirms: credited at once (depth 0 means one block).
	big.BlockHash, big.Height = "block-51", 51
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{big}))
	res, err = f.svc.Settle(ctx, chain, 51)
	require.NoError(t, err)
	require.Equal(t, 1, res.Credited)
	require.Equal(t, chengdui.Amount{Lo: 20000}, f.balance(t, "user:alice:BTC"))
}

func TestUnexpectedAndBlockedReversal(t *testing.T) {
	f := setup(t, deposit.Policy{Depth: 1})
	ctx := context.Background()
	stray := pay("tx1", 0, "addr-nobody", 100, 10)
	mine := pay("tx2", 0, "addr-alice", 5000, 10)
	require.NoError(t, f.svc.Observe(ctx, []deposit.Payment{stray, mine}))
	res, err := f.svc.Settle(ctx, chain, 10)
	require.NoError(t, err)
	require.Equal(t, 1, res.Unexpected)
	require.Equal(t, deposit.Unexpected, f.status(t, stray))
	require.Contains(t, f.alerts.events, deposit.AlertUnexpected)

	// Alice spends the deposit, then its block leaves the chain: the
	// reversal cannot take it back; it stays credited and alerts once.
	_, err = f.eng.CreateAccount(ctx, chengdui.Account{ID: "shop", Asset: "BTC"})
	require.NoError(t, err)
	r, err := f.eng.CreateTransfers(ctx, []chengdui.Transfer{{ID: "spend", DebitAccountID: "user:alice:BTC", CreditAccountID: "shop", Amount: chengdui.Amount{Lo: 4000}, Code: 3}})
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	require.NoError(t, f.svc.Disconnect(ctx, chain, 10))
	for range 3 {
		_, err = f.svc.Settle(ctx, chain, 9)
		require.NoError(t, err)
	}
	require.Equal(t, deposit.Credited, f.status(t, mine))
	n := 0
	for _, e := range f.alerts.events {
		if e == deposit.AlertReversalBlocked {
			n++
		}
	}
	require.Equal(t, 1, n)
}

// TestPropertyCreditsMatchChain drives the service with random chain
// events and checks, after every step, that each user's balance is the sum
// of their deposits that stand credited, that no payment is credited twice
// net, and that the ledger balances.
func TestPropertyCreditsMatchChain(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		depth := rapid.Uint32Range(0, 3).Draw(rt, "depth")
		f := setup(t, deposit.Policy{Depth: depth, ZeroConfMax: chengdui.Amount{Lo: 500}})
		ctx := context.Background()
		tip := uint64(100)
		var ps []deposit.Payment
		for step := range rapid.IntRange(1, 25).Draw(rt, "steps") {
			switch rapid.IntRange(0, 4).Draw(rt, fmt.Sprintf("op%d", step)) {
			case 0: // a new payment, in the mempool or the next block
				addr := rapid.SampledFrom([]string{"addr-alice", "addr-bob", "addr-nobody"}).Draw(rt, "addr")
				h := uint64(0)
				if rapid.Bool().Draw(rt, "mined") {
					tip++
					h = tip
				}
				p := pay(fmt.Sprintf("tx%d", step), 0, addr, rapid.Uint64Range(1, 1000).Draw(rt, "sat"), h)
				p.RBF = rapid.Bool().Draw(rt, "rbf")
				ps = append(ps, p)
				require.NoError(rt, f.svc.Observe(ctx, []deposit.Payment{p}))
			case 1: // blocks are mined
				tip += rapid.Uint64Range(1, 3).Draw(rt, "mine")
			case 2: // a reorg takes the last blocks away
				back := rapid.Uint64Range(1, 3).Draw(rt, "back")
				require.NoError(rt, f.svc.Disconnect(ctx, chain, tip-back+1))
				for i := range ps {
					if ps[i].Height > tip-back {
						ps[i].Height, ps[i].BlockHash = 0, ""
					}
				}
				tip -= back
			case 3: // an unconfirmed payment is mined
				if len(ps) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(ps)-1).Draw(rt, "which")
				if ps[i].Height == 0 {
					tip++
					ps[i].Height, ps[i].BlockHash = tip, fmt.Sprintf("block-%d-%d", tip, i)
					require.NoError(rt, f.svc.Observe(ctx, []deposit.Payment{ps[i]}))
				}
			case 4: // an unconfirmed payment is replaced
				if len(ps) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(ps)-1).Draw(rt, "which")
				require.NoError(rt, f.svc.Replace(ctx, chain, ps[i].TxID))
			}
			_, err := f.svc.Settle(ctx, chain, tip)
			require.NoError(rt, err)

			want := map[string]uint64{}
			for _, p := range ps {
				d, err := f.db.Deposit(ctx, p.Key)
				require.NoError(rt, err)
				if d.Status == deposit.Credited {
					want[d.AccountID] += d.Amount.Lo
				}
				if d.Status == deposit.Credited && d.Height == 0 {
					// Only the zero-conf rule keeps an unconfirmed credit.
					require.Zero(rt, depth, "deposit %s credited without a block", d.Key)
				}
			}
			for _, acct := range []string{"user:alice:BTC", "user:bob:BTC"} {
				require.Equal(rt, chengdui.Amount{Lo: want[acct]}, f.balance(t, acct), "step %d: %s", step, acct)
			}
		}
		rep, err := ledger.Verify(ctx, f.db, nil)
		require.NoError(rt, err)
		require.True(rt, rep.OK(), "%+v", rep)
	})
}
