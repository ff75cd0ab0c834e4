// Package settle is acceptance (承兑) and settlement: a settled invoice's
// payments are converted at the quote locked when the invoice was made,
// into the asset the merchant settles in, with the platform's fee and
// spread as ledger legs of their own.
//
// # The conversion of one payment
//
// A payment of a (asset A) to an invoice priced P (currency C) whose
// locked quote of A is due D at the effective rate r (C per whole A,
// spread s included; the mid rate is r/(1−s)) is worth, to the merchant,
// v = a × P / D in C (v = P when a = D), rounded up: rounding is in the
// platform's disfavour, by less than one smallest unit. At the mid rate
// it is worth m = a × r/(1−s), rounded down; the spread is m − v (never
// below zero). The fee is v × fee_bps / 10000, rounded down, plus the
// store's fixed fee on the invoice's first payment, never more than v.
//
// One linked ledger batch, all or nothing, per payment:
//
//	invoice:<id>:A        → platform:A:inventory      a      the asset paid
//	platform:C:inventory  → store:<store>:C           v−fee  the merchant's proceeds
//	platform:C:inventory  → platform:C:revenue:fees   fee
//	platform:C:inventory  → platform:C:revenue:spread m−v
//
// The inventory accounts are the platform's open position per asset: A
// grows by what payers paid, C shrinks by what merchants and the platform
// were given. platform:C:inventory carries "debits must not exceed
// credits": the operator funds it, and a conversion it cannot cover is
// refused whole. The invoice stays settled (the payer paid), the payment
// stays in the invoice's clearing account, an operator alert is raised,
// and the invoice service retries on every tick until the inventory is
// funded. A balance never goes negative.
//
// A store that keeps what it is paid (settlement mode "keep", or its
// settlement asset is the asset paid) gets a − spread − fee in A: the
// spread (a × s, rounded down) and the fee are taken in A.
//
// Over- and under-payments: the merchant is credited what was actually
// paid, converted at the locked quote: an overpayment is the merchant's
// (to refund with Greenfield's OverpaidAmount refund), an underpayment
// within the payment tolerance is the merchant's loss, as BTCPay does.
// Late payments (after expiry) stay in the clearing account until the
// merchant marks the invoice settled; then they are converted at the
// same locked quote.
//
// A settlement asset other than the invoice currency and the asset paid
// (a USD invoice for a store that settles in CNY) is reached through the
// store's splits, below; without splits the merchant's balance is kept in
// the invoice currency.
//
// # Splits
//
// A store's settlement profile may divide its proceeds among assets
// (chengdui.StoreSettlement.Splits, BitPay's split: 70 % EUR, 30 % USDC).
// The proceeds N (v − fee in C; for a store kept in the asset paid,
// a − spread − fee in A) are divided by Divide: each split's share is
// N × bps / 10000 rounded down, and the remainder of the rounding (less
// than one smallest unit per split) goes to the split in N's own asset,
// or if there is none to the largest split. The shares sum to N exactly.
//
// The share in N's asset is the proceeds leg as without splits. A share
// of value p in another asset S is converted at the current price of S
// (Config.Rates: the median of the live sources, asked as S priced in N's
// asset, e.g. USDC/CNY 7.2, and inverted exactly; no spread: the
// invoice's spread was taken already), rounded up (the platform's
// disfavour, by less than one smallest unit of S), and paid from the
// platform's S inventory by one more leg of the same linked batch, whose
// metadata "rate" is that price and "value" is p:
//
//	platform:S:inventory  → store:<store>:S       s = ⌈p / price⌉   split-S
//
// so the platform keeps p of C in its C inventory and gives s of S out of
// its S inventory; in every asset the batch balances. A store kept in the
// asset paid moves the converted shares from the clearing account into
// platform:A:inventory (leg split-in) instead. An S inventory that cannot
// cover its leg refuses the whole batch, as above. When no rate of S is
// available (no source, stale, disagreeing), its share stays in N's asset
// and the alert AlertSplitKept is raised: the merchant is paid in full,
// in the invoice currency, rather than late. Every leg of a split batch
// carries the metadata "parts": what each asset received.
//
// A store in mode "keep" keeps the asset paid; its splits are not applied
// at conversion.
//
// # Settling again
//
// Settle runs again on every later change of a settled invoice. Before a
// payment is converted the ledger is asked whether a leg of its
// conversion exists (Config.Transfers): then it was converted, perhaps
// under other settings or rates, and it is skipped. Two processes racing
// on one payment compute the same legs except for rates read at different
// moments; the first leg carries "parts", so the loser's batch conflicts
// on its first leg and is refused whole (nothing is paid twice).
package settle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"

	"chengdui"
	"chengdui/fx"
	"chengdui/invoice"

	"lukechampine.com/uint128"
)

// Transfer codes of the conversion legs.
const (
	CodeConvertIn  uint16 = 30 // clearing → platform inventory, the asset paid
	CodeProceeds   uint16 = 31 // platform inventory → store, the settlement asset
	CodeFee        uint16 = 32 // platform inventory → fee revenue
	CodeSpread     uint16 = 33 // platform inventory → spread revenue
	CodeKeepStore  uint16 = 34 // clearing → store, the asset paid (no conversion)
	CodeKeepFee    uint16 = 35 // clearing → fee revenue, the asset paid
	CodeKeepSpread uint16 = 36 // clearing → spread revenue, the asset paid
	CodeSplit      uint16 = 37 // platform inventory → store, a split's share in another asset
	CodeSplitIn    uint16 = 38 // clearing → platform inventory, the asset paid, for a kept store's converted shares
)

// AlertUnconverted is the operator alert of a conversion the ledger
// refused (an inventory short of the settlement asset).
const AlertUnconverted = "alert_settlement_unconverted"

// AlertSplitKept is the operator alert of a split share kept in the
// invoice currency (or the asset paid) because its asset had no rate.
const AlertSplitKept = "alert_settlement_split_kept"

// Inventory is the platform's open position in an asset.
//
// Every inventory account carries DebitsMustNotExceedCredits, whichever
// service creates it first (InventoryAccount): a conversion, a split or a
// refund that an inventory cannot cover is refused, never paid from money
// the platform does not hold.
func Inventory(asset string) string { return "platform:" + asset + ":inventory" }

// InventoryAccount is the inventory account of an asset as every service
// creates it.
func InventoryAccount(asset string) chengdui.Account {
	return chengdui.Account{ID: Inventory(asset), Asset: asset, Flags: chengdui.DebitsMustNotExceedCredits,
		Metadata: map[string]string{"role": "conversion inventory"}}
}

// FeeRevenue and SpreadRevenue are the platform's revenue accounts.
func FeeRevenue(asset string) string    { return "platform:" + asset + ":revenue:fees" }
func SpreadRevenue(asset string) string { return "platform:" + asset + ":revenue:spread" }

// Ledger is what conversion needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	CreateTransfers(ctx context.Context, ts []chengdui.Transfer) ([]chengdui.TransferResult, error)
}

// Stores finds a store's settlement preference.
type Stores interface {
	Store(ctx context.Context, id string) (chengdui.Store, error)
}

// Alerter records what an operator must look at (audit.Recorder).
type Alerter interface {
	Record(ctx context.Context, event, actor string, detail map[string]string)
}

// Rates gives current rates (fx.Rates): how many quote one base is worth.
// Codes: EUnavailable, EInvalid.
type Rates interface {
	Rate(base, quote string) (fx.Rate, error)
}

// Transfers finds a committed transfer by id (sqlite.DB, postgres.DB).
// Codes: ENotFound.
type Transfers interface {
	Transfer(ctx context.Context, id string) (chengdui.Transfer, error)
}

// Assets lists the ledger's assets, for their decimals (sqlite.DB,
// postgres.DB).
type Assets interface {
	Assets(ctx context.Context) ([]chengdui.Asset, error)
}

// Config configures a Converter.
type Config struct {
	Ledger Ledger
	Stores Stores
	// FeeBps is the platform's fee in hundredths of a percent of each
	// payment's value, unless the store's settlement sets its own.
	FeeBps uint32
	// Rates converts split shares into other assets; nil keeps every
	// share in the invoice currency (with AlertSplitKept).
	Rates Rates
	// Transfers tells a payment already converted; nil: Stores, if it
	// has Transfer (the databases do), else nothing is looked up and
	// settling again relies on the ledger's idempotency alone.
	Transfers Transfers
	// Assets gives split assets' decimals; nil: Stores, if it has Assets.
	Assets Assets
	Alerts Alerter      // nil: alerts are only logged
	Log    *slog.Logger // nil: slog.Default()
}

// Converter implements invoice.Settler.
type Converter struct {
	cfg      Config
	accounts sync.Map // accounts known to exist
	alerted  sync.Map // invoice ids alerted as unconverted
}

var _ invoice.Settler = (*Converter)(nil)

// New returns a Converter.
func New(cfg Config) *Converter {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if t, ok := cfg.Stores.(Transfers); ok && cfg.Transfers == nil {
		cfg.Transfers = t
	}
	if a, ok := cfg.Stores.(Assets); ok && cfg.Assets == nil {
		cfg.Assets = a
	}
	return &Converter{cfg: cfg}
}

// Settle converts the settled payments of a settled invoice. It is
// idempotent: every leg's id is derived from the invoice, the payment and
// the leg, so converting again posts nothing new.
func (c *Converter) Settle(ctx context.Context, inv invoice.Invoice, pays []invoice.Payment) error {
	st, err := c.cfg.Stores.Store(ctx, inv.StoreID)
	if err != nil {
		return err
	}
	// The fixed fee is charged once per invoice: on the first payment
	// converted (by receipt, then id, among those converted together);
	// none if one was converted already. (Choosing among all settled
	// payments would charge it again when an earlier-received payment
	// confirms after a later one was converted.)
	var todo []invoice.Payment
	anyDone := false
	for _, p := range pays {
		if p.Status != invoice.PaymentSettled {
			continue
		}
		if done, err := c.converted(ctx, inv, p); err != nil {
			return err
		} else if done {
			anyDone = true
			continue
		}
		todo = append(todo, p)
	}
	first := ""
	if !anyDone {
		first = firstSettled(todo)
	}
	var ts []chengdui.Transfer
	for _, p := range todo {
		legs, err := c.legs(ctx, inv, st, p, p.ID == first)
		if err != nil {
			// A store setting the conversion cannot use (a fixed fee the
			// currency cannot carry): the money waits in clearing, and a
			// person must know.
			c.alert(ctx, inv, err)
			return err
		}
		ts = append(ts, legs...)
	}
	if len(ts) == 0 {
		return nil
	}
	res, err := c.cfg.Ledger.CreateTransfers(ctx, ts)
	if err != nil {
		return err
	}
	for _, r := range res {
		if chengdui.ErrorCode(r.Err) == chengdui.EIDConflict && splitBatch(ts) {
			// Another process converted the payment first, at other rates.
			c.cfg.Log.Info("payment converted by another process", "invoice", inv.ID, "err", r.Err)
			continue
		}
		if r.Err != nil && chengdui.ErrorCode(r.Err) != chengdui.ELinkedEventFailed {
			c.alert(ctx, inv, r.Err)
			return fmt.Errorf("settle invoice %s: %w", inv.ID, r.Err)
		}
	}
	c.alerted.Delete(inv.ID)
	return nil
}

// firstSettled is the id of the first settled payment of pays (by
// receipt, then id).
func firstSettled(pays []invoice.Payment) string {
	var first *invoice.Payment
	for i := range pays {
		p := &pays[i]
		if p.Status != invoice.PaymentSettled {
			continue
		}
		if first == nil || p.ReceivedAt.Before(first.ReceivedAt) || (p.ReceivedAt.Equal(first.ReceivedAt) && p.ID < first.ID) {
			first = p
		}
	}
	if first == nil {
		return ""
	}
	return first.ID
}

// splitBatch reports whether any leg carries split parts.
func splitBatch(ts []chengdui.Transfer) bool {
	for _, t := range ts {
		if t.Metadata["parts"] != "" {
			return true
		}
	}
	return false
}

// convertedLegs are the legs of which one, at least, every conversion of
// a payment writes (in when converted; store, fee, spread or split-in
// when kept).
var convertedLegs = []string{"in", "store", "fee", "spread", "split-in"}

// converted reports whether a leg of payment p's conversion exists.
func (c *Converter) converted(ctx context.Context, inv invoice.Invoice, p invoice.Payment) (bool, error) {
	if c.cfg.Transfers == nil {
		return false, nil
	}
	for _, leg := range convertedLegs {
		_, err := c.cfg.Transfers.Transfer(ctx, legID(inv.ID, p.ID, leg))
		switch chengdui.ErrorCode(err) {
		case "":
			return true, nil
		case chengdui.ENotFound:
		default:
			return false, err
		}
	}
	return false, nil
}

// legID names one leg of one payment's conversion. Payment ids can be
// long: the id carries a hash of it.
func legID(invoiceID, paymentID, leg string) string {
	h := sha256.Sum256([]byte(paymentID))
	return "cv:" + invoiceID + ":" + hex.EncodeToString(h[:12]) + ":" + leg
}

// legs builds the linked transfers converting payment p.
func (c *Converter) legs(ctx context.Context, inv invoice.Invoice, st chengdui.Store, p invoice.Payment, first bool) ([]chengdui.Transfer, error) {
	q, ok := inv.Quote(p.Asset)
	if !ok {
		return nil, chengdui.Errorf(chengdui.EInvalid, "invoice %s has no quote of %s", inv.ID, p.Asset)
	}
	rate, ok := new(big.Rat).SetString(q.Rate)
	if !ok || rate.Sign() <= 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "invoice %s: quote rate %q of %s", inv.ID, q.Rate, p.Asset)
	}
	feeBps := c.cfg.FeeBps
	if st.Settlement.FeeBps != nil {
		feeBps = *st.Settlement.FeeBps
	}
	a := new(big.Rat).SetInt(p.Amount.Big())
	scale := new(big.Rat).SetFrac(pow10(inv.Decimals), pow10(q.Decimals)) // C units per A unit, per whole
	spreadFrac := big.NewRat(int64(q.SpreadBps), 10000)
	clearing := invoice.ClearingAccount(inv.ID, p.Asset)
	md := map[string]string{"invoice": inv.ID, "store": inv.StoreID, "payment": p.ID, "rate": q.Rate}
	link := func(ts []chengdui.Transfer) []chengdui.Transfer {
		var out []chengdui.Transfer
		for _, t := range ts {
			if !t.Amount.IsZero() {
				out = append(out, t)
			}
		}
		for i := range out {
			if i < len(out)-1 {
				out[i].Flags |= chengdui.Linked
			}
		}
		return out
	}

	keep := st.Settlement.Mode == "keep" || st.Settlement.Asset == p.Asset || inv.Currency == p.Asset
	if keep {
		// No conversion: the spread and the fee are taken in the asset paid.
		spread := floorRat(new(big.Rat).Mul(a, spreadFrac))
		fee := floorRat(new(big.Rat).Mul(new(big.Rat).Sub(a, new(big.Rat).SetInt(spread.Big())), big.NewRat(int64(feeBps), 10000)))
		net, ok1 := chengdui.SubAmounts(p.Amount, spread)
		net, ok2 := chengdui.SubAmounts(net, fee)
		if !ok1 || !ok2 {
			return nil, chengdui.Errorf(chengdui.EInvalid, "invoice %s: fees exceed the payment", inv.ID)
		}
		for _, acct := range []string{invoice.StoreAccount(inv.StoreID, p.Asset), FeeRevenue(p.Asset), SpreadRevenue(p.Asset)} {
			if err := c.ensure(ctx, acct, p.Asset, acct == invoice.StoreAccount(inv.StoreID, p.Asset)); err != nil {
				return nil, err
			}
		}
		var splits []chengdui.Transfer
		if st.Settlement.Mode != "keep" {
			kept, moved, legs, err := c.split(ctx, inv, st, p, p.Asset, q.Decimals, net, md)
			if err != nil {
				return nil, err
			}
			net, splits = kept, legs
			if !moved.IsZero() {
				if err := c.ensure(ctx, Inventory(p.Asset), p.Asset, true); err != nil {
					return nil, err
				}
				splits = append([]chengdui.Transfer{{ID: legID(inv.ID, p.ID, "split-in"), DebitAccountID: clearing, CreditAccountID: Inventory(p.Asset),
					Amount: moved, Code: CodeSplitIn, Metadata: md}}, splits...)
			}
		}
		return link(append([]chengdui.Transfer{
			{ID: legID(inv.ID, p.ID, "store"), DebitAccountID: clearing, CreditAccountID: invoice.StoreAccount(inv.StoreID, p.Asset), Amount: net, Code: CodeKeepStore, Metadata: md},
			{ID: legID(inv.ID, p.ID, "fee"), DebitAccountID: clearing, CreditAccountID: FeeRevenue(p.Asset), Amount: fee, Code: CodeKeepFee, Metadata: md},
			{ID: legID(inv.ID, p.ID, "spread"), DebitAccountID: clearing, CreditAccountID: SpreadRevenue(p.Asset), Amount: spread, Code: CodeKeepSpread, Metadata: md},
		}, splits...)), nil
	}

	// Converted into the invoice currency C.
	cur := inv.Currency
	var value *big.Rat // in C's smallest unit
	if !inv.TopUp && !q.Due.IsZero() {
		value = new(big.Rat).Mul(a, new(big.Rat).SetFrac(inv.Amount.Big(), q.Due.Big()))
	} else {
		value = new(big.Rat).Mul(new(big.Rat).Mul(a, rate), scale)
	}
	v := ceilRat(value)
	mid := new(big.Rat).Quo(rate, new(big.Rat).Sub(big.NewRat(1, 1), spreadFrac))
	m := floorRat(new(big.Rat).Mul(new(big.Rat).Mul(a, mid), scale))
	spread, ok := chengdui.SubAmounts(m, v)
	if !ok {
		spread = chengdui.Amount{}
	}
	fee := floorRat(new(big.Rat).Mul(new(big.Rat).SetInt(v.Big()), big.NewRat(int64(feeBps), 10000)))
	if first && st.Settlement.FeeFixed != "" {
		fixed, err := chengdui.ParseDecimal(st.Settlement.FeeFixed, inv.Decimals)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "store %s: fixed fee %q: %s", st.ID, st.Settlement.FeeFixed, chengdui.ErrorMessage(err))
		}
		fee, _ = chengdui.AddAmounts(fee, fixed)
	}
	if fee.Cmp(v) > 0 {
		fee = v
	}
	proceeds, _ := chengdui.SubAmounts(v, fee)
	proceeds, _, splits, err := c.split(ctx, inv, st, p, cur, inv.Decimals, proceeds, md)
	if err != nil {
		return nil, err
	}
	store := invoice.StoreAccount(inv.StoreID, cur)
	for _, acct := range []struct {
		id, asset string
		guarded   bool
	}{{Inventory(p.Asset), p.Asset, true}, {Inventory(cur), cur, true}, {store, cur, true}, {FeeRevenue(cur), cur, false}, {SpreadRevenue(cur), cur, false}} {
		if err := c.ensure(ctx, acct.id, acct.asset, acct.guarded); err != nil {
			return nil, err
		}
	}
	md["value"], md["mid_value"] = v.String(), m.String()
	return link(append([]chengdui.Transfer{
		{ID: legID(inv.ID, p.ID, "in"), DebitAccountID: clearing, CreditAccountID: Inventory(p.Asset), Amount: p.Amount, Code: CodeConvertIn, Metadata: md},
		{ID: legID(inv.ID, p.ID, "out"), DebitAccountID: Inventory(cur), CreditAccountID: store, Amount: proceeds, Code: CodeProceeds, Metadata: md},
		{ID: legID(inv.ID, p.ID, "fee"), DebitAccountID: Inventory(cur), CreditAccountID: FeeRevenue(cur), Amount: fee, Code: CodeFee, Metadata: md},
		{ID: legID(inv.ID, p.ID, "spread"), DebitAccountID: Inventory(cur), CreditAccountID: SpreadRevenue(cur), Amount: spread, Code: CodeSpread, Metadata: md},
	}, splits...)), nil
}

// split divides net (in base, baseDec decimals) by the store's splits.
// It returns what stays in base, how much of base the other shares took
// (their value) and the legs paying those shares from their assets'
// inventories; md gets "parts". Without splits, or with one in base,
// everything stays in base and md is untouched.
func (c *Converter) split(ctx context.Context, inv invoice.Invoice, st chengdui.Store, p invoice.Payment, base string, baseDec uint8,
	net chengdui.Amount, md map[string]string) (kept, moved chengdui.Amount, legs []chengdui.Transfer, err error) {
	splits := st.Settlement.Splits
	if len(splits) == 0 || (len(splits) == 1 && splits[0].Asset == base) || net.IsZero() {
		return net, chengdui.Amount{}, nil, nil
	}
	bps := make([]uint32, len(splits))
	for i, s := range splits {
		bps[i] = s.Bps
	}
	shares := Divide(net, bps, restIndex(splits, base))
	decimals, err := c.decimals(ctx)
	if err != nil {
		return chengdui.Amount{}, chengdui.Amount{}, nil, err
	}
	kept = chengdui.Amount{}
	var parts []string
	for i, s := range splits {
		share := shares[i]
		if s.Asset == base || share.IsZero() {
			kept, _ = chengdui.AddAmounts(kept, share)
			continue
		}
		out, rate, why := c.convertShare(share, base, baseDec, s.Asset, decimals)
		if why != "" {
			c.alertSplit(ctx, inv, s.Asset, why)
			kept, _ = chengdui.AddAmounts(kept, share)
			continue
		}
		if out.IsZero() {
			kept, _ = chengdui.AddAmounts(kept, share)
			continue
		}
		for _, acct := range []string{Inventory(s.Asset), invoice.StoreAccount(inv.StoreID, s.Asset)} {
			if err := c.ensure(ctx, acct, s.Asset, true); err != nil {
				return chengdui.Amount{}, chengdui.Amount{}, nil, err
			}
		}
		moved, _ = chengdui.AddAmounts(moved, share)
		parts = append(parts, s.Asset+"="+out.String())
		lmd := map[string]string{"invoice": inv.ID, "store": inv.StoreID, "payment": p.ID, "rate": rate, "value": share.String(), "value_asset": base}
		legs = append(legs, chengdui.Transfer{ID: legID(inv.ID, p.ID, "split-"+s.Asset), DebitAccountID: Inventory(s.Asset),
			CreditAccountID: invoice.StoreAccount(inv.StoreID, s.Asset), Amount: out, Code: CodeSplit, Metadata: lmd})
	}
	md["parts"] = strings.Join(append([]string{base + "=" + kept.String()}, parts...), ",")
	for i := range legs {
		legs[i].Metadata["parts"] = md["parts"]
	}
	return kept, moved, legs, nil
}

// convertShare converts a share into asset at the current rate; why says
// why it could not.
func (c *Converter) convertShare(share chengdui.Amount, base string, baseDec uint8, asset string, decimals map[string]uint8) (chengdui.Amount, string, string) {
	dec, ok := decimals[asset]
	if !ok {
		return chengdui.Amount{}, "", "unknown asset"
	}
	if c.cfg.Rates == nil {
		return chengdui.Amount{}, "", "no rate source configured"
	}
	// Asked as the price of the asset in base (USDC/CNY 7.2), which
	// sources quote exactly, and inverted exactly.
	r, err := c.cfg.Rates.Rate(asset, base)
	if err != nil {
		return chengdui.Amount{}, "", chengdui.ErrorMessage(err)
	}
	price, ok := new(big.Rat).SetString(r.Value.String())
	if !ok || price.Sign() <= 0 {
		return chengdui.Amount{}, "", "rate " + r.Value.String() + " is not usable"
	}
	out, ok := ConvertShare(share, baseDec, new(big.Rat).Inv(price), dec)
	if !ok {
		return chengdui.Amount{}, "", "the converted share overflows 128 bits"
	}
	return out, r.Value.String(), ""
}

// decimals maps asset codes to decimals.
func (c *Converter) decimals(ctx context.Context) (map[string]uint8, error) {
	if c.cfg.Assets == nil {
		return map[string]uint8{}, nil
	}
	as, err := c.cfg.Assets.Assets(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint8, len(as))
	for _, a := range as {
		out[a.Code] = a.Decimals
	}
	return out, nil
}

// alertSplit raises AlertSplitKept once per invoice, asset and process.
func (c *Converter) alertSplit(ctx context.Context, inv invoice.Invoice, asset, why string) {
	c.cfg.Log.Warn("operator alert", "alert", AlertSplitKept, "invoice", inv.ID, "store", inv.StoreID, "asset", asset, "reason", why)
	if _, dup := c.alerted.LoadOrStore(inv.ID+"\x00"+asset, true); dup || c.cfg.Alerts == nil {
		return
	}
	c.cfg.Alerts.Record(ctx, AlertSplitKept, "", map[string]string{"invoice": inv.ID, "store": inv.StoreID, "asset": asset, "reason": why})
}

// ensure creates an account once per process; guarded accounts may not
// be overdrawn.
func (c *Converter) ensure(ctx context.Context, id, asset string, guarded bool) error {
	if _, ok := c.accounts.Load(id); ok {
		return nil
	}
	a := chengdui.Account{ID: id, Asset: asset}
	if guarded {
		a.Flags = chengdui.DebitsMustNotExceedCredits
	}
	if _, err := c.cfg.Ledger.CreateAccount(ctx, a); err != nil && chengdui.ErrorCode(err) != chengdui.EExists {
		return err
	}
	c.accounts.Store(id, true)
	return nil
}

// alert raises the unconverted alert once per invoice and process.
func (c *Converter) alert(ctx context.Context, inv invoice.Invoice, err error) {
	c.cfg.Log.Error("operator alert", "alert", AlertUnconverted, "invoice", inv.ID, "store", inv.StoreID, "err", err)
	if _, dup := c.alerted.LoadOrStore(inv.ID, true); dup || c.cfg.Alerts == nil {
		return
	}
	c.cfg.Alerts.Record(ctx, AlertUnconverted, "", map[string]string{"invoice": inv.ID, "store": inv.StoreID,
		"reason": chengdui.ErrorMessage(err)})
}

func pow10(n uint8) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func floorRat(r *big.Rat) chengdui.Amount {
	if r.Sign() <= 0 {
		return chengdui.Amount{}
	}
	return uint128.FromBig(new(big.Int).Quo(r.Num(), r.Denom()))
}

func ceilRat(r *big.Rat) chengdui.Amount {
	if r.Sign() <= 0 {
		return chengdui.Amount{}
	}
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return uint128.FromBig(q)
}
