package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/rail"
	"chengdui/rail/sandbox"
)

const (
	apiKey = "test-api-key"
	secret = "test-callback-secret"
)

func cents(n uint64) chengdui.Amount { return uint128.From64(n) }

// receiver is the platform's callback endpoint: it verifies every
// callback and can refuse the first ones to test retries.
type receiver struct {
	srv     *httptest.Server
	updates chan rail.Update
	refuse  atomic.Int32 // answer 500 to this many more requests
	hits    atomic.Int32
	bad     atomic.Int32 // callbacks with a bad signature or body
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{updates: make(chan rail.Update, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.refuse.Add(-1) >= 0 {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(req.Body)
		u, err := sandbox.VerifyCallback(secret, body, req.Header.Get(sandbox.SignatureHeader))
		if err != nil {
			r.bad.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.updates <- u
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// next waits for the next callback.
func (r *receiver) next(t *testing.T) rail.Update {
	t.Helper()
	select {
	case u := <-r.updates:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10 s")
		return rail.Update{}
	}
}

// quiet checks that no further callback arrives.
func (r *receiver) quiet(t *testing.T) {
	t.Helper()
	select {
	case u := <-r.updates:
		t.Fatalf("unexpected callback %+v", u)
	case <-time.After(100 * time.Millisecond):
	}
	if n := r.bad.Load(); n != 0 {
		t.Fatalf("%d callbacks failed verification", n)
	}
}

// newBank serves a bank over httptest and returns its client.
func newBank(t *testing.T, cfg sandbox.Config) (*sandbox.Bank, *sandbox.Client, string) {
	t.Helper()
	cfg.APIKey = apiKey
	if cfg.CallbackURL != "" {
		cfg.CallbackSecret = secret
	}
	if cfg.ConfirmDelay == 0 {
		cfg.ConfirmDelay = 10 * time.Millisecond
	}
	b, err := sandbox.NewBank(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(func() { srv.Close(); b.Close() })
	return b, sandbox.NewClient(srv.URL, apiKey, srv.Client()), srv.URL
}

func eur(id string, amount uint64, name, iban, ref string) rail.Order {
	return rail.Order{ID: id, Currency: "EUR", Amount: cents(amount), Decimals: 2,
		Creditor: rail.Party{Name: name, IBAN: iban}, Reference: ref}
}

const (
	ibanDE = "DE89370400440532013000"
	ibanFR = "FR1420041010050500013M02606"
	ibanNL = "NL91ABNA0417164300"
	ibanGB = "GB82WEST12345698765432"
)

func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t)
	_, c, _ := newBank(t, sandbox.Config{
		CallbackURL:   rcv.srv.URL,
		Funding:       map[string]chengdui.Amount{"EUR": cents(100000), "CNY": cents(50000)},
		OperatingIBAN: "NL91 ABNA 0417 1643 00",
		FailAccounts:  []string{"fr14 2004 1010 0505 0001 3m02 606"},
	})
	var _ rail.Rail = c
	if c.Name() != "sandbox" || strings.Join(c.Currencies(), ",") != "CNY,EUR,USD" {
		t.Fatalf("Name %q Currencies %v", c.Name(), c.Currencies())
	}

	// A completes; submitting it again returns the same reference.
	a := eur("po-a", 12345, "Müller GmbH", ibanDE, "Invoice 1")
	refA, err := c.Submit(ctx, a)
	if err != nil || !strings.HasPrefix(refA, "SBX") {
		t.Fatalf("Submit = %q, %v", refA, err)
	}
	again := a
	again.Creditor.IBAN = "de89 3704 0044 0532 0130 00"
	if ref, err := c.Submit(ctx, again); err != nil || ref != refA {
		t.Fatalf("resubmit = %q, %v; want %q", ref, err, refA)
	}
	changed := a
	changed.Amount = cents(12346)
	if _, err := c.Submit(ctx, changed); chengdui.ErrorCode(err) != chengdui.EIDConflict {
		t.Fatalf("resubmit with another amount = %v, want id_conflict", err)
	}
	u := rcv.next(t)
	if u.OrderID != "po-a" || u.BankRef != refA || u.Status != rail.Completed || u.Reason != "" || u.At.IsZero() {
		t.Fatalf("callback %+v", u)
	}
	if st, err := c.Status(ctx, "po-a"); err != nil || st.Status != rail.Completed || st.BankRef != refA || !st.At.Equal(u.At) {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if st, err := c.Status(ctx, refA); err != nil || st.OrderID != "po-a" {
		t.Fatalf("Status by bank reference = %+v, %v", st, err)
	}

	// B pays an account on the failure list; C more than the balance.
	b := eur("po-b", 500, "Lefèvre", ibanFR, "")
	refB, err := c.Submit(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if u := rcv.next(t); u.OrderID != "po-b" || u.BankRef != refB || u.Status != rail.Failed || u.Reason != sandbox.ReasonClosedAccount {
		t.Fatalf("callback %+v", u)
	}
	if _, err := c.Submit(ctx, eur("po-c", 100001, "Big", ibanNL, "")); err != nil {
		t.Fatal(err)
	}
	if u := rcv.next(t); u.OrderID != "po-c" || u.Status != rail.Failed || !strings.Contains(u.Reason, "insufficient funds") {
		t.Fatalf("callback %+v", u)
	}
	// D: a domestic CNY payment.
	d := rail.Order{ID: "po-d", Currency: "CNY", Amount: cents(8888), Decimals: 2, Reference: "结算 5月",
		Creditor: rail.Party{Name: "成都商户", Account: "6222021234567890", BankCode: "102100099996", Country: "CN"}}
	if _, err := c.Submit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if u := rcv.next(t); u.OrderID != "po-d" || u.Status != rail.Completed {
		t.Fatalf("callback %+v", u)
	}

	// A is returned: a second callback, and the reversal on statements.
	ret, err := c.Return(ctx, "po-a", "")
	if err != nil || ret.Status != rail.Returned || ret.Reason != sandbox.ReasonReturned || ret.BankRef != refA {
		t.Fatalf("Return = %+v, %v", ret, err)
	}
	if u := rcv.next(t); u.OrderID != "po-a" || u.Status != rail.Returned || u.Reason != sandbox.ReasonReturned || !u.At.Equal(ret.At) {
		t.Fatalf("callback %+v", u)
	}
	for _, tc := range []struct{ id, code string }{
		{"po-a", chengdui.EConflict}, // already returned
		{"po-b", chengdui.EConflict}, // failed
		{"po-x", chengdui.ENotFound},
	} {
		if _, err := c.Return(ctx, tc.id, ""); chengdui.ErrorCode(err) != tc.code {
			t.Errorf("Return(%s) = %v, want %s", tc.id, err, tc.code)
		}
	}
	if _, err := c.Return(ctx, "po-d", "bad\nreason"); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Errorf("Return with a control character = %v", err)
	}
	if _, err := c.Status(ctx, "po-x"); chengdui.ErrorCode(err) != chengdui.ENotFound {
		t.Errorf("Status of an unknown order = %v", err)
	}
	rcv.quiet(t)

	// Statements: every entry and balance exact.
	type line struct {
		kind      sandbox.Kind
		dir       sandbox.Direction
		amount    uint64
		balance   uint64
		orderID   string
		reference string
		cp        string
	}
	check := func(accountID string, after int64, opening, balance uint64, want []line) sandbox.Statement {
		t.Helper()
		s, err := c.Statement(ctx, accountID, after)
		if err != nil {
			t.Fatalf("Statement(%s) = %v", accountID, err)
		}
		if s.AccountID != accountID || s.Decimals != 2 || s.Opening != cents(opening) || s.Balance != cents(balance) || len(s.Entries) != len(want) {
			t.Fatalf("Statement(%s, %d) = %+v", accountID, after, s)
		}
		for i, w := range want {
			e := s.Entries[i]
			if e.Kind != w.kind || e.Direction != w.dir || e.Amount != cents(w.amount) || e.Balance != cents(w.balance) ||
				e.OrderID != w.orderID || e.Reference != w.reference || e.Counterparty != w.cp ||
				e.ValueDate != e.BookedAt.Format(time.DateOnly) || (i > 0 && e.Seq <= s.Entries[i-1].Seq) {
				t.Fatalf("%s entry %d = %+v, want %+v", accountID, i, e, w)
			}
			if w.orderID == "po-a" && e.BankRef != refA {
				t.Fatalf("%s entry %d has bank reference %q", accountID, i, e.BankRef)
			}
		}
		return s
	}
	opEUR := sandbox.OperatingAccountID("EUR")
	deEUR := sandbox.AccountID("EUR", rail.Party{IBAN: ibanDE})
	s := check(opEUR, 0, 0, 100000, []line{
		{sandbox.KindOpening, sandbox.Credit, 100000, 100000, "", "opening balance", ""},
		{sandbox.KindPayment, sandbox.Debit, 12345, 87655, "po-a", "Invoice 1", deEUR},
		{sandbox.KindReturn, sandbox.Credit, 12345, 100000, "po-a", sandbox.ReasonReturned, deEUR},
	})
	if s.IBAN != ibanNL || s.Currency != "EUR" || s.Name != sandbox.DefaultOperatingName {
		t.Fatalf("operating account %+v", s)
	}
	check(opEUR, s.Entries[0].Seq, 100000, 100000, []line{
		{sandbox.KindPayment, sandbox.Debit, 12345, 87655, "po-a", "Invoice 1", deEUR},
		{sandbox.KindReturn, sandbox.Credit, 12345, 100000, "po-a", sandbox.ReasonReturned, deEUR},
	})
	check(opEUR, s.Entries[2].Seq, 100000, 100000, nil)
	cr := check(deEUR, 0, 0, 0, []line{
		{sandbox.KindPayment, sandbox.Credit, 12345, 12345, "po-a", "Invoice 1", opEUR},
		{sandbox.KindReturn, sandbox.Debit, 12345, 0, "po-a", sandbox.ReasonReturned, opEUR},
	})
	if cr.Name != "Müller GmbH" || cr.IBAN != ibanDE {
		t.Fatalf("creditor account %+v", cr)
	}
	cnyCreditor := sandbox.AccountID("CNY", d.Creditor)
	if cnyCreditor != "CNY:102100099996:6222021234567890" {
		t.Fatalf("AccountID = %q", cnyCreditor)
	}
	check(sandbox.OperatingAccountID("CNY"), 0, 0, 41112, []line{
		{sandbox.KindOpening, sandbox.Credit, 50000, 50000, "", "opening balance", ""},
		{sandbox.KindPayment, sandbox.Debit, 8888, 41112, "po-d", "结算 5月", cnyCreditor},
	})
	check(cnyCreditor, 0, 0, 8888, []line{{sandbox.KindPayment, sandbox.Credit, 8888, 8888, "po-d", "结算 5月", sandbox.OperatingAccountID("CNY")}})
	check(sandbox.OperatingAccountID("USD"), 0, 0, 0, nil)
	// Failed orders open no account.
	for _, id := range []string{sandbox.AccountID("EUR", rail.Party{IBAN: ibanFR}), sandbox.AccountID("EUR", rail.Party{IBAN: ibanNL}), "nope"} {
		if _, err := c.Statement(ctx, id, 0); chengdui.ErrorCode(err) != chengdui.ENotFound {
			t.Errorf("Statement(%s) = %v, want not_found", id, err)
		}
	}
	if _, err := c.Statement(ctx, opEUR, -1); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Errorf("Statement after -1 = %v", err)
	}
}

func TestCallbackRetries(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t)
	rcv.refuse.Store(2)
	_, c, _ := newBank(t, sandbox.Config{CallbackURL: rcv.srv.URL, CallbackBackoff: 5 * time.Millisecond,
		Funding: map[string]chengdui.Amount{"EUR": cents(1000)}})
	ref, err := c.Submit(ctx, eur("po-1", 100, "A", ibanGB, ""))
	if err != nil {
		t.Fatal(err)
	}
	if u := rcv.next(t); u.BankRef != ref || u.Status != rail.Completed {
		t.Fatalf("callback %+v", u)
	}
	if n := rcv.hits.Load(); n != 3 {
		t.Fatalf("%d callback requests, want 3 (two refused)", n)
	}
	rcv.quiet(t)
}

func TestCallbackGivesUp(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t)
	rcv.refuse.Store(1000)
	_, c, _ := newBank(t, sandbox.Config{CallbackURL: rcv.srv.URL, CallbackBackoff: time.Millisecond, CallbackAttempts: 3,
		Funding: map[string]chengdui.Amount{"EUR": cents(1000)}})
	if _, err := c.Submit(ctx, eur("po-1", 100, "A", ibanGB, "")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rcv.hits.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if n := rcv.hits.Load(); n != 3 {
		t.Fatalf("%d callback requests, want 3", n)
	}
	// Polling still tells.
	if u, err := c.Status(ctx, "po-1"); err != nil || u.Status != rail.Completed {
		t.Fatalf("Status = %+v, %v", u, err)
	}
}

// TestWithoutCallbacks: with no callback URL the platform polls.
func TestWithoutCallbacks(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newBank(t, sandbox.Config{Funding: map[string]chengdui.Amount{"USD": cents(1000)}})
	o := rail.Order{ID: "po-usd", Currency: "USD", Amount: cents(999), Decimals: 2,
		Creditor: rail.Party{Name: "Acme", Account: "000123456789", BankCode: "021000021"}}
	if _, err := c.Submit(ctx, o); err != nil {
		t.Fatal(err)
	}
	u := poll(t, c, "po-usd", rail.Completed)
	if u.Reason != "" {
		t.Fatalf("Status = %+v", u)
	}
	s, err := c.Statement(ctx, sandbox.OperatingAccountID("USD"), 0)
	if err != nil || s.Balance != cents(1) {
		t.Fatalf("Statement = %+v, %v", s, err)
	}
}

func poll(t *testing.T, c *sandbox.Client, id string, want rail.Status) rail.Update {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, err := c.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status == want {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s is %s, want %s", id, u.Status, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrency submits 150 orders of 1.00 EUR, each twice, from 10
// goroutines against 100.00 EUR: exactly 100 complete, 50 fail for
// insufficient funds, and no cent is lost or made.
func TestConcurrency(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t)
	_, c, _ := newBank(t, sandbox.Config{CallbackURL: rcv.srv.URL, Funding: map[string]chengdui.Amount{"EUR": cents(10000)}})
	ibans := []string{ibanDE, ibanNL, ibanGB, "AT611904300234573201", "BE68539007547034"}
	const n, workers = 150, 10
	refs := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				o := eur("po-"+strconv.Itoa(i), 100, "Merchant", ibans[i%len(ibans)], "payout")
				for range 2 {
					ref, err := c.Submit(ctx, o)
					if err != nil {
						errs <- err
						return
					}
					if refs[i] != "" && refs[i] != ref {
						errs <- chengdui.Errorf(chengdui.EInternal, "order %s got two references", o.ID)
					}
					refs[i] = ref
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	completed, failed := 0, 0
	for range n {
		u := rcv.next(t)
		if seen[u.OrderID] {
			t.Fatalf("two callbacks for %s", u.OrderID)
		}
		seen[u.OrderID] = true
		switch {
		case u.Status == rail.Completed:
			completed++
		case u.Status == rail.Failed && u.Reason == sandbox.ReasonInsufficientFunds:
			failed++
		default:
			t.Fatalf("callback %+v", u)
		}
	}
	rcv.quiet(t)
	if completed != 100 || failed != 50 {
		t.Fatalf("%d completed, %d failed; want 100 and 50", completed, failed)
	}
	op, err := c.Statement(ctx, sandbox.OperatingAccountID("EUR"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !op.Balance.IsZero() || len(op.Entries) != 101 {
		t.Fatalf("operating balance %s with %d entries", op.Balance, len(op.Entries))
	}
	// Every balance follows from the one before.
	bal := cents(0)
	for _, e := range op.Entries {
		if e.Direction == sandbox.Credit {
			bal = bal.Add(e.Amount)
		} else {
			bal = bal.Sub(e.Amount)
		}
		if e.Balance != bal {
			t.Fatalf("entry %d: balance %s, want %s", e.Seq, e.Balance, bal)
		}
	}
	total := cents(0)
	for _, iban := range ibans {
		s, err := c.Statement(ctx, sandbox.AccountID("EUR", rail.Party{IBAN: iban}), 0)
		if err != nil {
			t.Fatal(err)
		}
		total = total.Add(s.Balance)
	}
	if total != cents(10000) {
		t.Fatalf("creditors hold %s cents, want 10000", total)
	}
}

// TestBadRequests sends malformed requests over HTTP: each gets a 4xx
// JSON error and changes nothing.
func TestBadRequests(t *testing.T) {
	_, c, url := newBank(t, sandbox.Config{Funding: map[string]chengdui.Amount{"EUR": cents(1000)}})
	good := `{"currency":"EUR","amount":"1.00","creditor":{"name":"A","iban":"` + ibanDE + `"}}`
	bearer := map[string]string{"Authorization": "Bearer " + apiKey}
	with := func(kv ...string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + apiKey}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	key := func(k string) map[string]string { return with("Idempotency-Key", k) }
	body := func(edit string) string { return strings.Replace(good, `"amount":"1.00"`, edit, 1) }
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		code, msg          string
	}{
		{"no credentials", "POST", "/v1/payment-orders", map[string]string{"Idempotency-Key": "k1"}, good, 401, chengdui.EUnauthorized, "API key"},
		{"wrong bearer", "POST", "/v1/payment-orders", map[string]string{"Idempotency-Key": "k1", "Authorization": "Bearer nope"}, good, 401, chengdui.EUnauthorized, "API key"},
		{"wrong basic password", "GET", "/v1/payment-orders/k1", map[string]string{"Authorization": "Basic dXNlcjpub3Bl"}, "", 401, chengdui.EUnauthorized, "API key"},
		{"no idempotency key", "POST", "/v1/payment-orders", bearer, good, 400, chengdui.EInvalid, "Idempotency-Key"},
		{"bad idempotency key", "POST", "/v1/payment-orders", key("k 1"), good, 400, chengdui.EInvalid, "Idempotency-Key"},
		{"long idempotency key", "POST", "/v1/payment-orders", key(strings.Repeat("k", 36)), good, 400, chengdui.EInvalid, "Idempotency-Key"},
		{"not JSON", "POST", "/v1/payment-orders", key("k1"), "{", 400, chengdui.EInvalid, "JSON"},
		{"unknown field", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, "{", `{"x":1,`, 1), 400, chengdui.EInvalid, "unknown field"},
		{"two values", "POST", "/v1/payment-orders", key("k1"), good + good, 400, chengdui.EInvalid, "more than one"},
		{"text body", "POST", "/v1/payment-orders", with("Idempotency-Key", "k1", "Content-Type", "text/plain"), good, 400, chengdui.EInvalid, "application/json"},
		{"too large", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, `"A"`, `"`+strings.Repeat("A", 70000)+`"`, 1), 413, "too_large", "exceeds"},
		{"unknown currency", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, "EUR", "GBP", 1), 400, chengdui.EInvalid, "not supported"},
		{"negative amount", "POST", "/v1/payment-orders", key("k1"), body(`"amount":"-1.00"`), 400, chengdui.EInvalidAmount, "negative"},
		{"zero amount", "POST", "/v1/payment-orders", key("k1"), body(`"amount":"0.00"`), 400, chengdui.EZeroAmount, "positive"},
		{"three decimals", "POST", "/v1/payment-orders", key("k1"), body(`"amount":"1.001"`), 400, chengdui.EInvalidAmount, "decimals"},
		{"float exponent", "POST", "/v1/payment-orders", key("k1"), body(`"amount":"1e2"`), 400, chengdui.EInvalidAmount, "decimal"},
		{"number amount", "POST", "/v1/payment-orders", key("k1"), body(`"amount":1.00`), 400, chengdui.EInvalid, "JSON"},
		{"empty amount", "POST", "/v1/payment-orders", key("k1"), body(`"amount":""`), 400, chengdui.EInvalidAmount, "empty"},
		{"IBAN checksum", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, ibanDE, "DE88370400440532013000", 1), 400, chengdui.EInvalid, "checksum"},
		{"IBAN length", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, ibanDE, "DE8937040044053201300", 1), 400, chengdui.EInvalid, "22"},
		{"EUR without IBAN", "POST", "/v1/payment-orders", key("k1"), `{"currency":"EUR","amount":"1.00","creditor":{"name":"A","account":"1","bank_code":"2"}}`, 400, chengdui.EInvalid, "IBAN"},
		{"no name", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, `"A"`, `""`, 1), 400, chengdui.EInvalid, "name"},
		{"bad BIC", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, `"name"`, `"bic":"XX","name"`, 1), 400, chengdui.EInvalid, "BIC"},
		{"long reference", "POST", "/v1/payment-orders", key("k1"), strings.Replace(good, "}}", `},"reference":"`+strings.Repeat("r", 141)+`"}`, 1), 400, chengdui.EInvalid, "reference"},
		{"unknown order", "GET", "/v1/payment-orders/k1", bearer, "", 404, chengdui.ENotFound, "k1"},
		{"unknown route", "GET", "/v1/nothing", bearer, "", 404, chengdui.ENotFound, "no route"},
		{"wrong method", "DELETE", "/v1/payment-orders/k1", bearer, "", 404, chengdui.ENotFound, "no route"},
		{"unknown account", "GET", "/v1/accounts/EUR:XX/statement", bearer, "", 404, chengdui.ENotFound, "account"},
		{"bad after", "GET", "/v1/accounts/EUR:OPERATING/statement?after=x", bearer, "", 400, chengdui.EInvalid, "after"},
		{"return unknown", "POST", "/v1/payment-orders/k1/return", bearer, "", 404, chengdui.ENotFound, "k1"},
		{"return bad body", "POST", "/v1/payment-orders/k1/return", bearer, `{"why":1}`, 400, chengdui.EInvalid, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := send(t, tt.method, url+tt.path, tt.header, tt.body)
			if status != tt.status || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("%s %s = %d %+v; want %d %s %q", tt.method, tt.path, status, e, tt.status, tt.code, tt.msg)
			}
		})
	}
	// Nothing was booked or accepted.
	s, err := c.Statement(context.Background(), sandbox.OperatingAccountID("EUR"), 0)
	if err != nil || len(s.Entries) != 1 || s.Balance != cents(1000) {
		t.Fatalf("Statement = %+v, %v", s, err)
	}
	if _, err := c.Status(context.Background(), "k1"); chengdui.ErrorCode(err) != chengdui.ENotFound {
		t.Fatalf("Status(k1) = %v", err)
	}
	// Basic auth with the key as password works; the first answer is
	// 201, a replay 200.
	basic := map[string]string{"Authorization": "Basic dXNlcjp0ZXN0LWFwaS1rZXk=", "Idempotency-Key": "k1"} // user:test-api-key
	for _, want := range []int{201, 200} {
		if status, e := send(t, "POST", url+"/v1/payment-orders", basic, good); status != want {
			t.Fatalf("POST with basic auth = %d %+v, want %d", status, e, want)
		}
	}
}

// send makes one request and decodes an error answer.
func send(t *testing.T, method, url string, header map[string]string, body string) (int, struct{ Code, Message string }) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Code, Message string }
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("error answer of type %q", ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("error answer is not JSON: %v", err)
		}
	}
	return resp.StatusCode, e
}

func TestClientValidatesLocally(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := sandbox.NewClient(srv.URL, apiKey, srv.Client())
	bad := eur("po-1", 100, "A", "DE88370400440532013000", "")
	if _, err := c.Submit(context.Background(), bad); chengdui.ErrorCode(err) != chengdui.EInvalid {
		t.Fatalf("Submit = %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("a bad order was sent")
	}
}

func TestClientUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := sandbox.NewClient(srv.URL, apiKey, srv.Client())
	if _, err := c.Submit(context.Background(), eur("po-1", 100, "A", ibanDE, "")); chengdui.ErrorCode(err) != chengdui.EUnavailable {
		t.Fatalf("Submit to a failing bank = %v", err)
	}
	srv.Close()
	if _, err := c.Status(context.Background(), "po-1"); chengdui.ErrorCode(err) != chengdui.EUnavailable {
		t.Fatalf("Status of an unreachable bank = %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	_, _, url := newBank(t, sandbox.Config{})
	c := sandbox.NewClient(url, "wrong", nil)
	if _, err := c.Submit(context.Background(), eur("po-1", 100, "A", ibanDE, "")); chengdui.ErrorCode(err) != chengdui.EUnauthorized {
		t.Fatalf("Submit with a wrong key = %v", err)
	}
}

func TestNewBankRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  sandbox.Config
		msg  string
	}{
		{"no key", sandbox.Config{}, "API key"},
		{"callback without secret", sandbox.Config{APIKey: "k", CallbackURL: "http://127.0.0.1:1/cb"}, "secret"},
		{"relative callback", sandbox.Config{APIKey: "k", CallbackURL: "/cb", CallbackSecret: "s"}, "callback URL"},
		{"ftp callback", sandbox.Config{APIKey: "k", CallbackURL: "ftp://x/cb", CallbackSecret: "s"}, "callback URL"},
		{"negative delay", sandbox.Config{APIKey: "k", ConfirmDelay: -1}, "negative"},
		{"negative attempts", sandbox.Config{APIKey: "k", CallbackAttempts: -1}, "negative"},
		{"funding GBP", sandbox.Config{APIKey: "k", Funding: map[string]chengdui.Amount{"GBP": cents(1)}}, "GBP"},
		{"bad operating IBAN", sandbox.Config{APIKey: "k", OperatingIBAN: "DE00"}, "IBAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.NewBank(tt.cfg)
			if chengdui.ErrorCode(err) != chengdui.EInvalid || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("NewBank = %v, want invalid %q", err, tt.msg)
			}
		})
	}
}

func TestStart(t *testing.T) {
	b, err := sandbox.NewBank(sandbox.Config{APIKey: apiKey, Funding: map[string]chengdui.Amount{"EUR": cents(500)}})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := b.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := sandbox.NewClient(url, apiKey, &http.Client{Timeout: 5 * time.Second})
	if _, err := c.Submit(context.Background(), eur("po-1", 100, "A", ibanDE, "")); err != nil {
		t.Fatal(err)
	}
	poll(t, c, "po-1", rail.Completed)
	stop()
	stop()
	if _, err := c.Status(context.Background(), "po-1"); chengdui.ErrorCode(err) != chengdui.EUnavailable {
		t.Fatalf("Status after stop = %v", err)
	}
	if _, _, err := b.Start("256.0.0.1:0"); chengdui.ErrorCode(err) != chengdui.EUnavailable {
		t.Fatalf("Start on a bad address = %v", err)
	}
}

// TestClose: a closed bank settles nothing more and refuses orders.
func TestClose(t *testing.T) {
	b, c, _ := newBank(t, sandbox.Config{ConfirmDelay: time.Hour, Funding: map[string]chengdui.Amount{"EUR": cents(500)}})
	if _, err := c.Submit(context.Background(), eur("po-1", 100, "A", ibanDE, "")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { b.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the confirmation delay")
	}
	if _, err := c.Submit(context.Background(), eur("po-2", 100, "A", ibanDE, "")); chengdui.ErrorCode(err) != chengdui.EUnavailable {
		t.Fatalf("Submit after Close = %v", err)
	}
	if u, err := c.Status(context.Background(), "po-1"); err != nil || u.Status != rail.Accepted {
		t.Fatalf("Status after Close = %+v, %v", u, err)
	}
}
