package bitcoin_test

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/stretchr/testify/require"

	"chengdui/bitcoin"
	"chengdui/payout"
	"chengdui/withdraw"
)

// TestLostBatch: a batch the node does not know is paid again only when
// its coins are unspent on chain. A withdrawal naming an unknown
// transaction whose coins a confirmed transaction spent (a replacement
// lost while the batch it replaced confirmed; a node without txindex)
// stays sent, and nothing is paid twice; one whose coins are unspent (it
// was never broadcast) is paid by a new batch.
func TestLostBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	e := newPayoutEnv(t, ctx)
	e.fundHot(btcutil.SatoshiPerBitcoin, btcutil.SatoshiPerBitcoin)
	create := func(id string) payout.Payout {
		to, err := deriveAddress(e.seed, 2, 0, uint32(len(id)))
		require.NoError(t, err)
		p, err := e.payouts.Create(ctx, payout.CreateRequest{ID: id, StoreID: "s1", Asset: "BTC", Amount: "0.001", Method: payout.Chain,
			Address: to.String, CreatedBy: "ops"})
		require.NoError(t, err)
		_, err = e.payouts.Dispatch(ctx)
		require.NoError(t, err)
		return p
	}
	spentBy := func(txid string) []bitcoin.OutPointRef {
		coins, err := e.db.Coins(ctx, watchChain, false)
		require.NoError(t, err)
		var out []bitcoin.OutPointRef
		for _, c := range coins {
			if c.SpentBy == txid {
				out = append(out, bitcoin.OutPointRef{TxID: c.TxID, Vout: c.Vout})
			}
		}
		return out
	}
	unknown := func(n byte) string {
		var h chainhash.Hash
		h[0], h[31] = n, 0xee
		return h.String()
	}

	// Paid and confirmed, then the record names a transaction the node
	// never saw, spending the same coins.
	p1 := create("lost-1")
	require.NoError(t, e.payer.Tick(ctx))
	w, err := e.db.Withdrawal(ctx, p1.ID)
	require.NoError(t, err)
	require.Equal(t, withdraw.Sent, w.Status)
	t1 := w.TxID
	e.node.Mine(t, 1)
	ghost := unknown(1)
	require.NoError(t, e.db.SpendCoins(ctx, watchChain, spentBy(t1), ghost))
	require.NoError(t, e.ws.MarkSent(ctx, p1.ID, ghost))
	require.NoError(t, e.payer.Tick(ctx))
	w, err = e.db.Withdrawal(ctx, p1.ID)
	require.NoError(t, err)
	require.Equal(t, withdraw.Sent, w.Status, "not requeued: its coins are spent on chain")
	require.Equal(t, ghost, w.TxID)
	pending, err := e.db.Withdrawals(ctx, withdraw.Filter{Chain: watchChain, Status: withdraw.Pending, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, pending, "nothing paid again")

	// Never broadcast: its coins are unspent, so a new batch pays it.
	p2 := create("lost-22")
	var free []bitcoin.OutPointRef
	coins, err := e.db.Coins(ctx, watchChain, true)
	require.NoError(t, err)
	require.NotEmpty(t, coins)
	free = append(free, bitcoin.OutPointRef{TxID: coins[0].TxID, Vout: coins[0].Vout})
	never := unknown(2)
	require.NoError(t, e.db.SpendCoins(ctx, watchChain, free, never))
	require.NoError(t, e.ws.MarkSent(ctx, p2.ID, never))
	require.NoError(t, e.payer.Tick(ctx))
	w, err = e.db.Withdrawal(ctx, p2.ID)
	require.NoError(t, err)
	require.Equal(t, withdraw.Sent, w.Status)
	require.NotEqual(t, never, w.TxID, "paid by a new batch")
	h, err := chainhash.NewHashFromStr(w.TxID)
	require.NoError(t, err)
	_, _, err = e.rpc.Transaction(ctx, *h)
	require.NoError(t, err, "the node has the new batch")
}
