package settle_test

import (
	"errors"
	"strings"
	"testing"

	"chengdui"
	"chengdui/invoice"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
)

var testAssets = settle.AssetInfo{
	"CNY": {Code: "CNY", Network: "fiat", Decimals: 2}, "EUR": {Code: "EUR", Network: "fiat", Decimals: 2},
	"USDC-ERC20": {Code: "USDC-ERC20", Network: "ethereum", Decimals: 6}, "BTC": {Code: "BTC", Network: "bitcoin", Decimals: 8},
}

func fields(err error) []string {
	var ve *invoice.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

// TestValidate: every bad input is named by its JSON path.
func TestValidate(t *testing.T) {
	good := `{"splits":[{"bps":7000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":"Tea House GmbH","iban":"de89 3704 0044 0532 0130 00","bic":"cobadeffxxx"}}},
		{"bps":3000,"asset":"USDC-ERC20","destination":{"type":"CHAIN","address":"0xc1"}}],
		"schedule":{"kind":"daily","at":"10:00","time_zone":"Asia/Shanghai"},"min_payout":{"EUR":"10","USDC-ERC20":"5.5"}}`
	req, err := settle.ParseUpdate([]byte(good))
	require.NoError(t, err)
	got, err := settle.Validate(req, testAssets, nil)
	require.NoError(t, err)
	require.Equal(t, "DE89370400440532013000", got.Splits[0].Destination.Creditor.IBAN, "normalised")
	require.Equal(t, "COBADEFFXXX", got.Splits[0].Destination.Creditor.BIC)
	require.Equal(t, map[string]string{"EUR": "10.00", "USDC-ERC20": "5.500000"}, got.MinPayout)

	bal := `{"type":"BALANCE"}`
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"no splits", `{"splits":[]}`, []string{"splits"}},
		{"sum below", `{"splits":[{"bps":9999,"asset":"CNY","destination":` + bal + `}]}`, []string{"splits"}},
		{"sum above", `{"splits":[{"bps":6000,"asset":"CNY","destination":` + bal + `},{"bps":5000,"asset":"EUR","destination":` + bal + `}]}`, []string{"splits"}},
		{"zero share", `{"splits":[{"bps":0,"asset":"EUR","destination":` + bal + `},{"bps":10000,"asset":"CNY","destination":` + bal + `}]}`, []string{"splits[0].bps"}},
		{"share above 100 %", `{"splits":[{"bps":20000,"asset":"CNY","destination":` + bal + `}]}`, []string{"splits[0].bps", "splits"}},
		{"unknown asset", `{"splits":[{"bps":10000,"asset":"DOGE","destination":` + bal + `}]}`, []string{"splits[0].asset"}},
		{"asset twice", `{"splits":[{"bps":5000,"asset":"CNY","destination":` + bal + `},{"bps":5000,"asset":"CNY","destination":` + bal + `}]}`, []string{"splits[1].asset"}},
		{"bad type", `{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"CASH"}}]}`, []string{"splits[0].destination.type"}},
		{"bank without creditor", `{"splits":[{"bps":10000,"asset":"EUR","destination":{"type":"BANK"}}]}`, []string{"splits[0].destination.creditor"}},
		{"bank of crypto", `{"splits":[{"bps":10000,"asset":"BTC","destination":{"type":"BANK","creditor":{"name":"A","iban":"DE89370400440532013000"}}}]}`, []string{"splits[0].asset"}},
		{"bad IBAN", `{"splits":[{"bps":10000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":"A","iban":"DE89370400440532013001"}}}]}`, []string{"splits[0].destination.creditor"}},
		{"bad BIC", `{"splits":[{"bps":10000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":"A","iban":"DE89370400440532013000","bic":"XX"}}}]}`, []string{"splits[0].destination.creditor"}},
		{"EUR without IBAN", `{"splits":[{"bps":10000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":"A","account":"123","bank_code":"456"}}}]}`, []string{"splits[0].destination.creditor"}},
		{"no name", `{"splits":[{"bps":10000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":" ","iban":"DE89370400440532013000"}}}]}`, []string{"splits[0].destination.creditor"}},
		{"bank with address", `{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"BANK","address":"x","creditor":{"name":"A","account":"1","bank_code":"2"}}}]}`, []string{"splits[0].destination.address"}},
		{"chain of fiat", `{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"CHAIN","address":"0xc1"}}]}`, []string{"splits[0].asset"}},
		{"chain without address", `{"splits":[{"bps":10000,"asset":"BTC","destination":{"type":"CHAIN"}}]}`, []string{"splits[0].destination.address"}},
		{"address with space", `{"splits":[{"bps":10000,"asset":"BTC","destination":{"type":"CHAIN","address":"bc1 q"}}]}`, []string{"splits[0].destination.address"}},
		{"chain with creditor", `{"splits":[{"bps":10000,"asset":"BTC","destination":{"type":"CHAIN","address":"bc1q","creditor":{"name":"A"}}}]}`, []string{"splits[0].destination.creditor"}},
		{"balance with address", `{"splits":[{"bps":10000,"asset":"BTC","destination":{"type":"BALANCE","address":"bc1q"}}]}`, []string{"splits[0].destination"}},
		{"bad schedule", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"weekly"}}`, []string{"schedule.kind"}},
		{"daily without time", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"daily"}}`, []string{"schedule.at"}},
		{"daily at 24:00", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"daily","at":"24:00"}}`, []string{"schedule.at"}},
		{"daily at +1:00", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"daily","at":"+1:00"}}`, []string{"schedule.at"}},
		{"bad zone", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"daily","at":"10:00","time_zone":"Mars/Olympus"}}`, []string{"schedule.time_zone"}},
		{"Local zone", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"daily","at":"10:00","time_zone":"Local"}}`, []string{"schedule.time_zone"}},
		{"instant with time", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"schedule":{"kind":"instant","at":"10:00"}}`, []string{"schedule.at"}},
		{"minimum of unknown asset", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"min_payout":{"XYZ":"1"}}`, []string{"min_payout.XYZ"}},
		{"minimum too precise", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"min_payout":{"CNY":"0.001"}}`, []string{"min_payout.CNY"}},
		{"minimum negative", `{"splits":[{"bps":10000,"asset":"CNY","destination":` + bal + `}],"min_payout":{"CNY":"-1"}}`, []string{"min_payout.CNY"}},
		{"too many splits", `{"splits":[` + strings.Repeat(`{"bps":909,"asset":"CNY","destination":`+bal+`},`, 10) + `{"bps":910,"asset":"EUR","destination":` + bal + `}]}`, []string{"splits", "splits[1].asset", "splits[2].asset", "splits[3].asset", "splits[4].asset", "splits[5].asset", "splits[6].asset", "splits[7].asset", "splits[8].asset", "splits[9].asset", "splits"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := settle.ParseUpdate([]byte(c.body))
			require.NoError(t, err)
			_, err = settle.Validate(req, testAssets, nil)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			require.Equal(t, c.want, fields(err), "%v", err)
		})
	}

	for _, c := range []struct{ name, body string }{
		{"unknown field", `{"splits":[],"mode":"keep"}`},
		{"fee change", `{"splits":[],"fee_bps":0}`},
		{"two objects", `{"splits":[]}{}`},
		{"not JSON", `splits`},
		{"wrong type", `{"splits":[{"bps":"70"}]}`},
		{"negative bps", `{"splits":[{"bps":-1}]}`},
		{"too large", `{"otp":"` + strings.Repeat("x", settle.MaxProfileBytes) + `"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := settle.ParseUpdate([]byte(c.body))
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
		})
	}
}

// FuzzParseUpdate: no input makes the parser or the validation panic; a
// profile that validates has shares summing to 100 %, each asset once,
// and validates again to itself.
func FuzzParseUpdate(f *testing.F) {
	f.Add([]byte(`{"splits":[{"bps":7000,"asset":"EUR","destination":{"type":"BANK","creditor":{"name":"A","iban":"DE89370400440532013000"}}},{"bps":3000,"asset":"USDC-ERC20","destination":{"type":"CHAIN","address":"0xc1"}}],"schedule":{"kind":"daily","at":"10:00","time_zone":"Europe/Berlin"},"min_payout":{"EUR":"10"}}`))
	f.Add([]byte(`{"splits":[{"bps":10000,"asset":"CNY","destination":{"type":"balance"}}],"schedule":{"kind":"INSTANT"}}`))
	f.Add([]byte(`{"splits":null,"otp":"123456"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := settle.ParseUpdate(body)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			return
		}
		got, err := settle.Validate(req, testAssets, nil)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			require.NotEmpty(t, fields(err))
			return
		}
		var sum uint32
		seen := map[string]bool{}
		for _, s := range got.Splits {
			sum += s.Bps
			require.False(t, seen[s.Asset])
			seen[s.Asset] = true
		}
		require.EqualValues(t, settle.TotalBps, sum)
		again, err := settle.Validate(got, testAssets, nil)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
