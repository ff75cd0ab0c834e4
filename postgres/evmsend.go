package postgres

import (
	"context"
	"errors"
	"math"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"chengdui"
	"chengdui/evm"
	"chengdui/keys"
)

var _ evm.SendStore = (*DB)(nil)

const evmSendCols = `id, chain, from_addr, path, to_addr, value::text, data, asset, nonce, gas, fixed_fees,
	tip_cap::text, fee_cap::text, hash, status, block, gas_used, gas_price::text, fee::text, error, created_at, updated_at`

// CreateSend implements evm.SendStore. The nonce upsert locks the counter
// row (or waits on a concurrent first insert of it) until the send is
// inserted and committed, so callers in every process queue on it, and a
// refused insert rolls the counter back.
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
	err := pgx.BeginFunc(ctx, d.pool, func(t pgx.Tx) error {
		var nonce int64
		if err := t.QueryRow(ctx, `INSERT INTO evm_nonces (chain, address, next_nonce) VALUES ($1, $2, $3)
			ON CONFLICT (chain, address) DO UPDATE SET next_nonce = GREATEST(evm_nonces.next_nonce + 1, excluded.next_nonce)
			RETURNING next_nonce - 1`, tx.Chain, tx.From.Hex(), int64(floor)+1).Scan(&nonce); err != nil {
			return err
		}
		tx.Nonce = uint64(nonce)
		_, err := t.Exec(ctx, `INSERT INTO evm_sends (id, chain, from_addr, path, to_addr, value, data, asset, nonce, gas,
			fixed_fees, tip_cap, fee_cap, hash, status, block, gas_used, error, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11, $12::numeric, $13::numeric, '', $14, 0, 0, '', $15, $16)`,
			tx.ID, tx.Chain, tx.From.Hex(), tx.Path.String(), tx.To.Hex(), tx.Value.String(), evmBlob(tx.Data), tx.Asset,
			nonce, int64(tx.Gas), tx.FixedFees, evmOptInt(tx.TipCap), evmOptInt(tx.FeeCap), string(evm.SendQueued),
			tx.CreatedAt.UnixMicro(), tx.UpdatedAt.UnixMicro())
		return err
	})
	switch constraint(err, uniqueViolation) {
	case "evm_sends_pkey":
		return evm.OutTx{}, chengdui.Errorf(chengdui.EConflict, "send %s is recorded already", tx.ID)
	case "evm_sends_chain_from_addr_nonce_key":
		return evm.OutTx{}, chengdui.Errorf(chengdui.EConflict, "nonce %d of %s on %s is taken: the nonce counter is behind the recorded sends", tx.Nonce, tx.From.Hex(), tx.Chain)
	}
	if err != nil {
		return evm.OutTx{}, err
	}
	return tx, nil
}

// OutTx implements evm.SendStore.
func (d *DB) OutTx(ctx context.Context, id string) (evm.OutTx, error) {
	out, err := d.evmSends(ctx, `WHERE id = $1`, `WHERE send_id = $1`, id)
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
	return d.evmSends(ctx, `WHERE chain = $1 AND status IN ('queued', 'sent') ORDER BY from_addr, nonce`,
		`WHERE send_id IN (SELECT id FROM evm_sends WHERE chain = $1 AND status IN ('queued', 'sent'))`, chain)
}

// evmSends reads, in one snapshot, the sends that where selects, in its
// order, with the attempts that attemptsWhere selects; both take arg.
func (d *DB) evmSends(ctx context.Context, where, attemptsWhere string, arg any) ([]evm.OutTx, error) {
	var out []evm.OutTx
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(t pgx.Tx) error {
		rows, _ := t.Query(ctx, `SELECT `+evmSendCols+` FROM evm_sends `+where, arg)
		var err error
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (evm.OutTx, error) { return scanOutTx(r) })
		if err != nil || len(out) == 0 {
			return err
		}
		rows, _ = t.Query(ctx, `SELECT send_id, hash, tip_cap::text, fee_cap::text, raw, created_at FROM evm_send_attempts `+
			attemptsWhere+` ORDER BY send_id, n`, arg)
		type idAttempt struct {
			id string
			a  evm.Attempt
		}
		attempts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (idAttempt, error) {
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
			return err
		}
		byID := make(map[string][]evm.Attempt, len(out))
		for _, x := range attempts {
			byID[x.id] = append(byID[x.id], x.a)
		}
		for i := range out {
			out[i].Attempts = byID[out[i].ID]
		}
		return nil
	})
	return out, err
}

// AddAttempt implements evm.SendStore.
func (d *DB) AddAttempt(ctx context.Context, id string, a evm.Attempt) error {
	if err := a.Check(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, d.pool, func(t pgx.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `INSERT INTO evm_send_attempts (send_id, n, hash, tip_cap, fee_cap, raw, created_at)
			SELECT $1, coalesce(max(n), 0) + 1, $2, $3::numeric, $4::numeric, $5, $6 FROM evm_send_attempts WHERE send_id = $1`,
			id, a.Hash.Hex(), a.TipCap.String(), a.FeeCap.String(), a.Raw, a.At.UnixMicro()); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE evm_sends SET hash = $1, tip_cap = $2::numeric, fee_cap = $3::numeric, updated_at = $4 WHERE id = $5`,
			a.Hash.Hex(), a.TipCap.String(), a.FeeCap.String(), a.At.UnixMicro(), id)
		return err
	})
	if constraint(err, uniqueViolation) == "evm_send_attempts_hash_key" {
		return chengdui.Errorf(chengdui.EConflict, "attempt %s is recorded already", a.Hash.Hex())
	}
	return err
}

// SetSendState implements evm.SendStore.
func (d *DB) SetSendState(ctx context.Context, id string, status evm.SendStatus, note string, at time.Time) error {
	if status != evm.SendQueued && status != evm.SendSent {
		return chengdui.Errorf(chengdui.EInvalid, "send %s: SetSendState moves to queued or sent, not %q", id, status)
	}
	return pgx.BeginFunc(ctx, d.pool, func(t pgx.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `UPDATE evm_sends SET status = $1, error = $2, updated_at = $3 WHERE id = $4`,
			string(status), note, at.UnixMicro(), id)
		return err
	})
}

// FinishSend implements evm.SendStore.
func (d *DB) FinishSend(ctx context.Context, id string, r evm.SendResult) error {
	if err := r.Check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, d.pool, func(t pgx.Tx) error {
		if err := evmSendUnfinished(ctx, t, id); err != nil {
			return err
		}
		if r.Hash != (common.Hash{}) {
			tag, err := t.Exec(ctx, `UPDATE evm_sends s SET hash = a.hash, tip_cap = a.tip_cap, fee_cap = a.fee_cap
				FROM evm_send_attempts a WHERE s.id = $1 AND a.send_id = s.id AND a.hash = $2`, id, r.Hash.Hex())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return chengdui.Errorf(chengdui.EInvalid, "send %s has no attempt %s", id, r.Hash.Hex())
			}
		}
		_, err := t.Exec(ctx, `UPDATE evm_sends SET status = $1, block = $2, gas_used = $3, gas_price = $4::numeric,
			fee = $5::numeric, error = $6, updated_at = $7 WHERE id = $8`,
			string(r.Status), int64(r.Block), int64(r.GasUsed), r.GasPrice.String(), r.Fee.String(), r.Error, r.At.UnixMicro(), id)
		return err
	})
}

// evmSendUnfinished locks send id's row inside a transaction and checks
// that it exists and is not final.
func evmSendUnfinished(ctx context.Context, t pgx.Tx, id string) error {
	var status string
	err := t.QueryRow(ctx, `SELECT status FROM evm_sends WHERE id = $1 FOR UPDATE`, id).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return chengdui.Errorf(chengdui.ENotFound, "no send %q", id)
	case err != nil:
		return err
	case evm.SendStatus(status).Final():
		return chengdui.Errorf(chengdui.EConflict, "send %s is %s already", id, status)
	}
	return nil
}

func scanOutTx(r pgx.Row) (evm.OutTx, error) {
	var tx evm.OutTx
	var from, path, to, value, hash, status string
	var tip, feeCap, price, fee *string
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
	if tx.Value, err = evmParseWei(value); err != nil {
		return tx, err
	}
	for _, f := range []struct {
		dst **big.Int
		s   *string
	}{{&tx.TipCap, tip}, {&tx.FeeCap, feeCap}, {&tx.GasPrice, price}, {&tx.Fee, fee}} {
		if f.s == nil {
			continue
		}
		if *f.dst, err = evmParseWei(*f.s); err != nil {
			return tx, err
		}
	}
	return tx, nil
}

// evmParseWei reads a stored decimal amount.
func evmParseWei(s string) (*big.Int, error) {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, chengdui.Errorf(chengdui.EInternal, "postgres: stored amount %q is not a decimal integer", s)
	}
	return x, nil
}

// evmOptInt is x in decimal, or NULL for nil.
func evmOptInt(x *big.Int) *string {
	if x == nil {
		return nil
	}
	s := x.String()
	return &s
}

// evmBlob is b, or an empty slice for nil: a NOT NULL BYTEA.
func evmBlob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
