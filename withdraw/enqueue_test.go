package withdraw_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/keys"
	"chengdui/withdraw"
)

// btcDest is a regtest P2WPKH address (BIP173's test vector on regtest).
const btcDest = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

// outcomes records what OnOutcome reports, and fails on demand.
type outcomes struct {
	mu   sync.Mutex
	seen []withdraw.Withdrawal
	fail error
}

func (o *outcomes) fn(_ context.Context, w withdraw.Withdrawal) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.seen = append(o.seen, w)
	return nil
}

// enqueueFixture adds the real Bitcoin payer's checks (its Submit only
// wakes a batch loop that is not running here) and a BTC asset.
func enqueueFixture(t *testing.T) *fixture {
	f := setup(t)
	_, err := f.eng.CreateAsset(context.Background(), chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)
	f.svc.AddPayer(bitcoin.NewPayer(bitcoin.PayerConfig{Chain: "bitcoin:regtest", Network: keys.Regtest, Asset: "BTC"}))
	return f
}

func TestEnqueue(t *testing.T) {
	f := enqueueFixture(t)
	ctx := context.Background()
	w, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-1", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "0.5"), UserID: "ignored"})
	require.NoError(t, err)
	require.Equal(t, withdraw.Pending, w.Status)
	require.Equal(t, "evm:1337", w.Chain)
	require.Equal(t, "ETH", w.FeeAsset)
	require.Empty(t, w.UserID, "a service's withdrawal belongs to no user")
	require.Equal(t, "0x52908400098527886E0F7030069857D2E4169EE7", w.To, "canonical form")
	require.Len(t, f.payer.submitted, 1)
	stored, err := f.svc.Store().Withdrawal(ctx, "po-1")
	require.NoError(t, err)
	require.Equal(t, w, stored)
	// No hold of its own, no second factor: the user's balance is untouched.
	avail, held := f.balance(t)
	require.Equal(t, eth(t, "2"), avail)
	require.True(t, held.IsZero())

	// The same request again returns the stored withdrawal, whatever the
	// address's spelling; another body is a conflict.
	again, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-1", Origin: withdraw.OriginPayout, Asset: "ETH", To: "0x52908400098527886E0F7030069857D2E4169EE7", Amount: eth(t, "0.5")})
	require.NoError(t, err)
	require.Equal(t, w, again)
	for _, other := range []withdraw.Withdrawal{
		{ID: "po-1", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "0.6")},
		{ID: "po-1", Origin: withdraw.OriginRefund, Asset: "ETH", To: dest, Amount: eth(t, "0.5")},
		{ID: "po-1", Origin: withdraw.OriginPayout, Asset: "ETH", To: "0x0000000000000000000000000000000000000001", Amount: eth(t, "0.5")},
	} {
		_, err := f.svc.Enqueue(ctx, other)
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%+v: %v", other, err)
	}
	// A user's id is not a service's.
	_, err = f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "0.5", Code: f.code(t, 0)})
	require.NoError(t, err)
	_, err = f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "alice-w1", Origin: withdraw.OriginRefund, Asset: "ETH", To: dest, Amount: eth(t, "0.5")})
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	// A user does not see it.
	_, err = f.svc.Get(ctx, "", "po-1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	list, err := f.svc.List(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestEnqueueRefusals(t *testing.T) {
	f := enqueueFixture(t)
	ctx := context.Background()
	ok := withdraw.Withdrawal{ID: "po-x", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "1")}
	with := func(edit func(*withdraw.Withdrawal)) withdraw.Withdrawal {
		w := ok
		edit(&w)
		return w
	}
	for _, tc := range []struct {
		name string
		w    withdraw.Withdrawal
		code string
	}{
		{"user origin", with(func(w *withdraw.Withdrawal) { w.Origin = withdraw.OriginUser }), chengdui.EInvalid},
		{"no id", with(func(w *withdraw.Withdrawal) { w.ID = "" }), chengdui.EInvalid},
		{"id with colon", with(func(w *withdraw.Withdrawal) { w.ID = "po:1" }), chengdui.EInvalid},
		{"id with space", with(func(w *withdraw.Withdrawal) { w.ID = "po 1" }), chengdui.EInvalid},
		{"long id", with(func(w *withdraw.Withdrawal) { w.ID = strings.Repeat("x", 101) }), chengdui.EInvalid},
		{"unknown asset", with(func(w *withdraw.Withdrawal) { w.Asset = "DOGE" }), chengdui.EInvalid},
		{"bad address", with(func(w *withdraw.Withdrawal) { w.To = "0x1234" }), chengdui.EInvalid},
		{"other chain's address", with(func(w *withdraw.Withdrawal) { w.To = btcDest }), chengdui.EInvalid},
		{"zero", with(func(w *withdraw.Withdrawal) { w.Amount = chengdui.Amount{} }), chengdui.EZeroAmount},
		{"dust", withdraw.Withdrawal{ID: "po-d", Origin: withdraw.OriginPayout, Asset: "BTC", To: btcDest, Amount: chengdui.Amount{Lo: 293}}, chengdui.EInvalid},
		{"mainnet address on regtest", withdraw.Withdrawal{ID: "po-m", Origin: withdraw.OriginPayout, Asset: "BTC", To: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Amount: chengdui.Amount{Lo: 10_000}}, chengdui.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Enqueue(ctx, tc.w)
			require.Error(t, err)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
		})
	}
	all, err := f.svc.Store().Withdrawals(ctx, withdraw.Filter{})
	require.NoError(t, err)
	require.Empty(t, all, "a refused request stores nothing")
	require.Empty(t, f.payer.submitted)

	// The smallest P2WPKH output is fine.
	w, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-b", Origin: withdraw.OriginPayout, Asset: "BTC", To: strings.ToUpper(btcDest), Amount: chengdui.Amount{Lo: 294}})
	require.NoError(t, err)
	require.Equal(t, btcDest, w.To)
	require.Equal(t, "bitcoin:regtest", w.Chain)
}

// TestEnqueueOutcomes: a service's withdrawal moves no hold of the
// withdraw package's; its origin's function hears every step before it is
// written, and an error of the function leaves the step for the next
// round.
func TestEnqueueOutcomes(t *testing.T) {
	f := enqueueFixture(t)
	ctx := context.Background()
	o := &outcomes{}
	f.svc.OnOutcome(withdraw.OriginPayout, o.fn)
	w1, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-1", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "0.5")})
	require.NoError(t, err)
	w2, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "po-2", Origin: withdraw.OriginPayout, Asset: "ETH", To: dest, Amount: eth(t, "0.25")})
	require.NoError(t, err)

	o.fail = errors.New("payout store down")
	require.Error(t, f.svc.MarkSent(ctx, w1.ID, "0xtx1"))
	got, err := f.svc.Store().Withdrawal(ctx, w1.ID)
	require.NoError(t, err)
	require.Equal(t, withdraw.Pending, got.Status, "not written when the function fails")
	o.fail = nil
	require.NoError(t, f.svc.MarkSent(ctx, w1.ID, "0xtx1"))
	require.NoError(t, f.svc.MarkSent(ctx, w1.ID, "0xtx1"), "idempotent: not reported twice")
	require.Len(t, o.seen, 1)
	require.Equal(t, withdraw.Sent, o.seen[0].Status)
	require.Equal(t, "0xtx1", o.seen[0].TxID)

	fee := chengdui.Amount{Lo: 21000 * 7}
	o.fail = errors.New("payout store down")
	require.Error(t, f.svc.Complete(ctx, w1.ID, "0xtx1", fee))
	o.fail = nil
	require.NoError(t, f.svc.Complete(ctx, w1.ID, "0xtx1", fee), "the fee transfer is the ledger's replay")
	require.NoError(t, f.svc.Complete(ctx, w1.ID, "0xtx1", fee))
	require.Len(t, o.seen, 2)
	require.Equal(t, withdraw.Completed, o.seen[1].Status)
	require.Equal(t, fee, o.seen[1].Fee)
	fees, err := f.eng.Account(ctx, "platform:ETH:network-fees")
	require.NoError(t, err)
	require.Equal(t, fee, fees.DebitsPosted, "the fee booked once")

	require.NoError(t, f.svc.Fail(ctx, w2.ID, "reverted"))
	require.NoError(t, f.svc.Fail(ctx, w2.ID, "reverted"))
	require.Len(t, o.seen, 3)
	require.Equal(t, withdraw.Failed, o.seen[2].Status)
	require.Equal(t, "reverted", o.seen[2].Reason)
	// No hold of the withdraw package's was touched.
	chain, err := f.eng.Account(ctx, "platform:ETH:chain")
	require.NoError(t, err)
	require.True(t, chain.CreditsPending.IsZero())
	require.Equal(t, fee, chain.CreditsPosted, "only the fee reached the chain account")

	// Without a function for its origin, a refund cannot complete: nobody
	// would post its hold.
	w3, err := f.svc.Enqueue(ctx, withdraw.Withdrawal{ID: "rf-1", Origin: withdraw.OriginRefund, Asset: "ETH", To: dest, Amount: eth(t, "0.1")})
	require.NoError(t, err)
	require.NoError(t, f.svc.MarkSent(ctx, w3.ID, "0xtx3"))
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(f.svc.Complete(ctx, w3.ID, "0xtx3", fee)))
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(f.svc.Fail(ctx, w3.ID, "x")))
	got, err = f.svc.Store().Withdrawal(ctx, w3.ID)
	require.NoError(t, err)
	require.Equal(t, withdraw.Sent, got.Status)

	// A user's withdrawal still posts its own hold, and hears no function.
	f.svc.OnOutcome(withdraw.OriginUser, nil)
	u, err := f.svc.Withdraw(ctx, "alice", withdraw.Request{ID: "w1", Asset: "ETH", To: dest, Amount: "0.5", Code: f.code(t, 0)})
	require.NoError(t, err)
	require.NoError(t, f.svc.Complete(ctx, u.ID, "0xtx4", chengdui.Amount{}))
	avail, held := f.balance(t)
	require.Equal(t, eth(t, "1.5"), avail)
	require.True(t, held.IsZero())
	require.Len(t, o.seen, 3)
}
