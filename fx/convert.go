package fx

import (
	"math/big"

	"chengdui"

	"lukechampine.com/uint128"
)

// Convert returns how many smallest units of an asset a price is worth at a
// rate given in price currency per whole unit of the asset (a BTC/CNY rate
// converts fen to satoshi):
//
//	due = ⌊ price / 10^priceDecimals / rate × 10^assetDecimals ⌋
//
// It rounds down: the payer never pays more than the exact amount, and the
// platform gives up less than one smallest unit. The arithmetic is exact
// integer arithmetic; no float is involved.
//
// Errors: EInvalid for a zero rate or decimals beyond chengdui.MaxDecimals,
// EOverflow when the result does not fit in an Amount.
func Convert(price chengdui.Amount, priceDecimals uint8, rate Decimal, assetDecimals uint8) (chengdui.Amount, error) {
	if err := checkConversion(rate, priceDecimals, assetDecimals); err != nil {
		return chengdui.Amount{}, err
	}
	num := new(big.Int).Mul(price.Big(), pow10(int(rate.scale)+int(assetDecimals)))
	den := new(big.Int).Mul(rate.int(), pow10(int(priceDecimals)))
	return toAmount(num.Quo(num, den))
}

// ConvertBack is the reverse of Convert: the value, in smallest units of the
// price currency, of an amount of an asset at a rate in price currency per
// whole asset unit. It rounds down too, so an amount Convert returned never
// converts back to more than the price it came from. Use it to display what
// a payment is worth; decide whether an invoice is paid in asset units.
//
// Errors: as Convert.
func ConvertBack(amount chengdui.Amount, assetDecimals uint8, rate Decimal, priceDecimals uint8) (chengdui.Amount, error) {
	if err := checkConversion(rate, priceDecimals, assetDecimals); err != nil {
		return chengdui.Amount{}, err
	}
	num := new(big.Int).Mul(amount.Big(), rate.int())
	num.Mul(num, pow10(int(priceDecimals)))
	den := pow10(int(rate.scale) + int(assetDecimals))
	return toAmount(num.Quo(num, den))
}

func checkConversion(rate Decimal, priceDecimals, assetDecimals uint8) error {
	if rate.IsZero() {
		return chengdui.Errorf(chengdui.EInvalid, "rate is zero")
	}
	if priceDecimals > chengdui.MaxDecimals || assetDecimals > chengdui.MaxDecimals {
		return chengdui.Errorf(chengdui.EInvalid, "decimals %d and %d: at most %d", priceDecimals, assetDecimals, chengdui.MaxDecimals)
	}
	return nil
}

func toAmount(b *big.Int) (chengdui.Amount, error) {
	if b.BitLen() > 128 {
		return chengdui.Amount{}, chengdui.Errorf(chengdui.EOverflow, "converted amount %s overflows 128 bits", clip(b.String()))
	}
	return uint128.FromBig(b), nil
}
