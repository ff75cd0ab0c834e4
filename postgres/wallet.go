package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"chengdui"
	"chengdui/wallet"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ wallet.Store = (*DB)(nil)

// maxAddressIndex is the last BIP32 non-hardened child index.
const maxAddressIndex = 1<<31 - 1

// SQLSTATEs the wallet methods translate.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// CreateUser implements wallet.Store.
func (d *DB) CreateUser(ctx context.Context, u chengdui.User) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO users (id, email, email_lower, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Email, emailKey(u.Email), u.PasswordHash, u.CreatedAt.UnixMicro())
	switch constraint(err, uniqueViolation) {
	case "users_email_lower_key":
		return chengdui.Errorf(chengdui.EConflict, "a user with this email exists")
	case "users_pkey":
		return chengdui.Errorf(chengdui.EConflict, "user %q exists", u.ID)
	}
	return err
}

const userCols = `id, email, password_hash, created_at`

// User implements wallet.Store.
func (d *DB) User(ctx context.Context, id string) (chengdui.User, error) {
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", id)
	}
	return u, err
}

// UserByEmail implements wallet.Store.
func (d *DB) UserByEmail(ctx context.Context, email string) (chengdui.User, error) {
	u, err := scanUser(d.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE email_lower = $1`, emailKey(email)))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, chengdui.Errorf(chengdui.ENotFound, "no user with this email")
	}
	return u, err
}

// CreateSession implements wallet.Store.
func (d *DB) CreateSession(ctx context.Context, s chengdui.Session) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.UserID, s.CreatedAt.UnixMicro(), s.ExpiresAt.UnixMicro())
	if constraint(err, foreignKeyViolation) != "" {
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", s.UserID)
	} else if constraint(err, uniqueViolation) != "" {
		return chengdui.Errorf(chengdui.EConflict, "the session exists")
	}
	return err
}

// Session implements wallet.Store.
func (d *DB) Session(ctx context.Context, tokenHash string) (chengdui.Session, error) {
	var s chengdui.Session
	var created, expires int64
	err := d.pool.QueryRow(ctx, `SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return chengdui.Session{}, chengdui.Errorf(chengdui.ENotFound, "no such session")
	} else if err != nil {
		return chengdui.Session{}, err
	}
	s.CreatedAt, s.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return s, nil
}

// DeleteSession implements wallet.Store.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// AllocateAddressIndex implements wallet.Store. The upsert locks the
// counter row (or waits on a concurrent first insert of it), so callers in
// every process queue on it and each gets its own value. At the limit the
// update's WHERE fails, no row comes back and the counter stays.
func (d *DB) AllocateAddressIndex(ctx context.Context, scheme, network string) (uint32, error) {
	return d.AllocateAddressIndexes(ctx, scheme, network, 1)
}

// AllocateAddressIndexes allocates n consecutive indexes at once and
// returns the first (invoices take them in blocks: one write for many
// addresses). Codes: EInvalid when fewer than n are left, or n is 0.
func (d *DB) AllocateAddressIndexes(ctx context.Context, scheme, network string, n uint32) (uint32, error) {
	if n == 0 || n > maxAddressIndex {
		return 0, chengdui.Errorf(chengdui.EInvalid, "allocate from 1 to %d address indexes, not %d", maxAddressIndex, n)
	}
	var first int64
	err := d.pool.QueryRow(ctx, `INSERT INTO address_indexes (scheme, network, next_index) VALUES ($1, $2, $3)
		ON CONFLICT (scheme, network) DO UPDATE SET next_index = address_indexes.next_index + excluded.next_index
			WHERE address_indexes.next_index + excluded.next_index - 1 <= $4
		RETURNING next_index - $3`, scheme, network, int64(n), int64(maxAddressIndex)).Scan(&first)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, chengdui.Errorf(chengdui.EInvalid, "fewer than %d of the %d address indexes of %s on %s are left", n, maxAddressIndex+1, scheme, network)
	} else if err != nil {
		return 0, err
	}
	return uint32(first), nil
}

// AddDepositAddress implements wallet.Store.
func (d *DB) AddDepositAddress(ctx context.Context, a chengdui.DepositAddress) error {
	if a.Index > maxAddressIndex {
		return chengdui.Errorf(chengdui.EInvalid, "address index %d is past the non-hardened limit %d", a.Index, maxAddressIndex)
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO deposit_addresses (address, user_id, scheme, network, idx, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.Address, a.UserID, a.Scheme, a.Network, int64(a.Index), a.CreatedAt.UnixMicro())
	if constraint(err, foreignKeyViolation) != "" {
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", a.UserID)
	}
	switch constraint(err, uniqueViolation) {
	case "deposit_addresses_pkey":
		return chengdui.Errorf(chengdui.EConflict, "address %s is recorded already", a.Address)
	case "deposit_addresses_scheme_network_idx_key":
		return chengdui.Errorf(chengdui.EConflict, "index %d of %s on %s has an address already", a.Index, a.Scheme, a.Network)
	}
	return err
}

const depositCols = `address, user_id, scheme, network, idx, created_at`

// DepositAddresses implements wallet.Store.
func (d *DB) DepositAddresses(ctx context.Context, userID string) ([]chengdui.DepositAddress, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE user_id = $1
		ORDER BY created_at, scheme, network, idx`, userID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.DepositAddress, error) { return scanDepositAddress(r) })
}

// AddressesOf implements wallet.Store. The (scheme, network, idx) unique
// index serves it in order.
func (d *DB) AddressesOf(ctx context.Context, scheme, network string) ([]chengdui.DepositAddress, error) {
	rows, _ := d.pool.Query(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE scheme = $1 AND network = $2
		ORDER BY idx`, scheme, network)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (chengdui.DepositAddress, error) { return scanDepositAddress(r) })
}

// DepositAddress implements wallet.Store.
func (d *DB) DepositAddress(ctx context.Context, address string) (chengdui.DepositAddress, error) {
	a, err := scanDepositAddress(d.pool.QueryRow(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE address = $1`, address))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.ENotFound, "address %s is not a deposit address", address)
	}
	return a, err
}

// emailKey is what makes two emails the same account.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// constraint returns the name of the constraint err violated if err has
// the given SQLSTATE, "" otherwise.
func constraint(err error, sqlState string) string {
	var e *pgconn.PgError
	if errors.As(err, &e) && e.Code == sqlState {
		return e.ConstraintName
	}
	return ""
}

func scanUser(r pgx.Row) (chengdui.User, error) {
	var u chengdui.User
	var created int64
	if err := r.Scan(&u.ID, &u.Email, &u.PasswordHash, &created); err != nil {
		return chengdui.User{}, err
	}
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, nil
}

func scanDepositAddress(r pgx.Row) (chengdui.DepositAddress, error) {
	var a chengdui.DepositAddress
	var idx, created int64
	if err := r.Scan(&a.Address, &a.UserID, &a.Scheme, &a.Network, &idx, &created); err != nil {
		return chengdui.DepositAddress{}, err
	}
	a.Index, a.CreatedAt = uint32(idx), time.UnixMicro(created).UTC()
	return a, nil
}
