package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"chengdui"
	"chengdui/deposit"
)

var _ deposit.Store = (*DB)(nil)

// defaultDepositLimit is the page size of Deposits when Filter.Limit is 0.
const defaultDepositLimit = 100

const chainDepositCols = `chain, txid, kind, idx, address, asset, amount, block_hash, height, rbf, reference,
	account_id, status, credits, transfer_id, first_seen, updated_at`

// Deposit implements deposit.Store.
func (d *DB) Deposit(ctx context.Context, k deposit.Key) (deposit.Deposit, error) {
	dep, err := scanChainDeposit(d.read.QueryRowContext(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = ? AND txid = ? AND kind = ? AND idx = ?`, k.Chain, k.TxID, k.Kind, int64(k.Index)))
	if errors.Is(err, sql.ErrNoRows) {
		return dep, chengdui.Errorf(chengdui.ENotFound, "deposit %s is not recorded", k)
	}
	return dep, err
}

// PutDeposit implements deposit.Store: one transaction, one prepared
// statement.
func (d *DB) PutDeposit(ctx context.Context, ds ...deposit.Deposit) error {
	for _, dep := range ds {
		if err := checkDeposit(dep); err != nil {
			return err
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO chain_deposits (`+chainDepositCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chain, txid, kind, idx) DO UPDATE SET address = excluded.address, asset = excluded.asset,
			amount = excluded.amount, block_hash = excluded.block_hash, height = excluded.height, rbf = excluded.rbf,
			reference = excluded.reference, account_id = excluded.account_id, status = excluded.status,
			credits = excluded.credits, transfer_id = excluded.transfer_id, first_seen = excluded.first_seen,
			updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, dep := range ds {
			if _, err := stmt.ExecContext(ctx, dep.Chain, dep.TxID, dep.Kind, int64(dep.Index), dep.Address, dep.Asset, dep.Amount.String(), dep.BlockHash,
				int64(dep.Height), dep.RBF, dep.Reference, dep.AccountID, string(dep.Status), int64(dep.Credits), dep.TransferID,
				dep.FirstSeen.UnixMicro(), dep.UpdatedAt.UnixMicro()); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkDeposit refuses what no table row can hold.
func checkDeposit(d deposit.Deposit) error {
	switch {
	case d.Chain == "" || d.TxID == "" || d.Kind == "":
		return chengdui.Errorf(chengdui.EInvalid, "deposit %s: chain, txid and kind are required", d.Key)
	case d.Status == "":
		return chengdui.Errorf(chengdui.EInvalid, "deposit %s: status is required", d.Key)
	case d.Height > math.MaxInt64:
		return chengdui.Errorf(chengdui.EInvalid, "deposit %s: height %d is out of range", d.Key, d.Height)
	}
	return nil
}

// Unsettled implements deposit.Store.
func (d *DB) Unsettled(ctx context.Context, chain string) ([]deposit.Deposit, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = ? AND (status IN (?, ?) OR (status = ? AND height = 0))
		ORDER BY first_seen, txid, kind, idx`, chain, string(deposit.Seen), string(deposit.Orphaned), string(deposit.Credited))
	return collect(rows, err, scanChainDeposit)
}

// DepositsFrom implements deposit.Store.
func (d *DB) DepositsFrom(ctx context.Context, chain string, height uint64) ([]deposit.Deposit, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = ? AND height >= ? AND height > 0 ORDER BY height, txid, kind, idx`, chain, clampHeight(height))
	return collect(rows, err, scanChainDeposit)
}

// DepositsOfTx implements deposit.Store.
func (d *DB) DepositsOfTx(ctx context.Context, chain, txid string) ([]deposit.Deposit, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = ? AND txid = ? ORDER BY kind, idx`, chain, txid)
	return collect(rows, err, scanChainDeposit)
}

// Deposits implements deposit.Store. Codes: EInvalid for a negative limit.
func (d *DB) Deposits(ctx context.Context, f deposit.Filter) ([]deposit.Deposit, error) {
	limit, err := depositLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"chain", f.Chain}, {"account_id", f.AccountID}, {"status", string(f.Status)}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	q := `SELECT ` + chainDepositCols + ` FROM chain_deposits`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY first_seen DESC, chain, txid, kind, idx LIMIT ?`
	rows, err := d.read.QueryContext(ctx, q, append(args, limit)...)
	return collect(rows, err, scanChainDeposit)
}

// depositLimit is the page size of a Filter.Limit.
func depositLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, chengdui.Errorf(chengdui.EInvalid, "deposit limit %d is negative; give 0 for the default of %d", n, defaultDepositLimit)
	case n == 0:
		return defaultDepositLimit, nil
	}
	return n, nil
}

// Cursor implements deposit.Store.
func (d *DB) Cursor(ctx context.Context, chain string) (deposit.Cursor, bool, error) {
	var c deposit.Cursor
	var h int64
	err := d.read.QueryRowContext(ctx, `SELECT height, hash FROM chain_cursors WHERE chain = ?`, chain).Scan(&h, &c.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return deposit.Cursor{}, false, nil
	} else if err != nil {
		return deposit.Cursor{}, false, err
	}
	c.Height = uint64(h)
	return c, true, nil
}

// Advance implements deposit.Store.
func (d *DB) Advance(ctx context.Context, chain string, blocks []deposit.Block, keep int) error {
	if err := checkAdvance(chain, blocks, keep); err != nil || len(blocks) == 0 {
		return err
	}
	last := blocks[len(blocks)-1]
	return d.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO chain_blocks (chain, height, hash, parent) VALUES (?, ?, ?, ?)
			ON CONFLICT (chain, height) DO UPDATE SET hash = excluded.hash, parent = excluded.parent`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, b := range blocks {
			if _, err := st.ExecContext(ctx, chain, int64(b.Height), b.Hash, b.Parent); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND (height > ? OR height <= ?)`,
			chain, int64(last.Height), int64(last.Height)-int64(keep)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chain_cursors (chain, height, hash) VALUES (?, ?, ?)
			ON CONFLICT (chain) DO UPDATE SET height = excluded.height, hash = excluded.hash`, chain, int64(last.Height), last.Hash)
		return err
	})
}

// checkAdvance refuses an Advance that would leave the blocks and the
// cursor inconsistent.
func checkAdvance(chain string, blocks []deposit.Block, keep int) error {
	if chain == "" {
		return chengdui.Errorf(chengdui.EInvalid, "advance: the chain is required")
	}
	if keep < 1 {
		return chengdui.Errorf(chengdui.EInvalid, "advance %s: keep %d blocks at least 1", chain, keep)
	}
	for i, b := range blocks {
		switch {
		case b.Hash == "":
			return chengdui.Errorf(chengdui.EInvalid, "advance %s: block at height %d has no hash", chain, b.Height)
		case b.Height > math.MaxInt64:
			return chengdui.Errorf(chengdui.EInvalid, "advance %s: height %d is out of range", chain, b.Height)
		case i > 0 && b.Height <= blocks[i-1].Height:
			return chengdui.Errorf(chengdui.EInvalid, "advance %s: give blocks in ascending height order (%d after %d)", chain, b.Height, blocks[i-1].Height)
		}
	}
	return nil
}

// BlockAt implements deposit.Store.
func (d *DB) BlockAt(ctx context.Context, chain string, height uint64) (deposit.Block, error) {
	b := deposit.Block{Height: height}
	err := d.read.QueryRowContext(ctx, `SELECT hash, parent FROM chain_blocks WHERE chain = ? AND height = ?`,
		chain, clampHeight(height)).Scan(&b.Hash, &b.Parent)
	if errors.Is(err, sql.ErrNoRows) || height > math.MaxInt64 {
		return deposit.Block{}, chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d", chain, height)
	}
	return b, err
}

// Rewind implements deposit.Store.
func (d *DB) Rewind(ctx context.Context, chain string, height uint64) error {
	if height > math.MaxInt64 {
		return chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d to rewind to", chain, height)
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		var hash string
		err := tx.QueryRowContext(ctx, `SELECT hash FROM chain_blocks WHERE chain = ? AND height = ?`, chain, int64(height)).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d to rewind to: rewind to a stored one or resync", chain, height)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND height > ?`, chain, int64(height)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chain_cursors (chain, height, hash) VALUES (?, ?, ?)
			ON CONFLICT (chain) DO UPDATE SET height = excluded.height, hash = excluded.hash`, chain, int64(height), hash)
		return err
	})
}

// clampHeight is a height as the driver takes it: no stored height is past
// MaxInt64.
func clampHeight(h uint64) int64 { return int64(min(h, math.MaxInt64)) }

func scanChainDeposit(r scanner) (deposit.Deposit, error) {
	var d deposit.Deposit
	var idx, height, credits, first, updated int64
	var amount, status string
	if err := r.Scan(&d.Chain, &d.TxID, &d.Kind, &idx, &d.Address, &d.Asset, &amount, &d.BlockHash, &height, &d.RBF,
		&d.Reference, &d.AccountID, &status, &credits, &d.TransferID, &first, &updated); err != nil {
		return deposit.Deposit{}, err
	}
	var err error
	if d.Amount, err = chengdui.ParseUnits(amount); err != nil {
		return deposit.Deposit{}, fmt.Errorf("deposit %s: stored amount %q: %w", d.Key, amount, err)
	}
	d.Index, d.Height, d.Credits, d.Status = uint32(idx), uint64(height), uint32(credits), deposit.Status(status)
	d.FirstSeen, d.UpdatedAt = time.UnixMicro(first).UTC(), time.UnixMicro(updated).UTC()
	return d, nil
}
