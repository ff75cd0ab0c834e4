package evm_test

import (
	"math/big"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/evm"
)

// sweepEnv has the faucet as the hot wallet and a Sweeper of ether and,
// when token is set, a 6-decimal ERC-20.
type sweepEnv struct {
	*sendEnv
	sender  *evm.Sender
	sweeper *evm.Sweeper
	token   common.Address
}

// Thresholds of the tests: 0.001 ETH and 1 token.
var (
	sweepEtherThreshold = big.NewInt(1_000_000_000_000_000)
	sweepTokenThreshold = big.NewInt(1_000_000)
)

func newSweepEnv(tb testing.TB, withToken bool) *sweepEnv {
	tb.Helper()
	e := &sweepEnv{sendEnv: newSendEnv(tb)}
	e.sender = e.sendEnv.sender(tb)
	cfg := evm.SweeperConfig{Sender: e.sender, Hot: e.faucet, Threshold: sweepEtherThreshold}
	if withToken {
		e.token = sendDeployToken(tb, e.sendEnv, 6)
		cfg.Tokens = []evm.SweepToken{{Asset: "USDT-ERC20", Contract: e.token, Threshold: sweepTokenThreshold}}
	}
	var err error
	e.sweeper, err = evm.NewSweeper(cfg)
	require.NoError(tb, err)
	return e
}

func (e *sweepEnv) sweep(tb testing.TB, addrs ...evm.Account) []evm.OutTx {
	tb.Helper()
	txs, err := e.sweeper.Sweep(ctx(tb), addrs...)
	require.NoError(tb, err)
	return txs
}

func (e *sweepEnv) tokens(tb testing.TB, a common.Address) *big.Int {
	tb.Helper()
	b, err := evm.TokenBalance(ctx(tb), e.chain, e.token, a)
	require.NoError(tb, err)
	return b
}

func TestSweepEther(t *testing.T) {
	e := newSweepEnv(t, false)
	dep := e.account(t, 5)
	require.Equal(t, dep.Address, func() common.Address {
		a, err := evm.NewAccount(e.signer, e.faucet.Path.Child()[:4].Child(5))
		require.NoError(t, err)
		return a.Address
	}(), "m/44'/60'/0'/0/5")
	deposit := ether(t, "1.5")
	e.fund(t, dep.Address, deposit)
	hotBefore := e.balance(t, e.faucet.Address)

	txs := e.sweep(t, dep)
	require.Len(t, txs, 1)
	tx := txs[0]
	require.Equal(t, "sweep:evm:1337:"+dep.Address.Hex()+":ETH:0", tx.ID)
	require.Equal(t, e.faucet.Address, tx.To)
	require.True(t, tx.FixedFees)
	require.EqualValues(t, params.TxGas, tx.Gas)
	fee := new(big.Int).Mul(big.NewInt(int64(params.TxGas)), tx.FeeCap)
	require.Equal(t, new(big.Int).Sub(deposit, fee).String(), tx.Value.String(), "the balance less 21,000 × fee cap")
	require.Empty(t, e.sweep(t, dep), "busy while its sweep is unfinished")

	e.mine(t, e.sender)
	mined := e.requireMined(t, e.sender, tx.ID)
	require.Equal(t, new(big.Int).Add(hotBefore, tx.Value).String(), e.balance(t, e.faucet.Address).String(), "exactly the value arrives")
	dust := new(big.Int).Mul(big.NewInt(int64(params.TxGas)), new(big.Int).Sub(tx.FeeCap, mined.GasPrice))
	require.Equal(t, dust.String(), e.balance(t, dep.Address).String(), "what the fee cap did not use stays")
	t.Logf("ether sweep: %d gas, fee %s wei, dust left %s wei", mined.GasUsed, mined.Fee, dust)
	require.Empty(t, e.sweep(t, dep), "dust below the threshold waits")

	// A deposit below the threshold waits; with the next one it goes, dust
	// included.
	e.fund(t, dep.Address, big.NewInt(900_000_000_000_000))
	require.Empty(t, e.sweep(t, dep))
	e.fund(t, dep.Address, big.NewInt(200_000_000_000_000))
	held := e.balance(t, dep.Address)
	txs = e.sweep(t, dep)
	require.Len(t, txs, 1)
	require.Equal(t, "sweep:evm:1337:"+dep.Address.Hex()+":ETH:1", txs[0].ID)
	require.Equal(t, new(big.Int).Sub(held, new(big.Int).Mul(big.NewInt(int64(params.TxGas)), txs[0].FeeCap)).String(), txs[0].Value.String())
	e.mine(t, e.sender)
	e.requireMined(t, e.sender, txs[0].ID)
}

func TestSweepToken(t *testing.T) {
	e := newSweepEnv(t, true)
	dep := e.account(t, 6)
	amount := big.NewInt(1_234_567_891) // 1,234.567891 USDT
	sendMint(t, e.sendEnv, e.token, dep.Address, amount)
	require.Zero(t, e.balance(t, dep.Address).Sign(), "a deposit address holds no ether")
	hotBefore := e.balance(t, e.faucet.Address)

	// First the hot wallet tops the address up with the transfer's gas.
	txs := e.sweep(t, dep)
	require.Len(t, txs, 1)
	topUp := txs[0]
	require.Equal(t, "sweep:evm:1337:"+dep.Address.Hex()+":USDT-ERC20:0:gas:0", topUp.ID)
	require.Equal(t, e.faucet.Address, topUp.From)
	require.Equal(t, dep.Address, topUp.To)
	require.Empty(t, e.sweep(t, dep), "busy while the top-up is unfinished")
	e.mine(t, e.sender)
	topUpMined := e.requireMined(t, e.sender, topUp.ID)
	require.Equal(t, topUp.Value.String(), e.balance(t, dep.Address).String())
	require.Equal(t, new(big.Int).Sub(hotBefore, new(big.Int).Add(topUp.Value, topUpMined.Fee)).String(),
		e.balance(t, e.faucet.Address).String())

	// Then the address sends its tokens, its fees fixed to what it holds.
	txs = e.sweep(t, dep)
	require.Len(t, txs, 1)
	sweep := txs[0]
	require.Equal(t, "sweep:evm:1337:"+dep.Address.Hex()+":USDT-ERC20:0", sweep.ID)
	require.Equal(t, e.token, sweep.To)
	require.Equal(t, evm.TransferData(e.faucet.Address, amount), sweep.Data)
	require.True(t, sweep.FixedFees)
	require.LessOrEqual(t, new(big.Int).Mul(new(big.Int).SetUint64(sweep.Gas), sweep.FeeCap).Cmp(topUp.Value), 0, "the top-up pays the most it may cost")
	e.mine(t, e.sender)
	mined := e.requireMined(t, e.sender, sweep.ID)
	require.Equal(t, amount.String(), e.tokens(t, e.faucet.Address).String(), "every unit arrives")
	require.Zero(t, e.tokens(t, dep.Address).Sign())
	left := new(big.Int).Sub(topUp.Value, mined.Fee)
	require.Equal(t, left.String(), e.balance(t, dep.Address).String(), "the top-up less the transfer's fee stays")
	t.Logf("first token sweep: top-up %d gas, transfer %d gas (hot held none), %s wei left on the address", topUpMined.GasUsed, mined.GasUsed, left)
	require.Empty(t, e.sweep(t, dep), "ether dust below the threshold waits")

	// A second deposit: the hot wallet holds the token now, the transfer
	// is cheaper.
	second := big.NewInt(5_000_001)
	sendMint(t, e.sendEnv, e.token, dep.Address, second)
	var gas []uint64
	for range 4 {
		txs := e.sweep(t, dep)
		if len(txs) == 0 {
			break
		}
		e.mine(t, e.sender)
		tx := e.requireMined(t, e.sender, txs[0].ID)
		gas = append(gas, tx.GasUsed)
	}
	require.Zero(t, e.tokens(t, dep.Address).Sign())
	require.Equal(t, new(big.Int).Add(amount, second).String(), e.tokens(t, e.faucet.Address).String())
	t.Logf("second token sweep: gas used by its transactions %v", gas)

	// Below the threshold, tokens wait.
	sendMint(t, e.sendEnv, e.token, dep.Address, big.NewInt(999_999))
	require.Empty(t, e.sweep(t, dep))
}

func TestSweepOnce(t *testing.T) {
	// Two sweepers, as two processes sharing the store, sweep the same
	// address at once: one transaction.
	e := newSweepEnv(t, false)
	dep := e.account(t, 7)
	e.fund(t, dep.Address, ether(t, "2"))
	other, err := evm.NewSweeper(evm.SweeperConfig{Sender: e.sendEnv.sender(t), Hot: e.faucet})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var got [2][]evm.OutTx
	var errs [2]error
	for i, s := range []*evm.Sweeper{e.sweeper, other} {
		wg.Go(func() { got[i], errs[i] = s.Sweep(ctx(t), dep) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	ids := map[string]bool{}
	for _, txs := range got {
		for _, tx := range txs {
			ids[tx.ID] = true
		}
	}
	require.Len(t, ids, 1)
	pending, err := e.chain.PendingNonceAt(ctx(t), dep.Address)
	require.NoError(t, err)
	require.EqualValues(t, 1, pending, "one transaction from the address")
	e.mine(t, e.sender)
	for id := range ids {
		e.requireMined(t, e.sender, id)
	}
}

func TestSweeperRefused(t *testing.T) {
	e := newSweepEnv(t, false)
	token := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	for name, cfg := range map[string]evm.SweeperConfig{
		"no sender":          {Hot: e.faucet},
		"no hot account":     {Sender: e.sender},
		"negative threshold": {Sender: e.sender, Hot: e.faucet, Threshold: big.NewInt(-1)},
		"token without asset": {Sender: e.sender, Hot: e.faucet,
			Tokens: []evm.SweepToken{{Contract: token}}},
		"asset with a colon": {Sender: e.sender, Hot: e.faucet,
			Tokens: []evm.SweepToken{{Asset: "A:B", Contract: token}}},
		"token twice": {Sender: e.sender, Hot: e.faucet,
			Tokens: []evm.SweepToken{{Asset: "A", Contract: token}, {Asset: "B", Contract: token}}},
	} {
		_, err := evm.NewSweeper(cfg)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%s: %v", name, err)
	}
	_, err := e.sweeper.Sweep(ctx(t), e.faucet)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "the hot wallet is no deposit address: %v", err)

	// A token address with no contract answers no balance.
	bad, err := evm.NewSweeper(evm.SweeperConfig{Sender: e.sender, Hot: e.faucet,
		Tokens: []evm.SweepToken{{Asset: "USDT-ERC20", Contract: token}}})
	require.NoError(t, err)
	_, err = bad.Sweep(ctx(t), e.account(t, 8))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	t.Log(err)
}
