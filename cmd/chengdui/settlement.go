package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"chengdui/audit"
	"chengdui/auth"
	"chengdui/invoice"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/settle"
)

// Webhook events of settlement destination changes: Chengdui's own, as
// Greenfield has no settlement profiles.
const (
	eventSettlementRequested = "SettlementChangeRequested"
	eventSettlementApplied   = "SettlementChangeApplied"
	eventSettlementCancelled = "SettlementChangeCancelled"
)

// settlementInterval is how often the scheduler looks for due payouts and
// destination changes: daily payouts leave within this of their time.
const settlementInterval = 10 * time.Second

// newProfiles builds the stores' settlement profiles: destination changes
// need the owner's second factor and wait delay (settle.NoDelay: none);
// the merchant hears of them by webhook (through the outbox) and they are
// in the audit log. check validates payout addresses (nil: not checked
// until a payout is created).
func newProfiles(db database, delay time.Duration, check func(asset, address string) (string, error), wake func(), log *slog.Logger) (*settle.Profiles, error) {
	store, ok1 := db.(settle.Store)
	assets, ok2 := db.(settle.Assets)
	guard, ok3 := db.(auth.SecondFactor)
	box, ok4 := db.(outbox)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("database %T does not keep settlement profiles", db)
	}
	var rec *audit.Recorder
	if astore, ok := db.(audit.Store); ok {
		rec = &audit.Recorder{Store: astore, Log: log}
	}
	return settle.NewProfiles(settle.ProfileConfig{Store: store, Assets: assets, Guard: auth.Guard{F: guard}, ChangeDelay: delay,
		CheckAddress: check, Log: log,
		Notify: func(ctx context.Context, storeID, event string, data any) {
			typ := map[string]string{settle.EventChangeRequested: eventSettlementRequested, settle.EventChangeApplied: eventSettlementApplied,
				settle.EventChangeCancelled: eventSettlementCancelled}[event]
			if typ == "" {
				log.Warn("settlement event without a webhook name", "event", event)
				return
			}
			raw, err := json.Marshal(data)
			if err != nil {
				log.Error("settlement event not encoded", "store", storeID, "event", event, "err", err)
				return
			}
			at := time.Now().UTC()
			detail := map[string]string{"store": storeID}
			if ce, ok := data.(settle.ChangeEvent); ok {
				at = ce.Change.RequestedAt
				detail["effective_at"] = ce.Change.EffectiveAt.UTC().Format(time.RFC3339)
				detail["requested_by"] = ce.Change.RequestedBy
			}
			// One event per change and kind: the change is named by when
			// it was requested.
			id := "st:" + storeID + ":" + strings.TrimPrefix(event, "settlement.") + ":" + at.UTC().Format(time.RFC3339Nano)
			ctx = context.WithoutCancel(ctx)
			if err := box.AppendEvents(ctx, []invoice.Event{{ID: id, StoreID: storeID, Type: typ, Data: raw, CreatedAt: time.Now().UTC()}}); err != nil {
				log.Error("settlement webhook event not written", "store", storeID, "event", event, "err", err)
			} else {
				wake()
			}
			rec.Record(ctx, event, detail["requested_by"], detail)
		}})
}

// startScheduler runs the settlement scheduler (daily and instant payouts,
// destination changes coming into effect) until the returned stop.
func startScheduler(profiles *settle.Profiles, payouts *payout.Service, eng *ledger.Engine, db database, log *slog.Logger) (func(), error) {
	cfg := settle.SchedulerConfig{Profiles: profiles, Payouts: payouts, Balances: eng, Log: log}
	if t, ok := db.(settle.Transfers); ok {
		cfg.Transfers = t // holds a crash left without their payout are completed
	}
	sched, err := settle.NewScheduler(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sched.Run(ctx, settlementInterval); err != nil && ctx.Err() == nil {
			log.Error("settlement scheduler stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
