package statement

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"chengdui"
)

// Money is an amount as the JSON formats write it: whole units and
// smallest units, both exact decimal strings ({"amount": "71.28",
// "units": "7128"}).
type Money struct {
	Amount string `json:"amount"`
	Units  string `json:"units"`
}

// NewMoney writes a in an asset of the given decimals.
func NewMoney(a chengdui.Amount, decimals uint8) Money {
	return Money{Amount: chengdui.FormatDecimal(a, decimals), Units: a.String()}
}

type statementJSON struct {
	StoreID string      `json:"store_id"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	Assets  []assetJSON `json:"assets"`
}

type assetJSON struct {
	Asset    string     `json:"asset"`
	Decimals uint8      `json:"decimals"`
	Account  string     `json:"account"`
	Opening  Money      `json:"opening"`
	Closing  Money      `json:"closing"`
	Totals   totalsJSON `json:"totals"`
	Lines    []lineJSON `json:"lines"`
}

type totalsJSON struct {
	Gross         Money `json:"gross"`
	Fees          Money `json:"fees"`
	Spreads       Money `json:"spreads"`
	Net           Money `json:"net"`
	Payouts       Money `json:"payouts"`
	PayoutReturns Money `json:"payout_returns"`
	OtherCredits  Money `json:"other_credits"`
	OtherDebits   Money `json:"other_debits"`
	Credits       Money `json:"credits"`
	Debits        Money `json:"debits"`
}

type lineJSON struct {
	Seq        uint64            `json:"seq"`
	Time       time.Time         `json:"time"`
	Kind       Kind              `json:"kind"`
	TransferID string            `json:"transfer_id"`
	Code       uint16            `json:"code"`
	Credit     Money             `json:"credit"`
	Debit      Money             `json:"debit"`
	Balance    Money             `json:"balance"`
	Payment    *paymentJSON      `json:"payment,omitempty"`
	PayoutID   string            `json:"payout_id,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

type paymentJSON struct {
	InvoiceID       string `json:"invoice_id"`
	PaymentID       string `json:"payment_id"`
	PaidFromBalance bool   `json:"paid_from_balance"`
	PaidAsset       string `json:"paid_asset"`
	Paid            Money  `json:"paid"` // in PaidAsset
	Rate            string `json:"rate,omitempty"`
	Value           *Money `json:"value,omitempty"`
	Gross           Money  `json:"gross"`
	Fee             Money  `json:"fee"`
	Spread          Money  `json:"spread"`
	Net             Money  `json:"net"`
}

// MarshalJSON writes the statement as the API serves it (see the package
// doc).
func (s Statement) MarshalJSON() ([]byte, error) {
	out := statementJSON{StoreID: s.StoreID, From: s.From.UTC(), To: s.To.UTC(), Assets: make([]assetJSON, len(s.Assets))}
	for i, as := range s.Assets {
		d := as.Decimals
		m := func(a chengdui.Amount) Money { return NewMoney(a, d) }
		t := as.Totals
		aj := assetJSON{Asset: as.Asset, Decimals: d, Account: as.Account, Opening: m(as.Opening), Closing: m(as.Closing),
			Totals: totalsJSON{Gross: m(t.Gross), Fees: m(t.Fees), Spreads: m(t.Spreads), Net: m(t.Net),
				Payouts: m(t.Payouts), PayoutReturns: m(t.PayoutReturns), OtherCredits: m(t.OtherCredits), OtherDebits: m(t.OtherDebits),
				Credits: m(t.Credits), Debits: m(t.Debits)},
			Lines: make([]lineJSON, len(as.Lines))}
		for j, l := range as.Lines {
			lj := lineJSON{Seq: l.Seq, Time: l.Time.UTC(), Kind: l.Kind, TransferID: l.TransferID, Code: l.Code,
				Credit: m(l.Credit), Debit: m(l.Debit), Balance: m(l.Balance), PayoutID: l.PayoutID, Metadata: l.Metadata}
			if p := l.Payment; p != nil {
				pj := &paymentJSON{InvoiceID: p.InvoiceID, PaymentID: p.PaymentID, PaidFromBalance: p.FromBalance,
					PaidAsset: p.Asset, Paid: NewMoney(p.Amount, p.Decimals), Rate: p.Rate,
					Gross: m(p.Gross), Fee: m(p.Fee), Spread: m(p.Spread), Net: m(p.Net)}
				if p.HasValue {
					v := m(p.Value)
					pj.Value = &v
				}
				lj.Payment = pj
			}
			aj.Lines[j] = lj
		}
		out.Assets[i] = aj
	}
	return json.Marshal(out)
}

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"asset", "decimals", "kind", "time", "seq", "transfer_id", "code",
	"invoice_id", "payment_id", "paid_from_balance", "paid_asset", "paid_amount", "rate", "value",
	"gross", "fee", "spread", "net", "credit", "debit", "balance", "payout_id", "metadata"}

// The kinds of the rows WriteCSV adds around each asset's lines.
const (
	RowOpening = "opening"
	RowClosing = "closing"
)

// WriteCSV writes the statement as CSV (RFC 4180, UTF-8): CSVHeader, then
// per asset an opening row (time: the period's start, balance: the
// opening balance), a row per line, and a closing row (time: the
// period's end; gross, fee, spread, net, credit and debit: the period's
// totals; balance: the closing balance). Amounts are exact decimal
// strings in whole units of the row's asset (paid_amount in paid_asset's);
// columns that do not apply to a row are empty.
func (s Statement) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	from, to := s.From.UTC().Format(time.RFC3339Nano), s.To.UTC().Format(time.RFC3339Nano)
	for _, as := range s.Assets {
		d := as.Decimals
		f := func(a chengdui.Amount) string { return chengdui.FormatDecimal(a, d) }
		row := func(kind, when string) []string {
			r := make([]string, len(CSVHeader))
			r[0], r[1], r[2], r[3] = as.Asset, strconv.Itoa(int(d)), kind, when
			return r
		}
		open := row(RowOpening, from)
		open[20] = f(as.Opening)
		if err := cw.Write(open); err != nil {
			return err
		}
		for _, l := range as.Lines {
			r := row(string(l.Kind), l.Time.UTC().Format(time.RFC3339Nano))
			r[4], r[5], r[6] = strconv.FormatUint(l.Seq, 10), cell(l.TransferID), strconv.Itoa(int(l.Code))
			if p := l.Payment; p != nil {
				r[7], r[8], r[9] = cell(p.InvoiceID), cell(p.PaymentID), strconv.FormatBool(p.FromBalance)
				r[10], r[11], r[12] = cell(p.Asset), chengdui.FormatDecimal(p.Amount, p.Decimals), cell(p.Rate)
				if p.HasValue {
					r[13] = f(p.Value)
				}
				r[14], r[15], r[16], r[17] = f(p.Gross), f(p.Fee), f(p.Spread), f(p.Net)
			}
			r[18], r[19], r[20] = f(l.Credit), f(l.Debit), f(l.Balance)
			r[21] = cell(l.PayoutID)
			if len(l.Metadata) > 0 {
				b, err := json.Marshal(l.Metadata) // keys sorted
				if err != nil {
					return err
				}
				r[22] = cell(string(b))
			}
			if err := cw.Write(r); err != nil {
				return err
			}
		}
		t := as.Totals
		closing := row(RowClosing, to)
		closing[14], closing[15], closing[16], closing[17] = f(t.Gross), f(t.Fees), f(t.Spreads), f(t.Net)
		closing[18], closing[19], closing[20] = f(t.Credits), f(t.Debits), f(as.Closing)
		if err := cw.Write(closing); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a text cell from being read as a formula by a spreadsheet
// (OWASP's CSV injection advice): one starting with = + - @ or a control
// character gets a leading apostrophe. Ids and metadata never start so
// unless something hostile wrote them.
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + s
	}
	return s
}
