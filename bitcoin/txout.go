package bitcoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
)

// TxOut asks the node for an unspent output (gettxout, the mempool
// included: an output a mempool transaction spends is spent, and an output
// of a mempool transaction exists) and returns it with its confirmations,
// 0 while its transaction is in the mempool. The amount is read from the
// node's JSON exactly, never through a float.
//
// Errors: ENotFound when the output is spent or unknown to the node,
// EUnavailable, EInternal.
func (n *Node) TxOut(ctx context.Context, op wire.OutPoint) (*wire.TxOut, int64, error) {
	raw, err := call(ctx, func() (json.RawMessage, error) {
		return n.client.RawRequest("gettxout", []json.RawMessage{
			json.RawMessage(strconv.Quote(op.Hash.String())), json.RawMessage(strconv.FormatUint(uint64(op.Index), 10)), json.RawMessage("true"),
		})
	})
	if err != nil {
		return nil, 0, n.fail(ctx, "gettxout", err)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, 0, chengdui.Errorf(chengdui.ENotFound, "output %s is spent or unknown to the node", op)
	}
	var res struct {
		Confirmations int64       `json:"confirmations"`
		Value         json.Number `json:"value"`
		ScriptPubKey  struct {
			Hex string `json:"hex"`
		} `json:"scriptPubKey"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: %v", op, err)
	}
	// The node writes BTC as a JSON number, possibly in exponent form
	// (1e-05); big.Rat reads either exactly.
	v, ok := new(big.Rat).SetString(res.Value.String())
	if ok {
		v.Mul(v, big.NewRat(btcutil.SatoshiPerBitcoin, 1))
	}
	if !ok || !v.IsInt() || v.Sign() < 0 || v.Num().Cmp(big.NewInt(btcutil.MaxSatoshi)) > 0 {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: amount %q is not a whole number of satoshis", op, res.Value)
	}
	pk, err := hex.DecodeString(res.ScriptPubKey.Hex)
	if err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: script: %v", op, err)
	}
	return wire.NewTxOut(v.Num().Int64(), pk), res.Confirmations, nil
}
