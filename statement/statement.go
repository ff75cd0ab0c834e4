package statement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"chengdui"
	"chengdui/invoice"
	"chengdui/payout"
	"chengdui/settle"

	"lukechampine.com/uint128"
)

// Accounts is what balances read: the ledger's assets and accounts.
type Accounts interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
}

// Source is what statements read: Accounts and the ledger's transfers, by
// account and by journal position (chengdui.Ledger).
type Source interface {
	Accounts
	Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error)
}

// Kind is what a line of a statement is.
type Kind string

// The kinds of lines.
const (
	// KindConversion: an invoice payment converted into the statement's
	// asset (settle's proceeds leg), or a split's share of one converted
	// into another settlement asset (its Payment's asset and amount are
	// the invoice-currency share it was converted from).
	KindConversion Kind = "conversion"
	// KindPayment: an invoice payment credited in the asset paid (a store
	// that keeps it, or no settler).
	KindPayment Kind = "payment"
	// KindPayout: the store's balance paid out (a payout's hold posted).
	KindPayout Kind = "payout"
	// KindPayoutReturn: a completed payout the bank gave back.
	KindPayoutReturn Kind = "payout_return"
	// KindOtherCredit and KindOtherDebit: anything else.
	KindOtherCredit Kind = "other_credit"
	KindOtherDebit  Kind = "other_debit"
)

// Payment is what an invoice line says of the payment behind it. Gross,
// Fee, Spread and Net are in the statement's asset, Net + Fee + Spread =
// Gross; Amount is in Asset, the asset paid.
type Payment struct {
	InvoiceID string
	// PaymentID is the invoice payment's id as the Greenfield API shows it
	// (a balance payment's is a digest: its ledger id names the payer).
	PaymentID   string
	FromBalance bool
	Asset       string
	Decimals    uint8 // Asset's
	Amount      chengdui.Amount
	// Rate is the locked quote's rate (invoice currency per whole unit of
	// Asset, spread included); "" for a payment passed without a settler.
	Rate string
	// Value is a conversion's valuation of the payment, before the fee
	// (Gross − Spread); HasValue is false on other lines.
	Value    chengdui.Amount
	HasValue bool
	Gross    chengdui.Amount
	Fee      chengdui.Amount
	Spread   chengdui.Amount
	Net      chengdui.Amount
}

// Line is one posted transfer of the store's account in the period.
type Line struct {
	Seq        uint64
	Time       time.Time
	Kind       Kind
	TransferID string
	Code       uint16
	// Credit or Debit is the transfer's amount (the other is zero);
	// Balance is the store's balance after it.
	Credit  chengdui.Amount
	Debit   chengdui.Amount
	Balance chengdui.Amount
	// Payment is set on conversions and payments.
	Payment *Payment
	// PayoutID is set on payouts and payout returns.
	PayoutID string
	// Metadata is the transfer's, on payouts and other lines (invoice
	// lines show theirs as Payment).
	Metadata map[string]string
}

// Totals add up an asset's lines. Credits = Net + PayoutReturns +
// OtherCredits; Debits = Payouts + OtherDebits; Gross = Net + Fees +
// Spreads.
type Totals struct {
	Gross, Fees, Spreads, Net chengdui.Amount
	Payouts, PayoutReturns    chengdui.Amount
	OtherCredits, OtherDebits chengdui.Amount
	Credits, Debits           chengdui.Amount
}

// AssetStatement is the statement of one asset: Opening + Totals.Credits
// − Totals.Debits = Closing.
type AssetStatement struct {
	Asset    string
	Decimals uint8
	Account  string // the ledger account, store:<storeID>:<ASSET>
	Opening  chengdui.Amount
	Closing  chengdui.Amount
	Totals   Totals
	Lines    []Line
}

// Statement is a store's statement of the period [From, To), one
// AssetStatement per asset the store has an account of, in code order.
type Statement struct {
	StoreID string
	From    time.Time
	To      time.Time
	Assets  []AssetStatement
}

// pageSize is how many transfers one history read asks for.
const pageSize = 1000

// reconcileTries bounds how often Build reads an account's history again
// when transfers committed while it read.
const reconcileTries = 5

// Build reads a store's statement of the period [from, to) from the
// ledger (see the package doc). Codes: EInvalid (no store id, from after
// to), EInternal (the history does not add up: it never should), and the
// Source's.
func Build(ctx context.Context, src Source, storeID string, from, to time.Time) (Statement, error) {
	if storeID == "" {
		return Statement{}, chengdui.Errorf(chengdui.EInvalid, "a store id is required")
	}
	if from.After(to) {
		return Statement{}, chengdui.Errorf(chengdui.EInvalid, "the period starts (%s) after it ends (%s)",
			from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	}
	assets, err := sortedAssets(ctx, src)
	if err != nil {
		return Statement{}, err
	}
	decimals := make(map[string]uint8, len(assets))
	for _, a := range assets {
		decimals[a.Code] = a.Decimals
	}
	st := Statement{StoreID: storeID, From: from.UTC(), To: to.UTC(), Assets: []AssetStatement{}}
	for _, a := range assets {
		as, ok, err := buildAsset(ctx, src, storeID, a, decimals, from, to)
		if err != nil {
			return Statement{}, err
		}
		if ok {
			st.Assets = append(st.Assets, as)
		}
	}
	return st, nil
}

// sortedAssets lists the ledger's assets in code order.
func sortedAssets(ctx context.Context, src Accounts) ([]chengdui.Asset, error) {
	assets, err := src.Assets(ctx)
	if err != nil {
		return nil, err
	}
	assets = slices.Clone(assets)
	slices.SortFunc(assets, func(a, b chengdui.Asset) int { return strings.Compare(a.Code, b.Code) })
	return assets, nil
}

// account reads a store's account of an asset; ok is false when the store
// has none.
func account(ctx context.Context, src Accounts, id string) (chengdui.Account, bool, error) {
	a, err := src.Account(ctx, id)
	switch chengdui.ErrorCode(err) {
	case "":
		return a, true, nil
	case chengdui.EAccountNotFound, chengdui.ENotFound:
		return chengdui.Account{}, false, nil
	}
	return chengdui.Account{}, false, err
}

// flows are the posted credits and debits of a set of transfers.
type flows struct{ credits, debits chengdui.Amount }

func (f *flows) add(credit, debit chengdui.Amount) error {
	c, ok1 := chengdui.AddAmounts(f.credits, credit)
	d, ok2 := chengdui.AddAmounts(f.debits, debit)
	if !ok1 || !ok2 {
		return chengdui.Errorf(chengdui.EOverflow, "the sum of the transfers overflows 128 bits")
	}
	f.credits, f.debits = c, d
	return nil
}

// balance is credits − debits; a store's account is never overdrawn.
func (f flows) balance(account string) (chengdui.Amount, error) {
	b, ok := chengdui.SubAmounts(f.credits, f.debits)
	if !ok {
		return chengdui.Amount{}, chengdui.Errorf(chengdui.EInternal, "account %s: debits %s exceed credits %s", account, f.debits, f.credits)
	}
	return b, nil
}

// effect is what a transfer did to the posted balance of account: a
// pending transfer and a void did nothing; a posting moved its amount.
func effect(t chengdui.Transfer, account string) (credit, debit chengdui.Amount, moved bool) {
	if t.Flags&(chengdui.Pending|chengdui.VoidPending) != 0 {
		return chengdui.Amount{}, chengdui.Amount{}, false
	}
	switch account {
	case t.CreditAccountID:
		return t.Amount, chengdui.Amount{}, true
	case t.DebitAccountID:
		return chengdui.Amount{}, t.Amount, true
	}
	return chengdui.Amount{}, chengdui.Amount{}, false
}

// history reads every transfer of an account, in journal order, and
// checks that they add up to the account's posted balances in the ledger.
// Transfers committed while it reads are read too, up to reconcileTries
// times.
func history(ctx context.Context, src Source, id string) ([]chengdui.Transfer, error) {
	var (
		hist  []chengdui.Transfer
		after uint64
		sum   flows
	)
	for try := 1; ; try++ {
		for {
			page, err := src.Transfers(ctx, chengdui.TransferFilter{AccountID: id, AfterSeq: after, Limit: pageSize})
			if err != nil {
				return nil, err
			}
			if len(page) == 0 {
				break
			}
			for _, t := range page {
				if t.Seq <= after {
					return nil, chengdui.Errorf(chengdui.EInternal, "account %s: the ledger's history is out of order at seq %d", id, t.Seq)
				}
				after = t.Seq
				if credit, debit, ok := effect(t, id); ok {
					if err := sum.add(credit, debit); err != nil {
						return nil, err
					}
				}
			}
			hist = append(hist, page...)
		}
		a, err := src.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		if sum.credits == a.CreditsPosted && sum.debits == a.DebitsPosted {
			return hist, nil
		}
		if try == reconcileTries {
			return nil, chengdui.Errorf(chengdui.EInternal, "account %s: its history (credits %s, debits %s) differs from its balances (credits %s, debits %s): credits by %s, debits by %s",
				id, sum.credits, sum.debits, a.CreditsPosted, a.DebitsPosted,
				difference(sum.credits, a.CreditsPosted), difference(sum.debits, a.DebitsPosted))
		}
	}
}

// difference is a − b, signed, in smallest units.
func difference(a, b chengdui.Amount) string {
	d := new(big.Int).Sub(a.Big(), b.Big())
	if d.Sign() > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// buildAsset builds the statement of one asset; ok is false when the
// store has no account of it.
func buildAsset(ctx context.Context, src Source, storeID string, a chengdui.Asset, decimals map[string]uint8, from, to time.Time) (AssetStatement, bool, error) {
	id := invoice.StoreAccount(storeID, a.Code)
	if _, ok, err := account(ctx, src, id); !ok || err != nil {
		return AssetStatement{}, false, err
	}
	hist, err := history(ctx, src, id)
	if err != nil {
		return AssetStatement{}, false, err
	}
	out := AssetStatement{Asset: a.Code, Decimals: a.Decimals, Account: id, Lines: []Line{}}
	var before, upTo, period flows
	for _, t := range hist {
		credit, debit, ok := effect(t, id)
		if !ok {
			continue
		}
		if t.Timestamp.Before(from) {
			if err := before.add(credit, debit); err != nil {
				return AssetStatement{}, false, err
			}
		}
		if !t.Timestamp.Before(to) {
			continue
		}
		if err := upTo.add(credit, debit); err != nil {
			return AssetStatement{}, false, err
		}
		if t.Timestamp.Before(from) {
			continue
		}
		if err := period.add(credit, debit); err != nil {
			return AssetStatement{}, false, err
		}
		l, err := classify(ctx, src, t, id, credit, debit, decimals)
		if err != nil {
			return AssetStatement{}, false, err
		}
		out.Lines = append(out.Lines, l)
	}
	if out.Opening, err = before.balance(id); err != nil {
		return AssetStatement{}, false, err
	}
	if out.Closing, err = upTo.balance(id); err != nil {
		return AssetStatement{}, false, err
	}
	if err := out.total(); err != nil {
		return AssetStatement{}, false, err
	}
	if out.Totals.Credits != period.credits || out.Totals.Debits != period.debits {
		return AssetStatement{}, false, chengdui.Errorf(chengdui.EInternal, "account %s: lines credit %s and debit %s, the period %s and %s",
			id, out.Totals.Credits, out.Totals.Debits, period.credits, period.debits)
	}
	return out, true, nil
}

// total adds up the lines, sets each line's balance after it, and checks
// that the opening balance plus the credits less the debits is the
// closing balance.
func (as *AssetStatement) total() error {
	var t Totals
	bal := new(big.Int).Set(as.Opening.Big())
	add := func(sum *chengdui.Amount, a chengdui.Amount) bool {
		s, ok := chengdui.AddAmounts(*sum, a)
		*sum = s
		return ok
	}
	for i := range as.Lines {
		l := &as.Lines[i]
		ok := add(&t.Credits, l.Credit) && add(&t.Debits, l.Debit)
		switch l.Kind {
		case KindConversion, KindPayment:
			ok = ok && add(&t.Gross, l.Payment.Gross) && add(&t.Fees, l.Payment.Fee) && add(&t.Spreads, l.Payment.Spread) && add(&t.Net, l.Payment.Net)
		case KindPayout:
			ok = ok && add(&t.Payouts, l.Debit)
		case KindPayoutReturn:
			ok = ok && add(&t.PayoutReturns, l.Credit)
		case KindOtherCredit:
			ok = ok && add(&t.OtherCredits, l.Credit)
		case KindOtherDebit:
			ok = ok && add(&t.OtherDebits, l.Debit)
		}
		if !ok {
			return chengdui.Errorf(chengdui.EOverflow, "account %s: totals overflow 128 bits", as.Account)
		}
		bal.Add(bal, l.Credit.Big())
		bal.Sub(bal, l.Debit.Big())
		if bal.Sign() < 0 {
			return chengdui.Errorf(chengdui.EInternal, "account %s: the balance after seq %d is below zero by %s", as.Account, l.Seq, new(big.Int).Neg(bal))
		}
		if bal.BitLen() > 128 {
			return chengdui.Errorf(chengdui.EOverflow, "account %s: the balance after seq %d overflows 128 bits", as.Account, l.Seq)
		}
		l.Balance = uint128.FromBig(new(big.Int).Set(bal)) // FromBig shifts its argument
	}
	as.Totals = t
	want := new(big.Int).Add(as.Opening.Big(), t.Credits.Big())
	want.Sub(want, t.Debits.Big())
	if diff := new(big.Int).Sub(want, as.Closing.Big()); diff.Sign() != 0 {
		return chengdui.Errorf(chengdui.EInternal, "account %s does not balance: opening %s + credits %s − debits %s = %s, closing %s: a difference of %s smallest units",
			as.Account, as.Opening, t.Credits, t.Debits, want, as.Closing, diff)
	}
	return nil
}

// classify makes the line of a posted transfer of the store's account.
func classify(ctx context.Context, src Source, t chengdui.Transfer, account string, credit, debit chengdui.Amount, decimals map[string]uint8) (Line, error) {
	l := Line{Seq: t.Seq, Time: t.Timestamp.UTC(), TransferID: t.ID, Code: t.Code, Credit: credit, Debit: debit}
	md := t.Metadata
	if t.CreditAccountID == account {
		switch {
		case t.Code == settle.CodeProceeds && isLeg(t.ID, "out"):
			l.Kind = KindConversion
			p, err := conversion(ctx, src, t, decimals)
			if err != nil {
				return Line{}, err
			}
			l.Payment = p
		case t.Code == settle.CodeSplit:
			// A split's share of a payment's proceeds, converted from the
			// invoice currency (value_asset, value) at the current rate.
			l.Kind = KindConversion
			p := &Payment{Asset: md["value_asset"], Decimals: decimals[md["value_asset"]], Rate: md["rate"], Net: t.Amount, Gross: t.Amount}
			p.identify(md)
			if v, err := chengdui.ParseUnits(md["value"]); err == nil {
				p.Amount = v
			}
			l.Payment = p
		case t.Code == settle.CodeKeepStore && isLeg(t.ID, "store"):
			l.Kind = KindPayment
			p, err := kept(ctx, src, t, decimals)
			if err != nil {
				return Line{}, err
			}
			l.Payment = p
		case t.Code == invoice.CodeToMerchant && strings.HasPrefix(t.ID, "inv:") && strings.Contains(t.ID, ":pass:"):
			l.Kind = KindPayment
			l.Payment = &Payment{Asset: t.Asset, Decimals: decimals[t.Asset], Amount: t.Amount, Gross: t.Amount, Net: t.Amount}
			l.Payment.identify(md)
		case t.Code == payout.CodePayoutReturn || (strings.HasPrefix(t.ID, "po:") && strings.HasSuffix(t.ID, ":return")):
			l.Kind, l.PayoutID, l.Metadata = KindPayoutReturn, payoutID(t), clone(md)
		default:
			l.Kind, l.Metadata = KindOtherCredit, clone(md)
		}
		return l, nil
	}
	if t.Code == payout.CodePayout || strings.HasPrefix(t.ID, "po:") {
		l.Kind, l.PayoutID, l.Metadata = KindPayout, payoutID(t), clone(md)
	} else {
		l.Kind, l.Metadata = KindOtherDebit, clone(md)
	}
	return l, nil
}

func clone(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	return maps.Clone(md)
}

// isLeg reports whether id is the leg of a settle conversion batch:
// cv:<invoice>:<hash>:<leg>.
func isLeg(id, leg string) bool {
	return strings.HasPrefix(id, "cv:") && strings.HasSuffix(id, ":"+leg) && strings.Count(id, ":") >= 3
}

// payoutID is the payout a transfer belongs to: its "payout" metadata, or
// the <id> of po:<id>:<step>.
func payoutID(t chengdui.Transfer) string {
	if id := t.Metadata["payout"]; id != "" {
		return id
	}
	if rest, ok := strings.CutPrefix(t.ID, "po:"); ok {
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

// identify fills the invoice and payment from a leg's metadata.
func (p *Payment) identify(md map[string]string) {
	p.InvoiceID = md["invoice"]
	p.PaymentID = md["payment"]
	if strings.HasPrefix(p.PaymentID, "bal:") {
		p.FromBalance = true
		p.PaymentID = opaque("bal_", p.PaymentID)
	}
}

// opaque hides an id naming a payer behind a stable digest, as the
// Greenfield API shows balance payments.
func opaque(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	return prefix + hex.EncodeToString(sum[:12])
}

// siblings finds the other legs of the batch of leg t (ids
// <base>:<name>). A batch is one linked chain: its legs have consecutive
// seqs, in, out, fee, spread, and legs of zero are not written, so they
// lie within two seqs of t. A missing leg was zero.
func siblings(ctx context.Context, src Source, t chengdui.Transfer, base string, names ...string) (map[string]chengdui.Transfer, error) {
	var after uint64
	if t.Seq > 2 {
		after = t.Seq - 2
	}
	page, err := src.Transfers(ctx, chengdui.TransferFilter{AfterSeq: after, Limit: 4})
	if err != nil {
		return nil, err
	}
	found := make(map[string]chengdui.Transfer, len(names))
	for _, x := range page {
		for _, n := range names {
			if x.ID == base+":"+n {
				found[n] = x
			}
		}
	}
	return found, nil
}

// conversion reads a conversion's legs: what was paid, the fee, the
// spread.
func conversion(ctx context.Context, src Source, t chengdui.Transfer, decimals map[string]uint8) (*Payment, error) {
	base := strings.TrimSuffix(t.ID, ":out")
	legs, err := siblings(ctx, src, t, base, "in", "fee", "spread")
	if err != nil {
		return nil, err
	}
	in, ok := legs["in"]
	if !ok {
		return nil, chengdui.Errorf(chengdui.EInternal, "conversion %s: its leg %s:in is not beside it in the journal", t.ID, base)
	}
	p := &Payment{Asset: in.Asset, Decimals: decimals[in.Asset], Amount: in.Amount, Rate: t.Metadata["rate"],
		Fee: legs["fee"].Amount, Spread: legs["spread"].Amount, Net: t.Amount}
	p.identify(t.Metadata)
	if v, err := chengdui.ParseUnits(t.Metadata["value"]); err == nil {
		p.Value, p.HasValue = v, true
	}
	return p, p.gross()
}

// kept reads the legs of a payment the store keeps in the asset paid.
func kept(ctx context.Context, src Source, t chengdui.Transfer, decimals map[string]uint8) (*Payment, error) {
	legs, err := siblings(ctx, src, t, strings.TrimSuffix(t.ID, ":store"), "fee", "spread")
	if err != nil {
		return nil, err
	}
	p := &Payment{Asset: t.Asset, Decimals: decimals[t.Asset], Rate: t.Metadata["rate"],
		Fee: legs["fee"].Amount, Spread: legs["spread"].Amount, Net: t.Amount}
	p.identify(t.Metadata)
	err = p.gross()
	p.Amount = p.Gross // what was paid: the store's, the fee and the spread
	return p, err
}

// gross sets Gross = Net + Fee + Spread.
func (p *Payment) gross() error {
	g, ok1 := chengdui.AddAmounts(p.Net, p.Fee)
	g, ok2 := chengdui.AddAmounts(g, p.Spread)
	if !ok1 || !ok2 {
		return chengdui.Errorf(chengdui.EOverflow, "invoice %s: the payment's gross overflows 128 bits", p.InvoiceID)
	}
	p.Gross = g
	return nil
}
