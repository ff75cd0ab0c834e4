package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"chengdui"
	"chengdui/invoice"
)

// AppendEvents adds events to the outbox the webhook sender reads, for a
// change stored without them (a refund's state), under the outbox's
// advisory lock so sequence numbers commit in order. An event whose id is
// in the outbox already is skipped, so announcing a change again after a
// crash sends it once.
func (d *DB) AppendEvents(ctx context.Context, events []invoice.Event) error {
	for _, e := range events {
		if e.ID == "" || e.StoreID == "" || e.Type == "" {
			return chengdui.Errorf(chengdui.EInvalid, "an outbox event needs an id, a store and a type")
		}
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(outboxLock))
		for _, e := range events {
			b.Queue(`INSERT INTO outbox_events (id, store_id, invoice_id, type, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (id) DO NOTHING`, e.ID, e.StoreID, e.InvoiceID, e.Type, string(e.Data), invoiceMicros(e.CreatedAt))
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
