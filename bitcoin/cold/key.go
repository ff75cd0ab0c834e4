package cold

import (
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"

	"chengdui"
	"chengdui/keys"
)

// Purpose is BIP48's purpose, the multisig accounts' m/48'.
const Purpose uint32 = 48

// ScriptType is BIP48's script type for native segwit (P2WSH) multisig,
// the last step of the account path m/48'/coin'/account'/2'.
const ScriptType uint32 = 2

// Extended public key version bytes: BIP32's xpub and tpub, and SLIP-132's
// Zpub and Vpub, which Electrum and Sparrow show for P2WSH multisig
// accounts. Keys are kept and printed as xpub or tpub, as output
// descriptors write them.
var (
	versionXPub      = [4]byte{0x04, 0x88, 0xb2, 0x1e}
	versionTPub      = [4]byte{0x04, 0x35, 0x87, 0xcf}
	versionZPubMulti = [4]byte{0x02, 0xaa, 0x7e, 0xd3}
	versionVPubMulti = [4]byte{0x02, 0x57, 0x54, 0x83}
)

// maxKeyLen bounds a key's text before any decoding: an xpub has 111
// characters and its origin at most a few dozen.
const maxKeyLen = 300

// Key is one cosigner's account key with its origin: the fingerprint of
// the master key it descends from and the path to it. It prints as an
// output descriptor key expression, [d34db33f/48'/1'/0'/2']tpub…, the
// form Bitcoin Core, Sparrow, Specter and Coldcard exchange. The origin is
// what lets a PSBT tell each signer which key to use (BIP174's BIP32
// derivation fields).
type Key struct {
	Fingerprint [4]byte   // first 4 bytes of HASH160 of the master public key
	Path        keys.Path // from the master key to this account key
	ext         *hdkeychain.ExtendedKey
}

// ParseKey parses "[fingerprint/path]xpub" for net: xpub or Zpub on
// mainnet, tpub or Vpub on the test networks. The origin path must be as
// long as the key is deep, end with the key's own child number, and be all
// hardened; a BIP48 path (48'/coin'/account'/script') must have the
// network's coin type and script type 2' (native P2WSH).
//
// Errors: EInvalid, with what to fix. Messages never quote the input: a
// private key pasted by mistake must not reach a log.
func ParseKey(s string, net keys.Network) (Key, error) {
	params, err := chainParams(net)
	if err != nil {
		return Key{}, err
	}
	s = strings.TrimSpace(s)
	if len(s) > maxKeyLen {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a cosigner key has at most %d characters, not %d", maxKeyLen, len(s))
	}
	origin, xpub, ok := strings.Cut(strings.TrimPrefix(s, "["), "]")
	if !strings.HasPrefix(s, "[") || !ok {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a cosigner key needs its origin, [fingerprint/48'/coin'/account'/2']xpub…, as 'chengdui cold xpub' and descriptor wallets print it; a bare xpub does not say which seed and path signs for it")
	}
	fpHex, pathText, hasPath := strings.Cut(origin, "/")
	var k Key
	if len(fpHex) != 8 {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a key origin starts with the master key's fingerprint, 8 hex digits")
	}
	if _, err := hex.Decode(k.Fingerprint[:], []byte(fpHex)); err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a key origin starts with the master key's fingerprint, 8 hex digits")
	}
	if !hasPath {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a key origin gives the path after the fingerprint, e.g. [d34db33f/48'/0'/0'/2']")
	}
	if k.Path, err = keys.ParsePath("m/" + pathText); err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path: %s", chengdui.ErrorMessage(err))
	}

	ext, err := hdkeychain.NewKeyFromString(xpub)
	if err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "cosigner extended public key is malformed or its checksum does not match")
	}
	if ext.IsPrivate() {
		ext.Zero()
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "a private extended key was given where a cosigner's public key belongs; keep it offline, and move its funds if it was exposed")
	}
	mainnet := false
	switch [4]byte(ext.Version()) {
	case versionXPub, versionZPubMulti:
		mainnet = true
	case versionTPub, versionVPubMulti:
	default:
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "extended public key version %x: use xpub or Zpub (mainnet), tpub or Vpub (test networks)", ext.Version())
	}
	if mainnet != (net == keys.Mainnet) {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "that cosigner key is for another network than %s", net)
	}
	if ext, err = ext.CloneWithVersion(params.HDPublicKeyID[:]); err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInternal, "re-encode key: %v", err)
	}
	switch {
	case len(k.Path) == 0 || len(k.Path) != int(ext.Depth()):
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path %s has %d steps but the key is at depth %d", k.Path, len(k.Path), ext.Depth())
	case k.Path[len(k.Path)-1] != ext.ChildIndex():
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path %s does not end with the key's own child number", k.Path)
	}
	for _, step := range k.Path {
		if step < keys.Hardened {
			return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path %s has an unhardened step: an account key is derived with hardened steps only", k.Path)
		}
	}
	if len(k.Path) == 4 && k.Path[0] == Purpose+keys.Hardened {
		if k.Path[1] != coinType(net)+keys.Hardened {
			return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path %s has coin type %d, but %s uses %d", k.Path, k.Path[1]-keys.Hardened, net, coinType(net))
		}
		if k.Path[3] != ScriptType+keys.Hardened {
			return Key{}, chengdui.Errorf(chengdui.EInvalid, "key origin path %s is BIP48 script type %d; this wallet is native P2WSH, script type 2'", k.Path, k.Path[3]-keys.Hardened)
		}
	}
	k.ext = ext
	return k, nil
}

// String is the key expression [fingerprint/path]xpub.
func (k Key) String() string {
	return "[" + hex.EncodeToString(k.Fingerprint[:]) + strings.TrimPrefix(k.Path.String(), "m") + "]" + k.XPub()
}

// XPub is the account's extended public key, xpub or tpub.
func (k Key) XPub() string {
	if k.ext == nil {
		return ""
	}
	return k.ext.String()
}

// fingerprint is Fingerprint as BIP174 serialises it and package psbt
// holds it: the four bytes read as a little-endian uint32.
func (k Key) fingerprint() uint32 { return binary.LittleEndian.Uint32(k.Fingerprint[:]) }

// AccountKey derives the BIP48 P2WSH account key m/48'/coin'/account'/2'
// of seed on net, with its origin: what each cosigner gives the online
// server. Intermediate private keys are zeroed.
//
// Errors: EInvalid for an account ≥ 2^31 or an unknown network.
func AccountKey(seed keys.Seed, net keys.Network, account uint32) (Key, error) {
	params, err := chainParams(net)
	if err != nil {
		return Key{}, err
	}
	if account >= keys.Hardened {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "account %d: must be below 2^31", account)
	}
	master, err := hdkeychain.NewMaster(seed.Bytes(), params)
	if err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInvalid, "the seed gives no usable master key: %v", err)
	}
	defer master.Zero()
	mpub, err := master.ECPubKey()
	if err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInternal, "master public key: %v", err)
	}
	k := Key{Path: keys.Path{Purpose + keys.Hardened, coinType(net) + keys.Hardened, account + keys.Hardened, ScriptType + keys.Hardened}}
	copy(k.Fingerprint[:], btcutil.Hash160(mpub.SerializeCompressed()))
	cur := master
	for _, step := range k.Path {
		next, err := cur.Derive(step)
		if cur != master {
			cur.Zero()
		}
		if err != nil {
			return Key{}, chengdui.Errorf(chengdui.EInvalid, "derivation at %s gives an invalid key; use another account", k.Path)
		}
		cur = next
	}
	pub, err := cur.Neuter()
	if err != nil {
		cur.Zero()
		return Key{}, chengdui.Errorf(chengdui.EInternal, "neuter: %v", err)
	}
	// The neutered key shares its public key bytes with cur, which Zero
	// clears: keep a copy made through the text form.
	text := pub.String()
	cur.Zero()
	if k.ext, err = hdkeychain.NewKeyFromString(text); err != nil {
		return Key{}, chengdui.Errorf(chengdui.EInternal, "account key: %v", err)
	}
	return k, nil
}

// coinType is SLIP-44's: 0 on mainnet, 1 on every test network.
func coinType(net keys.Network) uint32 {
	if net == keys.Mainnet {
		return 0
	}
	return 1
}

// chainParams maps a network to btcd's parameters. btcd has no testnet4;
// it shares testnet3's prefixes and version bytes, all this package uses.
func chainParams(net keys.Network) (*chaincfg.Params, error) {
	switch net {
	case keys.Mainnet:
		return &chaincfg.MainNetParams, nil
	case keys.Testnet:
		return &chaincfg.TestNet3Params, nil
	case keys.Signet:
		return &chaincfg.SigNetParams, nil
	case keys.Regtest:
		return &chaincfg.RegressionNetParams, nil
	}
	return nil, chengdui.Errorf(chengdui.EInvalid, "unknown network %d: use mainnet, testnet, signet or regtest", int(net))
}
