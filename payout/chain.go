package payout

import (
	"context"
	"sync"

	"chengdui"
	"chengdui/rail"
	"chengdui/withdraw"
)

// ChainSender is the CryptoSender of the platform's hot wallets: it sends
// each Chain payout as a withdrawal of origin withdraw.OriginPayout
// through the withdraw service, whose chain payers batch it with the
// others, and reports the withdrawal's progress back to the payout
// service: sent (Accepted, with the txid), completed (Completed: the hold
// is posted, the store debited and the asset's chain account credited) or
// failed (Failed: the hold is voided).
//
// The payout's hold is the withdrawal's: withdraw.Service.Complete books
// the network fee and posts no hold of its own. The withdrawal's id is
// the payout's.
type ChainSender struct {
	w *withdraw.Service

	mu  sync.Mutex
	svc *Service
}

var (
	_ CryptoSender   = (*ChainSender)(nil)
	_ AddressChecker = (*ChainSender)(nil)
)

// NewChainSender returns a ChainSender over the withdraw service and
// registers its outcome function for withdraw.OriginPayout. Give it to
// Config.Crypto, then Attach the payout service New returned: until then,
// outcomes fail with EUnavailable and the payers report them again.
func NewChainSender(w *withdraw.Service) *ChainSender {
	c := &ChainSender{w: w}
	w.OnOutcome(withdraw.OriginPayout, c.outcome)
	return c
}

// Attach gives c the payout service that outcomes are applied to.
func (c *ChainSender) Attach(s *Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.svc = s
}

// CheckAddress implements AddressChecker with the payer of the asset's
// chain: the canonical form (EIP-55, lowercase bech32). Codes: EInvalid.
func (c *ChainSender) CheckAddress(asset, address string) (string, error) {
	return c.w.CheckAddress(asset, address)
}

// Submit implements CryptoSender: it enqueues the payout as a withdrawal
// (idempotent by the payout's id) and returns its txid once it has one.
// A payout the chain refuses (an amount below the dust limit, a bad
// address) is EInvalid, which fails the payout.
func (c *ChainSender) Submit(ctx context.Context, p Payout) (string, error) {
	if p.Method != Chain {
		return "", chengdui.Errorf(chengdui.EInvalid, "payout %s is not a CHAIN payout", p.ID)
	}
	w, err := c.w.Enqueue(ctx, withdraw.Withdrawal{ID: p.ID, Origin: withdraw.OriginPayout, Asset: p.Asset, To: p.Address, Amount: p.Amount})
	if err != nil {
		return "", err
	}
	if w.Status == withdraw.Sent || w.Status == withdraw.Completed {
		return w.TxID, nil
	}
	return "", nil
}

// outcome applies a withdrawal's progress to its payout.
func (c *ChainSender) outcome(ctx context.Context, w withdraw.Withdrawal) error {
	c.mu.Lock()
	svc := c.svc
	c.mu.Unlock()
	if svc == nil {
		return chengdui.Errorf(chengdui.EUnavailable, "payout %s: the chain sender is not attached to the payout service yet", w.ID)
	}
	u := rail.Update{OrderID: w.ID, BankRef: w.TxID}
	switch w.Status {
	case withdraw.Sent:
		u.Status = rail.Accepted
	case withdraw.Completed:
		u.Status = rail.Completed
	case withdraw.Failed:
		u.Status, u.Reason = rail.Failed, w.Reason
	default:
		return nil
	}
	_, err := svc.Apply(ctx, u)
	return err
}
