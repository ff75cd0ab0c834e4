package evm_test

import (
	"context"
	"log/slog"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/sqlite"
	"chengdui/wallet"
)

const watchChain = "evm:1337"

// watchAlerts records the deposit service's alerts.
type watchAlerts struct {
	mu     sync.Mutex
	events []watchAlert
}

type watchAlert struct {
	event  string
	detail map[string]string
}

func (a *watchAlerts) Record(_ context.Context, event, _ string, detail map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, watchAlert{event, detail})
}

func (a *watchAlerts) of(event string) []watchAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []watchAlert
	for _, e := range a.events {
		if e.event == event {
			out = append(out, e)
		}
	}
	return out
}

// watchEnv is a simulated chain, a SQLite database with a ledger, users'
// wallets and the deposit service, and a watcher over them.
type watchEnv struct {
	fixture
	db       *sqlite.DB
	eng      *ledger.Engine
	wallets  *wallet.Service
	deps     *deposit.Service
	alerts   *watchAlerts
	cfg      evm.WatcherConfig
	policies map[string]deposit.Policy
	w        *evm.Watcher

	mu    sync.Mutex
	extra []common.Address // watched besides the users' addresses
}

type watchOption func(*watchEnv)

func watchTokens(tokens map[common.Address]string) watchOption {
	return func(e *watchEnv) { e.cfg.Tokens = tokens }
}

func watchRouter(r common.Address) watchOption { return func(e *watchEnv) { e.cfg.Router = r } }

func watchBatch(n int) watchOption { return func(e *watchEnv) { e.cfg.BatchBlocks = n } }

func watchKeep(n int) watchOption { return func(e *watchEnv) { e.cfg.Keep = n } }

// watchQuiet silences the watcher and the deposit service, for benchmarks.
func watchQuiet(e *watchEnv) {
	quiet := slog.New(slog.DiscardHandler)
	e.cfg.Log = quiet
	e.cfg.Deposits = deposit.New(e.db, e.eng, e.wallets, deposit.Config{Policies: e.policies, Alerts: e.alerts, Log: quiet})
	e.deps = e.cfg.Deposits
}

// watchDepths are the policies of most tests.
var watchDepths = map[string]deposit.Policy{
	"ETH":        {Depth: 3},
	"USDT-ERC20": {Depth: 3},
}

func newWatchEnv(tb testing.TB, f fixture, policies map[string]deposit.Policy, options ...watchOption) *watchEnv {
	tb.Helper()
	c := context.Background()
	db, err := sqlite.Open(c, filepath.Join(tb.TempDir(), "w.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	_, err = db.Migrate(c)
	require.NoError(tb, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(tb, eng.Start(c))
	tb.Cleanup(eng.Stop)
	for _, a := range []chengdui.Asset{{Code: "ETH", Network: "ethereum", Decimals: 18}, {Code: "USDT-ERC20", Network: "ethereum", Decimals: 6}} {
		_, err := eng.CreateAsset(c, a)
		require.NoError(tb, err)
	}
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(tb, err)
	// Account 1: users' addresses differ from the fixture's senders.
	xpub, err := keys.SchemeXPub(seed, keys.EVM, keys.Regtest, 1)
	require.NoError(tb, err)
	wallets, err := wallet.New(db, eng, db, wallet.Config{Network: keys.Regtest, XPubs: map[keys.Scheme]string{keys.EVM: xpub}, Password: auth.TestParams()})
	require.NoError(tb, err)
	al := &watchAlerts{}
	e := &watchEnv{fixture: f, db: db, eng: eng, wallets: wallets, alerts: al, policies: policies,
		deps: deposit.New(db, eng, wallets, deposit.Config{Policies: policies, Alerts: al})}
	e.cfg = evm.WatcherConfig{
		Chain:       watchChain,
		Client:      f.chain,
		NativeAsset: "ETH",
		Deposits:    e.deps,
		Addresses:   e.addresses,
		BatchBlocks: 4, // several batches in most tests
	}
	for _, o := range options {
		o(e)
	}
	e.w = e.watcher(tb)
	return e
}

func (e *watchEnv) addresses(ctx context.Context) ([]chengdui.DepositAddress, error) {
	as, err := e.db.AddressesOf(ctx, "evm", "evm")
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.extra {
		as = append(as, chengdui.DepositAddress{Address: a.Hex(), Scheme: "evm", Network: "evm"})
	}
	return as, nil
}

func (e *watchEnv) watch(a common.Address) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.extra = append(e.extra, a)
}

// watcher returns a new watcher on the environment, as after a restart.
func (e *watchEnv) watcher(tb testing.TB) *evm.Watcher {
	tb.Helper()
	w, err := evm.NewWatcher(e.cfg)
	require.NoError(tb, err)
	return w
}

// user registers a user and returns its id and EVM deposit address.
func (e *watchEnv) user(tb testing.TB, email string) (string, common.Address) {
	tb.Helper()
	u, err := e.wallets.Register(ctx(tb), email, "a long enough passphrase")
	require.NoError(tb, err)
	as, err := e.db.DepositAddresses(ctx(tb), u.ID)
	require.NoError(tb, err)
	for _, a := range as {
		if a.Scheme == "evm" {
			return u.ID, common.HexToAddress(a.Address)
		}
	}
	tb.Fatalf("user %s has no EVM address", email)
	return "", common.Address{}
}

func (e *watchEnv) sync(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, e.w.Sync(ctx(tb)))
}

// mine seals n blocks and returns the last one's hash.
func (e *watchEnv) mine(n int) common.Hash {
	var h common.Hash
	for range n {
		h = e.sim.Commit()
	}
	return h
}

func (e *watchEnv) balance(tb testing.TB, userID, asset string) chengdui.Amount {
	tb.Helper()
	a, err := e.eng.Account(ctx(tb), wallet.AccountID(userID, asset))
	require.NoError(tb, err)
	b, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
	require.True(tb, ok)
	return b
}

func (e *watchEnv) deposit(tb testing.TB, k deposit.Key) deposit.Deposit {
	tb.Helper()
	d, err := e.db.Deposit(ctx(tb), k)
	require.NoError(tb, err)
	return d
}

func (e *watchEnv) deposits(tb testing.TB) []deposit.Deposit {
	tb.Helper()
	ds, err := e.db.Deposits(ctx(tb), deposit.Filter{Chain: watchChain})
	require.NoError(tb, err)
	return ds
}

func (e *watchEnv) transfersOf(tb testing.TB, account string) []chengdui.Transfer {
	tb.Helper()
	ts, err := e.eng.Transfers(ctx(tb), chengdui.TransferFilter{AccountID: account})
	require.NoError(tb, err)
	return ts
}

func (e *watchEnv) head(tb testing.TB) *types.Header {
	tb.Helper()
	h, err := e.chain.HeaderByNumber(ctx(tb), nil)
	require.NoError(tb, err)
	return h
}

// pay sends amount wei from the faucet to to and returns the transaction's
// hash; nothing is mined.
func (e *watchEnv) pay(tb testing.TB, to common.Address, amount *big.Int) common.Hash {
	tb.Helper()
	h, err := evm.Faucet(ctx(tb), e.chain, e.faucet, to, amount)
	require.NoError(tb, err)
	return h
}

// send signs and sends a transaction from the faucet with an explicit
// nonce, gas and tip, for reverts and replacements.
func (e *watchEnv) send(tb testing.TB, nonce uint64, to *common.Address, value *big.Int, gas uint64, tipGwei int64, data []byte) *types.Transaction {
	tb.Helper()
	tip := new(big.Int).Mul(big.NewInt(tipGwei), big.NewInt(1e9))
	head := e.head(tb)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(evm.SimulatedChainID), Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas, To: to, Value: value, Data: data})
	signed, err := evm.SignTx(tx, big.NewInt(evm.SimulatedChainID), e.faucet)
	require.NoError(tb, err)
	require.NoError(tb, evm.Send(ctx(tb), e.chain, signed))
	return signed
}

func (e *watchEnv) nonce(tb testing.TB) uint64 {
	tb.Helper()
	n, err := e.chain.PendingNonceAt(ctx(tb), e.faucet.Address)
	require.NoError(tb, err)
	return n
}

func watchNativeKey(tx common.Hash) deposit.Key {
	return deposit.Key{Chain: watchChain, TxID: tx.Hex(), Kind: deposit.KindNative}
}

func watchAmount(v *big.Int) chengdui.Amount {
	a, err := chengdui.ParseUnits(v.String())
	if err != nil {
		panic(err)
	}
	return a
}

func TestWatcherETHDeposit(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths)
	uid, addr := e.user(t, "mei@example.com")
	e.mine(5)
	e.sync(t)

	amount := ether(t, "1.5")
	tx := e.pay(t, addr, amount)
	block := e.mine(1)
	e.sync(t)
	d := e.deposit(t, watchNativeKey(tx))
	require.Equal(t, deposit.Seen, d.Status)
	require.Equal(t, block.Hex(), d.BlockHash)
	require.Equal(t, addr.Hex(), d.Address, "EIP-55")
	require.Equal(t, "ETH", d.Asset)
	require.Equal(t, watchAmount(amount), d.Amount)
	require.Equal(t, wallet.AccountID(uid, "ETH"), d.AccountID)

	// Depth 3: two confirmations are not enough.
	e.mine(1)
	e.sync(t)
	require.Equal(t, deposit.Seen, e.deposit(t, watchNativeKey(tx)).Status)
	require.True(t, e.balance(t, uid, "ETH").IsZero())

	e.mine(1)
	e.sync(t)
	d = e.deposit(t, watchNativeKey(tx))
	require.Equal(t, deposit.Credited, d.Status)
	require.Equal(t, watchAmount(amount), e.balance(t, uid, "ETH"))
	ts := e.transfersOf(t, wallet.AccountID(uid, "ETH"))
	require.Len(t, ts, 1)
	require.Equal(t, deposit.CreditID(watchNativeKey(tx), 0), ts[0].ID)
	require.Equal(t, tx.Hex(), ts[0].Metadata["txid"])
	require.Equal(t, "0", ts[0].Metadata["index"])
	require.Equal(t, deposit.KindNative, ts[0].Metadata["payment"])
	require.Equal(t, watchChain, ts[0].Metadata["chain"])

	// A restart resumes from the cursor; so does a restart that lost the
	// last batches' Advance after their payments were reported and
	// credited: the rescan reports the same payments, credited once.
	// The last restart rescans from genesis: the deposit's block comes in
	// the second batch, and the first batch's Settle must not reverse the
	// credit in between.
	for i := range 3 {
		switch head := e.head(t).Number.Uint64(); i {
		case 1:
			require.NoError(t, e.db.Rewind(ctx(t), watchChain, head-3))
		case 2:
			require.NoError(t, e.db.Rewind(ctx(t), watchChain, 0))
		}
		e.w = e.watcher(t)
		e.mine(2)
		e.sync(t)
		d = e.deposit(t, watchNativeKey(tx))
		require.Equal(t, deposit.Credited, d.Status)
		require.EqualValues(t, 1, d.Credits)
		require.Equal(t, block.Hex(), d.BlockHash)
		require.Len(t, e.transfersOf(t, wallet.AccountID(uid, "ETH")), 1)
		head := e.head(t).Number.Uint64()
		cur, ok, err := e.db.Cursor(ctx(t), watchChain)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, head, cur.Height)
		require.Equal(t, e.head(t).Hash().Hex(), cur.Hash)
	}
	require.Empty(t, e.alerts.events)
}

// TestWatcherRestartMidway pays while the watcher is down, and across
// batch boundaries.
func TestWatcherRestartMidway(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), map[string]deposit.Policy{"ETH": {Depth: 1}}, watchBatch(2))
	uid, addr := e.user(t, "mei@example.com")
	e.sync(t)
	var txs []common.Hash
	total := new(big.Int)
	for i := range 7 {
		v := big.NewInt(int64(1000 + i))
		txs = append(txs, e.pay(t, addr, v))
		total.Add(total, v)
		e.mine(1 + i%2)
	}
	e.w = e.watcher(t)
	e.sync(t)
	for _, tx := range txs {
		d := e.deposit(t, watchNativeKey(tx))
		require.Equal(t, deposit.Credited, d.Status)
		require.EqualValues(t, 1, d.Credits)
	}
	require.Equal(t, watchAmount(total), e.balance(t, uid, "ETH"))
}

// watchRevertingCode is init code whose contract reverts every call
// (PUSH1 0 PUSH1 0 REVERT), so ether sent to it bounces.
var watchRevertingCode = common.FromHex("0x6460006000fd6000526005601bf3")

func TestWatcherFailedTransfer(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), map[string]deposit.Policy{"ETH": {Depth: 1}})
	uid, addr := e.user(t, "mei@example.com")

	deploy := e.send(t, e.nonce(t), nil, big.NewInt(0), 100_000, 1, watchRevertingCode)
	e.mine(1)
	r, err := e.chain.TransactionReceipt(ctx(t), deploy.Hash())
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusSuccessful, r.Status)
	bouncer := r.ContractAddress
	code, err := e.chain.CodeAt(ctx(t), bouncer, nil)
	require.NoError(t, err)
	require.Equal(t, common.FromHex("0x60006000fd"), code)
	e.watch(bouncer)

	failed := e.send(t, e.nonce(t), &bouncer, big.NewInt(1e18), 50_000, 1, nil)
	ok := e.pay(t, addr, big.NewInt(7))
	// The pool takes transactions in asynchronously: seal once it has
	// both, so that they share the block.
	require.Eventually(t, func() bool { return e.nonce(t) >= failed.Nonce()+2 }, 5*time.Second, 5*time.Millisecond)
	e.mine(1)
	r, err = e.chain.TransactionReceipt(ctx(t), failed.Hash())
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusFailed, r.Status)
	e.sync(t)

	ds := e.deposits(t)
	require.Len(t, ds, 1, "the reverted transfer is no payment")
	require.Equal(t, ok.Hex(), ds[0].TxID)
	require.Equal(t, chengdui.Amount{Lo: 7}, e.balance(t, uid, "ETH"))
}

// TestWatcherNewAddress watches an address issued after the watcher
// started, from the next block on.
func TestWatcherNewAddress(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), map[string]deposit.Policy{"ETH": {Depth: 1}})
	e.mine(2)
	e.sync(t)
	uid, addr := e.user(t, "late@example.com")
	tx := e.pay(t, addr, big.NewInt(42))
	e.mine(1)
	e.sync(t)
	require.Equal(t, deposit.Credited, e.deposit(t, watchNativeKey(tx)).Status)
	require.Equal(t, chengdui.Amount{Lo: 42}, e.balance(t, uid, "ETH"))
}

// fork replaces the chain from parent on: the faucet's pending
// transactions put back in the pool by the reorg are replaced by transfers
// of theirs nonces to a stranger, then n blocks are watchSealed.
func (e *watchEnv) fork(tb testing.TB, parent common.Hash, replace []*types.Transaction, n int) {
	tb.Helper()
	require.NoError(tb, e.sim.Fork(parent))
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	for _, tx := range replace {
		// The pool moves to the fork's head asynchronously: until it has,
		// it refuses the nonce as spent ("nonce too low").
		tip := new(big.Int).Mul(big.NewInt(50), big.NewInt(1e9))
		deadline := time.Now().Add(10 * time.Second)
		for {
			head := e.head(tb)
			feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
			signed, err := evm.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(evm.SimulatedChainID), Nonce: tx.Nonce(),
				GasTipCap: tip, GasFeeCap: feeCap, Gas: 21_000, To: &stranger, Value: big.NewInt(1)}), big.NewInt(evm.SimulatedChainID), e.faucet)
			require.NoError(tb, err)
			err = evm.Send(ctx(tb), e.chain, signed)
			if err == nil {
				break
			}
			require.True(tb, strings.Contains(err.Error(), "nonce too low") && time.Now().Before(deadline), "replacing nonce %d on the fork: %v", tx.Nonce(), err)
			time.Sleep(20 * time.Millisecond)
		}
	}
	e.mine(n)
}

func TestWatcherReorgReversesCredit(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths)
	uid, addr := e.user(t, "mei@example.com")
	e.mine(3)
	e.sync(t)
	parent := e.head(t)

	amount := ether(t, "2")
	txHash := e.pay(t, addr, amount)
	tx, _, err := e.chain.TransactionByHash(ctx(t), txHash)
	require.NoError(t, err)
	e.mine(3)
	e.sync(t)
	require.Equal(t, deposit.Credited, e.deposit(t, watchNativeKey(txHash)).Status)
	require.Equal(t, watchAmount(amount), e.balance(t, uid, "ETH"))

	// The deposit's block leaves the chain for a longer one where the
	// faucet spent that nonce elsewhere.
	e.fork(t, parent.Hash(), []*types.Transaction{tx}, 5)
	e.sync(t)

	d := e.deposit(t, watchNativeKey(txHash))
	require.Equal(t, deposit.Reversed, d.Status)
	require.Zero(t, d.Height)
	require.True(t, e.balance(t, uid, "ETH").IsZero(), "the balance is back")
	ts := e.transfersOf(t, wallet.AccountID(uid, "ETH"))
	require.Len(t, ts, 2)
	require.Equal(t, deposit.ReversalID(watchNativeKey(txHash), 0), ts[1].ID)
	require.Equal(t, deposit.CodeReversal, ts[1].Code)
	require.Equal(t, wallet.AccountID(uid, "ETH"), ts[1].DebitAccountID)
	al := e.alerts.of(deposit.AlertReversed)
	require.Len(t, al, 1)
	require.Equal(t, watchNativeKey(txHash).String(), al[0].detail["deposit"])

	cur, _, err := e.db.Cursor(ctx(t), watchChain)
	require.NoError(t, err)
	require.Equal(t, e.head(t).Hash().Hex(), cur.Hash)

	// More blocks change nothing.
	e.mine(3)
	e.sync(t)
	require.Equal(t, deposit.Reversed, e.deposit(t, watchNativeKey(txHash)).Status)
	require.Len(t, e.transfersOf(t, wallet.AccountID(uid, "ETH")), 2)
}

func TestWatcherReorgBeforeDepth(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths)
	uid, addr := e.user(t, "mei@example.com")
	e.mine(2)
	e.sync(t)
	parent := e.head(t)

	txHash := e.pay(t, addr, ether(t, "1"))
	tx, _, err := e.chain.TransactionByHash(ctx(t), txHash)
	require.NoError(t, err)
	e.mine(2)
	e.sync(t)
	require.Equal(t, deposit.Seen, e.deposit(t, watchNativeKey(txHash)).Status)

	// A fork of the same length: the head's height does not move.
	e.fork(t, parent.Hash(), []*types.Transaction{tx}, 2)
	e.sync(t)
	require.Equal(t, deposit.Orphaned, e.deposit(t, watchNativeKey(txHash)).Status)

	e.mine(5)
	e.sync(t)
	d := e.deposit(t, watchNativeKey(txHash))
	require.Equal(t, deposit.Orphaned, d.Status)
	require.Zero(t, d.Credits)
	require.True(t, e.balance(t, uid, "ETH").IsZero())
	require.Empty(t, e.transfersOf(t, wallet.AccountID(uid, "ETH")))
	require.Empty(t, e.alerts.events)
}

func TestWatcherReorgRemined(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths, watchBatch(2))
	uid, addr := e.user(t, "mei@example.com")
	e.mine(2)
	e.sync(t)
	parent := e.head(t)

	txHash := e.pay(t, addr, ether(t, "3"))
	tx, _, err := e.chain.TransactionByHash(ctx(t), txHash)
	require.NoError(t, err)
	old := e.mine(1)
	e.mine(3)
	e.sync(t)
	require.Equal(t, deposit.Credited, e.deposit(t, watchNativeKey(txHash)).Status)

	// The new chain mines the same transaction again, in another block.
	require.NoError(t, e.sim.Fork(parent.Hash()))
	if err := evm.Send(ctx(t), e.chain, tx); err != nil {
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "already in the pool after the reorg: %v", err)
	}
	e.mine(6)
	e.sync(t)

	d := e.deposit(t, watchNativeKey(txHash))
	require.Equal(t, deposit.Credited, d.Status)
	require.EqualValues(t, 1, d.Credits)
	require.NotEqual(t, old.Hex(), d.BlockHash)
	r, err := e.chain.TransactionReceipt(ctx(t), txHash)
	require.NoError(t, err)
	require.Equal(t, r.BlockHash.Hex(), d.BlockHash)
	require.Equal(t, watchAmount(ether(t, "3")), e.balance(t, uid, "ETH"))
	require.Len(t, e.transfersOf(t, wallet.AccountID(uid, "ETH")), 1, "no reversal, no second credit")
	require.Empty(t, e.alerts.events)
}

func TestWatcherReorgDeeperThanKeep(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths, watchKeep(2))
	e.user(t, "mei@example.com")
	e.mine(1)
	parent := e.head(t)
	e.mine(5)
	e.sync(t)
	e.fork(t, parent.Hash(), nil, 7)
	err := e.w.Sync(ctx(t))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
}

func TestWatcherNodeBehind(t *testing.T) {
	// A node whose head is below the cursor, on the same chain, is waited
	// for: nothing is disconnected.
	e := newWatchEnv(t, newFixture(t), map[string]deposit.Policy{"ETH": {Depth: 1}})
	uid, addr := e.user(t, "mei@example.com")
	e.mine(2)
	parent := e.head(t)
	tx := e.pay(t, addr, big.NewInt(5))
	e.mine(3)
	e.sync(t)
	require.NoError(t, e.sim.Fork(parent.Hash())) // the head goes back, the blocks are still the same
	e.sync(t)
	require.Equal(t, deposit.Credited, e.deposit(t, watchNativeKey(tx)).Status)
	require.Equal(t, chengdui.Amount{Lo: 5}, e.balance(t, uid, "ETH"))
}

func TestWatcherRun(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), map[string]deposit.Policy{"ETH": {Depth: 2}})
	e.cfg.Poll = 20 * time.Millisecond
	e.w = e.watcher(t)
	uid, addr := e.user(t, "mei@example.com")
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.w.Run(c) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	tx := e.pay(t, addr, big.NewInt(99))
	e.mine(2)
	require.Eventually(t, func() bool {
		d, err := e.db.Deposit(context.Background(), watchNativeKey(tx))
		return err == nil && d.Status == deposit.Credited
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, chengdui.Amount{Lo: 99}, e.balance(t, uid, "ETH"))
}

func TestWatcherChainIDMismatch(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths)
	e.cfg.Chain = "evm:1"
	err := e.watcher(t).Sync(ctx(t))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
}

func TestNewWatcherInvalid(t *testing.T) {
	e := newWatchEnv(t, newFixture(t), watchDepths)
	for name, mod := range map[string]func(*evm.WatcherConfig){
		"no chain":        func(c *evm.WatcherConfig) { c.Chain = "" },
		"no client":       func(c *evm.WatcherConfig) { c.Client = nil },
		"no native asset": func(c *evm.WatcherConfig) { c.NativeAsset = "" },
		"no deposits":     func(c *evm.WatcherConfig) { c.Deposits = nil },
		"no addresses":    func(c *evm.WatcherConfig) { c.Addresses = nil },
		"negative keep":   func(c *evm.WatcherConfig) { c.Keep = -1 },
		"negative batch":  func(c *evm.WatcherConfig) { c.BatchBlocks = -1 },
		"negative poll":   func(c *evm.WatcherConfig) { c.Poll = -time.Second },
		"token no asset":  func(c *evm.WatcherConfig) { c.Tokens = map[common.Address]string{{1}: ""} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := e.cfg
			mod(&cfg)
			_, err := evm.NewWatcher(cfg)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
}

// BenchmarkWatcher measures, with Depth 1, the time from a block with a
// deposit being sealed to its credit in the ledger while Run follows the
// chain (latency, p50 and p99), and how fast Sync catches up on a chain of
// blocks each with a transaction, with 2,000 tracked addresses (catch-up).
func BenchmarkWatcher(b *testing.B) {
	b.Run("latency", func(b *testing.B) {
		e := newWatchEnv(b, newFixture(b), map[string]deposit.Policy{"ETH": {Depth: 1}}, watchQuiet)
		_, addr := e.user(b, "mei@example.com")
		c, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.w.Run(c) }()
		defer func() {
			cancel()
			require.NoError(b, <-done)
		}()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			tx := e.pay(b, addr, big.NewInt(1))
			e.sim.Commit()
			start := time.Now()
			deadline := start.Add(10 * time.Second)
			for {
				d, err := e.db.Deposit(context.Background(), watchNativeKey(tx))
				if err == nil && d.Status == deposit.Credited {
					break
				}
				require.True(b, time.Now().Before(deadline), "deposit %s not credited in 10 s", tx.Hex())
				time.Sleep(100 * time.Microsecond)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
		b.ReportMetric(ms(0.5), "p50-ms")
		b.ReportMetric(ms(0.99), "p99-ms")
	})

	// Every block holds a transfer; every tenth, or none, pays a tracked
	// address.
	b.Run("catch-up", func(b *testing.B) { benchCatchUp(b, 10) })
	b.Run("catch-up-no-deposits", func(b *testing.B) { benchCatchUp(b, 0) })
}

func benchCatchUp(b *testing.B, every int) {
	const blocks = 400
	f := newFixture(b)
	e := newWatchEnv(b, f, map[string]deposit.Policy{"ETH": {Depth: 1}}, watchBatch(evm.DefaultBatchBlocks), watchQuiet)
	_, addr := e.user(b, "mei@example.com")
	for i := range 2000 {
		e.watch(common.BigToAddress(big.NewInt(int64(1_000_000 + i))))
	}
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	for i := range blocks {
		to := stranger
		if every > 0 && i%every == 0 {
			to = addr
		}
		e.pay(b, to, big.NewInt(1))
		e.sim.Commit()
	}
	want := 0
	if every > 0 {
		want = blocks / every
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh := newWatchEnv(b, f, map[string]deposit.Policy{"ETH": {Depth: 1}}, watchBatch(evm.DefaultBatchBlocks), watchQuiet)
		fresh.extra = e.extra
		fresh.user(b, "mei@example.com") // the same first address
		b.StartTimer()
		require.NoError(b, fresh.w.Sync(context.Background()))
		b.StopTimer()
		require.Len(b, fresh.deposits(b), want)
		b.StartTimer()
	}
	b.ReportMetric(float64(blocks*b.N)/b.Elapsed().Seconds(), "blocks/s")
}

// TestWatcherIgnoresInternalSenders: ether the hot wallet sends to a
// deposit address (a sweep's gas top-up) is not the user's deposit; the
// same from anyone else is.
func TestWatcherIgnoresInternalSenders(t *testing.T) {
	f := newFixture(t)
	e := newWatchEnv(t, f, map[string]deposit.Policy{"ETH": {Depth: 1}}, func(e *watchEnv) { e.cfg.Internal = []common.Address{f.faucet.Address} })
	uid, addr := e.user(t, "lan@example.com")
	e.mine(1)
	e.sync(t)
	topUp := e.pay(t, addr, ether(t, "0.01"))
	e.mine(1)
	e.sync(t)
	_, err := e.db.Deposit(ctx(t), watchNativeKey(topUp))
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "a top-up is not recorded as a deposit")
	require.True(t, e.balance(t, uid, "ETH").IsZero())

	// Without the hot wallet listed, the same transfer is a deposit.
	e.cfg.Internal = nil
	e.w = e.watcher(t)
	credited := e.pay(t, addr, ether(t, "0.02"))
	e.mine(1)
	e.sync(t)
	require.Equal(t, deposit.Credited, e.deposit(t, watchNativeKey(credited)).Status)
	require.Equal(t, watchAmount(ether(t, "0.02")), e.balance(t, uid, "ETH"))
}
