package bitcoin

import (
	"bytes"
	"math"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Fee and size policy, in satoshis, sat/vB and weight units.
const (
	// MinRelayFeeRate is the lowest fee rate nodes relay by default, and
	// what BIP125 makes a replacement pay for its own size on top of the
	// fee of the transaction it replaces.
	MinRelayFeeRate = 1

	// DiscardFeeRate prices spending a change output later when deciding
	// whether change is worth making, as Bitcoin Core's -discardfee.
	DiscardFeeRate = 3

	// DefaultLongTermFeeRate is the rate at which the wallet expects to
	// spend its outputs eventually, Bitcoin Core's -consolidatefeerate.
	// Below it, spending more inputs now is cheaper than later.
	DefaultLongTermFeeRate = 10

	// DefaultBnBTries bounds the branch-and-bound search, as Bitcoin
	// Core's TOTAL_TRIES.
	DefaultBnBTries = 100_000

	// MaxStandardTxWeight is the largest transaction nodes relay.
	MaxStandardTxWeight = 400_000

	// maxFeeRate refuses rates that are surely a unit mistake, and keeps
	// rate × size far from overflowing.
	maxFeeRate = 100_000
)

// Sizes of the parts of a transaction that spends P2WPKH outputs.
const (
	// inputVSize is a P2WPKH input: outpoint, empty script and sequence
	// (41 bytes, 164 weight units) and a witness of 108 weight units (item
	// count, a 72-byte DER signature with its sighash byte and a 33-byte
	// key, each with its length). Signatures are often a byte shorter, so
	// the signed transaction can be smaller, never larger.
	inputVSize   = 68
	inputWeight  = 4 * inputVSize
	inputBase    = 41
	inputWitness = inputWeight - 4*inputBase

	// txOverhead is version and locktime (8 bytes, 32 weight units) plus
	// the segwit marker and flag (2 weight units), so 9 vB once rounded
	// up; the input and output counts are added apart.
	txOverhead = 9
)

// UTXO is an unspent P2WPKH output of the hot wallet.
type UTXO struct {
	OutPoint      wire.OutPoint
	Value         int64     // satoshis
	PkScript      []byte    // a P2WPKH script: the only kind this package spends
	Path          keys.Path // the key that spends it
	Confirmations int64     // 0 while in the mempool
}

// SelectOptions tunes SelectCoins; the zero value is Bitcoin Core's policy.
type SelectOptions struct {
	// ChangeScript is the script change would pay. It sets the change
	// output's size and dust limit; nil means a P2WPKH script.
	ChangeScript []byte

	// LongTermFeeRate, in sat/vB, weighs spending an input now against
	// spending it later; zero means DefaultLongTermFeeRate.
	LongTermFeeRate int64

	// MaxTries bounds the branch-and-bound search; zero means
	// DefaultBnBTries.
	MaxTries int
}

// Selection is the outputs SelectCoins chose and what they pay.
type Selection struct {
	Inputs    []UTXO
	Change    int64  // satoshis back to the change script; 0 for no change output
	Fee       int64  // satoshis: inputs − outputs − change
	VSize     int64  // virtual size with the longest signatures, change output included
	Waste     int64  // Bitcoin Core's waste metric, in satoshis; lower is better
	Algorithm string // "bnb" or "largest-first"
}

// SelectCoins chooses which utxos pay outputs at feeRate sat/vB.
//
// It runs two algorithms and keeps the selection with the least waste,
// preferring branch and bound on a tie, as Bitcoin Core does:
//
//   - Branch and bound ("bnb"), Bitcoin Core's depth-first search for a set
//     of inputs whose effective values (value less the fee to spend it)
//     cover the outputs and the fee exactly, or with an excess below the
//     cost of change (making a change output at feeRate and spending it
//     later at DiscardFeeRate). The excess goes to the fee and there is no
//     change output. The search stops after MaxTries steps.
//   - Largest first ("largest-first"), the fallback: the fewest inputs,
//     largest effective value first, and a change output for the rest.
//
// Either way, change below the change script's dust limit is not made:
// it goes to the fee, so a selection without change pays at most the dust
// limit plus the change output's fee more than feeRate requires. Outputs
// worth less than the fee to spend them are never selected. Waste is the
// inputs' fees at feeRate less the same at LongTermFeeRate, plus the cost
// of change or the excess. The result depends only on the arguments, not
// on the order of utxos.
//
// Errors: EInvalid for a fee rate below MinRelayFeeRate, no or bad
// outputs, a UTXO that is not P2WPKH, non-positive or listed twice, or a
// payout so large it needs more inputs than a standard transaction holds;
// EExceedsCredits when the utxos cannot pay the outputs and the fee, with
// how much is missing.
func SelectCoins(utxos []UTXO, outputs []*wire.TxOut, feeRate int64, opts SelectOptions) (Selection, error) {
	if err := checkFeeRate(feeRate); err != nil {
		return Selection{}, err
	}
	if len(outputs) == 0 {
		return Selection{}, chengdui.Errorf(chengdui.EInvalid, "coin selection needs at least one output to pay")
	}
	if err := checkUTXOs(utxos); err != nil {
		return Selection{}, err
	}
	s := selector{
		rate:     feeRate,
		longTerm: opts.LongTermFeeRate,
		nOut:     len(outputs),
		change:   opts.ChangeScript,
	}
	if s.longTerm <= 0 {
		s.longTerm = DefaultLongTermFeeRate
	}
	if s.change == nil {
		s.change = p2wpkhTemplate
	}
	s.changeSize = outputSize(s.change)
	s.changeDust = DustLimit(s.change)
	for i, o := range outputs {
		if o == nil || o.Value <= 0 || o.Value > btcutil.MaxSatoshi {
			return Selection{}, chengdui.Errorf(chengdui.EInvalid, "output %d must pay a positive amount of at most 21 million BTC", i)
		}
		s.target += o.Value
		s.outSize += outputSize(o.PkScript)
	}
	if s.target > btcutil.MaxSatoshi {
		return Selection{}, chengdui.Errorf(chengdui.EInvalid, "the outputs add up to more than 21 million BTC")
	}
	tries := opts.MaxTries
	if tries <= 0 {
		tries = DefaultBnBTries
	}

	pool := s.pool(utxos)
	lf, err := s.largestFirst(pool)
	if err != nil {
		return Selection{}, err
	}
	best := lf
	if set := s.bnb(pool, tries); set != nil {
		if sel, ok := s.finish(set, "bnb"); ok && sel.Waste <= best.Waste {
			best = sel
		}
	}
	return best, nil
}

// selector holds one SelectCoins call's figures.
type selector struct {
	rate, longTerm int64
	target         int64 // sum of the outputs
	outSize        int64 // their serialized size
	nOut           int
	change         []byte
	changeSize     int64
	changeDust     int64
}

// candidate is a UTXO and its effective value at the selector's rate.
type candidate struct {
	UTXO
	eff int64
}

// pool returns the utxos worth spending, largest effective value first,
// ties in outpoint order so that the input order does not matter.
func (s *selector) pool(utxos []UTXO) []candidate {
	var pool []candidate
	for _, u := range utxos {
		if eff := u.Value - s.rate*inputVSize; eff > 0 {
			pool = append(pool, candidate{u, eff})
		}
	}
	slices.SortFunc(pool, func(a, b candidate) int {
		if a.eff != b.eff {
			if a.eff > b.eff {
				return -1
			}
			return 1
		}
		return compareOutPoints(a.OutPoint, b.OutPoint)
	})
	return pool
}

func compareOutPoints(a, b wire.OutPoint) int {
	if c := bytes.Compare(a.Hash[:], b.Hash[:]); c != 0 {
		return c
	}
	switch {
	case a.Index < b.Index:
		return -1
	case a.Index > b.Index:
		return 1
	}
	return 0
}

// costOfChange is what a change output costs: its own fee now and the fee
// to spend it later.
func (s *selector) costOfChange() int64 {
	return s.rate*s.changeSize + DiscardFeeRate*inputVSize
}

// finish prices spending set: with a change output when the change
// reaches its dust limit, otherwise with the excess as fee. ok is false
// when set does not pay for the outputs or is too heavy.
func (s *selector) finish(set []candidate, algorithm string) (Selection, bool) {
	var sum int64
	inputs := make([]UTXO, len(set))
	for i, c := range set {
		sum += c.Value
		inputs[i] = c.UTXO
	}
	n := len(set)
	plain := txVSize(n, s.nOut, s.outSize)
	excess := sum - s.target - s.rate*plain
	if excess < 0 || txWeight(n, s.nOut, s.outSize) > MaxStandardTxWeight {
		return Selection{}, false
	}
	sel := Selection{Inputs: inputs, Algorithm: algorithm, Waste: int64(n) * (s.rate - s.longTerm) * inputVSize}
	withChange := txVSize(n, s.nOut+1, s.outSize+s.changeSize)
	change := sum - s.target - s.rate*withChange
	if change >= s.changeDust && txWeight(n, s.nOut+1, s.outSize+s.changeSize) <= MaxStandardTxWeight {
		sel.Change = change
		sel.Fee = s.rate * withChange
		sel.VSize = withChange
		sel.Waste += s.costOfChange()
	} else {
		sel.Fee = sum - s.target
		sel.VSize = plain
		sel.Waste += excess
	}
	return sel, true
}

// largestFirst spends the largest outputs until they pay for the outputs.
func (s *selector) largestFirst(pool []candidate) (Selection, error) {
	var sum int64
	for n := 1; n <= len(pool); n++ {
		sum += pool[n-1].Value
		if txWeight(n, s.nOut, s.outSize) > MaxStandardTxWeight {
			if s.fundable(pool) {
				return Selection{}, chengdui.Errorf(chengdui.EInvalid,
					"paying %d sat needs more than %d inputs, more than a standard transaction holds: consolidate the hot wallet's outputs or pay in smaller batches", s.target, n-1)
			}
			break
		}
		if sum < s.target+s.rate*txVSize(n, s.nOut, s.outSize) {
			continue
		}
		if sel, ok := s.finish(pool[:n], "largest-first"); ok {
			return sel, nil
		}
	}
	all := total(pool)
	missing := s.target + s.rate*txVSize(max(len(pool), 1), s.nOut, s.outSize) - all
	return Selection{}, chengdui.Errorf(chengdui.EExceedsCredits,
		"the hot wallet's spendable outputs (%d sat in %d outputs worth spending at %d sat/vB) cannot pay %d sat and the fee: %d sat missing; fund the hot wallet or pay fewer payouts",
		all, len(pool), s.rate, s.target, missing)
}

// fundable reports whether spending all of pool, however heavy, would
// pay for the outputs.
func (s *selector) fundable(pool []candidate) bool {
	return total(pool)-s.target-s.rate*txVSize(len(pool), s.nOut, s.outSize) >= 0
}

func total(pool []candidate) int64 {
	var sum int64
	for _, c := range pool {
		sum += c.Value
	}
	return sum
}

// bnb is Bitcoin Core's branch and bound (SelectCoinsBnB): a depth-first
// search, inclusion branch first, over pool sorted by descending
// effective value, for the set whose effective value lies within
// [target, target + cost of change] with the least waste. It returns nil
// when it finds none within tries steps.
func (s *selector) bnb(pool []candidate, tries int) []candidate {
	// The search assumes a one-byte input count; finish checks the exact
	// fee.
	target := s.target + s.rate*(txOverhead+1+varIntSize(s.nOut)+s.outSize)
	window := s.costOfChange()
	inputWaste := (s.rate - s.longTerm) * inputVSize
	feeRateHigh := inputWaste > 0
	maxInputs := int((MaxStandardTxWeight - txWeight(0, s.nOut, s.outSize)) / inputWeight)

	var avail int64
	for _, c := range pool {
		avail += c.eff
	}
	if avail < target {
		return nil
	}
	var (
		sel        []int // indexes into pool, ascending
		best       []int
		value      int64
		waste      int64
		bestWaste  int64 = math.MaxInt64
		i          int
		tryCounter int
	)
	for ; tryCounter < tries; tryCounter, i = tryCounter+1, i+1 {
		backtrack := false
		switch {
		case value+avail < target, // cannot reach the target any more
			value > target+window,            // overshot
			feeRateHigh && waste > bestWaste, // more inputs only add waste
			len(sel) > maxInputs:
			backtrack = true
		case value >= target:
			if w := waste + value - target; w <= bestWaste {
				best = slices.Clone(sel)
				bestWaste = w
			}
			backtrack = true
		}
		if backtrack {
			if len(sel) == 0 {
				break // searched the whole tree
			}
			// Give back the outputs skipped after the last included
			// one, then take it out: its exclusion branch comes next.
			for i--; i > sel[len(sel)-1]; i-- {
				avail += pool[i].eff
			}
			value -= pool[i].eff
			waste -= inputWaste
			sel = sel[:len(sel)-1]
			continue
		}
		c := pool[i]
		avail -= c.eff
		// Skip the inclusion branch when the previous output has the same
		// value and was excluded: it would find the same sets again.
		if len(sel) == 0 || i-1 == sel[len(sel)-1] || c.eff != pool[i-1].eff {
			sel = append(sel, i)
			value += c.eff
			waste += inputWaste
		}
	}
	if best == nil {
		return nil
	}
	set := make([]candidate, len(best))
	for k, j := range best {
		set[k] = pool[j]
	}
	return set
}

// DustLimit is the smallest value, in satoshis, of an output paying
// pkScript that nodes relay: three times the size of the output and of
// an input spending it, as Bitcoin Core's and btcd's dust rules at their
// default relay fee. It is 294 for P2WPKH, 330 for P2WSH and P2TR, 546
// for P2PKH and 540 for P2SH.
func DustLimit(pkScript []byte) int64 {
	size := outputSize(pkScript) + inputBase
	if txscript.IsWitnessProgram(pkScript) {
		size += 107 / 4
	} else {
		size += 107
	}
	return 3 * size
}

// outputSize is the serialized size of an output paying pkScript.
func outputSize(pkScript []byte) int64 {
	return int64(wire.NewTxOut(0, pkScript).SerializeSize())
}

// txVSize is the virtual size of a transaction spending nIn P2WPKH inputs,
// with the longest signatures, to nOut outputs of outSize bytes in all.
func txVSize(nIn, nOut int, outSize int64) int64 {
	return txOverhead + varIntSize(nIn) + varIntSize(nOut) + outSize + int64(nIn)*inputVSize
}

// txWeight is the same transaction's weight.
func txWeight(nIn, nOut int, outSize int64) int64 {
	return 4*(8+varIntSize(nIn)+varIntSize(nOut)+outSize+int64(nIn)*inputBase) + 2 + int64(nIn)*inputWitness
}

func varIntSize(n int) int64 {
	return int64(wire.VarIntSerializeSize(uint64(n)))
}

// p2wpkhTemplate has the size of any P2WPKH script.
var p2wpkhTemplate = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, make([]byte, 20)...)

func checkFeeRate(rate int64) error {
	if rate < MinRelayFeeRate || rate > maxFeeRate {
		return chengdui.Errorf(chengdui.EInvalid, "fee rate %d sat/vB is outside %d to %d", rate, MinRelayFeeRate, maxFeeRate)
	}
	return nil
}

// checkUTXOs refuses what the hot wallet cannot spend.
func checkUTXOs(utxos []UTXO) error {
	seen := make(map[wire.OutPoint]bool, len(utxos))
	for _, u := range utxos {
		switch {
		case seen[u.OutPoint]:
			return chengdui.Errorf(chengdui.EInvalid, "output %s is listed twice", u.OutPoint)
		case !txscript.IsPayToWitnessPubKeyHash(u.PkScript):
			return chengdui.Errorf(chengdui.EInvalid, "output %s is not P2WPKH: the hot wallet spends P2WPKH outputs only", u.OutPoint)
		case u.Value <= 0 || u.Value > btcutil.MaxSatoshi:
			return chengdui.Errorf(chengdui.EInvalid, "output %s has an impossible value of %d sat", u.OutPoint, u.Value)
		case len(u.Path) == 0:
			return chengdui.Errorf(chengdui.EInvalid, "output %s has no derivation path for its key", u.OutPoint)
		}
		seen[u.OutPoint] = true
	}
	return nil
}
