package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"chengdui"
	"chengdui/invoice"
	"chengdui/payout"
)

var _ payout.Store = (*DB)(nil)

const payoutCols = `id, store_id, asset, amount::text, method, rail, creditor_name, creditor_iban, creditor_bic, creditor_account,
	creditor_bank_code, creditor_country, address, reference, state, created_by, approved_by, reason, ref, submitted_at,
	created_at, updated_at, version`

// CreatePayout implements payout.Store: the payout and its PayoutCreated
// outbox event in one transaction.
func (d *DB) CreatePayout(ctx context.Context, p payout.Payout) error {
	c := p.Creditor
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO payouts (id, store_id, asset, amount, method, rail, creditor_name, creditor_iban, creditor_bic,
			creditor_account, creditor_bank_code, creditor_country, address, reference, state, created_by, approved_by, reason, ref, submitted_at,
			created_at, updated_at, version)
			VALUES ($1, $2, $3, $4::numeric, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
			p.ID, p.StoreID, p.Asset, p.Amount.String(), string(p.Method), p.Rail, c.Name, c.IBAN, c.BIC, c.Account, c.BankCode, c.Country,
			p.Address, p.Reference, string(p.State), p.CreatedBy, p.ApprovedBy, p.Reason, p.Ref, payoutMicros(p.SubmittedAt),
			p.CreatedAt.UnixMicro(), p.UpdatedAt.UnixMicro(), p.Version)
		ev, _ := payout.Event(nil, p)
		queueInvoiceEvents(b, []invoice.Event{ev})
		return tx.SendBatch(ctx, b).Close()
	})
	switch constraint(err, uniqueViolation) {
	case "payouts_pkey", "outbox_events_id_key":
		return chengdui.Errorf(chengdui.EConflict, "payout %q exists", p.ID)
	}
	return err
}

// Payout implements payout.Store.
func (d *DB) Payout(ctx context.Context, id string) (payout.Payout, error) {
	p, err := scanPayout(d.pool.QueryRow(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, chengdui.Errorf(chengdui.ENotFound, "no payout %q", id)
	}
	return p, err
}

// UpdatePayout implements payout.Store: one transaction locks the stored
// payout (FOR UPDATE, so a concurrent update waits), writes p over it if
// it is still at p.Version, and adds the outbox event announcing a change
// of state (payout.Event).
func (d *DB) UpdatePayout(ctx context.Context, p payout.Payout) (payout.Payout, error) {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		old, err := scanPayout(tx.QueryRow(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id = $1 FOR UPDATE`, p.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no payout %q", p.ID)
		} else if err != nil {
			return err
		}
		if old.Version != p.Version {
			return chengdui.Errorf(chengdui.EConflict, "payout %s changed: it is at version %d, not %d", p.ID, old.Version, p.Version)
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE payouts SET state = $1, approved_by = $2, reason = $3, ref = $4, submitted_at = $5,
			updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8`,
			string(p.State), p.ApprovedBy, p.Reason, p.Ref, payoutMicros(p.SubmittedAt), p.UpdatedAt.UnixMicro(), p.ID, p.Version)
		next := p
		next.Version++
		if ev, ok := payout.Event(&old, next); ok {
			queueInvoiceEvents(b, []invoice.Event{ev})
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return payout.Payout{}, err
	}
	p.Version++
	return p, nil
}

// Payouts implements payout.Store.
func (d *DB) Payouts(ctx context.Context, f payout.Filter) ([]payout.Payout, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	since := int64(0)
	if !f.UpdatedSince.IsZero() {
		since = f.UpdatedSince.UnixMicro()
	}
	rows, err := d.pool.Query(ctx, `SELECT `+payoutCols+` FROM payouts
		WHERE ($1 = '' OR store_id = $1) AND ($2 = '' OR state = $2) AND updated_at >= $3
		AND ($4 = '' OR (created_at, id) > (SELECT created_at, id FROM payouts WHERE id = $4))
		ORDER BY created_at, id LIMIT $5`, f.StoreID, string(f.State), since, f.After, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (payout.Payout, error) { return scanPayout(r) })
}

// DuePayouts implements payout.Store.
func (d *DB) DuePayouts(ctx context.Context, staleBefore time.Time, after string, limit int) ([]payout.Payout, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.pool.Query(ctx, `(SELECT `+payoutCols+` FROM payouts
		WHERE state = 'AwaitingPayment' AND ($1 = '' OR (created_at, id) > (SELECT created_at, id FROM payouts WHERE id = $1)))
		UNION ALL
		(SELECT `+payoutCols+` FROM payouts
		WHERE state = 'InProgress' AND submitted_at = 0 AND updated_at < $2
		AND ($1 = '' OR (created_at, id) > (SELECT created_at, id FROM payouts WHERE id = $1)))
		ORDER BY created_at, id LIMIT $3`, after, staleBefore.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (payout.Payout, error) { return scanPayout(r) })
}

// payoutMicros stores a zero time as 0.
func payoutMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func scanPayout(r pgx.Row) (payout.Payout, error) {
	var p payout.Payout
	var amount, method, state string
	var submitted, created, updated int64
	c := &p.Creditor
	if err := r.Scan(&p.ID, &p.StoreID, &p.Asset, &amount, &method, &p.Rail, &c.Name, &c.IBAN, &c.BIC, &c.Account, &c.BankCode, &c.Country,
		&p.Address, &p.Reference, &state, &p.CreatedBy, &p.ApprovedBy, &p.Reason, &p.Ref, &submitted, &created, &updated, &p.Version); err != nil {
		return p, err
	}
	var err error
	if p.Amount, err = chengdui.ParseUnits(amount); err != nil {
		return p, fmt.Errorf("payout %q: stored amount %q: %w", p.ID, amount, err)
	}
	p.Method, p.State = payout.Method(method), payout.State(state)
	if submitted != 0 {
		p.SubmittedAt = time.UnixMicro(submitted).UTC()
	}
	p.CreatedAt, p.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return p, nil
}
