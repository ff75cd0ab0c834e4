package chengdui

import (
	"context"
	"time"
)

// Store is a merchant's shop (BTCPay's word, so Greenfield clients fit):
// it owns invoices, API keys and, later, settlement preferences.
type Store struct {
	ID              string `json:"id"`
	OwnerID         string `json:"owner_id"` // the user who runs it
	Name            string `json:"name"`
	DefaultCurrency string `json:"default_currency"` // an asset code, e.g. CNY, USD
	// Settlement is how the store is paid: its fees, and its settlement
	// profile (splits, destinations, payout schedule; package settle).
	Settlement StoreSettlement `json:"settlement"`
	CreatedAt  time.Time       `json:"created_at"`
}

// StoreSettlement is a store's settlement preference.
type StoreSettlement struct {
	// Mode "balance": payments are converted at the locked quote into
	// Asset and kept as the store's platform balance; "keep": the store
	// keeps the asset paid.
	Mode  string `json:"mode"`
	Asset string `json:"asset"` // the asset it is kept in
	// FeeBps, if set, is the store's fee in hundredths of a percent
	// (else the platform's); FeeFixed a fixed fee per invoice, a decimal
	// in the invoice's currency, taken from the first payment converted
	// (stores in mode keep are not charged it). A value the currency
	// cannot carry stops the store's conversions with an operator alert.
	FeeBps   *uint32 `json:"fee_bps,omitempty"`
	FeeFixed string  `json:"fee_fixed,omitempty"`
	// SpreadBps, if set, is the spread of the store's quotes (else the
	// platform's), in hundredths of a percent: the payer pays it.
	SpreadBps *uint32 `json:"spread_bps,omitempty"`

	// The settlement profile, which the store's owner sets (package
	// settle validates it); the fields above are the operator's.
	//
	// Splits divide what each payment brings the merchant among assets
	// and destinations, BitPay's settlement split: their Bps sum to
	// 10000 and each asset appears once. Empty: everything in the invoice
	// currency, kept as a balance.
	Splits []SettlementSplit `json:"splits,omitempty"`
	// Schedule is when balances are paid out to the splits' destinations.
	Schedule PayoutSchedule `json:"schedule,omitzero"`
	// MinPayout is, per asset, the smallest automatic payout, a decimal
	// in whole units: a smaller balance waits. An asset without one pays
	// out any balance above zero.
	MinPayout map[string]string `json:"min_payout,omitempty"`
	// Pending is a change of destinations waiting for its delay (a new
	// destination takes effect only after it, and with the owner's second
	// factor); nil when none waits.
	Pending *SettlementChange `json:"pending,omitempty"`
}

// Settlement destination types.
const (
	DestinationBank    = "BANK"    // a bank account, paid through a rail
	DestinationChain   = "CHAIN"   // an address, paid from the hot wallet
	DestinationBalance = "BALANCE" // kept as the store's platform balance
)

// Payout schedule kinds.
const (
	ScheduleManual  = "manual"  // nothing is paid out automatically
	ScheduleInstant = "instant" // whenever a balance reaches its minimum
	ScheduleDaily   = "daily"   // once a day, after a set time
)

// SettlementSplit is one share of a store's proceeds.
type SettlementSplit struct {
	// Bps is the share in hundredths of a percent (7000 is 70 %).
	Bps         uint32                `json:"bps"`
	Asset       string                `json:"asset"` // a ledger asset code: EUR, USDC-ERC20
	Destination SettlementDestination `json:"destination"`
}

// SettlementDestination is where a split's balance goes: a bank account
// (Type BANK, Creditor), an address (CHAIN, Address) or nowhere, kept as
// the store's balance (BALANCE).
type SettlementDestination struct {
	Type     string              `json:"type"`
	Creditor *SettlementCreditor `json:"creditor,omitempty"`
	Address  string              `json:"address,omitempty"`
}

// SettlementCreditor is a bank account holder (rail.Party's fields): an
// IBAN and optionally a BIC, or a domestic account number and bank code.
type SettlementCreditor struct {
	Name     string `json:"name"`
	IBAN     string `json:"iban,omitempty"`
	BIC      string `json:"bic,omitempty"`
	Account  string `json:"account,omitempty"`
	BankCode string `json:"bank_code,omitempty"`
	Country  string `json:"country,omitempty"`
}

// PayoutSchedule is when a store's balances are paid out: Kind manual
// (the zero value), instant, or daily at At ("HH:MM") in TimeZone (an
// IANA name; "" is UTC).
type PayoutSchedule struct {
	Kind     string `json:"kind"`
	At       string `json:"at,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// SettlementChange is a change of a store's splits that adds or changes
// a destination: it waits until EffectiveAt, and can be cancelled before.
type SettlementChange struct {
	Splits      []SettlementSplit `json:"splits"`
	RequestedBy string            `json:"requested_by"`
	RequestedAt time.Time         `json:"requested_at"`
	EffectiveAt time.Time         `json:"effective_at"`
}

// APIKey is a store's key for the merchant API. Only Hash (SHA-256 of the
// whole key) is stored; Prefix finds it.
type APIKey struct {
	ID         string     `json:"id"`
	StoreID    string     `json:"store_id"`
	Label      string     `json:"label"`
	Prefix     string     `json:"-"`
	Hash       string     `json:"-"`
	Scopes     []string   `json:"permissions"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// TOTPEnrolment is a new authenticator secret for the user to scan.
type TOTPEnrolment struct {
	Secret string // base32, shown once
	URL    string // otpauth://totp/…
	PNG    []byte // QR code of URL
}

// Merchants is the merchant-side service: stores, their API keys, and the
// two-factor authentication that guards sensitive actions.
type Merchants interface {
	// CreateStore opens a store owned by the user. Codes: EInvalid.
	CreateStore(ctx context.Context, ownerID, name, defaultCurrency string) (Store, error)
	// Stores lists the user's stores.
	Stores(ctx context.Context, ownerID string) ([]Store, error)
	// CreateAPIKey makes a key for one of the user's stores, after checking
	// the user's second factor (otp: a TOTP or recovery code). The plain
	// key is returned once and never stored. Codes: ENotFound (store),
	// EInvalid (permissions), EUnauthorized (code),
	// "second_factor_required" (2FA not enabled).
	CreateAPIKey(ctx context.Context, ownerID, storeID, label string, permissions []string, otp string) (plain string, k APIKey, err error)
	// APIKeys lists a store's keys (no secrets). Codes: ENotFound.
	APIKeys(ctx context.Context, ownerID, storeID string) ([]APIKey, error)
	// RevokeAPIKey revokes a key at once. Codes: ENotFound.
	RevokeAPIKey(ctx context.Context, ownerID, storeID, keyID string) error
	// AuthenticateAPIKey checks an Authorization header ("token KEY" as in
	// BTCPay Greenfield, or "Bearer KEY") and records the key's use.
	// Codes: EUnauthorized (one message for every failure).
	AuthenticateAPIKey(ctx context.Context, authorization string) (APIKey, error)
	// EnrollTOTP starts TOTP enrolment. Codes: EConflict (already enabled).
	EnrollTOTP(ctx context.Context, user User) (TOTPEnrolment, error)
	// ConfirmTOTP enables TOTP with a first code and returns ten recovery
	// codes, shown once. Codes: ENotFound (not enrolled), EUnauthorized.
	ConfirmTOTP(ctx context.Context, userID, code string) (recoveryCodes []string, err error)
}
