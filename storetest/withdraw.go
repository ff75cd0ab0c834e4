package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chengdui"
	"chengdui/withdraw"

	"github.com/stretchr/testify/require"
)

// RunWithdraw runs the withdraw.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunWithdraw(t *testing.T, f func(t testing.TB) withdraw.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testWithdrawRoundTrip(t, f(t)) })
	t.Run("Update", func(t *testing.T) { testWithdrawUpdate(t, f(t)) })
	t.Run("Filter", func(t *testing.T) { testWithdrawFilter(t, f(t)) })
}

func sampleWithdrawal(id string, at time.Time) withdraw.Withdrawal {
	return withdraw.Withdrawal{ID: id, UserID: "alice", Asset: "ETH", Chain: "evm:1337", To: "0x52908400098527886E0F7030069857D2E4169EE7",
		Amount: chengdui.Amount{Lo: 1, Hi: 1 << 60}, Status: withdraw.Pending, FeeAsset: "ETH", CreatedAt: at, UpdatedAt: at}
}

func testWithdrawRoundTrip(t *testing.T, s withdraw.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)
	w := sampleWithdrawal("alice-w1", at)
	require.NoError(t, s.CreateWithdrawal(ctx, w))
	got, err := s.Withdrawal(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, w, got)

	err = s.CreateWithdrawal(ctx, w)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Withdrawal(ctx, "nobody")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	// A withdrawal the platform sends for a service keeps its origin.
	po := sampleWithdrawal("po-1", at)
	po.UserID, po.Origin = "", withdraw.OriginPayout
	require.NoError(t, s.CreateWithdrawal(ctx, po))
	got, err = s.Withdrawal(ctx, po.ID)
	require.NoError(t, err)
	require.Equal(t, po, got)

	max := sampleWithdrawal("alice-max", at)
	max.Amount = chengdui.Amount{Lo: ^uint64(0), Hi: ^uint64(0)}
	require.NoError(t, s.CreateWithdrawal(ctx, max))
	got, err = s.Withdrawal(ctx, max.ID)
	require.NoError(t, err)
	require.Equal(t, max.Amount, got.Amount)
}

func testWithdrawUpdate(t *testing.T, s withdraw.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	w := sampleWithdrawal("alice-w1", at)
	require.NoError(t, s.CreateWithdrawal(ctx, w))
	w.Status, w.TxID, w.Fee, w.Reason, w.UpdatedAt = withdraw.Completed, "0xabc", chengdui.Amount{Lo: 21000}, "", at.Add(time.Minute)
	// Immutable fields are not changed by an update.
	changed := w
	changed.Amount, changed.To = chengdui.Amount{Lo: 5}, "elsewhere"
	require.NoError(t, s.UpdateWithdrawal(ctx, changed))
	got, err := s.Withdrawal(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, w, got)

	err = s.UpdateWithdrawal(ctx, sampleWithdrawal("missing", at))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

func testWithdrawFilter(t *testing.T, s withdraw.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range 6 {
		w := sampleWithdrawal(fmt.Sprintf("w%d", i), at.Add(time.Duration(i)*time.Second))
		if i%2 == 1 {
			w.UserID, w.Chain, w.Asset, w.FeeAsset = "bob", "bitcoin:regtest", "BTC", "BTC"
		}
		if i >= 4 {
			w.Status = withdraw.Sent
		}
		if i >= 3 {
			w.TxID = fmt.Sprintf("tx%d", i%2)
		}
		require.NoError(t, s.CreateWithdrawal(ctx, w))
	}
	ids := func(f withdraw.Filter) []string {
		ws, err := s.Withdrawals(ctx, f)
		require.NoError(t, err)
		out := []string{}
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	require.Equal(t, []string{"w0", "w1", "w2", "w3", "w4", "w5"}, ids(withdraw.Filter{}))
	require.Equal(t, []string{"w0", "w2", "w4"}, ids(withdraw.Filter{UserID: "alice"}))
	require.Equal(t, []string{"w1", "w3", "w5"}, ids(withdraw.Filter{Chain: "bitcoin:regtest"}))
	require.Equal(t, []string{"w4", "w5"}, ids(withdraw.Filter{Status: withdraw.Sent}))
	require.Equal(t, []string{"w5"}, ids(withdraw.Filter{Chain: "bitcoin:regtest", Status: withdraw.Sent}))
	require.Equal(t, []string{"w0", "w1"}, ids(withdraw.Filter{Limit: 2}))
	require.Equal(t, []string{"w4"}, ids(withdraw.Filter{TxID: "tx0"}))
	require.Equal(t, []string{"w3", "w5"}, ids(withdraw.Filter{TxID: "tx1"}))
	require.Equal(t, []string{"w5"}, ids(withdraw.Filter{TxID: "tx1", Status: withdraw.Sent}))
	require.Equal(t, []string{}, ids(withdraw.Filter{TxID: "tx9"}))
}
