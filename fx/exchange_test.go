package fx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
)

// reply is what the fake exchange answers to one request: a status and a
// testdata file ("" for an empty body).
type reply struct {
	status int
	file   string
}

// exchange replays testdata files by request URI (query unescaped, so that
// tests read like the exchanges' documentation) and records the requests.
type exchange struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newExchange(t *testing.T, routes map[string]reply) *exchange {
	t.Helper()
	e := &exchange{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _ := url.QueryUnescape(r.URL.RawQuery)
		uri := r.URL.Path + "?" + q
		e.mu.Lock()
		e.requests = append(e.requests, uri)
		e.mu.Unlock()
		rep, ok := routes[uri]
		if !ok {
			t.Errorf("unexpected request %s", uri)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		if rep.file != "" {
			_, _ = w.Write(testdata(t, rep.file))
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *exchange) seen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.requests...)
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// seed adds every testdata file with the prefix to a fuzz corpus.
func seed(f *testing.F, prefix string) {
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"*"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		f.Add(testdata(f, filepath.Base(name)))
	}
}

func rateStrings(rates []Rate) []string {
	var out []string
	for _, r := range rates {
		out = append(out, r.String())
	}
	return out
}

// exchangeCase is one request/response exchange of an adapter.
type exchangeCase struct {
	name     string
	pairs    []Pair
	routes   map[string]reply
	want     []string // Rate.String of each rate, in order
	wantErr  string   // "" for none
	requests int      // requests made; 0 for one per route
}

func runExchangeCases(t *testing.T, source func(baseURL string) Source, cases []exchangeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newExchange(t, tc.routes)
			s := source(e.URL)
			rates, err := s.Fetch(t.Context(), tc.pairs)
			if tc.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.wantErr)
				require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err))
			}
			require.Equal(t, tc.want, rateStrings(rates))
			for _, r := range rates {
				require.Equal(t, s.Name(), r.Source)
			}
			requests := tc.requests
			if requests == 0 {
				requests = len(tc.routes)
			}
			require.Len(t, e.seen(), requests)
		})
	}
}

const krakenAll = "/0/public/Ticker?pair=USDCUSD,USDTZUSD,XETHZUSD,XXBTZUSD,ZEURZUSD"

func TestKraken(t *testing.T) {
	btc := []Pair{{"BTC", USD}}
	btcETH := []Pair{{"BTC", USD}, {"ETH", USD}}
	runExchangeCases(t, func(u string) Source { return NewKraken(u, nil) }, []exchangeCase{
		{name: "tracked pairs, USD/EUR read from EUR/USD", pairs: DefaultPairs(),
			routes: map[string]reply{krakenAll: {200, "kraken_ticker.json"}},
			want:   []string{"USDC/USD 0.99985", "USDT/USD 1.00015", "ETH/USD 3452.175", "BTC/USD 64392.25", "EUR/USD 1.08505"}},
		{name: "prices as JSON numbers", pairs: btc,
			routes: map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {200, "kraken_numbers.json"}},
			want:   []string{"BTC/USD 64392.25"}},
		{name: "missing pairs are reported, the others kept", pairs: DefaultPairs(),
			routes:  map[string]reply{krakenAll: {200, "kraken_missing.json"}},
			want:    []string{"BTC/USD 64392.25"},
			wantErr: "kraken: no price for USDCUSD, USDTZUSD, XETHZUSD, ZEURZUSD"},
		{name: "a garbled price spoils only its pair", pairs: btcETH,
			routes:  map[string]reply{"/0/public/Ticker?pair=XETHZUSD,XXBTZUSD": {200, "kraken_bad_price.json"}},
			want:    []string{"ETH/USD 3452.175"},
			wantErr: "kraken: malformed response: XXBTZUSD: ask:"},
		{name: "unknown pair", pairs: btc,
			routes:  map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {200, "kraken_unknown_pair.json"}},
			wantErr: "kraken: EQuery:Unknown asset pair"},
		{name: "rate limited in the body", pairs: btc,
			routes:  map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {200, "kraken_rate_limited.json"}},
			wantErr: "kraken: EGeneral:Too many requests"},
		{name: "HTTP 429", pairs: btc,
			routes:  map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {429, "kraken_rate_limited.json"}},
			wantErr: "kraken: HTTP 429 Too Many Requests: EGeneral:Too many requests"},
		{name: "HTTP 500", pairs: btc,
			routes:  map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {500, ""}},
			wantErr: "kraken: HTTP 500 Internal Server Error"},
		{name: "truncated body", pairs: btc,
			routes:  map[string]reply{"/0/public/Ticker?pair=XXBTZUSD": {200, "kraken_truncated.json"}},
			wantErr: "kraken: malformed response"},
		{name: "no pair Kraken lists asks nothing", pairs: []Pair{{USD, "CNY"}, {USD, "HKD"}}, routes: map[string]reply{}},
	})
}

func TestCoinbase(t *testing.T) {
	pairs := []Pair{{"BTC", USD}, {USDT, USD}, {USD, "CNY"}, {USD, "EUR"}, {USD, "HKD"}}
	const btc, usd, usdt = "/v2/exchange-rates?currency=BTC", "/v2/exchange-rates?currency=USD", "/v2/exchange-rates?currency=USDT"
	runExchangeCases(t, func(u string) Source { return NewCoinbase(u, nil) }, []exchangeCase{
		{name: "one request per base, fiat included", pairs: pairs,
			routes: map[string]reply{btc: {200, "coinbase_btc.json"}, usd: {200, "coinbase_usd.json"}, usdt: {200, "coinbase_usdt.json"}},
			want:   []string{"BTC/USD 64392.23", "USD/CNY 7.2431", "USD/EUR 0.9216", "USD/HKD 7.8102", "USDT/USD 1.00015"}},
		{name: "missing quote", pairs: []Pair{{"BTC", USD}, {"BTC", "EUR"}},
			routes:  map[string]reply{btc: {200, "coinbase_missing_quote.json"}},
			want:    []string{"BTC/EUR 59345.12"},
			wantErr: "coinbase: no price for BTC/USD"},
		{name: "rates of another currency", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "coinbase_wrong_currency.json"}},
			wantErr: `coinbase: malformed response: rates of "ETH", not of BTC`},
		{name: "zero rate", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "coinbase_zero.json"}},
			wantErr: "coinbase: malformed response: BTC/USD: price is zero"},
		{name: "invalid currency", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {400, "coinbase_invalid_currency.json"}},
			wantErr: "coinbase: HTTP 400 Bad Request: invalid_request: Invalid currency"},
		{name: "HTTP 429 stops the round", pairs: pairs,
			routes:  map[string]reply{btc: {429, ""}},
			wantErr: "coinbase: HTTP 429 Too Many Requests", requests: 1},
		{name: "HTTP 502 from a proxy", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {502, "coinbase_bad_gateway.html"}},
			wantErr: "coinbase: HTTP 502 Bad Gateway"},
		{name: "HTML with 200", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "coinbase_bad_gateway.html"}},
			wantErr: "coinbase: malformed response"},
	})
}

const binanceAll = `/api/v3/ticker/price?symbols=["BTCUSDT","ETHUSDT","USDCUSDT"]`

func TestBinance(t *testing.T) {
	btc := `/api/v3/ticker/price?symbols=["BTCUSDT"]`
	runExchangeCases(t, func(u string) Source { return NewBinance(u, nil) }, []exchangeCase{
		{name: "USD pairs are read and labelled as USDT", pairs: DefaultPairs(),
			routes: map[string]reply{binanceAll: {200, "binance_prices.json"}},
			want:   []string{"BTC/USDT 64392.23", "ETH/USDT 3452.17", "USDC/USDT 1.0001"}},
		{name: "missing symbols", pairs: DefaultPairs(),
			routes:  map[string]reply{binanceAll: {200, "binance_missing.json"}},
			want:    []string{"BTC/USDT 64392.23"},
			wantErr: "binance: no price for ETHUSDT, USDCUSDT"},
		{name: "negative price", pairs: []Pair{{"BTC", USD}, {"ETH", USD}},
			routes:  map[string]reply{`/api/v3/ticker/price?symbols=["BTCUSDT","ETHUSDT"]`: {200, "binance_negative.json"}},
			want:    []string{"ETH/USDT 3452.17"},
			wantErr: "binance: malformed response: BTCUSDT:"},
		{name: "an object, not a list", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "binance_object.json"}},
			wantErr: "binance: malformed response"},
		{name: "invalid symbol", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {400, "binance_invalid_symbol.json"}},
			wantErr: "binance: HTTP 400 Bad Request: Invalid symbol. (code -1121)"},
		{name: "HTTP 429", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {429, "binance_rate_limited.json"}},
			wantErr: "binance: HTTP 429 Too Many Requests: Too much request weight used"},
		{name: "HTTP 418, banned", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {418, ""}},
			wantErr: "binance: HTTP 418 I'm a teapot"},
		{name: "HTTP 500", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {500, ""}},
			wantErr: "binance: HTTP 500"},
		{name: "USDT/USD is not a Binance market", pairs: []Pair{{USDT, USD}, {USD, "CNY"}}, routes: map[string]reply{}},
	})
}

func TestOKX(t *testing.T) {
	const btc, eth, usdc = "/api/v5/market/ticker?instId=BTC-USDT", "/api/v5/market/ticker?instId=ETH-USDT", "/api/v5/market/ticker?instId=USDC-USDT"
	runExchangeCases(t, func(u string) Source { return NewOKX(u, nil) }, []exchangeCase{
		{name: "one request per instrument", pairs: DefaultPairs(),
			routes: map[string]reply{btc: {200, "okx_btc_usdt.json"}, eth: {200, "okx_eth_usdt.json"}, usdc: {200, "okx_usdc_usdt.json"}},
			want:   []string{"BTC/USDT 64392.25", "ETH/USDT 3452.16", "USDC/USDT 1.00015"}},
		{name: "an unknown instrument is skipped", pairs: DefaultPairs(),
			routes:  map[string]reply{btc: {200, "okx_no_instrument.json"}, eth: {200, "okx_eth_usdt.json"}, usdc: {200, "okx_usdc_usdt.json"}},
			want:    []string{"ETH/USDT 3452.16", "USDC/USDT 1.00015"},
			wantErr: "okx: BTC-USDT: Instrument ID does not exist (code 51001)"},
		{name: "HTTP 429 stops the round", pairs: DefaultPairs(),
			routes:  map[string]reply{btc: {429, "okx_rate_limited.json"}},
			wantErr: "okx: HTTP 429 Too Many Requests: BTC-USDT: Too Many Requests (code 50011)"},
		{name: "HTTP 500 stops the round", pairs: DefaultPairs(),
			routes:  map[string]reply{btc: {500, ""}},
			wantErr: "okx: HTTP 500"},
		{name: "empty ask", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "okx_empty_ask.json"}},
			wantErr: "okx: malformed response: BTC-USDT: ask:"},
		{name: "another instrument's ticker", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "okx_other_instrument.json"}},
			wantErr: "okx: no price for BTC-USDT"},
		{name: "not JSON", pairs: []Pair{{"BTC", USD}},
			routes:  map[string]reply{btc: {200, "coinbase_bad_gateway.html"}},
			wantErr: "okx: malformed response"},
	})
}

func TestOKXTimestamp(t *testing.T) {
	e := newExchange(t, map[string]reply{"/api/v5/market/ticker?instId=BTC-USDT": {200, "okx_btc_usdt.json"}})
	rates, err := NewOKX(e.URL, e.Client()).Fetch(t.Context(), []Pair{{"BTC", USD}})
	require.NoError(t, err)
	require.Len(t, rates, 1)
	require.Equal(t, time.UnixMilli(1718000000000).UTC(), rates[0].At)
}

// TestExchangeTransport covers what every adapter shares: a server that is
// gone, one that never answers, and a body too long to be a ticker.
func TestExchangeTransport(t *testing.T) {
	adapters := map[string]func(string) Source{
		"kraken":   func(u string) Source { return NewKraken(u, nil) },
		"coinbase": func(u string) Source { return NewCoinbase(u, nil) },
		"binance":  func(u string) Source { return NewBinance(u, nil) },
		"okx":      func(u string) Source { return NewOKX(u, nil) },
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"error":[],"result":"` + strings.Repeat("x", maxBody) + `"}`))
	}))
	t.Cleanup(huge.Close)
	for name, adapter := range adapters {
		for _, tc := range []struct {
			server  string
			url     string
			timeout time.Duration
			wantErr string
		}{
			{"gone", gone.URL, time.Minute, "connection refused"},
			{"hangs", hang.URL, 100 * time.Millisecond, "context deadline exceeded"},
			{"huge", huge.URL, time.Minute, "response longer than"},
		} {
			t.Run(name+"/"+tc.server, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
				defer cancel()
				rates, err := adapter(tc.url).Fetch(ctx, DefaultPairs())
				require.Error(t, err)
				require.Contains(t, err.Error(), name+": ")
				require.Contains(t, err.Error(), tc.wantErr)
				require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err))
				require.Empty(t, rates)
			})
		}
	}
}

// checkParsed holds for whatever a parser returns: positive rates of wanted
// markets only.
func checkParsed(t *testing.T, rates []Rate, want map[string]Pair, source string) {
	t.Helper()
	ok := make(map[Pair]bool)
	for _, p := range want {
		ok[p] = true
	}
	for _, r := range rates {
		if !ok[r.Pair()] || r.Value.IsZero() || r.Source != source {
			t.Fatalf("parsed %v from %s", r, source)
		}
	}
}

func FuzzKraken(f *testing.F) {
	seed(f, "kraken_")
	want := krakenMarkets.want(DefaultPairs())
	f.Fuzz(func(t *testing.T, body []byte) {
		rates, _ := parseKraken(200, body, want)
		checkParsed(t, rates, want, "kraken")
	})
}

func FuzzCoinbase(f *testing.F) {
	seed(f, "coinbase_")
	f.Fuzz(func(t *testing.T, body []byte) {
		rates, _ := parseCoinbase(200, body, "BTC", []string{USD, "CNY"})
		checkParsed(t, rates, map[string]Pair{"USD": {"BTC", USD}, "CNY": {"BTC", "CNY"}}, "coinbase")
	})
}

func FuzzBinance(f *testing.F) {
	seed(f, "binance_")
	want := binanceMarkets.want(DefaultPairs())
	f.Fuzz(func(t *testing.T, body []byte) {
		rates, _ := parseBinance(200, body, want)
		checkParsed(t, rates, want, "binance")
	})
}

func FuzzOKX(f *testing.F) {
	seed(f, "okx_")
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseOKX(200, body, "BTC-USDT", Pair{"BTC", USDT})
		if err == nil {
			checkParsed(t, []Rate{r}, map[string]Pair{"BTC-USDT": {"BTC", USDT}}, "okx")
		}
	})
}
