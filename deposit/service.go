package deposit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"chengdui"
)

// Policy is an asset's confirmation policy.
type Policy struct {
	// Depth is the number of confirmations a payment needs before it is
	// credited (1: in a block). 0 credits from the mempool a payment that
	// does not signal RBF and is at most ZeroConfMax (BTCPay's rule);
	// others wait for one confirmation.
	Depth uint32
	// ZeroConfMax bounds mempool credits when Depth is 0.
	ZeroConfMax chengdui.Amount
}

// DefaultDepth is the depth of an asset without a policy.
const DefaultDepth = 1

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
}

// Resolver tells which ledger account a payment credits: by its address
// (a user's deposit address, an invoice's address) or by its Reference (a
// router payment's intent id). It returns ENotFound for a payment that is
// nobody's, or an asset the owner cannot hold.
type Resolver interface {
	Resolve(ctx context.Context, p Payment) (accountID string, err error)
}

// Alerter records what an operator must look at. audit.Recorder is one.
type Alerter interface {
	Record(ctx context.Context, event, actor string, detail map[string]string)
}

// Alert event names.
const (
	AlertReversed        = "alert_deposit_reversed"
	AlertReversalBlocked = "alert_deposit_reversal_blocked"
	AlertUnexpected      = "alert_deposit_unexpected"
)

// Config tunes a Service.
type Config struct {
	Policies map[string]Policy // by asset code; missing: DefaultDepth
	Alerts   Alerter           // nil: alerts are only logged
	Log      *slog.Logger      // nil: slog.Default()
	Now      func() time.Time  // nil: time.Now
	// PolicyFor, if set, may give a deposit its own policy (a payment to
	// an invoice follows the invoice's speed policy); ok false: the
	// asset's policy applies.
	PolicyFor func(ctx context.Context, d Deposit) (p Policy, ok bool, err error)
	// OnChange, if set, is told of deposits after their change was
	// written (seen, mined, credited, orphaned, reversed, replaced). It
	// must not block for long: watchers wait for it.
	OnChange func(ctx context.Context, ds []Deposit)
}

// Service credits deposits. Its methods may be called concurrently for
// different chains; a chain's watcher calls them one at a time.
type Service struct {
	store    Store
	ledger   Ledger
	resolver Resolver
	cfg      Config

	mu       sync.Mutex
	accounts map[string]bool // platform chain accounts known to exist
	blocked  map[Key]bool    // reversals refused, alerted once
}

// New returns a Service.
func New(store Store, l Ledger, r Resolver, cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, ledger: l, resolver: r, cfg: cfg, accounts: map[string]bool{}, blocked: map[Key]bool{}}
}

// Store returns the service's storage, for watchers' cursors.
func (s *Service) Store() Store { return s.store }

// PolicyOf returns an asset's confirmation policy.
func (s *Service) PolicyOf(asset string) Policy {
	if p, ok := s.cfg.Policies[asset]; ok {
		return p
	}
	return Policy{Depth: DefaultDepth}
}

// ChainAccount is the platform account that holds an asset on chain: the
// debit side of every credit.
func ChainAccount(asset string) string { return "platform:" + asset + ":chain" }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Observe records payments seen on chain. A payment seen before is
// updated: mined (or mined again in another block after a reorg), back from
// orphaned, or seen in a block after it was thought replaced. Amounts and
// addresses of a known payment never change (they are part of the
// transaction); a different one is EConflict.
func (s *Service) Observe(ctx context.Context, ps []Payment) error {
	// What changed is written in one transaction at the end; a key seen
	// twice in ps builds on its own pending change.
	var out []Deposit
	at := map[Key]int{}
	for _, p := range ps {
		var prev *Deposit
		if i, ok := at[p.Key]; ok {
			prev = &out[i]
		}
		d, changed, err := s.observe(ctx, p, prev)
		if err != nil {
			return err
		}
		if !changed {
			continue
		}
		if i, ok := at[p.Key]; ok {
			out[i] = d
		} else {
			at[p.Key] = len(out)
			out = append(out, d)
		}
	}
	return s.put(ctx, out...)
}

// observe returns the deposit p makes of what is stored (or of prev, a
// change not written yet), and whether it changed.
func (s *Service) observe(ctx context.Context, p Payment, prev *Deposit) (Deposit, bool, error) {
	if p.Chain == "" || p.TxID == "" || p.Kind == "" || p.Address == "" || p.Asset == "" {
		return Deposit{}, false, chengdui.Errorf(chengdui.EInvalid, "deposit %s: chain, txid, kind, address and asset are required", p.Key)
	}
	var d Deposit
	var err error
	if prev != nil {
		d = *prev
	} else {
		d, err = s.store.Deposit(ctx, p.Key)
	}
	switch {
	case chengdui.ErrorCode(err) == chengdui.ENotFound:
		d = Deposit{Payment: p, Status: Seen, FirstSeen: s.now(), UpdatedAt: s.now()}
		acct, err := s.resolver.Resolve(ctx, p)
		switch {
		case err == nil:
			d.AccountID = acct
		case chengdui.ErrorCode(err) != chengdui.ENotFound:
			return Deposit{}, false, err
		}
		s.cfg.Log.Info("deposit seen", "deposit", p.Key.String(), "address", p.Address, "asset", p.Asset,
			"amount", p.Amount.String(), "height", p.Height, "account", d.AccountID)
		return d, true, nil
	case err != nil:
		return Deposit{}, false, err
	}
	if d.Amount != p.Amount || d.Address != p.Address || d.Asset != p.Asset {
		return Deposit{}, false, chengdui.Errorf(chengdui.EConflict, "deposit %s was recorded as %s %s to %s, now seen as %s %s to %s",
			p.Key, d.Amount, d.Asset, d.Address, p.Amount, p.Asset, p.Address)
	}
	changed := false
	if d.BlockHash != p.BlockHash && p.BlockHash != "" {
		d.BlockHash, d.Height, changed = p.BlockHash, p.Height, true
	}
	if d.RBF != p.RBF && d.Height == 0 {
		d.RBF, changed = p.RBF, true
	}
	if p.Reference != "" && d.Reference != p.Reference {
		d.Reference, changed = p.Reference, true
	}
	// Mined (again) after it was orphaned, reversed or thought replaced:
	// it is a candidate for a credit again.
	if d.Height > 0 && (d.Status == Orphaned || d.Status == Reversed || d.Status == Replaced) {
		d.Status, changed = Seen, true
	}
	if changed {
		d.UpdatedAt = s.now()
	}
	return d, changed, nil
}

// Disconnect records that a chain's blocks at height and above left the
// canonical chain: their payments are unconfirmed again. Settle reverses
// those that were credited, unless they are mined again first.
func (s *Service) Disconnect(ctx context.Context, chain string, height uint64) error {
	ds, err := s.store.DepositsFrom(ctx, chain, height)
	if err != nil {
		return err
	}
	for _, d := range ds {
		s.cfg.Log.Warn("deposit's block left the chain", "deposit", d.Key.String(), "height", d.Height, "block", d.BlockHash, "status", string(d.Status))
		d.BlockHash, d.Height = "", 0
		if d.Status == Seen {
			d.Status = Orphaned
		}
		d.UpdatedAt = s.now()
		if err := s.put(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Replace records that a chain's unconfirmed transaction txid was
// double-spent or replaced. Its payments become Replaced; those credited
// (from the mempool, or orphaned after their credit) are reversed first.
// A transaction in a block is not touched: a block outranks the mempool.
func (s *Service) Replace(ctx context.Context, chain, txid string) error {
	ds, err := s.store.DepositsOfTx(ctx, chain, txid)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Height > 0 || d.Status == Replaced || d.Status == Unexpected {
			continue
		}
		if d.Status == Credited {
			if d, err = s.reverse(ctx, d, "replaced"); err != nil || d.Status == Credited {
				if err != nil {
					return err
				}
				continue
			}
		}
		s.cfg.Log.Warn("deposit replaced before confirmation", "deposit", d.Key.String())
		d.Status, d.UpdatedAt = Replaced, s.now()
		if err := s.put(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Result counts what Settle did.
type Result struct {
	Credited   int
	Reversed   int
	Unexpected int
}

// Settle applies the confirmation policies at the chain's tip: it credits
// payments that reached their depth and reverses credited payments whose
// block is gone. It is idempotent; watchers call it after every block.
func (s *Service) Settle(ctx context.Context, chain string, tip uint64) (Result, error) {
	var res Result
	ds, err := s.store.Unsettled(ctx, chain)
	if err != nil {
		return res, err
	}
	var due []Deposit // credited together, in one ledger request
	for _, d := range ds {
		eligible, err := s.eligible(ctx, d, tip)
		if err != nil {
			return res, err
		}
		switch {
		case d.Status == Seen && eligible:
			if d.AccountID == "" {
				acct, err := s.resolver.Resolve(ctx, d.Payment)
				switch {
				case err == nil:
					d.AccountID = acct
				case chengdui.ErrorCode(err) == chengdui.ENotFound:
					d.Status, d.UpdatedAt = Unexpected, s.now()
					if err := s.put(ctx, d); err != nil {
						return res, err
					}
					s.alert(ctx, AlertUnexpected, d, "")
					res.Unexpected++
					continue
				default:
					return res, err
				}
			}
			due = append(due, d)
		case d.Status == Credited && d.Height == 0 && !eligible:
			d, err := s.reverse(ctx, d, "block left the chain")
			if err != nil {
				return res, err
			}
			if d.Status == Reversed {
				res.Reversed++
			}
		}
	}
	n, err := s.credit(ctx, due)
	res.Credited += n
	return res, err
}

// put writes deposits and tells OnChange.
func (s *Service) put(ctx context.Context, ds ...Deposit) error {
	if err := s.store.PutDeposit(ctx, ds...); err != nil {
		return err
	}
	if s.cfg.OnChange != nil && len(ds) > 0 {
		s.cfg.OnChange(ctx, ds)
	}
	return nil
}

// policy is d's confirmation policy.
func (s *Service) policy(ctx context.Context, d Deposit) (Policy, error) {
	if s.cfg.PolicyFor != nil && d.AccountID != "" {
		p, ok, err := s.cfg.PolicyFor(ctx, d)
		if err != nil || ok {
			return p, err
		}
	}
	return s.PolicyOf(d.Asset), nil
}

// eligible reports whether d may be (or stay) credited at tip.
func (s *Service) eligible(ctx context.Context, d Deposit, tip uint64) (bool, error) {
	p, err := s.policy(ctx, d)
	if err != nil {
		return false, err
	}
	return eligibleAt(p, d, tip), nil
}

func eligibleAt(p Policy, d Deposit, tip uint64) bool {
	if d.Height == 0 {
		return p.Depth == 0 && !d.RBF && d.Amount.Cmp(p.ZeroConfMax) <= 0
	}
	if tip < d.Height {
		return false
	}
	conf := tip - d.Height + 1
	return conf >= uint64(max(p.Depth, 1)) || p.Depth == 0
}

// Confirmations is the number of confirmations of d at tip.
func Confirmations(d Deposit, tip uint64) uint64 {
	if d.Height == 0 || tip < d.Height {
		return 0
	}
	return tip - d.Height + 1
}

func (s *Service) ensureChainAccount(ctx context.Context, asset string) error {
	s.mu.Lock()
	ok := s.accounts[asset]
	s.mu.Unlock()
	if ok {
		return nil
	}
	_, err := s.ledger.CreateAccount(ctx, chengdui.Account{ID: ChainAccount(asset), Asset: asset, Metadata: map[string]string{"role": "on-chain holdings"}})
	if err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	s.mu.Lock()
	s.accounts[asset] = true
	s.mu.Unlock()
	return nil
}

// meta is the metadata of a credit or reversal: what identifies the
// payment on chain. It holds nothing that a reorg changes (the block), so
// a retried credit has the same body as the first.
func meta(d Deposit, kind string) map[string]string {
	m := map[string]string{"kind": kind, "chain": d.Chain, "txid": d.TxID, "payment": d.Kind, "index": itoa(d.Index), "address": d.Address}
	if d.Kind == KindERC20 || d.Kind == KindRouter {
		m["log_index"] = itoa(d.Index)
	}
	if d.Reference != "" {
		m["reference"] = d.Reference
	}
	return m
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func (s *Service) transfer(ctx context.Context, t chengdui.Transfer) error {
	res, err := s.ledger.CreateTransfers(ctx, []chengdui.Transfer{t})
	if err != nil {
		return err
	}
	return res[0].Err
}

// credit posts the next credit of each deposit, in one ledger request of
// independent transfers (a block's thousand deposits are one group
// commit, not a thousand), then records each credited deposit. A crash
// between the two is repaired by the next Settle: the same ids and bodies
// are the ledger's idempotent replay. It returns how many were credited
// and the first refusal.
func (s *Service) credit(ctx context.Context, ds []Deposit) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	ts := make([]chengdui.Transfer, len(ds))
	for i, d := range ds {
		if err := s.ensureChainAccount(ctx, d.Asset); err != nil {
			return 0, err
		}
		ts[i] = chengdui.Transfer{ID: CreditID(d.Key, d.Credits), DebitAccountID: ChainAccount(d.Asset), CreditAccountID: d.AccountID,
			Amount: d.Amount, Code: CodeDeposit, Metadata: meta(d, "deposit")}
	}
	res, err := s.ledger.CreateTransfers(ctx, ts)
	if err != nil {
		return 0, err
	}
	var done []Deposit
	var first error
	for i, d := range ds {
		if err := res[i].Err; err != nil {
			if first == nil {
				first = chengdui.Errorf(chengdui.ErrorCode(err), "credit deposit %s: %s", d.Key, chengdui.ErrorMessage(err))
			}
			continue
		}
		id := ts[i].ID
		d.Status, d.Credits, d.TransferID, d.UpdatedAt = Credited, d.Credits+1, id, s.now()
		s.cfg.Log.Info("deposit credited", "deposit", d.Key.String(), "account", d.AccountID, "amount", d.Amount.String(), "asset", d.Asset, "transfer", id)
		done = append(done, d)
	}
	if err := s.put(ctx, done...); err != nil {
		return 0, err
	}
	return len(done), first
}

// reverse takes back d's last credit. When the account no longer holds the
// amount (it was spent), the ledger refuses: the deposit stays Credited, an
// alert is raised once, and the next Settle tries again.
func (s *Service) reverse(ctx context.Context, d Deposit, why string) (Deposit, error) {
	if d.Credits == 0 {
		return d, chengdui.Errorf(chengdui.EInternal, "deposit %s is credited without a credit number", d.Key)
	}
	id := ReversalID(d.Key, d.Credits-1)
	err := s.transfer(ctx, chengdui.Transfer{ID: id, DebitAccountID: d.AccountID, CreditAccountID: ChainAccount(d.Asset),
		Amount: d.Amount, Code: CodeReversal, Metadata: meta(d, "deposit reversal")})
	switch chengdui.ErrorCode(err) {
	case "":
	case chengdui.EExceedsCredits:
		s.mu.Lock()
		first := !s.blocked[d.Key]
		s.blocked[d.Key] = true
		s.mu.Unlock()
		if first {
			s.alert(ctx, AlertReversalBlocked, d, why)
		}
		return d, nil
	default:
		return d, chengdui.Errorf(chengdui.ErrorCode(err), "reverse deposit %s: %s", d.Key, chengdui.ErrorMessage(err))
	}
	s.mu.Lock()
	delete(s.blocked, d.Key)
	s.mu.Unlock()
	d.Status, d.TransferID, d.UpdatedAt = Reversed, id, s.now()
	if err := s.put(ctx, d); err != nil {
		return d, err
	}
	s.alert(ctx, AlertReversed, d, why)
	return d, nil
}

func (s *Service) alert(ctx context.Context, event string, d Deposit, why string) {
	detail := map[string]string{"deposit": d.Key.String(), "address": d.Address, "asset": d.Asset, "amount": d.Amount.String(), "account": d.AccountID}
	if why != "" {
		detail["reason"] = why
	}
	s.cfg.Log.Error("operator alert", "alert", event, "deposit", d.Key.String(), "account", d.AccountID, "amount", d.Amount.String(), "asset", d.Asset, "reason", why)
	if s.cfg.Alerts != nil {
		s.cfg.Alerts.Record(ctx, event, "", detail)
	}
}
