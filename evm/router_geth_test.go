package evm_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/evm/gethtest"
	"chengdui/keys"
	"chengdui/wallet"
)

// TestRouterOnGeth pays a signed intent through PaymentRouter on a real
// geth --dev, which seals a block per transaction, and follows it with the
// watcher into the ledger: one credit, through a restart, and the router
// refuses the intent a second time. geth --dev does not reorganise: the
// TestWatcherReorg* tests cover reorgs on the simulated chain.
func TestRouterOnGeth(t *testing.T) {
	node := gethtest.Start(t)
	client, err := evm.Dial(ctx(t), node.URL)
	require.NoError(t, err)
	t.Cleanup(client.Close)

	// The operator (m/44'/60'/0'/0/0) deploys and signs intents; the payer
	// (…/1) pays. Users' deposit addresses come from account 1'.
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { signer.Close() })
	account := func(i uint32) evm.Account {
		a, err := evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, i))
		require.NoError(t, err)
		return a
	}
	operator, payer := account(0), account(1)
	node.Fund(t, operator.Address, ether(t, "10"))
	node.Fund(t, payer.Address, ether(t, "1"))

	opts := func(from evm.Account) *bind.TransactOpts {
		o, err := contracts.TransactOpts(ctx(t), client, from)
		require.NoError(t, err)
		return o
	}
	// mined waits for the receipt of a sent transaction; it must succeed.
	mined := func(tx *types.Transaction, err error) *types.Receipt {
		t.Helper()
		require.NoError(t, err)
		r := node.WaitReceipt(t, tx.Hash())
		require.Equal(t, types.ReceiptStatusSuccessful, r.Status, "transaction %s", tx.Hash().Hex())
		return r
	}

	router, hash, err := contracts.DeployRouter(ctx(t), client, operator, operator.Address, operator.Address)
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusSuccessful, node.WaitReceipt(t, hash).Status)
	rt, err := contracts.NewPaymentRouter(router, client)
	require.NoError(t, err)
	usdt, tx, tok, err := contracts.DeployTestToken(opts(operator), client, "Tether USD", "USDT", 6)
	mined(tx, err)
	mined(tok.Mint(opts(operator), payer.Address, big.NewInt(100_000_000))) // 100 USDT
	mined(tok.Approve(opts(payer), router, big.NewInt(100_000_000)))

	e := newWatchEnv(t, fixture{chain: client, faucet: operator, payer: payer},
		map[string]deposit.Policy{"ETH": {Depth: 1}, "USDT-ERC20": {Depth: 1}},
		watchTokens(map[common.Address]string{usdt: "USDT-ERC20"}), watchRouter(router))
	uid, addr := e.user(t, "merchant@example.com")
	feeTo := common.HexToAddress("0x00000000000000000000000000000000000000cc")

	// 12.5 USDT to the merchant and 0.1 USDT to the operator's fee address.
	in := contracts.Intent{
		ID:    crypto.Keccak256Hash([]byte("order 42")),
		Token: usdt, Amount: big.NewInt(12_500_000), Fee: big.NewInt(100_000),
		Recipient: addr, FeeRecipient: feeTo,
		Deadline: new(big.Int).SetUint64(e.head(t).Time + 3600),
	}
	sig, err := contracts.SignIntent(signer, operator.Path, big.NewInt(gethtest.ChainID), router, in)
	require.NoError(t, err)
	r := mined(rt.Pay(opts(payer), in.Binding(), sig))

	var paid *types.Log
	for _, l := range r.Logs {
		if l.Address == router && l.Topics[0] == evm.PaidTopic {
			paid = l
		}
	}
	require.NotNil(t, paid, "no Paid log in %s", r.TxHash.Hex())
	watchTransferLog(t, r, usdt, addr) // the token's own log, in the same transaction
	for _, c := range []struct {
		who  common.Address
		want int64
	}{{payer.Address, 100_000_000 - 12_600_000}, {addr, 12_500_000}, {feeTo, 100_000}, {router, 0}} {
		b, err := tok.BalanceOf(nil, c.who)
		require.NoError(t, err)
		require.Equal(t, c.want, b.Int64(), "USDT of %s", c.who.Hex())
	}

	key := watchLogKey(deposit.KindRouter, paid)
	credited := func(t *testing.T) {
		t.Helper()
		ds := e.deposits(t)
		require.Len(t, ds, 1, "the Paid event only; the Transfer log is the same money")
		d := e.deposit(t, key)
		require.Equal(t, deposit.Credited, d.Status)
		require.EqualValues(t, 1, d.Credits)
		require.Equal(t, common.Hash(in.ID).Hex(), d.Reference)
		require.Equal(t, addr.Hex(), d.Address)
		require.Equal(t, "USDT-ERC20", d.Asset)
		require.Equal(t, chengdui.Amount{Lo: 12_500_000}, d.Amount, "the amount, without the fee")
		require.Equal(t, r.BlockHash.Hex(), d.BlockHash)
		require.Equal(t, wallet.AccountID(uid, "USDT-ERC20"), d.AccountID)
		require.Equal(t, chengdui.Amount{Lo: 12_500_000}, e.balance(t, uid, "USDT-ERC20"), "12.5 USDT, exactly")
		require.True(t, e.balance(t, uid, "ETH").IsZero())
		ts := e.transfersOf(t, wallet.AccountID(uid, "USDT-ERC20"))
		require.Len(t, ts, 1)
		require.Equal(t, d.Reference, ts[0].Metadata["reference"])
		require.Equal(t, paid.TxHash.Hex(), ts[0].Metadata["txid"])
	}
	// atHead checks that the watcher's cursor is at the node's head.
	atHead := func(t *testing.T) {
		t.Helper()
		cur, ok, err := e.db.Cursor(ctx(t), watchChain)
		require.NoError(t, err)
		require.True(t, ok)
		head := e.head(t)
		require.Equal(t, head.Number.Uint64(), cur.Height)
		require.Equal(t, head.Hash().Hex(), cur.Hash)
	}

	t.Run("credited once", func(t *testing.T) {
		e.sync(t)
		credited(t)
		atHead(t)
		e.sync(t) // nothing new
		credited(t)
	})

	t.Run("restart", func(t *testing.T) {
		// Blocks after the payment: geth --dev seals one per transaction.
		stranger := common.HexToAddress("0x00000000000000000000000000000000000000bb")
		node.Fund(t, stranger, big.NewInt(1))
		node.Fund(t, stranger, big.NewInt(1))
		e.w = e.watcher(t)
		e.sync(t)
		atHead(t)
		credited(t)
		require.Empty(t, e.alerts.of(deposit.AlertUnexpected))
	})

	t.Run("replay", func(t *testing.T) {
		// The node refuses the gas estimate: nothing is sent.
		nonce, err := client.PendingNonceAt(ctx(t), payer.Address)
		require.NoError(t, err)
		_, err = rt.Pay(opts(payer), in.Binding(), sig)
		require.Error(t, err)
		rev, ok := contracts.DecodeRevert(err)
		require.True(t, ok, "no custom error in %v", err)
		require.Equal(t, "AlreadyPaid", rev.Name, "%v", err)
		require.Equal(t, []any{in.ID}, rev.Args)
		after, err := client.PendingNonceAt(ctx(t), payer.Address)
		require.NoError(t, err)
		require.Equal(t, nonce, after)

		e.sync(t)
		credited(t)
	})
}
