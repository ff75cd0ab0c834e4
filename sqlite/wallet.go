package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"chengdui"
	"chengdui/wallet"

	driver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ wallet.Store = (*DB)(nil)

// maxAddressIndex is the last BIP32 non-hardened child index.
const maxAddressIndex = 1<<31 - 1

// CreateUser implements wallet.Store.
func (d *DB) CreateUser(ctx context.Context, u chengdui.User) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO users (id, email, email_lower, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Email, emailKey(u.Email), u.PasswordHash, u.CreatedAt.UnixMicro())
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "users.email_lower"):
		return chengdui.Errorf(chengdui.EConflict, "a user with this email exists")
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "users.id"), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "users.id"):
		return chengdui.Errorf(chengdui.EConflict, "user %q exists", u.ID)
	}
	return err
}

const userCols = `id, email, password_hash, created_at`

// User implements wallet.Store.
func (d *DB) User(ctx context.Context, id string) (chengdui.User, error) {
	u, err := scanUser(d.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", id)
	}
	return u, err
}

// UserByEmail implements wallet.Store.
func (d *DB) UserByEmail(ctx context.Context, email string) (chengdui.User, error) {
	u, err := scanUser(d.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email_lower = ?`, emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, chengdui.Errorf(chengdui.ENotFound, "no user with this email")
	}
	return u, err
}

// CreateSession implements wallet.Store.
func (d *DB) CreateSession(ctx context.Context, s chengdui.Session) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.UserID, s.CreatedAt.UnixMicro(), s.ExpiresAt.UnixMicro())
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, ""):
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", s.UserID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, ""), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, ""):
		return chengdui.Errorf(chengdui.EConflict, "the session exists")
	}
	return err
}

// Session implements wallet.Store.
func (d *DB) Session(ctx context.Context, tokenHash string) (chengdui.Session, error) {
	var s chengdui.Session
	var created, expires int64
	err := d.read.QueryRowContext(ctx, `SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return chengdui.Session{}, chengdui.Errorf(chengdui.ENotFound, "no such session")
	} else if err != nil {
		return chengdui.Session{}, err
	}
	s.CreatedAt, s.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return s, nil
}

// DeleteSession implements wallet.Store.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

// AllocateAddressIndex implements wallet.Store. The upsert is one statement
// on the write connection: other processes wait on SQLite's write lock
// (busy_timeout), so no two callers see the same counter value. At the
// limit the update's WHERE fails, no row comes back and the counter stays.
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
	err := d.write.QueryRowContext(ctx, `INSERT INTO address_indexes (scheme, network, next_index) VALUES (?, ?, ?)
		ON CONFLICT (scheme, network) DO UPDATE SET next_index = address_indexes.next_index + excluded.next_index
			WHERE address_indexes.next_index + excluded.next_index - 1 <= ?
		RETURNING next_index - ?`, scheme, network, int64(n), maxAddressIndex, int64(n)).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err := d.write.ExecContext(ctx, `INSERT INTO deposit_addresses (address, user_id, scheme, network, idx, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Address, a.UserID, a.Scheme, a.Network, int64(a.Index), a.CreatedAt.UnixMicro())
	switch {
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, ""):
		return chengdui.Errorf(chengdui.ENotFound, "user %q does not exist", a.UserID)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, "deposit_addresses.address"),
		isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "deposit_addresses.address"):
		return chengdui.Errorf(chengdui.EConflict, "address %s is recorded already", a.Address)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, "deposit_addresses.idx"):
		return chengdui.Errorf(chengdui.EConflict, "index %d of %s on %s has an address already", a.Index, a.Scheme, a.Network)
	}
	return err
}

const depositCols = `address, user_id, scheme, network, idx, created_at`

// DepositAddresses implements wallet.Store.
func (d *DB) DepositAddresses(ctx context.Context, userID string) ([]chengdui.DepositAddress, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE user_id = ?
		ORDER BY created_at, scheme, network, idx`, userID)
	return collect(rows, err, scanDepositAddress)
}

// AddressesOf implements wallet.Store. The (scheme, network, idx) unique
// index serves it in order.
func (d *DB) AddressesOf(ctx context.Context, scheme, network string) ([]chengdui.DepositAddress, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE scheme = ? AND network = ?
		ORDER BY idx`, scheme, network)
	return collect(rows, err, scanDepositAddress)
}

// DepositAddress implements wallet.Store.
func (d *DB) DepositAddress(ctx context.Context, address string) (chengdui.DepositAddress, error) {
	a, err := scanDepositAddress(d.read.QueryRowContext(ctx, `SELECT `+depositCols+` FROM deposit_addresses WHERE address = ?`, address))
	if errors.Is(err, sql.ErrNoRows) {
		return a, chengdui.Errorf(chengdui.ENotFound, "address %s is not a deposit address", address)
	}
	return a, err
}

// emailKey is what makes two emails the same account.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// isConstraint reports whether err is SQLite's extended result code code
// with a message naming columns (as "table.column"); "" matches any.
func isConstraint(err error, code int, columns string) bool {
	var e *driver.Error
	return errors.As(err, &e) && e.Code() == code && strings.Contains(e.Error(), columns)
}

func scanUser(r scanner) (chengdui.User, error) {
	var u chengdui.User
	var created int64
	if err := r.Scan(&u.ID, &u.Email, &u.PasswordHash, &created); err != nil {
		return chengdui.User{}, err
	}
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, nil
}

func scanDepositAddress(r scanner) (chengdui.DepositAddress, error) {
	var a chengdui.DepositAddress
	var idx, created int64
	if err := r.Scan(&a.Address, &a.UserID, &a.Scheme, &a.Network, &idx, &created); err != nil {
		return chengdui.DepositAddress{}, err
	}
	a.Index, a.CreatedAt = uint32(idx), time.UnixMicro(created).UTC()
	return a, nil
}
