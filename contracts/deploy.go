package contracts

import (
	"context"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"chengdui"
	"chengdui/evm"
)

// TransactOpts returns options for the generated bindings' transactions
// from from: they are signed with evm.SignTx for chain's id, with the
// nonce, gas limit and EIP-1559 fees go-ethereum's binding code asks the
// chain for, under ctx. Set Value on the result to send ether.
//
// Errors: those of evm.FormatError when the chain id cannot be read.
func TransactOpts(ctx context.Context, chain evm.Chain, from evm.Account) (*bind.TransactOpts, error) {
	chainID, err := chain.ChainID(ctx)
	if err != nil {
		return nil, evm.FormatError(err)
	}
	return &bind.TransactOpts{
		From:    from.Address,
		Context: ctx,
		Signer: func(addr common.Address, tx *types.Transaction) (*types.Transaction, error) {
			if addr != from.Address {
				return nil, chengdui.Errorf(chengdui.EInvalid, "these options sign for %s, not %s", from.Address.Hex(), addr.Hex())
			}
			return evm.SignTx(tx, chainID, from)
		},
	}, nil
}

// DeployRouter sends the transaction that creates a PaymentRouter owned by
// owner that accepts intents signed by signer, from from, and returns the
// router's address and the transaction's hash. It does not wait for a
// block: on a simulated chain, Commit; elsewhere, follow the receipt.
//
// Errors: EInvalid for a zero owner or signer; those of evm.FormatError.
func DeployRouter(ctx context.Context, chain evm.Chain, from evm.Account, owner, signer common.Address) (common.Address, common.Hash, error) {
	if owner == (common.Address{}) || signer == (common.Address{}) {
		return common.Address{}, common.Hash{}, chengdui.Errorf(chengdui.EInvalid, "a payment router needs an owner and a signer address")
	}
	opts, err := TransactOpts(ctx, chain, from)
	if err != nil {
		return common.Address{}, common.Hash{}, err
	}
	addr, tx, _, err := DeployPaymentRouter(opts, chain, owner, signer)
	if err != nil {
		return common.Address{}, common.Hash{}, evm.FormatError(err)
	}
	return addr, tx.Hash(), nil
}
