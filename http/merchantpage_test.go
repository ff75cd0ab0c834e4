package http_test

import (
	"context"
	"io"
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui/refund"
)

// TestMerchantPage: the merchant dashboard shows the logged-in owner's
// store with its balances, settlements and refunds; another user sees no
// store; without a session it sends to the login page.
func TestMerchantPage(t *testing.T) {
	m := newRefundHarness(t)
	ctx := context.Background()
	inv := m.settled(t, 0)
	_, err := m.refunds.Create(ctx, refund.CreateRequest{StoreID: m.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen, SubtractPercentage: "90"})
	require.NoError(t, err)
	get := func(session string) (int, string, string) {
		t.Helper()
		req, err := nethttp.NewRequest("GET", m.url+"/merchant", nil)
		require.NoError(t, err)
		if session != "" {
			req.AddCookie(&nethttp.Cookie{Name: "chengdui_session", Value: session})
		}
		client := &nethttp.Client{CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	status, loc, _ := get("")
	require.Equal(t, nethttp.StatusSeeOther, status)
	require.Equal(t, "/login", loc)

	status, _, page := get(ownerSession)
	require.Equal(t, nethttp.StatusOK, status)
	require.Contains(t, page, `id="store-`+m.StoreID+`"`)
	require.Contains(t, page, "71.28 CNY", "the conversion's net")
	require.Contains(t, page, "0.00016666 BTC", "what was paid")
	require.Contains(t, page, "AwaitingClaim", "the refund")
	require.Contains(t, page, "manual", "no schedule")
	require.Contains(t, page, "商户")

	status, _, page = get(payerSession)
	require.Equal(t, nethttp.StatusOK, status)
	require.True(t, strings.Contains(page, "No store yet"), page)
}
