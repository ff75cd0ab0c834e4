package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
)

// RunIdempotency runs the chengdui.IdempotencyStore conformance suite. f
// returns a fresh, empty, migrated store, closed by t.Cleanup.
func RunIdempotency(t *testing.T, f func(t testing.TB) chengdui.IdempotencyStore) {
	t.Run("Reserve", func(t *testing.T) { testIdemReserve(t, f(t)) })
	t.Run("Complete", func(t *testing.T) { testIdemComplete(t, f(t)) })
	t.Run("Release", func(t *testing.T) { testIdemRelease(t, f(t)) })
	t.Run("TakeOver", func(t *testing.T) { testIdemTakeOver(t, f(t)) })
	t.Run("Refusals", func(t *testing.T) { testIdemRefusals(t, f(t)) })
	t.Run("Concurrency", func(t *testing.T) { testIdemConcurrency(t, f(t)) })
}

func idemKey(scope, key, hash string) chengdui.Idempotent {
	return chengdui.Idempotent{Scope: scope, Key: key, RequestHash: hash, CreatedAt: walletEpoch}
}

func mustReserve(t testing.TB, s chengdui.IdempotencyStore, r chengdui.Idempotent, created bool) chengdui.Idempotent {
	t.Helper()
	got, ok, err := s.ReserveIdempotent(context.Background(), r)
	require.NoError(t, err)
	require.Equal(t, created, ok, "created")
	return got
}

func testIdemReserve(t *testing.T, s chengdui.IdempotencyStore) {
	// The store keeps status 0 and no body, whatever it is given.
	r := idemKey("store-1:POST /invoices", "key-1", "aa11")
	r.Status, r.Body = 201, []byte("ignored")
	want := idemKey("store-1:POST /invoices", "key-1", "aa11")
	require.Equal(t, want, mustReserve(t, s, r, true))

	// Again, with another request: what is stored comes back.
	again := idemKey("store-1:POST /invoices", "key-1", "bb22")
	again.CreatedAt = walletEpoch.Add(time.Hour)
	require.Equal(t, want, mustReserve(t, s, again, false))

	// Keys are per scope.
	other := idemKey("store-2:POST /invoices", "key-1", "cc33")
	require.Equal(t, other, mustReserve(t, s, other, true))
	other2 := idemKey("store-1:POST /withdrawals", "key-1", "dd44")
	require.Equal(t, other2, mustReserve(t, s, other2, true))

	// Times come back in UTC at microsecond precision.
	cst := idemKey("s", "k", "h")
	cst.CreatedAt = time.Date(2026, 12, 2, 17, 0, 0, 999999000, time.FixedZone("CST", 8*3600))
	got := mustReserve(t, s, cst, true)
	require.Equal(t, time.Date(2026, 12, 2, 9, 0, 0, 999999000, time.UTC), got.CreatedAt)
	require.Equal(t, got, mustReserve(t, s, idemKey("s", "k", "h"), false))
}

func testIdemComplete(t *testing.T, s chengdui.IdempotencyStore) {
	ctx := context.Background()
	r := mustReserve(t, s, idemKey("scope", "key-1", "aa11"), true)
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	require.NoError(t, s.CompleteIdempotent(ctx, r.Scope, r.Key, 201, body))
	want := r
	want.Status, want.Body = 201, body
	require.Equal(t, want, mustReserve(t, s, idemKey("scope", "key-1", "other"), false))

	requireCode(t, chengdui.EConflict, s.CompleteIdempotent(ctx, r.Scope, r.Key, 500, []byte("again")))
	require.Equal(t, want, mustReserve(t, s, r, false), "unchanged")
	requireCode(t, chengdui.ENotFound, s.CompleteIdempotent(ctx, r.Scope, "key-2", 201, nil))
	requireCode(t, chengdui.ENotFound, s.CompleteIdempotent(ctx, "another scope", r.Key, 201, nil))

	// An empty answer.
	r2 := mustReserve(t, s, idemKey("scope", "key-3", "aa11"), true)
	require.NoError(t, s.CompleteIdempotent(ctx, r2.Scope, r2.Key, 204, nil))
	r2.Status = 204
	require.Equal(t, r2, mustReserve(t, s, r2, false))
}

func testIdemRelease(t *testing.T, s chengdui.IdempotencyStore) {
	ctx := context.Background()
	r := mustReserve(t, s, idemKey("scope", "key-1", "aa11"), true)
	mustReserve(t, s, idemKey("other", "key-1", "aa11"), true)
	require.NoError(t, s.ReleaseIdempotent(ctx, r.Scope, r.Key))
	requireCode(t, chengdui.ENotFound, s.CompleteIdempotent(ctx, r.Scope, r.Key, 200, nil))
	// Released: the retry reserves it afresh, perhaps as another request.
	r = mustReserve(t, s, idemKey("scope", "key-1", "bb22"), true)
	require.Equal(t, "bb22", r.RequestHash)
	// The other scope's key stayed.
	require.Equal(t, "aa11", mustReserve(t, s, idemKey("other", "key-1", "x"), false).RequestHash)

	// A completed key is not released.
	require.NoError(t, s.CompleteIdempotent(ctx, r.Scope, r.Key, 200, []byte(`{"ok":true}`)))
	require.NoError(t, s.ReleaseIdempotent(ctx, r.Scope, r.Key))
	got := mustReserve(t, s, idemKey("scope", "key-1", "cc33"), false)
	require.Equal(t, 200, got.Status)
	require.Equal(t, `{"ok":true}`, string(got.Body))

	require.NoError(t, s.ReleaseIdempotent(ctx, "scope", "unknown"))
}

// testIdemTakeOver: a reservation left behind is taken over once, by the
// retry that read it; a completed or released key, or one taken over
// already, is not.
func testIdemTakeOver(t *testing.T, s chengdui.IdempotencyStore) {
	ctx := context.Background()
	r := mustReserve(t, s, idemKey("scope", "key-1", "aa11"), true)
	later := r.CreatedAt.Add(10 * time.Minute)
	taken, err := s.TakeOverIdempotent(ctx, r.Scope, r.Key, r.CreatedAt, later)
	require.NoError(t, err)
	require.True(t, taken)
	got := mustReserve(t, s, idemKey("scope", "key-1", "aa11"), false)
	require.True(t, got.CreatedAt.Equal(later))
	require.Zero(t, got.Status)
	taken, err = s.TakeOverIdempotent(ctx, r.Scope, r.Key, r.CreatedAt, later.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, taken, "a second retry that read the old reservation loses")
	require.NoError(t, s.CompleteIdempotent(ctx, r.Scope, r.Key, 201, []byte(`{}`)))
	taken, err = s.TakeOverIdempotent(ctx, r.Scope, r.Key, later, later.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, taken, "a completed key is not taken over")
	taken, err = s.TakeOverIdempotent(ctx, "scope", "unknown", later, later)
	require.NoError(t, err)
	require.False(t, taken)
}

func testIdemRefusals(t *testing.T, s chengdui.IdempotencyStore) {
	ctx := context.Background()
	for _, r := range []chengdui.Idempotent{idemKey("", "key", "h"), idemKey("scope", "", "h")} {
		_, _, err := s.ReserveIdempotent(ctx, r)
		requireCode(t, chengdui.EInvalid, err)
	}
	r := mustReserve(t, s, idemKey("scope", "key", "h"), true)
	for _, status := range []int{0, -1, 99, 600} {
		requireCode(t, chengdui.EInvalid, s.CompleteIdempotent(ctx, r.Scope, r.Key, status, nil))
	}
	require.Equal(t, r, mustReserve(t, s, r, false), "still reserved")
}

// testIdemConcurrency reserves one key from many requests at once: one
// creates it, the others get its row.
func testIdemConcurrency(t *testing.T, s chengdui.IdempotencyStore) {
	const n = 16
	var wg sync.WaitGroup
	got := make([]chengdui.Idempotent, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got[i], created[i], errs[i] = s.ReserveIdempotent(context.Background(), idemKey("scope", "key", fmt.Sprint(i)))
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		require.NoError(t, errs[i], "request %d", i)
		if created[i] {
			require.Equal(t, -1, winner, "two requests created the key")
			winner = i
		}
	}
	require.NotEqual(t, -1, winner, "no request created the key")
	for i := range n {
		require.Equal(t, fmt.Sprint(winner), got[i].RequestHash, "request %d sees the winner's row", i)
	}
}
