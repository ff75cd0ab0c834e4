package ledger

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"chengdui"
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	Logger   *slog.Logger
	Metrics  *Metrics
	Now      func() time.Time // the clock; time.Now by default
	MaxBatch int              // transfers per group commit; 4096 by default
	// ExpiryInterval is how often pending transfers past their timeout are
	// voided; 1 s by default, negative to disable.
	ExpiryInterval time.Duration
	// HistoryInterval is how often the per-account history index catches
	// up with the journal; 1 s by default, negative to disable.
	HistoryInterval time.Duration
}

// History indexing: at most historyChunk journal entries per transaction;
// a tick indexes once historyMinChunk transfers were committed here since
// the last time, or every historyMaxTicks ticks.
const (
	historyChunk    = 50000
	historyMinChunk = 1024
	historyMaxTicks = 10
)

// Engine is the ledger service: chengdui.Ledger over a Store.
type Engine struct {
	store Store
	opts  Options
	log   *slog.Logger

	reqs     chan *request
	mu       sync.RWMutex // guards closed against sends on reqs
	closed   bool
	stopped  chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	started  bool
	expiring sync.Mutex

	sinceIndexed atomic.Int64 // transfers committed since the last history indexing
}

var _ chengdui.Ledger = (*Engine)(nil)

type request struct {
	ctx      context.Context
	ts       []chengdui.Transfer
	internal bool
	done     chan struct{}
	res      []chengdui.TransferResult
	err      error
}

// New returns an engine; call Start before CreateTransfers.
func New(store Store, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.ExpiryInterval == 0 {
		opts.ExpiryInterval = time.Second
	}
	if opts.HistoryInterval == 0 {
		opts.HistoryInterval = time.Second
	}
	return &Engine{store: store, opts: opts, log: opts.Logger,
		reqs: make(chan *request, 4*opts.MaxBatch), stopped: make(chan struct{})}
}

// Start launches the committer and the expiry loop.
func (e *Engine) Start(ctx context.Context) error {
	if e.started {
		return errors.New("ledger engine already started")
	}
	e.started = true
	ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	toWrite := make(chan writeItem, 1)
	// Room for every batch that can be in flight, so the writer never
	// blocks on an acknowledgement.
	acks := make(chan ack, 16)
	e.wg.Add(2)
	go func() { defer e.wg.Done(); e.prepareLoop(ctx, toWrite, acks) }()
	go func() { defer e.wg.Done(); e.writeLoop(ctx, toWrite, acks) }()
	if e.opts.ExpiryInterval > 0 {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.expiryLoop(ctx) }()
	}
	if e.opts.HistoryInterval > 0 {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.historyLoop(ctx) }()
	}
	return nil
}

// Stop refuses new requests, commits those already queued, and returns once
// the committer has finished.
func (e *Engine) Stop() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	close(e.reqs)
	e.mu.Unlock()
	close(e.stopped)
	e.wg.Wait()
	if e.cancel != nil {
		e.cancel()
	}
}

// CreateTransfers implements chengdui.Ledger.
func (e *Engine) CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error) {
	return e.submit(ctx, ts, false)
}

func (e *Engine) submit(ctx context.Context, ts []chengdui.Transfer, internal bool) ([]chengdui.TransferResult, error) {
	if len(ts) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "no transfers given")
	}
	if len(ts) > e.opts.MaxBatch {
		return nil, chengdui.Errorf(chengdui.EInvalid, "%d transfers in one request; at most %d", len(ts), e.opts.MaxBatch)
	}
	if ts[len(ts)-1].Flags&chengdui.Linked != 0 {
		return nil, chengdui.Errorf(chengdui.ELinkedChainOpen, "the last transfer is linked: a linked chain must end inside the request")
	}
	r := &request{ctx: ctx, ts: ts, internal: internal, done: make(chan struct{})}
	e.mu.RLock()
	if e.closed || !e.started {
		e.mu.RUnlock()
		return nil, chengdui.Errorf(chengdui.EUnavailable, "the ledger is not running")
	}
	select {
	case e.reqs <- r:
		e.mu.RUnlock()
	case <-ctx.Done():
		e.mu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued, the request is committed or refused as a whole even if
	// the caller goes away: waiting here keeps the answer truthful.
	<-r.done
	return r.res, r.err
}

// gather blocks for the next request, then takes whatever else is queued,
// up to MaxBatch transfers. It returns nil once the queue is closed.
func (e *Engine) gather() []*request {
	r, ok := <-e.reqs
	if !ok {
		return nil
	}
	batch := []*request{r}
	n := len(r.ts)
	for n < e.opts.MaxBatch {
		select {
		case r, ok := <-e.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			n += len(r.ts)
		default:
			return batch
		}
	}
	return batch
}

// live drops requests abandoned before their turn: nothing of them was
// applied, and their callers get their context's error.
func live(batch []*request) []*request {
	out := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil && !r.internal {
			r.err = r.ctx.Err()
			close(r.done)
			continue
		}
		out = append(out, r)
	}
	return out
}

// prepared is a batch applied in memory and ready to write.
type prepared struct {
	reqs    []*request
	results [][]chengdui.TransferResult
	batch   *Batch
	base    Head // the journal head it extends
	start   time.Time
}

// empty reports whether the batch writes nothing (every transfer was
// refused or existed already).
func (p *prepared) empty() bool { return len(p.batch.Transfers) == 0 && len(p.batch.Accounts) == 0 }

// apply runs the rules for reqs against src — the write transaction, or
// the pipeline's overlay — on top of head and extends the journal. It does
// not write.
func (e *Engine) apply(src BatchReader, head Head, reqs []*request) (*prepared, error) {
	p := &prepared{reqs: reqs, base: head, start: time.Now()}
	ids, accountIDs, pendingIDs := collectIDs(reqs)
	existing, err := src.Transfers(ids)
	if err != nil {
		return nil, err
	}
	// Post and void name only the pending transfer: its accounts come
	// from its committed body.
	for _, pid := range pendingIDs {
		if t, ok := existing[pid]; ok {
			accountIDs = appendUnique(accountIDs, t.DebitAccountID, t.CreditAccountID)
		}
	}
	accounts, err := src.Accounts(accountIDs)
	if err != nil {
		return nil, err
	}
	pending, err := src.Pending(pendingIDs)
	if err != nil {
		return nil, err
	}
	now := e.opts.Now().UTC().Truncate(time.Microsecond)
	s := newState(now, head.Size+1, existing, accounts, pending)
	for _, r := range reqs {
		p.results = append(p.results, s.applyRequest(r.ts, r.internal))
	}
	p.batch = s.batch()
	j, err := openJournal(head)
	if err != nil {
		return nil, err
	}
	for i := range p.batch.Transfers {
		if err := j.append(&p.batch.Transfers[i]); err != nil {
			return nil, err
		}
	}
	if p.batch.Head, err = j.head(); err != nil {
		return nil, err
	}
	// The results carry the committed hashes.
	for _, rs := range p.results {
		for k := range rs {
			if rs[k].Err == nil && !rs[k].Existed {
				rs[k].Transfer = p.batch.Transfers[s.created[rs[k].Transfer.ID]]
			}
		}
	}
	return p, nil
}

// deliver answers every request of a committed batch, or fails them all
// with err.
func (e *Engine) deliver(p *prepared, reqs []*request, err error) {
	var refused []string
	for i, r := range reqs {
		if err != nil {
			r.err = err
			if chengdui.ErrorCode(err) == chengdui.EInternal {
				e.log.Error("ledger commit failed", "err", err, "transfers", len(r.ts))
				r.err = chengdui.Errorf(chengdui.EUnavailable, "the ledger could not commit; retry with the same transfer ids")
			}
		} else {
			r.res = p.results[i]
			for _, res := range r.res {
				if res.Err != nil {
					refused = append(refused, chengdui.ErrorCode(res.Err))
				}
			}
		}
	}
	// Metrics first, so a caller that reads them after its answer sees
	// its own batch counted.
	if err == nil {
		n := len(p.batch.Transfers)
		e.opts.Metrics.observe(n, refused, n, time.Since(p.start).Seconds())
		e.sinceIndexed.Add(int64(n))
	}
	for _, r := range reqs {
		close(r.done)
	}
}

// commitSlow applies and writes a batch inside one write transaction,
// reading all state there. It is the path when the pipeline's view may
// be stale: another process wrote, or an earlier batch failed.
func (e *Engine) commitSlow(ctx context.Context, reqs []*request) {
	var p *prepared
	err := e.store.Commit(ctx, func(tx BatchTx) error {
		head, err := tx.Head()
		if err != nil {
			return err
		}
		if p, err = e.apply(tx, head, reqs); err != nil {
			return err
		}
		if p.empty() {
			return nil
		}
		return tx.Write(p.batch)
	})
	if err != nil && len(reqs) > 1 && ctx.Err() == nil {
		// One request may have poisoned the batch (a row the database
		// refuses): commit each alone so the others are not held hostage.
		e.log.Warn("group commit failed; committing its requests one by one", "err", err, "requests", len(reqs))
		for _, r := range reqs {
			e.commitSlow(ctx, []*request{r})
		}
		return
	}
	e.deliver(p, reqs, err)
}
func collectIDs(reqs []*request) (ids, accountIDs, pendingIDs []string) {
	seenAcc := map[string]bool{}
	seenPend := map[string]bool{}
	for _, r := range reqs {
		for i := range r.ts {
			t := &r.ts[i]
			// Malformed ids are refused by the rules; they must not
			// reach the database, where they could fail the whole batch.
			if validID(t.ID) {
				ids = append(ids, t.ID)
			}
			for _, a := range []string{t.DebitAccountID, t.CreditAccountID} {
				if validID(a) && !seenAcc[a] {
					seenAcc[a] = true
					accountIDs = append(accountIDs, a)
				}
			}
			if validID(t.PendingID) && !seenPend[t.PendingID] {
				seenPend[t.PendingID] = true
				pendingIDs = append(pendingIDs, t.PendingID)
				ids = append(ids, t.PendingID)
			}
		}
	}
	return ids, accountIDs, pendingIDs
}

func appendUnique(s []string, vs ...string) []string {
	for _, v := range vs {
		found := false
		for _, x := range s {
			if x == v {
				found = true
				break
			}
		}
		if !found {
			s = append(s, v)
		}
	}
	return s
}

// ExpirePending voids every open pending transfer whose timeout has passed,
// and returns how many it voided. The expiry loop calls it; tests may too.
func (e *Engine) ExpirePending(ctx context.Context) (int, error) {
	e.expiring.Lock()
	defer e.expiring.Unlock()
	total := 0
	for {
		ids, err := e.store.ExpiredPending(ctx, e.opts.Now(), 1000)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		ts := make([]chengdui.Transfer, len(ids))
		for i, id := range ids {
			ts[i] = chengdui.Transfer{ID: "expire:" + id, PendingID: id,
				Flags: chengdui.VoidPending | chengdui.Expiry}
		}
		res, err := e.submit(ctx, ts, true)
		if err != nil {
			return total, err
		}
		progress := 0
		for i, r := range res {
			if r.Err == nil && !r.Existed {
				total++
				progress++
			} else if r.Err != nil {
				e.log.Warn("pending transfer not expired", "id", ids[i], "err", r.Err)
			}
		}
		if progress == 0 {
			return total, nil
		}
	}
}

func (e *Engine) expiryLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.ExpiryInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stopped:
			return
		case <-t.C:
			if n, err := e.ExpirePending(ctx); err != nil {
				if chengdui.ErrorCode(err) != chengdui.EUnavailable {
					e.log.Error("expiring pending transfers", "err", err)
				}
			} else if n > 0 {
				e.log.Info("expired pending transfers", "count", n)
			}
		}
	}
}

// IndexHistory brings the per-account history index up to the journal
// head, chunk by chunk, each its own transaction so commits interleave,
// and returns how many entries it indexed. It stops early when the engine
// stops.
func (e *Engine) IndexHistory(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := e.store.IndexHistory(ctx, historyChunk)
		total += n
		if err != nil || n < historyChunk || e.isStopping() {
			return total, err
		}
	}
}

func (e *Engine) isStopping() bool {
	select {
	case <-e.stopped:
		return true
	default:
		return false
	}
}

func (e *Engine) historyLoop(ctx context.Context) {
	ticks := 0
	t := time.NewTicker(e.opts.HistoryInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stopped:
			return
		case <-t.C:
			// Index once enough has accumulated for a chunk to be worth
			// a row per account, or every historyMaxTicks ticks anyway
			// (other processes' commits are not counted here).
			ticks++
			if e.sinceIndexed.Load() < historyMinChunk && ticks < historyMaxTicks {
				continue
			}
			ticks = 0
			e.sinceIndexed.Store(0)
			if _, err := e.IndexHistory(ctx); err != nil {
				e.log.Error("indexing account history", "err", err)
			}
		}
	}
}

// CreateAsset implements chengdui.Ledger.
func (e *Engine) CreateAsset(ctx context.Context, a chengdui.Asset) (chengdui.Asset, error) {
	if err := ValidateAsset(a); err != nil {
		return chengdui.Asset{}, err
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = e.opts.Now().UTC().Truncate(time.Microsecond)
	}
	got, err := e.store.CreateAsset(ctx, a)
	if err == nil && (got.Network != a.Network || got.Decimals != a.Decimals) {
		return got, chengdui.Errorf(chengdui.EExists, "asset %s already exists on %s with %d decimals", got.Code, got.Network, got.Decimals)
	}
	return got, err
}

// CreateAccount implements chengdui.Ledger.
func (e *Engine) CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error) {
	if err := ValidateAccount(a); err != nil {
		return chengdui.Account{}, err
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = e.opts.Now().UTC().Truncate(time.Microsecond)
	}
	a.DebitsPending, a.DebitsPosted, a.CreditsPending, a.CreditsPosted = chengdui.Amount{}, chengdui.Amount{}, chengdui.Amount{}, chengdui.Amount{}
	got, err := e.store.CreateAccount(ctx, a)
	if err == nil && (got.Asset != a.Asset || got.Flags != a.Flags || got.Code != a.Code || !maps.Equal(got.Metadata, a.Metadata)) {
		return got, chengdui.Errorf(chengdui.EExists, "account %q already exists with other properties", a.ID)
	}
	return got, err
}

// Account implements chengdui.Ledger.
func (e *Engine) Account(ctx context.Context, id string) (chengdui.Account, error) {
	return e.store.Account(ctx, id)
}

// Transfers implements chengdui.Ledger.
func (e *Engine) Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	return e.store.Transfers(ctx, f)
}

// Head implements chengdui.Ledger.
func (e *Engine) Head(ctx context.Context) (chengdui.TreeHead, error) {
	h, err := e.store.Head(ctx)
	return h.normalized().TreeHead, err
}

// ValidateAsset checks an asset's fields.
func ValidateAsset(a chengdui.Asset) error {
	if !validCode(a.Code, 32) {
		return chengdui.Errorf(chengdui.EInvalid, "asset code %q: use 1-32 letters, digits, '-' or '_'", clipID(a.Code))
	}
	if !validCode(a.Network, 32) {
		return chengdui.Errorf(chengdui.EInvalid, "asset network %q: use 1-32 letters, digits, '-' or '_'", clipID(a.Network))
	}
	if a.Decimals > chengdui.MaxDecimals {
		return chengdui.Errorf(chengdui.EInvalid, "asset decimals %d: at most %d", a.Decimals, chengdui.MaxDecimals)
	}
	return nil
}

// ValidateAccount checks an account's fields.
func ValidateAccount(a chengdui.Account) error {
	if a.ID == "" || len(a.ID) > MaxIDLength || !printable(a.ID) {
		return chengdui.Errorf(chengdui.EInvalid, "account id must be 1 to %d printable characters", MaxIDLength)
	}
	if a.Asset == "" {
		return chengdui.Errorf(chengdui.EInvalid, "account %q needs an asset", clipID(a.ID))
	}
	if !a.Flags.Valid() {
		return chengdui.Errorf(chengdui.EInvalidFlags, "account %q: flags %#x are unknown or contradictory", clipID(a.ID), uint32(a.Flags))
	}
	if len(a.Metadata) > MaxMetadataKeys {
		return chengdui.Errorf(chengdui.EInvalid, "account %q has more than %d metadata keys", clipID(a.ID), MaxMetadataKeys)
	}
	return nil
}

func validCode(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}
