package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"chengdui"
	"chengdui/refund"
)

var _ refund.Store = (*DB)(nil)

const refundCols = `id, store_id, invoice_id, variant, name, description, asset, amount::text, currency, fiat_amount::text, value_asset,
	value::text, rate, subtract_bps, state, booked, attempt, claim, claim_user, claim_address, withdrawal_id, txid, reason, request_hash,
	created_by, created_at, updated_at, version`

// refundLockSpace keeps the refunds' advisory locks apart from the
// others' keys.
const refundLockSpace = "chengdui:refund:"

// refundBound checks, inside a transaction, that the live refunds of an
// invoice and asset other than id, plus amount, stay within paid. A
// transaction-scoped advisory lock per invoice and asset makes concurrent
// writers of the same pair wait for each other (under READ COMMITTED each
// then sees the one before it).
func refundBound(ctx context.Context, tx pgx.Tx, id, invoiceID, asset string, amount, paid chengdui.Amount) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, refundLockSpace+invoiceID+":"+asset); err != nil {
		return err
	}
	var sum string
	if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(amount), 0)::text FROM refunds
		WHERE invoice_id = $1 AND asset = $2 AND state <> 'Cancelled' AND id <> $3`, invoiceID, asset, id).Scan(&sum); err != nil {
		return err
	}
	refunded, err := chengdui.ParseUnits(sum)
	if err != nil {
		return chengdui.Errorf(chengdui.EOverflow, "refunds of invoice %s overflow", invoiceID)
	}
	return refund.CheckBound(invoiceID, asset, refunded, amount, paid)
}

// CreateRefund implements refund.Store.
func (d *DB) CreateRefund(ctx context.Context, r refund.Refund, paid chengdui.Amount) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if r.State.Live() {
			if err := refundBound(ctx, tx, r.ID, r.InvoiceID, r.Asset, r.Amount, paid); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO refunds (id, store_id, invoice_id, variant, name, description, asset, amount, currency, fiat_amount,
			value_asset, value, rate, subtract_bps, state, booked, attempt, claim, claim_user, claim_address, withdrawal_id, txid, reason,
			request_hash, created_by, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9, $10::numeric, $11, $12::numeric, $13, $14, $15, $16, $17, $18, $19, $20, $21,
			$22, $23, $24, $25, $26, $27, $28)`,
			r.ID, r.StoreID, r.InvoiceID, string(r.Variant), r.Name, r.Description, r.Asset, r.Amount.String(), r.Currency, r.FiatAmount.String(),
			r.ValueAsset, r.Value.String(), r.Rate, int64(r.SubtractBps), string(r.State), r.Booked, int64(r.Attempt), r.Claim, r.ClaimUser,
			r.ClaimAddress, r.WithdrawalID, r.TxID, r.Reason, r.RequestHash, r.CreatedBy, r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), r.Version)
		return err
	})
	if constraint(err, uniqueViolation) == "refunds_pkey" {
		return chengdui.Errorf(chengdui.EConflict, "refund %q exists", r.ID)
	}
	return err
}

// Refund implements refund.Store.
func (d *DB) Refund(ctx context.Context, id string) (refund.Refund, error) {
	r, err := scanRefund(d.pool.QueryRow(ctx, `SELECT `+refundCols+` FROM refunds WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, chengdui.Errorf(chengdui.ENotFound, "no refund %q", id)
	}
	return r, err
}

// UpdateRefund implements refund.Store: the stored row is locked (FOR
// UPDATE), its version checked, the bound checked when the amount grows,
// and the row written, in one transaction.
func (d *DB) UpdateRefund(ctx context.Context, r refund.Refund, paid chengdui.Amount) (refund.Refund, error) {
	var out refund.Refund
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		old, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundCols+` FROM refunds WHERE id = $1 FOR UPDATE`, r.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no refund %q", r.ID)
		} else if err != nil {
			return err
		}
		if old.Version != r.Version {
			return chengdui.Errorf(chengdui.EConflict, "refund %s changed: it is at version %d, not %d", r.ID, old.Version, r.Version)
		}
		if r.State.Live() && r.Amount.Cmp(old.Amount) > 0 {
			if err := refundBound(ctx, tx, r.ID, old.InvoiceID, old.Asset, r.Amount, paid); err != nil {
				return err
			}
		}
		out, err = scanRefund(tx.QueryRow(ctx, `UPDATE refunds SET amount = $1::numeric, rate = $2, state = $3, booked = $4, attempt = $5,
			claim = $6, claim_user = $7, claim_address = $8, withdrawal_id = $9, txid = $10, reason = $11, updated_at = $12, version = version + 1
			WHERE id = $13 RETURNING `+refundCols,
			r.Amount.String(), r.Rate, string(r.State), r.Booked, int64(r.Attempt), r.Claim, r.ClaimUser, r.ClaimAddress, r.WithdrawalID,
			r.TxID, r.Reason, r.UpdatedAt.UnixMicro(), r.ID))
		return err
	})
	return out, err
}

// DeleteRefund implements refund.Store.
func (d *DB) DeleteRefund(ctx context.Context, id string, version int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM refunds WHERE id = $1 AND version = $2 AND state = 'Creating'`, id, version)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var state string
	var v int64
	err = d.pool.QueryRow(ctx, `SELECT state, version FROM refunds WHERE id = $1`, id).Scan(&state, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return chengdui.Errorf(chengdui.ENotFound, "no refund %q", id)
	} else if err != nil {
		return err
	}
	return chengdui.Errorf(chengdui.EConflict, "refund %s is %s at version %d: only a refund being created (version %d) is removed", id, state, v, version)
}

// Refunds implements refund.Store.
func (d *DB) Refunds(ctx context.Context, f refund.Filter) ([]refund.Refund, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.pool.Query(ctx, `SELECT `+refundCols+` FROM refunds
		WHERE state <> 'Creating' AND ($1 = '' OR store_id = $1) AND ($2 = '' OR invoice_id = $2)
		AND ($3 = '' OR (created_at, id) > (SELECT created_at, id FROM refunds WHERE id = $3))
		ORDER BY created_at, id LIMIT $4`, f.StoreID, f.InvoiceID, f.After, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (refund.Refund, error) { return scanRefund(r) })
}

// UnbookedRefunds implements refund.Store.
func (d *DB) UnbookedRefunds(ctx context.Context, before time.Time, limit int) ([]refund.Refund, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.pool.Query(ctx, `SELECT `+refundCols+` FROM refunds WHERE NOT booked AND updated_at < $1 ORDER BY updated_at, id LIMIT $2`,
		before.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (refund.Refund, error) { return scanRefund(r) })
}

func scanRefund(s pgx.Row) (refund.Refund, error) {
	var r refund.Refund
	var variant, amount, fiat, value, state string
	var subtract, attempt, created, updated int64
	if err := s.Scan(&r.ID, &r.StoreID, &r.InvoiceID, &variant, &r.Name, &r.Description, &r.Asset, &amount, &r.Currency, &fiat,
		&r.ValueAsset, &value, &r.Rate, &subtract, &state, &r.Booked, &attempt, &r.Claim, &r.ClaimUser, &r.ClaimAddress,
		&r.WithdrawalID, &r.TxID, &r.Reason, &r.RequestHash, &r.CreatedBy, &created, &updated, &r.Version); err != nil {
		return r, err
	}
	for _, a := range []struct {
		s  string
		to *chengdui.Amount
	}{{amount, &r.Amount}, {fiat, &r.FiatAmount}, {value, &r.Value}} {
		v, err := chengdui.ParseUnits(a.s)
		if err != nil {
			return r, fmt.Errorf("refund %q: stored amount %q: %w", r.ID, a.s, err)
		}
		*a.to = v
	}
	r.SubtractBps, r.Attempt = uint32(subtract), uint32(attempt)
	r.Variant, r.State = refund.Variant(variant), refund.State(state)
	r.CreatedAt, r.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return r, nil
}
