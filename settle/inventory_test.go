package settle_test

import (
	"context"
	"testing"

	"chengdui"
	"chengdui/invoice"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
)

// TestInventoryGuardedWhoeverCreatesIt: a conversion that opens a crypto
// inventory (store a paid in USDC) opens it guarded, so a split that would
// take more USDC than the platform holds (store b's 30 %) is refused
// whole instead of overdrawing it; the payment stays in clearing.
func TestInventoryGuardedWhoeverCreatesIt(t *testing.T) {
	e := setupSplit(t, 0)
	e.fund(t, "CNY", "10000", 2)
	ctx := context.Background()
	e.store(t, "a", nil)
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "a", Amount: "0.72", Currency: "CNY"})
	require.NoError(t, err)
	method := ""
	for _, m := range inv.Methods {
		if m.Asset == "USDC-ERC20" {
			method = m.ID
		}
	}
	require.NotEmpty(t, method)
	q, _ := inv.Quote("USDC-ERC20")
	e.Pay(t, inv, method, q.Due, "0xa1", 10, 10)
	a, err := e.Ledger.Account(ctx, settle.Inventory("USDC-ERC20"))
	require.NoError(t, err)
	require.NotZero(t, a.Flags&chengdui.DebitsMustNotExceedCredits, "opened by a conversion, still guarded")
	held := a.CreditsPosted

	e.store(t, "b", balanceSplits(7000, "CNY", 3000, "USDC-ERC20"))
	inv2, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "b", Amount: "7200.00", Currency: "CNY"})
	require.NoError(t, err)
	q2, _ := inv2.Quote("USDT-ERC20")
	e.Pay(t, inv2, invoice.MethodUSDT, q2.Due, "0xb1", 10, 10)
	a, err = e.Ledger.Account(ctx, settle.Inventory("USDC-ERC20"))
	require.NoError(t, err)
	require.Equal(t, held, a.CreditsPosted)
	require.True(t, a.DebitsPosted.Cmp(a.CreditsPosted) <= 0, "never overdrawn: debits %s, credits %s", a.DebitsPosted, a.CreditsPosted)
	require.True(t, e.Balance(t, invoice.StoreAccount("b", "USDC-ERC20")).IsZero(), "the split was refused whole")
	require.True(t, e.Balance(t, invoice.StoreAccount("b", "CNY")).IsZero())
}
