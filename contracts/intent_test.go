package contracts_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/contracts"
)

// TestIntentDigest checks Go's EIP-712 digest against the router's
// hashIntent and against go-ethereum's generic EIP-712 encoder.
func TestIntentDigest(t *testing.T) {
	f := newFixture(t)
	call := &bind.CallOpts{Context: ctx(t)}
	maxU256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	usdt := common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7")

	intents := map[string]contracts.Intent{
		"ether": f.intent(t, 1, common.Address{}, ether(1), big.NewInt(1)),
		"token, no fee": {
			ID: [32]byte{0: 0xff, 31: 2}, Token: usdt, Amount: big.NewInt(125_000_000), Fee: new(big.Int),
			Recipient: f.recipient, Deadline: big.NewInt(1_900_000_000),
		},
		"largest values": {
			ID: [32]byte{0: 1, 15: 0x80, 31: 0xff}, Token: usdt, Amount: maxU256, Fee: maxU256,
			Recipient:    common.HexToAddress("0xffffffffffffffffffffffffffffffffffffffff"),
			FeeRecipient: f.feeRecipient, Deadline: maxU256,
		},
		"zero values": {Amount: new(big.Int), Fee: new(big.Int), Deadline: new(big.Int)},
	}
	for name, in := range intents {
		t.Run(name, func(t *testing.T) {
			got := contracts.IntentDigest(f.chainID, f.routerAddr, in)
			onChain, err := f.router.HashIntent(call, in.Binding())
			require.NoError(t, err)
			require.Equal(t, onChain, got, "Go and the router disagree")
			require.Equal(t, typedDataHash(t, f.chainID, f.routerAddr, in), got, "Go and go-ethereum's EIP-712 encoder disagree")
		})
	}

	t.Run("domain", func(t *testing.T) {
		sep, err := f.router.DomainSeparator(call)
		require.NoError(t, err)
		require.Equal(t, sep, contracts.DomainSeparator(f.chainID, f.routerAddr))
		th, err := f.router.INTENTTYPEHASH(call)
		require.NoError(t, err)
		require.Equal(t, [32]byte(contracts.IntentTypeHash), th)

		d, err := f.router.Eip712Domain(call)
		require.NoError(t, err)
		require.Equal(t, [1]byte{0x0f}, d.Fields, "name, version, chainId, verifyingContract")
		require.Equal(t, contracts.DomainName, d.Name)
		require.Equal(t, contracts.DomainVersion, d.Version)
		require.Equal(t, f.chainID.String(), d.ChainId.String())
		require.Equal(t, f.routerAddr, d.VerifyingContract)
	})

	t.Run("every field counts", func(t *testing.T) {
		base := intents["largest values"]
		d := contracts.IntentDigest(f.chainID, f.routerAddr, base)
		changes := []func(*contracts.Intent){
			func(in *contracts.Intent) { in.ID[31]-- },
			func(in *contracts.Intent) { in.Token[0]++ },
			func(in *contracts.Intent) { in.Amount = new(big.Int).Sub(maxU256, big.NewInt(1)) },
			func(in *contracts.Intent) { in.Fee = new(big.Int) },
			func(in *contracts.Intent) { in.Recipient[19]-- },
			func(in *contracts.Intent) { in.FeeRecipient = common.Address{} },
			func(in *contracts.Intent) { in.Deadline = big.NewInt(1) },
		}
		for i, change := range changes {
			in := base
			change(&in)
			require.NotEqual(t, d, contracts.IntentDigest(f.chainID, f.routerAddr, in), "field %d", i)
		}
		require.NotEqual(t, d, contracts.IntentDigest(big.NewInt(1), f.routerAddr, base), "chain id")
		require.NotEqual(t, d, contracts.IntentDigest(f.chainID, f.recipient, base), "router")
	})
}

// typedDataHash is the intent's digest by go-ethereum's generic EIP-712
// implementation (the one behind eth_signTypedData_v4).
func typedDataHash(t *testing.T, chainID *big.Int, router common.Address, in contracts.Intent) [32]byte {
	t.Helper()
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {
				{Name: "name", Type: "string"},
				{Name: "version", Type: "string"},
				{Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"},
			},
			"Intent": {
				{Name: "id", Type: "bytes32"},
				{Name: "token", Type: "address"},
				{Name: "amount", Type: "uint256"},
				{Name: "fee", Type: "uint256"},
				{Name: "recipient", Type: "address"},
				{Name: "feeRecipient", Type: "address"},
				{Name: "deadline", Type: "uint256"},
			},
		},
		PrimaryType: "Intent",
		Domain: apitypes.TypedDataDomain{
			Name:              contracts.DomainName,
			Version:           contracts.DomainVersion,
			ChainId:           (*math.HexOrDecimal256)(chainID),
			VerifyingContract: router.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"id":           in.ID[:],
			"token":        in.Token.Hex(),
			"amount":       in.Amount.String(),
			"fee":          in.Fee.String(),
			"recipient":    in.Recipient.Hex(),
			"feeRecipient": in.FeeRecipient.Hex(),
			"deadline":     in.Deadline.String(),
		},
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	require.NoError(t, err)
	return [32]byte(h)
}

func TestSignIntent(t *testing.T) {
	f := newFixture(t)
	in := f.intent(t, 1, common.Address{}, ether(1), big.NewInt(5))

	sig, err := contracts.SignIntent(f.signer, f.operator.Path, f.chainID, f.routerAddr, in)
	require.NoError(t, err)
	require.Len(t, sig, 65)
	require.Contains(t, []byte{27, 28}, sig[64])
	half := new(big.Int).Rsh(crypto.S256().Params().N, 1)
	require.LessOrEqual(t, new(big.Int).SetBytes(sig[32:64]).Cmp(half), 0, "low s")
	d := contracts.IntentDigest(f.chainID, f.routerAddr, in)
	rsv := append([]byte(nil), sig...)
	rsv[64] -= 27
	pub, err := crypto.SigToPub(d[:], rsv)
	require.NoError(t, err)
	require.Equal(t, f.operator.Address, crypto.PubkeyToAddress(*pub))

	tooBig := new(big.Int).Lsh(big.NewInt(1), 256)
	bad := map[string]func(*contracts.Intent){
		"no amount":             func(in *contracts.Intent) { in.Amount = nil },
		"negative amount":       func(in *contracts.Intent) { in.Amount = big.NewInt(-1) },
		"amount of 257 bits":    func(in *contracts.Intent) { in.Amount = tooBig },
		"no fee":                func(in *contracts.Intent) { in.Fee = nil },
		"negative fee":          func(in *contracts.Intent) { in.Fee = big.NewInt(-5) },
		"no deadline":           func(in *contracts.Intent) { in.Deadline = nil },
		"deadline of 257 bits":  func(in *contracts.Intent) { in.Deadline = tooBig },
		"no recipient":          func(in *contracts.Intent) { in.Recipient = common.Address{} },
		"fee, no fee recipient": func(in *contracts.Intent) { in.FeeRecipient = common.Address{} },
	}
	for name, change := range bad {
		t.Run(name, func(t *testing.T) {
			c := in
			change(&c)
			_, err := contracts.SignIntent(f.signer, f.operator.Path, f.chainID, f.routerAddr, c)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
	for _, id := range []*big.Int{nil, new(big.Int), big.NewInt(-1)} {
		_, err := contracts.SignIntent(f.signer, f.operator.Path, id, f.routerAddr, in)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "chain id %v: %v", id, err)
	}

	// A closed signer's error passes through.
	require.NoError(t, f.signer.Close())
	_, err = contracts.SignIntent(f.signer, f.operator.Path, f.chainID, f.routerAddr, in)
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "%v", err)
}

func TestDigestNegativeWraps(t *testing.T) {
	// Out-of-range integers wrap as the chain's uint256 would, without
	// touching the caller's value.
	router := common.HexToAddress("0x1")
	minusOne := big.NewInt(-1)
	maxU256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	a := contracts.IntentDigest(big.NewInt(1), router, contracts.Intent{Amount: minusOne})
	b := contracts.IntentDigest(big.NewInt(1), router, contracts.Intent{Amount: maxU256})
	require.Equal(t, a, b)
	require.Equal(t, "-1", minusOne.String())
}

func TestDecodeRevert(t *testing.T) {
	_, ok := contracts.DecodeRevert(nil)
	require.False(t, ok)
	_, ok = contracts.DecodeRevert(chengdui.Errorf(chengdui.EInvalid, "not a node's error"))
	require.False(t, ok)
	for _, data := range []any{"0x", "0x1234", "0xdeadbeef", "zz", 42} {
		_, ok = contracts.DecodeRevert(dataError{data})
		require.False(t, ok, "%v", data)
	}
	r, ok := contracts.DecodeRevert(dataError{"0x" + common.Bytes2Hex(crypto.Keccak256([]byte("Paused()"))[:4])})
	require.True(t, ok)
	require.Equal(t, "Paused", r.Name)
	require.Empty(t, r.Args)
}

// dataError is a node's error with revert data, as rpc.DataError.
type dataError struct{ data any }

func (e dataError) Error() string          { return "execution reverted" }
func (e dataError) ErrorData() interface{} { return e.data }
