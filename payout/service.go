package payout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"chengdui"
	"chengdui/deposit"
	"chengdui/rail"
)

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
}

// Assets lists the ledger's assets, for their decimals.
type Assets interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
}

// CryptoSender pays Chain payouts. Submit hands a payout over and is
// idempotent by p.ID (Dispatch submits again after a restart or an
// error); ref is the transaction id if it is known yet. Its errors are
// classified as a rail's (see Dispatch). The sender reports the outcome
// through Apply with a rail.Update whose BankRef is the transaction id.
type CryptoSender interface {
	Submit(ctx context.Context, p Payout) (ref string, err error)
}

// AddressChecker is an optional interface of a CryptoSender: it validates
// an address for an asset and returns its canonical form. Codes: EInvalid.
type AddressChecker interface {
	CheckAddress(asset, address string) (string, error)
}

// Defaults of Config.
const (
	DefaultRetry = time.Minute
	DefaultBatch = 100
	// RecoverWindow is how far back Run looks, when it starts, for
	// cancelled payouts whose hold a crash may have left open.
	RecoverWindow = 24 * time.Hour
)

// Config configures a Service.
type Config struct {
	Store  Store  // required
	Ledger Ledger // required
	Assets Assets // required: the ledger's assets (sqlite.DB, postgres.DB)
	// Rails pay Bank payouts, by the currency (= ledger asset code) they
	// pay; each must list that currency in Currencies.
	Rails map[string]rail.Rail
	// Crypto pays Chain payouts; nil refuses them.
	Crypto CryptoSender
	// ApprovalAbove is, per asset, the amount in smallest units above
	// which a payout waits for a second operator's approval. An asset
	// without an entry needs no approval.
	ApprovalAbove map[string]chengdui.Amount
	// Retry is how long a payout handed to a rail that has not accepted
	// it (the rail was unreachable, or the process stopped) waits before
	// Dispatch submits it again; 0 means DefaultRetry.
	Retry time.Duration
	// Batch is how many payouts Dispatch reads at a time; 0 means
	// DefaultBatch.
	Batch int
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

// Service creates, approves, cancels, sends and settles payouts.
type Service struct {
	cfg Config

	mu    sync.Mutex
	known map[string]bool // payouts accounts created
}

// New returns a Service. Codes: EInvalid for a missing dependency or a
// rail listed under a currency it does not pay.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Ledger == nil || cfg.Assets == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "payout: Store, Ledger and Assets are required")
	}
	for cur, r := range cfg.Rails {
		if r == nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "payout: no rail for %s", cur)
		}
		if _, ok := rail.CurrencyDecimals(cur); !ok || !slices.Contains(r.Currencies(), cur) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "payout: rail %s does not pay %q", r.Name(), cur)
		}
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg, known: map[string]bool{}}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// StoreAccount is a store's balance of an asset (as invoice.StoreAccount).
func StoreAccount(storeID, asset string) string { return "store:" + storeID + ":" + asset }

// CreateRequest asks for a payout.
type CreateRequest struct {
	// ID is the client's idempotency key, unique within the store: 1 to
	// MaxClientIDLength characters without spaces or control characters.
	ID        string
	StoreID   string
	Asset     string
	Amount    string // in whole units, e.g. "125.50"
	Method    Method
	Creditor  rail.Party // Bank
	Address   string     // Chain
	Reference string     // optional; "Payout <id>" when empty
	CreatedBy string     // the operator asking
}

// MaxClientIDLength bounds CreateRequest.ID.
const MaxClientIDLength = 64

// Create validates a request, holds the amount on the store's balance (a
// pending transfer to the asset's payouts account) and stores the payout,
// AwaitingApproval when it is above its asset's threshold, otherwise
// AwaitingPayment. It is idempotent by the store and the request's ID:
// the same request again returns the first payout (in whatever state it
// has reached) and holds nothing more.
//
// Codes: EInvalid (a bad field, an unknown asset, a currency no rail pays,
// Chain without a crypto sender, a bad address or creditor),
// EInvalidAmount, EZeroAmount; EExceedsCredits when the store's available
// balance is short (nothing is held or stored); EConflict when the ID was
// used for another request.
func (s *Service) Create(ctx context.Context, req CreateRequest) (Payout, error) {
	p, err := s.validate(ctx, req)
	if err != nil {
		return Payout{}, err
	}
	if prev, err := s.cfg.Store.Payout(ctx, p.ID); err == nil {
		return same(prev, p, req.ID)
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return Payout{}, err
	}
	if err := s.ensure(ctx, p); err != nil {
		return Payout{}, err
	}
	// The hold first: a refusal (balance) leaves nothing behind. A crash
	// before the payout is stored leaves the hold open until the client
	// retries with the same ID, which replays the hold (the ledger's
	// idempotency) and stores the payout.
	hold := chengdui.Transfer{ID: HoldID(p.ID), DebitAccountID: StoreAccount(p.StoreID, p.Asset), CreditAccountID: HoldAccount(p),
		Amount: p.Amount, Flags: chengdui.Pending, Code: CodePayout, Metadata: map[string]string{"kind": "payout", "payout": p.ID, "method": string(p.Method)}}
	if err := s.transfer(ctx, hold); err != nil {
		switch chengdui.ErrorCode(err) {
		case chengdui.EExceedsCredits:
			return Payout{}, chengdui.Errorf(chengdui.EExceedsCredits, "store %s has less than %s %s available", p.StoreID, req.Amount, p.Asset)
		case chengdui.EAccountNotFound:
			return Payout{}, chengdui.Errorf(chengdui.EExceedsCredits, "store %s holds no %s", p.StoreID, p.Asset)
		case chengdui.EIDConflict:
			return Payout{}, chengdui.Errorf(chengdui.EConflict, "payout id %q was used for another payout; choose a new id", req.ID)
		}
		return Payout{}, err
	}
	if err := s.cfg.Store.CreatePayout(ctx, p); err != nil {
		if chengdui.ErrorCode(err) != chengdui.EConflict {
			return Payout{}, err
		}
		prev, err := s.cfg.Store.Payout(ctx, p.ID) // a concurrent retry stored it
		if err != nil {
			return Payout{}, err
		}
		return same(prev, p, req.ID)
	}
	s.cfg.Log.Info("payout created", "payout", p.ID, "store", p.StoreID, "asset", p.Asset, "amount", p.Amount.String(),
		"method", p.Method, "state", p.State, "by", p.CreatedBy)
	return p, nil
}

// validate checks a request and returns the payout it asks for.
func (s *Service) validate(ctx context.Context, req CreateRequest) (Payout, error) {
	if req.ID == "" || len(req.ID) > MaxClientIDLength || strings.ContainsFunc(req.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a payout id is 1 to %d characters without spaces", MaxClientIDLength)
	}
	if !plainID(req.StoreID) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "store id %q is not valid", clip(req.StoreID))
	}
	if !plainID(req.CreatedBy) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a payout needs the id of the operator creating it")
	}
	dec, err := s.decimals(ctx, req.Asset)
	if err != nil {
		return Payout{}, err
	}
	amount, err := chengdui.ParseDecimal(req.Amount, dec)
	if err != nil {
		return Payout{}, err
	}
	if amount.IsZero() {
		return Payout{}, chengdui.Errorf(chengdui.EZeroAmount, "a payout amount is above zero")
	}
	now := s.now()
	p := Payout{ID: ID(req.StoreID, req.ID), StoreID: req.StoreID, Asset: req.Asset, Amount: amount, Method: req.Method,
		Reference: strings.TrimSpace(req.Reference), State: AwaitingPayment, CreatedBy: req.CreatedBy, CreatedAt: now, UpdatedAt: now, Version: 1}
	if p.Reference == "" {
		p.Reference = "Payout " + p.ID
	}
	if !textOK(p.Reference, rail.MaxReferenceLen) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a reference is at most %d characters of text", rail.MaxReferenceLen)
	}
	switch req.Method {
	case Bank:
		r, ok := s.cfg.Rails[req.Asset]
		if !ok {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "bank payouts of %q are not available; the rails pay %s", clip(req.Asset), strings.Join(s.currencies(), ", "))
		}
		if cd, _ := rail.CurrencyDecimals(req.Asset); cd != dec {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "asset %s has %d decimals but the currency has %d; bank payouts of it are not available", req.Asset, dec, cd)
		}
		c := req.Creditor
		c.Name, c.IBAN, c.BIC = strings.TrimSpace(c.Name), rail.NormalizeIBAN(c.IBAN), rail.NormalizeBIC(c.BIC)
		p.Rail, p.Creditor = r.Name(), c
		if err := order(p).Validate(); err != nil {
			// Order.Validate names the order; the client knows no order.
			return Payout{}, chengdui.Errorf(chengdui.ErrorCode(err), "%s", strings.TrimPrefix(chengdui.ErrorMessage(err), "order "+p.ID+": "))
		}
	case Chain:
		if s.cfg.Crypto == nil {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "crypto payouts are not available")
		}
		if req.Creditor != (rail.Party{}) {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a CHAIN payout is paid to an address, not a creditor")
		}
		p.Address = strings.TrimSpace(req.Address)
		if p.Address == "" {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a CHAIN payout needs an address")
		}
		if len(p.Address) > 200 || !textOK(p.Address, 200) {
			return Payout{}, chengdui.Errorf(chengdui.EInvalid, "address %q is not valid", clip(p.Address))
		}
		if c, ok := s.cfg.Crypto.(AddressChecker); ok {
			if p.Address, err = c.CheckAddress(p.Asset, p.Address); err != nil {
				return Payout{}, err
			}
		}
	default:
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "payout method %q is neither BANK nor CHAIN", clip(string(req.Method)))
	}
	if req.Method == Bank && req.Address != "" {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "a BANK payout is paid to a creditor, not an address")
	}
	if max, ok := s.cfg.ApprovalAbove[p.Asset]; ok && p.Amount.Cmp(max) > 0 {
		p.State = AwaitingApproval
	}
	return p, nil
}

// same returns prev if it is the payout p asks for again, else EConflict.
func same(prev, p Payout, clientID string) (Payout, error) {
	if prev.StoreID != p.StoreID || prev.Asset != p.Asset || prev.Amount != p.Amount || prev.Method != p.Method || prev.Rail != p.Rail ||
		prev.Creditor != p.Creditor || prev.Address != p.Address || prev.Reference != p.Reference || prev.CreatedBy != p.CreatedBy {
		return Payout{}, chengdui.Errorf(chengdui.EConflict, "payout id %q was used for another payout; choose a new id", clientID)
	}
	return prev, nil
}

// order is the rail order that pays a Bank payout.
func order(p Payout) rail.Order {
	d, _ := rail.CurrencyDecimals(p.Asset)
	return rail.Order{ID: p.ID, Currency: p.Asset, Amount: p.Amount, Decimals: d, Creditor: p.Creditor, Reference: p.Reference}
}

func (s *Service) currencies() []string {
	var cs []string
	for c := range s.cfg.Rails {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

func (s *Service) decimals(ctx context.Context, asset string) (uint8, error) {
	as, err := s.cfg.Assets.Assets(ctx)
	if err != nil {
		return 0, err
	}
	for _, a := range as {
		if a.Code == asset {
			return a.Decimals, nil
		}
	}
	return 0, chengdui.Errorf(chengdui.EInvalid, "unknown asset %q", clip(asset))
}

// Approve lets a payout AwaitingApproval be sent (AwaitingPayment). The
// operator must not be the one who created it. Approving again by the
// same operator returns the payout unchanged.
//
// Codes: ENotFound; EInvalid (no operator); EUnauthorized when the
// operator created the payout; EConflict when it is not awaiting approval.
func (s *Service) Approve(ctx context.Context, id, operatorID string) (Payout, error) {
	if !plainID(operatorID) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "approving a payout needs the operator's id")
	}
	return s.change(ctx, id, func(p Payout) (Payout, bool, error) {
		switch {
		case p.State != AwaitingApproval && p.ApprovedBy == operatorID:
			return p, false, nil
		case p.State != AwaitingApproval:
			return p, false, chengdui.Errorf(chengdui.EConflict, "payout %s is %s; only a payout awaiting approval can be approved", id, p.State)
		case p.CreatedBy == operatorID:
			return p, false, chengdui.Errorf(chengdui.EUnauthorized, "payout %s needs a second operator: %s created it and cannot approve it", id, operatorID)
		}
		p.State, p.ApprovedBy = AwaitingPayment, operatorID
		return p, true, nil
	})
}

// Cancel cancels a payout that has not been sent (AwaitingApproval or
// AwaitingPayment) and voids its hold: the store has the amount back.
// Cancelling a Cancelled payout voids its hold again (a no-op unless an
// earlier Cancel stopped half-way) and returns it.
//
// Unlike the other changes, Cancel writes the state before the ledger: the
// state change is what stops Approve and Dispatch from racing it, and a
// hold voided for a payout that another process is sending could never be
// taken back. If the void fails (or the process stops) after the write,
// the payout is Cancelled with its hold open until Cancel is called again
// or Run's Recover voids it.
//
// Codes: ENotFound; EInvalid (no operator); EConflict when the payout was
// sent already; the ledger's code (EUnavailable…) when the void failed.
func (s *Service) Cancel(ctx context.Context, id, by string) (Payout, error) {
	if !plainID(by) {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "cancelling a payout needs the operator's id")
	}
	p, err := s.change(ctx, id, func(p Payout) (Payout, bool, error) {
		switch p.State {
		case Cancelled:
			return p, false, nil
		case AwaitingApproval, AwaitingPayment:
			p.State, p.Reason = Cancelled, clip("cancelled by "+by)
			return p, true, nil
		}
		return p, false, chengdui.Errorf(chengdui.EConflict, "payout %s is %s; only a payout not yet sent can be cancelled", id, p.State)
	})
	if err != nil {
		return Payout{}, err
	}
	if err := s.void(ctx, p); err != nil {
		s.cfg.Log.Error("payout cancelled; its hold is not released yet", "payout", id, "err", err)
		return Payout{}, chengdui.Errorf(chengdui.ErrorCode(err), "payout %s is cancelled but its hold is not released yet (cancel again): %s", id, chengdui.ErrorMessage(err))
	}
	s.cfg.Log.Info("payout cancelled", "payout", id, "by", by)
	return p, nil
}

// Recover voids the holds of payouts cancelled since `since` again: a
// Cancel interrupted between its write and its void left one open. Voids
// of holds voided already are the ledger's idempotent replays.
func (s *Service) Recover(ctx context.Context, since time.Time) error {
	f := Filter{State: Cancelled, UpdatedSince: since, Limit: s.cfg.Batch}
	for {
		ps, err := s.cfg.Store.Payouts(ctx, f)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := s.void(ctx, p); err != nil {
				return fmt.Errorf("payout %s: voiding the hold of a cancelled payout: %w", p.ID, err)
			}
		}
		if len(ps) < f.Limit {
			return nil
		}
		f.After = ps[len(ps)-1].ID
	}
}

// Dispatch sends every payout AwaitingPayment, and again every InProgress
// one no rail accepted within Config.Retry, and returns how many a rail
// or the crypto sender accepted.
//
// Each payout is first claimed: a compare-and-set to InProgress, so that
// of several processes dispatching at once one sends it. Then it is
// submitted, a Bank payout to its rail (rail.Order with the payout's id),
// a Chain payout to the crypto sender. Accepted, it stays InProgress with
// the bank's reference (or txid) and SubmittedAt. Refused for good (codes
// EInvalid, EInvalidAmount, EZeroAmount: the order itself is bad), its
// hold is voided and it is Failed. Any other error (EUnavailable,
// EUnauthorized, a timeout) may hide an order the bank did get, so the
// payout stays InProgress, unaccepted and not cancellable, and is
// submitted again (idempotent by id) once Config.Retry has passed.
//
// One payout's error is logged and does not stop the others; the error
// returned is the storage's or the context's.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	staleBefore := s.now().Add(-s.cfg.Retry)
	sent, after := 0, ""
	for {
		due, err := s.cfg.Store.DuePayouts(ctx, staleBefore, after, s.cfg.Batch)
		if err != nil {
			return sent, err
		}
		for _, p := range due {
			if err := ctx.Err(); err != nil {
				return sent, err
			}
			ok, err := s.dispatch(ctx, p)
			if err != nil {
				s.cfg.Log.Error("payout not sent; it will be retried", "payout", p.ID, "err", err)
			}
			if ok {
				sent++
			}
		}
		if len(due) < s.cfg.Batch {
			return sent, nil
		}
		after = due[len(due)-1].ID
	}
}

// dispatch claims and submits one payout; ok reports that a rail or the
// sender accepted it.
func (s *Service) dispatch(ctx context.Context, p Payout) (ok bool, err error) {
	var submit func(Payout) (string, error)
	switch p.Method {
	case Bank:
		r, found := s.cfg.Rails[p.Asset]
		if !found || r.Name() != p.Rail {
			return false, chengdui.Errorf(chengdui.EUnavailable, "rail %s for %s is not configured", p.Rail, p.Asset)
		}
		submit = func(p Payout) (string, error) { return r.Submit(ctx, order(p)) }
	case Chain:
		if s.cfg.Crypto == nil {
			return false, chengdui.Errorf(chengdui.EUnavailable, "no crypto sender is configured")
		}
		submit = func(p Payout) (string, error) { return s.cfg.Crypto.Submit(ctx, p) }
	default:
		return false, chengdui.Errorf(chengdui.EInternal, "payout method %q is unknown", p.Method)
	}
	claim := p
	claim.State, claim.UpdatedAt = InProgress, s.now()
	claim, err = s.cfg.Store.UpdatePayout(ctx, claim)
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		return false, nil // another process claimed it, or it was cancelled
	} else if err != nil {
		return false, err
	}
	ref, err := submit(claim)
	if err != nil {
		if !finalRefusal(err) {
			s.cfg.Log.Warn("payout not accepted; it will be submitted again", "payout", p.ID, "retry_after", s.cfg.Retry, "err", err)
			return false, nil
		}
		reason := clip("refused: " + chengdui.ErrorMessage(err))
		_, err := s.change(ctx, p.ID, func(p Payout) (Payout, bool, error) {
			if p.State != InProgress || !p.SubmittedAt.IsZero() {
				return p, false, nil // it went on meanwhile
			}
			if err := s.void(ctx, p); err != nil {
				return p, false, err
			}
			p.State, p.Reason = Failed, reason
			return p, true, nil
		})
		if err == nil {
			s.cfg.Log.Warn("payout refused; hold voided", "payout", p.ID, "reason", reason)
		}
		return false, err
	}
	// The rail has the order: record it even if ctx ends now (a shutdown),
	// or the payout would be submitted again after Retry.
	_, err = s.change(context.WithoutCancel(ctx), p.ID, func(p Payout) (Payout, bool, error) {
		if p.State != InProgress || (!p.SubmittedAt.IsZero() && (ref == "" || p.Ref != "")) {
			return p, false, nil // an update from the rail got here first
		}
		if p.Ref == "" {
			p.Ref = ref
		}
		if p.SubmittedAt.IsZero() {
			p.SubmittedAt = s.now()
		}
		return p, true, nil
	})
	if err != nil {
		return true, err
	}
	s.cfg.Log.Info("payout sent", "payout", p.ID, "method", p.Method, "rail", p.Rail, "ref", ref)
	return true, nil
}

// finalRefusal reports whether a rail's or sender's error refuses the
// order itself, so that submitting it again cannot succeed.
func finalRefusal(err error) bool {
	switch chengdui.ErrorCode(err) {
	case chengdui.EInvalid, chengdui.EInvalidAmount, chengdui.EZeroAmount:
		return true
	}
	return false
}

// Run recovers interrupted cancellations (RecoverWindow back), then
// dispatches payouts and recovers again every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return chengdui.Errorf(chengdui.EInvalid, "payout: Run needs a positive interval")
	}
	since := s.now().Add(-RecoverWindow)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := s.now()
		if err := s.Recover(ctx, since); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("recovering cancelled payouts", "err", err)
		} else if err == nil {
			// A Cancel that read its clock before this pass may commit
			// after it: look back a little further than the interval.
			since = start.Add(-every - time.Minute)
		}
		if _, err := s.Dispatch(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("dispatching payouts", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Apply records what a rail (or the crypto sender) reports about a
// payout, u.OrderID being the payout's id:
//
//   - Accepted: records the bank's reference of an InProgress payout.
//   - Completed: posts the hold (the store is debited, HoldAccount
//     credited: the payouts account, or for a Chain payout the asset's
//     chain account); the payout is Completed.
//   - Failed: voids the hold (the store has the amount back); Failed.
//   - Returned: the bank gave a completed payment back. A compensating
//     transfer (po:<id>:return, HoldAccount → store) gives the store
//     the amount back, after posting the hold if the Completed update
//     never came; the payout is Failed with Reason ReasonReturned.
//
// The ledger is written first, with ids derived from the payout's, and
// the state after in one compare-and-set: applying an update again, or
// after a crash between the two, changes nothing twice. An update the
// payout has gone past (Completed for a Completed payout, Accepted for a
// Failed one) returns it unchanged.
//
// BankRef fills the payout's Ref when it has none; for a Chain payout it
// replaces it (a transaction may be replaced before it confirms).
//
// Codes: EInvalid (bad status); ENotFound; EConflict when the update
// contradicts the payout (its bank reference differs, a Failed for a
// Completed payout, a Completed for a Cancelled one), which is logged as
// an error: it needs a person.
func (s *Service) Apply(ctx context.Context, u rail.Update) (Payout, error) {
	if !u.Status.Valid() {
		return Payout{}, chengdui.Errorf(chengdui.EInvalid, "update status %q is not valid", clip(string(u.Status)))
	}
	p, err := s.change(ctx, u.OrderID, func(p Payout) (Payout, bool, error) { return s.apply(ctx, p, u) })
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		s.cfg.Log.Error("rail update contradicts the payout", "payout", u.OrderID, "status", u.Status, "bank_ref", u.BankRef, "err", err)
	}
	return p, err
}

func (s *Service) apply(ctx context.Context, p Payout, u rail.Update) (Payout, bool, error) {
	u.BankRef, u.Reason = clip(u.BankRef), clip(u.Reason)
	// A bank keeps its reference; a chain payout's transaction may be
	// replaced (fee bump, a requeued batch), so its txid may change.
	if p.Method == Bank && u.BankRef != "" && p.Ref != "" && u.BankRef != p.Ref {
		return p, false, chengdui.Errorf(chengdui.EConflict, "update for payout %s names reference %q; the payout has %q", p.ID, u.BankRef, p.Ref)
	}
	returned := p.State == Failed && strings.HasPrefix(p.Reason, ReasonReturned)
	conflict := func() (Payout, bool, error) {
		return p, false, chengdui.Errorf(chengdui.EConflict, "payout %s is %s; the rail reports it %s", p.ID, p.State, u.Status)
	}
	next := p
	if u.BankRef != "" && (next.Ref == "" || p.Method == Chain) {
		next.Ref = u.BankRef
	}
	if next.State == InProgress && next.SubmittedAt.IsZero() {
		next.SubmittedAt = s.now()
	}
	switch u.Status {
	case rail.Accepted:
		switch {
		case p.State == InProgress:
			return next, next != p, nil
		case p.State == Completed || p.State == Failed:
			return p, false, nil // a late update
		}
		return conflict()
	case rail.Completed:
		switch {
		case p.State == InProgress:
			if err := s.post(ctx, p); err != nil {
				return p, false, err
			}
			next.State, next.Reason = Completed, ""
			return next, true, nil
		case p.State == Completed || returned:
			return p, false, nil
		}
		return conflict()
	case rail.Failed:
		switch p.State {
		case InProgress:
			if err := s.void(ctx, p); err != nil {
				return p, false, err
			}
			what := "failed at the bank"
			if p.Method == Chain {
				what = "failed on chain"
			}
			next.State, next.Reason = Failed, clip(withReason(what, u.Reason))
			return next, true, nil
		case Failed:
			if !returned {
				return p, false, nil
			}
		}
		return conflict()
	case rail.Returned:
		switch {
		case p.State == InProgress || p.State == Completed:
			if err := s.post(ctx, p); err != nil {
				return p, false, err
			}
			back := chengdui.Transfer{ID: "po:" + p.ID + ":return", DebitAccountID: HoldAccount(p), CreditAccountID: StoreAccount(p.StoreID, p.Asset),
				Amount: p.Amount, Code: CodePayoutReturn, Metadata: map[string]string{"kind": "payout returned", "payout": p.ID}}
			if err := s.transfer(ctx, back); err != nil {
				return p, false, err
			}
			next.State, next.Reason = Failed, clip(withReason(ReasonReturned, u.Reason))
			return next, true, nil
		case returned:
			return p, false, nil
		}
		return conflict()
	}
	return conflict()
}

func withReason(what, reason string) string {
	if reason = strings.TrimSpace(reason); reason != "" {
		return what + ": " + reason
	}
	return what
}

// Get returns a payout. Callers scope it to the store they serve.
// Codes: ENotFound.
func (s *Service) Get(ctx context.Context, id string) (Payout, error) {
	return s.cfg.Store.Payout(ctx, id)
}

// List returns payouts by filter, oldest first; f.After pages on from
// the last payout of the previous page. Codes: EInvalid (a bad state or
// limit, an After that names no payout of the store).
func (s *Service) List(ctx context.Context, f Filter) ([]Payout, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, chengdui.Errorf(chengdui.EInvalid, "payout state %q is not valid", clip(string(f.State)))
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a page holds 1 to %d payouts", MaxLimit)
	}
	if f.Limit == 0 {
		f.Limit = DefaultBatch
	}
	if f.After != "" {
		p, err := s.cfg.Store.Payout(ctx, f.After)
		if chengdui.ErrorCode(err) == chengdui.ENotFound || (err == nil && f.StoreID != "" && p.StoreID != f.StoreID) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "cursor %q names no payout", clip(f.After))
		} else if err != nil {
			return nil, err
		}
	}
	return s.cfg.Store.Payouts(ctx, f)
}

// maxAttempts bounds how often change reads a payout again after losing a
// compare-and-set.
const maxAttempts = 8

// change reads payout id, lets decide do its ledger side and return the
// next payout (ok=false: nothing to write), and writes it if nobody
// changed the payout meanwhile; if somebody did, it reads and decides
// again. It returns the payout as stored.
func (s *Service) change(ctx context.Context, id string, decide func(Payout) (Payout, bool, error)) (Payout, error) {
	for range maxAttempts {
		p, err := s.cfg.Store.Payout(ctx, id)
		if err != nil {
			return Payout{}, err
		}
		next, ok, err := decide(p)
		if err != nil {
			return Payout{}, err
		} else if !ok {
			return next, nil
		}
		next.UpdatedAt = s.now()
		saved, err := s.cfg.Store.UpdatePayout(ctx, next)
		if chengdui.ErrorCode(err) != chengdui.EConflict {
			if err == nil {
				s.cfg.Log.Debug("payout changed", "payout", id, "from", p.State, "to", saved.State)
			}
			return saved, err
		}
	}
	return Payout{}, chengdui.Errorf(chengdui.EConflict, "payout %s keeps changing; try again", id)
}

func (s *Service) post(ctx context.Context, p Payout) error {
	return s.transfer(ctx, chengdui.Transfer{ID: "po:" + p.ID + ":post", PendingID: HoldID(p.ID), Flags: chengdui.PostPending, Code: CodePayout,
		Metadata: map[string]string{"kind": "payout", "payout": p.ID}})
}

func (s *Service) void(ctx context.Context, p Payout) error {
	return s.transfer(ctx, chengdui.Transfer{ID: "po:" + p.ID + ":void", PendingID: HoldID(p.ID), Flags: chengdui.VoidPending, Code: CodePayout,
		Metadata: map[string]string{"kind": "payout", "payout": p.ID}})
}

// HoldAccount is the platform account a payout's hold credits, and the
// completed payout: Account(asset) for a Bank payout (the money leaves
// through the bank), deposit.ChainAccount(asset) for a Chain payout (it
// leaves the platform's on-chain holdings, as a user's withdrawal does).
func HoldAccount(p Payout) string {
	if p.Method == Chain {
		return deposit.ChainAccount(p.Asset)
	}
	return Account(p.Asset)
}

// ensure creates the account a payout's hold credits, once.
func (s *Service) ensure(ctx context.Context, p Payout) error {
	id, role := HoldAccount(p), "payouts"
	if p.Method == Chain {
		role = "on-chain holdings"
	}
	s.mu.Lock()
	ok := s.known[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	_, err := s.cfg.Ledger.CreateAccount(ctx, chengdui.Account{ID: id, Asset: p.Asset, Metadata: map[string]string{"role": role}})
	if err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	s.mu.Lock()
	s.known[id] = true
	s.mu.Unlock()
	return nil
}

func (s *Service) transfer(ctx context.Context, t chengdui.Transfer) error {
	res, err := s.cfg.Ledger.CreateTransfers(ctx, []chengdui.Transfer{t})
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return errors.New("payout: the ledger answered a transfer with no result")
	}
	return res[0].Err
}

// plainID accepts the ids the service keys ledger accounts and records
// with: 1 to 100 bytes of UTF-8 without colons, spaces or control
// characters.
func plainID(s string) bool {
	return s != "" && len(s) <= 100 && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) })
}

// textOK accepts text stored as it is given: UTF-8 without control
// characters, at most max characters.
func textOK(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsFunc(s, unicode.IsControl)
}

// clip makes outside text (a bank's reason, an error message) fit for
// records and logs: valid UTF-8, no control characters, at most 200
// characters.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}
