package http_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/merchant"
	"chengdui/webhook"

	"github.com/stretchr/testify/require"
)

// merchantHarness is a Server on the invoice test harness: a real invoice
// service, webhook service and idempotency store on SQLite, behind a real
// listener. Store "store-1" (CNY) and "store-2" (USD) are the merchant's.
type merchantHarness struct {
	*invoicetest.Harness
	url   string
	hooks *webhook.Service
}

// sessionWallets authenticates session tokens from a fixed table; the
// merchant API needs nothing else of the wallet service.
type sessionWallets struct {
	chengdui.Wallets
	users map[string]string // token → user id
}

func (s sessionWallets) Authenticate(_ context.Context, token string) (chengdui.User, error) {
	if id, ok := s.users[token]; ok {
		return chengdui.User{ID: id}, nil
	}
	return chengdui.User{}, chengdui.Errorf(chengdui.EUnauthorized, "no session")
}

const (
	otherStore   = "store-2"
	payerSession = "payer-session"
	ownerSession = "owner-session"
)

func newMerchantHarness(t testing.TB) *merchantHarness {
	t.Helper()
	h := invoicetest.New(t)
	ctx := context.Background()
	require.NoError(t, h.DB.CreateStore(ctx, chengdui.Store{ID: otherStore, OwnerID: h.Owner, Name: "Other", DefaultCurrency: "USD",
		Settlement: chengdui.StoreSettlement{Mode: "balance"}, CreatedAt: h.Now()}))
	hooks, err := webhook.New(webhook.Config{Store: h.DB, Events: h.DB, AllowPrivate: true, Poll: 20 * time.Millisecond,
		Timeout: 2 * time.Second, Backoff: []time.Duration{20 * time.Millisecond}})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		hooks.Run(runCtx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(chttp.NewServer(chttp.Config{
		Ledger: h.Ledger, Store: h.DB,
		Wallets:     sessionWallets{users: map[string]string{payerSession: h.Payer, ownerSession: h.Owner}},
		Merchants:   merchant.New(h.DB, merchant.Config{}),
		Invoices:    h.Invoices,
		Webhooks:    hooks,
		Idempotency: h.DB,
		PublicURL:   "https://pay.example.com/",
	}).Handler())
	t.Cleanup(srv.Close)
	return &merchantHarness{Harness: h, url: srv.URL, hooks: hooks}
}

// key makes a store API key with the given scopes and returns its
// Authorization header value.
func (m *merchantHarness) key(t testing.TB, storeID string, scopes ...auth.Scope) string {
	t.Helper()
	plain, prefix, hash, err := auth.NewAPIKey()
	require.NoError(t, err)
	var names []string
	for _, s := range scopes {
		names = append(names, string(s))
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	require.NoError(t, m.DB.CreateAPIKey(context.Background(), chengdui.APIKey{ID: "key-" + hex.EncodeToString(id[:]), StoreID: storeID,
		Label: "test", Prefix: prefix, Hash: hash, Scopes: names, CreatedAt: m.Now()}))
	return "token " + plain
}

// do sends a request; headers are name, value pairs.
func (m *merchantHarness) do(t testing.TB, method, path, authorization, body string, headers ...string) (int, nethttp.Header, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest(method, m.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// count is how many invoices a store has, archived included.
func (m *merchantHarness) count(t testing.TB, storeID string) int {
	t.Helper()
	invs, err := m.Invoices.List(context.Background(), invoice.Filter{StoreID: storeID, Archived: true, Limit: 1000})
	require.NoError(t, err)
	return len(invs)
}

// gfInvoice is the part of Greenfield's InvoiceData the tests read.
type gfInvoice struct {
	ID               string          `json:"id"`
	StoreID          string          `json:"storeId"`
	Amount           string          `json:"amount"`
	PaidAmount       string          `json:"paidAmount"`
	Currency         string          `json:"currency"`
	Type             string          `json:"type"`
	CheckoutLink     string          `json:"checkoutLink"`
	CreatedTime      int64           `json:"createdTime"`
	ExpirationTime   int64           `json:"expirationTime"`
	Status           string          `json:"status"`
	AdditionalStatus string          `json:"additionalStatus"`
	Marks            []string        `json:"availableStatusesForManualMarking"`
	Archived         bool            `json:"archived"`
	Metadata         json.RawMessage `json:"metadata"`
	Checkout         map[string]any  `json:"checkout"`
	PaymentMethods   []gfMethod      `json:"paymentMethods"`
}

type gfMethod struct {
	PaymentMethodID   string          `json:"paymentMethodId"`
	Currency          string          `json:"currency"`
	Destination       string          `json:"destination"`
	PaymentLink       *string         `json:"paymentLink"`
	Rate              string          `json:"rate"`
	PaymentMethodPaid string          `json:"paymentMethodPaid"`
	TotalPaid         string          `json:"totalPaid"`
	Due               string          `json:"due"`
	Amount            string          `json:"amount"`
	Payments          []gfPayment     `json:"payments"`
	AdditionalData    json.RawMessage `json:"additionalData"`
}

type gfPayment struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	Status      string `json:"status"`
	Destination string `json:"destination"`
}

type problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type fieldProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func decodeAs[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	return v
}

// create makes an invoice through the API and returns it.
func (m *merchantHarness) create(t *testing.T, key, body string) gfInvoice {
	t.Helper()
	status, _, b := m.do(t, "POST", "/api/v1/stores/"+m.StoreID+"/invoices", key, body)
	require.Equal(t, 200, status, "%s", b)
	return decodeAs[gfInvoice](t, b)
}

func TestInvoiceAPI(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	ctx := context.Background()

	inv := m.create(t, key, `{"amount":"72.00","currency":"CNY","metadata":{"orderId":"A-1","buyerEmail":"li@example.com"},
		"checkout":{"speedPolicy":"HighSpeed","paymentMethods":["BTC","USDT-ERC20","BALANCE"],"expirationMinutes":30,"paymentTolerance":1.5,
		"redirectURL":"https://shop.example.com/done","defaultLanguage":"zh-CN"}}`)
	require.Equal(t, m.StoreID, inv.StoreID)
	require.Equal(t, "72.00", inv.Amount)
	require.Equal(t, "0.00", inv.PaidAmount)
	require.Equal(t, "Standard", inv.Type)
	require.Equal(t, "New", inv.Status)
	require.Equal(t, "None", inv.AdditionalStatus)
	require.Equal(t, "https://pay.example.com/i/"+inv.ID, inv.CheckoutLink)
	require.Equal(t, m.Now().Unix(), inv.CreatedTime)
	require.Equal(t, m.Now().Add(30*time.Minute).Unix(), inv.ExpirationTime)
	require.ElementsMatch(t, []string{"Settled", "Invalid"}, inv.Marks)
	require.JSONEq(t, `{"orderId":"A-1","buyerEmail":"li@example.com"}`, string(inv.Metadata))
	require.Equal(t, "HighSpeed", inv.Checkout["speedPolicy"])
	require.Equal(t, []any{"BTC-CHAIN", "USDT-ERC20", "BALANCE"}, inv.Checkout["paymentMethods"], "BTC is read as BTC-CHAIN")
	require.Equal(t, 1.5, inv.Checkout["paymentTolerance"])
	require.Equal(t, float64(30), inv.Checkout["expirationMinutes"])
	require.Equal(t, "https://shop.example.com/done", inv.Checkout["redirectURL"])
	require.Nil(t, inv.PaymentMethods, "only with includePaymentMethods")

	// Both paths answer the same invoice.
	for _, path := range []string{"/api/v1/stores/" + m.StoreID + "/invoices/" + inv.ID, "/api/v1/invoices/" + inv.ID} {
		status, _, b := m.do(t, "GET", path, key, "")
		require.Equal(t, 200, status, "%s", b)
		require.Equal(t, inv.ID, decodeAs[gfInvoice](t, b).ID)
	}

	// Payment methods: the USDT method is quoted at 7.2 CNY, 10.000000
	// USDT due; its EVM additional data carries the router intent.
	status, _, b := m.do(t, "GET", "/api/v1/invoices/"+inv.ID+"/payment-methods", key, "")
	require.Equal(t, 200, status, "%s", b)
	methods := decodeAs[[]gfMethod](t, b)
	require.Len(t, methods, 3)
	byID := map[string]gfMethod{}
	for _, pm := range methods {
		byID[pm.PaymentMethodID] = pm
	}
	usdt := byID["USDT-ERC20"]
	require.Equal(t, "USDT-ERC20", usdt.Currency)
	require.Equal(t, "10.000000", usdt.Amount)
	require.Equal(t, "10.000000", usdt.Due)
	require.Equal(t, "0.000000", usdt.TotalPaid)
	require.NotEmpty(t, usdt.Destination)
	require.NotNil(t, usdt.PaymentLink)
	require.Contains(t, *usdt.PaymentLink, "uint256=10000000")
	var evm struct {
		ChainID uint64 `json:"chainId"`
		Intent  struct {
			Amount    string `json:"amount"`
			Router    string `json:"router"`
			Signature string `json:"signature"`
		} `json:"intent"`
	}
	require.NoError(t, json.Unmarshal(usdt.AdditionalData, &evm))
	require.Equal(t, uint64(1337), evm.ChainID)
	require.Equal(t, "10000000", evm.Intent.Amount, "intent amounts are smallest units")
	require.Equal(t, m.Router.Hex(), evm.Intent.Router)
	require.True(t, strings.HasPrefix(evm.Intent.Signature, "0x"))
	var chain struct {
		KeyPath string `json:"keyPath"`
	}
	require.NoError(t, json.Unmarshal(byID["BTC-CHAIN"].AdditionalData, &chain))
	require.Regexp(t, `^0/[0-9]+$`, chain.KeyPath)
	require.Equal(t, "CNY", byID["BALANCE"].Currency)
	require.Equal(t, "72.00", byID["BALANCE"].Due)

	// A payment shows on its method and in paidAmount.
	stored, err := m.Invoices.Get(ctx, m.StoreID, inv.ID)
	require.NoError(t, err)
	m.Pay(t, stored, invoice.MethodUSDT, chengdui.Amount{Lo: 4_000_000}, "0xaa", 10, 20)
	status, _, b = m.do(t, "GET", "/api/v1/invoices/"+inv.ID+"?includePaymentMethods=true", key, "")
	require.Equal(t, 200, status, "%s", b)
	got := decodeAs[gfInvoice](t, b)
	require.Equal(t, "28.80", got.PaidAmount)
	for _, pm := range got.PaymentMethods {
		if pm.PaymentMethodID == "USDT-ERC20" {
			require.Equal(t, "4.000000", pm.PaymentMethodPaid)
			require.Equal(t, "6.000000", pm.Due)
			require.Len(t, pm.Payments, 1)
			require.Equal(t, "4.000000", pm.Payments[0].Value)
			require.Equal(t, "Settled", pm.Payments[0].Status)
		}
	}

	// Metadata is replaced; orderId is indexed.
	status, _, b = m.do(t, "PUT", "/api/v1/invoices/"+inv.ID, key, `{"metadata":{"orderId":"A-2"}}`)
	require.Equal(t, 200, status, "%s", b)
	require.JSONEq(t, `{"orderId":"A-2"}`, string(decodeAs[gfInvoice](t, b).Metadata))

	// A second invoice, top-up, in the store's default currency.
	m.Advance(time.Second)
	topUp := m.create(t, key, `{"metadata":{"orderId":"B-1"}}`)
	require.Equal(t, "TopUp", topUp.Type)
	require.Equal(t, "CNY", topUp.Currency)
	require.Equal(t, "0.00", topUp.Amount)
	m.Advance(time.Second)
	third := m.create(t, key, `{"amount":10,"currency":"USD"}`)
	require.Equal(t, "10.00", third.Amount, "a JSON number is read as written")

	list := func(query string) []string {
		t.Helper()
		status, hdr, b := m.do(t, "GET", "/api/v1/stores/"+m.StoreID+"/invoices"+query, key, "")
		require.Equal(t, 200, status, "%s", b)
		var ids []string
		for _, i := range decodeAs[[]gfInvoice](t, b) {
			ids = append(ids, i.ID)
		}
		if strings.Contains(query, "take=1") && len(ids) == 1 {
			require.Contains(t, hdr.Get("Link"), "after="+ids[0])
		}
		return ids
	}
	require.Equal(t, []string{third.ID, topUp.ID, inv.ID}, list(""), "newest first")
	require.Equal(t, []string{inv.ID}, list("?orderId=A-2"))
	require.Equal(t, []string{topUp.ID, inv.ID}, list("?orderId=A-2&orderId=B-1"))
	require.Equal(t, []string{third.ID}, list("?take=1"))
	require.Equal(t, []string{topUp.ID}, list("?take=1&skip=1"))
	require.Equal(t, []string{topUp.ID, inv.ID}, list("?after="+third.ID))
	require.Empty(t, list("?skip=5"))
	require.Equal(t, []string{third.ID}, list(fmt.Sprintf("?startDate=%d", m.Now().Unix())))
	require.Equal(t, []string{topUp.ID, inv.ID}, list(fmt.Sprintf("?endDate=%d", m.Now().Add(-time.Second).Unix())))
	require.Equal(t, []string{third.ID, topUp.ID, inv.ID}, list("?status=New"))
	require.Empty(t, list("?status=Settled"))

	// Archive hides, unarchive shows again.
	status, _, b = m.do(t, "DELETE", "/api/v1/stores/"+m.StoreID+"/invoices/"+topUp.ID, key, "")
	require.Equal(t, 200, status, "%s", b)
	require.Empty(t, b)
	require.Equal(t, []string{third.ID, inv.ID}, list(""))
	require.Equal(t, []string{third.ID, topUp.ID, inv.ID}, list("?includeArchived=true"))
	status, _, b = m.do(t, "POST", "/api/v1/invoices/"+topUp.ID+"/unarchive", key, "")
	require.Equal(t, 200, status, "%s", b)
	require.False(t, decodeAs[gfInvoice](t, b).Archived)

	// Marking.
	status, _, b = m.do(t, "POST", "/api/v1/invoices/"+third.ID+"/status", key, `{"status":"Invalid"}`)
	require.Equal(t, 200, status, "%s", b)
	marked := decodeAs[gfInvoice](t, b)
	require.Equal(t, "Invalid", marked.Status)
	require.Equal(t, "Marked", marked.AdditionalStatus)
	require.Equal(t, []string{third.ID}, list("?status=Invalid"))
	status, _, b = m.do(t, "POST", "/api/v1/invoices/"+third.ID+"/status", key, `{"status":"Invalid"}`)
	require.Equal(t, 409, status, "%s", b)
	require.Equal(t, "conflict", decodeAs[problem](t, b).Code)

	// Refunds wait for settlement.
	for _, path := range []string{"/api/v1/invoices/" + inv.ID + "/refund", "/api/v1/stores/" + m.StoreID + "/invoices/" + inv.ID + "/refund"} {
		status, _, b = m.do(t, "POST", path, m.key(t, m.StoreID, auth.ScopePayoutCreate), `{"refundVariant":"RateThen"}`)
		require.Equal(t, 501, status, "%s", b)
		require.Equal(t, "not_implemented", decodeAs[problem](t, b).Code)
	}
}

func TestInvoiceAuth(t *testing.T) {
	m := newMerchantHarness(t)
	write := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	inv := m.create(t, write, `{"amount":"10"}`)
	read := m.key(t, m.StoreID, auth.ScopeInvoiceRead)
	create := m.key(t, m.StoreID, auth.ScopeInvoiceCreate)
	other := m.key(t, otherStore, auth.ScopeInvoiceWrite, auth.ScopeWebhookManage)
	hooksOnly := m.key(t, m.StoreID, auth.ScopeWebhookManage)
	invPath := "/api/v1/stores/" + m.StoreID + "/invoices"

	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"no key", "GET", invPath, "", "", 401, "unauthorized"},
		{"malformed key", "GET", invPath, "token nope", "", 401, "unauthorized"},
		{"unknown key", "GET", invPath, "token cd_AAAAAAAA_" + strings.Repeat("A", 43), "", 401, "unauthorized"},
		{"session token", "GET", invPath, "Bearer " + ownerSession, "", 401, "unauthorized"},
		{"bearer key works", "GET", invPath, strings.Replace(read, "token", "Bearer", 1), "", 200, ""},
		{"other store's key on store path", "GET", invPath, other, "", 403, "forbidden"},
		{"other store's key creating", "POST", invPath, other, `{"amount":"1"}`, 403, "forbidden"},
		{"other store's key, store-less", "GET", "/api/v1/invoices/" + inv.ID, other, "", 404, "not_found"},
		{"other store's key archiving", "DELETE", "/api/v1/invoices/" + inv.ID, other, "", 404, "not_found"},
		{"other store's key, its own path", "GET", invPath + "/" + inv.ID, other, "", 403, "forbidden"},
		{"read key cannot create", "POST", invPath, read, `{"amount":"1"}`, 403, "forbidden"},
		{"read key cannot mark", "POST", "/api/v1/invoices/" + inv.ID + "/status", read, `{"status":"Settled"}`, 403, "forbidden"},
		{"create key cannot archive", "DELETE", "/api/v1/invoices/" + inv.ID, create, "", 403, "forbidden"},
		{"create key cannot list", "GET", invPath, create, "", 403, "forbidden"},
		{"webhook key cannot read invoices", "GET", "/api/v1/invoices/" + inv.ID, hooksOnly, "", 403, "forbidden"},
		{"invoice key cannot list webhooks", "GET", "/api/v1/stores/" + m.StoreID + "/webhooks", write, "", 403, "forbidden"},
		{"write key cannot refund", "POST", "/api/v1/invoices/" + inv.ID + "/refund", write, "{}", 403, "forbidden"},
		{"unknown invoice", "GET", "/api/v1/invoices/NoSuchInvoice", read, "", 404, "not_found"},
		{"unknown invoice payment methods", "GET", invPath + "/NoSuchInvoice/payment-methods", read, "", 404, "not_found"},
		{"unknown invoice marked", "POST", "/api/v1/invoices/NoSuchInvoice/status", write, `{"status":"Settled"}`, 404, "not_found"},
		{"unknown invoice refunded", "POST", "/api/v1/invoices/NoSuchInvoice/refund", m.key(t, m.StoreID, auth.ScopePayoutCreate), "{}", 404, "not_found"},
		{"includeSensitive", "GET", "/api/v1/invoices/" + inv.ID + "/payment-methods?includeSensitive=true", read, "", 403, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := m.count(t, m.StoreID) + m.count(t, otherStore)
			status, hdr, b := m.do(t, tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, status, "%s", b)
			if tc.code != "" {
				p := decodeAs[problem](t, b)
				require.Equal(t, tc.code, p.Code)
				require.NotEmpty(t, p.Message)
				require.NotContains(t, p.Message, "cd_", "messages never quote keys")
			}
			if status == 401 {
				require.Equal(t, `token realm="chengdui"`, hdr.Get("WWW-Authenticate"))
			}
			require.Equal(t, before, m.count(t, m.StoreID)+m.count(t, otherStore), "nothing created")
		})
	}
	got, err := m.Invoices.Get(context.Background(), m.StoreID, inv.ID)
	require.NoError(t, err)
	require.False(t, got.Archived)
	require.Equal(t, invoice.New, got.Status)
}

func TestCreateInvoiceBadInputs(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string // for a ProblemDetails answer
		path       string // for a ValidationProblemDetails answer
	}{
		{"bad amount", `{"amount":"12.3.4"}`, 422, "", "amount"},
		{"negative amount", `{"amount":"-5"}`, 422, "", "amount"},
		{"too many decimals", `{"amount":"1.001","currency":"CNY"}`, 422, "", "amount"},
		{"amount of the wrong type", `{"amount":true}`, 422, "", "amount"},
		{"unknown currency", `{"amount":"1","currency":"XYZ"}`, 422, "", "currency"},
		{"unknown payment method", `{"amount":"1","checkout":{"paymentMethods":["DOGE-CHAIN"]}}`, 422, "", "checkout.paymentMethods"},
		{"bad speed policy", `{"amount":"1","checkout":{"speedPolicy":"WarpSpeed"}}`, 422, "", "checkout.speedPolicy"},
		{"bad expiry", `{"amount":"1","checkout":{"expirationMinutes":0.5}}`, 422, "", "checkout.expirationMinutes"},
		{"expiry of the wrong type", `{"amount":"1","checkout":{"expirationMinutes":"soon"}}`, 422, "", "checkout.expirationMinutes"},
		{"bad tolerance", `{"amount":"1","checkout":{"paymentTolerance":101}}`, 422, "", "checkout.paymentTolerance"},
		{"bad redirect", `{"amount":"1","checkout":{"redirectURL":"javascript:alert(1)"}}`, 422, "", "checkout.redirectURL"},
		{"metadata not an object", `{"amount":"1","metadata":["a"]}`, 422, "", "metadata"},
		{"metadata a string", `{"amount":"1","metadata":"orderId=1"}`, 422, "", "metadata"},
		{"unknown field", `{"amount":"1","price":"2"}`, 400, "invalid", ""},
		{"unknown checkout field", `{"amount":"1","checkout":{"requiresRefundEmail":true}}`, 400, "invalid", ""},
		{"bad JSON", `{"amount":`, 400, "invalid", ""},
		{"not an object", `[1,2]`, 400, "invalid", ""},
		{"empty body", ``, 400, "invalid", ""},
		{"two objects", `{"amount":"1"}{"amount":"2"}`, 400, "invalid", ""},
		{"oversize body", `{"amount":"1","metadata":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`, 413, "too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := m.do(t, "POST", "/api/v1/stores/"+m.StoreID+"/invoices", key, tc.body)
			require.Equal(t, tc.status, status, "%s", b)
			if tc.path != "" {
				fields := decodeAs[[]fieldProblem](t, b)
				require.NotEmpty(t, fields)
				require.Equal(t, tc.path, fields[0].Path, "%s", b)
				require.NotEmpty(t, fields[0].Message)
			} else {
				p := decodeAs[problem](t, b)
				require.Equal(t, tc.code, p.Code)
				require.NotEmpty(t, p.Message)
			}
			require.Zero(t, m.count(t, m.StoreID), "nothing created")
		})
	}

	inv := m.create(t, key, `{"amount":"1"}`)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"mark as New", "POST", "/status", `{"status":"New"}`, 422, "", "status"},
		{"mark without status", "POST", "/status", `{}`, 422, "", "status"},
		{"mark with extra field", "POST", "/status", `{"status":"Settled","force":true}`, 400, "invalid", ""},
		{"metadata not an object", "PUT", "", `{"metadata":42}`, 422, "", "metadata"},
		{"metadata missing", "PUT", "", `{}`, 422, "", "metadata"},
		{"update with bad JSON", "PUT", "", `{"metadata":`, 400, "invalid", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := m.do(t, tc.method, "/api/v1/invoices/"+inv.ID+tc.path, key, tc.body)
			require.Equal(t, tc.status, status, "%s", b)
			if tc.field != "" {
				require.Equal(t, tc.field, decodeAs[[]fieldProblem](t, b)[0].Path)
			} else {
				require.Equal(t, tc.code, decodeAs[problem](t, b).Code)
			}
			got, err := m.Invoices.Get(context.Background(), m.StoreID, inv.ID)
			require.NoError(t, err)
			require.Equal(t, invoice.New, got.Status)
			require.Equal(t, int64(1), got.Version, "nothing changed")
		})
	}

	for _, query := range []string{"?take=0", "?take=1001", "?skip=-1", "?skip=x", "?status=Paid", "?startDate=yesterday",
		"?includeArchived=maybe", "?textSearch=tea", "?includePaymentMethods=2"} {
		t.Run("list"+query, func(t *testing.T) {
			status, _, b := m.do(t, "GET", "/api/v1/stores/"+m.StoreID+"/invoices"+query, key, "")
			require.Equal(t, 400, status, "%s", b)
			require.Equal(t, "invalid", decodeAs[problem](t, b).Code)
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite, auth.ScopePayoutCreate)
	path := "/api/v1/stores/" + m.StoreID + "/invoices"
	body := `{"amount":"5.00","metadata":{"orderId":"I-1"}}`

	status, hdr, first := m.do(t, "POST", path, key, body, "Idempotency-Key", "order-I-1")
	require.Equal(t, 200, status, "%s", first)
	require.Empty(t, hdr.Get("Idempotent-Replayed"))
	status, hdr, again := m.do(t, "POST", path, key, body, "Idempotency-Key", "order-I-1")
	require.Equal(t, 200, status, "%s", again)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, string(first), string(again), "the same answer")
	require.Equal(t, 1, m.count(t, m.StoreID))

	// The same key with another body, or on another path, is refused.
	status, _, b := m.do(t, "POST", path, key, `{"amount":"6.00"}`, "Idempotency-Key", "order-I-1")
	require.Equal(t, 409, status, "%s", b)
	require.Equal(t, "id_conflict", decodeAs[problem](t, b).Code)
	require.Equal(t, 1, m.count(t, m.StoreID))

	// Keys belong to a store: another store's same key is its own.
	status, hdr, b = m.do(t, "POST", "/api/v1/stores/"+otherStore+"/invoices", m.key(t, otherStore, auth.ScopeInvoiceCreate), body, "Idempotency-Key", "order-I-1")
	require.Equal(t, 200, status, "%s", b)
	require.Empty(t, hdr.Get("Idempotent-Replayed"))

	// Without a key, every POST runs.
	m.create(t, key, body)
	m.create(t, key, body)
	require.Equal(t, 3, m.count(t, m.StoreID))

	// A validation error is an answer too: replayed.
	status, _, b = m.do(t, "POST", path, key, `{"amount":"x"}`, "Idempotency-Key", "bad-1")
	require.Equal(t, 422, status, "%s", b)
	status, hdr, again = m.do(t, "POST", path, key, `{"amount":"x"}`, "Idempotency-Key", "bad-1")
	require.Equal(t, 422, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, string(b), string(again))

	// A 5xx frees the key: the retry runs again (and is not a replay).
	inv := decodeAs[gfInvoice](t, first)
	for range 2 {
		status, hdr, b = m.do(t, "POST", "/api/v1/invoices/"+inv.ID+"/refund", key, `{}`, "Idempotency-Key", "refund-1")
		require.Equal(t, 501, status, "%s", b)
		require.Empty(t, hdr.Get("Idempotent-Replayed"))
	}

	// A key whose first request is in flight.
	_, created, err := m.DB.ReserveIdempotent(context.Background(), chengdui.Idempotent{Scope: "store:" + m.StoreID + " POST /api/v1/stores/{storeId}/invoices",
		Key: "in-flight", RequestHash: "x", CreatedAt: time.Now()})
	require.NoError(t, err)
	require.True(t, created)
	status, _, b = m.do(t, "POST", path, key, body, "Idempotency-Key", "in-flight")
	require.Equal(t, 409, status, "%s", b)
	p := decodeAs[problem](t, b)
	require.Equal(t, "id_conflict", p.Code, "another request's hash")

	for _, bad := range []string{strings.Repeat("k", 256), "tab\there"} {
		status, _, b = m.do(t, "POST", path, key, body, "Idempotency-Key", bad)
		require.Equal(t, 400, status, "%s", b)
		require.Equal(t, "invalid", decodeAs[problem](t, b).Code)
	}
	status, _, b = m.do(t, "POST", path, key, body, "Idempotency-Key", strings.Repeat("k", 255))
	require.Equal(t, 200, status, "%s", b)
	require.Equal(t, 4, m.count(t, m.StoreID))
}

func TestIdempotencyInFlight(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	inv := m.create(t, key, `{"amount":"5"}`)
	path := "/api/v1/invoices/" + inv.ID + "/status"
	body := `{"status":"Settled"}`
	// What the server reserves for this request: the same scope and hash,
	// answer not recorded yet.
	h := requestHash("POST", path, []byte(body))
	_, created, err := m.DB.ReserveIdempotent(context.Background(), chengdui.Idempotent{Scope: "store:" + m.StoreID + " POST /api/v1/invoices/{invoiceId}/status",
		Key: "k1", RequestHash: h, CreatedAt: time.Now()}) // the server's clock: in flight, not stale
	require.NoError(t, err)
	require.True(t, created)
	status, _, b := m.do(t, "POST", path, key, body, "Idempotency-Key", "k1")
	require.Equal(t, 409, status, "%s", b)
	p := decodeAs[problem](t, b)
	require.Equal(t, "conflict", p.Code)
	require.Contains(t, p.Message, "in progress")
	got, err := m.Invoices.Get(context.Background(), m.StoreID, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.New, got.Status, "not run")

	// A reservation left by a process that stopped mid-request (reserved
	// longer ago than any request runs) is taken over by the retry, which
	// runs; the next retry replays its answer.
	_, created, err = m.DB.ReserveIdempotent(context.Background(), chengdui.Idempotent{Scope: "store:" + m.StoreID + " POST /api/v1/invoices/{invoiceId}/status",
		Key: "k2", RequestHash: h, CreatedAt: time.Now().Add(-3 * time.Minute)})
	require.NoError(t, err)
	require.True(t, created)
	status, _, b = m.do(t, "POST", path, key, body, "Idempotency-Key", "k2")
	require.Equal(t, 200, status, "%s", b)
	got, err = m.Invoices.Get(context.Background(), m.StoreID, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, got.Status, "run by the retry")
	status, hdr, again := m.do(t, "POST", path, key, body, "Idempotency-Key", "k2")
	require.Equal(t, 200, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, string(b), string(again))
}

// requestHash is how the server identifies a request for its
// Idempotency-Key: SHA-256 over the length-prefixed method, path and body.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(path), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestPayInvoiceFromBalance(t *testing.T) {
	m := newMerchantHarness(t)
	key := m.key(t, m.StoreID, auth.ScopeInvoiceWrite)
	inv := m.create(t, key, `{"amount":"72.00"}`)
	path := "/api/v1/invoices/" + inv.ID + "/pay"

	for _, tc := range []struct {
		name, auth, body string
		status           int
		code, field      string
	}{
		{"no session", "", `{"asset":"USDT-ERC20"}`, 401, "unauthorized", ""},
		{"an API key is no session", key, `{"asset":"USDT-ERC20"}`, 401, "unauthorized", ""},
		{"no asset", "Bearer " + payerSession, `{}`, 400, "invalid", "asset"},
		{"unknown field", "Bearer " + payerSession, `{"asset":"USDT-ERC20","amount":"1"}`, 400, "invalid", ""},
		{"asset not quoted", "Bearer " + payerSession, `{"asset":"DOGE"}`, 400, "invalid", ""},
		{"balance too low", "Bearer " + ownerSession, `{"asset":"USDT-ERC20"}`, 422, "exceeds_credits", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := m.do(t, "POST", path, tc.auth, tc.body)
			require.Equal(t, tc.status, status, "%s", b)
			var e struct {
				Code   string         `json:"code"`
				Fields []fieldProblem `json:"fields"`
			}
			require.NoError(t, json.Unmarshal(b, &e))
			require.Equal(t, tc.code, e.Code)
			if tc.field != "" {
				require.Equal(t, tc.field, e.Fields[0].Path)
			}
		})
	}

	before := m.Balance(t, invoice.UserAccount(m.Payer, "USDT-ERC20"))
	status, _, b := m.do(t, "POST", path, "Bearer "+payerSession, `{"asset":"USDT-ERC20"}`, "Idempotency-Key", "pay-1")
	require.Equal(t, 200, status, "%s", b)
	var paid struct {
		ID, Status, Currency, Amount string
		PaidAmount                   string `json:"paid_amount"`
		CheckoutLink                 string `json:"checkout_link"`
	}
	require.NoError(t, json.Unmarshal(b, &paid))
	require.Equal(t, inv.ID, paid.ID)
	require.Equal(t, "Settled", paid.Status)
	require.Equal(t, "72.00", paid.PaidAmount)
	require.NotContains(t, string(b), "metadata")
	after := m.Balance(t, invoice.UserAccount(m.Payer, "USDT-ERC20"))
	spent, ok := chengdui.SubAmounts(before, after)
	require.True(t, ok)
	require.Equal(t, "10000000", spent.String(), "10 USDT at 7.2 CNY")

	status, hdr, again := m.do(t, "POST", path, "Bearer "+payerSession, `{"asset":"USDT-ERC20"}`, "Idempotency-Key", "pay-1")
	require.Equal(t, 200, status)
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	require.Equal(t, string(b), string(again))
	require.Equal(t, after, m.Balance(t, invoice.UserAccount(m.Payer, "USDT-ERC20")), "paid once")

	// A payment of all that was due is worth the whole amount, though the
	// due was rounded down (0.694444 USDC for 5 CNY at 7.2).
	five := m.create(t, key, `{"amount":"5","checkout":{"paymentMethods":["BALANCE"]}}`)
	status, _, b = m.do(t, "POST", "/api/v1/invoices/"+five.ID+"/pay", "Bearer "+payerSession, `{"asset":"USDC-ERC20"}`)
	require.Equal(t, 200, status, "%s", b)
	status, _, b = m.do(t, "GET", "/api/v1/invoices/"+five.ID+"/payment-methods", key, "")
	require.Equal(t, 200, status, "%s", b)
	fiveMethods := decodeAs[[]gfMethod](t, b)
	require.Len(t, fiveMethods, 1)
	require.Equal(t, "5.00", fiveMethods[0].PaymentMethodPaid)
	require.Equal(t, "5.00", fiveMethods[0].TotalPaid)
	require.Equal(t, "5.00", fiveMethods[0].Payments[0].Value)

	// The merchant sees the balance payment without the payer's ids.
	status, _, b = m.do(t, "GET", "/api/v1/invoices/"+inv.ID+"/payment-methods", key, "")
	require.Equal(t, 200, status, "%s", b)
	require.NotContains(t, string(b), m.Payer)
	for _, pm := range decodeAs[[]gfMethod](t, b) {
		if pm.PaymentMethodID == invoice.MethodBalance {
			require.Equal(t, "72.00", pm.PaymentMethodPaid)
			require.Equal(t, "0.00", pm.Due)
			require.Len(t, pm.Payments, 1)
			require.Equal(t, "72.00", pm.Payments[0].Value)
			require.Equal(t, "USDT-ERC20", pm.Payments[0].Destination)
		}
	}
}

// FuzzCreateInvoice sends any body to invoice creation: the answer is an
// invoice (200) or a refusal with a code (400, 413) or field errors (422),
// never a server error, and a refusal creates nothing.
func FuzzCreateInvoice(f *testing.F) {
	for _, seed := range []string{
		`{"amount":"72.00","currency":"CNY","metadata":{"orderId":"A-1"}}`,
		`{"amount":10,"checkout":{"paymentMethods":["BTC","BALANCE"],"expirationMinutes":"30","paymentTolerance":"1.5"}}`,
		`{"amount":null,"currency":null,"metadata":null,"checkout":null,"receipt":{"enabled":true}}`,
		`{"amount":"1e3"}`, `{"amount":-1}`, `{"amount":"0.001","currency":"usd"}`, `{"amount":"99999999999999999999999999999999999999999"}`,
		`{"checkout":{"expirationMinutes":1e309}}`, `{"checkout":{"monitoringMinutes":-0}}`, `{"checkout":{"speedPolicy":""}}`,
		`{"metadata":{"orderId":12}}`, `{"amount":"5","checkout":{"defaultPaymentMethod":"ETH","paymentMethods":["BTC-CHAIN"]}}`,
		`{"amount":"1","checkout":{"redirectURL":"https://x/\u0000"}}`, `[]`, `"x"`, `{"amount":{}}`, ``,
	} {
		f.Add(seed)
	}
	m := newMerchantHarness(f)
	key := m.key(f, m.StoreID, auth.ScopeInvoiceWrite)
	f.Fuzz(func(t *testing.T, body string) {
		before := m.count(t, m.StoreID)
		status, _, b := m.do(t, "POST", "/api/v1/stores/"+m.StoreID+"/invoices", key, body)
		switch status {
		case 200:
			require.NotEmpty(t, decodeAs[gfInvoice](t, b).ID)
			require.Equal(t, before+1, m.count(t, m.StoreID))
			return
		case 422:
			fields := decodeAs[[]fieldProblem](t, b)
			require.NotEmpty(t, fields)
			for _, f := range fields {
				require.NotEmpty(t, f.Path)
				require.NotEmpty(t, f.Message)
			}
		case 400, 413:
			p := decodeAs[problem](t, b)
			require.NotEmpty(t, p.Code)
			require.NotEmpty(t, p.Message)
		default:
			t.Fatalf("status %d for %q: %s", status, body, b)
		}
		require.Equal(t, before, m.count(t, m.StoreID), "a refusal creates nothing")
	})
}

// FuzzListInvoices sends any query to the invoice list: a list or a 400.
func FuzzListInvoices(f *testing.F) {
	for _, seed := range []string{"", "orderId=A&orderId=B", "status=New&status=Paid", "startDate=0&endDate=99999999999",
		"skip=10000&take=1000", "take=0", "after=%00", "includeArchived=1&includePaymentMethods=T", "textSearch=", "startDate=-1"} {
		f.Add(seed)
	}
	m := newMerchantHarness(f)
	key := m.key(f, m.StoreID, auth.ScopeInvoiceRead)
	f.Fuzz(func(t *testing.T, query string) {
		for _, c := range []byte(query) {
			if c <= ' ' || c >= 0x7f || c == '#' {
				t.Skip("not a query an HTTP client sends as is")
			}
		}
		status, _, b := m.do(t, "GET", "/api/v1/stores/"+m.StoreID+"/invoices?"+query, key, "")
		switch status {
		case 200:
			decodeAs[[]gfInvoice](t, b)
		case 400:
			require.Equal(t, "invalid", decodeAs[problem](t, b).Code)
		default:
			t.Fatalf("status %d for %q: %s", status, query, b)
		}
	})
}
