package cold

import (
	"bytes"
	"slices"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Signer is what Sign needs from a key holder: its public key at a path,
// to recognise its own keys among an input's three, and signatures.
// keys.SeedSigner, opened from a chengdui keystore, is one.
type Signer interface {
	keys.Signer
	PublicKey(path keys.Path) (*btcec.PublicKey, error)
}

var _ Signer = (*keys.SeedSigner)(nil)

// maxPathLen is the longest derivation path Sign derives: an account path
// of up to six steps, then change and index.
const maxPathLen = 8

// spend is one input of a PSBT, checked: a native P2WSH 2-of-3 sorted
// multisig whose witness script matches the output it spends.
type spend struct {
	witnessScript []byte
	pubKeys       [3][]byte // in script order
	prevOut       *wire.TxOut
}

// checkInputs checks that every input of p is a spend this package can
// sign and finalize, and returns them with the sighash midstate.
func checkInputs(p *psbt.Packet) ([]spend, *txscript.TxSigHashes, error) {
	tx := p.UnsignedTx
	if tx == nil || len(tx.TxIn) == 0 || len(p.Inputs) != len(tx.TxIn) || len(p.Outputs) != len(tx.TxOut) {
		return nil, nil, chengdui.Errorf(chengdui.EInvalid, "the PSBT has no inputs, or its input and output maps do not match its transaction")
	}
	spends := make([]spend, len(tx.TxIn))
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i := range p.Inputs {
		in := &p.Inputs[i]
		op := tx.TxIn[i].PreviousOutPoint
		bad := func(format string, args ...any) error {
			return chengdui.Errorf(chengdui.EInvalid, "input %d (%s): "+format, append([]any{i, op}, args...)...)
		}
		switch {
		case fetcher.FetchPrevOutput(op) != nil:
			return nil, nil, bad("the coin is spent twice")
		case in.FinalScriptSig != nil || in.FinalScriptWitness != nil:
			return nil, nil, chengdui.Errorf(chengdui.EConflict, "input %d (%s) is already finalized: this PSBT was finished elsewhere", i, op)
		case in.WitnessUtxo == nil:
			return nil, nil, bad("no witness UTXO (the amount and script it spends): it was not made by 'chengdui cold create'")
		case in.WitnessUtxo.Value <= 0 || in.WitnessUtxo.Value > btcutil.MaxSatoshi:
			return nil, nil, bad("amount %d satoshis is out of range", in.WitnessUtxo.Value)
		case in.RedeemScript != nil:
			return nil, nil, bad("nested P2SH spends are not supported; this wallet is native P2WSH")
		case in.SighashType != 0 && in.SighashType != txscript.SigHashAll:
			return nil, nil, bad("asks for sighash type %d; this wallet signs SIGHASH_ALL only", in.SighashType)
		}
		pubs, ok := multisigKeys(in.WitnessScript)
		if !ok {
			return nil, nil, bad("not a 2-of-3 sorted multisig witness script")
		}
		if !bytes.Equal(p2wsh(in.WitnessScript), in.WitnessUtxo.PkScript) {
			return nil, nil, bad("its witness script does not match the output it spends")
		}
		if prev := in.NonWitnessUtxo; prev != nil {
			if prev.TxHash() != op.Hash || int(op.Index) >= len(prev.TxOut) ||
				!psbt.TxOutsEqual(prev.TxOut[op.Index], in.WitnessUtxo) {
				return nil, nil, bad("its full previous transaction does not match its witness UTXO")
			}
		}
		spends[i] = spend{witnessScript: in.WitnessScript, pubKeys: pubs, prevOut: in.WitnessUtxo}
		fetcher.AddPrevOut(op, in.WitnessUtxo)
	}
	return spends, txscript.NewTxSigHashes(tx, fetcher), nil
}

// multisigKeys parses OP_2 <k1> <k2> <k3> OP_3 OP_CHECKMULTISIG with three
// compressed keys in strictly increasing order (BIP67).
func multisigKeys(ws []byte) (pubs [3][]byte, ok bool) {
	if len(ws) != witnessScriptLen || ws[0] != txscript.OP_2 ||
		ws[len(ws)-2] != txscript.OP_3 || ws[len(ws)-1] != txscript.OP_CHECKMULTISIG {
		return pubs, false
	}
	for k := range pubs {
		at := 1 + 34*k
		if ws[at] != txscript.OP_DATA_33 {
			return pubs, false
		}
		pub := ws[at+1 : at+34]
		if _, err := btcec.ParsePubKey(pub); err != nil || (pub[0] != 2 && pub[0] != 3) {
			return pubs, false
		}
		if k > 0 && bytes.Compare(pubs[k-1], pub) >= 0 {
			return pubs, false
		}
		pubs[k] = pub
	}
	return pubs, true
}

// digest is input i's BIP143 signature hash for SIGHASH_ALL.
func digest(p *psbt.Packet, s []spend, hashes *txscript.TxSigHashes, i int) ([]byte, error) {
	d, err := txscript.CalcWitnessSigHash(s[i].witnessScript, hashes, txscript.SigHashAll, p.UnsignedTx, i, s[i].prevOut.Value)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "input %d: signature hash: %v", i, err)
	}
	return d, nil
}

// validSig reports whether sig is a DER signature with SIGHASH_ALL by one
// of the input's three keys over its digest.
func validSig(sp spend, d []byte, sig *psbt.PartialSig) bool {
	if sig == nil || !slices.ContainsFunc(sp.pubKeys[:], func(k []byte) bool { return bytes.Equal(k, sig.PubKey) }) {
		return false
	}
	if len(sig.Signature) < 2 || txscript.SigHashType(sig.Signature[len(sig.Signature)-1]) != txscript.SigHashAll {
		return false
	}
	pub, err := btcec.ParsePubKey(sig.PubKey)
	if err != nil {
		return false
	}
	s, err := ecdsa.ParseDERSignature(sig.Signature[:len(sig.Signature)-1])
	return err == nil && s.Verify(d, pub)
}

// Sign adds signer's signature to every input of p that one of its keys
// can sign: for each input, it looks for a BIP32 derivation whose path,
// derived by signer, gives one of the input's three keys. Fingerprints are
// not trusted for this; the derived key is compared. It never signs an
// input twice, and adds at most one signature per input, so one seed can
// never stand for two of the three cosigners. It signs SIGHASH_ALL over
// BIP143 digests, which commit to the amounts of the witness UTXOs, and
// checks each signature before it adds it. p changes only when Sign
// succeeds, and it returns how many signatures it added.
//
// Sign signs whatever p pays: show Describe's summary to the person who
// holds the key before calling it.
//
// Errors: EInvalid when no input can be signed with signer's keys (the
// wrong key, or a PSBT of another wallet) or an input is malformed;
// EConflict when signer has already signed every input it can;
// those of signer.
func Sign(p *psbt.Packet, signer Signer) (signed int, err error) {
	spends, hashes, err := checkInputs(p)
	if err != nil {
		return 0, err
	}
	pubs := map[string][]byte{} // path → the signer's key there, nil if none
	pubAt := func(path keys.Path) ([]byte, error) {
		k := path.String()
		if pub, ok := pubs[k]; ok {
			return pub, nil
		}
		pub, err := signer.PublicKey(path)
		if chengdui.ErrorCode(err) == chengdui.EInvalid {
			pubs[k] = nil // a path this signer cannot derive: not its key
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		pubs[k] = pub.SerializeCompressed()
		return pubs[k], nil
	}

	type added struct {
		input int
		sig   *psbt.PartialSig
	}
	var todo []added
	already := 0
	for i, sp := range spends {
		// The input's keys this signer holds, by the paths the PSBT gives.
		var mine []*psbt.Bip32Derivation
		for _, d := range p.Inputs[i].Bip32Derivation {
			// A path longer than BIP48's six steps is not this wallet's,
			// and would make a hostile PSBT cost many derivations.
			if d == nil || len(d.Bip32Path) > maxPathLen || !slices.ContainsFunc(sp.pubKeys[:], func(k []byte) bool { return bytes.Equal(k, d.PubKey) }) {
				continue
			}
			pub, err := pubAt(keys.Path(d.Bip32Path))
			if err != nil {
				return 0, err
			}
			if bytes.Equal(pub, d.PubKey) {
				mine = append(mine, d)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if slices.ContainsFunc(p.Inputs[i].PartialSigs, func(s *psbt.PartialSig) bool {
			return s != nil && slices.ContainsFunc(mine, func(d *psbt.Bip32Derivation) bool { return bytes.Equal(s.PubKey, d.PubKey) })
		}) {
			already++ // one signature per input from one seed
			continue
		}
		d := mine[0]
		h, err := digest(p, spends, hashes, i)
		if err != nil {
			return 0, err
		}
		rsv, err := signer.SignDigest(keys.Path(d.Bip32Path), h)
		if err != nil {
			return 0, err
		}
		sig, err := derSignature(rsv)
		if err != nil {
			return 0, err
		}
		ps := &psbt.PartialSig{PubKey: bytes.Clone(d.PubKey), Signature: sig}
		if !validSig(sp, h, ps) {
			return 0, chengdui.Errorf(chengdui.EInternal, "input %d: the signer's signature does not verify", i)
		}
		todo = append(todo, added{i, ps})
	}
	switch {
	case len(todo) == 0 && already > 0:
		return 0, chengdui.Errorf(chengdui.EConflict, "this key has already signed every input it can (%d): take the PSBT to another cosigner, or finalize it", already)
	case len(todo) == 0:
		return 0, chengdui.Errorf(chengdui.EInvalid, "this key is not one of the cosigners of any of the PSBT's %d input(s): signed with the wrong key? Use one of the wallet's three keystores, or check that the PSBT is for this wallet", len(spends))
	}
	for _, a := range todo {
		in := &p.Inputs[a.input]
		in.PartialSigs = append(in.PartialSigs, a.sig)
		sort.Sort(psbt.PartialSigSorter(in.PartialSigs))
	}
	return len(todo), nil
}

// derSignature turns a keys.Signer signature, R || S || V, into the DER
// encoding with the SIGHASH_ALL byte that a segwit v0 witness holds.
func derSignature(rsv []byte) ([]byte, error) {
	if len(rsv) != 65 {
		return nil, chengdui.Errorf(chengdui.EInternal, "signer returned %d bytes, not R || S || V", len(rsv))
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(rsv[:32]) || s.SetByteSlice(rsv[32:64]) || r.IsZero() || s.IsZero() {
		return nil, chengdui.Errorf(chengdui.EInternal, "signer returned an invalid signature")
	}
	// Serialize writes the low-S form that standardness (BIP146) needs.
	return append(ecdsa.NewSignature(&r, &s).Serialize(), byte(txscript.SigHashAll)), nil
}

// Combine merges the signatures of copies of one PSBT, each signed by a
// different cosigner, into a new PSBT; the arguments are not changed.
// Where two copies hold different signatures by one key, a valid one is
// kept.
//
// Errors: EInvalid when no PSBT is given, or the copies are of different
// transactions or malformed.
func Combine(ps ...*psbt.Packet) (*psbt.Packet, error) {
	if len(ps) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "no PSBT to combine")
	}
	out, err := clonePacket(ps[0])
	if err != nil {
		return nil, err
	}
	spends, hashes, err := checkInputs(out)
	if err != nil {
		return nil, err
	}
	txid := out.UnsignedTx.TxHash()
	for n, p := range ps[1:] {
		if p == nil || p.UnsignedTx == nil || p.UnsignedTx.TxHash() != txid || len(p.Inputs) != len(out.Inputs) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "PSBT %d is not a copy of PSBT 1: it spends other coins or pays other outputs", n+2)
		}
		for i := range out.Inputs {
			d, err := digest(out, spends, hashes, i)
			if err != nil {
				return nil, err
			}
			in := &out.Inputs[i]
			for _, s := range p.Inputs[i].PartialSigs {
				if !validSig(spends[i], d, s) {
					continue
				}
				at := slices.IndexFunc(in.PartialSigs, func(x *psbt.PartialSig) bool { return x != nil && bytes.Equal(x.PubKey, s.PubKey) })
				sig := &psbt.PartialSig{PubKey: bytes.Clone(s.PubKey), Signature: bytes.Clone(s.Signature)}
				switch {
				case at < 0:
					in.PartialSigs = append(in.PartialSigs, sig)
				case !validSig(spends[i], d, in.PartialSigs[at]):
					in.PartialSigs[at] = sig
				}
			}
			sort.Sort(psbt.PartialSigSorter(in.PartialSigs))
		}
	}
	return out, nil
}

// clonePacket copies p through its serialisation.
func clonePacket(p *psbt.Packet) (*psbt.Packet, error) {
	if p == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "no PSBT")
	}
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "psbt: %v", err)
	}
	q, err := psbt.NewFromRawBytes(&b, false)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "psbt: %v", err)
	}
	return q, nil
}

// Finalize checks that every input of p holds at least two valid
// signatures by two of its three keys, and returns the signed transaction,
// ready to broadcast: each witness is the empty item CHECKMULTISIG pops,
// two signatures in the order of their keys in the script, and the witness
// script. Each input is then run through btcd's script engine with the
// standard verification flags. p is not changed.
//
// Errors: EInvalid when an input has fewer than two valid signatures (a
// PSBT signed once cannot be broadcast: another cosigner must sign it),
// when the outputs spend more than the inputs, or when an input is
// malformed; EConflict when an input was already finalized elsewhere.
func Finalize(p *psbt.Packet) (*wire.MsgTx, error) {
	if p == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "no PSBT")
	}
	spends, hashes, err := checkInputs(p)
	if err != nil {
		return nil, err
	}
	var in, out int64
	for _, sp := range spends {
		in += sp.prevOut.Value
	}
	for _, o := range p.UnsignedTx.TxOut {
		out += o.Value
	}
	if out > in {
		return nil, chengdui.Errorf(chengdui.EInvalid, "the outputs (%s BTC) spend more than the inputs hold (%s BTC)", btc(out), btc(in))
	}
	tx := p.UnsignedTx.Copy()
	for i, sp := range spends {
		d, err := digest(p, spends, hashes, i)
		if err != nil {
			return nil, err
		}
		witness := wire.TxWitness{nil}
		for _, key := range sp.pubKeys {
			at := slices.IndexFunc(p.Inputs[i].PartialSigs, func(s *psbt.PartialSig) bool { return s != nil && bytes.Equal(s.PubKey, key) })
			if at >= 0 && len(witness) <= Required && validSig(sp, d, p.Inputs[i].PartialSigs[at]) {
				witness = append(witness, p.Inputs[i].PartialSigs[at].Signature)
			}
		}
		if got := len(witness) - 1; got < Required {
			return nil, chengdui.Errorf(chengdui.EInvalid, "input %d has %d valid signature(s) of the %d needed, so the transaction cannot be broadcast: sign the PSBT with another of the three cosigner keys ('chengdui cold sign'), then finalize again", i, got, Required)
		}
		tx.TxIn[i].Witness = append(witness, sp.witnessScript)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i, sp := range spends {
		fetcher.AddPrevOut(tx.TxIn[i].PreviousOutPoint, sp.prevOut)
	}
	hashes = txscript.NewTxSigHashes(tx, fetcher)
	for i, sp := range spends {
		vm, err := txscript.NewEngine(sp.prevOut.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, sp.prevOut.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "input %d: the finalized witness does not verify: %v", i, err)
		}
	}
	return tx, nil
}
