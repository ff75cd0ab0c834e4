package evm

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/deposit"
)

// Defaults of a Watcher.
const (
	DefaultPoll        = 100 * time.Millisecond // how often Run asks for the head
	DefaultKeep        = 128                    // blocks kept to find where a reorg forked
	DefaultBatchBlocks = 100                    // blocks per eth_getLogs range and per Advance
)

// Event signatures the watcher decodes.
var (
	// TransferTopic is topic 0 of ERC-20's Transfer(address indexed from,
	// address indexed to, uint256 value).
	TransferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
	// PaidTopic is topic 0 of the PaymentRouter's Paid(bytes32 indexed id,
	// address indexed payer, address indexed token, uint256 amount,
	// uint256 fee, address recipient).
	PaidTopic = crypto.Keccak256Hash([]byte("Paid(bytes32,address,address,uint256,uint256,address)"))
)

// Asset prefixes of payments that no ledger asset can match, so that the
// deposit service records them as unexpected rather than dropping them.
const (
	// UnknownTokenPrefix + the token's EIP-55 address is the asset of a
	// transfer of a token that WatcherConfig.Tokens does not list.
	UnknownTokenPrefix = "ERC20:"
	// OverflowPrefix + the asset is the asset of a payment whose amount
	// exceeds 2^128-1 smallest units; its Amount is zero. The full amount
	// is logged; the transaction and log index identify it on chain.
	OverflowPrefix = "overflow:"
)

// maxFilterTerms bounds the addresses, and the topics per position, of one
// eth_getLogs call: geth refuses more than 1000 (its --rpc.logquerylimit).
const maxFilterTerms = 1000

// fetchWorkers is how many blocks are fetched from the node at once.
const fetchWorkers = 4

// resubscribeEvery spaces Run's attempts to subscribe to new heads again
// after a subscription failed.
const resubscribeEvery = 10 * time.Second

// maxRetries bounds how often Sync starts a batch again because the chain
// changed while it was read.
const maxRetries = 10

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Chain is the chain's key in deposits and cursors, e.g. "evm:1337".
	// When it has the form "evm:<chain id>" the node's chain id must match.
	Chain string
	// Client is the node.
	Client Chain
	// NativeAsset is the ledger asset of the chain's ether, e.g. "ETH".
	NativeAsset string
	// Tokens maps the ERC-20 contracts the platform accepts to their
	// ledger assets, e.g. USDT's contract to "USDT-ERC20". Transfers of
	// other tokens to tracked addresses are recorded as unexpected, with
	// the asset UnknownTokenPrefix + the token's address.
	Tokens map[common.Address]string
	// Router is the PaymentRouter contract whose Paid events are router
	// payments; the zero address watches none.
	Router common.Address
	// Internal are the platform's own addresses (the hot wallet): ether they
	// send to a deposit address is a gas top-up for a sweep, not a deposit.
	Internal []common.Address
	// Deposits is the service the watcher reports to; its Store keeps the
	// cursor and the recent blocks.
	Deposits *deposit.Service
	// Addresses lists the deposit addresses to watch, e.g. a wallet
	// store's AddressesOf(ctx, "evm", "evm"). It is called again before
	// every batch of new blocks, so addresses issued since are watched from
	// the next block on.
	Addresses func(ctx context.Context) ([]chengdui.DepositAddress, error)
	// Poll is how often Run asks for the head when the node does not push
	// new heads; 0 means DefaultPoll.
	Poll time.Duration
	// Keep is the number of recent blocks kept to find where a reorg
	// forked; 0 means DefaultKeep. A reorg deeper than Keep stops the
	// watcher with an error for the operator.
	Keep int
	// BatchBlocks is the number of blocks read per eth_getLogs range and
	// recorded per Advance while catching up; 0 means DefaultBatchBlocks.
	BatchBlocks int
	// StartHeight is the first block scanned when the chain has no cursor
	// yet (0: from genesis, as on a dev chain). On a public chain, give the
	// height at which the first deposit address was issued.
	StartHeight uint64
	// Log receives the watcher's progress and warnings; nil: slog.Default().
	Log *slog.Logger
}

// Watcher follows an EVM chain and reports the payments to the platform's
// deposit addresses to a deposit.Service:
//
//   - ether sent by a successful transaction to a tracked address
//     (KindNative, index 0); ether sent by a contract's internal call is
//     not seen (that needs tracing), except through the router's Paid event;
//   - ERC-20 Transfer logs to a tracked address (KindERC20, the log index),
//     of a listed token or, as unexpected, of any other token;
//   - the router's Paid logs (KindRouter, the log index, Reference = the
//     intent id as 0x-hex, Address = the recipient), whatever the recipient,
//     in NativeAsset for the zero token, a listed token's asset, or as
//     unexpected for another token; the token's Transfer to the recipient
//     in the same transaction is not reported a second time.
//
// Addresses are compared as 20-byte values, whatever their case, and
// reported in their EIP-55 form, as the wallet records them.
//
// Transfers of zero value (address-poisoning spam) and ERC-721 transfers,
// whose Transfer log has four topics, are ignored.
//
// It processes blocks in order, in batches, and records each batch's blocks
// with deposit.Store.Advance after reporting their payments, so a restart
// resumes from the cursor: payments of a batch that was not recorded are
// reported again, which the deposit service treats as the same payments.
// Before a block is processed its parent must be the last recorded block;
// when it is not, the watcher walks back through the recorded blocks to the
// last one the node still has, disconnects the payments above it and
// rescans from there.
//
// A node that answers with a head lower than the cursor, but on the same
// chain, is taken to be behind (a load-balanced endpoint): the watcher waits
// for it rather than treating the gap as a reorg.
type Watcher struct {
	cfg     WatcherConfig
	store   deposit.Store
	log     *slog.Logger
	watched []common.Address // tokens and router, for the first log filter

	mu       sync.Mutex // one Sync at a time
	checked  bool       // the node's chain id matched
	settled  bool       // Settle ran since the watcher started
	clean    bool       // no payment was reported above the cursor
	rescanTo uint64     // Settle waits for the cursor to reach it again after a reorg or an unrecorded batch
}

// NewWatcher returns a Watcher.
//
// Errors: EInvalid for a missing chain key, client, native asset, deposit
// service or address source, a negative Poll, Keep or BatchBlocks, or a token
// without an asset.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	switch {
	case cfg.Chain == "":
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher: give the chain's key, e.g. evm:1")
	case cfg.Client == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: no node client", cfg.Chain)
	case cfg.NativeAsset == "":
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: give the asset of the chain's ether, e.g. ETH", cfg.Chain)
	case cfg.Deposits == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: no deposit service", cfg.Chain)
	case cfg.Addresses == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: no source of deposit addresses", cfg.Chain)
	case cfg.Keep < 0 || cfg.BatchBlocks < 0 || cfg.Poll < 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: poll, keep and batch blocks are positive, or 0 for the defaults", cfg.Chain)
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
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	tokens := make(map[common.Address]string, len(cfg.Tokens))
	var watched []common.Address
	for a, asset := range cfg.Tokens {
		if asset == "" {
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: token %s has no asset", cfg.Chain, a.Hex())
		}
		tokens[a] = asset
		watched = append(watched, a)
	}
	cfg.Tokens = tokens
	if cfg.Router != (common.Address{}) {
		watched = append(watched, cfg.Router)
	}
	return &Watcher{cfg: cfg, store: cfg.Deposits.Store(), log: cfg.Log.With("chain", cfg.Chain), watched: watched}, nil
}

// Run follows the chain until ctx ends, then returns nil. It syncs when the
// node announces a new head (when the client supports subscriptions) and
// every Poll; errors are logged and retried with a growing delay, up to
// 30 s.
func (w *Watcher) Run(ctx context.Context) error {
	heads := make(chan *types.Header, 16)
	var sub ethereum.Subscription
	var tried time.Time
	unsupported := false // an HTTP endpoint: polling only
	subscribe := func() {
		if unsupported || time.Since(tried) < resubscribeEvery {
			return
		}
		tried = time.Now()
		s, err := w.cfg.Client.SubscribeNewHead(ctx, heads)
		switch {
		case err == nil:
			sub = s
		case errors.Is(err, rpc.ErrNotificationsUnsupported):
			unsupported = true
		}
	}
	subscribe()
	defer func() {
		if sub != nil {
			sub.Unsubscribe()
		}
	}()
	const maxBackoff = 30 * time.Second
	backoff := w.cfg.Poll
	timer := time.NewTimer(w.cfg.Poll)
	defer timer.Stop()
	for {
		wait := w.cfg.Poll
		if err := w.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Error("evm watcher: sync failed; retrying", "err", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			backoff = w.cfg.Poll
		}
		// Since Go 1.23 Reset discards a value the timer sent and nobody
		// received.
		timer.Reset(wait)
		var subErr <-chan error
		if sub != nil {
			subErr = sub.Err()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			if sub == nil {
				subscribe()
			}
		case <-heads:
		case <-subErr:
			sub.Unsubscribe()
			sub = nil
		}
		for len(heads) > 0 {
			<-heads
		}
	}
}

// Sync processes every block up to the node's current head, reports the
// payments found and settles them at the last processed block. It handles
// reorgs on the way. Concurrent calls run one after the other.
//
// Errors: EInvalid when the node's chain id does not match the chain key;
// EConflict for a reorg deeper than Keep blocks; EUnavailable when the
// node is far behind the cursor, cannot be reached, or its chain changed
// under every retry; those of the deposit service and its store.
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkChainID(ctx); err != nil {
		return err
	}
	for retries := 0; ; {
		more, err := w.step(ctx)
		switch {
		case errors.Is(err, errChainMoved):
			retries++
			if retries > maxRetries {
				return chengdui.Errorf(chengdui.EUnavailable, "evm watcher %s: the node's chain changed while it was read, %d times in a row; retry later", w.cfg.Chain, retries)
			}
			continue
		case err != nil:
			return err
		case more:
			continue
		}
		if !w.settled {
			// A crash may have come between a batch's Advance and its
			// Settle: settle once at start even if no block is new.
			if err := w.settle(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// errChainMoved: the node's answers for one batch disagree (a reorg while
// the batch was read); the batch is read again.
var errChainMoved = errors.New("the chain changed while it was read")

func (w *Watcher) checkChainID(ctx context.Context) error {
	if w.checked {
		return nil
	}
	id, ok := strings.CutPrefix(w.cfg.Chain, "evm:")
	if want, err := strconv.ParseUint(id, 10, 64); ok && err == nil {
		got, err := w.cfg.Client.ChainID(ctx)
		if err != nil {
			return FormatError(err)
		}
		if !got.IsUint64() || got.Uint64() != want {
			return chengdui.Errorf(chengdui.EInvalid, "evm watcher %s: the node is on chain id %s: point the watcher at a node of chain %d", w.cfg.Chain, got, want)
		}
	}
	w.checked = true
	return nil
}

func (w *Watcher) settle(ctx context.Context) error {
	cur, ok, err := w.store.Cursor(ctx, w.cfg.Chain)
	if err != nil || !ok {
		return err
	}
	res, err := w.cfg.Deposits.Settle(ctx, w.cfg.Chain, cur.Height)
	if err != nil {
		return err
	}
	w.settled = true
	if res != (deposit.Result{}) {
		w.log.Info("evm deposits settled", "tip", cur.Height, "credited", res.Credited, "reversed", res.Reversed, "unexpected", res.Unexpected)
	}
	return nil
}

// step processes one batch of blocks, or one reorg. more reports that
// there is more to do.
func (w *Watcher) step(ctx context.Context) (more bool, err error) {
	head, err := w.cfg.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return false, FormatError(err)
	}
	headNum := head.Number.Uint64()
	cur, ok, err := w.store.Cursor(ctx, w.cfg.Chain)
	if err != nil {
		return false, err
	}
	from := w.cfg.StartHeight
	if ok {
		switch {
		case headNum == cur.Height && head.Hash().Hex() == cur.Hash:
			return false, nil
		case headNum == cur.Height:
			return true, w.reorg(ctx, cur)
		case headNum < cur.Height:
			stored, err := w.store.BlockAt(ctx, w.cfg.Chain, headNum)
			switch {
			case chengdui.ErrorCode(err) == chengdui.ENotFound:
				return false, chengdui.Errorf(chengdui.EUnavailable, "evm watcher %s: the node's head %d is %d blocks behind the cursor: is it syncing?", w.cfg.Chain, headNum, cur.Height-headNum)
			case err != nil:
				return false, err
			case stored.Hash == head.Hash().Hex():
				w.log.Debug("evm node behind the cursor; waiting", "head", headNum, "cursor", cur.Height)
				return false, nil
			}
			return true, w.reorg(ctx, cur)
		}
		from = cur.Height + 1
	} else if headNum < from {
		return false, nil
	}
	to := min(headNum, from+uint64(w.cfg.BatchBlocks)-1)

	// The addresses are read after the head: an address issued after this
	// read cannot have been paid in a block mined before it.
	tracked, err := w.tracked(ctx)
	if err != nil {
		return false, err
	}
	blocks, err := w.fetchBlocks(ctx, from, to, len(tracked) > 0)
	if err != nil {
		return false, err
	}
	if ok && blocks[0].header.ParentHash.Hex() != cur.Hash {
		return true, w.reorg(ctx, cur)
	}
	for i := 1; i < len(blocks); i++ {
		if blocks[i].header.ParentHash != blocks[i-1].hash {
			return false, errChainMoved
		}
	}
	payments, err := w.scan(ctx, blocks, tracked)
	if err != nil {
		return false, err
	}

	if !w.clean {
		if err := w.disconnectUnrecorded(ctx, from); err != nil {
			return false, err
		}
	}
	w.clean = false
	if len(payments) > 0 {
		if err := w.cfg.Deposits.Observe(ctx, payments); err != nil {
			return false, err
		}
	}
	recs := make([]deposit.Block, len(blocks))
	for i, b := range blocks {
		recs[i] = deposit.Block{Height: b.header.Number.Uint64(), Hash: b.hash.Hex(), Parent: b.header.ParentHash.Hex()}
	}
	if err := w.store.Advance(ctx, w.cfg.Chain, recs, w.cfg.Keep); err != nil {
		return false, err
	}
	w.clean = true
	if to >= headNum || to >= w.rescanTo {
		// While a reorg's new blocks are rescanned, a credit whose payment
		// is mined again further on is not reversed in between.
		if err := w.settle(ctx); err != nil {
			return false, err
		}
	}
	return to < headNum, nil
}

// disconnectUnrecorded handles payments at heights from and above,
// reported by a batch that was not recorded (a crash, a failed Advance):
// their blocks may have left the chain since. They are unconfirmed until the
// rescan reports them again, and Settle waits until the rescan has passed
// them, so that a credit is not reversed only to be posted again.
func (w *Watcher) disconnectUnrecorded(ctx context.Context, from uint64) error {
	ds, err := w.store.DepositsFrom(ctx, w.cfg.Chain, from)
	if err != nil || len(ds) == 0 {
		return err
	}
	for _, d := range ds {
		w.rescanTo = max(w.rescanTo, d.Height)
	}
	w.log.Info("evm watcher: rescanning payments reported above the cursor", "from", from, "payments", len(ds))
	return w.cfg.Deposits.Disconnect(ctx, w.cfg.Chain, from)
}

// reorg finds the last recorded block the node still has, disconnects the
// payments above it and rewinds the cursor there.
func (w *Watcher) reorg(ctx context.Context, cur deposit.Cursor) error {
	for h := cur.Height; ; h-- {
		stored, err := w.store.BlockAt(ctx, w.cfg.Chain, h)
		if chengdui.ErrorCode(err) == chengdui.ENotFound {
			return chengdui.Errorf(chengdui.EConflict, "evm watcher %s: a reorg reaches below block %d, the oldest of the %d kept: check the node, then rewind the chain's cursor by hand",
				w.cfg.Chain, h+1, w.cfg.Keep)
		} else if err != nil {
			return err
		}
		hdr, err := w.cfg.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(h))
		switch {
		case errors.Is(err, ethereum.NotFound):
		case err != nil:
			return FormatError(err)
		case hdr.Hash().Hex() == stored.Hash:
			w.log.Warn("evm chain reorganised", "fork_height", h, "depth", cur.Height-h, "old_head", cur.Hash)
			// Disconnect first: if the Rewind is lost, the next Sync finds
			// the reorg again, and disconnecting twice changes nothing.
			if err := w.cfg.Deposits.Disconnect(ctx, w.cfg.Chain, h+1); err != nil {
				return err
			}
			if err := w.store.Rewind(ctx, w.cfg.Chain, h); err != nil {
				return err
			}
			w.rescanTo = max(w.rescanTo, cur.Height)
			return nil
		}
		if h == 0 {
			return chengdui.Errorf(chengdui.EConflict, "evm watcher %s: the node's genesis block differs from the recorded one: is it the same chain?", w.cfg.Chain)
		}
	}
}

// tracked loads the deposit addresses to watch.
func (w *Watcher) tracked(ctx context.Context) (map[common.Address]bool, error) {
	as, err := w.cfg.Addresses(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[common.Address]bool, len(as))
	for _, a := range as {
		if !common.IsHexAddress(a.Address) {
			w.log.Warn("evm watcher: not an EVM address; not watched", "address", a.Address, "scheme", a.Scheme)
			continue
		}
		m[common.HexToAddress(a.Address)] = true
	}
	return m, nil
}

type fetched struct {
	header *types.Header
	hash   common.Hash
	txs    types.Transactions // nil when no address is tracked
}

// fetchBlocks reads blocks from..to, with their transactions when full.
func (w *Watcher) fetchBlocks(ctx context.Context, from, to uint64, full bool) ([]fetched, error) {
	out := make([]fetched, to-from+1)
	errs := make([]error, len(out))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(fetchWorkers, len(out)) {
		wg.Go(func() {
			for i := range next {
				n := new(big.Int).SetUint64(from + uint64(i))
				if full {
					b, err := w.cfg.Client.BlockByNumber(ctx, n)
					if err != nil {
						errs[i] = err
						continue
					}
					out[i] = fetched{header: b.Header(), hash: b.Hash(), txs: b.Transactions()}
				} else {
					h, err := w.cfg.Client.HeaderByNumber(ctx, n)
					if err != nil {
						errs[i] = err
						continue
					}
					out[i] = fetched{header: h, hash: h.Hash()}
				}
			}
		})
	}
	for i := range out {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, ethereum.NotFound) {
			return nil, errChainMoved // a block below the head is gone: a reorg to a shorter chain
		} else if err != nil {
			return nil, FormatError(err)
		}
	}
	return out, nil
}

// scan finds the payments of blocks.
func (w *Watcher) scan(ctx context.Context, blocks []fetched, tracked map[common.Address]bool) ([]deposit.Payment, error) {
	from := blocks[0].header.Number.Uint64()
	hashAt := func(n uint64) common.Hash {
		if n < from || n-from >= uint64(len(blocks)) {
			return common.Hash{}
		}
		return blocks[n-from].hash
	}
	var ps []deposit.Payment

	// Ether sent by a transaction to a tracked address.
	for _, b := range blocks {
		for _, tx := range b.txs {
			to := tx.To()
			if to == nil || !tracked[*to] || tx.Value().Sign() <= 0 {
				continue
			}
			if w.internal(tx) {
				continue // a sweep's gas top-up from the hot wallet
			}
			r, err := w.cfg.Client.TransactionReceipt(ctx, tx.Hash())
			if errors.Is(err, ethereum.NotFound) {
				return nil, errChainMoved
			} else if err != nil {
				return nil, FormatError(err)
			}
			if r.BlockHash != b.hash {
				return nil, errChainMoved
			}
			if r.Status != types.ReceiptStatusSuccessful {
				w.log.Info("evm watcher: failed transaction to a deposit address ignored", "tx", tx.Hash().Hex(), "address", to.Hex())
				continue
			}
			ps = append(ps, w.payment(deposit.KindNative, tx.Hash(), 0, *to, w.cfg.NativeAsset, tx.Value(), b.header.Number.Uint64(), b.hash, ""))
		}
	}

	// Logs of the listed tokens and the router, then transfers of any other
	// token to a tracked address.
	var logs []types.Log
	to := from + uint64(len(blocks)) - 1
	for chunk := range chunks(w.watched) {
		ls, err := w.filter(ctx, from, to, chunk, [][]common.Hash{{TransferTopic, PaidTopic}})
		if err != nil {
			return nil, err
		}
		logs = append(logs, ls...)
	}
	if len(tracked) > 0 {
		topics := make([]common.Hash, 0, len(tracked))
		for a := range tracked {
			topics = append(topics, common.BytesToHash(a.Bytes()))
		}
		for chunk := range chunks(topics) {
			ls, err := w.filter(ctx, from, to, nil, [][]common.Hash{{TransferTopic}, nil, chunk})
			if err != nil {
				return nil, err
			}
			for _, l := range ls {
				if _, known := w.cfg.Tokens[l.Address]; !known && l.Address != w.cfg.Router {
					logs = append(logs, l)
				}
			}
		}
	}

	type routed struct {
		tx               common.Hash
		token, recipient common.Address
	}
	paid := map[routed]bool{}
	var transfers []deposit.Payment
	var transferKeys []routed
	for _, l := range logs {
		if l.Removed {
			continue
		}
		if l.BlockHash != hashAt(l.BlockNumber) {
			return nil, errChainMoved
		}
		switch {
		case l.Address == w.cfg.Router && w.cfg.Router != (common.Address{}) && len(l.Topics) == 4 && l.Topics[0] == PaidTopic:
			if len(l.Data) != 96 || !isAddressWord(l.Topics[3].Bytes()) || !isAddressWord(l.Data[64:96]) {
				w.log.Error("evm watcher: malformed Paid log ignored", "tx", l.TxHash.Hex(), "log_index", l.Index)
				continue
			}
			token := common.BytesToAddress(l.Topics[3].Bytes())
			recipient := common.BytesToAddress(l.Data[64:96])
			asset := w.cfg.NativeAsset
			if token != (common.Address{}) {
				asset = w.tokenAsset(token)
			}
			amount := new(big.Int).SetBytes(l.Data[:32])
			if amount.Sign() == 0 {
				continue
			}
			paid[routed{l.TxHash, token, recipient}] = true
			ps = append(ps, w.payment(deposit.KindRouter, l.TxHash, l.Index, recipient, asset, amount, l.BlockNumber, l.BlockHash, l.Topics[1].Hex()))
		case len(l.Topics) == 3 && l.Topics[0] == TransferTopic:
			if len(l.Data) != 32 || !isAddressWord(l.Topics[2].Bytes()) {
				continue
			}
			recipient := common.BytesToAddress(l.Topics[2].Bytes())
			amount := new(big.Int).SetBytes(l.Data)
			if !tracked[recipient] || amount.Sign() == 0 {
				continue
			}
			transfers = append(transfers, w.payment(deposit.KindERC20, l.TxHash, l.Index, recipient, w.tokenAsset(l.Address), amount, l.BlockNumber, l.BlockHash, ""))
			transferKeys = append(transferKeys, routed{l.TxHash, l.Address, recipient})
		}
	}
	for i, p := range transfers {
		if !paid[transferKeys[i]] {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// filter runs one eth_getLogs over from..to.
func (w *Watcher) filter(ctx context.Context, from, to uint64, addrs []common.Address, topics [][]common.Hash) ([]types.Log, error) {
	ls, err := w.cfg.Client.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(from),
		ToBlock:   new(big.Int).SetUint64(to),
		Addresses: addrs,
		Topics:    topics,
	})
	if err != nil {
		return nil, FormatError(err)
	}
	return ls, nil
}

// chunks splits s into slices of at most maxFilterTerms.
func chunks[T any](s []T) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			n := min(len(s), maxFilterTerms)
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}

// isAddressWord reports whether a 32-byte ABI word holds an address: its
// first 12 bytes are zero.
func isAddressWord(b []byte) bool {
	if len(b) != 32 {
		return false
	}
	for _, c := range b[:12] {
		if c != 0 {
			return false
		}
	}
	return true
}

func (w *Watcher) tokenAsset(token common.Address) string {
	if a, ok := w.cfg.Tokens[token]; ok {
		return a
	}
	return UnknownTokenPrefix + token.Hex()
}

// payment builds a Payment. An amount over 128 bits is not truncated: it
// becomes a zero payment of an asset no account holds (OverflowPrefix),
// which the deposit service records as unexpected.
func (w *Watcher) payment(kind string, tx common.Hash, index uint, to common.Address, asset string, v *big.Int, height uint64, block common.Hash, ref string) deposit.Payment {
	p := deposit.Payment{
		Key:       deposit.Key{Chain: w.cfg.Chain, TxID: tx.Hex(), Kind: kind, Index: uint32(index)},
		Address:   to.Hex(),
		Asset:     asset,
		BlockHash: block.Hex(),
		Height:    height,
		Reference: ref,
	}
	if v.BitLen() > 128 {
		w.log.Error("evm watcher: payment amount exceeds 128 bits; recorded as unexpected", "tx", p.TxID, "index", index, "asset", asset, "amount", v.String())
		p.Asset = OverflowPrefix + asset
		return p
	}
	p.Amount = uint128.FromBig(v)
	return p
}

// internal reports whether tx was sent by one of the platform's own
// addresses.
func (w *Watcher) internal(tx *types.Transaction) bool {
	if len(w.cfg.Internal) == 0 {
		return false
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return false
	}
	return slices.Contains(w.cfg.Internal, from)
}
