package http_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"chengdui/refund"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestRefundPageBrowser drives a real headless Chromium through the
// payer's refund page: in Chinese, a bad address is refused and kept in
// the field, a good one sends the refund (a withdrawal is queued) and the
// page says it is being sent.
func TestRefundPageBrowser(t *testing.T) {
	exe := checkoutChromium(t)
	m := newRefundHarness(t)
	ctx := context.Background()
	inv := m.settled(t, 0)
	r, err := m.refunds.Create(ctx, refund.CreateRequest{StoreID: m.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen, SubtractPercentage: "50"})
	require.NoError(t, err)

	browserCtx := startBrowser(t, exe)
	// follow runs steps that navigate (a form's submit) and waits for the
	// new page.
	follow := func(t *testing.T, want int64, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx, steps...)
		require.NoError(t, err)
		require.Equal(t, want, resp.Status, resp.URL)
	}
	do := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	get := func(t *testing.T, a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browserCtx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		require.NoError(t, err)
		return v
	}

	follow(t, 200, chromedp.Navigate(m.url+"/refunds/"+r.ID+"?lang=zh-CN"))
	do(t, chromedp.WaitVisible("#rf-address-form"))
	body := get(t, chromedp.Text("body"))
	require.Contains(t, body, "待领取")
	require.Contains(t, body, "0.00008333 BTC")

	// A mainnet address on a regtest chain: refused, nothing sent, the
	// address kept to correct it.
	const wrong = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	do(t, chromedp.SendKeys("#rf-address", wrong))
	follow(t, 400, chromedp.Click("#rf-send"))
	do(t, chromedp.WaitVisible("#rf-address-form"))
	require.Equal(t, wrong, get(t, chromedp.Value("#rf-address")))
	require.Contains(t, get(t, chromedp.Text("body")), "该地址无法接收此退款")
	got, err := m.refunds.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, got.State)

	do(t, chromedp.SetValue("#rf-address", regtestAddress))
	follow(t, 200, chromedp.Click("#rf-send")) // 303 to the page, followed
	do(t, chromedp.WaitNotPresent("#rf-address-form"))
	body = get(t, chromedp.Text("body"))
	require.Contains(t, body, "发送中")
	require.True(t, strings.Contains(body, regtestAddress), body)
	got, err = m.refunds.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.InProgress, got.State)
	require.Equal(t, refund.ToAddress, got.Claim)
}
