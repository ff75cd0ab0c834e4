package fx

import (
	"math/big"
	"time"

	"chengdui"
)

// DefaultTTL is how long a quote holds when the request does not say.
const DefaultTTL = 15 * time.Minute

// maxSpreadBps keeps the effective rate positive: a spread of 100 % would
// make the asset worthless.
const maxSpreadBps = 9999

// QuoteRequest asks what an invoice's price comes to in an asset.
type QuoteRequest struct {
	Price            chengdui.Amount // in smallest units of Currency: fen, cents
	Currency         string          // the invoice currency: CNY, USD…
	CurrencyDecimals uint8           // 2 for CNY and USD
	Asset            string          // the ledger asset paid: BTC, USDT-ERC20…
	AssetDecimals    uint8           // 8 for BTC, 6 for USDT-ERC20
	SpreadBps        uint32          // the store's spread: 50 is 0.5 %
	TTL              time.Duration   // how long the quote holds; 0 is DefaultTTL
}

// Quote is a price converted into an asset at a locked rate.
type Quote struct {
	Asset    string // as requested: USDT-ERC20
	Currency string
	// Rate is the mid rate, Currency per whole unit of Asset, an exact
	// decimal: "466393.9" for BTC in CNY.
	Rate string
	// EffectiveRate is Rate × (1 − SpreadBps/10000), exact; Due is
	// Convert(Price, CurrencyDecimals, EffectiveRate, AssetDecimals).
	EffectiveRate string
	Sources       []string // the sources Rate rests on
	SpreadBps     uint32
	Price         chengdui.Amount // smallest units of Currency
	Due           chengdui.Amount // smallest units of Asset, rounded down
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Quote converts a price into the asset due for it at the current rate of
// Asset in Currency, less the store's spread. The spread lowers the rate at
// which the price is converted, so the payer pays more asset than at the
// mid rate: with a 0.5 % spread and BTC at 400,000 CNY, the price is
// converted at 398,000 CNY per BTC. Due is rounded down to the asset's
// smallest unit (see Convert); recomputing it from EffectiveRate gives the
// same amount.
//
// Errors: EInvalid for a zero price, a malformed or untracked asset or
// currency, decimals beyond chengdui.MaxDecimals, a spread of 100 % or more,
// a negative TTL, or a price worth less than one smallest unit of the
// asset; EOverflow when Due does not fit in an Amount; EUnavailable as Rate.
func (r *Rates) Quote(req QuoteRequest) (Quote, error) {
	switch {
	case req.Price.IsZero():
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "price is zero")
	case req.CurrencyDecimals > chengdui.MaxDecimals || req.AssetDecimals > chengdui.MaxDecimals:
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "decimals %d and %d: at most %d", req.CurrencyDecimals, req.AssetDecimals, chengdui.MaxDecimals)
	case req.SpreadBps > maxSpreadBps:
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "spread of %d basis points: at most %d", req.SpreadBps, maxSpreadBps)
	case req.TTL < 0:
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "quote lifetime is negative")
	}
	rate, _, err := r.rate(req.Asset, req.Currency)
	if err != nil {
		return Quote{}, err
	}
	mid := decimalOf(rate.value)
	effective := mid.mul(Decimal{coef: big.NewInt(10000 - int64(req.SpreadBps)), scale: 4})
	due, err := Convert(req.Price, req.CurrencyDecimals, effective, req.AssetDecimals)
	if err != nil {
		return Quote{}, err
	}
	if due.IsZero() {
		return Quote{}, chengdui.Errorf(chengdui.EInvalid, "a price of %s %s is less than one smallest unit of %s",
			chengdui.FormatDecimal(req.Price, req.CurrencyDecimals), req.Currency, req.Asset)
	}
	now := r.cfg.Now()
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	return Quote{
		Asset:         req.Asset,
		Currency:      req.Currency,
		Rate:          mid.String(),
		EffectiveRate: effective.String(),
		Sources:       rate.sources,
		SpreadBps:     req.SpreadBps,
		Price:         req.Price,
		Due:           due,
		CreatedAt:     now,
		ExpiresAt:     now.Add(ttl),
	}, nil
}
