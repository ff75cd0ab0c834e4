package invoice

import (
	"context"
	"math/big"
	"slices"
	"time"

	"chengdui"

	"lukechampine.com/uint128"
)

// BalancePaymentID is the payment id of a user's balance payment to an
// invoice: one per payer and invoice, so a retried click pays once.
func BalancePaymentID(invoiceID, userID string) string { return "bal:" + invoiceID + ":" + userID }

// HoldID is the ledger id of the pending transfer that holds a balance
// payment before it is posted.
func HoldID(invoiceID, userID string) string { return "inv:" + invoiceID + ":bal:" + userID + ":hold" }

// UserAccount is a user's account of an asset (as the wallet names it).
func UserAccount(userID, asset string) string { return "user:" + userID + ":" + asset }

// Remaining is what is left to pay of an invoice in an asset, rounded up
// so that paying it pays in full; zero when it is paid. Codes: EInvalid
// when the invoice has no quote for the asset.
func Remaining(inv Invoice, pays []Payment, asset string) (chengdui.Amount, error) {
	q, ok := inv.Quote(asset)
	if !ok {
		return chengdui.Amount{}, chengdui.Errorf(chengdui.EInvalid, "invoice %s cannot be paid in %s", inv.ID, asset)
	}
	all, _ := coverage(inv, pays)
	left := new(big.Rat).Sub(one, all)
	if left.Sign() <= 0 {
		return chengdui.Amount{}, nil
	}
	left.Mul(left, new(big.Rat).SetInt(q.Due.Big()))
	n, rem := new(big.Int).QuoRem(left.Num(), left.Denom(), new(big.Int))
	if rem.Sign() > 0 {
		n.Add(n, big.NewInt(1))
	}
	return uint128.FromBig(n), nil
}

// PayFromBalance pays what is left of an invoice from a user's balance of
// asset: a pending transfer holds the amount, the invoice is checked
// again, then the transfer is posted and the invoice settles at once.
// Retrying returns the same invoice and pays nothing more. Codes:
// ENotFound, EInvalid (no BALANCE method, no quote for the asset, a top-up
// invoice), EConflict (not payable in its status), EExceedsCredits (the
// balance is too low: nothing is held).
func (s *Service) PayFromBalance(ctx context.Context, userID, invoiceID, asset string) (Invoice, error) {
	inv, err := s.cfg.Store.Invoice(ctx, invoiceID)
	if err != nil {
		return Invoice{}, err
	}
	pays, err := s.cfg.Store.Payments(ctx, invoiceID)
	if err != nil {
		return Invoice{}, err
	}
	pid := BalancePaymentID(invoiceID, userID)
	if slices.ContainsFunc(pays, func(p Payment) bool { return p.ID == pid }) {
		return inv, nil // a retry: it was paid
	}
	if _, ok := inv.Method(MethodBalance); !ok {
		return Invoice{}, chengdui.Errorf(chengdui.EInvalid, "invoice %s cannot be paid from a balance", invoiceID)
	}
	if inv.TopUp {
		return Invoice{}, chengdui.Errorf(chengdui.EInvalid, "invoice %s has no amount: pay it on chain", invoiceID)
	}
	if err := payable(inv, s.now()); err != nil {
		return Invoice{}, err
	}
	amount, err := Remaining(inv, pays, asset)
	if err != nil {
		return Invoice{}, err
	}
	if amount.IsZero() {
		return Invoice{}, chengdui.Errorf(chengdui.EConflict, "invoice %s is paid", invoiceID)
	}
	clearing := ClearingAccount(invoiceID, asset)
	if err := s.ensureAccount(ctx, clearing, asset, map[string]string{"invoice": invoiceID, "store": inv.StoreID}); err != nil {
		return Invoice{}, err
	}
	hold := chengdui.Transfer{ID: HoldID(invoiceID, userID), DebitAccountID: UserAccount(userID, asset), CreditAccountID: clearing,
		Amount: amount, Code: CodeBalanceHold, Flags: chengdui.Pending, Timeout: 60,
		Metadata: map[string]string{"invoice": invoiceID, "store": inv.StoreID}}
	if err := s.one(ctx, hold); err != nil {
		if chengdui.ErrorCode(err) == chengdui.EAccountNotFound {
			return Invoice{}, chengdui.Errorf(chengdui.EExceedsCredits, "you hold no %s", asset)
		}
		if chengdui.ErrorCode(err) == chengdui.EExceedsCredits {
			return Invoice{}, chengdui.Errorf(chengdui.EExceedsCredits, "your %s balance is below the %s due",
				asset, chengdui.FormatDecimal(amount, decimalsOf(inv, asset)))
		}
		return Invoice{}, err
	}
	// The invoice may have expired or been paid while the funds were held.
	inv, err = s.cfg.Store.Invoice(ctx, invoiceID)
	if err == nil {
		err = payable(inv, s.now())
	}
	if err != nil {
		if verr := s.one(ctx, chengdui.Transfer{ID: hold.ID + ":void", PendingID: hold.ID, Flags: chengdui.VoidPending, Code: CodeBalanceHold}); verr != nil {
			s.cfg.Log.Error("invoice: void balance hold; the ledger expires it", "invoice", invoiceID, "err", verr)
		}
		return Invoice{}, err
	}
	if err := s.one(ctx, chengdui.Transfer{ID: hold.ID + ":post", PendingID: hold.ID, Amount: amount, Flags: chengdui.PostPending, Code: CodeBalanceHold}); err != nil {
		return Invoice{}, err
	}
	now := s.now()
	return s.apply(ctx, invoiceID, []Payment{{ID: pid, InvoiceID: invoiceID, Method: MethodBalance, Asset: asset, Amount: amount,
		Status: PaymentSettled, Destination: UserAccount(userID, asset), ReceivedAt: now, UpdatedAt: now}})
}

// payable refuses invoices a balance payment cannot pay.
func payable(inv Invoice, now time.Time) error {
	switch {
	case inv.Status != New:
		return chengdui.Errorf(chengdui.EConflict, "invoice %s is %s", inv.ID, inv.Status)
	case !now.Before(inv.ExpiresAt):
		return chengdui.Errorf(chengdui.EConflict, "invoice %s has expired", inv.ID)
	}
	return nil
}

// one creates one transfer and returns its own error.
func (s *Service) one(ctx context.Context, t chengdui.Transfer) error {
	return s.transfers(ctx, []chengdui.Transfer{t})
}

// transfers creates transfers in one request and returns the first
// refusal.
func (s *Service) transfers(ctx context.Context, ts []chengdui.Transfer) error {
	res, err := s.cfg.Ledger.CreateTransfers(ctx, ts)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}
