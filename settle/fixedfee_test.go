package settle_test

import (
	"context"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
)

// TestFixedFeeOncePerInvoice: the store's fixed fee is charged once per
// invoice, even when a payment received earlier confirms after a later one
// was converted.
func TestFixedFeeOncePerInvoice(t *testing.T) {
	e := setup(t, 0, 0)
	e.fund(t, "CNY", "10000", 2)
	ctx := context.Background()
	require.NoError(t, e.DB.CreateStore(ctx, chengdui.Store{ID: "fixed", OwnerID: e.Owner, Name: "Fixed fee", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY", FeeFixed: "1.00"}, CreatedAt: e.Now()}))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "fixed", Amount: "100.00", Currency: "CNY"})
	require.NoError(t, err)
	b, _ := inv.Quote("BTC")
	u, _ := inv.Quote("USDT-ERC20")
	small := chengdui.Amount{Lo: b.Due.Lo / 10}
	e.Pay(t, inv, invoice.MethodBTC, small, "p1", 0, 0) // seen first, unconfirmed
	e.Advance(time.Minute)
	e.Pay(t, inv, invoice.MethodUSDT, u.Due, "0xp2", 10, 10) // the full price, confirmed: settled
	got, err := e.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, got.Status)
	require.Equal(t, "100", e.Balance(t, settle.FeeRevenue("CNY")).String(), "1.00 CNY fixed fee")
	e.Pay(t, inv, invoice.MethodBTC, small, "p1", 100, 200) // the first payment confirms later
	require.Equal(t, "100", e.Balance(t, settle.FeeRevenue("CNY")).String(), "not charged again")
}
