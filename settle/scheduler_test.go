package settle_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/auth"
	"chengdui/invoice"
	"chengdui/payout"
	"chengdui/rail"
	"chengdui/rail/sandbox"
	"chengdui/settle"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// notes records Notify calls.
type notes struct {
	mu     sync.Mutex
	events []string
}

func (n *notes) notify(_ context.Context, storeID, event string, data any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ev, ok := data.(settle.ChangeEvent); !ok || ev.StoreID != storeID {
		panic("Notify's data is not the store's ChangeEvent")
	}
	n.events = append(n.events, event)
}

func (n *notes) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

// sent is a CryptoSender that takes CHAIN payouts and reports nothing:
// the hot wallets cannot run here.
type sent struct {
	mu sync.Mutex
	ps []payout.Payout
}

func (s *sent) Submit(_ context.Context, p payout.Payout) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ps = append(s.ps, p)
	return "", nil
}

// schedEnv is a split harness with profiles, the payout service (the
// sandbox bank pays CNY, its callbacks applied) and a scheduler.
type schedEnv struct {
	*splitEnv
	secret   string
	notes    *notes
	profiles *settle.Profiles
	payouts  *payout.Service
	sched    *settle.Scheduler
	crypto   *sent
}

const iban = "DE89370400440532013000"

func setupSched(t *testing.T, delay time.Duration) *schedEnv {
	e := &schedEnv{splitEnv: setupSplit(t, 0), notes: &notes{}, crypto: &sent{}}
	ctx := context.Background()
	// The owner enrols TOTP.
	en, err := auth.NewEnrolment("Chengdui", e.Owner)
	require.NoError(t, err)
	e.secret = en.Secret
	require.NoError(t, e.DB.SaveTOTP(ctx, e.Owner, e.secret))
	_, hashes, err := auth.NewRecoveryCodes()
	require.NoError(t, err)
	require.NoError(t, e.DB.EnableTOTP(ctx, e.Owner, 0, hashes))

	callbacks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		u, err := sandbox.VerifyCallback("cb-secret", body, r.Header.Get(sandbox.SignatureHeader))
		if err == nil {
			_, err = e.payouts.Apply(r.Context(), u)
		}
		if err != nil {
			http.Error(w, "no", http.StatusBadRequest)
		}
	}))
	t.Cleanup(callbacks.Close)
	bank, err := sandbox.NewBank(sandbox.Config{APIKey: "k", CallbackURL: callbacks.URL, CallbackSecret: "cb-secret", ConfirmDelay: 10 * time.Millisecond,
		Funding: map[string]chengdui.Amount{"CNY": units(t, "1000000", 2)}, CallbackBackoff: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	base, stop, err := bank.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(stop)
	e.payouts, err = payout.New(payout.Config{Store: e.DB, Ledger: e.Ledger, Assets: e.DB, Crypto: e.crypto, Now: e.Now,
		Rails: map[string]rail.Rail{"CNY": sandbox.NewClient(base, "k", &http.Client{Timeout: 5 * time.Second})}})
	require.NoError(t, err)
	e.profiles, err = settle.NewProfiles(settle.ProfileConfig{Store: e.DB, Assets: e.DB, Guard: auth.Guard{F: e.DB, Now: e.Now},
		Notify: e.notes.notify, ChangeDelay: delay, Now: e.Now})
	require.NoError(t, err)
	e.sched = e.scheduler(t)
	return e
}

func (e *schedEnv) scheduler(t testing.TB) *settle.Scheduler {
	s, err := settle.NewScheduler(settle.SchedulerConfig{Profiles: e.profiles, Payouts: e.payouts, Balances: e.Ledger, Now: e.Now})
	require.NoError(t, err)
	return s
}

// code is a fresh TOTP code of the owner: each step's code is accepted
// once, so the clock moves on a step first.
func (e *schedEnv) code(t testing.TB) string {
	e.Advance(30 * time.Second)
	c, err := totp.GenerateCode(e.secret, e.Now())
	require.NoError(t, err)
	return c
}

// earn pays the store an invoice of amount CNY.
func (e *schedEnv) earn(t testing.TB, amount, tx string) {
	inv, err := e.Invoices.Create(context.Background(), invoice.CreateRequest{StoreID: e.StoreID, Amount: amount, Currency: "CNY"})
	require.NoError(t, err)
	q, _ := inv.Quote("USDT-ERC20")
	e.Pay(t, inv, invoice.MethodUSDT, q.Due, tx, 10, 10)
}

func bankSplit(bps int, asset, name string) chengdui.SettlementSplit {
	return chengdui.SettlementSplit{Bps: uint32(bps), Asset: asset, Destination: chengdui.SettlementDestination{Type: chengdui.DestinationBank,
		Creditor: &chengdui.SettlementCreditor{Name: name, IBAN: iban}}}
}

// TestDestinationChange: a new destination needs the owner's second
// factor, waits the delay as the pending change (notified), is applied by
// the scheduler when due (notified) and can be cancelled before; moving
// shares among destinations in force and the schedule apply at once.
func TestDestinationChange(t *testing.T) {
	e := setupSched(t, 24*time.Hour)
	ctx := context.Background()
	req := settle.UpdateRequest{Splits: []chengdui.SettlementSplit{bankSplit(10000, "CNY", "Tea House")},
		Schedule: chengdui.PayoutSchedule{Kind: "daily", At: "10:00"}}

	_, err := e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err), "no code: %v", err)
	_, err = e.profiles.Update(ctx, "someone-else", e.StoreID, req)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	st, err := e.DB.Store(ctx, e.StoreID)
	require.NoError(t, err)
	require.Nil(t, st.Settlement.Pending)
	require.Empty(t, st.Settlement.Splits, "refused: nothing changed")

	req.OTP = e.code(t)
	got, err := e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.NoError(t, err)
	require.Empty(t, got.Splits, "the destination waits")
	require.Equal(t, "daily", got.Schedule.Kind, "the schedule applies at once")
	require.NotNil(t, got.Pending)
	require.Equal(t, e.Now().Add(24*time.Hour), got.Pending.EffectiveAt)
	require.Equal(t, []string{settle.EventChangeRequested}, e.notes.list())

	// The same splits again (a schedule edit) keep the change waiting.
	req.OTP, req.Schedule.At = "", "11:00"
	got, err = e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.NoError(t, err)
	require.NotNil(t, got.Pending)
	require.Equal(t, "11:00", got.Schedule.At)

	// Cancelled, then requested again and applied when due.
	_, err = e.profiles.CancelPending(ctx, e.Owner, e.StoreID)
	require.NoError(t, err)
	_, err = e.profiles.CancelPending(ctx, e.Owner, e.StoreID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	req.OTP = e.code(t)
	_, err = e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.NoError(t, err)
	_, err = e.sched.Tick(ctx, e.Now().Add(23*time.Hour))
	require.NoError(t, err)
	st, _ = e.DB.Store(ctx, e.StoreID)
	require.NotNil(t, st.Settlement.Pending, "not due yet")
	_, err = e.sched.Tick(ctx, e.Now().Add(24*time.Hour))
	require.NoError(t, err)
	st, _ = e.DB.Store(ctx, e.StoreID)
	require.Nil(t, st.Settlement.Pending)
	require.Equal(t, req.Splits[0].Destination, st.Settlement.Splits[0].Destination)
	require.Equal(t, []string{settle.EventChangeRequested, settle.EventChangeCancelled, settle.EventChangeRequested, settle.EventChangeApplied}, e.notes.list())

	// Shares moved to a destination in force, and to BALANCE, need no code.
	req.OTP = ""
	req.Splits = append([]chengdui.SettlementSplit{bankSplit(6000, "CNY", "Tea House")}, balanceSplits(4000, "USDC-ERC20")...)
	got, err = e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.NoError(t, err)
	require.Nil(t, got.Pending)
	require.Len(t, got.Splits, 2)
	// Another account for the same asset is a new destination.
	req.Splits[0].Destination.Creditor = &chengdui.SettlementCreditor{Name: "Mallory", IBAN: "GB82WEST12345698765432"}
	_, err = e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))

	// A bad profile changes nothing and spends no code.
	before, _ := e.DB.Store(ctx, e.StoreID)
	code := e.code(t)
	_, err = e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{Splits: balanceSplits(9999, "CNY"), OTP: code})
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	after, _ := e.DB.Store(ctx, e.StoreID)
	require.Equal(t, before.Settlement, after.Settlement)
	req.OTP = code
	_, err = e.profiles.Update(ctx, e.Owner, e.StoreID, req)
	require.NoError(t, err, "the code was not spent")
}

// TestDailyPayout: a daily schedule pays the day's CNY balance to the
// bank once, at the first tick after the set time, whatever the number
// of ticks, restarts and schedulers; the payout completes by the sandbox
// bank's callback; the next day pays what came since.
func TestDailyPayout(t *testing.T) {
	e := setupSched(t, settle.NoDelay)
	ctx := context.Background()
	e.fund(t, "CNY", "100000", 2)
	_, err := e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{OTP: e.code(t),
		Splits:   []chengdui.SettlementSplit{bankSplit(10000, "CNY", "Tea House")},
		Schedule: chengdui.PayoutSchedule{Kind: "daily", At: "18:00", TimeZone: "Asia/Shanghai"}, MinPayout: map[string]string{"CNY": "50"}})
	require.NoError(t, err)
	require.Equal(t, []string{settle.EventChangeRequested, settle.EventChangeApplied}, e.notes.list(), "no delay: applied at once")
	e.earn(t, "72.00", "0xd1")
	store := invoice.StoreAccount(e.StoreID, "CNY")
	require.Equal(t, units(t, "72.00", 2), e.Balance(t, store))

	day := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) // 18:00 in Shanghai
	n, err := e.sched.Tick(ctx, day.Add(-time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "before the set time")
	n, err = e.sched.Tick(ctx, day)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	for _, s := range []*settle.Scheduler{e.sched, e.scheduler(t)} { // a second process, a restart
		n, err = s.Tick(ctx, day.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n, "once a day")
	}
	id := payout.ID(e.StoreID, "auto-2026-11-27-CNY")
	p, err := e.payouts.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, units(t, "72.00", 2), p.Amount)
	require.Equal(t, iban, p.Creditor.IBAN)
	require.Equal(t, settle.SchedulerBy, p.CreatedBy)

	_, err = e.payouts.Dispatch(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p, err := e.payouts.Get(ctx, id)
		return err == nil && p.State == payout.Completed
	}, 10*time.Second, 10*time.Millisecond)
	require.True(t, e.Balance(t, store).IsZero(), "paid out")

	// Under the minimum, nothing; the next day above it, the next payout.
	e.earn(t, "36.00", "0xd2")
	n, err = e.sched.Tick(ctx, day.Add(24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	e.earn(t, "36.00", "0xd3")
	n, err = e.sched.Tick(ctx, day.Add(25*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	p, err = e.payouts.Get(ctx, payout.ID(e.StoreID, "auto-2026-11-28-CNY"))
	require.NoError(t, err)
	require.Equal(t, units(t, "72.00", 2), p.Amount)
}

// TestInstantPayout: an instant schedule pays a split's balance to its
// address when it reaches the minimum, once per state of the balance;
// BALANCE splits and manual schedules pay nothing.
func TestInstantPayout(t *testing.T) {
	e := setupSched(t, settle.NoDelay)
	ctx := context.Background()
	e.fund(t, "CNY", "100000", 2)
	e.fund(t, "USDC-ERC20", "100000", 6)
	addr := "0x00000000000000000000000000000000000000c1"
	_, err := e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{OTP: e.code(t),
		Splits: []chengdui.SettlementSplit{{Bps: 5000, Asset: "USDC-ERC20", Destination: chengdui.SettlementDestination{Type: "CHAIN", Address: addr}},
			balanceSplits(5000, "CNY")[0]},
		Schedule: chengdui.PayoutSchedule{Kind: "instant"}, MinPayout: map[string]string{"USDC-ERC20": "10"}})
	require.NoError(t, err)
	e.earn(t, "72.00", "0xi1") // 5 USDC
	n, err := e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Zero(t, n, "below the minimum")
	e.earn(t, "72.00", "0xi2") // 10 USDC
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Zero(t, n, "the balance is held")
	ps, err := e.payouts.List(ctx, payout.Filter{StoreID: e.StoreID})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, units(t, "10", 6), ps[0].Amount)
	require.Equal(t, payout.Chain, ps[0].Method)
	require.Equal(t, units(t, "72.00", 2), e.Balance(t, invoice.StoreAccount(e.StoreID, "CNY")), "BALANCE stays")

	// The payout fails: the same balance is not sent again.
	_, err = e.payouts.Dispatch(ctx)
	require.NoError(t, err)
	_, err = e.payouts.Apply(ctx, rail.Update{OrderID: ps[0].ID, Status: rail.Failed, Reason: "rejected", At: e.Now()})
	require.NoError(t, err)
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Zero(t, n)

	// Manual: nothing.
	_, err = e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{Splits: balanceSplits(10000, "CNY")})
	require.NoError(t, err)
	e.earn(t, "720.00", "0xi3")
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestDailyPayoutTimeZoneChange: moving a daily schedule to a time zone
// whose local date is already the next day does not pay a second time
// the same real day; the next payout waits 20 hours.
func TestDailyPayoutTimeZoneChange(t *testing.T) {
	e := setupSched(t, settle.NoDelay)
	ctx := context.Background()
	e.fund(t, "CNY", "100000", 2)
	profile := func(zone string) {
		t.Helper()
		_, err := e.profiles.Update(ctx, e.Owner, e.StoreID, settle.UpdateRequest{OTP: e.code(t),
			Splits:   []chengdui.SettlementSplit{bankSplit(10000, "CNY", "Tea House")},
			Schedule: chengdui.PayoutSchedule{Kind: "daily", At: "00:30", TimeZone: zone}})
		require.NoError(t, err)
	}
	profile("")
	e.earn(t, "72.00", "0xz1")
	n, err := e.sched.Tick(ctx, e.Now()) // 12:00 UTC on 11-26: due
	require.NoError(t, err)
	require.Equal(t, 1, n)
	e.earn(t, "36.00", "0xz2")
	profile("Pacific/Kiritimati") // UTC+14: already 11-27, past 00:30
	e.Advance(time.Minute)
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Zero(t, n, "not twice the same real day")
	e.Advance(20 * time.Hour)
	n, err = e.sched.Tick(ctx, e.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the next day's payout")
}
