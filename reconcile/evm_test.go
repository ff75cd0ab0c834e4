package reconcile_test

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/auth"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/keys"
	"chengdui/reconcile"
	"chengdui/wallet"
	"chengdui/withdraw"
)

const testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

func finney(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether/1000)) }

func units(x *big.Int) chengdui.Amount { return uint128.FromBig(new(big.Int).Set(x)) }

// evmEnv is a platform on the go-ethereum simulated chain: a SQLite
// ledger, the wallet and deposit services, a watcher, a test token, a hot
// wallet funded at genesis (the operator's float) and an outside payer.
type evmEnv struct {
	*ledgerEnv
	sim     *evm.Simulated
	signer  *keys.SeedSigner
	payer   evm.Account // outside the platform
	hot     evm.Account
	token   common.Address
	wallets *wallet.Service
	watcher *evm.Watcher
}

const evmChain = "evm:1337"

func newEVMEnv(t *testing.T, engine string) *evmEnv {
	t.Helper()
	e := &evmEnv{ledgerEnv: newLedgerEnv(t, engine, chengdui.Asset{Code: "ETH", Network: "ethereum", Decimals: 18},
		chengdui.Asset{Code: "USDT-ERC20", Network: "ethereum", Decimals: 6})}
	seed, err := keys.MnemonicToSeed(testMnemonic, "", keys.English)
	require.NoError(t, err)
	e.signer, err = keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { e.signer.Close() })
	e.payer, err = evm.NewAccount(e.signer, keys.EVM.Path(keys.Mainnet, 0, 0, 0))
	require.NoError(t, err)
	e.hot, err = evm.NewAccount(e.signer, keys.EVM.Path(keys.Mainnet, 2, 0, 0))
	require.NoError(t, err)
	e.sim, err = evm.NewSimulated(evm.SimulatedConfig{Funds: map[common.Address]*big.Int{e.payer.Address: ether(1000), e.hot.Address: ether(10)}})
	require.NoError(t, err)
	t.Cleanup(func() { e.sim.Close() })

	opts, err := contracts.TransactOpts(e.ctx, e.sim.Client(), e.payer)
	require.NoError(t, err)
	e.token, _, _, err = contracts.DeployTestToken(opts, e.sim.Client(), "Tether USD (test)", "USDT", 6)
	require.NoError(t, err)
	e.sim.Commit()
	e.mint(e.hot.Address, 1_000_000_000) // 1000 USDT of float

	// Users' addresses on account 1: the payer's are not the platform's.
	xpub, err := keys.SchemeXPub(seed, keys.EVM, keys.Regtest, 1)
	require.NoError(t, err)
	e.wallets, err = wallet.New(e.db, e.eng, e.db, wallet.Config{Network: keys.Regtest, XPubs: map[keys.Scheme]string{keys.EVM: xpub}, Password: auth.TestParams()})
	require.NoError(t, err)
	deps := deposit.New(e.db, e.eng, e.wallets, deposit.Config{Policies: map[string]deposit.Policy{"ETH": {Depth: 2}, "USDT-ERC20": {Depth: 1}},
		Log: slog.New(slog.DiscardHandler)})
	e.watcher, err = evm.NewWatcher(evm.WatcherConfig{Chain: evmChain, Client: e.sim.Client(), NativeAsset: "ETH",
		Tokens: map[common.Address]string{e.token: "USDT-ERC20"}, Deposits: deps, Log: slog.New(slog.DiscardHandler),
		Addresses: func(ctx context.Context) ([]chengdui.DepositAddress, error) {
			return e.db.AddressesOf(ctx, "evm", "evm")
		}})
	require.NoError(t, err)
	return e
}

// mint gives to amount units of the test token, in a block.
func (e *evmEnv) mint(to common.Address, amount int64) {
	e.t.Helper()
	opts, err := contracts.TransactOpts(e.ctx, e.sim.Client(), e.payer)
	require.NoError(e.t, err)
	tok, err := contracts.NewTestToken(e.token, e.sim.Client())
	require.NoError(e.t, err)
	_, err = tok.Mint(opts, to, big.NewInt(amount))
	require.NoError(e.t, err)
	e.sim.Commit()
}

func (e *evmEnv) user(email string) (string, common.Address) {
	e.t.Helper()
	u, err := e.wallets.Register(e.ctx, email, "a long enough passphrase")
	require.NoError(e.t, err)
	as, err := e.db.DepositAddresses(e.ctx, u.ID)
	require.NoError(e.t, err)
	for _, a := range as {
		if a.Scheme == "evm" {
			return u.ID, common.HexToAddress(a.Address)
		}
	}
	e.t.Fatalf("no evm address for %s", email)
	return "", common.Address{}
}

func (e *evmEnv) sync() {
	e.t.Helper()
	require.NoError(e.t, e.watcher.Sync(e.ctx))
}

// config is the reconciliation of the chain: the hot wallet and every
// deposit address, the hot wallet's genesis funds as float.
func (e *evmEnv) config() reconcile.Config {
	return reconcile.Config{
		Float: map[string]chengdui.Amount{"ETH": units(ether(10)), "USDT-ERC20": {Lo: 1_000_000_000}},
		EVM: []reconcile.EVM{{Chain: evmChain, Client: e.sim.Client(), NativeAsset: "ETH", Tokens: map[string]common.Address{"USDT-ERC20": e.token},
			Deposits: e.db, Sends: e.db, Withdrawals: e.db,
			Addresses: func(ctx context.Context) ([]reconcile.Address, error) {
				as, err := e.db.AddressesOf(ctx, "evm", "evm")
				out := []reconcile.Address{{Address: e.hot.Address, Role: "hot"}}
				for _, a := range as {
					out = append(out, reconcile.Address{Address: common.HexToAddress(a.Address), Role: "deposit"})
				}
				return out, err
			}}},
	}
}

func TestEVM(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testEVM(t, engine) })
	}
}

func testEVM(t *testing.T, engine string) {
	e := newEVMEnv(t, engine)
	cfg := e.config()

	// Clean: the hot wallet holds exactly its float.
	rep := e.run(cfg)
	require.True(t, rep.OK(), "%+v", rep)
	for _, asset := range []string{"ETH", "USDT-ERC20"} {
		require.Zero(t, only(t, rep, asset).Difference().Sign(), asset)
	}

	// A deposit below its depth is on the chain and explained; credited,
	// it is in the ledger.
	userID, addr := e.user("payer@example.com")
	_, err := evm.Faucet(e.ctx, e.sim.Client(), e.payer, addr, ether(1))
	require.NoError(t, err)
	e.sim.Commit()
	e.sync()
	eth := only(t, e.run(cfg), "ETH")
	require.True(t, eth.OK(), "%+v", eth)
	require.Equal(t, []reconcile.Kind{reconcile.DepositNotCredited}, kinds(eth.Explained))
	require.Zero(t, eth.Difference().Cmp(ether(1)))
	e.sim.Commit()
	e.sync()
	e.mint(addr, 50_000_000)
	e.sync()
	rep = e.run(cfg)
	require.True(t, rep.OK(), "%+v", rep)
	eth, usdt := only(t, rep, "ETH"), only(t, rep, "USDT-ERC20")
	require.Zero(t, eth.Difference().Sign())
	require.Zero(t, eth.Ledger.Cmp(ether(1)))
	require.Zero(t, usdt.Difference().Sign())
	require.Len(t, eth.Holdings, 2) // the hot wallet and the user's address

	// Withdrawals in flight: mined, not final, their holds pending.
	sender, err := evm.NewSender(e.ctx, evm.SenderConfig{Chain: evmChain, Client: e.sim.Client(), Store: e.db, Signer: e.signer,
		Confirmations: 3, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	outside := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	for _, w := range []struct {
		id, asset string
		amount    chengdui.Amount
		req       evm.SendRequest
	}{
		{"w1", "ETH", units(finney(250)), evm.SendRequest{To: outside, Value: finney(250)}},
		{"w2", "USDT-ERC20", chengdui.Amount{Lo: 10_000_000}, evm.SendRequest{To: e.token, Data: evm.TransferData(outside, big.NewInt(10_000_000))}},
	} {
		e.transfer(chengdui.Transfer{ID: "wd:" + w.id + ":hold", DebitAccountID: wallet.AccountID(userID, w.asset), CreditAccountID: deposit.ChainAccount(w.asset),
			Amount: w.amount, Flags: chengdui.Pending, Code: 7})
		w.req.ID, w.req.From, w.req.Asset = "wd:"+w.id, e.hot, w.asset
		tx, err := sender.Send(e.ctx, w.req)
		require.NoError(t, err)
		if w.id == "w1" {
			// Recorded as the payer records it; w2 is left to be read
			// from its calldata.
			now := time.Now().UTC().Truncate(time.Microsecond)
			require.NoError(t, e.db.CreateWithdrawal(e.ctx, withdraw.Withdrawal{ID: w.id, UserID: userID, Asset: w.asset, Chain: evmChain,
				To: outside.Hex(), Amount: w.amount, Status: withdraw.Sent, TxID: tx.Hash.Hex(), FeeAsset: "ETH", CreatedAt: now, UpdatedAt: now}))
		}
	}
	e.sim.Commit()
	rep = e.run(cfg)
	require.True(t, rep.OK(), "%+v", rep)
	eth, usdt = only(t, rep, "ETH"), only(t, rep, "USDT-ERC20")
	require.ElementsMatch(t, []reconcile.Kind{reconcile.FeeNotBooked, reconcile.FeeNotBooked, reconcile.WithdrawalInFlight}, kinds(eth.Explained))
	for _, it := range eth.Explained {
		if it.Kind == reconcile.WithdrawalInFlight {
			require.Equal(t, "w1", it.Ref) // named by the withdrawal store
		}
	}
	require.Equal(t, []reconcile.Kind{reconcile.WithdrawalInFlight}, kinds(usdt.Explained))
	require.Zero(t, usdt.Difference().Cmp(big.NewInt(-10_000_000)))

	// An outside payment to the hot wallet that nobody booked.
	_, err = evm.Faucet(e.ctx, e.sim.Client(), e.payer, e.hot.Address, finney(300))
	require.NoError(t, err)
	e.sim.Commit()
	rep = e.run(cfg)
	require.False(t, rep.OK())
	require.Equal(t, []string{"ETH on " + evmChain}, rep.Unexplained())
	require.Zero(t, only(t, rep, "ETH").Residual.Cmp(finney(300)))
	require.True(t, only(t, rep, "USDT-ERC20").OK())
}
