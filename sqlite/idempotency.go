package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"chengdui"
)

var _ chengdui.IdempotencyStore = (*DB)(nil)

// ReserveIdempotent implements chengdui.IdempotencyStore: an insert that
// yields to a stored key, and the read of that key, in one write
// transaction. Codes: EInvalid for an empty scope or key.
func (d *DB) ReserveIdempotent(ctx context.Context, r chengdui.Idempotent) (chengdui.Idempotent, bool, error) {
	if r.Scope == "" || r.Key == "" {
		return chengdui.Idempotent{}, false, chengdui.Errorf(chengdui.EInvalid, "an idempotency key needs a scope and a key")
	}
	r.Status, r.Body, r.CreatedAt = 0, nil, time.UnixMicro(r.CreatedAt.UnixMicro()).UTC()
	stored, created := r, false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
			VALUES (?, ?, ?, 0, x'', ?) ON CONFLICT (scope, key) DO NOTHING`, r.Scope, r.Key, r.RequestHash, r.CreatedAt.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			created = n == 1
			return err
		}
		stored, err = scanIdempotent(tx.QueryRowContext(ctx, `SELECT scope, key, request_hash, status, body, created_at
			FROM idempotency_keys WHERE scope = ? AND key = ?`, r.Scope, r.Key))
		return err
	})
	if err != nil {
		return chengdui.Idempotent{}, false, err
	}
	return stored, created, nil
}

// CompleteIdempotent implements chengdui.IdempotencyStore. Codes: also
// EInvalid for a status outside 100–599.
func (d *DB) CompleteIdempotent(ctx context.Context, scope, key string, status int, body []byte) error {
	if status < 100 || status > 599 {
		return chengdui.Errorf(chengdui.EInvalid, "HTTP status %d is outside 100–599", status)
	}
	if body == nil {
		body = []byte{}
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ? AND status = 0`,
			status, body, scope, key)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var was int
		err = tx.QueryRowContext(ctx, `SELECT status FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return chengdui.Errorf(chengdui.ENotFound, "idempotency key %q is not reserved", clip(key))
		} else if err != nil {
			return err
		}
		return chengdui.Errorf(chengdui.EConflict, "idempotency key %q is completed already", clip(key))
	})
}

// ReleaseIdempotent implements chengdui.IdempotencyStore. A completed or
// unknown key is left as it is, without error.
func (d *DB) ReleaseIdempotent(ctx context.Context, scope, key string) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status = 0`, scope, key)
	return err
}

// TakeOverIdempotent implements chengdui.IdempotencyStore.
func (d *DB) TakeOverIdempotent(ctx context.Context, scope, key string, reservedAt, now time.Time) (bool, error) {
	res, err := d.write.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE scope = ? AND key = ? AND status = 0 AND created_at = ?`,
		now.UnixMicro(), scope, key, reservedAt.UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func scanIdempotent(r scanner) (chengdui.Idempotent, error) {
	var i chengdui.Idempotent
	var created int64
	if err := r.Scan(&i.Scope, &i.Key, &i.RequestHash, &i.Status, &i.Body, &created); err != nil {
		return chengdui.Idempotent{}, err
	}
	if len(i.Body) == 0 {
		i.Body = nil
	}
	i.CreatedAt = time.UnixMicro(created).UTC()
	return i, nil
}
