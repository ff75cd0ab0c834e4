package evm_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/keys"
	"chengdui/wallet"
)

// watchOpts are transaction options from the faucet.
func watchOpts(tb testing.TB, f fixture, value *big.Int) *bind.TransactOpts {
	tb.Helper()
	o, err := contracts.TransactOpts(ctx(tb), f.chain, f.faucet)
	require.NoError(tb, err)
	o.Value = value
	return o
}

// watchSealed returns a function that seals the block of a sent
// transaction and returns its receipt, which must be successful:
// watchSealed(t, f)(binding.Call(…)).
func watchSealed(tb testing.TB, f fixture) func(tx *types.Transaction, err error) *types.Receipt {
	tb.Helper()
	return func(tx *types.Transaction, err error) *types.Receipt {
		tb.Helper()
		require.NoError(tb, err)
		f.sim.Commit()
		r, err := f.chain.TransactionReceipt(ctx(tb), tx.Hash())
		require.NoError(tb, err)
		require.Equal(tb, types.ReceiptStatusSuccessful, r.Status)
		return r
	}
}

// watchDeployToken deploys a TestToken from the faucet and mints it 10^30 units.
func watchDeployToken(tb testing.TB, f fixture, symbol string, decimals uint8) (common.Address, *contracts.TestToken) {
	tb.Helper()
	addr, tx, tok, err := contracts.DeployTestToken(watchOpts(tb, f, nil), f.chain, symbol, symbol, decimals)
	watchSealed(tb, f)(tx, err)
	supply, _ := new(big.Int).SetString("1000000000000000000000000000000", 10)
	tx, err = tok.Mint(watchOpts(tb, f, nil), f.faucet.Address, supply)
	watchSealed(tb, f)(tx, err)
	return addr, tok
}

// watchTransferLog is the log of r with topic 0 Transfer to to.
func watchTransferLog(tb testing.TB, r *types.Receipt, token, to common.Address) *types.Log {
	tb.Helper()
	for _, l := range r.Logs {
		if l.Address == token && l.Topics[0] == evm.TransferTopic && common.BytesToAddress(l.Topics[2].Bytes()) == to {
			return l
		}
	}
	tb.Fatalf("no transfer of %s to %s in %s", token.Hex(), to.Hex(), r.TxHash.Hex())
	return nil
}

func watchLogKey(kind string, l *types.Log) deposit.Key {
	return deposit.Key{Chain: watchChain, TxID: l.TxHash.Hex(), Kind: kind, Index: uint32(l.Index)}
}

func TestWatcherERC20(t *testing.T) {
	f := newFixture(t)
	usdt, usdtTok := watchDeployToken(t, f, "USDT", 6)
	fake, fakeTok := watchDeployToken(t, f, "FAKE", 6)
	e := newWatchEnv(t, f, watchDepths, watchTokens(map[common.Address]string{usdt: "USDT-ERC20"}))
	uid, addr := e.user(t, "mei@example.com")
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000bb")

	// 12.345678 USDT, then in one block: a transfer of an unknown token, a
	// zero transfer (address-poisoning spam), a transfer elsewhere, and a
	// mint over 128 bits.
	r := watchSealed(t, f)(usdtTok.Transfer(watchOpts(t, f, nil), addr, big.NewInt(12_345_678)))
	paid := watchTransferLog(t, r, usdt, addr)
	tx1, err := fakeTok.Transfer(watchOpts(t, f, nil), addr, big.NewInt(5_000_000))
	require.NoError(t, err)
	o := watchOpts(t, f, nil)
	o.Nonce = new(big.Int).SetUint64(tx1.Nonce() + 1)
	_, err = usdtTok.Transfer(o, addr, big.NewInt(0))
	require.NoError(t, err)
	o.Nonce.Add(o.Nonce, big.NewInt(1))
	_, err = usdtTok.Transfer(o, stranger, big.NewInt(77))
	require.NoError(t, err)
	huge := new(big.Int).Lsh(big.NewInt(1), 130)
	o.Nonce.Add(o.Nonce, big.NewInt(1))
	tx4, err := usdtTok.Mint(o, addr, huge)
	require.NoError(t, err)
	f.sim.Commit()
	r1, err := f.chain.TransactionReceipt(ctx(t), tx1.Hash())
	require.NoError(t, err)
	unknown := watchTransferLog(t, r1, fake, addr)
	r4, err := f.chain.TransactionReceipt(ctx(t), tx4.Hash())
	require.NoError(t, err)
	overflow := watchTransferLog(t, r4, usdt, addr)

	e.mine(2)
	e.sync(t)
	ds := e.deposits(t)
	require.Len(t, ds, 3)

	d := e.deposit(t, watchLogKey(deposit.KindERC20, paid))
	require.Equal(t, deposit.Credited, d.Status)
	require.Equal(t, "USDT-ERC20", d.Asset)
	require.Equal(t, addr.Hex(), d.Address)
	require.Equal(t, chengdui.Amount{Lo: 12_345_678}, d.Amount)
	require.Equal(t, "12.345678", chengdui.FormatDecimal(e.balance(t, uid, "USDT-ERC20"), 6))
	ts := e.transfersOf(t, wallet.AccountID(uid, "USDT-ERC20"))
	require.Len(t, ts, 1)
	require.Equal(t, paid.TxHash.Hex(), ts[0].Metadata["txid"])
	require.Equal(t, watchItoa(paid.Index), ts[0].Metadata["log_index"])

	d = e.deposit(t, watchLogKey(deposit.KindERC20, unknown))
	require.Equal(t, deposit.Unexpected, d.Status)
	require.Equal(t, evm.UnknownTokenPrefix+fake.Hex(), d.Asset)
	require.Equal(t, chengdui.Amount{Lo: 5_000_000}, d.Amount)

	d = e.deposit(t, watchLogKey(deposit.KindERC20, overflow))
	require.Equal(t, deposit.Unexpected, d.Status)
	require.Equal(t, evm.OverflowPrefix+"USDT-ERC20", d.Asset)
	require.True(t, d.Amount.IsZero(), "never truncated")

	require.Len(t, e.alerts.of(deposit.AlertUnexpected), 2)
	require.Equal(t, "12.345678", chengdui.FormatDecimal(e.balance(t, uid, "USDT-ERC20"), 6))
}

func watchItoa(n uint) string { return new(big.Int).SetUint64(uint64(n)).String() }

func TestWatcherRouter(t *testing.T) {
	f := newFixture(t)
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	operator, err := evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, 5))
	require.NoError(t, err)

	usdt, usdtTok := watchDeployToken(t, f, "USDT", 6)
	router, hash, err := contracts.DeployRouter(ctx(t), f.chain, f.faucet, f.faucet.Address, operator.Address)
	require.NoError(t, err)
	f.sim.Commit()
	r, err := f.chain.TransactionReceipt(ctx(t), hash)
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusSuccessful, r.Status)
	rt, err := contracts.NewPaymentRouter(router, f.chain)
	require.NoError(t, err)
	watchSealed(t, f)(usdtTok.Approve(watchOpts(t, f, nil), router, new(big.Int).Lsh(big.NewInt(1), 200)))

	e := newWatchEnv(t, f, watchDepths, watchTokens(map[common.Address]string{usdt: "USDT-ERC20"}), watchRouter(router))
	uid, addr := e.user(t, "merchant@example.com")
	feeTo := common.HexToAddress("0x00000000000000000000000000000000000000cc")
	head := e.head(t)
	pay := func(id byte, token common.Address, amount, fee, value *big.Int) *types.Receipt {
		in := contracts.Intent{ID: [32]byte{31: id}, Token: token, Amount: amount, Fee: fee, Recipient: addr, FeeRecipient: feeTo,
			Deadline: new(big.Int).SetUint64(head.Time + 3600)}
		sig, err := contracts.SignIntent(signer, operator.Path, big.NewInt(evm.SimulatedChainID), router, in)
		require.NoError(t, err)
		return watchSealed(t, f)(rt.Pay(watchOpts(t, f, value), in.Binding(), sig))
	}
	paidLog := func(r *types.Receipt) *types.Log {
		for _, l := range r.Logs {
			if l.Address == router && l.Topics[0] == evm.PaidTopic {
				return l
			}
		}
		t.Fatalf("no Paid log in %s", r.TxHash.Hex())
		return nil
	}

	rETH := pay(1, common.Address{}, ether(t, "1"), ether(t, "0.01"), ether(t, "1.01"))
	rUSDT := pay(2, usdt, big.NewInt(250_000_000), big.NewInt(1_000_000), nil)
	e.mine(2)
	e.sync(t)

	d := e.deposit(t, watchLogKey(deposit.KindRouter, paidLog(rETH)))
	require.Equal(t, deposit.Credited, d.Status)
	require.Equal(t, "0x0000000000000000000000000000000000000000000000000000000000000001", d.Reference)
	require.Equal(t, addr.Hex(), d.Address)
	require.Equal(t, "ETH", d.Asset)
	require.Equal(t, watchAmount(ether(t, "1")), d.Amount, "the amount, without the fee")

	d = e.deposit(t, watchLogKey(deposit.KindRouter, paidLog(rUSDT)))
	require.Equal(t, deposit.Credited, d.Status)
	require.Equal(t, "0x0000000000000000000000000000000000000000000000000000000000000002", d.Reference)
	require.Equal(t, "USDT-ERC20", d.Asset)
	require.Equal(t, chengdui.Amount{Lo: 250_000_000}, d.Amount)

	// The token's own Transfer to the recipient is the same money: it is
	// not a second deposit.
	ds := e.deposits(t)
	require.Len(t, ds, 2)
	require.Equal(t, watchAmount(ether(t, "1")), e.balance(t, uid, "ETH"))
	require.Equal(t, chengdui.Amount{Lo: 250_000_000}, e.balance(t, uid, "USDT-ERC20"))
	ts := e.transfersOf(t, wallet.AccountID(uid, "USDT-ERC20"))
	require.Len(t, ts, 1)
	require.Equal(t, d.Reference, ts[0].Metadata["reference"])
}
