package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/storetest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestInvoiceConformance(t *testing.T) {
	storetest.RunInvoice(t, func(t testing.TB) invoice.Store { return Fresh(t) })
}

func TestIdempotencyConformance(t *testing.T) {
	storetest.RunIdempotency(t, func(t testing.TB) chengdui.IdempotencyStore { return Fresh(t) })
}

// TestInvoiceEventsCommitInSeqOrder holds update A in flight after it drew
// its event's seq (a foreign transaction holds A's event id), then starts
// update B: B must wait for A, or B's larger seq would be readable while
// A's smaller one is not, and a reader following the outbox by seq would
// pass A's event for good.
func TestInvoiceEventsCommitInSeqOrder(t *testing.T) {
	db, dsn := FreshDSN(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	invs := map[string]invoice.Invoice{}
	for _, id := range []string{"a", "b"} {
		inv := invoice.Invoice{ID: id, StoreID: "store-1", Status: invoice.New, CreatedAt: at, ExpiresAt: at.Add(time.Hour),
			MonitoringUntil: at.Add(2 * time.Hour), UpdatedAt: at}
		require.NoError(t, db.CreateInvoice(ctx, inv, nil))
		inv.Version = 1
		invs[id] = inv
	}
	event := func(id string) []invoice.Event {
		return []invoice.Event{{ID: "evt-" + id, StoreID: "store-1", InvoiceID: id, Type: invoice.EventExpired, Data: json.RawMessage(`{}`), CreatedAt: at}}
	}

	foreign, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer foreign.Close(ctx)
	watch, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer watch.Close(ctx)
	tx, err := foreign.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	var foreignPID int32
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&foreignPID))
	_, err = tx.Exec(ctx, `INSERT INTO outbox_events (id, store_id, invoice_id, type, data, created_at) VALUES ('evt-a', 'x', 'x', 'x', '', 0)`)
	require.NoError(t, err)

	update := func(id string) chan error {
		done := make(chan error, 1)
		go func() {
			_, err := db.UpdateInvoice(ctx, invs[id], nil, event(id))
			done <- err
		}()
		return done
	}
	// blockedBy waits for a backend that waits for pid, and returns it.
	blockedBy := func(pid int32, finished chan error) int32 {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			select {
			case err := <-finished:
				t.Fatalf("the update finished (%v) instead of waiting", err)
			default:
			}
			var blocked []int32
			require.NoError(t, watch.QueryRow(ctx, `SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
				pid).Scan(&blocked))
			if len(blocked) == 1 {
				return blocked[0]
			}
		}
		t.Fatalf("no backend waits for %d", pid)
		return 0
	}
	aDone := update("a")
	aPID := blockedBy(foreignPID, aDone) // A drew its seq and waits on the event id
	bDone := update("b")
	blockedBy(aPID, bDone) // B waits for A's outbox lock

	evs, err := db.Events(ctx, "", 0, 10)
	require.NoError(t, err)
	require.Empty(t, evs)
	require.NoError(t, tx.Rollback(ctx))
	require.NoError(t, <-aDone)
	require.NoError(t, <-bDone)
	evs, err = db.Events(ctx, "", 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	require.Equal(t, "evt-a", evs[0].ID)
	require.Equal(t, "evt-b", evs[1].ID)
	require.Less(t, evs[0].Seq, evs[1].Seq)
}

// BenchmarkCreateInvoice: see storetest.BenchCreateInvoice.
func BenchmarkCreateInvoice(b *testing.B) { storetest.BenchCreateInvoice(b, Fresh(b)) }
