package bitcoin

import (
	"context"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Broadcast submits a signed transaction to the node's mempool and returns
// its txid. It is idempotent: a transaction the node already has, in its
// mempool or its chain, counts as sent.
//
// Errors: EConflict when an input is already spent or unknown (a double
// spend, or a parent the node has not seen), EInvalid for any other refusal
// (a bad signature, a fee below the node's minimum, a non-standard script),
// with the node's reason; EUnavailable, EInternal.
func (n *Node) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	txid := tx.TxHash()
	_, err := call(ctx, func() (*chainhash.Hash, error) { return n.client.SendRawTransaction(tx, false) })
	if err == nil {
		return txid, nil
	}
	code, ok := rpcCode(err)
	if !ok {
		return chainhash.Hash{}, n.fail(ctx, "sendrawtransaction", err)
	}
	if code == int(btcjson.ErrRPCTxAlreadyInChain) {
		return txid, nil
	}
	// btcd refuses a transaction already in its mempool as a rejection
	// (-26) where bitcoind succeeds; asking is simpler than matching words.
	if _, _, err := n.Transaction(ctx, txid); err == nil {
		return txid, nil
	}
	reason := rpcMessage(err)
	if spendsMissing(reason) {
		return chainhash.Hash{}, chengdui.Errorf(chengdui.EConflict, "the node refused transaction %s: an input is already spent or unknown (%s)", txid, reason)
	}
	return chainhash.Hash{}, chengdui.Errorf(chengdui.EInvalid, "the node refused transaction %s: %s", txid, reason)
}

// spendsMissing reports whether a node's refusal says an input is spent or
// missing: btcd's "orphan transaction … fully-spent" and "output already
// spent in mempool", bitcoind's "bad-txns-inputs-missingorspent",
// "missing-inputs" and "txn-mempool-conflict".
func spendsMissing(reason string) bool {
	r := strings.ToLower(reason)
	for _, s := range []string{"orphan transaction", "already spent", "missingorspent", "missing-inputs", "mempool-conflict"} {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// EstimateFeeRate returns a fee rate in sat/vB for confirmation within
// blocks blocks, from the node's estimator (estimatesmartfee, then the older
// estimatefee that btcd has), clamped to the configured bounds. Regtest
// nodes have no estimate: there it returns the configured minimum.
//
// Errors: EInvalid for blocks < 1, EUnavailable when a node on another
// network has no estimate yet or cannot be reached, EInternal.
func (n *Node) EstimateFeeRate(ctx context.Context, blocks int) (satPerVByte int64, err error) {
	if blocks < 1 {
		return 0, chengdui.Errorf(chengdui.EInvalid, "a fee estimate needs a target of at least one block, not %d", blocks)
	}
	btcPerKvB, err := n.estimate(ctx, int64(blocks))
	if err != nil {
		return 0, err
	}
	if btcPerKvB <= 0 {
		if n.network == keys.Regtest {
			return n.minFee, nil
		}
		return 0, chengdui.Errorf(chengdui.EUnavailable, "the bitcoin node has no fee estimate for %d blocks yet", blocks)
	}
	// BTC/kvB to sat/vB, rounded up so that the rate is never below the
	// estimate. NewAmount rounds to a whole satoshi, avoiding float error.
	perKvB, err := btcutil.NewAmount(btcPerKvB)
	if err != nil {
		return 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: fee estimate %v: %v", btcPerKvB, err)
	}
	rate := (int64(perKvB) + 999) / 1000
	return min(max(rate, n.minFee), n.maxFee), nil
}

// estimate returns the node's estimate in BTC/kvB, or 0 when it has none:
// it refuses both methods, or answers with an error list or -1.
func (n *Node) estimate(ctx context.Context, blocks int64) (float64, error) {
	smart, err := call(ctx, func() (*btcjson.EstimateSmartFeeResult, error) {
		return n.client.EstimateSmartFee(blocks, nil)
	})
	if err == nil {
		if smart.FeeRate != nil {
			return *smart.FeeRate, nil
		}
		return 0, nil
	}
	if _, ok := rpcCode(err); !ok {
		return 0, n.fail(ctx, "estimatesmartfee", err)
	}
	rate, err := call(ctx, func() (float64, error) { return n.client.EstimateFee(blocks) })
	if err != nil {
		if _, ok := rpcCode(err); ok {
			return 0, nil
		}
		return 0, n.fail(ctx, "estimatefee", err)
	}
	return rate, nil
}
