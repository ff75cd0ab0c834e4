package fx

import (
	"math/big"
	"testing"

	"chengdui"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
	"pgregory.net/rapid"
)

func amount(t testing.TB, s string) chengdui.Amount {
	t.Helper()
	a, err := chengdui.ParseUnits(s)
	require.NoError(t, err)
	return a
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name           string
		price          string
		priceDecimals  uint8
		rate           string
		assetDecimals  uint8
		due, backPrice string
	}{
		{"100 CNY in BTC", "10000", 2, "432000", 8, "23148", "9999"},
		{"exact", "6000000", 2, "60000", 8, "100000000", "6000000"},
		{"100 USD in USDT", "10000", 2, "1", 6, "100000000", "10000"},
		{"a rate above par", "10000", 2, "1.00015", 6, "99985002", "9999"},
		{"1 fen in ETH wei", "1", 2, "21600", 18, "462962962962", "0"},
		{"whole yen", "1000", 0, "10312077", 8, "9697", "999"},
		{"rounds down just below a unit", "2", 0, "3", 0, "0", "0"},
		{"18 decimals both ways", "1000000000000000000", 18, "3452.175", 18, "289672452873912", "999999999999997158"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			due, err := Convert(amount(t, tc.price), tc.priceDecimals, dec(t, tc.rate), tc.assetDecimals)
			require.NoError(t, err)
			require.Equal(t, tc.due, due.String())
			back, err := ConvertBack(due, tc.assetDecimals, dec(t, tc.rate), tc.priceDecimals)
			require.NoError(t, err)
			require.Equal(t, tc.backPrice, back.String())
		})
	}
}

func TestConvertRefuses(t *testing.T) {
	max := uint128.Max
	for _, tc := range []struct {
		name          string
		price         chengdui.Amount
		priceDecimals uint8
		rate          Decimal
		assetDecimals uint8
		code          string
	}{
		{"zero rate", uint128.From64(100), 2, Decimal{}, 8, chengdui.EInvalid},
		{"price decimals", uint128.From64(100), 39, dec(t, "1"), 8, chengdui.EInvalid},
		{"asset decimals", uint128.From64(100), 2, dec(t, "1"), 39, chengdui.EInvalid},
		{"overflow", max, 0, dec(t, "0.5"), 0, chengdui.EOverflow},
		{"overflow through decimals", max, 0, dec(t, "1"), 18, chengdui.EOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(tc.price, tc.priceDecimals, tc.rate, tc.assetDecimals)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
			_, err = ConvertBack(tc.price, tc.priceDecimals, tc.rate.inverseOrZero(), tc.assetDecimals)
			require.Equal(t, tc.code, chengdui.ErrorCode(err), "%v", err)
		})
	}
	due, err := Convert(max, 0, dec(t, "1"), 0)
	require.NoError(t, err)
	require.Equal(t, max, due, "the largest amount converts at par")
}

func (d Decimal) inverseOrZero() Decimal {
	if d.IsZero() {
		return d
	}
	return d.inv()
}

// drawRate draws a positive rate with up to 20 significant digits and a
// scale from 0 to 30: from 1e-30 to about 1e20.
func drawRate(t *rapid.T) Decimal {
	digits := rapid.StringMatching(`[1-9][0-9]{0,19}`).Draw(t, "coef")
	scale := rapid.IntRange(0, 30).Draw(t, "scale")
	d, err := ParseDecimal(digits + "e-" + itoa(scale))
	if err != nil {
		t.Fatalf("rate %se-%d: %v", digits, scale, err)
	}
	return d
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func drawAmount(t *rapid.T, label string) chengdui.Amount {
	return uint128.New(rapid.Uint64().Draw(t, label+" lo"), rapid.Uint64Range(0, 1<<20).Draw(t, label+" hi"))
}

// TestConvertRounding is the rounding rule: due ≤ exact < due + 1 unit, and
// due converted back never exceeds the price.
func TestConvertRounding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		price := drawAmount(t, "price")
		pd := uint8(rapid.IntRange(0, 18).Draw(t, "price decimals"))
		ad := uint8(rapid.IntRange(0, 18).Draw(t, "asset decimals"))
		rate := drawRate(t)

		due, err := Convert(price, pd, rate, ad)
		// exact = price/10^pd / rate × 10^ad, in asset units.
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(price.Big(), pow10(int(ad))), pow10(int(pd)))
		exact.Quo(exact, rate.rat())
		if err != nil {
			if chengdui.ErrorCode(err) != chengdui.EOverflow || exact.Cmp(new(big.Rat).SetInt(uint128.Max.Big())) <= 0 {
				t.Fatalf("Convert(%s, %d, %s, %d): %v; exact %s", price, pd, rate, ad, err, exact.FloatString(3))
			}
			return
		}
		d := new(big.Rat).SetInt(due.Big())
		if d.Cmp(exact) > 0 {
			t.Fatalf("due %s exceeds exact %s", due, exact.FloatString(10))
		}
		if d.Add(d, big.NewRat(1, 1)).Cmp(exact) <= 0 {
			t.Fatalf("due %s is a unit or more below exact %s", due, exact.FloatString(10))
		}

		back, err := ConvertBack(due, ad, rate, pd)
		if err != nil {
			t.Fatalf("ConvertBack(%s): %v", due, err)
		}
		if back.Cmp(price) > 0 {
			t.Fatalf("%s converted back is %s, more than the price %s", due, back, price)
		}
		// ConvertBack rounds down too: back ≤ due × rate < back + 1.
		value := new(big.Rat).SetFrac(new(big.Int).Mul(due.Big(), pow10(int(pd))), pow10(int(ad)))
		value.Mul(value, rate.rat())
		b := new(big.Rat).SetInt(back.Big())
		if b.Cmp(value) > 0 || b.Add(b, big.NewRat(1, 1)).Cmp(value) <= 0 {
			t.Fatalf("back %s is not the floor of %s", back, value.FloatString(10))
		}
	})
}
