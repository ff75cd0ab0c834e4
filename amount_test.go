package chengdui_test

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
	"pgregory.net/rapid"

	"chengdui"
)

// maxAmountStr is 2^128-1, the largest Amount.
const maxAmountStr = "340282366920938463463374607431768211455"

// overMaxAmountStr is 2^128, one more than the largest Amount.
const overMaxAmountStr = "340282366920938463463374607431768211456"

func mustAmount(t testing.TB, s string) chengdui.Amount {
	t.Helper()
	a, err := uint128.FromString(s)
	require.NoError(t, err)
	return a
}

func amt(v uint64) chengdui.Amount { return chengdui.Amount{Lo: v} }

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

type parseDecimalCase struct {
	name     string
	in       string
	decimals uint8
	want     string // decimal string of the expected smallest-unit count; "" when an error is expected
	code     string // expected error code; "" when success is expected
}

var parseDecimalCases = []parseDecimalCase{
	// Successes.
	{name: "one wei", in: "0.000000000000000001", decimals: 18, want: "1"},
	{name: "one btc", in: "1", decimals: 8, want: "100000000"},
	{name: "one and a half", in: "1.5", decimals: 2, want: "150"},
	{name: "leading point", in: ".5", decimals: 1, want: "5"},
	{name: "leading zeros", in: "007", decimals: 0, want: "7"},
	{name: "zero", in: "0", decimals: 0, want: "0"},
	{name: "zero with decimals", in: "0", decimals: 18, want: "0"},
	{name: "zero point zero", in: "0.0", decimals: 1, want: "0"},
	{name: "zero point zero wide", in: "0.0", decimals: 18, want: "0"},
	{name: "many zeros", in: "0000.0000", decimals: 38, want: "0"},
	{name: "fewer fraction digits than decimals", in: "1.5", decimals: 8, want: "150000000"},
	{name: "exact fraction digits", in: "1.23456789", decimals: 8, want: "123456789"},
	{name: "trailing fraction zeros", in: "1.10", decimals: 2, want: "110"},
	{name: "1e30 wei", in: "1000000000000", decimals: 18, want: "1000000000000000000000000000000"},
	{name: "max", in: maxAmountStr, decimals: 0, want: maxAmountStr},
	{name: "max with leading zeros", in: "000" + maxAmountStr, decimals: 0, want: maxAmountStr},
	{name: "max with 2 decimals", in: "3402823669209384634633746074317682114.55", decimals: 2, want: maxAmountStr},
	{name: "max with 38 decimals", in: "3.40282366920938463463374607431768211455", decimals: 38, want: maxAmountStr},
	{name: "one unit at 38 decimals", in: "1", decimals: 38, want: "1" + strings.Repeat("0", 38)},
	{name: "three units at 38 decimals", in: "3", decimals: 38, want: "3" + strings.Repeat("0", 38)},
	{name: "smallest unit at 38 decimals", in: "0." + strings.Repeat("0", 37) + "1", decimals: 38, want: "1"},
	{name: "max uint64", in: "18446744073709551615", decimals: 0, want: "18446744073709551615"},
	{name: "max uint64 plus one", in: "18446744073709551616", decimals: 0, want: "18446744073709551616"},

	// Refusals.
	{name: "too many decimals", in: "0.001", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "too many decimals zero", in: "0.000", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "any fraction with zero decimals", in: "1.0", decimals: 0, code: chengdui.EInvalidAmount},
	{name: "negative", in: "-1", decimals: 0, code: chengdui.EInvalidAmount},
	{name: "negative zero", in: "-0", decimals: 0, code: chengdui.EInvalidAmount},
	{name: "negative fraction", in: "-0.5", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "overflow", in: overMaxAmountStr, decimals: 0, code: chengdui.EInvalidAmount},
	{name: "overflow 40 digits", in: "1" + strings.Repeat("0", 39), decimals: 0, code: chengdui.EInvalidAmount},
	{name: "overflow with 2 decimals", in: "3402823669209384634633746074317682114.56", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "overflow by scaling", in: "3402823669209384634633746074317682115", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "overflow at 38 decimals", in: "4", decimals: 38, code: chengdui.EInvalidAmount},
	{name: "overflow at 38 decimals by one", in: "3.40282366920938463463374607431768211456", decimals: 38, code: chengdui.EInvalidAmount},
	{name: "overflow huge", in: strings.Repeat("9", 1000), decimals: 0, code: chengdui.EInvalidAmount},
	{name: "garbage", in: "abc", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "exponent", in: "1e5", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "exponent upper", in: "1E5", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "comma", in: "1,5", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "leading space", in: " 1", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "trailing space", in: "1 ", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "trailing newline", in: "1\n", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "trailing point", in: "1.", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "lone point", in: ".", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "empty", in: "", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "plus sign", in: "+1", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "hex", in: "0x10", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "two points", in: "1.2.3", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "two points adjacent", in: "1..2", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "fullwidth digit", in: "１", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "arabic-indic digit", in: "٣", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "underscore separator", in: "1_000", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "infinity", in: "Inf", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "nan", in: "NaN", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "nul byte", in: "1\x00", decimals: 2, code: chengdui.EInvalidAmount},
	{name: "invalid utf8", in: "1\xff", decimals: 2, code: chengdui.EInvalidAmount},

	// Asset decimals out of range: the asset, not the amount, is invalid.
	{name: "decimals 39", in: "1", decimals: 39, code: chengdui.EInvalid},
	{name: "decimals 255", in: "1", decimals: 255, code: chengdui.EInvalid},
	{name: "decimals 39 with bad amount", in: "abc", decimals: 39, code: chengdui.EInvalid},
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range parseDecimalCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chengdui.ParseDecimal(tc.in, tc.decimals)
			if tc.code != "" {
				require.Error(t, err)
				require.Equal(t, tc.code, chengdui.ErrorCode(err), "error: %v", err)
				var e *chengdui.Error
				require.ErrorAs(t, err, &e)
				require.NotEmpty(t, e.Message)
				require.True(t, got.IsZero(), "a refused amount must be zero, got %s", got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, mustAmount(t, tc.want), got, "got %s", got)

			// FormatDecimal round-trips exactly.
			s := chengdui.FormatDecimal(got, tc.decimals)
			back, err := chengdui.ParseDecimal(s, tc.decimals)
			require.NoError(t, err, "re-parsing %q", s)
			require.Equal(t, got, back)
		})
	}
}

func TestParseDecimal1e30Wei(t *testing.T) {
	got, err := chengdui.ParseDecimal("1000000000000", 18)
	require.NoError(t, err)
	require.Equal(t, 0, got.Big().Cmp(pow10(30)))
	s := chengdui.FormatDecimal(got, 18)
	require.Equal(t, "1000000000000."+strings.Repeat("0", 18), s)
	back, err := chengdui.ParseDecimal(s, 18)
	require.NoError(t, err)
	require.Equal(t, got, back)
}

func TestParseDecimalEveryDecimals(t *testing.T) {
	// One whole unit is representable at every allowed decimals.
	for d := 0; d <= chengdui.MaxDecimals; d++ {
		got, err := chengdui.ParseDecimal("1", uint8(d))
		require.NoError(t, err, "decimals %d", d)
		require.Equal(t, 0, got.Big().Cmp(pow10(d)), "decimals %d", d)
		require.Equal(t, got, mustParse(t, chengdui.FormatDecimal(got, uint8(d)), uint8(d)))
	}
}

func mustParse(t testing.TB, s string, d uint8) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseDecimal(s, d)
	require.NoError(t, err, "ParseDecimal(%q, %d)", s, d)
	return a
}

func TestParseDecimalClipsHostileInput(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("x", 100000),
		strings.Repeat("9", 100000),
		"-" + strings.Repeat("1", 100000),
		"0." + strings.Repeat("1", 100000),
		strings.Repeat("１", 1000),
	} {
		_, err := chengdui.ParseDecimal(in, 2)
		require.Error(t, err)
		require.Equal(t, chengdui.EInvalidAmount, chengdui.ErrorCode(err))
		require.Less(t, len(err.Error()), 400, "error message should be clipped")
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		a        chengdui.Amount
		decimals uint8
		want     string
	}{
		{amt(1), 8, "0.00000001"},
		{amt(0), 2, "0.00"},
		{amt(0), 0, "0"},
		{amt(0), 1, "0.0"},
		{amt(123), 0, "123"},
		{amt(123), 1, "12.3"},
		{amt(123), 2, "1.23"},
		{amt(123), 3, "0.123"},
		{amt(123), 4, "0.0123"},
		{amt(100000000), 8, "1.00000000"},
		{amt(150), 2, "1.50"},
		{amt(1), 18, "0.000000000000000001"},
		{amt(1), 38, "0." + strings.Repeat("0", 37) + "1"},
		{amt(math.MaxUint64), 0, "18446744073709551615"},
		{amt(math.MaxUint64), 19, "1.8446744073709551615"},
		{amt(math.MaxUint64), 20, "0.18446744073709551615"},
		{chengdui.Amount{Hi: 1}, 0, "18446744073709551616"},
		{uint128.Max, 0, maxAmountStr},
		{uint128.Max, 2, "3402823669209384634633746074317682114.55"},
		{uint128.Max, 18, "340282366920938463463.374607431768211455"},
		{uint128.Max, 38, "3.40282366920938463463374607431768211455"},
		{uint128.FromBig(pow10(30)), 18, "1000000000000.000000000000000000"},
		{uint128.FromBig(pow10(38)), 38, "1." + strings.Repeat("0", 38)},
	}
	for _, tc := range tests {
		got := chengdui.FormatDecimal(tc.a, tc.decimals)
		require.Equal(t, tc.want, got, "FormatDecimal(%s, %d)", tc.a, tc.decimals)
		require.Equal(t, tc.a, mustParse(t, got, tc.decimals))
	}
}

func TestParseUnits(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when an error is expected
	}{
		{"0", "0"},
		{"1", "1"},
		{"000", "0"},
		{"007", "7"},
		{"1000000000000000000", "1000000000000000000"},
		{"18446744073709551615", "18446744073709551615"},
		{"18446744073709551616", "18446744073709551616"},
		{maxAmountStr, maxAmountStr},
		{strings.Repeat("0", 200) + maxAmountStr, maxAmountStr},
		{overMaxAmountStr, ""},
		{"1" + strings.Repeat("0", 39), ""},
		{strings.Repeat("9", 1000), ""},
		{"", ""},
		{"-1", ""},
		{"+1", ""},
		{"1.0", ""},
		{"1.", ""},
		{".1", ""},
		{"1e3", ""},
		{"0x10", ""},
		{"1_000", ""},
		{" 1", ""},
		{"1 ", ""},
		{"abc", ""},
		{"１", ""},
		{"1\x00", ""},
	}
	for _, tc := range tests {
		got, err := chengdui.ParseUnits(tc.in)
		name := tc.in
		if len(name) > 50 {
			name = name[:50] + "..."
		}
		if tc.want == "" {
			require.Error(t, err, "ParseUnits(%q)", name)
			require.Equal(t, chengdui.EInvalidAmount, chengdui.ErrorCode(err), "ParseUnits(%q): %v", name, err)
			require.True(t, got.IsZero())
			require.Less(t, len(err.Error()), 400, "error message should be clipped")
			continue
		}
		require.NoError(t, err, "ParseUnits(%q)", name)
		require.Equal(t, mustAmount(t, tc.want), got, "ParseUnits(%q)", name)
		require.Equal(t, got, mustParse(t, got.String(), 0))
	}
}

func TestAddAmounts(t *testing.T) {
	tests := []struct {
		a, b chengdui.Amount
		want chengdui.Amount
		ok   bool
	}{
		{amt(0), amt(0), amt(0), true},
		{amt(1), amt(2), amt(3), true},
		{amt(math.MaxUint64), amt(1), chengdui.Amount{Hi: 1}, true},
		{uint128.Max, amt(0), uint128.Max, true},
		{amt(0), uint128.Max, uint128.Max, true},
		{uint128.Max.Sub64(1), amt(1), uint128.Max, true},
		{uint128.Max, amt(1), chengdui.Amount{}, false},
		{amt(1), uint128.Max, chengdui.Amount{}, false},
		{uint128.Max, uint128.Max, chengdui.Amount{}, false},
		{chengdui.Amount{Hi: 1 << 63}, chengdui.Amount{Hi: 1 << 63}, chengdui.Amount{}, false},
	}
	for _, tc := range tests {
		got, ok := chengdui.AddAmounts(tc.a, tc.b)
		require.Equal(t, tc.ok, ok, "AddAmounts(%s, %s)", tc.a, tc.b)
		if tc.ok {
			require.Equal(t, tc.want, got, "AddAmounts(%s, %s)", tc.a, tc.b)
		}
	}
}

func TestSubAmounts(t *testing.T) {
	tests := []struct {
		a, b chengdui.Amount
		want chengdui.Amount
		ok   bool
	}{
		{amt(0), amt(0), amt(0), true},
		{amt(3), amt(2), amt(1), true},
		{amt(3), amt(3), amt(0), true},
		{chengdui.Amount{Hi: 1}, amt(1), amt(math.MaxUint64), true},
		{uint128.Max, uint128.Max, amt(0), true},
		{uint128.Max, amt(0), uint128.Max, true},
		{amt(0), amt(1), chengdui.Amount{}, false},
		{amt(2), amt(3), chengdui.Amount{}, false},
		{amt(math.MaxUint64), chengdui.Amount{Hi: 1}, chengdui.Amount{}, false},
		{amt(0), uint128.Max, chengdui.Amount{}, false},
	}
	for _, tc := range tests {
		got, ok := chengdui.SubAmounts(tc.a, tc.b)
		require.Equal(t, tc.ok, ok, "SubAmounts(%s, %s)", tc.a, tc.b)
		require.Equal(t, tc.want, got, "SubAmounts(%s, %s)", tc.a, tc.b)
	}
}

var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

func drawAmount(t *rapid.T, label string) chengdui.Amount {
	return chengdui.Amount{
		Lo: rapid.Uint64().Draw(t, label+".lo"),
		Hi: rapid.Uint64().Draw(t, label+".hi"),
	}
}

func TestAddSubAmountsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := drawAmount(t, "a"), drawAmount(t, "b")

		sum, ok := chengdui.AddAmounts(a, b)
		want := new(big.Int).Add(a.Big(), b.Big())
		if want.Cmp(two128) < 0 {
			if !ok || sum.Big().Cmp(want) != 0 {
				t.Fatalf("AddAmounts(%s, %s) = %s, %v; want %s, true", a, b, sum, ok, want)
			}
		} else if ok {
			t.Fatalf("AddAmounts(%s, %s) = %s, true; want overflow", a, b, sum)
		}

		diff, ok := chengdui.SubAmounts(a, b)
		want = new(big.Int).Sub(a.Big(), b.Big())
		if want.Sign() >= 0 {
			if !ok || diff.Big().Cmp(want) != 0 {
				t.Fatalf("SubAmounts(%s, %s) = %s, %v; want %s, true", a, b, diff, ok, want)
			}
		} else if ok {
			t.Fatalf("SubAmounts(%s, %s) = %s, true; want underflow", a, b, diff)
		}
	})
}

func TestFormatParseRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := drawAmount(t, "a")
		d := rapid.Uint8Range(0, chengdui.MaxDecimals).Draw(t, "decimals")

		s := chengdui.FormatDecimal(a, d)
		got, err := chengdui.ParseDecimal(s, d)
		if err != nil {
			t.Fatalf("ParseDecimal(FormatDecimal(%s, %d) = %q): %v", a, d, s, err)
		}
		if got != a {
			t.Fatalf("ParseDecimal(%q, %d) = %s; want %s", s, d, got, a)
		}

		// The text has exactly d fraction digits and no superfluous zeros
		// in front.
		whole, frac, hasPoint := strings.Cut(s, ".")
		if hasPoint != (d > 0) || len(frac) != int(d) {
			t.Fatalf("FormatDecimal(%s, %d) = %q: want exactly %d fraction digits", a, d, s, d)
		}
		if whole == "" || (len(whole) > 1 && whole[0] == '0') {
			t.Fatalf("FormatDecimal(%s, %d) = %q: bad whole part", a, d, s)
		}

		// ParseUnits of the plain integer also round-trips.
		u, err := chengdui.ParseUnits(a.String())
		if err != nil || u != a {
			t.Fatalf("ParseUnits(%q) = %s, %v; want %s", a.String(), u, err, a)
		}
	})
}

var plainDecimal = regexp.MustCompile(`^[0-9]*\.?[0-9]*$`)

// acceptable reports whether ParseDecimal(s, d) must succeed, per its
// documented contract, and the expected amount when it must.
func acceptable(s string, d uint8) (*big.Int, bool) {
	if !plainDecimal.MatchString(s) {
		return nil, false
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return nil, false // no digits
	}
	if hasPoint && frac == "" {
		return nil, false // trailing point
	}
	if len(frac) > int(d) {
		return nil, false // more fraction digits than the asset has
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, false
	}
	r.Mul(r, new(big.Rat).SetInt(pow10(int(d))))
	if !r.IsInt() {
		return nil, false
	}
	n := r.Num()
	if n.Cmp(two128) >= 0 {
		return nil, false // overflow
	}
	return n, true
}

func FuzzParseDecimal(f *testing.F) {
	for _, tc := range parseDecimalCases {
		f.Add(tc.in, tc.decimals)
	}
	f.Add("1.5", uint8(200))
	f.Add(maxAmountStr, uint8(38))

	f.Fuzz(func(t *testing.T, s string, rawDecimals uint8) {
		d := rawDecimals % (chengdui.MaxDecimals + 1)

		got, err := chengdui.ParseDecimal(s, d)
		want, mustSucceed := acceptable(s, d)

		if err != nil {
			var e *chengdui.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseDecimal(%q, %d): error %T is not *chengdui.Error: %v", s, d, err, err)
			}
			if e.Code != chengdui.EInvalidAmount {
				t.Fatalf("ParseDecimal(%q, %d): code %q, want %q", s, d, e.Code, chengdui.EInvalidAmount)
			}
			if e.Message == "" {
				t.Fatalf("ParseDecimal(%q, %d): empty message", s, d)
			}
			if !got.IsZero() {
				t.Fatalf("ParseDecimal(%q, %d): non-zero amount %s with error", s, d, got)
			}
			if mustSucceed {
				t.Fatalf("ParseDecimal(%q, %d) refused a valid amount (%s): %v", s, d, want, err)
			}
			return
		}

		if !plainDecimal.MatchString(s) {
			t.Fatalf("ParseDecimal(%q, %d) = %s; accepted a non-decimal string", s, d, got)
		}
		if !mustSucceed {
			t.Fatalf("ParseDecimal(%q, %d) = %s; want a refusal", s, d, got)
		}
		if got.Big().Cmp(want) != 0 {
			t.Fatalf("ParseDecimal(%q, %d) = %s; want %s", s, d, got, want)
		}

		text := chengdui.FormatDecimal(got, d)
		back, err := chengdui.ParseDecimal(text, d)
		if err != nil {
			t.Fatalf("ParseDecimal(FormatDecimal(%s, %d) = %q): %v", got, d, text, err)
		}
		if back != got {
			t.Fatalf("ParseDecimal(%q, %d) = %s; want %s", text, d, back, got)
		}
	})
}
