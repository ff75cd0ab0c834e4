package withdraw

import (
	"context"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"chengdui"
	"chengdui/deposit"
)

// Payer sends withdrawals on one chain.
type Payer interface {
	// Chain names the chain, e.g. bitcoin:regtest or evm:1337.
	Chain() string
	// NativeAsset is the asset network fees are paid in (BTC, ETH).
	NativeAsset() string
	// Pays reports whether the payer sends asset.
	Pays(asset string) bool
	// CheckAddress validates an address on the payer's chain and returns
	// its canonical form. Codes: EInvalid.
	CheckAddress(to string) (string, error)
	// CheckAmount refuses amounts the chain cannot carry (below dust).
	// Codes: EInvalid.
	CheckAmount(asset string, amount chengdui.Amount) error
	// Submit hands a pending withdrawal over for sending. It is idempotent
	// by w.ID: the service submits again after a restart.
	Submit(ctx context.Context, w Withdrawal) error
}

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
}

// SecondFactor checks and consumes a user's second factor: auth.Guard.
type SecondFactor interface {
	Require(ctx context.Context, userID, code string) error
}

// Assets lists the ledger's assets.
type Assets interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
}

// Config tunes a Service.
type Config struct {
	Log *slog.Logger     // nil: slog.Default()
	Now func() time.Time // nil: time.Now
}

// Service implements withdrawals.
type Service struct {
	store  Store
	ledger Ledger
	assets Assets
	guard  SecondFactor
	cfg    Config

	mu       sync.Mutex
	payers   []Payer
	known    map[string]bool                                          // platform accounts created
	outcomes map[string]func(ctx context.Context, w Withdrawal) error // by origin
	// changing serialises the state changes of one withdrawal (MarkSent,
	// Requeue, Complete, Fail read, decide and write): the payer's loop
	// marking a batch sent and the sender finishing it must not overwrite
	// each other. One payer per chain runs in one process. Striped by the
	// id's hash, so memory does not grow with the withdrawals.
	changing [64]sync.Mutex
}

// lock takes the state-change lock of withdrawal id.
func (s *Service) lock(id string) func() {
	h := fnv.New32a()
	h.Write([]byte(id))
	mu := &s.changing[h.Sum32()%uint32(len(s.changing))]
	mu.Lock()
	return mu.Unlock
}

// New returns a Service; add payers with AddPayer.
func New(store Store, l Ledger, assets Assets, guard SecondFactor, cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, ledger: l, assets: assets, guard: guard, cfg: cfg, known: map[string]bool{},
		outcomes: map[string]func(context.Context, Withdrawal) error{}}
}

// AddPayer registers a chain's payer.
func (s *Service) AddPayer(p Payer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payers = append(s.payers, p)
}

func (s *Service) payerFor(asset string) (Payer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payers {
		if p.Pays(asset) {
			return p, true
		}
	}
	return nil, false
}

func (s *Service) payer(chain string) (Payer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payers {
		if p.Chain() == chain {
			return p, true
		}
	}
	return nil, false
}

func (s *Service) decimals(ctx context.Context, asset string) (uint8, error) {
	as, err := s.assets.Assets(ctx)
	if err != nil {
		return 0, err
	}
	for _, a := range as {
		if a.Code == asset {
			return a.Decimals, nil
		}
	}
	return 0, chengdui.Errorf(chengdui.EInvalid, "unknown asset %q", asset)
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Request is what a user asks for.
type Request struct {
	ID     string // idempotency key, chosen by the client (e.g. Idempotency-Key)
	Asset  string
	To     string
	Amount string // in whole units, e.g. "0.015"
	Code   string // the second factor: a TOTP or recovery code
}

// MaxIDLength bounds a withdrawal id.
const MaxIDLength = 64

// Withdraw checks a request, the user's second factor and their balance,
// holds the amount and submits the withdrawal to its chain's payer.
//
// Errors: EInvalid (unknown asset, bad address, amount, id),
// ESecondFactorRequired / EUnauthorized (second factor), EExceedsCredits
// (balance), EConflict (id reused with another body). A refused request
// changes nothing (a consumed TOTP code stays consumed).
func (s *Service) Withdraw(ctx context.Context, userID string, r Request) (Withdrawal, error) {
	if r.ID == "" || len(r.ID) > MaxIDLength || strings.ContainsAny(r.ID, ": \t\r\n") {
		return Withdrawal{}, chengdui.Errorf(chengdui.EInvalid, "a withdrawal id is 1 to %d characters without spaces or colons", MaxIDLength)
	}
	p, ok := s.payerFor(r.Asset)
	if !ok {
		return Withdrawal{}, chengdui.Errorf(chengdui.EInvalid, "withdrawals of %q are not available; ask for one of the wallet's assets", r.Asset)
	}
	dec, err := s.decimals(ctx, r.Asset)
	if err != nil {
		return Withdrawal{}, err
	}
	amount, err := chengdui.ParseDecimal(r.Amount, dec)
	if err != nil {
		return Withdrawal{}, err
	}
	if amount.IsZero() {
		return Withdrawal{}, chengdui.Errorf(chengdui.EZeroAmount, "a withdrawal amount is above zero")
	}
	if err := p.CheckAmount(r.Asset, amount); err != nil {
		return Withdrawal{}, err
	}
	to, err := p.CheckAddress(r.To)
	if err != nil {
		return Withdrawal{}, err
	}
	id := userID + "-" + r.ID
	w := Withdrawal{ID: id, UserID: userID, Asset: r.Asset, Chain: p.Chain(), To: to, Amount: amount, Status: Pending, FeeAsset: p.NativeAsset()}
	if prev, err := s.store.Withdrawal(ctx, id); err == nil {
		if prev.Asset != w.Asset || prev.To != w.To || prev.Amount != w.Amount {
			return Withdrawal{}, chengdui.Errorf(chengdui.EConflict, "withdrawal id %q was used for another withdrawal; choose a new id", r.ID)
		}
		return prev, nil // a retry: no second factor asked again, nothing done twice
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return Withdrawal{}, err
	}
	if err := s.guard.Require(ctx, userID, r.Code); err != nil {
		return Withdrawal{}, err
	}
	if err := s.ensure(ctx, deposit.ChainAccount(w.Asset), w.Asset); err != nil {
		return Withdrawal{}, err
	}
	// The hold first: a refusal (balance) leaves nothing behind. A crash
	// before the record is written is repaired by the client's retry with
	// the same id (the hold is the ledger's idempotent replay).
	hold := chengdui.Transfer{ID: HoldID(id), DebitAccountID: "user:" + userID + ":" + w.Asset, CreditAccountID: deposit.ChainAccount(w.Asset),
		Amount: amount, Flags: chengdui.Pending, Code: CodeWithdrawal,
		Metadata: map[string]string{"kind": "withdrawal", "withdrawal": id, "to": to, "chain": w.Chain}}
	if err := s.transfer(ctx, hold); err != nil {
		return Withdrawal{}, err
	}
	w.CreatedAt, w.UpdatedAt = s.now(), s.now()
	if err := s.store.CreateWithdrawal(ctx, w); err != nil {
		if chengdui.ErrorCode(err) == chengdui.EConflict {
			return s.store.Withdrawal(ctx, id)
		}
		return Withdrawal{}, err
	}
	s.cfg.Log.Info("withdrawal requested", "withdrawal", id, "user", userID, "asset", w.Asset, "amount", amount.String(), "to", to)
	if err := p.Submit(ctx, w); err != nil {
		// It stays pending and is submitted again by Resume.
		s.cfg.Log.Error("withdrawal not submitted; it will be retried", "withdrawal", id, "err", err)
	}
	return w, nil
}

// CheckAddress validates an address for an asset with the payer that
// sends the asset, and returns its canonical form: what Enqueue will
// store. Codes: EInvalid (an asset no payer sends, a bad address).
func (s *Service) CheckAddress(asset, to string) (string, error) {
	p, ok := s.payerFor(asset)
	if !ok {
		return "", chengdui.Errorf(chengdui.EInvalid, "withdrawals of %q are not available", clip(asset))
	}
	return p.CheckAddress(to)
}

// MaxEnqueueIDLength bounds the id of a withdrawal a service enqueues.
const MaxEnqueueIDLength = 100

// Enqueue hands over a withdrawal the platform sends on a service's
// behalf: w.Origin names the service (OriginPayout, OriginRefund; not
// OriginUser), w.ID is chosen by the caller (unique, 1 to
// MaxEnqueueIDLength bytes without colons or spaces, e.g. "po-…" or
// "rf-…"), and w.Asset, w.To and w.Amount say what to send where; the
// other fields are the service's to fill (UserID stays empty).
//
// The caller has already held the amount with a pending ledger transfer
// crediting deposit.ChainAccount(w.Asset), and posts or voids that hold
// itself when its OnOutcome function is told the outcome. Enqueue
// validates the asset, address and amount with the chain's payer (the
// address is stored in its canonical form), stores the withdrawal Pending
// (no second factor, no hold of its own) and submits it to the payer,
// which batches it with the others. A Submit that fails is logged: the
// withdrawal stays pending and Resume submits it again.
//
// It is idempotent by ID: the same request returns the stored withdrawal
// in whatever state it has reached.
//
// Errors: EInvalid (no origin, a bad id, an asset no payer sends, a bad
// address, an amount below the chain's dust limit), EZeroAmount,
// EInvalidAmount, EConflict (the id was used for another withdrawal).
func (s *Service) Enqueue(ctx context.Context, w Withdrawal) (Withdrawal, error) {
	if w.Origin == OriginUser {
		return Withdrawal{}, chengdui.Errorf(chengdui.EInvalid, "an enqueued withdrawal needs the origin of the service sending it; users withdraw with Withdraw")
	}
	if w.ID == "" || len(w.ID) > MaxEnqueueIDLength || strings.ContainsAny(w.ID, ": \t\r\n") {
		return Withdrawal{}, chengdui.Errorf(chengdui.EInvalid, "a withdrawal id is 1 to %d bytes without spaces or colons", MaxEnqueueIDLength)
	}
	// A withdrawal stored already answers first, whatever the payers are
	// now: a caller told "invalid" for a withdrawal that exists would give
	// its hold back while the withdrawal is still paid.
	if prev, err := s.store.Withdrawal(ctx, w.ID); err == nil {
		if prev.Origin == w.Origin && prev.Asset == w.Asset && prev.Amount == w.Amount && strings.EqualFold(prev.To, strings.TrimSpace(w.To)) {
			return prev, nil
		}
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return Withdrawal{}, err
	}
	p, ok := s.payerFor(w.Asset)
	if !ok {
		return Withdrawal{}, chengdui.Errorf(chengdui.EInvalid, "withdrawals of %q are not available", clip(w.Asset))
	}
	if w.Amount.IsZero() {
		return Withdrawal{}, chengdui.Errorf(chengdui.EZeroAmount, "a withdrawal amount is above zero")
	}
	if err := p.CheckAmount(w.Asset, w.Amount); err != nil {
		return Withdrawal{}, err
	}
	to, err := p.CheckAddress(w.To)
	if err != nil {
		return Withdrawal{}, err
	}
	now := s.now()
	w = Withdrawal{ID: w.ID, Origin: w.Origin, Asset: w.Asset, Chain: p.Chain(), To: to, Amount: w.Amount, Status: Pending,
		FeeAsset: p.NativeAsset(), CreatedAt: now, UpdatedAt: now}
	same := func(prev Withdrawal) (Withdrawal, error) {
		if prev.Origin != w.Origin || prev.Asset != w.Asset || prev.To != w.To || prev.Amount != w.Amount {
			return Withdrawal{}, chengdui.Errorf(chengdui.EConflict, "withdrawal id %q was used for another withdrawal", w.ID)
		}
		return prev, nil
	}
	if prev, err := s.store.Withdrawal(ctx, w.ID); err == nil {
		return same(prev)
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return Withdrawal{}, err
	}
	if err := s.store.CreateWithdrawal(ctx, w); err != nil {
		if chengdui.ErrorCode(err) != chengdui.EConflict {
			return Withdrawal{}, err
		}
		prev, err := s.store.Withdrawal(ctx, w.ID) // a concurrent Enqueue stored it
		if err != nil {
			return Withdrawal{}, err
		}
		return same(prev)
	}
	s.cfg.Log.Info("withdrawal enqueued", "withdrawal", w.ID, "origin", w.Origin, "asset", w.Asset, "amount", w.Amount.String(), "to", to)
	if err := p.Submit(ctx, w); err != nil {
		s.cfg.Log.Error("withdrawal not submitted; it will be retried", "withdrawal", w.ID, "err", err)
	}
	return w, nil
}

// OnOutcome registers fn for the withdrawals of one origin, replacing any
// fn registered before. MarkSent, Complete and Fail call it with the
// withdrawal as it will be stored (Sent with TxID; Completed with TxID and
// Fee; Failed with Reason) before they write the status, so that an error
// of fn leaves the status unwritten and the payer's next round calls it
// again: fn must be idempotent. Complete and Fail of a withdrawal whose
// origin has no fn return EUnavailable and write nothing, since nobody
// would post or void its hold.
func (s *Service) OnOutcome(origin string, fn func(ctx context.Context, w Withdrawal) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[origin] = fn
}

// outcome calls the function registered for w's origin. must: its absence
// is an error.
func (s *Service) outcome(ctx context.Context, w Withdrawal, must bool) error {
	s.mu.Lock()
	fn := s.outcomes[w.Origin]
	s.mu.Unlock()
	if fn == nil {
		if must && w.Origin != OriginUser {
			return chengdui.Errorf(chengdui.EUnavailable, "withdrawal %s of origin %q: no outcome handler is registered (Service.OnOutcome)", w.ID, w.Origin)
		}
		return nil
	}
	return fn(ctx, w)
}

// Resume submits again every pending withdrawal of a chain: after a
// restart, or a Submit that failed (an EVM token the hot wallet did not
// hold yet, a node that was down). One that fails again is logged and
// left for the next round; it never blocks the others.
func (s *Service) Resume(ctx context.Context, chain string) error {
	p, ok := s.payer(chain)
	if !ok {
		return chengdui.Errorf(chengdui.EInvalid, "no payer for chain %s", chain)
	}
	ws, err := s.store.Withdrawals(ctx, Filter{Chain: chain, Status: Pending, Limit: 10000})
	if err != nil {
		return err
	}
	for _, w := range ws {
		if err := p.Submit(ctx, w); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.cfg.Log.Warn("withdrawal not submitted; it will be retried", "withdrawal", w.ID, "err", err)
		}
	}
	return nil
}

// ResumeEvery runs Resume for chain every interval until ctx ends.
func (s *Service) ResumeEvery(ctx context.Context, chain string, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Resume(ctx, chain); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("resuming withdrawals", "chain", chain, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Get returns a user's withdrawal. Codes: ENotFound (also for another
// user's withdrawal).
func (s *Service) Get(ctx context.Context, userID, id string) (Withdrawal, error) {
	w, err := s.store.Withdrawal(ctx, userID+"-"+id)
	if err == nil && w.UserID != userID {
		err = chengdui.Errorf(chengdui.ENotFound, "no withdrawal %q", id)
	}
	return w, err
}

// List returns a user's withdrawals, oldest first.
func (s *Service) List(ctx context.Context, userID string) ([]Withdrawal, error) {
	return s.store.Withdrawals(ctx, Filter{UserID: userID, Limit: 1000})
}

// MarkSent records the transaction that pays a withdrawal.
func (s *Service) MarkSent(ctx context.Context, id, txid string) error {
	defer s.lock(id)()
	w, err := s.store.Withdrawal(ctx, id)
	if err != nil {
		return err
	}
	if w.Status == Completed || w.Status == Failed || (w.Status == Sent && w.TxID == txid) {
		return nil
	}
	w.Status, w.TxID, w.UpdatedAt = Sent, txid, s.now()
	if err := s.outcome(ctx, w, false); err != nil {
		return err
	}
	return s.store.UpdateWithdrawal(ctx, w)
}

// Requeue puts a sent withdrawal back to pending: its transaction never
// reached the chain (the node does not know it) and it must be paid by
// another. The hold stays.
func (s *Service) Requeue(ctx context.Context, id string) error {
	defer s.lock(id)()
	w, err := s.store.Withdrawal(ctx, id)
	if err != nil {
		return err
	}
	if w.Status != Sent {
		return nil
	}
	s.cfg.Log.Warn("withdrawal's transaction is gone; it will be paid again", "withdrawal", id, "txid", w.TxID)
	w.Status, w.TxID, w.UpdatedAt = Pending, "", s.now()
	return s.store.UpdateWithdrawal(ctx, w)
}

// Store returns the service's storage.
func (s *Service) Store() Store { return s.store }

// Complete posts a withdrawal's hold and books its share of the network
// fee (in the chain's native asset) as the platform's expense. A
// withdrawal a service enqueued has no hold of its own: its fee is booked
// and its origin's OnOutcome function posts the service's hold. It is
// idempotent.
func (s *Service) Complete(ctx context.Context, id, txid string, fee chengdui.Amount) error {
	defer s.lock(id)()
	w, err := s.store.Withdrawal(ctx, id)
	if err != nil {
		return err
	}
	switch w.Status {
	case Completed:
		return nil
	case Failed:
		return chengdui.Errorf(chengdui.EConflict, "withdrawal %s failed already; it cannot complete", id)
	}
	if w.Origin == OriginUser {
		if err := s.transfer(ctx, chengdui.Transfer{ID: "wd:" + id + ":post", PendingID: HoldID(id), Flags: chengdui.PostPending, Code: CodeWithdrawal,
			Metadata: map[string]string{"kind": "withdrawal", "txid": txid}}); err != nil {
			return err
		}
	}
	if !fee.IsZero() {
		feeAcct := "platform:" + w.FeeAsset + ":network-fees"
		if err := s.ensure(ctx, feeAcct, w.FeeAsset); err != nil {
			return err
		}
		if err := s.ensure(ctx, deposit.ChainAccount(w.FeeAsset), w.FeeAsset); err != nil {
			return err
		}
		if err := s.transfer(ctx, chengdui.Transfer{ID: "wd:" + id + ":fee", DebitAccountID: feeAcct, CreditAccountID: deposit.ChainAccount(w.FeeAsset),
			Amount: fee, Code: CodeNetworkFee, Metadata: map[string]string{"kind": "network fee", "withdrawal": id, "txid": txid}}); err != nil {
			return err
		}
	}
	w.Status, w.TxID, w.Fee, w.UpdatedAt = Completed, txid, fee, s.now()
	if err := s.outcome(ctx, w, true); err != nil {
		return err
	}
	s.cfg.Log.Info("withdrawal completed", "withdrawal", id, "origin", w.Origin, "txid", txid, "fee", fee.String())
	return s.store.UpdateWithdrawal(ctx, w)
}

// Fail voids a withdrawal's hold: the user has the amount back. A
// withdrawal a service enqueued has no hold of its own: its origin's
// OnOutcome function voids the service's. It is idempotent.
func (s *Service) Fail(ctx context.Context, id, reason string) error {
	defer s.lock(id)()
	w, err := s.store.Withdrawal(ctx, id)
	if err != nil {
		return err
	}
	switch w.Status {
	case Failed:
		return nil
	case Completed:
		return chengdui.Errorf(chengdui.EConflict, "withdrawal %s completed already; it cannot fail", id)
	}
	if w.Origin == OriginUser {
		if err := s.transfer(ctx, chengdui.Transfer{ID: "wd:" + id + ":void", PendingID: HoldID(id), Flags: chengdui.VoidPending, Code: CodeWithdrawal,
			Metadata: map[string]string{"kind": "withdrawal", "reason": clip(reason)}}); err != nil {
			return err
		}
	}
	w.Status, w.Reason, w.UpdatedAt = Failed, clip(reason), s.now()
	if err := s.outcome(ctx, w, true); err != nil {
		return err
	}
	s.cfg.Log.Warn("withdrawal failed", "withdrawal", id, "origin", w.Origin, "reason", w.Reason)
	return s.store.UpdateWithdrawal(ctx, w)
}

// BookNetworkFee books a network fee the platform paid for a transaction
// of its payers that pays no withdrawal (an EVM hot wallet's approval of
// the batch-payment contract), as Complete books a withdrawal's: from
// platform:<ASSET>:network-fees to the asset's chain account. ref names
// the transaction (its hash) and keys the transfer, so booking again
// books nothing.
func (s *Service) BookNetworkFee(ctx context.Context, asset, ref string, fee chengdui.Amount) error {
	if fee.IsZero() {
		return nil
	}
	feeAcct := "platform:" + asset + ":network-fees"
	if err := s.ensure(ctx, feeAcct, asset); err != nil {
		return err
	}
	if err := s.ensure(ctx, deposit.ChainAccount(asset), asset); err != nil {
		return err
	}
	return s.transfer(ctx, chengdui.Transfer{ID: "wd-fee:" + ref, DebitAccountID: feeAcct, CreditAccountID: deposit.ChainAccount(asset),
		Amount: fee, Code: CodeNetworkFee, Metadata: map[string]string{"kind": "network fee", "txid": ref}})
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

func (s *Service) ensure(ctx context.Context, id, asset string) error {
	s.mu.Lock()
	ok := s.known[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	_, err := s.ledger.CreateAccount(ctx, chengdui.Account{ID: id, Asset: asset, Metadata: map[string]string{"role": strings.TrimPrefix(id, "platform:"+asset+":")}})
	if err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	s.mu.Lock()
	s.known[id] = true
	s.mu.Unlock()
	return nil
}

func (s *Service) transfer(ctx context.Context, t chengdui.Transfer) error {
	res, err := s.ledger.CreateTransfers(ctx, []chengdui.Transfer{t})
	if err != nil {
		return err
	}
	return res[0].Err
}
