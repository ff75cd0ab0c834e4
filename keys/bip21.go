package keys

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"chengdui"
)

// maxBIP21Len bounds a payment URI before any parsing: a QR code holds at
// most 4296 characters, and wallets show far shorter ones.
const maxBIP21Len = 4096

// satPerBTC and maxSat are Bitcoin's units: 10^8 satoshis a bitcoin, 21
// million bitcoins at most.
const (
	satPerBTC = 100_000_000
	maxSat    = 21_000_000 * satPerBTC
)

// BIP21URI is what a BIP21 payment URI asks for.
type BIP21URI struct {
	Address   string // canonical form, as ParseBitcoinAddress returns it
	AmountSat int64  // satoshis; 0 when the URI names no amount
	Label     string // the payee's name for the address, decoded; "" if none
	Message   string // what the payment is for, decoded; "" if none
}

// BIP21 returns the payment URI bitcoin:<address>?amount=…&label=…&message=…
// (BIP21). The amount is in BTC, an exact decimal of at most eight places
// without trailing zeros (100000 sat is 0.001); amountSat ≤ 0 leaves it
// out, as do empty label and message. Label and message are UTF-8,
// percent-encoded as RFC 3986 says (every byte but letters, digits and
// "-._~"), so a space is %20, never "+"; invalid UTF-8 becomes U+FFFD.
//
// The address is written as given: BIP21 does not check it, ParseBIP21
// does.
func BIP21(address string, amountSat int64, label, message string) string {
	var b strings.Builder
	b.WriteString("bitcoin:")
	b.WriteString(address)
	sep := byte('?')
	param := func(name, value string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
	}
	if amountSat > 0 {
		param("amount", formatBTC(amountSat))
	}
	if label != "" {
		param("label", percentEncode(strings.ToValidUTF8(label, "\uFFFD")))
	}
	if message != "" {
		param("message", percentEncode(strings.ToValidUTF8(message, "\uFFFD")))
	}
	return b.String()
}

// formatBTC writes sat satoshis as BTC, exactly, without trailing zeros.
func formatBTC(sat int64) string {
	whole := strconv.FormatInt(sat/satPerBTC, 10)
	frac := sat % satPerBTC
	if frac == 0 {
		return whole
	}
	f := strconv.FormatInt(frac+satPerBTC, 10)[1:] // eight digits, zero-padded
	return whole + "." + strings.TrimRight(f, "0")
}

// percentEncode escapes every byte of s but RFC 3986's unreserved
// characters. url.QueryEscape would write a space as "+", which BIP21
// reads as a plus sign, and url.PathEscape leaves "&" and "=" alone.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// ParseBIP21 parses a BIP21 payment URI for net: bitcoin:<address>, then
// optionally ?name=value pairs joined by "&". The scheme is matched
// without regard to case (BITCOIN:BC1Q… is the form that makes the
// smallest QR codes). The address must be valid on net, as
// ParseBitcoinAddress checks it. amount is BTC as a decimal with a point:
// digits only, at most eight decimals, above zero and at most 21 million;
// no sign, exponent or comma. label and message are percent-decoded (a
// "+" stays a plus sign) and must be UTF-8. Parameter names are
// percent-decoded too, and case-sensitive as BIP21 says: AMOUNT is not
// amount. Other parameters are ignored, except those whose name starts
// with "req-", which BIP21 says a client must refuse when it does not
// understand them; REQ- in any case is refused too, to be safe.
//
// Errors: EInvalid, saying what is wrong: not a bitcoin: URI, ParseBitcoinAddress's
// refusals, a bad amount, a bad percent-encoding, invalid UTF-8, amount,
// label or message given twice, a fragment (#…), an unknown req-
// parameter, input longer than 4096 characters. As with addresses, no
// message quotes the input.
func ParseBIP21(uri string, net Network) (BIP21URI, error) {
	if len(uri) > maxBIP21Len {
		return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "a payment URI has at most %d characters, not %d", maxBIP21Len, len(uri))
	}
	uri = strings.TrimSpace(uri)
	const scheme = "bitcoin:"
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "not a Bitcoin payment URI: it must start with bitcoin:")
	}
	rest := uri[len(scheme):]
	if strings.HasPrefix(rest, "//") {
		return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "a Bitcoin payment URI is bitcoin:<address>, without //")
	}
	if strings.ContainsRune(rest, '#') {
		return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "a Bitcoin payment URI has no #fragment; a # in a label or message is written %%23")
	}
	addr, query, _ := strings.Cut(rest, "?")
	if addr == "" {
		return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI names no Bitcoin address")
	}
	a, err := ParseBitcoinAddress(addr, net)
	if err != nil {
		return BIP21URI{}, err
	}
	out := BIP21URI{Address: a.String}
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(query, "&") {
		if pair == "" {
			continue // "?&amount=1" or a trailing "&": nothing to read
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.PathUnescape(rawName)
		if err != nil {
			return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI has a bad percent-encoding in a parameter name")
		}
		switch name {
		case "amount", "label", "message":
		default:
			if len(name) >= 4 && strings.EqualFold(name[:4], "req-") {
				return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI requires a feature (a req- parameter) this server does not support; ask the payee for a plain bitcoin: address or URI")
			}
			continue // optional parameters the server does not use
		}
		if seen[name] {
			return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI gives %s twice", name)
		}
		seen[name] = true
		if name == "amount" {
			if out.AmountSat, err = parseBTC(rawValue); err != nil {
				return BIP21URI{}, err
			}
			continue
		}
		value, err := url.PathUnescape(rawValue)
		if err != nil {
			return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI's %s has a bad percent-encoding: %% must be followed by two hex digits", name)
		}
		if !utf8.ValidString(value) {
			return BIP21URI{}, chengdui.Errorf(chengdui.EInvalid, "the payment URI's %s is not UTF-8 text", name)
		}
		if name == "label" {
			out.Label = value
		} else {
			out.Message = value
		}
	}
	return out, nil
}

// parseBTC parses a BIP21 amount, BTC as a decimal, to satoshis, exactly.
func parseBTC(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount is empty: give BTC as a decimal, e.g. amount=0.001")
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount must be BTC as digits with one decimal point, e.g. amount=0.001, without sign, exponent, comma or spaces")
	}
	if len(frac) > 8 {
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount has %d decimals: a satoshi is 0.00000001 BTC, so at most 8", len(frac))
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 8 {
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount is more than 21,000,000 BTC, all the bitcoin there will ever be")
	}
	var sat int64
	for _, c := range whole {
		sat = sat*10 + int64(c-'0')
	}
	sat *= satPerBTC
	unit := int64(satPerBTC / 10)
	for _, c := range frac {
		sat += int64(c-'0') * unit
		unit /= 10
	}
	switch {
	case sat > maxSat:
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount is more than 21,000,000 BTC, all the bitcoin there will ever be")
	case sat == 0:
		return 0, chengdui.Errorf(chengdui.EInvalid, "the payment URI's amount is zero: leave amount out to let the payer choose")
	}
	return sat, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
