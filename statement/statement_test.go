package statement_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/payout"
	"chengdui/settle"
	"chengdui/statement"

	"github.com/stretchr/testify/require"
)

// env is the invoice harness with conversion: a 1 % fee, a 0.5 % spread.
type env struct {
	*invoicetest.Harness
	src source
}

// source is what the server reads statements from: the ledger with the
// database's asset list.
type source struct {
	chengdui.Ledger
	assets interface {
		Assets(ctx context.Context) ([]chengdui.Asset, error)
	}
}

func (s source) Assets(ctx context.Context) ([]chengdui.Asset, error) { return s.assets.Assets(ctx) }

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{}
	e.Harness = invoicetest.NewWith(t, func(h *invoicetest.Harness, cfg *invoice.Config) {
		cfg.Settler = settle.New(settle.Config{Ledger: h.Ledger, Stores: h.Store, FeeBps: 100})
		cfg.SpreadBps = 50
	})
	e.src = source{Ledger: e.Ledger, assets: e.DB}
	e.account(t, "platform:CNY:capital", "CNY", 0)
	e.account(t, settle.Inventory("CNY"), "CNY", chengdui.DebitsMustNotExceedCredits)
	e.transfer(t, chengdui.Transfer{ID: "fund:CNY", DebitAccountID: "platform:CNY:capital", CreditAccountID: settle.Inventory("CNY"),
		Amount: units(t, "100000", 2), Code: 1})
	return e
}

func units(t testing.TB, s string, dec uint8) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseDecimal(s, dec)
	require.NoError(t, err)
	return a
}

func (e *env) account(t *testing.T, id, asset string, flags chengdui.AccountFlags) {
	t.Helper()
	_, err := e.Ledger.CreateAccount(context.Background(), chengdui.Account{ID: id, Asset: asset, Flags: flags})
	if chengdui.ErrorCode(err) != chengdui.EExists {
		require.NoError(t, err)
	}
}

func (e *env) transfer(t *testing.T, ts ...chengdui.Transfer) {
	t.Helper()
	res, err := e.Ledger.CreateTransfers(context.Background(), ts)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
}

// mark is an instant strictly between the transfers before it and those
// after (the ledger stamps transfers with the wall clock, to the
// microsecond).
func mark() time.Time {
	time.Sleep(3 * time.Millisecond)
	m := time.Now().UTC()
	time.Sleep(3 * time.Millisecond)
	return m
}

// leg is the id settle gives a leg of a payment's conversion.
func leg(invoiceID, paymentID, name string) string {
	h := sha256.Sum256([]byte(paymentID))
	return "cv:" + invoiceID + ":" + hex.EncodeToString(h[:12]) + ":" + name
}

func greenfieldBalanceID(paymentID string) string {
	h := sha256.Sum256([]byte(paymentID))
	return "bal_" + hex.EncodeToString(h[:12])
}

// story is what the scenario did, for the checks.
type story struct {
	t0, t1, t2, t3   time.Time
	invA, invB, invK invoice.Invoice
	payA, payB, payK string
}

// play runs the scenario on store-1 (converts into CNY) and "keeper"
// (keeps USDT, no fee):
//
//	[t0, t1): A, 72.00 CNY paid in USDT on chain; K, 72.00 CNY paid to keeper in USDT
//	[t1, t2): B, 100.00 CNY paid from the payer's BTC balance; payout po-1 held
//	[t2, t3): po-1 posted and returned, po-2 held and voided, po-3 held,
//	          1.00 CNY credited and 0.50 CNY debited by hand, 0.001 BTC credited
func (e *env) play(t *testing.T) story {
	ctx := context.Background()
	var s story
	zero := uint32(0)
	require.NoError(t, e.DB.CreateStore(ctx, chengdui.Store{ID: "keeper", OwnerID: e.Owner, Name: "Keeps USDT", DefaultCurrency: "CNY",
		Settlement: chengdui.StoreSettlement{Mode: "keep", FeeBps: &zero}, CreatedAt: e.Now()}))
	var err error
	s.invA, err = e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: e.StoreID, Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	s.invB, err = e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: e.StoreID, Amount: "100.00", Currency: "CNY"})
	require.NoError(t, err)
	s.invK, err = e.Invoices.Create(ctx, invoice.CreateRequest{StoreID: "keeper", Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)

	s.t0 = mark()
	q, _ := s.invA.Quote("USDT-ERC20")
	require.Equal(t, units(t, "10.050251", 6), q.Due)
	s.payA = e.Pay(t, s.invA, invoice.MethodUSDT, q.Due, "0xa", 10, 10).String()
	q, _ = s.invK.Quote("USDT-ERC20")
	s.payK = e.Pay(t, s.invK, invoice.MethodUSDT, q.Due, "0xk", 11, 11).String()

	s.t1 = mark()
	got, err := e.Invoices.PayFromBalance(ctx, e.Payer, s.invB.ID, "BTC")
	require.NoError(t, err)
	require.Equal(t, invoice.Settled, got.Status)
	s.payB = invoice.BalancePaymentID(s.invB.ID, e.Payer)
	cny := invoice.StoreAccount(e.StoreID, "CNY")
	e.account(t, "platform:CNY:payouts", "CNY", 0)
	payoutMD := func(id string) map[string]string { return map[string]string{"kind": "payout", "payout": id} }
	e.transfer(t, chengdui.Transfer{ID: "po:po-1:hold", DebitAccountID: cny, CreditAccountID: "platform:CNY:payouts",
		Amount: units(t, "50", 2), Code: payout.CodePayout, Flags: chengdui.Pending, Metadata: payoutMD("po-1")})

	s.t2 = mark()
	e.transfer(t, chengdui.Transfer{ID: "po:po-1:post", PendingID: "po:po-1:hold", Flags: chengdui.PostPending, Code: payout.CodePayout, Metadata: payoutMD("po-1")})
	e.transfer(t, chengdui.Transfer{ID: "po:po-2:hold", DebitAccountID: cny, CreditAccountID: "platform:CNY:payouts",
		Amount: units(t, "20", 2), Code: payout.CodePayout, Flags: chengdui.Pending, Metadata: payoutMD("po-2")})
	e.transfer(t, chengdui.Transfer{ID: "po:po-2:void", PendingID: "po:po-2:hold", Flags: chengdui.VoidPending, Code: payout.CodePayout})
	e.transfer(t, chengdui.Transfer{ID: "po:po-1:return", DebitAccountID: "platform:CNY:payouts", CreditAccountID: cny,
		Amount: units(t, "50", 2), Code: payout.CodePayoutReturn, Metadata: map[string]string{"kind": "payout returned", "payout": "po-1"}})
	e.transfer(t, chengdui.Transfer{ID: "adj:1", DebitAccountID: "platform:CNY:capital", CreditAccountID: cny,
		Amount: units(t, "1", 2), Code: 7, Metadata: map[string]string{"reason": "补偿 goodwill"}})
	e.transfer(t, chengdui.Transfer{ID: "adj:2", DebitAccountID: cny, CreditAccountID: "platform:CNY:capital",
		Amount: units(t, "0.5", 2), Code: 8})
	e.transfer(t, chengdui.Transfer{ID: "po:po-3:hold", DebitAccountID: cny, CreditAccountID: "platform:CNY:payouts",
		Amount: units(t, "30", 2), Code: payout.CodePayout, Flags: chengdui.Pending, Metadata: payoutMD("po-3")})
	btc := invoice.StoreAccount(e.StoreID, "BTC")
	e.account(t, btc, "BTC", chengdui.DebitsMustNotExceedCredits)
	e.transfer(t, chengdui.Transfer{ID: "adj:3", DebitAccountID: "platform:BTC:chain", CreditAccountID: btc, Amount: units(t, "0.001", 8), Code: 7})
	s.t3 = mark()
	return s
}

func (e *env) build(t *testing.T, store string, from, to time.Time) statement.Statement {
	t.Helper()
	st, err := statement.Build(context.Background(), e.src, store, from, to)
	require.NoError(t, err)
	require.Equal(t, store, st.StoreID)
	require.Equal(t, from.UTC(), st.From)
	require.Equal(t, to.UTC(), st.To)
	return st
}

// asset returns the statement of one asset, failing if it is absent.
func asset(t *testing.T, st statement.Statement, code string) statement.AssetStatement {
	t.Helper()
	for _, a := range st.Assets {
		if a.Asset == code {
			return a
		}
	}
	require.Failf(t, "no asset", "%s not in the statement", code)
	return statement.AssetStatement{}
}

// conversionA and the others are the lines the scenario makes, as
// expected to the unit (worked out in the comments).
func (s story) conversionA(t *testing.T) statement.Line {
	// 10.050251 USDT for 72.00 CNY: worth 72.00; at the mid rate 7.2,
	// 72.3618072 → 72.36: spread 0.36; fee 1 % of 72.00.
	return statement.Line{Kind: statement.KindConversion, TransferID: leg(s.invA.ID, s.payA, "out"), Code: settle.CodeProceeds,
		Credit: units(t, "71.28", 2), Balance: units(t, "71.28", 2),
		Payment: &statement.Payment{InvoiceID: s.invA.ID, PaymentID: s.payA, Asset: "USDT-ERC20", Decimals: 6,
			Amount: units(t, "10.050251", 6), Rate: "7.164000000000", Value: units(t, "72", 2), HasValue: true,
			Gross: units(t, "72.36", 2), Fee: units(t, "0.72", 2), Spread: units(t, "0.36", 2), Net: units(t, "71.28", 2)}}
}

func (s story) conversionB(t *testing.T) statement.Line {
	// 100.00 CNY at 432000 × 0.995 = 429840 CNY/BTC: 23264 sat; at the
	// mid rate 100.50048 → 100.50: spread 0.50; fee 1.00.
	return statement.Line{Kind: statement.KindConversion, TransferID: leg(s.invB.ID, s.payB, "out"), Code: settle.CodeProceeds,
		Credit: units(t, "99", 2), Balance: units(t, "170.28", 2),
		Payment: &statement.Payment{InvoiceID: s.invB.ID, PaymentID: greenfieldBalanceID(s.payB), FromBalance: true, Asset: "BTC", Decimals: 8,
			Amount: chengdui.Amount{Lo: 23264}, Rate: "429840.000000000000", Value: units(t, "100", 2), HasValue: true,
			Gross: units(t, "100.50", 2), Fee: units(t, "1", 2), Spread: units(t, "0.50", 2), Net: units(t, "99", 2)}}
}

func (s story) keptK(t *testing.T) statement.Line {
	// Kept in USDT: the spread 0.5 % of 10.050251 (0.050251), no fee:
	// the fee leg is not written and reads as zero.
	return statement.Line{Kind: statement.KindPayment, TransferID: leg(s.invK.ID, s.payK, "store"), Code: settle.CodeKeepStore,
		Credit: units(t, "10", 6), Balance: units(t, "10", 6),
		Payment: &statement.Payment{InvoiceID: s.invK.ID, PaymentID: s.payK, Asset: "USDT-ERC20", Decimals: 6,
			Amount: units(t, "10.050251", 6), Rate: "7.164000000000",
			Gross: units(t, "10.050251", 6), Spread: units(t, "0.050251", 6), Net: units(t, "10", 6)}}
}

func (s story) periodThree(t *testing.T) []statement.Line {
	return []statement.Line{
		{Kind: statement.KindPayout, TransferID: "po:po-1:post", Code: payout.CodePayout, Debit: units(t, "50", 2), Balance: units(t, "120.28", 2),
			PayoutID: "po-1", Metadata: map[string]string{"kind": "payout", "payout": "po-1"}},
		{Kind: statement.KindPayoutReturn, TransferID: "po:po-1:return", Code: payout.CodePayoutReturn, Credit: units(t, "50", 2), Balance: units(t, "170.28", 2),
			PayoutID: "po-1", Metadata: map[string]string{"kind": "payout returned", "payout": "po-1"}},
		{Kind: statement.KindOtherCredit, TransferID: "adj:1", Code: 7, Credit: units(t, "1", 2), Balance: units(t, "171.28", 2),
			Metadata: map[string]string{"reason": "补偿 goodwill"}},
		{Kind: statement.KindOtherDebit, TransferID: "adj:2", Code: 8, Debit: units(t, "0.5", 2), Balance: units(t, "170.78", 2)},
	}
}

// requireLines compares lines, checking that each is stamped inside
// [from, to) and that seqs rise.
func requireLines(t *testing.T, want, got []statement.Line, from, to time.Time) {
	t.Helper()
	require.Len(t, got, len(want))
	var seq uint64
	for i := range got {
		g := got[i]
		require.True(t, !g.Time.Before(from) && g.Time.Before(to), "line %d at %s outside [%s, %s)", i, g.Time, from, to)
		require.Greater(t, g.Seq, seq)
		seq = g.Seq
		g.Seq, g.Time = 0, time.Time{}
		require.Equal(t, want[i], g, "line %d", i)
	}
}

func TestStatementPeriods(t *testing.T) {
	e := setup(t)
	s := e.play(t)
	cny := func(v string) chengdui.Amount { return units(t, v, 2) }
	type period struct {
		name             string
		from, to         time.Time
		opening, closing chengdui.Amount
		lines            []statement.Line
		totals           statement.Totals
	}
	a, b, p3 := s.conversionA(t), s.conversionB(t), s.periodThree(t)
	all := append([]statement.Line{a, b}, p3...)
	t3Totals := statement.Totals{Payouts: cny("50"), PayoutReturns: cny("50"), OtherCredits: cny("1"), OtherDebits: cny("0.5"),
		Credits: cny("51"), Debits: cny("50.5")}
	for _, p := range []period{
		{name: "before", from: s.t0.Add(-time.Hour), to: s.t0},
		{name: "A", from: s.t0, to: s.t1, closing: cny("71.28"), lines: []statement.Line{a},
			totals: statement.Totals{Gross: cny("72.36"), Fees: cny("0.72"), Spreads: cny("0.36"), Net: cny("71.28"), Credits: cny("71.28")}},
		{name: "B and a hold", from: s.t1, to: s.t2, opening: cny("71.28"), closing: cny("170.28"), lines: []statement.Line{b},
			totals: statement.Totals{Gross: cny("100.50"), Fees: cny("1"), Spreads: cny("0.50"), Net: cny("99"), Credits: cny("99")}},
		{name: "payouts and others", from: s.t2, to: s.t3, opening: cny("170.28"), closing: cny("170.78"), lines: p3, totals: t3Totals},
		{name: "all", from: s.t0, to: s.t3, closing: cny("170.78"), lines: all,
			totals: statement.Totals{Gross: cny("172.86"), Fees: cny("1.72"), Spreads: cny("0.86"), Net: cny("170.28"),
				Payouts: cny("50"), PayoutReturns: cny("50"), OtherCredits: cny("1"), OtherDebits: cny("0.5"),
				Credits: cny("221.28"), Debits: cny("50.5")}},
		{name: "after", from: s.t3, to: s.t3.Add(time.Hour), opening: cny("170.78"), closing: cny("170.78")},
		{name: "empty period", from: s.t1, to: s.t1, opening: cny("71.28"), closing: cny("71.28")},
	} {
		t.Run(p.name, func(t *testing.T) {
			st := e.build(t, e.StoreID, p.from, p.to)
			require.Equal(t, []string{"BTC", "CNY"}, codes(st), "the assets the store has accounts of, in code order")
			c := asset(t, st, "CNY")
			require.Equal(t, "store:store-1:CNY", c.Account)
			require.Equal(t, uint8(2), c.Decimals)
			require.Equal(t, p.opening, c.Opening, "opening")
			require.Equal(t, p.closing, c.Closing, "closing")
			requireLines(t, p.lines, c.Lines, p.from, p.to)
			require.Equal(t, p.totals, c.Totals)
			sum, _ := chengdui.AddAmounts(c.Opening, c.Totals.Credits)
			closing, ok := chengdui.SubAmounts(sum, c.Totals.Debits)
			require.True(t, ok)
			require.Equal(t, c.Closing, closing, "opening + credits − debits = closing")
		})
	}

	// BTC: credited by hand in the third period only.
	st := e.build(t, e.StoreID, s.t2, s.t3)
	btc := asset(t, st, "BTC")
	require.True(t, btc.Opening.IsZero())
	require.Equal(t, units(t, "0.001", 8), btc.Closing)
	requireLines(t, []statement.Line{{Kind: statement.KindOtherCredit, TransferID: "adj:3", Code: 7, Credit: units(t, "0.001", 8), Balance: units(t, "0.001", 8)}},
		btc.Lines, s.t2, s.t3)

	// The keeper keeps USDT, without a fee.
	st = e.build(t, "keeper", s.t0, s.t3)
	require.Equal(t, []string{"USDT-ERC20"}, codes(st))
	k := asset(t, st, "USDT-ERC20")
	requireLines(t, []statement.Line{s.keptK(t)}, k.Lines, s.t0, s.t1)
	require.Equal(t, statement.Totals{Gross: units(t, "10.050251", 6), Spreads: units(t, "0.050251", 6), Net: units(t, "10", 6), Credits: units(t, "10", 6)}, k.Totals)

	// A store without accounts has an empty statement.
	st = e.build(t, "store-nobody", s.t0, s.t3)
	require.Empty(t, st.Assets)
	require.NotNil(t, st.Assets)
}

func codes(st statement.Statement) []string {
	var out []string
	for _, a := range st.Assets {
		out = append(out, a.Asset)
	}
	return out
}

type money struct {
	Amount string `json:"amount"`
	Units  string `json:"units"`
}

// statementDoc is the JSON format, field for field: decoding refuses
// anything else.
type statementDoc struct {
	StoreID string `json:"store_id"`
	From    string `json:"from"`
	To      string `json:"to"`
	Assets  []struct {
		Asset    string           `json:"asset"`
		Decimals int              `json:"decimals"`
		Account  string           `json:"account"`
		Opening  money            `json:"opening"`
		Closing  money            `json:"closing"`
		Totals   map[string]money `json:"totals"`
		Lines    []struct {
			Seq        uint64 `json:"seq"`
			Time       string `json:"time"`
			Kind       string `json:"kind"`
			TransferID string `json:"transfer_id"`
			Code       int    `json:"code"`
			Credit     money  `json:"credit"`
			Debit      money  `json:"debit"`
			Balance    money  `json:"balance"`
			Payment    *struct {
				InvoiceID       string `json:"invoice_id"`
				PaymentID       string `json:"payment_id"`
				PaidFromBalance bool   `json:"paid_from_balance"`
				PaidAsset       string `json:"paid_asset"`
				Paid            money  `json:"paid"`
				Rate            string `json:"rate"`
				Value           *money `json:"value"`
				Gross           money  `json:"gross"`
				Fee             money  `json:"fee"`
				Spread          money  `json:"spread"`
				Net             money  `json:"net"`
			} `json:"payment"`
			PayoutID string            `json:"payout_id"`
			Metadata map[string]string `json:"metadata"`
		} `json:"lines"`
	} `json:"assets"`
}

func TestStatementFormats(t *testing.T) {
	e := setup(t)
	s := e.play(t)
	st := e.build(t, e.StoreID, s.t0, s.t3)

	// JSON: deterministic, every amount in whole and smallest units.
	b, err := json.Marshal(st)
	require.NoError(t, err)
	again, err := json.Marshal(e.build(t, e.StoreID, s.t0, s.t3))
	require.NoError(t, err)
	require.Equal(t, string(b), string(again), "the same ledger gives the same bytes")
	var doc statementDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&doc))
	require.Equal(t, "store-1", doc.StoreID)
	require.Equal(t, s.t0.Format(time.RFC3339Nano), doc.From)
	require.Equal(t, s.t3.Format(time.RFC3339Nano), doc.To)
	require.Len(t, doc.Assets, 2)
	c := doc.Assets[1]
	require.Equal(t, "CNY", c.Asset)
	require.Equal(t, 2, c.Decimals)
	require.Equal(t, money{"0.00", "0"}, c.Opening)
	require.Equal(t, money{"170.78", "17078"}, c.Closing)
	require.Equal(t, map[string]money{"gross": {"172.86", "17286"}, "fees": {"1.72", "172"}, "spreads": {"0.86", "86"}, "net": {"170.28", "17028"},
		"payouts": {"50.00", "5000"}, "payout_returns": {"50.00", "5000"}, "other_credits": {"1.00", "100"}, "other_debits": {"0.50", "50"},
		"credits": {"221.28", "22128"}, "debits": {"50.50", "5050"}}, c.Totals)
	require.Len(t, c.Lines, 6)
	a := c.Lines[0]
	require.Equal(t, "conversion", a.Kind)
	require.Equal(t, 31, a.Code)
	require.Equal(t, money{"71.28", "7128"}, a.Credit)
	require.Equal(t, money{"0.00", "0"}, a.Debit)
	require.Equal(t, money{"71.28", "7128"}, a.Balance)
	when, err := time.Parse(time.RFC3339Nano, a.Time)
	require.NoError(t, err)
	require.True(t, !when.Before(s.t0) && when.Before(s.t1))
	require.Equal(t, "UTC", when.Location().String())
	require.NotNil(t, a.Payment)
	require.Equal(t, s.invA.ID, a.Payment.InvoiceID)
	require.Equal(t, s.payA, a.Payment.PaymentID)
	require.False(t, a.Payment.PaidFromBalance)
	require.Equal(t, "USDT-ERC20", a.Payment.PaidAsset)
	require.Equal(t, money{"10.050251", "10050251"}, a.Payment.Paid)
	require.Equal(t, "7.164000000000", a.Payment.Rate)
	require.Equal(t, &money{"72.00", "7200"}, a.Payment.Value)
	require.Equal(t, money{"72.36", "7236"}, a.Payment.Gross)
	require.Equal(t, money{"0.72", "72"}, a.Payment.Fee)
	require.Equal(t, money{"0.36", "36"}, a.Payment.Spread)
	require.Equal(t, money{"71.28", "7128"}, a.Payment.Net)
	bal := c.Lines[1].Payment
	require.True(t, bal.PaidFromBalance)
	require.Equal(t, greenfieldBalanceID(s.payB), bal.PaymentID)
	require.NotContains(t, string(b), e.Payer, "a balance payment never names its payer")
	require.Equal(t, money{"0.00023264", "23264"}, bal.Paid)
	po := c.Lines[2]
	require.Nil(t, po.Payment)
	require.Equal(t, "payout", po.Kind)
	require.Equal(t, "po-1", po.PayoutID)
	require.Equal(t, money{"50.00", "5000"}, po.Debit)
	require.Equal(t, map[string]string{"reason": "补偿 goodwill"}, c.Lines[4].Metadata)

	// CSV: a header, an opening and a closing row per asset, a row per line.
	var out bytes.Buffer
	require.NoError(t, st.WriteCSV(&out))
	rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
	require.NoError(t, err)
	require.Equal(t, statement.CSVHeader, rows[0])
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	require.Len(t, rows, 1+3+8)
	get := func(r []string, name string) string { return r[col[name]] }
	kinds := []string{}
	for _, r := range rows[1:] {
		kinds = append(kinds, get(r, "asset")+" "+get(r, "kind"))
	}
	require.Equal(t, []string{"BTC opening", "BTC other_credit", "BTC closing",
		"CNY opening", "CNY conversion", "CNY conversion", "CNY payout", "CNY payout_return", "CNY other_credit", "CNY other_debit", "CNY closing"}, kinds)
	open, conv, payout, closing := rows[4], rows[5], rows[7], rows[11]
	require.Equal(t, s.t0.Format(time.RFC3339Nano), get(open, "time"))
	require.Equal(t, "0.00", get(open, "balance"))
	require.Equal(t, "", get(open, "credit"))
	for name, want := range map[string]string{"decimals": "2", "transfer_id": leg(s.invA.ID, s.payA, "out"), "code": "31",
		"invoice_id": s.invA.ID, "payment_id": s.payA, "paid_from_balance": "false", "paid_asset": "USDT-ERC20", "paid_amount": "10.050251",
		"rate": "7.164000000000", "value": "72.00", "gross": "72.36", "fee": "0.72", "spread": "0.36", "net": "71.28",
		"credit": "71.28", "debit": "0.00", "balance": "71.28", "payout_id": "", "metadata": ""} {
		require.Equal(t, want, get(conv, name), name)
	}
	require.Equal(t, a.Time, get(conv, "time"))
	for name, want := range map[string]string{"kind": "payout", "transfer_id": "po:po-1:post", "code": "40", "invoice_id": "", "gross": "",
		"credit": "0.00", "debit": "50.00", "balance": "120.28", "payout_id": "po-1", "metadata": `{"kind":"payout","payout":"po-1"}`} {
		require.Equal(t, want, get(payout, name), name)
	}
	require.Equal(t, `{"reason":"补偿 goodwill"}`, get(rows[9], "metadata"), "UTF-8 as it is")
	require.Equal(t, s.t3.Format(time.RFC3339Nano), get(closing, "time"))
	for name, want := range map[string]string{"gross": "172.86", "fee": "1.72", "spread": "0.86", "net": "170.28",
		"credit": "221.28", "debit": "50.50", "balance": "170.78"} {
		require.Equal(t, want, get(closing, name), name)
	}

	// The rows add up: opening + credits − debits = each balance, to the
	// closing one.
	balance := units(t, get(open, "balance"), 2)
	for _, r := range rows[5:11] {
		balance, _ = chengdui.AddAmounts(balance, units(t, get(r, "credit"), 2))
		var ok bool
		balance, ok = chengdui.SubAmounts(balance, units(t, get(r, "debit"), 2))
		require.True(t, ok)
		require.Equal(t, get(r, "balance"), chengdui.FormatDecimal(balance, 2))
	}
	require.Equal(t, get(closing, "balance"), chengdui.FormatDecimal(balance, 2))
}

// TestStatementSettlements checks the settlements view: the statement's
// invoice payments of every asset, in journal order, each with its
// conversion; payouts and other lines are left out.
func TestStatementSettlements(t *testing.T) {
	e := setup(t)
	s := e.play(t)
	st := e.build(t, e.StoreID, s.t0, s.t3)
	ss := st.Settlements()
	require.Len(t, ss, 2)
	for i, x := range ss {
		require.Equal(t, "CNY", x.Asset)
		require.Equal(t, statement.KindConversion, x.Kind)
		if i > 0 {
			require.Greater(t, x.Seq, ss[i-1].Seq)
		}
	}
	require.Equal(t, s.invA.ID, ss[0].Payment.InvoiceID)
	b, err := json.Marshal(ss[0])
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, "CNY", doc["asset"])
	require.Equal(t, "conversion", doc["kind"])
	require.Equal(t, s.invA.ID, doc["invoice_id"])
	require.Equal(t, "USDT-ERC20", doc["paid_asset"])
	require.Equal(t, map[string]any{"amount": "10.050251", "units": "10050251"}, doc["paid"])
	require.Equal(t, map[string]any{"amount": "71.28", "units": "7128"}, doc["net"])
	require.Equal(t, map[string]any{"amount": "0.72", "units": "72"}, doc["fee"])
	require.Equal(t, "7.164000000000", doc["rate"])
	require.True(t, ss[1].Payment.FromBalance)
	require.Empty(t, statement.Statement{}.Settlements())
}

// TestStatementSplitShare: a split's share of a payment, credited in
// another settlement asset (settle.CodeSplit), is a conversion line whose
// payment names the invoice and the invoice-currency share it came from.
func TestStatementSplitShare(t *testing.T) {
	e := setup(t)
	e.account(t, "platform:USDC-ERC20:capital", "USDC-ERC20", 0)
	e.account(t, settle.Inventory("USDC-ERC20"), "USDC-ERC20", 0)
	e.account(t, invoice.StoreAccount(e.StoreID, "USDC-ERC20"), "USDC-ERC20", chengdui.DebitsMustNotExceedCredits)
	t0 := time.Now().UTC().Add(-time.Second)
	e.transfer(t, chengdui.Transfer{ID: "cv:inv1:abc:split-USDC-ERC20", DebitAccountID: settle.Inventory("USDC-ERC20"),
		CreditAccountID: invoice.StoreAccount(e.StoreID, "USDC-ERC20"), Amount: units(t, "3", 6), Code: settle.CodeSplit,
		Metadata: map[string]string{"invoice": "inv1", "payment": "evm:1337:0xab:1", "rate": "7.20", "value": "2160", "value_asset": "CNY",
			"store": e.StoreID, "parts": "CNY=5040,USDC-ERC20=3000000"}})
	st := e.build(t, e.StoreID, t0, time.Now().UTC().Add(time.Second))
	ss := st.Settlements()
	require.Len(t, ss, 1)
	s := ss[0]
	require.Equal(t, "USDC-ERC20", s.Asset)
	require.Equal(t, statement.KindConversion, s.Kind)
	require.Equal(t, "inv1", s.Payment.InvoiceID)
	require.Equal(t, "CNY", s.Payment.Asset)
	require.Equal(t, "2160", s.Payment.Amount.String(), "the 21.60 CNY share converted")
	require.Equal(t, "3000000", s.Payment.Net.String())
	require.Equal(t, s.Payment.Net, s.Payment.Gross)
	require.Equal(t, "7.20", s.Payment.Rate)
}
