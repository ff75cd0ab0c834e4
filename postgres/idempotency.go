package postgres

import (
	"context"
	"errors"
	"time"

	"chengdui"

	"github.com/jackc/pgx/v5"
)

var _ chengdui.IdempotencyStore = (*DB)(nil)

// ReserveIdempotent implements chengdui.IdempotencyStore: an insert that
// yields to a stored key (waiting for a concurrent insert of it to
// commit), then the read of that key. Codes: EInvalid for an empty scope
// or key.
func (d *DB) ReserveIdempotent(ctx context.Context, r chengdui.Idempotent) (chengdui.Idempotent, bool, error) {
	if r.Scope == "" || r.Key == "" {
		return chengdui.Idempotent{}, false, chengdui.Errorf(chengdui.EInvalid, "an idempotency key needs a scope and a key")
	}
	r.Status, r.Body, r.CreatedAt = 0, nil, time.UnixMicro(r.CreatedAt.UnixMicro()).UTC()
	// The stored key can be released between the two statements; then the
	// insert is tried again.
	for range 3 {
		tag, err := d.pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
			VALUES ($1, $2, $3, 0, ''::bytea, $4) ON CONFLICT (scope, key) DO NOTHING`, r.Scope, r.Key, r.RequestHash, r.CreatedAt.UnixMicro())
		if err != nil {
			return chengdui.Idempotent{}, false, err
		}
		if tag.RowsAffected() == 1 {
			return r, true, nil
		}
		stored, err := scanIdempotent(d.pool.QueryRow(ctx, `SELECT scope, key, request_hash, status, body, created_at
			FROM idempotency_keys WHERE scope = $1 AND key = $2`, r.Scope, r.Key))
		if !errors.Is(err, pgx.ErrNoRows) {
			return stored, false, err
		}
	}
	return chengdui.Idempotent{}, false, chengdui.Errorf(chengdui.EConflict, "idempotency key %q is reserved and released over and over; retry", clip(r.Key))
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
	tag, err := d.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND key = $4 AND status = 0`,
		status, body, scope, key)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	var was int
	err = d.pool.QueryRow(ctx, `SELECT status FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).Scan(&was)
	if errors.Is(err, pgx.ErrNoRows) {
		return chengdui.Errorf(chengdui.ENotFound, "idempotency key %q is not reserved", clip(key))
	} else if err != nil {
		return err
	}
	return chengdui.Errorf(chengdui.EConflict, "idempotency key %q is completed already", clip(key))
}

// ReleaseIdempotent implements chengdui.IdempotencyStore. A completed or
// unknown key is left as it is, without error.
func (d *DB) ReleaseIdempotent(ctx context.Context, scope, key string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, scope, key)
	return err
}

// TakeOverIdempotent implements chengdui.IdempotencyStore.
func (d *DB) TakeOverIdempotent(ctx context.Context, scope, key string, reservedAt, now time.Time) (bool, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND key = $3 AND status = 0 AND created_at = $4`,
		now.UnixMicro(), scope, key, reservedAt.UnixMicro())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func scanIdempotent(r pgx.Row) (chengdui.Idempotent, error) {
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
