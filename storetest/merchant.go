package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/merchant"
	"chengdui/wallet"

	"github.com/stretchr/testify/require"
)

// The TOTP methods of merchant.Store are what auth.Guard needs.
var _ auth.SecondFactor = merchant.Store(nil)

// MerchantStore is what RunMerchant tests: merchant storage on a database
// that also holds the users who own the stores.
type MerchantStore interface {
	merchant.Store
	wallet.Store
}

// RunMerchant runs the merchant.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunMerchant(t *testing.T, f func(t testing.TB) MerchantStore) {
	t.Run("Stores", func(t *testing.T) { testStores(t, f(t)) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, f(t)) })
	t.Run("APIKeyRevocation", func(t *testing.T) { testAPIKeyRevocation(t, f(t)) })
	t.Run("TOTPEnrolment", func(t *testing.T) { testTOTPEnrolment(t, f(t)) })
	t.Run("TOTPLastStep", func(t *testing.T) { testTOTPLastStep(t, f(t)) })
	t.Run("TOTPLastStepConcurrency", func(t *testing.T) { testTOTPLastStepConcurrency(t, f(t)) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, f(t)) })
	t.Run("RecoveryCodeConcurrency", func(t *testing.T) { testRecoveryCodeConcurrency(t, f(t)) })
	t.Run("ReEnableReplacesRecoveryCodes", func(t *testing.T) { testReEnableReplacesRecoveryCodes(t, f(t)) })
}

func mustCreateStore(t testing.TB, s merchant.Store, id, owner string, at time.Duration) chengdui.Store {
	t.Helper()
	st := chengdui.Store{ID: id, OwnerID: owner, Name: "Shop " + id, DefaultCurrency: "CNY", CreatedAt: walletEpoch.Add(at)}
	require.NoError(t, s.CreateStore(context.Background(), st))
	return st
}

func newAPIKey(n int, storeID string, at time.Duration, scopes ...string) chengdui.APIKey {
	if scopes == nil {
		scopes = []string{}
	}
	return chengdui.APIKey{ID: fmt.Sprintf("key%d", n), StoreID: storeID, Label: fmt.Sprintf("till %d", n),
		Prefix: fmt.Sprintf("cdk_%04d", n), Hash: fmt.Sprintf("%064x", n), Scopes: scopes, CreatedAt: walletEpoch.Add(at)}
}

// enableTOTP enrols and enables TOTP for a new user at step 100.
func enableTOTP(t testing.TB, s MerchantStore, userID string, hashes ...string) {
	t.Helper()
	ctx := context.Background()
	mustCreateUser(t, s, userID, userID+"@example.com")
	require.NoError(t, s.SaveTOTP(ctx, userID, "JBSWY3DPEHPK3PXP"))
	require.NoError(t, s.EnableTOTP(ctx, userID, 100, hashes))
}

func testStores(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	mustCreateUser(t, s, "u2", "bob@example.com")
	// Inserted out of order: the list follows created_at, then id.
	s3 := mustCreateStore(t, s, "s3", "u1", 2*time.Minute)
	s2 := mustCreateStore(t, s, "s2", "u1", time.Minute)
	s1 := mustCreateStore(t, s, "s1", "u1", time.Minute)
	b1 := mustCreateStore(t, s, "b1", "u2", 0)

	got, err := s.Store(ctx, "s2")
	require.NoError(t, err)
	require.Equal(t, s2, got)
	_, err = s.Store(ctx, "nope")
	requireCode(t, chengdui.ENotFound, err)

	list, err := s.StoresOf(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []chengdui.Store{s1, s2, s3}, list)
	list, err = s.StoresOf(ctx, "u2")
	require.NoError(t, err)
	require.Equal(t, []chengdui.Store{b1}, list)
	list, err = s.StoresOf(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, list)

	requireCode(t, chengdui.EConflict, s.CreateStore(ctx, chengdui.Store{ID: "s1", OwnerID: "u2", Name: "again", DefaultCurrency: "USD", CreatedAt: walletEpoch}))
	requireCode(t, chengdui.ENotFound, s.CreateStore(ctx, chengdui.Store{ID: "s9", OwnerID: "nobody", Name: "orphan", DefaultCurrency: "USD", CreatedAt: walletEpoch}))
	_, err = s.Store(ctx, "s9")
	requireCode(t, chengdui.ENotFound, err)
	got, err = s.Store(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, s1, got, "a refused duplicate changes nothing")
}

func testAPIKeys(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	mustCreateStore(t, s, "s1", "u1", 0)
	mustCreateStore(t, s, "s2", "u1", 0)

	k3 := newAPIKey(3, "s1", 2*time.Minute, "btcpay.store.canviewinvoices")
	k2 := newAPIKey(2, "s1", time.Minute, "btcpay.store.cancreateinvoice", "btcpay.store.canviewinvoices")
	k1 := newAPIKey(1, "s1", time.Minute)
	other := newAPIKey(4, "s2", 0, "btcpay.store.canviewinvoices")
	for _, k := range []chengdui.APIKey{k3, k2, k1, other} {
		require.NoError(t, s.CreateAPIKey(ctx, k))
	}

	got, err := s.APIKeyByPrefix(ctx, k2.Prefix)
	require.NoError(t, err)
	require.Equal(t, k2, got)
	got, err = s.APIKeyByPrefix(ctx, k1.Prefix)
	require.NoError(t, err)
	require.Equal(t, k1, got)
	require.NotNil(t, got.Scopes)
	require.Empty(t, got.Scopes, "no scopes read back as an empty list, not [\"\"]")
	_, err = s.APIKeyByPrefix(ctx, "cdk_none")
	requireCode(t, chengdui.ENotFound, err)

	list, err := s.APIKeys(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, []chengdui.APIKey{k1, k2, k3}, list, "oldest first, then by id")
	list, err = s.APIKeys(ctx, "nope")
	require.NoError(t, err)
	require.Empty(t, list)

	dupID := newAPIKey(1, "s2", 0)
	dupID.Prefix, dupID.Hash = "cdk_fresh", "secret-hash-never-echoed"
	err = s.CreateAPIKey(ctx, dupID)
	requireCode(t, chengdui.EConflict, err)
	require.NotContains(t, chengdui.ErrorMessage(err), dupID.Hash)
	dupPrefix := newAPIKey(9, "s2", 0)
	dupPrefix.Prefix, dupPrefix.Hash = k2.Prefix, "secret-hash-never-echoed"
	err = s.CreateAPIKey(ctx, dupPrefix)
	requireCode(t, chengdui.EConflict, err)
	require.NotContains(t, chengdui.ErrorMessage(err), dupPrefix.Hash)
	_, err = s.APIKeyByPrefix(ctx, "cdk_fresh")
	requireCode(t, chengdui.ENotFound, err)

	requireCode(t, chengdui.ENotFound, s.CreateAPIKey(ctx, newAPIKey(10, "nope", 0)))
	requireCode(t, chengdui.EInvalid, s.CreateAPIKey(ctx, newAPIKey(11, "s1", 0, "a,b")))
	requireCode(t, chengdui.EInvalid, s.CreateAPIKey(ctx, newAPIKey(12, "s1", 0, "")))

	used := walletEpoch.Add(time.Hour)
	require.NoError(t, s.TouchAPIKey(ctx, k2.ID, used))
	got, err = s.APIKeyByPrefix(ctx, k2.Prefix)
	require.NoError(t, err)
	require.NotNil(t, got.LastUsedAt)
	require.Equal(t, used, *got.LastUsedAt)
	require.NoError(t, s.TouchAPIKey(ctx, k2.ID, used.Add(time.Second)))
	got, err = s.APIKeyByPrefix(ctx, k2.Prefix)
	require.NoError(t, err)
	require.Equal(t, used.Add(time.Second), *got.LastUsedAt)
	got, err = s.APIKeyByPrefix(ctx, k3.Prefix)
	require.NoError(t, err)
	require.Nil(t, got.LastUsedAt, "touching one key leaves the others")
}

func testAPIKeyRevocation(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	mustCreateStore(t, s, "s1", "u1", 0)
	mustCreateStore(t, s, "s2", "u1", 0)
	k := newAPIKey(1, "s1", 0, "btcpay.store.canviewinvoices")
	require.NoError(t, s.CreateAPIKey(ctx, k))

	// Another store's key.
	requireCode(t, chengdui.ENotFound, s.RevokeAPIKey(ctx, "s2", k.ID, walletEpoch))
	requireCode(t, chengdui.ENotFound, s.RevokeAPIKey(ctx, "s1", "nope", walletEpoch))
	got, err := s.APIKeyByPrefix(ctx, k.Prefix)
	require.NoError(t, err)
	require.Nil(t, got.RevokedAt)

	first := walletEpoch.Add(time.Hour)
	require.NoError(t, s.RevokeAPIKey(ctx, "s1", k.ID, first))
	require.NoError(t, s.RevokeAPIKey(ctx, "s1", k.ID, first.Add(time.Hour)), "revoking twice")
	got, err = s.APIKeyByPrefix(ctx, k.Prefix)
	require.NoError(t, err, "revoked keys are still found")
	require.NotNil(t, got.RevokedAt)
	require.Equal(t, first, *got.RevokedAt, "the first revocation stands")
	list, err := s.APIKeys(ctx, "s1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, got, list[0])
}

func testTOTPEnrolment(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")

	_, _, _, err := s.TOTPSecret(ctx, "u1")
	requireCode(t, chengdui.ENotFound, err)
	requireCode(t, chengdui.ENotFound, s.SaveTOTP(ctx, "nobody", "JBSWY3DPEHPK3PXP"))
	// Enabling before enrolling.
	requireCode(t, chengdui.ENotFound, s.EnableTOTP(ctx, "u1", 1, nil))

	require.NoError(t, s.SaveTOTP(ctx, "u1", "FIRSTSECRET"))
	secret, step, enabled, err := s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "FIRSTSECRET", secret)
	require.Zero(t, step)
	require.False(t, enabled)

	// An unconfirmed enrolment is replaced, step and all.
	require.NoError(t, s.SetTOTPLastStep(ctx, "u1", 50))
	require.NoError(t, s.SaveTOTP(ctx, "u1", "SECONDSECRET"))
	secret, step, enabled, err = s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "SECONDSECRET", secret)
	require.Zero(t, step)
	require.False(t, enabled)

	requireCode(t, chengdui.EInvalid, s.EnableTOTP(ctx, "u1", 100, []string{"h0", ""}))
	_, _, enabled, err = s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.False(t, enabled)

	require.NoError(t, s.EnableTOTP(ctx, "u1", 100, []string{"h0", "h1", "h2"}))
	secret, step, enabled, err = s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "SECONDSECRET", secret)
	require.Equal(t, int64(100), step)
	require.True(t, enabled)
	hashes, err := s.RecoveryCodeHashes(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"h0", "h1", "h2"}, hashes)

	requireCode(t, chengdui.EConflict, s.EnableTOTP(ctx, "u1", 200, []string{"x0"}))
	requireCode(t, chengdui.EConflict, s.SaveTOTP(ctx, "u1", "ATTACKERSECRET"))
	secret, step, enabled, err = s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "SECONDSECRET", secret, "an enabled secret is never replaced")
	require.Equal(t, int64(100), step)
	require.True(t, enabled)
	hashes, err = s.RecoveryCodeHashes(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"h0", "h1", "h2"}, hashes, "a refused enable keeps the codes")
}

func testTOTPLastStep(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	enableTOTP(t, s, "u1")
	enableTOTP(t, s, "u2")

	// The enabling code's step.
	requireCode(t, chengdui.EConflict, s.SetTOTPLastStep(ctx, "u1", 100))
	// An earlier step.
	requireCode(t, chengdui.EConflict, s.SetTOTPLastStep(ctx, "u1", 99))
	require.NoError(t, s.SetTOTPLastStep(ctx, "u1", 102))
	requireCode(t, chengdui.EConflict, s.SetTOTPLastStep(ctx, "u1", 102))
	requireCode(t, chengdui.EConflict, s.SetTOTPLastStep(ctx, "u1", 101))
	_, step, _, err := s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, int64(102), step)
	_, step, _, err = s.TOTPSecret(ctx, "u2")
	require.NoError(t, err)
	require.Equal(t, int64(100), step, "users' steps are separate")

	requireCode(t, chengdui.EConflict, s.SetTOTPLastStep(ctx, "nobody", 1000))
}

// requireOneWinner checks that of n concurrent calls of fn exactly one
// succeeds and the others lose with EConflict.
func requireOneWinner(t *testing.T, n int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "call %d: %v", i, err)
	}
	require.Equal(t, 1, won, "calls that succeeded")
}

// testTOTPLastStepConcurrency presents one code from many requests at
// once: the compare-and-set lets exactly one through.
func testTOTPLastStepConcurrency(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	enableTOTP(t, s, "u1")
	requireOneWinner(t, 20, func() error { return s.SetTOTPLastStep(ctx, "u1", 101) })
	_, step, _, err := s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, int64(101), step)
}

func testRecoveryCodes(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	enableTOTP(t, s, "u1", "h0", "h1", "h2", "h3")
	enableTOTP(t, s, "u2", "g0")

	require.NoError(t, s.UseRecoveryCode(ctx, "u1", 1))
	// A used code.
	requireCode(t, chengdui.EConflict, s.UseRecoveryCode(ctx, "u1", 1))
	require.NoError(t, s.UseRecoveryCode(ctx, "u1", 3))
	// Past the last code.
	requireCode(t, chengdui.EConflict, s.UseRecoveryCode(ctx, "u1", 4))
	requireCode(t, chengdui.EConflict, s.UseRecoveryCode(ctx, "u1", -1))
	requireCode(t, chengdui.EConflict, s.UseRecoveryCode(ctx, "nobody", 0))

	hashes, err := s.RecoveryCodeHashes(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"h0", "", "h2", ""}, hashes, "used codes keep their positions")
	hashes, err = s.RecoveryCodeHashes(ctx, "u2")
	require.NoError(t, err)
	require.Equal(t, []string{"g0"}, hashes)
	hashes, err = s.RecoveryCodeHashes(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, hashes)
}

func testRecoveryCodeConcurrency(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	enableTOTP(t, s, "u1", "h0", "h1")
	requireOneWinner(t, 20, func() error { return s.UseRecoveryCode(ctx, "u1", 0) })
	hashes, err := s.RecoveryCodeHashes(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"", "h1"}, hashes)
}

// testReEnableReplacesRecoveryCodes turns TOTP off with raw SQL (there is
// no method for it yet), so it needs a store that offers Exec.
func testReEnableReplacesRecoveryCodes(t *testing.T, s MerchantStore) {
	ctx := context.Background()
	ex, ok := s.(interface {
		Exec(ctx context.Context, query string, args ...any) error
	})
	if !ok {
		t.Skip("the store has no Exec")
	}
	enableTOTP(t, s, "u1", "h0", "h1", "h2")
	require.NoError(t, s.UseRecoveryCode(ctx, "u1", 0))
	require.NoError(t, ex.Exec(ctx, `UPDATE totp SET enabled = false WHERE user_id = 'u1'`))

	require.NoError(t, s.SaveTOTP(ctx, "u1", "NEWSECRET"))
	require.NoError(t, s.EnableTOTP(ctx, "u1", 300, []string{"n0", "n1"}))
	hashes, err := s.RecoveryCodeHashes(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []string{"n0", "n1"}, hashes, "the old codes, used or not, are gone")
	secret, step, enabled, err := s.TOTPSecret(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, "NEWSECRET", secret)
	require.Equal(t, int64(300), step)
	require.True(t, enabled)
}
