package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chengdui"
	"chengdui/refund"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ refund.Store = (*DB)(nil)

const refundCols = `id, store_id, invoice_id, variant, name, description, asset, amount, currency, fiat_amount, value_asset, value,
	rate, subtract_bps, state, booked, attempt, claim, claim_user, claim_address, withdrawal_id, txid, reason, request_hash,
	created_by, created_at, updated_at, version`

// refundBound checks, inside a write transaction, that the live refunds
// of an invoice and asset other than id, plus amount, stay within paid.
// SQLite has one writer: no other refund is written meanwhile.
func refundBound(ctx context.Context, tx *sql.Tx, id, invoiceID, asset string, amount, paid chengdui.Amount) error {
	rows, err := tx.QueryContext(ctx, `SELECT amount FROM refunds WHERE invoice_id = ? AND asset = ? AND state <> 'Cancelled' AND id <> ?`,
		invoiceID, asset, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	var sum chengdui.Amount
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		a, err := chengdui.ParseUnits(s)
		if err != nil {
			return fmt.Errorf("refund amount %q: %w", s, err)
		}
		var ok bool
		if sum, ok = chengdui.AddAmounts(sum, a); !ok {
			return chengdui.Errorf(chengdui.EOverflow, "refunds of invoice %s overflow", invoiceID)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return refund.CheckBound(invoiceID, asset, sum, amount, paid)
}

// CreateRefund implements refund.Store.
func (d *DB) CreateRefund(ctx context.Context, r refund.Refund, paid chengdui.Amount) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if r.State.Live() {
			if err := refundBound(ctx, tx, r.ID, r.InvoiceID, r.Asset, r.Amount, paid); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO refunds (`+refundCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.StoreID, r.InvoiceID, string(r.Variant), r.Name, r.Description, r.Asset, r.Amount.String(), r.Currency, r.FiatAmount.String(),
			r.ValueAsset, r.Value.String(), r.Rate, r.SubtractBps, string(r.State), r.Booked, r.Attempt, r.Claim, r.ClaimUser, r.ClaimAddress,
			r.WithdrawalID, r.TxID, r.Reason, r.RequestHash, r.CreatedBy, r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), r.Version)
		return err
	})
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "") {
		return chengdui.Errorf(chengdui.EConflict, "refund %q exists", r.ID)
	}
	return err
}

// Refund implements refund.Store.
func (d *DB) Refund(ctx context.Context, id string) (refund.Refund, error) {
	r, err := scanRefund(d.read.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, chengdui.Errorf(chengdui.ENotFound, "no refund %q", id)
	}
	return r, err
}

// UpdateRefund implements refund.Store: one transaction reads the stored
// refund, checks its version (and the bound, when the amount grows) and
// writes.
func (d *DB) UpdateRefund(ctx context.Context, r refund.Refund, paid chengdui.Amount) (refund.Refund, error) {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		old, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE id = ?`, r.ID))
		if errors.Is(err, sql.ErrNoRows) {
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
		_, err = tx.ExecContext(ctx, `UPDATE refunds SET amount = ?, rate = ?, state = ?, booked = ?, attempt = ?, claim = ?, claim_user = ?,
			claim_address = ?, withdrawal_id = ?, txid = ?, reason = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
			r.Amount.String(), r.Rate, string(r.State), r.Booked, r.Attempt, r.Claim, r.ClaimUser, r.ClaimAddress, r.WithdrawalID, r.TxID,
			r.Reason, r.UpdatedAt.UnixMicro(), r.ID, r.Version)
		return err
	})
	if err != nil {
		return refund.Refund{}, err
	}
	return d.Refund(ctx, r.ID)
}

// DeleteRefund implements refund.Store.
func (d *DB) DeleteRefund(ctx context.Context, id string, version int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		var state string
		var v int64
		err := tx.QueryRowContext(ctx, `SELECT state, version FROM refunds WHERE id = ?`, id).Scan(&state, &v)
		if errors.Is(err, sql.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no refund %q", id)
		} else if err != nil {
			return err
		}
		if state != string(refund.Creating) || v != version {
			return chengdui.Errorf(chengdui.EConflict, "refund %s is %s at version %d: only a refund being created (version %d) is removed", id, state, v, version)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM refunds WHERE id = ? AND version = ?`, id, version)
		return err
	})
}

// Refunds implements refund.Store.
func (d *DB) Refunds(ctx context.Context, f refund.Filter) ([]refund.Refund, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.read.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds
		WHERE state <> 'Creating' AND (?1 = '' OR store_id = ?1) AND (?2 = '' OR invoice_id = ?2)
		AND (?3 = '' OR (created_at, id) > (SELECT created_at, id FROM refunds WHERE id = ?3))
		ORDER BY created_at, id LIMIT ?4`, f.StoreID, f.InvoiceID, f.After, limit)
	return collect(rows, err, scanRefund)
}

// UnbookedRefunds implements refund.Store.
func (d *DB) UnbookedRefunds(ctx context.Context, before time.Time, limit int) ([]refund.Refund, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.read.QueryContext(ctx, `SELECT `+refundCols+` FROM refunds WHERE booked = 0 AND updated_at < ? ORDER BY updated_at, id LIMIT ?`,
		before.UnixMicro(), limit)
	return collect(rows, err, scanRefund)
}

func scanRefund(s scanner) (refund.Refund, error) {
	var r refund.Refund
	var variant, amount, fiat, value, state string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.StoreID, &r.InvoiceID, &variant, &r.Name, &r.Description, &r.Asset, &amount, &r.Currency, &fiat,
		&r.ValueAsset, &value, &r.Rate, &r.SubtractBps, &state, &r.Booked, &r.Attempt, &r.Claim, &r.ClaimUser, &r.ClaimAddress,
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
	r.Variant, r.State = refund.Variant(variant), refund.State(state)
	r.CreatedAt, r.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return r, nil
}
