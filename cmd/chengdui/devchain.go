package main

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"chengdui"
	"chengdui/contracts"
	"chengdui/evm"
	"chengdui/keys"
)

// devChainFunds is what the faucet account holds at genesis: 1,000,000 ETH.
var devChainFunds = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))

// Dev's EVM keys, all from the dev keystore's seed, on accounts other than
// 0, whose keys are users' deposit addresses (m/44'/60'/0'/0/i):
//
//	m/44'/60'/1'/0/0  the faucet: funded at genesis, deploys and mints the test tokens
//	m/44'/60'/2'/0/0  the hot wallet: funded at genesis, pays withdrawals, receives sweeps
var (
	devFaucetPath = keys.EVM.Path(keys.Mainnet, 1, 0, 0)
	devHotPath    = keys.EVM.Path(keys.Mainnet, 2, 0, 0)
)

// devTokens are the dev chain's stablecoin stand-ins (6 decimals, like
// USDT and USDC).
var devTokens = []struct{ Asset, Name, Symbol string }{
	{"USDT-ERC20", "Tether USD (dev)", "USDT"},
	{"USDC-ERC20", "USD Coin (dev)", "USDC"},
}

// devTokenFloat is each test token the hot wallet holds at start: 1,000,000.
var devTokenFloat = big.NewInt(1_000_000 * 1_000_000)

// devChain is dev's in-process EVM chain (chain id evm.SimulatedChainID).
// Its genesis funds the faucet and the hot wallet; at start the faucet
// deploys the test tokens and the PaymentRouter (signer: the faucet key).
// It implements Start/Stop: serveApp starts it after the ledger and stops
// it after HTTP.
type devChain struct {
	signer    *keys.SeedSigner
	blockTime time.Duration // 0: no timer; blocks are sealed by nobody

	sim         *evm.Simulated
	faucet      evm.Account
	stopSealing func()
	mu          sync.Mutex // one faucet transaction at a time: they share a nonce sequence
	hot         common.Address
	tokens      map[string]common.Address
	router      common.Address
	batchPayer  common.Address
}

func newDevChain(signer *keys.SeedSigner, blockTime time.Duration) *devChain {
	return &devChain{signer: signer, blockTime: blockTime}
}

// Start creates the chain and, unless the block time is 0, seals a block
// on every tick.
func (c *devChain) Start(ctx context.Context) error {
	faucet, err := evm.NewAccount(c.signer, devFaucetPath)
	if err != nil {
		return err
	}
	hot, err := evm.NewAccount(c.signer, devHotPath)
	if err != nil {
		return err
	}
	sim, err := evm.NewSimulated(evm.SimulatedConfig{
		ChainID: evm.SimulatedChainID,
		Funds:   map[common.Address]*big.Int{faucet.Address: devChainFunds, hot.Address: devChainFunds},
	})
	if err != nil {
		return err
	}
	c.sim, c.faucet, c.hot = sim, faucet, hot.Address
	if err := c.deploy(ctx); err != nil {
		sim.Close()
		return err
	}
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
	c.mu.Lock()
	defer c.mu.Unlock()
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

// deploy creates the test tokens, the router and the batch payer in the
// first blocks.
func (c *devChain) deploy(ctx context.Context) error {
	opts, err := contracts.TransactOpts(ctx, c.sim.Client(), c.faucet)
	if err != nil {
		return err
	}
	c.tokens = map[string]common.Address{}
	for _, t := range devTokens {
		addr, _, _, err := contracts.DeployTestToken(opts, c.sim.Client(), t.Name, t.Symbol, 6)
		if err != nil {
			return fmt.Errorf("deploying %s: %w", t.Asset, evm.FormatError(err))
		}
		c.tokens[t.Asset] = addr
		c.sim.Commit() // the bindings read the nonce from the head's state
		// The hot wallet starts with a float of each token, as it does
		// with ETH, so token withdrawals can be paid before any sweep.
		token, err := contracts.NewTestToken(addr, c.sim.Client())
		if err != nil {
			return err
		}
		if _, err := token.Mint(opts, c.hot, devTokenFloat); err != nil {
			return fmt.Errorf("minting %s: %w", t.Asset, evm.FormatError(err))
		}
		c.sim.Commit()
	}
	if c.router, _, err = contracts.DeployRouter(ctx, c.sim.Client(), c.faucet, c.faucet.Address, c.faucet.Address); err != nil {
		return fmt.Errorf("deploying the payment router: %w", err)
	}
	c.sim.Commit()
	if opts, err = contracts.TransactOpts(ctx, c.sim.Client(), c.faucet); err != nil {
		return err
	}
	if c.batchPayer, _, _, err = contracts.DeployBatchPayer(opts, c.sim.Client()); err != nil {
		return fmt.Errorf("deploying the batch payer: %w", evm.FormatError(err))
	}
	c.sim.Commit()
	return nil
}

// MintToken sends amount (whole units) of a test token to to, minted by
// the faucet.
//
// Errors: EInvalid for an unknown token, a bad address or amount.
func (c *devChain) MintToken(ctx context.Context, asset, to, amount string) (string, error) {
	token, ok := c.tokens[asset]
	if !ok {
		return "", chengdui.Errorf(chengdui.EInvalid, "the dev faucet gives ETH, BTC, USDT-ERC20 and USDC-ERC20, not %q", asset)
	}
	addr, err := keys.ParseEVMAddress(to)
	if err != nil {
		return "", err
	}
	if amount == "" {
		amount = "100"
	}
	units, err := chengdui.ParseDecimal(amount, 6)
	if err != nil {
		return "", err
	}
	if units.IsZero() || units.Cmp(chengdui.Amount{Lo: 1_000_000 * 1_000_000}) > 0 {
		return "", chengdui.Errorf(chengdui.EInvalid, "amount: give more than 0 and at most 1000000 %s", asset)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := contracts.NewTestToken(token, c.sim.Client())
	if err != nil {
		return "", err
	}
	opts, err := contracts.TransactOpts(ctx, c.sim.Client(), c.faucet)
	if err != nil {
		return "", err
	}
	tx, err := t.Mint(opts, addr, units.Big())
	if err != nil {
		return "", evm.FormatError(err)
	}
	return tx.Hash().Hex(), nil
}

// setup is the dev chain as the chain services see it.
func (c *devChain) setup(runID string) *evmSetup {
	return &evmSetup{Chain: fmt.Sprintf("evm:%d:%s", evm.SimulatedChainID, runID), Name: "ethereum", Client: c.sim.Client(),
		NativeAsset: "ETH", Tokens: c.tokens, Router: c.router, BatchPayer: c.batchPayer, HotPath: devHotPath, IntentPath: devFaucetPath}
}

// blockTimeText is how dev's banner describes the sealing interval.
func blockTimeText(d time.Duration) string {
	if d <= 0 {
		return "no sealing (--block-time 0)"
	}
	return "block every " + d.String()
}
