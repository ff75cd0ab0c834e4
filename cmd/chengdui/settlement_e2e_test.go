package main

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/stretchr/testify/require"

	"chengdui/rail/sandbox"
	"chengdui/reconcile"
)

// devWiredByDir holds, by data directory, what each dev a test starts
// reports once it serves (see devWired).
var devWiredByDir sync.Map

type wiredDev struct {
	Chains *chainsSetup
	Bank   *sandbox.Client
}

func init() {
	devWired = func(dir string, cs *chainsSetup, bank *sandbox.Client) {
		devWiredByDir.Store(dir, wiredDev{Chains: cs, Bank: bank})
	}
}

// TestSettlementEndToEnd is issue 7's end-to-end test on dev: an invoice
// priced in CNY is paid with USDT through the PaymentRouter on the
// in-process chain; the store's CNY rises by exactly the quoted price less
// the fee; half is refunded and the payer claims it to their own wallet;
// the store's daily settlement pays the rest to the sandbox bank, which
// completes it by callback; and reconciliation of the ledger against the
// chains and the bank finds no difference.
func TestSettlementEndToEnd(t *testing.T) {
	t.Parallel()
	dev, dir := startShopDev(t)
	v, ok := devChainsByDir.Load(dir)
	require.True(t, ok)
	chain := v.(*devChain)
	w, ok := devWiredByDir.Load(dir)
	require.True(t, ok, "dev reports its chains and bank once it serves")
	wired := w.(wiredDev)
	ctx := context.Background()
	gf := merchantAPI(t, dev)
	hooks := gf.subscribe(t)
	reader := &devSession{t: t, url: dev.URL}

	// 1. CNY 72.00 paid with 10 USDT through the router: the store gets
	// 72.00 less dev's 1 % fee, to the fen.
	id := gf.createInvoice("72.00", "USDT-ERC20")
	pm := gf.method(id, "USDT-ERC20")
	require.Equal(t, "10.000000", pm.Due)
	payer := outsideWallet(t)
	token := payThroughRouter(t, chain, payer, pm, "25")
	hooks.waitEvents(t, id, "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoiceSettled")
	require.Equal(t, "7128", storeBalance(t, reader, gf.store, "CNY"), "72.00 CNY less 0.72")
	var settlements struct {
		Data []struct {
			InvoiceID string `json:"invoice_id"`
			PaidAsset string `json:"paid_asset"`
			Net       struct {
				Units string `json:"units"`
			} `json:"net"`
		} `json:"data"`
	}
	require.Equal(t, nethttp.StatusOK, gf.do("GET", "/api/v1/stores/"+gf.store+"/settlements", "", &settlements))
	require.Len(t, settlements.Data, 1)
	require.Equal(t, id, settlements.Data[0].InvoiceID)
	require.Equal(t, "7128", settlements.Data[0].Net.Units)

	// 2. Half refunded (RateThen less 50 %): 5 USDT for the payer, 36.00
	// CNY back from the store. The payer claims it to their wallet.
	var rf struct {
		ID          string `json:"id"`
		ViewLink    string `json:"viewLink"`
		State       string `json:"state"`
		Asset       string `json:"asset"`
		AssetAmount string `json:"assetAmount"`
		TxID        string `json:"txid"`
	}
	require.Equal(t, nethttp.StatusOK, gf.do("POST", "/api/v1/stores/"+gf.store+"/invoices/"+id+"/refund",
		`{"refundVariant":"RateThen","subtractPercentage":"50","payoutMethods":["USDT-ERC20"]}`, &rf))
	require.Equal(t, "USDT-ERC20", rf.Asset)
	require.Equal(t, "5.000000", rf.AssetAmount)
	require.Equal(t, "AwaitingClaim", rf.State)
	require.Contains(t, rf.ViewLink, "/refunds/"+rf.ID)
	require.Equal(t, "3528", storeBalance(t, reader, gf.store, "CNY"), "71.28 less the 36.00 given back")
	// More than what is left to refund is refused and changes nothing.
	require.Equal(t, nethttp.StatusUnprocessableEntity, gf.do("POST", "/api/v1/stores/"+gf.store+"/invoices/"+id+"/refund",
		`{"refundVariant":"RateThen","subtractPercentage":"40","payoutMethods":["USDT-ERC20"]}`, nil))
	require.Equal(t, "3528", storeBalance(t, reader, gf.store, "CNY"))
	status, body := reader.do("POST", "/api/v1/refunds/"+rf.ID+"/claim", "", `{"address":"`+payer.Address.Hex()+`"}`)
	require.Less(t, status, 300, "%s", body)
	waitFor(t, "the refund paid to the payer's wallet", func() (bool, string) {
		status, body := reader.do("GET", "/api/v1/refunds/"+rf.ID, "", "")
		require.Equal(t, nethttp.StatusOK, status, "%s", body)
		require.NoError(t, json.Unmarshal(body, &rf))
		return rf.State == "Completed", rf.State
	})
	bal, err := token.BalanceOf(&bind.CallOpts{Context: ctx}, payer.Address)
	require.NoError(t, err)
	require.Equal(t, "20000000", bal.String(), "25 minted, 10 paid, 5 refunded")

	// 3. A daily settlement to a bank account: the scheduler pays the
	// store's CNY out; the sandbox bank completes it by callback.
	creditor := `{"name":"Demo Teahouse","account":"6222020200001234567","bank_code":"102100099996","country":"CN"}`
	profile := `{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"BANK","creditor":` + creditor + `}}],` +
		`"schedule":{"kind":"daily","at":"00:00"},"min_payout":{"CNY":"1.00"}`
	status, body = gf.owner.do("PUT", "/api/v1/stores/"+gf.store+"/settlement", "", profile+`}`)
	require.Equal(t, nethttp.StatusUnauthorized, status, "a new destination needs the second factor: %s", body)
	status, body = gf.owner.do("PUT", "/api/v1/stores/"+gf.store+"/settlement", "", profile+`,"otp":"`+gf.otp(1)+`"}`)
	require.Equal(t, nethttp.StatusOK, status, "%s", body)
	var payouts struct {
		Data []struct {
			ID     string `json:"id"`
			Amount string `json:"amount"`
			Method string `json:"method"`
			State  string `json:"state"`
		} `json:"data"`
	}
	waitFor(t, "the daily payout completed by the bank", func() (bool, string) {
		require.Equal(t, nethttp.StatusOK, gf.do("GET", "/api/v1/stores/"+gf.store+"/payouts", "", &payouts))
		if len(payouts.Data) != 1 {
			return false, "no payout yet"
		}
		require.NotEqual(t, "Failed", payouts.Data[0].State)
		return payouts.Data[0].State == "Completed", payouts.Data[0].State
	})
	require.Equal(t, "35.28", payouts.Data[0].Amount)
	require.Equal(t, "BANK", payouts.Data[0].Method)
	require.Equal(t, "0", storeBalance(t, reader, gf.store, "CNY"))
	want := []string{"PayoutCreated AwaitingPayment", "PayoutUpdated InProgress", "PayoutUpdated Completed"}
	waitFor(t, "the payout's webhooks", func() (bool, string) {
		got := strings.Join(hooks.payout(payouts.Data[0].ID), ", ")
		return got == strings.Join(want, ", "), got
	})
	waitFor(t, "the refund's webhooks", func() (bool, string) {
		got := strings.Join(hooks.payout(refundPayoutID(rf.ID)), ", ")
		return got == "PayoutCreated InProgress, PayoutUpdated Completed", got
	})

	// 4. Reconciliation: the ledger against the chains and the bank.
	db, err := openMigrated(ctx, "sqlite:"+dir+"/chengdui.db", false)
	require.NoError(t, err)
	defer db.Close()
	cfg, err := reconcileConfig(db, wired.Chains, nil, defaultColdSearch)
	require.NoError(t, err)
	cfg.Float = devFloat()
	cfg.Bank = &reconcile.Bank{Statements: wired.Bank, Currencies: []string{"CNY", "EUR", "USD"}}
	var rep reconcile.Report
	var text strings.Builder
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last reconciliation:\n%s", text.String())
		}
	})
	waitFor(t, "reconciliation without an unexplained difference", func() (bool, string) {
		rep, err = reconcile.Run(ctx, cfg)
		require.NoError(t, err)
		text.Reset()
		require.NoError(t, rep.WriteText(&text))
		return rep.OK(), strings.Join(rep.Unexplained(), "; ")
	})
	t.Logf("reconcile:\n%s", text.String())

	// 5. The merchant's dashboard, in a real browser: the same money.
	merchantDashboard(t, dev, func(page map[string]string) {
		require.Contains(t, page["table.settlements"], "71.28 CNY", "the conversion's net")
		require.Contains(t, page["table.settlements"], "10.000000 USDT-ERC20", "what was paid")
		require.Contains(t, page["table.payouts"], "35.28 CNY")
		require.Contains(t, page["table.payouts"], "Completed")
		require.Contains(t, page["table.refunds"], "Completed")
		require.Contains(t, page["ul.splits"], "100.00 % CNY → BANK Demo Teahouse")
		require.Contains(t, page["span.schedule"], "daily at 00:00 UTC")
	})
}

// merchantDashboard logs the demo merchant in with a headless Chromium,
// opens /merchant and hands the text of its parts to check.
func merchantDashboard(t *testing.T, dev *server, check func(page map[string]string)) {
	exe := chromium(t)
	m := demoMerchantLine.FindStringSubmatch(dev.Stdout.String())
	require.NotNil(t, m)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx))
	ctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	defer cancelT()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(dev.URL+"/login"),
		chromedp.WaitVisible(`form[action="/login"]`),
		chromedp.SetValue(`input[name=email]`, m[1]),
		chromedp.SetValue(`input[name=password]`, m[2]),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`code.address`), // the wallet
		chromedp.Navigate(dev.URL+"/merchant"),
		chromedp.WaitVisible(`section.store`),
	))
	page := map[string]string{}
	for _, sel := range []string{"h1", "table.balances", "table.settlements", "table.payouts", "table.refunds", "ul.splits", "span.schedule"} {
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err, sel)
		page[sel] = v
	}
	require.Contains(t, page["h1"], "商户")
	if dir := os.Getenv("CHENGDUI_SCREENSHOTS"); dir != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // PNG
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "merchant.png"), shot, 0o600))
	}
	check(page)
}

// refundPayoutID is the payout id a refund's first claim is announced
// under.
func refundPayoutID(refundID string) string { return "rf-" + refundID + "-1" }
