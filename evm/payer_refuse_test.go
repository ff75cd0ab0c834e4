package evm_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/withdraw"
)

// TestRecipientRefuses: a withdrawal the hot wallet can cover but whose
// transfer reverts (ether to a contract that takes none) fails, giving its
// origin the amount back, instead of waiting forever; one the hot wallet
// cannot cover yet (more tokens than it holds) waits for funds.
func TestRecipientRefuses(t *testing.T) {
	e := newBatchEnv(t)
	c := context.Background()
	var failed []string
	e.ws.OnOutcome(withdraw.OriginRefund, func(_ context.Context, w withdraw.Withdrawal) error {
		if w.Status == withdraw.Failed {
			failed = append(failed, w.ID)
		}
		return nil
	})
	// Ether to the token contract, which has no payable fallback.
	_, err := e.ws.Enqueue(c, withdraw.Withdrawal{ID: "to-token", Origin: withdraw.OriginRefund, Asset: "ETH", To: e.token.Hex(), Amount: chengdui.Amount{Lo: 1000}})
	require.NoError(t, err)
	// More USDT than the hot wallet holds.
	huge := new(big.Int).Mul(big.NewInt(1_000_000_000), big.NewInt(1_000_000_000))
	_, err = e.ws.Enqueue(c, withdraw.Withdrawal{ID: "too-much", Origin: withdraw.OriginRefund, Asset: usdt, To: recipient(9, 1).Hex(), Amount: chengdui.Amount{Lo: huge.Uint64()}})
	require.NoError(t, err)
	require.NoError(t, e.payer.Tick(c))
	w, err := e.db.Withdrawal(c, "to-token")
	require.NoError(t, err)
	require.Equal(t, withdraw.Failed, w.Status)
	require.Contains(t, w.Reason, "the recipient refuses")
	require.Equal(t, []string{"to-token"}, failed, "its origin was told")
	w, err = e.db.Withdrawal(c, "too-much")
	require.NoError(t, err)
	require.Equal(t, withdraw.Pending, w.Status, "it waits for the hot wallet's funds")
}
