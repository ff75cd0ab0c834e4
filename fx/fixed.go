package fx

import (
	"context"
	"slices"

	"chengdui"
)

// Fixed is a source with a fixed table of rates, for development and tests.
// Its rates carry no timestamp, so Rates stamps them when it fetches them:
// they never go stale while Rates runs.
type Fixed struct {
	rates map[Pair]Decimal
}

// DevRates is the table of `chengdui dev`: round numbers close to real ones.
func DevRates() map[string]string {
	return map[string]string{
		"BTC/USD": "60000", "ETH/USD": "3000", "USDT/USD": "1", "USDC/USD": "1",
		"USD/CNY": "7.2", "USD/EUR": "0.92", "USD/HKD": "7.8",
	}
}

// NewFixed parses a table of pair → rate, {"BTC/USD": "60000"}. Every rate
// must be a positive decimal. Errors are EInvalid.
func NewFixed(table map[string]string) (*Fixed, error) {
	f := &Fixed{rates: make(map[Pair]Decimal, len(table))}
	for k, v := range table {
		p, err := ParsePair(k)
		if err != nil {
			return nil, err
		}
		d, err := ParseDecimal(v)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "rate of %s: %s", p, chengdui.ErrorMessage(err))
		}
		if d.IsZero() {
			return nil, chengdui.Errorf(chengdui.EInvalid, "rate of %s is zero", p)
		}
		if _, dup := f.rates[p]; dup {
			return nil, chengdui.Errorf(chengdui.EInvalid, "rate of %s is given twice", p)
		}
		f.rates[p] = d
	}
	return f, nil
}

// Name implements Source.
func (f *Fixed) Name() string { return "fixed" }

// Fetch implements Source: the table's rates for the wanted pairs, in the
// table's direction.
func (f *Fixed) Fetch(_ context.Context, pairs []Pair) ([]Rate, error) {
	var out []Rate
	for _, p := range pairs {
		for _, q := range []Pair{p, p.Inverse()} {
			if v, ok := f.rates[q]; ok && !slices.ContainsFunc(out, func(r Rate) bool { return r.Pair() == q }) {
				out = append(out, Rate{Base: q.Base, Quote: q.Quote, Value: v, Source: f.Name()})
			}
		}
	}
	return out, nil
}
