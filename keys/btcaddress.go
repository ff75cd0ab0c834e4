package keys

import (
	"errors"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"chengdui"
)

// maxBitcoinAddressLen bounds the input before any decoding: bech32
// addresses have at most 90 characters and base58 ones about 35.
const maxBitcoinAddressLen = 100

// BitcoinAddress is a Bitcoin address that can receive a payout on the
// network it was parsed for.
type BitcoinAddress struct {
	String       string // canonical form: bech32 lowercased, base58 as given
	Type         string // "p2pkh", "p2sh", "p2wpkh", "p2wsh" or "p2tr"
	ScriptPubKey []byte // the output script that pays it
}

// ParseBitcoinAddress parses a withdrawal or payout address for net:
// base58 P2PKH and P2SH, bech32 witness v0 (P2WPKH, P2WSH) and bech32m
// witness v1 (P2TR). Surrounding spaces are trimmed and all-uppercase
// bech32 is accepted, as BIP173 allows.
//
// It refuses, with EInvalid: empty and overlong input, bad checksums,
// mixed-case bech32, a witness version with the other checksum variant
// (BIP350: v0 is bech32, v1 and later bech32m), witness versions 2 to 16
// and v1 programs that are not 32 bytes (valid per BIP350, but nothing can
// spend them yet, so a payout there is burnt), raw public keys, private
// keys, and addresses of another network than net. Testnet, signet and
// regtest share base58 prefixes, so a base58 address is accepted on all
// three; testnet and signet share "tb". An unknown net is EInvalid too.
//
// No message quotes the input: what was pasted may be a secret.
func ParseBitcoinAddress(s string, net Network) (BitcoinAddress, error) {
	params, err := net.check()
	if err != nil {
		return BitcoinAddress{}, err
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInvalid, "no Bitcoin address given")
	case len(s) > maxBitcoinAddressLen:
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInvalid, "a Bitcoin address has at most %d characters, not %d", maxBitcoinAddressLen, len(s))
	}

	segwit := isSegwitPrefixed(s)
	if segwit {
		if err := checkSegwit(s, net); err != nil {
			return BitcoinAddress{}, err
		}
	}
	a, err := btcutil.DecodeAddress(s, params)
	if err != nil {
		return BitcoinAddress{}, decodeError(s, net, segwit, err)
	}
	if !a.IsForNet(params) {
		return BitcoinAddress{}, wrongNetwork(net, a)
	}

	var typ string
	switch a.(type) {
	case *btcutil.AddressPubKeyHash:
		typ = "p2pkh"
	case *btcutil.AddressScriptHash:
		typ = "p2sh"
	case *btcutil.AddressWitnessPubKeyHash:
		typ = "p2wpkh"
	case *btcutil.AddressWitnessScriptHash:
		typ = "p2wsh"
	case *btcutil.AddressTaproot:
		typ = "p2tr"
	case *btcutil.AddressPubKey:
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInvalid, "that is a raw public key, not an address: give the address its wallet shows")
	default:
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInvalid, "unsupported kind of Bitcoin address")
	}

	// The address must be exactly what it decoded to. This is what stops
	// btcutil's quirks from redirecting a payout: it decodes a witness v1
	// address with a 20-byte program as a v0 P2WPKH one, which re-encodes
	// to a different address and pays a different script.
	canonical := a.EncodeAddress()
	want := s
	if segwit {
		want = strings.ToLower(s)
	}
	if canonical != want {
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInvalid, "unsupported Bitcoin address: only P2PKH, P2SH, P2WPKH, P2WSH and 32-byte P2TR addresses can receive payouts")
	}

	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		return BitcoinAddress{}, chengdui.Errorf(chengdui.EInternal, "output script of a %s address: %v", typ, err)
	}
	return BitcoinAddress{String: canonical, Type: typ, ScriptPubKey: script}, nil
}

// isSegwitPrefixed reports whether s starts with the bech32 prefix of a
// known network (bc1, tb1, bcrt1…), the rule btcutil.DecodeAddress uses to
// choose between bech32 and base58.
func isSegwitPrefixed(s string) bool {
	i := strings.LastIndexByte(s, '1')
	return i > 1 && chaincfg.IsBech32SegwitPrefix(s[:i+1])
}

// checkSegwit checks what btcutil reports vaguely or not at all: mixed
// case, the checksum, the checksum variant of the witness version (btcutil
// checks it for v0 and v1 only) and witness versions payouts cannot use.
func checkSegwit(s string, net Network) error {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address mixes upper and lower case: a bech32 address is all one case")
	}
	_, data, variant, err := bech32.DecodeGeneric(s)
	if err != nil {
		var sum bech32.ErrInvalidChecksum
		if errors.As(err, &sum) {
			return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address fails its checksum: a character is mistyped or missing")
		}
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address is malformed bech32")
	}
	if len(data) == 0 || data[0] > 16 {
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address has no valid witness version")
	}
	version := data[0]
	switch {
	case version == 0 && variant != bech32.Version0:
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address has witness version 0 but a bech32m checksum; v0 addresses use bech32 (BIP350), so it was mistyped or made by faulty software")
	case version > 0 && variant != bech32.VersionM:
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address has witness version %d but a bech32 checksum; v1 and later addresses use bech32m (BIP350), so it was mistyped or made by faulty software", version)
	case version > 1:
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin witness version %d addresses are not supported for payouts: give a %s1q… (v0) or %s1p… (Taproot) address", version, net.HRP(), net.HRP())
	}
	return nil
}

// decodeError turns btcutil's decoding errors into messages, and names the
// network of a base58 address that btcutil only calls of unknown type
// because its version byte is another network's.
func decodeError(s string, net Network, segwit bool, err error) error {
	var progLen btcutil.UnsupportedWitnessProgLenError
	switch {
	case errors.Is(err, btcutil.ErrChecksumMismatch):
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address fails its checksum: a character is mistyped or missing")
	case errors.As(err, &progLen):
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address has a %d-byte witness program: payouts go to 20-byte (P2WPKH) and 32-byte (P2WSH, P2TR) programs only", int(progLen))
	case errors.Is(err, btcutil.ErrUnknownAddressType):
		for _, other := range Networks {
			if other == net {
				continue
			}
			p := other.params()
			if a, err := btcutil.DecodeAddress(s, p); err == nil && a.IsForNet(p) {
				return wrongNetwork(net, a)
			}
		}
		return chengdui.Errorf(chengdui.EInvalid, "not a Bitcoin address: its version byte belongs to no Bitcoin network")
	case segwit:
		// checkSegwit passed, so what is left is the program: its length
		// (2 to 40 bytes, 20 or 32 for v0) or its padding.
		return chengdui.Errorf(chengdui.EInvalid, "Bitcoin address has an invalid witness program: wrong length or padding")
	}
	if _, err := btcutil.DecodeWIF(s); err == nil {
		return chengdui.Errorf(chengdui.EInvalid, "that is a private key, not an address: do not share it, and move its funds if it has been exposed")
	}
	return chengdui.Errorf(chengdui.EInvalid, "not a Bitcoin address")
}

// wrongNetwork names the networks a is for, in a message for a server on
// net.
func wrongNetwork(net Network, a btcutil.Address) error {
	var names []string
	for _, n := range Networks {
		if a.IsForNet(n.params()) {
			names = append(names, n.String())
		}
	}
	if len(names) == 0 {
		return chengdui.Errorf(chengdui.EInvalid, "that address belongs to no Bitcoin network this server knows; this server is on %s", net)
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + list
	}
	return chengdui.Errorf(chengdui.EInvalid, "that is a %s address, but this server is on %s", list, net)
}
