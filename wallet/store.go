package wallet

import (
	"context"

	"chengdui"
)

// Store is what users and wallets need from storage. The sqlite and
// postgres packages implement it; storetest.RunWallet checks both.
type Store interface {
	// CreateUser inserts a user. Codes: EConflict when the email (compared
	// case-insensitively) is taken.
	CreateUser(ctx context.Context, u chengdui.User) error
	// User returns a user by id. Codes: ENotFound.
	User(ctx context.Context, id string) (chengdui.User, error)
	// UserByEmail returns a user by email, case-insensitively. Codes: ENotFound.
	UserByEmail(ctx context.Context, email string) (chengdui.User, error)

	// CreateSession stores a session.
	CreateSession(ctx context.Context, s chengdui.Session) error
	// Session returns a session by token hash. Codes: ENotFound.
	Session(ctx context.Context, tokenHash string) (chengdui.Session, error)
	// DeleteSession removes a session; removing a missing one is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error

	// AllocateAddressIndex returns the next unused derivation index for a
	// scheme and network, atomically: concurrent callers, in this process
	// or another, never get the same index.
	AllocateAddressIndex(ctx context.Context, scheme, network string) (uint32, error)
	// AddDepositAddress records a derived address. Codes: EConflict when
	// the address is recorded already.
	AddDepositAddress(ctx context.Context, a chengdui.DepositAddress) error
	// DepositAddresses lists a user's addresses, oldest first.
	DepositAddresses(ctx context.Context, userID string) ([]chengdui.DepositAddress, error)
	// AddressesOf lists every deposit address of a scheme and network, by
	// index ascending. Chain watchers load the whole set at start, so it
	// serves tens of thousands of rows from one index scan.
	AddressesOf(ctx context.Context, scheme, network string) ([]chengdui.DepositAddress, error)
	// DepositAddressOwner returns the address record. Codes: ENotFound.
	DepositAddress(ctx context.Context, address string) (chengdui.DepositAddress, error)
}
