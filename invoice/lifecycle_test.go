package invoice

import (
	"encoding/json"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// sample is a CNY 100.00 invoice payable in BTC (due 0.00023148 BTC) and
// USDT (due 13.888888 USDT).
func sample() Invoice {
	return Invoice{ID: "inv1", StoreID: "s1", Amount: chengdui.Amount{Lo: 10000}, Currency: "CNY", Decimals: 2,
		Status: New, Additional: None, SpeedPolicy: MediumSpeed,
		Quotes: []Quote{{Asset: "BTC", Decimals: 8, Rate: "432000", Due: chengdui.Amount{Lo: 23148}},
			{Asset: "USDT-ERC20", Decimals: 6, Rate: "7.2", Due: chengdui.Amount{Lo: 13888888}}},
		Methods:   []Method{{ID: MethodBTC, Asset: "BTC", Destination: "bcrt1q"}, {ID: MethodUSDT, Asset: "USDT-ERC20", Destination: "0xabc"}},
		CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute), MonitoringUntil: t0.Add(15*time.Minute + 24*time.Hour)}
}

func pay(id, asset string, amount uint64, st PaymentStatus) Payment {
	m := MethodBTC
	if asset != "BTC" {
		m = MethodUSDT
	}
	return Payment{ID: id, Method: m, Asset: asset, Amount: chengdui.Amount{Lo: amount}, Status: st, ReceivedAt: t0}
}

func types(evs []Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func set(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestEvaluate(t *testing.T) {
	expired := t0.Add(16 * time.Minute)
	for _, tc := range []struct {
		name       string
		inv        func(*Invoice)
		pays       []Payment
		fresh, ok  map[string]bool
		now        time.Time
		status     Status
		additional Additional
		events     []string
	}{
		{name: "nothing yet", now: t0, status: New, additional: None, events: []string{}},
		{name: "partial payment seen", pays: []Payment{pay("a", "BTC", 10000, PaymentProcessing)}, fresh: set("a"), now: t0,
			status: New, additional: PaidPartial, events: []string{EventReceivedPayment}},
		{name: "paid in full, unconfirmed", pays: []Payment{pay("a", "BTC", 23148, PaymentProcessing)}, fresh: set("a"), now: t0,
			status: Processing, additional: None, events: []string{EventReceivedPayment, EventProcessing}},
		{name: "paid and confirmed at once (balance)", pays: []Payment{pay("a", "USDT-ERC20", 13888888, PaymentSettled)}, fresh: set("a"), ok: set("a"), now: t0,
			status: Settled, additional: None, events: []string{EventReceivedPayment, EventPaymentSettled, EventProcessing, EventSettled}},
		{name: "processing then confirmed", inv: func(i *Invoice) { i.Status = Processing }, pays: []Payment{pay("a", "BTC", 23148, PaymentSettled)}, ok: set("a"), now: t0,
			status: Settled, additional: None, events: []string{EventPaymentSettled, EventSettled}},
		{name: "two partial payments in two assets add up", pays: []Payment{pay("a", "BTC", 11574, PaymentSettled), pay("b", "USDT-ERC20", 6944444, PaymentSettled)},
			fresh: set("b"), ok: set("b"), now: t0, status: Settled, additional: None,
			events: []string{EventReceivedPayment, EventPaymentSettled, EventProcessing, EventSettled}},
		{name: "one unit short is partial", pays: []Payment{pay("a", "BTC", 23147, PaymentSettled)}, fresh: set("a"), now: t0,
			status: New, additional: PaidPartial, events: []string{EventReceivedPayment}},
		{name: "within tolerance is full", inv: func(i *Invoice) { i.ToleranceBps = 100 }, pays: []Payment{pay("a", "BTC", 22917, PaymentSettled)}, fresh: set("a"), ok: set("a"), now: t0,
			status: Settled, additional: None, events: []string{EventReceivedPayment, EventPaymentSettled, EventProcessing, EventSettled}},
		{name: "just outside tolerance", inv: func(i *Invoice) { i.ToleranceBps = 100 }, pays: []Payment{pay("a", "BTC", 22916, PaymentSettled)}, fresh: set("a"), now: t0,
			status: New, additional: PaidPartial, events: []string{EventReceivedPayment}},
		{name: "overpaid", pays: []Payment{pay("a", "BTC", 30000, PaymentSettled)}, fresh: set("a"), ok: set("a"), now: t0,
			status: Settled, additional: PaidOver, events: []string{EventReceivedPayment, EventPaymentSettled, EventProcessing, EventSettled}},
		{name: "expires unpaid", now: expired, status: Expired, additional: None, events: []string{EventExpired}},
		{name: "expires partially paid", pays: []Payment{pay("a", "BTC", 100, PaymentSettled)}, now: expired, status: Expired, additional: PaidPartial, events: []string{EventExpired}},
		{name: "paid late", inv: func(i *Invoice) { i.Status, i.Additional = Expired, None }, pays: []Payment{pay("a", "BTC", 23148, PaymentProcessing)}, fresh: set("a"),
			now: expired, status: Expired, additional: PaidLate, events: []string{EventReceivedPayment}},
		{name: "paid in full at expiry in the same evaluation", pays: []Payment{pay("a", "BTC", 23148, PaymentProcessing)}, fresh: set("a"), now: expired,
			status: Processing, additional: None, events: []string{EventReceivedPayment, EventProcessing}},
		{name: "double spent while processing", inv: func(i *Invoice) { i.Status = Processing }, pays: []Payment{pay("a", "BTC", 23148, PaymentInvalid)}, now: t0,
			status: Invalid, additional: AddInvalid, events: []string{EventInvalid}},
		{name: "unconfirmed past monitoring", inv: func(i *Invoice) { i.Status = Processing }, pays: []Payment{pay("a", "BTC", 23148, PaymentProcessing)},
			now: t0.Add(48 * time.Hour), status: Invalid, additional: None, events: []string{EventInvalid}},
		{name: "paid in full, first seen past monitoring", pays: []Payment{pay("a", "BTC", 23148, PaymentProcessing)}, fresh: set("a"),
			now: t0.Add(48 * time.Hour), status: Invalid, additional: None, events: []string{EventReceivedPayment, EventProcessing, EventInvalid}},
		{name: "invalid payment counts nothing", pays: []Payment{pay("a", "BTC", 23148, PaymentInvalid)}, now: t0, status: New, additional: None, events: []string{}},
		{name: "top-up: any payment pays in full", inv: func(i *Invoice) { i.TopUp, i.Amount = true, chengdui.Amount{} },
			pays: []Payment{pay("a", "BTC", 1, PaymentSettled)}, fresh: set("a"), ok: set("a"), now: t0,
			status: Settled, additional: None, events: []string{EventReceivedPayment, EventPaymentSettled, EventProcessing, EventSettled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := sample()
			if tc.inv != nil {
				tc.inv(&inv)
			}
			c := evaluate(inv, tc.pays, tc.fresh, tc.ok, tc.now)
			require.Equal(t, tc.status, c.inv.Status)
			require.Equal(t, tc.additional, c.inv.Additional)
			require.Equal(t, tc.events, types(c.events))
			for _, e := range c.events {
				require.True(t, json.Valid(e.Data), "%s", e.Data)
				require.Equal(t, "inv1", e.InvoiceID)
				require.Equal(t, "s1", e.StoreID)
			}
		})
	}
}

func TestEventPayloads(t *testing.T) {
	inv := sample()
	c := evaluate(inv, []Payment{pay("a", "BTC", 30000, PaymentSettled)}, set("a"), set("a"), t0)
	var got []map[string]any
	for _, e := range c.events {
		var m map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &m))
		got = append(got, m)
	}
	require.Equal(t, false, got[0]["afterExpiration"])
	require.Equal(t, MethodBTC, got[0]["paymentMethodId"])
	p := got[0]["payment"].(map[string]any)
	require.Equal(t, "0.00030000", p["value"])
	require.Equal(t, "Settled", p["status"])
	require.Equal(t, true, got[3]["overPaid"])
	require.Equal(t, false, got[3]["manuallyMarked"])
}

func TestMark(t *testing.T) {
	inv := sample()
	c, err := mark(inv, Settled, t0)
	require.NoError(t, err)
	require.Equal(t, Settled, c.inv.Status)
	require.Equal(t, Marked, c.inv.Additional)
	require.Equal(t, []string{EventSettled}, types(c.events))
	require.JSONEq(t, `{"manuallyMarked":true,"overPaid":false}`, string(c.events[0].Data))

	_, err = mark(inv, Processing, t0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = mark(c.inv, Settled, t0)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	// Marked settled can be marked invalid; settled by payments cannot.
	_, err = mark(c.inv, Invalid, t0)
	require.NoError(t, err)
	paid := inv
	paid.Status = Settled
	_, err = mark(paid, Invalid, t0)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	require.Equal(t, []Status{Settled, Invalid}, AvailableMarks(inv))
	require.Equal(t, []Status(nil), AvailableMarks(paid))
}

// TestRemainingPaysInFull: paying what Remaining says always makes the
// invoice paid in full, and never by more than one smallest unit over.
func TestRemainingPaysInFull(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inv := sample()
		inv.Quotes[0].Due = chengdui.Amount{Lo: rapid.Uint64Range(1, 1e12).Draw(t, "btcDue")}
		inv.Quotes[1].Due = chengdui.Amount{Lo: rapid.Uint64Range(1, 1e12).Draw(t, "usdtDue")}
		var pays []Payment
		for i, n := 0, rapid.IntRange(0, 4).Draw(t, "n"); i < n; i++ {
			asset := rapid.SampledFrom([]string{"BTC", "USDT-ERC20"}).Draw(t, "asset")
			q, _ := inv.Quote(asset)
			pays = append(pays, pay(string(rune('a'+i)), asset, rapid.Uint64Range(0, q.Due.Lo).Draw(t, "amount"), PaymentSettled))
		}
		asset := rapid.SampledFrom([]string{"BTC", "USDT-ERC20"}).Draw(t, "payWith")
		left, err := Remaining(inv, pays, asset)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := coverage(inv, pays)
		if all.Cmp(one) >= 0 {
			if !left.IsZero() {
				t.Fatalf("paid invoice has %s left", left)
			}
			return
		}
		full := append(pays, pay("last", asset, left.Lo, PaymentSettled))
		after, _ := coverage(inv, full)
		if after.Cmp(one) < 0 {
			t.Fatalf("paying the remaining %s leaves it unpaid: %s", left, after)
		}
		if !left.IsZero() {
			short := append(pays, pay("last", asset, left.Lo-1, PaymentSettled))
			if before, _ := coverage(inv, short); before.Cmp(one) >= 0 {
				t.Fatalf("remaining %s is more than needed", left)
			}
		}
	})
}

// TestEvaluateIdempotent: evaluating the result again with nothing new
// changes nothing and announces nothing (a retried apply is silent).
func TestEvaluateIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		inv := sample()
		var pays []Payment
		fresh := map[string]bool{}
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "n"); i < n; i++ {
			id := string(rune('a' + i))
			st := rapid.SampledFrom([]PaymentStatus{PaymentProcessing, PaymentSettled, PaymentInvalid}).Draw(t, "status")
			pays = append(pays, pay(id, "BTC", rapid.Uint64Range(1, 40000).Draw(t, "amount"), st))
			fresh[id] = st != PaymentInvalid
		}
		now := t0.Add(time.Duration(rapid.Int64Range(0, int64(30*time.Hour)).Draw(t, "later")))
		first := evaluate(inv, pays, fresh, nil, now)
		second := evaluate(first.inv, pays, nil, nil, now)
		if second.inv.Status != first.inv.Status || second.inv.Additional != first.inv.Additional || len(second.events) != 0 {
			t.Fatalf("second evaluation changed %s/%s to %s/%s with %v", first.inv.Status, first.inv.Additional,
				second.inv.Status, second.inv.Additional, types(second.events))
		}
	})
}
