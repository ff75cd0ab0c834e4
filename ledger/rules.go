package ledger

import (
	"github.com/google/uuid"
	"maps"
	"time"
	"unicode/utf8"

	"chengdui"
)

// Limits on identifiers and metadata, so one request cannot bloat the journal.
const (
	MaxIDLength       = 128
	MaxMetadataKeys   = 32
	MaxMetadataLength = 1024
)

// state is a batch in progress: the accounts, transfers and pending states
// it has read, changed in memory, and the transfers it will write.
type state struct {
	now      time.Time
	existing map[string]chengdui.Transfer // committed before this batch
	accounts map[string]*chengdui.Account
	pending  map[string]*PendingState
	created  map[string]int // id -> index in out
	out      []chengdui.Transfer
	nextSeq  uint64
	touched  map[string]bool
	pendOut  map[string]bool

	undo []func() // reverts the current linked chain
}

func newState(now time.Time, nextSeq uint64, existing map[string]chengdui.Transfer,
	accounts map[string]chengdui.Account, pending map[string]PendingState) *state {
	s := &state{
		now: now, existing: existing, nextSeq: nextSeq,
		accounts: make(map[string]*chengdui.Account, len(accounts)),
		pending:  make(map[string]*PendingState, len(pending)),
		created:  map[string]int{},
		touched:  map[string]bool{},
		pendOut:  map[string]bool{},
	}
	for id, a := range accounts {
		s.accounts[id] = &a
	}
	for id, p := range pending {
		s.pending[id] = &p
	}
	return s
}

// lookup finds a transfer committed earlier or earlier in this batch.
func (s *state) lookup(id string) (chengdui.Transfer, bool) {
	if i, ok := s.created[id]; ok {
		return s.out[i], true
	}
	t, ok := s.existing[id]
	return t, ok
}

// applyRequest applies one request's transfers and returns their results.
// Linked chains are all-or-nothing; the request must not end inside a chain
// (the engine checks that before queueing).
func (s *state) applyRequest(ts []chengdui.Transfer, internal bool) []chengdui.TransferResult {
	res := make([]chengdui.TransferResult, len(ts))
	for start := 0; start < len(ts); {
		end := start
		for end < len(ts)-1 && ts[end].Flags&chengdui.Linked != 0 {
			end++
		}
		s.undo = s.undo[:0]
		failed := -1
		for i := start; i <= end; i++ {
			res[i] = s.apply(ts[i], internal)
			if res[i].Err != nil {
				failed = i
				break
			}
		}
		if failed >= 0 {
			for i := len(s.undo) - 1; i >= 0; i-- {
				s.undo[i]()
			}
			for i := start; i <= end; i++ {
				if i != failed {
					res[i] = chengdui.TransferResult{Err: chengdui.Errorf(chengdui.ELinkedEventFailed,
						"transfer %q not committed: linked transfer %q was refused", clipID(ts[i].ID), clipID(ts[failed].ID))}
				}
			}
		}
		start = end + 1
	}
	s.undo = s.undo[:0]
	return res
}

func (s *state) apply(t chengdui.Transfer, internal bool) chengdui.TransferResult {
	if err := validateShape(&t, internal); err != nil {
		return chengdui.TransferResult{Err: err}
	}
	if prev, ok := s.lookup(t.ID); ok {
		if !sameBody(&t, &prev) {
			return chengdui.TransferResult{Err: chengdui.Errorf(chengdui.EIDConflict,
				"transfer id %q was already used for a different transfer", clipID(t.ID))}
		}
		return chengdui.TransferResult{Transfer: prev, Existed: true}
	}
	var err error
	if t.Flags&(chengdui.PostPending|chengdui.VoidPending) != 0 {
		err = s.resolvePending(&t)
	} else {
		err = s.move(&t)
	}
	if err != nil {
		return chengdui.TransferResult{Err: err}
	}
	t.Seq = s.nextSeq
	t.Timestamp = s.now
	t.Hash = nil
	s.nextSeq++
	s.out = append(s.out, t)
	s.created[t.ID] = len(s.out) - 1
	s.undo = append(s.undo, func() {
		delete(s.created, t.ID)
		s.out = s.out[:len(s.out)-1]
		s.nextSeq--
	})
	return chengdui.TransferResult{Transfer: t}
}

// validateShape checks what can be checked without storage.
func validateShape(t *chengdui.Transfer, internal bool) error {
	if !validID(t.ID) {
		return chengdui.Errorf(chengdui.EInvalid, "transfer id must be 1 to %d bytes of UTF-8 without control characters", MaxIDLength)
	}
	for _, ref := range []string{t.DebitAccountID, t.CreditAccountID, t.PendingID} {
		if ref != "" && !validID(ref) {
			return chengdui.Errorf(chengdui.EInvalid, "transfer %q: account and pending ids must be 1 to %d bytes of UTF-8 without control characters", clipID(t.ID), MaxIDLength)
		}
	}
	allowed := chengdui.TransferFlags(0)
	if internal {
		allowed = chengdui.Expiry
	}
	kind := t.Flags & (chengdui.Pending | chengdui.PostPending | chengdui.VoidPending)
	switch {
	case t.Flags&^(chengdui.Linked|chengdui.Pending|chengdui.PostPending|chengdui.VoidPending|allowed) != 0:
		return chengdui.Errorf(chengdui.EInvalidFlags, "transfer %q has unknown flags %#x", clipID(t.ID), uint32(t.Flags))
	case kind != 0 && kind&(kind-1) != 0:
		return chengdui.Errorf(chengdui.EInvalidFlags, "transfer %q: pending, post_pending and void_pending exclude each other", clipID(t.ID))
	case t.Flags&chengdui.Expiry != 0 && kind != chengdui.VoidPending:
		return chengdui.Errorf(chengdui.EInvalidFlags, "transfer %q: expiry only marks a void", clipID(t.ID))
	case t.Timeout != 0 && kind != chengdui.Pending:
		return chengdui.Errorf(chengdui.EInvalid, "transfer %q: a timeout is only for pending transfers", clipID(t.ID))
	case kind&(chengdui.PostPending|chengdui.VoidPending) == 0 && t.PendingID != "":
		return chengdui.Errorf(chengdui.EInvalid, "transfer %q: pending_id is only for post or void", clipID(t.ID))
	case len(t.Metadata) > MaxMetadataKeys:
		return chengdui.Errorf(chengdui.EInvalid, "transfer %q has more than %d metadata keys", clipID(t.ID), MaxMetadataKeys)
	}
	n := 0
	for k, v := range t.Metadata {
		n += len(k) + len(v)
		if !utf8.ValidString(k) || !utf8.ValidString(v) || k == "" {
			return chengdui.Errorf(chengdui.EInvalid, "transfer %q: metadata keys must be non-empty UTF-8", clipID(t.ID))
		}
	}
	if n > MaxMetadataLength {
		return chengdui.Errorf(chengdui.EInvalid, "transfer %q: metadata exceeds %d bytes", clipID(t.ID), MaxMetadataLength)
	}
	return nil
}

// validID accepts what every storage engine stores as text: 1 to
// MaxIDLength bytes of UTF-8 without control characters (PostgreSQL refuses
// NUL in text).
func validID(s string) bool {
	if s == "" || len(s) > MaxIDLength || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// sameBody compares a request with a committed transfer of the same id.
// Fields a post or void may leave out (accounts, amount for a full post)
// match whatever the ledger resolved them to.
func sameBody(req, got *chengdui.Transfer) bool {
	resolve := req.Flags&(chengdui.PostPending|chengdui.VoidPending) != 0
	eqOrResolved := func(r, g string) bool { return r == g || (resolve && r == "") }
	amountOK := req.Amount == got.Amount || (resolve && req.Amount.IsZero())
	md := len(req.Metadata) == len(got.Metadata) && maps.Equal(req.Metadata, got.Metadata)
	return eqOrResolved(req.DebitAccountID, got.DebitAccountID) &&
		eqOrResolved(req.CreditAccountID, got.CreditAccountID) &&
		amountOK && req.PendingID == got.PendingID && req.Timeout == got.Timeout &&
		req.Code == got.Code && req.Flags == got.Flags && md
}

// account returns the account for a change, recording how to undo it.
func (s *state) account(id string) (*chengdui.Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return nil, chengdui.Errorf(chengdui.EAccountNotFound, "account %q does not exist", clipID(id))
	}
	return a, nil
}

func (s *state) save(a *chengdui.Account, next chengdui.Account) {
	prev, wasTouched := *a, s.touched[a.ID]
	*a = next
	s.touched[a.ID] = true
	s.undo = append(s.undo, func() {
		*a = prev
		if !wasTouched {
			delete(s.touched, a.ID)
		}
	})
}

func (s *state) setPending(p PendingState) {
	old, had := s.pending[p.ID]
	var prev PendingState
	if had {
		prev = *old
	}
	wasOut := s.pendOut[p.ID]
	s.pending[p.ID] = &p
	s.pendOut[p.ID] = true
	s.undo = append(s.undo, func() {
		if had {
			*old = prev
			s.pending[p.ID] = old
		} else {
			delete(s.pending, p.ID)
		}
		if !wasOut {
			delete(s.pendOut, p.ID)
		}
	})
}

// move applies a posted or pending transfer between two accounts.
func (s *state) move(t *chengdui.Transfer) error {
	if t.Amount.IsZero() {
		return chengdui.Errorf(chengdui.EZeroAmount, "transfer %q moves nothing: amount must be positive", clipID(t.ID))
	}
	if t.DebitAccountID == t.CreditAccountID {
		return chengdui.Errorf(chengdui.ESameAccount, "transfer %q debits and credits the same account", clipID(t.ID))
	}
	dr, err := s.account(t.DebitAccountID)
	if err != nil {
		return err
	}
	cr, err := s.account(t.CreditAccountID)
	if err != nil {
		return err
	}
	if dr.Asset != cr.Asset {
		return chengdui.Errorf(chengdui.EAssetMismatch, "transfer %q: debit account holds %s, credit account holds %s; use linked transfers through an inventory account to convert",
			clipID(t.ID), dr.Asset, cr.Asset)
	}
	if t.Asset != "" && t.Asset != dr.Asset {
		return chengdui.Errorf(chengdui.EAssetMismatch, "transfer %q names asset %s but the accounts hold %s", clipID(t.ID), clipID(t.Asset), dr.Asset)
	}
	t.Asset = dr.Asset
	d, c := *dr, *cr
	var ok1, ok2 bool
	if t.Flags&chengdui.Pending != 0 {
		d.DebitsPending, ok1 = chengdui.AddAmounts(d.DebitsPending, t.Amount)
		c.CreditsPending, ok2 = chengdui.AddAmounts(c.CreditsPending, t.Amount)
	} else {
		d.DebitsPosted, ok1 = chengdui.AddAmounts(d.DebitsPosted, t.Amount)
		c.CreditsPosted, ok2 = chengdui.AddAmounts(c.CreditsPosted, t.Amount)
	}
	if !ok1 || !ok2 {
		return chengdui.Errorf(chengdui.EOverflow, "transfer %q would overflow an account balance", clipID(t.ID))
	}
	if err := checkLimits(t, &d, &c); err != nil {
		return err
	}
	s.save(dr, d)
	s.save(cr, c)
	if t.Flags&chengdui.Pending != 0 {
		p := PendingState{ID: t.ID, Status: chengdui.PendingOpen}
		if t.Timeout > 0 {
			p.ExpiresAt = s.now.Add(time.Duration(t.Timeout) * time.Second)
		}
		s.setPending(p)
	}
	return nil
}

func checkLimits(t *chengdui.Transfer, d, c *chengdui.Account) error {
	if d.Flags&chengdui.DebitsMustNotExceedCredits != 0 {
		debits, ok := chengdui.AddAmounts(d.DebitsPending, d.DebitsPosted)
		if !ok || debits.Cmp(d.CreditsPosted) > 0 {
			return chengdui.Errorf(chengdui.EExceedsCredits, "transfer %q: account %q has insufficient funds", clipID(t.ID), clipID(d.ID))
		}
	}
	if c.Flags&chengdui.CreditsMustNotExceedDebits != 0 {
		credits, ok := chengdui.AddAmounts(c.CreditsPending, c.CreditsPosted)
		if !ok || credits.Cmp(c.DebitsPosted) > 0 {
			return chengdui.Errorf(chengdui.EExceedsDebits, "transfer %q: account %q would be credited beyond its debits", clipID(t.ID), clipID(c.ID))
		}
	}
	return nil
}

// resolvePending posts or voids a pending transfer.
func (s *state) resolvePending(t *chengdui.Transfer) error {
	p, ok := s.lookup(t.PendingID)
	if t.PendingID == "" || !ok || p.Flags&chengdui.Pending == 0 {
		return chengdui.Errorf(chengdui.EPendingNotFound, "transfer %q: no pending transfer %q", clipID(t.ID), clipID(t.PendingID))
	}
	ps, ok := s.pending[p.ID]
	if !ok {
		return chengdui.Errorf(chengdui.EPendingNotFound, "transfer %q: no pending state for %q", clipID(t.ID), clipID(t.PendingID))
	}
	switch ps.Status {
	case chengdui.PendingPostedStatus:
		return chengdui.Errorf(chengdui.EPendingPosted, "pending transfer %q was already posted", clipID(p.ID))
	case chengdui.PendingVoidedStatus:
		return chengdui.Errorf(chengdui.EPendingVoided, "pending transfer %q was already voided", clipID(p.ID))
	case chengdui.PendingExpiredStatus:
		return chengdui.Errorf(chengdui.EPendingExpired, "pending transfer %q expired", clipID(p.ID))
	}
	expiry := t.Flags&chengdui.Expiry != 0
	if !ps.ExpiresAt.IsZero() && !s.now.Before(ps.ExpiresAt) && !expiry {
		return chengdui.Errorf(chengdui.EPendingExpired, "pending transfer %q expired at %s", clipID(p.ID), ps.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if (t.DebitAccountID != "" && t.DebitAccountID != p.DebitAccountID) ||
		(t.CreditAccountID != "" && t.CreditAccountID != p.CreditAccountID) {
		return chengdui.Errorf(chengdui.EInvalid, "transfer %q: accounts differ from pending transfer %q", clipID(t.ID), clipID(p.ID))
	}
	if t.Asset != "" && t.Asset != p.Asset {
		return chengdui.Errorf(chengdui.EAssetMismatch, "transfer %q names asset %s but pending transfer %q is in %s", clipID(t.ID), clipID(t.Asset), clipID(p.ID), p.Asset)
	}
	post := t.Flags&chengdui.PostPending != 0
	amount := t.Amount
	if amount.IsZero() {
		amount = p.Amount
	}
	if amount.Cmp(p.Amount) > 0 {
		return chengdui.Errorf(chengdui.EExceedsPendingAmount, "transfer %q: %s exceeds the pending amount %s", clipID(t.ID), amount, p.Amount)
	}
	if !post && amount != p.Amount {
		return chengdui.Errorf(chengdui.EInvalidAmount, "transfer %q: a void releases the whole pending amount", clipID(t.ID))
	}
	dr, err := s.account(p.DebitAccountID)
	if err != nil {
		return err
	}
	cr, err := s.account(p.CreditAccountID)
	if err != nil {
		return err
	}
	d, c := *dr, *cr
	var ok1, ok2 bool
	d.DebitsPending, ok1 = chengdui.SubAmounts(d.DebitsPending, p.Amount)
	c.CreditsPending, ok2 = chengdui.SubAmounts(c.CreditsPending, p.Amount)
	if !ok1 || !ok2 {
		return chengdui.Errorf(chengdui.EInternal, "pending balance below pending transfer %q", clipID(p.ID))
	}
	if post {
		d.DebitsPosted, ok1 = chengdui.AddAmounts(d.DebitsPosted, amount)
		c.CreditsPosted, ok2 = chengdui.AddAmounts(c.CreditsPosted, amount)
		if !ok1 || !ok2 {
			return chengdui.Errorf(chengdui.EOverflow, "transfer %q would overflow an account balance", clipID(t.ID))
		}
	}
	if err := checkLimits(t, &d, &c); err != nil {
		return err
	}
	t.DebitAccountID, t.CreditAccountID, t.Asset, t.Amount = p.DebitAccountID, p.CreditAccountID, p.Asset, amount
	s.save(dr, d)
	s.save(cr, c)
	next := *ps
	switch {
	case post:
		next.Status = chengdui.PendingPostedStatus
	case expiry:
		next.Status = chengdui.PendingExpiredStatus
	default:
		next.Status = chengdui.PendingVoidedStatus
	}
	s.setPending(next)
	return nil
}

// batch returns what the commit must write.
func (s *state) batch() *Batch {
	b := &Batch{Transfers: s.out}
	for id := range s.touched {
		b.Accounts = append(b.Accounts, *s.accounts[id])
	}
	for id := range s.pendOut {
		b.Pending = append(b.Pending, *s.pending[id])
	}
	return b
}

func clipID(s string) string {
	if len(s) > MaxIDLength {
		return s[:MaxIDLength] + "…"
	}
	return s
}

// NewID returns a fresh transfer id: a UUIDv7, which starts with the time
// in milliseconds. Any id of up to MaxIDLength bytes is accepted, but
// time-ordered ids land at the end of the id index instead of on a random
// page, which on SQLite more than doubles the commit rate (see
// docs/benchmarks.md). TigerBeetle gives the same advice for its ids.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing system random source gets here.
		panic("ledger: no randomness for a new id: " + err.Error())
	}
	return id.String()
}
