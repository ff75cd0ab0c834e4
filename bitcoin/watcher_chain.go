package bitcoin

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/deposit"
)

// errChainMoved: the node's chain changed while the watcher read it.
var errChainMoved = errors.New("the node's chain changed while it was read")

// loadWorkers is how many transactions load asks the node for at once.
const loadWorkers = 8

// maxMempoolFetch bounds the mempool transactions one Sync reads.
const maxMempoolFetch = 2000

// load reads the cursor, the issued addresses and the coins, and asks the
// node for the transactions the watcher must keep an eye on: those of
// deposits not settled or less than Keep deep, of unconfirmed coins, and
// those spending coins. What the node no longer knows is tracked as
// unconfirmed, to be treated as replaced after VanishAfter.
func (w *Watcher) load(ctx context.Context) error {
	cur, ok, err := w.store.Cursor(ctx, w.cfg.Chain)
	if err != nil {
		return err
	}
	if ok {
		w.cursor = cur
	}
	if err := w.refreshAddresses(ctx, true); err != nil {
		return err
	}
	coins, err := w.cfg.Coins.Coins(ctx, w.cfg.Chain, false)
	if err != nil {
		return err
	}
	var used [2]uint32
	for i := range coins {
		c := &coins[i]
		op, err := outPoint(c.TxID, c.Vout)
		if err != nil {
			return err
		}
		w.coins[op] = c
		if c.Change <= 1 {
			used[c.Change] = max(used[c.Change], c.Index+1)
		}
	}
	if err := w.track(0, w.window(used[0], w.cfg.Gap)); err != nil {
		return err
	}
	if err := w.track(1, w.window(used[1], w.cfg.ChangeGap)); err != nil {
		return err
	}

	want := map[chainhash.Hash]bool{}
	if ok {
		unsettled, err := w.store.Unsettled(ctx, w.cfg.Chain)
		if err != nil {
			return err
		}
		from := uint64(0)
		if cur.Height >= uint64(w.cfg.Keep) {
			from = cur.Height - uint64(w.cfg.Keep) + 1
		}
		recent, err := w.store.DepositsFrom(ctx, w.cfg.Chain, from)
		if err != nil {
			return err
		}
		for _, d := range append(unsettled, recent...) {
			if d.Kind != deposit.KindOutput || d.Status == deposit.Replaced {
				continue
			}
			if h, err := chainhash.NewHashFromStr(d.TxID); err == nil {
				want[*h] = true
			}
		}
	}
	for _, c := range w.coins {
		switch {
		case c.SpentBy == c.TxID: // its transaction was replaced
		case c.SpentBy != "":
			if h, err := chainhash.NewHashFromStr(c.SpentBy); err == nil {
				want[*h] = true
			}
		case c.Height == 0:
			if h, err := chainhash.NewHashFromStr(c.TxID); err == nil {
				want[*h] = true
			}
		}
	}
	if len(want) > 0 {
		if err := w.reload(ctx, want); err != nil {
			return err
		}
	}
	w.pruneCoins()
	w.dirty = true
	w.log.Info("bitcoin watcher: loaded", "cursor", w.cursor.Height, "coins", len(w.coins), "tracked", len(w.txs),
		"receive", len(w.addrs[0]), "change", len(w.addrs[1]))
	return nil
}

// reload asks the node for the transactions in want and tracks those that
// are not Keep deep.
func (w *Watcher) reload(ctx context.Context, want map[chainhash.Hash]bool) error {
	_, tip, err := w.cfg.Node.BestBlock(ctx)
	if err != nil {
		return err
	}
	type answer struct {
		id    chainhash.Hash
		tx    *wire.MsgTx
		confs int64
		err   error
	}
	ids := make(chan chainhash.Hash)
	answers := make(chan answer)
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Go(func() {
			for id := range ids {
				tx, confs, err := w.cfg.Node.Transaction(ctx, id)
				answers <- answer{id, tx, confs, err}
			}
		})
	}
	go func() {
		defer close(ids)
		for id := range want {
			select {
			case ids <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(answers)
	}()
	now := w.cfg.Now()
	var first error
	for a := range answers {
		switch {
		case first != nil:
			continue
		case chengdui.ErrorCode(a.err) == chengdui.ENotFound:
			// Gone while the watcher was stopped: known by the coins it
			// spent only.
			t := &trackedTx{seen: now}
			sid := a.id.String()
			for op, c := range w.coins {
				if c.SpentBy == sid {
					t.inputs = append(t.inputs, op)
				}
			}
			w.trackTx(a.id, t)
		case a.err != nil:
			first = a.err
		default:
			height := uint64(0)
			if a.confs > 0 {
				h := uint64(int64(tip) - a.confs + 1)
				if h <= w.cursor.Height {
					if w.cursor.Height >= h+uint64(w.cfg.Keep) {
						continue // deep: nothing can replace it any more
					}
					height = h
				}
			}
			t := &trackedTx{height: height, seen: now}
			for _, in := range a.tx.TxIn {
				t.inputs = append(t.inputs, in.PreviousOutPoint)
			}
			w.trackTx(a.id, t)
		}
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}

// trackTx records t and claims its inputs.
func (w *Watcher) trackTx(id chainhash.Hash, t *trackedTx) {
	w.txs[id] = t
	for _, op := range t.inputs {
		w.claims[op] = id
	}
}

// forget stops tracking a transaction.
func (w *Watcher) forget(id chainhash.Hash) {
	t := w.txs[id]
	if t == nil {
		return
	}
	for _, op := range t.inputs {
		if w.claims[op] == id {
			delete(w.claims, op)
		}
	}
	delete(w.txs, id)
}

// prune forgets the transactions Keep deep, which no reorg the watcher
// handles can undo, then the coins they spent.
func (w *Watcher) prune() {
	pruned := false
	for id, t := range w.txs {
		if t.height > 0 && w.cursor.Height >= t.height+uint64(w.cfg.Keep) {
			w.forget(id)
			pruned = true
		}
	}
	if pruned {
		w.pruneCoins()
	}
}

// pruneCoins forgets the spent coins whose spender is not tracked. Coins
// marked spent by their own transaction (it was replaced) are kept: if it
// is mined after all, they must be unmarked.
func (w *Watcher) pruneCoins() {
	spenders := make(map[string]bool, len(w.txs))
	for id := range w.txs {
		spenders[id.String()] = true
	}
	for op, c := range w.coins {
		if c.SpentBy != "" && c.SpentBy != c.TxID && !spenders[c.SpentBy] {
			delete(w.coins, op)
		}
	}
}

func outPoint(txid string, vout uint32) (wire.OutPoint, error) {
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return wire.OutPoint{}, chengdui.Errorf(chengdui.EInternal, "stored coin %s:%d has a malformed txid", txid, vout)
	}
	return wire.OutPoint{Hash: *h, Index: vout}, nil
}

// syncBlocks processes the blocks from the cursor to the node's best
// block, handling reorgs. When the node is ahead, the first block's parent
// tells whether the cursor is still on its chain; only when it is not, or
// the node is not ahead, is the cursor's block looked up.
func (w *Watcher) syncBlocks(ctx context.Context) error {
	moved := false
	for retries := 0; ; {
		if retries > maxRetries {
			return chengdui.Errorf(chengdui.EUnavailable, "bitcoin watcher %s: the node's chain changed while it was read, %d times in a row; retry later", w.cfg.Chain, retries)
		}
		best, err := w.cfg.Node.bestBlockHash(ctx)
		if err != nil {
			return err
		}
		if w.cursor.Hash != "" && best.String() == w.cursor.Hash {
			return nil
		}
		_, tip, err := w.cfg.Node.BestBlock(ctx)
		if err != nil {
			return err
		}
		if w.cursor.Hash == "" {
			if started, err := w.start(ctx, uint64(tip)); err != nil || !started {
				return err
			}
			continue
		}
		if !moved && uint64(tip) > w.cursor.Height {
			err := w.scan(ctx, w.cursor.Height+1, uint64(tip))
			if errors.Is(err, errChainMoved) {
				moved = true
				retries++
			} else if err != nil {
				return err
			}
			continue
		}
		moved = false
		onChain, err := w.onChain(ctx, uint64(tip))
		if err != nil {
			return err
		}
		if onChain {
			continue // the node moved on meanwhile
		}
		if uint64(tip) < w.cursor.Height {
			behind, err := w.behind(ctx, uint64(tip))
			if err != nil {
				return err
			}
			if behind {
				w.log.Warn("bitcoin watcher: the node is behind the cursor; waiting for it", "node_height", tip, "cursor", w.cursor.Height)
				return nil
			}
		}
		retries++
		if err := w.reorg(ctx, min(w.cursor.Height, uint64(tip))); err != nil {
			return err
		}
	}
}

// start records the cursor of a first start: the block before
// StartHeight, or Rescan blocks below the tip. It reports false when the
// node has not reached StartHeight yet.
func (w *Watcher) start(ctx context.Context, tip uint64) (bool, error) {
	var h uint64
	switch {
	case w.cfg.StartHeight > 0 && w.cfg.StartHeight-1 > tip:
		w.log.Info("bitcoin watcher: waiting for the node to reach the start height", "start", w.cfg.StartHeight, "node_height", tip)
		return false, nil
	case w.cfg.StartHeight > 0:
		h = w.cfg.StartHeight - 1
	default:
		h = tip - min(w.cfg.Rescan, tip)
	}
	hash, err := w.cfg.Node.BlockHashAt(ctx, int32(h))
	if err != nil {
		return false, err
	}
	var parent string
	if h > 0 {
		p, err := w.cfg.Node.BlockHashAt(ctx, int32(h-1))
		if err != nil {
			return false, err
		}
		parent = p.String()
	}
	b := deposit.Block{Height: h, Hash: hash.String(), Parent: parent}
	if err := w.store.Advance(ctx, w.cfg.Chain, []deposit.Block{b}, w.cfg.Keep); err != nil {
		return false, err
	}
	w.cursor = deposit.Cursor{Height: h, Hash: b.Hash}
	w.log.Info("bitcoin watcher: first start", "from_height", h+1)
	return true, nil
}

// onChain reports whether the cursor's block is on the node's best chain.
func (w *Watcher) onChain(ctx context.Context, tip uint64) (bool, error) {
	if w.cursor.Height > tip {
		return false, nil
	}
	h, err := w.cfg.Node.BlockHashAt(ctx, int32(w.cursor.Height))
	switch {
	case chengdui.ErrorCode(err) == chengdui.ENotFound:
		return false, nil
	case err != nil:
		return false, err
	}
	return h.String() == w.cursor.Hash, nil
}

// behind reports whether the node's chain, below the cursor, is a prefix
// of the processed one: its tip is a block the watcher processed.
func (w *Watcher) behind(ctx context.Context, tip uint64) (bool, error) {
	stored, err := w.store.BlockAt(ctx, w.cfg.Chain, tip)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return false, nil
	} else if err != nil {
		return false, err
	}
	h, err := w.cfg.Node.BlockHashAt(ctx, int32(tip))
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return h.String() == stored.Hash, nil
}

// reorg walks back from height through the recorded blocks to the last
// one on the node's chain, disconnects the deposits and coins above it,
// then rewinds the cursor there: in that order, so that a crash half way
// finds the reorg again and repeats it.
func (w *Watcher) reorg(ctx context.Context, height uint64) error {
	var common deposit.Block
	for h := height; ; h-- {
		stored, err := w.store.BlockAt(ctx, w.cfg.Chain, h)
		if chengdui.ErrorCode(err) == chengdui.ENotFound {
			return chengdui.Errorf(chengdui.EConflict, "bitcoin watcher %s: the node's chain parted from the processed one more than %d blocks below %d (no recorded block at %d): an operator must check the node, then rewind the cursor", w.cfg.Chain, w.cfg.Keep, w.cursor.Height, h)
		} else if err != nil {
			return err
		}
		nodeHash, err := w.cfg.Node.BlockHashAt(ctx, int32(h))
		if err != nil && chengdui.ErrorCode(err) != chengdui.ENotFound {
			return err
		}
		if err == nil && nodeHash.String() == stored.Hash {
			common = stored
			break
		}
		if h == 0 {
			return chengdui.Errorf(chengdui.EConflict, "bitcoin watcher %s: the node has another genesis block", w.cfg.Chain)
		}
	}
	w.log.Warn("bitcoin watcher: reorganisation", "from_height", w.cursor.Height, "from_block", w.cursor.Hash, "common_height", common.Height, "common_block", common.Hash)
	if err := w.cfg.Deposits.Disconnect(ctx, w.cfg.Chain, common.Height+1); err != nil {
		return err
	}
	if err := w.cfg.Coins.DisconnectCoins(ctx, w.cfg.Chain, common.Height+1); err != nil {
		return err
	}
	if err := w.store.Rewind(ctx, w.cfg.Chain, common.Height); err != nil {
		return err
	}
	w.cursor = deposit.Cursor{Height: common.Height, Hash: common.Hash}
	now := w.cfg.Now()
	for _, t := range w.txs {
		if t.height > common.Height {
			t.height, t.seen = 0, now
		}
	}
	for _, c := range w.coins {
		if c.Height > common.Height {
			c.Height, c.BlockHash = 0, ""
		}
	}
	w.dirty = true
	return nil
}

// fetched is a block read from the node.
type fetched struct {
	hash  chainhash.Hash
	block *wire.MsgBlock
	err   error
}

// fetch reads the blocks from..to in the background, FetchAhead ahead of
// the reader, and hands them over in order. Cancel ctx to stop it.
func (w *Watcher) fetch(ctx context.Context, from, to uint64) <-chan chan fetched {
	out := make(chan chan fetched, w.cfg.FetchAhead)
	nodes := append([]*Node{w.cfg.Node}, w.cfg.Fetchers...)
	go func() {
		defer close(out)
		for h := from; h <= to; h++ {
			ch := make(chan fetched, 1)
			select {
			case out <- ch:
			case <-ctx.Done():
				return
			}
			node := nodes[h%uint64(len(nodes))]
			go func() {
				hash, err := node.BlockHashAt(ctx, int32(h))
				if err != nil {
					ch <- fetched{err: err}
					return
				}
				b, err := node.Block(ctx, hash)
				ch <- fetched{hash: hash, block: b, err: err}
			}()
		}
	}()
	return out
}

// scan processes the blocks from..to, recording them BatchBlocks at a time.
// It returns errChainMoved when a block does not build on the one before.
func (w *Watcher) scan(ctx context.Context, from, to uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks := w.fetch(ctx, from, to)
	var batch []deposit.Block
	flushed := w.cfg.Now()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := w.store.Advance(ctx, w.cfg.Chain, batch, w.cfg.Keep); err != nil {
			return err
		}
		last := batch[len(batch)-1]
		w.cursor = deposit.Cursor{Height: last.Height, Hash: last.Hash}
		batch, flushed = batch[:0], w.cfg.Now()
		w.prune()
		if err := w.settle(ctx); err != nil {
			return err
		}
		return w.refreshAddresses(ctx, false)
	}
	prev := w.cursor.Hash
	for h := from; h <= to; h++ {
		var r fetched
		select {
		case ch := <-blocks:
			r = <-ch
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			if chengdui.ErrorCode(r.err) == chengdui.ENotFound {
				r.err = errChainMoved // the chain got shorter
			}
			return errors.Join(r.err, flush())
		}
		if r.block.Header.PrevBlock.String() != prev || r.block.BlockHash() != r.hash {
			return errors.Join(errChainMoved, flush())
		}
		if err := w.processBlock(ctx, h, r.hash.String(), r.block); err != nil {
			return err
		}
		batch = append(batch, deposit.Block{Height: h, Hash: r.hash.String(), Parent: prev})
		prev = r.hash.String()
		if len(batch) >= w.cfg.BatchBlocks || h == to || w.cfg.Now().Sub(flushed) >= maxFlushDelay {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// processBlock processes a block's transactions but its coinbase.
func (w *Watcher) processBlock(ctx context.Context, height uint64, hash string, b *wire.MsgBlock) error {
	w.storeSpent = nil
	for _, tx := range b.Transactions[min(1, len(b.Transactions)):] {
		if err := w.process(ctx, tx, height, hash, false); err != nil {
			return err
		}
	}
	return nil
}

// process handles a transaction of a block (height > 0) or of the mempool
// (height 0; inheritedRBF when an unconfirmed ancestor signals BIP125).
func (w *Watcher) process(ctx context.Context, tx *wire.MsgTx, height uint64, block string, inheritedRBF bool) error {
	var txid chainhash.Hash
	hashed := false
	id := func() chainhash.Hash {
		if !hashed {
			txid, hashed = tx.TxHash(), true
		}
		return txid
	}
	// A transaction spending what another one the watcher tracks spends
	// replaced it, unless that one is in a block: then it is the one that
	// is invalid (btcd keeps such transactions in its mempool after a
	// reorg).
	conflicts := false
	for _, in := range tx.TxIn {
		other, ok := w.claims[in.PreviousOutPoint]
		if !ok || other == id() {
			continue
		}
		if t := w.txs[other]; t != nil && t.height > 0 {
			if height == 0 {
				return nil
			}
			w.log.Error("bitcoin watcher: two block transactions spend one output", "txid", id().String(), "other", other.String())
			continue
		}
		if err := w.replaced(ctx, other, id()); err != nil {
			return err
		}
		conflicts = true
	}
	spends := false
	for _, in := range tx.TxIn {
		if _, ok := w.coins[in.PreviousOutPoint]; ok {
			spends = true
			break
		}
	}
	type match struct {
		vout uint32
		ref  addrRef
	}
	var matches []match
	w.addrMu.RLock()
	for i, out := range tx.TxOut {
		if ref, ok := w.scripts[string(out.PkScript)]; ok {
			matches = append(matches, match{uint32(i), ref})
		}
	}
	w.addrMu.RUnlock()
	// A block transaction that replaced another is tracked too, so that
	// the loser is not taken back from a stale mempool.
	if !spends && len(matches) == 0 && (!conflicts || height == 0) {
		return nil
	}

	now := w.cfg.Now()
	sid := id().String()
	t := w.txs[id()]
	if t == nil {
		t = &trackedTx{}
		for _, in := range tx.TxIn {
			t.inputs = append(t.inputs, in.PreviousOutPoint)
		}
		w.trackTx(id(), t)
	}
	if height > 0 {
		t.height = height
	}
	t.seen = now

	// Back after it was treated as replaced: unmark its coins (and those
	// it spends, marked again below).
	for _, m := range matches {
		if c := w.coins[wire.OutPoint{Hash: id(), Index: m.vout}]; c != nil && c.SpentBy == sid {
			if err := w.unspend(ctx, sid); err != nil {
				return err
			}
			break
		}
	}

	var payments []deposit.Payment
	rbf := inheritedRBF || signalsRBF(tx)
	for _, m := range matches {
		out := tx.TxOut[m.vout]
		op := wire.OutPoint{Hash: id(), Index: m.vout}
		// The cache changes only once the store has: a failed block is
		// processed again.
		var c *Coin
		switch old := w.coins[op]; {
		case old == nil:
			c = &Coin{Chain: w.cfg.Chain, TxID: sid, Vout: m.vout, Value: out.Value, PkScript: out.PkScript,
				Address: m.ref.address, Change: m.ref.change, Index: m.ref.index, Height: height, BlockHash: block, CreatedAt: now}
		case height == 0 && old.Height > 0, old.Height == height && old.BlockHash == block:
			// seen in a block already, or nothing new
		default:
			updated := *old
			updated.Height, updated.BlockHash = height, block
			if updated.SpentBy == "" {
				// PutCoin replaces the whole coin: keep a spend the payer
				// recorded that the watcher has not seen yet.
				spent, err := w.spentInStore(ctx)
				if err != nil {
					return err
				}
				updated.SpentBy = spent[op]
			}
			c = &updated
		}
		if c != nil {
			if err := w.cfg.Coins.PutCoin(ctx, *c); err != nil {
				return err
			}
			w.coins[op] = c
			if err := w.widen(m.ref); err != nil {
				return err
			}
		}
		if m.ref.change == 0 {
			payments = append(payments, deposit.Payment{
				Key:     deposit.Key{Chain: w.cfg.Chain, TxID: sid, Kind: deposit.KindOutput, Index: m.vout},
				Address: m.ref.address, Asset: w.cfg.Asset, Amount: uint128.From64(uint64(out.Value)),
				BlockHash: block, Height: height, RBF: rbf,
			})
		}
	}
	if len(payments) > 0 {
		if err := w.cfg.Deposits.Observe(ctx, payments); err != nil {
			return err
		}
		w.dirty = true
	}

	if spends {
		var ops []OutPointRef
		for _, in := range tx.TxIn {
			if c := w.coins[in.PreviousOutPoint]; c != nil && c.SpentBy != sid {
				ops = append(ops, OutPointRef{TxID: c.TxID, Vout: c.Vout})
			}
		}
		if len(ops) > 0 {
			if err := w.cfg.Coins.SpendCoins(ctx, w.cfg.Chain, ops, sid); err != nil {
				return err
			}
			for _, in := range tx.TxIn {
				if c := w.coins[in.PreviousOutPoint]; c != nil {
					c.SpentBy = sid
				}
			}
		}
	}
	return nil
}

// spentInStore returns the stored spends of the coins, read once per
// block: the payer records its spends before it broadcasts them.
func (w *Watcher) spentInStore(ctx context.Context) (map[wire.OutPoint]string, error) {
	if w.storeSpent != nil {
		return w.storeSpent, nil
	}
	coins, err := w.cfg.Coins.Coins(ctx, w.cfg.Chain, false)
	if err != nil {
		return nil, err
	}
	w.storeSpent = map[wire.OutPoint]string{}
	for _, c := range coins {
		if c.SpentBy == "" {
			continue
		}
		op, err := outPoint(c.TxID, c.Vout)
		if err != nil {
			return nil, err
		}
		w.storeSpent[op] = c.SpentBy
	}
	return w.storeSpent, nil
}

// unspend clears the coins spent by txid, in the store and the cache.
func (w *Watcher) unspend(ctx context.Context, txid string) error {
	if err := w.cfg.Coins.UnspendCoins(ctx, w.cfg.Chain, txid); err != nil {
		return err
	}
	for _, c := range w.coins {
		if c.SpentBy == txid {
			c.SpentBy = ""
		}
	}
	return nil
}

// replaced handles a transaction that another one (by; zero when it
// vanished) made invalid: its deposits are Replaced, the coins it spent
// unspent, the coins it created marked spent by itself; its tracked
// descendants go with it. A transaction in a processed block is left
// alone: a block outranks the mempool, and a conflicting block
// transaction would have disconnected it first.
func (w *Watcher) replaced(ctx context.Context, id, by chainhash.Hash) error {
	t := w.txs[id]
	if t != nil && t.height > 0 {
		w.log.Warn("bitcoin watcher: a transaction conflicts with a confirmed one; ignored", "txid", by.String(), "confirmed", id.String())
		return nil
	}
	sid := id.String()
	if by == (chainhash.Hash{}) {
		w.log.Warn("bitcoin watcher: a transaction vanished from the mempool and the node no longer knows it: treated as replaced", "txid", sid)
	} else {
		w.log.Warn("bitcoin watcher: a transaction was replaced or double-spent", "txid", sid, "by", by.String())
	}
	var children []chainhash.Hash
	for op, child := range w.claims {
		if op.Hash == id && !slices.Contains(children, child) {
			children = append(children, child)
		}
	}
	for _, child := range children {
		if err := w.replaced(ctx, child, by); err != nil {
			return err
		}
	}
	if err := w.cfg.Deposits.Replace(ctx, w.cfg.Chain, sid); err != nil {
		return err
	}
	spent := false
	for _, c := range w.coins {
		if c.SpentBy == sid && c.TxID != sid {
			spent = true
			break
		}
	}
	if spent {
		if err := w.unspend(ctx, sid); err != nil {
			return err
		}
	}
	var outs []OutPointRef
	for op, c := range w.coins {
		if op.Hash == id && c.SpentBy == "" {
			outs = append(outs, OutPointRef{TxID: sid, Vout: op.Index})
		}
	}
	if len(outs) > 0 {
		if err := w.cfg.Coins.SpendCoins(ctx, w.cfg.Chain, outs, sid); err != nil {
			return err
		}
		for _, o := range outs {
			w.coins[wire.OutPoint{Hash: id, Index: o.Vout}].SpentBy = sid
		}
	}
	// Forgotten last: if a step failed, the next attempt finds the
	// conflict again.
	w.forget(id)
	w.dirty = true
	return nil
}

// checkVanished asks the node for the unconfirmed transactions missing
// from the mempool for VanishAfter: those it no longer knows are treated
// as replaced.
func (w *Watcher) checkVanished(ctx context.Context) error {
	now := w.cfg.Now()
	var stale []chainhash.Hash
	for id, t := range w.txs {
		if t.height == 0 && now.Sub(t.seen) >= w.cfg.VanishAfter {
			stale = append(stale, id)
		}
	}
	for _, id := range stale {
		t := w.txs[id]
		if t == nil {
			continue // replaced with an ancestor
		}
		_, _, err := w.cfg.Node.Transaction(ctx, id)
		switch {
		case chengdui.ErrorCode(err) == chengdui.ENotFound:
			if err := w.replaced(ctx, id, chainhash.Hash{}); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			t.seen = now // in a block not processed yet, or back in the mempool
		}
	}
	return nil
}

// syncMempool fetches the transactions that entered the mempool since the
// last call and processes them, parents first.
func (w *Watcher) syncMempool(ctx context.Context) error {
	ids, err := w.cfg.Node.RawMempool(ctx)
	if err != nil {
		return err
	}
	current := make(map[chainhash.Hash]bool, len(ids))
	var fresh []chainhash.Hash
	for _, id := range ids {
		current[id] = true
		if _, ok := w.pool[id]; !ok {
			fresh = append(fresh, id)
		}
	}
	for id := range w.pool {
		if !current[id] {
			delete(w.pool, id)
		}
	}
	// A large mempool, met at start, is read over several Syncs so that
	// blocks are not held up.
	fresh = fresh[:min(len(fresh), maxMempoolFetch)]
	txs := make(map[chainhash.Hash]*wire.MsgTx, len(fresh))
	for _, id := range fresh {
		tx, err := w.cfg.Node.rawTransaction(ctx, id)
		switch {
		case chengdui.ErrorCode(err) == chengdui.ENotFound:
			continue // mined or evicted since
		case err != nil:
			return err
		}
		txs[id] = tx
	}
	// Parents first: a child's coins and RBF signal depend on them.
	done := map[chainhash.Hash]bool{}
	var visit func(id chainhash.Hash, depth int) error
	visit = func(id chainhash.Hash, depth int) error {
		tx := txs[id]
		if done[id] || tx == nil {
			return nil
		}
		done[id] = true
		inherited := false
		for _, in := range tx.TxIn {
			parent := in.PreviousOutPoint.Hash
			if depth < 100 {
				if err := visit(parent, depth+1); err != nil {
					return err
				}
			}
			inherited = inherited || w.pool[parent]
		}
		if err := w.process(ctx, tx, 0, "", inherited); err != nil {
			return err
		}
		w.pool[id] = inherited || signalsRBF(tx)
		return nil
	}
	for _, id := range fresh {
		if err := visit(id, 0); err != nil {
			return err
		}
	}
	now := w.cfg.Now()
	for id, t := range w.txs {
		if t.height == 0 && current[id] {
			t.seen = now
		}
	}
	return nil
}

// bestBlockHash returns the hash of the node's best block: the cheapest
// question to ask every Poll.
func (n *Node) bestBlockHash(ctx context.Context) (chainhash.Hash, error) {
	h, err := call(ctx, n.client.GetBestBlockHash)
	if err != nil {
		return chainhash.Hash{}, n.fail(ctx, "getbestblockhash", err)
	}
	return *h, nil
}

// rawTransaction returns a transaction without the verbose decoding that
// Transaction needs for confirmations.
//
// Errors: ENotFound, EUnavailable, EInternal.
func (n *Node) rawTransaction(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error) {
	tx, err := call(ctx, func() (*wire.MsgTx, error) {
		t, err := n.client.GetRawTransaction(&txid)
		if err != nil {
			return nil, err
		}
		return t.MsgTx(), nil
	})
	if err != nil {
		if code, ok := rpcCode(err); ok && code == -5 {
			return nil, chengdui.Errorf(chengdui.ENotFound, "the node knows no transaction %s", txid)
		}
		return nil, n.fail(ctx, "getrawtransaction", err)
	}
	return tx, nil
}
