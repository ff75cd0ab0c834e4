package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"chengdui"
	"chengdui/webhook"
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
	_, err = d.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		w.ID, w.StoreID, w.URL, w.Secret, w.Enabled, w.AutomaticRedelivery, w.Events.Everything, events, w.CreatedAt.UnixMicro())
	if constraint(err, uniqueViolation) == "webhooks_pkey" {
		return chengdui.Errorf(chengdui.EConflict, "webhook %q exists", w.ID)
	}
	return err
}

// Webhook implements webhook.Store.
func (d *DB) Webhook(ctx context.Context, id string) (webhook.Webhook, error) {
	w, err := scanWebhook(d.pool.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return w, chengdui.Errorf(chengdui.ENotFound, "no webhook %q", id)
	}
	return w, err
}

// Webhooks implements webhook.Store.
func (d *DB) Webhooks(ctx context.Context, storeID string) ([]webhook.Webhook, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE store_id = $1 ORDER BY created_at, id`, storeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Webhook, error) { return scanWebhook(r) })
}

// UpdateWebhook implements webhook.Store.
func (d *DB) UpdateWebhook(ctx context.Context, w webhook.Webhook) error {
	events, err := webhookEvents(w.Events.Specific)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `UPDATE webhooks SET url = $1, secret = $2, enabled = $3, automatic_redelivery = $4, everything = $5, events = $6
		WHERE id = $7 AND store_id = $8`,
		w.URL, w.Secret, w.Enabled, w.AutomaticRedelivery, w.Events.Everything, events, w.ID, w.StoreID)
	return webhookAffected(tag, err, w.ID)
}

// DeleteWebhook implements webhook.Store.
func (d *DB) DeleteWebhook(ctx context.Context, storeID, id string) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1 AND store_id = $2`, id, storeID)
	return webhookAffected(tag, err, id)
}

func webhookAffected(tag pgconn.CommandTag, err error, id string) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "no webhook %q", id)
	}
	return nil
}

// DispatchCursor implements webhook.Store.
func (d *DB) DispatchCursor(ctx context.Context) (int64, error) {
	var seq int64
	err := d.pool.QueryRow(ctx, `SELECT seq FROM webhook_cursors WHERE name = $1`, webhookCursor).Scan(&seq)
	return seq, err
}

// Dispatch implements webhook.Store. The cursor's update is conditional
// on its old value: of two dispatchers that read the same cursor, the
// second waits on the row lock, then finds the cursor moved and writes
// nothing.
func (d *DB) Dispatch(ctx context.Context, from, to int64, ds []webhook.Delivery) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_cursors SET seq = $1 WHERE name = $2 AND seq = $3`, to, webhookCursor, from)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return chengdui.Errorf(chengdui.EConflict, "the webhook dispatch cursor moved past %d", from)
		}
		_, err = addWebhookDeliveries(ctx, tx, ds)
		return err
	})
}

// AddDeliveries implements webhook.Store.
func (d *DB) AddDeliveries(ctx context.Context, ds []webhook.Delivery) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var err error
		n, err = addWebhookDeliveries(ctx, tx, ds)
		return err
	})
	return n, err
}

const webhookDeliveryCols = `id, webhook_id, store_id, event_id, event_seq, type, status, attempts, http_code, error, body,
	created_at, delivered_at, next_attempt_at, redelivery, original_id`

func addWebhookDeliveries(ctx context.Context, tx pgx.Tx, ds []webhook.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	// The WHERE skips the deliveries of a webhook deleted meanwhile (an
	// insert referencing it would abort the transaction); ON CONFLICT a
	// second first delivery of an event.
	const q = `INSERT INTO webhook_deliveries (` + webhookDeliveryCols + `)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::text, $7::text, $8::integer, $9::integer, $10::text, $11::bytea,
			$12::bigint, $13::bigint, $14::bigint, $15::boolean, $16::text
		WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $2)
		ON CONFLICT DO NOTHING`
	b := &pgx.Batch{}
	for _, x := range ds {
		b.Queue(q, x.ID, x.WebhookID, x.StoreID, x.EventID, x.EventSeq, x.Type, string(x.Status), x.Attempts,
			x.HTTPCode, x.Error, webhookBody(x.Body), x.CreatedAt.UnixMicro(), micros(x.DeliveredAt), x.NextAttemptAt.UnixMicro(),
			x.Redelivery, x.OriginalID)
	}
	res := tx.SendBatch(ctx, b)
	var added int64
	for _, x := range ds {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return 0, fmt.Errorf("delivery %s: %w", x.ID, err)
		}
		added += tag.RowsAffected()
	}
	return int(added), res.Close()
}

// Delivery implements webhook.Store.
func (d *DB) Delivery(ctx context.Context, id string) (webhook.Delivery, error) {
	x, err := scanWebhookDelivery(d.pool.QueryRow(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return x, chengdui.Errorf(chengdui.ENotFound, "no delivery %q", id)
	}
	return x, err
}

// Deliveries implements webhook.Store.
func (d *DB) Deliveries(ctx context.Context, webhookID string, limit int) ([]webhook.Delivery, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE webhook_id = $1
		ORDER BY created_at DESC, event_seq DESC, id DESC LIMIT $2`, webhookID, limit)
	return collectWebhookDeliveries(rows, err)
}

// ClaimDeliveries implements webhook.Store. Rows another claim holds
// locked are skipped; one it committed is no longer due when re-checked.
func (d *DB) ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]webhook.Delivery, error) {
	rows, err := d.pool.Query(ctx, `UPDATE webhook_deliveries SET next_attempt_at = $1
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'Pending' AND next_attempt_at <= $2
			ORDER BY next_attempt_at, event_seq, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+webhookDeliveryCols, lease.UnixMicro(), now.UnixMicro(), limit)
	ds, err := collectWebhookDeliveries(rows, err)
	// RETURNING has no order.
	slices.SortFunc(ds, func(a, b webhook.Delivery) int {
		switch {
		case a.EventSeq != b.EventSeq:
			return cmp.Compare(a.EventSeq, b.EventSeq)
		case !a.CreatedAt.Equal(b.CreatedAt):
			return a.CreatedAt.Compare(b.CreatedAt)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ds, err
}

// FinishAttempt implements webhook.Store.
func (d *DB) FinishAttempt(ctx context.Context, x webhook.Delivery, lease time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = $2, http_code = $3, error = $4, delivered_at = $5, next_attempt_at = $6
		WHERE id = $7 AND status = 'Pending' AND next_attempt_at = $8`,
		string(x.Status), x.Attempts, x.HTTPCode, x.Error, micros(x.DeliveredAt), x.NextAttemptAt.UnixMicro(), x.ID, lease.UnixMicro())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.EConflict, "delivery %q is no longer held by this claim", x.ID)
	}
	return nil
}

// NextAttempt implements webhook.Store.
func (d *DB) NextAttempt(ctx context.Context) (time.Time, bool, error) {
	var at *int64
	err := d.pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status = 'Pending'`).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, false, err
	}
	return time.UnixMicro(*at).UTC(), true, nil
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

func collectWebhookDeliveries(rows pgx.Rows, err error) ([]webhook.Delivery, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Delivery, error) { return scanWebhookDelivery(r) })
}

func scanWebhook(r pgx.Row) (webhook.Webhook, error) {
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

func scanWebhookDelivery(r pgx.Row) (webhook.Delivery, error) {
	var x webhook.Delivery
	var status string
	var created, next int64
	var delivered *int64
	if err := r.Scan(&x.ID, &x.WebhookID, &x.StoreID, &x.EventID, &x.EventSeq, &x.Type, &status, &x.Attempts, &x.HTTPCode, &x.Error, &x.Body,
		&created, &delivered, &next, &x.Redelivery, &x.OriginalID); err != nil {
		return x, err
	}
	x.Status, x.CreatedAt, x.DeliveredAt, x.NextAttemptAt = webhook.DeliveryStatus(status), time.UnixMicro(created).UTC(), fromMicros(delivered), time.UnixMicro(next).UTC()
	return x, nil
}
