package statement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/invoice/invoicetest"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/sqlite"
	"chengdui/statement"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestBalances(t *testing.T) {
	e := setup(t)
	e.play(t)
	ctx := context.Background()
	got, err := statement.Balances(ctx, e.src, e.StoreID)
	require.NoError(t, err)
	require.Equal(t, []statement.Balance{
		{Asset: "BTC", Decimals: 8, Available: units(t, "0.001", 8), Total: units(t, "0.001", 8)},
		// po-3's hold of 30.00 is on hold; po-2's was voided.
		{Asset: "CNY", Decimals: 2, Available: units(t, "140.78", 2), OnHold: units(t, "30", 2), Total: units(t, "170.78", 2)},
	}, got)
	b, err := json.Marshal(got[1])
	require.NoError(t, err)
	require.JSONEq(t, `{"asset":"CNY","decimals":2,"available":{"amount":"140.78","units":"14078"},
		"on_hold":{"amount":"30.00","units":"3000"},"total":{"amount":"170.78","units":"17078"}}`, string(b))

	got, err = statement.Balances(ctx, e.src, "keeper")
	require.NoError(t, err)
	require.Equal(t, []statement.Balance{{Asset: "USDT-ERC20", Decimals: 6, Available: units(t, "10", 6), Total: units(t, "10", 6)}}, got)
	got, err = statement.Balances(ctx, e.src, "store-nobody")
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	_, err = statement.Balances(ctx, e.src, "")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

// TestPassedPayment: without a settler, a payment is passed to the store
// in the asset paid, whole.
func TestPassedPayment(t *testing.T) {
	h := invoicetest.New(t)
	ctx := context.Background()
	inv, err := h.Invoices.Create(ctx, invoice.CreateRequest{StoreID: h.StoreID, Amount: "72.00", Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	from := mark()
	pay := h.Pay(t, inv, invoice.MethodUSDT, q.Due, "0xp", 10, 10).String()
	to := mark()
	st, err := statement.Build(ctx, source{Ledger: h.Ledger, assets: h.DB}, h.StoreID, from, to)
	require.NoError(t, err)
	require.Equal(t, []string{"USDT-ERC20"}, codes(st))
	u := st.Assets[0]
	requireLines(t, []statement.Line{{Kind: statement.KindPayment, TransferID: invoice.PassID(inv.ID, pay), Code: invoice.CodeToMerchant,
		Credit: q.Due, Balance: q.Due,
		Payment: &statement.Payment{InvoiceID: inv.ID, PaymentID: pay, Asset: "USDT-ERC20", Decimals: 6, Amount: q.Due,
			Gross: q.Due, Net: q.Due}}}, u.Lines, from, to)
	require.Equal(t, statement.Totals{Gross: q.Due, Net: q.Due, Credits: q.Due}, u.Totals)
}

func TestBuildRefuses(t *testing.T) {
	e := setup(t)
	now := time.Now()
	for _, c := range []struct {
		name     string
		store    string
		from, to time.Time
	}{
		{"no store", "", now.Add(-time.Hour), now},
		{"from after to", e.StoreID, now, now.Add(-time.Nanosecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := statement.Build(context.Background(), e.src, c.store, c.from, c.to)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
}

// faulty is a source that misreports, to see Build refuse to add up
// what does not.
type faulty struct {
	source
	extraCredit  uint64 // added to every account's credits
	hideLast     atomic.Bool
	reversed     bool // answers pages of history out of order
	noNeighbours bool // answers the journal without the legs around a transfer
	accountReads atomic.Int64
}

func (f *faulty) Account(ctx context.Context, id string) (chengdui.Account, error) {
	a, err := f.source.Account(ctx, id)
	if f.accountReads.Add(1) > 1 {
		f.hideLast.Store(false) // the history "catches up"
	}
	a.CreditsPosted, _ = chengdui.AddAmounts(a.CreditsPosted, chengdui.Amount{Lo: f.extraCredit})
	return a, err
}

func (f *faulty) Transfers(ctx context.Context, tf chengdui.TransferFilter) ([]chengdui.Transfer, error) {
	if tf.AccountID == "" && f.noNeighbours {
		return nil, nil
	}
	ts, err := f.source.Transfers(ctx, tf)
	if err != nil || tf.AccountID == "" {
		return ts, err
	}
	if f.hideLast.Load() && len(ts) > 0 {
		ts = ts[:len(ts)-1]
	}
	if f.reversed && len(ts) > 1 {
		ts[0], ts[len(ts)-1] = ts[len(ts)-1], ts[0]
	}
	return ts, nil
}

func TestBuildChecksTheLedger(t *testing.T) {
	e := setup(t)
	s := e.play(t)
	ctx := context.Background()

	// An account whose balance is not its history: refused, naming the
	// difference.
	_, err := statement.Build(ctx, &faulty{source: e.src, extraCredit: 7}, e.StoreID, s.t0, s.t3)
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(err))
	require.Contains(t, err.Error(), "credits by -7, debits by 0")

	// A transfer committed while the history was read is read too.
	f := &faulty{source: e.src}
	f.hideLast.Store(true)
	st, err := statement.Build(ctx, f, e.StoreID, s.t0, s.t3)
	require.NoError(t, err)
	require.Equal(t, units(t, "170.78", 2), asset(t, st, "CNY").Closing)

	_, err = statement.Build(ctx, &faulty{source: e.src, reversed: true}, e.StoreID, s.t0, s.t3)
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(err))
	require.Contains(t, err.Error(), "out of order")

	_, err = statement.Build(ctx, &faulty{source: e.src, noNeighbours: true}, e.StoreID, s.t0, s.t3)
	require.Equal(t, chengdui.EInternal, chengdui.ErrorCode(err))
	require.Contains(t, err.Error(), ":in is not beside it")
}

// TestPeriodsAddUp: on a ledger whose clock the test drives, any cut of
// time into consecutive periods gives statements that chain (each
// opening is the previous closing), whose lines are the ledger's posted
// transfers of the account, each once, and whose closing balances are
// the balances a model of the account computes.
func TestPeriodsAddUp(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	clock := &atomic.Int64{}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(start.UnixMicro())
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1, Now: func() time.Time { return time.UnixMicro(clock.Load()) }})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "CNY", Network: "fiat", Decimals: 2})
	require.NoError(t, err)
	_, err = eng.CreateAccount(ctx, chengdui.Account{ID: "capital", Asset: "CNY"})
	require.NoError(t, err)
	src := source{Ledger: eng, assets: db}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		store := fmt.Sprintf("s%d", n)
		acct := invoice.StoreAccount(store, "CNY")
		_, err := eng.CreateAccount(ctx, chengdui.Account{ID: acct, Asset: "CNY", Flags: chengdui.DebitsMustNotExceedCredits})
		require.NoError(t, err)
		first := time.UnixMicro(clock.Load()).UTC()
		var (
			balance uint64
			holds   []string
			stamps  = map[uint64]time.Time{} // the model's lines: seq → stamp
			model   = map[time.Time]uint64{} // balance after each stamp
		)
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			clock.Add(rapid.Int64Range(0, 3_000_000).Draw(rt, "µs")) // several transfers may share a stamp
			id := fmt.Sprintf("%s:%d", store, i)
			amount := rapid.Uint64Range(1, 10_000).Draw(rt, "amount")
			var tr chengdui.Transfer
			switch op := rapid.IntRange(0, 3).Draw(rt, "op"); {
			case op == 0 || balance < amount:
				tr = chengdui.Transfer{ID: id, DebitAccountID: "capital", CreditAccountID: acct, Amount: chengdui.Amount{Lo: amount}, Code: 1}
			case op == 1:
				tr = chengdui.Transfer{ID: id, DebitAccountID: acct, CreditAccountID: "capital", Amount: chengdui.Amount{Lo: amount}, Code: 2}
			case op == 2:
				tr = chengdui.Transfer{ID: id, DebitAccountID: acct, CreditAccountID: "capital", Amount: chengdui.Amount{Lo: amount}, Code: payout.CodePayout, Flags: chengdui.Pending}
			case len(holds) > 0:
				post := rapid.Bool().Draw(rt, "post")
				tr = chengdui.Transfer{ID: id, PendingID: holds[0], Code: payout.CodePayout, Flags: chengdui.VoidPending}
				if post {
					tr.Flags = chengdui.PostPending
				}
				holds = holds[1:]
			default:
				continue
			}
			res, err := eng.CreateTransfers(ctx, []chengdui.Transfer{tr})
			require.NoError(t, err)
			if res[0].Err != nil {
				require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(res[0].Err), "%v", res[0].Err)
				continue
			}
			got := res[0].Transfer
			switch {
			case got.Flags&chengdui.Pending != 0:
				holds = append(holds, got.ID)
			case got.Flags&chengdui.VoidPending != 0:
			case got.CreditAccountID == acct:
				balance += got.Amount.Lo
				stamps[got.Seq] = got.Timestamp
			default:
				balance -= got.Amount.Lo
				stamps[got.Seq] = got.Timestamp
			}
			model[got.Timestamp] = balance
		}
		last := time.UnixMicro(clock.Load()).UTC()
		clock.Add(1)
		// balanceAt is the model's balance of every transfer before t.
		balanceAt := func(t time.Time) uint64 {
			var at time.Time
			var b uint64
			for stamp, bal := range model {
				if stamp.Before(t) && !stamp.Before(at) {
					at, b = stamp, bal
				}
			}
			return b
		}
		cuts := []time.Time{first.Add(-time.Second)}
		for k := rapid.IntRange(0, 4).Draw(rt, "cuts"); k > 0; k-- {
			off := rapid.Int64Range(0, last.Sub(first).Microseconds()+1).Draw(rt, "cut")
			cuts = append(cuts, first.Add(time.Duration(off)*time.Microsecond))
		}
		cuts = append(cuts, last.Add(time.Second))
		for i := 1; i < len(cuts); i++ {
			if cuts[i].Before(cuts[i-1]) {
				cuts[i] = cuts[i-1]
			}
		}
		seen := map[uint64]bool{}
		var closing chengdui.Amount
		for i := 0; i+1 < len(cuts); i++ {
			st, err := statement.Build(ctx, src, store, cuts[i], cuts[i+1])
			require.NoError(t, err)
			require.Len(t, st.Assets, 1)
			a := st.Assets[0]
			require.Equal(t, closing, a.Opening, "period %d opens where %d closed", i, i-1)
			require.Equal(t, chengdui.Amount{Lo: balanceAt(cuts[i+1])}, a.Closing, "period %d", i)
			for _, l := range a.Lines {
				require.False(t, seen[l.Seq], "seq %d twice", l.Seq)
				seen[l.Seq] = true
				require.Equal(t, stamps[l.Seq], l.Time)
				require.True(t, !l.Time.Before(cuts[i]) && l.Time.Before(cuts[i+1]))
				require.Contains(t, []statement.Kind{statement.KindOtherCredit, statement.KindOtherDebit, statement.KindPayout}, l.Kind)
			}
			closing = a.Closing
		}
		require.Len(t, seen, len(stamps), "every posted transfer is a line of one period")
		require.Equal(t, chengdui.Amount{Lo: balance}, closing)
	})
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		from, to     string
		wantFrom     time.Time
		wantTo       time.Time
		field, error string
	}{
		{wantFrom: day(2026, 11, 1), wantTo: now},
		{from: "2026-10-01", to: "2026-10-31", wantFrom: day(2026, 10, 1), wantTo: day(2026, 11, 1)},
		{to: "2026-10-31", wantFrom: day(2026, 10, 1), wantTo: day(2026, 11, 1)},
		{to: "2026-11-01T00:00:00Z", wantFrom: day(2026, 10, 1), wantTo: day(2026, 11, 1)},
		{from: "2026-11-20", wantFrom: day(2026, 11, 20), wantTo: now},
		{from: "1790812800", to: "1793491200", wantFrom: day(2026, 10, 1), wantTo: day(2026, 11, 1)},
		{from: "2026-10-01T08:00:00+08:00", to: "2026-10-02T00:00:00.5Z", wantFrom: day(2026, 10, 1), wantTo: day(2026, 10, 2).Add(500 * time.Millisecond)},
		{from: "2026-11-26", to: "2027-01-01", wantFrom: day(2026, 11, 26), wantTo: now}, // a future end is now
		{from: "2025-11-26", to: "2026-11-26", wantFrom: day(2025, 11, 26), wantTo: now},
		{from: "2025-11-25", to: "2026-11-25", wantFrom: day(2025, 11, 25), wantTo: day(2026, 11, 26)}, // 366 days
		{from: "2025-11-25", to: "2026-11-26T00:00:00.000001Z", field: "to", error: "longer than 366 days"},
		{from: "2026-11-02", to: "2026-11-01T23:59:59Z", field: "from", error: "after to"},
		{from: "2026-11-27", field: "from", error: "in the future"},
		{from: "yesterday", field: "from", error: "RFC 3339"},
		{to: "2026-13-01", field: "to", error: "not a date"},
		{to: "2026-02-30", field: "to", error: "not a date"},
		{from: "-1", field: "from", error: "RFC 3339"},
		{from: "99999999999999999999", field: "from", error: "at most"},
		{from: "253402300800", field: "from", error: "at most"},
		{from: "2026-11-01 00:00:00", field: "from", error: "RFC 3339"},
		{from: "2026-11-01T00:00:00", field: "from", error: "RFC 3339"},
	} {
		t.Run(c.from+"_"+c.to, func(t *testing.T) {
			from, to, err := statement.ParsePeriod(c.from, c.to, now)
			if c.error == "" {
				require.NoError(t, err)
				require.Equal(t, c.wantFrom, from)
				require.Equal(t, c.wantTo, to)
				return
			}
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			var ve *invoice.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, c.field, ve.Fields[0].Field)
			require.Contains(t, ve.Fields[0].Message, c.error)
		})
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-01", "1793491200", "2026-11-01T00:00:00Z", "2026-11-01T08:00:00.123456789+08:00", "", "0", "9999-12-31", "x"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, end bool) {
		got, err := statement.ParseTime(s, end)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			return
		}
		require.Equal(t, time.UTC, got.Location())
		// What it read, written in RFC 3339, reads back the same.
		again, err := statement.ParseTime(got.Format(time.RFC3339Nano), end)
		if got.Year() >= 0 && got.Year() <= 9999 {
			require.NoError(t, err)
			require.True(t, got.Equal(again))
		}
		if strings.TrimLeft(s, "0123456789") == "" {
			require.Zero(t, got.Nanosecond(), "Unix seconds are whole")
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, c := range [][2]string{{"", ""}, {"2026-10-01", "2026-10-31"}, {"1790812800", ""}, {"", "2026-11-01T00:00:00+08:00"}, {"2027-01-01", ""}} {
		f.Add(c[0], c[1])
	}
	now := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to string) {
		start, end, err := statement.ParsePeriod(from, to, now)
		if err != nil {
			var ve *invoice.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, []string{"from", "to"}, ve.Fields[0].Field)
			return
		}
		require.False(t, start.After(end))
		require.False(t, end.After(now), "never a closing balance of the future")
		require.LessOrEqual(t, end.Sub(start), statement.MaxPeriod)
		require.Equal(t, time.UTC, start.Location())
		require.Equal(t, time.UTC, end.Location())
	})
}
