package evm_test

import (
	"context"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/evm"
	"chengdui/keys"
)

const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// ether is n × 10^18 wei, for n given as a decimal string.
func ether(tb testing.TB, n string) *big.Int {
	tb.Helper()
	r, ok := new(big.Rat).SetString(n)
	require.True(tb, ok, n)
	r.Mul(r, new(big.Rat).SetInt(big.NewInt(params.Ether)))
	require.True(tb, r.IsInt(), n)
	return new(big.Int).Set(r.Num())
}

type fixture struct {
	sim    *evm.Simulated
	chain  evm.Chain
	faucet evm.Account // m/44'/60'/0'/0/0, funded at genesis
	payer  evm.Account // m/44'/60'/0'/0/1, empty
}

func newFixture(tb testing.TB) fixture {
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
	f := fixture{faucet: account(0), payer: account(1)}
	// The well-known first address of this mnemonic.
	require.Equal(tb, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", f.faucet.Address.Hex())

	f.sim, err = evm.NewSimulated(evm.SimulatedConfig{
		Funds: map[common.Address]*big.Int{f.faucet.Address: ether(tb, "1000")},
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, f.sim.Close()) })
	f.chain = f.sim.Client()
	return f
}

func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	tb.Cleanup(cancel)
	return c
}

func TestMainnetSchedule(t *testing.T) {
	c := evm.MainnetSchedule(big.NewInt(1337))
	require.NoError(t, c.CheckConfigForkOrder())
	require.EqualValues(t, 1337, c.ChainID.Int64())
	require.EqualValues(t, 1, params.MainnetChainConfig.ChainID.Int64(), "mainnet's config must stay untouched")

	// From genesis, the rules and the latest fork are mainnet's today.
	now := uint64(time.Now().Unix())
	mainnetHead := big.NewInt(30_000_000)
	require.Equal(t, params.MainnetChainConfig.Rules(mainnetHead, true, now), c.Rules(big.NewInt(0), true, 0))
	require.Equal(t, params.MainnetChainConfig.LatestFork(now), c.LatestFork(0))
	require.True(t, c.IsOsaka(big.NewInt(0), 0))
	require.True(t, c.IsPrague(big.NewInt(0), 0))
	// Forks in development, which the dev preset turns on, stay off.
	require.False(t, c.IsAmsterdam(big.NewInt(0), 0))
	require.False(t, c.IsBogota(big.NewInt(0), 0))
}

func TestSimulatedChainID(t *testing.T) {
	f := newFixture(t)
	id, err := f.chain.ChainID(ctx(t))
	require.NoError(t, err)
	require.EqualValues(t, evm.SimulatedChainID, id.Int64())

	head, err := f.chain.HeaderByNumber(ctx(t), nil)
	require.NoError(t, err)
	require.NotNil(t, head.BaseFee, "London")
	require.NotNil(t, head.RequestsHash, "Prague")
}

func TestFaucet(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	amount := ether(t, "1.5")
	before, err := f.chain.BalanceAt(c, f.faucet.Address, nil)
	require.NoError(t, err)

	hash, err := evm.Faucet(c, f.chain, f.faucet, f.payer.Address, amount)
	require.NoError(t, err)
	f.sim.Commit()

	r, err := f.chain.TransactionReceipt(c, hash)
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusSuccessful, r.Status)
	require.EqualValues(t, params.TxGas, r.GasUsed, "a plain transfer costs 21,000 gas")

	tx, _, err := f.chain.TransactionByHash(c, hash)
	require.NoError(t, err)
	require.Equal(t, uint8(types.DynamicFeeTxType), tx.Type())

	got, err := f.chain.BalanceAt(c, f.payer.Address, nil)
	require.NoError(t, err)
	require.Equal(t, "1500000000000000000", got.String())

	after, err := f.chain.BalanceAt(c, f.faucet.Address, nil)
	require.NoError(t, err)
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	require.Positive(t, fee.Sign())
	spent := new(big.Int).Sub(before, after)
	require.Equal(t, new(big.Int).Add(amount, fee).String(), spent.String(), "sender pays value + gasUsed × effectiveGasPrice")
}

func TestSendRefused(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	id, err := f.chain.ChainID(c)
	require.NoError(t, err)
	head, err := f.chain.HeaderByNumber(c, nil)
	require.NoError(t, err)
	transfer := func(nonce uint64, value *big.Int) *types.Transaction {
		return types.NewTx(&types.DynamicFeeTx{
			ChainID: id, Nonce: nonce, Gas: params.TxGas,
			GasTipCap: big.NewInt(params.GWei),
			GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(params.GWei)),
			To:        &f.payer.Address, Value: value,
		})
	}

	// Use nonce 0 so that sending it again is a conflict. The pool may
	// not have promoted the transaction when the first block is sealed
	// (a loaded machine): seal until it is mined, or nonce 0 would still be
	// pending, and a higher-tipped transfer with it a valid replacement.
	_, err = evm.Faucet(c, f.chain, f.faucet, f.payer.Address, ether(t, "1"))
	require.NoError(t, err)
	for deadline := time.Now().Add(10 * time.Second); ; {
		f.sim.Commit()
		n, err := f.chain.NonceAt(c, f.faucet.Address, nil)
		require.NoError(t, err)
		if n == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the faucet's transaction was never mined")
		time.Sleep(10 * time.Millisecond)
	}

	tests := []struct {
		name string
		from evm.Account
		tx   *types.Transaction
		code string
	}{
		{"nonce too low", f.faucet, transfer(0, ether(t, "1")), chengdui.EConflict},
		{"insufficient funds", f.faucet, transfer(1, ether(t, "5000")), chengdui.EExceedsCredits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, err := evm.SignTx(tt.tx, id, tt.from)
			require.NoError(t, err)
			err = evm.Send(c, f.chain, signed)
			require.Equal(t, tt.code, chengdui.ErrorCode(err), "%v", err)
			t.Log(err)
			var e *chengdui.Error
			require.ErrorAs(t, err, &e)
		})
	}

	t.Run("faucet short of funds", func(t *testing.T) {
		// The node refuses the gas estimate before anything is signed.
		_, err := evm.Faucet(c, f.chain, f.faucet, f.payer.Address, ether(t, "5000"))
		require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
		t.Log(err)
	})
	t.Run("zero amount", func(t *testing.T) {
		_, err := evm.Faucet(c, f.chain, f.faucet, f.payer.Address, new(big.Int))
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	})
	t.Run("address not the key's", func(t *testing.T) {
		wrong := f.faucet
		wrong.Address = f.payer.Address
		_, err := evm.SignTx(transfer(1, big.NewInt(1)), id, wrong)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	})
}

func TestStartSealing(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	start, err := f.chain.BlockNumber(c)
	require.NoError(t, err)

	stop := f.sim.StartSealing(20 * time.Millisecond)
	defer stop()
	require.Eventually(t, func() bool {
		n, err := f.chain.BlockNumber(c)
		return err == nil && n >= start+3
	}, 5*time.Second, 10*time.Millisecond, "the timer seals blocks on its own")

	// A transaction sent while sealing is mined without a Commit.
	hash, err := evm.Faucet(c, f.chain, f.faucet, f.payer.Address, ether(t, "0.25"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r, err := f.chain.TransactionReceipt(c, hash)
		return err == nil && r.Status == types.ReceiptStatusSuccessful
	}, 5*time.Second, 10*time.Millisecond)

	stop()
	stop() // idempotent
	n1, err := f.chain.BlockNumber(c)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	n2, err := f.chain.BlockNumber(c)
	require.NoError(t, err)
	require.Equal(t, n1, n2, "no blocks after stop")
}

func TestFork(t *testing.T) {
	f := newFixture(t)
	c := ctx(t)
	genesis, err := f.chain.HeaderByNumber(c, big.NewInt(0))
	require.NoError(t, err)
	f.sim.Commit()
	f.sim.Commit()
	require.NoError(t, f.sim.Fork(genesis.Hash()))
	err = f.sim.Fork(common.Hash{1})
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

func TestDial(t *testing.T) {
	// A port that was just listening and is now closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	tests := []struct {
		url  string
		code string
	}{
		{"http://" + addr, chengdui.EUnavailable},
		{"ws://" + addr, chengdui.EUnavailable},
		{"http://user:secret@" + addr + "/v3/apikey", chengdui.EUnavailable},
		{"", chengdui.EInvalid},
		{"gopher://" + addr, chengdui.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := evm.Dial(ctx(t), tt.url)
			require.Nil(t, c)
			require.Equal(t, tt.code, chengdui.ErrorCode(err), "%v", err)
			t.Log(err)
			require.NotContains(t, err.Error(), "secret")
			require.NotContains(t, err.Error(), "apikey")
		})
	}
}

func TestFormatError(t *testing.T) {
	f := newFixture(t)
	_, err := f.chain.HeaderByNumber(ctx(t), big.NewInt(100))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(evm.FormatError(err)), "%v", err)

	for msg, code := range map[string]string{
		"nonce too low: next nonce 1, tx nonce 0": chengdui.EConflict,
		"already known":                                   chengdui.EConflict,
		"replacement transaction underpriced":             chengdui.EConflict,
		"insufficient funds for gas * price + value: …":   chengdui.EExceedsCredits,
		"intrinsic gas too low: gas 20000, minimum 21000": chengdui.EInvalid,
		"transaction indexing is in progress":             chengdui.EUnavailable,
		"something new":                                   chengdui.EInternal,
	} {
		require.Equal(t, code, chengdui.ErrorCode(evm.FormatError(rpcError(msg))), msg)
	}
	require.NoError(t, evm.FormatError(nil))
	require.ErrorIs(t, evm.FormatError(context.Canceled), context.Canceled)

	// A closed simulated chain is a node that went away.
	require.NoError(t, f.sim.Close())
	_, err = f.chain.BlockNumber(ctx(t))
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(evm.FormatError(err)), "%v", err)
}

// rpcError is a JSON-RPC error as the node sends it.
type rpcError string

func (e rpcError) Error() string  { return string(e) }
func (e rpcError) ErrorCode() int { return -32000 }
