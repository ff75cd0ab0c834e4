// Package storetest is the conformance suite every storage engine must pass:
// the ledger's rules, idempotency, linked batches, pending transfers,
// journal verification, property tests and concurrency, run through a real
// ledger.Engine over the engine's Store.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/ledger"

	"github.com/stretchr/testify/require"
)

// Harness is one fresh, migrated store plus raw SQL access for tests that
// tamper with rows.
type Harness struct {
	Store ledger.Store
	Exec  func(ctx context.Context, query string, args ...any) error
}

// Factory returns a fresh, empty, migrated store, closed by t.Cleanup.
type Factory func(t testing.TB) Harness

// Run runs the whole suite.
func Run(t *testing.T, f Factory) {
	t.Run("Refusals", func(t *testing.T) { testRefusals(t, f) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, f) })
	t.Run("Linked", func(t *testing.T) { testLinked(t, f) })
	t.Run("TwoPhase", func(t *testing.T) { testTwoPhase(t, f) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, f) })
	t.Run("BigAmounts", func(t *testing.T) { testBigAmounts(t, f) })
	t.Run("AssetsAccounts", func(t *testing.T) { testAssetsAccounts(t, f) })
	t.Run("History", func(t *testing.T) { testHistory(t, f) })
	t.Run("VerifyTamper", func(t *testing.T) { testVerifyTamper(t, f) })
	t.Run("Property", func(t *testing.T) { testProperty(t, f) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, f) })
	t.Run("CancelMidCommit", func(t *testing.T) { testCancel(t, f) })
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

type env struct {
	t     testing.TB
	h     Harness
	e     *ledger.Engine
	clock *clock
	ctx   context.Context
}

func start(t testing.TB, f Factory) *env {
	t.Helper()
	h := f(t)
	c := newClock()
	e := ledger.New(h.Store, ledger.Options{Now: c.Now, ExpiryInterval: -1})
	require.NoError(t, e.Start(context.Background()))
	t.Cleanup(e.Stop)
	return &env{t: t, h: h, e: e, clock: c, ctx: context.Background()}
}

func (v *env) asset(code string, decimals uint8) {
	v.t.Helper()
	_, err := v.e.CreateAsset(v.ctx, chengdui.Asset{Code: code, Network: "test", Decimals: decimals})
	require.NoError(v.t, err)
}

func (v *env) account(id, asset string, flags chengdui.AccountFlags) {
	v.t.Helper()
	_, err := v.e.CreateAccount(v.ctx, chengdui.Account{ID: id, Asset: asset, Flags: flags})
	require.NoError(v.t, err)
}

// one submits a single transfer and returns its result.
func (v *env) one(t chengdui.Transfer) chengdui.TransferResult {
	v.t.Helper()
	res, err := v.e.CreateTransfers(v.ctx, []chengdui.Transfer{t})
	require.NoError(v.t, err)
	require.Len(v.t, res, 1)
	return res[0]
}

func (v *env) ok(t chengdui.Transfer) chengdui.Transfer {
	v.t.Helper()
	r := v.one(t)
	require.NoError(v.t, r.Err, "transfer %s", t.ID)
	return r.Transfer
}

func (v *env) balance(id string) (debitsPending, debitsPosted, creditsPending, creditsPosted uint64) {
	v.t.Helper()
	a, err := v.e.Account(v.ctx, id)
	require.NoError(v.t, err)
	return a.DebitsPending.Big().Uint64(), a.DebitsPosted.Big().Uint64(), a.CreditsPending.Big().Uint64(), a.CreditsPosted.Big().Uint64()
}

func (v *env) verify() *ledger.Report {
	v.t.Helper()
	rep, err := ledger.Verify(v.ctx, v.h.Store, nil)
	require.NoError(v.t, err)
	return rep
}

func amt(n uint64) chengdui.Amount { return chengdui.Amount{Lo: n} }

func id(prefix string, n int) string { return fmt.Sprintf("%s-%d", prefix, n) }
