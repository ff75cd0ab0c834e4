package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"chengdui"
	"chengdui/rail"
)

// Defaults of Config.
const (
	DefaultConfirmDelay     = 200 * time.Millisecond
	DefaultCallbackAttempts = 5
	DefaultCallbackBackoff  = 100 * time.Millisecond
	DefaultOperatingName    = "Chengdui Operating"
)

// Reasons the sandbox gives for failed and returned orders, after the ISO
// 20022 status reason codes real banks send.
const (
	ReasonClosedAccount     = "AC04 closed account number"
	ReasonInsufficientFunds = "AM04 insufficient funds"
	ReasonReturned          = "MD06 returned by the creditor's bank"
)

// Config configures a Bank.
type Config struct {
	// APIKey authenticates the platform: "Authorization: Bearer KEY" or
	// HTTP basic auth with KEY as password (any user name). Required.
	APIKey string
	// CallbackURL receives a signed POST for every status change; ""
	// sends none (the platform polls).
	CallbackURL string
	// CallbackSecret signs callbacks (HMAC-SHA256); required with
	// CallbackURL.
	CallbackSecret string
	// ConfirmDelay is how long after acceptance an order completes or
	// fails; 0 means DefaultConfirmDelay.
	ConfirmDelay time.Duration
	// Funding is the opening balance of the operating account of each
	// currency (EUR, CNY, USD), in smallest units; unfunded currencies
	// open at zero.
	Funding map[string]chengdui.Amount
	// OperatingName names the operating accounts; DefaultOperatingName
	// when empty. OperatingIBAN is shown on the EUR one's statement.
	OperatingName string
	OperatingIBAN string
	// FailAccounts lists creditor IBANs (any form) or domestic account
	// numbers whose orders fail with ReasonClosedAccount.
	FailAccounts []string
	// CallbackAttempts is how many times a callback is tried before the
	// bank gives up on it; 0 means DefaultCallbackAttempts. Retries wait
	// CallbackBackoff (0: DefaultCallbackBackoff), doubling each time.
	CallbackAttempts int
	CallbackBackoff  time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives failed callbacks; slog.Default() when nil.
	Logger *slog.Logger
	// HTTPClient sends callbacks; a client with a 5 s timeout when nil.
	HTTPClient *http.Client
}

// Bank is a sandbox bank: accounts with balances, payment orders settled
// after a delay, signed callbacks and statements, served over HTTP by
// Handler. Its state lives in memory, guarded by one mutex.
type Bank struct {
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	client *http.Client
	fail   map[string]bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // settling orders and sending callbacks

	mu       sync.Mutex
	closed   bool
	refs     int   // bank references issued
	entries  int64 // statement entries booked, across accounts
	orders   map[string]*order
	byRef    map[string]*order
	accounts map[string]*account
}

type order struct {
	o        rail.Order // normalised
	ref      string
	status   rail.Status
	reason   string
	created  time.Time
	at       time.Time // of status
	debtor   string    // account ids
	creditor string
	outbox   []rail.Update // callbacks not yet sent, in order
	sending  bool          // a goroutine drains outbox
}

type account struct {
	id, currency, name, iban string
	balance                  chengdui.Amount
	entries                  []Entry
}

// NewBank returns a bank with its operating accounts funded. Codes:
// EInvalid for a missing API key or callback secret, a bad callback URL,
// negative durations or funding in an unsupported currency.
func NewBank(cfg Config) (*Bank, error) {
	if cfg.APIKey == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: an API key is required")
	}
	if cfg.CallbackURL != "" {
		u, err := url.Parse(cfg.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: callback URL must be an absolute http(s) URL")
		}
		if cfg.CallbackSecret == "" {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: a callback secret is required with a callback URL")
		}
	}
	if cfg.ConfirmDelay < 0 || cfg.CallbackBackoff < 0 || cfg.CallbackAttempts < 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: negative delay, backoff or attempts")
	}
	if cfg.ConfirmDelay == 0 {
		cfg.ConfirmDelay = DefaultConfirmDelay
	}
	if cfg.CallbackAttempts == 0 {
		cfg.CallbackAttempts = DefaultCallbackAttempts
	}
	if cfg.CallbackBackoff == 0 {
		cfg.CallbackBackoff = DefaultCallbackBackoff
	}
	if cfg.OperatingName == "" {
		cfg.OperatingName = DefaultOperatingName
	}
	if cfg.OperatingIBAN != "" {
		if err := rail.ValidateIBAN(cfg.OperatingIBAN); err != nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: operating %s", chengdui.ErrorMessage(err))
		}
	}
	for c := range cfg.Funding {
		if _, ok := rail.CurrencyDecimals(c); !ok {
			return nil, chengdui.Errorf(chengdui.EInvalid, "sandbox: cannot fund currency %q", c)
		}
	}
	b := &Bank{cfg: cfg, now: cfg.Now, log: cfg.Logger, client: cfg.HTTPClient, fail: map[string]bool{},
		orders: map[string]*order{}, byRef: map[string]*order{}, accounts: map[string]*account{}}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.client == nil {
		b.client = &http.Client{Timeout: 5 * time.Second}
	}
	for _, a := range cfg.FailAccounts {
		if k := failKey(a); k != "" {
			b.fail[k] = true
		}
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	now := b.now()
	for _, c := range currencies {
		a := &account{id: OperatingAccountID(c), currency: c, name: cfg.OperatingName}
		if c == "EUR" {
			a.iban = rail.NormalizeIBAN(cfg.OperatingIBAN)
		}
		b.accounts[a.id] = a
		if f := cfg.Funding[c]; !f.IsZero() {
			b.book(a, now, Credit, KindOpening, f, nil, "opening balance")
		}
	}
	return b, nil
}

// currencies the sandbox pays, sorted.
var currencies = []string{"CNY", "EUR", "USD"}

// OperatingAccountID is the id of the platform's operating account in a
// currency: "EUR:OPERATING".
func OperatingAccountID(currency string) string { return currency + ":OPERATING" }

// AccountID is the id of a creditor's account in a currency: currency and
// IBAN ("EUR:DE89370400440532013000"), or currency, bank code and account
// number ("CNY:102100099996:6222021234567890").
func AccountID(currency string, p rail.Party) string {
	if p.IBAN != "" {
		return currency + ":" + rail.NormalizeIBAN(p.IBAN)
	}
	return currency + ":" + strings.ToUpper(p.BankCode) + ":" + strings.ToUpper(p.Account)
}

func failKey(s string) string {
	if k := rail.NormalizeIBAN(s); rail.ValidateIBAN(k) == nil {
		return k
	}
	return strings.ToUpper(strings.TrimSpace(s))
}

// normalize puts the identifiers of o in one form, so that a resubmission
// written differently is the same order.
func normalize(o rail.Order) rail.Order {
	p := &o.Creditor
	p.IBAN = rail.NormalizeIBAN(p.IBAN)
	p.BIC = rail.NormalizeBIC(p.BIC)
	p.Account = strings.ToUpper(p.Account)
	p.BankCode = strings.ToUpper(p.BankCode)
	return o
}

// Close stops settling orders and sending callbacks, and waits for them.
// Orders still Accepted stay so. Requests after Close are refused with
// EUnavailable.
func (b *Bank) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

// submit accepts o, or returns the order already submitted under its id.
// Codes: EIDConflict for the id with another order; EUnavailable after
// Close.
func (b *Bank) submit(o rail.Order) (view orderView, created bool, err error) {
	o = normalize(o)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return orderView{}, false, chengdui.Errorf(chengdui.EUnavailable, "the sandbox bank is closed")
	}
	if prev, ok := b.orders[o.ID]; ok {
		if prev.o != o {
			return orderView{}, false, chengdui.Errorf(chengdui.EIDConflict, "payment order %s was submitted with another body", o.ID)
		}
		return prev.view(), false, nil
	}
	b.refs++
	now := b.now()
	ord := &order{o: o, ref: fmt.Sprintf("SBX%010d", b.refs), status: rail.Accepted, created: now, at: now,
		debtor: OperatingAccountID(o.Currency), creditor: AccountID(o.Currency, o.Creditor)}
	b.orders[o.ID] = ord
	b.byRef[ord.ref] = ord
	b.wg.Add(1)
	go b.settleAfter(ord)
	return ord.view(), true, nil
}

// settleAfter settles an order after the confirmation delay, unless the
// bank closes first.
func (b *Bank) settleAfter(ord *order) {
	defer b.wg.Done()
	t := time.NewTimer(b.cfg.ConfirmDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.ctx.Done():
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ord.status != rail.Accepted || b.closed {
		return
	}
	now := b.now()
	op := b.accounts[ord.debtor]
	switch {
	case b.fail[ord.o.Creditor.IBAN] || b.fail[ord.o.Creditor.Account]:
		b.setStatus(ord, rail.Failed, ReasonClosedAccount, now)
		return
	case op.balance.Cmp(ord.o.Amount) < 0:
		b.setStatus(ord, rail.Failed, ReasonInsufficientFunds, now)
		return
	}
	cr := b.accounts[ord.creditor]
	if cr == nil {
		cr = &account{id: ord.creditor, currency: ord.o.Currency, name: ord.o.Creditor.Name, iban: ord.o.Creditor.IBAN}
		b.accounts[cr.id] = cr
	}
	if _, ok := chengdui.AddAmounts(cr.balance, ord.o.Amount); !ok {
		// Money is conserved, so no balance can exceed the funding,
		// which fits: this cannot happen.
		b.setStatus(ord, rail.Failed, "AM23 amount exceeds the account's limit", now)
		return
	}
	b.book(op, now, Debit, KindPayment, ord.o.Amount, ord, ord.o.Reference)
	b.book(cr, now, Credit, KindPayment, ord.o.Amount, ord, ord.o.Reference)
	b.setStatus(ord, rail.Completed, "", now)
}

// returnOrder returns a completed payment: the creditor's account gives
// the money back to the operating account. Codes: ENotFound; EConflict
// for an order that is not Completed; EUnavailable after Close.
func (b *Bank) returnOrder(id, reason string) (orderView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return orderView{}, chengdui.Errorf(chengdui.EUnavailable, "the sandbox bank is closed")
	}
	ord := b.find(id)
	if ord == nil {
		return orderView{}, chengdui.Errorf(chengdui.ENotFound, "no payment order %q", id)
	}
	if ord.status != rail.Completed {
		return orderView{}, chengdui.Errorf(chengdui.EConflict, "payment order %s is %s; only completed payments can be returned", ord.o.ID, ord.status)
	}
	if reason == "" {
		reason = ReasonReturned
	}
	cr, op := b.accounts[ord.creditor], b.accounts[ord.debtor]
	if cr.balance.Cmp(ord.o.Amount) < 0 {
		// Each payment is returned once and nothing else debits a
		// creditor account: this cannot happen.
		return orderView{}, chengdui.Errorf(chengdui.EInternal, "creditor account %s cannot cover the return", cr.id)
	}
	now := b.now()
	b.book(cr, now, Debit, KindReturn, ord.o.Amount, ord, reason)
	b.book(op, now, Credit, KindReturn, ord.o.Amount, ord, reason)
	b.setStatus(ord, rail.Returned, reason, now)
	return ord.view(), nil
}

// find looks an order up by our id, then by bank reference.
func (b *Bank) find(id string) *order {
	if ord, ok := b.orders[id]; ok {
		return ord
	}
	return b.byRef[id]
}

// book adds an entry to an account. The caller holds b.mu and has
// checked that a debit is covered and a credit fits.
func (b *Bank) book(a *account, at time.Time, dir Direction, kind Kind, amount chengdui.Amount, ord *order, ref string) {
	if dir == Debit {
		a.balance, _ = chengdui.SubAmounts(a.balance, amount)
	} else {
		a.balance, _ = chengdui.AddAmounts(a.balance, amount)
	}
	b.entries++
	e := Entry{Seq: b.entries, BookedAt: at, ValueDate: at.Format(time.DateOnly), Kind: kind, Direction: dir,
		Amount: amount, Balance: a.balance, Reference: ref}
	if ord != nil {
		e.OrderID, e.BankRef = ord.o.ID, ord.ref
		e.Counterparty = ord.creditor
		if a.id == ord.creditor {
			e.Counterparty = ord.debtor
		}
	}
	a.entries = append(a.entries, e)
}

// setStatus moves an order and queues its callback. The caller holds b.mu.
func (b *Bank) setStatus(ord *order, st rail.Status, reason string, at time.Time) {
	ord.status, ord.reason, ord.at = st, reason, at
	if b.cfg.CallbackURL == "" {
		return
	}
	ord.outbox = append(ord.outbox, rail.Update{OrderID: ord.o.ID, BankRef: ord.ref, Status: st, Reason: reason, At: at})
	if !ord.sending {
		ord.sending = true
		b.wg.Add(1)
		go b.sendCallbacks(ord)
	}
}

// sendCallbacks delivers an order's callbacks one after the other, so
// that Returned never overtakes Completed.
func (b *Bank) sendCallbacks(ord *order) {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		if len(ord.outbox) == 0 || b.ctx.Err() != nil {
			ord.sending = false
			b.mu.Unlock()
			return
		}
		u := ord.outbox[0]
		ord.outbox = ord.outbox[1:]
		b.mu.Unlock()
		b.deliver(u)
	}
}

// deliver POSTs one callback, retrying with a doubling backoff.
func (b *Bank) deliver(u rail.Update) {
	body := marshalUpdate(u)
	wait := b.cfg.CallbackBackoff
	var last string
	for attempt := 1; attempt <= b.cfg.CallbackAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-b.ctx.Done():
				t.Stop()
				return
			}
			wait *= 2
		}
		last = b.post(body)
		if last == "" {
			return
		}
		b.log.Warn("sandbox: callback failed", "order", u.OrderID, "status", u.Status, "attempt", attempt, "error", last)
	}
	b.log.Error("sandbox: callback given up", "order", u.OrderID, "status", u.Status, "attempts", b.cfg.CallbackAttempts, "error", last)
}

// post sends one callback and returns why it failed, "" on a 2xx answer.
func (b *Bank) post(body []byte) string {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.cfg.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(b.cfg.CallbackSecret, body))
	resp, err := b.client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Status
	}
	return ""
}

// statement returns an account's entries with Seq above after. Codes:
// ENotFound.
func (b *Bank) statement(id string, after int64) (Statement, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[id]
	if !ok {
		return Statement{}, chengdui.Errorf(chengdui.ENotFound, "no account %q", id)
	}
	d, _ := rail.CurrencyDecimals(a.currency)
	s := Statement{AccountID: a.id, Currency: a.currency, Decimals: d, Name: a.name, IBAN: a.iban, Balance: a.balance, Opening: a.balance}
	for i, e := range a.entries {
		if e.Seq > after {
			s.Entries = append(s.Entries, a.entries[i:]...)
			s.Opening = e.Balance
			if e.Direction == Credit {
				s.Opening, _ = chengdui.SubAmounts(e.Balance, e.Amount)
			} else {
				s.Opening, _ = chengdui.AddAmounts(e.Balance, e.Amount)
			}
			break
		}
	}
	return s, nil
}
