package merchant

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"chengdui"
)

// Store is what merchants and two-factor authentication need from
// storage. The sqlite and postgres packages implement it (migration
// 0003_merchant); storetest.RunMerchant checks both.
type Store interface {
	// CreateStore inserts a store. Codes: ENotFound (owner), EConflict (id).
	CreateStore(ctx context.Context, s chengdui.Store) error
	// Store returns a store by id. Codes: ENotFound.
	Store(ctx context.Context, id string) (chengdui.Store, error)
	// StoresOf lists a user's stores, oldest first.
	StoresOf(ctx context.Context, ownerID string) ([]chengdui.Store, error)

	// CreateAPIKey inserts a key. Codes: ENotFound (store), EConflict (id
	// or prefix).
	CreateAPIKey(ctx context.Context, k chengdui.APIKey) error
	// APIKeyByPrefix finds a key, revoked or not. Codes: ENotFound.
	APIKeyByPrefix(ctx context.Context, prefix string) (chengdui.APIKey, error)
	// APIKeys lists a store's keys, oldest first, revoked ones included.
	APIKeys(ctx context.Context, storeID string) ([]chengdui.APIKey, error)
	// RevokeAPIKey marks a key revoked at the given time; revoking twice
	// keeps the first time. Codes: ENotFound (no such key in that store).
	RevokeAPIKey(ctx context.Context, storeID, keyID string, at time.Time) error
	// TouchAPIKey records a key's last use.
	TouchAPIKey(ctx context.Context, keyID string, at time.Time) error

	// SaveTOTP stores a user's TOTP secret as not yet enabled, replacing
	// a previous enrolment that was never confirmed. Codes: ENotFound
	// (user), EConflict (TOTP already enabled).
	SaveTOTP(ctx context.Context, userID, secret string) error
	// TOTPSecret returns the secret, the last accepted time step and
	// whether TOTP is enabled. Codes: ENotFound when never enrolled.
	TOTPSecret(ctx context.Context, userID string) (secret string, lastStep int64, enabled bool, err error)
	// EnableTOTP enables an enrolled secret, records the step of the code
	// that confirmed it and stores the recovery code hashes (positions
	// are the indexes UseRecoveryCode takes). Codes: ENotFound, EConflict
	// (already enabled).
	EnableTOTP(ctx context.Context, userID string, step int64, recoveryHashes []string) error
	// SetTOTPLastStep records an accepted code's step only if it is later
	// than the stored one: a compare-and-set. Codes: EConflict otherwise.
	SetTOTPLastStep(ctx context.Context, userID string, step int64) error
	// RecoveryCodeHashes returns the hashes by position, "" for used ones.
	RecoveryCodeHashes(ctx context.Context, userID string) ([]string, error)
	// UseRecoveryCode marks a code used only if it is unused: a
	// compare-and-set. Codes: EConflict when already used.
	UseRecoveryCode(ctx context.Context, userID string, index int) error
}

// EncodeSettlement is the stored form of a store's settlement preference
// and profile (JSON); both storage adapters use it. The same value always
// encodes to the same bytes (struct fields in order, map keys sorted), so
// encodings can be compared.
func EncodeSettlement(s chengdui.StoreSettlement) string {
	b, _ := json.Marshal(s) // strings, numbers, a string map and times always marshal
	return string(b)
}

// DecodeSettlement parses EncodeSettlement's output.
func DecodeSettlement(s string) (chengdui.StoreSettlement, error) {
	var out chengdui.StoreSettlement
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return out, fmt.Errorf("stored settlement preference: %w", err)
	}
	return out, nil
}
