package rail_test

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"chengdui"
	"chengdui/rail"
)

// The example IBANs of the SWIFT IBAN registry and the banks' public
// documentation, one per SEPA country and a few others.
var goodIBANs = []string{
	"AD1200012030200359100100",
	"AL47212110090000000235698741",
	"AT611904300234573201",
	"BE68539007547034",
	"BG80BNBG96611020345678",
	"CH9300762011623852957",
	"CY17002001280000001200527600",
	"CZ6508000000192000145399",
	"DE89370400440532013000",
	"DK5000400440116243",
	"EE382200221020145685",
	"ES9121000418450200051332",
	"FI2112345600000785",
	"FR1420041010050500013M02606",
	"GB29NWBK60161331926819",
	"GB82WEST12345698765432",
	"GR1601101250000000012300695",
	"HR1210010051863000160",
	"HU42117730161111101800000000",
	"IE29AIBK93115212345678",
	"IS140159260076545510730339",
	"IT60X0542811101000000123456",
	"LI21088100002324013AA",
	"LT121000011101001000",
	"LU280019400644750000",
	"LV80BANK0000435195001",
	"MC5811222000010123456789030",
	"MT84MALT011000012345MTLCAST001S",
	"NL91ABNA0417164300",
	"NO9386011117947",
	"PL61109010140000071219812874",
	"PT50000201231234567890154",
	"RO49AAAA1B31007593840000",
	"SE4550000000058398257466",
	"SI56263300012039086",
	"SK3112000000198742637541",
	"SM86U0322509800000000270100",
	"SA0380000000608010167519",
	"TR330006100519786457841326",
}

func TestValidateIBAN(t *testing.T) {
	for _, iban := range goodIBANs {
		t.Run(iban, func(t *testing.T) {
			if err := rail.ValidateIBAN(iban); err != nil {
				t.Fatalf("ValidateIBAN(%s) = %v", iban, err)
			}
		})
	}
	forms := []struct{ in, want string }{
		{"DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"  de89370400440532013000 ", "DE89370400440532013000"},
		{"fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"},
		{"gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"},
	}
	for _, f := range forms {
		t.Run("form "+f.in, func(t *testing.T) {
			if got := rail.NormalizeIBAN(f.in); got != f.want {
				t.Errorf("NormalizeIBAN(%q) = %q, want %q", f.in, got, f.want)
			}
			if err := rail.ValidateIBAN(f.in); err != nil {
				t.Errorf("ValidateIBAN(%q) = %v", f.in, err)
			}
		})
	}
	bad := []struct{ name, in, msg string }{
		{"empty", "", "5-34"},
		{"too short", "DE89", "5-34"},
		{"too long", "DE89370400440532013000123456789012345", "5-34"},
		{"wrong checksum", "DE88370400440532013000", "checksum"},
		{"digit typo", "DE89370400440532013001", "checksum"},
		{"swapped digits", "DE89370400440532031000", "checksum"},
		{"NL wrong checksum", "NL91ABNA0417164301", "checksum"},
		{"wrong length DE", "DE8937040044053201300", "DE IBANs have 22"},
		{"wrong length GB", "GB82WEST123456987654321", "GB IBANs have 22"},
		{"unknown country", "ZZ89370400440532013000", "issues no IBANs"},
		{"digit country", "1E89370400440532013000", "country code"},
		{"letter check digits", "DEAB370400440532013000", "check digits"},
		{"punctuation", "DE89-3704-0044-0532-0130-00", "only letters and digits"},
		{"umlaut", "DE89370400440532013Ä00", "only letters and digits"},
		{"tab inside", "DE89\t370400440532013000", "only letters and digits"},
		{"check digits 00", "DE00370400440532013000", "impossible check digits"},
		{"check digits 99", "DE99370400440532013000", "impossible check digits"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			err := rail.ValidateIBAN(b.in)
			if err == nil {
				t.Fatalf("ValidateIBAN(%q) = nil, want an error", b.in)
			}
			if chengdui.ErrorCode(err) != chengdui.EInvalid || !strings.Contains(err.Error(), b.msg) {
				t.Fatalf("ValidateIBAN(%q) = %v, want code invalid and %q", b.in, err, b.msg)
			}
		})
	}
}

// TestIBANCheckDigits01: 01 and 98 are equal modulo 97, so an account
// whose check digits are 98 also passes mod-97 with 01; only 98 is valid.
func TestIBANCheckDigits01(t *testing.T) {
	found := 0
	for acct := 1000000000; found < 3 && acct < 1000100000; acct++ {
		bban := "37040044" + strconv.Itoa(acct)
		if checkDigits("DE", bban) != 98 {
			continue
		}
		found++
		if err := rail.ValidateIBAN("DE98" + bban); err != nil {
			t.Fatalf("DE98%s: %v", bban, err)
		}
		if !mod97OK("DE01" + bban) {
			t.Fatalf("DE01%s should pass mod-97", bban)
		}
		if err := rail.ValidateIBAN("DE01" + bban); err == nil || !strings.Contains(err.Error(), "impossible check digits") {
			t.Fatalf("DE01%s: %v, want impossible check digits", bban, err)
		}
	}
	if found == 0 {
		t.Fatal("no account with check digits 98 found")
	}
}

// checkDigits computes an IBAN's check digits with math/big: 98 minus the
// remainder of BBAN, country, "00" modulo 97.
func checkDigits(country, bban string) int64 {
	n, _ := new(big.Int).SetString(numeric(bban+country+"00"), 10)
	return 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
}

func TestIsSEPACountry(t *testing.T) {
	for c, want := range map[string]bool{"DE": true, "GB": true, "CH": true, "MC": true, "TR": false, "SA": false, "": false} {
		if got := rail.IsSEPACountry(c); got != want {
			t.Errorf("IsSEPACountry(%q) = %v", c, got)
		}
	}
}

func TestValidateBIC(t *testing.T) {
	good := []string{"DEUTDEFF", "DEUTDEFF500", "COBADEFFXXX", "BNPAFRPP", "NWBKGB2L", "ABNANL2A", "deutdeff", " MARKDEF1100 ", "BKCHCNBJ", "CHASUS33"}
	for _, b := range good {
		t.Run(b, func(t *testing.T) {
			if err := rail.ValidateBIC(b); err != nil {
				t.Fatalf("ValidateBIC(%q) = %v", b, err)
			}
		})
	}
	bad := []struct{ name, in, msg string }{
		{"empty", "", "8 or 11"},
		{"7 chars", "DEUTDEF", "8 or 11"},
		{"9 chars", "DEUTDEFF5", "8 or 11"},
		{"12 chars", "DEUTDEFF5000", "8 or 11"},
		{"digit in bank", "DEU1DEFF", "4 letters"},
		{"digit in country", "DEUTD1FF", "4 letters"},
		{"punctuation location", "DEUTDEF-", "only letters and digits"},
		{"punctuation branch", "DEUTDEFF50_", "only letters and digits"},
		{"inner space", "DEUT DEFF", "8 or 11"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			err := rail.ValidateBIC(b.in)
			if err == nil || chengdui.ErrorCode(err) != chengdui.EInvalid || !strings.Contains(err.Error(), b.msg) {
				t.Fatalf("ValidateBIC(%q) = %v, want code invalid and %q", b.in, err, b.msg)
			}
		})
	}
}

// mod97OK is an independent oracle: ISO 13616 with math/big.
func mod97OK(iban string) bool {
	d := numeric(iban[4:] + iban[:4])
	if d == "" {
		return false
	}
	n, ok := new(big.Int).SetString(d, 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// numeric replaces letters by 10-35; "" when s has other characters.
func numeric(s string) string {
	var digits strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		default:
			return ""
		}
	}
	return digits.String()
}

var ibanShape = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$`)

func FuzzValidateIBAN(f *testing.F) {
	for _, s := range goodIBANs {
		f.Add(s)
	}
	f.Add("DE89 3704 0044 0532 0130 00")
	f.Add("de88370400440532013000")
	f.Add("GB01WEST12345698765432")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		err := rail.ValidateIBAN(s)
		n := rail.NormalizeIBAN(s)
		if rail.NormalizeIBAN(n) != n {
			t.Fatalf("NormalizeIBAN is not idempotent on %q", s)
		}
		if err != nil {
			if chengdui.ErrorCode(err) != chengdui.EInvalid {
				t.Fatalf("ValidateIBAN(%q) code %q", s, chengdui.ErrorCode(err))
			}
			return
		}
		if !ibanShape.MatchString(n) || !mod97OK(n) {
			t.Fatalf("ValidateIBAN accepted %q (%q)", s, n)
		}
		if cd := n[2:4]; cd == "00" || cd == "01" || cd == "99" {
			t.Fatalf("ValidateIBAN accepted check digits %s", cd)
		}
		if rail.ValidateIBAN(n) != nil {
			t.Fatalf("the normalised form %q of valid %q is refused", n, s)
		}
	})
}

var bicShape = regexp.MustCompile(`^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$`)

func FuzzValidateBIC(f *testing.F) {
	for _, s := range []string{"DEUTDEFF", "DEUTDEFF500", "deutdeff", "DEU1DEFF", "", "DEUTDEFF5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := rail.ValidateBIC(s)
		want := bicShape.MatchString(rail.NormalizeBIC(s))
		if (err == nil) != want {
			t.Fatalf("ValidateBIC(%q) = %v; the pattern says valid=%v", s, err, want)
		}
	})
}
