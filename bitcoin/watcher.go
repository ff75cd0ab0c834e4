package bitcoin

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/deposit"
	"chengdui/keys"
)

// Defaults of a Watcher.
const (
	DefaultPoll        = 50 * time.Millisecond // how often Run asks for the best block and the mempool
	DefaultKeep        = 144                   // blocks kept to find where a reorg forked: a day
	DefaultGap         = 20                    // receive addresses derived past the highest issued index
	DefaultChangeGap   = 100                   // change addresses derived past the highest one in use
	DefaultBatchBlocks = 100                   // blocks recorded per Advance while catching up
	DefaultFetchAhead  = 16                    // blocks requested from the node ahead of the one processed
	DefaultVanishAfter = 10 * time.Minute      // see WatcherConfig.VanishAfter
	DefaultRefresh     = time.Second           // how often the issued addresses are read again
)

const (
	// maxRetries bounds how often Sync starts again because the node's
	// chain changed while it was read.
	maxRetries = 10
	// resettleEvery spaces the Settle calls made when nothing changed, so
	// that a reversal the ledger refused (the money was spent) is retried.
	resettleEvery = 30 * time.Second
	// maxBackoff bounds Run's delay after failed Syncs.
	maxBackoff = 5 * time.Second
	// maxFlushDelay bounds how long processed blocks wait for their
	// Advance while catching up, so progress is recorded on slow nodes.
	maxFlushDelay = time.Second
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Chain is the chain's key in deposits, coins and cursors, e.g.
	// "bitcoin:regtest".
	Chain string
	// Node is the node followed. It needs a transaction index (btcd
	// --txindex, bitcoind -txindex) to rebuild the watcher's view of
	// unconfirmed transactions after a restart.
	Node *Node
	// Asset is the ledger asset of the payments, e.g. "BTC".
	Asset string
	// Deposits is the service the watcher reports payments to; its Store
	// keeps the cursor and the recent blocks.
	Deposits *deposit.Service
	// Coins keeps the hot wallet's coins: every output to one of the
	// account's addresses, receive or change.
	Coins CoinStore
	// Receive derives the hot wallet account's addresses (P2WPKH or P2TR):
	// deposit addresses are change 0 at the issued indexes, change
	// addresses change 1.
	Receive *keys.Watcher
	// Addresses lists the issued deposit addresses, e.g. a wallet store's
	// AddressesOf(ctx, "p2wpkh", "regtest"). Only the highest index
	// matters: every index up to it plus Gap is watched, issued or not. An
	// address whose index derives to another address is a configuration
	// error (another xpub issued it): Sync fails with EInvalid.
	Addresses func(ctx context.Context) ([]chengdui.DepositAddress, error)
	// Gap is how many receive indexes past the highest issued one are
	// watched, so that a payment to an address issued a moment ago is not
	// missed; 0 means DefaultGap. Payments to them are reported like any
	// other: the deposit service credits them once the address is issued,
	// or records them as unexpected.
	Gap uint32
	// ChangeGap is how many change indexes past the highest one seen in the
	// coins, or given to TrackChange, are watched; 0 means DefaultChangeGap.
	ChangeGap uint32
	// Poll is how often Run asks for the best block and the mempool; 0
	// means DefaultPoll. Each poll lists the mempool (getrawmempool): on
	// mainnet, whose mempool holds hundreds of thousands of transactions,
	// a Poll of a second or more spares the node.
	Poll time.Duration
	// Keep is the number of recent blocks kept to find where a reorg
	// forked; 0 means DefaultKeep. A reorg deeper than Keep makes Sync fail
	// with EConflict until an operator intervenes.
	Keep int
	// BatchBlocks is the number of blocks recorded per Advance (and
	// settled at once) while catching up; 0 means DefaultBatchBlocks.
	BatchBlocks int
	// FetchAhead is the number of blocks requested from the node ahead of
	// the one being processed while catching up; 0 means DefaultFetchAhead.
	FetchAhead int
	// Fetchers are more connections to the same node (Dial it again with
	// the same Config), over which blocks are fetched in parallel while
	// catching up: a Node sends one request at a time, so with Node alone
	// fetching ahead only overlaps the node's work with the watcher's.
	// The watcher does not close them.
	Fetchers []*Node
	// StartHeight is the first block scanned when the chain has no cursor
	// yet; the watcher waits for a node below it. When it is 0, the first
	// start scans the node's last Rescan blocks; with both 0, only blocks
	// mined after it starts (and the mempool). Payments in blocks before
	// the start are never seen: on mainnet, give the height at which the
	// account's first address was issued.
	StartHeight uint64
	// Rescan: see StartHeight.
	Rescan uint64
	// VanishAfter is how long an unconfirmed transaction the watcher
	// reported (a deposit, or a spend of the hot wallet's coins) may be
	// missing from both the mempool and the chain before the watcher asks
	// the node for it; if the node no longer knows it (it was evicted, or
	// conflicted by a transaction the watcher never saw), it is treated as
	// replaced. 0 means DefaultVanishAfter.
	VanishAfter time.Duration
	// Refresh is how often Addresses is called again; 0 means
	// DefaultRefresh.
	Refresh time.Duration
	// Log receives the watcher's progress and warnings; nil: slog.Default().
	Log *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Watcher follows a Bitcoin node and reports to a deposit.Service the
// payments to the hot wallet account's receive addresses, and keeps its
// coins (outputs to its receive and change addresses) in a CoinStore:
//
//   - every output of a block or mempool transaction to a watched address
//     is a coin (PutCoin); one to a receive address is also a payment
//     (deposit.KindOutput, the vout, the value in satoshi, RBF when the
//     transaction or an unconfirmed ancestor signals BIP125
//     replaceability). Coinbase transactions are ignored: their outputs
//     mature only after 100 blocks, which no deposit policy knows;
//   - an input spending a coin marks it spent (SpendCoins);
//   - a transaction spending an input of an unconfirmed transaction the
//     watcher reported, with another txid, replaced it: its payments are
//     Replaced (deposit.Replace), the coins it spent are unspent again
//     (UnspendCoins), and the coins it created are marked spent by their
//     own txid, which no real transaction has, so that the sender never
//     picks them (they come back if the transaction is mined after all).
//     Its unconfirmed descendants are replaced with it. A transaction
//     missing from the mempool and the chain for VanishAfter, that the
//     node no longer knows, is treated the same way.
//
// Addresses are matched on their output scripts, derived once from the
// account key. Blocks are processed in order and recorded with
// deposit.Store.Advance, BatchBlocks at a time while catching up, after
// their payments and coins, then settled (deposit.Service.Settle at the
// last one). A restart resumes from the cursor: blocks processed but not
// recorded are processed again, which the deposit service and the coin
// store treat as the same payments and coins. Before a block is processed
// its parent must be the last processed block; when it is not, or the
// node's chain no longer holds the cursor, the watcher walks back through
// the recorded blocks to the last one the node still has, rewinds the
// cursor there, disconnects the deposits and coins above it and rescans.
//
// A node whose tip is below the cursor on the same chain (restored from a
// backup, or resyncing) is waited for, not treated as a reorg.
type Watcher struct {
	cfg   WatcherConfig
	store deposit.Store
	log   *slog.Logger

	mu         sync.Mutex // one Sync at a time; guards what follows
	loaded     bool
	cursor     deposit.Cursor                   // Hash "" before the first start
	coins      map[wire.OutPoint]*Coin          // the wallet's coins, but spent ones whose spender is deep
	txs        map[chainhash.Hash]*trackedTx    // transactions that pay or spend the wallet, not yet deep
	claims     map[wire.OutPoint]chainhash.Hash // inputs of txs → the tx spending them
	pool       map[chainhash.Hash]bool          // mempool transactions processed → they signal RBF (themselves or inherited)
	issued     uint32                           // highest issued receive index + 1
	addrsAt    time.Time                        // last Addresses call
	dirty      bool                             // something changed since the last Settle
	storeSpent map[wire.OutPoint]string         // the store's spent coins, read at most once per block
	settledAt  time.Time                        //

	addrMu  sync.RWMutex
	scripts map[string]addrRef // output script → address
	addrs   [2][]string        // derived addresses by chain (0 receive, 1 change) and index
}

// addrRef is a watched address.
type addrRef struct {
	change, index uint32
	address       string
}

// trackedTx is a transaction that pays the wallet or spends its coins, in
// the mempool or in a block less than Keep deep.
type trackedTx struct {
	inputs []wire.OutPoint
	height uint64    // 0 while unconfirmed
	seen   time.Time // last seen in the mempool or a block
}

// NewWatcher checks cfg and returns a Watcher. It reads nothing yet: the
// first Sync loads the cursor, the addresses and the coins.
//
// Errors: EInvalid for a missing or bad setting.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	switch {
	case cfg.Chain == "":
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher: the chain key is required, e.g. bitcoin:regtest")
	case cfg.Node == nil || cfg.Deposits == nil || cfg.Coins == nil || cfg.Addresses == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: the node, the deposit service, the coin store and the address source are required", cfg.Chain)
	case cfg.Asset == "":
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: the asset is required, e.g. BTC", cfg.Chain)
	case cfg.Receive == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: the account's xpub watcher is required", cfg.Chain)
	case cfg.Receive.Scheme() != keys.P2WPKH && cfg.Receive.Scheme() != keys.P2TR:
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: addresses of scheme %s are not Bitcoin's; give a p2wpkh or p2tr account", cfg.Chain, cfg.Receive.Scheme())
	case slices.Contains(cfg.Fetchers, nil):
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: a fetcher connection is nil", cfg.Chain)
	case cfg.Receive.Network() != cfg.Node.Network():
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: the account is for %s but the node is on %s", cfg.Chain, cfg.Receive.Network(), cfg.Node.Network())
	case cfg.Keep < 0 || cfg.BatchBlocks < 0 || cfg.FetchAhead < 0 || cfg.Poll < 0 || cfg.VanishAfter < 0 || cfg.Refresh < 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: negative settings are not allowed", cfg.Chain)
	}
	if cfg.Gap == 0 {
		cfg.Gap = DefaultGap
	}
	if cfg.ChangeGap == 0 {
		cfg.ChangeGap = DefaultChangeGap
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.BatchBlocks == 0 {
		cfg.BatchBlocks = DefaultBatchBlocks
	}
	if cfg.FetchAhead == 0 {
		cfg.FetchAhead = DefaultFetchAhead
	}
	if cfg.VanishAfter == 0 {
		cfg.VanishAfter = DefaultVanishAfter
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Watcher{
		cfg:     cfg,
		store:   cfg.Deposits.Store(),
		log:     cfg.Log.With("chain", cfg.Chain),
		coins:   map[wire.OutPoint]*Coin{},
		txs:     map[chainhash.Hash]*trackedTx{},
		claims:  map[wire.OutPoint]chainhash.Hash{},
		pool:    map[chainhash.Hash]bool{},
		scripts: map[string]addrRef{},
	}, nil
}

// Run syncs every Poll until ctx ends, then returns nil. Errors are logged
// and retried with a growing delay, up to 5 s.
func (w *Watcher) Run(ctx context.Context) error {
	backoff := w.cfg.Poll
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		wait := w.cfg.Poll
		if err := w.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Error("bitcoin watcher: sync failed; retrying", "err", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			backoff = w.cfg.Poll
		}
		timer.Reset(wait)
	}
}

// Sync processes every block up to the node's best block, then the
// mempool, and settles the deposits at the last processed block. It
// handles reorgs on the way. Concurrent calls run one after the other.
//
// Errors: EInvalid when an issued address is not the account's;
// EConflict for a reorg deeper than Keep blocks; EUnavailable when the
// node cannot be reached or its chain changed under every retry; those of
// the deposit service and the stores.
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.loadOnce(ctx); err != nil {
		return err
	}
	if err := w.refreshAddresses(ctx, false); err != nil {
		return err
	}
	if err := w.syncBlocks(ctx); err != nil {
		return err
	}
	if err := w.syncMempool(ctx); err != nil {
		return err
	}
	if err := w.checkVanished(ctx); err != nil {
		return err
	}
	if w.dirty || w.cfg.Now().Sub(w.settledAt) >= resettleEvery {
		return w.settle(ctx)
	}
	return nil
}

// Load reads what the watcher keeps in memory: the cursor, the issued
// addresses (deriving the watched window), the coins, and the
// unconfirmed or recent transactions it must keep an eye on, from the node.
// Sync and Run load on first use; call Load at startup to fail fast on a
// misconfiguration. Loading again does nothing.
//
// Errors: EInvalid when an issued address is not the account's; those of
// the node and the stores.
func (w *Watcher) Load(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.loadOnce(ctx)
}

func (w *Watcher) loadOnce(ctx context.Context) error {
	if w.loaded {
		return nil
	}
	if err := w.load(ctx); err != nil {
		return err
	}
	w.loaded = true
	return nil
}

// TrackChange makes sure the change address at index, and ChangeGap past
// it, are watched. The sender calls it before it broadcasts a transaction
// with change there; when it returns, Sync sees the change.
//
// Errors: EInvalid for an index of 2^31 or more.
func (w *Watcher) TrackChange(index uint32) error {
	if index >= keys.Hardened {
		return chengdui.Errorf(chengdui.EInvalid, "change index %d is past the non-hardened limit", index)
	}
	return w.track(1, w.window(index+1, w.cfg.ChangeGap))
}

// settle runs the deposit service's policies at the cursor.
func (w *Watcher) settle(ctx context.Context) error {
	res, err := w.cfg.Deposits.Settle(ctx, w.cfg.Chain, w.cursor.Height)
	if err != nil {
		return err
	}
	if res != (deposit.Result{}) {
		w.log.Info("bitcoin watcher: deposits settled", "height", w.cursor.Height, "credited", res.Credited, "reversed", res.Reversed, "unexpected", res.Unexpected)
	}
	w.dirty, w.settledAt = false, w.cfg.Now()
	return nil
}

// refreshAddresses reads the issued addresses again when Refresh has
// passed (or always with force) and derives the receive window.
func (w *Watcher) refreshAddresses(ctx context.Context, force bool) error {
	now := w.cfg.Now()
	if !force && now.Sub(w.addrsAt) < w.cfg.Refresh {
		return nil
	}
	addrs, err := w.cfg.Addresses(ctx)
	if err != nil {
		return err
	}
	w.addrsAt = now
	issued := w.issued
	for _, a := range addrs {
		if a.Index >= keys.Hardened {
			return chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: issued address %s has index %d, past the non-hardened limit", w.cfg.Chain, a.Address, a.Index)
		}
		issued = max(issued, a.Index+1)
	}
	if err := w.track(0, w.window(issued, w.cfg.Gap)); err != nil {
		return err
	}
	// Every issued address must be the account's: another xpub's
	// addresses would never be seen.
	w.addrMu.RLock()
	defer w.addrMu.RUnlock()
	for _, a := range addrs {
		if a.Index < w.issued {
			continue // checked before
		}
		if a.Address != w.addrs[0][a.Index] {
			return chengdui.Errorf(chengdui.EInvalid, "bitcoin watcher %s: issued address %s at index %d is not derived from the watcher's account key: give the watcher the xpub the wallet issues addresses from", w.cfg.Chain, a.Address, a.Index)
		}
	}
	w.issued = issued
	return nil
}

// window is the number of indexes to derive when indexes below used are
// in use: used plus gap, capped at the non-hardened limit.
func (w *Watcher) window(used, gap uint32) uint32 {
	return uint32(min(uint64(used)+uint64(gap), uint64(keys.Hardened)))
}

// track derives the addresses of a chain (0 receive, 1 change) up to
// index upto (excluded) that are not derived yet. Derivation runs outside
// addrMu, on every core: a start with 10,000 issued addresses takes a
// fraction of a second.
func (w *Watcher) track(change, upto uint32) error {
	w.addrMu.RLock()
	from := uint32(len(w.addrs[change]))
	w.addrMu.RUnlock()
	if upto <= from {
		return nil
	}
	n := int(upto - from)
	scripts := make([][]byte, n)
	refs := make([]addrRef, n)
	workers := min(runtime.GOMAXPROCS(0), (n+63)/64)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := g; i < n; i += workers {
				idx := from + uint32(i)
				pub, err := w.cfg.Receive.PublicKey(change, idx)
				if err != nil {
					errs[g] = err
					return
				}
				addr, err := keys.Address(w.cfg.Receive.Scheme(), w.cfg.Receive.Network(), pub)
				if err != nil {
					errs[g] = err
					return
				}
				scripts[i] = outputScript(w.cfg.Receive.Scheme(), pub)
				refs[i] = addrRef{change: change, index: idx, address: addr}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w.addrMu.Lock()
	defer w.addrMu.Unlock()
	// Another caller may have derived some of them meanwhile.
	for i := int(uint32(len(w.addrs[change])) - from); i < n; i++ {
		w.scripts[string(scripts[i])] = refs[i]
		w.addrs[change] = append(w.addrs[change], refs[i].address)
	}
	return nil
}

// outputScript is the output script paying pub under scheme: P2WPKH's
// OP_0 <HASH160(key)>, or P2TR's OP_1 <BIP86 output key>.
func outputScript(s keys.Scheme, pub *btcec.PublicKey) []byte {
	if s == keys.P2TR {
		out := txscript.ComputeTaprootKeyNoScript(pub)
		return append([]byte{txscript.OP_1, txscript.OP_DATA_32}, schnorr.SerializePubKey(out)...)
	}
	return append([]byte{txscript.OP_0, txscript.OP_DATA_20}, btcutil.Hash160(pub.SerializeCompressed())...)
}

// widen derives the gap past a watched address found in use.
func (w *Watcher) widen(ref addrRef) error {
	gap := w.cfg.Gap
	if ref.change == 1 {
		gap = w.cfg.ChangeGap
	}
	return w.track(ref.change, w.window(ref.index+1, gap))
}

// signalsRBF reports whether tx signals replaceability itself (BIP125:
// an input's sequence below 0xfffffffe).
func signalsRBF(tx *wire.MsgTx) bool {
	return slices.ContainsFunc(tx.TxIn, func(in *wire.TxIn) bool { return in.Sequence < wire.MaxTxInSequenceNum-1 })
}
