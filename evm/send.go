package evm

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"chengdui"
	"chengdui/keys"
)

// Account is an address the platform can sign for: the key at Path of
// Signer, whose address is Address. Address is given rather than derived
// because a keys.Signer only signs; SignTx checks that they agree.
type Account struct {
	Signer  keys.Signer
	Path    keys.Path
	Address common.Address
}

// NewAccount is the Account of the key at path in s, its address derived
// from the key.
//
// Errors: those of s.PublicKey (EInvalid for a bad path).
func NewAccount(s *keys.SeedSigner, path keys.Path) (Account, error) {
	pub, err := s.PublicKey(path)
	if err != nil {
		return Account{}, err
	}
	addr, err := keys.EVMAddress(pub)
	if err != nil {
		return Account{}, err
	}
	return Account{Signer: s, Path: path, Address: addr}, nil
}

// SignTx signs tx for the chain chainID with from's key, under the
// newest rules go-ethereum knows for that chain id (EIP-155 replay
// protection, typed transactions).
//
// Errors: EInvalid when from.Address is not the key's address; those of
// the Signer.
func SignTx(tx *types.Transaction, chainID *big.Int, from Account) (*types.Transaction, error) {
	signer := types.LatestSignerForChainID(chainID)
	sig, err := from.Signer.SignDigest(from.Path, signer.Hash(tx).Bytes())
	if err != nil {
		return nil, err
	}
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "evm: signature: %v", err)
	}
	got, err := types.Sender(signer, signed)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "evm: recover signer: %v", err)
	}
	if got != from.Address {
		return nil, chengdui.Errorf(chengdui.EInvalid, "the key at %s is the address %s, not %s", from.Path, got.Hex(), from.Address.Hex())
	}
	return signed, nil
}

// Send gives a signed transaction to the chain.
//
// Errors: EConflict when its nonce is used or it is already in the pool,
// EExceedsCredits when the sender cannot pay value plus the highest fee,
// EInvalid for other refusals (fee below the base fee, gas too low…),
// EUnavailable, EInternal.
func Send(ctx context.Context, c Chain, tx *types.Transaction) error {
	return FormatError(c.SendTransaction(ctx, tx))
}

// Faucet sends amount wei from from to to in an EIP-1559 transaction, with
// the nonce, gas limit and fees the chain suggests, and returns its hash. It
// does not wait for a block: on a simulated chain, Commit; elsewhere, follow
// the receipt.
//
// The fee cap is twice the head's base fee plus the tip, geth's own default,
// so the transaction stays includable through six full blocks of base fee
// rises.
//
// Errors: EInvalid for an amount that is not positive, EExceedsCredits when
// from cannot pay amount and the fee, and those of Send.
func Faucet(ctx context.Context, c Chain, from Account, to common.Address, amount *big.Int) (common.Hash, error) {
	if amount == nil || amount.Sign() <= 0 {
		return common.Hash{}, chengdui.Errorf(chengdui.EInvalid, "a faucet amount is a positive number of wei")
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return common.Hash{}, FormatError(err)
	}
	nonce, err := c.PendingNonceAt(ctx, from.Address)
	if err != nil {
		return common.Hash{}, FormatError(err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return common.Hash{}, FormatError(err)
	}
	if head.BaseFee == nil {
		return common.Hash{}, chengdui.Errorf(chengdui.EInvalid, "chain %s has no base fee: it predates EIP-1559 (London)", chainID)
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		return common.Hash{}, FormatError(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{
		From:      from.Address,
		To:        &to,
		GasFeeCap: feeCap,
		GasTipCap: tip,
		Value:     amount,
	})
	if err != nil {
		return common.Hash{}, FormatError(err)
	}
	tx := types.NewTx(&types.DynamicFeeTx{
		ChainID:   chainID,
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       gas,
		To:        &to,
		Value:     new(big.Int).Set(amount),
	})
	signed, err := SignTx(tx, chainID, from)
	if err != nil {
		return common.Hash{}, err
	}
	if err := Send(ctx, c, signed); err != nil {
		return common.Hash{}, err
	}
	return signed.Hash(), nil
}
