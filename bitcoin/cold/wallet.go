package cold

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"chengdui"
	"chengdui/keys"
)

// The two branches below each account key, as in BIP44 and descriptor
// wallets: Receive (0) for deposits and sweeps into cold storage, Change
// (1) for the change of spends out of it.
const (
	Receive uint32 = 0
	Change  uint32 = 1
)

// Required is how many of the three keys must sign.
const Required = 2

// witnessScriptLen is the length of a 2-of-3 multisig script of compressed
// keys: OP_2, three 33-byte pushes, OP_3, OP_CHECKMULTISIG.
const witnessScriptLen = 1 + 3*34 + 2

// Wallet is a 2-of-3 multisig wallet, wsh(sortedmulti(2, A/c/i, B/c/i,
// C/c/i)): each address is the P2WSH of a 2-of-3 CHECKMULTISIG script
// whose three keys, derived at change/index below the three account keys,
// are sorted as BIP67 says. It holds public keys only: the online server
// derives addresses and builds PSBTs, and the private keys stay with the
// three offline signers. It is safe for concurrent use.
type Wallet struct {
	net    keys.Network
	params *chaincfg.Params
	keys   [3]Key
	// branch[k][c] is key k's account key derived at c (Receive, Change).
	branch [3][2]*hdkeychain.ExtendedKey
}

// NewWallet parses the three cosigners' account keys (see ParseKey) for
// net. The order of the keys does not matter: every script sorts them.
//
// Errors: EInvalid for a bad key, a key for another network, the same key
// twice, or two keys from the same seed (one seed holding two of the three
// keys would be a single point of failure).
func NewWallet(net keys.Network, xpubs [3]string) (*Wallet, error) {
	params, err := chainParams(net)
	if err != nil {
		return nil, err
	}
	w := &Wallet{net: net, params: params}
	for i, s := range xpubs {
		k, err := ParseKey(s, net)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.ErrorCode(err), "cosigner key %d: %s", i+1, chengdui.ErrorMessage(err))
		}
		pub, err := k.ext.ECPubKey()
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "cosigner key %d: %v", i+1, err)
		}
		for j := range i {
			other, _ := w.keys[j].ext.ECPubKey()
			switch {
			case pub.IsEqual(other):
				return nil, chengdui.Errorf(chengdui.EInvalid, "cosigner keys %d and %d are the same key: a 2-of-3 wallet needs three different keys", j+1, i+1)
			case k.Fingerprint == w.keys[j].Fingerprint:
				return nil, chengdui.Errorf(chengdui.EInvalid, "cosigner keys %d and %d come from the same seed (fingerprint %x): a 2-of-3 wallet needs three seeds, kept apart", j+1, i+1, k.Fingerprint)
			}
		}
		for c := range w.branch[i] {
			if w.branch[i][c], err = k.ext.Derive(uint32(c)); err != nil {
				return nil, chengdui.Errorf(chengdui.EInvalid, "cosigner key %d gives an invalid key at branch %d; use another account", i+1, c)
			}
		}
		w.keys[i] = k
	}
	return w, nil
}

// Network is the network the wallet's addresses are for.
func (w *Wallet) Network() keys.Network { return w.net }

// Keys returns the three cosigner keys, in the order given.
func (w *Wallet) Keys() [3]Key { return w.keys }

// Address is the deposit address at index on the Receive branch: where a
// sweep from the hot wallet sends coins into cold storage.
//
// Errors: EInvalid for an index ≥ 2^31.
func (w *Wallet) Address(index uint32) (string, error) {
	return w.address(Receive, index)
}

// ChangeAddress is the address at index on the Change branch.
//
// Errors: EInvalid for an index ≥ 2^31.
func (w *Wallet) ChangeAddress(index uint32) (string, error) {
	return w.address(Change, index)
}

func (w *Wallet) address(change, index uint32) (string, error) {
	ws, _, err := w.Script(change, index)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(ws)
	a, err := btcutil.NewAddressWitnessScriptHash(h[:], w.params)
	if err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "p2wsh address: %v", err)
	}
	return a.EncodeAddress(), nil
}

// Script returns the witness script (2 <k1> <k2> <k3> 3 CHECKMULTISIG, keys
// sorted) and the output script (0 <SHA256(witness script)>) at
// change/index.
//
// Errors: EInvalid for change other than Receive or Change, or an index ≥
// 2^31.
func (w *Wallet) Script(change, index uint32) (witnessScript, pkScript []byte, err error) {
	s, err := w.derive(change, index)
	if err != nil {
		return nil, nil, err
	}
	return s.witnessScript, s.pkScript, nil
}

// script is everything about one address that a PSBT records.
type script struct {
	change, index uint32
	witnessScript []byte
	pkScript      []byte
	derivations   []*psbt.Bip32Derivation // sorted by public key
}

func (w *Wallet) derive(change, index uint32) (script, error) {
	if change != Receive && change != Change {
		return script{}, chengdui.Errorf(chengdui.EInvalid, "branch %d: use %d (receive) or %d (change)", change, Receive, Change)
	}
	if index >= keys.Hardened {
		return script{}, chengdui.Errorf(chengdui.EInvalid, "index %d: must be below 2^31", index)
	}
	s := script{change: change, index: index}
	for k := range w.keys {
		child, err := w.branch[k][change].Derive(index)
		if err != nil {
			// Probability below 2^-127; BIP32 says skip the index.
			return script{}, chengdui.Errorf(chengdui.EInvalid, "index %d gives an invalid key for cosigner %d; BIP32 says to use the next index", index, k+1)
		}
		pub, err := child.ECPubKey()
		if err != nil {
			return script{}, chengdui.Errorf(chengdui.EInternal, "public key: %v", err)
		}
		s.derivations = append(s.derivations, &psbt.Bip32Derivation{
			PubKey:               pub.SerializeCompressed(),
			MasterKeyFingerprint: w.keys[k].fingerprint(),
			Bip32Path:            w.keys[k].Path.Child(change, index),
		})
	}
	slices.SortFunc(s.derivations, func(a, b *psbt.Bip32Derivation) int { return bytes.Compare(a.PubKey, b.PubKey) })
	b := txscript.NewScriptBuilder().AddOp(txscript.OP_2)
	for _, d := range s.derivations {
		b.AddData(d.PubKey)
	}
	ws, err := b.AddOp(txscript.OP_3).AddOp(txscript.OP_CHECKMULTISIG).Script()
	if err != nil {
		return script{}, chengdui.Errorf(chengdui.EInternal, "witness script: %v", err)
	}
	s.witnessScript = ws
	s.pkScript = p2wsh(ws)
	return s, nil
}

// p2wsh is the output script 0 <SHA256(ws)>.
func p2wsh(ws []byte) []byte {
	h := sha256.Sum256(ws)
	return append([]byte{txscript.OP_0, txscript.OP_DATA_32}, h[:]...)
}

// Find searches indexes 0 to limit-1 of both branches for the address
// whose output script is pkScript, and returns where it is.
func (w *Wallet) Find(pkScript []byte, limit uint32) (change, index uint32, ok bool) {
	if !txscript.IsPayToWitnessScriptHash(pkScript) {
		return 0, 0, false
	}
	limit = min(limit, keys.Hardened)
	for i := range limit {
		for _, c := range []uint32{Receive, Change} {
			s, err := w.derive(c, i)
			if err == nil && bytes.Equal(s.pkScript, pkScript) {
				return c, i, true
			}
		}
	}
	return 0, 0, false
}

// Descriptor is the output descriptor of one branch, with its checksum:
// wsh(sortedmulti(2,[fp/48'/1'/0'/2']tpub…/0/*,…))#checksum. Import it
// into Bitcoin Core (importdescriptors), Sparrow or Specter as a
// watch-only wallet to check the addresses this package derives.
func (w *Wallet) Descriptor(change uint32) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsh(sortedmulti(%d", Required)
	for _, k := range w.keys {
		fmt.Fprintf(&b, ",%s/%d/*", k, change)
	}
	b.WriteString("))")
	return DescriptorChecksum(b.String())
}

// DescriptorChecksum appends "#" and the BIP380 checksum to desc. It
// returns desc unchanged when desc has a character descriptors do not
// allow.
func DescriptorChecksum(desc string) string {
	const (
		inputCharset    = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
		checksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	)
	generator := [5]uint64{0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd}
	c := uint64(1)
	polymod := func(v uint64) {
		top := c >> 35
		c = (c&0x7ffffffff)<<5 ^ v
		for i, g := range generator {
			if (top>>i)&1 == 1 {
				c ^= g
			}
		}
	}
	var groups []uint64
	for _, r := range desc {
		pos := strings.IndexRune(inputCharset, r)
		if pos < 0 {
			return desc
		}
		polymod(uint64(pos) & 31)
		groups = append(groups, uint64(pos)>>5)
		if len(groups) == 3 {
			polymod(groups[0]*9 + groups[1]*3 + groups[2])
			groups = groups[:0]
		}
	}
	switch len(groups) {
	case 1:
		polymod(groups[0])
	case 2:
		polymod(groups[0]*3 + groups[1])
	}
	for range 8 {
		polymod(0)
	}
	c ^= 1
	sum := make([]byte, 8)
	for i := range sum {
		sum[i] = checksumCharset[(c>>(5*(7-i)))&31]
	}
	return desc + "#" + string(sum)
}
