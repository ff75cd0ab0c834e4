package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"chengdui"
	"chengdui/withdraw"
)

var _ withdraw.Store = (*DB)(nil)

const withdrawalCols = `id, user_id, origin, asset, chain, to_address, amount::text, status, txid, fee::text, fee_asset, reason, created_at, updated_at`

// CreateWithdrawal implements withdraw.Store.
func (d *DB) CreateWithdrawal(ctx context.Context, w withdraw.Withdrawal) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO withdrawals (id, user_id, origin, asset, chain, to_address, amount, status, txid, fee, fee_asset, reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9, $10::numeric, $11, $12, $13, $14)`,
		w.ID, w.UserID, w.Origin, w.Asset, w.Chain, w.To, w.Amount.String(), string(w.Status), w.TxID, w.Fee.String(), w.FeeAsset, w.Reason,
		w.CreatedAt.UnixMicro(), w.UpdatedAt.UnixMicro())
	if constraint(err, uniqueViolation) == "withdrawals_pkey" {
		return chengdui.Errorf(chengdui.EConflict, "withdrawal %q exists", w.ID)
	}
	return err
}

// Withdrawal implements withdraw.Store.
func (d *DB) Withdrawal(ctx context.Context, id string) (withdraw.Withdrawal, error) {
	w, err := scanWithdrawal(d.pool.QueryRow(ctx, `SELECT `+withdrawalCols+` FROM withdrawals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return w, chengdui.Errorf(chengdui.ENotFound, "no withdrawal %q", id)
	}
	return w, err
}

// UpdateWithdrawal implements withdraw.Store.
func (d *DB) UpdateWithdrawal(ctx context.Context, w withdraw.Withdrawal) error {
	tag, err := d.pool.Exec(ctx, `UPDATE withdrawals SET status = $1, txid = $2, fee = $3::numeric, reason = $4, updated_at = $5 WHERE id = $6`,
		string(w.Status), w.TxID, w.Fee.String(), w.Reason, w.UpdatedAt.UnixMicro(), w.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "no withdrawal %q", w.ID)
	}
	return nil
}

// Withdrawals implements withdraw.Store.
func (d *DB) Withdrawals(ctx context.Context, f withdraw.Filter) ([]withdraw.Withdrawal, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := d.pool.Query(ctx, `SELECT `+withdrawalCols+` FROM withdrawals
		WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR chain = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR txid = $4)
		ORDER BY created_at, id LIMIT $5`, f.UserID, f.Chain, string(f.Status), f.TxID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (withdraw.Withdrawal, error) { return scanWithdrawal(r) })
}

func scanWithdrawal(r pgx.Row) (withdraw.Withdrawal, error) {
	var w withdraw.Withdrawal
	var amount, fee, status string
	var created, updated int64
	if err := r.Scan(&w.ID, &w.UserID, &w.Origin, &w.Asset, &w.Chain, &w.To, &amount, &status, &w.TxID, &fee, &w.FeeAsset, &w.Reason, &created, &updated); err != nil {
		return w, err
	}
	var err error
	if w.Amount, err = chengdui.ParseUnits(amount); err != nil {
		return w, fmt.Errorf("withdrawal %q: stored amount %q: %w", w.ID, amount, err)
	}
	if w.Fee, err = chengdui.ParseUnits(fee); err != nil {
		return w, fmt.Errorf("withdrawal %q: stored fee %q: %w", w.ID, fee, err)
	}
	w.Status, w.CreatedAt, w.UpdatedAt = withdraw.Status(status), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return w, nil
}
