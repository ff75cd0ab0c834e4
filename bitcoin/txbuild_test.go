package bitcoin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/keys"
)

// payees has a regtest address of every kind a payout can go to.
type payees struct {
	p2wpkh, p2tr, p2wsh, p2pkh, p2sh string
	mainnet                          string // a P2WPKH address of another network
}

func newPayees(t *testing.T, seed keys.Seed) payees {
	t.Helper()
	params := &chaincfg.RegressionNetParams
	var p payees
	var err error
	p.p2wpkh, err = keys.DeriveAddress(seed, keys.P2WPKH, keys.Regtest, 0, 0, 10)
	require.NoError(t, err)
	p.p2tr, err = keys.DeriveAddress(seed, keys.P2TR, keys.Regtest, 0, 0, 0)
	require.NoError(t, err)
	p.mainnet, err = keys.DeriveAddress(seed, keys.P2WPKH, keys.Mainnet, 0, 0, 0)
	require.NoError(t, err)
	witnessScript := sha256.Sum256([]byte{txscript.OP_TRUE})
	wsh, err := btcutil.NewAddressWitnessScriptHash(witnessScript[:], params)
	require.NoError(t, err)
	p.p2wsh = wsh.EncodeAddress()
	pkh, err := btcutil.NewAddressPubKeyHash(bytes.Repeat([]byte{7}, 20), params)
	require.NoError(t, err)
	p.p2pkh = pkh.EncodeAddress()
	sh, err := btcutil.NewAddressScriptHashFromHash(bytes.Repeat([]byte{8}, 20), params)
	require.NoError(t, err)
	p.p2sh = sh.EncodeAddress()
	return p
}

// seedAddress is the regtest P2WPKH address m/84'/1'/0'/change/index of
// seed.
func seedAddress(t *testing.T, seed keys.Seed, change, index uint32) keys.BitcoinAddress {
	t.Helper()
	s, err := keys.DeriveAddress(seed, keys.P2WPKH, keys.Regtest, 0, change, index)
	require.NoError(t, err)
	a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
	require.NoError(t, err)
	return a
}

// seedUTXO is a made-up confirmed output paying m/84'/1'/0'/0/index of
// seed, which a signer on seed can spend.
func seedUTXO(t *testing.T, seed keys.Seed, index uint32, value int64) bitcoin.UTXO {
	t.Helper()
	u := fakeUTXO(int(index)+1000, value)
	u.PkScript = seedAddress(t, seed, 0, index).ScriptPubKey
	u.Path = keys.P2WPKH.Path(keys.Regtest, 0, 0, index)
	return u
}

func newSigner(t *testing.T, seed keys.Seed) *keys.SeedSigner {
	t.Helper()
	s, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// verifySigned runs every input of a signed transaction through btcd's
// script engine, apart from Sign's own check.
func verifySigned(t *testing.T, tx *wire.MsgTx, inputs []bitcoin.UTXO) {
	t.Helper()
	prevOuts := txscript.NewMultiPrevOutFetcher(nil)
	for _, in := range inputs {
		prevOuts.AddPrevOut(in.OutPoint, wire.NewTxOut(in.Value, in.PkScript))
	}
	hashes := txscript.NewTxSigHashes(tx, prevOuts)
	for i, in := range inputs {
		vm, err := txscript.NewEngine(in.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, in.Value, prevOuts)
		require.NoError(t, err)
		require.NoError(t, vm.Execute(), "input %d", i)
	}
}

func TestBuildTx(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	change := seedAddress(t, seed, 1, 0).ScriptPubKey
	utxos := []bitcoin.UTXO{
		seedUTXO(t, seed, 1, 500_000),
		seedUTXO(t, seed, 2, 300_000),
		seedUTXO(t, seed, 3, 2_000),
	}
	payments := []bitcoin.Payment{
		{Address: to.p2wpkh, Amount: 200_000, ID: "p1"},
		{Address: to.p2tr, Amount: 150_000, ID: "p2"},
		{Address: to.p2wsh, Amount: 100_000, ID: "p3"},
		{Address: to.p2pkh, Amount: 50_000, ID: "p4"},
		{Address: to.p2sh, Amount: 30_000, ID: "p5"},
	}
	const rate = 3
	u, err := bitcoin.BuildTx(bitcoin.TxRequest{
		Network: keys.Regtest, UTXOs: utxos, Payments: payments,
		FeeRate: rate, ChangeScript: change, LockTime: 800,
	})
	require.NoError(t, err)

	require.EqualValues(t, 2, u.Tx.Version)
	require.EqualValues(t, 800, u.Tx.LockTime)
	require.Len(t, u.Inputs, 2, "the two large outputs")
	for i, in := range u.Tx.TxIn {
		require.EqualValues(t, 0xfffffffd, in.Sequence, "input %d signals RBF", i)
		require.Equal(t, u.Inputs[i].OutPoint, in.PreviousOutPoint)
		require.Empty(t, in.Witness)
	}
	require.Len(t, u.Tx.TxOut, len(payments)+1)
	for i, p := range payments {
		idx, ok := u.Output(p.ID)
		require.True(t, ok)
		require.Equal(t, i, idx)
		a, err := keys.ParseBitcoinAddress(p.Address, keys.Regtest)
		require.NoError(t, err)
		require.Equal(t, p.Amount, u.Tx.TxOut[idx].Value)
		require.Equal(t, a.ScriptPubKey, u.Tx.TxOut[idx].PkScript)
	}
	_, ok := u.Output("nope")
	require.False(t, ok)
	require.Equal(t, len(payments), u.ChangeIndex)
	require.Equal(t, change, u.Tx.TxOut[u.ChangeIndex].PkScript)
	require.Equal(t, utxoSum(u.Inputs)-outputSum(u.Tx.TxOut), u.Fee)
	require.Equal(t, 800_000-530_000-u.Fee, u.Change())
	require.Equal(t, maxVSize(2, u.Tx.TxOut), u.VSize, "the size is exact for the longest signatures")
	require.Equal(t, rate*u.VSize, u.Fee)
	t.Logf("2 inputs, 5 payments and change: %d vB, fee %d sat", u.VSize, u.Fee)

	signed, err := bitcoin.Sign(u, newSigner(t, seed))
	require.NoError(t, err)
	verifySigned(t, signed, u.Inputs)
	require.Equal(t, u.Tx.TxHash(), signed.TxHash(), "signing changes only the witnesses")
	require.Empty(t, u.Tx.TxIn[0].Witness, "Sign leaves the unsigned transaction alone")
	got := vsizeOf(signed)
	t.Logf("signed: %d vB", got)
	require.LessOrEqual(t, got, u.VSize)
	require.GreaterOrEqual(t, got, u.VSize-1)

	t.Run("dust change goes to the fee", func(t *testing.T) {
		// One input, one P2WPKH payment, no change: 110 vB.
		in := seedUTXO(t, seed, 4, 100_000)
		u, err := bitcoin.BuildTx(bitcoin.TxRequest{
			Network: keys.Regtest, UTXOs: []bitcoin.UTXO{in}, FeeRate: 2, ChangeScript: change,
			Payments: []bitcoin.Payment{{Address: to.p2wpkh, Amount: 100_000 - 2*141 - 293, ID: "x"}},
		})
		require.NoError(t, err)
		require.Equal(t, -1, u.ChangeIndex)
		require.Zero(t, u.Change())
		require.Len(t, u.Tx.TxOut, 1)
		require.EqualValues(t, 2*141+293, u.Fee)
		require.EqualValues(t, 110, u.VSize)
		require.Zero(t, u.Tx.LockTime)
	})

	t.Run("insufficient", func(t *testing.T) {
		_, err := bitcoin.BuildTx(bitcoin.TxRequest{
			Network: keys.Regtest, UTXOs: utxos, FeeRate: 1, ChangeScript: change,
			Payments: []bitcoin.Payment{{Address: to.p2wpkh, Amount: 900_000, ID: "x"}},
		})
		requireCode(t, chengdui.EExceedsCredits, err)
		// 3 inputs, one P2WPKH output: 246 vB.
		require.Contains(t, chengdui.ErrorMessage(err), " 98246 sat missing")
	})
}

func TestBuildTxRefusals(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	change := seedAddress(t, seed, 1, 0).ScriptPubKey
	utxos := []bitcoin.UTXO{seedUTXO(t, seed, 1, 500_000)}
	pay := func(addr string, amount int64, id string) []bitcoin.Payment {
		return []bitcoin.Payment{{Address: addr, Amount: amount, ID: id}}
	}
	ok := pay(to.p2wpkh, 10_000, "a")
	for _, tc := range []struct {
		name     string
		req      bitcoin.TxRequest
		contains string
	}{
		{"no payments", bitcoin.TxRequest{}, "at least one payment"},
		{"zero amount", bitcoin.TxRequest{Payments: pay(to.p2wpkh, 0, "a")}, "payment a: the amount must be positive"},
		{"negative amount", bitcoin.TxRequest{Payments: pay(to.p2wpkh, -5, "a")}, "must be positive"},
		{"too large", bitcoin.TxRequest{Payments: pay(to.p2wpkh, 21_000_000*1e8+1, "a")}, "more than 21 million"},
		{"dust p2wpkh", bitcoin.TxRequest{Payments: pay(to.p2wpkh, 293, "a")}, "293 sat is below the dust limit of 294 sat for a p2wpkh address"},
		{"dust p2tr", bitcoin.TxRequest{Payments: pay(to.p2tr, 329, "a")}, "dust limit of 330 sat for a p2tr"},
		{"dust p2wsh", bitcoin.TxRequest{Payments: pay(to.p2wsh, 329, "a")}, "dust limit of 330 sat for a p2wsh"},
		{"dust p2pkh", bitcoin.TxRequest{Payments: pay(to.p2pkh, 545, "a")}, "dust limit of 546 sat for a p2pkh"},
		{"dust p2sh", bitcoin.TxRequest{Payments: pay(to.p2sh, 539, "a")}, "dust limit of 540 sat for a p2sh"},
		{"bad address", bitcoin.TxRequest{Payments: pay("bcrt1qnotanaddress", 10_000, "a")}, "payment a: "},
		{"wrong network", bitcoin.TxRequest{Payments: pay(to.mainnet, 10_000, "a")}, "mainnet address, but this server is on regtest"},
		{"no id", bitcoin.TxRequest{Payments: pay(to.p2wpkh, 10_000, "")}, "payment 1 has no id"},
		{"duplicate id", bitcoin.TxRequest{Payments: append(slices.Clone(ok), ok[0])}, `payment id "a" appears twice`},
		{"no change script", bitcoin.TxRequest{Payments: ok, ChangeScript: []byte{}}, "no change script"},
		{"bad change script", bitcoin.TxRequest{Payments: ok, ChangeScript: []byte{txscript.OP_RETURN}}, "change script is not"},
		{"zero fee rate", bitcoin.TxRequest{Payments: ok, FeeRate: -1}, "fee rate -1 sat/vB"},
		{"time locktime", bitcoin.TxRequest{Payments: ok, LockTime: 500_000_000}, "is a time, not a block height"},
		{"unknown network", bitcoin.TxRequest{Payments: ok, Network: 99}, "unknown Bitcoin network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req.Network == 0 {
				req.Network = keys.Regtest
			}
			if req.FeeRate == 0 {
				req.FeeRate = 2
			}
			if req.ChangeScript == nil {
				req.ChangeScript = change
			}
			req.UTXOs = utxos
			_, err := bitcoin.BuildTx(req)
			requireCode(t, chengdui.EInvalid, err)
			require.Contains(t, chengdui.ErrorMessage(err), tc.contains)
		})
	}
}

// badSigner answers with whatever signature it holds.
type badSigner struct{ sig []byte }

func (b badSigner) SignDigest(keys.Path, []byte) ([]byte, error) { return b.sig, nil }

func TestSignRefusals(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	signer := newSigner(t, seed)
	build := func(t *testing.T, inputs ...bitcoin.UTXO) *bitcoin.Unsigned {
		t.Helper()
		u, err := bitcoin.BuildTx(bitcoin.TxRequest{
			Network: keys.Regtest, UTXOs: inputs, FeeRate: 2,
			ChangeScript: seedAddress(t, seed, 1, 0).ScriptPubKey,
			Payments:     []bitcoin.Payment{{Address: to.p2tr, Amount: 1_000_000, ID: "a"}},
		})
		require.NoError(t, err)
		return u
	}

	t.Run("wrong path", func(t *testing.T) {
		in := seedUTXO(t, seed, 1, 2_000_000)
		in.Path = keys.P2WPKH.Path(keys.Regtest, 0, 0, 2)
		_, err := bitcoin.Sign(build(t, in), signer)
		requireCode(t, chengdui.EInvalid, err)
		require.Contains(t, chengdui.ErrorMessage(err), "the key at m/84'/1'/0'/0/2 does not own input 0")
	})

	t.Run("another seed", func(t *testing.T) {
		other, err := keys.NewSeed(bytes.Repeat([]byte{0x42}, 32))
		require.NoError(t, err)
		u := build(t, seedUTXO(t, seed, 1, 600_000), seedUTXO(t, seed, 2, 600_000))
		_, err = bitcoin.Sign(u, newSigner(t, other))
		requireCode(t, chengdui.EInvalid, err)
		require.Contains(t, chengdui.ErrorMessage(err), "does not own input 0")
	})

	t.Run("closed signer", func(t *testing.T) {
		closed := newSigner(t, seed)
		closed.Close()
		_, err := bitcoin.Sign(build(t, seedUTXO(t, seed, 1, 2_000_000)), closed)
		requireCode(t, chengdui.EUnavailable, err)
	})

	t.Run("malformed signatures", func(t *testing.T) {
		u := build(t, seedUTXO(t, seed, 1, 2_000_000))
		for _, sig := range [][]byte{nil, make([]byte, 64), make([]byte, 65), append(bytes.Repeat([]byte{1}, 64), 2)} {
			_, err := bitcoin.Sign(u, badSigner{sig})
			requireCode(t, chengdui.EInternal, err)
		}
	})

	t.Run("inconsistent", func(t *testing.T) {
		_, err := bitcoin.Sign(nil, signer)
		requireCode(t, chengdui.EInvalid, err)

		u := build(t, seedUTXO(t, seed, 1, 2_000_000))
		u.Inputs = nil
		_, err = bitcoin.Sign(u, signer)
		requireCode(t, chengdui.EInvalid, err)

		u = build(t, seedUTXO(t, seed, 1, 2_000_000))
		u.Inputs[0].OutPoint.Index++
		_, err = bitcoin.Sign(u, signer)
		requireCode(t, chengdui.EInvalid, err)

		u = build(t, seedUTXO(t, seed, 1, 2_000_000))
		u.Inputs[0].PkScript = fakeScript(1, 32, 1)
		_, err = bitcoin.Sign(u, signer)
		requireCode(t, chengdui.EInvalid, err)
		require.Contains(t, chengdui.ErrorMessage(err), "not P2WPKH")
	})

	t.Run("wrong amount", func(t *testing.T) {
		// The sighash commits to the amount: a UTXO with the wrong value
		// signs, but does not verify, and Sign says so.
		u := build(t, seedUTXO(t, seed, 1, 2_000_000))
		u.Inputs[0].Value++
		signed, err := bitcoin.Sign(u, signer)
		require.NoError(t, err, "Sign can only check against the amount it is told")
		honest := slices.Clone(u.Inputs)
		honest[0].Value--
		prevOuts := txscript.NewCannedPrevOutputFetcher(honest[0].PkScript, honest[0].Value)
		vm, err := txscript.NewEngine(honest[0].PkScript, signed, 0, txscript.StandardVerifyFlags, nil,
			txscript.NewTxSigHashes(signed, prevOuts), honest[0].Value, prevOuts)
		require.NoError(t, err)
		require.Error(t, vm.Execute())
	})
}

func TestBumpFee(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	signer := newSigner(t, seed)
	change := seedAddress(t, seed, 1, 0).ScriptPubKey
	build := func(t *testing.T, rate, amount int64, inputs ...bitcoin.UTXO) (*bitcoin.Unsigned, *wire.MsgTx) {
		t.Helper()
		u, err := bitcoin.BuildTx(bitcoin.TxRequest{
			Network: keys.Regtest, UTXOs: inputs, FeeRate: rate, ChangeScript: change, LockTime: 700,
			Payments: []bitcoin.Payment{{Address: to.p2wpkh, Amount: amount, ID: "pay"}},
		})
		require.NoError(t, err)
		signed, err := bitcoin.Sign(u, signer)
		require.NoError(t, err)
		return u, signed
	}
	// checkBump checks the BIP125 rules a node applies to bump against
	// orig as signed.
	checkBump := func(t *testing.T, orig *bitcoin.Unsigned, sent *wire.MsgTx, bump *bitcoin.Unsigned, rate int64) {
		t.Helper()
		require.Equal(t, orig.Tx.TxOut[0], bump.Tx.TxOut[0], "the same payment")
		require.Equal(t, orig.Payments, bump.Payments)
		require.Equal(t, orig.Inputs, bump.Inputs[:len(orig.Inputs)], "the same inputs first")
		require.Equal(t, orig.Tx.LockTime, bump.Tx.LockTime)
		for _, in := range bump.Tx.TxIn {
			require.EqualValues(t, 0xfffffffd, in.Sequence)
		}
		require.Equal(t, rate, bump.FeeRate)
		require.GreaterOrEqual(t, bump.Fee, rate*bump.VSize)
		require.GreaterOrEqual(t, bump.Fee, orig.Fee+bump.VSize, "rule 4: pays for its own relay")
		require.Greater(t, bump.Fee*1000/bump.VSize, orig.Fee*1000/vsizeOf(sent), "rule 6: a higher fee rate")
		require.Equal(t, utxoSum(bump.Inputs)-outputSum(bump.Tx.TxOut), bump.Fee)
		signed, err := bitcoin.Sign(bump, signer)
		require.NoError(t, err)
		verifySigned(t, signed, bump.Inputs)
	}

	t.Run("from the change", func(t *testing.T) {
		orig, sent := build(t, 2, 300_000, seedUTXO(t, seed, 1, 1_000_000))
		require.Equal(t, 1, orig.ChangeIndex)
		bump, err := bitcoin.BumpFee(orig, sent, 5, nil)
		require.NoError(t, err)
		checkBump(t, orig, sent, bump, 5)
		require.Len(t, bump.Inputs, 1)
		require.Equal(t, 1, bump.ChangeIndex)
		require.Equal(t, orig.VSize, bump.VSize)
		require.Equal(t, 5*bump.VSize, bump.Fee)
		require.Equal(t, orig.Change()-(bump.Fee-orig.Fee), bump.Change())
	})

	t.Run("change dropped", func(t *testing.T) {
		// The change of 400 sat cannot pay 4 sat/vB with a change output.
		orig, sent := build(t, 2, 300_000, seedUTXO(t, seed, 1, 300_000+282+400))
		require.EqualValues(t, 400, orig.Change())
		bump, err := bitcoin.BumpFee(orig, sent, 4, nil)
		require.NoError(t, err)
		checkBump(t, orig, sent, bump, 4)
		require.Equal(t, -1, bump.ChangeIndex)
		require.Len(t, bump.Tx.TxOut, 1)
		require.EqualValues(t, 682, bump.Fee)
	})

	t.Run("input added", func(t *testing.T) {
		orig, sent := build(t, 2, 300_000, seedUTXO(t, seed, 1, 300_000+320))
		require.Equal(t, -1, orig.ChangeIndex)
		unconfirmed := seedUTXO(t, seed, 2, 5_000_000)
		unconfirmed.Confirmations = 0

		_, err := bitcoin.BumpFee(orig, sent, 10, []bitcoin.UTXO{unconfirmed, orig.Inputs[0]})
		requireCode(t, chengdui.EExceedsCredits, err)
		require.Contains(t, chengdui.ErrorMessage(err), "0 confirmed extra outputs given")
		require.Contains(t, chengdui.ErrorMessage(err), " 780 sat missing") // 10 × 110 − 320

		small, large := seedUTXO(t, seed, 3, 50_000), seedUTXO(t, seed, 4, 80_000)
		bump, err := bitcoin.BumpFee(orig, sent, 10, []bitcoin.UTXO{unconfirmed, small, large})
		require.NoError(t, err)
		checkBump(t, orig, sent, bump, 10)
		require.Equal(t, []bitcoin.UTXO{orig.Inputs[0], large}, bump.Inputs, "the largest confirmed extra output")
		require.Equal(t, 1, bump.ChangeIndex)
		require.EqualValues(t, 10*209, bump.Fee)
	})

	t.Run("refusals", func(t *testing.T) {
		orig, sent := build(t, 5, 300_000, seedUTXO(t, seed, 1, 1_000_000))
		for _, rate := range []int64{5, 4, 0} {
			_, err := bitcoin.BumpFee(orig, sent, rate, nil)
			requireCode(t, chengdui.EInvalid, err)
			require.Contains(t, chengdui.ErrorMessage(err), "higher fee rate than the original's 5 sat/vB")
		}
		_, err := bitcoin.BumpFee(orig, nil, 10, nil)
		requireCode(t, chengdui.EInvalid, err)
		other, otherSent := build(t, 5, 200_000, seedUTXO(t, seed, 1, 1_000_000))
		_, err = bitcoin.BumpFee(orig, otherSent, 10, nil)
		requireCode(t, chengdui.EInvalid, err)
		require.Contains(t, chengdui.ErrorMessage(err), "is not "+orig.Tx.TxHash().String())
		_, err = bitcoin.BumpFee(nil, sent, 10, nil)
		requireCode(t, chengdui.EInvalid, err)
		other.Fee++
		_, err = bitcoin.BumpFee(other, otherSent, 10, nil)
		requireCode(t, chengdui.EInvalid, err)
		_, err = bitcoin.BumpFee(orig, sent, 10, []bitcoin.UTXO{fakeUTXO(1, 0)})
		requireCode(t, chengdui.EInvalid, err)
	})
}

// TestBumpFeeProperties bumps random batches: a replacement keeps the
// payments and the original inputs and meets BIP125's fee rules, or is
// refused for want of funds.
func TestBumpFeeProperties(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	change := seedAddress(t, seed, 1, 0).ScriptPubKey
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Int64Range(1, 100).Draw(t, "rate")
		values := rapid.SliceOfN(rapid.Int64Range(10_000, 1_000_000), 1, 8).Draw(t, "utxos")
		extras := rapid.SliceOfN(rapid.Int64Range(1, 1_000_000), 0, 5).Draw(t, "extras")
		amounts := rapid.SliceOfN(rapid.Int64Range(546, 300_000), 1, 4).Draw(t, "payments")
		var utxos, extra []bitcoin.UTXO
		for i, v := range values {
			utxos = append(utxos, fakeUTXO(i, v))
		}
		for i, v := range extras {
			extra = append(extra, fakeUTXO(100+i, v))
		}
		addrs := []string{to.p2wpkh, to.p2tr, to.p2wsh, to.p2pkh, to.p2sh}
		var payments []bitcoin.Payment
		for i, a := range amounts {
			payments = append(payments, bitcoin.Payment{Address: addrs[i%len(addrs)], Amount: a, ID: string(rune('a' + i))})
		}
		orig, err := bitcoin.BuildTx(bitcoin.TxRequest{Network: keys.Regtest, UTXOs: utxos, Payments: payments, FeeRate: rate, ChangeScript: change})
		if err != nil {
			requireCode(t, chengdui.EExceedsCredits, err)
			return
		}
		newRate := rate + rapid.Int64Range(1, 200).Draw(t, "increase")
		bump, err := bitcoin.BumpFee(orig, orig.Tx, newRate, extra)
		if err != nil {
			// Refused only when even every extra output worth spending
			// cannot pay the least fee BIP125 allows without change.
			requireCode(t, chengdui.EExceedsCredits, err)
			var usable []bitcoin.UTXO
			for _, u := range extra {
				if u.Value > newRate*68 {
					usable = append(usable, u)
				}
			}
			paid := orig.Tx.TxOut[:len(payments)]
			v := maxVSize(len(orig.Inputs)+len(usable), paid)
			perKvB := orig.Fee * 1000 / vsizeOf(orig.Tx)
			least := max(newRate*v, orig.Fee+v, ((perKvB+1)*v+999)/1000)
			require.Less(t, utxoSum(orig.Inputs)+utxoSum(usable), outputSum(paid)+least)
			return
		}
		require.Equal(t, orig.Tx.TxOut[:len(payments)], bump.Tx.TxOut[:len(payments)])
		require.Equal(t, orig.Inputs, bump.Inputs[:len(orig.Inputs)])
		require.Equal(t, utxoSum(bump.Inputs)-outputSum(bump.Tx.TxOut), bump.Fee)
		all := slices.Clone(bump.Tx.TxOut)
		require.Equal(t, maxVSize(len(bump.Inputs), all), bump.VSize)
		require.GreaterOrEqual(t, bump.Fee, newRate*bump.VSize)
		require.GreaterOrEqual(t, bump.Fee, orig.Fee+bump.VSize)
		require.Greater(t, bump.Fee*1000/bump.VSize, orig.Fee*1000/vsizeOf(orig.Tx))
		if bump.ChangeIndex >= 0 {
			require.GreaterOrEqual(t, bump.Change(), bitcoin.DustLimit(change))
		}
	})
}

// TestHotWalletOnRegtest pays batches from keys of the test seed on a real
// btcd: funding outputs, a batch to three kinds of address with change,
// two fee bumps the node accepts as replacements, and a wrong key that
// never reaches it.
func TestHotWalletOnRegtest(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	node := btcdtest.Start(t)
	n := dial(t, ctx, node)
	node.Mine(t, segwitHeight+1)

	seed := btcdtest.Seed(t)
	signer := newSigner(t, seed)
	to := newPayees(t, seed)
	rate, err := n.EstimateFeeRate(ctx, 6)
	require.NoError(t, err)

	coinbase := func(height int32) bitcoin.UTXO {
		t.Helper()
		h, err := n.BlockHashAt(ctx, height)
		require.NoError(t, err)
		b, err := n.Block(ctx, h)
		require.NoError(t, err)
		cb := b.Transactions[0]
		return bitcoin.UTXO{
			OutPoint: wire.OutPoint{Hash: cb.TxHash(), Index: 0},
			Value:    cb.TxOut[0].Value, PkScript: cb.TxOut[0].PkScript,
			Path:          keys.P2WPKH.Path(keys.Regtest, 0, 0, 0),
			Confirmations: int64(segwitHeight + 2 - height),
		}
	}
	tip := func() uint32 {
		t.Helper()
		_, height, err := n.BestBlock(ctx)
		require.NoError(t, err)
		return uint32(height)
	}
	send := func(req bitcoin.TxRequest) (*bitcoin.Unsigned, *wire.MsgTx) {
		t.Helper()
		req.Network, req.LockTime = keys.Regtest, tip()
		if req.FeeRate == 0 {
			req.FeeRate = rate
		}
		u, err := bitcoin.BuildTx(req)
		require.NoError(t, err)
		signed, err := bitcoin.Sign(u, signer)
		require.NoError(t, err)
		txid, err := n.Broadcast(ctx, signed)
		require.NoError(t, err)
		require.Equal(t, signed.TxHash(), txid)
		return u, signed
	}
	// output is the UTXO that payment id of u created, paying
	// m/84'/1'/0'/0/index.
	output := func(u *bitcoin.Unsigned, id string, index uint32, confirmations int64) bitcoin.UTXO {
		t.Helper()
		i, ok := u.Output(id)
		require.True(t, ok)
		o := u.Tx.TxOut[i]
		require.Equal(t, seedAddress(t, seed, 0, index).ScriptPubKey, o.PkScript)
		return bitcoin.UTXO{
			OutPoint: wire.OutPoint{Hash: u.Tx.TxHash(), Index: uint32(i)},
			Value:    o.Value, PkScript: o.PkScript,
			Path: keys.P2WPKH.Path(keys.Regtest, 0, 0, index), Confirmations: confirmations,
		}
	}
	inMempool := func(txid chainhash.Hash) bool {
		t.Helper()
		pool, err := n.RawMempool(ctx)
		require.NoError(t, err)
		return slices.Contains(pool, txid)
	}

	// Fund four outputs from the coinbase of block 1.
	funding, _ := send(bitcoin.TxRequest{
		UTXOs: []bitcoin.UTXO{coinbase(1)},
		Payments: []bitcoin.Payment{
			{Address: seedAddress(t, seed, 0, 1).String, Amount: 50_000_000, ID: "f1"},
			{Address: seedAddress(t, seed, 0, 2).String, Amount: 50_000_000, ID: "f2"},
			{Address: seedAddress(t, seed, 0, 3).String, Amount: 20_000_000, ID: "f3"},
			{Address: seedAddress(t, seed, 0, 4).String, Amount: 100_000, ID: "f4"},
		},
		ChangeScript: seedAddress(t, seed, 1, 0).ScriptPubKey,
	})
	node.Mine(t, 1)
	_, confs, err := n.Transaction(ctx, funding.Tx.TxHash())
	require.NoError(t, err)
	require.EqualValues(t, 1, confs)

	t.Run("batch", func(t *testing.T) {
		u, signed := send(bitcoin.TxRequest{
			UTXOs: []bitcoin.UTXO{output(funding, "f1", 1, 1), output(funding, "f2", 2, 1)},
			Payments: []bitcoin.Payment{
				{Address: to.p2wpkh, Amount: 30_000_000, ID: "wpkh"},
				{Address: to.p2tr, Amount: 25_000_000, ID: "tr"},
				{Address: to.p2wsh, Amount: 20_000_000, ID: "wsh"},
			},
			ChangeScript: seedAddress(t, seed, 1, 1).ScriptPubKey,
		})
		require.Len(t, u.Inputs, 2)
		require.Equal(t, 3, u.ChangeIndex)
		require.True(t, inMempool(signed.TxHash()))
		node.Mine(t, 1)

		got, confs, err := n.Transaction(ctx, signed.TxHash())
		require.NoError(t, err)
		require.EqualValues(t, 1, confs)
		require.Equal(t, signed.WitnessHash(), got.WitnessHash())
		for _, p := range []struct {
			id     string
			addr   string
			amount int64
		}{{"wpkh", to.p2wpkh, 30_000_000}, {"tr", to.p2tr, 25_000_000}, {"wsh", to.p2wsh, 20_000_000}} {
			i, ok := u.Output(p.id)
			require.True(t, ok)
			a, err := keys.ParseBitcoinAddress(p.addr, keys.Regtest)
			require.NoError(t, err)
			require.Equal(t, p.amount, got.TxOut[i].Value, p.id)
			require.Equal(t, a.ScriptPubKey, got.TxOut[i].PkScript, p.id)
		}
		var in int64
		for _, txIn := range got.TxIn {
			prev, _, err := n.Transaction(ctx, txIn.PreviousOutPoint.Hash)
			require.NoError(t, err)
			in += prev.TxOut[txIn.PreviousOutPoint.Index].Value
		}
		fee := in - outputSum(got.TxOut)
		require.Equal(t, u.Fee, fee)
		require.Equal(t, 100_000_000-75_000_000-fee, got.TxOut[3].Value, "the change")
		vsize := vsizeOf(got)
		t.Logf("2 inputs, 3 payments (P2WPKH, P2TR, P2WSH) and change: %d vB signed (%d estimated), fee %d sat at %d sat/vB", vsize, u.VSize, fee, rate)
		require.LessOrEqual(t, vsize, u.VSize)
		require.GreaterOrEqual(t, fee, rate*vsize)
	})

	t.Run("bump from the change", func(t *testing.T) {
		orig, sent := send(bitcoin.TxRequest{
			UTXOs:        []bitcoin.UTXO{output(funding, "f3", 3, 2)},
			Payments:     []bitcoin.Payment{{Address: seedAddress(t, seed, 0, 20).String, Amount: 10_000_000, ID: "r1"}},
			ChangeScript: seedAddress(t, seed, 1, 2).ScriptPubKey,
		})
		require.True(t, inMempool(sent.TxHash()))
		bump, err := bitcoin.BumpFee(orig, sent, rate*5, nil)
		require.NoError(t, err)
		signed, err := bitcoin.Sign(bump, signer)
		require.NoError(t, err)
		txid, err := n.Broadcast(ctx, signed)
		require.NoError(t, err, "btcd accepts the replacement")
		require.True(t, inMempool(txid))
		require.False(t, inMempool(sent.TxHash()), "the original left the mempool")
		node.Mine(t, 1)
		_, confs, err := n.Transaction(ctx, txid)
		require.NoError(t, err)
		require.EqualValues(t, 1, confs)
		_, _, err = n.Transaction(ctx, sent.TxHash())
		requireCode(t, chengdui.ENotFound, err)
		t.Logf("bump: fee %d → %d sat, change %d → %d sat", orig.Fee, bump.Fee, orig.Change(), bump.Change())
	})

	t.Run("bump with an added input", func(t *testing.T) {
		f4 := output(funding, "f4", 4, 3)
		orig, sent := send(bitcoin.TxRequest{
			UTXOs:        []bitcoin.UTXO{f4},
			Payments:     []bitcoin.Payment{{Address: to.p2tr, Amount: f4.Value - rate*122 - 100, ID: "all"}},
			ChangeScript: seedAddress(t, seed, 1, 3).ScriptPubKey,
		})
		require.Equal(t, -1, orig.ChangeIndex, "no change to take the fee from")
		bump, err := bitcoin.BumpFee(orig, sent, 20, []bitcoin.UTXO{coinbase(2)})
		require.NoError(t, err)
		require.Len(t, bump.Inputs, 2)
		require.Equal(t, 1, bump.ChangeIndex)
		signed, err := bitcoin.Sign(bump, signer)
		require.NoError(t, err)
		txid, err := n.Broadcast(ctx, signed)
		require.NoError(t, err, "btcd accepts the replacement")
		require.True(t, inMempool(txid))
		require.False(t, inMempool(sent.TxHash()))
		node.Mine(t, 1)
		_, confs, err := n.Transaction(ctx, txid)
		require.NoError(t, err)
		require.EqualValues(t, 1, confs)
	})

	t.Run("wrong key never reaches the node", func(t *testing.T) {
		in := coinbase(3)
		in.Path = keys.P2WPKH.Path(keys.Regtest, 0, 0, 1)
		u, err := bitcoin.BuildTx(bitcoin.TxRequest{
			Network: keys.Regtest, UTXOs: []bitcoin.UTXO{in}, FeeRate: rate,
			Payments:     []bitcoin.Payment{{Address: to.p2wpkh, Amount: 1_000_000, ID: "x"}},
			ChangeScript: seedAddress(t, seed, 1, 4).ScriptPubKey,
		})
		require.NoError(t, err)
		signed, err := bitcoin.Sign(u, signer)
		requireCode(t, chengdui.EInvalid, err)
		require.Nil(t, signed)
		pool, err := n.RawMempool(ctx)
		require.NoError(t, err)
		require.Empty(t, pool)
	})
}
