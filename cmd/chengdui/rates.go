package main

import (
	"context"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"chengdui"
	"chengdui/fx"
	"chengdui/invoice"

	"lukechampine.com/uint128"
)

// fxQuoter adapts fx.Rates to invoice.Quoter.
type fxQuoter struct{ rates *fx.Rates }

// Quote implements invoice.Quoter. A top-up invoice (price zero) still
// locks a rate: it is quoted for one whole unit of the currency and its
// due amount is zero.
func (q fxQuoter) Quote(_ context.Context, price chengdui.Amount, currency string, cd uint8, asset string, ad uint8, spreadBps uint32) (invoice.Quote, error) {
	topUp := price.IsZero()
	if topUp {
		price = uint128.FromBig(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cd)), nil))
	}
	fq, err := q.rates.Quote(fx.QuoteRequest{Price: price, Currency: currency, CurrencyDecimals: cd, Asset: asset, AssetDecimals: ad, SpreadBps: spreadBps})
	if err != nil {
		return invoice.Quote{}, err
	}
	out := invoice.Quote{Rate: fq.EffectiveRate, Sources: fq.Sources, SpreadBps: fq.SpreadBps, Due: fq.Due}
	if topUp {
		out.Due = chengdui.Amount{}
	}
	return out, nil
}

// startRates starts a rate aggregator over sources, fetching once before
// it returns so the first invoice has a rate.
func startRates(ctx context.Context, sources []fx.Source, log *slog.Logger) (invoice.Quoter, func(), error) {
	r, err := fx.NewRates(fx.Config{Sources: sources, Pairs: fx.DefaultPairs(), Logger: log})
	if err != nil {
		return nil, nil, err
	}
	if err := r.Refresh(ctx); err != nil {
		// Exchanges may be briefly down: invoices are refused until a
		// rate is healthy, the server still starts.
		log.Warn("rates: first fetch failed; invoices are refused until a source answers", "err", err)
	}
	if err := r.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, nil, err
	}
	return fxQuoter{r}, r.Stop, nil
}

// devRates are dev's fixed rates (prices cannot be live here).
func devRates(ctx context.Context, log *slog.Logger) (invoice.Quoter, func(), error) {
	f, err := fx.NewFixed(fx.DevRates())
	if err != nil {
		return nil, nil, err
	}
	return startRates(ctx, []fx.Source{f}, log)
}

// exchangeRates are serve's default sources: four exchanges' public
// tickers, the median of the healthy ones.
func exchangeRates(ctx context.Context, log *slog.Logger) (invoice.Quoter, func(), error) {
	client := &http.Client{Timeout: 10 * time.Second}
	return startRates(ctx, []fx.Source{fx.NewKraken(fx.KrakenURL, client), fx.NewCoinbase(fx.CoinbaseURL, client),
		fx.NewBinance(fx.BinanceURL, client), fx.NewOKX(fx.OKXURL, client)}, log)
}
