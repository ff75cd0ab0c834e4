package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"chengdui"
	"chengdui/withdraw"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ withdraw.Store = (*DB)(nil)

const withdrawalCols = `id, user_id, origin, asset, chain, to_address, amount, status, txid, fee, fee_asset, reason, created_at, updated_at`

// CreateWithdrawal implements withdraw.Store.
func (d *DB) CreateWithdrawal(ctx context.Context, w withdraw.Withdrawal) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO withdrawals (`+withdrawalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.UserID, w.Origin, w.Asset, w.Chain, w.To, w.Amount.String(), string(w.Status), w.TxID, w.Fee.String(), w.FeeAsset, w.Reason,
		w.CreatedAt.UnixMicro(), w.UpdatedAt.UnixMicro())
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "") {
		return chengdui.Errorf(chengdui.EConflict, "withdrawal %q exists", w.ID)
	}
	return err
}

// Withdrawal implements withdraw.Store.
func (d *DB) Withdrawal(ctx context.Context, id string) (withdraw.Withdrawal, error) {
	w, err := scanWithdrawal(d.read.QueryRowContext(ctx, `SELECT `+withdrawalCols+` FROM withdrawals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, chengdui.Errorf(chengdui.ENotFound, "no withdrawal %q", id)
	}
	return w, err
}

// UpdateWithdrawal implements withdraw.Store.
func (d *DB) UpdateWithdrawal(ctx context.Context, w withdraw.Withdrawal) error {
	res, err := d.write.ExecContext(ctx, `UPDATE withdrawals SET status = ?, txid = ?, fee = ?, reason = ?, updated_at = ? WHERE id = ?`,
		string(w.Status), w.TxID, w.Fee.String(), w.Reason, w.UpdatedAt.UnixMicro(), w.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
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
	rows, err := d.read.QueryContext(ctx, `SELECT `+withdrawalCols+` FROM withdrawals
		WHERE (? = '' OR user_id = ?) AND (? = '' OR chain = ?) AND (? = '' OR status = ?) AND (? = '' OR txid = ?)
		ORDER BY created_at, id LIMIT ?`, f.UserID, f.UserID, f.Chain, f.Chain, string(f.Status), string(f.Status), f.TxID, f.TxID, limit)
	return collect(rows, err, scanWithdrawal)
}

func scanWithdrawal(r scanner) (withdraw.Withdrawal, error) {
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
