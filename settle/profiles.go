package settle

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"chengdui"
)

// Store keeps settlement profiles: in the stores' settlement preference
// (chengdui.StoreSettlement), with an index of the stores the Scheduler
// must look at. The sqlite and postgres packages implement it (migration
// 0012_settlement); storetest.RunSettlement checks both.
type Store interface {
	// Store returns a store by id. Codes: ENotFound.
	Store(ctx context.Context, id string) (chengdui.Store, error)
	// UpdateSettlement writes next as the store's settlement if the
	// stored one still encodes as old does (a compare-and-set), and
	// indexes its schedule and pending change for SettlementStores, in
	// one transaction. Codes: ENotFound; EConflict when the settlement
	// changed since it was read (nothing is written).
	UpdateSettlement(ctx context.Context, storeID string, old, next chengdui.StoreSettlement) error
	// SettlementStores lists, by id after `after`, at most limit stores
	// whose schedule is instant or daily, or whose pending change takes
	// effect at or before due.
	SettlementStores(ctx context.Context, due time.Time, after string, limit int) ([]chengdui.Store, error)
}

// SecondFactor checks a user's second factor (auth.Guard). Codes:
// EUnauthorized, ESecondFactorRequired.
type SecondFactor interface {
	Require(ctx context.Context, userID, code string) error
}

// Notify hooks tell a store's merchant of a settlement event (the
// integrator sends webhooks and audit records). data is a ChangeEvent.
type Notify func(ctx context.Context, storeID, event string, data any)

// Events passed to Notify.
const (
	// EventChangeRequested: a destination change waits for its delay.
	EventChangeRequested = "settlement.change_requested"
	// EventChangeApplied: a destination change took effect.
	EventChangeApplied = "settlement.change_applied"
	// EventChangeCancelled: the owner cancelled a pending change.
	EventChangeCancelled = "settlement.change_cancelled"
)

// ChangeEvent is Notify's data: the store, the change and the new
// destinations it adds (or changes).
type ChangeEvent struct {
	StoreID         string                     `json:"store_id"`
	Change          chengdui.SettlementChange  `json:"change"`
	NewDestinations []chengdui.SettlementSplit `json:"new_destinations"`
}

// DefaultChangeDelay is how long a destination change waits.
const DefaultChangeDelay = 24 * time.Hour

// NoDelay as ProfileConfig.ChangeDelay applies destination changes at
// once (development), still with the owner's second factor.
const NoDelay time.Duration = -1

// ProfileConfig configures Profiles.
type ProfileConfig struct {
	Store  Store        // required
	Assets Assets       // required: the ledger's assets
	Guard  SecondFactor // required
	// Notify, if set, hears of destination changes requested, applied
	// and cancelled.
	Notify Notify
	// ChangeDelay is how long a destination change waits before it
	// takes effect: 0 means DefaultChangeDelay, NoDelay none.
	ChangeDelay time.Duration
	// CheckAddress, if set, validates a CHAIN destination for its asset
	// and returns its canonical form. Codes: EInvalid.
	CheckAddress func(asset, address string) (string, error)
	Now          func() time.Time // nil: time.Now
	Log          *slog.Logger     // nil: slog.Default()
}

// Profiles reads and changes stores' settlement profiles for their
// owners.
type Profiles struct {
	cfg ProfileConfig
}

// NewProfiles returns Profiles. Codes: EInvalid for a missing dependency.
func NewProfiles(cfg ProfileConfig) (*Profiles, error) {
	if cfg.Store == nil || cfg.Assets == nil || cfg.Guard == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "settle: Store, Assets and Guard are required")
	}
	if cfg.ChangeDelay == 0 {
		cfg.ChangeDelay = DefaultChangeDelay
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Profiles{cfg: cfg}, nil
}

func (p *Profiles) now() time.Time { return p.cfg.Now().UTC().Truncate(time.Microsecond) }

// Get returns a store's settlement for its owner (userID), or for a
// caller the store's API key authenticated (userID ""). Codes: ENotFound
// (no such store, or another owner's).
func (p *Profiles) Get(ctx context.Context, userID, storeID string) (chengdui.StoreSettlement, error) {
	st, err := p.owned(ctx, userID, storeID)
	return st.Settlement, err
}

func (p *Profiles) owned(ctx context.Context, userID, storeID string) (chengdui.Store, error) {
	st, err := p.cfg.Store.Store(ctx, storeID)
	if err == nil && userID != "" && st.OwnerID != userID {
		err = chengdui.Errorf(chengdui.ENotFound, "no store %q", clipText(storeID))
	}
	return st, err
}

// Update replaces a store's profile for its owner. The request is
// validated first (Validate: a *invoice.ValidationError, nothing changed).
// The schedule and the minimums apply at once. As for the splits:
//
//   - the splits in force, or those of the pending change: the splits
//     and the pending change stay as they are (an edit of the schedule
//     or the minimums);
//   - splits that only move shares among destinations in force, or keep
//     more as BALANCE, apply at once, and a pending change is dropped
//     (Notify(EventChangeCancelled));
//   - splits that add or change a BANK or CHAIN destination need req.OTP,
//     the owner's second factor, and wait ChangeDelay as the store's
//     pending change, replacing an earlier one, with
//     Notify(EventChangeRequested); the Scheduler applies them when due
//     (Notify(EventChangeApplied)).
//
// Codes: ENotFound; EInvalid; EUnauthorized or ESecondFactorRequired (the
// second factor); EConflict when the store's settlement changed meanwhile
// (retry).
func (p *Profiles) Update(ctx context.Context, userID, storeID string, req UpdateRequest) (chengdui.StoreSettlement, error) {
	if userID == "" {
		return chengdui.StoreSettlement{}, chengdui.Errorf(chengdui.EUnauthorized, "only the store's owner changes its settlement")
	}
	st, err := p.owned(ctx, userID, storeID)
	if err != nil {
		return chengdui.StoreSettlement{}, err
	}
	assets, err := assetInfo(ctx, p.cfg.Assets)
	if err != nil {
		return chengdui.StoreSettlement{}, err
	}
	req, err = Validate(req, assets, p.cfg.CheckAddress)
	if err != nil {
		return chengdui.StoreSettlement{}, err
	}
	old := st.Settlement
	next := old
	next.Schedule, next.MinPayout = req.Schedule, req.MinPayout
	added := newDestinations(old.Splits, req.Splits)
	var change, dropped *chengdui.SettlementChange
	switch {
	case slices.EqualFunc(old.Splits, req.Splits, sameSplit):
		// The splits in force: a schedule or minimum edit.
	case old.Pending != nil && slices.EqualFunc(old.Pending.Splits, req.Splits, sameSplit):
		// The change already waits.
	case len(added) == 0:
		next.Splits, next.Pending, dropped = req.Splits, nil, old.Pending
	default:
		if err := p.cfg.Guard.Require(ctx, userID, req.OTP); err != nil {
			return chengdui.StoreSettlement{}, err
		}
		now := p.now()
		change = &chengdui.SettlementChange{Splits: req.Splits, RequestedBy: userID, RequestedAt: now, EffectiveAt: now}
		if p.cfg.ChangeDelay > 0 {
			change.EffectiveAt = now.Add(p.cfg.ChangeDelay)
		}
		next.Pending = change
		if p.cfg.ChangeDelay < 0 {
			next.Splits, next.Pending = req.Splits, nil
		}
	}
	if err := p.cfg.Store.UpdateSettlement(ctx, storeID, old, next); err != nil {
		return chengdui.StoreSettlement{}, err
	}
	if dropped != nil {
		p.notify(ctx, storeID, EventChangeCancelled, ChangeEvent{StoreID: storeID, Change: *dropped, NewDestinations: newDestinations(old.Splits, dropped.Splits)})
	}
	if change != nil {
		ev := ChangeEvent{StoreID: storeID, Change: *change, NewDestinations: added}
		p.cfg.Log.Info("settlement destination change requested", "store", storeID, "by", userID, "effective_at", change.EffectiveAt)
		p.notify(ctx, storeID, EventChangeRequested, ev)
		if next.Pending == nil {
			p.notify(ctx, storeID, EventChangeApplied, ev)
		}
	}
	return next, nil
}

// CancelPending cancels a store's pending destination change, for its
// owner, with Notify(EventChangeCancelled). Codes: ENotFound (no store,
// or no pending change); EConflict when the settlement changed meanwhile.
func (p *Profiles) CancelPending(ctx context.Context, userID, storeID string) (chengdui.StoreSettlement, error) {
	if userID == "" {
		return chengdui.StoreSettlement{}, chengdui.Errorf(chengdui.EUnauthorized, "only the store's owner changes its settlement")
	}
	st, err := p.owned(ctx, userID, storeID)
	if err != nil {
		return chengdui.StoreSettlement{}, err
	}
	old := st.Settlement
	if old.Pending == nil {
		return chengdui.StoreSettlement{}, chengdui.Errorf(chengdui.ENotFound, "store %s has no pending settlement change", storeID)
	}
	next := old
	next.Pending = nil
	if err := p.cfg.Store.UpdateSettlement(ctx, storeID, old, next); err != nil {
		return chengdui.StoreSettlement{}, err
	}
	p.cfg.Log.Info("settlement destination change cancelled", "store", storeID, "by", userID)
	p.notify(ctx, storeID, EventChangeCancelled, ChangeEvent{StoreID: storeID, Change: *old.Pending, NewDestinations: newDestinations(old.Splits, old.Pending.Splits)})
	return next, nil
}

// applyDue applies st's pending change if it is due at now, with
// Notify(EventChangeApplied), and returns the store as it is then.
func (p *Profiles) applyDue(ctx context.Context, st chengdui.Store, now time.Time) (chengdui.Store, error) {
	old := st.Settlement
	if old.Pending == nil || old.Pending.EffectiveAt.After(now) {
		return st, nil
	}
	next := old
	next.Splits, next.Pending = old.Pending.Splits, nil
	err := p.cfg.Store.UpdateSettlement(ctx, st.ID, old, next)
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		// Another process applied it, or the owner changed something:
		// read it again.
		return p.cfg.Store.Store(ctx, st.ID)
	}
	if err != nil {
		return st, err
	}
	p.cfg.Log.Info("settlement destination change applied", "store", st.ID, "requested_by", old.Pending.RequestedBy)
	p.notify(ctx, st.ID, EventChangeApplied, ChangeEvent{StoreID: st.ID, Change: *old.Pending, NewDestinations: newDestinations(old.Splits, old.Pending.Splits)})
	st.Settlement = next
	return st, nil
}

func (p *Profiles) notify(ctx context.Context, storeID, event string, data ChangeEvent) {
	if p.cfg.Notify != nil {
		p.cfg.Notify(ctx, storeID, event, data)
	}
}

func sameSplit(a, b chengdui.SettlementSplit) bool {
	return a.Bps == b.Bps && a.Asset == b.Asset && sameDestination(a.Destination, b.Destination)
}

func assetInfo(ctx context.Context, src Assets) (AssetInfo, error) {
	as, err := src.Assets(ctx)
	if err != nil {
		return nil, err
	}
	out := make(AssetInfo, len(as))
	for _, a := range as {
		out[a.Code] = a
	}
	return out, nil
}
