package keys

import (
	"bytes"
	"errors"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"chengdui"
)

// Scheme is a kind of deposit address and the BIP43 purpose it is derived
// under.
type Scheme int

const (
	P2WPKH Scheme = iota + 1 // BIP84: m/84'/coin'/account'/change/index, bech32 v0 addresses
	P2TR                     // BIP86: m/86'/coin'/account'/change/index, bech32m v1 key-path-only addresses
	EVM                      // BIP44: m/44'/60'/account'/change/index, EIP-55 hex addresses
)

// Schemes lists every scheme.
var Schemes = []Scheme{P2WPKH, P2TR, EVM}

// CoinTypeEVM is the SLIP-44 coin type of Ether, used on every EVM chain.
const CoinTypeEVM uint32 = 60

func (s Scheme) String() string {
	switch s {
	case P2WPKH:
		return "p2wpkh"
	case P2TR:
		return "p2tr"
	case EVM:
		return "evm"
	}
	return "unknown"
}

// Purpose is the scheme's BIP43 purpose: 84, 86 or 44.
func (s Scheme) Purpose() uint32 {
	switch s {
	case P2WPKH:
		return 84
	case P2TR:
		return 86
	case EVM:
		return 44
	}
	return 0
}

// CoinType is the SLIP-44 coin type: 0 for Bitcoin mainnet, 1 for every
// Bitcoin test network, 60 for EVM chains whatever the network.
func (s Scheme) CoinType(net Network) uint32 {
	switch {
	case s == EVM:
		return CoinTypeEVM
	case net == Mainnet:
		return 0
	}
	return 1
}

// AccountPath is m/purpose'/coin'/account'.
func (s Scheme) AccountPath(net Network, account uint32) Path {
	return Path{s.Purpose() + Hardened, s.CoinType(net) + Hardened, account + Hardened}
}

// Path is the full path of one address: the account path, then change (0
// receiving, 1 change) and index, both unhardened.
func (s Scheme) Path(net Network, account, change, index uint32) Path {
	return s.AccountPath(net, account).Child(change, index)
}

func (s Scheme) check() error {
	if s.Purpose() == 0 {
		return chengdui.Errorf(chengdui.EInvalid, "unknown address scheme %d", int(s))
	}
	return nil
}

// Extended public key version bytes. BIP32 defines xpub and tpub; SLIP-132
// adds zpub and vpub to tell wallets an account is BIP84.
var (
	versionXPub = [4]byte{0x04, 0x88, 0xb2, 0x1e}
	versionTPub = [4]byte{0x04, 0x35, 0x87, 0xcf}
	versionZPub = [4]byte{0x04, 0xb2, 0x47, 0x46}
	versionVPub = [4]byte{0x04, 0x5f, 0x1c, 0xf6}
)

// masterKey returns the BIP32 master private key of seed, serialising as
// the network's xprv/tprv. Callers must Zero it.
func masterKey(seed Seed, net Network) (*hdkeychain.ExtendedKey, error) {
	params, err := net.check()
	if err != nil {
		return nil, err
	}
	k, err := hdkeychain.NewMaster(seed.b, params)
	if err != nil {
		if errors.Is(err, hdkeychain.ErrInvalidSeedLen) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "a seed has 16 to 64 bytes, not %d", len(seed.b))
		}
		// ErrUnusableSeed: probability below 2^-127.
		return nil, chengdui.Errorf(chengdui.EInvalid, "the seed gives an invalid master key; use another seed")
	}
	return k, nil
}

// derivePath derives p below k. Intermediate private keys are zeroed; the
// caller zeroes the result. k itself is left alone.
func derivePath(k *hdkeychain.ExtendedKey, p Path) (*hdkeychain.ExtendedKey, error) {
	if len(p) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "empty derivation path: the master key itself is never used")
	}
	if len(p) > maxDepth-int(k.Depth()) {
		return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path is deeper than BIP32 allows")
	}
	cur := k
	for _, i := range p {
		next, err := cur.Derive(i)
		if cur != k {
			cur.Zero()
		}
		if err != nil {
			if errors.Is(err, hdkeychain.ErrDeriveHardFromPublic) {
				return nil, chengdui.Errorf(chengdui.EInvalid, "a hardened step cannot be derived from a public key")
			}
			// ErrInvalidChild: probability below 2^-127; BIP32 says skip the index.
			return nil, chengdui.Errorf(chengdui.EInvalid, "derivation at %s gives an invalid key; BIP32 says to use the next index", p)
		}
		cur = next
	}
	return cur, nil
}

// AccountXPub derives m/purpose'/coin'/account' from seed and returns its
// extended public key, serialised with BIP32's standard version bytes for
// net: xpub on Mainnet, tpub on the test networks. Those are the bytes BIP86
// and output descriptors use; for BIP84 wallets that want SLIP-132 prefixes,
// convert with ZPub. EVM accounts conventionally use Mainnet (xpub), since
// coin type 60 is the same on every EVM chain.
func AccountXPub(seed Seed, net Network, purpose, coin, account uint32) (string, error) {
	if purpose >= Hardened || coin >= Hardened || account >= Hardened {
		return "", chengdui.Errorf(chengdui.EInvalid, "purpose, coin type and account must be below 2^31")
	}
	m, err := masterKey(seed, net)
	if err != nil {
		return "", err
	}
	defer m.Zero()
	acct, err := derivePath(m, Path{purpose + Hardened, coin + Hardened, account + Hardened})
	if err != nil {
		return "", err
	}
	defer acct.Zero()
	pub, err := acct.Neuter()
	if err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "neuter: %v", err)
	}
	return pub.String(), nil
}

// SchemeXPub is AccountXPub at s.AccountPath(net, account). EVM accounts
// are the same on every network and always serialise as xpub.
func SchemeXPub(seed Seed, s Scheme, net Network, account uint32) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if _, err := net.check(); err != nil {
		return "", err
	}
	if s == EVM {
		net = Mainnet
	}
	return AccountXPub(seed, net, s.Purpose(), s.CoinType(net), account)
}

// ZPub re-encodes an xpub as a SLIP-132 zpub (and a tpub as a vpub), the
// form BIP84's test vectors and wallets such as Electrum and Sparrow show.
// The key is unchanged; DeriveFromXPub accepts either form.
func ZPub(xpub string) (string, error) {
	k, err := parseAccountXPub(xpub)
	if err != nil {
		return "", err
	}
	var v [4]byte
	switch [4]byte(k.Version()) {
	case versionXPub, versionZPub:
		v = versionZPub
	case versionTPub, versionVPub:
		v = versionVPub
	}
	z, err := k.CloneWithVersion(v[:])
	if err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "re-encode: %v", err)
	}
	return z.String(), nil
}

// parseAccountXPub parses an account-level extended public key and refuses
// private keys, unknown versions and keys at another depth than 3.
func parseAccountXPub(s string) (*hdkeychain.ExtendedKey, error) {
	if len(s) > 200 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "extended public key is too long")
	}
	k, err := hdkeychain.NewKeyFromString(s)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "extended public key is malformed or its checksum does not match")
	}
	if k.IsPrivate() {
		k.Zero()
		return nil, chengdui.Errorf(chengdui.EInvalid, "a private extended key was given where an account's public key belongs; keep it offline")
	}
	switch [4]byte(k.Version()) {
	case versionXPub, versionTPub, versionZPub, versionVPub:
	default:
		return nil, chengdui.Errorf(chengdui.EInvalid, "extended public key version %x: use xpub, tpub, zpub or vpub", k.Version())
	}
	if k.Depth() != 3 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "extended public key is at depth %d; an account key (m/purpose'/coin'/account') is at depth 3", k.Depth())
	}
	return k, nil
}

func isMainnetVersion(v []byte) bool {
	return bytes.Equal(v, versionXPub[:]) || bytes.Equal(v, versionZPub[:])
}

// DeriveFromXPub derives the public key at change/index below an account's
// extended public key (xpub, tpub, zpub or vpub, depth 3), with no secret.
// change and index must be unhardened (below 2^31); anything else is EInvalid.
func DeriveFromXPub(xpub string, change, index uint32) (*btcec.PublicKey, error) {
	k, err := parseAccountXPub(xpub)
	if err != nil {
		return nil, err
	}
	return derivePublic(k, change, index)
}

func derivePublic(k *hdkeychain.ExtendedKey, change, index uint32) (*btcec.PublicKey, error) {
	if change >= Hardened || index >= Hardened {
		return nil, chengdui.Errorf(chengdui.EInvalid, "change and index must be below 2^31: watch-only keys derive unhardened children only")
	}
	child, err := derivePath(k, Path{change, index})
	if err != nil {
		return nil, err
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "public key: %v", err)
	}
	return pub, nil
}

// Watcher derives one account's addresses from its extended public key:
// what a server in cold mode holds instead of the seed. It is safe for
// concurrent use.
type Watcher struct {
	scheme Scheme
	net    Network
	acct   *hdkeychain.ExtendedKey
	// chains are the account's derived change-level keys (0 receive, 1
	// change): an address then costs one derivation, not two.
	chains [2]*hdkeychain.ExtendedKey
}

// NewWatcher checks xpub (see DeriveFromXPub) and, for Bitcoin schemes,
// that its version bytes belong to net (xpub/zpub on Mainnet, tpub/vpub
// elsewhere), so that a test key never yields mainnet addresses or the
// reverse. EVM accepts any of the four versions.
func NewWatcher(s Scheme, net Network, xpub string) (*Watcher, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if _, err := net.check(); err != nil {
		return nil, err
	}
	k, err := parseAccountXPub(xpub)
	if err != nil {
		return nil, err
	}
	if s != EVM && isMainnetVersion(k.Version()) != (net == Mainnet) {
		return nil, chengdui.Errorf(chengdui.EInvalid, "extended public key is for another network than %s", net)
	}
	w := &Watcher{scheme: s, net: net, acct: k}
	for change := range w.chains {
		if w.chains[change], err = derivePath(k, Path{uint32(change)}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Scheme and Network report what the watcher derives.
func (w *Watcher) Scheme() Scheme   { return w.scheme }
func (w *Watcher) Network() Network { return w.net }

// PublicKey derives the public key at change/index.
func (w *Watcher) PublicKey(change, index uint32) (*btcec.PublicKey, error) {
	if change < uint32(len(w.chains)) && index < Hardened {
		child, err := derivePath(w.chains[change], Path{index})
		if err != nil {
			return nil, err
		}
		pub, err := child.ECPubKey()
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "public key: %v", err)
		}
		return pub, nil
	}
	return derivePublic(w.acct, change, index)
}

// Address derives the address at change/index.
func (w *Watcher) Address(change, index uint32) (string, error) {
	pub, err := w.PublicKey(change, index)
	if err != nil {
		return "", err
	}
	return Address(w.scheme, w.net, pub)
}

// DerivePublicKey derives the public key at s.Path(net, account, change,
// index) from the seed: what a Watcher of the same account yields.
func DerivePublicKey(seed Seed, s Scheme, net Network, account, change, index uint32) (*btcec.PublicKey, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if account >= Hardened || change >= Hardened || index >= Hardened {
		return nil, chengdui.Errorf(chengdui.EInvalid, "account, change and index must be below 2^31")
	}
	m, err := masterKey(seed, net)
	if err != nil {
		return nil, err
	}
	defer m.Zero()
	k, err := derivePath(m, s.Path(net, account, change, index))
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	pub, err := k.ECPubKey()
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "public key: %v", err)
	}
	return pub, nil
}

// DeriveAddress derives the address at s.Path(net, account, change, index)
// from the seed. EVM addresses do not depend on net.
func DeriveAddress(seed Seed, s Scheme, net Network, account, change, index uint32) (string, error) {
	pub, err := DerivePublicKey(seed, s, net, account, change, index)
	if err != nil {
		return "", err
	}
	return Address(s, net, pub)
}

// Address encodes pub as an address of scheme s on net: P2WPKH as bech32
// witness v0 of HASH160(compressed key) (BIP84/BIP141/BIP173); P2TR as
// bech32m witness v1 of the BIP86 output key, the internal key tweaked with
// no script tree (BIP341/BIP350); EVM as the EIP-55 hex of the last 20
// bytes of Keccak-256 of the uncompressed key.
func Address(s Scheme, net Network, pub *btcec.PublicKey) (string, error) {
	if pub == nil {
		return "", chengdui.Errorf(chengdui.EInvalid, "no public key")
	}
	var params *chaincfg.Params
	if s != EVM {
		var err error
		if params, err = net.check(); err != nil {
			return "", err
		}
	}
	switch s {
	case P2WPKH:
		a, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), params)
		if err != nil {
			return "", chengdui.Errorf(chengdui.EInternal, "p2wpkh address: %v", err)
		}
		return a.EncodeAddress(), nil
	case P2TR:
		out := txscript.ComputeTaprootKeyNoScript(pub)
		a, err := btcutil.NewAddressTaproot(schnorr.SerializePubKey(out), params)
		if err != nil {
			return "", chengdui.Errorf(chengdui.EInternal, "p2tr address: %v", err)
		}
		return a.EncodeAddress(), nil
	case EVM:
		a, err := EVMAddress(pub)
		if err != nil {
			return "", err
		}
		return a.Hex(), nil
	}
	return "", s.check()
}
