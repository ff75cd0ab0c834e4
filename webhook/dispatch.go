package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"chengdui"
	"chengdui/invoice"
)

const (
	// dispatchBatch is how many outbox events one dispatch reads.
	dispatchBatch = 100
	// gapWait is how long the dispatcher watches a Seq it skipped for an
	// event committed late (see fillGaps); maxGap and maxGaps bound what
	// it watches.
	gapWait = time.Minute
	maxGap  = 100
	maxGaps = 10000
)

// Run dispatches outbox events to webhooks and sends the deliveries until
// ctx ends, then waits for the attempts in flight (at most Timeout) and
// returns nil. Call it once per Service; several processes may run it on
// one database.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.dispatchLoop(ctx) })
	wg.Go(func() { s.sendLoop(ctx) })
	wg.Wait()
	return nil
}

// dispatchLoop fans out events when woken by Notify, and every Poll.
func (s *Service) dispatchLoop(ctx context.Context) {
	gaps := map[int64]time.Time{}
	var gapCheck time.Time
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		for {
			more, err := s.dispatch(ctx, gaps)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("webhook: dispatching outbox events", "error", err)
				}
				break
			}
			if !more {
				break
			}
		}
		if len(gaps) > 0 && time.Since(gapCheck) >= s.poll {
			gapCheck = time.Now()
			s.fillGaps(ctx, gaps)
		}
		t.Reset(s.poll)
		select {
		case <-ctx.Done():
			return
		case <-s.dispatchWake:
		case <-t.C:
		}
	}
}

// dispatch fans out one batch of events after the cursor, moving the
// cursor in the same transaction as the deliveries are added, and reports
// whether there may be more. Losing the cursor to another dispatcher is
// not an error: the batch is dropped and read again from the new cursor.
// Seqs skipped within the batch are added to gaps.
func (s *Service) dispatch(ctx context.Context, gaps map[int64]time.Time) (more bool, err error) {
	cur, err := s.store.DispatchCursor(ctx)
	if err != nil {
		return false, err
	}
	evs, err := s.events.Events(ctx, "", cur, dispatchBatch)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	for i, ev := range evs {
		if ev.Seq <= cur || i > 0 && ev.Seq <= evs[i-1].Seq {
			return false, fmt.Errorf("outbox returned event seq %d after cursor %d, out of order", ev.Seq, cur)
		}
	}
	ds, err := s.fanOut(ctx, evs)
	if err != nil {
		return false, err
	}
	to := evs[len(evs)-1].Seq
	if err := s.store.Dispatch(ctx, cur, to, ds); chengdui.ErrorCode(err) == chengdui.EConflict {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if len(ds) > 0 {
		wake(s.sendWake)
	}
	now := time.Now()
	next := cur + 1
	for _, ev := range evs {
		if ev.Seq-next <= maxGap {
			for q := next; q < ev.Seq && len(gaps) < maxGaps; q++ {
				gaps[q] = now
			}
		}
		next = ev.Seq + 1
	}
	return len(evs) == dispatchBatch, nil
}

// fillGaps looks again for the events of Seqs the dispatcher skipped. On
// PostgreSQL a transaction can take a Seq and commit after a later one
// did, so the cursor may pass an event before it is visible; most gaps,
// though, are Seqs of rolled-back transactions that never appear. Each
// gap is watched for gapWait. Deliveries of a late event are added
// without moving the cursor; the store refuses a second first delivery of
// an event to a webhook, so this cannot duplicate one.
func (s *Service) fillGaps(ctx context.Context, gaps map[int64]time.Time) {
	for seq, since := range gaps {
		if time.Since(since) > gapWait {
			delete(gaps, seq)
			continue
		}
		evs, err := s.events.Events(ctx, "", seq-1, 1)
		if err != nil {
			s.log.Warn("webhook: reading outbox", "error", err)
			return
		}
		if len(evs) == 0 || evs[0].Seq != seq {
			continue
		}
		ds, err := s.fanOut(ctx, evs)
		if err == nil {
			_, err = s.store.AddDeliveries(ctx, ds)
		}
		if err != nil {
			s.log.Warn("webhook: dispatching a late outbox event", "seq", seq, "error", err)
			return
		}
		delete(gaps, seq)
		s.log.Info("webhook: dispatched an outbox event committed late", "seq", seq, "deliveries", len(ds))
		if len(ds) > 0 {
			wake(s.sendWake)
		}
	}
}

// fanOut builds the deliveries of events: one per enabled webhook of the
// event's store that subscribes to its type, with the full body.
func (s *Service) fanOut(ctx context.Context, evs []invoice.Event) ([]Delivery, error) {
	hooks := map[string][]Webhook{}
	metas := map[string]json.RawMessage{}
	now := s.clock()
	var ds []Delivery
	for _, ev := range evs {
		hs, ok := hooks[ev.StoreID]
		if !ok {
			var err error
			if hs, err = s.store.Webhooks(ctx, ev.StoreID); err != nil {
				return nil, err
			}
			hooks[ev.StoreID] = hs
		}
		if ev.ID == "" {
			ev.ID = fmt.Sprintf("seq:%d", ev.Seq)
		}
		for _, w := range hs {
			if !w.Enabled || !w.Events.Match(ev.Type) {
				continue
			}
			meta, ok := metas[ev.InvoiceID]
			if !ok {
				var err error
				if meta, err = s.metadata(ctx, ev.InvoiceID); err != nil {
					return nil, err
				}
				metas[ev.InvoiceID] = meta
			}
			id := newID()
			body, err := buildBody(id, w.ID, ev, meta, now)
			if err != nil {
				// A malformed event must not stop the outbox: send what
				// is known.
				s.log.Error("webhook: event data dropped", "event", ev.ID, "error", err)
				bare := ev
				bare.Data = nil
				if body, err = buildBody(id, w.ID, bare, meta, now); err != nil {
					return nil, err
				}
			}
			ds = append(ds, Delivery{
				ID: id, WebhookID: w.ID, StoreID: ev.StoreID, EventID: ev.ID, EventSeq: ev.Seq, Type: ev.Type,
				Status: Pending, Body: body, CreatedAt: now, NextAttemptAt: now, OriginalID: id,
			})
		}
	}
	return ds, nil
}

// metadata is an invoice's metadata; {} for an invoice that is gone.
func (s *Service) metadata(ctx context.Context, invoiceID string) (json.RawMessage, error) {
	if invoiceID == "" {
		return json.RawMessage(`{}`), nil
	}
	inv, err := s.events.Invoice(ctx, invoiceID)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		return json.RawMessage(`{}`), nil
	}
	if err != nil {
		return nil, err
	}
	return inv.Metadata, nil
}
