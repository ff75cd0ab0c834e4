package bitcoin_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/mempool"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/keys"
)

// fakeUTXO is a confirmed P2WPKH output with a made-up outpoint and key,
// for tests that select and build but do not sign.
func fakeUTXO(i int, value int64) bitcoin.UTXO {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return bitcoin.UTXO{
		OutPoint:      wire.OutPoint{Hash: h, Index: uint32(i % 3)},
		Value:         value,
		PkScript:      fakeScript(0x00, 20, byte(i)),
		Path:          keys.P2WPKH.Path(keys.Regtest, 0, 0, uint32(i)),
		Confirmations: 1,
	}
}

// fakeScript is a witness program of the given version and length.
func fakeScript(version byte, length int, fill byte) []byte {
	op := byte(txscript.OP_0)
	if version > 0 {
		op = txscript.OP_1 + version - 1
	}
	return append([]byte{op, byte(length)}, bytes.Repeat([]byte{fill}, length)...)
}

// p2wpkhOut pays value to a made-up P2WPKH script.
func p2wpkhOut(value int64) *wire.TxOut {
	return wire.NewTxOut(value, fakeScript(0x00, 20, 0xee))
}

// maxVSize measures the virtual size of a transaction spending inputs
// P2WPKH outputs to outputs, with the longest signatures (72 bytes with
// the sighash byte) in every witness.
func maxVSize(inputs int, outputs []*wire.TxOut) int64 {
	tx := wire.NewMsgTx(2)
	for i := range inputs {
		in := wire.NewTxIn(&wire.OutPoint{Index: uint32(i)}, nil, wire.TxWitness{make([]byte, 72), make([]byte, 33)})
		tx.AddTxIn(in)
	}
	for _, o := range outputs {
		tx.AddTxOut(o)
	}
	return vsizeOf(tx)
}

// vsizeOf is a transaction's virtual size as nodes compute it.
func vsizeOf(tx *wire.MsgTx) int64 {
	return mempool.GetTxVirtualSize(btcutil.NewTx(tx))
}

func requireCode(t require.TestingT, code string, err error) {
	require.Error(t, err)
	require.Equal(t, code, chengdui.ErrorCode(err), "%v", err)
}

func TestDustLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []byte
		limit  int64
	}{
		{"p2wpkh", fakeScript(0, 20, 1), 294},
		{"p2wsh", fakeScript(0, 32, 1), 330},
		{"p2tr", fakeScript(1, 32, 1), 330},
		{"p2pkh", append(append([]byte{txscript.OP_DUP, txscript.OP_HASH160, 20}, make([]byte, 20)...), txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG), 546},
		{"p2sh", append(append([]byte{txscript.OP_HASH160, 20}, make([]byte, 20)...), txscript.OP_EQUAL), 540},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.limit, bitcoin.DustLimit(tc.script))
			// btcd's own rule at its default relay fee agrees.
			require.True(t, mempool.IsDust(wire.NewTxOut(tc.limit-1, tc.script), mempool.DefaultMinRelayTxFee))
			require.False(t, mempool.IsDust(wire.NewTxOut(tc.limit, tc.script), mempool.DefaultMinRelayTxFee))
		})
	}
}

// At 2 sat/vB, paying one P2WPKH output with n inputs costs 2 × (42 + 68n)
// without change and 2 × (73 + 68n) with a P2WPKH change output; the cost
// of change is 2 × 31 + 3 × 68 = 266.
func TestSelectCoins(t *testing.T) {
	const rate = 2
	const target = 100_000
	for _, tc := range []struct {
		name    string
		utxos   []int64
		tries   int
		algo    string
		inputs  []int64 // values spent, in any order
		fee     int64
		change  int64
		missing int64 // EExceedsCredits with this shortfall
	}{
		{
			name:  "exact match, no change",
			utxos: []int64{150_000, 60_000, 40_356, 10_000},
			algo:  "bnb", inputs: []int64{60_000, 40_356}, fee: 356,
		},
		{
			name:  "excess within the cost of change goes to the fee",
			utxos: []int64{100_000 + 2*110 + 200, 500_000},
			algo:  "bnb", inputs: []int64{100_420}, fee: 420,
		},
		{
			name:  "fallback with change",
			utxos: []int64{150_000, 70_000},
			algo:  "largest-first", inputs: []int64{150_000}, fee: 282, change: 49_718,
		},
		{
			name:  "search cut short falls back",
			utxos: []int64{150_000, 60_000, 40_356, 10_000},
			tries: 1,
			algo:  "largest-first", inputs: []int64{150_000}, fee: 282, change: 49_718,
		},
		{
			name:  "change one below dust goes to the fee",
			utxos: []int64{100_000 + 282 + 293},
			algo:  "largest-first", inputs: []int64{100_575}, fee: 575,
		},
		{
			name:  "change at the dust limit is kept",
			utxos: []int64{100_000 + 282 + 294},
			algo:  "largest-first", inputs: []int64{100_576}, fee: 282, change: 294,
		},
		{
			name:  "two inputs with change",
			utxos: []int64{80_000, 70_000, 136},
			algo:  "largest-first", inputs: []int64{80_000, 70_000}, fee: 418, change: 49_582,
		},
		{
			name:    "insufficient",
			utxos:   []int64{50_000, 40_000},
			missing: 100_000 + 2*(42+136) - 90_000,
		},
		{
			name:    "outputs worth less than their fee are not spent",
			utxos:   []int64{99_000, 136, 100},
			missing: 100_000 + 2*(42+68) - 99_000,
		},
		{
			name:    "nothing to spend",
			missing: 100_000 + 2*(42+68),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var utxos []bitcoin.UTXO
			for i, v := range tc.utxos {
				utxos = append(utxos, fakeUTXO(i, v))
			}
			outputs := []*wire.TxOut{p2wpkhOut(target)}
			sel, err := bitcoin.SelectCoins(utxos, outputs, rate, bitcoin.SelectOptions{MaxTries: tc.tries})
			if tc.missing != 0 {
				requireCode(t, chengdui.EExceedsCredits, err)
				require.Contains(t, chengdui.ErrorMessage(err), " "+strconv.FormatInt(tc.missing, 10)+" sat missing")
				return
			}
			require.NoError(t, err)
			t.Logf("%+v", sel)
			require.Equal(t, tc.algo, sel.Algorithm)
			var spent []int64
			for _, u := range sel.Inputs {
				spent = append(spent, u.Value)
			}
			require.ElementsMatch(t, tc.inputs, spent)
			require.Equal(t, tc.fee, sel.Fee)
			require.Equal(t, tc.change, sel.Change)
			checkSelection(t, utxos, outputs, rate, nil, sel)
		})
	}
}

func TestSelectCoinsRefusals(t *testing.T) {
	good := []bitcoin.UTXO{fakeUTXO(1, 1_000_000)}
	outs := []*wire.TxOut{p2wpkhOut(10_000)}
	twice := append(slices.Clone(good), good[0])
	notP2WPKH := fakeUTXO(2, 1_000_000)
	notP2WPKH.PkScript = fakeScript(1, 32, 2)
	noPath := fakeUTXO(3, 1_000_000)
	noPath.Path = nil
	for _, tc := range []struct {
		name    string
		utxos   []bitcoin.UTXO
		outputs []*wire.TxOut
		rate    int64
		msg     string
	}{
		{"zero fee rate", good, outs, 0, "fee rate 0 sat/vB"},
		{"absurd fee rate", good, outs, 1_000_000, "fee rate 1000000 sat/vB"},
		{"no outputs", good, nil, 2, "at least one output"},
		{"zero output", good, []*wire.TxOut{p2wpkhOut(0)}, 2, "positive amount"},
		{"listed twice", twice, outs, 2, "listed twice"},
		{"not p2wpkh", []bitcoin.UTXO{notP2WPKH}, outs, 2, "not P2WPKH"},
		{"zero utxo", []bitcoin.UTXO{fakeUTXO(4, 0)}, outs, 2, "impossible value"},
		{"no path", []bitcoin.UTXO{noPath}, outs, 2, "no derivation path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bitcoin.SelectCoins(tc.utxos, tc.outputs, tc.rate, bitcoin.SelectOptions{})
			requireCode(t, chengdui.EInvalid, err)
			require.Contains(t, chengdui.ErrorMessage(err), tc.msg)
		})
	}
}

// TestSelectCoinsMany selects among a thousand outputs: the search is
// bounded, and the result does not depend on their order.
func TestSelectCoinsMany(t *testing.T) {
	var utxos []bitcoin.UTXO
	for i := range 1000 {
		utxos = append(utxos, fakeUTXO(i, int64(1_000+(i*7919)%200_000)))
	}
	outputs := []*wire.TxOut{p2wpkhOut(1_234_567), p2wpkhOut(765_432)}
	sel, err := bitcoin.SelectCoins(utxos, outputs, 5, bitcoin.SelectOptions{})
	require.NoError(t, err)
	t.Logf("%s: %d inputs, fee %d, change %d, waste %d", sel.Algorithm, len(sel.Inputs), sel.Fee, sel.Change, sel.Waste)
	checkSelection(t, utxos, outputs, 5, nil, sel)

	slices.Reverse(utxos)
	again, err := bitcoin.SelectCoins(utxos, outputs, 5, bitcoin.SelectOptions{})
	require.NoError(t, err)
	require.Equal(t, sel, again)

	// Too many small outputs for one standard transaction.
	var dust []bitcoin.UTXO
	for i := range 1600 {
		dust = append(dust, fakeUTXO(i, 1_000))
	}
	_, err = bitcoin.SelectCoins(dust, []*wire.TxOut{p2wpkhOut(1_400_000)}, 1, bitcoin.SelectOptions{})
	requireCode(t, chengdui.EInvalid, err)
	require.Contains(t, chengdui.ErrorMessage(err), "consolidate")
}

// TestSelectCoinsProperties checks the invariants of any selection: the
// inputs pay outputs, fee and change exactly; the fee is at least the rate
// times the measured size, and exceeds it only by less than a change
// output would be worth; change is never dust; the order of the UTXOs
// does not matter; a refusal means even all of them would not do.
func TestSelectCoinsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Int64Range(1, 300).Draw(t, "rate")
		values := rapid.SliceOfN(rapid.Int64Range(1, 3_000_000), 0, 40).Draw(t, "utxos")
		amounts := rapid.SliceOfN(rapid.Int64Range(294, 2_000_000), 1, 6).Draw(t, "outputs")
		var changeScript []byte
		if rapid.Bool().Draw(t, "p2tr change") {
			changeScript = fakeScript(1, 32, 0xcc)
		}
		var utxos []bitcoin.UTXO
		for i, v := range values {
			utxos = append(utxos, fakeUTXO(i, v))
		}
		var outputs []*wire.TxOut
		for _, a := range amounts {
			outputs = append(outputs, p2wpkhOut(a))
		}
		opts := bitcoin.SelectOptions{ChangeScript: changeScript}
		sel, err := bitcoin.SelectCoins(utxos, outputs, rate, opts)
		if err != nil {
			requireCode(t, chengdui.EExceedsCredits, err)
			var worth []bitcoin.UTXO
			for _, u := range utxos {
				if u.Value > rate*68 {
					worth = append(worth, u)
				}
			}
			require.Less(t, utxoSum(worth), outputSum(outputs)+rate*maxVSize(max(len(worth), 1), outputs))
			return
		}
		checkSelection(t, utxos, outputs, rate, changeScript, sel)

		shuffled := rapid.Permutation(utxos).Draw(t, "shuffled")
		again, err := bitcoin.SelectCoins(shuffled, outputs, rate, opts)
		require.NoError(t, err)
		require.Equal(t, sel, again)
	})
}

// checkSelection checks sel against the invariants of SelectCoins.
func checkSelection(t require.TestingT, utxos []bitcoin.UTXO, outputs []*wire.TxOut, rate int64, changeScript []byte, sel bitcoin.Selection) {
	if changeScript == nil {
		changeScript = fakeScript(0, 20, 0xcc)
	}
	seen := map[wire.OutPoint]bool{}
	for _, in := range sel.Inputs {
		require.False(t, seen[in.OutPoint], "spent twice")
		seen[in.OutPoint] = true
		require.True(t, slices.ContainsFunc(utxos, func(u bitcoin.UTXO) bool { return u.OutPoint == in.OutPoint && u.Value == in.Value }))
		require.Greater(t, in.Value, rate*68, "an input worth less than its fee")
	}
	require.Equal(t, utxoSum(sel.Inputs), outputSum(outputs)+sel.Fee+sel.Change)

	all := slices.Clone(outputs)
	if sel.Change > 0 {
		all = append(all, wire.NewTxOut(sel.Change, changeScript))
	}
	require.Equal(t, maxVSize(len(sel.Inputs), all), sel.VSize, "VSize is exact for the longest signatures")
	require.GreaterOrEqual(t, sel.Fee, rate*sel.VSize)
	if sel.Change > 0 {
		require.GreaterOrEqual(t, sel.Change, bitcoin.DustLimit(changeScript))
		require.Equal(t, rate*sel.VSize, sel.Fee)
	} else {
		changeOut := int64(wire.NewTxOut(0, changeScript).SerializeSize())
		require.Less(t, sel.Fee-rate*sel.VSize, bitcoin.DustLimit(changeScript)+rate*changeOut, "too much went to the fee")
	}
}

func utxoSum(utxos []bitcoin.UTXO) int64 {
	var s int64
	for _, u := range utxos {
		s += u.Value
	}
	return s
}

func outputSum(outputs []*wire.TxOut) int64 {
	var s int64
	for _, o := range outputs {
		s += o.Value
	}
	return s
}
