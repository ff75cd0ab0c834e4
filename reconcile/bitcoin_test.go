package reconcile_test

import (
	"context"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/bitcoin/cold"
	"chengdui/deposit"
	"chengdui/keys"
	"chengdui/reconcile"
	"chengdui/wallet"
	"chengdui/withdraw"
)

const btcChain = "bitcoin:regtest"

// hotAccount is the BIP84 account of the platform's coins in these tests:
// account 0's first address is btcdtest's mining address.
const hotAccount = 1

// btcEnv is a platform on a btcd regtest node: a SQLite ledger, the
// wallet and deposit services and a watcher keeping the coin store.
type btcEnv struct {
	*ledgerEnv
	node     *btcdtest.Node
	rpc      *bitcoin.Node
	signer   *keys.SeedSigner
	account  *keys.Watcher
	wallets  *wallet.Service
	watcher  *bitcoin.Watcher
	master   *hdkeychain.ExtendedKey
	coinbase int32 // the next mature coinbase to spend
}

func newBTCEnv(t *testing.T, engine string) *btcEnv {
	t.Helper()
	node := btcdtest.StartWith(t, btcdtest.Options{Segwit: true})
	e := &btcEnv{ledgerEnv: newLedgerEnv(t, engine, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8}), node: node, coinbase: 1}
	var err error
	e.rpc, err = bitcoin.Dial(e.ctx, bitcoin.Config{Host: node.Host, User: node.User, Pass: node.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { e.rpc.Close() })
	seed := btcdtest.Seed(t)
	e.signer, err = keys.NewSeedSigner(seed)
	require.NoError(t, err)
	t.Cleanup(func() { e.signer.Close() })
	e.master, err = hdkeychain.NewMaster(seed.Bytes(), &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	xpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Regtest, hotAccount)
	require.NoError(t, err)
	e.account, err = keys.NewWatcher(keys.P2WPKH, keys.Regtest, xpub)
	require.NoError(t, err)
	e.wallets, err = wallet.New(e.db, e.eng, e.db, wallet.Config{Network: keys.Regtest, XPubs: map[keys.Scheme]string{keys.P2WPKH: xpub}, Password: auth.TestParams()})
	require.NoError(t, err)
	deps := deposit.New(e.db, e.eng, e.wallets, deposit.Config{Policies: map[string]deposit.Policy{"BTC": {Depth: 2}}, Log: slog.New(slog.DiscardHandler)})
	e.watcher, err = bitcoin.NewWatcher(bitcoin.WatcherConfig{Chain: btcChain, Node: e.rpc, Asset: "BTC", Deposits: deps, Coins: e.db, Receive: e.account,
		Addresses: func(ctx context.Context) ([]chengdui.DepositAddress, error) {
			return e.db.AddressesOf(ctx, "p2wpkh", "regtest")
		},
		Gap: 10, ChangeGap: 20, Log: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	e.sync() // a new watcher starts at the tip
	return e
}

func (e *btcEnv) config() reconcile.Config {
	return reconcile.Config{Bitcoin: &reconcile.Bitcoin{Chain: btcChain, Node: e.rpc, Coins: e.db, Deposits: e.db, Withdrawals: e.db}}
}

func (e *btcEnv) sync() {
	e.t.Helper()
	require.NoError(e.t, e.watcher.Sync(e.ctx))
}

func (e *btcEnv) mine(n uint32) {
	e.t.Helper()
	e.node.Mine(e.t, n)
}

// address is the platform account's address at change/index.
func (e *btcEnv) address(change, index uint32) keys.BitcoinAddress {
	e.t.Helper()
	s, err := e.account.Address(change, index)
	require.NoError(e.t, err)
	a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
	require.NoError(e.t, err)
	return a
}

// pay sends value from outside (the next mature coinbase) to script.
func (e *btcEnv) pay(script []byte, value int64) *wire.MsgTx {
	e.t.Helper()
	hash, err := e.rpc.BlockHashAt(e.ctx, e.coinbase)
	require.NoError(e.t, err)
	e.coinbase++
	b, err := e.rpc.Block(e.ctx, hash)
	require.NoError(e.t, err)
	cb := b.Transactions[0]
	prev := cb.TxOut[0]
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: cb.TxHash(), Index: 0}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value, script))
	tx.AddTxOut(wire.NewTxOut(prev.Value-value-10_000, prev.PkScript))
	k := e.master
	for _, i := range keys.P2WPKH.Path(keys.Regtest, 0, 0, 0) {
		k, err = k.Derive(i)
		require.NoError(e.t, err)
	}
	priv, err := k.ECPrivKey()
	require.NoError(e.t, err)
	signP2WPKH(e.t, tx, prev, priv)
	_, err = e.rpc.Broadcast(e.ctx, tx)
	require.NoError(e.t, err)
	return tx
}

func signP2WPKH(t testing.TB, tx *wire.MsgTx, prev *wire.TxOut, priv *btcec.PrivateKey) {
	t.Helper()
	fetcher := txscript.NewCannedPrevOutputFetcher(prev.PkScript, prev.Value)
	w, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, prev.Value, prev.PkScript, txscript.SigHashAll, priv, true)
	require.NoError(t, err)
	tx.TxIn[0].Witness = w
}

func TestBitcoin(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testBitcoin(t, engine) })
	}
}

func testBitcoin(t *testing.T, engine string) {
	e := newBTCEnv(t, engine)
	cfg := e.config()
	rep := e.run(cfg)
	require.True(t, rep.OK(), "%+v", rep)
	require.Zero(t, only(t, rep, "BTC").Difference().Sign())

	// A deposit below its depth is on the chain and explained; credited,
	// it is in the ledger.
	u, err := e.wallets.Register(e.ctx, "payer@example.com", "a long enough passphrase")
	require.NoError(t, err)
	userAddr := e.address(0, 0)
	dep := e.pay(userAddr.ScriptPubKey, 100_000_000)
	e.mine(1)
	e.sync()
	btc := only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.Equal(t, []reconcile.Kind{reconcile.DepositNotCredited}, kinds(btc.Explained))
	require.Zero(t, btc.Difference().Cmp(big.NewInt(100_000_000)))
	e.mine(1)
	e.sync()
	btc = only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.Empty(t, btc.Explained)
	require.Zero(t, btc.Ledger.Cmp(big.NewInt(100_000_000)))
	require.Zero(t, btc.Actual.Cmp(big.NewInt(100_000_000)))
	require.Len(t, btc.Holdings, 1)

	// A withdrawal whose transaction is in the mempool: its amount and fee
	// have left the coins, not the ledger.
	require.NoError(t, e.watcher.TrackChange(0))
	outside, err := keys.DeriveAddress(btcdtest.Seed(t), keys.P2WPKH, keys.Regtest, 5, 0, 0)
	require.NoError(t, err)
	op := wire.OutPoint{Hash: dep.TxHash(), Index: 0}
	unsigned, err := bitcoin.BuildTx(bitcoin.TxRequest{Network: keys.Regtest, FeeRate: 5, ChangeScript: e.address(1, 0).ScriptPubKey,
		UTXOs:    []bitcoin.UTXO{{OutPoint: op, Value: 100_000_000, PkScript: userAddr.ScriptPubKey, Path: keys.P2WPKH.Path(keys.Regtest, hotAccount, 0, 0), Confirmations: 2}},
		Payments: []bitcoin.Payment{{Address: outside, Amount: 40_000_000, ID: "w1"}}})
	require.NoError(t, err)
	signed, err := bitcoin.Sign(unsigned, e.signer)
	require.NoError(t, err)
	txid := signed.TxHash().String()
	now := time.Now().UTC().Truncate(time.Microsecond)
	e.transfer(chengdui.Transfer{ID: withdraw.HoldID("w1"), DebitAccountID: wallet.AccountID(u.ID, "BTC"), CreditAccountID: deposit.ChainAccount("BTC"),
		Amount: chengdui.Amount{Lo: 40_000_000}, Flags: chengdui.Pending, Code: withdraw.CodeWithdrawal})
	w := withdraw.Withdrawal{ID: "w1", UserID: u.ID, Asset: "BTC", Chain: btcChain, To: outside, Amount: chengdui.Amount{Lo: 40_000_000},
		Status: withdraw.Sent, TxID: txid, FeeAsset: "BTC", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, e.db.CreateWithdrawal(e.ctx, w))
	require.NoError(t, e.db.SpendCoins(e.ctx, btcChain, []bitcoin.OutPointRef{{TxID: op.Hash.String(), Vout: 0}}, txid))
	_, err = e.rpc.Broadcast(e.ctx, signed)
	require.NoError(t, err)
	e.sync()
	btc = only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.ElementsMatch(t, []reconcile.Kind{reconcile.WithdrawalInFlight, reconcile.FeeNotBooked}, kinds(btc.Explained))
	require.Zero(t, btc.Difference().Cmp(big.NewInt(-40_000_000-unsigned.Fee)))

	// Completed at one confirmation: hold posted, fee booked.
	e.mine(1)
	e.sync()
	e.transfer(chengdui.Transfer{ID: "wd:w1:post", PendingID: withdraw.HoldID("w1"), Flags: chengdui.PostPending, Code: withdraw.CodeWithdrawal})
	e.ledgerEnv.account(chengdui.Account{ID: "platform:BTC:network-fees", Asset: "BTC"})
	e.transfer(chengdui.Transfer{ID: "wd:w1:fee", DebitAccountID: "platform:BTC:network-fees", CreditAccountID: deposit.ChainAccount("BTC"),
		Amount: chengdui.Amount{Lo: uint64(unsigned.Fee)}, Code: withdraw.CodeNetworkFee, Metadata: map[string]string{"txid": txid}})
	w.Status, w.Fee = withdraw.Completed, chengdui.Amount{Lo: uint64(unsigned.Fee)}
	require.NoError(t, e.db.UpdateWithdrawal(e.ctx, w))
	btc = only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.Empty(t, btc.Explained)
	require.Zero(t, btc.Difference().Sign())
	require.Equal(t, "change", btc.Holdings[0].Role)

	// A payment to a platform address issued to nobody, and a credit
	// the chain never saw: neither is explained.
	e.pay(e.address(0, 5).ScriptPubKey, 5_000_000)
	e.mine(2)
	e.sync()
	e.transfer(chengdui.Transfer{ID: "forged", DebitAccountID: deposit.ChainAccount("BTC"), CreditAccountID: wallet.AccountID(u.ID, "BTC"),
		Amount: chengdui.Amount{Lo: 1_000_000}, Code: deposit.CodeDeposit})
	rep = e.run(cfg)
	require.False(t, rep.OK())
	btc = only(t, rep, "BTC")
	require.Zero(t, btc.Residual.Cmp(big.NewInt(5_000_000-1_000_000)), "residual %s", btc.Residual)
	require.Equal(t, []reconcile.Kind{reconcile.UnexpectedDeposit}, kinds(btc.Unexplained))
}

// TestBitcoinStaleCoin: a coin the store lists as unspent that the node
// has spent (a transaction the platform never recorded) is not counted,
// and the difference is unexplained.
func TestBitcoinStaleCoin(t *testing.T) {
	e := newBTCEnv(t, "sqlite")
	cfg := e.config()
	_, err := e.wallets.Register(e.ctx, "payer@example.com", "a long enough passphrase")
	require.NoError(t, err)
	addr := e.address(0, 0)
	dep := e.pay(addr.ScriptPubKey, 20_000_000)
	e.mine(2)
	e.sync()
	require.True(t, e.run(cfg).OK())

	// Spent behind the platform's back, and the watcher has not seen it.
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: dep.TxHash(), Index: 0}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(20_000_000-10_000, []byte{txscript.OP_0, txscript.OP_DATA_20, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}))
	k := e.master
	for _, i := range keys.P2WPKH.Path(keys.Regtest, hotAccount, 0, 0) {
		k, err = k.Derive(i)
		require.NoError(t, err)
	}
	priv, err := k.ECPrivKey()
	require.NoError(t, err)
	signP2WPKH(t, tx, wire.NewTxOut(20_000_000, addr.ScriptPubKey), priv)
	_, err = e.rpc.Broadcast(e.ctx, tx)
	require.NoError(t, err)
	e.mine(1) // btcd's gettxout does not look at mempool spends

	rep := e.run(cfg)
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	require.False(t, rep.OK(), text.String())
	btc := only(t, rep, "BTC")
	require.Zero(t, btc.Actual.Sign())
	require.Zero(t, btc.Residual.Cmp(big.NewInt(-20_000_000)))
	require.Len(t, btc.Notes, 1)
	require.Contains(t, btc.Notes[0], "unspent in the coin store, but the node has it spent")
}

func testColdWallet(t *testing.T) *cold.Wallet {
	t.Helper()
	var xpubs [3]string
	for i, m := range []string{
		"legal winner thank year wave sausage worth useful legal winner thank yellow",
		"letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
		"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
	} {
		seed, err := keys.MnemonicToSeed(m, "", keys.English)
		require.NoError(t, err)
		k, err := cold.AccountKey(seed, keys.Regtest, 0)
		require.NoError(t, err)
		xpubs[i] = k.String()
	}
	w, err := cold.NewWallet(keys.Regtest, xpubs)
	require.NoError(t, err)
	return w
}

// TestBitcoinColdSweep: a sweep to cold storage moves coins between the
// platform's own addresses; with the cold wallet known its output is a
// holding and only the fee is booked; unknown, the sweep is an outflow
// no withdrawal accounts for.
func TestBitcoinColdSweep(t *testing.T) {
	e := newBTCEnv(t, "sqlite")
	cw := testColdWallet(t)
	_, err := e.wallets.Register(e.ctx, "payer@example.com", "a long enough passphrase")
	require.NoError(t, err)
	addr := e.address(0, 0)
	dep := e.pay(addr.ScriptPubKey, 300_000_000)
	e.mine(2)
	e.sync()
	require.NoError(t, e.watcher.TrackChange(0))

	to, err := cw.Address(0)
	require.NoError(t, err)
	unsigned, err := bitcoin.BuildSweep(bitcoin.TxRequest{Network: keys.Regtest, FeeRate: 3, ChangeScript: e.address(1, 0).ScriptPubKey,
		UTXOs: []bitcoin.UTXO{{OutPoint: wire.OutPoint{Hash: dep.TxHash(), Index: 0}, Value: 300_000_000, PkScript: addr.ScriptPubKey,
			Path: keys.P2WPKH.Path(keys.Regtest, hotAccount, 0, 0), Confirmations: 2}},
		Payments: []bitcoin.Payment{{Address: to, Amount: 200_000_000, ID: "cold-sweep"}}})
	require.NoError(t, err)
	signed, err := bitcoin.Sign(unsigned, e.signer)
	require.NoError(t, err)
	txid := signed.TxHash().String()
	_, err = e.rpc.Broadcast(e.ctx, signed)
	require.NoError(t, err)
	require.NoError(t, e.db.SpendCoins(e.ctx, btcChain, []bitcoin.OutPointRef{{TxID: dep.TxHash().String(), Vout: 0}}, txid))
	e.mine(1)
	e.sync()

	match, err := reconcile.ColdScripts(cw, 10)
	require.NoError(t, err)
	cfg := e.config()
	cfg.Bitcoin.Cold = match
	btc := only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.Equal(t, []reconcile.Kind{reconcile.FeeNotBooked}, kinds(btc.Explained))
	roles := map[string]int64{}
	for _, h := range btc.Holdings {
		roles[h.Role] += int64(h.Amount.Lo)
	}
	require.Equal(t, map[string]int64{"cold": 200_000_000, "change": 100_000_000 - unsigned.Fee}, roles)

	// The fee booked as the cold sweeper's OnSweep books it.
	e.ledgerEnv.account(chengdui.Account{ID: "platform:BTC:network-fees", Asset: "BTC"})
	e.transfer(chengdui.Transfer{ID: "btc-sweep-fee:" + txid, DebitAccountID: "platform:BTC:network-fees", CreditAccountID: deposit.ChainAccount("BTC"),
		Amount: chengdui.Amount{Lo: uint64(unsigned.Fee)}, Code: withdraw.CodeNetworkFee, Metadata: map[string]string{"kind": "cold sweep fee", "txid": txid}})
	btc = only(t, e.run(cfg), "BTC")
	require.True(t, btc.OK(), "%+v", btc)
	require.Empty(t, btc.Explained)
	require.Zero(t, btc.Difference().Sign())

	// Without the cold wallet, the sweep pays an outside address.
	btc = only(t, e.run(e.config()), "BTC")
	require.False(t, btc.OK())
	require.Zero(t, btc.Residual.Cmp(big.NewInt(-200_000_000)))
	require.Equal(t, []reconcile.Kind{reconcile.UnaccountedOutflow}, kinds(btc.Unexplained))
}
