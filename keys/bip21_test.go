package keys_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/keys"
)

// Addresses of the tests. BIP21's examples use 175tWpb8…, whose base58
// checksum is wrong: the builder writes it as given, and the parser tests
// use the examples with a valid P2PKH address instead. The others are
// BIP173's P2WPKH vector and its regtest form.
const (
	bip21Addr   = "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W"
	p2pkhAddr   = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
	segwitAddr  = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	regtestAddr = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
)

func TestBIP21(t *testing.T) {
	for _, tc := range []struct {
		name           string
		addr           string
		sat            int64
		label, message string
		want           string
	}{
		{"address only", bip21Addr, 0, "", "", "bitcoin:" + bip21Addr},
		// BIP21's examples, with the amounts in satoshis.
		{"label", bip21Addr, 0, "Luke-Jr", "", "bitcoin:" + bip21Addr + "?label=Luke-Jr"},
		{"amount and label", bip21Addr, 2_030_000_000, "Luke-Jr", "", "bitcoin:" + bip21Addr + "?amount=20.3&label=Luke-Jr"},
		{"amount, label, message", bip21Addr, 5_000_000_000, "Luke-Jr", "Donation for project xyz",
			"bitcoin:" + bip21Addr + "?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz"},
		{"a milli", segwitAddr, 100_000, "", "", "bitcoin:" + segwitAddr + "?amount=0.001"},
		{"one satoshi", segwitAddr, 1, "", "", "bitcoin:" + segwitAddr + "?amount=0.00000001"},
		{"every digit", segwitAddr, 2_100_000_000_000_000, "", "", "bitcoin:" + segwitAddr + "?amount=21000000"},
		{"eight decimals", segwitAddr, 123_456_789_012, "", "", "bitcoin:" + segwitAddr + "?amount=1234.56789012"},
		{"negative is no amount", segwitAddr, -5, "", "", "bitcoin:" + segwitAddr},
		{"message only", segwitAddr, 0, "", "order #42", "bitcoin:" + segwitAddr + "?message=order%20%2342"},
		{"reserved characters", segwitAddr, 0, "a&b=c+d?e/f", "", "bitcoin:" + segwitAddr + "?label=a%26b%3Dc%2Bd%3Fe%2Ff"},
		{"unreserved stay", segwitAddr, 0, "A-z_0.9~", "", "bitcoin:" + segwitAddr + "?label=A-z_0.9~"},
		{"UTF-8", segwitAddr, 0, "承兑", "", "bitcoin:" + segwitAddr + "?label=%E6%89%BF%E5%85%91"},
		{"invalid UTF-8", segwitAddr, 0, "a\xffb", "", "bitcoin:" + segwitAddr + "?label=a%EF%BF%BDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, keys.BIP21(tc.addr, tc.sat, tc.label, tc.message))
		})
	}
}

func TestParseBIP21(t *testing.T) {
	for _, tc := range []struct {
		name string
		uri  string
		net  keys.Network
		want keys.BIP21URI
	}{
		// BIP21's examples.
		{"address", "bitcoin:" + p2pkhAddr, keys.Mainnet, keys.BIP21URI{Address: p2pkhAddr}},
		{"label", "bitcoin:" + p2pkhAddr + "?label=Luke-Jr", keys.Mainnet, keys.BIP21URI{Address: p2pkhAddr, Label: "Luke-Jr"}},
		{"amount and label", "bitcoin:" + p2pkhAddr + "?amount=20.3&label=Luke-Jr", keys.Mainnet,
			keys.BIP21URI{Address: p2pkhAddr, AmountSat: 2_030_000_000, Label: "Luke-Jr"}},
		{"amount, label, message", "bitcoin:" + p2pkhAddr + "?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz", keys.Mainnet,
			keys.BIP21URI{Address: p2pkhAddr, AmountSat: 5_000_000_000, Label: "Luke-Jr", Message: "Donation for project xyz"}},
		{"unknown optional parameters", "bitcoin:" + p2pkhAddr + "?somethingyoudontunderstand=50&somethingelseyoudontget=999", keys.Mainnet,
			keys.BIP21URI{Address: p2pkhAddr}},

		{"uppercase QR form", "BITCOIN:" + strings.ToUpper(segwitAddr) + "?amount=0.001", keys.Mainnet,
			keys.BIP21URI{Address: segwitAddr, AmountSat: 100_000}},
		{"mixed-case scheme", "BitCoin:" + segwitAddr, keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
		{"keys are case-sensitive", "bitcoin:" + segwitAddr + "?AMOUNT=1&Label=x", keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
		{"regtest", "bitcoin:" + regtestAddr + "?amount=1", keys.Regtest, keys.BIP21URI{Address: regtestAddr, AmountSat: 100_000_000}},
		{"spaces around", "  bitcoin:" + segwitAddr + "\n", keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
		{"plus is a plus", "bitcoin:" + segwitAddr + "?label=a+b", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, Label: "a+b"}},
		{"UTF-8", "bitcoin:" + segwitAddr + "?label=%E6%89%BF%E5%85%91", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, Label: "承兑"}},
		{"raw UTF-8", "bitcoin:" + segwitAddr + "?message=承兑", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, Message: "承兑"}},
		{"empty pairs", "bitcoin:" + segwitAddr + "?&amount=2&", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, AmountSat: 200_000_000}},
		{"no query", "bitcoin:" + segwitAddr + "?", keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
		{"leading point", "bitcoin:" + segwitAddr + "?amount=.5", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, AmountSat: 50_000_000}},
		{"trailing point", "bitcoin:" + segwitAddr + "?amount=5.", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, AmountSat: 500_000_000}},
		{"leading zeros", "bitcoin:" + segwitAddr + "?amount=00000000000000.00000001", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, AmountSat: 1}},
		{"all of it", "bitcoin:" + segwitAddr + "?amount=21000000.00000000", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, AmountSat: 2_100_000_000_000_000}},
		{"encoded name", "bitcoin:" + segwitAddr + "?%6Cabel=x", keys.Mainnet, keys.BIP21URI{Address: segwitAddr, Label: "x"}},
		{"empty label", "bitcoin:" + segwitAddr + "?label=", keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
		{"other extensions", "bitcoin:" + segwitAddr + "?lightning=lnbc1&pj=https://example.com", keys.Mainnet, keys.BIP21URI{Address: segwitAddr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keys.ParseBIP21(tc.uri, tc.net)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseBIP21Refusals(t *testing.T) {
	p := "bitcoin:" + segwitAddr
	for _, tc := range []struct {
		name     string
		uri      string
		contains string
	}{
		// BIP21's example of required parameters a client does not know.
		{"the spec's address", "bitcoin:" + bip21Addr + "?amount=20.3&label=Luke-Jr", "checksum"},
		{"unknown req-", "bitcoin:" + p2pkhAddr + "?req-somethingyoudontunderstand=50&req-somethingelseyoudontget=999", "req-"},
		{"req- uppercase", p + "?REQ-x=1", "req-"},
		{"req- encoded", p + "?req%2Dx=1", "req-"},
		{"req- without value", p + "?amount=1&req-x", "req-"},

		{"empty", "", "must start with bitcoin:"},
		{"another scheme", "ethereum:" + segwitAddr, "must start with bitcoin:"},
		{"bare address", segwitAddr, "must start with bitcoin:"},
		{"slashes", "bitcoin://" + segwitAddr, "without //"},
		{"no address", "bitcoin:?amount=1", "no Bitcoin address"},
		{"bad address", "bitcoin:bc1qnotanaddress", "Bitcoin address"},
		{"other network", "bitcoin:" + regtestAddr, "regtest"},
		{"fragment", p + "#x", "fragment"},
		{"too long", p + "?message=" + strings.Repeat("a", 4100), "at most 4096 characters"},

		{"negative", p + "?amount=-1", "without sign"},
		{"plus sign", p + "?amount=+1", "without sign"},
		{"exponent", p + "?amount=1e-3", "exponent"},
		{"upper exponent", p + "?amount=1E8", "exponent"},
		{"comma", p + "?amount=1,5", "comma"},
		{"two points", p + "?amount=1.2.3", "one decimal point"},
		{"space", p + "?amount=1%200", "digits"},
		{"hex", p + "?amount=0x10", "digits"},
		{"nine decimals", p + "?amount=0.000000001", "at most 8"},
		{"nine zero decimals", p + "?amount=1.000000000", "at most 8"},
		{"over the supply", p + "?amount=21000000.00000001", "21,000,000 BTC"},
		{"far over the supply", p + "?amount=99999999999999999999999", "21,000,000 BTC"},
		{"zero", p + "?amount=0", "zero"},
		{"zero decimals", p + "?amount=0.00000000", "zero"},
		{"empty amount", p + "?amount=", "empty"},
		{"point only", p + "?amount=.", "empty"},
		{"amount twice", p + "?amount=1&amount=2", "amount twice"},
		{"label twice", p + "?label=a&label=b", "label twice"},
		{"bad escape", p + "?label=%zz", "percent-encoding"},
		{"short escape", p + "?message=abc%4", "percent-encoding"},
		{"bad escape in name", p + "?%zz=1", "percent-encoding"},
		{"invalid UTF-8", p + "?label=%FF", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keys.ParseBIP21(tc.uri, keys.Mainnet)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), tc.contains)
			if len(tc.uri) > len("bitcoin:x") {
				require.NotContains(t, chengdui.ErrorMessage(err), tc.uri[len("bitcoin:"):], "no message quotes the input")
			}
		})
	}
	_, err := keys.ParseBIP21(p, keys.Network(0))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

// FuzzParseBIP21 checks that ParseBIP21 never panics, that what it accepts
// has a valid address and amount, and that BIP21 round-trips through it:
// any amount in range, any label and message.
func FuzzParseBIP21(f *testing.F) {
	for _, s := range []string{
		"bitcoin:" + p2pkhAddr + "?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz",
		"bitcoin:" + p2pkhAddr + "?req-somethingyoudontunderstand=50&req-somethingelseyoudontget=999",
		"BITCOIN:" + strings.ToUpper(segwitAddr) + "?amount=0.001&AMOUNT=x",
		"bitcoin:" + segwitAddr + "?amount=21000000.00000001&label=%E6%89%BF",
		"bitcoin:" + segwitAddr + "?amount=1e-3&label=%zz",
		"bitcoin:" + regtestAddr + "?amount=.5&&",
	} {
		f.Add(s, int64(100_000), "a label", "a message")
	}
	f.Add("", int64(0), "", "")
	f.Add("bitcoin:", int64(-1), "\xff", "&=?#%")
	f.Fuzz(func(t *testing.T, uri string, sat int64, label, message string) {
		for _, net := range []keys.Network{keys.Mainnet, keys.Regtest} {
			got, err := keys.ParseBIP21(uri, net)
			if err != nil {
				require.NotEmpty(t, chengdui.ErrorCode(err))
				continue
			}
			_, err = keys.ParseBitcoinAddress(got.Address, net)
			require.NoError(t, err)
			require.GreaterOrEqual(t, got.AmountSat, int64(0))
			require.LessOrEqual(t, got.AmountSat, int64(2_100_000_000_000_000))
			require.True(t, utf8.ValidString(got.Label) && utf8.ValidString(got.Message))
		}

		sat = max(sat%2_100_000_000_000_001, 0)
		uri = keys.BIP21(segwitAddr, sat, label, message)
		got, err := keys.ParseBIP21(uri, keys.Mainnet)
		if len(uri) > 4096 {
			require.Error(t, err, "too long to parse")
			return
		}
		require.NoError(t, err, uri)
		require.Equal(t, keys.BIP21URI{Address: segwitAddr, AmountSat: sat,
			Label: strings.ToValidUTF8(label, "\uFFFD"), Message: strings.ToValidUTF8(message, "\uFFFD")}, got, uri)
	})
}
