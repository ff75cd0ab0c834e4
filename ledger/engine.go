package ledger

import (
	"context"
	"errors"
	"log/slog"
	"sync"
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

// historyChunk is the most journal entries indexed in one transaction.
const historyChunk = 50000

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

	// Account cache, owned by the committer goroutine. It holds balances
	// as of journal size cacheSize; every balance change extends the
	// journal under the head lock, so if the head is still at cacheSize
	// when a commit starts, no other process has written and the cache is
	// exact. Otherwise it is dropped.
	cache     map[string]chengdui.Account
	cacheSize uint64
}

// maxCachedAccounts bounds the account cache's memory.
const maxCachedAccounts = 1 << 20

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
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.commitLoop(ctx) }()
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

func (e *Engine) commitLoop(ctx context.Context) {
	var batch []*request
	for {
		r, ok := <-e.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
		n := len(r.ts)
	drain:
		for n < e.opts.MaxBatch {
			select {
			case r, ok := <-e.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				n += len(r.ts)
			default:
				break drain
			}
		}
		e.commit(ctx, batch)
	}
}

// commit applies a group of requests in one database transaction.
func (e *Engine) commit(ctx context.Context, batch []*request) {
	start := time.Now()
	live := batch[:0:0]
	for _, r := range batch {
		if r.ctx.Err() != nil && !r.internal {
			// Abandoned before its turn: nothing of it was applied.
			r.err = r.ctx.Err()
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	var results [][]chengdui.TransferResult
	var written int
	var newAccounts []chengdui.Account
	var newSize uint64
	err := e.store.Commit(ctx, func(tx BatchTx) error {
		results = results[:0]
		head, err := tx.Head()
		if err != nil {
			return err
		}
		ids, accountIDs, pendingIDs := collectIDs(live)
		existing, err := tx.Transfers(ids)
		if err != nil {
			return err
		}
		// Post and void name only the pending transfer: its accounts come
		// from its committed body.
		for _, pid := range pendingIDs {
			if p, ok := existing[pid]; ok {
				accountIDs = appendUnique(accountIDs, p.DebitAccountID, p.CreditAccountID)
			}
		}
		if e.cache == nil || head.Size != e.cacheSize || len(e.cache) > maxCachedAccounts {
			e.cache = make(map[string]chengdui.Account)
		}
		accounts := make(map[string]chengdui.Account, len(accountIDs))
		missing := accountIDs[:0:0]
		for _, id := range accountIDs {
			if a, ok := e.cache[id]; ok {
				accounts[id] = a
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			loaded, err := tx.Accounts(missing)
			if err != nil {
				return err
			}
			for id, a := range loaded {
				accounts[id] = a
				e.cache[id] = a
			}
		}
		pending, err := tx.Pending(pendingIDs)
		if err != nil {
			return err
		}
		now := e.opts.Now().UTC().Truncate(time.Microsecond)
		s := newState(now, head.Size+1, existing, accounts, pending)
		for _, r := range live {
			results = append(results, s.applyRequest(r.ts, r.internal))
		}
		b := s.batch()
		j, err := openJournal(head)
		if err != nil {
			return err
		}
		for i := range b.Transfers {
			if err := j.append(&b.Transfers[i]); err != nil {
				return err
			}
		}
		if b.Head, err = j.head(); err != nil {
			return err
		}
		// The results carry the committed hashes.
		for _, rs := range results {
			for k := range rs {
				if rs[k].Err == nil && !rs[k].Existed {
					rs[k].Transfer = b.Transfers[s.created[rs[k].Transfer.ID]]
				}
			}
		}
		written = len(b.Transfers)
		if written == 0 && len(b.Accounts) == 0 {
			return nil
		}
		if err := tx.Write(b); err != nil {
			return err
		}
		newAccounts, newSize = b.Accounts, b.Head.Size
		return nil
	})
	if err != nil {
		e.cache = nil // the transaction's effects are unknown
	} else if newAccounts != nil {
		for _, a := range newAccounts {
			e.cache[a.ID] = a
		}
		e.cacheSize = newSize
	}
	if err != nil && len(live) > 1 && ctx.Err() == nil {
		// One request may have poisoned the batch (a row the database
		// refuses): commit each alone so the others are not held hostage.
		e.log.Warn("group commit failed; committing its requests one by one", "err", err, "requests", len(live))
		for _, r := range live {
			e.commit(ctx, []*request{r})
		}
		return
	}
	var refused []string
	for i, r := range live {
		if err != nil {
			r.err = err
			if chengdui.ErrorCode(err) == chengdui.EInternal {
				e.log.Error("ledger commit failed", "err", err, "transfers", len(r.ts))
				r.err = chengdui.Errorf(chengdui.EUnavailable, "the ledger could not commit; retry with the same transfer ids")
			}
		} else {
			r.res = results[i]
			for _, res := range r.res {
				if res.Err != nil {
					refused = append(refused, chengdui.ErrorCode(res.Err))
				}
			}
		}
		close(r.done)
	}
	if err == nil {
		e.opts.Metrics.observe(written, refused, written, time.Since(start).Seconds())
	}
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
// head and returns how many entries it indexed.
func (e *Engine) IndexHistory(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := e.store.IndexHistory(ctx, historyChunk)
		total += n
		if err != nil || n < historyChunk {
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
	t := time.NewTicker(e.opts.HistoryInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stopped:
			return
		case <-t.C:
			// Chunk by chunk, each its own transaction, so commits
			// interleave and never wait long for the write lock.
			for {
				n, err := e.store.IndexHistory(ctx, historyChunk)
				if err != nil {
					e.log.Error("indexing account history", "err", err)
				}
				if err != nil || n < historyChunk || e.isStopping() {
					break
				}
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
	return e.store.CreateAsset(ctx, a)
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
	return e.store.CreateAccount(ctx, a)
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
