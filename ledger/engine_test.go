package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/ledger"
	"chengdui/sqlite"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// openDB opens and migrates the SQLite database at path, closed at cleanup.
// Opening the same path twice gives two independent handles, like two
// processes.
func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	require.NoError(t, err)
	return db
}

func tempDB(t testing.TB) *sqlite.DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), "l.db"))
}

// quiet disables the background loops so that only the test writes.
func quiet(o ledger.Options) ledger.Options {
	if o.ExpiryInterval == 0 {
		o.ExpiryInterval = -1
	}
	if o.HistoryInterval == 0 {
		o.HistoryInterval = -1
	}
	return o
}

// startEngine starts an engine, stopped at cleanup before its store closes.
func startEngine(t testing.TB, s ledger.Store, o ledger.Options) *ledger.Engine {
	t.Helper()
	e := ledger.New(s, o)
	require.NoError(t, e.Start(context.Background()))
	t.Cleanup(e.Stop)
	return e
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func amt(n uint64) chengdui.Amount { return chengdui.Amount{Lo: n} }

// setup creates asset USD, an unconstrained "bank" and the given accounts.
func setup(t testing.TB, e *ledger.Engine, accounts map[string]chengdui.AccountFlags) {
	t.Helper()
	ctx := context.Background()
	_, err := e.CreateAsset(ctx, chengdui.Asset{Code: "USD", Network: "fiat", Decimals: 2})
	require.NoError(t, err)
	_, err = e.CreateAccount(ctx, chengdui.Account{ID: "bank", Asset: "USD"})
	require.NoError(t, err)
	for id, f := range accounts {
		_, err = e.CreateAccount(ctx, chengdui.Account{ID: id, Asset: "USD", Flags: f})
		require.NoError(t, err)
	}
}

// transfer submits one transfer and returns its result.
func transfer(t testing.TB, e *ledger.Engine, tr chengdui.Transfer) chengdui.TransferResult {
	t.Helper()
	res, err := e.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
	require.NoError(t, err)
	require.Len(t, res, 1)
	return res[0]
}

func verifyOK(t testing.TB, s ledger.Store) *ledger.Report {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), s, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), "verify: %v", rep.Problems)
	return rep
}

// poll calls cond until it holds or 5 s pass; cond says why it does not
// hold yet, for the failure message.
func poll(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done after 5s: %s", what, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLifecycle(t *testing.T) {
	db := tempDB(t)
	ctx := context.Background()
	one := []chengdui.Transfer{{ID: "t1", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1)}}

	e := ledger.New(db, quiet(ledger.Options{}))
	_, err := e.CreateTransfers(ctx, one)
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "before Start: %v", err)

	require.NoError(t, e.Start(ctx))
	require.Error(t, e.Start(ctx), "second Start")
	setup(t, e, map[string]chengdui.AccountFlags{"u": 0})
	require.NoError(t, transfer(t, e, one[0]).Err)

	e.Stop()
	e.Stop() // idempotent: must neither panic nor block
	_, err = e.CreateTransfers(ctx, []chengdui.Transfer{{ID: "t2", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1)}})
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "after Stop: %v", err)

	h, err := db.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), h.Size, "only the transfer before Stop is committed")

	// An engine stopped without ever starting stops cleanly too.
	never := ledger.New(db, quiet(ledger.Options{}))
	never.Stop()
	never.Stop()
}

func TestStopCommitsQueued(t *testing.T) {
	db := tempDB(t)
	e := ledger.New(db, quiet(ledger.Options{}))
	require.NoError(t, e.Start(context.Background()))
	setup(t, e, map[string]chengdui.AccountFlags{"u": 0})

	// Requests racing Stop are either committed whole or refused as
	// unavailable; none is lost or left hanging.
	const n = 50
	var wg sync.WaitGroup
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			_, err := e.CreateTransfers(context.Background(), []chengdui.Transfer{
				{ID: fmt.Sprintf("s-%d", i), DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1)}})
			codes[i] = chengdui.ErrorCode(err)
		})
	}
	e.Stop()
	wg.Wait()
	committed := 0
	for _, c := range codes {
		switch c {
		case "":
			committed++
		case chengdui.EUnavailable:
		default:
			t.Fatalf("unexpected error code %q", c)
		}
	}
	u, err := db.Account(context.Background(), "u")
	require.NoError(t, err)
	require.Equal(t, amt(uint64(committed)), u.CreditsPosted)
	verifyOK(t, db)
}

func TestMaxBatch(t *testing.T) {
	db := tempDB(t)
	e := startEngine(t, db, quiet(ledger.Options{MaxBatch: 3}))
	setup(t, e, map[string]chengdui.AccountFlags{"u": 0})
	ts := func(n int) []chengdui.Transfer {
		out := make([]chengdui.Transfer, n)
		for i := range out {
			out[i] = chengdui.Transfer{ID: fmt.Sprintf("m%d-%d", n, i), DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1)}
		}
		return out
	}
	_, err := e.CreateTransfers(context.Background(), ts(4))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	h, err := db.Head(context.Background())
	require.NoError(t, err)
	require.Zero(t, h.Size, "a refused request commits nothing")

	res, err := e.CreateTransfers(context.Background(), ts(3))
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}

	_, err = e.CreateTransfers(context.Background(), nil)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "empty request")
}

// metricValues reads the registry: counters and histogram sample counts by
// metric name and label values.
func metricValues(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += fmt.Sprintf("{%s=%s}", l.GetName(), l.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func TestGroupCommitBatches(t *testing.T) {
	db := tempDB(t)
	reg := prometheus.NewRegistry()
	e := startEngine(t, db, quiet(ledger.Options{MaxBatch: 4096, Metrics: ledger.NewMetrics(reg)}))
	setup(t, e, map[string]chengdui.AccountFlags{"u": chengdui.DebitsMustNotExceedCredits})

	const n = 200
	var wg sync.WaitGroup
	release := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-release
			res, err := e.CreateTransfers(context.Background(), []chengdui.Transfer{
				{ID: fmt.Sprintf("g-%d", i), DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1)}})
			if err == nil {
				err = res[0].Err
			}
			errs[i] = err
		})
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "request %d", i)
	}

	m := metricValues(t, reg)
	require.Equal(t, float64(n), m["chengdui_ledger_transfers_committed_total"])
	require.Equal(t, float64(n), m["chengdui_ledger_batch_transfers_sum"], "every committed transfer is in one batch")
	batches := m["chengdui_ledger_batch_transfers_count"]
	require.Positive(t, batches)
	require.Less(t, batches, float64(n), "no group commit held more than one transfer")
	require.Equal(t, batches, m["chengdui_ledger_commit_seconds_count"])
	t.Logf("%d transfers in %v group commits", n, batches)

	u, err := db.Account(context.Background(), "u")
	require.NoError(t, err)
	require.Equal(t, amt(n), u.CreditsPosted)
	verifyOK(t, db)

	// Refusals are counted by code, in one request of independent transfers.
	res, err := e.CreateTransfers(context.Background(), []chengdui.Transfer{
		{ID: "r-zero", DebitAccountID: "bank", CreditAccountID: "u"},
		{ID: "r-same", DebitAccountID: "bank", CreditAccountID: "bank", Amount: amt(1)},
		{ID: "r-missing-1", DebitAccountID: "bank", CreditAccountID: "nobody", Amount: amt(1)},
		{ID: "r-missing-2", DebitAccountID: "nobody", CreditAccountID: "u", Amount: amt(1)},
		{ID: "g-0", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(2)}, // id reused, other body
		{ID: "r-funds", DebitAccountID: "u", CreditAccountID: "bank", Amount: amt(n + 1)},
		{ID: "r-link-a", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(1), Flags: chengdui.Linked},
		{ID: "r-link-b", DebitAccountID: "u", CreditAccountID: "bank", Amount: amt(2 * n)},
	})
	require.NoError(t, err)
	for _, r := range res {
		require.Error(t, r.Err)
	}
	m = metricValues(t, reg)
	const refused = "chengdui_ledger_transfers_refused_total{code=%s}"
	for code, want := range map[string]float64{
		chengdui.EZeroAmount:        1,
		chengdui.ESameAccount:       1,
		chengdui.EAccountNotFound:   2,
		chengdui.EIDConflict:        1,
		chengdui.EExceedsCredits:    2,
		chengdui.ELinkedEventFailed: 1,
	} {
		require.Equal(t, want, m[fmt.Sprintf(refused, code)], "refused with %s", code)
	}
	require.Equal(t, float64(n), m["chengdui_ledger_transfers_committed_total"], "refusals are not committed")
}

func TestExpiryLoop(t *testing.T) {
	db := tempDB(t)
	c := newClock()
	e := startEngine(t, db, ledger.Options{Now: c.Now, ExpiryInterval: 20 * time.Millisecond, HistoryInterval: -1})
	setup(t, e, map[string]chengdui.AccountFlags{"u": chengdui.DebitsMustNotExceedCredits})
	ctx := context.Background()

	require.NoError(t, transfer(t, e, chengdui.Transfer{ID: "fund", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(10)}).Err)
	hold := transfer(t, e, chengdui.Transfer{ID: "hold", DebitAccountID: "u", CreditAccountID: "bank", Amount: amt(7),
		Flags: chengdui.Pending, Timeout: 1})
	require.NoError(t, hold.Err)

	// Several ticks before the deadline: the hold stays open.
	time.Sleep(100 * time.Millisecond)
	st, err := db.PendingStatus(ctx, "hold")
	require.NoError(t, err)
	require.Equal(t, chengdui.PendingOpen, st)

	c.Advance(2 * time.Second)
	poll(t, "pending transfer expired", func() (bool, string) {
		st, err := db.PendingStatus(ctx, "hold")
		return err == nil && st == chengdui.PendingExpiredStatus, fmt.Sprintf("status %v, err %v", st, err)
	})

	void, err := db.Transfer(ctx, "expire:hold")
	require.NoError(t, err)
	require.Equal(t, chengdui.VoidPending|chengdui.Expiry, void.Flags)
	require.Equal(t, "hold", void.PendingID)
	require.Equal(t, amt(7), void.Amount)
	require.Equal(t, hold.Transfer.Seq+1, void.Seq)

	u, err := db.Account(ctx, "u")
	require.NoError(t, err)
	require.True(t, u.DebitsPending.IsZero(), "the hold is released")
	require.True(t, u.DebitsPosted.IsZero())

	// An expired hold can no longer be posted.
	r := transfer(t, e, chengdui.Transfer{ID: "late-post", PendingID: "hold", Flags: chengdui.PostPending})
	require.Equal(t, chengdui.EPendingExpired, chengdui.ErrorCode(r.Err))
	verifyOK(t, db)
}

// historyStore counts what the engine's history loop indexes.
type historyStore struct {
	ledger.Store
	indexed atomic.Int64
}

func (s *historyStore) IndexHistory(ctx context.Context, max int) (int, error) {
	n, err := s.Store.IndexHistory(ctx, max)
	s.indexed.Add(int64(n))
	return n, err
}

func TestHistoryLoop(t *testing.T) {
	db := tempDB(t)
	hs := &historyStore{Store: db}
	e := startEngine(t, hs, ledger.Options{HistoryInterval: 20 * time.Millisecond, ExpiryInterval: -1})
	setup(t, e, map[string]chengdui.AccountFlags{"u": 0, "v": 0})
	ctx := context.Background()

	const n = 10
	for i := range n {
		to := []string{"u", "v"}[i%2]
		require.NoError(t, transfer(t, e, chengdui.Transfer{ID: fmt.Sprintf("h-%d", i), DebitAccountID: "bank", CreditAccountID: to, Amount: amt(1)}).Err)
	}
	poll(t, "history index caught up", func() (bool, string) {
		got := hs.indexed.Load()
		return got == n, fmt.Sprintf("%d of %d entries indexed", got, n)
	})
	// The loop did the work: nothing is left for anyone else.
	left, err := db.IndexHistory(ctx, 1000)
	require.NoError(t, err)
	require.Zero(t, left)

	got, err := e.Transfers(ctx, chengdui.TransferFilter{AccountID: "v"})
	require.NoError(t, err)
	require.Len(t, got, n/2)
	for _, tr := range got {
		require.Equal(t, "v", tr.CreditAccountID)
	}
}

func TestCancelledBeforeSubmit(t *testing.T) {
	db := tempDB(t)
	e := startEngine(t, db, quiet(ledger.Options{}))
	setup(t, e, map[string]chengdui.AccountFlags{"u": 0})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := chengdui.Transfer{ID: "c-1", DebitAccountID: "bank", CreditAccountID: "u", Amount: amt(5)}
	// The submit races a ready queue against the done context; repeat so
	// both ways are taken.
	for range 50 {
		res, err := e.CreateTransfers(ctx, []chengdui.Transfer{tr})
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, res)
	}
	bg := context.Background()
	h, err := db.Head(bg)
	require.NoError(t, err)
	require.Zero(t, h.Size)
	_, err = db.Transfer(bg, "c-1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	u, err := db.Account(bg, "u")
	require.NoError(t, err)
	require.True(t, u.CreditsPosted.IsZero())

	// The id was not used up.
	r := transfer(t, e, tr)
	require.NoError(t, r.Err)
	require.False(t, r.Existed)
	require.Equal(t, uint64(1), r.Transfer.Seq)
}

// TestAccountCacheTwoEngines runs two engines, as two processes would, on
// one database file. Each engine caches balances; after the other engine
// writes, the cache is stale and must be dropped, or a no-overdraft account
// could be spent twice.
func TestAccountCacheTwoEngines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	dbA, dbB := openDB(t, path), openDB(t, path)
	a := startEngine(t, dbA, quiet(ledger.Options{}))
	b := startEngine(t, dbB, quiet(ledger.Options{}))
	setup(t, a, map[string]chengdui.AccountFlags{"alice": chengdui.DebitsMustNotExceedCredits, "shop": 0})
	engines := []*ledger.Engine{a, b}

	const rounds = 20
	for i := range rounds {
		x, y := engines[i%2], engines[(i+1)%2]
		// x funds alice: y's cached alice (if any) is now stale.
		r := transfer(t, x, chengdui.Transfer{ID: fmt.Sprintf("fund-%d", i), DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(10)})
		require.NoError(t, r.Err, "round %d: fund", i)
		// y spends all of it: a stale cache would see no funds.
		r = transfer(t, y, chengdui.Transfer{ID: fmt.Sprintf("spend-%d", i), DebitAccountID: "alice", CreditAccountID: "shop", Amount: amt(10)})
		require.NoError(t, r.Err, "round %d: spend through the other engine", i)
		// x's cache still holds the funded balance: an overdraft through it
		// must be refused.
		r = transfer(t, x, chengdui.Transfer{ID: fmt.Sprintf("overdraft-%d", i), DebitAccountID: "alice", CreditAccountID: "shop", Amount: amt(1)})
		require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(r.Err), "round %d: overdraft through the stale engine: %v", i, r.Err)
		// Now y holds alice at zero available. x funds 5 more; spending it
		// through y must not be refused on y's stale balance (a refusal
		// writes nothing, so only the head check can catch it).
		r = transfer(t, x, chengdui.Transfer{ID: fmt.Sprintf("topup-%d", i), DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(5)})
		require.NoError(t, r.Err, "round %d: top up", i)
		r = transfer(t, y, chengdui.Transfer{ID: fmt.Sprintf("spend-rest-%d", i), DebitAccountID: "alice", CreditAccountID: "shop", Amount: amt(5)})
		require.NoError(t, r.Err, "round %d: spend the top-up through the engine that saw alice empty", i)
	}

	ctx := context.Background()
	for _, db := range []*sqlite.DB{dbA, dbB} {
		alice, err := db.Account(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, amt(15*rounds), alice.CreditsPosted)
		require.Equal(t, amt(15*rounds), alice.DebitsPosted)
		require.True(t, alice.DebitsPending.IsZero())
		shop, err := db.Account(ctx, "shop")
		require.NoError(t, err)
		require.Equal(t, amt(15*rounds), shop.CreditsPosted)
		bank, err := db.Account(ctx, "bank")
		require.NoError(t, err)
		require.Equal(t, amt(15*rounds), bank.DebitsPosted)

		rep := verifyOK(t, db)
		require.Equal(t, uint64(4*rounds), rep.Entries)
	}
}

// TestTwoEnginesConcurrent lets two engines on one database file race on
// one no-overdraft account, with batches in flight on both. Whatever
// interleaving happens, every answer must match the stored balances and
// the journal must verify.
func TestTwoEnginesConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	dbA, dbB := openDB(t, path), openDB(t, path)
	a := startEngine(t, dbA, quiet(ledger.Options{}))
	b := startEngine(t, dbB, quiet(ledger.Options{}))
	setup(t, a, map[string]chengdui.AccountFlags{"alice": chengdui.DebitsMustNotExceedCredits, "shop": 0})

	const workers, steps = 8, 40
	var funded, spent atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range 2 * workers {
		e := []*ledger.Engine{a, b}[w%2]
		wg.Go(func() {
			for i := range steps {
				tr := chengdui.Transfer{ID: fmt.Sprintf("w%d-%d", w, i), Amount: amt(uint64(1 + (w+i)%7))}
				fund := (w+i)%3 == 0
				if fund {
					tr.DebitAccountID, tr.CreditAccountID = "bank", "alice"
				} else {
					tr.DebitAccountID, tr.CreditAccountID = "alice", "shop"
				}
				res, err := e.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
				if err != nil {
					errs <- err
					return
				}
				switch code := chengdui.ErrorCode(res[0].Err); {
				case code == "" && fund:
					funded.Add(tr.Amount.Lo)
				case code == "":
					spent.Add(tr.Amount.Lo)
				case code != chengdui.EExceedsCredits || fund:
					errs <- fmt.Errorf("transfer %s: %w", tr.ID, res[0].Err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Positive(t, spent.Load(), "no spend ever succeeded")

	ctx := context.Background()
	for _, db := range []*sqlite.DB{dbA, dbB} {
		alice, err := db.Account(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, amt(funded.Load()), alice.CreditsPosted, "every fund answered as committed is committed, and only those")
		require.Equal(t, amt(spent.Load()), alice.DebitsPosted, "every spend answered as committed is committed, and only those")
		require.LessOrEqual(t, alice.DebitsPosted.Cmp(alice.CreditsPosted), 0, "alice overdrawn")
		verifyOK(t, db)
	}
}

// hookStore lets a test act at two points of an engine's pipeline: when a
// transfer id is looked up outside the write transaction (the next batch
// is being prepared) and just before a write transaction begins.
type hookStore struct {
	ledger.Store
	prefetched   chan string // transfer ids looked up by Prefetch
	beforeCommit atomic.Pointer[func()]
}

func (s *hookStore) Prefetch(ctx context.Context, transferIDs, accountIDs, pendingIDs []string) (*ledger.Prefetched, error) {
	for _, id := range transferIDs {
		select {
		case s.prefetched <- id:
		default:
		}
	}
	return s.Store.Prefetch(ctx, transferIDs, accountIDs, pendingIDs)
}

func (s *hookStore) Commit(ctx context.Context, fn func(ledger.BatchTx) error) error {
	if hook := s.beforeCommit.Swap(nil); hook != nil {
		(*hook)()
	}
	return s.Store.Commit(ctx, fn)
}

// TestStaleBatchBehindRefusedBatch builds the worst case for a pipelined
// engine: batch N and batch N+1 were both prepared on a view in which
// alice has funds, then another process spends them before N is written.
// N is refused on the slow path and writes nothing, so the journal has as
// many entries as N+1 expects; only the chain hash shows that N+1 was
// prepared on a head that never existed. N+1 must be refused too.
func TestStaleBatchBehindRefusedBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	dbA, dbB := openDB(t, path), openDB(t, path)
	hs := &hookStore{Store: dbA, prefetched: make(chan string, 64)}
	a := startEngine(t, hs, quiet(ledger.Options{}))
	b := startEngine(t, dbB, quiet(ledger.Options{}))
	setup(t, a, map[string]chengdui.AccountFlags{"alice": chengdui.DebitsMustNotExceedCredits, "shop": 0})
	spend := func(id string, n uint64) chengdui.Transfer {
		return chengdui.Transfer{ID: id, DebitAccountID: "alice", CreditAccountID: "shop", Amount: amt(n)}
	}
	require.NoError(t, transfer(t, a, chengdui.Transfer{ID: "fund", DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(10)}).Err)
	// Engine A now holds alice with 10 available.

	writing := make(chan struct{})
	release := make(chan struct{})
	hook := func() { close(writing); <-release }
	hs.beforeCommit.Store(&hook)

	type outcome struct {
		id   string
		code string
	}
	results := make(chan outcome, 2)
	submit := func(tr chengdui.Transfer) {
		res, err := a.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
		if err == nil {
			err = res[0].Err
		}
		results <- outcome{tr.ID, chengdui.ErrorCode(err)}
	}
	go submit(spend("n", 6)) // batch N
	<-writing
	// N waits before its transaction; N+1 is prepared on top of it.
	go submit(spend("n+1", 4))
	timeout := time.After(5 * time.Second)
wait:
	for {
		select {
		case id := <-hs.prefetched:
			if id == "n+1" {
				break wait
			}
		case <-timeout:
			t.Fatal("batch N+1 was never prepared while batch N waited")
		}
	}
	time.Sleep(50 * time.Millisecond) // let the preparer hand N+1 to the writer

	// Another process spends everything first.
	require.NoError(t, transfer(t, b, spend("other", 10)).Err)
	close(release)

	for range 2 {
		r := <-results
		require.Equal(t, chengdui.EExceedsCredits, r.code, "transfer %s", r.id)
	}
	ctx := context.Background()
	alice, err := dbA.Account(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, amt(10), alice.DebitsPosted)
	require.Equal(t, amt(10), alice.CreditsPosted)
	rep := verifyOK(t, dbA)
	require.Equal(t, uint64(2), rep.Entries)

	// Engine A recovers and carries on.
	require.NoError(t, transfer(t, a, chengdui.Transfer{ID: "fund-2", DebitAccountID: "bank", CreditAccountID: "alice", Amount: amt(3)}).Err)
	require.NoError(t, transfer(t, a, spend("n+2", 3)).Err)
	verifyOK(t, dbA)
}
