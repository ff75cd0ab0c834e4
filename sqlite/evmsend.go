package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"chengdui"
	"chengdui/evm"
	"chengdui/keys"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ evm.SendStore = (*DB)(nil)

const evmSendCols = `id, chain, from_addr, path, to_addr, value, data, asset, nonce, gas, fixed_fees,
	tip_cap, fee_cap, hash, status, block, gas_used, gas_price, fee, error, created_at, updated_at`

// CreateSend implements evm.SendStore. The nonce upsert and the insert
// are one transaction on the write connection: other processes wait on
// SQLite's write lock, and a refused insert rolls the counter back.
func (d *DB) CreateSend(ctx context.Context, tx evm.OutTx, floor uint64) (evm.OutTx, error) {
	if err := tx.CheckNew(); err != nil {
		return evm.OutTx{}, err
	}
	if floor >= math.MaxInt64 {
		return evm.OutTx{}, chengdui.Errorf(chengdui.EInvalid, "send %s: nonce floor %d is out of range", tx.ID, floor)
	}
	tx.Status, tx.Hash, tx.Attempts = evm.SendQueued, common.Hash{}, nil
	tx.Block, tx.GasUsed, tx.GasPrice, tx.Fee, tx.Error = 0, 0, nil, nil, ""
	tx.CreatedAt, tx.UpdatedAt = tx.CreatedAt.UTC().Truncate(time.Microsecond), tx.UpdatedAt.UTC().Truncate(time.Microsecond)
	if len(tx.Data) == 0 {
		tx.Data = nil
	}
	err := d.tx(ctx, func(t *sql.Tx) error {
		var nonce int64
		if err := t.QueryRowContext(ctx, `INSERT INTO evm_nonces (chain, address, next_nonce) VALUES (?, ?, ?)
			ON CONFLICT (chain, address) DO UPDATE SET next_nonce = max(evm_nonces.next_nonce + 1, excluded.next_nonce)
			RETURNING next_nonce - 1`, tx.Chain, tx.From.Hex(), int64(floor)+1).Scan(&nonce); err != nil {
			return err
		}
		tx.Nonce = uint64(nonce)
		_, err := t.ExecContext(ctx, `INSERT INTO evm_sends (`+evmSendCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, 0, 0, '', '', '', ?, ?)`,
			tx.ID, tx.Chain, tx.From.Hex(), tx.Path.String(), tx.To.Hex(), tx.Value.String(), evmBlob(tx.Data), tx.Asset,
			nonce, int64(tx.Gas), tx.FixedFees, evmOptInt(tx.TipCap), evmOptInt(tx.FeeCap), string(evm.SendQueued),
			tx.CreatedAt.UnixMicro(), tx.UpdatedAt.UnixMicro())
		return err
	})
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "evm_sends.id"):
		return evm.OutTx{}, chengdui.Errorf(chengdui.EConflict, "send %s is recorded already", tx.ID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "evm_sends.chain"):
		return evm.OutTx{}, chengdui.Errorf(chengdui.EConflict, "nonce %d of %s on %s is taken: the nonce counter is behind the recorded sends", tx.Nonce, tx.From.Hex(), tx.Chain)
	case err != nil:
		return evm.OutTx{}, err
	}
	return tx, nil
}

// OutTx implements evm.SendStore.
func (d *DB) OutTx(ctx context.Context, id string) (evm.OutTx, error) {
	var out []evm.OutTx
	err := d.evmSnapshot(ctx, func(t *sql.Tx) error {
		var err error
		out, err = d.evmSends(ctx, t, `WHERE id = ?`, `WHERE send_id = ?`, id)
		return err
	})
	if err != nil {
		return evm.OutTx{}, err
	}
	if len(out) == 0 {
		return evm.OutTx{}, chengdui.Errorf(chengdui.ENotFound, "no send %q", id)
	}
	return out[0], nil
}

// UnfinishedSends implements evm.SendStore.
func (d *DB) UnfinishedSends(ctx context.Context, chain string) ([]evm.OutTx, error) {
	var out []evm.OutTx
	err := d.evmSnapshot(ctx, func(t *sql.Tx) error {
		var err error
		out, err = d.evmSends(ctx, t, `WHERE chain = ? AND status IN ('queued', 'sent') ORDER BY from_addr, nonce`,
			`WHERE send_id IN (SELECT id FROM evm_sends WHERE chain = ? AND status IN ('queued', 'sent'))`, chain)
		return err
	})
	return out, err
}

// evmSends reads the sends that where selects, in its order, with the
// attempts that attemptsWhere selects; both take arg.
func (d *DB) evmSends(ctx context.Context, t *sql.Tx, where, attemptsWhere string, arg any) ([]evm.OutTx, error) {
	rows, err := t.QueryContext(ctx, `SELECT `+evmSendCols+` FROM evm_sends `+where, arg)
	out, err := collect(rows, err, scanOutTx)
	if err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = t.QueryContext(ctx, `SELECT send_id, hash, tip_cap, fee_cap, raw, created_at FROM evm_send_attempts `+
		attemptsWhere+` ORDER BY send_id, n`, arg)
	type idAttempt struct {
		id string
		a  evm.Attempt
	}
	attempts, err := collect(rows, err, func(r scanner) (idAttempt, error) {
		var x idAttempt
		var hash, tip, feeCap string
		var at int64
		if err := r.Scan(&x.id, &hash, &tip, &feeCap, &x.a.Raw, &at); err != nil {
			return x, err
		}
		x.a.Hash, x.a.At = common.HexToHash(hash), time.UnixMicro(at).UTC()
		if x.a.TipCap, err = evmParseWei(tip); err != nil {
			return x, err
		}
		x.a.FeeCap, err = evmParseWei(feeCap)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[string][]evm.Attempt, len(out))
	for _, x := range attempts {
		byID[x.id] = append(byID[x.id], x.a)
	}
	for i := range out {
		out[i].Attempts = byID[out[i].ID]
	}
	return out, nil
}

// AddAttempt implements evm.SendStore.
func (d *DB) AddAttempt(ctx context.Context, id string, a evm.Attempt) error {
	if err := a.Check(); err != nil {
		return err
	}
	err := d.tx(ctx, func(t *sql.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO evm_send_attempts (send_id, n, hash, tip_cap, fee_cap, raw, created_at)
			SELECT ?, coalesce(max(n), 0) + 1, ?, ?, ?, ?, ? FROM evm_send_attempts WHERE send_id = ?`,
			id, a.Hash.Hex(), a.TipCap.String(), a.FeeCap.String(), a.Raw, a.At.UnixMicro(), id); err != nil {
			return err
		}
		_, err := t.ExecContext(ctx, `UPDATE evm_sends SET hash = ?, tip_cap = ?, fee_cap = ?, updated_at = ? WHERE id = ?`,
			a.Hash.Hex(), a.TipCap.String(), a.FeeCap.String(), a.At.UnixMicro(), id)
		return err
	})
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "evm_send_attempts.hash") {
		return chengdui.Errorf(chengdui.EConflict, "attempt %s is recorded already", a.Hash.Hex())
	}
	return err
}

// SetSendState implements evm.SendStore.
func (d *DB) SetSendState(ctx context.Context, id string, status evm.SendStatus, note string, at time.Time) error {
	if status != evm.SendQueued && status != evm.SendSent {
		return chengdui.Errorf(chengdui.EInvalid, "send %s: SetSendState moves to queued or sent, not %q", id, status)
	}
	return d.tx(ctx, func(t *sql.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		_, err := t.ExecContext(ctx, `UPDATE evm_sends SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
			string(status), note, at.UnixMicro(), id)
		return err
	})
}

// FinishSend implements evm.SendStore.
func (d *DB) FinishSend(ctx context.Context, id string, r evm.SendResult) error {
	if err := r.Check(); err != nil {
		return err
	}
	return d.tx(ctx, func(t *sql.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		if r.Hash != (common.Hash{}) {
			res, err := t.ExecContext(ctx, `UPDATE evm_sends SET hash = a.hash, tip_cap = a.tip_cap, fee_cap = a.fee_cap
				FROM evm_send_attempts a WHERE evm_sends.id = ? AND a.send_id = evm_sends.id AND a.hash = ?`, id, r.Hash.Hex())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return chengdui.Errorf(chengdui.EInvalid, "send %s has no attempt %s", id, r.Hash.Hex())
			}
		}
		_, err := t.ExecContext(ctx, `UPDATE evm_sends SET status = ?, block = ?, gas_used = ?, gas_price = ?, fee = ?,
			error = ?, updated_at = ? WHERE id = ?`,
			string(r.Status), int64(r.Block), int64(r.GasUsed), r.GasPrice.String(), r.Fee.String(), r.Error, r.At.UnixMicro(), id)
		return err
	})
}

// evmSendUnfinished checks inside a write transaction that send id exists and
// is not final.
func evmSendUnfinished(ctx context.Context, t *sql.Tx, id string) error {
	var status string
	err := t.QueryRowContext(ctx, `SELECT status FROM evm_sends WHERE id = ?`, id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return chengdui.Errorf(chengdui.ENotFound, "no send %q", id)
	case err != nil:
		return err
	case evm.SendStatus(status).Final():
		return chengdui.Errorf(chengdui.EConflict, "send %s is %s already", id, status)
	}
	return nil
}

// evmSnapshot runs fn in a read-only transaction of the read pool: one
// snapshot for a send and its attempts.
func (d *DB) evmSnapshot(ctx context.Context, fn func(*sql.Tx) error) error {
	t, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer t.Rollback()
	return fn(t)
}

func scanOutTx(r scanner) (evm.OutTx, error) {
	var tx evm.OutTx
	var from, path, to, value, tip, feeCap, hash, status, price, fee string
	var nonce, gas, block, gasUsed, created, updated int64
	if err := r.Scan(&tx.ID, &tx.Chain, &from, &path, &to, &value, &tx.Data, &tx.Asset, &nonce, &gas, &tx.FixedFees,
		&tip, &feeCap, &hash, &status, &block, &gasUsed, &price, &fee, &tx.Error, &created, &updated); err != nil {
		return tx, err
	}
	var err error
	if tx.Path, err = keys.ParsePath(path); err != nil {
		return tx, err
	}
	tx.From, tx.To = common.HexToAddress(from), common.HexToAddress(to)
	if len(tx.Data) == 0 {
		tx.Data = nil
	}
	if hash != "" {
		tx.Hash = common.HexToHash(hash)
	}
	tx.Status = evm.SendStatus(status)
	tx.Nonce, tx.Gas, tx.Block, tx.GasUsed = uint64(nonce), uint64(gas), uint64(block), uint64(gasUsed)
	tx.CreatedAt, tx.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	for _, f := range []struct {
		dst **big.Int
		s   string
	}{{&tx.Value, value}, {&tx.TipCap, tip}, {&tx.FeeCap, feeCap}, {&tx.GasPrice, price}, {&tx.Fee, fee}} {
		if f.s == "" {
			continue
		}
		if *f.dst, err = evmParseWei(f.s); err != nil {
			return tx, err
		}
	}
	return tx, nil
}

// evmParseWei reads a stored decimal amount.
func evmParseWei(s string) (*big.Int, error) {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, chengdui.Errorf(chengdui.EInternal, "sqlite: stored amount %q is not a decimal integer", s)
	}
	return x, nil
}

// evmOptInt is x in decimal, or "" for nil.
func evmOptInt(x *big.Int) string {
	if x == nil {
		return ""
	}
	return x.String()
}

// evmBlob is b, or an empty slice for nil: a NOT NULL BLOB.
func evmBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
