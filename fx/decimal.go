package fx

import (
	"bytes"
	"math/big"
	"strings"

	"chengdui"
)

// Decimal is an exact, non-negative decimal number: a coefficient and a
// count of fraction digits. Values are immutable and safe to share; the zero
// value is 0. Compare them with Cmp, not ==.
//
// Parsing, addition and multiplication are exact. Rates computes inverses
// and cross rates as exact fractions and rounds only the result, and only
// when it has no finite decimal expansion (1/7.2), to 30 significant digits.
type Decimal struct {
	coef  *big.Int // nil means 0; never mutated once the Decimal exists
	scale int32    // value = coef / 10^scale; 0 <= scale
}

// sigDigits is how many significant digits a rate with no finite decimal
// expansion keeps. Market rates carry at most a dozen; the thirtieth is
// noise either way.
const sigDigits = 30

// Limits that keep hostile input from asking for huge numbers.
const (
	maxDecimalLen = 100 // characters of a decimal string
	maxExponent   = 50  // |e| in "1.5e3"
)

var bigTen = big.NewInt(10)

// ParseDecimal parses a non-negative decimal: "64392.23", "7.2", "0.92",
// "1", or a JSON number with an exponent ("6.439223e4"). It refuses signs,
// empty parts, more than 100 characters and exponents beyond ±50. Errors are
// EInvalid.
func ParseDecimal(s string) (Decimal, error) {
	if s == "" {
		return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "decimal is empty")
	}
	if len(s) > maxDecimalLen {
		return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "decimal %q is longer than %d characters", clip(s), maxDecimalLen)
	}
	mant, exp, hasExp := strings.Cut(strings.Replace(s, "E", "e", 1), "e")
	whole, frac, hasPoint := strings.Cut(mant, ".")
	if !digits(whole) || (hasPoint && !digits(frac)) || (whole == "" && !hasPoint) {
		return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "%q is not a non-negative decimal number", clip(s))
	}
	if whole == "" && frac == "" {
		return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "%q has no digits", clip(s))
	}
	if hasPoint && (whole == "" || frac == "") {
		return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "%q needs digits on both sides of the point", clip(s))
	}
	e := 0
	if hasExp {
		sign := 1
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			if exp[0] == '-' {
				sign = -1
			}
			exp = exp[1:]
		}
		if exp == "" || !digits(exp) || len(exp) > 3 {
			return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "%q has a malformed exponent", clip(s))
		}
		for i := 0; i < len(exp); i++ {
			e = e*10 + int(exp[i]-'0')
		}
		if e > maxExponent {
			return Decimal{}, chengdui.Errorf(chengdui.EInvalid, "%q has an exponent beyond ±%d", clip(s), maxExponent)
		}
		e *= sign
	}
	coef, _ := new(big.Int).SetString(whole+frac, 10)
	scale := len(frac) - e
	if scale < 0 {
		coef.Mul(coef, pow10(-scale))
		scale = 0
	}
	return normalize(coef, scale), nil
}

// digits reports whether s is all ASCII digits ("" is).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalize drops trailing fraction zeros so that equal values have equal
// representations and strings.
func normalize(coef *big.Int, scale int) Decimal {
	if coef.Sign() == 0 {
		return Decimal{}
	}
	q, r := new(big.Int), new(big.Int)
	for scale > 0 {
		q.QuoRem(coef, bigTen, r)
		if r.Sign() != 0 {
			break
		}
		coef, q = q, coef
		scale--
	}
	return Decimal{coef: coef, scale: int32(scale)}
}

func pow10(n int) *big.Int { return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil) }

// int returns the coefficient, never nil. Callers must not modify it.
func (d Decimal) int() *big.Int {
	if d.coef == nil {
		return new(big.Int)
	}
	return d.coef
}

// String prints the exact value without exponent or trailing zeros:
// "64392.23", "0.0000155", "7".
func (d Decimal) String() string {
	s := d.int().String()
	n := int(d.scale)
	if n == 0 {
		return s
	}
	if len(s) <= n {
		s = strings.Repeat("0", n-len(s)+1) + s
	}
	return s[:len(s)-n] + "." + s[len(s)-n:]
}

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.coef == nil || d.coef.Sign() == 0 }

// Cmp compares d and e: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int {
	a, b := align(d, e)
	return a.Cmp(b)
}

// align returns both coefficients at the larger scale.
func align(d, e Decimal) (*big.Int, *big.Int) {
	a, b := d.int(), e.int()
	switch {
	case d.scale < e.scale:
		a = new(big.Int).Mul(a, pow10(int(e.scale-d.scale)))
	case e.scale < d.scale:
		b = new(big.Int).Mul(b, pow10(int(d.scale-e.scale)))
	}
	return a, b
}

func maxScale(d, e Decimal) int { return int(max(d.scale, e.scale)) }

// add returns d+e, exactly.
func (d Decimal) add(e Decimal) Decimal {
	a, b := align(d, e)
	return normalize(new(big.Int).Add(a, b), maxScale(d, e))
}

// mul returns d×e, exactly.
func (d Decimal) mul(e Decimal) Decimal {
	return normalize(new(big.Int).Mul(d.int(), e.int()), int(d.scale)+int(e.scale))
}

// half returns d/2, exactly (×5, one more fraction digit).
func (d Decimal) half() Decimal {
	return normalize(new(big.Int).Mul(d.int(), big.NewInt(5)), int(d.scale)+1)
}

// decimalOf returns a non-negative rational exactly when its decimal
// expansion is finite (its denominator has no prime factors but 2 and 5),
// else rounded half up to sigDigits significant digits.
func decimalOf(r *big.Rat) Decimal {
	num, den := r.Num(), r.Denom()
	rest, scale := new(big.Int).Set(den), 0
	for _, p := range []int64{2, 5} {
		n, m, f := 0, new(big.Int), big.NewInt(p)
		for {
			q, rem := new(big.Int).QuoRem(rest, f, m)
			if rem.Sign() != 0 {
				break
			}
			rest, n = q, n+1
		}
		scale = max(scale, n)
	}
	if rest.IsInt64() && rest.Int64() == 1 {
		coef := new(big.Int).Mul(num, pow10(scale))
		return normalize(coef.Quo(coef, den), scale)
	}
	// With t fraction digits the quotient has about len(num)-len(den)+t
	// digits; adjust t until it has exactly sigDigits, unless that would
	// need a negative t (a value of 10^30 or more keeps its integer part).
	t := max(sigDigits-(len(num.String())-len(den.String())), 0)
	for {
		q := roundedQuo(num, den, t)
		switch n := len(q.String()); {
		case n > sigDigits && t > 0:
			t--
		case n < sigDigits:
			t++
		default:
			return normalize(q, t)
		}
	}
}

// roundedQuo returns num×10^t/den rounded half up.
func roundedQuo(num, den *big.Int, t int) *big.Int {
	q, r := new(big.Int).QuoRem(new(big.Int).Mul(num, pow10(t)), den, new(big.Int))
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// rat returns d as an exact fraction.
func (d Decimal) rat() *big.Rat {
	return new(big.Rat).SetFrac(d.int(), pow10(int(d.scale)))
}

// MarshalText implements encoding.TextMarshaler: the String form, so JSON
// carries rates as strings.
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDecimal.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON accepts a JSON string ("64392.23") or a JSON number
// (64392.23), both parsed exactly: a number's text is never a float64.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return d.UnmarshalText(b)
}

// clip keeps hostile input from flooding error messages and logs.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
