package reconcile

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"chengdui"
	"chengdui/payout"
	"chengdui/rail/sandbox"
)

// Statements reads a bank account's statement; *sandbox.Client is one.
type Statements interface {
	Statement(ctx context.Context, accountID string, after int64) (sandbox.Statement, error)
}

// Bank is a bank the platform pays fiat payouts through: its operating
// account's statement per currency is compared with the ledger's
// platform:<CUR>:payouts account.
type Bank struct {
	Name       string // "" means sandbox
	Statements Statements
	// Currencies are the currencies reconciled, each with its operating
	// account (sandbox.OperatingAccountID).
	Currencies []string
}

func (b Bank) name() string {
	if b.Name == "" {
		return "sandbox"
	}
	return b.Name
}

// PayoutLedger is what the ledger booked of one payout: its hold, and
// whether and how much was posted, voided or returned.
type PayoutLedger struct {
	Held     *big.Int // the hold's amount; nil without a hold
	Posted   *big.Int // nil while not posted
	Voided   bool
	Returned *big.Int // nil while not returned
}

// open reports whether the hold is neither posted nor voided.
func (p PayoutLedger) open() bool { return p.Held != nil && p.Posted == nil && !p.Voided }

// net is what the ledger says left the bank for the payout.
func (p PayoutLedger) net() *big.Int {
	n := new(big.Int).Set(bigOr0(p.Posted))
	return n.Sub(n, bigOr0(p.Returned))
}

// PayoutBank is what a bank's statement shows of one order: what it paid
// and what came back.
type PayoutBank struct {
	Paid, Returned *big.Int
	BankRef        string
}

func (p PayoutBank) net() *big.Int {
	n := new(big.Int).Set(bigOr0(p.Paid))
	return n.Sub(n, bigOr0(p.Returned))
}

// MatchPayouts compares, order by order, what the ledger booked with what
// the bank did, and returns the items of every order whose two sides
// differ: a payout the bank completed while its hold is still pending
// (PayoutInFlight), one the bank returned while the return is not booked
// (ReturnNotBooked), and any other difference (BankMismatch). Each item's
// Effect is the order's bank net minus its ledger net, so the effects of
// all items add up to the bank's total minus the ledger's.
func MatchPayouts(ledger map[string]PayoutLedger, bank map[string]PayoutBank) (explained, unexplained []Item) {
	ids := map[string]bool{}
	for id := range ledger {
		ids[id] = true
	}
	for id := range bank {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		l, b := ledger[id], bank[id]
		d := new(big.Int).Sub(b.net(), l.net())
		if d.Sign() == 0 {
			continue
		}
		it := Item{Ref: id, Effect: d}
		switch {
		case l.open() && b.Returned == nil && bigOr0(b.Paid).Cmp(l.Held) == 0:
			it.Kind, it.Detail = PayoutInFlight, "paid by the bank ("+b.BankRef+"); its completion is not applied to the ledger yet"
			explained = append(explained, it)
		case l.Posted != nil && l.Returned == nil && b.Returned != nil && b.Paid != nil &&
			b.Returned.Cmp(b.Paid) == 0 && l.Posted.Cmp(b.Paid) == 0:
			it.Kind, it.Detail = ReturnNotBooked, "returned by the bank ("+b.BankRef+"); the return is not booked in the ledger yet"
			explained = append(explained, it)
		default:
			it.Kind = BankMismatch
			switch {
			case ledger[id].Held == nil && ledger[id].Posted == nil:
				it.Detail = "the bank paid " + b.net().String() + " units for an order the ledger has no payout for"
			case bank[id].Paid == nil:
				it.Detail = "the ledger booked " + l.net().String() + " units paid out; the bank's statement has no payment for it"
			default:
				it.Detail = fmt.Sprintf("the bank's net is %s units, the ledger's %s", b.net(), l.net())
			}
			unexplained = append(unexplained, it)
		}
	}
	return explained, unexplained
}

// payoutLedger reads a payouts account's transfers by payout: ids
// po:<id>:hold, :post, :void and :return (package payout).
func payoutLedger(ts []chengdui.Transfer) (map[string]PayoutLedger, []string) {
	out := map[string]PayoutLedger{}
	var notes []string
	for _, t := range ts {
		rest, ok := strings.CutPrefix(t.ID, "po:")
		i := strings.LastIndexByte(rest, ':')
		if !ok || i < 0 {
			notes = append(notes, fmt.Sprintf("transfer %q moves money through the payouts account but is no payout's", t.ID))
			continue
		}
		id, step := rest[:i], rest[i+1:]
		p := out[id]
		switch step {
		case "hold":
			p.Held = t.Amount.Big()
		case "post":
			p.Posted = t.Amount.Big()
		case "void":
			p.Voided = true
		case "return":
			p.Returned = t.Amount.Big()
		default:
			notes = append(notes, fmt.Sprintf("transfer %q: unknown payout step %q", t.ID, step))
			continue
		}
		out[id] = p
	}
	return out, notes
}

// payoutBank reads a statement's payments and returns by order id.
func payoutBank(s sandbox.Statement) (map[string]PayoutBank, []string) {
	out := map[string]PayoutBank{}
	var notes []string
	for _, e := range s.Entries {
		if e.Kind == sandbox.KindOpening {
			continue
		}
		id := e.OrderID
		if id == "" {
			id = "bank entry " + fmt.Sprint(e.Seq)
		}
		p := out[id]
		p.BankRef = e.BankRef
		switch {
		case e.Kind == sandbox.KindPayment && e.Direction == sandbox.Debit:
			p.Paid = new(big.Int).Add(bigOr0(p.Paid), e.Amount.Big())
		case e.Kind == sandbox.KindReturn && e.Direction == sandbox.Credit:
			p.Returned = new(big.Int).Add(bigOr0(p.Returned), e.Amount.Big())
		default:
			notes = append(notes, fmt.Sprintf("statement entry %d: a %s %s of the operating account is neither a payment nor a return", e.Seq, e.Kind, e.Direction))
			continue
		}
		out[id] = p
	}
	return out, notes
}

// bank reconciles each currency's payouts account with the operating
// account's statement.
func (r *runner) bank(ctx context.Context, b Bank) ([]Asset, error) {
	var out []Asset
	for _, cur := range b.Currencies {
		acct := payout.Account(cur)
		a := Asset{Asset: cur, Source: "bank:" + b.name(), Account: acct}
		var err error
		if a.Ledger, err = r.balance(ctx, acct, true); err != nil {
			return nil, err
		}
		ts, err := r.accountTransfers(ctx, acct)
		if err != nil {
			return nil, err
		}
		ledger, notes := payoutLedger(ts)
		a.Notes = append(a.Notes, notes...)
		st, err := b.Statements.Statement(ctx, sandbox.OperatingAccountID(cur), 0)
		if err != nil {
			return nil, err
		}
		a.Decimals = st.Decimals
		bank, notes := payoutBank(st)
		a.Notes = append(a.Notes, notes...)
		a.Actual = new(big.Int)
		for _, p := range bank {
			a.Actual.Add(a.Actual, p.net())
		}
		a.Notes = append(a.Notes, fmt.Sprintf("operating account %s holds %s %s; the comparison is of what left it (payments less returns)",
			st.AccountID, chengdui.FormatDecimal(st.Balance, st.Decimals), cur))
		a.Explained, a.Unexplained = MatchPayouts(ledger, bank)
		out = append(out, a)
	}
	return out, nil
}
