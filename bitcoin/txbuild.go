package bitcoin

import (
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// RBFSequence is the sequence of every input this package builds: below
// 0xfffffffe, it signals replaceability (BIP125) and enforces the
// transaction's locktime.
const RBFSequence = 0xfffffffd

// txVersion 2 allows relative locktimes (BIP68); nodes relay 1 and 2.
const txVersion = 2

// maxLockHeight is where locktimes stop being block heights and become
// Unix times.
const maxLockHeight = txscript.LockTimeThreshold

// Payment is one payout in a batch.
type Payment struct {
	Address string // where to pay, for the request's network
	Amount  int64  // satoshis
	ID      string // the caller's payout id, unique within the batch
}

// TxRequest is a batch of payments for BuildTx.
type TxRequest struct {
	Network  keys.Network
	UTXOs    []UTXO    // the hot wallet's outputs that may be spent
	Payments []Payment // one output each, in this order
	FeeRate  int64     // sat/vB, e.g. from Node.EstimateFeeRate

	// ChangeScript receives the change, the output after the payments:
	// a fresh internal (change) address of the hot wallet.
	ChangeScript []byte

	// LockTime should be the height of the node's best block: as in
	// Bitcoin Core (anti fee sniping), the transaction is then valid from
	// the next block on, and a miner rewriting the last block cannot take
	// it into its own. Zero sets no locktime.
	LockTime uint32
}

// Unsigned is a transaction built to pay a batch, before Sign.
type Unsigned struct {
	Tx     *wire.MsgTx // inputs signal RBF; no witnesses yet
	Inputs []UTXO      // Inputs[i] is spent by Tx.TxIn[i]

	// Payments are the request's, in order: Payments[i] is paid by
	// Tx.TxOut[i].
	Payments []Payment

	// ChangeIndex is the index of the change output in Tx.TxOut, after
	// the payments, or -1 when the change was below its dust limit and
	// went to the fee.
	ChangeIndex  int
	ChangeScript []byte

	// VSize is the virtual size with 72-byte signatures, the longest;
	// each signature a byte shorter saves a quarter of a vB, so the
	// signed transaction is at most this size and its fee rate at least
	// FeeRate.
	VSize   int64
	Fee     int64 // satoshis: inputs − outputs, at least FeeRate × VSize
	FeeRate int64 // sat/vB asked for
}

// Output returns the index in Tx.TxOut of the payment with id.
func (u *Unsigned) Output(id string) (int, bool) {
	i := slices.IndexFunc(u.Payments, func(p Payment) bool { return p.ID == id })
	return i, i >= 0
}

// Change returns the change amount in satoshis, 0 when there is none.
func (u *Unsigned) Change() int64 {
	if u.ChangeIndex < 0 {
		return 0
	}
	return u.Tx.TxOut[u.ChangeIndex].Value
}

// BuildTx builds one transaction paying every payment of req, its inputs
// chosen from req.UTXOs by SelectCoins. The outputs are the payments in
// order, then the change, unless the change would be below its dust limit
// (then it goes to the fee). The fee is req.FeeRate times the virtual size
// computed for the longest signatures, so the fee rate paid once signed is
// at least req.FeeRate. Every input signals RBF (RBFSequence), so BumpFee
// can replace the transaction while it is unconfirmed. The version is 2
// and the locktime req.LockTime.
//
// Errors: EInvalid for an unknown network, no payments, a bad or
// other-network address, a non-positive amount, an amount below the dust
// limit of its address type (the message gives the limit), an empty or
// repeated payment id, a missing or non-standard change script, a locktime
// that is not a block height, and SelectCoins' refusals; EExceedsCredits
// when the UTXOs cannot pay the amounts and the fee, with how much is
// missing.
func BuildTx(req TxRequest) (*Unsigned, error) {
	if req.Network.HRP() == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "unknown Bitcoin network %d", int(req.Network))
	}
	if err := checkFeeRate(req.FeeRate); err != nil {
		return nil, err
	}
	if req.LockTime >= maxLockHeight {
		return nil, chengdui.Errorf(chengdui.EInvalid, "locktime %d is a time, not a block height: give the best block's height", req.LockTime)
	}
	if err := checkChangeScript(req.ChangeScript); err != nil {
		return nil, err
	}
	outputs, err := paymentOutputs(req.Network, req.Payments)
	if err != nil {
		return nil, err
	}
	sel, err := SelectCoins(req.UTXOs, outputs, req.FeeRate, SelectOptions{ChangeScript: req.ChangeScript})
	if err != nil {
		return nil, err
	}

	tx := wire.NewMsgTx(txVersion)
	tx.LockTime = req.LockTime
	for _, u := range sel.Inputs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: u.OutPoint, Sequence: RBFSequence})
	}
	for _, o := range outputs {
		tx.AddTxOut(o)
	}
	u := &Unsigned{
		Tx:           tx,
		Inputs:       sel.Inputs,
		Payments:     slices.Clone(req.Payments),
		ChangeIndex:  -1,
		ChangeScript: slices.Clone(req.ChangeScript),
		Fee:          sel.Fee,
		VSize:        sel.VSize,
		FeeRate:      req.FeeRate,
	}
	if sel.Change > 0 {
		u.ChangeIndex = len(tx.TxOut)
		tx.AddTxOut(wire.NewTxOut(sel.Change, u.ChangeScript))
	}
	return u, u.check()
}

// paymentOutputs checks the payments and returns their outputs.
func paymentOutputs(net keys.Network, payments []Payment) ([]*wire.TxOut, error) {
	if len(payments) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a payout batch needs at least one payment")
	}
	ids := make(map[string]bool, len(payments))
	outputs := make([]*wire.TxOut, len(payments))
	var total int64
	for i, p := range payments {
		switch {
		case p.ID == "":
			return nil, chengdui.Errorf(chengdui.EInvalid, "payment %d has no id", i+1)
		case ids[p.ID]:
			return nil, chengdui.Errorf(chengdui.EInvalid, "payment id %q appears twice in the batch", p.ID)
		case p.Amount <= 0:
			return nil, chengdui.Errorf(chengdui.EInvalid, "payment %s: the amount must be positive, not %d sat", p.ID, p.Amount)
		case p.Amount > btcutil.MaxSatoshi:
			return nil, chengdui.Errorf(chengdui.EInvalid, "payment %s: %d sat is more than 21 million BTC", p.ID, p.Amount)
		}
		ids[p.ID] = true
		a, err := keys.ParseBitcoinAddress(p.Address, net)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.ErrorCode(err), "payment %s: %s", p.ID, chengdui.ErrorMessage(err))
		}
		if dust := DustLimit(a.ScriptPubKey); p.Amount < dust {
			return nil, chengdui.Errorf(chengdui.EInvalid, "payment %s: %d sat is below the dust limit of %d sat for a %s address, which nodes do not relay", p.ID, p.Amount, dust, a.Type)
		}
		if total += p.Amount; total > btcutil.MaxSatoshi {
			return nil, chengdui.Errorf(chengdui.EInvalid, "the payments add up to more than 21 million BTC")
		}
		outputs[i] = wire.NewTxOut(p.Amount, a.ScriptPubKey)
	}
	return outputs, nil
}

// checkChangeScript accepts the five standard kinds of output script.
func checkChangeScript(script []byte) error {
	if len(script) == 0 {
		return chengdui.Errorf(chengdui.EInvalid, "no change script: derive a fresh change address of the hot wallet")
	}
	switch txscript.GetScriptClass(script) {
	case txscript.WitnessV0PubKeyHashTy, txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy,
		txscript.PubKeyHashTy, txscript.ScriptHashTy:
		return nil
	}
	return chengdui.Errorf(chengdui.EInvalid, "the change script is not a P2WPKH, P2WSH, P2TR, P2PKH or P2SH script")
}

// check verifies what the builders promise: the inputs match, the fee is
// inputs − outputs and pays at least FeeRate × VSize, no output is dust.
func (u *Unsigned) check() error {
	change := 0
	if u.ChangeIndex >= 0 {
		change = 1
	}
	if len(u.Inputs) != len(u.Tx.TxIn) || len(u.Payments)+change != len(u.Tx.TxOut) ||
		(u.ChangeIndex >= 0 && u.ChangeIndex != len(u.Payments)) {
		return chengdui.Errorf(chengdui.EInternal, "transaction build: %d inputs and %d outputs for %d UTXOs and %d payments", len(u.Tx.TxIn), len(u.Tx.TxOut), len(u.Inputs), len(u.Payments))
	}
	var in, out int64
	for i, utxo := range u.Inputs {
		if u.Tx.TxIn[i].PreviousOutPoint != utxo.OutPoint {
			return chengdui.Errorf(chengdui.EInternal, "transaction build: input %d spends another output than its UTXO", i)
		}
		in += utxo.Value
	}
	for _, o := range u.Tx.TxOut {
		if o.Value < DustLimit(o.PkScript) {
			return chengdui.Errorf(chengdui.EInternal, "transaction build: a dust output of %d sat", o.Value)
		}
		out += o.Value
	}
	nOut := len(u.Tx.TxOut)
	var outSize int64
	for _, o := range u.Tx.TxOut {
		outSize += int64(o.SerializeSize())
	}
	if in-out != u.Fee || u.VSize != txVSize(len(u.Inputs), nOut, outSize) || u.Fee < u.FeeRate*u.VSize {
		return chengdui.Errorf(chengdui.EInternal, "transaction build: fee %d sat for %d sat in, %d sat out, %d vB at %d sat/vB", u.Fee, in, out, u.VSize, u.FeeRate)
	}
	return nil
}

// BumpFee builds a BIP125 replacement of orig paying newFeeRate sat/vB:
// the same payments in the same outputs, spending the same inputs and
// taking the extra fee from the change. When the change cannot pay it, the
// change output is dropped, and when that is not enough either, inputs are
// added from extra, largest first. Only confirmed extra outputs are used,
// as BIP125 forbids a replacement new unconfirmed inputs; those orig
// already spends are skipped.
//
// sent is orig as signed and broadcast: its size sets the fee rate to
// beat. The new fee is the largest of newFeeRate × the new size, orig's
// fee plus MinRelayFeeRate × the new size (BIP125 rule 4), and just over
// orig's fee rate as signed (rule 6), all with the new size at its longest
// signatures. A replacement must also pay for any descendants of orig in
// the mempool, which this package cannot see: the node refuses it with
// EInvalid then, and a higher rate will do.
//
// Errors: EInvalid when newFeeRate is not above orig.FeeRate, sent is not
// orig, or an extra output is not spendable by the hot wallet;
// EExceedsCredits when the inputs and extra cannot pay the new fee, with
// how much is missing.
func BumpFee(orig *Unsigned, sent *wire.MsgTx, newFeeRate int64, extra []UTXO) (*Unsigned, error) {
	if orig == nil || orig.Tx == nil || len(orig.Inputs) != len(orig.Tx.TxIn) {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fee bump: no original transaction")
	}
	if err := orig.check(); err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fee bump: the original transaction is inconsistent: %s", chengdui.ErrorMessage(err))
	}
	if sent == nil || sent.TxHash() != orig.Tx.TxHash() {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fee bump: the signed transaction given is not %s", orig.Tx.TxHash())
	}
	if newFeeRate <= orig.FeeRate {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a replacement must pay a higher fee rate than the original's %d sat/vB, not %d", orig.FeeRate, newFeeRate)
	}
	if err := checkFeeRate(newFeeRate); err != nil {
		return nil, err
	}
	if err := checkChangeScript(orig.ChangeScript); err != nil {
		return nil, err
	}
	var fresh []UTXO // extra less what orig spends
	for _, u := range extra {
		if !slices.ContainsFunc(orig.Inputs, func(in UTXO) bool { return in.OutPoint == u.OutPoint }) {
			fresh = append(fresh, u)
		}
	}
	if err := checkUTXOs(append(slices.Clone(orig.Inputs), fresh...)); err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fee bump: %s", chengdui.ErrorMessage(err))
	}

	// The rate to beat, in sat/kvB as nodes compare it.
	sentWeight := int64(sent.SerializeSizeStripped()*3 + sent.SerializeSize())
	sentVSize := (sentWeight + 3) / 4
	origPerKvB := orig.Fee * 1000 / sentVSize
	minFee := func(vsize int64) int64 {
		return max(newFeeRate*vsize,
			orig.Fee+MinRelayFeeRate*vsize,
			((origPerKvB+1)*vsize+999)/1000)
	}

	var payments []*wire.TxOut
	var paid, paySize int64
	for i, o := range orig.Tx.TxOut {
		if i != orig.ChangeIndex {
			payments = append(payments, o)
			paid += o.Value
			paySize += int64(o.SerializeSize())
		}
	}
	changeSize := outputSize(orig.ChangeScript)
	changeDust := DustLimit(orig.ChangeScript)

	var more []UTXO
	for _, u := range fresh {
		if u.Confirmations > 0 && u.Value > newFeeRate*inputVSize {
			more = append(more, u)
		}
	}
	slices.SortFunc(more, func(a, b UTXO) int {
		if a.Value != b.Value {
			if a.Value > b.Value {
				return -1
			}
			return 1
		}
		return compareOutPoints(a.OutPoint, b.OutPoint)
	})

	inputs := slices.Clone(orig.Inputs)
	var in int64
	for _, u := range inputs {
		in += u.Value
	}
	for k := 0; ; k++ {
		n, nPay := len(inputs), len(payments)
		if txWeight(n, nPay, paySize) > MaxStandardTxWeight {
			return nil, chengdui.Errorf(chengdui.EInvalid, "fee bump: the replacement would need more inputs than a standard transaction holds")
		}
		withChange := txVSize(n, nPay+1, paySize+changeSize)
		if fee := minFee(withChange); in-paid-fee >= changeDust && txWeight(n, nPay+1, paySize+changeSize) <= MaxStandardTxWeight {
			return replacement(orig, inputs, payments, in-paid-fee, fee, withChange, newFeeRate)
		}
		plain := txVSize(n, nPay, paySize)
		if in-paid >= minFee(plain) {
			return replacement(orig, inputs, payments, 0, in-paid, plain, newFeeRate)
		}
		if k == len(more) {
			return nil, chengdui.Errorf(chengdui.EExceedsCredits,
				"fee bump to %d sat/vB: the inputs (%d sat, %d confirmed extra outputs given) cannot pay %d sat and the new fee: %d sat missing",
				newFeeRate, in, len(more), paid, paid+minFee(plain)-in)
		}
		inputs = append(inputs, more[k])
		in += more[k].Value
	}
}

// replacement returns orig's replacement spending inputs to payments,
// then change unless it is 0.
func replacement(orig *Unsigned, inputs []UTXO, payments []*wire.TxOut, change, fee, vsize, rate int64) (*Unsigned, error) {
	tx := wire.NewMsgTx(orig.Tx.Version)
	tx.LockTime = orig.Tx.LockTime
	for _, u := range inputs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: u.OutPoint, Sequence: RBFSequence})
	}
	for _, o := range payments {
		tx.AddTxOut(wire.NewTxOut(o.Value, slices.Clone(o.PkScript)))
	}
	u := &Unsigned{
		Tx:           tx,
		Inputs:       inputs,
		Payments:     slices.Clone(orig.Payments),
		ChangeIndex:  -1,
		ChangeScript: slices.Clone(orig.ChangeScript),
		Fee:          fee,
		VSize:        vsize,
		FeeRate:      rate,
	}
	if change > 0 {
		u.ChangeIndex = len(tx.TxOut)
		tx.AddTxOut(wire.NewTxOut(change, u.ChangeScript))
	}
	return u, u.check()
}
