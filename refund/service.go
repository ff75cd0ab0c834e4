package refund

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"chengdui"
	"chengdui/deposit"
	"chengdui/invoice"
	"chengdui/settle"
	"chengdui/withdraw"

	"lukechampine.com/uint128"
)

// Ledger is what the service needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
}

// Invoices reads invoices and their payments: invoice.Service.
type Invoices interface {
	Get(ctx context.Context, storeID, id string) (invoice.Invoice, error)
	Invoice(ctx context.Context, id string) (invoice.Invoice, error)
	Payments(ctx context.Context, id string) ([]invoice.Payment, error)
}

// Stores finds a store's settlement preference.
type Stores interface {
	Store(ctx context.Context, id string) (chengdui.Store, error)
}

// Withdrawals sends refunds claimed to an outside address:
// withdraw.Service.
type Withdrawals interface {
	Enqueue(ctx context.Context, w withdraw.Withdrawal) (withdraw.Withdrawal, error)
}

// Config configures a Service.
type Config struct {
	Store    Store    // required
	Ledger   Ledger   // required
	Invoices Invoices // required
	Stores   Stores   // required
	// Quoter gives current rates (CurrentRate, OverpaidAmount and Custom
	// in the asset, Fiat at its claim): the invoice service's Quoter, asked
	// with no spread. Required.
	Quoter invoice.Quoter
	// Withdrawals sends claims to an outside address; nil refuses them
	// (EUnavailable). Register OnWithdrawal with its OnOutcome for
	// withdraw.OriginRefund.
	Withdrawals Withdrawals
	// Notify, if set, is called after each stored state change (created,
	// claimed, completed, back to AwaitingClaim, cancelled), e.g. to send
	// webhooks. It must not block for long.
	Notify func(ctx context.Context, r Refund)
	// Grace is how long an unbooked refund is left to the call that
	// changed it before Recover finishes it; 0 means one minute.
	Grace time.Duration
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

// Service creates, claims and cancels refunds.
type Service struct {
	cfg      Config
	accounts sync.Map // ledger accounts known to exist
}

// New returns a Service. Codes: EInvalid for a missing dependency.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Ledger == nil || cfg.Invoices == nil || cfg.Stores == nil || cfg.Quoter == nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "refund: Store, Ledger, Invoices, Stores and Quoter are required")
	}
	if cfg.Notify == nil {
		cfg.Notify = func(context.Context, Refund) {}
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// CreateRequest asks for a refund (Greenfield's RefundInvoiceRequest).
type CreateRequest struct {
	// ID is the client's idempotency key, unique within the store (the
	// Idempotency-Key header): 1 to MaxClientIDLength characters without
	// spaces; "" makes every request a new refund.
	ID        string
	StoreID   string
	InvoiceID string
	Variant   Variant
	// Name and Description; Name defaults to "Refund <invoice id>".
	Name, Description string
	// PayoutMethods choose the asset paid back: payment method ids
	// (BTC-CHAIN, ETH, USDT-ERC20…) or asset codes; the first the invoice
	// was paid in is used. Empty: the asset of the invoice's first settled
	// payment.
	PayoutMethods []string
	// SubtractPercentage lowers the refund by a percentage, 0 to 100 with
	// at most two decimals ("" : 0).
	SubtractPercentage string
	// CustomAmount and CustomCurrency (Custom only): a decimal amount in
	// the asset paid back or in the invoice's currency.
	CustomAmount, CustomCurrency string
	// CreatedBy names who asks (an API key), for the record.
	CreatedBy string
}

// MaxClientIDLength bounds CreateRequest.ID; MaxText bounds Name and
// Description, in bytes.
const (
	MaxClientIDLength = 128
	MaxText           = 1000
)

// hash is the request's digest, for idempotency.
func (req CreateRequest) hash() string {
	b, _ := json.Marshal([]any{req.InvoiceID, req.Variant, req.Name, req.Description, req.PayoutMethods, req.SubtractPercentage,
		req.CustomAmount, req.CustomCurrency})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Create refunds a settled invoice (also one marked settled): it works
// out the asset and amount of the variant, checks them against what the
// invoice was paid and what is refunded already, and posts one linked
// ledger batch: the store gives back the value and the amount is held for
// the payer in refund:<id>:<ASSET>. It is idempotent by the store and
// req.ID: the same request returns the refund as it stands now.
//
// Codes: EInvalid (a *invoice.ValidationError: unknown variant, bad
// amount, percentage, currency or method, not overpaid, nothing to
// refund); ENotFound (the invoice is not the store's); EConflict (the
// invoice is not settled, or req.ID was used for another request);
// EExceedsPaid (more than the invoice received in the asset, counting the
// live refunds); EExceedsCredits (the store's balance is short: nothing is
// stored); EUnavailable (no current rate).
func (s *Service) Create(ctx context.Context, req CreateRequest) (Refund, error) {
	id := newID()
	if req.ID != "" {
		if len(req.ID) > MaxClientIDLength || !utf8.ValidString(req.ID) || strings.ContainsFunc(req.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return Refund{}, chengdui.Errorf(chengdui.EInvalid, "a refund id is 1 to %d characters without spaces", MaxClientIDLength)
		}
		id = ID(req.StoreID, req.ID)
		if prev, err := s.cfg.Store.Refund(ctx, id); err == nil {
			return s.again(ctx, prev, req)
		} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
			return Refund{}, err
		}
	}
	plan, err := s.plan(ctx, req)
	if err != nil {
		return Refund{}, err
	}
	r := plan.refund
	r.ID = id
	if err := s.cfg.Store.CreateRefund(ctx, r, plan.paid); err != nil {
		if chengdui.ErrorCode(err) == chengdui.EConflict && req.ID != "" {
			prev, gerr := s.cfg.Store.Refund(ctx, id) // a concurrent retry
			if gerr != nil {
				return Refund{}, gerr
			}
			return s.again(ctx, prev, req)
		}
		return Refund{}, err
	}
	return s.book(ctx, r)
}

// again answers a request whose refund exists: the stored refund, once
// its creation is finished.
func (s *Service) again(ctx context.Context, prev Refund, req CreateRequest) (Refund, error) {
	if prev.StoreID != req.StoreID || prev.RequestHash != req.hash() {
		return Refund{}, chengdui.Errorf(chengdui.EConflict, "refund id %q was used for another request; choose a new id", clip(req.ID))
	}
	if prev.State == Creating {
		return s.book(ctx, prev)
	}
	return prev, nil
}

// plan is a refund worked out from a request, with what bounds it.
type plan struct {
	refund Refund
	paid   chengdui.Amount // what the invoice received in the asset
}

// bad collects a request's field errors.
type bad struct{ fields []invoice.FieldError }

func (b *bad) add(path, format string, args ...any) {
	b.fields = append(b.fields, invoice.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func (b *bad) err() error {
	if len(b.fields) == 0 {
		return nil
	}
	return &invoice.ValidationError{Fields: b.fields}
}

// plan validates a request and works out its refund.
func (s *Service) plan(ctx context.Context, req CreateRequest) (plan, error) {
	var v bad
	if !req.Variant.Valid() {
		v.add("refundVariant", "must be RateThen, CurrentRate, OverpaidAmount, Fiat or Custom")
	}
	if len(req.Name) > MaxText || !utf8.ValidString(req.Name) {
		v.add("name", "must be at most %d bytes of UTF-8", MaxText)
	}
	if len(req.Description) > MaxText || !utf8.ValidString(req.Description) {
		v.add("description", "must be at most %d bytes of UTF-8", MaxText)
	}
	var subtract uint32
	if p := strings.TrimSpace(req.SubtractPercentage); p != "" {
		bps, err := chengdui.ParseDecimal(p, 2)
		if err != nil || bps.Cmp64(10000) > 0 {
			v.add("subtractPercentage", "must be a percentage from 0 to 100 with at most two decimals")
		} else {
			subtract = uint32(bps.Lo)
		}
	}
	if req.Variant != Custom && (req.CustomAmount != "" || req.CustomCurrency != "") {
		v.add("customAmount", "is for the Custom variant only")
	}
	if err := v.err(); err != nil {
		return plan{}, err
	}
	inv, err := s.cfg.Invoices.Get(ctx, req.StoreID, req.InvoiceID)
	if err != nil {
		return plan{}, err
	}
	if inv.Status != invoice.Settled {
		return plan{}, chengdui.Errorf(chengdui.EConflict, "invoice %s is %s: only a settled invoice can be refunded", inv.ID, inv.Status)
	}
	pays, err := s.cfg.Invoices.Payments(ctx, inv.ID)
	if err != nil {
		return plan{}, err
	}
	pays = slices.DeleteFunc(pays, func(p invoice.Payment) bool { return p.Status != invoice.PaymentSettled })
	asset, err := chooseAsset(inv, pays, req.PayoutMethods)
	if err != nil {
		return plan{}, err
	}
	q, ok := inv.Quote(asset)
	if !ok {
		return plan{}, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "payoutMethods", Message: fmt.Sprintf("the invoice has no quote of %s", asset)}}}
	}
	st, err := s.cfg.Stores.Store(ctx, inv.StoreID)
	if err != nil {
		return plan{}, err
	}
	var paid chengdui.Amount
	for _, p := range pays {
		if p.Asset == asset {
			paid, _ = chengdui.AddAmounts(paid, p.Amount)
		}
	}
	c := conv{inv: inv, q: q}
	keep := keeps(st, inv, asset)
	now := s.now()
	r := Refund{StoreID: inv.StoreID, InvoiceID: inv.ID, Variant: req.Variant, Name: req.Name, Description: req.Description,
		Asset: asset, Currency: inv.Currency, SubtractBps: subtract, State: Creating, RequestHash: req.hash(), CreatedBy: req.CreatedBy,
		CreatedAt: now, UpdatedAt: now, Version: 1, ValueAsset: inv.Currency}
	if r.Name == "" {
		r.Name = "Refund " + inv.ID
	}
	if keep {
		r.ValueAsset = asset
	}
	// The part of the price paid in the asset: what it paid toward the
	// invoice, an overpayment left out (that is OverpaidAmount's).
	towardPrice := paid
	if !inv.TopUp && paid.Cmp(q.Due) > 0 {
		towardPrice = q.Due
	}
	// atNow is the current rate, asked only by the variants that need it.
	atNow := func() (*big.Rat, error) {
		if asset == inv.Currency {
			return big.NewRat(1, 1), nil
		}
		cq, err := s.cfg.Quoter.Quote(ctx, chengdui.Amount{}, inv.Currency, inv.Decimals, asset, q.Decimals, 0)
		if err != nil {
			return nil, err
		}
		rate, ok := new(big.Rat).SetString(cq.Rate)
		if !ok || rate.Sign() <= 0 {
			return nil, chengdui.Errorf(chengdui.EUnavailable, "no usable rate of %s in %s", asset, inv.Currency)
		}
		return rate, nil
	}
	var fiat chengdui.Amount // Fiat and Custom in the currency: the amount in it
	var valueAtLock bool     // the store gives back at the locked quote
	switch req.Variant {
	case RateThen:
		r.Amount, valueAtLock = towardPrice, true
	case CurrentRate, Fiat:
		fiat = floorRat(c.value(towardPrice))
	case OverpaidAmount:
		over, ok := overpaid(inv, pays)
		if !ok {
			return plan{}, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "refundVariant", Message: "the invoice is not overpaid"}}}
		}
		r.Amount = min128(paid, floorRat(c.asset(over)))
	case Custom:
		cur := strings.ToUpper(strings.TrimSpace(req.CustomCurrency))
		var cv bad
		switch {
		case strings.TrimSpace(req.CustomAmount) == "":
			cv.add("customAmount", "is required for the Custom variant")
		case cur == "":
			cv.add("customCurrency", "is required for the Custom variant: %s or %s", asset, inv.Currency)
		case cur == inv.Currency:
			a, err := chengdui.ParseDecimal(strings.TrimSpace(req.CustomAmount), inv.Decimals)
			if err != nil {
				cv.add("customAmount", "%s", chengdui.ErrorMessage(err))
			}
			fiat, valueAtLock = a, true
		case cur == asset || cur == unit(asset):
			a, err := chengdui.ParseDecimal(strings.TrimSpace(req.CustomAmount), q.Decimals)
			if err != nil {
				cv.add("customAmount", "%s", chengdui.ErrorMessage(err))
			}
			r.Amount = a
		default:
			cv.add("customCurrency", "must be the asset paid back (%s) or the invoice's currency (%s)", asset, inv.Currency)
		}
		if err := cv.err(); err != nil {
			return plan{}, err
		}
	}
	// The percentage comes off the amount the variant names.
	less := func(a chengdui.Amount) chengdui.Amount {
		return floorRat(new(big.Rat).Mul(new(big.Rat).SetInt(a.Big()), big.NewRat(int64(10000-subtract), 10000)))
	}
	r.Amount, fiat = less(r.Amount), less(fiat)

	switch {
	case req.Variant == Fiat && !keep:
		// Converted when the payer claims; bounded now by the value paid,
		// less what the live refunds of the asset give back already (a
		// Fiat refund holds no asset amount until its claim, so the
		// storage's bound on the asset cannot see it yet). This check is
		// the service's, not the storage's: two concurrent Fiat refunds
		// may both pass, and then the later claim is refused by the
		// storage's bound, the money waiting in the refund until the
		// merchant cancels it; never is more paid out.
		worth := floorRat(c.value(paid))
		given, err := s.valueGiven(ctx, inv.ID, asset, inv.Currency)
		if err != nil {
			return plan{}, err
		}
		left, ok := chengdui.SubAmounts(worth, given)
		if !ok {
			left = chengdui.Amount{}
		}
		if !fiat.IsZero() && fiat.Cmp(left) > 0 {
			return plan{}, chengdui.Errorf(EExceedsPaid, "invoice %s received %s %s of %s, and its live refunds give back %s %s: a refund of %s %s is more",
				inv.ID, chengdui.FormatDecimal(worth, inv.Decimals), inv.Currency, asset, chengdui.FormatDecimal(given, inv.Decimals), inv.Currency,
				chengdui.FormatDecimal(fiat, inv.Decimals), inv.Currency)
		}
		r.FiatAmount, r.Value = fiat, fiat
	case valueAtLock && req.Variant == Custom:
		// Custom in the currency: converted at the locked quote.
		r.FiatAmount = fiat
		r.Amount, r.Rate = floorRat(c.asset(new(big.Rat).SetInt(fiat.Big()))), q.Rate
		r.Value = fiat
	case valueAtLock:
		r.Rate, r.Value = q.Rate, floorRat(c.value(r.Amount))
	default:
		// At the current rate: CurrentRate and Fiat (a store that keeps
		// the asset: it cannot owe a currency it does not hold, so its
		// Fiat refund is converted now), OverpaidAmount, Custom in the
		// asset.
		rate, err := atNow()
		if err != nil {
			return plan{}, err
		}
		if req.Variant == CurrentRate || req.Variant == Fiat {
			r.Amount = floorRat(assetAt(new(big.Rat).SetInt(fiat.Big()), rate, inv.Decimals, q.Decimals))
			r.FiatAmount = chengdui.Amount{}
			if req.Variant == Fiat {
				r.FiatAmount = fiat
			}
		}
		r.Rate = rate.FloatString(12)
		r.Value = floorRat(valueAt(r.Amount, rate, inv.Decimals, q.Decimals))
	}
	if keep {
		r.Value = r.Amount
	}
	if r.Amount.IsZero() && r.FiatAmount.IsZero() {
		return plan{}, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: amountField(req.Variant), Message: "the refund is less than one smallest unit"}}}
	}
	if r.Amount.Cmp(paid) > 0 {
		return plan{}, CheckBound(inv.ID, asset, chengdui.Amount{}, r.Amount, paid)
	}
	return plan{refund: r, paid: paid}, nil
}

func amountField(v Variant) string {
	if v == Custom {
		return "customAmount"
	}
	return "refundVariant"
}

// chooseAsset picks the asset paid back: the first of methods the invoice
// was paid in, or the asset of its first settled payment.
func chooseAsset(inv invoice.Invoice, pays []invoice.Payment, methods []string) (string, error) {
	received := map[string]bool{}
	for _, p := range pays {
		received[p.Asset] = true
	}
	if len(methods) == 0 {
		if len(pays) == 0 {
			return "", &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "refundVariant", Message: "the invoice received no settled payment"}}}
		}
		first := pays[0]
		for _, p := range pays[1:] {
			if p.ReceivedAt.Before(first.ReceivedAt) || (p.ReceivedAt.Equal(first.ReceivedAt) && p.ID < first.ID) {
				first = p
			}
		}
		return first.Asset, nil
	}
	var known []string
	for _, m := range methods {
		asset := methodAsset(inv, m)
		if asset == "" {
			continue
		}
		known = append(known, asset)
		if received[asset] {
			return asset, nil
		}
	}
	msg := fmt.Sprintf("none of the payout methods %q is an asset the invoice received", methods)
	if len(known) == 0 {
		msg = fmt.Sprintf("unknown payout methods %q: use the invoice's payment methods (BTC-CHAIN, ETH, USDT-ERC20, USDC-ERC20)", methods)
	}
	return "", &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "payoutMethods", Message: msg}}}
}

// methodAsset is the asset a payout method names: a payment method id of
// the invoice, BTCPay's older names, or an asset code it was quoted in.
func methodAsset(inv invoice.Invoice, m string) string {
	m = strings.TrimSpace(m)
	switch strings.ToUpper(m) {
	case "BTC", "BTC-ONCHAIN", "BTC_ONCHAIN", "BTC-CHAIN":
		m = invoice.MethodBTC
	}
	if m == invoice.MethodBalance {
		return ""
	}
	if meth, ok := inv.Method(m); ok && meth.Asset != "" {
		return meth.Asset
	}
	if _, ok := inv.Quote(m); ok {
		return m
	}
	return ""
}

// keeps reports whether the store was paid the asset itself, as
// settle.Converter decides: no conversion, the store holds store:<id>:<A>.
func keeps(st chengdui.Store, inv invoice.Invoice, asset string) bool {
	return st.Settlement.Mode == "keep" || st.Settlement.Asset == asset || inv.Currency == asset
}

// overpaid is what the invoice's settled payments are worth beyond its
// price, at the locked quotes, in the currency's smallest unit.
func overpaid(inv invoice.Invoice, pays []invoice.Payment) (*big.Rat, bool) {
	if inv.TopUp {
		return nil, false
	}
	sum := new(big.Rat)
	for _, p := range pays {
		q, ok := inv.Quote(p.Asset)
		if !ok {
			continue
		}
		sum.Add(sum, conv{inv: inv, q: q}.value(p.Amount))
	}
	over := sum.Sub(sum, new(big.Rat).SetInt(inv.Amount.Big()))
	return over, over.Sign() > 0
}

// conv converts between an asset and the invoice's currency at the
// invoice's locked quote, as settle.Converter does: a payment of a is
// worth a × price / due (a top-up: a × rate).
type conv struct {
	inv invoice.Invoice
	q   invoice.Quote
}

// value is what a of the asset is worth in the currency's smallest unit.
func (c conv) value(a chengdui.Amount) *big.Rat {
	if !c.inv.TopUp && !c.q.Due.IsZero() {
		return new(big.Rat).Mul(new(big.Rat).SetInt(a.Big()), new(big.Rat).SetFrac(c.inv.Amount.Big(), c.q.Due.Big()))
	}
	rate, _ := new(big.Rat).SetString(c.q.Rate)
	if rate == nil {
		return new(big.Rat)
	}
	return valueAt(a, rate, c.inv.Decimals, c.q.Decimals)
}

// asset is how much of the asset v of the currency is worth.
func (c conv) asset(v *big.Rat) *big.Rat {
	if !c.inv.TopUp && !c.inv.Amount.IsZero() {
		return new(big.Rat).Mul(v, new(big.Rat).SetFrac(c.q.Due.Big(), c.inv.Amount.Big()))
	}
	rate, _ := new(big.Rat).SetString(c.q.Rate)
	if rate == nil || rate.Sign() <= 0 {
		return new(big.Rat)
	}
	return assetAt(v, rate, c.inv.Decimals, c.q.Decimals)
}

// valueAt is a of an asset (ad decimals) in a currency (cd decimals) at
// rate (currency per whole asset).
func valueAt(a chengdui.Amount, rate *big.Rat, cd, ad uint8) *big.Rat {
	v := new(big.Rat).Mul(new(big.Rat).SetInt(a.Big()), rate)
	return v.Mul(v, new(big.Rat).SetFrac(pow10(cd), pow10(ad)))
}

// assetAt is v of a currency in an asset at rate.
func assetAt(v *big.Rat, rate *big.Rat, cd, ad uint8) *big.Rat {
	a := new(big.Rat).Quo(v, rate)
	return a.Mul(a, new(big.Rat).SetFrac(pow10(ad), pow10(cd)))
}

func pow10(n uint8) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// floorRat rounds down; negative is zero, beyond 128 bits the largest
// amount (which no bound lets through).
func floorRat(r *big.Rat) chengdui.Amount {
	if r.Sign() <= 0 {
		return chengdui.Amount{}
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if n.BitLen() > 128 {
		return uint128.Max
	}
	return uint128.FromBig(n)
}

func min128(a, b chengdui.Amount) chengdui.Amount {
	if a.Cmp(b) < 0 {
		return a
	}
	return b
}

// unit is how an asset is named as a currency: USDT-ERC20 is USDT.
func unit(asset string) string {
	u, _, _ := strings.Cut(asset, "-")
	return u
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// transferID names one ledger transfer of a refund.
func transferID(id, leg string) string { return "rf:" + id + ":" + leg }

// ensure creates a ledger account once per process; guarded accounts may
// not be overdrawn. An account that exists with other properties is used
// as it is.
func (s *Service) ensure(ctx context.Context, id, asset string, guarded bool, meta map[string]string) error {
	if _, ok := s.accounts.Load(id); ok {
		return nil
	}
	a := chengdui.Account{ID: id, Asset: asset, Metadata: meta}
	if guarded {
		a.Flags = chengdui.DebitsMustNotExceedCredits
	}
	if _, err := s.cfg.Ledger.CreateAccount(ctx, a); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	s.accounts.Store(id, true)
	return nil
}

// post commits linked transfers (zero amounts left out); the first
// refusal is returned with the index of the transfer refused.
func (s *Service) post(ctx context.Context, ts []chengdui.Transfer) (int, error) {
	var out []chengdui.Transfer
	for _, t := range ts {
		if !t.Amount.IsZero() || t.Flags&(chengdui.PostPending|chengdui.VoidPending) != 0 {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return -1, nil
	}
	for i := range out {
		out[i].Flags &^= chengdui.Linked
		if i < len(out)-1 {
			out[i].Flags |= chengdui.Linked
		}
	}
	res, err := s.cfg.Ledger.CreateTransfers(ctx, out)
	if err != nil {
		return -1, err
	}
	for i, r := range res {
		if r.Err != nil && chengdui.ErrorCode(r.Err) != chengdui.ELinkedEventFailed {
			for j, t := range ts {
				if t.ID == out[i].ID {
					return j, r.Err
				}
			}
			return i, r.Err
		}
	}
	for _, r := range res {
		if r.Err != nil {
			return 0, r.Err
		}
	}
	return -1, nil
}

// meta is the metadata of a refund's transfers.
func meta(r Refund, kind string) map[string]string {
	return map[string]string{"kind": kind, "refund": r.ID, "invoice": r.InvoiceID, "store": r.StoreID}
}

// createLegs are the transfers giving a new refund its money.
func (s *Service) createLegs(ctx context.Context, r Refund) ([]chengdui.Transfer, error) {
	md := meta(r, "refund")
	store := invoice.StoreAccount(r.StoreID, r.ValueAsset)
	switch {
	case r.ValueAsset == r.Asset:
		if err := s.ensure(ctx, Account(r.ID, r.Asset), r.Asset, true, md); err != nil {
			return nil, err
		}
		return []chengdui.Transfer{{ID: transferID(r.ID, "keep"), DebitAccountID: store, CreditAccountID: Account(r.ID, r.Asset),
			Amount: r.Amount, Code: CodeKeepBack, Metadata: md}}, nil
	case !r.Converted():
		if err := s.ensure(ctx, Account(r.ID, r.Currency), r.Currency, true, md); err != nil {
			return nil, err
		}
		return []chengdui.Transfer{{ID: transferID(r.ID, "fiat"), DebitAccountID: store, CreditAccountID: Account(r.ID, r.Currency),
			Amount: r.FiatAmount, Code: CodeFiatHold, Metadata: md}}, nil
	}
	if err := s.convertAccounts(ctx, r, md); err != nil {
		return nil, err
	}
	return []chengdui.Transfer{
		{ID: transferID(r.ID, "back"), DebitAccountID: store, CreditAccountID: settle.Inventory(r.ValueAsset), Amount: r.Value, Code: CodeStoreBack, Metadata: md},
		{ID: transferID(r.ID, "out"), DebitAccountID: settle.Inventory(r.Asset), CreditAccountID: Account(r.ID, r.Asset), Amount: r.Amount, Code: CodeOut, Metadata: md},
	}, nil
}

// convertAccounts makes the accounts of a converting refund exist.
func (s *Service) convertAccounts(ctx context.Context, r Refund, md map[string]string) error {
	for _, a := range []struct {
		id, asset string
		guarded   bool
	}{{settle.Inventory(r.Asset), r.Asset, true}, {settle.Inventory(r.Currency), r.Currency, true}, {Account(r.ID, r.Asset), r.Asset, true}} {
		if err := s.ensure(ctx, a.id, a.asset, a.guarded, md); err != nil {
			return err
		}
	}
	return nil
}

// book posts a Creating refund's ledger batch and makes it AwaitingClaim.
// A batch the ledger refuses removes the refund: nothing is left of it.
func (s *Service) book(ctx context.Context, r Refund) (Refund, error) {
	legs, err := s.createLegs(ctx, r)
	if err != nil {
		return Refund{}, err
	}
	if at, err := s.post(ctx, legs); err != nil {
		code := chengdui.ErrorCode(err)
		if code == chengdui.EUnavailable || code == chengdui.EInternal {
			return Refund{}, err // left Creating: a retry or Recover finishes it
		}
		if derr := s.cfg.Store.DeleteRefund(ctx, r.ID, r.Version); derr != nil {
			return Refund{}, derr
		}
		if at == 0 && (code == chengdui.EExceedsCredits || code == chengdui.EAccountNotFound) {
			return Refund{}, chengdui.Errorf(chengdui.EExceedsCredits, "store %s has less than %s %s available to refund; nothing was refunded",
				r.StoreID, r.Value.String(), r.ValueAsset)
		}
		return Refund{}, err
	}
	r.State, r.Booked, r.UpdatedAt = AwaitingClaim, true, s.now()
	saved, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
	if err != nil {
		return Refund{}, err
	}
	s.cfg.Log.Info("refund created", "refund", saved.ID, "invoice", saved.InvoiceID, "store", saved.StoreID, "variant", saved.Variant,
		"asset", saved.Asset, "amount", saved.Amount.String(), "value", saved.Value.String(), "value_asset", saved.ValueAsset)
	s.cfg.Notify(ctx, saved)
	return saved, nil
}

// Get returns a store's refund. Codes: ENotFound (also another store's,
// and one still being created).
func (s *Service) Get(ctx context.Context, storeID, id string) (Refund, error) {
	r, err := s.Refund(ctx, id)
	if err == nil && r.StoreID != storeID {
		err = chengdui.Errorf(chengdui.ENotFound, "no refund %q in this store", id)
	}
	return r, err
}

// Refund returns a refund by id, for its public page: the id is the
// payer's link. Codes: ENotFound (also one still being created).
func (s *Service) Refund(ctx context.Context, id string) (Refund, error) {
	if !ValidID(id) {
		return Refund{}, chengdui.Errorf(chengdui.ENotFound, "no refund %q", clip(id))
	}
	r, err := s.cfg.Store.Refund(ctx, id)
	if err == nil && r.State == Creating {
		err = chengdui.Errorf(chengdui.ENotFound, "no refund %q", id)
	}
	return r, err
}

// List lists refunds.
func (s *Service) List(ctx context.Context, f Filter) ([]Refund, error) {
	if f.Limit < 0 || f.Limit > MaxLimit {
		return nil, chengdui.Errorf(chengdui.EInvalid, "limit must be from 1 to %d", MaxLimit)
	}
	return s.cfg.Store.Refunds(ctx, f)
}

// valueGiven is what the live refunds of an invoice's asset give back, in
// the invoice's currency: a refund's value where it is reckoned in it.
func (s *Service) valueGiven(ctx context.Context, invoiceID, asset, currency string) (chengdui.Amount, error) {
	var total chengdui.Amount
	f := Filter{InvoiceID: invoiceID, Limit: MaxLimit}
	for {
		rs, err := s.cfg.Store.Refunds(ctx, f)
		if err != nil {
			return chengdui.Amount{}, err
		}
		for _, r := range rs {
			if r.State.Live() && r.Asset == asset && r.ValueAsset == currency {
				total, _ = chengdui.AddAmounts(total, r.Value)
			}
		}
		if len(rs) < f.Limit {
			return total, nil
		}
		f.After = rs[len(rs)-1].ID
	}
}

// paidIn is what an invoice's settled payments brought in an asset.
func (s *Service) paidIn(ctx context.Context, invoiceID, asset string) (chengdui.Amount, error) {
	pays, err := s.cfg.Invoices.Payments(ctx, invoiceID)
	if err != nil {
		return chengdui.Amount{}, err
	}
	var paid chengdui.Amount
	for _, p := range pays {
		if p.Status == invoice.PaymentSettled && p.Asset == asset {
			paid, _ = chengdui.AddAmounts(paid, p.Amount)
		}
	}
	return paid, nil
}

// ClaimToBalance pays a refund to a user's platform balance
// (user:<uid>:<ASSET>) at once. A Fiat refund is converted at the current
// rate first. Codes: ENotFound; EConflict (not AwaitingClaim: claimed,
// cancelled); EExceedsPaid (a Fiat refund whose conversion would pass what
// was paid); EUnavailable (no current rate).
func (s *Service) ClaimToBalance(ctx context.Context, id, userID string) (Refund, error) {
	if userID == "" {
		return Refund{}, chengdui.Errorf(chengdui.EUnauthorized, "log in to take a refund to your balance")
	}
	r, err := s.claim(ctx, id, func(r *Refund) { r.Claim, r.ClaimUser = ToBalance, userID })
	if err != nil {
		return Refund{}, err
	}
	return s.finishClaim(ctx, r)
}

// ClaimToAddress sends a refund to an outside address through the
// withdrawal service: the amount is held (pending transfer to the chain
// account) until the withdrawal completes, or is voided when it fails and
// the refund is AwaitingClaim again. Codes: as ClaimToBalance, and
// EInvalid (an address or amount the chain refuses; nothing is held),
// EUnavailable (no withdrawal service).
func (s *Service) ClaimToAddress(ctx context.Context, id, address string) (Refund, error) {
	address = strings.TrimSpace(address)
	if address == "" || len(address) > 200 {
		return Refund{}, &invoice.ValidationError{Fields: []invoice.FieldError{{Field: "address", Message: "must be an address of the refund's chain"}}}
	}
	if s.cfg.Withdrawals == nil {
		return Refund{}, chengdui.Errorf(chengdui.EUnavailable, "refunds cannot be sent to an address on this server: take it to a balance")
	}
	r, err := s.claim(ctx, id, func(r *Refund) { r.Claim, r.ClaimAddress = ToAddress, address })
	if err != nil {
		return Refund{}, err
	}
	return s.finishClaim(ctx, r)
}

// claim moves an AwaitingClaim refund to InProgress with the claim set
// (one compare-and-set: of two concurrent claims one wins), converting a
// Fiat refund at the current rate.
func (s *Service) claim(ctx context.Context, id string, set func(r *Refund)) (Refund, error) {
	r, err := s.Refund(ctx, id)
	if err != nil {
		return Refund{}, err
	}
	if r.State != AwaitingClaim {
		return Refund{}, chengdui.Errorf(chengdui.EConflict, "refund %s is %s: it can no longer be claimed", r.ID, r.State)
	}
	var paid chengdui.Amount
	if !r.Converted() {
		inv, err := s.cfg.Invoices.Invoice(ctx, r.InvoiceID)
		if err != nil {
			return Refund{}, err
		}
		q, _ := inv.Quote(r.Asset)
		cq, err := s.cfg.Quoter.Quote(ctx, r.FiatAmount, r.Currency, inv.Decimals, r.Asset, q.Decimals, 0)
		if err != nil {
			return Refund{}, err
		}
		if cq.Due.IsZero() {
			return Refund{}, chengdui.Errorf(chengdui.EInvalid, "the refund is worth less than one smallest unit of %s now", r.Asset)
		}
		r.Amount, r.Rate = cq.Due, cq.Rate
		if paid, err = s.paidIn(ctx, r.InvoiceID, r.Asset); err != nil {
			return Refund{}, err
		}
	}
	r.Attempt++
	r.State, r.Booked, r.Reason, r.TxID, r.UpdatedAt = InProgress, false, "", "", s.now()
	set(&r)
	if r.Claim == ToAddress {
		r.WithdrawalID = WithdrawalID(r.ID, r.Attempt)
	}
	saved, err := s.cfg.Store.UpdateRefund(ctx, r, paid)
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		return Refund{}, chengdui.Errorf(chengdui.EConflict, "refund %s was claimed or cancelled meanwhile", r.ID)
	}
	return saved, err
}

// claimLegs are the transfers of a refund's current claim.
func (s *Service) claimLegs(ctx context.Context, r Refund) ([]chengdui.Transfer, error) {
	md := meta(r, "refund claim")
	var ts []chengdui.Transfer
	if r.Variant == Fiat && r.ValueAsset != r.Asset {
		// A Fiat refund converted at its (first) claim. The legs' ids do
		// not carry the attempt: it is converted once.
		if err := s.convertAccounts(ctx, r, md); err != nil {
			return nil, err
		}
		ts = append(ts,
			chengdui.Transfer{ID: transferID(r.ID, "convert"), DebitAccountID: Account(r.ID, r.Currency), CreditAccountID: settle.Inventory(r.Currency),
				Amount: r.FiatAmount, Code: CodeFiatConvert, Metadata: md},
			chengdui.Transfer{ID: transferID(r.ID, "out"), DebitAccountID: settle.Inventory(r.Asset), CreditAccountID: Account(r.ID, r.Asset),
				Amount: r.Amount, Code: CodeOut, Metadata: md})
	}
	n := itoa(r.Attempt)
	switch r.Claim {
	case ToBalance:
		to := invoice.UserAccount(r.ClaimUser, r.Asset)
		if err := s.ensure(ctx, to, r.Asset, true, map[string]string{"user": r.ClaimUser}); err != nil {
			return nil, err
		}
		ts = append(ts, chengdui.Transfer{ID: transferID(r.ID, "claim:"+n), DebitAccountID: Account(r.ID, r.Asset), CreditAccountID: to,
			Amount: r.Amount, Code: CodeToBalance, Metadata: md})
	case ToAddress:
		if err := s.ensure(ctx, deposit.ChainAccount(r.Asset), r.Asset, false, nil); err != nil {
			return nil, err
		}
		ts = append(ts, chengdui.Transfer{ID: holdID(r.ID, r.Attempt), DebitAccountID: Account(r.ID, r.Asset), CreditAccountID: deposit.ChainAccount(r.Asset),
			Amount: r.Amount, Flags: chengdui.Pending, Code: CodeToChain, Metadata: md})
	default:
		return nil, chengdui.Errorf(chengdui.EInternal, "refund %s is in progress without a claim", r.ID)
	}
	return ts, nil
}

// holdID is the pending transfer of a claim to an address.
func holdID(id string, attempt uint32) string { return transferID(id, "hold:"+itoa(attempt)) }

// ClaimHoldID is the ledger id of the hold of the claim a withdrawal id
// (WithdrawalID) pays, false for an id that is not a refund claim's.
func ClaimHoldID(withdrawalID string) (string, bool) {
	rest, ok := strings.CutPrefix(withdrawalID, "rf-")
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 {
		return "", false
	}
	n, err := strconv.ParseUint(rest[i+1:], 10, 32)
	if err != nil || WithdrawalID(rest[:i], uint32(n)) != withdrawalID {
		return "", false
	}
	return holdID(rest[:i], uint32(n)), true
}

// finishClaim posts an InProgress refund's claim: to a balance it is then
// Completed; to an address the withdrawal is enqueued. A claim the ledger
// or the chain refuses makes the refund AwaitingClaim again.
func (s *Service) finishClaim(ctx context.Context, r Refund) (Refund, error) {
	legs, err := s.claimLegs(ctx, r)
	if err != nil {
		return Refund{}, err
	}
	if _, err := s.post(ctx, legs); err != nil {
		if code := chengdui.ErrorCode(err); code == chengdui.EUnavailable || code == chengdui.EInternal {
			return Refund{}, err
		}
		return Refund{}, s.unclaim(ctx, r, err, false)
	}
	if r.Claim == ToAddress {
		if s.cfg.Withdrawals == nil {
			return Refund{}, chengdui.Errorf(chengdui.EUnavailable, "no withdrawal service to send refund %s", r.ID)
		}
		w, err := s.cfg.Withdrawals.Enqueue(ctx, withdraw.Withdrawal{ID: r.WithdrawalID, Origin: withdraw.OriginRefund, UserID: r.ClaimUser,
			Asset: r.Asset, To: r.ClaimAddress, Amount: r.Amount})
		if err != nil {
			if code := chengdui.ErrorCode(err); code == chengdui.EInvalid || code == chengdui.EConflict {
				if _, verr := s.post(ctx, []chengdui.Transfer{{ID: transferID(r.ID, "void:"+itoa(r.Attempt)), PendingID: holdID(r.ID, r.Attempt),
					Flags: chengdui.VoidPending, Code: CodeToChain, Metadata: meta(r, "refund claim refused")}}); verr != nil {
					return Refund{}, verr
				}
				return Refund{}, s.unclaim(ctx, r, err, true)
			}
			return Refund{}, err
		}
		if w.To != "" {
			r.ClaimAddress = w.To
		}
		r.Booked, r.UpdatedAt = true, s.now()
	} else {
		r.State, r.Booked, r.UpdatedAt = Completed, true, s.now()
	}
	saved, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
	if err != nil {
		return Refund{}, err
	}
	s.cfg.Log.Info("refund claimed", "refund", saved.ID, "claim", saved.Claim, "state", saved.State, "asset", saved.Asset, "amount", saved.Amount.String())
	s.cfg.Notify(ctx, saved)
	return saved, nil
}

// unclaim returns a refund whose claim was refused to AwaitingClaim and
// returns why it was refused. posted says whether the claim's ledger
// batch was posted (the chain refused the address afterwards).
func (s *Service) unclaim(ctx context.Context, r Refund, why error, posted bool) error {
	r.State, r.Booked, r.Claim, r.ClaimUser, r.ClaimAddress, r.WithdrawalID, r.UpdatedAt = AwaitingClaim, true, "", "", "", "", s.now()
	if !posted && r.Variant == Fiat && r.ValueAsset != r.Asset {
		// A Fiat refund's conversion was refused with the claim (one
		// linked batch), unless an earlier claim converted it already.
		if converted, err := s.converted(ctx, r); err != nil {
			return err
		} else if !converted {
			r.Amount, r.Rate = chengdui.Amount{}, ""
		}
	}
	if _, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{}); err != nil {
		return err
	}
	return why
}

// converted reports whether a Fiat refund's conversion is posted: its
// currency account was emptied into the platform's inventory.
func (s *Service) converted(ctx context.Context, r Refund) (bool, error) {
	a, err := s.cfg.Ledger.Account(ctx, Account(r.ID, r.Currency))
	if err != nil {
		return false, err
	}
	return !a.DebitsPosted.IsZero(), nil
}

// OnWithdrawal is the withdrawal service's outcome hook for refunds
// (withdraw.Service.OnOutcome(withdraw.OriginRefund, svc.OnWithdrawal)):
// Completed posts the claim's hold and completes the refund, Failed voids
// it and the refund is AwaitingClaim again, Sent records the transaction.
// It is idempotent; an error leaves the withdrawal's status unwritten and
// the call is made again.
func (s *Service) OnWithdrawal(ctx context.Context, w withdraw.Withdrawal) error {
	id, attempt, ok := parseWithdrawalID(w.ID)
	if !ok {
		return chengdui.Errorf(chengdui.EInvalid, "withdrawal %q is not a refund's", clip(w.ID))
	}
	for try := 0; ; try++ {
		r, err := s.cfg.Store.Refund(ctx, id)
		if err != nil {
			return err
		}
		current := r.Attempt == attempt && r.State == InProgress && r.Claim == ToAddress
		md := meta(r, "refund withdrawal")
		md["withdrawal"], md["txid"] = w.ID, w.TxID
		switch w.Status {
		case withdraw.Completed:
			if _, err := s.post(ctx, []chengdui.Transfer{{ID: transferID(id, "post:"+itoa(attempt)), PendingID: holdID(id, attempt),
				Flags: chengdui.PostPending, Code: CodeToChain, Metadata: md}}); err != nil {
				return err
			}
			if !current {
				return nil
			}
			r.State, r.TxID = Completed, w.TxID
		case withdraw.Failed:
			if _, err := s.post(ctx, []chengdui.Transfer{{ID: transferID(id, "void:"+itoa(attempt)), PendingID: holdID(id, attempt),
				Flags: chengdui.VoidPending, Code: CodeToChain, Metadata: md}}); err != nil && chengdui.ErrorCode(err) != chengdui.EPendingVoided {
				return err
			}
			if !current {
				return nil
			}
			r.State, r.Claim, r.ClaimUser, r.ClaimAddress, r.WithdrawalID, r.TxID = AwaitingClaim, "", "", "", "", ""
			r.Reason = clip(w.Reason)
		default:
			if !current || r.TxID == w.TxID {
				return nil
			}
			r.TxID = w.TxID
		}
		r.Booked, r.UpdatedAt = true, s.now()
		saved, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
		if chengdui.ErrorCode(err) == chengdui.EConflict && try < 10 {
			continue
		}
		if err != nil {
			return err
		}
		s.cfg.Log.Info("refund withdrawal", "refund", id, "withdrawal", w.ID, "status", w.Status, "state", saved.State)
		s.cfg.Notify(ctx, saved)
		return nil
	}
}

// parseWithdrawalID reads rf-<id>-<attempt>.
func parseWithdrawalID(wid string) (id string, attempt uint32, ok bool) {
	rest, found := strings.CutPrefix(wid, "rf-")
	if !found {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || !ValidID(rest[:i]) || rest[i+1:] == "" || len(rest[i+1:]) > 9 {
		return "", 0, false
	}
	for _, c := range rest[i+1:] {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		attempt = attempt*10 + uint32(c-'0')
	}
	return rest[:i], attempt, true
}

// Cancel takes an unclaimed refund back: what the store gave is returned
// to it (the asset to the platform's inventory and the value from the
// inventory to the store, or the asset or currency held straight back to
// the store). Cancelling a cancelled refund posts nothing new and returns
// it. Codes: ENotFound; EConflict (claimed already).
func (s *Service) Cancel(ctx context.Context, storeID, id string) (Refund, error) {
	for try := 0; ; try++ {
		r, err := s.Get(ctx, storeID, id)
		if err != nil {
			return Refund{}, err
		}
		switch r.State {
		case Cancelled:
			if !r.Booked {
				return s.finishCancel(ctx, r)
			}
			return r, nil
		case AwaitingClaim:
		default:
			return Refund{}, chengdui.Errorf(chengdui.EConflict, "refund %s is %s: only an unclaimed refund can be cancelled", r.ID, r.State)
		}
		r.State, r.Booked, r.UpdatedAt = Cancelled, false, s.now()
		saved, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
		if chengdui.ErrorCode(err) == chengdui.EConflict && try < 10 {
			continue
		}
		if err != nil {
			return Refund{}, err
		}
		return s.finishCancel(ctx, saved)
	}
}

// cancelLegs give a cancelled refund's money back to the store.
func (s *Service) cancelLegs(r Refund) []chengdui.Transfer {
	md := meta(r, "refund cancelled")
	store := invoice.StoreAccount(r.StoreID, r.ValueAsset)
	switch {
	case r.ValueAsset == r.Asset:
		return []chengdui.Transfer{{ID: transferID(r.ID, "cancel"), DebitAccountID: Account(r.ID, r.Asset), CreditAccountID: store,
			Amount: r.Amount, Code: CodeCancel, Metadata: md}}
	case !r.Converted():
		return []chengdui.Transfer{{ID: transferID(r.ID, "cancel"), DebitAccountID: Account(r.ID, r.Currency), CreditAccountID: store,
			Amount: r.FiatAmount, Code: CodeCancel, Metadata: md}}
	}
	return []chengdui.Transfer{
		{ID: transferID(r.ID, "cancel:out"), DebitAccountID: Account(r.ID, r.Asset), CreditAccountID: settle.Inventory(r.Asset), Amount: r.Amount, Code: CodeCancel, Metadata: md},
		{ID: transferID(r.ID, "cancel:back"), DebitAccountID: settle.Inventory(r.ValueAsset), CreditAccountID: store, Amount: r.Value, Code: CodeCancel, Metadata: md},
	}
}

// finishCancel posts a cancelled refund's legs and marks it booked.
func (s *Service) finishCancel(ctx context.Context, r Refund) (Refund, error) {
	if _, err := s.post(ctx, s.cancelLegs(r)); err != nil {
		if code := chengdui.ErrorCode(err); code == chengdui.EExceedsCredits || code == chengdui.EExceedsDebits {
			// The inventory the value goes back through cannot cover it:
			// the store waits for its money until the operator funds it
			// (Recover retries every round).
			s.cfg.Log.Error("operator alert: a cancelled refund cannot give the store its money back; fund the inventory",
				"alert", AlertCancelBlocked, "refund", r.ID, "store", r.StoreID, "asset", r.ValueAsset, "err", err)
		}
		return Refund{}, err
	}
	r.Booked, r.UpdatedAt = true, s.now()
	saved, err := s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
	if err != nil {
		return Refund{}, err
	}
	s.cfg.Log.Info("refund cancelled", "refund", saved.ID, "store", saved.StoreID)
	s.cfg.Notify(ctx, saved)
	return saved, nil
}

// Recover finishes the ledger work of refunds left unbooked longer than
// Config.Grace (a crash between a state change and the ledger): a
// creation's batch (or its removal, when refused), a claim's transfers and
// withdrawal, a cancellation's legs. Every step is idempotent. It returns
// how many it finished.
func (s *Service) Recover(ctx context.Context) (int, error) {
	rs, err := s.cfg.Store.UnbookedRefunds(ctx, s.now().Add(-s.cfg.Grace), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		// Taking it (a version step) keeps two processes from finishing
		// one refund at once.
		r.UpdatedAt = s.now()
		r, err = s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
		if chengdui.ErrorCode(err) == chengdui.EConflict {
			continue
		} else if err != nil {
			return n, err
		}
		switch r.State {
		case Creating:
			_, err = s.book(ctx, r)
		case InProgress:
			_, err = s.finishClaim(ctx, r)
		case Cancelled:
			_, err = s.finishCancel(ctx, r)
		default:
			r.Booked = true
			_, err = s.cfg.Store.UpdateRefund(ctx, r, chengdui.Amount{})
		}
		if err != nil {
			s.cfg.Log.Warn("refund recovery", "refund", r.ID, "state", r.State, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// Run calls Recover every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Recover(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("refund recovery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
