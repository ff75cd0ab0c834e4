package wallet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/auth"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/sqlite"
	"chengdui/wallet"

	"github.com/stretchr/testify/require"
)

// The BIP39 test mnemonic: its addresses are known, so the test can check
// that watch-only derivation gives users the seed's addresses.
const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

type fixture struct {
	svc   *wallet.Service
	db    *sqlite.DB
	eng   *ledger.Engine
	seed  keys.Seed
	clock *atomic.Int64
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	for _, a := range []chengdui.Asset{{Code: "BTC", Network: "bitcoin", Decimals: 8}, {Code: "USDT-ERC20", Network: "ethereum", Decimals: 6}, {Code: "CNY", Network: "fiat", Decimals: 2}} {
		_, err := eng.CreateAsset(ctx, a)
		require.NoError(t, err)
	}
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(t, err)
	xpubs := map[keys.Scheme]string{}
	for _, s := range []keys.Scheme{keys.P2WPKH, keys.EVM} {
		xpubs[s], err = keys.SchemeXPub(seed, s, keys.Regtest, 0)
		require.NoError(t, err)
	}
	clock := &atomic.Int64{}
	clock.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	svc, err := wallet.New(db, eng, db, wallet.Config{Network: keys.Regtest, XPubs: xpubs, Password: auth.TestParams(),
		SessionTTL: time.Hour, Now: func() time.Time { return time.Unix(0, clock.Load()) },
		Audit: &audit.Recorder{Store: db}})
	require.NoError(t, err)
	return &fixture{svc: svc, db: db, eng: eng, seed: seed, clock: clock}
}

func TestRegisterAndWallet(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "  Mei.Lin@example.com ", "a long enough passphrase")
	require.NoError(t, err)
	require.Equal(t, "Mei.Lin@example.com", u.Email)
	require.NotContains(t, u.PasswordHash, "passphrase")

	w, err := f.svc.Wallet(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, w.Balances, 3)
	for _, b := range w.Balances {
		require.Equal(t, "0", b.AvailableUnits)
		acc, err := f.eng.Account(ctx, b.AccountID)
		require.NoError(t, err)
		require.Equal(t, chengdui.DebitsMustNotExceedCredits, acc.Flags, "customer accounts cannot be overdrawn")
	}
	require.Len(t, w.Addresses, 2)
	for _, a := range w.Addresses {
		switch a.Scheme {
		case "p2wpkh":
			want, err := keys.DeriveAddress(f.seed, keys.P2WPKH, keys.Regtest, 0, 0, a.Index)
			require.NoError(t, err)
			require.Equal(t, want, a.Address)
			require.Equal(t, "bitcoin:"+want+"?label=Chengdui%20deposit", a.URI)
			uri, err := keys.ParseBIP21(a.URI, keys.Regtest)
			require.NoError(t, err)
			require.Equal(t, keys.BIP21URI{Address: want, Label: "Chengdui deposit"}, uri)
			require.Equal(t, []string{"BTC"}, a.Assets)
		case "evm":
			want, err := keys.DeriveAddress(f.seed, keys.EVM, keys.Regtest, 0, 0, a.Index)
			require.NoError(t, err)
			require.Equal(t, want, a.Address)
			require.Equal(t, "ethereum:"+want, a.URI)
			require.Equal(t, []string{"USDT-ERC20"}, a.Assets)
		default:
			t.Fatalf("unexpected scheme %s", a.Scheme)
		}
	}
	// A deposit shows up as available balance; a hold as pending.
	_, err = f.eng.CreateAccount(ctx, chengdui.Account{ID: "chain:BTC", Asset: "BTC"})
	require.NoError(t, err)
	res, err := f.eng.CreateTransfers(ctx, []chengdui.Transfer{
		{ID: "dep", DebitAccountID: "chain:BTC", CreditAccountID: wallet.AccountID(u.ID, "BTC"), Amount: chengdui.Amount{Lo: 150_000_000}},
		{ID: "hold", DebitAccountID: wallet.AccountID(u.ID, "BTC"), CreditAccountID: "chain:BTC", Amount: chengdui.Amount{Lo: 50_000_000}, Flags: chengdui.Pending},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.NoError(t, res[1].Err)
	w, err = f.svc.Wallet(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, "BTC", w.Balances[0].Asset)
	require.Equal(t, "1.00000000", w.Balances[0].Available)
	require.Equal(t, "100000000", w.Balances[0].AvailableUnits)
	require.Equal(t, "0.50000000", w.Balances[0].Pending)

	// A new asset appears in existing wallets.
	_, err = f.eng.CreateAsset(ctx, chengdui.Asset{Code: "USDC-ERC20", Network: "ethereum", Decimals: 6})
	require.NoError(t, err)
	w, err = f.svc.Wallet(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, w.Balances, 4)
	require.Len(t, w.Addresses, 2, "no second address for the same scheme")
}

func TestRegisterRefusals(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	_, err := f.svc.Register(ctx, "taken@example.com", "a long enough passphrase")
	require.NoError(t, err)
	head, err := f.eng.Head(ctx)
	require.NoError(t, err)
	tests := []struct {
		name, email, password, code string
	}{
		{"taken", "taken@example.com", "another long passphrase", chengdui.EConflict},
		{"taken, other case", "TAKEN@example.com", "another long passphrase", chengdui.EConflict},
		{"not an email", "taken", "another long passphrase", chengdui.EInvalid},
		{"display name", "Li <li@example.com>", "another long passphrase", chengdui.EInvalid},
		{"no domain dot", "li@localhost", "another long passphrase", chengdui.EInvalid},
		{"empty", "", "another long passphrase", chengdui.EInvalid},
		{"short password", "li@example.com", "short", chengdui.EInvalid},
		{"password is the email", "li@example.com", "li@example.com", chengdui.EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Register(ctx, tc.email, tc.password)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
			require.NotContains(t, chengdui.ErrorMessage(err), tc.password)
		})
	}
	after, err := f.eng.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, head, after)
}

func TestSessions(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	u, err := f.svc.Register(ctx, "wang@example.com", "a long enough passphrase")
	require.NoError(t, err)

	_, _, err = f.svc.Login(ctx, "wang@example.com", "the wrong passphrase")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	_, _, err2 := f.svc.Login(ctx, "nobody@example.com", "the wrong passphrase")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err2))
	require.Equal(t, chengdui.ErrorMessage(err), chengdui.ErrorMessage(err2), "unknown email and wrong password look alike")

	token, sess, err := f.svc.Login(ctx, "WANG@example.com", "a long enough passphrase")
	require.NoError(t, err)
	require.Equal(t, u.ID, sess.UserID)
	require.NotEqual(t, token, sess.TokenHash, "only a hash is stored")
	got, err := f.svc.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)

	for _, bad := range []string{"", "x", token + "x"} {
		_, err := f.svc.Authenticate(ctx, bad)
		require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	}
	// Expiry.
	f.clock.Add(int64(time.Hour))
	_, err = f.svc.Authenticate(ctx, token)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	// Logout.
	token, _, err = f.svc.Login(ctx, "wang@example.com", "a long enough passphrase")
	require.NoError(t, err)
	require.NoError(t, f.svc.Logout(ctx, token))
	require.NoError(t, f.svc.Logout(ctx, token), "logging out twice is fine")
	_, err = f.svc.Authenticate(ctx, token)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
}

// TestConcurrentRegistrations: deposit addresses are never shared, even
// when users register at the same moment.
func TestConcurrentRegistrations(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const n = 24
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u, err := f.svc.Register(ctx, fmt.Sprintf("user%d@example.com", i), "a long enough passphrase")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = u.ID
		}(i)
	}
	wg.Wait()
	seen := map[string]string{}
	indexes := map[string]map[uint32]bool{}
	for _, id := range ids {
		w, err := f.svc.Wallet(ctx, id)
		require.NoError(t, err)
		require.Len(t, w.Addresses, 2)
		for _, a := range w.Addresses {
			other, dup := seen[a.Address]
			require.False(t, dup, "address %s given to %s and %s", a.Address, other, id)
			seen[a.Address] = id
			if indexes[a.Scheme] == nil {
				indexes[a.Scheme] = map[uint32]bool{}
			}
			indexes[a.Scheme][a.Index] = true
		}
	}
	for scheme, idx := range indexes {
		require.Len(t, idx, n, scheme)
		for i := uint32(0); i < n; i++ {
			require.True(t, idx[i], "%s index %d unused: indexes are allocated without gaps", scheme, i)
		}
	}
}

func TestBadXPub(t *testing.T) {
	f := setup(t)
	_, err := wallet.New(f.db, f.eng, f.db, wallet.Config{Network: keys.Mainnet, XPubs: map[keys.Scheme]string{keys.P2WPKH: "xpub-not-really"}, Password: auth.TestParams()})
	require.Error(t, err)
}

func TestAuditTrail(t *testing.T) {
	f := setup(t)
	ctx := chengdui.WithRequestInfo(context.Background(), chengdui.RequestInfo{IP: "198.51.100.7"})
	u, err := f.svc.Register(ctx, "audit@example.com", "a long enough passphrase")
	require.NoError(t, err)
	_, _, err = f.svc.Login(ctx, "audit@example.com", "the wrong passphrase")
	require.Error(t, err)
	_, _, err = f.svc.Login(ctx, "ghost@example.com", "the wrong passphrase")
	require.Error(t, err)
	token, _, err := f.svc.Login(ctx, "audit@example.com", "a long enough passphrase")
	require.NoError(t, err)
	require.NoError(t, f.svc.Logout(ctx, token))

	events, err := f.db.AuditEvents(context.Background(), "", 0, 100)
	require.NoError(t, err)
	var got []string
	for _, e := range events {
		got = append(got, e.Event+"/"+e.Actor)
		require.Equal(t, "198.51.100.7", e.IP)
		for k, v := range e.Detail {
			require.NotContains(t, v, "passphrase", k)
		}
	}
	require.Equal(t, []string{"registered/" + u.ID, "login_failed/" + u.ID, "login_failed/", "login/" + u.ID, "logout/" + u.ID}, got)
	require.Equal(t, "ghost@example.com", events[2].Detail["email"])
}
