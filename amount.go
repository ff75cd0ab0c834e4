package chengdui

import (
	"math/big"
	"strings"

	"lukechampine.com/uint128"
)

// Amount is an exact quantity in an asset's smallest unit (satoshi, wei,
// token base unit, fen). 128 bits hold 3.4e38, far above the supply of any
// 18-decimal token. Amounts are never floats.
type Amount = uint128.Uint128

// MaxDecimals is the most decimals an asset may have: 10^38 still fits in an
// Amount, so one whole unit is always representable.
const MaxDecimals = 38

// AddAmounts returns a+b, or ok=false when the sum does not fit in 128 bits.
func AddAmounts(a, b Amount) (sum Amount, ok bool) {
	sum = a.AddWrap(b)
	return sum, sum.Cmp(a) >= 0
}

// SubAmounts returns a-b, or ok=false when b > a.
func SubAmounts(a, b Amount) (diff Amount, ok bool) {
	if a.Cmp(b) < 0 {
		return Amount{}, false
	}
	return a.SubWrap(b), true
}

// ParseUnits parses an integer count of smallest units ("1000000000000000000").
func ParseUnits(s string) (Amount, error) {
	if s == "" {
		return Amount{}, Errorf(EInvalidAmount, "amount is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return Amount{}, Errorf(EInvalidAmount, "amount %q is not a whole number of smallest units", clip(s))
		}
	}
	b, _ := new(big.Int).SetString(s, 10)
	if b.BitLen() > 128 {
		return Amount{}, Errorf(EInvalidAmount, "amount %q overflows 128 bits", clip(s))
	}
	return uint128.FromBig(b), nil
}

// ParseDecimal parses a decimal string in whole units of an asset with the
// given decimals into smallest units: ParseDecimal("0.000000000000000001", 18)
// is 1 wei. It refuses negatives, exponents, more fraction digits than the
// asset has, overflow and anything else that is not plain digits with at most
// one point.
func ParseDecimal(s string, decimals uint8) (Amount, error) {
	if decimals > MaxDecimals {
		return Amount{}, Errorf(EInvalid, "asset decimals %d exceed %d", decimals, MaxDecimals)
	}
	if s == "" {
		return Amount{}, Errorf(EInvalidAmount, "amount is empty")
	}
	if s[0] == '-' {
		return Amount{}, Errorf(EInvalidAmount, "amount %q is negative", clip(s))
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return Amount{}, Errorf(EInvalidAmount, "amount %q has no digits", clip(s))
	}
	if hasPoint && frac == "" {
		return Amount{}, Errorf(EInvalidAmount, "amount %q ends with a point", clip(s))
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return Amount{}, Errorf(EInvalidAmount, "amount %q is not a decimal number", clip(s))
			}
		}
	}
	if len(frac) > int(decimals) {
		return Amount{}, Errorf(EInvalidAmount, "amount %q has %d decimals; the asset has %d", clip(s), len(frac), decimals)
	}
	digits := whole + frac + strings.Repeat("0", int(decimals)-len(frac))
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return Amount{}, nil
	}
	if len(digits) > 39 {
		return Amount{}, Errorf(EInvalidAmount, "amount %q overflows 128 bits", clip(s))
	}
	return ParseUnits(digits)
}

// FormatDecimal prints an amount of smallest units in whole units with
// exactly the asset's decimals: FormatDecimal(1, 8) is "0.00000001".
func FormatDecimal(a Amount, decimals uint8) string {
	s := a.String()
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	return s[:len(s)-d] + "." + s[len(s)-d:]
}

// clip keeps hostile input from flooding error messages and logs.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
