package chengdui

import (
	"context"
	"time"
)

// User is a person with a login and a wallet. PasswordHash is an argon2id
// PHC string; the password itself is never stored.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Session is a login. Only the SHA-256 of its bearer token is stored.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// DepositAddress is an address derived for one user, at an index of its
// scheme and network that is never given to anyone else.
type DepositAddress struct {
	Address   string    `json:"address"`
	UserID    string    `json:"-"`
	Scheme    string    `json:"scheme"`  // p2wpkh, p2tr, evm
	Network   string    `json:"network"` // mainnet, testnet, signet, regtest
	Index     uint32    `json:"index"`
	CreatedAt time.Time `json:"created_at"`
}

// Wallet is what a user holds: a balance per asset and the addresses that
// deposit into them.
type Wallet struct {
	UserID    string          `json:"user_id"`
	Balances  []Balance       `json:"balances"`
	Addresses []WalletAddress `json:"addresses"`
}

// Balance is one asset of a wallet, in smallest units and in whole units.
type Balance struct {
	Asset          string `json:"asset"`
	Network        string `json:"network"`
	Decimals       uint8  `json:"decimals"`
	AccountID      string `json:"account_id"`
	Available      string `json:"available"`       // whole units: posted credits - posted and pending debits
	AvailableUnits string `json:"available_units"` // the same in smallest units
	Pending        string `json:"pending"`         // whole units on hold (pending debits)
	PendingUnits   string `json:"pending_units"`
}

// WalletAddress is a deposit address with the assets it receives and a
// payment URI (BIP21 bitcoin:, EIP-681 ethereum:).
type WalletAddress struct {
	DepositAddress
	Assets []string `json:"assets"`
	URI    string   `json:"uri"`
}

// Wallets is the users-and-wallets service.
type Wallets interface {
	// Register creates a user and their wallet. Codes: EInvalid (email or
	// password), EConflict (email taken).
	Register(ctx context.Context, email, password string) (User, error)
	// Login checks a password and opens a session; the token is shown once.
	// Codes: EUnauthorized (one message for unknown email and bad password).
	Login(ctx context.Context, email, password string) (token string, s Session, err error)
	// Authenticate returns the user of a live session. Codes: EUnauthorized.
	Authenticate(ctx context.Context, token string) (User, error)
	// Logout ends a session.
	Logout(ctx context.Context, token string) error
	// Wallet returns a user's balances and deposit addresses.
	Wallet(ctx context.Context, userID string) (Wallet, error)
}
