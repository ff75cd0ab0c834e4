package sepa

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// specials spells letters and signs that have no decomposition into a
// Latin letter and accents, as German, Nordic and French banks do.
var specials = map[rune]string{
	'ß': "ss", 'ẞ': "SS",
	'Æ': "AE", 'æ': "ae", 'Œ': "OE", 'œ': "oe",
	'Ø': "O", 'ø': "o", 'Đ': "D", 'đ': "d", 'Ð': "D", 'ð': "d",
	'Ł': "L", 'ł': "l", 'Þ': "TH", 'þ': "th", 'ı': "i", 'Ħ': "H", 'ħ': "h",
	'&': "+", '_': "-", '"': "'", '‘': "'", '’': "'", '‚': "'",
	'“': "'", '”': "'", '„': "'", '«': "'", '»': "'",
	'–': "-", '—': "-", '‐': "-", '−': "-",
	'[': "(", ']': ")", '{': "(", '}': ")", ';': ",", '!': ".", '…': "...",
}

// inSEPASet reports whether r is in the SEPA basic Latin character set
// (EPC217-08): a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
func inSEPASet(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("/-?:().,'+ ", r)
}

// Transliterate turns text into the SEPA basic Latin character set that
// every SEPA bank must carry: compatibility forms are unfolded (ﬁ → fi,
// full-width Ａ → A), accents are dropped ("Müller" → "Muller",
// "François" → "Francois"), a few letters and signs are spelled out or
// replaced (ß → ss, æ → ae, ø → o, & → +, _ → -, curly quotes → '), and
// anything else (other scripts, @, #, *, control characters) becomes a
// space; runs of spaces are collapsed and the ends trimmed, so a name in
// Chinese characters alone transliterates to "" and is refused by Build.
func Transliterate(s string) string {
	var b strings.Builder
	space := true // drop leading spaces
	put := func(r rune) {
		if r == ' ' {
			if space {
				return
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	for _, r := range norm.NFKD.String(strings.ToValidUTF8(s, " ")) {
		switch {
		case inSEPASet(r):
			put(r)
		case unicode.Is(unicode.Mn, r):
			// a combining accent split off by NFKD: drop it
		case specials[r] != "":
			for _, c := range specials[r] {
				put(c)
			}
		default:
			put(' ')
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// truncate cuts a SEPA-set (ASCII) string to at most n characters and
// trims a trailing space the cut may leave.
func truncate(s string, n int) string {
	if len(s) > n {
		s = strings.TrimRight(s[:n], " ")
	}
	return s
}
