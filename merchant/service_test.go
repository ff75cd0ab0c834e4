package merchant_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/merchant"
	"chengdui/sqlite"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

type fixture struct {
	svc   *merchant.Service
	db    *sqlite.DB
	clock *atomic.Int64
	alice chengdui.User
	bob   chengdui.User
}

func (f *fixture) now() time.Time { return time.Unix(0, f.clock.Load()) }

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	f := &fixture{db: db, clock: &atomic.Int64{}}
	f.clock.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	f.svc = merchant.New(db, merchant.Config{Now: f.now, Audit: &audit.Recorder{Store: db, Now: f.now}})
	for i, u := range []*chengdui.User{&f.alice, &f.bob} {
		*u = chengdui.User{ID: []string{"alice", "bob"}[i], Email: []string{"alice@example.com", "bob@example.com"}[i],
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", CreatedAt: f.now()}
		require.NoError(t, db.CreateUser(ctx, *u))
	}
	return f
}

// enable turns on TOTP for u and returns its secret and recovery codes.
func (f *fixture) enable(t *testing.T, u chengdui.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.EnrollTOTP(ctx, u)
	require.NoError(t, err)
	require.NotEmpty(t, e.PNG)
	require.Contains(t, e.URL, "otpauth://totp/")
	code, err := totp.GenerateCode(e.Secret, f.now())
	require.NoError(t, err)
	codes, err := f.svc.ConfirmTOTP(ctx, u.ID, code)
	require.NoError(t, err)
	require.Len(t, codes, 10)
	return e.Secret, codes
}

func TestStores(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	st, err := f.svc.CreateStore(ctx, f.alice.ID, "  茶馆 Teahouse ", "cny")
	require.NoError(t, err)
	require.Equal(t, "茶馆 Teahouse", st.Name)
	require.Equal(t, "CNY", st.DefaultCurrency)
	require.Equal(t, chengdui.StoreSettlement{Mode: "balance", Asset: "CNY"}, st.Settlement, "the placeholder until settlement profiles")
	for _, bad := range []struct{ name, cur string }{{"", "CNY"}, {"x", ""}, {"x", "C N Y"}, {string(make([]rune, 101)), "CNY"}} {
		_, err := f.svc.CreateStore(ctx, f.alice.ID, bad.name, bad.cur)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%q %q", bad.name, bad.cur)
	}
	sts, err := f.svc.Stores(ctx, f.alice.ID)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	require.Equal(t, st.Settlement, sts[0].Settlement, "stored and read back")
	sts, err = f.svc.Stores(ctx, f.bob.ID)
	require.NoError(t, err)
	require.Empty(t, sts)
	// Bob cannot see or touch Alice's store.
	_, err = f.svc.APIKeys(ctx, f.bob.ID, st.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	_, _, err = f.svc.CreateAPIKey(ctx, f.bob.ID, st.ID, "x", []string{"invoice:read"}, "123456")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(f.svc.RevokeAPIKey(ctx, f.bob.ID, st.ID, "any")))
}

func TestAPIKeysNeedSecondFactor(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	st, err := f.svc.CreateStore(ctx, f.alice.ID, "Teahouse", "CNY")
	require.NoError(t, err)
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "shop", []string{"invoice:create"}, "")
	require.Equal(t, chengdui.ESecondFactorRequired, chengdui.ErrorCode(err))

	secret, recovery := f.enable(t, f.alice)
	// Enabling twice is refused.
	_, err = f.svc.EnrollTOTP(ctx, f.alice)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))

	f.clock.Add(int64(30 * time.Second))
	code, err := totp.GenerateCode(secret, f.now())
	require.NoError(t, err)
	// Bad permissions are refused before the code is checked, so the code
	// is not used up.
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "shop", []string{"invoice:create", "root"}, code)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "shop", []string{"invoice:create"}, "000000")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))

	plain, k, err := f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "shop", []string{"invoice:create", "btcpay.store.canviewinvoices"}, code)
	require.NoError(t, err)
	require.Equal(t, []string{"invoice:create", "invoice:read"}, k.Scopes)
	require.NotContains(t, k.Hash, plain)
	// The same code again is a replay.
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "again", []string{"invoice:read"}, code)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	// A recovery code works once.
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "recovered", []string{"invoice:read"}, recovery[3])
	require.NoError(t, err)
	_, _, err = f.svc.CreateAPIKey(ctx, f.alice.ID, st.ID, "recovered", []string{"invoice:read"}, recovery[3])
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))

	// Using the key: Greenfield's "token" scheme and Bearer.
	for _, h := range []string{"token " + plain, "Bearer " + plain, "TOKEN " + plain} {
		got, err := f.svc.AuthenticateAPIKey(ctx, h)
		require.NoError(t, err, h)
		require.Equal(t, k.ID, got.ID)
		require.NotNil(t, got.LastUsedAt)
	}
	keys, err := f.svc.APIKeys(ctx, f.alice.ID, st.ID)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.NotNil(t, keys[0].LastUsedAt, "last use is recorded")
	for _, bad := range []string{"", "token", "token " + plain + "x", "Basic " + plain, "token cd_zzzzzzzz_" + plain[12:]} {
		_, err := f.svc.AuthenticateAPIKey(ctx, bad)
		require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err), "%q", bad)
	}
	require.NoError(t, f.svc.RevokeAPIKey(ctx, f.alice.ID, st.ID, k.ID))
	_, err = f.svc.AuthenticateAPIKey(ctx, "token "+plain)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err), "revoked keys stop working at once")

	// The audit log tells the story, without a secret.
	events, err := f.db.AuditEvents(ctx, f.alice.ID, 0, 100)
	require.NoError(t, err)
	var got []string
	for _, e := range events {
		got = append(got, e.Event)
		for _, v := range e.Detail {
			require.NotContains(t, v, plain)
			require.NotContains(t, v, secret)
		}
	}
	require.Equal(t, []string{"second_factor_refused", "totp_enrolled", "totp_enabled", "second_factor_refused",
		"api_key_created", "second_factor_refused", "api_key_created", "second_factor_refused", "api_key_revoked"}, got)
}

func TestConfirmTOTP(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	_, err := f.svc.ConfirmTOTP(ctx, f.alice.ID, "123456")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	e, err := f.svc.EnrollTOTP(ctx, f.alice)
	require.NoError(t, err)
	_, err = f.svc.ConfirmTOTP(ctx, f.alice.ID, "000000")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	// A code from two steps ago is outside the ±1 window.
	old, err := totp.GenerateCode(e.Secret, f.now().Add(-61*time.Second))
	require.NoError(t, err)
	_, err = f.svc.ConfirmTOTP(ctx, f.alice.ID, old)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	// Re-enrolling before confirming replaces the secret.
	e2, err := f.svc.EnrollTOTP(ctx, f.alice)
	require.NoError(t, err)
	require.NotEqual(t, e.Secret, e2.Secret)
	code, err := totp.GenerateCode(e2.Secret, f.now().Add(-30*time.Second))
	require.NoError(t, err)
	codes, err := f.svc.ConfirmTOTP(ctx, f.alice.ID, code)
	require.NoError(t, err, "one step back is inside the window")
	require.Len(t, codes, 10)
	_, err = f.svc.ConfirmTOTP(ctx, f.alice.ID, code)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
}
