package fx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"chengdui"
)

// CoinbaseURL is the base URL of Coinbase's public API.
const CoinbaseURL = "https://api.coinbase.com"

// Coinbase reads Coinbase's exchange rates, GET /v2/exchange-rates?currency=…,
// one request per base currency. Coinbase uses our symbols (BTC, USDT, CNY)
// and prices every pair directly, fiat ones included, so it is the source of
// USD/CNY, USD/EUR and USD/HKD. Its rate is Coinbase's own reference price.
type Coinbase struct {
	base   string
	client *http.Client
}

// NewCoinbase returns a Coinbase source at baseURL (CoinbaseURL in
// production) using client (http.DefaultClient if nil).
func NewCoinbase(baseURL string, client *http.Client) *Coinbase {
	return &Coinbase{base: strings.TrimSuffix(baseURL, "/"), client: orDefault(client)}
}

// Name implements Source.
func (c *Coinbase) Name() string { return "coinbase" }

// Fetch implements Source. It stops at the first failed request, since
// Coinbase refusing one currency usually means it refuses all.
func (c *Coinbase) Fetch(ctx context.Context, pairs []Pair) ([]Rate, error) {
	quotes := make(map[string][]string) // base → quotes
	for _, p := range pairs {
		if !slices.Contains(quotes[p.Base], p.Quote) {
			quotes[p.Base] = append(quotes[p.Base], p.Quote)
		}
	}
	var rates []Rate
	var errs []error
	for _, base := range sortedKeys(quotes) {
		status, body, err := get(ctx, c.client, c.Name(), c.base+"/v2/exchange-rates?currency="+url.QueryEscape(base))
		if err == nil {
			var rs []Rate
			rs, err = parseCoinbase(status, body, base, quotes[base])
			rates = append(rates, rs...)
		}
		if err != nil {
			errs = append(errs, err)
			if status != http.StatusOK {
				break
			}
		}
	}
	return rates, errors.Join(errs...)
}

// parseCoinbase reads an exchange-rates response, every rate being units of
// the listed currency per unit of base:
//
//	{"data":{"currency":"BTC","rates":{"USD":"64392.23","EUR":"59345.12",…}}}
//
// Failures come with a 4xx or 5xx status:
//
//	{"errors":[{"id":"invalid_request","message":"Invalid currency"}]}
func parseCoinbase(status int, body []byte, base string, quotes []string) ([]Rate, error) {
	var resp struct {
		Data struct {
			Currency string                     `json:"currency"`
			Rates    map[string]json.RawMessage `json:"rates"`
		} `json:"data"`
		Errors []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&resp)
	var msgs []string
	for _, e := range resp.Errors {
		msgs = append(msgs, e.ID+": "+e.Message)
	}
	switch {
	case status != http.StatusOK:
		return nil, httpError("coinbase", status, strings.Join(msgs, "; "))
	case err != nil:
		return nil, malformed("coinbase", err)
	case len(msgs) > 0:
		return nil, chengdui.Errorf(chengdui.EUnavailable, "coinbase: %s", clipDetail(strings.Join(msgs, "; ")))
	case resp.Data.Currency != base:
		return nil, malformed("coinbase", fmt.Errorf("rates of %q, not of %s", clipDetail(resp.Data.Currency), base))
	}
	var rates []Rate
	var absent []string
	var bad []error
	for _, q := range quotes {
		raw, ok := resp.Data.Rates[q]
		if !ok {
			absent = append(absent, base+"/"+q)
			continue
		}
		v, err := price(raw)
		if err != nil {
			bad = append(bad, malformed("coinbase", fmt.Errorf("%s/%s: %w", base, q, err)))
			continue
		}
		rates = append(rates, Rate{Base: base, Quote: q, Value: v, Source: "coinbase"})
	}
	return rates, partial("coinbase", absent, bad)
}
