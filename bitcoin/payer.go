package bitcoin

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/keys"
	"chengdui/withdraw"
)

// Payer defaults.
const (
	DefaultBatchInterval = 2 * time.Second  // how often pending withdrawals are batched
	DefaultStuckAfter    = 30 * time.Minute // unconfirmed this long: bump the fee (RBF)
	DefaultConfirmations = 1                // a withdrawal completes at this depth
	// DefaultMaxBatch is how many withdrawals one transaction pays at
	// most: 500 P2TR outputs (43 vB each, the largest standard kind but
	// P2WSH's equal) take 21.5 kvB, far below the 100 kvB standardness
	// bound (MaxStandardTxWeight) even with a hundred inputs, and a batch
	// stuck in the mempool holds back no more than that.
	DefaultMaxBatch = 500
)

// PayerConfig configures a Payer.
type PayerConfig struct {
	Chain       string       // e.g. bitcoin:regtest, as the watcher's
	Network     keys.Network //
	Asset       string       // BTC
	Node        *Node        //
	Coins       CoinStore    // the watcher keeps them
	Signer      keys.Signer  // the hot wallet's seed: coins are at P2WPKH account 0
	Withdrawals *withdraw.Service
	// ChangeAddress allocates a fresh internal (change chain) index and
	// returns its pkScript; the watcher must track it (Watcher.TrackChange).
	ChangeAddress func(ctx context.Context) (index uint32, pkScript []byte, err error)
	// BatchInterval, StuckAfter and Confirmations default to the constants.
	BatchInterval time.Duration
	StuckAfter    time.Duration
	Confirmations int64
	// FeeBlocks is the confirmation target asked of the node's estimator.
	FeeBlocks int
	// MaxBatch is how many withdrawals a transaction pays at most; 0
	// means DefaultMaxBatch.
	MaxBatch int
	Log      *slog.Logger
	Now      func() time.Time
}

// Payer is the Bitcoin hot wallet's sender: it pays pending withdrawals in
// batches (several outputs in one transaction, change to a fresh internal
// address), follows them to their confirmation, and bumps the fee (BIP125)
// of a batch that stays unconfirmed. It implements withdraw.Payer.
//
// Durability: a withdrawal is marked sent with its transaction id before
// the broadcast. After a crash, a sent withdrawal whose transaction the
// node does not know (it was never broadcast, or the node dropped it) is
// put back to pending and paid by a later batch; one the node knows is
// followed to its confirmation. Fee bumping needs the batch in memory: a
// batch broadcast before a restart confirms at its first fee.
type Payer struct {
	cfg PayerConfig

	mu      sync.Mutex
	batches map[string]*batch // by txid
	kick    chan struct{}
}

// batch is a broadcast transaction and what it pays.
type batch struct {
	unsigned *Unsigned
	signed   *wire.MsgTx
	sentAt   time.Time
	// replaces is the batch this one replaced (a fee bump), kept in
	// memory until this one confirms: if the node never takes the
	// replacement, the withdrawals go back to it.
	replaces string
}

var _ withdraw.Payer = (*Payer)(nil)

// NewPayer returns a Payer; run it with Run.
func NewPayer(cfg PayerConfig) *Payer {
	if cfg.BatchInterval <= 0 {
		cfg.BatchInterval = DefaultBatchInterval
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = DefaultStuckAfter
	}
	if cfg.Confirmations <= 0 {
		cfg.Confirmations = DefaultConfirmations
	}
	if cfg.FeeBlocks <= 0 {
		cfg.FeeBlocks = 6
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Payer{cfg: cfg, batches: map[string]*batch{}, kick: make(chan struct{}, 1)}
}

// Chain implements withdraw.Payer.
func (p *Payer) Chain() string { return p.cfg.Chain }

// NativeAsset implements withdraw.Payer.
func (p *Payer) NativeAsset() string { return p.cfg.Asset }

// Pays implements withdraw.Payer.
func (p *Payer) Pays(asset string) bool { return asset == p.cfg.Asset }

// CheckAddress implements withdraw.Payer: any standard address of the
// payer's network, in its canonical (lowercase bech32) form.
func (p *Payer) CheckAddress(to string) (string, error) {
	a, err := keys.ParseBitcoinAddress(to, p.cfg.Network)
	if err != nil {
		return "", err
	}
	return a.String, nil
}

// CheckAmount implements withdraw.Payer: the output must be above the
// dust limit of the address type (checked again when the batch is built).
func (p *Payer) CheckAmount(_ string, amount chengdui.Amount) error {
	if amount.Hi != 0 || amount.Lo > 21_000_000*100_000_000 {
		return chengdui.Errorf(chengdui.EInvalidAmount, "no more than 21,000,000 BTC exists")
	}
	if int64(amount.Lo) < 294 {
		return chengdui.Errorf(chengdui.EInvalid, "%d sat is below the dust limit (294 sat for a P2WPKH output); withdraw more", amount.Lo)
	}
	return nil
}

// Submit implements withdraw.Payer: the next batch picks pending
// withdrawals from storage, so Submit only wakes the payer.
func (p *Payer) Submit(context.Context, withdraw.Withdrawal) error {
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return nil
}

// Run batches and follows withdrawals until ctx ends.
func (p *Payer) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.BatchInterval)
	defer t.Stop()
	for {
		if err := p.Tick(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Error("bitcoin payer", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

// Tick follows sent withdrawals, then pays the pending ones, oldest
// first and at most MaxBatch of them, in one transaction. A batch that
// cannot be followed now (a node or storage error, an outcome function
// that refuses for the moment) is logged and followed again next tick;
// it holds back neither the other batches nor the pending withdrawals.
func (p *Payer) Tick(ctx context.Context) error {
	if err := p.follow(ctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		p.cfg.Log.Error("following sent bitcoin batches; retried next tick", "err", err)
	}
	return p.pay(ctx)
}

func (p *Payer) store() withdraw.Store { return p.cfg.Withdrawals.Store() }

// follow completes the withdrawals of confirmed batches, requeues those of
// transactions the node does not know (unless the money may have left
// anyway), and bumps stuck batches. Each batch is followed on its own;
// the first error is returned once all were tried.
func (p *Payer) follow(ctx context.Context) error {
	sent, err := p.store().Withdrawals(ctx, withdraw.Filter{Chain: p.cfg.Chain, Status: withdraw.Sent, Limit: 10000})
	if err != nil {
		return err
	}
	byTx := map[string][]withdraw.Withdrawal{}
	var txids []string
	for _, w := range sent {
		if _, ok := byTx[w.TxID]; !ok {
			txids = append(txids, w.TxID)
		}
		byTx[w.TxID] = append(byTx[w.TxID], w)
	}
	var first error
	for _, txid := range txids {
		if err := p.followTx(ctx, txid, byTx[txid]); err != nil {
			if ctx.Err() != nil {
				return err
			}
			p.cfg.Log.Warn("bitcoin batch not followed; retried next tick", "txid", txid, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// followTx follows one batch, ws being its withdrawals still Sent.
func (p *Payer) followTx(ctx context.Context, txid string, ws []withdraw.Withdrawal) error {
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "withdrawal %s: stored txid %q: %v", ws[0].ID, txid, err)
	}
	tx, conf, err := p.cfg.Node.Transaction(ctx, *h)
	switch {
	case chengdui.ErrorCode(err) == chengdui.ENotFound:
		return p.lost(ctx, txid, ws)
	case err != nil:
		return err
	}
	if conf >= p.cfg.Confirmations {
		fee, err := p.fee(ctx, tx, txid)
		if err != nil {
			return err
		}
		// The fee is shared by every withdrawal the batch pays, whatever
		// their status: some may have completed in an earlier round whose
		// outcome function failed for the others, and a share computed
		// over fewer of them would differ from the one booked.
		all, err := p.store().Withdrawals(ctx, withdraw.Filter{Chain: p.cfg.Chain, TxID: txid, Limit: 10000})
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b withdraw.Withdrawal) int { return strings.Compare(a.ID, b.ID) })
		shares := splitFee(fee, len(all))
		var first error
		for i, w := range all {
			if w.Status != withdraw.Sent {
				continue
			}
			if err := p.cfg.Withdrawals.Complete(ctx, w.ID, txid, chengdui.Amount{Lo: uint64(shares[i])}); err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
		p.forget(txid)
		return nil
	}
	if conf == 0 {
		if err := p.bumpIfStuck(ctx, txid, ws); err != nil {
			p.cfg.Log.Warn("fee bump failed; will retry", "txid", txid, "err", err)
		}
	}
	return nil
}

// lost handles a batch the node does not know. It was never broadcast
// (the process stopped first), or the node refused or dropped it: its
// withdrawals go back to pending and a later batch pays them. But if one
// of the coins it spends is spent on chain, some transaction spending it
// confirmed — the batch it replaced, the batch itself on a node without
// txindex — and paying again could pay twice: the withdrawals stay Sent
// and an operator is alerted. A batch replacing another the node still
// has goes back to that one.
func (p *Payer) lost(ctx context.Context, txid string, ws []withdraw.Withdrawal) error {
	p.mu.Lock()
	b := p.batches[txid]
	p.mu.Unlock()
	if b != nil && b.replaces != "" {
		if prev, err := chainhash.NewHashFromStr(b.replaces); err == nil {
			if _, _, err := p.cfg.Node.Transaction(ctx, *prev); err == nil {
				return p.revert(ctx, txid, b, ws)
			}
		}
	}
	coins, err := p.cfg.Coins.Coins(ctx, p.cfg.Chain, false)
	if err != nil {
		return err
	}
	for _, c := range coins {
		if c.SpentBy != txid {
			continue
		}
		h, err := chainhash.NewHashFromStr(c.TxID)
		if err != nil {
			continue
		}
		_, _, err = p.cfg.Node.TxOut(ctx, wire.OutPoint{Hash: *h, Index: c.Vout})
		switch {
		case chengdui.ErrorCode(err) == chengdui.ENotFound:
			p.cfg.Log.Error("operator alert: a bitcoin batch is unknown to the node but a coin it spends is spent on chain; "+
				"its withdrawals stay sent (paying them again could pay twice): check the coin's spender (a replaced batch, "+
				"a node without txindex) and resolve them by hand",
				"txid", txid, "coin", c.TxID+":"+strconv.FormatUint(uint64(c.Vout), 10), "withdrawals", len(ws))
			return nil
		case err != nil:
			return err
		}
	}
	for _, w := range ws {
		if err := p.cfg.Withdrawals.Requeue(ctx, w.ID); err != nil {
			return err
		}
	}
	if err := p.cfg.Coins.UnspendCoins(ctx, p.cfg.Chain, txid); err != nil {
		return err
	}
	p.forget(txid)
	return nil
}

// revert puts the withdrawals of a replacement the node does not have
// back on the batch it replaced, which the node still has.
func (p *Payer) revert(ctx context.Context, txid string, b *batch, ws []withdraw.Withdrawal) error {
	p.mu.Lock()
	prev := p.batches[b.replaces]
	p.mu.Unlock()
	if prev == nil {
		return chengdui.Errorf(chengdui.EInternal, "batch %s replaces %s, which is not in memory", txid, b.replaces)
	}
	var spent []OutPointRef
	for _, in := range prev.unsigned.Inputs {
		spent = append(spent, OutPointRef{TxID: in.OutPoint.Hash.String(), Vout: in.OutPoint.Index})
	}
	if err := p.cfg.Coins.UnspendCoins(ctx, p.cfg.Chain, txid); err != nil {
		return err
	}
	if err := p.cfg.Coins.SpendCoins(ctx, p.cfg.Chain, spent, b.replaces); err != nil {
		return err
	}
	for _, w := range ws {
		if err := p.markSent(ctx, w.ID, b.replaces); err != nil {
			return err
		}
	}
	p.cfg.Log.Warn("fee bump not taken by the node; the withdrawals stay on the batch it replaced", "replacement", txid, "batch", b.replaces)
	p.mu.Lock()
	prev.sentAt = p.cfg.Now() // bump again only after StuckAfter
	delete(p.batches, txid)
	p.mu.Unlock()
	return nil
}

// fee is what a transaction paid: its inputs' values (from the batch in
// memory, or the hot wallet's coins) minus its outputs.
func (p *Payer) fee(ctx context.Context, tx *wire.MsgTx, txid string) (int64, error) {
	p.mu.Lock()
	b := p.batches[txid]
	p.mu.Unlock()
	if b != nil {
		return b.unsigned.Fee, nil
	}
	coins, err := p.cfg.Coins.Coins(ctx, p.cfg.Chain, false)
	if err != nil {
		return 0, err
	}
	value := map[wire.OutPoint]int64{}
	for _, c := range coins {
		h, err := chainhash.NewHashFromStr(c.TxID)
		if err != nil {
			continue
		}
		value[wire.OutPoint{Hash: *h, Index: c.Vout}] = c.Value
	}
	var in, out int64
	for _, ti := range tx.TxIn {
		v, ok := value[ti.PreviousOutPoint]
		if !ok {
			return 0, nil // an input that is not ours: the fee is unknown; book none
		}
		in += v
	}
	for _, to := range tx.TxOut {
		out += to.Value
	}
	return in - out, nil
}

// splitFee shares a batch's fee among its withdrawals, the remainder to
// the first, so the shares add up exactly.
func splitFee(fee int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = fee / int64(n)
	}
	out[0] += fee % int64(n)
	return out
}

// forget drops a finished batch, and the batches it replaced.
func (p *Payer) forget(txid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for txid != "" {
		b := p.batches[txid]
		delete(p.batches, txid)
		if b == nil {
			return
		}
		txid = b.replaces
	}
}

// pay builds, signs and broadcasts one transaction paying every pending
// withdrawal it can.
func (p *Payer) pay(ctx context.Context) error {
	pending, err := p.store().Withdrawals(ctx, withdraw.Filter{Chain: p.cfg.Chain, Status: withdraw.Pending, Limit: p.cfg.MaxBatch})
	if err != nil || len(pending) == 0 {
		return err
	}
	var payments []Payment
	for _, w := range pending {
		if w.Amount.Hi != 0 || w.Amount.Lo > 1<<62 {
			if err := p.cfg.Withdrawals.Fail(ctx, w.ID, "amount out of range"); err != nil {
				return err
			}
			continue
		}
		a, err := keys.ParseBitcoinAddress(w.To, p.cfg.Network)
		if err == nil && int64(w.Amount.Lo) < DustLimit(a.ScriptPubKey) {
			err = chengdui.Errorf(chengdui.EInvalid, "%d sat is below the dust limit of a %s output (%d sat)", w.Amount.Lo, a.Type, DustLimit(a.ScriptPubKey))
		}
		if err != nil {
			// One bad withdrawal must not block the batch.
			if err := p.cfg.Withdrawals.Fail(ctx, w.ID, chengdui.ErrorMessage(err)); err != nil {
				return err
			}
			continue
		}
		payments = append(payments, Payment{Address: w.To, Amount: int64(w.Amount.Lo), ID: w.ID})
	}
	if len(payments) == 0 {
		return nil
	}
	utxos, err := p.utxos(ctx)
	if err != nil {
		return err
	}
	rate, err := p.cfg.Node.EstimateFeeRate(ctx, p.cfg.FeeBlocks)
	if err != nil {
		return err
	}
	_, changeScript, err := p.cfg.ChangeAddress(ctx)
	if err != nil {
		return err
	}
	_, tip, err := p.cfg.Node.BestBlock(ctx)
	if err != nil {
		return err
	}
	u, err := BuildTx(TxRequest{Network: p.cfg.Network, UTXOs: utxos, Payments: payments, FeeRate: rate, ChangeScript: changeScript, LockTime: uint32(tip)})
	if err != nil {
		if chengdui.ErrorCode(err) == chengdui.EExceedsCredits {
			p.cfg.Log.Error("operator alert: the bitcoin hot wallet cannot pay pending withdrawals; refill it from cold storage",
				"withdrawals", len(payments), "err", err)
			return nil
		}
		return err
	}
	signed, err := Sign(u, p.cfg.Signer)
	if err != nil {
		return err
	}
	return p.broadcast(ctx, u, signed, pending, "")
}

// broadcast records a signed batch (withdrawals sent, coins spent) and
// gives it to the node. replaces is the txid of the batch it replaces.
func (p *Payer) broadcast(ctx context.Context, u *Unsigned, signed *wire.MsgTx, ws []withdraw.Withdrawal, replaces string) error {
	txid := signed.TxHash().String()
	var spent []OutPointRef
	for _, in := range u.Inputs {
		spent = append(spent, OutPointRef{TxID: in.OutPoint.Hash.String(), Vout: in.OutPoint.Index})
	}
	if replaces != "" {
		if err := p.cfg.Coins.UnspendCoins(ctx, p.cfg.Chain, replaces); err != nil {
			return err
		}
	}
	if err := p.cfg.Coins.SpendCoins(ctx, p.cfg.Chain, spent, txid); err != nil {
		return err
	}
	for _, w := range ws {
		if _, ok := u.Output(w.ID); !ok {
			continue
		}
		if err := p.markSent(ctx, w.ID, txid); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.batches[txid] = &batch{unsigned: u, signed: signed, sentAt: p.cfg.Now(), replaces: replaces}
	p.mu.Unlock()
	if _, err := p.cfg.Node.Broadcast(ctx, signed); err != nil {
		// The next follow requeues the withdrawals if the node does not
		// have the transaction.
		return err
	}
	p.cfg.Log.Info("bitcoin batch broadcast", "txid", txid, "withdrawals", len(u.Payments), "fee", u.Fee, "vsize", u.VSize, "replaces", replaces)
	return nil
}

// markSent records that txid pays withdrawal id. For a replacement the
// withdrawal moves to the new transaction, and its origin's outcome
// function hears the new txid.
func (p *Payer) markSent(ctx context.Context, id, txid string) error {
	return p.cfg.Withdrawals.MarkSent(ctx, id, txid)
}

// bumpIfStuck replaces a batch unconfirmed for StuckAfter with one paying
// a higher fee (the node's estimate, at least 1.5 times the old rate).
func (p *Payer) bumpIfStuck(ctx context.Context, txid string, ws []withdraw.Withdrawal) error {
	p.mu.Lock()
	b := p.batches[txid]
	p.mu.Unlock()
	if b == nil || p.cfg.Now().Sub(b.sentAt) < p.cfg.StuckAfter {
		return nil
	}
	rate, err := p.cfg.Node.EstimateFeeRate(ctx, 1)
	if err != nil {
		return err
	}
	rate = max(rate, b.unsigned.FeeRate*3/2, b.unsigned.FeeRate+1)
	extra, err := p.utxos(ctx)
	if err != nil {
		return err
	}
	u, err := BumpFee(b.unsigned, b.signed, rate, extra)
	if err != nil {
		return err
	}
	signed, err := Sign(u, p.cfg.Signer)
	if err != nil {
		return err
	}
	return p.broadcast(ctx, u, signed, ws, txid)
}

// utxos are the hot wallet's unspent coins, confirmed or our own change,
// as spendable inputs.
func (p *Payer) utxos(ctx context.Context) ([]UTXO, error) {
	return spendableCoins(ctx, p.cfg.Coins, p.cfg.Chain, p.cfg.Network, true)
}
