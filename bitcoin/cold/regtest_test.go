package cold_test

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// segwitHeight is where btcd's regtest activates segwit (BIP9: three
// 144-block windows); witness outputs are spendable from the next block.
const segwitHeight = 432

// TestRegtest moves coins into cold storage and out again on a real btcd:
// a coinbase funds two cold addresses; a PSBT spends both, is signed by
// key A, refused for a wrong key and for broadcast with one signature,
// signed by key C, combined, finalized and mined; the payee receives
// exactly the amount and the change returns to a cold change address.
func TestRegtest(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	node := btcdtest.Start(t)
	n, err := bitcoin.Dial(ctx, bitcoin.Config{Host: node.Host, User: node.User, Pass: node.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	node.Mine(t, segwitHeight+1)

	w, _ := wallet(t, keys.Regtest)
	hot := btcdtest.Seed(t)
	mining := p2wpkh(t, hot, 0, 0)

	// Fund cold addresses 0 and 3 from the coinbase of block 1.
	h1, err := n.BlockHashAt(ctx, 1)
	require.NoError(t, err)
	block1, err := n.Block(ctx, h1)
	require.NoError(t, err)
	coinbase := block1.Transactions[0]
	_, cold0, err := w.Script(cold.Receive, 0)
	require.NoError(t, err)
	_, cold3, err := w.Script(cold.Receive, 3)
	require.NoError(t, err)
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: coinbase.TxHash(), Index: 0}, nil, nil))
	fund.AddTxOut(wire.NewTxOut(10*btcutil.SatoshiPerBitcoin, cold0))
	fund.AddTxOut(wire.NewTxOut(5*btcutil.SatoshiPerBitcoin, cold3))
	fund.AddTxOut(wire.NewTxOut(coinbase.TxOut[0].Value-15*btcutil.SatoshiPerBitcoin-10_000, mining))
	signP2WPKH(t, hot, fund, coinbase.TxOut[0])
	fundID, err := n.Broadcast(ctx, fund)
	require.NoError(t, err)
	node.Mine(t, 1)

	inputs := []cold.Input{
		{OutPoint: wire.OutPoint{Hash: fundID, Index: 0}, Value: fund.TxOut[0].Value, Change: cold.Receive, Index: 0},
		{OutPoint: wire.OutPoint{Hash: fundID, Index: 1}, Value: fund.TxOut[1].Value, Change: cold.Receive, Index: 3},
	}
	payee := p2wpkh(t, hot, 0, 5)
	const amount = 12*btcutil.SatoshiPerBitcoin + 345
	rate, err := n.EstimateFeeRate(ctx, 6)
	require.NoError(t, err)
	p, err := w.CreatePSBT(inputs, []*wire.TxOut{wire.NewTxOut(amount, payee)}, 4, rate)
	require.NoError(t, err)
	unsigned := encode(t, p)

	// Key A signs; a wrong key and A again change nothing.
	_, err = cold.Sign(p, signer(t, 0))
	require.NoError(t, err)
	signedA := encode(t, p)
	_, err = cold.Sign(p, signer(t, 3))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = cold.Sign(p, signer(t, 0))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, signedA, encode(t, p))

	// One signature cannot be broadcast.
	_, err = cold.Finalize(p)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)

	// Key C signs its own copy; the two combine.
	copyC := parse(t, unsigned)
	_, err = cold.Sign(copyC, signer(t, 2))
	require.NoError(t, err)
	both, err := cold.Combine(parse(t, signedA), parse(t, encode(t, copyC)))
	require.NoError(t, err)
	summary, err := cold.Describe(both, keys.Regtest)
	require.NoError(t, err)
	require.True(t, summary.Complete())
	tx, err := cold.Finalize(both)
	require.NoError(t, err)

	txid, err := n.Broadcast(ctx, tx)
	require.NoError(t, err)
	require.Equal(t, summary.TxID, txid)
	node.Mine(t, 1)
	got, confs, err := n.Transaction(ctx, txid)
	require.NoError(t, err)
	require.EqualValues(t, 1, confs)

	vsize := (blockchain.GetTransactionWeight(btcutil.NewTx(got)) + 3) / 4
	t.Logf("cold spend, 2 P2WSH 2-of-3 inputs, 2 outputs: %d vB signed, %d vB estimated, fee %d sat at %d sat/vB", vsize, summary.VSize, summary.Fee, rate)
	require.Equal(t, rate*summary.VSize, summary.Fee)
	require.LessOrEqual(t, vsize, summary.VSize)
	require.GreaterOrEqual(t, summary.Fee, rate*vsize, "the fee rate paid is at least the one asked")

	_, changeScript, err := w.Script(cold.Change, 4)
	require.NoError(t, err)
	var paid, change int64
	for i, o := range got.TxOut {
		switch string(o.PkScript) {
		case string(payee):
			paid += o.Value
		case string(changeScript):
			change += o.Value
		default:
			t.Fatalf("output %d pays an unknown script", i)
		}
		// The node holds both outputs as unspent.
		res, err := node.Client.GetTxOut(&txid, uint32(i), false)
		require.NoError(t, err)
		require.NotNil(t, res)
	}
	require.EqualValues(t, amount, paid, "the payee gets exactly the amount")
	require.Equal(t, 15*btcutil.SatoshiPerBitcoin-amount-summary.Fee, change, "the rest, less the fee, returns to cold change 4")
	changeAddr, err := w.ChangeAddress(4)
	require.NoError(t, err)
	for _, o := range summary.Outputs {
		if o.Change {
			require.Equal(t, changeAddr, o.Address)
		}
	}

	// The spent cold coins are gone.
	res, err := node.Client.GetTxOut(&fundID, 0, true)
	require.NoError(t, err)
	require.Nil(t, res)
}

func p2wpkh(t *testing.T, seed keys.Seed, change, index uint32) []byte {
	t.Helper()
	s, err := keys.DeriveAddress(seed, keys.P2WPKH, keys.Regtest, 0, change, index)
	require.NoError(t, err)
	a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
	require.NoError(t, err)
	return a.ScriptPubKey
}

// signP2WPKH signs tx's single input, a spend of prevOut paid to the
// mining key m/84'/1'/0'/0/0, as package bitcoin's test does.
func signP2WPKH(t *testing.T, seed keys.Seed, tx *wire.MsgTx, prevOut *wire.TxOut) {
	t.Helper()
	s, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	defer s.Close()
	path := keys.P2WPKH.Path(keys.Regtest, 0, 0, 0)
	pub, err := s.PublicKey(path)
	require.NoError(t, err)
	fetcher := txscript.NewCannedPrevOutputFetcher(prevOut.PkScript, prevOut.Value)
	digest, err := txscript.CalcWitnessSigHash(prevOut.PkScript, txscript.NewTxSigHashes(tx, fetcher), txscript.SigHashAll, tx, 0, prevOut.Value)
	require.NoError(t, err)
	rsv, err := s.SignDigest(path, digest)
	require.NoError(t, err)
	var r, sc btcec.ModNScalar
	r.SetByteSlice(rsv[:32])
	sc.SetByteSlice(rsv[32:64])
	der := ecdsa.NewSignature(&r, &sc).Serialize()
	tx.TxIn[0].Witness = wire.TxWitness{append(der, byte(txscript.SigHashAll)), pub.SerializeCompressed()}
}
