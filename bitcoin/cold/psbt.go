package cold

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
)

// Fee rate bounds of CreatePSBT, in sat/vB. MaxFeeRate guards against a
// typo (sat/kvB for sat/vB) that would give the coins to a miner.
const (
	MinFeeRate = 1
	MaxFeeRate = 1000
)

// MaxPSBTSize bounds the PSBT files ParsePSBT reads, binary or base64.
const MaxPSBTSize = 4 << 20

// inputWitnessSize is the largest witness of one 2-of-3 P2WSH input, in
// bytes (= weight units): the item count, the empty item CHECKMULTISIG
// pops, two signatures of at most 72 bytes of DER plus the sighash byte,
// each with its length, and the witness script with its length.
const inputWitnessSize = 1 + 1 + 2*(1+73) + 1 + witnessScriptLen

// Input is one of the wallet's coins to spend: the output at OutPoint,
// worth Value satoshis, paying the wallet's address at Change/Index.
type Input struct {
	OutPoint wire.OutPoint
	Value    int64  // satoshis
	Change   uint32 // Receive or Change
	Index    uint32
}

// CreatePSBT builds an unsigned BIP174 PSBT spending inputs to outputs at
// feeRate sat/vB, with change to the wallet's address Change/changeIndex.
// Each input carries what an offline signer needs and nothing it would
// have to trust the network for: its witness UTXO (amount and script), its
// witness script, SIGHASH_ALL and the BIP32 derivation (master key
// fingerprint and path) of each of its three keys. The change output
// carries its witness script and derivations too, so that signers can
// recognise it as the wallet's own.
//
// The fee is feeRate times the largest virtual size the transaction can
// have once signed (EstimateVSize). Change below the dust limit of its
// script is left to the fee rather than created. The transaction is
// version 2, signals replaceability (BIP125) so a stuck spend can be
// bumped, and its inputs and outputs are sorted as BIP69 says.
//
// Errors: EInvalid for no inputs or outputs, a duplicate input, an
// amount out of range, an output below its dust limit or with a
// non-standard script, a fee rate outside MinFeeRate–MaxFeeRate, or a
// bad index; EExceedsCredits when the inputs do not cover the outputs and
// the fee.
func (w *Wallet) CreatePSBT(inputs []Input, outputs []*wire.TxOut, changeIndex uint32, feeRate int64) (*psbt.Packet, error) {
	switch {
	case len(inputs) == 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "no inputs: a spend needs at least one of the wallet's coins")
	case len(outputs) == 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "no outputs: say where the coins go")
	case feeRate < MinFeeRate || feeRate > MaxFeeRate:
		return nil, chengdui.Errorf(chengdui.EInvalid, "fee rate %d sat/vB: use %d to %d", feeRate, MinFeeRate, MaxFeeRate)
	}
	scripts := make([]script, len(inputs))
	seen := make(map[wire.OutPoint]bool, len(inputs))
	var in int64
	for i, c := range inputs {
		if seen[c.OutPoint] {
			return nil, chengdui.Errorf(chengdui.EInvalid, "coin %s is spent twice in one transaction", c.OutPoint)
		}
		seen[c.OutPoint] = true
		if c.Value <= 0 || c.Value > btcutil.MaxSatoshi {
			return nil, chengdui.Errorf(chengdui.EInvalid, "coin %s: amount %d satoshis is out of range", c.OutPoint, c.Value)
		}
		s, err := w.derive(c.Change, c.Index)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.ErrorCode(err), "coin %s: %s", c.OutPoint, chengdui.ErrorMessage(err))
		}
		scripts[i] = s
		in += c.Value
		if in > btcutil.MaxSatoshi {
			return nil, chengdui.Errorf(chengdui.EInvalid, "the inputs add up to more bitcoin than exists")
		}
	}
	var out int64
	for i, o := range outputs {
		if o == nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "output %d is missing", i)
		}
		switch txscript.GetScriptClass(o.PkScript) {
		case txscript.NonStandardTy, txscript.NullDataTy, txscript.MultiSigTy, txscript.PubKeyTy:
			return nil, chengdui.Errorf(chengdui.EInvalid, "output %d: pay an address (P2PKH, P2SH, P2WPKH, P2WSH or P2TR), not a bare script", i)
		}
		if o.Value < 0 || o.Value > btcutil.MaxSatoshi {
			return nil, chengdui.Errorf(chengdui.EInvalid, "output %d: amount %d satoshis is out of range", i, o.Value)
		}
		if d := Dust(o.PkScript); o.Value < d {
			return nil, chengdui.Errorf(chengdui.EInvalid, "output %d pays %s BTC, below the dust limit of %d satoshis for its kind of address; nodes would not relay it", i, btc(o.Value), d)
		}
		out += o.Value
		if out > btcutil.MaxSatoshi {
			return nil, chengdui.Errorf(chengdui.EInvalid, "the outputs add up to more bitcoin than exists")
		}
	}
	change, err := w.derive(Change, changeIndex)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.ErrorCode(err), "change: %s", chengdui.ErrorMessage(err))
	}

	tx := wire.NewMsgTx(2)
	for _, c := range inputs {
		op := c.OutPoint
		txIn := wire.NewTxIn(&op, nil, nil)
		txIn.Sequence = wire.MaxTxInSequenceNum - 2 // BIP125: replaceable
		tx.AddTxIn(txIn)
	}
	for _, o := range outputs {
		tx.AddTxOut(wire.NewTxOut(o.Value, bytes.Clone(o.PkScript)))
	}
	changeOut := wire.NewTxOut(0, change.pkScript)
	fee := feeRate * EstimateVSize(len(inputs), append(tx.TxOut[:len(tx.TxOut):len(tx.TxOut)], changeOut))
	withChange := in - out - fee
	if withChange >= Dust(change.pkScript) {
		changeOut.Value = withChange
		tx.AddTxOut(changeOut)
	} else {
		fee = feeRate * EstimateVSize(len(inputs), tx.TxOut)
		if in-out-fee < 0 {
			return nil, chengdui.Errorf(chengdui.EExceedsCredits, "the coins hold %s BTC, but the outputs (%s BTC) and the fee (%s BTC at %d sat/vB) need %s BTC more: add coins, or send less",
				btc(in), btc(out), btc(fee), feeRate, btc(out+fee-in))
		}
	}

	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "psbt: %v", err)
	}
	for i, c := range inputs {
		p.Inputs[i] = psbt.PInput{
			WitnessUtxo:     wire.NewTxOut(c.Value, scripts[i].pkScript),
			WitnessScript:   scripts[i].witnessScript,
			Bip32Derivation: scripts[i].derivations,
			SighashType:     txscript.SigHashAll,
		}
	}
	if len(tx.TxOut) > len(outputs) {
		p.Outputs[len(outputs)] = psbt.POutput{WitnessScript: change.witnessScript, Bip32Derivation: change.derivations}
	}
	if err := psbt.InPlaceSort(p); err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "psbt sort: %v", err)
	}
	if err := p.SanityCheck(); err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "psbt: %v", err)
	}
	return p, nil
}

// EstimateVSize is the largest virtual size (BIP141: weight / 4, rounded
// up) of a transaction spending inputs 2-of-3 P2WSH coins of this wallet to
// outputs, once signed. Signatures are counted at their longest, 72 bytes
// of DER plus the sighash byte; the signed transaction is at most about
// half a vbyte per input smaller.
func EstimateVSize(inputs int, outputs []*wire.TxOut) int64 {
	n := int64(inputs)
	base := 4 + int64(wire.VarIntSerializeSize(uint64(inputs))) + n*(32+4+1+4) +
		int64(wire.VarIntSerializeSize(uint64(len(outputs)))) + 4
	for _, o := range outputs {
		base += int64(o.SerializeSize())
	}
	weight := 4*base + 2 + n*inputWitnessSize // 2: segwit marker and flag
	return (weight + 3) / 4
}

// Dust is the smallest amount an output with pkScript may carry to be
// relayed by Bitcoin Core's default policy (dust relay fee 3 sat/vB): the
// cost of the output plus the input that will spend it. 294 satoshis for
// P2WPKH, 330 for P2WSH and P2TR, 540 for P2SH, 546 for P2PKH.
func Dust(pkScript []byte) int64 {
	size := int64(wire.NewTxOut(0, pkScript).SerializeSize())
	if txscript.IsWitnessProgram(pkScript) {
		size += 32 + 4 + 1 + 107/4 + 4 // outpoint, script length, witness discounted, sequence
	} else {
		size += 32 + 4 + 1 + 107 + 4
	}
	return 3 * size
}

// ParsePSBT reads a PSBT file: base64, as Bitcoin Core and most wallets
// write it (whitespace and line breaks are ignored), or binary BIP174. It
// is where outside input enters: a malformed file is EInvalid, never a
// crash.
func ParsePSBT(data []byte) (p *psbt.Packet, err error) {
	if len(data) > MaxPSBTSize {
		return nil, chengdui.Errorf(chengdui.EInvalid, "the PSBT file has %d bytes; the most this reads is %d", len(data), MaxPSBTSize)
	}
	raw := data
	if !bytes.HasPrefix(data, []byte("psbt\xff")) {
		text := bytes.Join(bytes.Fields(data), nil)
		if len(text) == 0 {
			return nil, chengdui.Errorf(chengdui.EInvalid, "the PSBT file is empty")
		}
		raw = make([]byte, base64.StdEncoding.DecodedLen(len(text)))
		n, err := base64.StdEncoding.Decode(raw, text)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "not a PSBT: the file is neither base64 nor binary BIP174")
		}
		raw = raw[:n]
	}
	// The psbt package parses counterparties' data; should a malformed
	// file still make it panic, that is a refusal, not a crash.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, chengdui.Errorf(chengdui.EInvalid, "not a valid PSBT: %v", r)
		}
	}()
	r := bytes.NewReader(raw)
	p, err = psbt.NewFromRawBytes(r, false)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "not a valid PSBT: %v", err)
	}
	if r.Len() != 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "not a valid PSBT: %d bytes follow its end", r.Len())
	}
	return p, nil
}

// EncodePSBT writes p as base64 with a final newline: the file format
// ParsePSBT, Bitcoin Core and hardware wallet tools read.
func EncodePSBT(p *psbt.Packet) ([]byte, error) {
	var b bytes.Buffer
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	if err := p.Serialize(enc); err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "psbt: %v", err)
	}
	enc.Close()
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// btc formats satoshis as BTC with eight decimals, exactly.
func btc(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "-", -sat
	}
	return fmt.Sprintf("%s%d.%08d", sign, sat/btcutil.SatoshiPerBitcoin, sat%btcutil.SatoshiPerBitcoin)
}
