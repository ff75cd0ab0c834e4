package fx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fake is a source whose answer the test sets.
type fake struct {
	name  string
	mu    sync.Mutex
	rates []Rate
	err   error
	calls int
}

func (f *fake) Name() string { return f.name }

func (f *fake) Fetch(ctx context.Context, _ []Pair) ([]Rate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return append([]Rate(nil), f.rates...), f.err
}

// set makes the source answer with the rates ("BTC/USD", "64000", …) and err.
func (f *fake) set(t testing.TB, err error, pairValues ...string) {
	t.Helper()
	var rates []Rate
	for i := 0; i < len(pairValues); i += 2 {
		base, quote, _ := strings.Cut(pairValues[i], "/")
		rates = append(rates, Rate{Base: base, Quote: quote, Value: dec(t, pairValues[i+1])})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rates, f.err = rates, err
}

func newFake(t testing.TB, name string, pairValues ...string) *fake {
	f := &fake{name: name}
	f.set(t, nil, pairValues...)
	return f
}

func newRates(t testing.TB, c *clock, cfg Config, sources ...Source) *Rates {
	t.Helper()
	cfg.Sources = sources
	cfg.Now = c.Now
	r, err := NewRates(cfg)
	require.NoError(t, err)
	return r
}

func requireRate(t *testing.T, r *Rates, base, quote, value, sources string) {
	t.Helper()
	rate, err := r.Rate(base, quote)
	require.NoError(t, err)
	require.Equal(t, value, rate.Value.String(), "%s/%s", base, quote)
	require.Equal(t, sources, rate.Source, "%s/%s", base, quote)
}

func requireRefused(t *testing.T, r *Rates, base, quote, code, message string) {
	t.Helper()
	_, err := r.Rate(base, quote)
	require.Error(t, err, "%s/%s", base, quote)
	require.Equal(t, code, chengdui.ErrorCode(err), "%v", err)
	require.Contains(t, chengdui.ErrorMessage(err), message)
}

func TestRatesMedian(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  []string
		want    string
		sources string
	}{
		{"one source", []string{"64000"}, "64000", "s0"},
		{"odd count: the middle", []string{"64300", "64000", "64100"}, "64100", "s0,s1,s2"},
		{"even count: mean of the middle two", []string{"64300", "64000", "64100", "64250"}, "64175", "s0,s1,s2,s3"},
		{"equal values", []string{"64000", "64000"}, "64000", "s0,s1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			var sources []Source
			for i, v := range tc.values {
				sources = append(sources, newFake(t, fmt.Sprintf("s%d", i), "BTC/USD", v))
			}
			r := newRates(t, c, Config{}, sources...)
			require.NoError(t, r.Refresh(t.Context()))
			requireRate(t, r, "BTC", USD, tc.want, tc.sources)
		})
	}
}

func TestRatesStale(t *testing.T) {
	c := newClock()
	a := newFake(t, "a", "BTC/USD", "64000")
	b := newFake(t, "b", "BTC/USD", "64200")
	r := newRates(t, c, Config{}, a, b)
	start := c.Now()
	require.NoError(t, r.Refresh(t.Context()))
	requireRate(t, r, "BTC", USD, "64100", "a,b")

	// a fails from now on; its rate counts until it is MaxAge old.
	a.set(t, chengdui.Errorf(chengdui.EUnavailable, "a: HTTP 500"))
	c.advance(time.Minute)
	require.ErrorContains(t, r.Refresh(t.Context()), "a: HTTP 500")
	requireRate(t, r, "BTC", USD, "64100", "a,b")
	c.advance(time.Minute)
	requireRate(t, r, "BTC", USD, "64100", "a,b")
	rate, err := r.Rate("BTC", USD)
	require.NoError(t, err)
	require.Equal(t, start, rate.At, "the oldest observation")

	c.advance(time.Second)
	requireRate(t, r, "BTC", USD, "64200", "b")

	// Then b stops too.
	b.set(t, errors.New("b: timeout"))
	c.advance(2 * time.Minute)
	require.Error(t, r.Refresh(t.Context()))
	requireRefused(t, r, "BTC", USD, chengdui.EUnavailable, "every source of BTC/USD is older than 2m0s: a 4m1s old, b 3m1s old")
	requireRefused(t, r, "BTC", "CNY", chengdui.EUnavailable, "every source of BTC/USD is older than 2m0s")

	// A source that answers again is used at once.
	a.set(t, nil, "BTC/USD", "64050")
	require.Error(t, r.Refresh(t.Context()), "b still fails")
	requireRate(t, r, "BTC", USD, "64050", "a")
}

func TestRatesDisagree(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxSpread uint32
		values    []string
		want      string // "" when refused
		message   string
	}{
		{"2 % apart", 0, []string{"64000", "65280"}, "", "sources disagree on BTC/USD by 2.00 %, more than 1.00 %: a 64000, b 65280"},
		{"exactly 1 %", 0, []string{"64000", "64640"}, "64320", ""},
		{"just over 1 %", 0, []string{"64000", "64640.000001"}, "", "more than 1.00 %"},
		{"one outlier spoils it", 0, []string{"64000", "64010", "70000"}, "", "by 9.38 %, more than 1.00 %: a 64000, b 64010, c 70000"},
		{"a wider bound", 250, []string{"64000", "65280"}, "64640", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			var sources []Source
			for i, v := range tc.values {
				sources = append(sources, newFake(t, string(rune('a'+i)), "BTC/USD", v))
			}
			r := newRates(t, c, Config{MaxSpreadBps: tc.maxSpread}, sources...)
			require.NoError(t, r.Refresh(t.Context()))
			if tc.want == "" {
				requireRefused(t, r, "BTC", USD, chengdui.EUnavailable, tc.message)
				requireRefused(t, r, USD, "BTC", chengdui.EUnavailable, tc.message)
				return
			}
			rate, err := r.Rate("BTC", USD)
			require.NoError(t, err)
			require.Equal(t, tc.want, rate.Value.String())
		})
	}
}

func TestRatesInverseAndCross(t *testing.T) {
	c := newClock()
	fixed, err := NewFixed(DevRates())
	require.NoError(t, err)
	r := newRates(t, c, Config{}, fixed)
	require.NoError(t, r.Refresh(t.Context()))
	for _, tc := range []struct{ base, quote, want string }{
		{"BTC", USD, "60000"},
		{USD, "BTC", "0.0000166666666666666666666666666667"},
		{"BTC", "CNY", "432000"},
		{"ETH", "HKD", "23400"},
		{"BTC", "EUR", "55200"},
		{"USDT-ERC20", "CNY", "7.2"},
		{"USDC-ERC20", USD, "1"},
		{"CNY", "BTC", "0.00000231481481481481481481481481481"},
		{"EUR", "CNY", "7.8260869565217391304347826087"},
		{"BTC", "BTC", "1"},
		{"USDT-ERC20", "USDT", "1"},
	} {
		t.Run(tc.base+"/"+tc.quote, func(t *testing.T) {
			rate, err := r.Rate(tc.base, tc.quote)
			require.NoError(t, err)
			require.Equal(t, tc.want, rate.Value.String())
			b, _ := Symbol(tc.base)
			q, _ := Symbol(tc.quote)
			require.Equal(t, Pair{b, q}, rate.Pair(), "the pair is named by symbols")
		})
	}
}

func TestRatesRefuses(t *testing.T) {
	c := newClock()
	r := newRates(t, c, Config{}, newFake(t, "a", "BTC/USD", "64000"))
	requireRefused(t, r, "BTC", USD, chengdui.EUnavailable, "no source has reported BTC/USD yet")
	require.NoError(t, r.Refresh(t.Context()))
	for _, tc := range []struct{ base, quote, code, message string }{
		{"DOGE", USD, chengdui.EInvalid, "no rate for DOGE/USD: it is not tracked"},
		{"DOGE", "CNY", chengdui.EInvalid, "no rate for DOGE/CNY: track it, or DOGE/USD and USD/CNY"},
		{"BTC", "JPY", chengdui.EInvalid, "no rate for BTC/JPY"},
		{"btc", USD, chengdui.EInvalid, `"btc" is not an asset or currency code`},
		{"", USD, chengdui.EInvalid, "not an asset or currency code"},
		{"BTC", "US$", chengdui.EInvalid, "not an asset or currency code"},
		{"ETH", USD, chengdui.EUnavailable, "no source has reported ETH/USD yet"},
		{"ETH", "CNY", chengdui.EUnavailable, "no source has reported ETH/USD yet"},
		{"BTC", "CNY", chengdui.EUnavailable, "no source has reported USD/CNY yet"},
	} {
		t.Run(tc.base+"/"+tc.quote, func(t *testing.T) {
			requireRefused(t, r, tc.base, tc.quote, tc.code, tc.message)
		})
	}
}

// TestRatesUSDT: an exchange that prices in USDT counts towards USD only
// through the USDT/USD rate other sources quote.
func TestRatesUSDT(t *testing.T) {
	c := newClock()
	kraken := newFake(t, "kraken", "BTC/USD", "64392.25", "USDT/USD", "1.00015")
	coinbase := newFake(t, "coinbase", "BTC/USD", "64392.23", "USDT/USD", "1.0001")
	binance := newFake(t, "binance", "BTC/USDT", "64380", "USDC/USDT", "1.0001")
	r := newRates(t, c, Config{}, kraken, coinbase, binance)
	require.NoError(t, r.Refresh(t.Context()))

	requireRate(t, r, USDT, USD, "1.000125", "coinbase,kraken")
	// binance: 64380 × 1.000125 = 64388.0475; the median of three.
	requireRate(t, r, "BTC", USD, "64392.23", "binance,coinbase,kraken")
	// USDC/USD rests on binance alone: 1.0001 × 1.000125.
	requireRate(t, r, "USDC", USD, "1.0002250125", "binance,coinbase,kraken")

	binance.set(t, nil, "BTC/USDT", "70000")
	require.NoError(t, r.Refresh(t.Context()))
	requireRefused(t, r, "BTC", USD, chengdui.EUnavailable, "kraken 64392.25, binance via USDT 70008.75")

	// Without a USDT/USD rate, USDT prices do not count.
	kraken.set(t, errors.New("down"))
	coinbase.set(t, errors.New("down"))
	c.advance(3 * time.Minute)
	require.Error(t, r.Refresh(t.Context()))
	requireRefused(t, r, "BTC", USD, chengdui.EUnavailable, "every source of BTC/USD is older than 2m0s: kraken 3m0s old, coinbase 3m0s old")
	requireRefused(t, r, "USDC", USD, chengdui.EUnavailable, "every source of USDT/USD is older than 2m0s")
}

// TestRatesKeepsWhatSourcesSay: rates that come with an error are kept;
// unusable rates are dropped and reported; an older observation never
// replaces a newer one; one from the future is dated now.
func TestRatesKeepsWhatSourcesSay(t *testing.T) {
	c := newClock()
	s := newFake(t, "s")
	r := newRates(t, c, Config{}, s)

	s.set(t, chengdui.Errorf(chengdui.EUnavailable, "s: no price for XETHZUSD"), "BTC/USD", "64000")
	require.ErrorContains(t, r.Refresh(t.Context()), "s: no price for XETHZUSD")
	requireRate(t, r, "BTC", USD, "64000", "s")

	s.set(t, nil, "ETH/USD", "0", "btc/USD", "1", "USD/USD", "1", "USDT-ERC20/USD", "1", "ETH/CNY", "24000")
	err := r.Refresh(t.Context())
	require.Error(t, err)
	for _, bad := range []string{"ETH/USD 0", "btc/USD 1", "USD/USD 1", "USDT-ERC20/USD 1"} {
		require.Contains(t, err.Error(), "s: unusable rate "+bad)
	}
	require.Equal(t, []SourceStatus{{Name: "s", LastFetch: c.Now(), Err: err.Error(), Fresh: 2}}, r.Status())

	at := c.Now().Add(-30 * time.Second)
	s.mu.Lock()
	s.rates = []Rate{{Base: "BTC", Quote: USD, Value: dec(t, "65000"), At: at}}
	s.mu.Unlock()
	require.NoError(t, r.Refresh(t.Context()))
	requireRate(t, r, "BTC", USD, "64000", "s")

	s.mu.Lock()
	s.rates = []Rate{{Base: "BTC", Quote: USD, Value: dec(t, "66000"), At: c.Now().Add(time.Hour)}}
	s.mu.Unlock()
	c.advance(time.Second)
	require.NoError(t, r.Refresh(t.Context()))
	rate, err := r.Rate("BTC", USD)
	require.NoError(t, err)
	require.Equal(t, "66000", rate.Value.String())
	require.Equal(t, c.Now(), rate.At)
	require.Equal(t, []SourceStatus{{Name: "s", LastFetch: c.Now(), LastOK: c.Now(), Fresh: 2}}, r.Status())
}

func TestNewRatesRefuses(t *testing.T) {
	a := newFake(t, "a")
	for _, tc := range []struct {
		name    string
		cfg     Config
		message string
	}{
		{"no sources", Config{}, "no rate sources"},
		{"unnamed source", Config{Sources: []Source{&fake{}}}, "a rate source has no name"},
		{"same name twice", Config{Sources: []Source{a, newFake(t, "a")}}, `two rate sources are named "a"`},
		{"bad pair", Config{Sources: []Source{a}, Pairs: []Pair{{"BTC", "usd"}}}, `"usd" is not an asset or currency code`},
		{"same base and quote", Config{Sources: []Source{a}, Pairs: []Pair{{USD, USD}}}, "USD/USD has the same base and quote"},
		{"pair and inverse", Config{Sources: []Source{a}, Pairs: []Pair{{"BTC", USD}, {USD, "BTC"}}}, "both USD/BTC and BTC/USD are tracked"},
		{"negative age", Config{Sources: []Source{a}, MaxAge: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRates(tc.cfg)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			require.Contains(t, chengdui.ErrorMessage(err), tc.message)
		})
	}
}

func TestRatesTracksLedgerCodes(t *testing.T) {
	c := newClock()
	s := newFake(t, "s", "USDT/USD", "1.0001")
	r := newRates(t, c, Config{Pairs: []Pair{{"USDT-ERC20", USD}, {"USDT-TRC20", USD}}}, s)
	require.NoError(t, r.Refresh(t.Context()))
	requireRate(t, r, "USDT-TRC20", USD, "1.0001", "s")
}

// TestRatesRunning fetches in the background while many readers ask for
// rates and quotes; run with -race.
func TestRatesRunning(t *testing.T) {
	c := newClock()
	a := newFake(t, "a", "BTC/USD", "64000", "USD/CNY", "7.2")
	b := newFake(t, "b", "BTC/USD", "64100", "USD/CNY", "7.21")
	r := newRates(t, c, Config{Interval: time.Millisecond}, a, b)
	require.NoError(t, r.Start(t.Context()))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(r.Start(t.Context())))

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				switch j % 4 {
				case 0:
					a.set(t, nil, "BTC/USD", fmt.Sprintf("640%02d", i), "USD/CNY", "7.2")
				case 1:
					c.advance(time.Millisecond)
				case 2:
					_, _ = r.Quote(QuoteRequest{Price: amount(t, "10000"), Currency: "CNY", CurrencyDecimals: 2, Asset: "BTC", AssetDecimals: 8})
				default:
					_ = r.Status()
				}
				if _, err := r.Rate("BTC", "CNY"); err != nil && chengdui.ErrorCode(err) != chengdui.EUnavailable {
					t.Errorf("Rate: %v", err)
				}
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.calls >= 3
	}, 5*time.Second, time.Millisecond, "fetched every interval")
	r.Stop()
	r.Stop()

	a.mu.Lock()
	calls := a.calls
	a.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	a.mu.Lock()
	require.Equal(t, calls, a.calls, "no fetch after Stop")
	a.mu.Unlock()

	require.NoError(t, r.Start(t.Context()), "restartable")
	r.Stop()
}

func TestRatesStopsWithContext(t *testing.T) {
	c := newClock()
	a := newFake(t, "a", "BTC/USD", "64000")
	r := newRates(t, c, Config{Interval: time.Hour}, a)
	ctx, cancel := context.WithCancel(t.Context())
	require.NoError(t, r.Start(ctx))
	require.Eventually(t, func() bool { _, err := r.Rate("BTC", USD); return err == nil }, 5*time.Second, time.Millisecond, "the first fetch is at once")
	cancel()
	r.Stop() // returns once the loop has ended
}
