package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"chengdui"
	"chengdui/deposit"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ deposit.Store = (*DB)(nil)

// defaultDepositLimit is the page size of Deposits when Filter.Limit is 0.
const defaultDepositLimit = 100

const chainDepositCols = `chain, txid, kind, idx, address, asset, amount::text, block_hash, height, rbf, reference,
	account_id, status, credits, transfer_id, first_seen, updated_at`

// Deposit implements deposit.Store.
func (d *DB) Deposit(ctx context.Context, k deposit.Key) (deposit.Deposit, error) {
	dep, err := scanChainDeposit(d.pool.QueryRow(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = $1 AND txid = $2 AND kind = $3 AND idx = $4`, k.Chain, k.TxID, k.Kind, int64(k.Index)))
	if errors.Is(err, pgx.ErrNoRows) {
		return dep, chengdui.Errorf(chengdui.ENotFound, "deposit %s is not recorded", k)
	}
	return dep, err
}

// PutDeposit implements deposit.Store: one transaction, the rows sent in
// one pipelined batch.
func (d *DB) PutDeposit(ctx context.Context, ds ...deposit.Deposit) error {
	for _, dep := range ds {
		if err := checkDeposit(dep); err != nil {
			return err
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, dep := range ds {
			b.Queue(`INSERT INTO chain_deposits (chain, txid, kind, idx, address, asset, amount, block_hash, height,
			rbf, reference, account_id, status, credits, transfer_id, first_seen, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (chain, txid, kind, idx) DO UPDATE SET address = excluded.address, asset = excluded.asset,
			amount = excluded.amount, block_hash = excluded.block_hash, height = excluded.height, rbf = excluded.rbf,
			reference = excluded.reference, account_id = excluded.account_id, status = excluded.status,
			credits = excluded.credits, transfer_id = excluded.transfer_id, first_seen = excluded.first_seen,
			updated_at = excluded.updated_at`,
				dep.Chain, dep.TxID, dep.Kind, int64(dep.Index), dep.Address, dep.Asset, pgtype.Numeric{Int: dep.Amount.Big(), Valid: true},
				dep.BlockHash, int64(dep.Height), dep.RBF, dep.Reference, dep.AccountID, string(dep.Status), int64(dep.Credits),
				dep.TransferID, dep.FirstSeen.UnixMicro(), dep.UpdatedAt.UnixMicro())
		}
		return tx.SendBatch(ctx, &b).Close()
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
	rows, _ := d.pool.Query(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = $1 AND (status IN ($2, $3) OR (status = $4 AND height = 0))
		ORDER BY first_seen, txid, kind, idx`, chain, string(deposit.Seen), string(deposit.Orphaned), string(deposit.Credited))
	return collectChainDeposits(rows)
}

// DepositsFrom implements deposit.Store.
func (d *DB) DepositsFrom(ctx context.Context, chain string, height uint64) ([]deposit.Deposit, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = $1 AND height >= $2 AND height > 0 ORDER BY height, txid, kind, idx`, chain, clampHeight(height))
	return collectChainDeposits(rows)
}

// DepositsOfTx implements deposit.Store.
func (d *DB) DepositsOfTx(ctx context.Context, chain, txid string) ([]deposit.Deposit, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+chainDepositCols+` FROM chain_deposits
		WHERE chain = $1 AND txid = $2 ORDER BY kind, idx`, chain, txid)
	return collectChainDeposits(rows)
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
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	q := `SELECT ` + chainDepositCols + ` FROM chain_deposits`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY first_seen DESC, chain, txid, kind, idx LIMIT $%d`, len(args))
	rows, _ := d.pool.Query(ctx, q, args...)
	return collectChainDeposits(rows)
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
	err := d.pool.QueryRow(ctx, `SELECT height, hash FROM chain_cursors WHERE chain = $1`, chain).Scan(&h, &c.Hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return deposit.Cursor{}, false, nil
	} else if err != nil {
		return deposit.Cursor{}, false, err
	}
	c.Height = uint64(h)
	return c, true, nil
}

// Advance implements deposit.Store. The blocks go in as arrays, one
// statement however many there are.
func (d *DB) Advance(ctx context.Context, chain string, blocks []deposit.Block, keep int) error {
	if err := checkAdvance(chain, blocks, keep); err != nil || len(blocks) == 0 {
		return err
	}
	last := blocks[len(blocks)-1]
	heights, hashes, parents := make([]int64, len(blocks)), make([]string, len(blocks)), make([]string, len(blocks))
	for i, b := range blocks {
		heights[i], hashes[i], parents[i] = int64(b.Height), b.Hash, b.Parent
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO chain_blocks (chain, height, hash, parent)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])
			ON CONFLICT (chain, height) DO UPDATE SET hash = excluded.hash, parent = excluded.parent`,
			chain, heights, hashes, parents); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = $1 AND (height > $2 OR height <= $3)`,
			chain, int64(last.Height), int64(last.Height)-int64(keep)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO chain_cursors (chain, height, hash) VALUES ($1, $2, $3)
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
	err := d.pool.QueryRow(ctx, `SELECT hash, parent FROM chain_blocks WHERE chain = $1 AND height = $2`,
		chain, clampHeight(height)).Scan(&b.Hash, &b.Parent)
	if errors.Is(err, pgx.ErrNoRows) || height > math.MaxInt64 {
		return deposit.Block{}, chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d", chain, height)
	}
	return b, err
}

// Rewind implements deposit.Store.
func (d *DB) Rewind(ctx context.Context, chain string, height uint64) error {
	if height > math.MaxInt64 {
		return chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d to rewind to", chain, height)
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var hash string
		err := tx.QueryRow(ctx, `SELECT hash FROM chain_blocks WHERE chain = $1 AND height = $2 FOR UPDATE`, chain, int64(height)).Scan(&hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "no stored block of %s at height %d to rewind to: rewind to a stored one or resync", chain, height)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = $1 AND height > $2`, chain, int64(height)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO chain_cursors (chain, height, hash) VALUES ($1, $2, $3)
			ON CONFLICT (chain) DO UPDATE SET height = excluded.height, hash = excluded.hash`, chain, int64(height), hash)
		return err
	})
}

// clampHeight is a height as BIGINT takes it: no stored height is past
// MaxInt64.
func clampHeight(h uint64) int64 { return int64(min(h, math.MaxInt64)) }

func collectChainDeposits(rows pgx.Rows) ([]deposit.Deposit, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (deposit.Deposit, error) { return scanChainDeposit(r) })
}

func scanChainDeposit(r pgx.Row) (deposit.Deposit, error) {
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
