package main

import (
	"context"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"chengdui/evm"
	"chengdui/keys"
)

// devChainFunds is what the faucet account holds at genesis: 1,000,000 ETH.
var devChainFunds = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))

// devChain is dev's in-process EVM chain (chain id evm.SimulatedChainID).
// Its genesis funds the dev keystore's first EVM account, m/44'/60'/0'/0/0,
// which the faucet pays from. It implements Start/Stop: serveApp starts it
// after the ledger and stops it after HTTP.
type devChain struct {
	signer    *keys.SeedSigner
	blockTime time.Duration // 0: no timer; blocks are sealed by nobody

	sim         *evm.Simulated
	faucet      evm.Account
	stopSealing func()
}

func newDevChain(signer *keys.SeedSigner, blockTime time.Duration) *devChain {
	return &devChain{signer: signer, blockTime: blockTime}
}

// Start creates the chain and, unless the block time is 0, seals a block
// on every tick.
func (c *devChain) Start(context.Context) error {
	faucet, err := evm.NewAccount(c.signer, keys.EVM.Path(keys.Mainnet, 0, 0, 0))
	if err != nil {
		return err
	}
	sim, err := evm.NewSimulated(evm.SimulatedConfig{
		ChainID: evm.SimulatedChainID,
		Funds:   map[common.Address]*big.Int{faucet.Address: devChainFunds},
	})
	if err != nil {
		return err
	}
	c.sim, c.faucet = sim, faucet
	c.stopSealing = func() {}
	if c.blockTime > 0 {
		c.stopSealing = sim.StartSealing(c.blockTime)
	}
	return nil
}

// Stop ends sealing and closes the chain.
func (c *devChain) Stop() {
	if c.sim == nil {
		return
	}
	c.stopSealing()
	c.sim.Close()
}

// Faucet sends amountWei from the genesis-funded account to to and returns
// the transaction's hash; the next sealed block includes it.
//
// Errors: EInvalid for a bad address or amount, and those of evm.Faucet.
func (c *devChain) Faucet(ctx context.Context, to string, amountWei *big.Int) (string, error) {
	addr, err := keys.ParseEVMAddress(to)
	if err != nil {
		return "", err
	}
	h, err := evm.Faucet(ctx, c.sim.Client(), c.faucet, addr, amountWei)
	if err != nil {
		return "", err
	}
	return h.Hex(), nil
}

// Balance is the wei address holds at the chain's head.
//
// Errors: EInvalid for a bad address, and those of evm.FormatError.
func (c *devChain) Balance(ctx context.Context, address string) (*big.Int, error) {
	addr, err := keys.ParseEVMAddress(address)
	if err != nil {
		return nil, err
	}
	bal, err := c.sim.Client().BalanceAt(ctx, addr, nil)
	if err != nil {
		return nil, evm.FormatError(err)
	}
	return bal, nil
}

// blockTimeText is how dev's banner describes the sealing interval.
func blockTimeText(d time.Duration) string {
	if d <= 0 {
		return "no sealing (--block-time 0)"
	}
	return "block every " + d.String()
}
