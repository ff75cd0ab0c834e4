package http_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"chengdui/invoice"
	"chengdui/wallet"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// checkoutChromium finds a Chromium to drive, skipping without one —
// except under CI=true, where a missing browser is a failure. (The same
// rule as cmd/chengdui's browser tests.)
func checkoutChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHENGDUI_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI (apt-get install chromium)")
	}
	t.Skip("no Chromium; install it (apt-get install chromium) or set CHENGDUI_TEST_CHROMIUM")
	return ""
}

// startBrowser starts a headless Chromium the size of a phone, stopped
// when the test ends. The first run starts the browser, without a timeout
// (it would stop the browser): every later step takes its own.
func startBrowser(t *testing.T, exe string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844), // a phone
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(browserCtx))
	return browserCtx
}

// TestCheckoutBrowser drives a real headless Chromium through the hosted
// checkout: the page shows the amount and the address, the payment the
// "chain" sees turns it Processing then Settled without a reload, in
// English and in Chinese, and a logged-in payer pays from a balance with
// the form's button.
func TestCheckoutBrowser(t *testing.T) {
	exe := checkoutChromium(t)
	h := newCheckoutHarness(t)

	browserCtx := startBrowser(t, exe)

	do := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	// follow runs steps that navigate (a click on a link or a button) and
	// waits for the new page.
	follow := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx, steps...)
		require.NoError(t, err)
		require.Equal(t, int64(200), resp.Status, resp.URL)
	}
	text := func(t *testing.T, sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, sel)
		return v
	}
	eval := func(t *testing.T, js string) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		require.NoError(t, err, js)
		return v
	}
	// waitStatus waits (30 s at most) until the status reads want.
	waitStatus := func(t *testing.T, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("co-status").textContent === `+coJS(want),
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
		require.NoError(t, err, "the status never read %q (it reads %q)", want, text(t, "#co-status"))
	}
	// screenshot keeps a picture of the page, in $CHENGDUI_SCREENSHOTS to
	// look at, else in a temporary directory.
	screenshot := func(t *testing.T, name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.Greater(t, len(shot), 1000)
		dir := os.Getenv("CHENGDUI_SCREENSHOTS")
		if dir == "" {
			dir = t.TempDir()
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o600))
	}

	t.Run("english, paid on chain", func(t *testing.T) {
		inv := h.create(t, invoice.CreateRequest{Amount: "100"})
		btc, _ := inv.Method(invoice.MethodBTC)
		do(t, chromedp.Navigate(h.url+"/i/"+inv.ID), chromedp.WaitVisible(`#co-address`))
		require.Equal(t, btc.Destination, text(t, "#co-address"))
		require.Equal(t, "0.00023148", text(t, "#co-due"))
		require.Equal(t, "100.00 CNY", text(t, "#co-amount"))
		require.Equal(t, "Awaiting payment", text(t, "#co-status"))
		do(t, chromedp.WaitVisible(`button[data-copy="co-address"]`)) // shown by the script
		do(t, chromedp.WaitVisible(`#co-qr`))
		// The countdown runs (the server said 15:00 left).
		do(t, chromedp.Poll[chromedp.Void](`document.getElementById("co-countdown").textContent !== "15:00"`, chromedp.WithPollingTimeout(10*time.Second)))
		screenshot(t, "checkout-new.png")
		// A marker a reload would wipe.
		eval(t, `window.coMarker = 42`)

		h.Pay(t, inv, invoice.MethodBTC, uint128.From64(23148), "browser-tx", 0, 100)
		waitStatus(t, "Payment received, awaiting confirmation")
		do(t, chromedp.WaitVisible(`#co-processing`), chromedp.WaitNotVisible(`#co-pay`))
		h.Pay(t, inv, invoice.MethodBTC, uint128.From64(23148), "browser-tx", 101, 101)
		waitStatus(t, "Settled")
		do(t, chromedp.WaitVisible(`#co-settled`), chromedp.WaitNotVisible(`#co-processing`))
		require.Equal(t, float64(42), eval(t, `window.coMarker`), "the page changed without a reload")
		require.Equal(t, "100.00", text(t, "#co-paid"))
		screenshot(t, "checkout-settled.png")
	})

	t.Run("chinese by Accept-Language", func(t *testing.T) {
		inv := h.create(t, invoice.CreateRequest{Amount: "100"})
		eth, _ := inv.Method(invoice.MethodETH)
		do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}})
			return err
		}))
		do(t, chromedp.Navigate(h.url+"/i/"+inv.ID), chromedp.WaitVisible(`#co-address`))
		require.Equal(t, "等待付款", text(t, "#co-status"))
		require.Contains(t, text(t, "h1"), "支付账单")
		// Another method is a link away; the language stays.
		follow(t, chromedp.Click(`nav.methods a[href*="method=ETH"]`))
		do(t, chromedp.WaitVisible(`#co-intent`))
		require.Equal(t, eth.Destination, text(t, "#co-address"))
		require.Equal(t, "0.004629629629629629", text(t, "#co-due"))
		eval(t, `window.coMarker = 7`)

		h.Pay(t, inv, invoice.MethodETH, uint128.From64(4629629629629629), "0xbrowser", 101, 101)
		waitStatus(t, "已结算")
		do(t, chromedp.WaitVisible(`#co-settled`))
		require.Equal(t, float64(7), eval(t, `window.coMarker`))
		require.Contains(t, text(t, "#co-settled"), "支付成功")
		screenshot(t, "checkout-zh-settled.png")
		do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}})
			return err
		}))
	})

	t.Run("pay from balance", func(t *testing.T) {
		inv := h.create(t, invoice.CreateRequest{Amount: "100", DefaultLanguage: "zh-CN"})
		u, err := h.wallets.Register(context.Background(), "han.mei@example.com", "correct horse battery")
		require.NoError(t, err)
		_, err = h.wallets.Wallet(context.Background(), u.ID)
		require.NoError(t, err)
		coFund(t, h, u.ID, "USDT-ERC20", uint128.From64(50_000_000)) // 50 USDT

		// Not logged in: a link to the login page.
		do(t, chromedp.Navigate(h.url+"/i/"+inv.ID+"?method=BALANCE"), chromedp.WaitVisible(`#co-login`))
		follow(t, chromedp.Click(`#co-login`))
		do(t, chromedp.WaitVisible(`form[action="/login"]`),
			chromedp.SetValue(`input[name=email]`, "han.mei@example.com"),
			chromedp.SetValue(`input[name=password]`, "correct horse battery"))
		follow(t, chromedp.Click(`form[action="/login"] button[type=submit]`))
		do(t, chromedp.WaitVisible(`form[action="/logout"]`))

		do(t, chromedp.Navigate(h.url+"/i/"+inv.ID+"?method=BALANCE"), chromedp.WaitVisible(`#co-balance-pay`))
		require.Contains(t, text(t, "#co-balance"), "han.mei@example.com")
		// USDT is the asset the payer holds enough of: selected.
		require.Equal(t, "USDT-ERC20", eval(t, `document.querySelector('#co-balance-form select').value`))
		screenshot(t, "checkout-balance.png")
		follow(t, chromedp.Click(`#co-balance-pay`))
		waitStatus(t, "已结算")
		do(t, chromedp.WaitVisible(`#co-settled`))
		require.Equal(t, uint128.From64(50_000_000-13_888_888), h.Balance(t, wallet.AccountID(u.ID, "USDT-ERC20")))
		require.Equal(t, uint128.From64(13_888_888), h.Balance(t, invoice.StoreAccount(h.StoreID, "USDT-ERC20")))
		require.Equal(t, invoice.Settled, h.status(t, inv.ID).Status)
	})
}

// coJS quotes s for a JavaScript expression.
func coJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
