package fx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"chengdui"
)

// KrakenURL is the base URL of Kraken's public REST API.
const KrakenURL = "https://api.kraken.com"

// krakenMarkets are the Kraken pairs we read, under the names Kraken keys
// its results by.
var krakenMarkets = markets{
	{"BTC", USD}: "XXBTZUSD", {"ETH", USD}: "XETHZUSD",
	{USDT, USD}: "USDTZUSD", {"USDC", USD}: "USDCUSD",
	{"BTC", "EUR"}: "XXBTZEUR", {"ETH", "EUR"}: "XETHZEUR",
	{"EUR", USD}: "ZEURZUSD",
}

// Kraken reads Kraken's public ticker, GET /0/public/Ticker?pair=….
//
// Its rate is the midpoint of the best ask a[0] and best bid b[0], not the
// last trade c[0]: the book is current even when a thin pair (USDC/USD) has
// not traded for a while. Kraken has no CNY or HKD markets.
type Kraken struct {
	base   string
	client *http.Client
}

// NewKraken returns a Kraken source at baseURL (KrakenURL in production) using
// client (http.DefaultClient if nil).
func NewKraken(baseURL string, client *http.Client) *Kraken {
	return &Kraken{base: strings.TrimSuffix(baseURL, "/"), client: orDefault(client)}
}

// Name implements Source.
func (k *Kraken) Name() string { return "kraken" }

// Fetch implements Source with one request for all pairs.
func (k *Kraken) Fetch(ctx context.Context, pairs []Pair) ([]Rate, error) {
	want := krakenMarkets.want(pairs)
	if len(want) == 0 {
		return nil, nil
	}
	status, body, err := get(ctx, k.client, k.Name(), k.base+"/0/public/Ticker?pair="+strings.Join(sortedKeys(want), ","))
	if err != nil {
		return nil, err
	}
	return parseKraken(status, body, want)
}

// parseKraken reads a ticker response:
//
//	{"error":[],"result":{"XXBTZUSD":{"a":["64392.30000","1","1.000"],"b":["64392.20000","2","2.000"],"c":[…],…}}}
//
// Kraken reports failures in "error" ("EQuery:Unknown asset pair",
// "EGeneral:Too many requests"), usually with HTTP 200.
func parseKraken(status int, body []byte, want map[string]Pair) ([]Rate, error) {
	var resp struct {
		Error  []string `json:"error"`
		Result map[string]struct {
			Ask []json.RawMessage `json:"a"`
			Bid []json.RawMessage `json:"b"`
		} `json:"result"`
	}
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&resp)
	var errs []string
	for _, e := range resp.Error {
		if strings.HasPrefix(e, "E") { // W… are warnings
			errs = append(errs, e)
		}
	}
	switch {
	case status != http.StatusOK:
		return nil, httpError("kraken", status, strings.Join(errs, "; "))
	case err != nil:
		return nil, malformed("kraken", err)
	case len(errs) > 0:
		return nil, chengdui.Errorf(chengdui.EUnavailable, "kraken: %s", clipDetail(strings.Join(errs, "; ")))
	}
	var rates []Rate
	var absent []string
	var bad []error
	for _, sym := range sortedKeys(want) {
		t, ok := resp.Result[sym]
		if !ok || len(t.Ask) == 0 || len(t.Bid) == 0 {
			absent = append(absent, sym)
			continue
		}
		v, err := mid(t.Ask[0], t.Bid[0])
		if err != nil {
			bad = append(bad, malformed("kraken", fmt.Errorf("%s: %w", sym, err)))
			continue
		}
		p := want[sym]
		rates = append(rates, Rate{Base: p.Base, Quote: p.Quote, Value: v, Source: "kraken"})
	}
	return rates, partial("kraken", absent, bad)
}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}
