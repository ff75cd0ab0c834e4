// Package fx turns prices into amounts due: exchange rates from several
// sources, and quotes with a spread and an expiry.
//
// # Sources
//
// A Source returns rates for the pairs it can price. Four read exchanges'
// public tickers — Kraken, Coinbase, Binance, OKX — and Fixed serves a
// table for development. Each exchange adapter takes a base URL and an
// *http.Client, maps our symbols to the exchange's (XXBTZUSD, BTCUSDT,
// BTC-USDT) and labels every rate with the market it was read from:
//
//   - Kraken: midpoint of best ask and bid; BTC, ETH, USDT, USDC in USD; EUR.
//   - Coinbase: Coinbase's reference rate; every pair, fiat included. It is
//     the exchange source of USD/CNY, USD/EUR and USD/HKD.
//   - Binance: last trade price; crypto in USDT, some in EUR.
//   - OKX: midpoint of best ask and bid, at OKX's timestamp; crypto in USDT.
//
// Binance and OKX have no USD markets. Their BTC/USDT is reported as
// BTC/USDT, never as BTC/USD: USDT is not assumed to be worth a dollar.
//
// Ledger asset codes are priced by symbol: USDT-ERC20 is USDT (Symbol).
// Prices from exchanges are parsed exactly from their decimal text, whether
// the JSON carries a string or a number; no float64 is ever involved.
//
// # Health and the median
//
// Rates fetches every source concurrently (Refresh, or Start every
// Interval) and keeps each source's latest rate per pair. A rate counts
// while it is at most MaxAge old (2 minutes by default); a source that stops
// answering simply goes stale. For each pair, Rates takes every source's
// fresh view of it:
//
//   - the source's rate of the pair, or the inverse of its rate of the
//     inverse pair (Kraken's EUR/USD answers USD/EUR);
//   - for a source that prices the base only in USDT, base/USDT × the
//     median USDT/quote of the sources that price USDT directly (Kraken and
//     Coinbase quote USDT/USD, which is why DefaultPairs tracks it).
//
// If the highest view exceeds the lowest by more than MaxSpreadBps (1 % by
// default), the pair is refused with EUnavailable naming every source and
// its value: something is wrong and no one should be quoted. Otherwise the
// rate is the median of the views (the mean of the middle two for an even
// count). With no fresh view at all, the pair is EUnavailable too.
//
// # Cross rates
//
// Rates answers for the tracked pairs (Config.Pairs), their inverses, and
// crosses through USD: BTC/CNY = BTC/USD × USD/CNY when BTC/USD and USD/CNY
// are tracked. Each leg is checked for freshness and agreement on its own.
//
// # Exactness
//
// A Decimal is exact. Sums, products and midpoints are exact; only an
// inverse rounds, to 30 significant digits, far beyond any market's
// precision. Rates cross package boundaries as strings (Decimal.String,
// Quote.Rate), which parse back to the same value.
//
// # Spread direction
//
// A store's spread (SpreadBps) is taken off the rate the price is
// converted at: effective = rate × (1 − SpreadBps/10000). A lower rate
// means more asset per unit of price, so the payer pays more: a 100.00 CNY
// invoice at 432,000 CNY/BTC is 23,148 satoshi at the mid rate and 23,264
// with a 0.5 % spread.
//
// # Rounding
//
// Rounding is always in the platform's disfavour by at most one smallest
// unit. Convert rounds the amount due down: the payer never pays more than
// the exact amount, and the platform absorbs less than one satoshi, wei or
// token unit. ConvertBack rounds down too, so the amount due never displays
// as worth more than the price. Both are exact integer arithmetic.
package fx
