package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/sqlite"
	"chengdui/webhook"

	"github.com/stretchr/testify/require"
)

// source is an in-memory outbox and invoice table (webhook.EventSource).
type source struct {
	mu       sync.Mutex
	events   []invoice.Event // by Seq
	invoices map[string]invoice.Invoice
	seq      int64
}

func newSource() *source { return &source{invoices: map[string]invoice.Invoice{}} }

// add appends an event with the next Seq and returns it.
func (s *source) add(storeID, invoiceID, typ, data string) invoice.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.insertLocked(s.seq, storeID, invoiceID, typ, data)
}

// insertAt adds an event with a given Seq, as a transaction that took its
// Seq earlier but committed later would.
func (s *source) insertAt(seq int64, storeID, invoiceID, typ, data string) invoice.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq, seq)
	return s.insertLocked(seq, storeID, invoiceID, typ, data)
}

func (s *source) insertLocked(seq int64, storeID, invoiceID, typ, data string) invoice.Event {
	ev := invoice.Event{Seq: seq, ID: fmt.Sprintf("ev%d", seq), StoreID: storeID, InvoiceID: invoiceID, Type: typ,
		Data: json.RawMessage(data), CreatedAt: time.Now().UTC()}
	s.events = append(s.events, ev)
	slices.SortFunc(s.events, func(a, b invoice.Event) int { return int(a.Seq - b.Seq) })
	return ev
}

func (s *source) setInvoice(inv invoice.Invoice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invoices[inv.ID] = inv
}

func (s *source) Events(_ context.Context, invoiceID string, after int64, limit int) ([]invoice.Event, error) {
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

func (s *source) Invoice(_ context.Context, id string) (invoice.Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[id]
	if !ok {
		return inv, chengdui.Errorf(chengdui.ENotFound, "no invoice %q", id)
	}
	return inv, nil
}

// request is one POST a receiver got.
type request struct {
	Body   []byte
	Header http.Header
	Path   string
}

// receiver is a webhook endpoint answering with statuses from a script.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	answer func(n int, r request) int // n counts from 1; nil: 200
	signal chan struct{}
}

func newReceiver(t *testing.T, answer func(n int, r request) int) *receiver {
	rc := &receiver{answer: answer, signal: make(chan struct{}, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{Body: body, Header: r.Header.Clone(), Path: r.URL.Path}
		rc.mu.Lock()
		rc.got = append(rc.got, req)
		n := len(rc.got)
		answer := rc.answer
		rc.mu.Unlock()
		code := 200
		if answer != nil {
			code = answer(n, req)
		}
		if code == 0 { // hang up without answering
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		} else {
			w.WriteHeader(code)
			fmt.Fprint(w, `{"note":"receiver bodies are not kept"}`)
		}
		rc.signal <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setAnswer(f func(n int, r request) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answer = f
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// openDB opens a fresh migrated SQLite database.
func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	return reopen(t, filepath.Join(t.TempDir(), "chengdui.db"))
}

// reopen opens the database file at path, as another process would.
func reopen(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	require.NoError(t, err)
	return db
}

// fast is a test config: private targets allowed, quick polls and
// retries.
func fast(db webhook.Store, src webhook.EventSource) webhook.Config {
	return webhook.Config{
		Store: db, Events: src, AllowPrivate: true, Timeout: 2 * time.Second, Poll: 50 * time.Millisecond,
		Backoff: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond},
		Log:     testLog(),
	}
}

func newService(t *testing.T, cfg webhook.Config) *webhook.Service {
	t.Helper()
	s, err := webhook.New(cfg)
	require.NoError(t, err)
	return s
}

// start runs s until the returned stop is called (or the test ends).
func start(t *testing.T, s *webhook.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually waits up to 30 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func deliveries(t *testing.T, s *webhook.Service, storeID, hookID string) []webhook.Delivery {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), storeID, hookID, 1000)
	require.NoError(t, err)
	return ds
}

// finalDeliveries waits until the webhook has n deliveries, all final.
func finalDeliveries(t *testing.T, s *webhook.Service, storeID, hookID string, n int) []webhook.Delivery {
	t.Helper()
	var ds []webhook.Delivery
	defer func() {
		if t.Failed() {
			for _, d := range ds {
				t.Logf("%s seq %d %s attempts %d next %v err %q", d.ID, d.EventSeq, d.Status, d.Attempts, d.NextAttemptAt, d.Error)
			}
		}
	}()
	eventually(t, fmt.Sprintf("%d final deliveries", n), func() bool {
		ds = deliveries(t, s, storeID, hookID)
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if !d.Final() {
				return false
			}
		}
		return true
	})
	return ds
}

func create(t *testing.T, s *webhook.Service, storeID string, w webhook.Webhook) webhook.Webhook {
	t.Helper()
	w, err := s.Create(context.Background(), storeID, w)
	require.NoError(t, err)
	return w
}

func hookTo(url string) webhook.Webhook {
	return webhook.Webhook{URL: url, Enabled: true, AutomaticRedelivery: true, Events: webhook.Events{Everything: true}}
}

func TestDeliverSignedPayload(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	hook := hookTo(rc.URL + "/hook?token=t0k")
	hook.Secret = "shared-secret"
	w := create(t, s, "store1", hook)
	src.setInvoice(invoice.Invoice{ID: "inv1", StoreID: "store1", Metadata: json.RawMessage(`{"orderId":"o-1","buyerEmail":"b@example.com"}`)})
	ev := src.add("store1", "inv1", invoice.EventSettled, `{"manuallyMarked":false,"overPaid":true}`)
	start(t, s)
	s.Notify()

	ds := finalDeliveries(t, s, "store1", w.ID, 1)
	d := ds[0]
	require.Equal(t, webhook.HTTPSuccess, d.Status)
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, 200, d.HTTPCode)
	require.Empty(t, d.Error)
	require.NotNil(t, d.DeliveredAt)
	require.Equal(t, ev.ID, d.EventID)
	require.Equal(t, ev.Seq, d.EventSeq)
	require.Equal(t, invoice.EventSettled, d.Type)
	require.False(t, d.Redelivery)
	require.Equal(t, d.ID, d.OriginalID)

	got := rc.requests()
	require.Len(t, got, 1)
	r := got[0]
	require.Equal(t, d.Body, r.Body, "the stored body is the one sent")
	require.Equal(t, "/hook", r.Path)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, "Chengdui-Webhook/1", r.Header.Get("User-Agent"))
	// A receiver checks the signature as BTCPay's docs say.
	mac := hmac.New(sha256.New, []byte("shared-secret"))
	mac.Write(r.Body)
	require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), r.Header.Get("BTCPay-Sig"))

	var p map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, map[string]any{
		"deliveryId": d.ID, "webhookId": w.ID, "originalDeliveryId": d.ID, "isRedelivery": false,
		"type": "InvoiceSettled", "timestamp": float64(ev.CreatedAt.Unix()), "storeId": "store1", "invoiceId": "inv1",
		"metadata":       map[string]any{"orderId": "o-1", "buyerEmail": "b@example.com"},
		"manuallyMarked": false, "overPaid": true,
	}, p)
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answers  []int // by attempt; the last repeats; 0 hangs up
		manual   bool  // AutomaticRedelivery off
		status   webhook.DeliveryStatus
		attempts int
		code     int
		errHas   string
	}{
		{name: "500 then 200", answers: []int{500, 200}, status: webhook.HTTPSuccess, attempts: 2, code: 200},
		{name: "502 503 then 201", answers: []int{502, 503, 201}, status: webhook.HTTPSuccess, attempts: 3, code: 201},
		{name: "408 then 200", answers: []int{408, 200}, status: webhook.HTTPSuccess, attempts: 2, code: 200},
		{name: "429 then 204", answers: []int{429, 204}, status: webhook.HTTPSuccess, attempts: 2, code: 204},
		{name: "hang-up then 200", answers: []int{0, 200}, status: webhook.HTTPSuccess, attempts: 2, code: 200},
		{name: "404 is final", answers: []int{404, 200}, status: webhook.HTTPError, attempts: 1, code: 404, errHas: "HTTP 404 Not Found"},
		{name: "400 is final", answers: []int{400}, status: webhook.HTTPError, attempts: 1, code: 400, errHas: "HTTP 400"},
		{name: "redirect is final", answers: []int{302}, status: webhook.HTTPError, attempts: 1, code: 302, errHas: "HTTP 302"},
		{name: "exhausted", answers: []int{500}, status: webhook.Failed, attempts: 4, code: 500, errHas: "gave up after 4 attempts"},
		{name: "exhausted hang-ups", answers: []int{0}, status: webhook.Failed, attempts: 4, code: 0, errHas: "EOF"},
		{name: "manual 500", answers: []int{500, 200}, manual: true, status: webhook.HTTPError, attempts: 1, code: 500, errHas: "HTTP 500"},
		{name: "manual hang-up", answers: []int{0, 200}, manual: true, status: webhook.Failed, attempts: 1, code: 0, errHas: "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, src := openDB(t), newSource()
			rc := newReceiver(t, func(n int, _ request) int { return tc.answers[min(n, len(tc.answers))-1] })
			s := newService(t, fast(db, src))
			hook := hookTo(rc.URL)
			hook.AutomaticRedelivery = !tc.manual
			w := create(t, s, "st", hook)
			src.add("st", "inv", invoice.EventCreated, `{}`)
			start(t, s)
			s.Notify()
			d := finalDeliveries(t, s, "st", w.ID, 1)[0]
			require.Equal(t, tc.status, d.Status, d.Error)
			require.Equal(t, tc.attempts, d.Attempts)
			require.Equal(t, tc.code, d.HTTPCode)
			require.Contains(t, d.Error, tc.errHas)
			require.NotContains(t, d.Error, rc.URL, "no URL in errors")
			time.Sleep(100 * time.Millisecond) // longer than the whole schedule
			require.Len(t, rc.requests(), tc.attempts, "no attempt after a final status")
			bodies := map[string]bool{}
			for _, r := range rc.requests() {
				bodies[string(r.Body)] = true
			}
			require.Len(t, bodies, 1, "every attempt sends the same bytes")
		})
	}
}

func TestTimeout(t *testing.T) {
	db, src := openDB(t), newSource()
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(n int, _ request) int {
		if n == 1 {
			<-release
		}
		return 200
	})
	cfg := fast(db, src)
	cfg.Timeout = 200 * time.Millisecond
	s := newService(t, cfg)
	w := create(t, s, "st", hookTo(rc.URL))
	src.add("st", "inv", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	d := finalDeliveries(t, s, "st", w.ID, 1)[0]
	require.Equal(t, webhook.HTTPSuccess, d.Status)
	require.Equal(t, 2, d.Attempts)
}

// TestNetworkError: nothing listens at the address.
func TestNetworkError(t *testing.T) {
	db, src := openDB(t), newSource()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	s := newService(t, fast(db, src))
	w := create(t, s, "st", hookTo("http://"+addr+"/hook"))
	src.add("st", "inv", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	d := finalDeliveries(t, s, "st", w.ID, 1)[0]
	require.Equal(t, webhook.Failed, d.Status)
	require.Equal(t, 4, d.Attempts)
	require.Zero(t, d.HTTPCode)
	require.Contains(t, d.Error, "connection refused")
}

// TestDialRefusesPrivate: a webhook saved while private targets were
// allowed (or whose name now resolves to a private address) is refused
// when connecting by a service that does not allow them.
func TestDialRefusesPrivate(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	dev := newService(t, fast(db, src))
	hook := hookTo(strings.Replace(rc.URL, "127.0.0.1", "localhost", 1))
	hook.AutomaticRedelivery = false
	w := create(t, dev, "st", hook)

	cfg := fast(db, src)
	cfg.AllowPrivate = false
	s := newService(t, cfg)
	src.add("st", "inv", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	d := finalDeliveries(t, s, "st", w.ID, 1)[0]
	require.Equal(t, webhook.Failed, d.Status)
	require.Contains(t, d.Error, "refused to connect")
	require.Contains(t, d.Error, "loopback")
	require.Empty(t, rc.requests())
}

func TestRestartResumes(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, func(int, request) int { return 503 })
	cfg := fast(db, src)
	cfg.Backoff = []time.Duration{300 * time.Millisecond}
	a := newService(t, cfg)
	w := create(t, a, "st", hookTo(rc.URL))
	for i := range 5 {
		src.add("st", fmt.Sprintf("inv%d", i), invoice.EventCreated, `{}`)
	}
	stopA := start(t, a)
	a.Notify()
	eventually(t, "first attempts", func() bool {
		ds := deliveries(t, a, "st", w.ID)
		if len(ds) != 5 {
			return false
		}
		for _, d := range ds {
			if d.Attempts != 1 {
				return false
			}
		}
		return true
	})
	stopA()
	firstBodies := map[string][]byte{}
	for _, d := range deliveries(t, a, "st", w.ID) {
		require.Equal(t, webhook.Pending, d.Status)
		firstBodies[d.ID] = d.Body
	}

	// A new process on the same file: it resumes the pending deliveries
	// and does not fan the old events out again.
	rc.setAnswer(nil)
	db2 := reopen(t, db.Path())
	b := newService(t, fast(db2, src))
	start(t, b)
	b.Notify()
	ds := finalDeliveries(t, b, "st", w.ID, 5)
	for _, d := range ds {
		require.Equal(t, webhook.HTTPSuccess, d.Status)
		require.Equal(t, 2, d.Attempts)
		require.Equal(t, firstBodies[d.ID], d.Body)
	}
	time.Sleep(100 * time.Millisecond)
	require.Len(t, deliveries(t, b, "st", w.ID), 5)
	require.Len(t, rc.requests(), 10)
	cur, err := db2.DispatchCursor(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(5), cur)

	// New events still flow.
	src.add("st", "inv9", invoice.EventExpired, `{"partiallyPaid":false}`)
	b.Notify()
	finalDeliveries(t, b, "st", w.ID, 6)
}

func TestRedeliver(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	w := create(t, s, "st", hookTo(rc.URL))
	src.add("st", "inv", invoice.EventProcessing, `{"overPaid":false}`)
	start(t, s)
	s.Notify()
	first := finalDeliveries(t, s, "st", w.ID, 1)[0]

	ctx := context.Background()
	re, err := s.Redeliver(ctx, "st", w.ID, first.ID)
	require.NoError(t, err)
	require.NotEqual(t, first.ID, re.ID)
	require.True(t, re.Redelivery)
	require.Equal(t, first.ID, re.OriginalID)
	require.Equal(t, first.EventID, re.EventID)
	require.Equal(t, webhook.Pending, re.Status)
	ds := finalDeliveries(t, s, "st", w.ID, 2)
	require.Equal(t, re.ID, ds[0].ID, "newest first")
	require.Equal(t, webhook.HTTPSuccess, ds[0].Status)

	// A redelivery of the redelivery keeps the first as original.
	re2, err := s.Redeliver(ctx, "st", w.ID, re.ID)
	require.NoError(t, err)
	require.Equal(t, first.ID, re2.OriginalID)
	finalDeliveries(t, s, "st", w.ID, 3)

	got := rc.requests()
	require.Len(t, got, 3)
	parse := func(b []byte) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	p0, p1, p2 := parse(got[0].Body), parse(got[1].Body), parse(got[2].Body)
	require.Equal(t, re.ID, p1["deliveryId"])
	require.Equal(t, true, p1["isRedelivery"])
	require.Equal(t, first.ID, p1["originalDeliveryId"])
	require.Equal(t, re2.ID, p2["deliveryId"])
	require.Equal(t, first.ID, p2["originalDeliveryId"])
	for _, k := range []string{"deliveryId", "isRedelivery"} {
		delete(p0, k)
		delete(p1, k)
		delete(p2, k)
	}
	require.Equal(t, p0, p1, "the rest is the same, timestamp included")
	require.Equal(t, p0, p2)

	// Not found: unknown delivery, another webhook's, another store's.
	other := create(t, s, "st", hookTo(rc.URL))
	for _, c := range []struct{ store, hook, delivery string }{
		{"st", w.ID, "nope"}, {"st", other.ID, first.ID}, {"elsewhere", w.ID, first.ID},
	} {
		_, err := s.Redeliver(ctx, c.store, c.hook, c.delivery)
		require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v %v", c, err)
	}
	require.Len(t, deliveries(t, s, "st", w.ID), 3)
}

func TestAuthorizedEvents(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	all := create(t, s, "st", hookTo(rc.URL+"/all"))
	some := hookTo(rc.URL + "/some")
	some.Events = webhook.Events{Specific: []string{"InvoiceSettled", "InvoiceExpired"}}
	some = create(t, s, "st", some)
	off := hookTo(rc.URL + "/off")
	off.Enabled = false
	off = create(t, s, "st", off)
	none := hookTo(rc.URL + "/none")
	none.Events = webhook.Events{}
	none = create(t, s, "st", none)
	elsewhere := create(t, s, "other-store", hookTo(rc.URL+"/elsewhere"))

	for _, typ := range []string{invoice.EventCreated, invoice.EventProcessing, invoice.EventSettled} {
		src.add("st", "inv", typ, `{}`)
	}
	src.add("no-hooks", "inv2", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	finalDeliveries(t, s, "st", all.ID, 3)
	ds := finalDeliveries(t, s, "st", some.ID, 1)
	require.Equal(t, invoice.EventSettled, ds[0].Type)
	time.Sleep(100 * time.Millisecond)
	require.Empty(t, deliveries(t, s, "st", off.ID), "disabled")
	require.Empty(t, deliveries(t, s, "st", none.ID), "no events chosen")
	require.Empty(t, deliveries(t, s, "other-store", elsewhere.ID), "another store")
	paths := map[string]int{}
	for _, r := range rc.requests() {
		paths[r.Path]++
	}
	require.Equal(t, map[string]int{"/all": 3, "/some": 1}, paths)
	cur, err := db.DispatchCursor(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(4), cur, "events of stores without webhooks move the cursor")
}

// TestDisabledAndDeleted: deliveries made before a webhook was disabled
// end Failed; a deleted webhook's deliveries are gone and not sent.
func TestDisabledAndDeleted(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, func(int, request) int { return 500 })
	cfg := fast(db, src)
	cfg.Backoff = []time.Duration{200 * time.Millisecond}
	s := newService(t, cfg)
	ctx := context.Background()
	disabled := create(t, s, "st", hookTo(rc.URL+"/disabled"))
	deleted := create(t, s, "st", hookTo(rc.URL+"/deleted"))
	src.add("st", "inv", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	eventually(t, "first attempts", func() bool { return len(rc.requests()) == 2 })
	off := disabled
	off.Enabled, off.Secret = false, ""
	_, err := s.Update(ctx, "st", disabled.ID, off)
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "st", deleted.ID))
	d := finalDeliveries(t, s, "st", disabled.ID, 1)[0]
	require.Equal(t, webhook.Failed, d.Status)
	require.Equal(t, "webhook is disabled", d.Error)
	require.Equal(t, 1, d.Attempts)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, rc.requests(), 2)
	_, err = s.Deliveries(ctx, "st", deleted.ID, 10)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Delivery(ctx, "st", disabled.ID, "x")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

// TestConcurrentDispatchers runs two services on one database file, as
// two processes: every event reaches every webhook exactly once.
func TestConcurrentDispatchers(t *testing.T) {
	db, src := openDB(t), newSource()
	db2 := reopen(t, db.Path())
	rc := newReceiver(t, nil)
	a := newService(t, fast(db, src))
	b := newService(t, fast(db2, src))
	const stores, events = 4, 60
	var hooks []webhook.Webhook
	for i := range stores {
		for j := range 2 {
			hooks = append(hooks, create(t, []*webhook.Service{a, b}[j], fmt.Sprintf("st%d", i), hookTo(rc.URL)))
		}
	}
	start(t, a)
	start(t, b)
	for i := range events {
		src.add(fmt.Sprintf("st%d", i%stores), fmt.Sprintf("inv%d", i), invoice.EventCreated, `{}`)
		if i%3 == 0 {
			a.Notify()
			b.Notify()
		}
	}
	a.Notify()
	b.Notify()
	total := 0
	for _, h := range hooks {
		ds := finalDeliveries(t, a, h.StoreID, h.ID, events/stores)
		seen := map[string]bool{}
		for _, d := range ds {
			require.Equal(t, webhook.HTTPSuccess, d.Status)
			require.Equal(t, 1, d.Attempts)
			require.False(t, seen[d.EventID], "event %s twice to %s", d.EventID, h.ID)
			seen[d.EventID] = true
		}
		total += len(ds)
	}
	require.Equal(t, stores*2*events/stores, total)
	time.Sleep(100 * time.Millisecond)
	got := rc.requests()
	require.Len(t, got, total, "each delivery sent once")
	ids := map[string]bool{}
	for _, r := range got {
		var p struct{ DeliveryID string }
		require.NoError(t, json.Unmarshal(r.Body, &p))
		require.False(t, ids[p.DeliveryID])
		ids[p.DeliveryID] = true
	}
}

// TestLateEvent: an event whose Seq the dispatcher passed before it was
// visible (a PostgreSQL transaction committing after a later one) is still
// delivered, once.
func TestLateEvent(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	w := create(t, s, "st", hookTo(rc.URL))
	src.add("st", "inv1", invoice.EventCreated, `{}`)
	src.insertAt(3, "st", "inv3", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	finalDeliveries(t, s, "st", w.ID, 2)
	src.insertAt(2, "st", "inv2", invoice.EventCreated, `{}`)
	ds := finalDeliveries(t, s, "st", w.ID, 3)
	var seqs []int64
	for _, d := range ds {
		seqs = append(seqs, d.EventSeq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	require.Equal(t, []int64{1, 2, 3}, seqs)
	time.Sleep(200 * time.Millisecond)
	require.Len(t, rc.requests(), 3)
}

// TestNotifyLatency: with a poll interval far longer than the test, a
// notified event reaches the endpoint at once.
func TestNotifyLatency(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	cfg := fast(db, src)
	cfg.Poll = time.Hour
	s := newService(t, cfg)
	create(t, s, "st", hookTo(rc.URL))
	start(t, s)
	var lat []time.Duration
	for i := range 40 {
		begin := time.Now()
		src.add("st", fmt.Sprintf("inv%d", i), invoice.EventSettled, `{"manuallyMarked":false,"overPaid":false}`)
		s.Notify()
		select {
		case <-rc.signal:
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d not delivered within 10 s of Notify", i)
		}
		lat = append(lat, time.Since(begin))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("Notify to endpoint: p50 %v, p99 %v, max %v", p50, p99, lat[len(lat)-1])
	// Without Notify each would wait the hour-long poll. The bounds leave
	// room for a loaded machine and the race detector; unloaded, p50 is
	// about 5 ms and p99 below 40 ms.
	require.Less(t, p50, 100*time.Millisecond)
	require.Less(t, lat[len(lat)-1], 2*time.Second)
}

func TestValidation(t *testing.T) {
	db, src := openDB(t), newSource()
	cfg := fast(db, src)
	cfg.AllowPrivate = false
	s := newService(t, cfg)
	ctx := context.Background()
	good := hookTo("https://93.184.215.14/hook")
	for _, tc := range []struct {
		name  string
		store string
		edit  func(w *webhook.Webhook)
		msg   string
	}{
		{"missing url", "st", func(w *webhook.Webhook) { w.URL = "" }, "url is required"},
		{"relative url", "st", func(w *webhook.Webhook) { w.URL = "/hook" }, "http:// or https://"},
		{"ftp url", "st", func(w *webhook.Webhook) { w.URL = "ftp://93.184.215.14/" }, "http:// or https://"},
		{"userinfo", "st", func(w *webhook.Webhook) { w.URL = "https://me:pw@93.184.215.14/" }, "user name or password"},
		{"loopback", "st", func(w *webhook.Webhook) { w.URL = "http://127.0.0.1:8080/" }, "loopback"},
		{"localhost", "st", func(w *webhook.Webhook) { w.URL = "http://localhost:8080/" }, "loopback"},
		{"private", "st", func(w *webhook.Webhook) { w.URL = "http://192.168.1.10/" }, "private"},
		{"metadata service", "st", func(w *webhook.Webhook) { w.URL = "http://169.254.169.254/" }, "link-local"},
		{"unknown event", "st", func(w *webhook.Webhook) {
			w.Events = webhook.Events{Specific: []string{"InvoiceSettled", "InvoicePaid"}}
		}, `unknown webhook event "InvoicePaid"`},
		{"bad id", "st", func(w *webhook.Webhook) { w.ID = "a/b" }, "webhook id"},
		{"long secret", "st", func(w *webhook.Webhook) { w.Secret = strings.Repeat("s", 1025) }, "secret"},
		{"no store", "", func(*webhook.Webhook) {}, "store id is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := good
			tc.edit(&w)
			_, err := s.Create(ctx, tc.store, w)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.msg)
			require.NotContains(t, err.Error(), "pw")
			list, err := s.List(ctx, "st")
			require.NoError(t, err)
			require.Empty(t, list, "nothing created")
		})
	}

	// A valid webhook: id and secret generated, events de-duplicated.
	w := good
	w.Events = webhook.Events{Specific: []string{"InvoiceSettled", "InvoiceSettled", "PayoutCreated"}}
	created, err := s.Create(ctx, "st", w)
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)
	require.GreaterOrEqual(t, len(created.Secret), 32)
	require.Equal(t, []string{"InvoiceSettled", "PayoutCreated"}, created.Events.Specific)
	got, err := s.Get(ctx, "st", created.ID)
	require.NoError(t, err)
	require.Equal(t, created, got)
	other, err := s.Create(ctx, "st", good)
	require.NoError(t, err)
	require.NotEqual(t, created.ID, other.ID)
	require.NotEqual(t, created.Secret, other.Secret)
	// A chosen id is kept, and must be free.
	w = good
	w.ID, w.Secret = "my-hook_1", "chosen"
	mine, err := s.Create(ctx, "st", w)
	require.NoError(t, err)
	require.Equal(t, "my-hook_1", mine.ID)
	require.Equal(t, "chosen", mine.Secret)
	_, err = s.Create(ctx, "st", w)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)

	// Bad updates change nothing.
	for _, bad := range []webhook.Webhook{
		{URL: "http://10.0.0.1/"},
		{URL: ""},
		{URL: good.URL, Events: webhook.Events{Specific: []string{"Nope"}}},
	} {
		_, err := s.Update(ctx, "st", created.ID, bad)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		got, err := s.Get(ctx, "st", created.ID)
		require.NoError(t, err)
		require.Equal(t, created, got)
	}
	// An update without secret keeps it; with one, replaces it.
	upd := good
	upd.URL, upd.Enabled = "https://93.184.215.14/other", false
	updated, err := s.Update(ctx, "st", created.ID, upd)
	require.NoError(t, err)
	require.Equal(t, created.Secret, updated.Secret)
	require.Equal(t, created.CreatedAt, updated.CreatedAt)
	require.False(t, updated.Enabled)
	upd.Secret = "rotated"
	updated, err = s.Update(ctx, "st", created.ID, upd)
	require.NoError(t, err)
	require.Equal(t, "rotated", updated.Secret)
	got, err = s.Get(ctx, "st", created.ID)
	require.NoError(t, err)
	require.Equal(t, updated, got)

	_, err = s.Deliveries(ctx, "st", created.ID, -1)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
}

func TestPrivateAllowed(t *testing.T) {
	db, src := openDB(t), newSource()
	cfg := fast(db, src)
	cfg.AllowPrivate = false
	strict := newService(t, cfg)
	_, err := strict.Create(context.Background(), "st", hookTo("http://127.0.0.1:9/hook"))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	dev := newService(t, fast(db, src))
	_, err = dev.Create(context.Background(), "st", hookTo("http://127.0.0.1:9/hook"))
	require.NoError(t, err)
}

func TestOtherStore(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	ctx := context.Background()
	w := create(t, s, "mine", hookTo(rc.URL))
	src.add("mine", "inv", invoice.EventCreated, `{}`)
	start(t, s)
	s.Notify()
	d := finalDeliveries(t, s, "mine", w.ID, 1)[0]

	notFound := func(err error) {
		t.Helper()
		require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
	}
	_, err := s.Get(ctx, "theirs", w.ID)
	notFound(err)
	_, err = s.Update(ctx, "theirs", w.ID, hookTo(rc.URL+"/stolen"))
	notFound(err)
	notFound(s.Delete(ctx, "theirs", w.ID))
	_, err = s.Deliveries(ctx, "theirs", w.ID, 10)
	notFound(err)
	_, err = s.Delivery(ctx, "theirs", w.ID, d.ID)
	notFound(err)
	_, err = s.Redeliver(ctx, "theirs", w.ID, d.ID)
	notFound(err)
	list, err := s.List(ctx, "theirs")
	require.NoError(t, err)
	require.Empty(t, list)

	got, err := s.Get(ctx, "mine", w.ID)
	require.NoError(t, err)
	require.Equal(t, w, got, "unchanged")
	got2, err := s.Delivery(ctx, "mine", w.ID, d.ID)
	require.NoError(t, err)
	require.Equal(t, d, got2)
	require.Len(t, deliveries(t, s, "mine", w.ID), 1)
}

func TestNew(t *testing.T) {
	db, src := openDB(t), newSource()
	for _, cfg := range []webhook.Config{
		{Events: src},
		{Store: db},
		{Store: db, Events: src, Timeout: -1},
		{Store: db, Events: src, Workers: -1},
		{Store: db, Events: src, Backoff: []time.Duration{time.Second, 0}},
	} {
		_, err := webhook.New(cfg)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	}
	require.Equal(t, 8, len(webhook.DefaultBackoff()))
}

func testLog() *slog.Logger {
	if os.Getenv("WEBHOOK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// TestInvoiceStoreSource uses the SQLite invoice store itself as the
// outbox: events written with an invoice reach its store's webhook with
// the invoice's metadata.
func TestInvoiceStoreSource(t *testing.T) {
	db := openDB(t)
	var _ webhook.EventSource = db
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, db))
	w := create(t, s, "store1", hookTo(rc.URL))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	inv := invoice.Invoice{ID: "inv-int", StoreID: "store1", Currency: "USD", Decimals: 2, Status: invoice.New, Additional: invoice.None,
		SpeedPolicy: invoice.MediumSpeed, Metadata: json.RawMessage(`{"orderId":"A-1"}`), OrderID: "A-1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), MonitoringUntil: now.Add(2 * time.Hour), UpdatedAt: now}
	ev := invoice.Event{ID: "inv-int:created", StoreID: "store1", InvoiceID: inv.ID, Type: invoice.EventCreated, Data: json.RawMessage(`{}`), CreatedAt: now}
	require.NoError(t, db.CreateInvoice(ctx, inv, []invoice.Event{ev}))
	start(t, s)
	s.Notify()
	d := finalDeliveries(t, s, "store1", w.ID, 1)[0]
	require.Equal(t, webhook.HTTPSuccess, d.Status)
	require.Equal(t, "inv-int:created", d.EventID)
	var p map[string]any
	require.NoError(t, json.Unmarshal(d.Body, &p))
	require.Equal(t, map[string]any{"orderId": "A-1"}, p["metadata"])
	require.Equal(t, float64(now.Unix()), p["timestamp"])
	require.Equal(t, "inv-int", p["invoiceId"])
}

// TestMalformedEventData: an event whose data is not an object does not
// stop the outbox; it is sent without its data.
func TestMalformedEventData(t *testing.T) {
	db, src := openDB(t), newSource()
	rc := newReceiver(t, nil)
	s := newService(t, fast(db, src))
	w := create(t, s, "st", hookTo(rc.URL))
	src.add("st", "inv", invoice.EventSettled, `[1,2]`)
	src.add("st", "inv", invoice.EventExpired, `{"partiallyPaid":true}`)
	start(t, s)
	s.Notify()
	ds := finalDeliveries(t, s, "st", w.ID, 2)
	var p map[string]any
	require.NoError(t, json.Unmarshal(ds[1].Body, &p))
	require.Equal(t, "InvoiceSettled", p["type"])
	require.Len(t, p, 9, "the envelope only")
	p = nil
	require.NoError(t, json.Unmarshal(ds[0].Body, &p))
	require.Equal(t, true, p["partiallyPaid"])
}
