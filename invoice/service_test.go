package invoice_test

import (
	"context"
	"encoding/hex"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/keys"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

func units(t testing.TB, s string, dec uint8) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseDecimal(s, dec)
	require.NoError(t, err)
	return a
}

func eventTypes(t testing.TB, h *invoicetest.Harness, id string) []string {
	t.Helper()
	evs, err := h.DB.Events(context.Background(), id, 0, 100)
	require.NoError(t, err)
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func create(t testing.TB, h *invoicetest.Harness, amount string) invoice.Invoice {
	t.Helper()
	inv, err := h.Invoices.Create(context.Background(), invoice.CreateRequest{StoreID: h.StoreID, Amount: amount, Currency: "CNY",
		Metadata: []byte(`{"orderId":"order-1","buyerEmail":"a@example.com"}`)})
	require.NoError(t, err)
	return inv
}

func TestCreate(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	require.Equal(t, invoice.New, inv.Status)
	require.Equal(t, "CNY", inv.Currency)
	require.Equal(t, units(t, "100", 2), inv.Amount)
	require.Equal(t, "order-1", inv.OrderID)
	require.Len(t, inv.ID, 22)
	require.Equal(t, h.Now().Add(15*time.Minute), inv.ExpiresAt)
	require.Equal(t, invoice.MediumSpeed, inv.SpeedPolicy)

	// 100 CNY at 432,000 CNY/BTC is 0.00023148 BTC (rounded down); at
	// 7.2 CNY/USDT 13.888888 USDT.
	q, ok := inv.Quote("BTC")
	require.True(t, ok)
	require.Equal(t, units(t, "0.00023148", 8), q.Due)
	q, _ = inv.Quote("USDT-ERC20")
	require.Equal(t, units(t, "13.888888", 6), q.Due)

	btc, _ := inv.Method(invoice.MethodBTC)
	usdt, _ := inv.Method(invoice.MethodUSDT)
	eth, _ := inv.Method(invoice.MethodETH)
	require.True(t, strings.HasPrefix(btc.Destination, "bcrt1q"), btc.Destination)
	require.Equal(t, usdt.Destination, eth.Destination, "EVM methods share one address")
	_, err := keys.ParseEVMAddress(usdt.Destination)
	require.NoError(t, err)
	_, ok = inv.Method(invoice.MethodBalance)
	require.True(t, ok)

	// The router intent pays exactly the due amount of the token to the hot
	// wallet, and is signed by the router's signer key.
	in := usdt.Intent
	require.NotNil(t, in)
	require.Equal(t, units(t, "13.888888", 6), in.Amount)
	require.Equal(t, inv.ExpiresAt.Unix(), in.Deadline)
	id, err := hex.DecodeString(strings.TrimPrefix(in.ID, "0x"))
	require.NoError(t, err)
	var id32 [32]byte
	copy(id32[:], id)
	digest := contracts.IntentDigest(big.NewInt(1337), h.Router, contracts.Intent{ID: id32, Token: common.HexToAddress(in.Token),
		Amount: in.Amount.Big(), Fee: new(big.Int), Recipient: common.HexToAddress(in.Recipient), Deadline: big.NewInt(in.Deadline)})
	sig, err := hex.DecodeString(strings.TrimPrefix(in.Signature, "0x"))
	require.NoError(t, err)
	sig[64] -= 27
	pub, err := crypto.SigToPub(digest[:], sig)
	require.NoError(t, err)
	signer, err := keys.NewSeedSigner(h.Seed)
	require.NoError(t, err)
	want, err := signer.PublicKey(keys.EVM.Path(keys.Regtest, 3, 0, 0))
	require.NoError(t, err)
	require.Equal(t, crypto.PubkeyToAddress(*want.ToECDSA()), crypto.PubkeyToAddress(*pub))

	got, err := h.Invoices.Get(ctx, h.StoreID, inv.ID)
	require.NoError(t, err)
	require.Equal(t, inv.ID, got.ID)
	require.Equal(t, int64(1), got.Version)
	_, err = h.Invoices.Get(ctx, "another-store", inv.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	require.Equal(t, []string{invoice.EventCreated}, eventTypes(t, h, inv.ID))

	// A second invoice gets other addresses.
	inv2 := create(t, h, "1")
	b2, _ := inv2.Method(invoice.MethodBTC)
	require.NotEqual(t, btc.Destination, b2.Destination)
}

func TestCreateRefusals(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		req   invoice.CreateRequest
		field string
		code  string
	}{
		{name: "negative amount", req: invoice.CreateRequest{Amount: "-1"}, field: "amount"},
		{name: "too many decimals", req: invoice.CreateRequest{Amount: "1.001"}, field: "amount"},
		{name: "not a number", req: invoice.CreateRequest{Amount: "ten"}, field: "amount"},
		{name: "unknown currency", req: invoice.CreateRequest{Amount: "1", Currency: "XYZ"}, field: "currency"},
		{name: "metadata not an object", req: invoice.CreateRequest{Amount: "1", Metadata: []byte(`[1]`)}, field: "metadata"},
		{name: "metadata not JSON", req: invoice.CreateRequest{Amount: "1", Metadata: []byte(`{`)}, field: "metadata"},
		{name: "metadata too large", req: invoice.CreateRequest{Amount: "1", Metadata: []byte(`{"a":"` + strings.Repeat("x", invoice.MaxMetadata) + `"}`)}, field: "metadata"},
		{name: "speed policy", req: invoice.CreateRequest{Amount: "1", SpeedPolicy: "Warp"}, field: "checkout.speedPolicy"},
		{name: "expiry", req: invoice.CreateRequest{Amount: "1", ExpirationMinutes: 0.5}, field: "checkout.expirationMinutes"},
		{name: "tolerance", req: invoice.CreateRequest{Amount: "1", TolerancePercent: "101"}, field: "checkout.paymentTolerance"},
		{name: "redirect", req: invoice.CreateRequest{Amount: "1", RedirectURL: "javascript:alert(1)"}, field: "checkout.redirectURL"},
		{name: "language", req: invoice.CreateRequest{Amount: "1", DefaultLanguage: "fr"}, field: "checkout.defaultLanguage"},
		{name: "method", req: invoice.CreateRequest{Amount: "1", Methods: []string{"DOGE"}}, field: "checkout.paymentMethods"},
		{name: "default method", req: invoice.CreateRequest{Amount: "1", Methods: []string{invoice.MethodBTC}, DefaultPaymentMethod: invoice.MethodETH}, field: "checkout.defaultPaymentMethod"},
		{name: "unknown store", req: invoice.CreateRequest{StoreID: "nope", Amount: "1"}, code: chengdui.ENotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req.StoreID == "" {
				req.StoreID = h.StoreID
			}
			_, err := h.Invoices.Create(ctx, req)
			require.Error(t, err)
			if tc.field != "" {
				var ve *invoice.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.field, ve.Fields[0].Field, "%v", err)
				require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			} else {
				require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
			}
		})
	}
	// Nothing was created.
	list, err := h.Invoices.List(ctx, invoice.Filter{StoreID: h.StoreID})
	require.NoError(t, err)
	require.Empty(t, list)
	// A price worth less than a satoshi cannot be paid in BTC.
	h.Rates.Set("BTC", "CNY", "100000000000")
	_, err = h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "0.01", Methods: []string{invoice.MethodBTC}})
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	// A rate that cannot be had refuses the invoice.
	h.Rates.Set("BTC", "CNY", "")
	_, err = h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "1"})
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err))
}

func TestPaidOnChain(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	due := units(t, "0.00023148", 8)

	// Seen in the mempool: in full, not confirmed (MediumSpeed wants one).
	key := h.Pay(t, inv, invoice.MethodBTC, due, "tx1", 0, 100)
	got, err := h.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Processing, got.Status)
	require.True(t, h.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")).IsZero())

	// Mined: one confirmation settles it and passes the payment on.
	h.Pay(t, inv, invoice.MethodBTC, due, "tx1", 101, 101)
	got, err = h.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, got.Status)
	require.Equal(t, invoice.None, got.Additional)
	require.Equal(t, due, h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
	require.True(t, h.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")).IsZero())
	require.Equal(t, []string{invoice.EventCreated, invoice.EventReceivedPayment, invoice.EventProcessing,
		invoice.EventPaymentSettled, invoice.EventSettled}, eventTypes(t, h, inv.ID))

	pays, err := h.Invoices.Payments(ctx, inv.ID)
	require.NoError(t, err)
	require.Len(t, pays, 1)
	require.Equal(t, key.String(), pays[0].ID)
	require.Equal(t, invoice.PaymentSettled, pays[0].Status)
	require.Equal(t, invoice.MethodBTC, pays[0].Method)

	// Settling the chain again changes nothing.
	h.Confirm(t, "bitcoin:regtest", 105)
	require.Len(t, eventTypes(t, h, inv.ID), 5)
	require.Equal(t, due, h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
}

func TestPartialPaymentsInTwoAssets(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	h.Pay(t, inv, invoice.MethodBTC, units(t, "0.00011574", 8), "tx1", 10, 10)
	got, _ := h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.New, got.Status)
	require.Equal(t, invoice.PaidPartial, got.Additional)
	v, err := h.Invoices.View(ctx, got)
	require.NoError(t, err)
	require.Equal(t, units(t, "50.00", 2), v.Paid)
	var usdt invoice.MethodView
	for _, m := range v.Methods {
		if m.ID == invoice.MethodUSDT {
			usdt = m
		}
	}
	require.Equal(t, units(t, "6.944444", 6), usdt.Due)
	require.True(t, strings.HasPrefix(usdt.Link, "ethereum:0x00000000000000000000000000000000000000A1@1337/transfer?address="), usdt.Link)

	h.Pay(t, inv, invoice.MethodUSDT, usdt.Due, "0xtx2", 11, 11)
	got, _ = h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Settled, got.Status)
	require.Equal(t, units(t, "0.00011574", 8), h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
	require.Equal(t, units(t, "6.944444", 6), h.Balance(t, invoice.StoreAccount(h.StoreID, "USDT-ERC20")))
}

func TestExpiryAndLatePayment(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	h.Advance(15 * time.Minute)
	n, err := h.Invoices.Tick(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, _ := h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Expired, got.Status)
	require.Equal(t, invoice.None, got.Additional)

	// Paid after expiry: recorded, announced, kept in clearing for the
	// merchant to decide (mark it settled, or refund).
	h.Pay(t, inv, invoice.MethodBTC, units(t, "0.00023148", 8), "tx1", 10, 10)
	got, _ = h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Expired, got.Status)
	require.Equal(t, invoice.PaidLate, got.Additional)
	require.Equal(t, units(t, "0.00023148", 8), h.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")))
	require.True(t, h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")).IsZero())
	require.Equal(t, []string{invoice.EventCreated, invoice.EventExpired, invoice.EventReceivedPayment, invoice.EventPaymentSettled}, eventTypes(t, h, inv.ID))

	marked, err := h.Invoices.Mark(ctx, h.StoreID, inv.ID, invoice.Settled)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, marked.Status)
	require.Equal(t, invoice.Marked, marked.Additional)
	require.Equal(t, units(t, "0.00023148", 8), h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
	_, err = h.Invoices.Mark(ctx, h.StoreID, inv.ID, invoice.Settled)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))

	// The end of monitoring closes it: the clock leaves it alone after.
	h.Advance(25 * time.Hour)
	_, err = h.Invoices.Tick(ctx, 100)
	require.NoError(t, err)
	got, _ = h.Invoices.Invoice(ctx, inv.ID)
	require.True(t, got.Closed)
	n, err = h.Invoices.Tick(ctx, 100)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestPayFromBalance(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	before := h.Balance(t, invoice.UserAccount(h.Payer, "USDT-ERC20"))

	// Ten concurrent clicks pay once.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.Invoices.PayFromBalance(ctx, h.Payer, inv.ID, "USDT-ERC20")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Contains(t, []string{chengdui.EConflict, chengdui.EPendingPosted, chengdui.EExceedsCredits}, chengdui.ErrorCode(err), "%v", err)
		}
	}
	require.GreaterOrEqual(t, ok, 1)
	got, err := h.Invoices.Invoice(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, got.Status)
	due := units(t, "13.888888", 6)
	after := h.Balance(t, invoice.UserAccount(h.Payer, "USDT-ERC20"))
	spent, _ := chengdui.SubAmounts(before, after)
	require.Equal(t, due, spent, "the payer pays the due amount exactly once")
	require.Equal(t, due, h.Balance(t, invoice.StoreAccount(h.StoreID, "USDT-ERC20")))
	acct, err := h.Ledger.Account(ctx, invoice.UserAccount(h.Payer, "USDT-ERC20"))
	require.NoError(t, err)
	require.True(t, acct.DebitsPending.IsZero(), "no hold is left")
	require.Equal(t, []string{invoice.EventCreated, invoice.EventReceivedPayment, invoice.EventPaymentSettled, invoice.EventProcessing, invoice.EventSettled},
		eventTypes(t, h, inv.ID))

	// A retry answers the same invoice.
	again, err := h.Invoices.PayFromBalance(ctx, h.Payer, inv.ID, "USDT-ERC20")
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, again.Status)
	require.Equal(t, after, h.Balance(t, invoice.UserAccount(h.Payer, "USDT-ERC20")))
}

func TestPayFromBalanceRefusals(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	big := create(t, h, "1000000.00") // 138,888 USDT: more than the payer holds
	_, err := h.Invoices.PayFromBalance(ctx, h.Payer, big.ID, "USDT-ERC20")
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
	acct, err := h.Ledger.Account(ctx, invoice.UserAccount(h.Payer, "USDT-ERC20"))
	require.NoError(t, err)
	require.True(t, acct.DebitsPending.IsZero(), "nothing is held")
	got, _ := h.Invoices.Invoice(ctx, big.ID)
	require.Equal(t, invoice.New, got.Status)

	_, err = h.Invoices.PayFromBalance(ctx, "nobody", big.ID, "USDT-ERC20")
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
	_, err = h.Invoices.PayFromBalance(ctx, h.Payer, big.ID, "DOGE")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = h.Invoices.PayFromBalance(ctx, h.Payer, "no-such-invoice", "USDT-ERC20")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	onlyBTC, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "10", Methods: []string{invoice.MethodBTC}})
	require.NoError(t, err)
	_, err = h.Invoices.PayFromBalance(ctx, h.Payer, onlyBTC.ID, "BTC")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "no BALANCE method: %v", err)

	late := create(t, h, "1.00")
	h.Advance(16 * time.Minute)
	_, err = h.Invoices.PayFromBalance(ctx, h.Payer, late.ID, "USDT-ERC20")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, units(t, "10000", 6), h.Balance(t, invoice.UserAccount(h.Payer, "USDT-ERC20")))
}

func TestRouterPayment(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	m, _ := inv.Method(invoice.MethodUSDT)
	p := deposit.Payment{Key: deposit.Key{Chain: "evm:1337", TxID: "0xrouter", Kind: deposit.KindRouter, Index: 3},
		Address: m.Intent.Recipient, Asset: "USDT-ERC20", Amount: m.Intent.Amount, Height: 50, BlockHash: "b50", Reference: strings.ToUpper(m.Intent.ID[2:])}
	p.Reference = "0x" + strings.ToLower(p.Reference)
	require.NoError(t, h.Deposits.Observe(ctx, []deposit.Payment{p}))
	h.Confirm(t, "evm:1337", 50)
	got, _ := h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Settled, got.Status)
	require.Equal(t, m.Intent.Amount, h.Balance(t, invoice.StoreAccount(h.StoreID, "USDT-ERC20")))
}

func TestSpeedPolicy(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	for _, tc := range []struct {
		speed    invoice.SpeedPolicy
		settleAt uint64 // tip at which a payment mined at 100 settles
	}{{invoice.HighSpeed, 0}, {invoice.MediumSpeed, 100}, {invoice.LowMediumSpeed, 101}, {invoice.LowSpeed, 105}} {
		t.Run(string(tc.speed), func(t *testing.T) {
			inv, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "1", SpeedPolicy: tc.speed})
			require.NoError(t, err)
			q, _ := inv.Quote("BTC")
			txid := "tx-" + string(tc.speed)
			h.Pay(t, inv, invoice.MethodBTC, q.Due, txid, 0, 99)
			status := func() invoice.Status {
				got, err := h.Invoices.Invoice(ctx, inv.ID)
				require.NoError(t, err)
				return got.Status
			}
			if tc.settleAt == 0 {
				require.Equal(t, invoice.Settled, status(), "0-conf")
				return
			}
			require.Equal(t, invoice.Processing, status())
			h.Pay(t, inv, invoice.MethodBTC, q.Due, txid, 100, tc.settleAt-1)
			if tc.settleAt > 100 {
				require.Equal(t, invoice.Processing, status())
			}
			h.Confirm(t, "bitcoin:regtest", tc.settleAt)
			require.Equal(t, invoice.Settled, status())
		})
	}
}

// TestRecover: a deposit credited while the invoice service did not hear
// of it (a crash between the two writes) is applied by Recover.
func TestRecover(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv := create(t, h, "100.00")
	m, _ := inv.Method(invoice.MethodBTC)
	q, _ := inv.Quote("BTC")
	deaf := deposit.New(h.DB, h.Ledger, h.Invoices.Resolver(nil), deposit.Config{Now: h.Now, PolicyFor: h.Invoices.Policy})
	require.NoError(t, deaf.Observe(ctx, []deposit.Payment{{Key: deposit.Key{Chain: "bitcoin:regtest", TxID: "lost", Kind: deposit.KindOutput},
		Address: m.Destination, Asset: "BTC", Amount: q.Due, Height: 7, BlockHash: "b7"}}))
	_, err := deaf.Settle(ctx, "bitcoin:regtest", 7)
	require.NoError(t, err)
	got, _ := h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.New, got.Status)
	require.Equal(t, q.Due, h.Balance(t, invoice.ClearingAccount(inv.ID, "BTC")))

	require.NoError(t, h.Invoices.Recover(ctx))
	got, _ = h.Invoices.Invoice(ctx, inv.ID)
	require.Equal(t, invoice.Settled, got.Status)
	require.Equal(t, q.Due, h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")))
	require.NoError(t, h.Invoices.Recover(ctx))
	require.Equal(t, q.Due, h.Balance(t, invoice.StoreAccount(h.StoreID, "BTC")), "recovering twice passes once")
}

// TestSpreadPerStore: a store's own spread overrides the platform's.
func TestSpreadPerStore(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	spread := uint32(100) // 1 %
	require.NoError(t, h.DB.CreateStore(ctx, chengdui.Store{ID: "wide", OwnerID: h.Owner, Name: "Wide spread", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY", SpreadBps: &spread}, CreatedAt: h.Now()}))
	plain, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "72.00"})
	require.NoError(t, err)
	wide, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "wide", Amount: "72.00"})
	require.NoError(t, err)
	p, _ := plain.Quote("USDT-ERC20")
	w, _ := wide.Quote("USDT-ERC20")
	require.Equal(t, uint32(0), p.SpreadBps)
	require.Equal(t, units(t, "10", 6), p.Due)
	require.Equal(t, uint32(100), w.SpreadBps)
	// 72 CNY at 7.2 × 0.99 = 7.128: 10.101010 USDT, rounded down.
	require.Equal(t, units(t, "10.10101", 6), w.Due)
}
