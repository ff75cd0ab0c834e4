package settle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/payout"
)

// Payouts is what the Scheduler needs of the payout service
// (payout.Service).
type Payouts interface {
	// Create is idempotent by the store and req.ID.
	Create(ctx context.Context, req payout.CreateRequest) (payout.Payout, error)
	// Get returns a payout by its id (payout.ID). Codes: ENotFound.
	Get(ctx context.Context, id string) (payout.Payout, error)
	// List lists payouts by filter.
	List(ctx context.Context, f payout.Filter) ([]payout.Payout, error)
}

// dailyGap is how long after a daily payout of an asset the next one may
// be made: a schedule whose time zone moved the local date back must not
// pay the same real day twice.
const dailyGap = 20 * time.Hour

// Balances reads ledger accounts (the ledger engine). Codes:
// EAccountNotFound.
type Balances interface {
	Account(ctx context.Context, id string) (chengdui.Account, error)
}

// SchedulerBy is the payouts' CreatedBy: the operator a payout above its
// approval threshold must be approved by someone else than.
const SchedulerBy = "settlement-scheduler"

// DefaultBatch is how many stores the Scheduler reads at a time.
const DefaultBatch = 100

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Profiles *Profiles // required: applies due destination changes
	Payouts  Payouts   // required
	Balances Balances  // required
	// Transfers finds a payout's hold (sqlite.DB, postgres.DB): a hold
	// left without its payout by a crash inside payout.Service.Create is
	// completed with its own amount. nil: Balances, if it has Transfer.
	Transfers Transfers
	Batch     int              // stores read at a time; 0: DefaultBatch
	Now       func() time.Time // Run's clock; nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

// Scheduler pays stores' balances out to their splits' destinations on
// their schedules, and applies pending destination changes when due.
//
// For each split with a BANK or CHAIN destination, the store's available
// balance of the split's asset (posted credits − posted debits − pending
// debits of store:<id>:<ASSET>) is paid out whole when it is at least
// the asset's minimum (StoreSettlement.MinPayout; any amount above zero
// without one), through payout.Service.Create, whose client id makes it
// idempotent:
//
//   - daily: once per local date of the schedule's time zone, at the
//     first tick at or after the set time on that date: the client id is
//     "auto-<YYYY-MM-DD>-<ASSET>". A payout of that id existing means the
//     day is done, so restarts and several processes pay once (two
//     processes racing create one payout: the same request is answered
//     with the first, and another amount is refused). A balance below the
//     minimum waits for a later tick that day, or the next day.
//   - instant: at any tick, with a client id derived from the asset, the
//     destination and the account's posted credits, so one state of the
//     balance is paid out once: a payout the bank refuses (Failed) is not
//     sent again to the same destination until new money arrives.
//   - manual: nothing is paid automatically.
//
// A payout the payout service refuses (no rail for the currency, an
// address its sender rejects, the balance held by a concurrent payout)
// is logged and left for the next tick; the other stores go on.
type Scheduler struct {
	cfg SchedulerConfig
}

// NewScheduler returns a Scheduler. Codes: EInvalid for a missing
// dependency.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Profiles == nil || cfg.Payouts == nil || cfg.Balances == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "settle: Profiles, Payouts and Balances are required")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if t, ok := cfg.Balances.(Transfers); ok && cfg.Transfers == nil {
		cfg.Transfers = t
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Scheduler{cfg: cfg}, nil
}

// Run ticks at once and then every interval until ctx ends; it logs
// failures and returns nil when ctx ends. Codes: EInvalid for an
// interval that is not positive.
func (s *Scheduler) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return chengdui.Errorf(chengdui.EInvalid, "settle: Run needs a positive interval")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("settlement schedule", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick applies the destination changes due at now and creates the
// payouts due at now, and returns how many payouts it created. A store that fails is
// reported in the error, joined with the others', after every store was
// tried.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	assets, err := assetInfo(ctx, s.cfg.Profiles.cfg.Assets)
	if err != nil {
		return 0, err
	}
	var errs []error
	n, after := 0, ""
	for {
		sts, err := s.cfg.Profiles.cfg.Store.SettlementStores(ctx, now, after, s.cfg.Batch)
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		for _, st := range sts {
			k, err := s.store(ctx, st, now, assets)
			n += k
			if err != nil {
				errs = append(errs, fmt.Errorf("store %s: %w", st.ID, err))
			}
			if ctx.Err() != nil {
				return n, errors.Join(append(errs, ctx.Err())...)
			}
		}
		if len(sts) < s.cfg.Batch {
			return n, errors.Join(errs...)
		}
		after = sts[len(sts)-1].ID
	}
}

// store applies a store's due change and pays its due balances.
func (s *Scheduler) store(ctx context.Context, st chengdui.Store, now time.Time, assets AssetInfo) (int, error) {
	st, err := s.cfg.Profiles.applyDue(ctx, st, now)
	if err != nil {
		return 0, err
	}
	set := st.Settlement
	var date string
	switch set.Schedule.Kind {
	case chengdui.ScheduleInstant:
	case chengdui.ScheduleDaily:
		d, due, err := dueDate(set.Schedule, now)
		if err != nil {
			return 0, err
		}
		if !due {
			return 0, nil
		}
		date = d
	default:
		return 0, nil
	}
	n := 0
	var errs []error
	for _, sp := range set.Splits {
		ok, err := s.pay(ctx, st, sp, date, now, assets)
		if ok {
			n++
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sp.Asset, err))
		}
	}
	return n, errors.Join(errs...)
}

// pay pays a split's available balance to its destination if it is due.
func (s *Scheduler) pay(ctx context.Context, st chengdui.Store, sp chengdui.SettlementSplit, date string, now time.Time, assets AssetInfo) (bool, error) {
	d := sp.Destination
	if d.Type != chengdui.DestinationBank && d.Type != chengdui.DestinationChain {
		return false, nil
	}
	a, ok := assets[sp.Asset]
	if !ok {
		return false, chengdui.Errorf(chengdui.EInvalid, "unknown asset %q", sp.Asset)
	}
	acct, err := s.cfg.Balances.Account(ctx, invoice.StoreAccount(st.ID, sp.Asset))
	switch chengdui.ErrorCode(err) {
	case "":
	case chengdui.EAccountNotFound, chengdui.ENotFound:
		return false, nil // never credited
	default:
		return false, err
	}
	avail, ok1 := chengdui.SubAmounts(acct.CreditsPosted, acct.DebitsPosted)
	avail, ok2 := chengdui.SubAmounts(avail, acct.DebitsPending)
	if !ok1 || !ok2 || avail.IsZero() {
		return false, nil
	}
	if m, ok := st.Settlement.MinPayout[sp.Asset]; ok {
		min, err := chengdui.ParseDecimal(m, a.Decimals)
		if err != nil {
			return false, chengdui.Errorf(chengdui.EInvalid, "minimum payout %q: %s", m, chengdui.ErrorMessage(err))
		}
		if avail.Cmp(min) < 0 {
			return false, nil
		}
	}
	req := payout.CreateRequest{StoreID: st.ID, Asset: sp.Asset, Amount: chengdui.FormatDecimal(avail, a.Decimals), CreatedBy: SchedulerBy}
	if date != "" {
		req.ID, req.Reference = "auto-"+date+"-"+sp.Asset, "Settlement "+date
		if len(req.ID) > payout.MaxClientIDLength {
			req.ID = "auto-" + date + "-" + digest(sp.Asset)
		}
	} else {
		dest := d.Type + "\x00" + d.Address
		if c := d.Creditor; c != nil {
			dest += "\x00" + c.Name + "\x00" + c.IBAN + "\x00" + c.BIC + "\x00" + c.Account + "\x00" + c.BankCode + "\x00" + c.Country
		}
		req.ID, req.Reference = "auto-"+digest(sp.Asset+"\x00"+dest+"\x00"+acct.CreditsPosted.String()), "Settlement"
	}
	if _, err := s.cfg.Payouts.Get(ctx, payout.ID(st.ID, req.ID)); err == nil {
		return false, nil // paid today, or this balance was
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return false, err
	}
	if date != "" {
		recent, err := s.recentDaily(ctx, st.ID, sp.Asset, now)
		if err != nil || recent {
			return false, err
		}
	}
	if s.cfg.Transfers != nil {
		// A hold of this payout without the payout: a crash between the
		// two writes of payout.Service.Create. The same request with the
		// held amount completes it (the hold is the ledger's replay);
		// another amount would be refused, and the hold left forever.
		hold, err := s.cfg.Transfers.Transfer(ctx, payout.HoldID(payout.ID(st.ID, req.ID)))
		switch chengdui.ErrorCode(err) {
		case "":
			req.Amount = chengdui.FormatDecimal(hold.Amount, a.Decimals)
			s.cfg.Log.Warn("settlement payout's hold found without its payout; completing it", "store", st.ID, "asset", sp.Asset, "amount", req.Amount)
		case chengdui.ENotFound:
		default:
			return false, err
		}
	}
	switch d.Type {
	case chengdui.DestinationBank:
		if d.Creditor == nil {
			return false, chengdui.Errorf(chengdui.EInvalid, "a BANK destination without a creditor")
		}
		req.Method, req.Creditor = payout.Bank, Party(*d.Creditor)
	default:
		req.Method, req.Address = payout.Chain, d.Address
	}
	p, err := s.cfg.Payouts.Create(ctx, req)
	switch chengdui.ErrorCode(err) {
	case "":
		s.cfg.Log.Info("settlement payout", "store", st.ID, "asset", sp.Asset, "amount", req.Amount, "payout", p.ID, "state", p.State)
		return true, nil
	case chengdui.EConflict, chengdui.EExceedsCredits:
		// Paid by another process, or the balance changed under us: the
		// next tick looks again.
		s.cfg.Log.Debug("settlement payout skipped", "store", st.ID, "asset", sp.Asset, "err", err)
		return false, nil
	}
	return false, err
}

// recentDaily reports whether a daily payout of the store's asset was made
// less than dailyGap before now (under another local date: the schedule's
// time zone changed).
func (s *Scheduler) recentDaily(ctx context.Context, storeID, asset string, now time.Time) (bool, error) {
	f := payout.Filter{StoreID: storeID, UpdatedSince: now.Add(-dailyGap), Limit: payout.MaxLimit}
	for {
		ps, err := s.cfg.Payouts.List(ctx, f)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			if p.CreatedBy == SchedulerBy && p.Asset == asset && strings.HasPrefix(p.Reference, "Settlement ") && now.Sub(p.CreatedAt) < dailyGap {
				s.cfg.Log.Info("daily payout skipped: one was made less than 20 h ago", "store", storeID, "asset", asset, "payout", p.ID)
				return true, nil
			}
		}
		if len(ps) < f.Limit {
			return false, nil
		}
		f.After = ps[len(ps)-1].ID
	}
}

// dueDate is the local date of a daily schedule at now, and whether its
// set time has come.
func dueDate(sc chengdui.PayoutSchedule, now time.Time) (string, bool, error) {
	h, m, err := parseHHMM(sc.At)
	if err != nil {
		return "", false, chengdui.Errorf(chengdui.EInvalid, "schedule: %s", err)
	}
	loc, err := loadZone(sc.TimeZone)
	if err != nil {
		return "", false, chengdui.Errorf(chengdui.EInvalid, "schedule: time zone %q: %s", clipText(sc.TimeZone), err)
	}
	local := now.In(loc)
	at := time.Date(local.Year(), local.Month(), local.Day(), h, m, 0, 0, loc)
	return local.Format(time.DateOnly), !now.Before(at), nil
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:12])
}
