package cold_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// payee is a P2WPKH output script, outside the wallet.
var payee = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, bytes.Repeat([]byte{0x42}, 20)...)

// coins are two of the wallet's coins that exist nowhere: signing and
// finalizing need no chain, and Finalize runs btcd's script engine.
func coins() []cold.Input {
	return []cold.Input{
		{OutPoint: wire.OutPoint{Hash: chainhash.Hash{1}, Index: 3}, Value: btcutil.SatoshiPerBitcoin, Change: cold.Receive, Index: 0},
		{OutPoint: wire.OutPoint{Hash: chainhash.Hash{2}, Index: 0}, Value: btcutil.SatoshiPerBitcoin / 2, Change: cold.Change, Index: 2},
	}
}

func encode(t *testing.T, p *psbt.Packet) []byte {
	t.Helper()
	b, err := cold.EncodePSBT(p)
	require.NoError(t, err)
	return b
}

func parse(t *testing.T, b []byte) *psbt.Packet {
	t.Helper()
	p, err := cold.ParsePSBT(b)
	require.NoError(t, err)
	return p
}

func TestCreatePSBT(t *testing.T) {
	w, xpubs := wallet(t, keys.Regtest)
	const rate = 5
	out := []*wire.TxOut{wire.NewTxOut(120_000_000, payee)}
	p, err := w.CreatePSBT(coins(), out, 7, rate)
	require.NoError(t, err)

	fps := map[uint32]bool{}
	for _, x := range xpubs {
		k, err := cold.ParseKey(x, keys.Regtest)
		require.NoError(t, err)
		fps[uint32(k.Fingerprint[0])|uint32(k.Fingerprint[1])<<8|uint32(k.Fingerprint[2])<<16|uint32(k.Fingerprint[3])<<24] = true
	}
	require.Len(t, p.Inputs, 2)
	for i, in := range p.Inputs {
		require.NotNil(t, in.WitnessUtxo, "input %d", i)
		require.NotEmpty(t, in.WitnessScript)
		require.Equal(t, txscript.SigHashAll, in.SighashType)
		require.Len(t, in.Bip32Derivation, 3)
		for _, d := range in.Bip32Derivation {
			require.True(t, fps[d.MasterKeyFingerprint], "the fingerprint of one of the three keys")
			require.Len(t, d.Bip32Path, 6)
			require.Equal(t, keys.Path{48 + keys.Hardened, 1 + keys.Hardened, keys.Hardened, 2 + keys.Hardened}, keys.Path(d.Bip32Path[:4]))
		}
		op := p.UnsignedTx.TxIn[i].PreviousOutPoint
		for _, c := range coins() {
			if c.OutPoint == op {
				_, pk, err := w.Script(c.Change, c.Index)
				require.NoError(t, err)
				require.Equal(t, pk, in.WitnessUtxo.PkScript)
				require.Equal(t, c.Value, in.WitnessUtxo.Value)
				require.Equal(t, keys.Path{c.Change, c.Index}, keys.Path(in.Bip32Derivation[0].Bip32Path[4:]))
			}
		}
		require.Equal(t, wire.MaxTxInSequenceNum-2, p.UnsignedTx.TxIn[i].Sequence, "replaceable")
	}
	require.Equal(t, chainhash.Hash{1}, p.UnsignedTx.TxIn[0].PreviousOutPoint.Hash, "BIP69 order")

	s, err := cold.Describe(p, keys.Regtest)
	require.NoError(t, err)
	require.EqualValues(t, 150_000_000, s.In)
	wantFee := rate * cold.EstimateVSize(2, p.UnsignedTx.TxOut)
	require.Equal(t, wantFee, s.Fee)
	require.Equal(t, s.In-120_000_000-wantFee, s.Out-120_000_000, "the rest is change")
	require.Len(t, s.Outputs, 2)
	change, err := w.ChangeAddress(7)
	require.NoError(t, err)
	var sawChange bool
	for _, o := range s.Outputs {
		if o.Change {
			sawChange = true
			require.Equal(t, change, o.Address)
		} else {
			require.EqualValues(t, 120_000_000, o.Value)
			require.True(t, strings.HasPrefix(o.Address, "bcrt1q"))
		}
	}
	require.True(t, sawChange)
	require.False(t, s.Complete())
	require.Equal(t, 0, s.Inputs[0].Signatures)

	_, err = cold.Describe(p, keys.Mainnet)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	require.Contains(t, chengdui.ErrorMessage(err), "--network")

	t.Run("dust change goes to the fee", func(t *testing.T) {
		in := coins()[:1]
		fee := rate * cold.EstimateVSize(1, out[:1])
		pay := in[0].Value - fee - 300 // 300 sat left: below P2WSH's 330 dust
		p, err := w.CreatePSBT(in, []*wire.TxOut{wire.NewTxOut(pay, payee)}, 0, rate)
		require.NoError(t, err)
		require.Len(t, p.UnsignedTx.TxOut, 1)
		s, err := cold.Describe(p, keys.Regtest)
		require.NoError(t, err)
		require.Equal(t, fee+300, s.Fee)
	})
}

func TestCreatePSBTRefusals(t *testing.T) {
	w, _ := wallet(t, keys.Regtest)
	good := []*wire.TxOut{wire.NewTxOut(1000, payee)}
	dup := append(coins(), coins()[0])
	for name, c := range map[string]struct {
		inputs  []cold.Input
		outputs []*wire.TxOut
		change  uint32
		rate    int64
		code    string
		want    string
	}{
		"no inputs":        {nil, good, 0, 5, chengdui.EInvalid, "no inputs"},
		"no outputs":       {coins(), nil, 0, 5, chengdui.EInvalid, "no outputs"},
		"fee rate zero":    {coins(), good, 0, 0, chengdui.EInvalid, "fee rate 0"},
		"fee rate typo":    {coins(), good, 0, 5000, chengdui.EInvalid, "fee rate 5000"},
		"duplicate input":  {dup, good, 0, 5, chengdui.EInvalid, "spent twice"},
		"zero value":       {[]cold.Input{{Value: 0}}, good, 0, 5, chengdui.EInvalid, "out of range"},
		"bad input index":  {[]cold.Input{{Value: 1000, Index: keys.Hardened}}, good, 0, 5, chengdui.EInvalid, "below 2^31"},
		"bad branch":       {[]cold.Input{{Value: 1000, Change: 2}}, good, 0, 5, chengdui.EInvalid, "branch 2"},
		"bad change index": {coins(), good, keys.Hardened, 5, chengdui.EInvalid, "change"},
		"below dust":       {coins(), []*wire.TxOut{wire.NewTxOut(293, payee)}, 0, 5, chengdui.EInvalid, "below the dust limit of 294"},
		"bare script":      {coins(), []*wire.TxOut{wire.NewTxOut(1000, []byte{txscript.OP_TRUE})}, 0, 5, chengdui.EInvalid, "bare script"},
		"op_return":        {coins(), []*wire.TxOut{wire.NewTxOut(0, []byte{txscript.OP_RETURN})}, 0, 5, chengdui.EInvalid, "bare script"},
		"insufficient":     {coins(), []*wire.TxOut{wire.NewTxOut(150_000_000, payee)}, 0, 5, chengdui.EExceedsCredits, "need 0.00001"},
		"far too much":     {coins(), []*wire.TxOut{wire.NewTxOut(btcutil.MaxSatoshi+1, payee)}, 0, 5, chengdui.EInvalid, "out of range"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.CreatePSBT(c.inputs, c.outputs, c.change, c.rate)
			require.Error(t, err)
			require.Equal(t, c.code, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), c.want)
		})
	}
}

// TestSignFinalize runs the whole offline flow: sign with key A, refuse a
// wrong key and a second signature by A, refuse to finalize with one
// signature, sign a copy with key C, combine, finalize.
func TestSignFinalize(t *testing.T) {
	w, _ := wallet(t, keys.Regtest)
	p, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(120_000_000, payee)}, 0, 3)
	require.NoError(t, err)
	unsigned := encode(t, p)
	a, b, c, wrong := signer(t, 0), signer(t, 1), signer(t, 2), signer(t, 3)

	n, err := cold.Sign(p, a)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	signedA := encode(t, p)

	t.Run("wrong key", func(t *testing.T) {
		_, err := cold.Sign(p, wrong)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "wrong key")
		require.Equal(t, signedA, encode(t, p), "nothing changed")
	})
	t.Run("never twice", func(t *testing.T) {
		_, err := cold.Sign(p, a)
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "already signed")
		require.Equal(t, signedA, encode(t, p), "nothing changed")
	})
	t.Run("one signature is not enough", func(t *testing.T) {
		_, err := cold.Finalize(p)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "1 valid signature(s) of the 2 needed")
		s, err := cold.Describe(p, keys.Regtest)
		require.NoError(t, err)
		require.Equal(t, 1, s.Inputs[0].Signatures)
		require.False(t, s.Complete())
	})

	copyC := parse(t, unsigned)
	n, err = cold.Sign(copyC, c)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	t.Run("a forged signature is dropped", func(t *testing.T) {
		forged := parse(t, encode(t, copyC))
		sig := forged.Inputs[0].PartialSigs[0].Signature
		sig[10] ^= 1
		both, err := cold.Combine(parse(t, signedA), forged)
		require.NoError(t, err)
		_, err = cold.Finalize(both)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "input 0 has 1 valid")
	})
	t.Run("other transaction", func(t *testing.T) {
		other, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(110_000_000, payee)}, 0, 3)
		require.NoError(t, err)
		_, err = cold.Combine(p, other)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		require.Contains(t, chengdui.ErrorMessage(err), "not a copy")
		_, err = cold.Combine()
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	})

	both, err := cold.Combine(p, copyC)
	require.NoError(t, err)
	require.Equal(t, signedA, encode(t, p), "Combine leaves its arguments alone")
	s, err := cold.Describe(both, keys.Regtest)
	require.NoError(t, err)
	require.True(t, s.Complete())
	final := encode(t, both)
	tx, err := cold.Finalize(both)
	require.NoError(t, err)
	require.Equal(t, final, encode(t, both), "Finalize leaves the PSBT alone")
	require.Equal(t, s.TxID, tx.TxHash())
	for _, in := range tx.TxIn {
		require.Len(t, in.Witness, 4, "empty item, two signatures, witness script")
	}
	vsize := (blockchain.GetTransactionWeight(btcutil.NewTx(tx)) + 3) / 4
	t.Logf("2 inputs, 2 outputs: estimated %d vB, signed %d vB", s.VSize, vsize)
	require.LessOrEqual(t, vsize, s.VSize, "the estimate is an upper bound")
	require.LessOrEqual(t, s.VSize-vsize, int64(2), "and a tight one")

	t.Run("a third signature is allowed and ignored", func(t *testing.T) {
		n, err := cold.Sign(both, b)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		tx3, err := cold.Finalize(both)
		require.NoError(t, err)
		require.Equal(t, tx.TxHash(), tx3.TxHash())
	})
}

func TestSignRefusals(t *testing.T) {
	w, _ := wallet(t, keys.Regtest)
	fresh := func(t *testing.T) *psbt.Packet {
		p, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(1000, payee)}, 0, 3)
		require.NoError(t, err)
		return p
	}
	for name, c := range map[string]struct {
		edit func(p *psbt.Packet)
		code string
		want string
	}{
		"no witness utxo":     {func(p *psbt.Packet) { p.Inputs[1].WitnessUtxo = nil }, chengdui.EInvalid, "no witness UTXO"},
		"sighash none":        {func(p *psbt.Packet) { p.Inputs[0].SighashType = txscript.SigHashNone }, chengdui.EInvalid, "SIGHASH_ALL only"},
		"script mismatch":     {func(p *psbt.Packet) { p.Inputs[0].WitnessScript = p.Inputs[1].WitnessScript }, chengdui.EInvalid, "does not match"},
		"not multisig":        {func(p *psbt.Packet) { p.Inputs[0].WitnessScript = []byte{txscript.OP_TRUE} }, chengdui.EInvalid, "2-of-3"},
		"nested":              {func(p *psbt.Packet) { p.Inputs[0].RedeemScript = []byte{txscript.OP_TRUE} }, chengdui.EInvalid, "nested"},
		"finalized":           {func(p *psbt.Packet) { p.Inputs[0].FinalScriptWitness = []byte{0} }, chengdui.EConflict, "already finalized"},
		"no derivation":       {func(p *psbt.Packet) { p.Inputs[0].Bip32Derivation, p.Inputs[1].Bip32Derivation = nil, nil }, chengdui.EInvalid, "wrong key"},
		"bad amount":          {func(p *psbt.Packet) { p.Inputs[0].WitnessUtxo.Value = -1 }, chengdui.EInvalid, "out of range"},
		"mismatched prev tx":  {func(p *psbt.Packet) { p.Inputs[0].NonWitnessUtxo = wire.NewMsgTx(2) }, chengdui.EInvalid, "previous transaction"},
		"missing input maps":  {func(p *psbt.Packet) { p.Inputs = p.Inputs[:1] }, chengdui.EInvalid, "do not match"},
		"duplicate input":     {func(p *psbt.Packet) { p.UnsignedTx.TxIn[1].PreviousOutPoint = p.UnsignedTx.TxIn[0].PreviousOutPoint }, chengdui.EInvalid, "spent twice"},
		"unsorted multisig":   {func(p *psbt.Packet) { swapKeys(p.Inputs[0].WitnessScript) }, chengdui.EInvalid, "2-of-3 sorted"},
		"other wallet's path": {func(p *psbt.Packet) { p.Inputs[0].Bip32Derivation[0].Bip32Path[2]++ }, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := fresh(t)
			c.edit(p)
			_, err := cold.Sign(p, signer(t, 0))
			if c.code == "" {
				require.NoError(t, err, "the other input and keys still sign")
				return
			}
			require.Equal(t, c.code, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), c.want)
			_, err = cold.Finalize(p)
			require.Error(t, err)
		})
	}
}

func swapKeys(ws []byte) {
	a := bytes.Clone(ws[2:35])
	copy(ws[2:35], ws[36:69])
	copy(ws[36:69], a)
}

func TestParsePSBT(t *testing.T) {
	w, _ := wallet(t, keys.Regtest)
	p, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(1000, payee)}, 0, 3)
	require.NoError(t, err)
	b64 := encode(t, p)
	var raw bytes.Buffer
	require.NoError(t, p.Serialize(&raw))

	// Base64, wrapped base64 and binary all read.
	wrapped := bytes.Join(chunks(bytes.TrimSpace(b64), 64), []byte("\r\n"))
	for _, in := range [][]byte{b64, wrapped, raw.Bytes()} {
		q, err := cold.ParsePSBT(in)
		require.NoError(t, err)
		require.Equal(t, b64, encode(t, q))
	}

	for name, c := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":       {nil, "empty"},
		"blank":       {[]byte(" \n"), "empty"},
		"not base64":  {[]byte("this is not a PSBT!"), "neither base64 nor binary"},
		"not a psbt":  {[]byte(base64.StdEncoding.EncodeToString([]byte("hello world"))), "not a valid PSBT"},
		"truncated":   {[]byte(base64.StdEncoding.EncodeToString(raw.Bytes()[:raw.Len()/2])), "not a valid PSBT"},
		"trailing":    {append(bytes.Clone(raw.Bytes()), 0), "follow its end"},
		"bad magic":   {append([]byte("psbu\xff"), raw.Bytes()[5:]...), "neither base64"},
		"too large":   {make([]byte, cold.MaxPSBTSize+1), "the most this reads"},
		"only magic":  {[]byte("psbt\xff"), "not a valid PSBT"},
		"a signed tx": {[]byte("AgAAAAABAQ=="), "not a valid PSBT"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cold.ParsePSBT(c.in)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), c.want)
		})
	}
}

func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// TestOneSeedOneSignature builds a wallet where one seed holds two of the
// three keys, hiding it behind a false fingerprint that NewWallet cannot
// see through: Sign still adds one signature per input, so the seed alone
// can never spend.
func TestOneSeedOneSignature(t *testing.T) {
	a0 := accountKey(t, 0, keys.Regtest, 0).String()
	a1 := "[deadbeef" + strings.TrimPrefix(accountKey(t, 0, keys.Regtest, 1).String(), "[73c5da0a")
	c := accountKey(t, 2, keys.Regtest, 0).String()
	w, err := cold.NewWallet(keys.Regtest, [3]string{a0, a1, c})
	require.NoError(t, err)
	p, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(1000, payee)}, 0, 3)
	require.NoError(t, err)
	n, err := cold.Sign(p, signer(t, 0))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, in := range p.Inputs {
		require.Len(t, in.PartialSigs, 1)
	}
	_, err = cold.Sign(p, signer(t, 0))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = cold.Finalize(p)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
}
