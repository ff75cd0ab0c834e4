package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// RunInvoice runs the invoice.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunInvoice(t *testing.T, f func(t testing.TB) invoice.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testInvoiceRoundTrip(t, f(t)) })
	t.Run("Times", func(t *testing.T) { testInvoiceTimes(t, f(t)) })
	t.Run("CreateRefusals", func(t *testing.T) { testInvoiceCreateRefusals(t, f(t)) })
	t.Run("Update", func(t *testing.T) { testInvoiceUpdate(t, f(t)) })
	t.Run("UpdateRefusals", func(t *testing.T) { testInvoiceUpdateRefusals(t, f(t)) })
	t.Run("UpdateRace", func(t *testing.T) { testInvoiceUpdateRace(t, f(t)) })
	t.Run("List", func(t *testing.T) { testInvoiceList(t, f(t)) })
	t.Run("ListPages", func(t *testing.T) { testInvoiceListPages(t, f(t)) })
	t.Run("Pending", func(t *testing.T) { testInvoicePending(t, f(t)) })
	t.Run("Addresses", func(t *testing.T) { testInvoiceAddresses(t, f(t)) })
	t.Run("Events", func(t *testing.T) { testInvoiceEvents(t, f(t)) })
	t.Run("EventsFollowed", func(t *testing.T) { testInvoiceEventsFollowed(t, f(t)) })
}

// invoiceEpoch has microsecond precision, the stores' resolution.
var invoiceEpoch = time.Date(2026, 12, 2, 9, 15, 0, 123456000, time.UTC)

var maxAmount = chengdui.Amount(uint128.Max)

// testIntentID is a router intent id (0x and 64 lower-case hex digits).
func testIntentID(invoiceID, method string) string {
	h := sha256.Sum256([]byte(invoiceID + ":" + method))
	return "0x" + hex.EncodeToString(h[:])
}

// bareInvoice is an invoice without methods, created at epoch + at.
func bareInvoice(id, storeID string, at time.Duration) invoice.Invoice {
	created := invoiceEpoch.Add(at)
	return invoice.Invoice{ID: id, StoreID: storeID, Amount: chengdui.Amount{Lo: 1999}, Currency: "USD", Decimals: 2,
		Status: invoice.New, Additional: invoice.None, SpeedPolicy: invoice.MediumSpeed, ToleranceBps: 0,
		CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute), MonitoringUntil: created.Add(75 * time.Minute), UpdatedAt: created}
}

// fullInvoice is an invoice with every kind of method: BTC at index n of
// its tree, ETH and USDT paid to one EVM address (index n) with router
// intents, and BALANCE. Its amounts are the largest there are.
func fullInvoice(id string, n uint32) invoice.Invoice {
	inv := bareInvoice(id, "store-1", time.Duration(n)*time.Second)
	inv.Amount, inv.TopUp, inv.ToleranceBps = maxAmount, false, 100
	inv.OrderID = "order-" + id
	inv.Metadata = json.RawMessage(`{"orderId": "order-` + id + `",  "note":"<b>茶 & 咖啡</b>", "n": 1.50}`)
	inv.Checkout = invoice.Checkout{RedirectURL: "https://shop.example/thanks?a=1&b=2", RedirectAutomatically: true, DefaultLanguage: "zh-CN"}
	inv.Quotes = []invoice.Quote{
		{Asset: "BTC", Decimals: 8, Rate: "60000.123456789", Sources: []string{"kraken", "okx"}, SpreadBps: 50, Due: chengdui.Amount{Lo: 20576}},
		{Asset: "ETH", Decimals: 18, Rate: "3000", SpreadBps: 50, Due: chengdui.Amount{Lo: ^uint64(0) - 1, Hi: 1 << 62}},
		{Asset: "USDT-ERC20", Decimals: 6, Rate: "7.2", SpreadBps: 0, Due: maxAmount},
	}
	evm := fmt.Sprintf("0x%040x", n+1)
	intent := func(method string, amount chengdui.Amount) *invoice.Intent {
		return &invoice.Intent{Router: "0x5FbDB2315678afecb367f032d93F642f64180aa3", ChainID: 1337, ID: testIntentID(id, method),
			Amount: amount, Fee: maxAmount, Recipient: evm, FeeRecipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
			Deadline: inv.ExpiresAt.Unix(), Signature: "0x" + hex.EncodeToString([]byte(method))}
	}
	inv.Methods = []invoice.Method{
		{ID: invoice.MethodBTC, Asset: "BTC", Destination: fmt.Sprintf("bcrt1q%s", id), Scheme: "bip84", Network: "regtest", Index: n, Chain: "bitcoin:regtest"},
		{ID: invoice.MethodETH, Asset: "ETH", Destination: evm, Scheme: "bip44-evm", Network: "evm", Index: n, Chain: "evm:1337", ChainID: 1337,
			Intent: intent(invoice.MethodETH, inv.Quotes[1].Due)},
		{ID: invoice.MethodUSDT, Asset: "USDT-ERC20", Destination: evm, Scheme: "bip44-evm", Network: "evm", Index: n, Chain: "evm:1337", ChainID: 1337,
			Token: "0xdAC17F958D2ee523a2206206994597C13D831ec7", Intent: intent(invoice.MethodUSDT, maxAmount)},
		{ID: invoice.MethodBalance},
	}
	return inv
}

// invoiceEvent is an event of inv with the given id.
func invoiceEvent(inv invoice.Invoice, id, typ string) invoice.Event {
	return invoice.Event{ID: id, StoreID: inv.StoreID, InvoiceID: inv.ID, Type: typ,
		Data: json.RawMessage(`{"afterExpiration": false,  "payment": {"value": "0.001", "note": "<x>"}}`), CreatedAt: inv.UpdatedAt}
}

func mustCreateInvoice(t testing.TB, s invoice.Store, inv invoice.Invoice, events ...invoice.Event) {
	t.Helper()
	require.NoError(t, s.CreateInvoice(context.Background(), inv, events))
}

func allEvents(t testing.TB, s invoice.Store, invoiceID string) []invoice.Event {
	t.Helper()
	var out []invoice.Event
	after := int64(0)
	for {
		page, err := s.Events(context.Background(), invoiceID, after, 7)
		require.NoError(t, err)
		out = append(out, page...)
		if len(page) < 7 {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

// eventIDs lists events' ids and checks that their Seqs ascend strictly.
func eventIDs(t testing.TB, events []invoice.Event) []string {
	t.Helper()
	ids := []string{}
	for i, e := range events {
		if i > 0 {
			require.Greater(t, e.Seq, events[i-1].Seq, "event %s", e.ID)
		}
		require.Positive(t, e.Seq)
		ids = append(ids, e.ID)
	}
	return ids
}

func testInvoiceRoundTrip(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	inv := fullInvoice("inv1", 1)
	inv.Version = 7 // the store sets 1
	created := invoiceEvent(inv, "evt-1", invoice.EventCreated)
	require.NoError(t, s.CreateInvoice(ctx, inv, []invoice.Event{created}))
	inv.Version = 1
	got, err := s.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, inv, got)
	require.Equal(t, maxAmount, got.Methods[2].Intent.Amount)
	require.Equal(t, string(inv.Metadata), string(got.Metadata), "metadata byte for byte")

	// Methods without a derivation scheme and empty slices survive too.
	top := bareInvoice("inv2", "store-2", time.Hour)
	top.TopUp, top.Amount = true, chengdui.Amount{}
	top.Methods = []invoice.Method{{ID: invoice.MethodBalance}}
	top.Quotes = []invoice.Quote{}
	mustCreateInvoice(t, s, top)
	top.Version = 1
	got, err = s.Invoice(ctx, top.ID)
	require.NoError(t, err)
	require.Equal(t, top, got)

	_, err = s.Invoice(ctx, "nobody")
	requireCode(t, chengdui.ENotFound, err)

	evs := allEvents(t, s, "")
	require.Len(t, evs, 1)
	created.Seq = evs[0].Seq
	require.Equal(t, created, evs[0])
	require.Equal(t, string(created.Data), string(evs[0].Data), "event data byte for byte")
}

// testInvoiceTimes stores times of another zone: they come back equal, in
// UTC, at microsecond precision.
func testInvoiceTimes(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	inv := bareInvoice("inv1", "store-1", 0)
	inv.CreatedAt = time.Date(2026, 12, 2, 17, 15, 0, 999999000, cst)
	inv.ExpiresAt, inv.MonitoringUntil, inv.UpdatedAt = inv.CreatedAt.Add(time.Microsecond), inv.CreatedAt.Add(time.Hour), inv.CreatedAt.Add(2*time.Microsecond)
	ev := invoiceEvent(inv, "evt-1", invoice.EventCreated)
	ev.CreatedAt = inv.CreatedAt
	mustCreateInvoice(t, s, inv, ev)
	got, err := s.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	for _, tt := range [][2]time.Time{{inv.CreatedAt, got.CreatedAt}, {inv.ExpiresAt, got.ExpiresAt}, {inv.MonitoringUntil, got.MonitoringUntil}, {inv.UpdatedAt, got.UpdatedAt}} {
		require.True(t, tt[0].Equal(tt[1]), "%v != %v", tt[0], tt[1])
		require.Equal(t, time.UTC, tt[1].Location())
	}
	require.Equal(t, time.Date(2026, 12, 2, 9, 15, 0, 999999000, time.UTC), got.CreatedAt)
	evs := allEvents(t, s, inv.ID)
	require.Len(t, evs, 1)
	require.Equal(t, got.CreatedAt, evs[0].CreatedAt)
}

func testInvoiceCreateRefusals(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	taken := fullInvoice("taken", 1)
	mustCreateInvoice(t, s, taken, invoiceEvent(taken, "evt-taken", invoice.EventCreated))

	for _, tc := range []struct {
		name   string
		change func(inv *invoice.Invoice, events []invoice.Event)
		code   string
	}{
		{"no id", func(inv *invoice.Invoice, evs []invoice.Event) { inv.ID, evs[0].InvoiceID = "", "" }, chengdui.EInvalid},
		{"no store", func(inv *invoice.Invoice, evs []invoice.Event) { inv.StoreID, evs[0].StoreID = "", "" }, chengdui.EInvalid},
		{"no status", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Status = "" }, chengdui.EInvalid},
		{"metadata not JSON", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Metadata = json.RawMessage(`{"a":`) }, chengdui.EInvalid},
		{"metadata not UTF-8", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Metadata = json.RawMessage("\"\xff\"") }, chengdui.EInvalid},
		{"index past 2^31-1", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Methods[0].Index = 1 << 31 }, chengdui.EInvalid},
		{"address with two derivations", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Methods[2].Index++ }, chengdui.EInvalid},
		{"short intent id", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Methods[1].Intent.ID = "0x1234" }, chengdui.EInvalid},
		{"intent id not hex", func(inv *invoice.Invoice, _ []invoice.Event) {
			inv.Methods[1].Intent.ID = "0x" + fmt.Sprintf("%064d", 0)[:63] + "g"
		}, chengdui.EInvalid},
		{"event of another invoice", func(_ *invoice.Invoice, evs []invoice.Event) { evs[0].InvoiceID = "taken" }, chengdui.EInvalid},
		{"event of another store", func(_ *invoice.Invoice, evs []invoice.Event) { evs[0].StoreID = "store-9" }, chengdui.EInvalid},
		{"event without id", func(_ *invoice.Invoice, evs []invoice.Event) { evs[0].ID = "" }, chengdui.EInvalid},
		{"event without type", func(_ *invoice.Invoice, evs []invoice.Event) { evs[0].Type = "" }, chengdui.EInvalid},
		{"event data not JSON", func(_ *invoice.Invoice, evs []invoice.Event) { evs[0].Data = json.RawMessage(`{`) }, chengdui.EInvalid},
		{"id exists", func(inv *invoice.Invoice, evs []invoice.Event) {
			inv.ID, evs[0].InvoiceID, evs[1].InvoiceID = "taken", "taken", "taken"
		}, chengdui.EConflict},
		{"BTC address taken", func(inv *invoice.Invoice, _ []invoice.Event) {
			inv.Methods[0].Destination = taken.Methods[0].Destination
		}, chengdui.EConflict},
		{"EVM address taken", func(inv *invoice.Invoice, _ []invoice.Event) {
			inv.Methods[1].Destination, inv.Methods[2].Destination = taken.Methods[1].Destination, taken.Methods[1].Destination
		}, chengdui.EConflict},
		{"derivation index taken", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Methods[0].Index = taken.Methods[0].Index }, chengdui.EConflict},
		{"intent taken", func(inv *invoice.Invoice, _ []invoice.Event) { inv.Methods[2].Intent.ID = taken.Methods[2].Intent.ID }, chengdui.EConflict},
		{"intent taken, other case", func(inv *invoice.Invoice, _ []invoice.Event) {
			inv.Methods[2].Intent.ID = "0x" + strings.ToUpper(taken.Methods[2].Intent.ID[2:])
		}, chengdui.EConflict},
		{"event id taken", func(_ *invoice.Invoice, evs []invoice.Event) { evs[1].ID = "evt-taken" }, chengdui.EConflict},
		{"event id twice", func(_ *invoice.Invoice, evs []invoice.Event) { evs[1].ID = evs[0].ID }, chengdui.EConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := fullInvoice("inv2", 2)
			evs := []invoice.Event{invoiceEvent(inv, "evt-2a", invoice.EventCreated), invoiceEvent(inv, "evt-2b", invoice.EventReceivedPayment)}
			tc.change(&inv, evs)
			requireCode(t, tc.code, s.CreateInvoice(ctx, inv, evs))

			// Nothing was written.
			_, err := s.Invoice(ctx, "inv2")
			requireCode(t, chengdui.ENotFound, err)
			got, err := s.Invoice(ctx, "taken")
			require.NoError(t, err)
			want := taken
			want.Version = 1
			require.Equal(t, want, got)
			require.Equal(t, []string{"evt-taken"}, eventIDs(t, allEvents(t, s, "")))
			for _, m := range fullInvoice("inv2", 2).Methods {
				if m.Destination != "" {
					_, err := s.InvoiceAddress(ctx, m.Destination)
					requireCode(t, chengdui.ENotFound, err)
				}
				if m.Intent != nil {
					_, err := s.InvoiceByIntent(ctx, m.Intent.ID)
					requireCode(t, chengdui.ENotFound, err)
				}
			}
			for _, tree := range [][2]string{{"bip84", "regtest"}, {"bip44-evm", "evm"}} {
				as, err := s.InvoiceAddresses(ctx, tree[0], tree[1])
				require.NoError(t, err)
				require.Len(t, as, 1, "%v", tree)
				require.Equal(t, "taken", as[0].InvoiceID)
			}
		})
	}
	// The refused invoice goes in as it was.
	inv := fullInvoice("inv2", 2)
	mustCreateInvoice(t, s, inv, invoiceEvent(inv, "evt-2a", invoice.EventCreated))
}

func testInvoiceUpdate(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	inv := fullInvoice("inv1", 1)
	mustCreateInvoice(t, s, inv, invoiceEvent(inv, "evt-0", invoice.EventCreated))
	other := bareInvoice("inv9", "store-1", time.Minute)
	mustCreateInvoice(t, s, other)
	inv.Version = 1

	at := inv.CreatedAt.Add(time.Minute)
	p1 := invoice.Payment{ID: "bitcoin:regtest:tx1:0", InvoiceID: inv.ID, Method: invoice.MethodBTC, Asset: "BTC", Amount: chengdui.Amount{Lo: 10000},
		Status: invoice.PaymentProcessing, Destination: inv.Methods[0].Destination, TxID: "tx1", ReceivedAt: at.Add(time.Second), UpdatedAt: at.Add(time.Second)}
	p2 := invoice.Payment{ID: "bal:inv1:alice", InvoiceID: inv.ID, Method: invoice.MethodBalance, Asset: "USDT-ERC20", Amount: maxAmount,
		Status: invoice.PaymentSettled, Destination: "user:alice:USDT-ERC20", ReceivedAt: at, UpdatedAt: at}
	// p3 has p1's received time and a smaller id: it lists first.
	p3 := invoice.Payment{ID: "a-first", InvoiceID: inv.ID, Method: invoice.MethodETH, Asset: "ETH", Amount: chengdui.Amount{Hi: 1},
		Status: invoice.PaymentProcessing, Destination: inv.Methods[1].Destination, ReceivedAt: p1.ReceivedAt, UpdatedAt: p1.ReceivedAt}

	inv.Status, inv.Additional, inv.UpdatedAt = invoice.Processing, invoice.PaidPartial, at
	inv.Metadata = json.RawMessage(`{"changed": true}`)
	inv.Methods = inv.Methods[:2]
	saved, err := s.UpdateInvoice(ctx, inv, []invoice.Payment{p1, p2, p3},
		[]invoice.Event{invoiceEvent(inv, "evt-1", invoice.EventReceivedPayment), invoiceEvent(inv, "evt-2", invoice.EventProcessing)})
	require.NoError(t, err)
	want := inv
	want.Version = 2
	require.Equal(t, want, saved)
	got, err := s.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
	pays, err := s.Payments(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []invoice.Payment{p2, p3, p1}, pays)
	pays, err = s.Payments(ctx, other.ID)
	require.NoError(t, err)
	require.Empty(t, pays)

	// p1 settles.
	p1.Status, p1.UpdatedAt, p1.Amount = invoice.PaymentSettled, at.Add(time.Hour), chengdui.Amount{Lo: 10001}
	next := saved
	next.Status, next.Additional, next.UpdatedAt, next.Closed, next.Archived = invoice.Settled, invoice.None, at.Add(time.Hour), true, true
	saved, err = s.UpdateInvoice(ctx, next, []invoice.Payment{p1}, []invoice.Event{invoiceEvent(saved, "evt-3", invoice.EventSettled)})
	require.NoError(t, err)
	want = next
	want.Version = 3
	require.Equal(t, want, saved)
	got, err = s.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, want, got)
	pays, err = s.Payments(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []invoice.Payment{p2, p3, p1}, pays)

	// An update without payments or events bumps the version.
	saved, err = s.UpdateInvoice(ctx, saved, nil, nil)
	require.NoError(t, err)
	require.Equal(t, int64(4), saved.Version)

	require.Equal(t, []string{"evt-0", "evt-1", "evt-2", "evt-3"}, eventIDs(t, allEvents(t, s, inv.ID)))
	require.Empty(t, allEvents(t, s, other.ID))
}

func testInvoiceUpdateRefusals(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	inv := fullInvoice("inv1", 1)
	mustCreateInvoice(t, s, inv, invoiceEvent(inv, "evt-0", invoice.EventCreated))
	inv.Version = 1
	pay := invoice.Payment{ID: "bitcoin:regtest:tx1:0", InvoiceID: inv.ID, Method: invoice.MethodBTC, Asset: "BTC", Amount: chengdui.Amount{Lo: 1},
		Status: invoice.PaymentProcessing, Destination: inv.Methods[0].Destination, ReceivedAt: inv.CreatedAt, UpdatedAt: inv.CreatedAt}
	saved, err := s.UpdateInvoice(ctx, inv, []invoice.Payment{pay}, []invoice.Event{invoiceEvent(inv, "evt-1", invoice.EventReceivedPayment)})
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		change func(inv *invoice.Invoice, pays []invoice.Payment, evs []invoice.Event)
		code   string
	}{
		{"stale version", func(inv *invoice.Invoice, _ []invoice.Payment, _ []invoice.Event) { inv.Version = 1 }, chengdui.EConflict},
		{"future version", func(inv *invoice.Invoice, _ []invoice.Payment, _ []invoice.Event) { inv.Version = 3 }, chengdui.EConflict},
		{"unknown invoice", func(inv *invoice.Invoice, pays []invoice.Payment, evs []invoice.Event) {
			inv.ID, pays[0].InvoiceID, pays[1].InvoiceID, evs[0].InvoiceID, evs[1].InvoiceID = "nobody", "nobody", "nobody", "nobody", "nobody"
		}, chengdui.ENotFound},
		{"store changed", func(inv *invoice.Invoice, _ []invoice.Payment, evs []invoice.Event) {
			inv.StoreID, evs[0].StoreID, evs[1].StoreID = "store-9", "store-9", "store-9"
		}, chengdui.EInvalid},
		{"creation time changed", func(inv *invoice.Invoice, _ []invoice.Payment, _ []invoice.Event) {
			inv.CreatedAt = inv.CreatedAt.Add(time.Microsecond)
		}, chengdui.EInvalid},
		{"no status", func(inv *invoice.Invoice, _ []invoice.Payment, _ []invoice.Event) { inv.Status = "" }, chengdui.EInvalid},
		{"payment of another invoice", func(_ *invoice.Invoice, pays []invoice.Payment, _ []invoice.Event) { pays[0].InvoiceID = "inv2" }, chengdui.EInvalid},
		{"payment without id", func(_ *invoice.Invoice, pays []invoice.Payment, _ []invoice.Event) { pays[0].ID = "" }, chengdui.EInvalid},
		{"payment twice", func(_ *invoice.Invoice, pays []invoice.Payment, _ []invoice.Event) { pays[1].ID = pays[0].ID }, chengdui.EInvalid},
		{"event of another invoice", func(_ *invoice.Invoice, _ []invoice.Payment, evs []invoice.Event) { evs[0].InvoiceID = "inv2" }, chengdui.EInvalid},
		{"event id taken", func(_ *invoice.Invoice, _ []invoice.Payment, evs []invoice.Event) { evs[1].ID = "evt-0" }, chengdui.EConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := saved
			next.Status, next.UpdatedAt = invoice.Settled, saved.UpdatedAt.Add(time.Hour)
			p := pay
			p.Status, p.UpdatedAt = invoice.PaymentSettled, next.UpdatedAt
			p2 := p
			p2.ID = "bitcoin:regtest:tx2:0"
			pays := []invoice.Payment{p, p2}
			evs := []invoice.Event{invoiceEvent(next, "evt-2", invoice.EventPaymentSettled), invoiceEvent(next, "evt-3", invoice.EventSettled)}
			tc.change(&next, pays, evs)
			_, err := s.UpdateInvoice(ctx, next, pays, evs)
			requireCode(t, tc.code, err)

			// Nothing was written.
			got, err := s.Invoice(ctx, inv.ID)
			require.NoError(t, err)
			require.Equal(t, saved, got)
			stored, err := s.Payments(ctx, inv.ID)
			require.NoError(t, err)
			require.Equal(t, []invoice.Payment{pay}, stored)
			require.Equal(t, []string{"evt-0", "evt-1"}, eventIDs(t, allEvents(t, s, "")))
		})
	}
}

// testInvoiceUpdateRace updates one invoice from one version many times at
// once: one update wins, the others conflict and write nothing.
func testInvoiceUpdateRace(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	inv := bareInvoice("inv1", "store-1", 0)
	mustCreateInvoice(t, s, inv)
	inv.Version = 1
	var n atomic.Int64
	requireOneWinner(t, 12, func() error {
		i := n.Add(1)
		next := inv
		next.UpdatedAt = inv.UpdatedAt.Add(time.Duration(i) * time.Second)
		pay := invoice.Payment{ID: fmt.Sprintf("pay-%d", i), InvoiceID: inv.ID, Status: invoice.PaymentSettled, ReceivedAt: next.UpdatedAt}
		_, err := s.UpdateInvoice(ctx, next, []invoice.Payment{pay}, []invoice.Event{invoiceEvent(next, fmt.Sprintf("evt-%d", i), invoice.EventSettled)})
		return err
	})
	got, err := s.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	pays, err := s.Payments(ctx, inv.ID)
	require.NoError(t, err)
	require.Len(t, pays, 1)
	evs := allEvents(t, s, inv.ID)
	require.Len(t, evs, 1)
	// The winner's payment, event and invoice belong together.
	winner := pays[0].ID[len("pay-"):]
	require.Equal(t, "evt-"+winner, evs[0].ID)
	require.Equal(t, pays[0].ReceivedAt, got.UpdatedAt)
}

func invoiceIDs(t testing.TB, s invoice.Store, f invoice.Filter) []string {
	t.Helper()
	invs, err := s.Invoices(context.Background(), f)
	require.NoError(t, err)
	ids := []string{}
	for _, inv := range invs {
		ids = append(ids, inv.ID)
	}
	return ids
}

func testInvoiceList(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	// i0…i5 a second apart; odd ones in store-2.
	for i := range 6 {
		inv := bareInvoice(fmt.Sprintf("i%d", i), "store-1", time.Duration(i)*time.Second)
		if i%2 == 1 {
			inv.StoreID = "store-2"
		}
		inv.OrderID = fmt.Sprintf("order-%d", i%3)
		switch i {
		case 2:
			inv.Status = invoice.Settled
		case 3:
			inv.Status = invoice.Expired
		case 4:
			inv.Status, inv.Archived = invoice.Settled, true
		}
		mustCreateInvoice(t, s, inv)
	}
	for _, tc := range []struct {
		name string
		f    invoice.Filter
		want []string
	}{
		{"all but archived", invoice.Filter{}, []string{"i5", "i3", "i2", "i1", "i0"}},
		{"archived too", invoice.Filter{Archived: true}, []string{"i5", "i4", "i3", "i2", "i1", "i0"}},
		{"store", invoice.Filter{StoreID: "store-1", Archived: true}, []string{"i4", "i2", "i0"}},
		{"unknown store", invoice.Filter{StoreID: "store-9"}, []string{}},
		{"one status", invoice.Filter{Statuses: []invoice.Status{invoice.Settled}}, []string{"i2"}},
		{"one status, archived too", invoice.Filter{Statuses: []invoice.Status{invoice.Settled}, Archived: true}, []string{"i4", "i2"}},
		{"statuses", invoice.Filter{Statuses: []invoice.Status{invoice.Expired, invoice.New}}, []string{"i5", "i3", "i1", "i0"}},
		{"order ids", invoice.Filter{OrderIDs: []string{"order-0", "order-2"}, Archived: true}, []string{"i5", "i3", "i2", "i0"}},
		{"order id in a store", invoice.Filter{StoreID: "store-2", OrderIDs: []string{"order-0"}}, []string{"i3"}},
		{"since, inclusive", invoice.Filter{Since: invoiceEpoch.Add(3 * time.Second)}, []string{"i5", "i3"}},
		{"until, exclusive", invoice.Filter{Until: invoiceEpoch.Add(2 * time.Second)}, []string{"i1", "i0"}},
		{"between", invoice.Filter{Since: invoiceEpoch.Add(time.Second), Until: invoiceEpoch.Add(3*time.Second + time.Microsecond), Archived: true},
			[]string{"i3", "i2", "i1"}},
		{"bounds finer than microseconds", invoiceFilterNanos(), []string{"i2"}},
		{"limit", invoice.Filter{Limit: 2}, []string{"i5", "i3"}},
		{"after", invoice.Filter{After: "i3", Limit: 2}, []string{"i2", "i1"}},
		{"after, filtered", invoice.Filter{After: "i4", StoreID: "store-1"}, []string{"i2", "i0"}},
		{"after the last", invoice.Filter{After: "i0"}, []string{}},
		{"everything at once", invoice.Filter{StoreID: "store-1", Statuses: []invoice.Status{invoice.Settled, invoice.New}, OrderIDs: []string{"order-2", "order-0"},
			Archived: true, Since: invoiceEpoch, Until: invoiceEpoch.Add(time.Hour), After: "i4", Limit: 1}, []string{"i2"}},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, invoiceIDs(t, s, tc.f)) })
	}

	_, err := s.Invoices(ctx, invoice.Filter{Limit: -1})
	requireCode(t, chengdui.EInvalid, err)
	_, err = s.Invoices(ctx, invoice.Filter{After: "nobody"})
	requireCode(t, chengdui.EInvalid, err)

	// Limit 0 is 100.
	for i := range 100 {
		mustCreateInvoice(t, s, bareInvoice(fmt.Sprintf("j%03d", i), "store-3", time.Hour))
	}
	require.Len(t, invoiceIDs(t, s, invoice.Filter{}), 100)
	require.Len(t, invoiceIDs(t, s, invoice.Filter{Limit: 200}), 105)
}

// invoiceFilterNanos bounds i2 alone with times between microseconds.
func invoiceFilterNanos() invoice.Filter {
	return invoice.Filter{Since: invoiceEpoch.Add(time.Second + 1), Until: invoiceEpoch.Add(2*time.Second + 1)}
}

// testInvoiceListPages pages through invoices made at the same instants:
// the pages hold each invoice once, newest first, then by id descending,
// in bytes (upper case before lower case).
func testInvoiceListPages(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	var want []invoice.Invoice
	ids := []string{"b", "B", "a", "A", "a1", "_", "Z9", "z", "0", "ä", "b-2"}
	for i, id := range ids {
		inv := bareInvoice(id, "store-1", time.Duration(i%3)*time.Second)
		mustCreateInvoice(t, s, inv)
		inv.Version = 1
		want = append(want, inv)
	}
	sort.Slice(want, func(i, j int) bool {
		if !want[i].CreatedAt.Equal(want[j].CreatedAt) {
			return want[i].CreatedAt.After(want[j].CreatedAt)
		}
		return want[i].ID > want[j].ID
	})
	for _, size := range []int{1, 2, 3, 4, 11, 12} {
		var got []invoice.Invoice
		after := ""
		for {
			page, err := s.Invoices(ctx, invoice.Filter{StoreID: "store-1", After: after, Limit: size})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), size)
			got = append(got, page...)
			if len(page) < size {
				break
			}
			after = page[len(page)-1].ID
		}
		require.Equal(t, want, got, "pages of %d", size)
		all, err := s.Invoices(ctx, invoice.Filter{Limit: size})
		require.NoError(t, err)
		require.Equal(t, want[:min(size, len(want))], all)
	}
}

func testInvoicePending(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	now := invoiceEpoch.Add(time.Hour)
	for _, tc := range []struct {
		id                 string
		status             invoice.Status
		expires, monitored time.Duration // relative to now
		closed             bool
		pending            bool
	}{
		{"new-expired", invoice.New, -time.Minute, time.Hour, false, true},
		{"new-expired-now", invoice.New, 0, time.Hour, false, true},
		{"new-expired-early", invoice.New, -2 * time.Minute, time.Hour, false, true},
		{"new-open", invoice.New, time.Microsecond, time.Hour, false, false},
		{"processing-open", invoice.Processing, -time.Hour, time.Second, false, false},
		{"processing-done", invoice.Processing, -3 * time.Minute, 0, false, true},
		{"expired-done", invoice.Expired, -time.Minute, -time.Second, false, true},
		{"settled-closed", invoice.Settled, -time.Hour, -time.Minute, true, false},
		{"expired-closed", invoice.Expired, -time.Hour, -time.Minute, true, false},
		{"new-closed", invoice.New, -4 * time.Minute, -time.Minute, true, true}, // still New: the clock expires it
	} {
		inv := bareInvoice(tc.id, "store-1", 0)
		inv.Status, inv.ExpiresAt, inv.MonitoringUntil, inv.Closed = tc.status, now.Add(tc.expires), now.Add(tc.monitored), tc.closed
		mustCreateInvoice(t, s, inv)
	}
	want := []string{"new-closed", "processing-done", "new-expired-early", "expired-done", "new-expired", "new-expired-now"}
	got, err := s.Pending(ctx, now, 100)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = s.Pending(ctx, now, 2)
	require.NoError(t, err)
	require.Equal(t, want[:2], got)
	got, err = s.Pending(ctx, invoiceEpoch, 100)
	require.NoError(t, err)
	require.Empty(t, got)
	_, err = s.Pending(ctx, now, 0)
	requireCode(t, chengdui.EInvalid, err)

	// Closing takes an invoice off the list; expiring takes it off the
	// expiry half.
	inv, err := s.Invoice(ctx, "expired-done")
	require.NoError(t, err)
	inv.Closed = true
	_, err = s.UpdateInvoice(ctx, inv, nil, nil)
	require.NoError(t, err)
	inv, err = s.Invoice(ctx, "new-expired")
	require.NoError(t, err)
	inv.Status = invoice.Expired
	_, err = s.UpdateInvoice(ctx, inv, nil, nil)
	require.NoError(t, err)
	got, err = s.Pending(ctx, now, 100)
	require.NoError(t, err)
	require.Equal(t, []string{"new-closed", "processing-done", "new-expired-early", "new-expired-now"}, got)
}

func testInvoiceAddresses(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	for _, n := range []uint32{3, 1, 2} {
		mustCreateInvoice(t, s, fullInvoice(fmt.Sprintf("inv%d", n), n))
	}
	for _, n := range []uint32{1, 2, 3} {
		inv := fullInvoice(fmt.Sprintf("inv%d", n), n)
		for _, m := range inv.Methods {
			if m.Destination == "" {
				continue
			}
			a, err := s.InvoiceAddress(ctx, m.Destination)
			require.NoError(t, err)
			require.Equal(t, invoice.Address{Address: m.Destination, InvoiceID: inv.ID, Scheme: m.Scheme, Network: m.Network, Index: n, CreatedAt: inv.CreatedAt}, a)
		}
		for _, m := range inv.Methods[1:3] {
			got, err := s.InvoiceByIntent(ctx, m.Intent.ID)
			require.NoError(t, err)
			require.Equal(t, inv.ID, got)
		}
	}
	for _, tree := range [][2]string{{"bip84", "regtest"}, {"bip44-evm", "evm"}} {
		as, err := s.InvoiceAddresses(ctx, tree[0], tree[1])
		require.NoError(t, err)
		require.Len(t, as, 3, "one address per invoice and tree")
		for i, a := range as {
			require.Equal(t, uint32(i+1), a.Index, "by index")
			require.Equal(t, fmt.Sprintf("inv%d", i+1), a.InvoiceID)
		}
	}
	as, err := s.InvoiceAddresses(ctx, "bip84", "mainnet")
	require.NoError(t, err)
	require.Empty(t, as)

	_, err = s.InvoiceAddress(ctx, "bcrt1qnobody")
	requireCode(t, chengdui.ENotFound, err)
	_, err = s.InvoiceByIntent(ctx, testIntentID("nobody", invoice.MethodETH))
	requireCode(t, chengdui.ENotFound, err)
}

func testInvoiceEvents(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	a, b := bareInvoice("a", "store-1", 0), bareInvoice("b", "store-2", 0)
	mustCreateInvoice(t, s, a, invoiceEvent(a, "a0", invoice.EventCreated))
	mustCreateInvoice(t, s, b, invoiceEvent(b, "b0", invoice.EventCreated), invoiceEvent(b, "b1", invoice.EventExpired))
	a.Version, b.Version = 1, 1
	for i := 1; i <= 3; i++ {
		var err error
		a, err = s.UpdateInvoice(ctx, a, nil, []invoice.Event{invoiceEvent(a, fmt.Sprintf("a%d", i), invoice.EventReceivedPayment)})
		require.NoError(t, err)
		b, err = s.UpdateInvoice(ctx, b, nil, []invoice.Event{invoiceEvent(b, fmt.Sprintf("b%da", i+1), invoice.EventReceivedPayment),
			invoiceEvent(b, fmt.Sprintf("b%db", i+1), invoice.EventPaymentSettled)})
		require.NoError(t, err)
	}
	all := allEvents(t, s, "")
	require.Equal(t, []string{"a0", "b0", "b1", "a1", "b2a", "b2b", "a2", "b3a", "b3b", "a3", "b4a", "b4b"}, eventIDs(t, all))
	require.Equal(t, []string{"a0", "a1", "a2", "a3"}, eventIDs(t, allEvents(t, s, "a")))
	require.Equal(t, []string{"b0", "b1", "b2a", "b2b", "b3a", "b3b", "b4a", "b4b"}, eventIDs(t, allEvents(t, s, "b")))
	require.Empty(t, allEvents(t, s, "nobody"))
	for _, e := range all {
		require.Equal(t, e.ID[:1], e.InvoiceID)
		require.Equal(t, map[string]string{"a": "store-1", "b": "store-2"}[e.InvoiceID], e.StoreID)
	}

	page, err := s.Events(ctx, "", all[3].Seq, 2)
	require.NoError(t, err)
	require.Equal(t, all[4:6], page)
	page, err = s.Events(ctx, "b", all[4].Seq, 3)
	require.NoError(t, err)
	require.Equal(t, []string{"b2b", "b3a", "b3b"}, eventIDs(t, page))
	page, err = s.Events(ctx, "", all[len(all)-1].Seq, 10)
	require.NoError(t, err)
	require.Empty(t, page)
	page, err = s.Events(ctx, "", -5, 1)
	require.NoError(t, err)
	require.Equal(t, all[:1], page)
	_, err = s.Events(ctx, "", 0, 0)
	requireCode(t, chengdui.EInvalid, err)
}

// testInvoiceEventsFollowed appends events from many goroutines while a
// reader follows them by cursor, as the webhook sender does: the reader
// sees every event exactly once. A store whose seqs could commit out of
// order would let the cursor pass an event that commits later.
func testInvoiceEventsFollowed(t *testing.T, s invoice.Store) {
	ctx := context.Background()
	const writers, updates = 8, 12
	invs := make([]invoice.Invoice, writers)
	for w := range writers {
		invs[w] = bareInvoice(fmt.Sprintf("w%d", w), "store-1", 0)
		mustCreateInvoice(t, s, invs[w], invoiceEvent(invs[w], fmt.Sprintf("w%d-0", w), invoice.EventCreated))
		invs[w].Version = 1
	}

	var followed []invoice.Event
	var followErr error
	done := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		after := int64(0)
		for last := false; ; {
			select {
			case <-done:
				last = true
			default:
			}
			for {
				page, err := s.Events(ctx, "", after, 5)
				if err != nil {
					followErr = err
					return
				}
				followed = append(followed, page...)
				if len(page) > 0 {
					after = page[len(page)-1].Seq
				}
				if len(page) < 5 {
					break
				}
			}
			if last {
				return
			}
		}
	})

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			inv := invs[w]
			for i := 1; i <= updates; i++ {
				evs := []invoice.Event{invoiceEvent(inv, fmt.Sprintf("w%d-%da", w, i), invoice.EventReceivedPayment),
					invoiceEvent(inv, fmt.Sprintf("w%d-%db", w, i), invoice.EventPaymentSettled)}
				var err error
				if inv, err = s.UpdateInvoice(ctx, inv, nil, evs); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	reader.Wait()
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
	require.NoError(t, followErr)

	all := allEvents(t, s, "")
	require.Len(t, all, writers*(1+2*updates))
	require.Equal(t, eventIDs(t, all), eventIDs(t, followed), "the follower saw every event once, in order")
	for w := range writers {
		want := []string{fmt.Sprintf("w%d-0", w)}
		for i := 1; i <= updates; i++ {
			want = append(want, fmt.Sprintf("w%d-%da", w, i), fmt.Sprintf("w%d-%db", w, i))
		}
		require.Equal(t, want, eventIDs(t, allEvents(t, s, invs[w].ID)), "writer %d's events in order", w)
	}
}

// BenchCreateInvoice creates invoices from parallel goroutines, each with
// a BTC and an EVM address, two router intents and its InvoiceCreated
// event, and reports invoices/s.
func BenchCreateInvoice(b *testing.B, s invoice.Store) {
	ctx := context.Background()
	var n atomic.Uint32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			inv := fullInvoice(fmt.Sprintf("inv%08d", i), i)
			if err := s.CreateInvoice(ctx, inv, []invoice.Event{invoiceEvent(inv, "evt_"+inv.ID, invoice.EventCreated)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invoices/s")
}
