package withdraw_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/sqlite"
	"chengdui/withdraw"
)

// payer is the test's chain: it records submissions and validates
// addresses with the real EVM parser.
type payer struct {
	mu        sync.Mutex
	submitted []withdraw.Withdrawal
}

func (p *payer) Chain() string          { return "evm:1337" }
func (p *payer) NativeAsset() string    { return "ETH" }
func (p *payer) Pays(asset string) bool { return asset == "ETH" }
func (p *payer) CheckAddress(to string) (string, error) {
	a, err := keys.ParseEVMAddress(to)
	return a.Hex(), err
}
func (p *payer) CheckAmount(string, chengdui.Amount) error { return nil }
func (p *payer) Submit(_ context.Context, w withdraw.Withdrawal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.submitted = append(p.submitted, w)
	return nil
}

type fixture struct {
	svc    *withdraw.Service
	eng    *ledger.Engine
	payer  *payer
	secret string
	now    time.Time
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
	f := &fixture{eng: eng, payer: &payer{}, now: time.Now()}
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "ETH", Network: "ethereum", Decimals: 18})
	require.NoError(t, err)
	for _, a := range []chengdui.Account{{ID: "platform:ETH:chain", Asset: "ETH"}, {ID: "user:alice:ETH", Asset: "ETH", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := eng.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	transfer(t, eng, chengdui.Transfer{ID: "fund", DebitAccountID: "platform:ETH:chain", CreditAccountID: "user:alice:ETH", Amount: eth(t, "2"), Code: 1})

	require.NoError(t, db.CreateUser(ctx, chengdui.User{ID: "alice", Email: "alice@example.com", PasswordHash: "x", CreatedAt: f.now}))
	m := merchant.New(db, merchant.Config{})
	e, err := m.EnrollTOTP(ctx, chengdui.User{ID: "alice", Email: "alice@example.com"})
	require.NoError(t, err)
	code, err := totp.GenerateCode(e.Secret, time.Now().Add(-30*time.Second))
	require.NoError(t, err)
	_, err = m.ConfirmTOTP(ctx, "alice", code)
	require.NoError(t, err)
	f.secret = e.Secret
	f.svc = withdraw.New(db, eng, db, auth.Guard{F: db}, withdraw.Config{})
	f.svc.AddPayer(f.payer)
	return f
}

func eth(t *testing.T, s string) chengdui.Amount {
	a, err := chengdui.ParseDecimal(s, 18)
	require.NoError(t, err)
	return a
}

func transfer(t *testing.T, eng *ledger.Engine, tr chengdui.Transfer) {
	t.Helper()
	res, err := eng.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

// code returns the current TOTP code; each code is usable once, so tests
// that need two use the next step's.
func (f *fixture) code(t *testing.T, step int) string {
	c, err := totp.GenerateCode(f.secret, time.Now().Add(time.Duration(step)*30*time.Second))
	require.NoError(t, err)
	return c
}

func (f *fixture) balance(t *testing.T) (avail, held chengdui.Amount) {
	a, err := f.eng.Account(context.Background(), "user:alice:ETH")
	require.NoError(t, err)
	avail = a.CreditsPosted.Sub(a.DebitsPosted).Sub(a.DebitsPending)
	return avail, a.DebitsPending
}

const dest = "0x52908400098527886e0f7030069857d2e4169ee7"

func TestWithdrawHoldsThenPosts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	w, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "0.5", Code: f.code(t, 0)})
	require.NoError(t, err)
	require.Equal(t, withdraw.Pending, w.Status)
	require.Equal(t, "0x52908400098527886E0F7030069857D2E4169EE7", w.To, "stored in EIP-55 form")
	avail, held := f.balance(t)
	require.Equal(t, eth(t, "1.5"), avail)
	require.Equal(t, eth(t, "0.5"), held)
	require.Len(t, f.payer.submitted, 1)

	// A retry with the same id and body returns the first, without a code.
	again, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "0.5"})
	require.NoError(t, err)
	require.Equal(t, w.ID, again.ID)
	_, held = f.balance(t)
	require.Equal(t, eth(t, "0.5"), held, "no second hold")
	// The same id for another withdrawal is a conflict.
	_, err = f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "0.6", Code: f.code(t, 1)})
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	require.NoError(t, f.svc.MarkSent(ctx, w.ID, "0xtx"))
	require.NoError(t, f.svc.Complete(ctx, w.ID, "0xtx", chengdui.Amount{Lo: 21000 * 7}))
	require.NoError(t, f.svc.Complete(ctx, w.ID, "0xtx", chengdui.Amount{Lo: 21000 * 7}), "idempotent")
	avail, held = f.balance(t)
	require.Equal(t, eth(t, "1.5"), avail)
	require.True(t, held.IsZero())
	fees, err := f.eng.Account(ctx, "platform:ETH:network-fees")
	require.NoError(t, err)
	require.Equal(t, chengdui.Amount{Lo: 21000 * 7}, fees.DebitsPosted)
	got, err := f.svc.Get(ctx, "alice", "w1")
	require.NoError(t, err)
	require.Equal(t, withdraw.Completed, got.Status)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(f.svc.Fail(ctx, w.ID, "late")))
}

func TestWithdrawFailVoids(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	w, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "2", Code: f.code(t, 0)})
	require.NoError(t, err)
	require.NoError(t, f.svc.Fail(ctx, w.ID, "reverted"))
	require.NoError(t, f.svc.Fail(ctx, w.ID, "reverted"), "idempotent")
	avail, held := f.balance(t)
	require.Equal(t, eth(t, "2"), avail)
	require.True(t, held.IsZero())
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(f.svc.Complete(ctx, w.ID, "0x", chengdui.Amount{})))
}

func TestWithdrawRefusals(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		r    withdraw.Request
		code string
	}{
		{"no id", withdraw.Request{Asset: "ETH", To: dest, Amount: "1"}, chengdui.EInvalid},
		{"id with colon", withdraw.Request{ID: "a:b", Asset: "ETH", To: dest, Amount: "1"}, chengdui.EInvalid},
		{"long id", withdraw.Request{ID: strings.Repeat("x", 65), Asset: "ETH", To: dest, Amount: "1"}, chengdui.EInvalid},
		{"unknown asset", withdraw.Request{ID: "a", Asset: "DOGE", To: dest, Amount: "1"}, chengdui.EInvalid},
		{"bad address", withdraw.Request{ID: "a", Asset: "ETH", To: "0x1234", Amount: "1"}, chengdui.EInvalid},
		{"bitcoin address", withdraw.Request{ID: "a", Asset: "ETH", To: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", Amount: "1"}, chengdui.EInvalid},
		{"zero", withdraw.Request{ID: "a", Asset: "ETH", To: dest, Amount: "0"}, chengdui.EZeroAmount},
		{"negative", withdraw.Request{ID: "a", Asset: "ETH", To: dest, Amount: "-1"}, chengdui.EInvalidAmount},
		{"too precise", withdraw.Request{ID: "a", Asset: "ETH", To: dest, Amount: "0.0000000000000000001"}, chengdui.EInvalidAmount},
		{"no code", withdraw.Request{ID: "a", Asset: "ETH", To: dest, Amount: "1"}, chengdui.EUnauthorized},
		{"wrong code", withdraw.Request{ID: "a", Asset: "ETH", To: dest, Amount: "1", Code: "000000"}, chengdui.EUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Withdraw(ctx, "alice", tc.r)
			require.Error(t, err)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
		})
	}
	// More than the balance: refused by the ledger, nothing held, no record.
	_, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "big", Asset: "ETH", To: dest, Amount: "2.000000000000000001", Code: f.code(t, 0)})
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
	avail, held := f.balance(t)
	require.Equal(t, eth(t, "2"), avail)
	require.True(t, held.IsZero())
	list, err := f.svc.List(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, list)
	require.Empty(t, f.payer.submitted)
}

func TestWithdrawResume(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	_, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "1", Code: f.code(t, 0)})
	require.NoError(t, err)
	require.NoError(t, f.svc.Resume(ctx, "evm:1337"))
	require.Len(t, f.payer.submitted, 2, "pending withdrawals are submitted again; payers are idempotent by id")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(f.svc.Resume(ctx, "evm:1")))
}
