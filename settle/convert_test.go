package settle_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"chengdui"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

type alerts struct {
	mu     sync.Mutex
	events []string
}

func (a *alerts) Record(_ context.Context, event, _ string, _ map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, event)
}

type env struct {
	*invoicetest.Harness
	alerts *alerts
}

func setup(t testing.TB, feeBps, spreadBps uint32) *env {
	e := &env{alerts: &alerts{}}
	e.Harness = invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: feeBps, Alerts: e.alerts})
		cfg.SpreadBps = spreadBps
	})
	return e
}

func units(t testing.TB, s string, dec uint8) chengdui.Amount {
	a, err := chengdui.ParseDecimal(s, dec)
	require.NoError(t, err)
	return a
}

// fund gives the platform's inventory of an asset what it can pay out.
func (e *env) fund(t testing.TB, asset, amount string, dec uint8) {
	ctx := context.Background()
	for _, a := range []chengdui.Account{{ID: "platform:" + asset + ":capital", Asset: asset},
		{ID: settle.Inventory(asset), Asset: asset, Flags: chengdui.DebitsMustNotExceedCredits}} {
		if _, err := e.Ledger.CreateAccount(ctx, a); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
			require.NoError(t, err)
		}
	}
	res, err := e.Ledger.CreateTransfers(ctx, []chengdui.Transfer{{ID: "fund:" + asset + ":" + amount, DebitAccountID: "platform:" + asset + ":capital",
		CreditAccountID: settle.Inventory(asset), Amount: units(t, amount, dec), Code: 1}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

func TestConvertAtLockedQuote(t *testing.T) {
	e := setup(t, 100, 50) // 1 % fee, 0.5 % spread
	e.fund(t, "CNY", "10000", 2)
	ctx := context.Background()
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: e.StoreID, Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	// 72 CNY at 7.2 × 0.995 = 7.164 CNY/USDT: 10.050251 USDT (rounded down).
	require.Equal(t, units(t, "10.050251", 6), q.Due)

	// The rate moves after the invoice was made: the quote holds.
	e.Rates.Set("USDT-ERC20", "CNY", "6.5")
	e.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xpay", 10, 10)
	got, _ := e.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Settled, got.Status)

	// Paid in full: worth exactly 72.00 CNY; at the mid rate 7.2 it is
	// 72.3618072 CNY: 0.36 of spread; the fee is 0.72.
	require.Equal(t, units(t, "71.28", 2), e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY")), "price minus fee, to the fen")
	require.Equal(t, units(t, "0.72", 2), e.Balance(t, settle.FeeRevenue("CNY")))
	require.Equal(t, units(t, "0.36", 2), e.Balance(t, settle.SpreadRevenue("CNY")))
	require.Equal(t, q.Due, e.Balance(t, settle.Inventory("USDT-ERC20")), "the platform holds the USDT paid")
	require.Equal(t, units(t, "9927.64", 2), e.Balance(t, settle.Inventory("CNY")), "and gave out 72.36 CNY")
	require.True(t, e.Balance(t, invoice.ClearingAccount(inv.ID, "USDT-ERC20")).IsZero())
	require.True(t, e.Balance(t, invoice.StoreAccount(e.StoreID, "USDT-ERC20")).IsZero())

	// Settling again (every later change does) posts nothing new.
	e.Confirm(t, "evm:1337", 20)
	require.Equal(t, units(t, "71.28", 2), e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY")))
	require.Empty(t, e.alerts.events)
}

func TestInventoryShortLeavesSettledUnconverted(t *testing.T) {
	e := setup(t, 0, 0)
	ctx := context.Background()
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: e.StoreID, Amount: "100.00", Currency: "CNY"})
	require.NoError(t, err)
	e.fund(t, "CNY", "50", 2) // not enough for 100 CNY
	q, _ := inv.Quote("BTC")
	e.Pay(t, inv, invoice.MethodBTC, q.Due, "tx1", 10, 10)
	got, _ := e.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Settled, got.Status, "the payer paid: the invoice is settled")
	require.Equal(t, q.Due, e.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")), "the payment waits in clearing")
	require.True(t, e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY")).IsZero())
	require.Equal(t, units(t, "50", 2), e.Balance(t, settle.Inventory("CNY")), "never a negative balance, nothing half done")
	require.True(t, e.Balance(t, settle.Inventory("BTC")).IsZero(), "the linked legs failed together")
	require.Equal(t, []string{settle.AlertUnconverted}, e.alerts.events)

	// The operator funds the inventory: the next tick converts.
	e.fund(t, "CNY", "1000", 2)
	_, err = e.Invoices.Tick(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, units(t, "100", 2), e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY")))
	require.Equal(t, q.Due, e.Balance(t, settle.Inventory("BTC")))
	require.True(t, e.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")).IsZero())
}

func TestKeepAndFixedFee(t *testing.T) {
	e := setup(t, 200, 100) // 2 %, spread 1 %
	ctx := context.Background()
	fee := uint32(100)
	require.NoError(t, e.DB.CreateStore(ctx, chengdui.Store{ID: "keeper", OwnerID: e.Owner, Name: "Keeps USDT", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "keep", FeeBps: &fee}, CreatedAt: e.Now()}))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "keeper", Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	e.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xk", 10, 10)
	// Kept in USDT: spread 1 % of what was paid, then the store's own 1 % fee.
	spread := q.Due.Lo / 100
	feeAmt := (q.Due.Lo - spread) / 100
	require.Equal(t, chengdui.Amount{Lo: q.Due.Lo - spread - feeAmt}, e.Balance(t, invoice.StoreAccount("keeper", "USDT-ERC20")))
	require.Equal(t, chengdui.Amount{Lo: feeAmt}, e.Balance(t, settle.FeeRevenue("USDT-ERC20")))
	require.Equal(t, chengdui.Amount{Lo: spread}, e.Balance(t, settle.SpreadRevenue("USDT-ERC20")))

	// A fixed fee is charged once per invoice, on its first payment.
	require.NoError(t, e.DB.CreateStore(ctx, chengdui.Store{ID: "fixed", OwnerID: e.Owner, Name: "Fixed fee", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY", FeeFixed: "1.00"}, CreatedAt: e.Now()}))
	e.fund(t, "CNY", "1000", 2)
	two, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "fixed", Amount: "100.00", Currency: "CNY"})
	require.NoError(t, err)
	b, _ := two.Quote("BTC")
	e.Pay(t, two, invoice.MethodBTC, chengdui.Amount{Lo: b.Due.Lo / 2}, "half1", 10, 10)
	e.Pay(t, two, invoice.MethodBTC, chengdui.Amount{Lo: b.Due.Lo - b.Due.Lo/2}, "half2", 11, 11)
	got, _ := e.Invoices.Invoice(ctx, two.ID)
	require.Equal(t, invoice.Settled, got.Status)
	credited := e.Balance(t, invoice.StoreAccount("fixed", "CNY"))
	// 100 CNY in two halves (each rounded up), less 2 % and 1.00 once.
	require.True(t, credited.Cmp(units(t, "97.00", 2)) >= 0 && credited.Cmp(units(t, "97.02", 2)) <= 0, "credited %s", credited)
}

// TestConversionRounding: for any price, rate, spread, fee and payment,
// the merchant's value is the exact value rounded up (the platform's
// disfavour, by less than a unit), fee + proceeds = value, and the
// inventory gives out value + spread = the mid value rounded down (or the
// value, when rounding leaves no spread).
func TestConversionRounding(t *testing.T) {
	for _, c := range []struct{ fee, spread uint32 }{{0, 0}, {100, 50}, {275, 300}} {
		e := setup(t, c.fee, c.spread)
		conversionRounding(t, e)
	}
}

func conversionRounding(t *testing.T, e *env) {
	e.fund(t, "CNY", "100000000000", 2)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		store := fmt.Sprintf("s%d", n)
		require.NoError(t, e.DB.CreateStore(context.Background(), chengdui.Store{ID: store, OwnerID: e.Owner, Name: store, DefaultCurrency: "CNY",
			Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY"}, CreatedAt: e.Now()}))
		inventory := e.Balance(t, settle.Inventory("CNY"))
		spreadBefore, feesBefore := e.Balance(t, settle.SpreadRevenue("CNY")), e.Balance(t, settle.FeeRevenue("CNY"))
		price := rapid.Uint64Range(1, 10_000_000).Draw(rt, "fen")
		e.Rates.Set("USDT-ERC20", "CNY", rapid.SampledFrom([]string{"7.2", "7.1234", "6.99", "7"}).Draw(rt, "rate"))
		ctx := context.Background()
		amount := chengdui.FormatDecimal(chengdui.Amount{Lo: price}, 2)
		inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: store, Amount: amount, Currency: "CNY", Methods: []string{invoice.MethodUSDT}})
		if chengdui.ErrorCode(err) == chengdui.EInvalid {
			return // less than one smallest unit of USDT
		}
		require.NoError(t, err)
		q, _ := inv.Quote("USDT-ERC20")
		paid := rapid.Uint64Range(1, q.Due.Lo*2).Draw(rt, "paid")
		e.Pay(t, inv, invoice.MethodUSDT, chengdui.Amount{Lo: paid}, fmt.Sprintf("0x%d", n), 10, 10)
		got, _ := e.Invoices.Invoice(ctx, inv.ID)
		if got.Status != invoice.Settled {
			return
		}
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(paid)), big.NewInt(int64(price))), q.Due.Big())
		credited := e.Balance(t, invoice.StoreAccount(store, "CNY"))
		fees, _ := chengdui.SubAmounts(e.Balance(t, settle.FeeRevenue("CNY")), feesBefore)
		spread, _ := chengdui.SubAmounts(e.Balance(t, settle.SpreadRevenue("CNY")), spreadBefore)
		value := new(big.Rat).SetInt(new(big.Int).Add(credited.Big(), fees.Big()))
		diff := new(big.Rat).Sub(value, exact)
		if diff.Sign() < 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
			rt.Fatalf("value %s for exact %s", value.FloatString(4), exact.FloatString(4))
		}
		out, _ := chengdui.SubAmounts(inventory, e.Balance(t, settle.Inventory("CNY")))
		sum, _ := chengdui.AddAmounts(credited, fees)
		sum, _ = chengdui.AddAmounts(sum, spread)
		if out != sum {
			rt.Fatalf("inventory gave %s, legs sum to %s", out, sum)
		}
	})
}
