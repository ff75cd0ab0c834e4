package statement

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"chengdui"
)

// Settlement is one invoice payment credited to a store: converted at the
// invoice's locked quote into the settlement asset (a conversion), or
// credited in the asset paid (a store that keeps it). Gross, Fee, Spread
// and Net are in Asset, the settlement asset: Net + Fee + Spread = Gross.
type Settlement struct {
	Time       time.Time
	Seq        uint64
	TransferID string
	Kind       Kind // KindConversion or KindPayment
	Asset      string
	Decimals   uint8
	Payment    Payment
}

// Settlements lists the statement's invoice payments of every asset, in
// journal order: what GET /api/v1/stores/{storeId}/settlements serves.
func (s Statement) Settlements() []Settlement {
	var out []Settlement
	for _, as := range s.Assets {
		for _, l := range as.Lines {
			if l.Payment == nil {
				continue
			}
			out = append(out, Settlement{Time: l.Time, Seq: l.Seq, TransferID: l.TransferID, Kind: l.Kind, Asset: as.Asset,
				Decimals: as.Decimals, Payment: *l.Payment})
		}
	}
	slices.SortStableFunc(out, func(a, b Settlement) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

type settlementJSON struct {
	Time       time.Time `json:"time"`
	Seq        uint64    `json:"seq"`
	TransferID string    `json:"transfer_id"`
	Kind       Kind      `json:"kind"`
	Asset      string    `json:"asset"`
	paymentJSON
}

// MarshalJSON writes a settlement as the API serves it: the settlement
// asset, then the payment's fields as a statement line's "payment" has
// them (invoice_id, payment_id, paid_asset, paid, rate, value, gross,
// fee, spread, net).
func (s Settlement) MarshalJSON() ([]byte, error) {
	m := func(a chengdui.Amount) Money { return NewMoney(a, s.Decimals) }
	p := s.Payment
	pj := paymentJSON{InvoiceID: p.InvoiceID, PaymentID: p.PaymentID, PaidFromBalance: p.FromBalance, PaidAsset: p.Asset,
		Paid: NewMoney(p.Amount, p.Decimals), Rate: p.Rate, Gross: m(p.Gross), Fee: m(p.Fee), Spread: m(p.Spread), Net: m(p.Net)}
	if p.HasValue {
		v := m(p.Value)
		pj.Value = &v
	}
	return json.Marshal(settlementJSON{Time: s.Time.UTC(), Seq: s.Seq, TransferID: s.TransferID, Kind: s.Kind, Asset: s.Asset, paymentJSON: pj})
}
