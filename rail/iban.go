package rail

import (
	"strings"

	"chengdui"
)

// ibanLengths is the length of each country's IBAN, from the SWIFT IBAN
// registry (ISO 13616). It covers every SEPA country and the other
// registered ones; an IBAN of a country missing here is refused.
var ibanLengths = map[string]int{
	// SEPA: the EEA, Switzerland, the UK, Andorra, Monaco, San Marino,
	// the Vatican, Albania, Moldova, Montenegro, North Macedonia, Serbia.
	"AD": 24, "AL": 28, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28,
	"CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27,
	"GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
	"IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
	"ME": 22, "MK": 19, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
	"RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
	// Other registered countries.
	"AE": 23, "AZ": 28, "BA": 20, "BH": 22, "BI": 27, "BR": 29, "BY": 28,
	"CR": 22, "DJ": 27, "DO": 28, "EG": 29, "FK": 18, "FO": 18, "GE": 22,
	"GL": 18, "GT": 28, "HN": 28, "IL": 23, "IQ": 23, "JO": 30, "KW": 30,
	"KZ": 20, "LB": 28, "LC": 32, "LY": 25, "MN": 20, "MR": 27, "MU": 30,
	"NI": 28, "OM": 23, "PK": 24, "PS": 29, "QA": 29, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
	"TR": 26, "UA": 29, "VG": 24, "XK": 20, "YE": 30,
}

// sepaCountries are the IBAN countries in the SEPA schemes' scope.
var sepaCountries = map[string]bool{
	"AD": true, "AL": true, "AT": true, "BE": true, "BG": true, "CH": true, "CY": true,
	"CZ": true, "DE": true, "DK": true, "EE": true, "ES": true, "FI": true, "FR": true,
	"GB": true, "GI": true, "GR": true, "HR": true, "HU": true, "IE": true, "IS": true,
	"IT": true, "LI": true, "LT": true, "LU": true, "LV": true, "MC": true, "MD": true,
	"ME": true, "MK": true, "MT": true, "NL": true, "NO": true, "PL": true, "PT": true,
	"RO": true, "RS": true, "SE": true, "SI": true, "SK": true, "SM": true, "VA": true,
}

// IsSEPACountry reports whether an IBAN country code is in SEPA's scope.
func IsSEPACountry(country string) bool { return sepaCountries[country] }

// NormalizeIBAN returns the electronic form of an IBAN as people write it:
// spaces removed, letters in upper case ("de89 3704 0044 0532 0130 00" →
// "DE89370400440532013000"). It does not validate.
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// ValidateIBAN checks an IBAN, in print or electronic form (it is
// normalised first): two letters of a registered country, two check
// digits, letters and digits to the country's length, and the ISO 13616
// mod-97 checksum. It does not check the national BBAN structure. Codes:
// EInvalid.
func ValidateIBAN(s string) error {
	iban := NormalizeIBAN(s)
	if len(iban) < 5 || len(iban) > 34 {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q must be 5-34 letters and digits", clip(s))
	}
	if !upper(iban[0]) || !upper(iban[1]) {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q must start with a two-letter country code", clip(s))
	}
	if !digit(iban[2]) || !digit(iban[3]) {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q must have two check digits after the country code", clip(s))
	}
	for i := 4; i < len(iban); i++ {
		if !upper(iban[i]) && !digit(iban[i]) {
			return chengdui.Errorf(chengdui.EInvalid, "IBAN %q may hold only letters and digits", clip(s))
		}
	}
	want, ok := ibanLengths[iban[:2]]
	if !ok {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q: country %s issues no IBANs", clip(s), iban[:2])
	}
	if len(iban) != want {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q has %d characters; %s IBANs have %d", clip(s), len(iban), iban[:2], want)
	}
	// Check digits 00, 01 and 99 are never issued: 01 and 98 are the
	// same modulo 97, so mod-97 alone would accept both.
	if cd := iban[2:4]; cd == "00" || cd == "01" || cd == "99" {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q has impossible check digits %s", clip(s), cd)
	}
	if ibanMod97(iban) != 1 {
		return chengdui.Errorf(chengdui.EInvalid, "IBAN %q has a wrong checksum", clip(s))
	}
	return nil
}

// ibanMod97 is the remainder mod 97 of the IBAN with its first four
// characters moved to the end and letters replaced by 10–35, computed
// digit by digit (ISO 7064 MOD 97-10). iban holds only A-Z and 0-9.
func ibanMod97(iban string) int {
	r := 0
	for i := range len(iban) {
		c := iban[(i+4)%len(iban)]
		if digit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

// NormalizeBIC returns a BIC without surrounding spaces, in upper case.
func NormalizeBIC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidateBIC checks a business identifier code (ISO 9362), normalised
// first: 4 letters for the bank, 2 letters for the country, 2 letters or
// digits for the location and optionally 3 letters or digits for the
// branch (8 or 11 characters). Codes: EInvalid.
func ValidateBIC(s string) error {
	bic := NormalizeBIC(s)
	if len(bic) != 8 && len(bic) != 11 {
		return chengdui.Errorf(chengdui.EInvalid, "BIC %q must have 8 or 11 characters", clip(s))
	}
	for i := 0; i < len(bic); i++ {
		c := bic[i]
		switch {
		case i < 6 && !upper(c):
			return chengdui.Errorf(chengdui.EInvalid, "BIC %q must start with 4 letters for the bank and 2 for the country", clip(s))
		case !upper(c) && !digit(c):
			return chengdui.Errorf(chengdui.EInvalid, "BIC %q may hold only letters and digits", clip(s))
		}
	}
	return nil
}
