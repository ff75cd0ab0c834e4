package http_test

import (
	"context"
	"io"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"chengdui"
	"chengdui/auth"
	"chengdui/bitcoin"
	chttp "chengdui/http"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/keys"
	"chengdui/merchant"
	"chengdui/refund"
	"chengdui/settle"
	"chengdui/withdraw"

	"github.com/stretchr/testify/require"
)

// refundHarness is a Server with a real refund service: invoices settle
// through settle.Converter (1 % fee) into the store's CNY balance, and
// claims to an address go to a real withdrawal service.
type refundHarness struct {
	*merchantHarness
	refunds *refund.Service
	wd      *withdraw.Service
}

const regtestAddress = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

func newRefundHarness(t *testing.T) *refundHarness {
	t.Helper()
	ctx := context.Background()
	h := invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: 100})
	})
	for _, a := range []chengdui.Account{{ID: "platform:CNY:equity", Asset: "CNY"},
		{ID: settle.Inventory("CNY"), Asset: "CNY", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := h.Ledger.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	res, err := h.Ledger.CreateTransfers(ctx, []chengdui.Transfer{{ID: "fund:CNY", DebitAccountID: "platform:CNY:equity",
		CreditAccountID: settle.Inventory("CNY"), Amount: chengdui.Amount{Lo: 100_000_000}, Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.NoError(t, h.DB.CreateStore(ctx, chengdui.Store{ID: otherStore, OwnerID: h.Owner, Name: "Other", DefaultCurrency: "USD",
		Settlement: chengdui.StoreSettlement{Mode: "balance"}, CreatedAt: h.Now()}))
	wd := withdraw.New(h.DB, h.Ledger, h.DB, nil, withdraw.Config{Now: h.Now})
	wd.AddPayer(bitcoin.NewPayer(bitcoin.PayerConfig{Chain: "bitcoin:regtest", Network: keys.Regtest, Asset: "BTC"}))
	svc, err := refund.New(refund.Config{Store: h.DB, Ledger: h.Ledger, Invoices: h.Invoices, Stores: h.DB, Quoter: h.Rates, Withdrawals: wd, Now: h.Now})
	require.NoError(t, err)
	wd.OnOutcome(withdraw.OriginRefund, svc.OnWithdrawal)
	srv := httptest.NewServer(chttp.NewServer(chttp.Config{
		Ledger: h.Ledger, Store: h.DB,
		Wallets:     sessionWallets{users: map[string]string{payerSession: h.Payer, ownerSession: h.Owner}},
		Merchants:   merchant.New(h.DB, merchant.Config{}),
		Invoices:    h.Invoices,
		Refunds:     svc,
		Idempotency: h.DB,
		PublicURL:   "https://pay.example.com/",
		CSRFKey:     []byte("0123456789abcdef0123456789abcdef"),
	}).Handler())
	t.Cleanup(srv.Close)
	return &refundHarness{merchantHarness: &merchantHarness{Harness: h, url: srv.URL}, refunds: svc, wd: wd}
}

// settled makes a 72.00 CNY invoice paid in full with BTC (16,666
// satoshis) plus extra, confirmed and converted.
func (m *refundHarness) settled(t *testing.T, extra uint64) invoice.Invoice {
	t.Helper()
	ctx := context.Background()
	inv, err := m.Invoices.Create(ctx, invoice.CreateRequest{StoreID: m.StoreID, Amount: "72.00", Currency: "CNY", Methods: []string{invoice.MethodBTC, invoice.MethodBalance}})
	require.NoError(t, err)
	q, _ := inv.Quote("BTC")
	due := q.Due
	due.Lo += extra
	m.Pay(t, inv, invoice.MethodBTC, due, "tx-"+inv.ID, 10, 20)
	inv, err = m.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, inv.Status)
	return inv
}

// gfRefund is the part of the refund answer the tests read.
type gfRefund struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	ViewLink    string `json:"viewLink"`
	Archived    bool   `json:"archived"`
	State       string `json:"state"`
	AssetAmount string `json:"assetAmount"`
	FiatAmount  string `json:"fiatAmount"`
	Claim       string `json:"claim"`
	Address     string `json:"address"`
}

func TestRefundAPI(t *testing.T) {
	m := newRefundHarness(t)
	// c checks answers against openapi.yaml; gf also against Greenfield's
	// documents (when shared/ is there) for Greenfield's own routes.
	c := &conformance{m: m.merchantHarness, contracts: []contract{loadOurs(t)}, vars: map[string]string{"storeId": m.StoreID}, seen: map[string]bool{}}
	gf := &conformance{m: m.merchantHarness, contracts: []contract{loadOurs(t)}, vars: c.vars, seen: c.seen}
	if _, err := os.Stat(greenfieldDir); err == nil || os.Getenv("CI") == "true" {
		gf.contracts = append(gf.contracts, loadGreenfield(t))
	}
	key := m.key(t, m.StoreID, auth.ScopePayoutCreate)
	write := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	other := m.key(t, otherStore, auth.ScopePayoutCreate)
	inv := m.settled(t, 0)
	c.vars["invoiceId"] = inv.ID

	// The store's 71.28 cannot give back 72.00 (the fee is not returned).
	b := c.callRaw(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen"}`, 422)
	require.Equal(t, "exceeds_credits", decodeAs[problem](t, b).Code)
	b = gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen","subtractPercentage":"50","name":"Half","description":"broken lid"}`, 200)
	half := decodeAs[gfRefund](t, b)
	require.Equal(t, "BTC", half.Currency)
	require.Equal(t, "0.00008333", half.Amount)
	require.Equal(t, "Half", half.Name)
	require.Equal(t, "AwaitingClaim", half.State)
	require.Equal(t, "https://pay.example.com/refunds/"+half.ID, half.ViewLink)
	c.vars["refundId"] = half.ID

	b = gf.call(t, "POST", "/api/v1/stores/{storeId}/invoices/{invoiceId}/refund", key, `{"refundVariant":"Fiat","subtractPercentage":90,"payoutMethods":["BTC-CHAIN"]}`, 200)
	fiat := decodeAs[gfRefund](t, b)
	require.Equal(t, "CNY", fiat.Currency, "not converted before its claim")
	require.Equal(t, "7.20", fiat.Amount)
	require.Equal(t, "", fiat.AssetAmount)

	// Errors, with their codes.
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"Everything"}`, 422)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{}`, 422)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"Custom","customAmount":"-1","customCurrency":"CNY"}`, 422)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen","subtractPercentage":"101"}`, 422)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen","colour":"red"}`, 400)
	b = c.callRaw(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"Custom","customAmount":"0.0001","customCurrency":"BTC"}`, 422)
	require.Equal(t, refund.EExceedsPaid, decodeAs[problem](t, b).Code)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", write, `{"refundVariant":"RateThen"}`, 403)
	gf.call(t, "POST", "/api/v1/stores/{storeId}/invoices/{invoiceId}/refund", other, `{"refundVariant":"RateThen"}`, 403)
	gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", other, `{"refundVariant":"RateThen"}`, 404)
	unpaid, err := m.Invoices.Create(context.Background(), invoice.CreateRequest{StoreID: m.StoreID, Amount: "1"})
	require.NoError(t, err)
	c.vars["invoiceId"] = unpaid.ID
	b = gf.call(t, "POST", "/api/v1/invoices/{invoiceId}/refund", key, `{"refundVariant":"RateThen"}`, 409)
	require.Equal(t, "conflict", decodeAs[problem](t, b).Code)
	c.vars["invoiceId"] = inv.ID

	// Idempotency-Key: the same refund again, not a second one.
	status, _, b1 := m.do(t, "POST", "/api/v1/invoices/"+inv.ID+"/refund", key, `{"refundVariant":"Custom","customAmount":"1.00","customCurrency":"CNY"}`, "Idempotency-Key", "rf-key-1")
	require.Equal(t, 200, status, "%s", b1)
	status, hdr, b2 := m.do(t, "POST", "/api/v1/invoices/"+inv.ID+"/refund", key, `{"refundVariant":"Custom","customAmount":"1.00","customCurrency":"CNY"}`, "Idempotency-Key", "rf-key-1")
	require.Equal(t, 200, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, string(b1), string(b2))
	one := decodeAs[gfRefund](t, b1)
	require.Equal(t, refund.ID(m.StoreID, "rf-key-1"), one.ID)

	// The store's refunds.
	b = c.call(t, "GET", "/api/v1/stores/{storeId}/refunds", key, "", 200)
	require.Len(t, decodeAs[struct{ Data []gfRefund }](t, b).Data, 3)
	c.call(t, "GET", "/api/v1/stores/{storeId}/refunds?invoiceId="+inv.ID+"&limit=1", key, "", 200)
	c.call(t, "GET", "/api/v1/stores/{storeId}/refunds/{refundId}", key, "", 200)
	c.call(t, "GET", "/api/v1/refunds/{refundId}", "", "", 200)
	c.vars["storeId"] = otherStore
	c.call(t, "GET", "/api/v1/stores/{storeId}/refunds/{refundId}", other, "", 404)
	c.vars["storeId"] = m.StoreID

	// Claims: to a balance needs the session; an address is checked.
	c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{"toBalance":true}`, 401)
	c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{"address":"not an address"}`, 400)
	c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{}`, 400)
	b = c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "Bearer "+payerSession, `{"toBalance":true}`, 200)
	claimed := decodeAs[gfRefund](t, b)
	require.Equal(t, "Completed", claimed.State)
	require.Equal(t, "balance", claimed.Claim)
	c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{"address":"`+regtestAddress+`"}`, 409)
	c.call(t, "POST", "/api/v1/stores/{storeId}/refunds/{refundId}/cancel", key, "", 409)

	// The Fiat refund to an address: converted, held, sent.
	c.vars["refundId"] = fiat.ID
	b = c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{"address":"`+regtestAddress+`"}`, 200)
	sent := decodeAs[gfRefund](t, b)
	require.Equal(t, "InProgress", sent.State)
	require.Equal(t, "BTC", sent.Currency)
	require.Equal(t, "0.00001666", sent.Amount, "7.20 at 432,000")
	require.Equal(t, "7.20", sent.FiatAmount)
	require.NoError(t, m.wd.Complete(context.Background(), refund.WithdrawalID(fiat.ID, 1), "txid-9", chengdui.Amount{Lo: 200}))
	b = c.call(t, "GET", "/api/v1/refunds/{refundId}", "", "", 200)
	require.Equal(t, "Completed", decodeAs[gfRefund](t, b).State)

	// Cancel the idempotent one; again is the same answer.
	c.vars["refundId"] = one.ID
	b = c.call(t, "POST", "/api/v1/stores/{storeId}/refunds/{refundId}/cancel", key, "", 200)
	require.True(t, decodeAs[gfRefund](t, b).Archived)
	c.call(t, "POST", "/api/v1/stores/{storeId}/refunds/{refundId}/cancel", key, "", 200)
	c.vars["refundId"] = "rfNoSuchRefund"
	c.call(t, "GET", "/api/v1/refunds/{refundId}", "", "", 404)
	c.call(t, "POST", "/api/v1/refunds/{refundId}/claim", "", `{"address":"`+regtestAddress+`"}`, 404)
}

// callRaw is call for answers our contracts give and Greenfield's does
// not: BTCPay answers every 422 with ValidationProblemDetails, ours
// also carry a code for the refusals of balances.
func (c *conformance) callRaw(t *testing.T, method, tmpl, key, body string, want int) []byte {
	t.Helper()
	path := tmpl
	for k, v := range c.vars {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	status, _, b := c.m.do(t, method, path, key, body)
	require.Equal(t, want, status, "%s %s: %s", method, path, b)
	c.contracts[0].check(t, method, tmpl, status, b)
	return b
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestRefundPage(t *testing.T) {
	m := newRefundHarness(t)
	ctx := context.Background()
	inv := m.settled(t, 0)
	mk := func(variant refund.Variant, pct string) refund.Refund {
		r, err := m.refunds.Create(ctx, refund.CreateRequest{StoreID: m.StoreID, InvoiceID: inv.ID, Variant: variant, SubtractPercentage: pct, Name: "茶壶 <退款>"})
		require.NoError(t, err)
		return r
	}
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &nethttp.Client{Jar: jar, CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}
	get := func(path string) (int, nethttp.Header, string) {
		resp, err := client.Get(m.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(b)
	}
	post := func(path string, form url.Values) (int, nethttp.Header, string) {
		resp, err := client.PostForm(m.url+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(b)
	}

	r := mk(refund.RateThen, "50")
	status, hdr, page := get("/refunds/" + r.ID + "?lang=en")
	require.Equal(t, 200, status, page)
	csp := hdr.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "form-action 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "DENY", hdr.Get("X-Frame-Options"))
	require.Contains(t, page, "0.00008333 BTC")
	require.Contains(t, page, "Ready to claim")
	require.Contains(t, page, "茶壶 &lt;退款&gt;", "escaped")
	require.Contains(t, page, `href="/login"`, "not logged in: no balance form")
	require.Contains(t, page, `id="rf-address-form"`)
	_, _, zh := get("/refunds/" + r.ID + "?lang=zh-CN")
	require.Contains(t, zh, "待领取")
	require.Contains(t, zh, `lang="zh-CN"`)
	req, _ := nethttp.NewRequest("GET", m.url+"/refunds/"+r.ID, nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(b), "退到我自己的地址")

	// A form without the CSRF token does nothing.
	status, _, page = post("/refunds/"+r.ID+"/claim", url.Values{"to": {"address"}, "address": {regtestAddress}})
	require.Equal(t, 403, status)
	require.Contains(t, page, "This form expired")
	got, err := m.refunds.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, got.State)

	// A bad address: shown again with the address kept.
	token := csrfRE.FindStringSubmatch(page)[1]
	status, _, page = post("/refunds/"+r.ID+"/claim", url.Values{"csrf": {token}, "to": {"address"}, "address": {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}, "lang": {"en"}})
	require.Equal(t, 400, status, page)
	require.Contains(t, page, "cannot receive this refund")
	require.Contains(t, page, `value="bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"`)

	// To the balance, logged in.
	u, _ := url.Parse(m.url)
	jar.SetCookies(u, []*nethttp.Cookie{{Name: "chengdui_session", Value: payerSession, Path: "/"}})
	status, _, page = get("/refunds/" + r.ID)
	require.Equal(t, 200, status)
	require.Contains(t, page, `id="rf-balance-form"`)
	token = csrfRE.FindStringSubmatch(page)[1]
	before := m.Balance(t, invoice.UserAccount(m.Payer, "BTC"))
	status, hdr, _ = post("/refunds/"+r.ID+"/claim", url.Values{"csrf": {token}, "to": {"balance"}, "lang": {"zh-CN"}})
	require.Equal(t, 303, status)
	require.Equal(t, "/refunds/"+r.ID+"?lang=zh-CN", hdr.Get("Location"))
	after := m.Balance(t, invoice.UserAccount(m.Payer, "BTC"))
	require.Equal(t, before.Lo+8333, after.Lo)
	_, _, page = get("/refunds/" + r.ID + "?lang=en")
	require.Contains(t, page, "The refund is in your balance.")
	require.NotContains(t, page, `id="rf-address-form"`)
	status, _, page = post("/refunds/"+r.ID+"/claim", url.Values{"csrf": {token}, "to": {"balance"}, "lang": {"en"}})
	require.Equal(t, 409, status)
	require.Contains(t, page, "claimed or cancelled already")

	// To an address: sending, then sent.
	r3, err := m.refunds.Create(ctx, refund.CreateRequest{StoreID: m.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00001", CustomCurrency: "BTC"})
	require.NoError(t, err)
	status, _, _ = post("/refunds/"+r3.ID+"/claim", url.Values{"csrf": {token}, "to": {"address"}, "address": {regtestAddress}, "lang": {"en"}})
	require.Equal(t, 303, status)
	_, _, page = get("/refunds/" + r3.ID + "?lang=en")
	require.Contains(t, page, "Being sent")
	require.Contains(t, page, regtestAddress)
	require.NoError(t, m.wd.Complete(ctx, refund.WithdrawalID(r3.ID, 1), "f00d", chengdui.Amount{}))
	_, _, page = get("/refunds/" + r3.ID + "?lang=en")
	require.Contains(t, page, "The refund was sent to "+regtestAddress)
	require.Contains(t, page, "f00d")

	// Cancelled, and unknown.
	r4, err := m.refunds.Create(ctx, refund.CreateRequest{StoreID: m.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00000100", CustomCurrency: "BTC"})
	require.NoError(t, err)
	_, err = m.refunds.Cancel(ctx, m.StoreID, r4.ID)
	require.NoError(t, err)
	_, _, page = get("/refunds/" + r4.ID + "?lang=en")
	require.Contains(t, page, "The store cancelled this refund.")
	for _, id := range []string{"rfNoSuchRefund", "..%2F..", strings.Repeat("x", 300)} {
		status, _, page = get("/refunds/" + id)
		require.Equal(t, 404, status)
		require.Contains(t, page, "Refund not found")
	}
}
