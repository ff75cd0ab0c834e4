package http_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/merchant"
	"chengdui/payout"
	"chengdui/settle"
	"chengdui/statement"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// stmtHarness is a Server whose invoices are converted (1 % fee, 0.5 %
// spread) into the store's currency, CNY for store-1.
type stmtHarness struct {
	*merchantHarness
	doc *openapi3.T
}

func newStmtHarness(t *testing.T) *stmtHarness {
	t.Helper()
	h := invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: 100})
		cfg.SpreadBps = 50
	})
	ctx := context.Background()
	require.NoError(t, h.DB.CreateStore(ctx, chengdui.Store{ID: otherStore, OwnerID: h.Owner, Name: "Other", DefaultCurrency: "USD",
		Settlement: chengdui.StoreSettlement{Mode: "balance"}, CreatedAt: h.Now()}))
	for _, a := range []chengdui.Account{{ID: "platform:CNY:capital", Asset: "CNY"},
		{ID: settle.Inventory("CNY"), Asset: "CNY", Flags: chengdui.DebitsMustNotExceedCredits}, {ID: "platform:CNY:payouts", Asset: "CNY"}} {
		_, err := h.Ledger.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	stmtTransfer(t, h, chengdui.Transfer{ID: "fund:CNY", DebitAccountID: "platform:CNY:capital", CreditAccountID: settle.Inventory("CNY"),
		Amount: stmtUnits(t, "100000", 2), Code: 1})
	srv := httptest.NewServer(chttp.NewServer(chttp.Config{Ledger: h.Ledger, Store: h.DB,
		Merchants: merchant.New(h.DB, merchant.Config{}), Invoices: h.Invoices, Idempotency: h.DB}).Handler())
	t.Cleanup(srv.Close)
	m := &stmtHarness{merchantHarness: &merchantHarness{Harness: h, url: srv.URL}}
	status, _, body := m.do(t, "GET", "/api/openapi.yaml", "", "")
	require.Equal(t, 200, status)
	doc, err := openapi3.NewLoader().LoadFromData(body)
	require.NoError(t, err)
	m.doc = doc
	return m
}

func stmtUnits(t testing.TB, s string, dec uint8) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseDecimal(s, dec)
	require.NoError(t, err)
	return a
}

func stmtTransfer(t *testing.T, h *invoicetest.Harness, tr chengdui.Transfer) {
	t.Helper()
	res, err := h.Ledger.CreateTransfers(context.Background(), []chengdui.Transfer{tr})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

// stmtMark is an instant strictly between the ledger's stamps before and
// after it.
func stmtMark() time.Time {
	time.Sleep(3 * time.Millisecond)
	m := time.Now().UTC()
	time.Sleep(3 * time.Millisecond)
	return m
}

// valid checks a JSON body against a schema of the served OpenAPI
// document.
func (m *stmtHarness) valid(t *testing.T, schema string, body []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	ref := m.doc.Components.Schemas[schema]
	require.NotNil(t, ref, schema)
	require.NoError(t, ref.Value.VisitJSON(v), "%s: %s", schema, body)
}

// paid pays a 72.00 CNY invoice in USDT on chain, then a 100.00 CNY one
// from the payer's BTC balance, between marks.
func (m *stmtHarness) paid(t *testing.T) (t0, t1, t2 time.Time) {
	ctx := context.Background()
	a, err := m.Invoices.Create(ctx, invoice.CreateRequest{StoreID: m.StoreID, Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	b, err := m.Invoices.Create(ctx, invoice.CreateRequest{StoreID: m.StoreID, Amount: "100.00", Currency: "CNY"})
	require.NoError(t, err)
	t0 = stmtMark()
	q, _ := a.Quote("USDT-ERC20")
	m.Pay(t, a, invoice.MethodUSDT, q.Due, "0xa", 10, 10)
	t1 = stmtMark()
	_, err = m.Invoices.PayFromBalance(ctx, m.Payer, b.ID, "BTC")
	require.NoError(t, err)
	t2 = stmtMark()
	return t0, t1, t2
}

func TestStoreBalancesAPI(t *testing.T) {
	m := newStmtHarness(t)
	read := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	path := "/api/v1/stores/" + m.StoreID + "/balances"

	status, hdr, body := m.do(t, "GET", path, read, "")
	require.Equal(t, 200, status, "%s", body)
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	require.JSONEq(t, `{"store_id":"store-1","balances":[]}`, string(body), "nothing paid yet")

	m.paid(t)
	cny := invoice.StoreAccount(m.StoreID, "CNY")
	stmtTransfer(t, m.Harness, chengdui.Transfer{ID: "po:po-1:hold", DebitAccountID: cny, CreditAccountID: "platform:CNY:payouts",
		Amount: stmtUnits(t, "20", 2), Code: payout.CodePayout, Flags: chengdui.Pending})
	status, _, body = m.do(t, "GET", path, read, "")
	require.Equal(t, 200, status, "%s", body)
	// 71.28 + 99.00 credited; a payout holds 20.00 of it.
	require.JSONEq(t, `{"store_id":"store-1","balances":[{"asset":"CNY","decimals":2,
		"available":{"amount":"150.28","units":"15028"},"on_hold":{"amount":"20.00","units":"2000"},
		"total":{"amount":"170.28","units":"17028"}}]}`, string(body))
	m.valid(t, "StoreBalances", body)

	for _, c := range []struct {
		name, auth, path string
		status           int
		code             string
	}{
		{"no key", "", path, 401, "unauthorized"},
		{"a malformed key", "token nope", path, 401, "unauthorized"},
		{"another store's key", m.key(t, otherStore, auth.ScopeInvoiceRead), path, 403, "forbidden"},
		{"another store's path", read, "/api/v1/stores/" + otherStore + "/balances", 403, "forbidden"},
		{"a key without invoice:read", m.key(t, m.StoreID, auth.ScopeWebhookManage, auth.ScopeInvoiceCreate), path, 403, "forbidden"},
		{"invoice:write implies read", m.key(t, m.StoreID, auth.ScopeInvoiceWrite), path, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := m.do(t, "GET", c.path, c.auth, "")
			require.Equal(t, c.status, status, "%s", body)
			if c.code != "" {
				require.Equal(t, c.code, decodeAs[map[string]any](t, body)["code"])
				m.valid(t, "Error", body)
			}
		})
	}
}

func TestStatementAPI(t *testing.T) {
	m := newStmtHarness(t)
	read := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	t0, t1, t2 := m.paid(t)
	ctx := context.Background()
	src := statementSource{Ledger: m.Ledger, assets: m.DB}
	get := func(t *testing.T, query url.Values) (int, []byte) {
		t.Helper()
		status, _, body := m.do(t, "GET", "/api/v1/stores/"+m.StoreID+"/statement?"+query.Encode(), read, "")
		return status, body
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }

	// The period of A alone, then both.
	status, body := get(t, url.Values{"from": {rfc(t0)}, "to": {rfc(t1)}})
	require.Equal(t, 200, status, "%s", body)
	m.valid(t, "Statement", body)
	doc := decodeAs[stmtDoc](t, body)
	require.Equal(t, rfc(t0), doc.From)
	require.Equal(t, rfc(t1), doc.To)
	require.Len(t, doc.Assets, 1)
	c := doc.Assets[0]
	require.Equal(t, "CNY", c.Asset)
	require.Equal(t, stmtMoney{"0.00", "0"}, c.Opening)
	require.Equal(t, stmtMoney{"71.28", "7128"}, c.Closing)
	require.Len(t, c.Lines, 1)
	require.Equal(t, "conversion", c.Lines[0].Kind)
	require.Equal(t, stmtMoney{"72.36", "7236"}, pay(t, c.Lines[0].Payment, "gross"))
	require.Equal(t, stmtMoney{"0.72", "72"}, pay(t, c.Lines[0].Payment, "fee"))
	require.Equal(t, stmtMoney{"0.36", "36"}, pay(t, c.Lines[0].Payment, "spread"))
	require.Equal(t, stmtMoney{"71.28", "7128"}, pay(t, c.Lines[0].Payment, "net"))
	require.Equal(t, stmtMoney{"10.050251", "10050251"}, pay(t, c.Lines[0].Payment, "paid"))

	status, body = get(t, url.Values{"from": {rfc(t1)}, "to": {rfc(t2)}, "format": {"json"}})
	require.Equal(t, 200, status, "%s", body)
	c = decodeAs[stmtDoc](t, body).Assets[0]
	require.Equal(t, stmtMoney{"71.28", "7128"}, c.Opening)
	require.Equal(t, stmtMoney{"170.28", "17028"}, c.Closing)
	require.Equal(t, map[string]stmtMoney{"gross": {"100.50", "10050"}, "fees": {"1.00", "100"}, "spreads": {"0.50", "50"}, "net": {"99.00", "9900"},
		"payouts": {"0.00", "0"}, "payout_returns": {"0.00", "0"}, "other_credits": {"0.00", "0"}, "other_debits": {"0.00", "0"},
		"credits": {"99.00", "9900"}, "debits": {"0.00", "0"}}, c.Totals)
	require.Equal(t, "true", string(c.Lines[0].Payment["paid_from_balance"]))
	require.NotContains(t, string(body), m.Payer)

	// The body is the statement package's, byte for byte.
	st, err := statement.Build(ctx, src, m.StoreID, t1, t2)
	require.NoError(t, err)
	want, err := json.Marshal(st)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(body))

	// Unix seconds.
	from, to := t0.Unix()-5, t2.Unix()+1
	time.Sleep(time.Until(time.Unix(to, 0)) + time.Millisecond) // a to after now would be now
	status, body = get(t, url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}})
	require.Equal(t, 200, status, "%s", body)
	doc = decodeAs[stmtDoc](t, body)
	require.Equal(t, rfc(time.Unix(from, 0).UTC()), doc.From)
	require.Equal(t, rfc(time.Unix(to, 0).UTC()), doc.To)
	require.Equal(t, stmtMoney{"170.28", "17028"}, doc.Assets[0].Closing)

	// By default, the current month to date.
	before := time.Now().UTC()
	status, body = get(t, url.Values{})
	after := time.Now().UTC()
	require.Equal(t, 200, status, "%s", body)
	doc = decodeAs[stmtDoc](t, body)
	end, err := time.Parse(time.RFC3339Nano, doc.To)
	require.NoError(t, err)
	require.True(t, !end.Before(before) && !end.After(after), "to is now: %s", end)
	last := end.Add(-time.Nanosecond)
	require.Equal(t, rfc(time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)), doc.From)
	start, _ := time.Parse(time.RFC3339Nano, doc.From)
	st, err = statement.Build(ctx, src, m.StoreID, start, end)
	require.NoError(t, err)
	want, err = json.Marshal(st)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(body))

	// Dates: the day of the payments, whole.
	day := t0.Format(time.DateOnly)
	status, body = get(t, url.Values{"from": {day}, "to": {day}})
	require.Equal(t, 200, status, "%s", body)
	doc = decodeAs[stmtDoc](t, body)
	require.Equal(t, day+"T00:00:00Z", doc.From)

	// CSV.
	status, hdr, body := m.do(t, "GET", "/api/v1/stores/"+m.StoreID+"/statement?"+url.Values{"from": {rfc(t0)}, "to": {rfc(t2)}, "format": {"csv"}}.Encode(), read, "")
	require.Equal(t, 200, status, "%s", body)
	require.Equal(t, "text/csv; charset=utf-8", hdr.Get("Content-Type"))
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	require.Equal(t, `attachment; filename="statement-store-1-`+t0.Format("20060102T150405Z")+"-"+t2.Format("20060102T150405Z")+`.csv"`, hdr.Get("Content-Disposition"))
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, statement.CSVHeader, rows[0])
	require.Len(t, rows, 5)
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, want := range []map[string]string{
		{"kind": "opening", "balance": "0.00", "time": rfc(t0)},
		{"kind": "conversion", "paid_asset": "USDT-ERC20", "paid_amount": "10.050251", "gross": "72.36", "fee": "0.72", "spread": "0.36", "net": "71.28", "credit": "71.28", "balance": "71.28"},
		{"kind": "conversion", "paid_asset": "BTC", "paid_amount": "0.00023264", "paid_from_balance": "true", "gross": "100.50", "fee": "1.00", "spread": "0.50", "net": "99.00", "balance": "170.28"},
		{"kind": "closing", "gross": "172.86", "fee": "1.72", "spread": "0.86", "net": "170.28", "credit": "170.28", "debit": "0.00", "balance": "170.28", "time": rfc(t2)},
	} {
		for name, v := range want {
			require.Equal(t, v, rows[1+i][col[name]], "row %d %s", i+1, name)
		}
	}
	st, err = statement.Build(ctx, src, m.StoreID, t0, t2)
	require.NoError(t, err)
	var csvWant bytes.Buffer
	require.NoError(t, st.WriteCSV(&csvWant))
	require.Equal(t, csvWant.String(), string(body))
}

func TestStatementAPIRefuses(t *testing.T) {
	m := newStmtHarness(t)
	read := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	path := "/api/v1/stores/" + m.StoreID + "/statement"
	for _, c := range []struct {
		name, query string
		field       string
	}{
		{"a malformed from", "from=yesterday", "from"},
		{"a malformed to", "to=2026-02-30", "to"},
		{"Unix seconds past 9999", "from=253402300800", "from"},
		{"from after to", "from=2026-10-02&to=2026-10-01T00:00:00Z", "from"},
		{"from in the future", "from=" + time.Now().Add(48*time.Hour).Format(time.DateOnly), "from"},
		{"over 366 days", "from=2024-01-01&to=2025-01-01", "to"},
		{"an unknown format", "format=xml", "format"},
		{"from twice", "from=2026-10-01&from=2026-10-02", "from"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := m.do(t, "GET", path+"?"+c.query, read, "")
			require.Equal(t, 400, status, "%s", body)
			m.valid(t, "FieldsError", body)
			e := decodeAs[struct {
				Code   string `json:"code"`
				Fields []struct {
					Path string `json:"path"`
				} `json:"fields"`
			}](t, body)
			require.Equal(t, "invalid", e.Code)
			require.Equal(t, c.field, e.Fields[0].Path)
		})
	}
	status, _, _ := m.do(t, "GET", path, "", "")
	require.Equal(t, 401, status)
	status, _, _ = m.do(t, "GET", path, m.key(t, otherStore, auth.ScopeInvoiceRead), "")
	require.Equal(t, 403, status)
	status, _, _ = m.do(t, "GET", path, m.key(t, m.StoreID, auth.ScopeInvoiceCreate), "")
	require.Equal(t, 403, status)
}

type stmtMoney struct {
	Amount string `json:"amount"`
	Units  string `json:"units"`
}

// stmtDoc is the part of a JSON statement the tests read.
type stmtDoc struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Assets []struct {
		Asset   string               `json:"asset"`
		Opening stmtMoney            `json:"opening"`
		Closing stmtMoney            `json:"closing"`
		Totals  map[string]stmtMoney `json:"totals"`
		Lines   []struct {
			Kind    string                     `json:"kind"`
			Payment map[string]json.RawMessage `json:"payment"`
		} `json:"lines"`
	} `json:"assets"`
}

// pay reads an amount of a line's payment.
func pay(t *testing.T, p map[string]json.RawMessage, name string) stmtMoney {
	t.Helper()
	var m stmtMoney
	require.NoError(t, json.Unmarshal(p[name], &m), name)
	return m
}

// statementSource is what the server reads statements from.
type statementSource struct {
	chengdui.Ledger
	assets interface {
		Assets(ctx context.Context) ([]chengdui.Asset, error)
	}
}

func (s statementSource) Assets(ctx context.Context) ([]chengdui.Asset, error) {
	return s.assets.Assets(ctx)
}

// TestSettlementsAPI checks GET /api/v1/stores/{storeId}/settlements: the
// store's invoice payments with their conversions, in journal order, the
// body as the statement package writes it; a bad period is 400 with the
// field; another store's key is refused.
func TestSettlementsAPI(t *testing.T) {
	m := newStmtHarness(t)
	read := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	t0, _, t2 := m.paid(t)
	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	path := "/api/v1/stores/" + m.StoreID + "/settlements?"
	status, _, body := m.do(t, "GET", path+url.Values{"from": {rfc(t0)}, "to": {rfc(t2)}}.Encode(), read, "")
	require.Equal(t, 200, status, "%s", body)
	m.valid(t, "Settlements", body)
	doc := decodeAs[struct {
		StoreID string                       `json:"store_id"`
		Data    []map[string]json.RawMessage `json:"data"`
	}](t, body)
	require.Equal(t, m.StoreID, doc.StoreID)
	require.Len(t, doc.Data, 2)
	require.JSONEq(t, `"USDT-ERC20"`, string(doc.Data[0]["paid_asset"]))
	require.JSONEq(t, `{"amount":"71.28","units":"7128"}`, string(doc.Data[0]["net"]))
	require.JSONEq(t, `"BTC"`, string(doc.Data[1]["paid_asset"]))
	require.JSONEq(t, `"CNY"`, string(doc.Data[1]["asset"]))
	st, err := statement.Build(context.Background(), statementSource{Ledger: m.Ledger, assets: m.DB}, m.StoreID, t0, t2)
	require.NoError(t, err)
	want, err := json.Marshal(st.Settlements())
	require.NoError(t, err)
	all := decodeAs[struct {
		Data json.RawMessage `json:"data"`
	}](t, body)
	require.JSONEq(t, string(want), string(all.Data))

	// Nothing in the period: an empty list, not null.
	status, _, body = m.do(t, "GET", path+url.Values{"from": {"2020-01-01"}, "to": {"2020-01-02"}}.Encode(), read, "")
	require.Equal(t, 200, status, "%s", body)
	require.Contains(t, string(body), `"data":[]`)

	status, _, body = m.do(t, "GET", path+"from=yesterday", read, "")
	require.Equal(t, 400, status, "%s", body)
	m.valid(t, "FieldsError", body)
	other := m.key(t, "store-2", auth.ScopeInvoiceRead)
	status, _, _ = m.do(t, "GET", path, other, "")
	require.Equal(t, 403, status)
}
