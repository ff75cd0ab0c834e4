package fx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"chengdui"
)

// USDT is the stablecoin Binance and OKX quote in. Their BTC/USDT is
// reported as BTC/USDT, never relabelled BTC/USD: Rates turns it into USD
// only through a USDT/USD rate that some source actually quotes.
const USDT = "USDT"

// maxBody bounds an exchange's response; tickers are a few kilobytes.
const maxBody = 1 << 20

// markets maps the markets an exchange lists, each in its own direction, to
// the exchange's symbol for it.
type markets map[Pair]string

// route finds the market that prices a wanted pair: the pair itself, its
// inverse, or, for a USD quote, the base's USDT market. The market's own
// pair is returned so that the rate is labelled with what was traded.
func (m markets) route(p Pair) (market Pair, symbol string, ok bool) {
	candidates := []Pair{p, p.Inverse()}
	if p.Quote == USD && p.Base != USDT {
		candidates = append(candidates, Pair{Base: p.Base, Quote: USDT})
	}
	for _, c := range candidates {
		if s, ok := m[c]; ok {
			return c, s, true
		}
	}
	return Pair{}, "", false
}

// want maps the symbols of the markets that serve pairs to those markets.
func (m markets) want(pairs []Pair) map[string]Pair {
	want := make(map[string]Pair)
	for _, p := range pairs {
		if market, sym, ok := m.route(p); ok {
			want[sym] = market
		}
	}
	return want
}

// sortedKeys returns a map's keys in order, so that requests and results
// do not depend on map iteration.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// get fetches url and returns the status and body. Only transport failures
// and oversized bodies are errors here; each exchange reads its own status
// and error bodies.
func get(ctx context.Context, client *http.Client, source, url string) (status int, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, chengdui.Errorf(chengdui.EInvalid, "%s: bad request URL: %v", source, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "chengdui-fx")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, chengdui.Errorf(chengdui.EUnavailable, "%s: %v", source, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, chengdui.Errorf(chengdui.EUnavailable, "%s: reading the response: %v", source, err)
	}
	if len(body) > maxBody {
		return 0, nil, chengdui.Errorf(chengdui.EUnavailable, "%s: response longer than %d bytes", source, maxBody)
	}
	return resp.StatusCode, body, nil
}

// httpError reports a status other than 200 with the exchange's own
// explanation when it gave one.
func httpError(source string, status int, detail string) error {
	msg := fmt.Sprintf("%s: HTTP %d %s", source, status, http.StatusText(status))
	if detail = strings.TrimSpace(detail); detail != "" {
		msg += ": " + clipDetail(detail)
	}
	return chengdui.Errorf(chengdui.EUnavailable, "%s", msg)
}

// malformed reports a body that does not parse as the exchange documents.
func malformed(source string, err error) error {
	return chengdui.Errorf(chengdui.EUnavailable, "%s: malformed response: %s", source, clipDetail(err.Error()))
}

// clipDetail bounds what an exchange writes into our messages.
func clipDetail(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// price parses one price field, a JSON string or number, and requires it to
// be positive.
func price(raw json.RawMessage) (Decimal, error) {
	var d Decimal
	if err := json.Unmarshal(raw, &d); err != nil {
		return Decimal{}, err
	}
	if d.IsZero() {
		return Decimal{}, fmt.Errorf("price is zero")
	}
	return d, nil
}

// mid returns the midpoint of an order book's best ask and best bid.
func mid(ask, bid json.RawMessage) (Decimal, error) {
	a, err := price(ask)
	if err != nil {
		return Decimal{}, fmt.Errorf("ask: %w", err)
	}
	b, err := price(bid)
	if err != nil {
		return Decimal{}, fmt.Errorf("bid: %w", err)
	}
	return a.add(b).half(), nil
}

// partial reports the wanted markets a response left out and the prices it
// garbled, or returns nil when there are none.
func partial(source string, absent []string, bad []error) error {
	if len(absent) > 0 {
		bad = append(bad, chengdui.Errorf(chengdui.EUnavailable, "%s: no price for %s", source, strings.Join(absent, ", ")))
	}
	return errors.Join(bad...)
}
