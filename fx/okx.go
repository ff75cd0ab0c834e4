package fx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chengdui"
)

// OKXURL is the base URL of OKX's REST API.
const OKXURL = "https://www.okx.com"

// okxMarkets are the OKX spot instruments we read. Like Binance, OKX prices
// crypto in USDT, and its rates say so.
var okxMarkets = markets{
	{"BTC", USDT}: "BTC-USDT", {"ETH", USDT}: "ETH-USDT", {"USDC", USDT}: "USDC-USDT",
	{"BTC", "EUR"}: "BTC-EUR", {"ETH", "EUR"}: "ETH-EUR",
}

// OKX reads OKX's ticker, GET /api/v5/market/ticker?instId=…, one request
// per instrument. Its rate is the midpoint of the best ask and bid (askPx,
// bidPx), observed at the ticker's own timestamp ts.
type OKX struct {
	base   string
	client *http.Client
}

// NewOKX returns an OKX source at baseURL (OKXURL in production) using client
// (http.DefaultClient if nil).
func NewOKX(baseURL string, client *http.Client) *OKX {
	return &OKX{base: strings.TrimSuffix(baseURL, "/"), client: orDefault(client)}
}

// Name implements Source.
func (o *OKX) Name() string { return "okx" }

// Fetch implements Source. An instrument OKX refuses is skipped; rate
// limiting, server errors and transport failures stop the round.
func (o *OKX) Fetch(ctx context.Context, pairs []Pair) ([]Rate, error) {
	want := okxMarkets.want(pairs)
	var rates []Rate
	var errs []error
	for _, inst := range sortedKeys(want) {
		status, body, err := get(ctx, o.client, o.Name(), o.base+"/api/v5/market/ticker?instId="+url.QueryEscape(inst))
		if err != nil {
			errs = append(errs, err)
			break
		}
		r, err := parseOKX(status, body, inst, want[inst])
		if err != nil {
			errs = append(errs, err)
			if status == http.StatusTooManyRequests || status >= 500 {
				break
			}
			continue
		}
		rates = append(rates, r)
	}
	return rates, errors.Join(errs...)
}

// parseOKX reads a ticker response; "code" is "0" on success:
//
//	{"code":"0","msg":"","data":[{"instId":"BTC-USDT","last":"64392.2","askPx":"64392.3","bidPx":"64392.2","ts":"1718000000000",…}]}
//	{"code":"51001","msg":"Instrument ID does not exist","data":[]}
func parseOKX(status int, body []byte, inst string, market Pair) (Rate, error) {
	var resp struct {
		Code json.Number `json:"code"`
		Msg  string      `json:"msg"`
		Data []struct {
			InstID string          `json:"instId"`
			Ask    json.RawMessage `json:"askPx"`
			Bid    json.RawMessage `json:"bidPx"`
			TS     json.Number     `json:"ts"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&resp)
	detail := ""
	if resp.Msg != "" || resp.Code != "" {
		detail = fmt.Sprintf("%s: %s (code %s)", inst, resp.Msg, resp.Code)
	}
	switch {
	case status != http.StatusOK:
		return Rate{}, httpError("okx", status, detail)
	case err != nil:
		return Rate{}, malformed("okx", err)
	case resp.Code != "0":
		return Rate{}, chengdui.Errorf(chengdui.EUnavailable, "okx: %s", clipDetail(detail))
	case len(resp.Data) == 0 || resp.Data[0].InstID != inst:
		return Rate{}, partial("okx", []string{inst}, nil)
	}
	t := resp.Data[0]
	v, err := mid(t.Ask, t.Bid)
	if err != nil {
		return Rate{}, malformed("okx", fmt.Errorf("%s: %w", inst, err))
	}
	return Rate{Base: market.Base, Quote: market.Quote, Value: v, Source: "okx", At: unixMilli(t.TS)}, nil
}

// unixMilli parses a millisecond timestamp; the zero time for anything else.
func unixMilli(ms json.Number) time.Time {
	n, err := ms.Int64()
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}
