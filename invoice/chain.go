package invoice

import (
	"context"
	"strings"

	"chengdui"
	"chengdui/deposit"
)

// Resolver returns a deposit.Resolver that credits payments to invoice
// addresses, and router payments by their intent id, to the invoice's
// clearing account, and hands every other payment to next (users'
// deposit addresses).
func (s *Service) Resolver(next deposit.Resolver) deposit.Resolver {
	return resolver{s: s, next: next}
}

type resolver struct {
	s    *Service
	next deposit.Resolver
}

func (r resolver) Resolve(ctx context.Context, p deposit.Payment) (string, error) {
	id, err := r.s.invoiceOf(ctx, p)
	switch {
	case chengdui.ErrorCode(err) == chengdui.ENotFound:
		if r.next == nil {
			return "", err
		}
		return r.next.Resolve(ctx, p)
	case err != nil:
		return "", err
	}
	inv, err := r.s.cfg.Store.Invoice(ctx, id)
	if err != nil {
		return "", err
	}
	if _, ok := inv.Quote(p.Asset); !ok {
		return "", chengdui.Errorf(chengdui.ENotFound, "invoice %s is not payable in %s", id, p.Asset)
	}
	acct := ClearingAccount(id, p.Asset)
	if err := r.s.ensureAccount(ctx, acct, p.Asset, map[string]string{"invoice": id, "store": inv.StoreID}); err != nil {
		return "", err
	}
	return acct, nil
}

// invoiceOf finds the invoice a chain payment pays.
func (s *Service) invoiceOf(ctx context.Context, p deposit.Payment) (string, error) {
	if p.Kind == deposit.KindRouter && p.Reference != "" {
		return s.cfg.Store.InvoiceByIntent(ctx, strings.ToLower(p.Reference))
	}
	a, err := s.cfg.Store.InvoiceAddress(ctx, p.Address)
	if err != nil {
		return "", err
	}
	return a.InvoiceID, nil
}

// invoiceOfAccount parses a clearing account id.
func invoiceOfAccount(acct string) (id, asset string, ok bool) {
	rest, ok := strings.CutPrefix(acct, "invoice:")
	if !ok {
		return "", "", false
	}
	id, asset, ok = strings.Cut(rest, ":")
	return id, asset, ok
}

// Policy implements deposit.Config.PolicyFor: a payment to an invoice is
// credited when the invoice's speed policy is met, whatever the chain's
// default (HighSpeed: from the mempool, unless it signals RBF).
func (s *Service) Policy(ctx context.Context, d deposit.Deposit) (deposit.Policy, bool, error) {
	id, _, ok := invoiceOfAccount(d.AccountID)
	if !ok {
		return deposit.Policy{}, false, nil
	}
	if p, ok := s.policies.Load(id); ok {
		return p.(deposit.Policy), true, nil
	}
	inv, err := s.cfg.Store.Invoice(ctx, id)
	if err != nil {
		return deposit.Policy{}, false, err
	}
	depth, _ := inv.SpeedPolicy.Depth()
	p := deposit.Policy{Depth: depth}
	if depth == 0 {
		p.ZeroConfMax = chengdui.Amount{Lo: ^uint64(0), Hi: ^uint64(0)}
	}
	s.policies.Store(id, p)
	return p, true, nil
}

// paymentOf maps a deposit to an invoice payment.
func paymentOf(d deposit.Deposit, inv Invoice, asset string) Payment {
	p := Payment{ID: d.Key.String(), InvoiceID: inv.ID, Asset: asset, Amount: d.Amount, Destination: d.Address,
		TxID: d.TxID, ReceivedAt: d.FirstSeen, UpdatedAt: d.UpdatedAt}
	for _, m := range inv.Methods {
		if m.Asset == asset && (m.Destination == d.Address || d.Kind == deposit.KindRouter) {
			p.Method = m.ID
			break
		}
	}
	switch d.Status {
	case deposit.Credited:
		p.Status = PaymentSettled
	case deposit.Seen, deposit.Orphaned:
		p.Status = PaymentProcessing
	default: // reversed, replaced, unexpected
		p.Status = PaymentInvalid
	}
	return p
}

// DepositsChanged implements deposit.Config.OnChange: it applies changed
// deposits to the invoices they pay. A failure is logged and the invoice
// retried on the next tick; Recover repairs what a crash in between lost.
func (s *Service) DepositsChanged(ctx context.Context, ds []deposit.Deposit) {
	by := map[string][]deposit.Deposit{}
	var order []string
	for _, d := range ds {
		id, _, ok := invoiceOfAccount(d.AccountID)
		if !ok {
			continue
		}
		if _, seen := by[id]; !seen {
			order = append(order, id)
		}
		by[id] = append(by[id], d)
	}
	for _, id := range order {
		if err := s.applyDeposits(ctx, id, by[id]); err != nil {
			s.cfg.Log.Error("invoice: apply deposits; retried on the next tick", "invoice", id, "err", err)
			s.mu.Lock()
			s.dirty[id] = true
			s.mu.Unlock()
		}
	}
}

func (s *Service) applyDeposits(ctx context.Context, id string, ds []deposit.Deposit) error {
	inv, err := s.cfg.Store.Invoice(ctx, id)
	if err != nil {
		return err
	}
	var upd []Payment
	for _, d := range ds {
		_, asset, _ := invoiceOfAccount(d.AccountID)
		upd = append(upd, paymentOf(d, inv, asset))
	}
	_, err = s.apply(ctx, id, upd)
	return err
}

// DepositSource lists deposits credited to an account: the deposit store.
type DepositSource interface {
	Deposits(ctx context.Context, f deposit.Filter) ([]deposit.Deposit, error)
}

// Recover re-applies the deposits of invoices still monitored, so that a
// change lost between a deposit's write and its invoice's (a crash, a
// failed write) is applied. Run it at start.
func (s *Service) Recover(ctx context.Context) error {
	after := ""
	for {
		invs, err := s.cfg.Store.Invoices(ctx, Filter{Statuses: []Status{New, Processing, Expired, Settled}, Archived: true, After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inv.Closed {
				continue
			}
			if err := s.recoverInvoice(ctx, inv); err != nil {
				return err
			}
			if inv.Status == Settled {
				// A settlement a crash interrupted.
				if _, err := s.apply(ctx, inv.ID, nil); err != nil {
					return err
				}
			}
		}
		if len(invs) < 500 {
			return nil
		}
		after = invs[len(invs)-1].ID
	}
}

// recoverInvoice re-applies the deposits of one invoice.
func (s *Service) recoverInvoice(ctx context.Context, inv Invoice) error {
	if s.cfg.Deposits == nil {
		return nil
	}
	var ds []deposit.Deposit
	for _, q := range inv.Quotes {
		got, err := s.cfg.Deposits.Deposits(ctx, deposit.Filter{AccountID: ClearingAccount(inv.ID, q.Asset), Limit: 1000})
		if err != nil {
			return err
		}
		ds = append(ds, got...)
	}
	if len(ds) == 0 {
		return nil
	}
	return s.applyDeposits(ctx, inv.ID, ds)
}

// retryDirty re-applies invoices whose deposit changes failed.
func (s *Service) retryDirty(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.dirty))
	for id := range s.dirty {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.mu.Lock()
		delete(s.dirty, id) // set again if it fails again
		s.mu.Unlock()
		inv, err := s.cfg.Store.Invoice(ctx, id)
		if err == nil {
			err = s.recoverInvoice(ctx, inv)
		}
		if err == nil {
			_, err = s.apply(ctx, id, nil)
		}
		if err != nil {
			s.cfg.Log.Error("invoice: retry deposits", "invoice", id, "err", err)
			continue
		}
	}
}
