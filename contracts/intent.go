package contracts

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"chengdui"
	"chengdui/keys"
)

// The EIP-712 domain of PaymentRouter; the chain id and the router's
// address complete it.
const (
	DomainName    = "Chengdui PaymentRouter"
	DomainVersion = "1"
)

var (
	// IntentTypeHash is keccak256 of Intent's EIP-712 type, the router's
	// INTENT_TYPEHASH.
	IntentTypeHash = crypto.Keccak256Hash([]byte("Intent(bytes32 id,address token,uint256 amount,uint256 fee,address recipient,address feeRecipient,uint256 deadline)"))

	domainTypeHash = crypto.Keccak256Hash([]byte("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"))
	nameHash       = crypto.Keccak256Hash([]byte(DomainName))
	versionHash    = crypto.Keccak256Hash([]byte(DomainVersion))
)

// maxUint256 bounds every integer field: they are uint256 on chain.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Intent is a payment the operator approves, PaymentRouter's Intent in Go:
// pay Amount of Token to Recipient and Fee to FeeRecipient, in a block whose
// timestamp is at most Deadline. Amounts are in the token's smallest units
// (wei for ether). The router pays each ID once.
type Intent struct {
	ID           [32]byte
	Token        common.Address // the zero address for ether
	Amount       *big.Int
	Fee          *big.Int
	Recipient    common.Address
	FeeRecipient common.Address // may be zero when Fee is zero
	Deadline     *big.Int       // unix seconds
}

// Validate reports what the router would refuse in the intent itself:
// amounts, fee and deadline that are missing, negative or wider than 256
// bits, no recipient, or a fee without a fee recipient (EInvalid).
func (in Intent) Validate() error {
	for _, f := range []struct {
		name string
		v    *big.Int
	}{{"amount", in.Amount}, {"fee", in.Fee}, {"deadline", in.Deadline}} {
		if f.v == nil || f.v.Sign() < 0 || f.v.Cmp(maxUint256) > 0 {
			return chengdui.Errorf(chengdui.EInvalid, "payment intent: the %s must be a whole number from 0 to 2^256-1", f.name)
		}
	}
	if in.Recipient == (common.Address{}) {
		return chengdui.Errorf(chengdui.EInvalid, "payment intent: no recipient; the zero address would burn the payment")
	}
	if in.Fee.Sign() > 0 && in.FeeRecipient == (common.Address{}) {
		return chengdui.Errorf(chengdui.EInvalid, "payment intent: a fee needs a fee recipient")
	}
	return nil
}

// Binding is the intent as the generated binding takes it, for
// PaymentRouter's Pay and HashIntent. The big integers are shared, not
// copied.
func (in Intent) Binding() PaymentRouterIntent {
	return PaymentRouterIntent{
		Id:           in.ID,
		Token:        in.Token,
		Amount:       in.Amount,
		Fee:          in.Fee,
		Recipient:    in.Recipient,
		FeeRecipient: in.FeeRecipient,
		Deadline:     in.Deadline,
	}
}

// DomainSeparator is the EIP-712 domain separator of the router at address
// router on chain chainID.
func DomainSeparator(chainID *big.Int, router common.Address) [32]byte {
	return crypto.Keccak256Hash(
		domainTypeHash[:], nameHash[:], versionHash[:], word(chainID), common.LeftPadBytes(router[:], 32),
	)
}

// IntentDigest is the EIP-712 digest of in for the router at address
// router on chain chainID: what the operator signs and what the router's
// hashIntent returns. A nil integer counts as zero; integers outside
// [0, 2^256) are taken modulo 2^256, as the chain would never see them
// (Validate refuses them).
func IntentDigest(chainID *big.Int, router common.Address, in Intent) [32]byte {
	structHash := crypto.Keccak256Hash(
		IntentTypeHash[:],
		in.ID[:],
		common.LeftPadBytes(in.Token[:], 32),
		word(in.Amount),
		word(in.Fee),
		common.LeftPadBytes(in.Recipient[:], 32),
		common.LeftPadBytes(in.FeeRecipient[:], 32),
		word(in.Deadline),
	)
	domain := DomainSeparator(chainID, router)
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, domain[:], structHash[:])
}

// word is v as a 32-byte big-endian uint256, two's complement modulo 2^256.
func word(v *big.Int) []byte {
	var b [32]byte
	if v == nil {
		return b[:]
	}
	w := new(big.Int).And(v, maxUint256) // And on a negative v gives its two's complement
	return w.FillBytes(b[:])
}

// SignIntent signs in for the router at address router on chain chainID
// with the key at path, and returns the 65-byte signature r || s || v with
// v 27 or 28 and s in the lower half of the curve order, the form the
// router's pay accepts. The key's address must be the router's signer.
//
// Errors: EInvalid for a chain id that is not positive or an intent
// Validate refuses; those of s.
func SignIntent(s keys.Signer, path keys.Path, chainID *big.Int, router common.Address, in Intent) ([]byte, error) {
	if chainID == nil || chainID.Sign() <= 0 || chainID.Cmp(maxUint256) > 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "payment intent: the chain id must be positive")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	digest := IntentDigest(chainID, router, in)
	sig, err := s.SignDigest(path, digest[:])
	if err != nil {
		return nil, err
	}
	if len(sig) != 65 || sig[64] > 1 {
		return nil, chengdui.Errorf(chengdui.EInternal, "payment intent: the signer returned a %d-byte signature, not r || s || v with v in {0, 1}", len(sig))
	}
	out := append([]byte(nil), sig...)
	out[64] += 27
	return out, nil
}
