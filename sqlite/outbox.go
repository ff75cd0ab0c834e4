package sqlite

import (
	"context"
	"database/sql"

	"chengdui"
	"chengdui/invoice"
)

// AppendEvents adds events to the outbox the webhook sender reads, for a
// change stored without them (a refund's state). An event whose id is in
// the outbox already is skipped, so announcing a change again after a
// crash sends it once.
func (d *DB) AppendEvents(ctx context.Context, events []invoice.Event) error {
	for _, e := range events {
		if e.ID == "" || e.StoreID == "" || e.Type == "" {
			return chengdui.Errorf(chengdui.EInvalid, "an outbox event needs an id, a store and a type")
		}
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (id, store_id, invoice_id, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO NOTHING`, e.ID, e.StoreID, e.InvoiceID, e.Type, string(e.Data), invoiceMicros(e.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}
