package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"chengdui"
	"chengdui/merchant"

	"github.com/jackc/pgx/v5"
)

var _ merchant.Store = (*DB)(nil)

// CreateStore implements merchant.Store.
func (d *DB) CreateStore(ctx context.Context, s chengdui.Store) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO stores (id, owner_id, name, default_currency, settlement, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.ID, s.OwnerID, s.Name, s.DefaultCurrency, merchant.EncodeSettlement(s.Settlement), s.CreatedAt.UnixMicro())
	if constraint(err, foreignKeyViolation) != "" {
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", s.OwnerID)
	} else if constraint(err, uniqueViolation) == "stores_pkey" {
		return chengdui.Errorf(chengdui.EConflict, "store %q exists", s.ID)
	}
	return err
}

const storeCols = `id, owner_id, name, default_currency, settlement, created_at`

// Store implements merchant.Store.
func (d *DB) Store(ctx context.Context, id string) (chengdui.Store, error) {
	s, err := scanStore(d.pool.QueryRow(ctx, `SELECT `+storeCols+` FROM stores WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, chengdui.Errorf(chengdui.ENotFound, "store %q does not exist", id)
	}
	return s, err
}

// StoresOf implements merchant.Store.
func (d *DB) StoresOf(ctx context.Context, ownerID string) ([]chengdui.Store, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+storeCols+` FROM stores WHERE owner_id = $1 ORDER BY created_at, id`, ownerID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.Store, error) { return scanStore(r) })
}

// CreateAPIKey implements merchant.Store. Codes: also EInvalid for a scope
// that is empty or holds a comma, which the stored list could not keep.
func (d *DB) CreateAPIKey(ctx context.Context, k chengdui.APIKey) error {
	scopes, err := joinScopes(k.Scopes)
	if err != nil {
		return err
	}
	_, err = d.pool.Exec(ctx, `INSERT INTO api_keys (id, store_id, label, prefix, hash, scopes, created_at, last_used_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.StoreID, k.Label, k.Prefix, k.Hash, scopes, k.CreatedAt.UnixMicro(), micros(k.LastUsedAt), micros(k.RevokedAt))
	if constraint(err, foreignKeyViolation) != "" {
		return chengdui.Errorf(chengdui.ENotFound, "store %q does not exist", k.StoreID)
	}
	switch constraint(err, uniqueViolation) {
	case "api_keys_pkey":
		return chengdui.Errorf(chengdui.EConflict, "API key %q exists", k.ID)
	case "api_keys_prefix_key":
		return chengdui.Errorf(chengdui.EConflict, "an API key with this prefix exists")
	}
	return err
}

const apiKeyCols = `id, store_id, label, prefix, hash, scopes, created_at, last_used_at, revoked_at`

// APIKeyByPrefix implements merchant.Store.
func (d *DB) APIKeyByPrefix(ctx context.Context, prefix string) (chengdui.APIKey, error) {
	k, err := scanAPIKey(d.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE prefix = $1`, prefix))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, chengdui.Errorf(chengdui.ENotFound, "no API key with this prefix")
	}
	return k, err
}

// APIKeys implements merchant.Store.
func (d *DB) APIKeys(ctx context.Context, storeID string) ([]chengdui.APIKey, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE store_id = $1 ORDER BY created_at, id`, storeID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.APIKey, error) { return scanAPIKey(r) })
}

// RevokeAPIKey implements merchant.Store.
func (d *DB) RevokeAPIKey(ctx context.Context, storeID, keyID string, at time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND store_id = $3`,
		at.UnixMicro(), keyID, storeID)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.ENotFound, "store %q has no API key %q", storeID, keyID)
	}
	return nil
}

// TouchAPIKey implements merchant.Store.
func (d *DB) TouchAPIKey(ctx context.Context, keyID string, at time.Time) error {
	_, err := d.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, at.UnixMicro(), keyID)
	return err
}

// SaveTOTP implements merchant.Store. One upsert whose update applies only
// to an enrolment not yet enabled: no row changed means TOTP is on.
func (d *DB) SaveTOTP(ctx context.Context, userID, secret string) error {
	tag, err := d.pool.Exec(ctx, `INSERT INTO totp (user_id, secret, enabled, last_step, created_at) VALUES ($1, $2, false, 0, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
			WHERE totp.enabled = false`, userID, secret, time.Now().UnixMicro())
	if constraint(err, foreignKeyViolation) != "" {
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", userID)
	} else if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.EConflict, "two-factor authentication is enabled already")
	}
	return nil
}

// TOTPSecret implements merchant.Store.
func (d *DB) TOTPSecret(ctx context.Context, userID string) (secret string, lastStep int64, enabled bool, err error) {
	err = d.pool.QueryRow(ctx, `SELECT secret, last_step, enabled FROM totp WHERE user_id = $1`, userID).
		Scan(&secret, &lastStep, &enabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, false, chengdui.Errorf(chengdui.ENotFound, "user %q has not enrolled in two-factor authentication", userID)
	}
	return secret, lastStep, enabled, err
}

// EnableTOTP implements merchant.Store. The update locks the enrolment, so
// of two concurrent calls the second sees it enabled and changes nothing.
// Codes: also EInvalid for an empty hash, which would read as a used code.
func (d *DB) EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) error {
	if err := checkRecoveryHashes(recoveryHashes); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE totp SET enabled = true, last_step = $1 WHERE user_id = $2 AND enabled = false`, step, userID)
		if err != nil {
			return err
		} else if tag.RowsAffected() == 0 {
			return totpNotEnableable(ctx, tx, userID)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, idx, hash)
			SELECT $1, ord - 1, hash FROM unnest($2::text[]) WITH ORDINALITY AS c (hash, ord)`, userID, recoveryHashes)
		return err
	})
}

// totpNotEnableable says why enabling changed no row: no enrolment, or an
// enabled one.
func totpNotEnableable(ctx context.Context, tx pgx.Tx, userID string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp WHERE user_id = $1)`, userID).Scan(&exists); err != nil {
		return err
	} else if !exists {
		return chengdui.Errorf(chengdui.ENotFound, "user %q has not enrolled in two-factor authentication", userID)
	}
	return chengdui.Errorf(chengdui.EConflict, "two-factor authentication is enabled already")
}

// SetTOTPLastStep implements merchant.Store. The WHERE is the
// compare-and-set: a concurrent update of the row waits for the first to
// commit, then re-checks the WHERE against the new step and changes nothing.
func (d *DB) SetTOTPLastStep(ctx context.Context, userID string, step int64) error {
	tag, err := d.pool.Exec(ctx, `UPDATE totp SET last_step = $1 WHERE user_id = $2 AND last_step < $1`, step, userID)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
		return chengdui.Errorf(chengdui.EConflict, "this code's time step is used already")
	}
	return nil
}

// RecoveryCodeHashes implements merchant.Store.
func (d *DB) RecoveryCodeHashes(ctx context.Context, userID string) ([]string, error) {
	rows, _ := d.pool.Query(ctx, `SELECT hash FROM recovery_codes WHERE user_id = $1 ORDER BY idx`, userID)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// UseRecoveryCode implements merchant.Store; the WHERE is the
// compare-and-set, as in SetTOTPLastStep.
func (d *DB) UseRecoveryCode(ctx context.Context, userID string, index int) error {
	tag, err := d.pool.Exec(ctx, `UPDATE recovery_codes SET hash = '' WHERE user_id = $1 AND idx = $2 AND hash <> ''`, userID, index)
	if err != nil {
		return err
	} else if tag.RowsAffected() == 0 {
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

func micros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	m := t.UnixMicro()
	return &m
}

func fromMicros(m *int64) *time.Time {
	if m == nil {
		return nil
	}
	t := time.UnixMicro(*m).UTC()
	return &t
}

func scanStore(r pgx.Row) (chengdui.Store, error) {
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

func scanAPIKey(r pgx.Row) (chengdui.APIKey, error) {
	var k chengdui.APIKey
	var scopes string
	var created int64
	var lastUsed, revoked *int64
	if err := r.Scan(&k.ID, &k.StoreID, &k.Label, &k.Prefix, &k.Hash, &scopes, &created, &lastUsed, &revoked); err != nil {
		return chengdui.APIKey{}, err
	}
	k.Scopes, k.CreatedAt = splitScopes(scopes), time.UnixMicro(created).UTC()
	k.LastUsedAt, k.RevokedAt = fromMicros(lastUsed), fromMicros(revoked)
	return k, nil
}
