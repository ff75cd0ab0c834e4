package evm_test

import (
	"math/big"
	"net"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/evm"
	"chengdui/evm/gethtest"
	"chengdui/keys"
)

// gethAccounts are m/44'/60'/0'/0/0 and /1 of the test mnemonic, as in
// newFixture, but on a real node they start empty.
func gethAccounts(tb testing.TB) (faucet, payer evm.Account) {
	tb.Helper()
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(tb, err)
	signer, err := keys.NewSeedSigner(seed)
	require.NoError(tb, err)
	tb.Cleanup(func() { signer.Close() })
	account := func(i uint32) evm.Account {
		a, err := evm.NewAccount(signer, keys.EVM.Path(keys.Mainnet, 0, 0, i))
		require.NoError(tb, err)
		return a
	}
	return account(0), account(1)
}

// TestGeth runs the package against a real geth --dev, which mines a block
// as soon as a transaction arrives.
func TestGeth(t *testing.T) {
	node := gethtest.Start(t)
	faucet, payer := gethAccounts(t)

	t.Run("dial", func(t *testing.T) {
		for _, url := range []string{node.URL, node.WSURL} {
			client, err := evm.Dial(ctx(t), url)
			require.NoError(t, err, url)
			id, err := client.ChainID(ctx(t))
			client.Close()
			require.NoError(t, err, url)
			require.EqualValues(t, gethtest.ChainID, id.Int64(), url)
		}
	})

	client, err := evm.Dial(ctx(t), node.URL)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	node.Fund(t, faucet.Address, ether(t, "10"))

	t.Run("faucet", func(t *testing.T) {
		c := ctx(t)
		amount := ether(t, "1.5")
		before, err := client.BalanceAt(c, faucet.Address, nil)
		require.NoError(t, err)
		require.Equal(t, ether(t, "10").String(), before.String())

		hash, err := evm.Faucet(c, client, faucet, payer.Address, amount)
		require.NoError(t, err)
		r := node.WaitReceipt(t, hash)
		require.Equal(t, types.ReceiptStatusSuccessful, r.Status)
		require.EqualValues(t, params.TxGas, r.GasUsed, "a plain transfer costs 21,000 gas")

		tx, pending, err := client.TransactionByHash(c, hash)
		require.NoError(t, err)
		require.False(t, pending)
		require.Equal(t, uint8(types.DynamicFeeTxType), tx.Type())

		got, err := client.BalanceAt(c, payer.Address, nil)
		require.NoError(t, err)
		require.Equal(t, "1500000000000000000", got.String())

		after, err := client.BalanceAt(c, faucet.Address, nil)
		require.NoError(t, err)
		fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
		require.Positive(t, fee.Sign())
		spent := new(big.Int).Sub(before, after)
		require.Equal(t, new(big.Int).Add(amount, fee).String(), spent.String(), "sender pays value + gasUsed × effectiveGasPrice")
	})

	t.Run("refused", func(t *testing.T) {
		c := ctx(t)
		// faucet has sent nonce 0 above.
		next, err := client.PendingNonceAt(c, faucet.Address)
		require.NoError(t, err)
		require.EqualValues(t, 1, next)
		head, err := client.HeaderByNumber(c, nil)
		require.NoError(t, err)
		transfer := func(nonce uint64, value *big.Int) *types.Transaction {
			tx := types.NewTx(&types.DynamicFeeTx{
				ChainID: node.ChainID, Nonce: nonce, Gas: params.TxGas,
				GasTipCap: big.NewInt(params.GWei),
				GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei)),
				To:        &payer.Address, Value: value,
			})
			signed, err := evm.SignTx(tx, node.ChainID, faucet)
			require.NoError(t, err)
			return signed
		}

		tests := []struct {
			name string
			tx   *types.Transaction
			code string
		}{
			{"nonce reused", transfer(0, ether(t, "1")), chengdui.EConflict},
			{"more than the balance", transfer(1, ether(t, "5000")), chengdui.EExceedsCredits},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := evm.Send(c, client, tt.tx)
				require.Equal(t, tt.code, chengdui.ErrorCode(err), "%v", err)
				t.Log(err)
			})
		}

		t.Run("sent twice", func(t *testing.T) {
			// The second copy finds the first in the pool ("already
			// known") or mined ("nonce too low"): a conflict either way.
			tx := transfer(1, big.NewInt(1))
			require.NoError(t, evm.Send(c, client, tx))
			err := evm.Send(c, client, tx)
			require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
			t.Log(err)
			require.Equal(t, types.ReceiptStatusSuccessful, node.WaitReceipt(t, tx.Hash()).Status)
		})

		t.Run("faucet short of funds", func(t *testing.T) {
			// The node refuses the gas estimate before anything is signed.
			_, err := evm.Faucet(c, client, faucet, payer.Address, ether(t, "5000"))
			require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
			t.Log(err)
		})
	})

	t.Run("closed port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		for _, url := range []string{"http://" + addr, "ws://" + addr} {
			c, err := evm.Dial(ctx(t), url)
			require.Nil(t, c)
			require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "%v", err)
		}
	})
}
