package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"chengdui"
	"chengdui/merchant"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ merchant.Store = (*DB)(nil)

// CreateStore implements merchant.Store.
func (d *DB) CreateStore(ctx context.Context, s chengdui.Store) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO stores (id, owner_id, name, default_currency, settlement, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.OwnerID, s.Name, s.DefaultCurrency, merchant.EncodeSettlement(s.Settlement), s.CreatedAt.UnixMicro())
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, ""):
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", s.OwnerID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "stores.id"), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "stores.id"):
		return chengdui.Errorf(chengdui.EConflict, "store %q exists", s.ID)
	}
	return err
}

const storeCols = `id, owner_id, name, default_currency, settlement, created_at`

// Store implements merchant.Store.
func (d *DB) Store(ctx context.Context, id string) (chengdui.Store, error) {
	s, err := scanStore(d.read.QueryRowContext(ctx, `SELECT `+storeCols+` FROM stores WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, chengdui.Errorf(chengdui.ENotFound, "store %q does not exist", id)
	}
	return s, err
}

// StoresOf implements merchant.Store.
func (d *DB) StoresOf(ctx context.Context, ownerID string) ([]chengdui.Store, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+storeCols+` FROM stores WHERE owner_id = ? ORDER BY created_at, id`, ownerID)
	return collect(rows, err, scanStore)
}

// CreateAPIKey implements merchant.Store. Codes: also EInvalid for a scope
// that is empty or holds a comma, which the stored list could not keep.
func (d *DB) CreateAPIKey(ctx context.Context, k chengdui.APIKey) error {
	scopes, err := joinScopes(k.Scopes)
	if err != nil {
		return err
	}
	_, err = d.write.ExecContext(ctx, `INSERT INTO api_keys (id, store_id, label, prefix, hash, scopes, created_at, last_used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.StoreID, k.Label, k.Prefix, k.Hash, scopes, k.CreatedAt.UnixMicro(), nullMicros(k.LastUsedAt), nullMicros(k.RevokedAt))
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, ""):
		return chengdui.Errorf(chengdui.ENotFound, "store %q does not exist", k.StoreID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "api_keys.id"), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "api_keys.id"):
		return chengdui.Errorf(chengdui.EConflict, "API key %q exists", k.ID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "api_keys.prefix"):
		return chengdui.Errorf(chengdui.EConflict, "an API key with this prefix exists")
	}
	return err
}

const apiKeyCols = `id, store_id, label, prefix, hash, scopes, created_at, last_used_at, revoked_at`

// APIKeyByPrefix implements merchant.Store.
func (d *DB) APIKeyByPrefix(ctx context.Context, prefix string) (chengdui.APIKey, error) {
	k, err := scanAPIKey(d.read.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE prefix = ?`, prefix))
	if errors.Is(err, sql.ErrNoRows) {
		return k, chengdui.Errorf(chengdui.ENotFound, "no API key with this prefix")
	}
	return k, err
}

// APIKeys implements merchant.Store.
func (d *DB) APIKeys(ctx context.Context, storeID string) ([]chengdui.APIKey, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE store_id = ? ORDER BY created_at, id`, storeID)
	return collect(rows, err, scanAPIKey)
}

// RevokeAPIKey implements merchant.Store.
func (d *DB) RevokeAPIKey(ctx context.Context, storeID, keyID string, at time.Time) error {
	res, err := d.write.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND store_id = ?`,
		at.UnixMicro(), keyID, storeID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "store %q has no API key %q", storeID, keyID)
	}
	return nil
}

// TouchAPIKey implements merchant.Store.
func (d *DB) TouchAPIKey(ctx context.Context, keyID string, at time.Time) error {
	_, err := d.write.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, at.UnixMicro(), keyID)
	return err
}

// SaveTOTP implements merchant.Store. One upsert whose update applies only
// to an enrolment not yet enabled: no row changed means TOTP is on.
func (d *DB) SaveTOTP(ctx context.Context, userID, secret string) error {
	res, err := d.write.ExecContext(ctx, `INSERT INTO totp (user_id, secret, enabled, last_step, created_at) VALUES (?, ?, 0, 0, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
			WHERE totp.enabled = 0`, userID, secret, time.Now().UnixMicro())
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, "") {
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", userID)
	} else if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.EConflict, "two-factor authentication is enabled already")
	}
	return nil
}

// TOTPSecret implements merchant.Store.
func (d *DB) TOTPSecret(ctx context.Context, userID string) (secret string, lastStep int64, enabled bool, err error) {
	err = d.read.QueryRowContext(ctx, `SELECT secret, last_step, enabled FROM totp WHERE user_id = ?`, userID).
		Scan(&secret, &lastStep, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, chengdui.Errorf(chengdui.ENotFound, "user %q has not enrolled in two-factor authentication", userID)
	}
	return secret, lastStep, enabled, err
}

// EnableTOTP implements merchant.Store. Codes: also EInvalid for an empty
// hash, which would read as a used code.
func (d *DB) EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) error {
	if err := checkRecoveryHashes(recoveryHashes); err != nil {
		return err
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp SET enabled = 1, last_step = ? WHERE user_id = ? AND enabled = 0`, step, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return totpNotEnableable(ctx, tx, userID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for i, h := range recoveryHashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, idx, hash) VALUES (?, ?, ?)`, userID, i, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// totpNotEnableable says why enabling changed no row: no enrolment, or an
// enabled one.
func totpNotEnableable(ctx context.Context, tx *sql.Tx, userID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM totp WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "user %q has not enrolled in two-factor authentication", userID)
	}
	return chengdui.Errorf(chengdui.EConflict, "two-factor authentication is enabled already")
}

// SetTOTPLastStep implements merchant.Store. The WHERE is the
// compare-and-set: SQLite's single writer applies one update at a time, and
// only the first for a step changes the row.
func (d *DB) SetTOTPLastStep(ctx context.Context, userID string, step int64) error {
	res, err := d.write.ExecContext(ctx, `UPDATE totp SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.EConflict, "this code's time step is used already")
	}
	return nil
}

// RecoveryCodeHashes implements merchant.Store.
func (d *DB) RecoveryCodeHashes(ctx context.Context, userID string) ([]string, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT hash FROM recovery_codes WHERE user_id = ? ORDER BY idx`, userID)
	return collect(rows, err, scanString)
}

// UseRecoveryCode implements merchant.Store; the WHERE is the
// compare-and-set.
func (d *DB) UseRecoveryCode(ctx context.Context, userID string, index int) error {
	res, err := d.write.ExecContext(ctx, `UPDATE recovery_codes SET hash = '' WHERE user_id = ? AND idx = ? AND hash <> ''`, userID, index)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return chengdui.Errorf(chengdui.EConflict, "this recovery code is used already")
	}
	return nil
}

// joinScopes is the stored form of a key's scopes: comma-separated, so a
// scope may be neither empty nor hold a comma.
func joinScopes(scopes []string) (string, error) {
	for _, s := range scopes {
		if s == "" || strings.Contains(s, ",") {
			return "", chengdui.Errorf(chengdui.EInvalid, "API key scope %q is empty or holds a comma", s)
		}
	}
	return strings.Join(scopes, ","), nil
}

func splitScopes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func checkRecoveryHashes(hashes []string) error {
	for i, h := range hashes {
		if h == "" {
			return chengdui.Errorf(chengdui.EInvalid, "recovery code hash %d is empty", i)
		}
	}
	return nil
}

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func microsPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.UnixMicro(n.Int64).UTC()
	return &t
}

func scanStore(r scanner) (chengdui.Store, error) {
	var s chengdui.Store
	var created int64
	var settlement string
	if err := r.Scan(&s.ID, &s.OwnerID, &s.Name, &s.DefaultCurrency, &settlement, &created); err != nil {
		return chengdui.Store{}, err
	}
	s.CreatedAt = time.UnixMicro(created).UTC()
	var err error
	s.Settlement, err = merchant.DecodeSettlement(settlement)
	return s, err
}

func scanAPIKey(r scanner) (chengdui.APIKey, error) {
	var k chengdui.APIKey
	var scopes string
	var created int64
	var lastUsed, revoked sql.NullInt64
	if err := r.Scan(&k.ID, &k.StoreID, &k.Label, &k.Prefix, &k.Hash, &scopes, &created, &lastUsed, &revoked); err != nil {
		return chengdui.APIKey{}, err
	}
	k.Scopes, k.CreatedAt = splitScopes(scopes), time.UnixMicro(created).UTC()
	k.LastUsedAt, k.RevokedAt = microsPtr(lastUsed), microsPtr(revoked)
	return k, nil
}
