package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"chengdui"
	"chengdui/rail"
)

// Client is the platform's side of the sandbox bank: a rail.Rail over its
// HTTP API. It does not retry; Submit is idempotent, so callers retry
// after EUnavailable with the same order. Client is safe for concurrent
// use.
type Client struct {
	base   string
	apiKey string
	hc     *http.Client
}

// NewClient returns a client of the bank at baseURL ("http://127.0.0.1:8089")
// authenticating with apiKey as a bearer token. hc nil means
// http.DefaultClient; give it a timeout.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), apiKey: apiKey, hc: hc}
}

var _ rail.Rail = (*Client)(nil)

// Name returns "sandbox".
func (c *Client) Name() string { return "sandbox" }

// Currencies returns CNY, EUR and USD.
func (c *Client) Currencies() []string { return append([]string(nil), currencies...) }

// Submit sends o to the bank with o.ID as Idempotency-Key and returns the
// bank reference; it validates o first and sends nothing when it is bad.
// Codes: see rail.Rail.Submit; the bank's own codes pass through.
func (c *Client) Submit(ctx context.Context, o rail.Order) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(orderRequest{Currency: o.Currency, Amount: chengdui.FormatDecimal(o.Amount, o.Decimals),
		Creditor: o.Creditor, Reference: o.Reference})
	if err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "sandbox: encoding order %s: %v", o.ID, err)
	}
	var v orderView
	if err := c.do(ctx, http.MethodPost, "/v1/payment-orders", map[string]string{"Idempotency-Key": o.ID}, body, &v); err != nil {
		return "", err
	}
	return v.BankRef, nil
}

// Status returns an order's latest update. Codes: ENotFound;
// EUnavailable; EUnauthorized.
func (c *Client) Status(ctx context.Context, orderID string) (rail.Update, error) {
	var v orderView
	if err := c.do(ctx, http.MethodGet, "/v1/payment-orders/"+url.PathEscape(orderID), nil, nil, &v); err != nil {
		return rail.Update{}, err
	}
	return v.update(), nil
}

// Return asks the bank to return a completed payment, as the creditor's
// bank would (for tests and operators); reason "" gives ReasonReturned.
// The Returned callback follows. Codes: ENotFound; EConflict for an order
// that is not Completed; EInvalid for a bad reason.
func (c *Client) Return(ctx context.Context, orderID, reason string) (rail.Update, error) {
	body, _ := json.Marshal(map[string]string{"reason": reason})
	var v orderView
	if err := c.do(ctx, http.MethodPost, "/v1/payment-orders/"+url.PathEscape(orderID)+"/return", nil, body, &v); err != nil {
		return rail.Update{}, err
	}
	return v.update(), nil
}

// Statement returns an account's entries with Seq above after (0: all),
// for reconciliation. Account ids: OperatingAccountID, AccountID.
// Codes: ENotFound; EInvalid for a negative after.
func (c *Client) Statement(ctx context.Context, accountID string, after int64) (Statement, error) {
	path := fmt.Sprintf("/v1/accounts/%s/statement?after=%d", url.PathEscape(accountID), after)
	var w statementJSON
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &w); err != nil {
		return Statement{}, err
	}
	d, ok := rail.CurrencyDecimals(w.Currency)
	if !ok {
		return Statement{}, chengdui.Errorf(chengdui.EUnavailable, "sandbox bank: statement in unknown currency %q", clip(w.Currency))
	}
	s := Statement{AccountID: w.AccountID, Currency: w.Currency, Decimals: d, Name: w.Name, IBAN: w.IBAN}
	var err error
	amount := func(x string) chengdui.Amount {
		a, e := chengdui.ParseDecimal(x, d)
		if e != nil && err == nil {
			err = chengdui.Errorf(chengdui.EUnavailable, "sandbox bank: bad amount in statement: %s", chengdui.ErrorMessage(e))
		}
		return a
	}
	s.Opening, s.Balance = amount(w.Opening), amount(w.Balance)
	for _, e := range w.Entries {
		s.Entries = append(s.Entries, Entry{Seq: e.Seq, BookedAt: e.BookedAt, ValueDate: e.ValueDate, Kind: e.Kind, Direction: e.Direction,
			Amount: amount(e.Amount), Balance: amount(e.Balance), OrderID: e.OrderID, BankRef: e.BankRef,
			Reference: e.Reference, Counterparty: e.Counterparty})
	}
	if err != nil {
		return Statement{}, err
	}
	return s, nil
}

// do sends a request and decodes a 2xx JSON answer into out. The bank's
// JSON errors keep their code; other failures are EUnavailable.
func (c *Client) do(ctx context.Context, method, path string, header map[string]string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return chengdui.Errorf(chengdui.EInvalid, "sandbox: bad request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return chengdui.Errorf(chengdui.EUnavailable, "sandbox bank unreachable: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return chengdui.Errorf(chengdui.EUnavailable, "sandbox bank: reading the answer: %v", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if err := json.Unmarshal(data, out); err != nil {
			return chengdui.Errorf(chengdui.EUnavailable, "sandbox bank: unreadable answer to %s %s", method, path)
		}
		return nil
	}
	var e errorJSON
	if resp.StatusCode < 500 && json.Unmarshal(data, &e) == nil && e.Code != "" {
		return chengdui.Errorf(e.Code, "sandbox bank: %s", e.Message)
	}
	return chengdui.Errorf(chengdui.EUnavailable, "sandbox bank answered %s to %s %s", resp.Status, method, path)
}
