package contracts_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui/contracts"
	"chengdui/evm"
	"chengdui/keys"
)

const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// Gas ceilings of one payment, a little above the figures the tests log:
// a change to the router that costs payers more must raise them on purpose.
// Paying recipients that hold nothing yet costs more (a new account for
// ether, new balance slots for a token).
const (
	maxGasETH         = 134_000 // measured 127,700
	maxGasETHFunded   = 82_000  // measured 77,750
	maxGasToken       = 136_000 // measured 129,150
	maxGasTokenFunded = 100_000 // measured 94,950
)

// fixture is a simulated chain with a deployed router and funded accounts.
type fixture struct {
	sim     *evm.Simulated
	chain   evm.Chain
	chainID *big.Int
	signer  *keys.SeedSigner

	owner        evm.Account // deploys and owns the router, funded
	operator     evm.Account // signs intents; holds nothing
	payer        evm.Account // pays, funded
	other        evm.Account // a stranger, funded
	recipient    common.Address
	feeRecipient common.Address

	routerAddr common.Address
	router     *contracts.PaymentRouter
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(tb, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(tb, err)
	tb.Cleanup(func() { signer.Close() })

	f := &fixture{signer: signer}
	account := func(i uint32) evm.Account {
		a, err := evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, i))
		require.NoError(tb, err)
		return a
	}
	f.owner, f.operator, f.payer, f.other = account(0), account(1), account(2), account(3)
	// Addresses that never send a transaction, so their balances move by
	// the payments alone.
	f.recipient, f.feeRecipient = account(10).Address, account(11).Address

	f.sim, err = evm.NewSimulated(evm.SimulatedConfig{Funds: map[common.Address]*big.Int{
		f.owner.Address: ether(1000),
		f.payer.Address: ether(1000),
		f.other.Address: ether(1000),
	}})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, f.sim.Close()) })
	f.chain = f.sim.Client()
	f.chainID, err = f.chain.ChainID(ctx(tb))
	require.NoError(tb, err)

	addr, hash, err := contracts.DeployRouter(ctx(tb), f.chain, f.owner, f.owner.Address, f.operator.Address)
	require.NoError(tb, err)
	f.sim.Commit()
	f.receipt(tb, hash)
	f.routerAddr = addr
	f.router, err = contracts.NewPaymentRouter(addr, f.chain)
	require.NoError(tb, err)
	return f
}

func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	tb.Cleanup(cancel)
	return c
}

// ether is n ether in wei.
func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

// units is n × 10^decimals.
func units(n int64, decimals uint8) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
}

func (f *fixture) opts(tb testing.TB, from evm.Account, value *big.Int) *bind.TransactOpts {
	tb.Helper()
	o, err := contracts.TransactOpts(ctx(tb), f.chain, from)
	require.NoError(tb, err)
	o.Value = value
	return o
}

// receipt is the receipt of a mined transaction, which must have succeeded.
func (f *fixture) receipt(tb testing.TB, hash common.Hash) *types.Receipt {
	tb.Helper()
	r, err := f.chain.TransactionReceipt(ctx(tb), hash)
	require.NoError(tb, err)
	require.Equal(tb, types.ReceiptStatusSuccessful, r.Status)
	return r
}

// mine returns a function that seals tx, which must have been sent, and
// returns its receipt, which must be successful: f.mine(t)(binding.Call(…)).
func (f *fixture) mine(tb testing.TB) func(tx *types.Transaction, err error) *types.Receipt {
	tb.Helper()
	return func(tx *types.Transaction, err error) *types.Receipt {
		tb.Helper()
		require.NoError(tb, err)
		f.sim.Commit()
		return f.receipt(tb, tx.Hash())
	}
}

// deadline is an hour after the head block.
func (f *fixture) deadline(tb testing.TB) *big.Int {
	tb.Helper()
	head, err := f.chain.HeaderByNumber(ctx(tb), nil)
	require.NoError(tb, err)
	return new(big.Int).SetUint64(head.Time + 3600)
}

// intent is a payment of amount and fee of token to the fixture's
// recipients, due in an hour, under a fresh id.
func (f *fixture) intent(tb testing.TB, id byte, token common.Address, amount, fee *big.Int) contracts.Intent {
	tb.Helper()
	return contracts.Intent{
		ID:           [32]byte{31: id},
		Token:        token,
		Amount:       amount,
		Fee:          fee,
		Recipient:    f.recipient,
		FeeRecipient: f.feeRecipient,
		Deadline:     f.deadline(tb),
	}
}

// sign signs in for the fixture's router and chain with the operator's key.
func (f *fixture) sign(tb testing.TB, in contracts.Intent) []byte {
	tb.Helper()
	sig, err := contracts.SignIntent(f.signer, f.operator.Path, f.chainID, f.routerAddr, in)
	require.NoError(tb, err)
	return sig
}

// pay sends the payment of in from payer with value wei. A payment the
// router refuses fails here, in the gas estimate, with the revert data.
func (f *fixture) pay(tb testing.TB, payer evm.Account, in contracts.Intent, sig []byte, value *big.Int) (*types.Receipt, error) {
	tb.Helper()
	tx, err := f.router.Pay(f.opts(tb, payer, value), in.Binding(), sig)
	if err != nil {
		return nil, err
	}
	return f.mine(tb)(tx, nil), nil
}

// requireRevert checks that err is the router (or a token) reverting with
// the custom error name.
func requireRevert(tb testing.TB, err error, name string) contracts.Revert {
	tb.Helper()
	require.Error(tb, err)
	r, ok := contracts.DecodeRevert(err)
	require.True(tb, ok, "no custom error in %v", err)
	require.Equal(tb, name, r.Name, "%v", err)
	return r
}

func (f *fixture) ethBalance(tb testing.TB, a common.Address) *big.Int {
	tb.Helper()
	b, err := f.chain.BalanceAt(ctx(tb), a, nil)
	require.NoError(tb, err)
	return b
}

// token is an ERC-20 under test: its address and balanceOf.
type token struct {
	addr    common.Address
	balance func(tb testing.TB, a common.Address) *big.Int
}

// erc20 is what the tests use of the token bindings.
type erc20 interface {
	Mint(opts *bind.TransactOpts, to common.Address, value *big.Int) (*types.Transaction, error)
	Approve(opts *bind.TransactOpts, spender common.Address, value *big.Int) (*types.Transaction, error)
	BalanceOf(opts *bind.CallOpts, account common.Address) (*big.Int, error)
}

// testToken deploys a TestToken with its deployment's results.
func (f *fixture) testToken(tb testing.TB, symbol string, decimals uint8, supply *big.Int) token {
	tb.Helper()
	addr, tx, tok, err := contracts.DeployTestToken(f.opts(tb, f.owner, nil), f.chain, symbol+" stand-in", symbol, decimals)
	return f.fund(tb, supply, addr, tx, tok, err)
}

// noReturnToken deploys a USDT-like NoReturnToken.
func (f *fixture) noReturnToken(tb testing.TB, supply *big.Int) token {
	tb.Helper()
	addr, tx, tok, err := contracts.DeployNoReturnToken(f.opts(tb, f.owner, nil), f.chain, "Tether USD", "USDT", 6)
	return f.fund(tb, supply, addr, tx, tok, err)
}

// feeToken deploys a FeeOnTransferToken.
func (f *fixture) feeToken(tb testing.TB, supply *big.Int) token {
	tb.Helper()
	addr, tx, tok, err := contracts.DeployFeeOnTransferToken(f.opts(tb, f.owner, nil), f.chain, "Taxed", "TAX", 18)
	return f.fund(tb, supply, addr, tx, tok, err)
}

// fund mines a token's deployment, mints supply to the payer and approves
// the router for all of it.
func (f *fixture) fund(tb testing.TB, supply *big.Int, addr common.Address, tx *types.Transaction, tok erc20, err error) token {
	tb.Helper()
	f.mine(tb)(tx, err)
	tx, err = tok.Mint(f.opts(tb, f.owner, nil), f.payer.Address, supply)
	f.mine(tb)(tx, err)
	tx, err = tok.Approve(f.opts(tb, f.payer, nil), f.routerAddr, supply)
	f.mine(tb)(tx, err)
	return token{addr, func(tb testing.TB, a common.Address) *big.Int {
		tb.Helper()
		b, err := tok.BalanceOf(&bind.CallOpts{Context: ctx(tb)}, a)
		require.NoError(tb, err)
		return b
	}}
}

func (f *fixture) isPaid(tb testing.TB, id [32]byte) bool {
	tb.Helper()
	paid, err := f.router.IsPaid(&bind.CallOpts{Context: ctx(tb)}, id)
	require.NoError(tb, err)
	return paid
}

// gasCost is what a receipt's transaction cost its sender in wei.
func gasCost(r *types.Receipt) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
}

func sum(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) }
