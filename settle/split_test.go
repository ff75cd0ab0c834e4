package settle_test

import (
	"context"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/fx"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
	"pgregory.net/rapid"
)

// TestDivide: the shares sum to the amount exactly, each is its exact
// share rounded down except the one taking the remainder, which is above
// its exact share by less than one unit per share.
func TestDivide(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, settle.MaxSplits).Draw(rt, "n")
		bps := make([]uint32, n)
		left := uint32(settle.TotalBps)
		for i := range n - 1 {
			b := rapid.Uint32Range(0, left).Draw(rt, "bps")
			bps[i], left = b, left-b
		}
		bps[n-1] = left
		amount := chengdui.Amount{Lo: rapid.Uint64().Draw(rt, "lo"), Hi: rapid.Uint64Range(0, 1<<20).Draw(rt, "hi")}
		rest := rapid.IntRange(0, n-1).Draw(rt, "rest")
		shares := settle.Divide(amount, bps, rest)
		sum := new(big.Int)
		for i, s := range shares {
			sum.Add(sum, s.Big())
			exact := new(big.Rat).SetFrac(new(big.Int).Mul(amount.Big(), big.NewInt(int64(bps[i]))), big.NewInt(settle.TotalBps))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt(s.Big()), exact)
			if i != rest && (diff.Sign() > 0 || diff.Cmp(big.NewRat(-1, 1)) <= 0) {
				rt.Fatalf("share %d is %s for exact %s", i, s, exact.FloatString(4))
			}
			if i == rest && (diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(int64(n), 1)) >= 0) {
				rt.Fatalf("the remainder's share %d is %s for exact %s", i, s, exact.FloatString(4))
			}
		}
		if sum.Cmp(amount.Big()) != 0 {
			rt.Fatalf("shares sum to %s, not %s", sum, amount)
		}
	})
}

// TestConvertShare: a converted share is the exact value rounded up, by
// less than one unit.
func TestConvertShare(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		v := chengdui.Amount{Lo: rapid.Uint64().Draw(rt, "v")}
		rate := big.NewRat(rapid.Int64Range(1, 1e12).Draw(rt, "num"), rapid.Int64Range(1, 1e12).Draw(rt, "den"))
		from, to := rapid.Uint8Range(0, 18).Draw(rt, "from"), rapid.Uint8Range(0, 18).Draw(rt, "to")
		got, ok := settle.ConvertShare(v, from, rate, to)
		exact := new(big.Rat).Mul(new(big.Rat).SetInt(v.Big()), rate)
		exact.Mul(exact, new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(to)), nil), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from)), nil)))
		if !ok {
			if new(big.Int).Quo(exact.Num(), exact.Denom()).BitLen() < 127 {
				rt.Fatalf("refused %s", exact.FloatString(2))
			}
			return
		}
		diff := new(big.Rat).Sub(new(big.Rat).SetInt(got.Big()), exact)
		if diff.Sign() < 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
			rt.Fatalf("converted %s for exact %s", got, exact.FloatString(4))
		}
	})
}

// splitEnv is a harness whose converter splits at live rates (fx.Rates
// over a fixed table, on the harness clock).
type splitEnv struct {
	*env
	rates *fx.Rates
}

func setupSplit(t testing.TB, feeBps uint32) *splitEnv {
	e := &splitEnv{env: &env{alerts: &alerts{}}}
	clock := &atomic.Pointer[func() time.Time]{}
	src, err := fx.NewFixed(fx.DevRates())
	require.NoError(t, err)
	e.rates, err = fx.NewRates(fx.Config{Sources: []fx.Source{src}, Now: func() time.Time { return (*clock.Load())() }})
	require.NoError(t, err)
	e.Harness = invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		now := h.Now
		clock.Store(&now)
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: feeBps, Alerts: e.alerts, Rates: e.rates})
	})
	require.NoError(t, e.rates.Refresh(context.Background()))
	return e
}

func balanceSplits(parts ...any) []chengdui.SettlementSplit {
	var out []chengdui.SettlementSplit
	for i := 0; i < len(parts); i += 2 {
		out = append(out, chengdui.SettlementSplit{Bps: uint32(parts[i].(int)), Asset: parts[i+1].(string),
			Destination: chengdui.SettlementDestination{Type: chengdui.DestinationBalance}})
	}
	return out
}

func (e *splitEnv) store(t testing.TB, id string, splits []chengdui.SettlementSplit) {
	require.NoError(t, e.DB.CreateStore(context.Background(), chengdui.Store{ID: id, OwnerID: e.Owner, Name: id, DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY", Splits: splits}, CreatedAt: e.Now()}))
}

// rate is the converter's current rate of quote per base: the inverse
// of quote's price in base.
func (e *splitEnv) rate(t testing.TB, base, quote string) *big.Rat {
	r, err := e.rates.Rate(quote, base)
	require.NoError(t, err)
	v, ok := new(big.Rat).SetString(r.Value.String())
	require.True(t, ok)
	return v.Inv(v)
}

// TestSplitConversion: 70 % stays in CNY, 30 % is paid in USDC from the
// platform's USDC inventory at the current rate, in the same batch; the
// parts sum to the proceeds; settling again posts nothing new, even after
// the store changed its splits.
func TestSplitConversion(t *testing.T) {
	e := setupSplit(t, 100) // 1 % fee
	e.fund(t, "CNY", "10000", 2)
	e.fund(t, "USDC-ERC20", "10000", 6)
	ctx := context.Background()
	e.store(t, "split", balanceSplits(7000, "CNY", 3000, "USDC-ERC20"))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "split", Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	e.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xs1", 10, 10)

	// Proceeds 72.00 − 0.72 = 71.28 CNY: 49.896 → 49.89 CNY (and the
	// remainder, 0.01, as CNY is the split not converted); 30 % = 21.384
	// → 21.38 CNY worth of USDC at 1/7.2.
	require.Equal(t, units(t, "49.90", 2), e.Balance(t, invoice.StoreAccount("split", "CNY")))
	want, ok := settle.ConvertShare(units(t, "21.38", 2), 2, e.rate(t, "CNY", "USDC-ERC20"), 6)
	require.True(t, ok)
	require.Equal(t, want, e.Balance(t, invoice.StoreAccount("split", "USDC-ERC20")))
	require.Equal(t, units(t, "2.969445", 6), want, "21.38 / 7.2 = 2.9694444…, rounded up")
	require.Equal(t, units(t, "9949.38", 2), e.Balance(t, settle.Inventory("CNY")), "the CNY inventory paid 49.90 + 0.72 fee")
	require.Equal(t, units(t, "9997.030555", 6), e.Balance(t, settle.Inventory("USDC-ERC20")))
	require.Empty(t, e.alerts.events)

	// The store changes its splits; a later settle of the same invoice
	// posts nothing new.
	st, err := e.DB.Store(ctx, "split")
	require.NoError(t, err)
	next := st.Settlement
	next.Splits = balanceSplits(10000, "CNY")
	require.NoError(t, e.DB.UpdateSettlement(ctx, "split", st.Settlement, next))
	e.Confirm(t, "evm:1337", 30)
	got, err := e.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	pays, err := e.Invoices.Payments(ctx, inv.ID)
	require.NoError(t, err)
	require.NoError(t, settle.New(settle.Config{Ledger: e.Ledger, Stores: e.Store, FeeBps: 100}).Settle(ctx, got, pays))
	require.Equal(t, units(t, "49.90", 2), e.Balance(t, invoice.StoreAccount("split", "CNY")))
	require.Equal(t, want, e.Balance(t, invoice.StoreAccount("split", "USDC-ERC20")))
}

// TestSplitWithoutRate: a split asset with no fresh rate is kept in the
// invoice currency, with an alert; the merchant is paid in full.
func TestSplitWithoutRate(t *testing.T) {
	e := setupSplit(t, 0)
	e.fund(t, "CNY", "10000", 2)
	e.fund(t, "USDC-ERC20", "10000", 6)
	ctx := context.Background()
	e.store(t, "stale", balanceSplits(5000, "USDC-ERC20", 5000, "CNY"))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "stale", Amount: "10.00", Currency: "CNY"})
	require.NoError(t, err)
	e.Advance(time.Hour) // the rates go stale (2 minutes)
	_, err = e.rates.Rate("CNY", "USDC-ERC20")
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err))
	q, _ := inv.Quote("BTC")
	e.Pay(t, inv, invoice.MethodBTC, q.Due, "tx-stale", 10, 10)
	require.Equal(t, units(t, "10.00", 2), e.Balance(t, invoice.StoreAccount("stale", "CNY")))
	require.True(t, e.Balance(t, invoice.StoreAccount("stale", "USDC-ERC20")).IsZero())
	require.Equal(t, []string{settle.AlertSplitKept}, e.alerts.events)
}

// TestSplitInventoryShort: a split asset's inventory that cannot cover
// its share refuses the whole batch; funded, the next tick converts.
func TestSplitInventoryShort(t *testing.T) {
	e := setupSplit(t, 0)
	e.fund(t, "CNY", "10000", 2)
	e.fund(t, "USDC-ERC20", "1", 6)
	ctx := context.Background()
	e.store(t, "short", balanceSplits(2000, "CNY", 8000, "USDC-ERC20"))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "short", Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("BTC")
	e.Pay(t, inv, invoice.MethodBTC, q.Due, "tx-short", 10, 10)
	require.True(t, e.Balance(t, invoice.StoreAccount("short", "CNY")).IsZero(), "nothing half done")
	require.Equal(t, units(t, "10000", 2), e.Balance(t, settle.Inventory("CNY")))
	require.Equal(t, q.Due, e.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")))
	require.Equal(t, []string{settle.AlertUnconverted}, e.alerts.events)

	e.fund(t, "USDC-ERC20", "100", 6)
	_, err = e.Invoices.Tick(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, units(t, "14.40", 2), e.Balance(t, invoice.StoreAccount("short", "CNY")))
	require.Equal(t, units(t, "8", 6), e.Balance(t, invoice.StoreAccount("short", "USDC-ERC20")), "57.60 CNY at 7.2")
}

// TestSplitKept: a store settled in the asset paid splits what it keeps:
// the converted share leaves clearing for the inventory (split-in).
func TestSplitKept(t *testing.T) {
	e := setupSplit(t, 0)
	e.fund(t, "CNY", "10000", 2)
	ctx := context.Background()
	require.NoError(t, e.DB.CreateStore(ctx, chengdui.Store{ID: "kept", OwnerID: e.Owner, Name: "kept", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "USDT-ERC20", Splits: balanceSplits(5000, "USDT-ERC20", 5000, "CNY")}, CreatedAt: e.Now()}))
	inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "kept", Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	require.Equal(t, units(t, "10", 6), q.Due)
	e.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xkept", 10, 10)
	require.Equal(t, units(t, "5", 6), e.Balance(t, invoice.StoreAccount("kept", "USDT-ERC20")))
	require.Equal(t, units(t, "36", 2), e.Balance(t, invoice.StoreAccount("kept", "CNY")))
	require.Equal(t, units(t, "5", 6), e.Balance(t, settle.Inventory("USDT-ERC20")))
	require.True(t, e.Balance(t, invoice.ClearingAccount(inv.ID, "USDT-ERC20")).IsZero())
}

// TestSplitConservation: for any price, payment and split, the store's
// CNY credit plus the CNY value of its other shares is the proceeds, each
// converted share is its value at the rate rounded up by less than a
// unit, and the inventories gave out exactly what the store and the
// platform received.
func TestSplitConservation(t *testing.T) {
	e := setupSplit(t, 150)
	e.fund(t, "CNY", "100000000000", 2)
	e.fund(t, "USDC-ERC20", "100000000000", 6)
	e.fund(t, "BTC", "1000000", 8)
	rates := map[string]*big.Rat{"USDC-ERC20": e.rate(t, "CNY", "USDC-ERC20"), "BTC": e.rate(t, "CNY", "BTC")}
	dec := map[string]uint8{"USDC-ERC20": 6, "BTC": 8}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		ctx := context.Background()
		store := "c" + uint128.From64(uint64(n)).String()
		a := rapid.Uint32Range(0, 10000).Draw(rt, "cny")
		b := rapid.Uint32Range(0, 10000-a).Draw(rt, "usdc")
		var splits []chengdui.SettlementSplit
		for _, s := range []struct {
			bps   uint32
			asset string
		}{{a, "CNY"}, {b, "USDC-ERC20"}, {10000 - a - b, "BTC"}} {
			if s.bps > 0 {
				splits = append(splits, balanceSplits(int(s.bps), s.asset)...)
			}
		}
		e.store(t, store, splits)
		invBefore := map[string]chengdui.Amount{}
		for _, as := range []string{"CNY", "USDC-ERC20", "BTC"} {
			invBefore[as] = e.Balance(t, settle.Inventory(as))
		}
		feesBefore, spreadBefore := e.Balance(t, settle.FeeRevenue("CNY")), e.Balance(t, settle.SpreadRevenue("CNY"))
		price := rapid.Uint64Range(100, 100_000_000).Draw(rt, "fen")
		inv, err := e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: store, Amount: chengdui.FormatDecimal(chengdui.Amount{Lo: price}, 2),
			Currency: "CNY", Methods: []string{invoice.MethodUSDT}})
		require.NoError(t, err)
		q, _ := inv.Quote("USDT-ERC20")
		e.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xc"+store, 10, 10)
		fees, _ := chengdui.SubAmounts(e.Balance(t, settle.FeeRevenue("CNY")), feesBefore)
		spread, _ := chengdui.SubAmounts(e.Balance(t, settle.SpreadRevenue("CNY")), spreadBefore)
		cny := e.Balance(t, invoice.StoreAccount(store, "CNY"))
		// The CNY inventory gave the store's CNY, the fee and the spread.
		out, _ := chengdui.SubAmounts(invBefore["CNY"], e.Balance(t, settle.Inventory("CNY")))
		sum, _ := chengdui.AddAmounts(cny, fees)
		sum, _ = chengdui.AddAmounts(sum, spread)
		require.Equal(t, sum, out)
		// Proceeds are the CNY kept and the values of the other shares.
		value := new(big.Int).Set(cny.Big())
		for _, as := range []string{"USDC-ERC20", "BTC"} {
			got := e.Balance(t, invoice.StoreAccount(store, as))
			gave, _ := chengdui.SubAmounts(invBefore[as], e.Balance(t, settle.Inventory(as)))
			require.Equal(t, got, gave, "%s: the inventory gave what the store got", as)
			if got.IsZero() {
				continue
			}
			legs, err := e.Ledger.Transfers(ctx, chengdui.TransferFilter{AccountID: invoice.StoreAccount(store, as)})
			require.NoError(t, err)
			require.Len(t, legs, 1)
			v, err := chengdui.ParseUnits(legs[0].Metadata["value"])
			require.NoError(t, err)
			require.True(t, strings.Contains(legs[0].Metadata["parts"], as+"="+got.String()))
			want, ok := settle.ConvertShare(v, 2, rates[as], dec[as])
			require.True(t, ok)
			require.Equal(t, want, got)
			value.Add(value, v.Big())
		}
		total := new(big.Int).Add(value, fees.Big())
		mdv, err := chengdui.ParseUnits(firstLegValue(t, e, inv.ID))
		require.NoError(t, err)
		require.Equal(t, mdv.Big().String(), total.String(), "proceeds + fee = the payment's value")
	})
}

// firstLegValue is the "value" of an invoice's conversion.
func firstLegValue(t testing.TB, e *splitEnv, invoiceID string) string {
	ts, err := e.Ledger.Transfers(context.Background(), chengdui.TransferFilter{AccountID: invoice.ClearingAccount(invoiceID, "USDT-ERC20")})
	require.NoError(t, err)
	for _, x := range ts {
		if x.Code == settle.CodeConvertIn {
			return x.Metadata["value"]
		}
	}
	t.Fatalf("no conversion of %s", invoiceID)
	return ""
}
