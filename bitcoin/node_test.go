package bitcoin_test

import (
	"bytes"
	"context"
	"net"
	"slices"
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
	"chengdui/keys"
)

// segwitHeight is where btcd's regtest activates segwit (BIP9: three
// 144-block windows); P2WPKH outputs are spendable from the next block.
const segwitHeight = 432

func dial(t *testing.T, ctx context.Context, node *btcdtest.Node) *bitcoin.Node {
	t.Helper()
	n, err := bitcoin.Dial(ctx, bitcoin.Config{
		Host: node.Host, User: node.User, Pass: node.Pass,
		Network: keys.Regtest, DisableTLS: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

// TestNode runs the adapter against one btcd through a chain's life: mining,
// reading blocks, a signed spend, its confirmation and a double spend.
func TestNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	node := btcdtest.Start(t)
	n := dial(t, ctx, node)

	seed := btcdtest.Seed(t)
	mining, err := keys.ParseBitcoinAddress(node.MiningAddress, keys.Regtest)
	require.NoError(t, err)
	require.Equal(t, "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", mining.String, "BIP84 m/84'/1'/0'/0/0 of the test mnemonic")

	t.Run("mine", func(t *testing.T) {
		hashes := node.Mine(t, 101)
		best, height, err := n.BestBlock(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 101, height)
		require.Equal(t, *hashes[100], best)

		at, err := n.BlockHashAt(ctx, 101)
		require.NoError(t, err)
		require.Equal(t, best, at)

		block, err := n.Block(ctx, best)
		require.NoError(t, err)
		require.True(t, blockchain.IsCoinBaseTx(block.Transactions[0]))
		require.True(t, paysTo(block.Transactions[0], mining.ScriptPubKey), "the coinbase pays the mining address")
	})

	t.Run("not found", func(t *testing.T) {
		_, err := n.BlockHashAt(ctx, 1_000_000)
		require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
		_, err = n.Block(ctx, [32]byte{1})
		require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
		_, _, err = n.Transaction(ctx, [32]byte{1})
		require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	})

	t.Run("fee rate", func(t *testing.T) {
		rate, err := n.EstimateFeeRate(ctx, 6)
		require.NoError(t, err)
		t.Logf("fee rate: %d sat/vB", rate)
		require.GreaterOrEqual(t, rate, int64(bitcoin.DefaultMinFeeRate))
		require.LessOrEqual(t, rate, int64(bitcoin.DefaultMaxFeeRate))
		_, err = n.EstimateFeeRate(ctx, 0)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	})

	node.Mine(t, segwitHeight+1-101)

	// Spend the coinbase of block 1, paying m/84'/1'/0'/0/1 with change to
	// m/84'/1'/0'/1/0, signed by the keys package's hot signer.
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	h1, err := n.BlockHashAt(ctx, 1)
	require.NoError(t, err)
	block1, err := n.Block(ctx, h1)
	require.NoError(t, err)
	coinbase := block1.Transactions[0]
	prev := wire.OutPoint{Hash: coinbase.TxHash(), Index: 0}
	prevOut := coinbase.TxOut[0]
	require.Equal(t, mining.ScriptPubKey, prevOut.PkScript)

	payee := address(t, seed, 0, 1)
	change := address(t, seed, 1, 0)
	rate, err := n.EstimateFeeRate(ctx, 6)
	require.NoError(t, err)
	const vsize = 141 // one P2WPKH input, two P2WPKH outputs
	fee := rate * vsize
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&prev, nil, nil))
	tx.AddTxOut(wire.NewTxOut(btcutil.SatoshiPerBitcoin, payee.ScriptPubKey))
	tx.AddTxOut(wire.NewTxOut(prevOut.Value-btcutil.SatoshiPerBitcoin-fee, change.ScriptPubKey))
	sign(t, signer, tx, prevOut)
	require.LessOrEqual(t, (blockchain.GetTransactionWeight(btcutil.NewTx(tx))+3)/4, int64(vsize))

	t.Run("broadcast", func(t *testing.T) {
		txid, err := n.Broadcast(ctx, tx)
		require.NoError(t, err)
		require.Equal(t, tx.TxHash(), txid)

		again, err := n.Broadcast(ctx, tx)
		require.NoError(t, err, "broadcasting twice is idempotent")
		require.Equal(t, txid, again)

		pool, err := n.RawMempool(ctx)
		require.NoError(t, err)
		require.Contains(t, pool, txid)
		got, confs, err := n.Transaction(ctx, txid)
		require.NoError(t, err)
		require.Zero(t, confs)
		require.Equal(t, txid, got.TxHash())

		node.Mine(t, 1)
		got, confs, err = n.Transaction(ctx, txid)
		require.NoError(t, err)
		require.EqualValues(t, 1, confs)
		require.Equal(t, tx.WitnessHash(), got.WitnessHash(), "the witness survives the round trip")
		pool, err = n.RawMempool(ctx)
		require.NoError(t, err)
		require.NotContains(t, pool, txid)

		_, err = n.Broadcast(ctx, tx)
		require.NoError(t, err, "a confirmed transaction counts as sent")
	})

	t.Run("double spend", func(t *testing.T) {
		other := wire.NewMsgTx(2)
		other.AddTxIn(wire.NewTxIn(&prev, nil, nil))
		other.AddTxOut(wire.NewTxOut(prevOut.Value-2*fee, payee.ScriptPubKey))
		sign(t, signer, other, prevOut)
		_, err := n.Broadcast(ctx, other)
		t.Log(err)
		var e *chengdui.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, chengdui.EConflict, e.Code, "%v", err)
		require.Contains(t, e.Message, other.TxHash().String())
		require.Contains(t, e.Message, "already spent or unknown")
	})

	t.Run("bad signature", func(t *testing.T) {
		bad := wire.NewMsgTx(2)
		bad.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: tx.TxHash(), Index: 1}, nil, nil))
		bad.AddTxOut(wire.NewTxOut(tx.TxOut[1].Value-fee, payee.ScriptPubKey))
		sign(t, signer, bad, prevOut) // signs for the wrong amount and key
		_, err := n.Broadcast(ctx, bad)
		t.Log(err)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	})

	t.Run("cancelled", func(t *testing.T) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := n.BestBlock(done)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestDialRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	t.Run("closed port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		host := l.Addr().String()
		l.Close()
		_, err = bitcoin.Dial(ctx, bitcoin.Config{Host: host, Network: keys.Regtest, DisableTLS: true})
		t.Log(err)
		var e *chengdui.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, chengdui.EUnavailable, e.Code)
		require.Contains(t, e.Message, host)
		require.Contains(t, e.Message, "is it running")
	})

	t.Run("bad config", func(t *testing.T) {
		_, err := bitcoin.Dial(ctx, bitcoin.Config{Network: keys.Regtest})
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
		_, err = bitcoin.Dial(ctx, bitcoin.Config{Host: "127.0.0.1:1"})
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	})

	node := btcdtest.Start(t)
	t.Run("wrong password", func(t *testing.T) {
		_, err := bitcoin.Dial(ctx, bitcoin.Config{Host: node.Host, User: node.User, Pass: "wrong", Network: keys.Regtest, DisableTLS: true})
		t.Log(err)
		require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "user and password")
	})

	t.Run("wrong network", func(t *testing.T) {
		_, err := bitcoin.Dial(ctx, bitcoin.Config{Host: node.Host, User: node.User, Pass: node.Pass, Network: keys.Mainnet, DisableTLS: true})
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "is on regtest, not mainnet")
	})
}

func paysTo(tx *wire.MsgTx, script []byte) bool {
	return slices.ContainsFunc(tx.TxOut, func(o *wire.TxOut) bool { return bytes.Equal(o.PkScript, script) })
}

func address(t *testing.T, seed keys.Seed, change, index uint32) keys.BitcoinAddress {
	t.Helper()
	s, err := keys.DeriveAddress(seed, keys.P2WPKH, keys.Regtest, 0, change, index)
	require.NoError(t, err)
	a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
	require.NoError(t, err)
	return a
}

// sign signs every input of tx as a spend of prevOut, a P2WPKH output of the
// mining key m/84'/1'/0'/0/0, with SIGHASH_ALL. The keys signer returns
// R || S || V; Bitcoin wants DER.
func sign(t *testing.T, signer *keys.SeedSigner, tx *wire.MsgTx, prevOut *wire.TxOut) {
	t.Helper()
	path := keys.P2WPKH.Path(keys.Regtest, 0, 0, 0)
	pub, err := signer.PublicKey(path)
	require.NoError(t, err)
	fetcher := txscript.NewCannedPrevOutputFetcher(prevOut.PkScript, prevOut.Value)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i := range tx.TxIn {
		digest, err := txscript.CalcWitnessSigHash(prevOut.PkScript, hashes, txscript.SigHashAll, tx, i, prevOut.Value)
		require.NoError(t, err)
		rsv, err := signer.SignDigest(path, digest)
		require.NoError(t, err)
		var r, s btcec.ModNScalar
		r.SetByteSlice(rsv[:32])
		s.SetByteSlice(rsv[32:64])
		der := ecdsa.NewSignature(&r, &s).Serialize()
		tx.TxIn[i].Witness = wire.TxWitness{append(der, byte(txscript.SigHashAll)), pub.SerializeCompressed()}
	}
}
