package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"chengdui/invoice"
	"chengdui/ledger"
	"chengdui/refund"
	"chengdui/withdraw"
)

// refundInterval is how often refunds a crash left half-booked are
// finished.
const refundInterval = 30 * time.Second

// outbox is the database's outbox, which takes the refunds' webhook
// events.
type outbox interface {
	AppendEvents(ctx context.Context, events []invoice.Event) error
}

// newRefunds builds the refund service: claims to an address are sent by
// the withdrawal service's payers (withdrawals may be nil: no chain, such
// claims are refused), and every stored state is announced to the store's
// webhooks (refund.Event) through the outbox, then the webhook sender is
// woken.
func newRefunds(db database, eng *ledger.Engine, invoices *invoice.Service, quoter invoice.Quoter, withdrawals *withdraw.Service,
	wake func(), log *slog.Logger) (*refund.Service, error) {
	store, ok1 := db.(refund.Store)
	stores, ok2 := db.(refund.Stores)
	box, ok3 := db.(outbox)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("database %T does not store refunds", db)
	}
	cfg := refund.Config{Store: store, Ledger: eng, Invoices: invoices, Stores: stores, Quoter: quoter, Log: log,
		Notify: func(ctx context.Context, r refund.Refund) {
			ev, ok := refund.Event(r)
			if !ok {
				return
			}
			if err := box.AppendEvents(context.WithoutCancel(ctx), []invoice.Event{ev}); err != nil {
				log.Error("refund webhook event not written", "refund", r.ID, "state", r.State, "err", err)
				return
			}
			wake()
		}}
	if withdrawals != nil {
		cfg.Withdrawals = withdrawals
	}
	s, err := refund.New(cfg)
	if err != nil {
		return nil, err
	}
	if withdrawals != nil {
		withdrawals.OnOutcome(withdraw.OriginRefund, s.OnWithdrawal)
	}
	return s, nil
}
