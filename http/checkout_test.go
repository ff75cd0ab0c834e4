package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	chttp "chengdui/http"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/keys"
	"chengdui/wallet"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// checkoutHarness is a server with the hosted checkout on a real invoice
// service (SQLite, the ledger engine, the deposit service) and wallets on
// the same database, so a registered user can pay from a balance.
type checkoutHarness struct {
	*invoicetest.Harness
	url     string
	handler nethttp.Handler
	wallets *wallet.Service
	logs    *syncBuffer
}

func newCheckoutHarness(t testing.TB) *checkoutHarness {
	t.Helper()
	return newCheckoutHarnessWith(t, nil)
}

// newCheckoutHarnessWith is newCheckoutHarness with a Config edit.
func newCheckoutHarnessWith(t testing.TB, edit func(*chttp.Config)) *checkoutHarness {
	t.Helper()
	h := invoicetest.New(t)
	ws, err := wallet.New(h.DB, h.Ledger, h.DB, wallet.Config{Network: keys.Regtest, Password: auth.TestParams()})
	require.NoError(t, err)
	logs := &syncBuffer{}
	cfg := chttp.Config{Ledger: h.Ledger, Store: h.DB, Registry: prometheus.NewRegistry(),
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Wallets: ws, Invoices: h.Invoices, Now: h.Now}
	if edit != nil {
		edit(&cfg)
	}
	srv := chttp.NewServer(cfg)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &checkoutHarness{Harness: h, url: ts.URL, handler: srv.Handler(), wallets: ws, logs: logs}
}

// create makes an invoice.
func (h *checkoutHarness) create(t testing.TB, req invoice.CreateRequest) invoice.Invoice {
	t.Helper()
	if req.StoreID == "" {
		req.StoreID = h.StoreID
	}
	inv, err := h.Invoices.Create(context.Background(), req)
	require.NoError(t, err)
	return inv
}

// status is the invoice's stored status.
func (h *checkoutHarness) status(t testing.TB, id string) invoice.Invoice {
	t.Helper()
	inv, err := h.Invoices.Invoice(context.Background(), id)
	require.NoError(t, err)
	return inv
}

// coBrowser is an HTTP client with cookies that does not follow redirects.
type coBrowser struct {
	t      *testing.T
	base   string
	client *nethttp.Client
}

func newCoBrowser(t *testing.T, base string) *coBrowser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &coBrowser{t: t, base: base, client: &nethttp.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}}
}

func (b *coBrowser) get(path string, header ...string) (*nethttp.Response, string) {
	b.t.Helper()
	req, err := nethttp.NewRequest("GET", b.base+path, nil)
	require.NoError(b.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(body)
}

func (b *coBrowser) post(path string, form url.Values) (*nethttp.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(b.base+path, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(body)
}

// login registers a user through the wallet service, logs in through the
// login form and funds the user's balance of each asset given.
func (b *coBrowser) login(h *checkoutHarness, email string, funds map[string]string) chengdui.User {
	b.t.Helper()
	t := b.t
	ctx := context.Background()
	u, err := h.wallets.Register(ctx, email, "correct horse battery")
	require.NoError(t, err)
	_, err = h.wallets.Wallet(ctx, u.ID) // opens the wallet's accounts
	require.NoError(t, err)
	_, body := b.get("/login")
	resp, _ := b.post("/login", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}, "email": {email}, "password": {"correct horse battery"}})
	require.Equal(t, 303, resp.StatusCode)
	for asset, amount := range funds {
		dec := map[string]uint8{"BTC": 8, "ETH": 18, "USDT-ERC20": 6, "USDC-ERC20": 6}[asset]
		amt, err := chengdui.ParseDecimal(amount, dec)
		require.NoError(t, err)
		coFund(t, h, u.ID, asset, amt)
	}
	return u
}

// coFund credits a user's balance from the harness's chain account.
func coFund(t testing.TB, h *checkoutHarness, userID, asset string, amount chengdui.Amount) {
	t.Helper()
	res, err := h.Ledger.CreateTransfers(context.Background(), []chengdui.Transfer{{ID: "fund:" + userID + ":" + asset,
		DebitAccountID: "platform:" + asset + ":chain", CreditAccountID: wallet.AccountID(userID, asset), Amount: amount, Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

// coTextOf returns the text of the element with the given id (no nested tags).
func coTextOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	require.NotNil(t, m, "no element #%s in the page", id)
	return m[1]
}

// coHidden reports whether the element with the given id has the hidden
// attribute.
func coHidden(t *testing.T, body, id string) bool {
	t.Helper()
	m := regexp.MustCompile(`<[a-z]+ id="` + regexp.QuoteMeta(id) + `"([^>]*)>`).FindStringSubmatch(body)
	require.NotNil(t, m, "no element #%s in the page", id)
	return strings.Contains(m[1], "hidden")
}

func TestCheckoutPage(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100", Currency: "CNY", Metadata: json.RawMessage(`{"orderId":"A-17"}`)})
	btc, _ := inv.Method(invoice.MethodBTC)
	eth, _ := inv.Method(invoice.MethodETH)
	usdt, _ := inv.Method(invoice.MethodUSDT)
	b := newCoBrowser(t, h.url)

	resp, body := b.get("/i/" + inv.ID)
	require.Equal(t, 200, resp.StatusCode)
	// Security headers: only this response's nonce runs.
	csp := resp.Header.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`<script nonce="([^"]+)">`).FindStringSubmatch(body)
	require.NotNil(t, nonce)
	require.Contains(t, csp, "script-src 'nonce-"+nonce[1]+"'")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	// A second response gets another nonce.
	_, again := b.get("/i/" + inv.ID)
	require.NotContains(t, again, nonce[1])
	// Nothing from elsewhere: no external script, style, font or image.
	require.NotRegexp(t, `(src|href)="(https?:)?//`, body)
	require.Contains(t, body, `<meta name="viewport" content="width=device-width, initial-scale=1">`)

	// English by default: the store, the amount, the status, BTC first.
	require.Contains(t, body, `<html lang="en">`)
	require.Equal(t, "Tea House 茶馆", coTextOf(t, body, "co-store"))
	require.Contains(t, body, "Order A-17")
	require.Equal(t, "100.00 CNY", coTextOf(t, body, "co-amount"))
	require.Equal(t, "Awaiting payment", coTextOf(t, body, "co-status"))
	require.Equal(t, "0.00023148", coTextOf(t, body, "co-due"), "100 CNY at 432,000 CNY/BTC, rounded down to the satoshi")
	require.Equal(t, btc.Destination, coTextOf(t, body, "co-address"))
	require.True(t, strings.HasPrefix(btc.Destination, "bcrt1q"), btc.Destination)
	require.Equal(t, "bitcoin:"+btc.Destination+"?amount=0.00023148", coTextOf(t, body, "co-link-text"))
	require.Contains(t, body, `href="bitcoin:`+btc.Destination+`?amount=0.00023148"`)
	require.Regexp(t, `<img class="qr" id="co-qr" alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9/=]|&#43;){200,}">`, body)
	require.Equal(t, "1 BTC = 432000 CNY", coTextOf(t, body, "co-rate"))
	require.Equal(t, "2026-11-26 12:15:00 UTC", coTextOf(t, body, "co-expiry"))
	require.Equal(t, "15:00", coTextOf(t, body, "co-countdown"))
	require.False(t, coHidden(t, body, "co-pay"))
	require.True(t, coHidden(t, body, "co-settled"))
	require.True(t, coHidden(t, body, "co-progress"))
	require.Regexp(t, `<a href="/i/`+inv.ID+`\?lang=en&amp;method=BTC-CHAIN" aria-current="page">Bitcoin</a>`, body)
	require.Contains(t, body, `<a href="/i/`+inv.ID+`?lang=zh-CN&amp;method=BTC-CHAIN" lang="zh-CN" hreflang="zh-CN">简体中文</a>`)
	// Copy buttons are shown by the script; the text is selectable without.
	require.Contains(t, body, `<button type="button" class="copy" data-copy="co-address" hidden>Copy</button>`)
	// The script's settings and the live stream's address.
	require.Contains(t, body, `"events":"/i/`+inv.ID+`/events?lang=en\u0026method=BTC-CHAIN"`)
	require.Contains(t, body, `"secondsLeft":900`)

	// Not logged in: the balance tab links to the login page, no form.
	_, body = b.get("/i/" + inv.ID + "?method=BALANCE")
	require.Contains(t, body, `href="/login" id="co-login"`)
	require.NotContains(t, body, `action="/i/`+inv.ID+`/pay"`)

	// Switching methods is a link: ether, with the router intent.
	_, body = b.get("/i/" + inv.ID + "?method=ETH")
	require.Equal(t, "0.004629629629629629", coTextOf(t, body, "co-due"), "100/21600 ETH to the wei")
	require.Equal(t, eth.Destination, coTextOf(t, body, "co-address"))
	require.Equal(t, fmt.Sprintf("ethereum:%s@1337?value=4629629629629629", eth.Destination), coTextOf(t, body, "co-link-text"))
	require.Equal(t, "EVM chain id 1337. Send on this chain only.", coTextOf(t, body, "co-network"))
	require.Equal(t, h.Router.Hex(), coTextOf(t, body, "co-intent-router"))
	require.Equal(t, eth.Intent.ID, coTextOf(t, body, "co-intent-id"))
	require.Equal(t, "4629629629629629", coTextOf(t, body, "co-intent-amount"))
	require.Equal(t, eth.Intent.Signature, coTextOf(t, body, "co-intent-signature"))
	require.Equal(t, fmt.Sprintf("%d (2026-11-26 12:15:00 UTC)", inv.ExpiresAt.Unix()), coTextOf(t, body, "co-intent-deadline"))
	// A token: EIP-681 transfer to the token contract.
	_, body = b.get("/i/" + inv.ID + "?method=USDT-ERC20")
	require.Equal(t, "13.888888", coTextOf(t, body, "co-due"))
	require.Equal(t, usdt.Token, coTextOf(t, body, "co-token"))
	require.Equal(t, fmt.Sprintf("ethereum:%s@1337/transfer?address=%s&amp;uint256=13888888", usdt.Token, usdt.Destination), coTextOf(t, body, "co-link-text"))
	// An unknown method falls back to the first.
	_, body = b.get("/i/" + inv.ID + "?method=DOGE")
	require.Equal(t, btc.Destination, coTextOf(t, body, "co-address"))

	// Chinese: by Accept-Language, by ?lang= (which wins), or as the
	// invoice's default.
	for _, c := range []struct {
		name, path, accept, want string
	}{
		{"accept-language", "/i/" + inv.ID, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"accept-language q", "/i/" + inv.ID, "en;q=0.5, zh;q=0.9", "zh-CN"},
		{"accept-language none we speak", "/i/" + inv.ID, "fr-FR, de;q=0.8", "en"},
		{"query wins", "/i/" + inv.ID + "?lang=zh-CN", "en-US", "zh-CN"},
		{"query en", "/i/" + inv.ID + "?lang=en", "zh-CN", "en"},
		{"bad query ignored", "/i/" + inv.ID + "?lang=xx", "zh-CN", "zh-CN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, body := b.get(c.path, "Accept-Language", c.accept)
			require.Contains(t, body, `<html lang="`+c.want+`">`)
			if c.want == "zh-CN" {
				require.Equal(t, "等待付款", coTextOf(t, body, "co-status"))
				require.Contains(t, body, "支付账单")
				require.Contains(t, body, "订单 A-17")
				require.Contains(t, body, ">比特币</a>")
				require.Equal(t, "0.00023148", coTextOf(t, body, "co-due"))
				require.Equal(t, btc.Destination, coTextOf(t, body, "co-address"))
				require.Contains(t, body, ">复制</button>")
				require.Contains(t, body, "有效期至")
			} else {
				require.Equal(t, "Awaiting payment", coTextOf(t, body, "co-status"))
			}
		})
	}
	zh := h.create(t, invoice.CreateRequest{Amount: "100", DefaultLanguage: "zh-CN", DefaultPaymentMethod: invoice.MethodUSDT})
	_, body = b.get("/i/"+zh.ID, "Accept-Language", "en")
	require.Contains(t, body, `<html lang="zh-CN">`)
	require.Equal(t, "13.888888", coTextOf(t, body, "co-due"), "the invoice's default method")
	_, body = b.get("/i/" + zh.ID + "?lang=en")
	require.Contains(t, body, `<html lang="en">`)
}

func TestCheckoutTopUp(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Currency: "CNY"})
	btc, _ := inv.Method(invoice.MethodBTC)
	b := newCoBrowser(t, h.url)
	_, body := b.get("/i/" + inv.ID)
	require.Contains(t, coTextOf(t, body, "co-amount"), "Any amount")
	require.Contains(t, body, `id="co-topup"`)
	require.Contains(t, body, "Top-up: pay any amount you like.")
	require.NotContains(t, body, `id="co-due"`)
	require.Equal(t, "bitcoin:"+btc.Destination, coTextOf(t, body, "co-link-text"), "no amount in the link")
	require.Equal(t, "1 BTC = 432000 CNY", coTextOf(t, body, "co-rate"))
	_, body = b.get("/i/" + inv.ID + "?lang=zh-CN")
	require.Contains(t, coTextOf(t, body, "co-amount"), "任意金额")
	require.Contains(t, body, "充值账单")
	// Paying a top-up from a balance is not offered.
	_, body = b.get("/i/" + inv.ID + "?method=BALANCE")
	require.Contains(t, body, "A top-up invoice is paid on chain")

	// Any payment pays it.
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(5000), "topup-tx", 101, 101)
	_, body = b.get("/i/" + inv.ID)
	require.Equal(t, "Settled", coTextOf(t, body, "co-status"))
	require.Equal(t, "21.60", coTextOf(t, body, "co-paid"), "5,000 sat at 432,000 CNY/BTC")
}

func TestCheckoutPartialPayment(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	b := newCoBrowser(t, h.url)
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(11574), "half", 101, 101) // half of 23,148 sat

	_, body := b.get("/i/" + inv.ID)
	require.Equal(t, "Awaiting payment", coTextOf(t, body, "co-status"))
	require.Equal(t, "Partially paid", coTextOf(t, body, "co-additional"))
	require.Equal(t, "Paid 0.00011574 of 0.00023148 BTC, 0.00011574 BTC left.", coTextOf(t, body, "co-progress"))
	require.False(t, coHidden(t, body, "co-progress"))
	require.Equal(t, "0.00011574", coTextOf(t, body, "co-due"))
	require.Contains(t, coTextOf(t, body, "co-link-text"), "?amount=0.00011574")
	require.Equal(t, "50.00", coTextOf(t, body, "co-paid"))

	// In ether: what is left rounds up, what was paid down, to the wei.
	_, body = b.get("/i/" + inv.ID + "?method=ETH&lang=zh-CN")
	require.Equal(t, "部分付款", coTextOf(t, body, "co-additional"))
	require.Equal(t, "已付 0.002314814814814814 / 0.004629629629629629 ETH，还需支付 0.002314814814814815 ETH。", coTextOf(t, body, "co-progress"))
	require.NotContains(t, body, `id="co-intent"`, "the router intent pays the whole amount: not offered after a partial payment")

	// The JSON says the same.
	resp, raw := b.get("/i/" + inv.ID + "/status.json?method=ETH")
	require.Equal(t, 200, resp.StatusCode)
	var st struct {
		Status, AdditionalStatus, Paid, Progress, Method string
		Final                                            bool
		Methods                                          []struct{ ID, Due, TotalPaid, Paid, Amount string }
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &st))
	require.Equal(t, "New", st.Status)
	require.Equal(t, "PaidPartial", st.AdditionalStatus)
	require.Equal(t, "50.00", st.Paid)
	require.Equal(t, "ETH", st.Method)
	require.False(t, st.Final)
	require.Equal(t, "Paid 0.002314814814814814 of 0.004629629629629629 ETH, 0.002314814814814815 ETH left.", st.Progress)
	require.Equal(t, "BTC-CHAIN", st.Methods[0].ID)
	require.Equal(t, "0.00011574", st.Methods[0].Paid)
	require.Equal(t, "0.00011574", st.Methods[0].Due)
	require.Equal(t, "0.00023148", st.Methods[0].Amount)
}

func TestCheckoutExpired(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	b := newCoBrowser(t, h.url)
	h.Advance(15*time.Minute + time.Second)

	// Past its expiry the page says so before the clock's tick records it.
	_, body := b.get("/i/" + inv.ID)
	require.Equal(t, "Expired", coTextOf(t, body, "co-status"))
	require.True(t, coHidden(t, body, "co-pay"), "no address to pay an expired invoice")
	require.False(t, coHidden(t, body, "co-expired"))
	require.Contains(t, body, "This invoice expired. Do not pay it.")

	_, err := h.Invoices.Tick(context.Background(), 10)
	require.NoError(t, err)
	require.Equal(t, invoice.Expired, h.status(t, inv.ID).Status)
	_, body = b.get("/i/" + inv.ID + "?lang=zh-CN")
	require.Equal(t, "已过期", coTextOf(t, body, "co-status"))
	require.Contains(t, body, "该账单已过期")
	require.Contains(t, body, `"final":false`, "late payments are watched for until monitoring ends")

	h.Advance(24 * time.Hour)
	_, err = h.Invoices.Tick(context.Background(), 10)
	require.NoError(t, err)
	_, raw := b.get("/i/" + inv.ID + "/status.json")
	require.Contains(t, raw, `"final":true`)
	require.Contains(t, raw, `"status":"Expired"`)
	require.Contains(t, raw, `"secondsLeft":0`)
}

func TestCheckoutNotFound(t *testing.T) {
	h := newCheckoutHarness(t)
	b := newCoBrowser(t, h.url)
	for _, path := range []string{"/i/NoSuchInvoice1234567", "/i/" + strings.Repeat("x", 200), "/i/bad%20id%3Cscript%3E"} {
		resp, body := b.get(path)
		require.Equal(t, 404, resp.StatusCode, path)
		require.Contains(t, body, "Invoice not found")
		require.Contains(t, body, "找不到该账单")
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		require.NotContains(t, body, "<script>")
	}
	resp, body := b.get("/i/NoSuchInvoice1234567/status.json")
	require.Equal(t, 404, resp.StatusCode)
	require.Contains(t, body, `"code":"not_found"`)
	resp, _ = b.get("/i/NoSuchInvoice1234567/events")
	require.Equal(t, 404, resp.StatusCode)
	resp, body = b.post("/i/NoSuchInvoice1234567/pay", url.Values{})
	require.Equal(t, 404, resp.StatusCode)
	require.Contains(t, body, "找不到该账单")
}

// coEvent is one Server-Sent Event.
type coEvent struct {
	name string
	data string
}

// coReadEvents reads a stream's events into a channel, closed at the end of
// the stream.
func coReadEvents(r io.Reader) <-chan coEvent {
	out := make(chan coEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev coEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					out <- ev
				}
				ev = coEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// coNextStatus waits for the next status event.
func coNextStatus(t *testing.T, events <-chan coEvent) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended")
			if ev.name != "status" {
				continue
			}
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(ev.data), &doc))
			return doc
		case <-timeout:
			t.Fatal("no status event within 20 s")
		}
	}
}

// coRequireEnded waits for the stream's end.
func coRequireEnded(t *testing.T, events <-chan coEvent) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			require.NotEqual(t, "status", ev.name, "a status after the final one: %s", ev.data)
		case <-timeout:
			t.Fatal("the stream did not end at the final status")
		}
	}
}

func coOpenStream(t *testing.T, url string) <-chan coEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	req, err := nethttp.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	return coReadEvents(resp.Body)
}

func TestCheckoutEvents(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	events := coOpenStream(t, h.url+"/i/"+inv.ID+"/events?lang=zh-CN&method=BTC-CHAIN")

	first := coNextStatus(t, events)
	require.Equal(t, "New", first["status"])
	require.Equal(t, "等待付款", first["statusText"])
	require.Equal(t, float64(900), first["secondsLeft"])
	require.Equal(t, false, first["final"])
	require.True(t, strings.HasPrefix(first["qr"].(string), "data:image/png;base64,"))

	// A partial payment in the mempool, then the rest, then both
	// confirmed: each change arrives as it is saved (the service's Watch),
	// well before the next store poll would bring it.
	instant := func() map[string]any {
		t.Helper()
		start := time.Now()
		doc := coNextStatus(t, events)
		require.Less(t, time.Since(start), time.Second, "not from the 2 s poll")
		return doc
	}
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(10000), "part", 0, 100)
	doc := instant()
	require.Equal(t, "New", doc["status"])
	require.Equal(t, "PaidPartial", doc["additionalStatus"])
	require.Equal(t, "已付 0.0001 / 0.00023148 BTC，还需支付 0.00013148 BTC。", doc["progress"])
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(13148), "rest", 0, 100)
	doc = instant()
	require.Equal(t, "Processing", doc["status"])
	require.Equal(t, "已收到付款，等待确认", doc["statusText"])
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(10000), "part", 101, 101)
	h.Pay(t, inv, invoice.MethodBTC, uint128.From64(13148), "rest", 101, 101)
	for doc["status"] != "Settled" {
		doc = instant()
	}
	require.Equal(t, "已结算", doc["statusText"])
	require.Equal(t, true, doc["final"])
	coRequireEnded(t, events)

	// A settled invoice's stream says so once and ends.
	events = coOpenStream(t, h.url+"/i/"+inv.ID+"/events")
	require.Equal(t, "Settled", coNextStatus(t, events)["status"])
	coRequireEnded(t, events)
}

// TestCheckoutEventsPoll: a change saved by another process (here: straight
// to the store, so this process's Watch never hears of it) reaches the
// stream through the store poll.
func TestCheckoutEventsPoll(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	events := coOpenStream(t, h.url+"/i/"+inv.ID+"/events")
	require.Equal(t, "New", coNextStatus(t, events)["status"])

	stored := h.status(t, inv.ID)
	stored.Status, stored.Additional = invoice.Invalid, invoice.Marked
	_, err := h.DB.UpdateInvoice(context.Background(), stored, nil, nil)
	require.NoError(t, err)
	start := time.Now()
	doc := coNextStatus(t, events)
	require.Equal(t, "Invalid", doc["status"])
	require.Less(t, time.Since(start), 5*time.Second, "polled every 2 s")
	coRequireEnded(t, events)

	// Expiry reaches the stream by the clock alone.
	inv = h.create(t, invoice.CreateRequest{Amount: "100"})
	events = coOpenStream(t, h.url+"/i/"+inv.ID+"/events")
	require.Equal(t, "New", coNextStatus(t, events)["status"])
	h.Advance(16 * time.Minute)
	doc = coNextStatus(t, events)
	require.Equal(t, "Expired", doc["status"])
	require.Equal(t, false, doc["final"])
}

func TestCheckoutPayFromBalance(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100", RedirectURL: "https://shop.example/thanks?order=17", RedirectAutomatically: true})
	b := newCoBrowser(t, h.url)
	u := b.login(h, "li.lei@example.com", map[string]string{"BTC": "0.001"})
	payer := wallet.AccountID(u.ID, "BTC")
	require.Equal(t, uint128.From64(100000), h.Balance(t, payer))

	_, body := b.get("/i/" + inv.ID + "?method=BALANCE")
	require.Contains(t, body, "Logged in as li.lei@example.com")
	require.Contains(t, body, `action="/i/`+inv.ID+`/pay"`)
	require.Contains(t, body, `<option value="BTC" selected>0.00023148 BTC (you hold 0.001)</option>`)
	require.Contains(t, body, `<option value="ETH">0.004629629629629629 ETH (you hold 0)</option>`)
	token := csrfField.FindStringSubmatch(body)[1]

	// Without the CSRF token: refused, nothing paid.
	resp, body := b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"BTC"}, "lang": {"en"}})
	require.Equal(t, 403, resp.StatusCode)
	require.Equal(t, "This form expired. Reload the page and try again.", coTextOf(t, body, "co-error"))
	resp, _ = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {token + "x"}})
	require.Equal(t, 403, resp.StatusCode)
	require.Equal(t, uint128.From64(100000), h.Balance(t, payer))
	require.Equal(t, invoice.New, h.status(t, inv.ID).Status)

	// Too little of an asset: the reason in the page's language.
	resp, body = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"USDT-ERC20"}, "csrf": {token}, "lang": {"zh-CN"}})
	require.Equal(t, 422, resp.StatusCode)
	require.Equal(t, "您的 USDT 余额不足以支付该账单，未扣款。", coTextOf(t, body, "co-error"))
	require.Contains(t, body, `<html lang="zh-CN">`)
	resp, body = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"ETH"}, "csrf": {token}, "lang": {"en"}})
	require.Equal(t, 422, resp.StatusCode)
	require.Equal(t, "Your ETH balance is too low to pay this invoice. Nothing was paid.", coTextOf(t, body, "co-error"))
	// An asset the invoice was not quoted in.
	resp, body = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"CNY"}, "csrf": {token}, "lang": {"en"}})
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, coTextOf(t, body, "co-error"), "cannot be paid from a balance in that currency")
	require.Equal(t, uint128.From64(100000), h.Balance(t, payer))
	require.Equal(t, invoice.New, h.status(t, inv.ID).Status)

	// Paying: the payer is debited exactly what is due, the store credited.
	resp, _ = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {token}, "lang": {"en"}})
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, "/i/"+inv.ID+"?lang=en&method=BALANCE", resp.Header.Get("Location"))
	require.Equal(t, uint128.From64(100000-23148), h.Balance(t, payer))
	require.Equal(t, uint128.From64(23148), h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
	require.True(t, h.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")).IsZero())
	require.Equal(t, invoice.Settled, h.status(t, inv.ID).Status)

	_, body = b.get(resp.Header.Get("Location"))
	require.Equal(t, "Settled", coTextOf(t, body, "co-status"))
	require.False(t, coHidden(t, body, "co-settled"))
	require.True(t, coHidden(t, body, "co-pay"))
	require.Contains(t, body, `<a class="button" id="co-return" href="https://shop.example/thanks?order=17">Return to the store</a>`)
	require.Contains(t, body, `<meta http-equiv="refresh" content="5;url=https://shop.example/thanks?order=17">`)
	require.Contains(t, body, `"final":true`)

	// A second click pays nothing more.
	resp, _ = b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {token}, "lang": {"en"}})
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, uint128.From64(100000-23148), h.Balance(t, payer))

	// Paid on chain by someone else, or expired: refused, nothing paid.
	paid := h.create(t, invoice.CreateRequest{Amount: "100"})
	h.Pay(t, paid, invoice.MethodBTC, uint128.From64(23148), "chain-pay", 0, 100)
	resp, body = b.post("/i/"+paid.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {token}, "lang": {"en"}})
	require.Equal(t, 409, resp.StatusCode)
	require.Equal(t, "This invoice is already paid. Nothing more was charged.", coTextOf(t, body, "co-error"))
	late := h.create(t, invoice.CreateRequest{Amount: "100"})
	h.Advance(time.Hour)
	resp, body = b.post("/i/"+late.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {token}, "lang": {"zh-CN"}})
	require.Equal(t, 409, resp.StatusCode)
	require.Equal(t, "该账单已过期，未扣款。", coTextOf(t, body, "co-error"))
	require.Equal(t, uint128.From64(100000-23148), h.Balance(t, payer))
	require.NotContains(t, h.logs.String(), "level=ERROR")

	// Logged out: the form is gone, and a post is refused.
	other := newCoBrowser(t, h.url)
	fresh := h.create(t, invoice.CreateRequest{Amount: "100"})
	_, body = other.get("/i/" + fresh.ID + "?method=BALANCE")
	require.NotContains(t, body, `action="/i/`+fresh.ID+`/pay"`)
	require.Contains(t, body, `id="co-login"`)
	_, body = other.get("/login")
	resp, body = other.post("/i/"+fresh.ID+"/pay", url.Values{"asset": {"BTC"}, "csrf": {csrfField.FindStringSubmatch(body)[1]}})
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, "Log in to pay from your balance.", coTextOf(t, body, "co-error"))
}

// TestCheckoutWithoutWallets: a server without wallets (no keystore) has
// no balance payments: the tab says so and there is no form to post.
func TestCheckoutWithoutWallets(t *testing.T) {
	h := newCheckoutHarnessWith(t, func(c *chttp.Config) { c.Wallets = nil })
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	b := newCoBrowser(t, h.url)
	_, body := b.get("/i/" + inv.ID + "?method=BALANCE")
	require.Contains(t, body, "Paying from a balance is not available on this server.")
	require.NotContains(t, body, `id="co-login"`)
	resp, _ := b.post("/i/"+inv.ID+"/pay", url.Values{"asset": {"BTC"}})
	require.Equal(t, 404, resp.StatusCode)
	_, body = b.get("/i/" + inv.ID + "?method=BALANCE&lang=zh-CN")
	require.Contains(t, body, "本服务器不支持余额支付。")
}

// FuzzCheckoutLanguage: whatever the language parameters and headers, the
// page renders in one of its languages (the handlers' parsers of outside
// input: ?lang=, Accept-Language, ?method=).
func FuzzCheckoutLanguage(f *testing.F) {
	h := newCheckoutHarness(f)
	inv := h.create(f, invoice.CreateRequest{Amount: "100"})
	for _, s := range [][3]string{{"zh-CN", "en", "ETH"}, {"", "zh;q=0.5,en;q=0.4", ""}, {"EN", "*;q=1,zh-TW;q=0.99", "BALANCE"},
		{"zh", ";q=,,;;", "x"}, {"", "en;q=abc, zh;q=2", ""}, {"", strings.Repeat("zh,", 100), ""}, {"", "en;q=NaN,zh;q=0.1", ""}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, lang, accept, method string) {
		q := url.Values{"lang": {lang}, "method": {method}}
		req := httptest.NewRequest("GET", "/i/"+inv.ID+"?"+q.Encode(), nil)
		req.Header.Set("Accept-Language", accept)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, 200, rec.Code)
		require.Regexp(t, `<html lang="(en|zh-CN)">`, rec.Body.String())
		if l := strings.ToLower(lang); l == "en" || l == "zh-cn" {
			require.Contains(t, rec.Body.String(), `<html lang="`+map[string]string{"en": "en", "zh-cn": "zh-CN"}[l]+`">`)
		}
	})
}

// TestCheckoutEventsDisconnect: a stream's handler ends when its client
// goes away (the request metric is counted when the handler returns).
func TestCheckoutEventsDisconnect(t *testing.T) {
	h := newCheckoutHarness(t)
	inv := h.create(t, invoice.CreateRequest{Amount: "100"})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := nethttp.NewRequestWithContext(ctx, "GET", h.url+"/i/"+inv.ID+"/events", nil)
	require.NoError(t, err)
	resp, err := nethttp.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "New", coNextStatus(t, coReadEvents(resp.Body))["status"])
	metric := `chengdui_http_requests_total{method="GET",route="GET /i/{invoiceId}/events",status="200"} 1`
	b := newCoBrowser(t, h.url)
	_, body := b.get("/metrics")
	require.NotContains(t, body, metric, "the stream is open")
	cancel()
	require.Eventually(t, func() bool {
		_, body := b.get("/metrics")
		return strings.Contains(body, metric)
	}, 10*time.Second, 50*time.Millisecond, "the handler did not end when its client left")
}
