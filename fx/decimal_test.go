package fx

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"chengdui"

	"github.com/stretchr/testify/require"
)

func dec(t testing.TB, s string) Decimal {
	t.Helper()
	d, err := ParseDecimal(s)
	require.NoError(t, err)
	return d
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"64392.23", "64392.23"},
		{"64392.23000000", "64392.23"},
		{"0.0000155298", "0.0000155298"},
		{"7", "7"},
		{"007.20", "7.2"},
		{"0", "0"},
		{"0.000", "0"},
		{"6.439223e4", "64392.23"},
		{"6.439223E+4", "64392.23"},
		{"1e-8", "0.00000001"},
		{"15e2", "1500"},
		{"1e50", "1" + strings.Repeat("0", 50)},
		{"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, dec(t, tc.in).String())
		})
	}
}

func TestParseDecimalRefuses(t *testing.T) {
	for _, in := range []string{
		"", "-1", "+1", "1.", ".5", ".", "1,5", "64,392.3", "1.2.3", "0x10", "1e", "1e+", "e5", "1e51", "1e-51",
		"1e1000", "1e5e3", " 1", "1 ", "NaN", "Inf", "1_000", "١", strings.Repeat("1", 101),
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseDecimal(in)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
		})
	}
}

// inv is 1/d through decimalOf.
func (d Decimal) inv() Decimal { return decimalOf(new(big.Rat).Inv(d.rat())) }

func TestDecimalOf(t *testing.T) {
	for _, tc := range []struct {
		num, den int64
		want     string
	}{
		{1, 2, "0.5"},
		{1, 3, "0.333333333333333333333333333333"},
		{2, 3, "0.666666666666666666666666666667"},
		{1, 1024, "0.0009765625"},
		{7, 40, "0.175"},
		{1000000, 3, "333333.333333333333333333333333"},
		{0, 1, "0"},
		{1, 7 * 1024, "0.000139508928571428571428571428571"},
	} {
		require.Equal(t, tc.want, decimalOf(big.NewRat(tc.num, tc.den)).String(), "%d/%d", tc.num, tc.den)
	}
	huge, _ := new(big.Rat).SetString("10000000000000000000000000000000000000000/3")
	require.Equal(t, "3333333333333333333333333333333333333333", decimalOf(huge).String(), "the integer part is kept")
	nines, _ := new(big.Rat).SetString("9999999999999999999999999999999/10000000000000000000000000000000000007")
	require.Equal(t, "0.000001", decimalOf(nines).String(), "rounding carries into a new digit")
}

func TestDecimalArithmetic(t *testing.T) {
	require.Equal(t, "463624.056", dec(t, "64392.23").mul(dec(t, "7.2")).String())
	require.Equal(t, "64392.25", dec(t, "64392.3").add(dec(t, "64392.2")).half().String())
	require.Equal(t, "0.5", dec(t, "2").inv().String())
	require.Equal(t, "0.138888888888888888888888888889", dec(t, "7.2").inv().String(), "30 significant digits, rounded half up")
	require.Equal(t, "0.0000155298240175872151034371693603", dec(t, "64392.23").inv().String())
	require.Equal(t, "100000000000000000000", dec(t, "0.00000000000000000001").inv().String())
	require.Equal(t, "1.08505", dec(t, "1.08505").inv().inv().String(), "an inverse inverts back at a market rate's precision")
	require.Equal(t, -1, dec(t, "0.92").Cmp(dec(t, "1")))
	require.Equal(t, 0, dec(t, "1.50").Cmp(dec(t, "1.5")))
	require.Equal(t, 1, dec(t, "10").Cmp(dec(t, "9.99999")))
	require.Equal(t, 0, Decimal{}.Cmp(dec(t, "0")))
	require.True(t, Decimal{}.IsZero())
	require.Equal(t, "0", Decimal{}.String())
}

func TestDecimalJSON(t *testing.T) {
	var v struct {
		S Decimal `json:"s"`
		N Decimal `json:"n"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"s":"64392.23","n":64392.230000000000000000001}`), &v))
	require.Equal(t, "64392.23", v.S.String())
	require.Equal(t, "64392.230000000000000000001", v.N.String(), "a JSON number is not squeezed through float64")
	out, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"s":"64392.23","n":"64392.230000000000000000001"}`, string(out))
	for _, bad := range []string{`{"s":-1}`, `{"s":"1e999"}`, `{"s":null}`, `{"s":true}`, `{"s":"\u0031"}`} {
		require.Error(t, json.Unmarshal([]byte(bad), &v), bad)
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"64392.23", "0", "1e-8", "6.439223E+4", "007.20", "1.", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		// The printed form parses back to the same value and prints the same.
		again, err := ParseDecimal(d.String())
		require.NoError(t, err)
		require.Equal(t, d.String(), again.String())
		require.Equal(t, 0, d.Cmp(again))
		// It is the value big.Rat reads from the same text.
		r, ok := new(big.Rat).SetString(s)
		require.True(t, ok, s)
		require.Equal(t, 0, r.Cmp(d.rat()), s)
	})
}
