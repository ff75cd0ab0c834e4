package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/webhook"

	"github.com/stretchr/testify/require"
)

// RunWebhook runs the webhook.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunWebhook(t *testing.T, f func(t testing.TB) webhook.Store) {
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, f(t)) })
	t.Run("Dispatch", func(t *testing.T) { testWebhookDispatch(t, f(t)) })
	t.Run("DispatchRace", func(t *testing.T) { testWebhookDispatchRace(t, f(t)) })
	t.Run("Deliveries", func(t *testing.T) { testWebhookDeliveries(t, f(t)) })
	t.Run("Claim", func(t *testing.T) { testWebhookClaim(t, f(t)) })
	t.Run("ClaimRace", func(t *testing.T) { testWebhookClaimRace(t, f(t)) })
	t.Run("TwoServices", func(t *testing.T) { testWebhookTwoServices(t, f(t)) })
}

var webhookT0 = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func sampleWebhook(id, store string) webhook.Webhook {
	return webhook.Webhook{ID: id, StoreID: store, URL: "https://example.com/hook?token=x", Secret: "s3cret-" + id,
		Enabled: true, AutomaticRedelivery: true, Events: webhook.Events{Everything: true}, CreatedAt: webhookT0}
}

func sampleDelivery(id, hook, store string, seq int64, at time.Time) webhook.Delivery {
	return webhook.Delivery{ID: id, WebhookID: hook, StoreID: store, EventID: fmt.Sprintf("ev%d", seq), EventSeq: seq,
		Type: "InvoiceSettled", Status: webhook.Pending, Body: []byte(`{"deliveryId":"` + id + `"}`),
		CreatedAt: at, NextAttemptAt: at, OriginalID: id}
}

func testWebhooks(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	a := sampleWebhook("wh1", "store-a")
	a.Events = webhook.Events{Specific: []string{"InvoiceSettled", "InvoiceExpired"}}
	require.NoError(t, s.CreateWebhook(ctx, a))
	got, err := s.Webhook(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a, got)

	err = s.CreateWebhook(ctx, a)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Webhook(ctx, "nope")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)

	b := sampleWebhook("wh2", "store-a")
	b.CreatedAt = webhookT0.Add(time.Second)
	b.Enabled, b.AutomaticRedelivery = false, false
	c := sampleWebhook("wh3", "store-b")
	require.NoError(t, s.CreateWebhook(ctx, b))
	require.NoError(t, s.CreateWebhook(ctx, c))
	list, err := s.Webhooks(ctx, "store-a")
	require.NoError(t, err)
	require.Equal(t, []webhook.Webhook{a, b}, list)
	list, err = s.Webhooks(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, list)

	// Update changes the settable fields, not the id, store or time.
	a2 := a
	a2.URL, a2.Secret, a2.Enabled, a2.AutomaticRedelivery = "http://example.org/x", "new", false, false
	a2.Events = webhook.Events{Everything: true}
	moved := a2
	moved.CreatedAt = webhookT0.Add(time.Hour)
	require.NoError(t, s.UpdateWebhook(ctx, moved))
	got, err = s.Webhook(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a2, got)
	// Another store's webhook is not found, and not changed.
	other := c
	other.StoreID, other.URL = "store-a", "http://evil.example/"
	err = s.UpdateWebhook(ctx, other)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	got, err = s.Webhook(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)

	// Delete takes the deliveries with it.
	require.NoError(t, s.Dispatch(ctx, 0, 1, []webhook.Delivery{sampleDelivery("d1", c.ID, c.StoreID, 1, webhookT0)}))
	err = s.DeleteWebhook(ctx, "store-a", c.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	require.NoError(t, s.DeleteWebhook(ctx, c.StoreID, c.ID))
	_, err = s.Webhook(ctx, c.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Delivery(ctx, "d1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	err = s.DeleteWebhook(ctx, c.StoreID, c.ID)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

func testWebhookDispatch(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh1", "st")))
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh2", "st")))
	cur, err := s.DispatchCursor(ctx)
	require.NoError(t, err)
	require.Zero(t, cur)

	// Events without deliveries just move the cursor.
	require.NoError(t, s.Dispatch(ctx, 0, 3, nil))
	d1 := sampleDelivery("d1", "wh1", "st", 5, webhookT0)
	d1.Body = []byte{0, 1, 2, 0xff} // bytes, not text
	d2 := sampleDelivery("d2", "wh2", "st", 5, webhookT0)
	require.NoError(t, s.Dispatch(ctx, 3, 5, []webhook.Delivery{d1, d2}))
	cur, err = s.DispatchCursor(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), cur)
	got, err := s.Delivery(ctx, "d1")
	require.NoError(t, err)
	require.Equal(t, d1, got)

	// A stale cursor writes nothing.
	d3 := sampleDelivery("d3", "wh1", "st", 6, webhookT0)
	err = s.Dispatch(ctx, 3, 6, []webhook.Delivery{d3})
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Delivery(ctx, "d3")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	cur, err = s.DispatchCursor(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), cur)

	// A second first delivery of an event to a webhook is skipped, as is
	// one for a missing webhook; a redelivery is added.
	dup := sampleDelivery("dup", "wh1", "st", 5, webhookT0)
	gone := sampleDelivery("gone", "deleted", "st", 5, webhookT0)
	re := sampleDelivery("re", "wh1", "st", 5, webhookT0.Add(time.Second))
	re.Redelivery, re.OriginalID = true, "d1"
	n, err := s.AddDeliveries(ctx, []webhook.Delivery{dup, gone, re})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	for id, code := range map[string]string{"dup": chengdui.ENotFound, "gone": chengdui.ENotFound, "re": ""} {
		_, err := s.Delivery(ctx, id)
		require.Equal(t, code, chengdui.ErrorCode(err), "%s: %v", id, err)
	}
	// The same rule holds inside Dispatch.
	require.NoError(t, s.Dispatch(ctx, 5, 7, []webhook.Delivery{dup, d3}))
	_, err = s.Delivery(ctx, "dup")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Delivery(ctx, "d3")
	require.NoError(t, err)
}

// testWebhookDispatchRace has dispatchers race from one cursor: exactly
// one moves it and adds its deliveries.
func testWebhookDispatchRace(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh", "st")))
	const racers = 8
	for round := range 5 {
		from := int64(round * 10)
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for r := range racers {
			wg.Go(func() {
				d := sampleDelivery(fmt.Sprintf("r%d-%d", round, r), "wh", "st", from+1, webhookT0)
				errs[r] = s.Dispatch(ctx, from, from+10, []webhook.Delivery{d})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
			}
		}
		require.Equal(t, 1, won, "round %d", round)
	}
	ds, err := s.Deliveries(ctx, "wh", 100)
	require.NoError(t, err)
	require.Len(t, ds, 5)
}

func testWebhookDeliveries(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh1", "st")))
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh2", "st")))
	var want []string
	var ds []webhook.Delivery
	for i := range 5 {
		// Two per instant: the event's seq orders them.
		at := webhookT0.Add(time.Duration(i/2) * time.Second)
		ds = append(ds, sampleDelivery(fmt.Sprintf("d%d", i), "wh1", "st", int64(i+1), at))
		want = append([]string{fmt.Sprintf("d%d", i)}, want...)
	}
	ds = append(ds, sampleDelivery("other", "wh2", "st", 1, webhookT0))
	n, err := s.AddDeliveries(ctx, ds)
	require.NoError(t, err)
	require.Equal(t, 6, n)
	ids := func(limit int) []string {
		got, err := s.Deliveries(ctx, "wh1", limit)
		require.NoError(t, err)
		out := []string{}
		for _, d := range got {
			out = append(out, d.ID)
		}
		return out
	}
	require.Equal(t, want, ids(100))
	require.Equal(t, want[:2], ids(2))
	got, err := s.Deliveries(ctx, "nobody", 10)
	require.NoError(t, err)
	require.Empty(t, got)
	_, err = s.Delivery(ctx, "nope")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

func testWebhookClaim(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh", "st")))
	_, ok, err := s.NextAttempt(ctx)
	require.NoError(t, err)
	require.False(t, ok)

	now := webhookT0
	late := sampleDelivery("late", "wh", "st", 1, now.Add(time.Minute)) // due later
	a := sampleDelivery("a", "wh", "st", 3, now)
	b := sampleDelivery("b", "wh", "st", 2, now.Add(-time.Second))
	_, err = s.AddDeliveries(ctx, []webhook.Delivery{late, a, b})
	require.NoError(t, err)
	at, ok, err := s.NextAttempt(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, b.NextAttemptAt, at)

	lease := now.Add(30 * time.Second)
	got, err := s.ClaimDeliveries(ctx, now, lease, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []string{"b", "a"}, []string{got[0].ID, got[1].ID}, "by event seq")
	for _, d := range got {
		require.Equal(t, lease, d.NextAttemptAt)
	}
	// Held: not claimed again before the lease ends.
	again, err := s.ClaimDeliveries(ctx, now.Add(time.Second), now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, again)

	// The outcome is saved while the claim holds.
	done := got[0]
	delivered := now.Add(time.Second)
	done.Status, done.Attempts, done.HTTPCode, done.DeliveredAt, done.NextAttemptAt = webhook.HTTPSuccess, 1, 200, &delivered, delivered
	require.NoError(t, s.FinishAttempt(ctx, done, lease))
	stored, err := s.Delivery(ctx, done.ID)
	require.NoError(t, err)
	require.Equal(t, done, stored)
	// Not twice, and not with another lease.
	err = s.FinishAttempt(ctx, done, lease)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	retry := got[1]
	retry.Attempts, retry.HTTPCode, retry.Error, retry.NextAttemptAt = 1, 500, "HTTP 500 Internal Server Error", now.Add(10*time.Second)
	err = s.FinishAttempt(ctx, retry, lease.Add(time.Microsecond))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	require.NoError(t, s.FinishAttempt(ctx, retry, lease))
	stored, err = s.Delivery(ctx, retry.ID)
	require.NoError(t, err)
	require.Equal(t, retry, stored)

	// A lease that ran out lets another claim take the delivery; the
	// first claim's outcome is then refused.
	due, err := s.ClaimDeliveries(ctx, now.Add(10*time.Second), now.Add(20*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, "a", due[0].ID)
	stolen, err := s.ClaimDeliveries(ctx, now.Add(25*time.Second), now.Add(40*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, stolen, 1)
	first := due[0]
	first.Status, first.Attempts = webhook.HTTPSuccess, 2
	err = s.FinishAttempt(ctx, first, now.Add(20*time.Second))
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	second := stolen[0]
	second.Status, second.Attempts = webhook.HTTPError, 2
	require.NoError(t, s.FinishAttempt(ctx, second, now.Add(40*time.Second)))

	// Final deliveries are not due; the limit holds.
	at, ok, err = s.NextAttempt(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, late.NextAttemptAt, at)
	got, err = s.ClaimDeliveries(ctx, now.Add(time.Hour), now.Add(2*time.Hour), 0)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.ClaimDeliveries(ctx, now.Add(time.Hour), now.Add(2*time.Hour), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "late", got[0].ID)
}

// testWebhookClaimRace has senders claim concurrently: each delivery is
// claimed exactly once.
func testWebhookClaimRace(t *testing.T, s webhook.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateWebhook(ctx, sampleWebhook("wh", "st")))
	const total = 60
	var ds []webhook.Delivery
	for i := range total {
		ds = append(ds, sampleDelivery(fmt.Sprintf("d%02d", i), "wh", "st", int64(i+1), webhookT0))
	}
	_, err := s.AddDeliveries(ctx, ds)
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDeliveries(ctx, webhookT0, webhookT0.Add(time.Minute), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, total)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
	}
}

// webhookSource is an in-memory outbox (webhook.EventSource).
type webhookSource struct {
	mu     sync.Mutex
	events []invoice.Event
}

func (s *webhookSource) add(storeID, invoiceID, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := int64(len(s.events) + 1)
	s.events = append(s.events, invoice.Event{Seq: seq, ID: fmt.Sprintf("ev%d", seq), StoreID: storeID, InvoiceID: invoiceID,
		Type: typ, Data: json.RawMessage(`{}`), CreatedAt: time.Now().UTC()})
}

func (s *webhookSource) Events(_ context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []invoice.Event
	for _, ev := range s.events {
		if ev.Seq > after && (invoiceID == "" || ev.InvoiceID == invoiceID) && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (s *webhookSource) Invoice(_ context.Context, id string) (invoice.Invoice, error) {
	return invoice.Invoice{ID: id, Metadata: json.RawMessage(`{"orderId":"` + id + `"}`)}, nil
}

// testWebhookTwoServices runs two webhook services on the store, as two
// processes would: every event reaches every webhook of its store once,
// and each delivery is sent once.
func testWebhookTwoServices(t *testing.T, s webhook.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	sent := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ DeliveryID string }
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &p) != nil || r.Header.Get("BTCPay-Sig") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		sent[p.DeliveryID]++
		mu.Unlock()
	}))
	defer srv.Close()
	src := &webhookSource{}
	var svcs []*webhook.Service
	for range 2 {
		svc, err := webhook.New(webhook.Config{Store: s, Events: src, AllowPrivate: true, Poll: 20 * time.Millisecond, Workers: 4,
			Backoff: []time.Duration{10 * time.Millisecond}})
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	const stores, events = 3, 45
	var hooks []webhook.Webhook
	for i := range stores {
		for range 2 {
			w, err := svcs[0].Create(ctx, fmt.Sprintf("st%d", i), webhook.Webhook{URL: srv.URL, Enabled: true, Events: webhook.Events{Everything: true}})
			require.NoError(t, err)
			hooks = append(hooks, w)
		}
	}
	var wg sync.WaitGroup
	for _, svc := range svcs {
		wg.Go(func() { _ = svc.Run(ctx) })
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	for i := range events {
		src.add(fmt.Sprintf("st%d", i%stores), fmt.Sprintf("inv%d", i), invoice.EventCreated)
		svcs[i%2].Notify()
	}
	svcs[0].Notify()
	svcs[1].Notify()

	deadline := time.Now().Add(30 * time.Second)
	for _, h := range hooks {
		for {
			ds, err := s.Deliveries(ctx, h.ID, 1000)
			require.NoError(t, err)
			final := 0
			for _, d := range ds {
				if d.Status != webhook.Pending {
					final++
				}
			}
			if len(ds) == events/stores && final == len(ds) {
				seen := map[string]bool{}
				for _, d := range ds {
					require.Equal(t, webhook.HTTPSuccess, d.Status, d.Error)
					require.Equal(t, 1, d.Attempts)
					require.False(t, seen[d.EventID], "event %s twice to webhook %s", d.EventID, h.ID)
					seen[d.EventID] = true
				}
				break
			}
			require.LessOrEqual(t, len(ds), events/stores)
			require.True(t, time.Now().Before(deadline), "webhook %s: %d of %d deliveries, %d final", h.ID, len(ds), events/stores, final)
			time.Sleep(10 * time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sent, len(hooks)*events/stores)
	for id, n := range sent {
		require.Equal(t, 1, n, "delivery %s sent %d times", id, n)
	}
}
