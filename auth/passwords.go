package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"chengdui"
)

// Password policy limits.
const (
	MinPasswordChars = 10
	// MaxPasswordBytes bounds the work an attacker can make us do per request
	// and is far above anything a password manager generates.
	MaxPasswordBytes = 1024
)

// Limits on parameters read back from a stored hash. A hash string is data,
// and data can be corrupted or planted: without these a single row could ask
// for terabytes of memory or hours of CPU on every login attempt.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 10
	maxThreads   = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
	maxPHCLen    = 512
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the parameters new hashes are made with: RFC 9106's
// second recommended option (64 MiB, t=3), with p=2 so a login occupies at
// most two cores. VerifyPassword reports needsRehash for hashes made with
// any other parameters.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// TestParams returns deliberately weak parameters for tests only.
func TestParams() Params {
	return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func (p Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return chengdui.Errorf(chengdui.EInvalid, "argon2id parallelism %d outside 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return chengdui.Errorf(chengdui.EInvalid, "argon2id memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return chengdui.Errorf(chengdui.EInvalid, "argon2id time %d outside 1..%d", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return chengdui.Errorf(chengdui.EInvalid, "argon2id salt length %d outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return chengdui.Errorf(chengdui.EInvalid, "argon2id key length %d outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// HashPassword hashes pw with argon2id and a fresh random salt and returns
// it in PHC string format:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
//
// The password is NFKC-normalised first (NIST SP 800-63B §5.1.1.2) so that
// the same characters typed on different keyboards verify. It does not
// apply the password policy; call CheckPassword where a password is chosen.
//
// Returns EInvalid for an empty or over-long password or unusable params.
func HashPassword(pw string, p Params) (string, error) {
	if pw == "" {
		return "", chengdui.Errorf(chengdui.EInvalid, "password must not be empty")
	} else if len(pw) > MaxPasswordBytes {
		return "", chengdui.Errorf(chengdui.EInvalid, "password must be at most %d bytes long", MaxPasswordBytes)
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", chengdui.Errorf(chengdui.EInternal, "reading random salt: %v", err)
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return formatPHC(p, salt, key), nil
}

// VerifyPassword reports whether pw matches the PHC-encoded hash, comparing
// in constant time. needsRehash is true when the password matched but the
// hash was made with parameters other than DefaultParams; the caller should
// then store a fresh HashPassword(pw, DefaultParams()).
//
// A password longer than MaxPasswordBytes never matches (and is not hashed).
// Returns EInternal if the stored hash is malformed or asks for absurd costs;
// the message never contains the hash.
func VerifyPassword(encoded, pw string) (ok bool, needsRehash bool, err error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, false, chengdui.Errorf(chengdui.EInternal, "stored password hash is unusable: %s", chengdui.ErrorMessage(err))
	}
	if len(pw) > MaxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != DefaultParams(), nil
}

var b64 = base64.RawStdEncoding.Strict()

func formatPHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsePHC parses an argon2id PHC string. It accepts only the canonical form
// formatPHC writes (fields in order, no leading zeros, unpadded base64), so
// that a hash has exactly one encoding, and refuses costs outside the limits
// above before any work is done. Errors are EInvalid and never quote the
// input.
func parsePHC(s string) (p Params, salt, key []byte, err error) {
	bad := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, chengdui.Errorf(chengdui.EInvalid, "argon2id hash: "+format, args...)
	}
	if len(s) > maxPHCLen {
		return bad("longer than %d bytes", maxPHCLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("unsupported algorithm")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want parameters m, t and p")
	}
	var vals [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return bad("want parameters m, t and p in that order")
		}
		n, ok := parseDecimal(v)
		if !ok {
			return bad("parameter %s is not a canonical decimal number", name)
		}
		vals[i] = n
	}
	if vals[2] > maxThreads {
		return bad("parallelism %d above %d", vals[2], maxThreads)
	}
	p = Params{Memory: vals[0], Time: vals[1], Threads: uint8(vals[2])}
	// The decoder skips '\r' and '\n' even in strict mode; re-encoding
	// catches them and any other non-canonical spelling.
	if salt, err = b64.DecodeString(parts[4]); err != nil || b64.EncodeToString(salt) != parts[4] {
		return bad("salt is not unpadded base64")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || b64.EncodeToString(key) != parts[5] {
		return bad("hash is not unpadded base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return bad("%s", chengdui.ErrorMessage(err))
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical unsigned decimal that fits in 32 bits:
// digits only, no sign, no leading zeros.
func parseDecimal(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

//go:embed common-passwords.txt
var commonPasswordsTxt string

// commonPasswords is built once from the embedded list and never modified.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{})
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsTxt))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// CheckPassword applies the password policy to a newly chosen password: at
// least MinPasswordChars characters, at most MaxPasswordBytes bytes, valid
// UTF-8, not the account's email address or its local part, not one
// character repeated, and not on the embedded list of most common
// passwords. Length and composition rules beyond that are deliberately
// absent (NIST SP 800-63B): they push people towards predictable patterns.
//
// Returns EInvalid with a message the user can act on; the message never
// contains the password.
func CheckPassword(pw, email string) error {
	if len(pw) > MaxPasswordBytes {
		return chengdui.Errorf(chengdui.EInvalid, "password must be at most %d bytes long", MaxPasswordBytes)
	}
	if !utf8.ValidString(pw) {
		return chengdui.Errorf(chengdui.EInvalid, "password must be valid UTF-8 text")
	}
	pw = norm.NFKC.String(pw)
	if utf8.RuneCountInString(pw) < MinPasswordChars {
		return chengdui.Errorf(chengdui.EInvalid, "password must be at least %d characters long", MinPasswordChars)
	}
	email = strings.TrimSpace(email)
	if email != "" {
		local := email
		if i := strings.LastIndexByte(email, '@'); i >= 0 {
			local = email[:i]
		}
		trimmed := strings.TrimSpace(pw)
		if strings.EqualFold(trimmed, email) || strings.EqualFold(trimmed, local) {
			return chengdui.Errorf(chengdui.EInvalid, "password must not be your email address")
		}
	}
	first, _ := utf8.DecodeRuneInString(pw)
	if strings.Trim(pw, string(first)) == "" {
		return chengdui.Errorf(chengdui.EInvalid, "password must not be a single character repeated")
	}
	if _, ok := commonPasswords()[strings.ToLower(pw)]; ok {
		return chengdui.Errorf(chengdui.EInvalid, "password is one of the most commonly used passwords; choose another")
	}
	return nil
}
