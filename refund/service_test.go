package refund_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/keys"
	"chengdui/refund"
	"chengdui/settle"
	"chengdui/withdraw"

	"github.com/stretchr/testify/require"
)

// fixture is a real refund service on the invoice harness (SQLite, the
// ledger engine, settle.Converter with a 1 % fee) and a real withdrawal
// service whose Bitcoin payer checks addresses and amounts.
type fixture struct {
	*invoicetest.Harness
	svc      *refund.Service
	wd       *withdraw.Service
	notified atomic.Int64
	last     sync.Map // refund id → last notified state
}

// btcDest is a regtest P2WPKH address (BIP173's test vector on regtest).
const btcDest = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	h := invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: 100})
	})
	// The platform's CNY inventory, funded by the operator.
	for _, a := range []chengdui.Account{{ID: "platform:CNY:equity", Asset: "CNY"},
		{ID: settle.Inventory("CNY"), Asset: "CNY", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := h.Ledger.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	res, err := h.Ledger.CreateTransfers(ctx, []chengdui.Transfer{{ID: "fund:CNY", DebitAccountID: "platform:CNY:equity",
		CreditAccountID: settle.Inventory("CNY"), Amount: chengdui.Amount{Lo: 100_000_000}, Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)

	f := &fixture{Harness: h}
	f.wd = withdraw.New(h.DB, h.Ledger, h.DB, nil, withdraw.Config{Now: h.Now})
	f.wd.AddPayer(bitcoin.NewPayer(bitcoin.PayerConfig{Chain: "bitcoin:regtest", Network: keys.Regtest, Asset: "BTC"}))
	f.svc, err = refund.New(refund.Config{Store: h.DB, Ledger: h.Ledger, Invoices: h.Invoices, Stores: h.DB, Quoter: h.Rates,
		Withdrawals: f.wd, Now: h.Now, Notify: func(_ context.Context, r refund.Refund) {
			f.notified.Add(1)
			f.last.Store(r.ID, r.State)
		}})
	require.NoError(t, err)
	f.wd.OnOutcome(withdraw.OriginRefund, f.svc.OnWithdrawal)
	return f
}

// settled makes an invoice of amount CNY and pays it with BTC: due plus
// extra satoshis, confirmed. The harness's rate is 432,000 CNY per BTC:
// 72 CNY is 16,666 satoshis.
func (f *fixture) settled(t testing.TB, amount string, extra uint64) invoice.Invoice {
	t.Helper()
	return f.settledIn(t, f.StoreID, amount, extra)
}

func (f *fixture) settledIn(t testing.TB, storeID, amount string, extra uint64) invoice.Invoice {
	t.Helper()
	ctx := context.Background()
	inv, err := f.Invoices.Create(ctx, invoice.CreateRequest{StoreID: storeID, Amount: amount, Currency: "CNY",
		Methods: []string{invoice.MethodBTC, invoice.MethodETH}})
	require.NoError(t, err)
	q, _ := inv.Quote("BTC")
	due := q.Due
	due.Lo += extra
	f.Pay(t, inv, invoice.MethodBTC, due, "tx-"+inv.ID, 10, 20)
	inv, err = f.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, inv.Status)
	return inv
}

func (f *fixture) bal(t testing.TB, account string) uint64 {
	t.Helper()
	b := f.Balance(t, account)
	require.Zero(t, b.Hi)
	return b.Lo
}

// topUpStore gives the store more CNY (its other sales).
func (f *fixture) topUpStore(t testing.TB, id string, fen uint64) {
	t.Helper()
	res, err := f.Ledger.CreateTransfers(context.Background(), []chengdui.Transfer{{ID: "topup:" + id, DebitAccountID: "platform:CNY:equity",
		CreditAccountID: invoice.StoreAccount(f.StoreID, "CNY"), Amount: chengdui.Amount{Lo: fen}, Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

func TestVariants(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	store := invoice.StoreAccount(f.StoreID, "CNY")
	require.Equal(t, uint64(7128), f.bal(t, store), "72.00 less the 1 % fee")

	// A full RateThen refund gives back 72.00: the fee is not returned,
	// so the store's 71.28 is short and nothing is stored.
	_, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen})
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
	rs, err := f.svc.List(ctx, refund.Filter{InvoiceID: inv.ID})
	require.NoError(t, err)
	require.Empty(t, rs)
	require.Equal(t, uint64(7128), f.bal(t, store))
	require.Zero(t, f.notified.Load())

	f.topUpStore(t, "1", 10_000)
	r, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen, Description: "broken teapot"})
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, r.State)
	require.Equal(t, uint64(16666), r.Amount.Lo, "the BTC paid")
	require.Equal(t, "CNY", r.ValueAsset)
	require.Equal(t, uint64(7200), r.Value.Lo, "the price, at the locked quote")
	require.Equal(t, "Refund "+inv.ID, r.Name)
	require.Equal(t, uint64(7128+10_000-7200), f.bal(t, store))
	require.Equal(t, uint64(16666), f.bal(t, refund.Account(r.ID, "BTC")))
	require.Equal(t, int64(1), f.notified.Load())

	// Nothing is left to refund in BTC.
	_, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00000001", CustomCurrency: "BTC"})
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)

	// Cancelled, the store has its 72.00 back and the BTC is refundable again.
	c, err := f.svc.Cancel(ctx, f.StoreID, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.Cancelled, c.State)
	require.Equal(t, uint64(7128+10_000), f.bal(t, store))
	require.Zero(t, f.bal(t, refund.Account(r.ID, "BTC")))
	again, err := f.svc.Cancel(ctx, f.StoreID, r.ID)
	require.NoError(t, err, "cancelling twice is a no-op")
	require.Equal(t, c.Version, again.Version)

	// CurrentRate: BTC fell to 360,000 CNY: 72.00 buys 20,000 satoshis,
	// more than the invoice received: refused.
	f.Rates.Set("BTC", "CNY", "360000")
	_, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.CurrentRate})
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	// Half of it, by subtractPercentage 50: 10,000 satoshis worth 36.00.
	r, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.CurrentRate, SubtractPercentage: "50"})
	require.NoError(t, err)
	require.Equal(t, uint64(10_000), r.Amount.Lo)
	require.Equal(t, uint64(3600), r.Value.Lo)
	require.Equal(t, uint64(50_00), uint64(r.SubtractBps))

	// Custom in the invoice currency: at the locked quote (432,000).
	c2, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "10.80", CustomCurrency: "CNY"})
	require.NoError(t, err)
	require.Equal(t, uint64(2499), c2.Amount.Lo, "10.80 × 16,666 / 72.00, rounded down")
	require.Equal(t, uint64(1080), c2.Value.Lo)
	// Custom in the asset (its unit name): valued at the current rate.
	c3, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00001", CustomCurrency: "btc"})
	require.NoError(t, err)
	require.Equal(t, uint64(1000), c3.Amount.Lo)
	require.Equal(t, uint64(360), c3.Value.Lo)

	// Fiat: CNY held as CNY until claimed, converted then at the current
	// rate (300,000 CNY per BTC by then). 11.99 CNY would be 3,996
	// satoshis, more than the 3,167 left: its claim is refused, it stays
	// unconverted, and the merchant cancels it.
	f.Rates.Set("BTC", "CNY", "300000")
	_, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Fiat, SubtractPercentage: "83.33333"})
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "at most two decimals")
	fr, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Fiat, SubtractPercentage: "83.34"})
	require.NoError(t, err)
	require.True(t, fr.Amount.IsZero())
	require.Equal(t, uint64(1199), fr.FiatAmount.Lo, "72.00 less 83.34 %, rounded down")
	require.Equal(t, uint64(1199), f.bal(t, refund.Account(fr.ID, "CNY")))
	_, err = f.svc.ClaimToBalance(ctx, fr.ID, f.Payer)
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	fr, err = f.svc.Refund(ctx, fr.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, fr.State)
	require.True(t, fr.Amount.IsZero())
	_, err = f.svc.Cancel(ctx, f.StoreID, fr.ID)
	require.NoError(t, err)
	require.Zero(t, f.bal(t, refund.Account(fr.ID, "CNY")))

	fr, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Fiat, SubtractPercentage: "90"})
	require.NoError(t, err)
	require.Equal(t, uint64(720), fr.FiatAmount.Lo)
	fr, err = f.svc.ClaimToBalance(ctx, fr.ID, f.Payer)
	require.NoError(t, err)
	require.Equal(t, refund.Completed, fr.State)
	require.Equal(t, uint64(2400), fr.Amount.Lo, "7.20 / 300,000 BTC")
	require.Zero(t, f.bal(t, refund.Account(fr.ID, "CNY")))
	require.Zero(t, f.bal(t, refund.Account(fr.ID, "BTC")))

	// What is left: 16,666 − 10,000 − 2,499 − 1,000 − 2,400 = 767.
	_, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00000768", CustomCurrency: "BTC"})
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	last, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, CustomAmount: "0.00000767", CustomCurrency: "BTC"})
	require.NoError(t, err)
	require.Equal(t, uint64(767), last.Amount.Lo)
	checkBound(t, f, inv.ID)
}

func TestOverpaidAndKeep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 5000)
	require.Equal(t, invoice.PaidOver, inv.Additional)
	r, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.OverpaidAmount, PayoutMethods: []string{"BTC"}})
	require.NoError(t, err)
	require.Equal(t, uint64(5000), r.Amount.Lo, "paid − due")
	require.Equal(t, uint64(2160), r.Value.Lo, "at the current rate")

	exact := f.settled(t, "7.20", 0)
	_, err = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: exact.ID, Variant: refund.OverpaidAmount})
	var ve *invoice.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "refundVariant", ve.Fields[0].Field)

	// A store that keeps the asset paid gives back the asset itself.
	require.NoError(t, f.DB.CreateStore(ctx, chengdui.Store{ID: "store-keep", OwnerID: f.Owner, Name: "Keeper", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "keep"}, CreatedAt: f.Now()}))
	kept := f.settledIn(t, "store-keep", "72.00", 0)
	storeBTC := invoice.StoreAccount("store-keep", "BTC")
	held := f.bal(t, storeBTC)
	require.Equal(t, uint64(16666-166), held, "less the 1 % fee, in BTC")
	k, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: "store-keep", InvoiceID: kept.ID, Variant: refund.Fiat, SubtractPercentage: "50"})
	require.NoError(t, err)
	require.Equal(t, "BTC", k.ValueAsset)
	require.Equal(t, uint64(8333), k.Amount.Lo, "36.00 at the current rate, at once")
	require.Equal(t, k.Amount, k.Value)
	require.Equal(t, held-8333, f.bal(t, storeBTC))
	_, err = f.svc.Cancel(ctx, "store-keep", k.ID)
	require.NoError(t, err)
	require.Equal(t, held, f.bal(t, storeBTC))
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	unpaid, err := f.Invoices.Create(ctx, invoice.CreateRequest{StoreID: f.StoreID, Amount: "1", Currency: "CNY"})
	require.NoError(t, err)
	long := string(make([]byte, refund.MaxText+1))
	for _, tc := range []struct {
		name  string
		req   refund.CreateRequest
		code  string
		field string
	}{
		{"unknown variant", refund.CreateRequest{Variant: "Everything"}, chengdui.EInvalid, "refundVariant"},
		{"no variant", refund.CreateRequest{}, chengdui.EInvalid, "refundVariant"},
		{"unsettled invoice", refund.CreateRequest{InvoiceID: unpaid.ID, Variant: refund.RateThen}, chengdui.EConflict, ""},
		{"unknown invoice", refund.CreateRequest{InvoiceID: "nope", Variant: refund.RateThen}, chengdui.ENotFound, ""},
		{"another store's invoice", refund.CreateRequest{StoreID: "store-x", InvoiceID: inv.ID, Variant: refund.RateThen}, chengdui.ENotFound, ""},
		{"negative amount", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "-1", CustomCurrency: "CNY"}, chengdui.EInvalid, "customAmount"},
		{"zero amount", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "0", CustomCurrency: "CNY"}, chengdui.EInvalid, "customAmount"},
		{"too many decimals", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "0.000000001", CustomCurrency: "BTC"}, chengdui.EInvalid, "customAmount"},
		{"fen too many decimals", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "1.001", CustomCurrency: "CNY"}, chengdui.EInvalid, "customAmount"},
		{"not a number", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "1e3", CustomCurrency: "CNY"}, chengdui.EInvalid, "customAmount"},
		{"no amount", refund.CreateRequest{Variant: refund.Custom, CustomCurrency: "CNY"}, chengdui.EInvalid, "customAmount"},
		{"no currency", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "1"}, chengdui.EInvalid, "customCurrency"},
		{"wrong currency", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "1", CustomCurrency: "EUR"}, chengdui.EInvalid, "customCurrency"},
		{"another asset", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "1", CustomCurrency: "ETH"}, chengdui.EInvalid, "customCurrency"},
		{"custom for another variant", refund.CreateRequest{Variant: refund.RateThen, CustomAmount: "1"}, chengdui.EInvalid, "customAmount"},
		{"more than paid (asset)", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "0.00016667", CustomCurrency: "BTC"}, refund.EExceedsPaid, ""},
		{"more than paid (currency)", refund.CreateRequest{Variant: refund.Custom, CustomAmount: "72.01", CustomCurrency: "CNY"}, refund.EExceedsPaid, ""},
		{"more than paid (fiat)", refund.CreateRequest{Variant: refund.Fiat, SubtractPercentage: "0"}, "", ""},
		{"percentage below 0", refund.CreateRequest{Variant: refund.RateThen, SubtractPercentage: "-1"}, chengdui.EInvalid, "subtractPercentage"},
		{"percentage above 100", refund.CreateRequest{Variant: refund.RateThen, SubtractPercentage: "100.01"}, chengdui.EInvalid, "subtractPercentage"},
		{"percentage 100", refund.CreateRequest{Variant: refund.RateThen, SubtractPercentage: "100"}, chengdui.EInvalid, "refundVariant"},
		{"percentage not a number", refund.CreateRequest{Variant: refund.RateThen, SubtractPercentage: "half"}, chengdui.EInvalid, "subtractPercentage"},
		{"unknown payout method", refund.CreateRequest{Variant: refund.RateThen, PayoutMethods: []string{"DOGE"}}, chengdui.EInvalid, "payoutMethods"},
		{"method not paid in", refund.CreateRequest{Variant: refund.RateThen, PayoutMethods: []string{invoice.MethodETH}}, chengdui.EInvalid, "payoutMethods"},
		{"balance is no payout method", refund.CreateRequest{Variant: refund.RateThen, PayoutMethods: []string{invoice.MethodBalance}}, chengdui.EInvalid, "payoutMethods"},
		{"long name", refund.CreateRequest{Variant: refund.RateThen, Name: long}, chengdui.EInvalid, "name"},
		{"client id with spaces", refund.CreateRequest{ID: "a b", Variant: refund.RateThen}, chengdui.EInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.StoreID == "" {
				tc.req.StoreID = f.StoreID
			}
			if tc.req.InvoiceID == "" {
				tc.req.InvoiceID = inv.ID
			}
			before := f.bal(t, invoice.StoreAccount(f.StoreID, "CNY"))
			_, err := f.svc.Create(ctx, tc.req)
			if tc.code == "" {
				// The store cannot pay it back (fee): refused all the same.
				require.Error(t, err)
			} else {
				require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
			}
			if tc.field != "" {
				var ve *invoice.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.field, ve.Fields[0].Field, "%v", err)
			}
			require.Equal(t, before, f.bal(t, invoice.StoreAccount(f.StoreID, "CNY")), "nothing moved")
			rs, err := f.svc.List(ctx, refund.Filter{InvoiceID: inv.ID})
			require.NoError(t, err)
			require.Empty(t, rs, "nothing stored")
		})
	}
}

func TestIdempotentAndClaims(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	req := refund.CreateRequest{ID: "order-1-refund", StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen, SubtractPercentage: "10"}
	r, err := f.svc.Create(ctx, req)
	require.NoError(t, err)
	require.Equal(t, refund.ID(f.StoreID, "order-1-refund"), r.ID)
	again, err := f.svc.Create(ctx, req)
	require.NoError(t, err)
	require.Equal(t, r, again)
	require.Equal(t, uint64(7128-6479), f.bal(t, invoice.StoreAccount(f.StoreID, "CNY")), "given back once: 14,999 satoshis at the locked quote")
	other := req
	other.SubtractPercentage = "20"
	_, err = f.svc.Create(ctx, other)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	// Claimed to the payer's balance; a second claim and a cancel are
	// refused.
	payer := invoice.UserAccount(f.Payer, "BTC")
	before := f.bal(t, payer)
	c, err := f.svc.ClaimToBalance(ctx, r.ID, f.Payer)
	require.NoError(t, err)
	require.Equal(t, refund.Completed, c.State)
	require.Equal(t, before+14999, f.bal(t, payer), "16,666 less 10 %")
	_, err = f.svc.ClaimToBalance(ctx, r.ID, f.Payer)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	_, err = f.svc.ClaimToAddress(ctx, r.ID, btcDest)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	_, err = f.svc.Cancel(ctx, f.StoreID, r.ID)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	_, err = f.svc.Cancel(ctx, "store-x", r.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	_, err = f.svc.ClaimToBalance(ctx, "rfNoSuchRefund", f.Payer)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	_, err = f.svc.ClaimToBalance(ctx, "../../etc", f.Payer)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	v, _ := f.last.Load(r.ID)
	require.Equal(t, refund.Completed, v)
}

// TestClaimToAddress claims through the real withdrawal service: the
// payer's outcome (as bitcoin.Payer reports it with Complete and Fail)
// posts or voids the hold.
func TestClaimToAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	f.topUpStore(t, "1", 10_000)
	r, err := f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.RateThen})
	require.NoError(t, err)
	chainCredits := func() uint64 {
		a, err := f.Ledger.Account(ctx, deposit.ChainAccount("BTC"))
		require.NoError(t, err)
		return a.CreditsPosted.Lo
	}
	chain := chainCredits()

	// An address of another network: refused by the payer, nothing held.
	_, err = f.svc.ClaimToAddress(ctx, r.ID, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	r, err = f.svc.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, r.State)
	require.Equal(t, uint64(16666), f.bal(t, refund.Account(r.ID, "BTC")))

	r, err = f.svc.ClaimToAddress(ctx, r.ID, btcDest)
	require.NoError(t, err)
	require.Equal(t, refund.InProgress, r.State)
	require.Equal(t, refund.WithdrawalID(r.ID, 2), r.WithdrawalID)
	w, err := f.wd.Store().Withdrawal(ctx, r.WithdrawalID)
	require.NoError(t, err)
	require.Equal(t, withdraw.OriginRefund, w.Origin)
	require.Equal(t, uint64(16666), w.Amount.Lo)
	acct, err := f.Ledger.Account(ctx, refund.Account(r.ID, "BTC"))
	require.NoError(t, err)
	require.Equal(t, uint64(16666), acct.DebitsPending.Lo, "held")

	// The transaction failed: the hold is voided, claimable again.
	require.NoError(t, f.wd.Fail(ctx, w.ID, "no route"))
	r, err = f.svc.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, r.State)
	require.Equal(t, "no route", r.Reason)
	require.Equal(t, uint64(16666), f.bal(t, refund.Account(r.ID, "BTC")))
	acct, err = f.Ledger.Account(ctx, refund.Account(r.ID, "BTC"))
	require.NoError(t, err)
	require.True(t, acct.DebitsPending.IsZero())

	// Claimed again; the payer completes it.
	r, err = f.svc.ClaimToAddress(ctx, r.ID, btcDest)
	require.NoError(t, err)
	require.NoError(t, f.wd.MarkSent(ctx, r.WithdrawalID, "txid-1"))
	require.NoError(t, f.wd.Complete(ctx, r.WithdrawalID, "txid-1", chengdui.Amount{Lo: 141}))
	r, err = f.svc.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.Completed, r.State)
	require.Equal(t, "txid-1", r.TxID)
	require.Zero(t, f.bal(t, refund.Account(r.ID, "BTC")))
	require.Equal(t, chain+16666+141, chainCredits(), "sent, and the network fee booked as the platform's")
	// The outcome again (the payer's retry) changes nothing.
	require.NoError(t, f.svc.OnWithdrawal(ctx, withdraw.Withdrawal{ID: r.WithdrawalID, Status: withdraw.Completed, TxID: "txid-1"}))
}

// TestConcurrentRefunds: of refunds created at once, those that pass never
// add up to more than the invoice received.
func TestConcurrentRefunds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	f.topUpStore(t, "1", 100_000)
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom,
				CustomAmount: "0.00005", CustomCurrency: "BTC"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
		}
	}
	require.Equal(t, 3, ok, "3 × 5,000 of 16,666")
	checkBound(t, f, inv.ID)
}

// TestRecover finishes a refund whose creation stopped after it was
// stored.
func TestRecover(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	r := refund.Refund{ID: refund.ID(f.StoreID, "crashed"), StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Custom, Name: "x",
		Asset: "BTC", Amount: chengdui.Amount{Lo: 1000}, Currency: "CNY", ValueAsset: "CNY", Value: chengdui.Amount{Lo: 432},
		State: refund.Creating, CreatedAt: f.Now(), UpdatedAt: f.Now(), Version: 1}
	require.NoError(t, f.DB.CreateRefund(ctx, r, chengdui.Amount{Lo: 16666}))
	n, err := f.svc.Recover(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "within the grace period")
	f.Advance(2 * time.Minute)
	n, err = f.svc.Recover(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := f.svc.Refund(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, refund.AwaitingClaim, got.State)
	require.True(t, got.Booked)
	require.Equal(t, uint64(1000), f.bal(t, refund.Account(r.ID, "BTC")))
	require.Equal(t, uint64(7128-432), f.bal(t, invoice.StoreAccount(f.StoreID, "CNY")))

	// One the ledger refuses (the store is short) is removed.
	big := r
	big.ID, big.Amount, big.Value, big.CreatedAt, big.UpdatedAt = refund.ID(f.StoreID, "crashed-2"), chengdui.Amount{Lo: 15000}, chengdui.Amount{Lo: 999_999}, f.Now(), f.Now()
	require.NoError(t, f.DB.CreateRefund(ctx, big, chengdui.Amount{Lo: 16666}))
	f.Advance(2 * time.Minute)
	_, err = f.svc.Recover(ctx)
	require.NoError(t, err)
	_, err = f.DB.Refund(ctx, big.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
}

// checkBound checks the invariants of an invoice's refunds: the live ones
// add up to at most what was paid in BTC; each holds what its state says.
func checkBound(t testing.TB, f *fixture, invoiceID string) {
	t.Helper()
	ctx := context.Background()
	rs, err := f.svc.List(ctx, refund.Filter{InvoiceID: invoiceID, Limit: refund.MaxLimit})
	require.NoError(t, err)
	sum, ok := refund.Paid(rs)
	require.True(t, ok)
	pays, err := f.Invoices.Payments(ctx, invoiceID)
	require.NoError(t, err)
	var paid chengdui.Amount
	for _, p := range pays {
		if p.Asset == "BTC" && p.Status == invoice.PaymentSettled {
			paid, _ = chengdui.AddAmounts(paid, p.Amount)
		}
	}
	require.LessOrEqual(t, sum.Cmp(paid), 0, "refunded %s of %s", sum, paid)
	for _, r := range rs {
		held := f.bal(t, refund.Account(r.ID, r.Asset))
		switch r.State {
		case refund.AwaitingClaim:
			if r.Converted() {
				require.Equal(t, r.Amount.Lo, held, "%s", r.ID)
			} else {
				require.Equal(t, r.FiatAmount.Lo, f.bal(t, refund.Account(r.ID, r.Currency)))
			}
		case refund.Completed, refund.Cancelled:
			require.Zero(t, held, "%s %s", r.ID, r.State)
		}
	}
}

func ExampleID() {
	fmt.Println(refund.ID("store-1", "order-1-refund")[:2])
	// Output: rf
}

// TestFiatRefundsBoundTogether: Fiat refunds hold no asset amount until
// they are claimed, so their value is bounded at creation together with
// the invoice's other live refunds: twice half of a 72.00 invoice passes,
// a further tenth does not; a cancelled one frees its part.
func TestFiatRefundsBoundTogether(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.settled(t, "72.00", 0)
	f.topUpStore(t, "fiat", 10_000)
	fiat := func(subtract string) (refund.Refund, error) {
		return f.svc.Create(ctx, refund.CreateRequest{StoreID: f.StoreID, InvoiceID: inv.ID, Variant: refund.Fiat, SubtractPercentage: subtract})
	}
	r1, err := fiat("50")
	require.NoError(t, err)
	require.Equal(t, uint64(3600), r1.FiatAmount.Lo)
	_, err = fiat("50")
	require.NoError(t, err)
	before := f.bal(t, invoice.StoreAccount(f.StoreID, "CNY"))
	_, err = fiat("90")
	require.Equal(t, refund.EExceedsPaid, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, before, f.bal(t, invoice.StoreAccount(f.StoreID, "CNY")), "refused: nothing taken")
	_, err = f.svc.Cancel(ctx, f.StoreID, r1.ID)
	require.NoError(t, err)
	_, err = fiat("90")
	require.NoError(t, err)
}
