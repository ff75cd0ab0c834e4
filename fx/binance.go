package fx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// BinanceURL is the base URL of Binance's spot API.
const BinanceURL = "https://api.binance.com"

// binanceMarkets are the Binance spot markets we read. Binance has no USD
// markets: a wanted BTC/USD is read from BTCUSDT and reported as BTC/USDT.
var binanceMarkets = markets{
	{"BTC", USDT}: "BTCUSDT", {"ETH", USDT}: "ETHUSDT", {"USDC", USDT}: "USDCUSDT",
	{"BTC", "EUR"}: "BTCEUR", {"ETH", "EUR"}: "ETHEUR", {"EUR", USDT}: "EURUSDT",
}

// Binance reads Binance's latest prices, GET /api/v3/ticker/price?symbols=[…],
// one request for all pairs. Its rate is the last trade price, the only one
// this endpoint gives.
type Binance struct {
	base   string
	client *http.Client
}

// NewBinance returns a Binance source at baseURL (BinanceURL in production)
// using client (http.DefaultClient if nil).
func NewBinance(baseURL string, client *http.Client) *Binance {
	return &Binance{base: strings.TrimSuffix(baseURL, "/"), client: orDefault(client)}
}

// Name implements Source.
func (b *Binance) Name() string { return "binance" }

// Fetch implements Source.
func (b *Binance) Fetch(ctx context.Context, pairs []Pair) ([]Rate, error) {
	want := binanceMarkets.want(pairs)
	if len(want) == 0 {
		return nil, nil
	}
	symbols, _ := json.Marshal(sortedKeys(want)) // strings always marshal
	status, body, err := get(ctx, b.client, b.Name(), b.base+"/api/v3/ticker/price?"+url.Values{"symbols": {string(symbols)}}.Encode())
	if err != nil {
		return nil, err
	}
	return parseBinance(status, body, want)
}

// parseBinance reads a price response:
//
//	[{"symbol":"BTCUSDT","price":"64392.23000000"},…]
//
// Failures come with a 4xx or 5xx status (429 and 418 when rate limited):
//
//	{"code":-1121,"msg":"Invalid symbol."}
func parseBinance(status int, body []byte, want map[string]Pair) ([]Rate, error) {
	if status != http.StatusOK {
		var e struct {
			Code json.Number `json:"code"`
			Msg  string      `json:"msg"`
		}
		detail := ""
		if json.Unmarshal(body, &e) == nil && e.Msg != "" {
			detail = fmt.Sprintf("%s (code %s)", e.Msg, e.Code)
		}
		return nil, httpError("binance", status, detail)
	}
	var resp []struct {
		Symbol string          `json:"symbol"`
		Price  json.RawMessage `json:"price"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&resp); err != nil {
		return nil, malformed("binance", err)
	}
	got := make(map[string]json.RawMessage, len(resp))
	for _, t := range resp {
		got[t.Symbol] = t.Price
	}
	var rates []Rate
	var absent []string
	var bad []error
	for _, sym := range sortedKeys(want) {
		raw, ok := got[sym]
		if !ok {
			absent = append(absent, sym)
			continue
		}
		v, err := price(raw)
		if err != nil {
			bad = append(bad, malformed("binance", fmt.Errorf("%s: %w", sym, err)))
			continue
		}
		p := want[sym]
		rates = append(rates, Rate{Base: p.Base, Quote: p.Quote, Value: v, Source: "binance"})
	}
	return rates, partial("binance", absent, bad)
}
