package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chengdui"
	"chengdui/webhook"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ webhook.Store = (*DB)(nil)

// webhookCursor names the invoice outbox's row in webhook_cursors.
const webhookCursor = "invoice"

const webhookCols = `id, store_id, url, secret, enabled, automatic_redelivery, everything, events, created_at`

// CreateWebhook implements webhook.Store.
func (d *DB) CreateWebhook(ctx context.Context, w webhook.Webhook) error {
	events, err := webhookEvents(w.Events.Specific)
	if err != nil {
		return err
	}
	_, err = d.write.ExecContext(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.StoreID, w.URL, w.Secret, w.Enabled, w.AutomaticRedelivery, w.Events.Everything, events, w.CreatedAt.UnixMicro())
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "") {
		return chengdui.Errorf(chengdui.EConflict, "webhook %q exists", w.ID)
	}
	return err
}

// Webhook implements webhook.Store.
func (d *DB) Webhook(ctx context.Context, id string) (webhook.Webhook, error) {
	w, err := scanWebhook(d.read.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, chengdui.Errorf(chengdui.ENotFound, "no webhook %q", id)
	}
	return w, err
}

// Webhooks implements webhook.Store.
func (d *DB) Webhooks(ctx context.Context, storeID string) ([]webhook.Webhook, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE store_id = ? ORDER BY created_at, id`, storeID)
	return collect(rows, err, scanWebhook)
}

// UpdateWebhook implements webhook.Store.
func (d *DB) UpdateWebhook(ctx context.Context, w webhook.Webhook) error {
	events, err := webhookEvents(w.Events.Specific)
	if err != nil {
		return err
	}
	res, err := d.write.ExecContext(ctx, `UPDATE webhooks SET url = ?, secret = ?, enabled = ?, automatic_redelivery = ?, everything = ?, events = ?
		WHERE id = ? AND store_id = ?`,
		w.URL, w.Secret, w.Enabled, w.AutomaticRedelivery, w.Events.Everything, events, w.ID, w.StoreID)
	return webhookAffected(res, err, w.ID)
}

// DeleteWebhook implements webhook.Store.
func (d *DB) DeleteWebhook(ctx context.Context, storeID, id string) error {
	res, err := d.write.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ? AND store_id = ?`, id, storeID)
	return webhookAffected(res, err, id)
}

func webhookAffected(res sql.Result, err error, id string) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "no webhook %q", id)
	}
	return nil
}

// DispatchCursor implements webhook.Store.
func (d *DB) DispatchCursor(ctx context.Context) (int64, error) {
	var seq int64
	err := d.read.QueryRowContext(ctx, `SELECT seq FROM webhook_cursors WHERE name = ?`, webhookCursor).Scan(&seq)
	return seq, err
}

// Dispatch implements webhook.Store.
func (d *DB) Dispatch(ctx context.Context, from, to int64, ds []webhook.Delivery) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_cursors SET seq = ? WHERE name = ? AND seq = ?`, to, webhookCursor, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return chengdui.Errorf(chengdui.EConflict, "the webhook dispatch cursor moved past %d", from)
		}
		_, err = addWebhookDeliveries(ctx, tx, ds)
		return err
	})
}

// AddDeliveries implements webhook.Store.
func (d *DB) AddDeliveries(ctx context.Context, ds []webhook.Delivery) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = addWebhookDeliveries(ctx, tx, ds)
		return err
	})
	return n, err
}

const webhookDeliveryCols = `id, webhook_id, store_id, event_id, event_seq, type, status, attempts, http_code, error, body,
	created_at, delivered_at, next_attempt_at, redelivery, original_id`

func addWebhookDeliveries(ctx context.Context, tx *sql.Tx, ds []webhook.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	// The WHERE skips the deliveries of a webhook deleted meanwhile; ON
	// CONFLICT a second first delivery of an event.
	st, err := tx.PrepareContext(ctx, `INSERT INTO webhook_deliveries (`+webhookDeliveryCols+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var added int64
	for _, x := range ds {
		res, err := st.ExecContext(ctx, x.ID, x.WebhookID, x.StoreID, x.EventID, x.EventSeq, x.Type, string(x.Status), x.Attempts,
			x.HTTPCode, x.Error, webhookBody(x.Body), x.CreatedAt.UnixMicro(), nullMicros(x.DeliveredAt), x.NextAttemptAt.UnixMicro(),
			x.Redelivery, x.OriginalID, x.WebhookID)
		if err != nil {
			return 0, fmt.Errorf("delivery %s: %w", x.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		added += n
	}
	return int(added), nil
}

// Delivery implements webhook.Store.
func (d *DB) Delivery(ctx context.Context, id string) (webhook.Delivery, error) {
	x, err := scanWebhookDelivery(d.read.QueryRowContext(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, chengdui.Errorf(chengdui.ENotFound, "no delivery %q", id)
	}
	return x, err
}

// Deliveries implements webhook.Store.
func (d *DB) Deliveries(ctx context.Context, webhookID string, limit int) ([]webhook.Delivery, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE webhook_id = ?
		ORDER BY created_at DESC, event_seq DESC, id DESC LIMIT ?`, webhookID, limit)
	return collect(rows, err, scanWebhookDelivery)
}

// ClaimDeliveries implements webhook.Store. One statement under SQLite's
// write lock: two claims never take the same delivery.
func (d *DB) ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]webhook.Delivery, error) {
	rows, err := d.write.QueryContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'Pending' AND next_attempt_at <= ?
			ORDER BY next_attempt_at, event_seq, id LIMIT ?)
		RETURNING `+webhookDeliveryCols, lease.UnixMicro(), now.UnixMicro(), limit)
	ds, err := collect(rows, err, scanWebhookDelivery)
	sortClaimedDeliveries(ds)
	return ds, err
}

// sortClaimedDeliveries orders claimed deliveries as webhook.Store asks (RETURNING
// has no order).
func sortClaimedDeliveries(ds []webhook.Delivery) {
	slices.SortFunc(ds, func(a, b webhook.Delivery) int {
		switch {
		case a.EventSeq != b.EventSeq:
			return cmp.Compare(a.EventSeq, b.EventSeq)
		case !a.CreatedAt.Equal(b.CreatedAt):
			return a.CreatedAt.Compare(b.CreatedAt)
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// FinishAttempt implements webhook.Store.
func (d *DB) FinishAttempt(ctx context.Context, x webhook.Delivery, lease time.Time) error {
	res, err := d.write.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, http_code = ?, error = ?, delivered_at = ?, next_attempt_at = ?
		WHERE id = ? AND status = 'Pending' AND next_attempt_at = ?`,
		string(x.Status), x.Attempts, x.HTTPCode, x.Error, nullMicros(x.DeliveredAt), x.NextAttemptAt.UnixMicro(), x.ID, lease.UnixMicro())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.EConflict, "delivery %q is no longer held by this claim", x.ID)
	}
	return nil
}

// NextAttempt implements webhook.Store.
func (d *DB) NextAttempt(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status = 'Pending'`).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMicro(at.Int64).UTC(), true, nil
}

// webhookEvents encodes a webhook's specific events.
func webhookEvents(specific []string) (string, error) {
	if specific == nil {
		specific = []string{}
	}
	b, err := json.Marshal(specific)
	return string(b), err
}

// webhookBody keeps an empty body non-NULL.
func webhookBody(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanWebhook(r scanner) (webhook.Webhook, error) {
	var w webhook.Webhook
	var events string
	var created int64
	if err := r.Scan(&w.ID, &w.StoreID, &w.URL, &w.Secret, &w.Enabled, &w.AutomaticRedelivery, &w.Events.Everything, &events, &created); err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events.Specific); err != nil {
		return w, fmt.Errorf("webhook %q: stored events %q: %w", w.ID, events, err)
	}
	if len(w.Events.Specific) == 0 {
		w.Events.Specific = nil
	}
	w.CreatedAt = time.UnixMicro(created).UTC()
	return w, nil
}

func scanWebhookDelivery(r scanner) (webhook.Delivery, error) {
	var x webhook.Delivery
	var status string
	var created, next int64
	var delivered sql.NullInt64
	if err := r.Scan(&x.ID, &x.WebhookID, &x.StoreID, &x.EventID, &x.EventSeq, &x.Type, &status, &x.Attempts, &x.HTTPCode, &x.Error, &x.Body,
		&created, &delivered, &next, &x.Redelivery, &x.OriginalID); err != nil {
		return x, err
	}
	x.Status, x.CreatedAt, x.DeliveredAt, x.NextAttemptAt = webhook.DeliveryStatus(status), time.UnixMicro(created).UTC(), microsPtr(delivered), time.UnixMicro(next).UTC()
	return x, nil
}
