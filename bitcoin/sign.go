package bitcoin

import (
	"bytes"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Sign signs every input of u with signer's key at the input's Path
// (P2WPKH, BIP143, SIGHASH_ALL) and returns the signed transaction; u is
// left unchanged. It checks that each key owns its input and runs every
// input through btcd's script engine with the standard verification
// flags, so a transaction it returns is valid to relay as far as its
// scripts go.
//
// Errors: EInvalid when u does not hold together, an input is not P2WPKH,
// or the key at an input's path does not own it (a wrong path, or the
// signer of another seed), so that nothing invalid is ever broadcast; the
// signer's own errors (EUnavailable once it is closed); EInternal for a
// malformed signature from the signer.
func Sign(u *Unsigned, signer keys.Signer) (*wire.MsgTx, error) {
	if u == nil || u.Tx == nil || len(u.Inputs) != len(u.Tx.TxIn) {
		return nil, chengdui.Errorf(chengdui.EInvalid, "sign: the transaction does not match its inputs")
	}
	tx := u.Tx.Copy()
	prevOuts := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range u.Inputs {
		if tx.TxIn[i].PreviousOutPoint != in.OutPoint {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sign: input %d spends %s, not its UTXO %s", i, tx.TxIn[i].PreviousOutPoint, in.OutPoint)
		}
		if !txscript.IsPayToWitnessPubKeyHash(in.PkScript) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sign: input %d (%s) is not P2WPKH", i, in.OutPoint)
		}
		prevOuts.AddPrevOut(in.OutPoint, wire.NewTxOut(in.Value, in.PkScript))
	}
	hashes := txscript.NewTxSigHashes(tx, prevOuts)

	for i, in := range u.Inputs {
		digest, err := txscript.CalcWitnessSigHash(in.PkScript, hashes, txscript.SigHashAll, tx, i, in.Value)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "sign: sighash of input %d: %v", i, err)
		}
		rsv, err := signer.SignDigest(in.Path, digest)
		if err != nil {
			return nil, err
		}
		der, pub, err := derSignature(rsv, digest)
		if err != nil {
			return nil, err
		}
		// The script says which key; the signer only which path.
		if !bytes.Equal(btcutil.Hash160(pub), in.PkScript[2:]) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sign: the key at %s does not own input %d (%s): wrong derivation path or another seed; refusing to sign", in.Path, i, in.OutPoint)
		}
		tx.TxIn[i].Witness = wire.TxWitness{append(der, byte(txscript.SigHashAll)), pub}
	}

	for i, in := range u.Inputs {
		vm, err := txscript.NewEngine(in.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, in.Value, prevOuts)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "sign: script engine for input %d: %v", i, err)
		}
		if err := vm.Execute(); err != nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sign: input %d (%s) does not verify: %v; refusing to sign", i, in.OutPoint, err)
		}
	}
	return tx, nil
}

// derSignature turns a keys.Signer signature, R || S || V, into the DER
// form Bitcoin scripts take (with S made low) and recovers the compressed
// public key that made it.
func derSignature(rsv, digest []byte) (der, pub []byte, err error) {
	if len(rsv) != 65 || rsv[64] > 1 {
		return nil, nil, chengdui.Errorf(chengdui.EInternal, "sign: the signer returned a malformed signature")
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(rsv[:32]) || s.SetByteSlice(rsv[32:64]) || r.IsZero() || s.IsZero() {
		return nil, nil, chengdui.Errorf(chengdui.EInternal, "sign: the signer returned a malformed signature")
	}
	// RecoverCompact wants 27 + recovery id + 4 (compressed key), R, S.
	compact := make([]byte, 65)
	compact[0] = 27 + 4 + rsv[64]
	copy(compact[1:], rsv[:64])
	key, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil {
		return nil, nil, chengdui.Errorf(chengdui.EInternal, "sign: the signer's signature does not verify: %v", err)
	}
	return ecdsa.NewSignature(&r, &s).Serialize(), key.SerializeCompressed(), nil
}
