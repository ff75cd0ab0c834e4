package fx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"chengdui"
)

// Defaults of Config.
const (
	DefaultInterval     = 30 * time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultMaxAge       = 2 * time.Minute
	DefaultMaxSpreadBps = 100 // 1 %
)

// Config configures Rates.
type Config struct {
	// Sources are fetched concurrently; their names must differ.
	Sources []Source
	// Pairs are the pairs fetched and the only ones Rates answers for,
	// besides their inverses and crosses through USD. Default DefaultPairs().
	Pairs []Pair
	// Interval between fetches once started. Default 30 s.
	Interval time.Duration
	// Timeout bounds one source's fetch. Default 10 s.
	Timeout time.Duration
	// MaxAge is how old a source's rate may be and still count. Default 2 min.
	MaxAge time.Duration
	// MaxSpreadBps is how far the fresh sources of a pair may disagree,
	// (highest−lowest)/lowest in basis points, before the pair is refused.
	// Default 100 (1 %).
	MaxSpreadBps uint32
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives failed fetches. Default: discarded.
	Logger *slog.Logger
}

// Rates holds the latest rates of several sources and answers with their
// median. It is safe for concurrent use. See the package documentation.
type Rates struct {
	cfg     Config
	tracked map[Pair]bool

	mu     sync.RWMutex
	held   map[string]map[Pair]Rate // source → its latest rate per pair
	status map[string]SourceStatus

	runMu  sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// SourceStatus is how a source has been doing, for health pages and logs.
type SourceStatus struct {
	Name      string
	LastFetch time.Time // when it was last asked
	LastOK    time.Time // when it last answered without error
	Err       string    // the last fetch's error, "" if it had none
	Fresh     int       // how many of its rates are within MaxAge
}

// NewRates checks cfg, fills in defaults and returns Rates holding no rates
// yet: call Refresh, Start, or both. Errors are EInvalid.
func NewRates(cfg Config) (*Rates, error) {
	if len(cfg.Sources) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fx: no rate sources")
	}
	if cfg.Interval < 0 || cfg.Timeout < 0 || cfg.MaxAge < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "fx: negative interval, timeout or maximum age")
	}
	r := &Rates{cfg: cfg, tracked: make(map[Pair]bool), held: make(map[string]map[Pair]Rate), status: make(map[string]SourceStatus)}
	for _, s := range cfg.Sources {
		name := s.Name()
		if name == "" {
			return nil, chengdui.Errorf(chengdui.EInvalid, "fx: a rate source has no name")
		}
		if _, dup := r.held[name]; dup {
			return nil, chengdui.Errorf(chengdui.EInvalid, "fx: two rate sources are named %q", name)
		}
		r.held[name] = make(map[Pair]Rate)
		r.status[name] = SourceStatus{Name: name}
	}
	if len(cfg.Pairs) == 0 {
		cfg.Pairs = DefaultPairs()
	}
	pairs := make([]Pair, 0, len(cfg.Pairs))
	for _, p := range cfg.Pairs {
		p, err := newPair(p.Base, p.Quote)
		if err != nil {
			return nil, err
		}
		if r.tracked[p.Inverse()] {
			return nil, chengdui.Errorf(chengdui.EInvalid, "fx: both %s and %s are tracked; keep one", p, p.Inverse())
		}
		if !r.tracked[p] {
			r.tracked[p] = true
			pairs = append(pairs, p)
		}
	}
	r.cfg.Pairs = pairs
	r.cfg.Interval = cmp.Or(cfg.Interval, DefaultInterval)
	r.cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	r.cfg.MaxAge = cmp.Or(cfg.MaxAge, DefaultMaxAge)
	r.cfg.MaxSpreadBps = cmp.Or(cfg.MaxSpreadBps, DefaultMaxSpreadBps)
	if r.cfg.Now == nil {
		r.cfg.Now = time.Now
	}
	if r.cfg.Logger == nil {
		r.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Refresh fetches every source once, concurrently, and keeps what they
// return. The error joins the sources' failures; the rates of the sources
// that answered are kept regardless, so a caller at startup may log it and
// go on.
func (r *Rates) Refresh(ctx context.Context) error {
	errs := make([]error, len(r.cfg.Sources))
	var wg sync.WaitGroup
	for i, s := range r.cfg.Sources {
		wg.Go(func() { errs[i] = r.fetch(ctx, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Rates) fetch(ctx context.Context, s Source) error {
	name := s.Name()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	rates, err := s.Fetch(ctx, r.cfg.Pairs)
	now := r.cfg.Now()

	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.held[name]
	for _, rt := range rates {
		p, perr := newPair(rt.Base, rt.Quote)
		if perr != nil || p != rt.Pair() || rt.Value.IsZero() {
			err = errors.Join(err, chengdui.Errorf(chengdui.EUnavailable, "%s: unusable rate %s", name, clipDetail(rt.String())))
			continue
		}
		rt.Source = name
		if rt.At.IsZero() || rt.At.After(now) {
			rt.At = now
		}
		if old, ok := held[p]; !ok || !old.At.After(rt.At) {
			held[p] = rt
		}
	}
	st := r.status[name]
	st.LastFetch, st.Err = now, ""
	if err != nil {
		st.Err = err.Error()
		r.cfg.Logger.Warn("fx: fetching rates failed", "source", name, "err", err)
	} else {
		st.LastOK = now
	}
	r.status[name] = st
	return err
}

// Start fetches in the background, at once and then every Interval, until
// ctx ends or Stop is called; it does not wait for the first fetch (call
// Refresh first for that). Failures are logged and the sources retried at
// the next tick. Starting twice is EConflict.
func (r *Rates) Start(ctx context.Context) error {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	if r.done != nil {
		return chengdui.Errorf(chengdui.EConflict, "fx: rates are already running")
	}
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx, r.done)
	return nil
}

func (r *Rates) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for {
		_ = r.Refresh(ctx) // fetch logs each failure
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Stop ends what Start began and waits for a fetch in flight to return.
// It does nothing if Rates is not running.
func (r *Rates) Stop() {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	if r.done == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel, r.done = nil, nil
}

// Status reports each source, in configuration order.
func (r *Rates) Status() []SourceStatus {
	now := r.cfg.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]SourceStatus, 0, len(r.cfg.Sources))
	for _, s := range r.cfg.Sources {
		st := r.status[s.Name()]
		for _, rt := range r.held[s.Name()] {
			if r.fresh(rt.At, now) {
				st.Fresh++
			}
		}
		out = append(out, st)
	}
	return out
}

// Rate returns how many units of quote one unit of base is worth: the
// median of the sources' fresh rates. Base and quote may be ledger codes
// (USDT-ERC20 is priced as USDT). A pair answers if it is tracked, if its
// inverse is, or through USD if both base/USD and USD/quote are (BTC/CNY =
// BTC/USD × USD/CNY). The Rate's Source lists every source it rests on and
// its At is the oldest observation among them.
//
// Errors: EInvalid for a malformed code or a pair no tracked pair leads to;
// EUnavailable when no source has reported the pair, all of them are older
// than MaxAge, or they disagree by more than MaxSpreadBps.
func (r *Rates) Rate(base, quote string) (Rate, error) {
	a, p, err := r.rate(base, quote)
	if err != nil {
		return Rate{}, err
	}
	return Rate{Base: p.Base, Quote: p.Quote, Value: decimalOf(a.value), Source: strings.Join(a.sources, ","), At: a.at}, nil
}

// agg is a rate with what it rests on. Its value stays an exact fraction
// through inversions, crosses and medians, and is rounded once, by
// decimalOf, when it leaves Rates.
type agg struct {
	value   *big.Rat
	sources []string // sorted, unique
	at      time.Time
}

func (a agg) times(b agg) agg {
	return agg{value: new(big.Rat).Mul(a.value, b.value), sources: union(a.sources, b.sources), at: oldest(a.at, b.at)}
}

func (a agg) inverse() agg {
	return agg{value: new(big.Rat).Inv(a.value), sources: a.sources, at: a.at}
}

func union(a, b []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
}

func oldest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (r *Rates) rate(base, quote string) (agg, Pair, error) {
	b, err := Symbol(base)
	if err != nil {
		return agg{}, Pair{}, err
	}
	q, err := Symbol(quote)
	if err != nil {
		return agg{}, Pair{}, err
	}
	p := Pair{Base: b, Quote: q}
	now := r.cfg.Now()
	if b == q {
		return agg{value: big.NewRat(1, 1), at: now}, p, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.tracked[p] || r.tracked[p.Inverse()] {
		a, err := r.lookup(p, now)
		return a, p, err
	}
	if b == USD || q == USD {
		return agg{}, p, chengdui.Errorf(chengdui.EInvalid, "no rate for %s: it is not tracked", p)
	}
	toUSD, fromUSD := Pair{Base: b, Quote: USD}, Pair{Base: USD, Quote: q}
	if !r.tracks(toUSD) || !r.tracks(fromUSD) {
		return agg{}, p, chengdui.Errorf(chengdui.EInvalid, "no rate for %s: track it, or %s and %s", p, toUSD, fromUSD)
	}
	x, err := r.lookup(toUSD, now)
	if err != nil {
		return agg{}, p, err
	}
	y, err := r.lookup(fromUSD, now)
	if err != nil {
		return agg{}, p, err
	}
	return x.times(y), p, nil
}

func (r *Rates) tracks(p Pair) bool { return r.tracked[p] || r.tracked[p.Inverse()] }

// lookup takes the median in the tracked direction, so that a pair and its
// inverse rest on the same candidates, and inverts it if asked the other way.
func (r *Rates) lookup(p Pair, now time.Time) (agg, error) {
	if r.tracked[p] {
		return r.median(p, now, true)
	}
	a, err := r.median(p.Inverse(), now, true)
	if err != nil {
		return agg{}, err
	}
	return a.inverse(), nil
}

// candidate is one source's view of a pair.
type candidate struct {
	label string // "kraken", "binance via USDT"
	agg
}

// median returns the median of the sources' fresh views of p, refusing when
// they disagree beyond MaxSpreadBps. With hop, a source that prices the
// base only in USDT contributes base/USDT × the median USDT/quote of the
// sources that price that directly.
func (r *Rates) median(p Pair, now time.Time, hop bool) (agg, error) {
	var fresh []candidate
	var stale []string
	var legErr error
	for _, s := range r.cfg.Sources {
		c, ok, err := r.candidate(s.Name(), p, now, hop)
		switch {
		case err != nil:
			legErr = cmp.Or(legErr, err)
		case !ok:
		case r.fresh(c.at, now):
			fresh = append(fresh, c)
		default:
			stale = append(stale, fmt.Sprintf("%s %s old", c.label, now.Sub(c.at).Round(time.Second)))
		}
	}
	if len(fresh) == 0 {
		if len(stale) == 0 && legErr != nil {
			return agg{}, legErr // the only views went through USDT, and USDT has no rate
		}
		if len(stale) == 0 {
			return agg{}, chengdui.Errorf(chengdui.EUnavailable, "no source has reported %s yet", p)
		}
		return agg{}, chengdui.Errorf(chengdui.EUnavailable, "every source of %s is older than %s: %s", p, r.cfg.MaxAge, strings.Join(stale, ", "))
	}
	slices.SortStableFunc(fresh, func(a, b candidate) int { return a.value.Cmp(b.value) })
	lo, hi := fresh[0].value, fresh[len(fresh)-1].value
	if spread := new(big.Rat).Sub(hi, lo); spread.Quo(spread, lo).Cmp(big.NewRat(int64(r.cfg.MaxSpreadBps), 10000)) > 0 {
		views := make([]string, len(fresh))
		for i, c := range fresh {
			views[i] = c.label + " " + decimalOf(c.value).String()
		}
		return agg{}, chengdui.Errorf(chengdui.EUnavailable, "sources disagree on %s by %s %%, more than %s %%: %s",
			p, spread.Mul(spread, big.NewRat(100, 1)).FloatString(2), big.NewRat(int64(r.cfg.MaxSpreadBps), 100).FloatString(2), strings.Join(views, ", "))
	}
	n := len(fresh)
	m := agg{value: fresh[n/2].value, at: now}
	if n%2 == 0 {
		m.value = new(big.Rat).Add(fresh[n/2-1].value, fresh[n/2].value)
		m.value.Quo(m.value, big.NewRat(2, 1))
	}
	for _, c := range fresh {
		m.sources = union(m.sources, c.sources)
		m.at = oldest(m.at, c.at)
	}
	return m, nil
}

// candidate returns a source's view of p: its rate of p, the inverse of
// its rate of p's inverse, or with hop its p.Base/USDT × the median
// USDT/p.Quote. ok is false if the source has none of these; err says why
// the USDT route failed.
func (r *Rates) candidate(name string, p Pair, now time.Time, hop bool) (c candidate, ok bool, err error) {
	held := r.held[name]
	if rt, ok := held[p]; ok {
		return candidate{label: name, agg: agg{value: rt.Value.rat(), sources: []string{name}, at: rt.At}}, true, nil
	}
	if rt, ok := held[p.Inverse()]; ok {
		return candidate{label: name, agg: agg{value: rt.Value.rat(), sources: []string{name}, at: rt.At}.inverse()}, true, nil
	}
	rt, ok := held[Pair{Base: p.Base, Quote: USDT}]
	if !hop || !ok || p.Quote == USDT {
		return candidate{}, false, nil
	}
	leg, err := r.median(Pair{Base: USDT, Quote: p.Quote}, now, false)
	if err != nil {
		return candidate{}, false, err
	}
	own := agg{value: rt.Value.rat(), sources: []string{name}, at: rt.At}
	return candidate{label: name + " via " + USDT, agg: own.times(leg)}, true, nil
}

func (r *Rates) fresh(at, now time.Time) bool { return now.Sub(at) <= r.cfg.MaxAge }
