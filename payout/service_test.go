package payout_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/sqlite"
)

// bank is the tests' rail: it keeps the orders it accepted, counts
// submissions per order id and can refuse orders or lose its replies.
type bank struct {
	mu      sync.Mutex
	orders  map[string]rail.Order
	submits map[string]int
	refuse  error          // returned for every order when set
	lose    map[string]int // order id → replies to lose (accepted, but EUnavailable returned, as a timeout)
}

func newBank() *bank {
	return &bank{orders: map[string]rail.Order{}, submits: map[string]int{}, lose: map[string]int{}}
}

func (b *bank) Name() string         { return "testbank" }
func (b *bank) Currencies() []string { return []string{"EUR"} }

func (b *bank) Submit(_ context.Context, o rail.Order) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.submits[o.ID]++
	if b.refuse != nil {
		return "", b.refuse
	}
	if prev, ok := b.orders[o.ID]; ok && prev != o {
		return "", chengdui.Errorf(chengdui.EIDConflict, "order %s was submitted with another body", o.ID)
	}
	b.orders[o.ID] = o
	if b.lose[o.ID] > 0 {
		b.lose[o.ID]--
		return "", chengdui.Errorf(chengdui.EUnavailable, "bank timed out")
	}
	return "REF-" + o.ID, nil
}

func (b *bank) Status(_ context.Context, id string) (rail.Update, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.orders[id]; !ok {
		return rail.Update{}, chengdui.Errorf(chengdui.ENotFound, "no order %s", id)
	}
	return rail.Update{OrderID: id, BankRef: "REF-" + id, Status: rail.Accepted}, nil
}

func (b *bank) count(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.submits[id]
}

// sender is the tests' crypto sender: it checks addresses with the real
// EVM parser.
type sender struct {
	mu   sync.Mutex
	sent []payout.Payout
	txid string
}

func (s *sender) Submit(_ context.Context, p payout.Payout) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, p)
	return s.txid, nil
}

func (s *sender) CheckAddress(asset, address string) (string, error) {
	if asset != "ETH" {
		return "", chengdui.Errorf(chengdui.EInvalid, "no crypto payouts of %s", asset)
	}
	a, err := keys.ParseEVMAddress(address)
	return a.Hex(), err
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	t      testing.TB
	db     *sqlite.DB
	eng    *ledger.Engine
	bank   *bank
	sender *sender
	clock  *clock
	svc    *payout.Service
	store  *faultStore
	ledger *faultLedger
}

const (
	iban     = "DE89 3704 0044 0532 0130 00"
	ibanNorm = "DE89370400440532013000"
	dest     = "0x52908400098527886e0f7030069857d2e4169ee7"
)

func setup(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(t, eng.Start(ctx))
	t.Cleanup(eng.Stop)
	f := &fixture{t: t, db: db, eng: eng, bank: newBank(), sender: &sender{txid: "0xtx"}, clock: &clock{}}
	f.clock.ns.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	for _, a := range []chengdui.Asset{{Code: "EUR", Network: "fiat", Decimals: 2}, {Code: "ETH", Network: "ethereum", Decimals: 18}, {Code: "USD", Network: "fiat", Decimals: 2}} {
		_, err := eng.CreateAsset(ctx, a)
		require.NoError(t, err)
	}
	for _, a := range []chengdui.Account{{ID: "platform:EUR:funding", Asset: "EUR"}, {ID: "platform:ETH:funding", Asset: "ETH"},
		{ID: "store:s1:EUR", Asset: "EUR", Flags: chengdui.DebitsMustNotExceedCredits}, {ID: "store:s1:ETH", Asset: "ETH", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := eng.CreateAccount(ctx, a)
		require.NoError(t, err)
	}
	f.fund("EUR", "1000.00")
	f.fund("ETH", "2")
	f.store = &faultStore{Store: db}
	f.ledger = &faultLedger{Ledger: eng}
	f.svc = f.service(f.store, nil)
	return f
}

// service returns a payout service over st; cfg's zero fields get the
// fixture's.
func (f *fixture) service(st payout.Store, edit func(*payout.Config)) *payout.Service {
	f.t.Helper()
	cfg := payout.Config{Store: st, Ledger: f.ledger, Assets: f.db, Rails: map[string]rail.Rail{"EUR": f.bank}, Crypto: f.sender,
		ApprovalAbove: map[string]chengdui.Amount{"EUR": f.amount("EUR", "500")}, Now: f.clock.Now, Log: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&cfg)
	}
	svc, err := payout.New(cfg)
	require.NoError(f.t, err)
	return svc
}

func (f *fixture) amount(asset, s string) chengdui.Amount {
	f.t.Helper()
	dec := map[string]uint8{"EUR": 2, "USD": 2, "ETH": 18}[asset]
	a, err := chengdui.ParseDecimal(s, dec)
	require.NoError(f.t, err)
	return a
}

func (f *fixture) fund(asset, amount string) {
	f.t.Helper()
	res, err := f.eng.CreateTransfers(context.Background(), []chengdui.Transfer{{ID: "fund-" + asset + "-" + amount, DebitAccountID: "platform:" + asset + ":funding",
		CreditAccountID: "store:s1:" + asset, Amount: f.amount(asset, amount), Code: 1}})
	require.NoError(f.t, err)
	require.NoError(f.t, res[0].Err)
}

func (f *fixture) account(id string) chengdui.Account {
	f.t.Helper()
	a, err := f.eng.Account(context.Background(), id)
	require.NoError(f.t, err)
	return a
}

// available is a store's spendable balance: posted credits less posted
// and pending debits.
func (f *fixture) available(asset string) chengdui.Amount {
	f.t.Helper()
	a := f.account("store:s1:" + asset)
	return a.CreditsPosted.Sub(a.DebitsPosted).Sub(a.DebitsPending)
}

func (f *fixture) held(asset string) chengdui.Amount {
	f.t.Helper()
	return f.account("store:s1:" + asset).DebitsPending
}

func eurRequest(id, amount string) payout.CreateRequest {
	return payout.CreateRequest{ID: id, StoreID: "s1", Asset: "EUR", Amount: amount, Method: payout.Bank,
		Creditor: rail.Party{Name: "Zoë Müller", IBAN: iban, BIC: "cobadeffxxx"}, Reference: "November", CreatedBy: "alice"}
}

func (f *fixture) create(req payout.CreateRequest) payout.Payout {
	f.t.Helper()
	p, err := f.svc.Create(context.Background(), req)
	require.NoError(f.t, err)
	return p
}

func (f *fixture) dispatch(want int) {
	f.t.Helper()
	n, err := f.svc.Dispatch(context.Background())
	require.NoError(f.t, err)
	require.Equal(f.t, want, n, "payouts sent")
}

func (f *fixture) apply(u rail.Update) payout.Payout {
	f.t.Helper()
	p, err := f.svc.Apply(context.Background(), u)
	require.NoError(f.t, err)
	return p
}

func (f *fixture) get(id string) payout.Payout {
	f.t.Helper()
	p, err := f.svc.Get(context.Background(), id)
	require.NoError(f.t, err)
	return p
}

func update(p payout.Payout, st rail.Status, reason string) rail.Update {
	return rail.Update{OrderID: p.ID, BankRef: "REF-" + p.ID, Status: st, Reason: reason, At: time.Now()}
}

func TestCreateHoldsOnceByClientID(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "125.50"))
	require.Equal(t, payout.ID("s1", "c1"), p.ID)
	require.True(t, rail.ValidID(p.ID), p.ID)
	require.Equal(t, payout.AwaitingPayment, p.State)
	require.Equal(t, f.amount("EUR", "125.50"), p.Amount)
	require.Equal(t, ibanNorm, p.Creditor.IBAN, "stored in electronic form")
	require.Equal(t, "COBADEFFXXX", p.Creditor.BIC)
	require.Equal(t, "testbank", p.Rail)
	require.Equal(t, f.amount("EUR", "874.50"), f.available("EUR"))
	require.Equal(t, f.amount("EUR", "125.50"), f.held("EUR"))
	require.Equal(t, f.amount("EUR", "125.50"), f.account("platform:EUR:payouts").CreditsPending)

	// The same request again: the same payout, nothing held twice.
	f.clock.Advance(time.Minute)
	again := f.create(eurRequest("c1", "125.50"))
	require.Equal(t, p, again)
	require.Equal(t, f.amount("EUR", "125.50"), f.held("EUR"))

	// The same id for another payout is a conflict and holds nothing.
	for _, req := range []payout.CreateRequest{eurRequest("c1", "125.51"), func() payout.CreateRequest {
		r := eurRequest("c1", "125.50")
		r.Creditor.Name = "Someone Else"
		return r
	}()} {
		_, err := f.svc.Create(ctx, req)
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	}
	require.Equal(t, f.amount("EUR", "125.50"), f.held("EUR"))

	// The client's id is per store.
	require.NotEqual(t, payout.ID("s1", "c1"), payout.ID("s2", "c1"))
	require.NotEqual(t, payout.ID("s1", "c1"), payout.ID("s1", "c2"))
}

// TestCreateCrashBeforeRecord: the hold is made, the record is not (the
// store fails, as a crash would); the client's retry completes it with
// one hold.
func TestCreateCrashBeforeRecord(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.failCreate.Store(true)
	_, err := f.svc.Create(ctx, eurRequest("c1", "10"))
	require.Error(t, err)
	require.Equal(t, f.amount("EUR", "10"), f.held("EUR"), "the hold was made")
	f.store.failCreate.Store(false)
	p := f.create(eurRequest("c1", "10"))
	require.Equal(t, payout.AwaitingPayment, p.State)
	require.Equal(t, f.amount("EUR", "10"), f.held("EUR"), "held once")
}

func TestCreateRefusals(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	with := func(edit func(*payout.CreateRequest)) payout.CreateRequest {
		r := eurRequest("x1", "10")
		edit(&r)
		return r
	}
	eth := payout.CreateRequest{ID: "x2", StoreID: "s1", Asset: "ETH", Amount: "0.5", Method: payout.Chain, Address: dest, CreatedBy: "alice"}
	withETH := func(edit func(*payout.CreateRequest)) payout.CreateRequest {
		r := eth
		edit(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		req  payout.CreateRequest
		code string
	}{
		{"no id", with(func(r *payout.CreateRequest) { r.ID = "" }), chengdui.EInvalid},
		{"id with space", with(func(r *payout.CreateRequest) { r.ID = "a b" }), chengdui.EInvalid},
		{"long id", with(func(r *payout.CreateRequest) { r.ID = strings.Repeat("x", 65) }), chengdui.EInvalid},
		{"no store", with(func(r *payout.CreateRequest) { r.StoreID = "" }), chengdui.EInvalid},
		{"store id with colon", with(func(r *payout.CreateRequest) { r.StoreID = "s1:EUR" }), chengdui.EInvalid},
		{"no operator", with(func(r *payout.CreateRequest) { r.CreatedBy = "" }), chengdui.EInvalid},
		{"unknown asset", with(func(r *payout.CreateRequest) { r.Asset = "DOGE" }), chengdui.EInvalid},
		{"zero", with(func(r *payout.CreateRequest) { r.Amount = "0.00" }), chengdui.EZeroAmount},
		{"negative", with(func(r *payout.CreateRequest) { r.Amount = "-1" }), chengdui.EInvalidAmount},
		{"too precise", with(func(r *payout.CreateRequest) { r.Amount = "0.001" }), chengdui.EInvalidAmount},
		{"float syntax", with(func(r *payout.CreateRequest) { r.Amount = "1e3" }), chengdui.EInvalidAmount},
		{"no method", with(func(r *payout.CreateRequest) { r.Method = "" }), chengdui.EInvalid},
		{"unknown method", with(func(r *payout.CreateRequest) { r.Method = "CASH" }), chengdui.EInvalid},
		{"currency no rail pays", with(func(r *payout.CreateRequest) { r.Asset = "USD" }), chengdui.EInvalid},
		{"bank payout of a crypto asset", with(func(r *payout.CreateRequest) { r.Asset, r.Amount = "ETH", "0.1" }), chengdui.EInvalid},
		{"EUR without IBAN", with(func(r *payout.CreateRequest) { r.Creditor.IBAN = "" }), chengdui.EInvalid},
		{"IBAN checksum", with(func(r *payout.CreateRequest) { r.Creditor.IBAN = "DE89370400440532013001" }), chengdui.EInvalid},
		{"bad BIC", with(func(r *payout.CreateRequest) { r.Creditor.BIC = "COBA" }), chengdui.EInvalid},
		{"no creditor name", with(func(r *payout.CreateRequest) { r.Creditor.Name = " " }), chengdui.EInvalid},
		{"long reference", with(func(r *payout.CreateRequest) { r.Reference = strings.Repeat("r", 141) }), chengdui.EInvalid},
		{"bank with address", with(func(r *payout.CreateRequest) { r.Address = dest }), chengdui.EInvalid},
		{"chain without address", withETH(func(r *payout.CreateRequest) { r.Address = " " }), chengdui.EInvalid},
		{"chain with creditor", withETH(func(r *payout.CreateRequest) { r.Creditor = rail.Party{Name: "x"} }), chengdui.EInvalid},
		{"chain bad address", withETH(func(r *payout.CreateRequest) { r.Address = "0x1234" }), chengdui.EInvalid},
		{"chain of fiat", withETH(func(r *payout.CreateRequest) { r.Asset, r.Amount = "EUR", "1" }), chengdui.EInvalid},
		{"chain too precise", withETH(func(r *payout.CreateRequest) { r.Amount = "0.0000000000000000001" }), chengdui.EInvalidAmount},
		{"chain long reference", withETH(func(r *payout.CreateRequest) { r.Reference = strings.Repeat("r", 141) }), chengdui.EInvalid},
		{"chain reference not UTF-8", withETH(func(r *payout.CreateRequest) { r.Reference = "a\xffb" }), chengdui.EInvalid},
		{"chain reference control", withETH(func(r *payout.CreateRequest) { r.Reference = "a\x00b" }), chengdui.EInvalid},
		{"operator not UTF-8", with(func(r *payout.CreateRequest) { r.CreatedBy = "al\xffice" }), chengdui.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Create(ctx, tc.req)
			require.Error(t, err)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
		})
	}
	// No crypto sender: CHAIN payouts are not available.
	noCrypto := f.service(f.store, func(c *payout.Config) { c.Crypto = nil })
	_, err := noCrypto.Create(ctx, eth)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)

	// More than the balance: refused by the ledger, nothing held or stored.
	_, err = f.svc.Create(ctx, eurRequest("big", "1000.01"))
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)
	require.Contains(t, chengdui.ErrorMessage(err), "store s1 has less than 1000.01 EUR available")
	// A store that never held the asset.
	r := eurRequest("other", "1")
	r.StoreID = "s2"
	_, err = f.svc.Create(ctx, r)
	require.Equal(t, chengdui.EExceedsCredits, chengdui.ErrorCode(err), "%v", err)

	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
	require.True(t, f.held("EUR").IsZero())
	require.Equal(t, f.amount("ETH", "2"), f.available("ETH"))
	list, err := f.svc.List(ctx, payout.Filter{})
	require.NoError(t, err)
	require.Empty(t, list)

	// The whole balance is fine.
	p := f.create(eurRequest("all", "1000"))
	require.Equal(t, payout.AwaitingApproval, p.State)
	require.True(t, f.available("EUR").IsZero())
}

func TestNewRefuses(t *testing.T) {
	f := setup(t)
	for name, cfg := range map[string]payout.Config{
		"no store":             {Ledger: f.eng, Assets: f.db},
		"no ledger":            {Store: f.db, Assets: f.db},
		"no assets":            {Store: f.db, Ledger: f.eng},
		"rail under USD":       {Store: f.db, Ledger: f.eng, Assets: f.db, Rails: map[string]rail.Rail{"USD": f.bank}},
		"rail under a non-ISO": {Store: f.db, Ledger: f.eng, Assets: f.db, Rails: map[string]rail.Rail{"ETH": f.bank}},
		"nil rail":             {Store: f.db, Ledger: f.eng, Assets: f.db, Rails: map[string]rail.Rail{"EUR": nil}},
	} {
		_, err := payout.New(cfg)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%s: %v", name, err)
	}
}

func TestApproval(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.fund("EUR", "500")
	atLimit := f.create(eurRequest("limit", "500.00"))
	require.Equal(t, payout.AwaitingPayment, atLimit.State, "at the threshold: no approval")
	p := f.create(eurRequest("big", "500.01"))
	require.Equal(t, payout.AwaitingApproval, p.State)
	require.Equal(t, f.amount("EUR", "1000.01"), f.held("EUR"), "held while awaiting approval")

	f.dispatch(1)
	require.Zero(t, f.bank.count(p.ID), "not sent before approval")

	_, err := f.svc.Approve(ctx, p.ID, "alice")
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err), "%v", err)
	require.Contains(t, chengdui.ErrorMessage(err), "second operator")
	_, err = f.svc.Approve(ctx, p.ID, "")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Approve(ctx, "po-nothing", "bob")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, payout.AwaitingApproval, f.get(p.ID).State)

	f.clock.Advance(time.Second)
	ok, err := f.svc.Approve(ctx, p.ID, "bob")
	require.NoError(t, err)
	require.Equal(t, payout.AwaitingPayment, ok.State)
	require.Equal(t, "bob", ok.ApprovedBy)
	require.Equal(t, f.clock.Now(), ok.UpdatedAt)
	require.Equal(t, ok, f.get(p.ID))
	// Again by the same operator: unchanged; by another: a conflict.
	again, err := f.svc.Approve(ctx, p.ID, "bob")
	require.NoError(t, err)
	require.Equal(t, ok, again)
	_, err = f.svc.Approve(ctx, p.ID, "carol")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Approve(ctx, atLimit.ID, "bob")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	f.dispatch(1)
	require.Equal(t, 1, f.bank.count(p.ID))
	require.Equal(t, payout.InProgress, f.get(p.ID).State)
}

func TestCancelVoids(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	waiting := f.create(eurRequest("w", "100"))
	approval := f.create(eurRequest("a", "600"))
	require.Equal(t, payout.AwaitingApproval, approval.State)
	require.Equal(t, f.amount("EUR", "300"), f.available("EUR"))

	for _, p := range []payout.Payout{waiting, approval} {
		c, err := f.svc.Cancel(ctx, p.ID, "bob")
		require.NoError(t, err)
		require.Equal(t, payout.Cancelled, c.State)
		require.Equal(t, "cancelled by bob", c.Reason)
		again, err := f.svc.Cancel(ctx, p.ID, "carol")
		require.NoError(t, err, "cancelling again is a no-op")
		require.Equal(t, c, again)
	}
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"), "the store has it all back")
	require.True(t, f.held("EUR").IsZero())
	payouts := f.account("platform:EUR:payouts")
	require.True(t, payouts.CreditsPending.IsZero() && payouts.CreditsPosted.IsZero())

	f.dispatch(0)
	require.Zero(t, f.bank.count(waiting.ID))
	_, err := f.svc.Approve(ctx, approval.ID, "bob")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	// A retried Create returns the cancelled payout and holds nothing.
	p := f.create(eurRequest("w", "100"))
	require.Equal(t, payout.Cancelled, p.State)
	require.True(t, f.held("EUR").IsZero())

	// Sent payouts cannot be cancelled.
	sent := f.create(eurRequest("s", "1"))
	f.dispatch(1)
	_, err = f.svc.Cancel(ctx, sent.ID, "bob")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Cancel(ctx, sent.ID, "")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Cancel(ctx, "po-nothing", "bob")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

// TestCancelInterrupted: Cancel writes Cancelled, then the void fails (as
// a crash would leave it); Recover, or Cancel again, releases the hold.
func TestCancelInterrupted(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for i, repair := range []func(id string) error{
		func(string) error { return f.svc.Recover(ctx, f.clock.Now().Add(-time.Minute)) },
		func(id string) error { _, err := f.svc.Cancel(ctx, id, "bob"); return err },
	} {
		p := f.create(eurRequest(fmt.Sprintf("c%d", i), "100"))
		f.ledger.failSuffix.Store(":void")
		_, err := f.svc.Cancel(ctx, p.ID, "bob")
		require.Error(t, err)
		require.Contains(t, err.Error(), "cancel again")
		f.ledger.failSuffix.Store("")
		require.Equal(t, payout.Cancelled, f.get(p.ID).State)
		require.Equal(t, f.amount("EUR", "100"), f.held("EUR"), "the hold is still open")
		f.dispatch(0)
		require.Zero(t, f.bank.count(p.ID))

		require.NoError(t, repair(p.ID))
		require.True(t, f.held("EUR").IsZero())
		require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
	}
	// Recover's window: an older cancellation is not looked at (its void
	// would be a replay anyway).
	require.NoError(t, f.svc.Recover(ctx, f.clock.Now().Add(time.Hour)))
}

func TestCompletedPosts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "125.50"))
	f.clock.Advance(time.Second)
	f.dispatch(1)
	got := f.get(p.ID)
	require.Equal(t, payout.InProgress, got.State)
	require.Equal(t, "REF-"+p.ID, got.Ref)
	require.Equal(t, f.clock.Now(), got.SubmittedAt)
	require.Equal(t, rail.Order{ID: p.ID, Currency: "EUR", Amount: chengdui.Amount{Lo: 12550}, Decimals: 2,
		Creditor: rail.Party{Name: "Zoë Müller", IBAN: ibanNorm, BIC: "COBADEFFXXX"}, Reference: "November"}, f.bank.orders[p.ID])
	f.dispatch(0)
	require.Equal(t, 1, f.bank.count(p.ID), "sent once")

	// Accepted again changes nothing; another bank reference is refused.
	require.Equal(t, got, f.apply(update(p, rail.Accepted, "")))
	bad := update(p, rail.Completed, "")
	bad.BankRef = "REF-other"
	_, err := f.svc.Apply(ctx, bad)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	done := f.apply(update(p, rail.Completed, ""))
	require.Equal(t, payout.Completed, done.State)
	store := f.account("store:s1:EUR")
	require.Equal(t, f.amount("EUR", "125.50"), store.DebitsPosted, "the store is debited exactly")
	require.True(t, store.DebitsPending.IsZero())
	require.Equal(t, f.amount("EUR", "874.50"), f.available("EUR"))
	payouts := f.account("platform:EUR:payouts")
	require.Equal(t, f.amount("EUR", "125.50"), payouts.CreditsPosted)
	require.True(t, payouts.CreditsPending.IsZero())

	// Duplicates and late updates change nothing.
	require.Equal(t, done, f.apply(update(p, rail.Completed, "")))
	require.Equal(t, done, f.apply(update(p, rail.Accepted, "")))
	require.Equal(t, done, f.get(p.ID))
	_, err = f.svc.Apply(ctx, update(p, rail.Failed, "late"))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Cancel(ctx, p.ID, "bob")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, f.amount("EUR", "125.50"), f.account("store:s1:EUR").DebitsPosted, "posted once")

	_, err = f.svc.Apply(ctx, rail.Update{OrderID: p.ID, Status: "paid"})
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Apply(ctx, rail.Update{OrderID: "po-nothing", Status: rail.Completed})
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

func TestFailedVoids(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "499.99"))
	f.dispatch(1)
	failed := f.apply(update(p, rail.Failed, "AC04 closed\naccount \xffnumber"+strings.Repeat("x", 300)))
	require.Equal(t, payout.Failed, failed.State)
	// A bank's text is made fit to store: UTF-8, no control characters,
	// 200 characters and an ellipsis.
	require.True(t, strings.HasPrefix(failed.Reason, "failed at the bank: AC04 closed account \uFFFDnumberxxx"), failed.Reason)
	require.True(t, strings.HasSuffix(failed.Reason, "x…"), failed.Reason)
	require.Equal(t, 201, utf8.RuneCountInString(failed.Reason))
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"), "the store's balance is restored exactly")
	store := f.account("store:s1:EUR")
	require.True(t, store.DebitsPending.IsZero() && store.DebitsPosted.IsZero())
	payouts := f.account("platform:EUR:payouts")
	require.True(t, payouts.CreditsPending.IsZero() && payouts.CreditsPosted.IsZero())

	require.Equal(t, failed, f.apply(update(p, rail.Failed, "AC04")), "a duplicate changes nothing")
	require.Equal(t, failed, f.apply(update(p, rail.Accepted, "")))
	for _, st := range []rail.Status{rail.Completed, rail.Returned} {
		_, err := f.svc.Apply(ctx, update(p, st, ""))
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%s: %v", st, err)
	}
	require.Equal(t, failed, f.get(p.ID))
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
}

func TestReturnedReverses(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "300"))
	f.dispatch(1)
	f.apply(update(p, rail.Completed, ""))
	require.Equal(t, f.amount("EUR", "700"), f.available("EUR"))

	back := f.apply(update(p, rail.Returned, "MD06 returned by the creditor's bank"))
	require.Equal(t, payout.Failed, back.State)
	require.Equal(t, payout.ReasonReturned+": MD06 returned by the creditor's bank", back.Reason)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"), "the store has the amount back")
	payouts := f.account("platform:EUR:payouts")
	require.Equal(t, payouts.CreditsPosted, payouts.DebitsPosted, "the payouts account nets to zero")
	require.Equal(t, f.amount("EUR", "300"), payouts.DebitsPosted)

	for _, st := range []rail.Status{rail.Returned, rail.Completed, rail.Accepted} {
		require.Equal(t, back, f.apply(update(p, st, "MD06")), "%s after the return changes nothing", st)
	}
	_, err := f.svc.Apply(ctx, update(p, rail.Failed, ""))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"), "returned once")

	// A Returned whose Completed never came posts, then reverses.
	q := f.create(eurRequest("c2", "50"))
	f.dispatch(1)
	back = f.apply(update(q, rail.Returned, ""))
	require.Equal(t, payout.ReasonReturned, back.Reason)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
	require.True(t, f.held("EUR").IsZero())

	// A payout that never reached the bank cannot be returned.
	r := f.create(eurRequest("c3", "1"))
	_, err = f.svc.Apply(ctx, update(r, rail.Returned, ""))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = f.svc.Apply(ctx, update(r, rail.Completed, ""))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.Equal(t, payout.AwaitingPayment, f.get(r.ID).State)
}

// TestApplyCrashAfterLedger: the ledger side of an update is done but the
// state is not written (the store fails, as a crash would); the update's
// next delivery completes it without posting twice.
func TestApplyCrashAfterLedger(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "10"))
	f.dispatch(1)
	for _, st := range []rail.Status{rail.Completed, rail.Returned} {
		f.store.failUpdate.Store(true)
		_, err := f.svc.Apply(ctx, update(p, st, ""))
		require.Error(t, err)
		f.store.failUpdate.Store(false)
		f.apply(update(p, st, ""))
	}
	require.Equal(t, payout.Failed, f.get(p.ID).State)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
	payouts := f.account("platform:EUR:payouts")
	require.Equal(t, f.amount("EUR", "10"), payouts.CreditsPosted, "posted once")
	require.Equal(t, f.amount("EUR", "10"), payouts.DebitsPosted, "returned once")
}

func TestDispatchRefusedFails(t *testing.T) {
	f := setup(t)
	p := f.create(eurRequest("c1", "20"))
	f.bank.refuse = chengdui.Errorf(chengdui.EInvalid, "creditor country not served")
	f.dispatch(0)
	got := f.get(p.ID)
	require.Equal(t, payout.Failed, got.State)
	require.Equal(t, "refused: creditor country not served", got.Reason)
	require.Equal(t, f.amount("EUR", "1000"), f.available("EUR"))
	require.True(t, f.held("EUR").IsZero())
	f.clock.Advance(time.Hour)
	f.dispatch(0)
	require.Equal(t, 1, f.bank.count(p.ID))
}

// TestDispatchTransient: the bank takes the order but its reply is lost;
// the payout stays InProgress (not cancellable: the bank has it) and is
// submitted again after Retry, which the bank answers with the first
// reference.
func TestDispatchTransient(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "20"))
	f.bank.lose[p.ID] = 1
	f.dispatch(0)
	got := f.get(p.ID)
	require.Equal(t, payout.InProgress, got.State)
	require.True(t, got.SubmittedAt.IsZero())
	require.Empty(t, got.Ref)
	_, err := f.svc.Cancel(ctx, p.ID, "bob")
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	f.clock.Advance(payout.DefaultRetry - time.Second)
	f.dispatch(0)
	require.Equal(t, 1, f.bank.count(p.ID), "not before Retry")
	f.clock.Advance(2 * time.Second)
	f.dispatch(1)
	require.Equal(t, 2, f.bank.count(p.ID))
	got = f.get(p.ID)
	require.Equal(t, "REF-"+p.ID, got.Ref)
	require.False(t, got.SubmittedAt.IsZero())
	require.Len(t, f.bank.orders, 1)
	f.clock.Advance(time.Hour)
	f.dispatch(0)

	// An update that overtakes the submission's record is applied.
	q := f.create(eurRequest("c2", "5"))
	f.bank.lose[q.ID] = 1
	f.dispatch(0)
	done := f.apply(update(q, rail.Completed, ""))
	require.Equal(t, payout.Completed, done.State)
	require.Equal(t, "REF-"+q.ID, done.Ref)
	require.False(t, done.SubmittedAt.IsZero())
	f.clock.Advance(time.Hour)
	f.dispatch(0)
	require.Equal(t, 1, f.bank.count(q.ID))
}

// TestDispatchCrashAfterClaim: a process claimed a payout and stopped
// before submitting it; after Retry another Dispatch sends it.
func TestDispatchCrashAfterClaim(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	p := f.create(eurRequest("c1", "20"))
	p.State, p.UpdatedAt = payout.InProgress, f.clock.Now()
	_, err := f.db.UpdatePayout(ctx, p)
	require.NoError(t, err)
	f.dispatch(0)
	f.clock.Advance(payout.DefaultRetry + time.Millisecond)
	f.dispatch(1)
	require.Equal(t, 1, f.bank.count(p.ID))
	require.Equal(t, "REF-"+p.ID, f.get(p.ID).Ref)
}

func TestDispatchWithoutRail(t *testing.T) {
	f := setup(t)
	p := f.create(eurRequest("c1", "20"))
	other := f.service(f.store, func(c *payout.Config) { c.Rails = nil })
	n, err := other.Dispatch(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, payout.AwaitingPayment, f.get(p.ID).State, "not claimed without a rail to send it")
	f.dispatch(1)
}

func TestChainPayout(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.sender.txid = ""
	p := f.create(payout.CreateRequest{ID: "e1", StoreID: "s1", Asset: "ETH", Amount: "0.5", Method: payout.Chain, Address: dest, CreatedBy: "alice"})
	require.Equal(t, "0x52908400098527886E0F7030069857D2E4169EE7", p.Address, "canonical form")
	require.Equal(t, payout.AwaitingPayment, p.State, "no threshold for ETH")
	require.Empty(t, p.Rail)
	f.dispatch(1)
	require.Len(t, f.sender.sent, 1)
	require.Equal(t, p.ID, f.sender.sent[0].ID)
	require.Equal(t, payout.InProgress, f.sender.sent[0].State)
	got := f.get(p.ID)
	require.Equal(t, payout.InProgress, got.State)
	require.Empty(t, got.Ref, "a batched sender knows no txid yet")
	require.False(t, got.SubmittedAt.IsZero())
	f.clock.Advance(time.Hour)
	f.dispatch(0)
	require.Len(t, f.sender.sent, 1, "an accepted payout is not sent again")

	sent, err := f.svc.Apply(ctx, rail.Update{OrderID: p.ID, BankRef: "0xabc", Status: rail.Accepted})
	require.NoError(t, err)
	require.Equal(t, "0xabc", sent.Ref)
	// The transaction was replaced (a fee bump): the txid that confirms
	// is another one.
	done, err := f.svc.Apply(ctx, rail.Update{OrderID: p.ID, BankRef: "0xdef", Status: rail.Completed})
	require.NoError(t, err)
	require.Equal(t, payout.Completed, done.State)
	require.Equal(t, "0xdef", done.Ref)
	require.Equal(t, f.amount("ETH", "1.5"), f.available("ETH"))
	require.Equal(t, f.amount("ETH", "0.5"), f.account("platform:ETH:chain").CreditsPosted, "what leaves the chain leaves the chain account")
}

func TestList(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		f.clock.Advance(time.Second)
		ids = append(ids, f.create(eurRequest(fmt.Sprintf("l%d", i), "1")).ID)
	}
	_, err := f.svc.Cancel(ctx, ids[1], "bob")
	require.NoError(t, err)
	list := func(fl payout.Filter) []string {
		ps, err := f.svc.List(ctx, fl)
		require.NoError(t, err)
		out := []string{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	require.Equal(t, ids, list(payout.Filter{StoreID: "s1"}))
	require.Equal(t, []string{ids[1]}, list(payout.Filter{State: payout.Cancelled}))
	require.Equal(t, ids[:2], list(payout.Filter{Limit: 2}))
	require.Equal(t, ids[2:4], list(payout.Filter{Limit: 2, After: ids[1]}))
	require.Equal(t, []string{}, list(payout.Filter{StoreID: "s2"}))
	for _, fl := range []payout.Filter{{State: "Paid"}, {Limit: -1}, {Limit: payout.MaxLimit + 1}, {After: "po-nothing"}, {StoreID: "s2", After: ids[0]}} {
		_, err := f.svc.List(ctx, fl)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%+v: %v", fl, err)
	}
}

// TestConcurrentDispatch runs Dispatch from two services on two handles
// of one database, as two processes would: each payout reaches the bank
// once.
func TestConcurrentDispatch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const n = 30
	var ids []string
	for i := range n {
		ids = append(ids, f.create(eurRequest(fmt.Sprintf("d%d", i), "1")).ID)
	}
	other, err := sqlite.Open(ctx, f.db.Path())
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	services := []*payout.Service{f.svc, f.service(other, nil)}
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 3 {
				k, err := services[i%2].Dispatch(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				sent.Add(int64(k))
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, int64(n), sent.Load())
	for _, id := range ids {
		require.Equal(t, 1, f.bank.count(id), "payout %s", id)
		p := f.get(id)
		require.Equal(t, payout.InProgress, p.State)
		require.Equal(t, "REF-"+id, p.Ref)
	}
}

// TestCancelRacesDispatch cancels payouts while two services dispatch
// them: each ends either sent (InProgress, hold open) or cancelled (never
// sent, hold voided), and the store's balance agrees.
func TestCancelRacesDispatch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	const n = 20
	var ids []string
	for i := range n {
		ids = append(ids, f.create(eurRequest(fmt.Sprintf("r%d", i), "1")).ID)
	}
	other, err := sqlite.Open(ctx, f.db.Path())
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	services := []*payout.Service{f.svc, f.service(other, nil)}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			if _, err := services[i].Dispatch(ctx); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			for j := i; j < n; j += 2 {
				_, err := services[i].Cancel(ctx, ids[j], "bob")
				if err != nil && chengdui.ErrorCode(err) != chengdui.EConflict {
					t.Error(err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	inFlight := 0
	for _, id := range ids {
		p := f.get(id)
		switch p.State {
		case payout.InProgress:
			inFlight++
			require.Equal(t, 1, f.bank.count(id), "payout %s", id)
		case payout.Cancelled:
			require.Zero(t, f.bank.count(id), "payout %s was cancelled but sent", id)
		default:
			t.Fatalf("payout %s is %s", id, p.State)
		}
	}
	require.Equal(t, f.amount("EUR", fmt.Sprint(inFlight)), f.held("EUR"))
	require.Equal(t, f.amount("EUR", fmt.Sprint(1000-inFlight)), f.available("EUR"))
}

// TestConcurrentApply delivers the same update from several goroutines:
// the hold is posted once.
func TestConcurrentApply(t *testing.T) {
	f := setup(t)
	p := f.create(eurRequest("c1", "42"))
	f.dispatch(1)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Apply(context.Background(), update(p, rail.Completed, "")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, payout.Completed, f.get(p.ID).State)
	require.Equal(t, f.amount("EUR", "42"), f.account("store:s1:EUR").DebitsPosted)
	require.Equal(t, f.amount("EUR", "958"), f.available("EUR"))
}

func TestRun(t *testing.T) {
	f := setup(t)
	p := f.create(eurRequest("c1", "1"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.svc.Run(ctx, 10*time.Millisecond) }()
	require.Eventually(t, func() bool { return f.bank.count(p.ID) == 1 }, 5*time.Second, 5*time.Millisecond)
	q := f.create(eurRequest("c2", "1"))
	require.Eventually(t, func() bool { return f.bank.count(q.ID) == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(f.svc.Run(context.Background(), 0)))
}

// faultStore fails writes on demand, as a crash between the ledger and
// the store would leave things.
type faultStore struct {
	payout.Store
	failCreate, failUpdate atomic.Bool
}

func (s *faultStore) CreatePayout(ctx context.Context, p payout.Payout) error {
	if s.failCreate.Load() {
		return chengdui.Errorf(chengdui.EUnavailable, "store down")
	}
	return s.Store.CreatePayout(ctx, p)
}

func (s *faultStore) UpdatePayout(ctx context.Context, p payout.Payout) (payout.Payout, error) {
	if s.failUpdate.Load() {
		return payout.Payout{}, chengdui.Errorf(chengdui.EUnavailable, "store down")
	}
	return s.Store.UpdatePayout(ctx, p)
}

// faultLedger fails transfers whose id ends with failSuffix.
type faultLedger struct {
	payout.Ledger
	failSuffix atomic.Value // string
}

func (l *faultLedger) CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error) {
	if s, _ := l.failSuffix.Load().(string); s != "" {
		for _, t := range ts {
			if strings.HasSuffix(t.ID, s) {
				return nil, chengdui.Errorf(chengdui.EUnavailable, "ledger down")
			}
		}
	}
	return l.Ledger.CreateTransfers(ctx, ts)
}
