package keys

import (
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"chengdui"
)

// EVMAddress is the account address of a secp256k1 public key. Its Hex
// method gives the EIP-55 checksummed form.
func EVMAddress(pub *btcec.PublicKey) (common.Address, error) {
	if pub == nil {
		return common.Address{}, chengdui.Errorf(chengdui.EInvalid, "no public key")
	}
	p, err := crypto.UnmarshalPubkey(pub.SerializeUncompressed())
	if err != nil {
		return common.Address{}, chengdui.Errorf(chengdui.EInternal, "public key: %v", err)
	}
	return crypto.PubkeyToAddress(*p), nil
}

// ParseEVMAddress parses "0x" and 40 hex digits. All-lowercase and
// all-uppercase addresses carry no checksum and are accepted as they are;
// a mixed-case address must match its EIP-55 checksum, since a mistyped
// letter there is exactly what EIP-55 exists to catch. Anything else is
// EInvalid.
func ParseEVMAddress(s string) (common.Address, error) {
	if len(s) != 42 || !strings.HasPrefix(s, "0x") {
		return common.Address{}, chengdui.Errorf(chengdui.EInvalid, "an EVM address is 0x followed by 40 hex digits")
	}
	digits := s[2:]
	var b [20]byte
	if _, err := hex.Decode(b[:], []byte(digits)); err != nil {
		return common.Address{}, chengdui.Errorf(chengdui.EInvalid, "an EVM address is 0x followed by 40 hex digits")
	}
	a := common.Address(b)
	if strings.ToLower(digits) != digits && strings.ToUpper(digits) != digits && a.Hex() != s {
		return common.Address{}, chengdui.Errorf(chengdui.EInvalid, "EVM address %s fails its EIP-55 checksum: a letter's case is wrong, so a digit may be too", s)
	}
	return a, nil
}
