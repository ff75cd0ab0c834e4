package fx

import (
	"context"
	"strings"
	"time"

	"chengdui"
)

// USD is the hub of cross rates and the quote of the fiat pairs.
const USD = "USD"

// Pair is a currency pair: Base priced in Quote, "BTC/USD".
type Pair struct {
	Base, Quote string
}

func (p Pair) String() string { return p.Base + "/" + p.Quote }

// Inverse returns Quote/Base.
func (p Pair) Inverse() Pair { return Pair{Base: p.Quote, Quote: p.Base} }

// ParsePair parses "BTC/USD". Ledger asset codes are reduced to their
// symbols: "USDT-ERC20/USD" is USDT/USD. Errors are EInvalid.
func ParsePair(s string) (Pair, error) {
	base, quote, ok := strings.Cut(s, "/")
	if !ok {
		return Pair{}, chengdui.Errorf(chengdui.EInvalid, "pair %q is not BASE/QUOTE", clip(s))
	}
	return newPair(base, quote)
}

func newPair(base, quote string) (Pair, error) {
	b, err := Symbol(base)
	if err != nil {
		return Pair{}, err
	}
	q, err := Symbol(quote)
	if err != nil {
		return Pair{}, err
	}
	if b == q {
		return Pair{}, chengdui.Errorf(chengdui.EInvalid, "pair %s/%s has the same base and quote", b, q)
	}
	return Pair{Base: b, Quote: q}, nil
}

// Symbol returns the market symbol of a ledger asset or currency code: the
// code without its network suffix, so USDT-ERC20 is USDT and USDC-ERC20 is
// USDC (a token is priced the same on every chain it is issued on). Symbols
// are 2 to 10 upper-case letters or digits; anything else is EInvalid.
func Symbol(code string) (string, error) {
	sym, _, _ := strings.Cut(code, "-")
	ok := len(sym) >= 2 && len(sym) <= 10
	for i := 0; ok && i < len(sym); i++ {
		c := sym[i]
		ok = c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if !ok {
		return "", chengdui.Errorf(chengdui.EInvalid, "%q is not an asset or currency code", clip(code))
	}
	return sym, nil
}

// DefaultPairs are the pairs the platform tracks: each crypto asset in USD
// and USD in each fiat currency. USDT/USD must be tracked for the exchanges
// that price in USDT (Binance, OKX) to count towards USD rates.
func DefaultPairs() []Pair {
	return []Pair{
		{"BTC", USD}, {"ETH", USD}, {"USDT", USD}, {"USDC", USD},
		{USD, "CNY"}, {USD, "EUR"}, {USD, "HKD"},
	}
}

// Rate says how many units of Quote one unit of Base is worth:
// BTC/USD 64392.23.
type Rate struct {
	Base, Quote string
	Value       Decimal // exact
	// Source names where the rate came from: an exchange, "fixed", or for
	// an aggregated rate the comma-separated sources it was made from.
	Source string
	// At is when the rate was observed: the exchange's timestamp if it
	// sends one, else when it was fetched. For an aggregated rate, the
	// oldest observation it rests on.
	At time.Time
}

// Pair returns Base/Quote.
func (r Rate) Pair() Pair { return Pair{Base: r.Base, Quote: r.Quote} }

// String prints "BTC/USD 64392.23".
func (r Rate) String() string { return r.Pair().String() + " " + r.Value.String() }

// Source is somewhere rates come from.
type Source interface {
	// Name identifies the source in rates, messages and status: "kraken".
	Name() string
	// Fetch returns the source's current rates for the pairs it can
	// serve. A rate may come back in the direction the source trades it
	// (EUR/USD for a wanted USD/EUR) or quoted in a stablecoin (BTC/USDT
	// for a wanted BTC/USD): Rates inverts and crosses them. Pairs the
	// source does not list are left out silently. A non-nil error reports
	// a failure, possibly partial: rates returned with it are still used.
	Fetch(ctx context.Context, pairs []Pair) ([]Rate, error)
}
