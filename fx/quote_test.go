package fx

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
	"pgregory.net/rapid"
)

func devRates(t testing.TB, c *clock) *Rates {
	t.Helper()
	fixed, err := NewFixed(DevRates())
	require.NoError(t, err)
	r := newRates(t, c, Config{}, fixed)
	require.NoError(t, r.Refresh(t.Context()))
	return r
}

func TestQuote(t *testing.T) {
	c := newClock()
	r := devRates(t, c)
	fixed := []string{"fixed"}
	for _, tc := range []struct {
		name            string
		req             QuoteRequest
		rate, effective string
		due             string
		ttl             time.Duration
		sources         []string
	}{
		{name: "100 CNY in BTC at the mid rate",
			req:  QuoteRequest{Price: amount(t, "10000"), Currency: "CNY", CurrencyDecimals: 2, Asset: "BTC", AssetDecimals: 8},
			rate: "432000", effective: "432000", due: "23148", ttl: DefaultTTL, sources: fixed},
		{name: "a 0.5 % spread: the payer pays more",
			req:  QuoteRequest{Price: amount(t, "10000"), Currency: "CNY", CurrencyDecimals: 2, Asset: "BTC", AssetDecimals: 8, SpreadBps: 50},
			rate: "432000", effective: "429840", due: "23264", ttl: DefaultTTL, sources: fixed},
		{name: "100 USD in USDT-ERC20 with spread",
			req:  QuoteRequest{Price: amount(t, "10000"), Currency: "USD", CurrencyDecimals: 2, Asset: "USDT-ERC20", AssetDecimals: 6, SpreadBps: 50, TTL: 5 * time.Minute},
			rate: "1", effective: "0.995", due: "100502512", ttl: 5 * time.Minute, sources: fixed},
		{name: "99.99 HKD in ETH",
			req:  QuoteRequest{Price: amount(t, "9999"), Currency: "HKD", CurrencyDecimals: 2, Asset: "ETH", AssetDecimals: 18, SpreadBps: 100},
			rate: "23400", effective: "23166", due: "4316239316239316", ttl: DefaultTTL, sources: fixed},
		{name: "USDC priced in USDC: no source needed",
			req:  QuoteRequest{Price: amount(t, "1500000"), Currency: "USDC", CurrencyDecimals: 6, Asset: "USDC-ERC20", AssetDecimals: 6, SpreadBps: 0},
			rate: "1", effective: "1", due: "1500000", ttl: DefaultTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := r.Quote(tc.req)
			require.NoError(t, err)
			require.Equal(t, Quote{
				Asset: tc.req.Asset, Currency: tc.req.Currency, Rate: tc.rate, EffectiveRate: tc.effective,
				Sources: tc.sources, SpreadBps: tc.req.SpreadBps, Price: tc.req.Price, Due: amount(t, tc.due),
				CreatedAt: c.Now(), ExpiresAt: c.Now().Add(tc.ttl),
			}, q)
		})
	}
}

func TestQuoteRefuses(t *testing.T) {
	c := newClock()
	r := devRates(t, c)
	ok := QuoteRequest{Price: amount(t, "10000"), Currency: "CNY", CurrencyDecimals: 2, Asset: "BTC", AssetDecimals: 8}
	for _, tc := range []struct {
		name    string
		edit    func(*QuoteRequest)
		code    string
		message string
	}{
		{"zero price", func(q *QuoteRequest) { q.Price = uint128.Zero }, chengdui.EInvalid, "price is zero"},
		{"unknown asset", func(q *QuoteRequest) { q.Asset = "DOGE" }, chengdui.EInvalid, "no rate for DOGE/CNY"},
		{"malformed asset", func(q *QuoteRequest) { q.Asset = "btc" }, chengdui.EInvalid, "not an asset or currency code"},
		{"untracked currency", func(q *QuoteRequest) { q.Currency = "JPY" }, chengdui.EInvalid, "no rate for BTC/JPY"},
		{"no currency", func(q *QuoteRequest) { q.Currency = "" }, chengdui.EInvalid, "not an asset or currency code"},
		{"spread of 100 %", func(q *QuoteRequest) { q.SpreadBps = 10000 }, chengdui.EInvalid, "spread of 10000 basis points"},
		{"negative TTL", func(q *QuoteRequest) { q.TTL = -time.Second }, chengdui.EInvalid, "negative"},
		{"asset decimals", func(q *QuoteRequest) { q.AssetDecimals = 39 }, chengdui.EInvalid, "decimals"},
		{"currency decimals", func(q *QuoteRequest) { q.CurrencyDecimals = 39 }, chengdui.EInvalid, "decimals"},
		{"less than a unit", func(q *QuoteRequest) { q.Price = uint128.From64(1); q.AssetDecimals = 0 },
			chengdui.EInvalid, "a price of 0.01 CNY is less than one smallest unit of BTC"},
		{"overflow", func(q *QuoteRequest) {
			q.Price = uint128.Max
			q.CurrencyDecimals = 0
			q.Asset = "USDT"
			q.Currency = USD
		},
			chengdui.EOverflow, "overflows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := ok
			tc.edit(&req)
			_, err := r.Quote(req)
			require.Error(t, err)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), tc.message)
		})
	}

	c.advance(DefaultMaxAge + time.Second)
	_, err := r.Quote(ok)
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err), "no quote on stale rates: %v", err)
}

// TestQuoteProperties: Due recomputes from EffectiveRate, the spread never
// lowers what the payer owes, and Due is within one unit of the exact
// amount at EffectiveRate.
func TestQuoteProperties(t *testing.T) {
	c := newClock()
	r := devRates(t, c)
	assets := []string{"BTC", "ETH", "USDT-ERC20", "USDC-ERC20"}
	currencies := []string{USD, "CNY", "EUR", "HKD"}
	rapid.Check(t, func(t *rapid.T) {
		req := QuoteRequest{
			Price:            uint128.From64(rapid.Uint64Range(1, 1<<50).Draw(t, "price")),
			Currency:         rapid.SampledFrom(currencies).Draw(t, "currency"),
			CurrencyDecimals: uint8(rapid.IntRange(0, 4).Draw(t, "currency decimals")),
			Asset:            rapid.SampledFrom(assets).Draw(t, "asset"),
			AssetDecimals:    uint8(rapid.IntRange(6, 18).Draw(t, "asset decimals")),
			SpreadBps:        uint32(rapid.IntRange(0, 500).Draw(t, "spread")),
		}
		q, err := r.Quote(req)
		if err != nil {
			if chengdui.ErrorCode(err) == chengdui.EInvalid && strings.Contains(err.Error(), "less than one smallest unit") {
				return
			}
			t.Fatalf("Quote(%+v): %v", req, err)
		}
		effective, err := ParseDecimal(q.EffectiveRate)
		if err != nil {
			t.Fatalf("effective rate %q: %v", q.EffectiveRate, err)
		}
		again, err := Convert(q.Price, req.CurrencyDecimals, effective, req.AssetDecimals)
		if err != nil || again != q.Due {
			t.Fatalf("Convert at %s gives %s, %v; the quote says %s", q.EffectiveRate, again, err, q.Due)
		}
		mid, err := ParseDecimal(q.Rate)
		if err != nil {
			t.Fatalf("rate %q: %v", q.Rate, err)
		}
		atMid, err := Convert(q.Price, req.CurrencyDecimals, mid, req.AssetDecimals)
		if err != nil || atMid.Cmp(q.Due) > 0 {
			t.Fatalf("at the mid rate %s the payer would owe %s, more than %s with the spread", q.Rate, atMid, q.Due)
		}
		// exact = price / effective rate, in smallest asset units.
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(q.Price.Big(), pow10(int(req.AssetDecimals))), pow10(int(req.CurrencyDecimals)))
		exact.Quo(exact, effective.rat())
		due := new(big.Rat).SetInt(q.Due.Big())
		if due.Cmp(exact) > 0 || due.Add(due, big.NewRat(1, 1)).Cmp(exact) <= 0 {
			t.Fatalf("due %s is not the floor of %s", q.Due, exact.FloatString(6))
		}
		back, err := ConvertBack(q.Due, req.AssetDecimals, effective, req.CurrencyDecimals)
		if err != nil || back.Cmp(q.Price) > 0 {
			t.Fatalf("%s converts back to %s, more than the price %s", q.Due, back, q.Price)
		}
	})
}

func TestFixed(t *testing.T) {
	f, err := NewFixed(map[string]string{"BTC/USD": "60000", "USD/CNY": "7.2", "USDT-ERC20/USD": "1"})
	require.NoError(t, err)
	rates, err := f.Fetch(t.Context(), []Pair{{"BTC", USD}, {"CNY", USD}, {USDT, USD}, {"ETH", USD}, {USD, "BTC"}})
	require.NoError(t, err)
	require.Equal(t, []string{"BTC/USD 60000", "USD/CNY 7.2", "USDT/USD 1"}, rateStrings(rates), "each rate once, in the table's direction")
	for _, r := range rates {
		require.Equal(t, "fixed", r.Source)
		require.True(t, r.At.IsZero(), "Rates dates fixed rates when it fetches them")
	}

	for _, tc := range []struct {
		name    string
		table   map[string]string
		message string
	}{
		{"no slash", map[string]string{"BTCUSD": "1"}, `pair "BTCUSD" is not BASE/QUOTE`},
		{"lower case", map[string]string{"btc/USD": "1"}, `"btc" is not an asset or currency code`},
		{"zero", map[string]string{"BTC/USD": "0"}, "rate of BTC/USD is zero"},
		{"negative", map[string]string{"BTC/USD": "-1"}, "rate of BTC/USD:"},
		{"float syntax", map[string]string{"BTC/USD": "6e4.5"}, "rate of BTC/USD:"},
		{"twice", map[string]string{"USDT/USD": "1", "USDT-ERC20/USD": "1"}, "rate of USDT/USD is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFixed(tc.table)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			require.Contains(t, chengdui.ErrorMessage(err), tc.message)
		})
	}
}
