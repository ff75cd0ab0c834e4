package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"chengdui"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32: digits and lower-case letters
// without i, l, o and u. The letters a reader could confuse with a digit
// are not in it, and normaliseRecoveryCode reads them as the digit
// (o→0, i/l→1), so a code copied from paper works however it was misread.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const (
	recoveryChars  = 12 // 12 × 5 bits = 60 bits
	maxRecoveryLen = 64 // longer input is refused before any work
)

// NewRecoveryCodes returns RecoveryCodeCount fresh single-use codes to show
// the user once, formatted xxxx-xxxx-xxxx, and the hashes to store in the
// same order. The index of a code in that order is how UseRecoveryCode
// names it, so storage must keep positions stable (mark a used code, do not
// delete it and shift the rest).
//
// Each code carries 60 bits from crypto/rand. That is far beyond what an
// online attacker, rate-limited to a few guesses a minute, can search, and
// beyond what an offline attacker holding the hashes can invert with a fast
// hash; so the stored form is plain SHA-256 of the normalised code, without
// salt or a slow KDF. Slow hashing is for low-entropy secrets chosen by
// people, such as passwords.
func NewRecoveryCodes() (plain []string, hashes []string, err error) {
	plain = make([]string, 0, RecoveryCodeCount)
	hashes = make([]string, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(plain) < RecoveryCodeCount {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, chengdui.Errorf(chengdui.EInternal, "reading random recovery code: %v", err)
		}
		n := binary.BigEndian.Uint64(b[:])
		var code [recoveryChars]byte
		for i := range code {
			code[i] = recoveryAlphabet[n&31] // 32 symbols: no modulo bias
			n >>= 5
		}
		if seen[string(code[:])] { // 2^-60 odds, but two equal codes would be one code
			continue
		}
		seen[string(code[:])] = true
		plain = append(plain, string(code[0:4])+"-"+string(code[4:8])+"-"+string(code[8:12]))
		hashes = append(hashes, hashRecoveryCode(string(code[:])))
	}
	return plain, hashes, nil
}

// MatchRecoveryCode reports which of hashes the code typed by the user
// matches. Case, spaces and dashes are ignored, and o, i and l are read as
// 0, 1 and 1. Every stored hash is compared in constant time, with no early
// exit, so timing says nothing about the position or the stored values.
// Empty entries (used codes) never match.
func MatchRecoveryCode(hashes []string, input string) (index int, ok bool) {
	code, valid := normaliseRecoveryCode(input)
	if !valid {
		return -1, false
	}
	got := []byte(hashRecoveryCode(code))
	index = -1
	for i, h := range hashes {
		eq := subtle.ConstantTimeCompare(got, []byte(h)) == 1
		if eq && index < 0 {
			index = i
		}
	}
	return index, index >= 0
}

func hashRecoveryCode(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return hex.EncodeToString(sum[:])
}

// normaliseRecoveryCode maps user input to the canonical 12-character form
// and reports whether it is one.
func normaliseRecoveryCode(s string) (string, bool) {
	if len(s) > maxRecoveryLen {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case ' ', '\t', '-':
			continue
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if strings.IndexByte(recoveryAlphabet, c) < 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	if b.Len() != recoveryChars {
		return "", false
	}
	return b.String(), true
}
