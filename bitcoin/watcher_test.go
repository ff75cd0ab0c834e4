package bitcoin_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/audit"
	"chengdui/auth"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/deposit"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/sqlite"
	"chengdui/wallet"
)

// watchChain is the chain key of the watcher tests.
const watchChain = "bitcoin:regtest"

// hotAccount is the BIP84 account of the hot wallet in the watcher tests.
// Account 0 would not do: its first receive address is btcdtest's mining
// address, paid by every coinbase.
const hotAccount = 1

// watchEnv is a platform on one btcd: a SQLite database, a ledger, the
// wallet and deposit services, and a watcher over the hot account.
type watchEnv struct {
	t        testing.TB
	ctx      context.Context
	node     *btcdtest.Node
	rpc      *bitcoin.Node
	db       *sqlite.DB
	eng      *ledger.Engine
	wallets  *wallet.Service
	deposits *deposit.Service
	account  *keys.Watcher
	master   *hdkeychain.ExtendedKey
	coinbase *atomic.Int32 // the next coinbase height to spend, shared by envs on one node
	users    int
}

// newWatchEnv starts an env on node (a new segwit node when nil) with a
// confirmation policy for BTC.
func newWatchEnv(t testing.TB, node *btcdtest.Node, coinbase *atomic.Int32, policy deposit.Policy) *watchEnv {
	t.Helper()
	ctx := t.Context()
	if node == nil {
		node = btcdtest.StartWith(t, btcdtest.Options{Segwit: true})
		coinbase = &atomic.Int32{}
		coinbase.Store(1)
	}
	rpc, err := bitcoin.Dial(ctx, bitcoin.Config{Host: node.Host, User: node.User, Pass: node.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { rpc.Close() })

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chengdui.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(t, err)

	seed := btcdtest.Seed(t)
	xpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Regtest, hotAccount)
	require.NoError(t, err)
	account, err := keys.NewWatcher(keys.P2WPKH, keys.Regtest, xpub)
	require.NoError(t, err)
	wallets, err := wallet.New(db, eng, db, wallet.Config{Network: keys.Regtest, XPubs: map[keys.Scheme]string{keys.P2WPKH: xpub},
		Password: auth.TestParams(), Audit: &audit.Recorder{Store: db}})
	require.NoError(t, err)
	deposits := deposit.New(db, eng, wallets, deposit.Config{Policies: map[string]deposit.Policy{"BTC": policy},
		Alerts: &audit.Recorder{Store: db}, Log: testLog(t)})
	master, err := hdkeychain.NewMaster(seed.Bytes(), &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	return &watchEnv{t: t, ctx: ctx, node: node, rpc: rpc, db: db, eng: eng, wallets: wallets, deposits: deposits,
		account: account, master: master, coinbase: coinbase}
}

// watcher returns a new Watcher on the env's stores, as a restarted
// process would have.
func (e *watchEnv) watcher(tune ...func(*bitcoin.WatcherConfig)) *bitcoin.Watcher {
	e.t.Helper()
	cfg := bitcoin.WatcherConfig{
		Chain: watchChain, Node: e.rpc, Asset: "BTC", Deposits: e.deposits, Coins: e.db, Receive: e.account,
		Addresses: func(ctx context.Context) ([]chengdui.DepositAddress, error) {
			return e.db.AddressesOf(ctx, "p2wpkh", "regtest")
		},
		// Small windows: deriving an address costs milliseconds under -race.
		Gap: 10, ChangeGap: 20,
		Log: testLog(e.t),
	}
	for _, f := range tune {
		f(&cfg)
	}
	w, err := bitcoin.NewWatcher(cfg)
	require.NoError(e.t, err)
	return w
}

// testLog writes to the test's output, shown when it fails or with -v.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// user registers a user and returns its id and deposit address.
func (e *watchEnv) user() (string, keys.BitcoinAddress) {
	e.t.Helper()
	e.users++
	u, err := e.wallets.Register(e.ctx, fmt.Sprintf("user%d@example.com", e.users), "a long enough passphrase")
	require.NoError(e.t, err)
	addrs, err := e.db.DepositAddresses(e.ctx, u.ID)
	require.NoError(e.t, err)
	require.Len(e.t, addrs, 1)
	a, err := keys.ParseBitcoinAddress(addrs[0].Address, keys.Regtest)
	require.NoError(e.t, err)
	return u.ID, a
}

// hotAddress is the hot account's address at change/index.
func (e *watchEnv) hotAddress(change, index uint32) keys.BitcoinAddress {
	e.t.Helper()
	return accountAddress(e.t, e.account, change, index)
}

func accountAddress(t testing.TB, w *keys.Watcher, change, index uint32) keys.BitcoinAddress {
	t.Helper()
	s, err := w.Address(change, index)
	require.NoError(t, err)
	a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
	require.NoError(t, err)
	return a
}

// key derives the private key at m/84'/1'/account'/change/index.
func (e *watchEnv) key(account, change, index uint32) *btcec.PrivateKey {
	e.t.Helper()
	k := e.master
	var err error
	for _, i := range keys.P2WPKH.Path(keys.Regtest, account, change, index) {
		k, err = k.Derive(i)
		require.NoError(e.t, err)
	}
	priv, err := k.ECPrivKey()
	require.NoError(e.t, err)
	return priv
}

// balance is the available balance of a user's BTC account.
func (e *watchEnv) balance(userID string) uint64 {
	e.t.Helper()
	a, err := e.eng.Account(e.ctx, wallet.AccountID(userID, "BTC"))
	require.NoError(e.t, err)
	b, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
	require.True(e.t, ok)
	return b.Lo
}

// deposits returns the deposits of a transaction, by output index.
func (e *watchEnv) depositsOf(tx *wire.MsgTx) []deposit.Deposit {
	e.t.Helper()
	ds, err := e.db.DepositsOfTx(e.ctx, watchChain, tx.TxHash().String())
	require.NoError(e.t, err)
	return ds
}

// coin returns the stored coin of an outpoint, or false.
func (e *watchEnv) coin(txid string, vout uint32) (bitcoin.Coin, bool) {
	e.t.Helper()
	cs, err := e.db.Coins(e.ctx, watchChain, false)
	require.NoError(e.t, err)
	for _, c := range cs {
		if c.TxID == txid && c.Vout == vout {
			return c, true
		}
	}
	return bitcoin.Coin{}, false
}

// payFrom builds and signs a transaction spending the coinbase of block
// height (paid to btcdtest's mining key) to outs, the rest back to the
// mining address less fee. rbf sets BIP125 sequences.
func (e *watchEnv) payFrom(height int32, fee int64, rbf bool, outs ...*wire.TxOut) *wire.MsgTx {
	e.t.Helper()
	hash, err := e.rpc.BlockHashAt(e.ctx, height)
	require.NoError(e.t, err)
	b, err := e.rpc.Block(e.ctx, hash)
	require.NoError(e.t, err)
	cb := b.Transactions[0]
	prev := cb.TxOut[0]
	tx := wire.NewMsgTx(2)
	in := wire.NewTxIn(&wire.OutPoint{Hash: cb.TxHash(), Index: 0}, nil, nil)
	if rbf {
		in.Sequence = wire.MaxTxInSequenceNum - 2
	}
	tx.AddTxIn(in)
	rest := prev.Value - fee
	for _, o := range outs {
		tx.AddTxOut(o)
		rest -= o.Value
	}
	require.Positive(e.t, rest)
	tx.AddTxOut(wire.NewTxOut(rest, prev.PkScript))
	signInputs(e.t, tx, []*wire.TxOut{prev}, []*btcec.PrivateKey{e.key(0, 0, 0)})
	return tx
}

// pay spends the next unspent coinbase to outs and broadcasts it.
func (e *watchEnv) pay(rbf bool, outs ...*wire.TxOut) *wire.MsgTx {
	e.t.Helper()
	tx := e.payFrom(e.coinbase.Add(1)-1, 10_000, rbf, outs...)
	e.broadcast(tx)
	return tx
}

func (e *watchEnv) broadcast(tx *wire.MsgTx) {
	e.t.Helper()
	_, err := e.rpc.Broadcast(e.ctx, tx)
	require.NoError(e.t, err)
}

func (e *watchEnv) sync(w *bitcoin.Watcher) {
	e.t.Helper()
	require.NoError(e.t, w.Sync(e.ctx))
}

// signInputs signs P2WPKH inputs spending prevs with privs.
func signInputs(t testing.TB, tx *wire.MsgTx, prevs []*wire.TxOut, privs []*btcec.PrivateKey) {
	t.Helper()
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range tx.TxIn {
		fetcher.AddPrevOut(in.PreviousOutPoint, prevs[i])
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i := range tx.TxIn {
		w, err := txscript.WitnessSignature(tx, hashes, i, prevs[i].Value, prevs[i].PkScript, txscript.SigHashAll, privs[i], true)
		require.NoError(t, err)
		tx.TxIn[i].Witness = w
	}
}

// elsewhere is a P2WPKH script of nobody's.
var elsewhere = []byte{txscript.OP_0, txscript.OP_DATA_20, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}

func btc(n float64) int64 { return int64(n * btcutil.SatoshiPerBitcoin) }

func amount(sat int64) chengdui.Amount { return uint128.From64(uint64(sat)) }

// TestWatcherDeposits follows deposits on one node through their
// confirmations, with watchers started and stopped on the way.
func TestWatcherDeposits(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 2})
	w := e.watcher()
	e.sync(w)

	t.Run("credited at depth", func(t *testing.T) {
		e.t = t
		user, addr := e.user()
		tx := e.pay(false, wire.NewTxOut(btc(1.5), addr.ScriptPubKey))
		e.sync(w)
		ds := e.depositsOf(tx)
		require.Len(t, ds, 1)
		d := ds[0]
		require.Equal(t, deposit.Seen, d.Status)
		require.Zero(t, d.Height, "seen in the mempool")
		require.Equal(t, wallet.AccountID(user, "BTC"), d.AccountID)
		require.Equal(t, amount(btc(1.5)), d.Amount)
		require.Equal(t, addr.String, d.Address)
		require.EqualValues(t, 0, d.Index)
		require.False(t, d.RBF)

		mined := e.node.Mine(t, 1)
		e.sync(w)
		d = e.depositsOf(tx)[0]
		require.Equal(t, deposit.Seen, d.Status, "one confirmation is not enough")
		require.Equal(t, mined[0].String(), d.BlockHash)
		require.Zero(t, e.balance(user))

		e.node.Mine(t, 1)
		e.sync(w)
		d = e.depositsOf(tx)[0]
		require.Equal(t, deposit.Credited, d.Status)
		require.EqualValues(t, btc(1.5), e.balance(user))
		ts, err := e.eng.Transfers(e.ctx, chengdui.TransferFilter{AccountID: wallet.AccountID(user, "BTC")})
		require.NoError(t, err)
		require.Len(t, ts, 1)
		require.Equal(t, deposit.CreditID(d.Key, 0), ts[0].ID)
		require.Equal(t, tx.TxHash().String(), ts[0].Metadata["txid"])
		require.Equal(t, "0", ts[0].Metadata["index"])

		c, ok := e.coin(tx.TxHash().String(), 0)
		require.True(t, ok, "a deposit is a coin of the hot wallet")
		require.Equal(t, btc(1.5), c.Value)
		require.Equal(t, addr.ScriptPubKey, c.PkScript)
		require.EqualValues(t, 0, c.Change)
		require.Equal(t, mined[0].String(), c.BlockHash)
		require.Empty(t, c.SpentBy)
	})

	t.Run("two users in one transaction", func(t *testing.T) {
		e.t = t
		u1, a1 := e.user()
		u2, a2 := e.user()
		tx := e.pay(false, wire.NewTxOut(btc(0.25), a1.ScriptPubKey), wire.NewTxOut(btc(0.75), a2.ScriptPubKey))
		e.node.Mine(t, 2)
		e.sync(w)
		ds := e.depositsOf(tx)
		require.Len(t, ds, 2)
		for _, d := range ds {
			require.Equal(t, deposit.Credited, d.Status)
		}
		require.EqualValues(t, btc(0.25), e.balance(u1))
		require.EqualValues(t, btc(0.75), e.balance(u2))
	})

	t.Run("address issued after it was paid", func(t *testing.T) {
		e.t = t
		// The next user gets the next index: pay it before it exists.
		addrs, err := e.db.AddressesOf(e.ctx, "p2wpkh", "regtest")
		require.NoError(t, err)
		next := addrs[len(addrs)-1].Index + 1
		ahead := e.hotAddress(0, next)
		tx := e.pay(false, wire.NewTxOut(btc(0.1), ahead.ScriptPubKey))
		e.node.Mine(t, 1)
		e.sync(w)
		d := e.depositsOf(tx)[0]
		require.Equal(t, deposit.Seen, d.Status)
		require.Empty(t, d.AccountID, "nobody has the address yet")

		user, addr := e.user()
		require.Equal(t, ahead.String, addr.String)
		e.node.Mine(t, 1)
		e.sync(w)
		d = e.depositsOf(tx)[0]
		require.Equal(t, deposit.Credited, d.Status)
		require.Equal(t, wallet.AccountID(user, "BTC"), d.AccountID)
		require.EqualValues(t, btc(0.1), e.balance(user))
	})

	t.Run("untracked addresses are ignored", func(t *testing.T) {
		e.t = t
		other, err := keys.SchemeXPub(btcdtest.Seed(t), keys.P2WPKH, keys.Regtest, 7)
		require.NoError(t, err)
		stranger, err := keys.NewWatcher(keys.P2WPKH, keys.Regtest, other)
		require.NoError(t, err)
		tx := e.pay(false,
			wire.NewTxOut(btc(0.2), accountAddress(t, stranger, 0, 0).ScriptPubKey),
			wire.NewTxOut(btc(0.2), e.hotAddress(0, 200).ScriptPubKey), // past the gap
			wire.NewTxOut(btc(0.2), e.hotAddress(1, 200).ScriptPubKey), // past the change gap
		)
		e.node.Mine(t, 2)
		e.sync(w)
		require.Empty(t, e.depositsOf(tx))
		for vout := range uint32(4) {
			_, ok := e.coin(tx.TxHash().String(), vout)
			require.False(t, ok, "output %d", vout)
		}
	})

	t.Run("change and spends", func(t *testing.T) {
		e.t = t
		change := e.hotAddress(1, 3)
		require.NoError(t, w.TrackChange(100))
		far := e.hotAddress(1, 115)
		tx := e.pay(false, wire.NewTxOut(btc(0.3), change.ScriptPubKey), wire.NewTxOut(btc(0.4), far.ScriptPubKey))
		e.sync(w)
		require.Empty(t, e.depositsOf(tx), "change is no deposit")
		c, ok := e.coin(tx.TxHash().String(), 0)
		require.True(t, ok)
		require.EqualValues(t, 1, c.Change)
		require.EqualValues(t, 3, c.Index)
		require.Zero(t, c.Height, "unconfirmed")
		c, ok = e.coin(tx.TxHash().String(), 1)
		require.True(t, ok, "TrackChange widened the change window")
		require.EqualValues(t, 115, c.Index)

		e.node.Mine(t, 1)
		e.sync(w)
		c, _ = e.coin(tx.TxHash().String(), 0)
		require.NotZero(t, c.Height, "confirmed")

		// Spend both coins to a stranger: the watcher marks them spent.
		spend := wire.NewMsgTx(2)
		spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: tx.TxHash(), Index: 0}, nil, nil))
		spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: tx.TxHash(), Index: 1}, nil, nil))
		spend.AddTxOut(wire.NewTxOut(btc(0.7)-10_000, elsewhere))
		signInputs(t, spend, tx.TxOut[:2], []*btcec.PrivateKey{e.key(hotAccount, 1, 3), e.key(hotAccount, 1, 115)})
		e.broadcast(spend)
		e.sync(w)
		for vout := range uint32(2) {
			c, _ := e.coin(tx.TxHash().String(), vout)
			require.Equal(t, spend.TxHash().String(), c.SpentBy)
		}
		unspent, err := e.db.Coins(e.ctx, watchChain, true)
		require.NoError(t, err)
		for _, u := range unspent {
			require.NotEqual(t, tx.TxHash().String(), u.TxID)
		}
		e.node.Mine(t, 1)
		e.sync(w)
	})

	t.Run("a spend the payer recorded survives the confirmation", func(t *testing.T) {
		e.t = t
		tx := e.pay(false, wire.NewTxOut(btc(0.2), e.hotAddress(1, 7).ScriptPubKey))
		e.sync(w)
		c, ok := e.coin(tx.TxHash().String(), 0)
		require.True(t, ok)
		require.Zero(t, c.Height)
		// The payer marks the coin spent, then broadcasts; the block
		// confirming the coin comes first.
		spender := strings.Repeat("ab", 32)
		require.NoError(t, e.db.SpendCoins(e.ctx, watchChain, []bitcoin.OutPointRef{{TxID: c.TxID, Vout: 0}}, spender))
		e.node.Mine(t, 1)
		e.sync(w)
		c, _ = e.coin(tx.TxHash().String(), 0)
		require.NotZero(t, c.Height)
		require.Equal(t, spender, c.SpentBy)
	})

	t.Run("exactly once across restarts", func(t *testing.T) {
		e.t = t
		user, addr := e.user()
		tx := e.pay(false, wire.NewTxOut(btc(2), addr.ScriptPubKey))
		e.node.Mine(t, 1)
		e.sync(w)
		require.Equal(t, deposit.Seen, e.depositsOf(tx)[0].Status)

		// The watcher stops; blocks come; another process starts.
		e.node.Mine(t, 3)
		w = e.watcher()
		e.sync(w)
		require.Equal(t, deposit.Credited, e.depositsOf(tx)[0].Status)
		e.sync(w)
		again := e.watcher()
		e.sync(again)
		e.node.Mine(t, 1)
		e.sync(again)
		e.sync(w) // an old watcher on the same store replays nothing new

		require.EqualValues(t, btc(2), e.balance(user))
		ts, err := e.eng.Transfers(e.ctx, chengdui.TransferFilter{AccountID: wallet.AccountID(user, "BTC")})
		require.NoError(t, err)
		require.Len(t, ts, 1, "credited exactly once")
		w = again
	})

	t.Run("replayed blocks", func(t *testing.T) {
		e.t = t
		// A crash after a batch's payments but before its Advance: the
		// cursor is behind what was reported. Rewinding the store replays
		// the blocks.
		user, addr := e.user()
		tx := e.pay(false, wire.NewTxOut(btc(0.5), addr.ScriptPubKey))
		e.node.Mine(t, 3)
		e.sync(w)
		cur, ok, err := e.db.Cursor(e.ctx, watchChain)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, e.db.Rewind(e.ctx, watchChain, cur.Height-4))
		w = e.watcher()
		e.sync(w)
		cur2, _, err := e.db.Cursor(e.ctx, watchChain)
		require.NoError(t, err)
		require.Equal(t, cur, cur2)
		require.EqualValues(t, btc(0.5), e.balance(user))
		require.Equal(t, deposit.Credited, e.depositsOf(tx)[0].Status)
		require.EqualValues(t, 1, e.depositsOf(tx)[0].Credits)
	})
}

// TestWatcherZeroConf credits from the mempool what policy Depth 0 allows:
// a payment that does not signal RBF, up to ZeroConfMax.
func TestWatcherZeroConf(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 0, ZeroConfMax: amount(btc(1))})
	w := e.watcher()
	e.sync(w)
	plain, a1 := e.user()
	rbf, a2 := e.user()
	big, a3 := e.user()
	child, a4 := e.user()
	tx1 := e.pay(false, wire.NewTxOut(btc(0.5), a1.ScriptPubKey))
	tx2 := e.pay(true, wire.NewTxOut(btc(0.5), a2.ScriptPubKey))
	tx3 := e.pay(false, wire.NewTxOut(btc(5), a3.ScriptPubKey))
	// A payment that does not signal, spending an unconfirmed one that
	// does, inherits its replaceability (BIP125).
	tx4 := wire.NewMsgTx(2)
	tx4.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: tx2.TxHash(), Index: 1}, nil, nil))
	tx4.AddTxOut(wire.NewTxOut(btc(0.5), a4.ScriptPubKey))
	tx4.AddTxOut(wire.NewTxOut(tx2.TxOut[1].Value-btc(0.5)-10_000, tx2.TxOut[1].PkScript))
	signInputs(t, tx4, []*wire.TxOut{tx2.TxOut[1]}, []*btcec.PrivateKey{e.key(0, 0, 0)})
	e.broadcast(tx4)
	e.sync(w)

	require.Equal(t, deposit.Credited, e.depositsOf(tx1)[0].Status)
	require.EqualValues(t, btc(0.5), e.balance(plain), "credited from the mempool")
	d2 := e.depositsOf(tx2)[0]
	require.True(t, d2.RBF)
	require.Equal(t, deposit.Seen, d2.Status)
	require.Zero(t, e.balance(rbf), "an RBF payment waits for a block")
	require.Equal(t, deposit.Seen, e.depositsOf(tx3)[0].Status, "above ZeroConfMax")
	d4 := e.depositsOf(tx4)
	require.Len(t, d4, 1)
	require.True(t, d4[0].RBF, "replaceable through its parent")
	require.Zero(t, e.balance(child))

	e.node.Mine(t, 1)
	e.sync(w)
	require.EqualValues(t, btc(0.5), e.balance(plain))
	require.EqualValues(t, btc(0.5), e.balance(rbf))
	require.EqualValues(t, btc(5), e.balance(big))
	require.EqualValues(t, btc(0.5), e.balance(child))
}

// TestWatcherReorg runs the watcher on node A while node B, disconnected,
// mines a longer chain without A's deposits and with a double spend of two
// of them; A then reorganises onto B's chain.
func TestWatcherReorg(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 2})
	// B starts empty and syncs A's chain, then they part.
	b := btcdtest.Start(t)
	e.node.Connect(t, b)
	e.node.WaitSync(t, b)
	e.node.Disconnect(t, b)
	bEnv := &watchEnv{t: t, ctx: e.ctx, node: b, master: e.master}
	var err error
	bEnv.rpc, err = bitcoin.Dial(e.ctx, bitcoin.Config{Host: b.Host, User: b.User, Pass: b.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { bEnv.rpc.Close() })

	w := e.watcher()
	e.sync(w)
	u1, a1 := e.user()
	u2, a2 := e.user()
	u3, a3 := e.user()

	// On A: deposit 1 reaches depth 2, deposit 2 depth 1, deposit 3 stays
	// in the mempool.
	tx1 := e.payFrom(1, 10_000, false, wire.NewTxOut(btc(1), a1.ScriptPubKey))
	e.broadcast(tx1)
	e.node.Mine(t, 1)
	tx2 := e.payFrom(2, 10_000, false, wire.NewTxOut(btc(2), a2.ScriptPubKey))
	e.broadcast(tx2)
	e.node.Mine(t, 1)
	tx3 := e.payFrom(3, 10_000, false, wire.NewTxOut(btc(3), a3.ScriptPubKey))
	e.broadcast(tx3)
	e.sync(w)
	require.Equal(t, deposit.Credited, e.depositsOf(tx1)[0].Status)
	require.Equal(t, deposit.Seen, e.depositsOf(tx2)[0].Status)
	require.Equal(t, deposit.Seen, e.depositsOf(tx3)[0].Status)
	require.EqualValues(t, btc(1), e.balance(u1))

	// On B: the coinbases of deposits 2 and 3 pay someone else, in a
	// longer chain.
	bEnv.broadcast(bEnv.payFrom(2, 10_000, false, wire.NewTxOut(btc(2), elsewhere)))
	bEnv.broadcast(bEnv.payFrom(3, 10_000, false, wire.NewTxOut(btc(3), elsewhere)))
	b.Mine(t, 4)

	e.node.Connect(t, b)
	e.node.WaitSync(t, b)
	e.sync(w)

	d1 := e.depositsOf(tx1)[0]
	require.Equal(t, deposit.Reversed, d1.Status, "its block left the chain")
	require.Zero(t, d1.Height)
	require.Zero(t, e.balance(u1), "the credit was taken back")
	ts, err := e.eng.Transfers(e.ctx, chengdui.TransferFilter{AccountID: wallet.AccountID(u1, "BTC")})
	require.NoError(t, err)
	require.Len(t, ts, 2)
	require.Equal(t, deposit.ReversalID(d1.Key, 0), ts[1].ID)
	require.Equal(t, deposit.CodeReversal, ts[1].Code)
	events, err := e.db.AuditEvents(e.ctx, "", 0, 1000)
	require.NoError(t, err)
	alerted := false
	for _, ev := range events {
		alerted = alerted || (ev.Event == deposit.AlertReversed && ev.Detail["deposit"] == d1.Key.String())
	}
	require.True(t, alerted, "the reversal is an operator alert")

	for _, tx := range []*wire.MsgTx{tx2, tx3} {
		d := e.depositsOf(tx)[0]
		require.Equal(t, deposit.Replaced, d.Status, "double-spent on the winning chain")
		require.Zero(t, d.Credits, "never credited")
	}
	require.Zero(t, e.balance(u2))
	require.Zero(t, e.balance(u3))
	c, ok := e.coin(tx2.TxHash().String(), 0)
	require.True(t, ok)
	require.Equal(t, c.TxID, c.SpentBy, "a replaced transaction's coin is marked spent by itself")
	require.Zero(t, c.Height)

	// Deposit 1 is back in A's mempool: mined again, it is credited again.
	e.node.Mine(t, 2)
	e.sync(w)
	require.Equal(t, deposit.Credited, e.depositsOf(tx1)[0].Status)
	require.EqualValues(t, btc(1), e.balance(u1))
	require.Zero(t, e.balance(u2))
	require.Zero(t, e.balance(u3))
}

// TestWatcherReplacedInMempool: a deposit replaced by fee (BIP125) before
// it is mined is Replaced, even by a watcher started after it saw the
// deposit; so is a deposit whose unconfirmed parent was replaced, once it
// has been gone from the mempool for VanishAfter.
func TestWatcherReplacedInMempool(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 1})
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	withClock := func(c *bitcoin.WatcherConfig) {
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		c.VanishAfter = time.Hour
	}
	w := e.watcher(withClock)
	e.sync(w)
	_, addr := e.user()

	t.Run("replaced by fee", func(t *testing.T) {
		tx := e.payFrom(5, 10_000, true, wire.NewTxOut(btc(1), addr.ScriptPubKey))
		e.broadcast(tx)
		e.sync(w)
		require.Equal(t, deposit.Seen, e.depositsOf(tx)[0].Status)

		// A new watcher learns the deposit's inputs from the store and the
		// node.
		w = e.watcher(withClock)
		e.sync(w)
		replacement := e.payFrom(5, 110_000, true, wire.NewTxOut(btc(1), e.hotAddress(1, 0).ScriptPubKey))
		e.broadcast(replacement)
		e.sync(w)
		require.Equal(t, deposit.Replaced, e.depositsOf(tx)[0].Status)
		c, ok := e.coin(replacement.TxHash().String(), 0)
		require.True(t, ok, "the replacement pays a change address")
		require.Empty(t, c.SpentBy)
		c, ok = e.coin(tx.TxHash().String(), 0)
		require.True(t, ok)
		require.Equal(t, c.TxID, c.SpentBy, "the replaced coin cannot be spent")
		unspent, err := e.db.Coins(e.ctx, watchChain, true)
		require.NoError(t, err)
		require.Len(t, unspent, 1)
		require.Equal(t, replacement.TxHash().String(), unspent[0].TxID)
	})

	t.Run("vanished with its parent", func(t *testing.T) {
		parent := e.payFrom(6, 10_000, true, wire.NewTxOut(btc(1), elsewhere))
		e.broadcast(parent)
		change := parent.TxOut[1]
		child := wire.NewMsgTx(2)
		child.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: parent.TxHash(), Index: 1}, nil, nil))
		child.AddTxOut(wire.NewTxOut(btc(2), addr.ScriptPubKey))
		child.AddTxOut(wire.NewTxOut(change.Value-btc(2)-10_000, change.PkScript))
		signInputs(t, child, []*wire.TxOut{change}, []*btcec.PrivateKey{e.key(0, 0, 0)})
		e.broadcast(child)
		e.sync(w)
		require.Equal(t, deposit.Seen, e.depositsOf(child)[0].Status)

		// The parent is replaced; the node drops the child with it. The
		// watcher does not track the parent, so only the child's absence
		// tells.
		e.broadcast(e.payFrom(6, 200_000, true, wire.NewTxOut(btc(1), elsewhere)))
		e.sync(w)
		require.Equal(t, deposit.Seen, e.depositsOf(child)[0].Status, "not before VanishAfter")
		clock.Add(int64(time.Hour))
		e.sync(w)
		require.Equal(t, deposit.Replaced, e.depositsOf(child)[0].Status)
		c, ok := e.coin(child.TxHash().String(), 0)
		require.True(t, ok)
		require.Equal(t, c.TxID, c.SpentBy)
	})
}

// TestWatcherRun runs the watcher as a service until its context ends.
func TestWatcherRun(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 1})
	// The first start must not skip the block mined below, however late
	// the goroutine runs.
	w := e.watcher(func(c *bitcoin.WatcherConfig) { c.StartHeight = btcdtest.SegwitHeight + 2 })
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	user, addr := e.user()
	e.pay(false, wire.NewTxOut(btc(0.3), addr.ScriptPubKey))
	e.node.Mine(t, 1)
	require.Eventually(t, func() bool { return e.balance(user) == uint64(btc(0.3)) }, 20*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

func TestNewWatcherRefusals(t *testing.T) {
	seed := btcdtest.Seed(t)
	xpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Regtest, hotAccount)
	require.NoError(t, err)
	account, err := keys.NewWatcher(keys.P2WPKH, keys.Regtest, xpub)
	require.NoError(t, err)
	evmXPub, err := keys.SchemeXPub(seed, keys.EVM, keys.Regtest, 0)
	require.NoError(t, err)
	evmAccount, err := keys.NewWatcher(keys.EVM, keys.Regtest, evmXPub)
	require.NoError(t, err)
	e := newWatchEnv(t, btcdtest.Start(t), &atomic.Int32{}, deposit.Policy{})
	node := e.rpc
	deposits := e.deposits
	addresses := func(context.Context) ([]chengdui.DepositAddress, error) { return nil, nil }
	good := bitcoin.WatcherConfig{Chain: watchChain, Node: node, Asset: "BTC", Deposits: deposits, Coins: (*sqlite.DB)(nil),
		Receive: account, Addresses: addresses}
	for name, bad := range map[string]func(c *bitcoin.WatcherConfig){
		"no chain":      func(c *bitcoin.WatcherConfig) { c.Chain = "" },
		"no node":       func(c *bitcoin.WatcherConfig) { c.Node = nil },
		"no asset":      func(c *bitcoin.WatcherConfig) { c.Asset = "" },
		"no deposits":   func(c *bitcoin.WatcherConfig) { c.Deposits = nil },
		"no coins":      func(c *bitcoin.WatcherConfig) { c.Coins = nil },
		"no addresses":  func(c *bitcoin.WatcherConfig) { c.Addresses = nil },
		"no account":    func(c *bitcoin.WatcherConfig) { c.Receive = nil },
		"evm account":   func(c *bitcoin.WatcherConfig) { c.Receive = evmAccount },
		"negative keep": func(c *bitcoin.WatcherConfig) { c.Keep = -1 },
		"negative poll": func(c *bitcoin.WatcherConfig) { c.Poll = -time.Second },
		"testnet account": func(c *bitcoin.WatcherConfig) {
			tpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Testnet, 0)
			require.NoError(t, err)
			c.Receive, err = keys.NewWatcher(keys.P2WPKH, keys.Testnet, tpub)
			require.NoError(t, err)
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			bad(&cfg)
			_, err := bitcoin.NewWatcher(cfg)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
	_, err = bitcoin.NewWatcher(good)
	require.NoError(t, err)
}

// TestWatcherForeignAddress: an issued address the account key does not
// derive means the watcher has the wrong xpub; it must not run blind.
func TestWatcherForeignAddress(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 1})
	e.user()
	other, err := keys.SchemeXPub(btcdtest.Seed(t), keys.P2WPKH, keys.Regtest, 7)
	require.NoError(t, err)
	e.account, err = keys.NewWatcher(keys.P2WPKH, keys.Regtest, other)
	require.NoError(t, err)
	err = e.watcher().Sync(e.ctx)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	require.Contains(t, chengdui.ErrorMessage(err), "not derived from the watcher's account key")
}

// TestWatcherTaproot watches a P2TR (BIP86) account: its outputs are
// matched on their scripts like P2WPKH ones. Nobody was issued the
// address, so the payment is recorded as unexpected once deep enough.
func TestWatcherTaproot(t *testing.T) {
	e := newWatchEnv(t, nil, nil, deposit.Policy{Depth: 2})
	xpub, err := keys.SchemeXPub(btcdtest.Seed(t), keys.P2TR, keys.Regtest, hotAccount)
	require.NoError(t, err)
	e.account, err = keys.NewWatcher(keys.P2TR, keys.Regtest, xpub)
	require.NoError(t, err)
	w := e.watcher(func(c *bitcoin.WatcherConfig) {
		c.Addresses = func(context.Context) ([]chengdui.DepositAddress, error) { return nil, nil }
	})
	e.sync(w)
	addr := e.hotAddress(0, 3)
	require.Equal(t, "p2tr", addr.Type)
	tx := e.pay(false, wire.NewTxOut(btc(0.4), addr.ScriptPubKey))
	e.sync(w)
	d := e.depositsOf(tx)
	require.Len(t, d, 1)
	require.Equal(t, addr.String, d[0].Address)
	c, ok := e.coin(tx.TxHash().String(), 0)
	require.True(t, ok)
	require.Equal(t, addr.ScriptPubKey, c.PkScript)
	require.EqualValues(t, 3, c.Index)
	e.node.Mine(t, 2)
	e.sync(w)
	require.Equal(t, deposit.Unexpected, e.depositsOf(tx)[0].Status)
}
