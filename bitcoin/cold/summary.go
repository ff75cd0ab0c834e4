package cold

import (
	"bytes"
	"encoding/hex"
	"slices"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
)

// Summary is what a PSBT does, for a person to read before signing or
// broadcasting it. Amounts are satoshis.
type Summary struct {
	// TxID is the transaction's id; signatures, in the witness, do not
	// change it.
	TxID    chainhash.Hash
	Inputs  []InputSummary
	Outputs []OutputSummary
	In      int64 // total of the inputs
	Out     int64 // total of the outputs
	Fee     int64 // In - Out
	// VSize is the transaction's largest virtual size once signed
	// (EstimateVSize); Fee / VSize is the lowest fee rate it can have.
	VSize int64
}

// InputSummary is one coin a PSBT spends.
type InputSummary struct {
	OutPoint   wire.OutPoint
	Value      int64
	Signatures int // valid signatures it holds; Required are needed
}

// OutputSummary is one output of a PSBT.
type OutputSummary struct {
	// Address is the output's address on the network Describe was given,
	// or its script in hex when it has no address form.
	Address string
	Value   int64
	// Change is true when the PSBT says the output comes back to the
	// wallet: its witness script is a 2-of-3 multisig of the three
	// cosigners that the inputs name (by master key fingerprint).
	Change bool
}

// Complete reports whether every input has the signatures it needs.
func (s Summary) Complete() bool {
	for _, in := range s.Inputs {
		if in.Signatures < Required {
			return false
		}
	}
	return len(s.Inputs) > 0
}

// Describe summarises p for net: its coins with their valid signatures,
// its outputs as addresses, the fee. It checks p as Sign does, and that
// the BIP48 paths in it are net's (coin type 0 on mainnet, 1 elsewhere),
// so that a PSBT is not read on the wrong network.
//
// Errors: EInvalid for a malformed PSBT or one for another network;
// EConflict for one already finalized.
func Describe(p *psbt.Packet, net keys.Network) (Summary, error) {
	params, err := chainParams(net)
	if err != nil {
		return Summary{}, err
	}
	if p == nil {
		return Summary{}, chengdui.Errorf(chengdui.EInvalid, "no PSBT")
	}
	spends, hashes, err := checkInputs(p)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{TxID: p.UnsignedTx.TxHash(), VSize: EstimateVSize(len(spends), p.UnsignedTx.TxOut)}
	cosigners := map[uint32]bool{}
	for i, sp := range spends {
		for _, d := range p.Inputs[i].Bip32Derivation {
			if d == nil {
				continue
			}
			if err := checkCoinType(d.Bip32Path, net); err != nil {
				return Summary{}, err
			}
			cosigners[d.MasterKeyFingerprint] = true
		}
		h, err := digest(p, spends, hashes, i)
		if err != nil {
			return Summary{}, err
		}
		in := InputSummary{OutPoint: p.UnsignedTx.TxIn[i].PreviousOutPoint, Value: sp.prevOut.Value}
		for _, key := range sp.pubKeys {
			if slices.ContainsFunc(p.Inputs[i].PartialSigs, func(ps *psbt.PartialSig) bool {
				return ps != nil && bytes.Equal(ps.PubKey, key) && validSig(sp, h, ps)
			}) {
				in.Signatures++
			}
		}
		s.Inputs = append(s.Inputs, in)
		s.In += sp.prevOut.Value
	}
	for i, o := range p.UnsignedTx.TxOut {
		out := OutputSummary{Address: hex.EncodeToString(o.PkScript), Value: o.Value}
		if _, addrs, _, err := txscript.ExtractPkScriptAddrs(o.PkScript, params); err == nil && len(addrs) == 1 {
			out.Address = addrs[0].EncodeAddress()
		}
		out.Change = isChange(p.Outputs[i], o.PkScript, cosigners)
		s.Outputs = append(s.Outputs, out)
		s.Out += o.Value
	}
	s.Fee = s.In - s.Out
	return s, nil
}

// isChange reports whether output o says it pays a 2-of-3 of the given
// cosigners.
func isChange(o psbt.POutput, pkScript []byte, cosigners map[uint32]bool) bool {
	pubs, ok := multisigKeys(o.WitnessScript)
	if !ok || !bytes.Equal(p2wsh(o.WitnessScript), pkScript) || len(o.Bip32Derivation) != len(pubs) {
		return false
	}
	seen := map[uint32]bool{}
	for _, d := range o.Bip32Derivation {
		if d == nil || !cosigners[d.MasterKeyFingerprint] || !slices.ContainsFunc(pubs[:], func(k []byte) bool { return bytes.Equal(k, d.PubKey) }) {
			return false
		}
		seen[d.MasterKeyFingerprint] = true
	}
	return len(seen) == len(pubs)
}

// checkCoinType refuses a BIP48 path whose coin type is not net's.
func checkCoinType(path []uint32, net keys.Network) error {
	if len(path) < 2 || path[0] != Purpose+keys.Hardened {
		return nil
	}
	if path[1] != coinType(net)+keys.Hardened {
		other := "a test network"
		if path[1] == keys.Hardened {
			other = "mainnet"
		}
		return chengdui.Errorf(chengdui.EInvalid, "this PSBT's keys are for %s (coin type %d), not %s: give the right --network", other, path[1]&^keys.Hardened, net)
	}
	return nil
}
