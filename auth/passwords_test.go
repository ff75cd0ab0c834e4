package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

func TestHashAndVerifyPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	enc, err := HashPassword(pw, TestParams())
	require.NoError(t, err)
	require.Regexp(t, `^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, enc)

	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"same", pw, true},
		{"different", "correct horse battery stapler", false},
		{"case differs", "Correct horse battery staple", false},
		{"empty", "", false},
		{"too long never matches", pw + strings.Repeat("x", MaxPasswordBytes), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(enc, tt.pw)
			require.NoError(t, err)
			require.Equal(t, tt.ok, ok)
			// TestParams differ from DefaultParams, so a match asks for a rehash.
			require.Equal(t, tt.ok, rehash)
		})
	}
}

func TestHashPasswordSaltsEachHash(t *testing.T) {
	a, err := HashPassword("same password twice", TestParams())
	require.NoError(t, err)
	b, err := HashPassword("same password twice", TestParams())
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestPasswordNFKC(t *testing.T) {
	composed := "caf\u00e9 au lait!"    // é as one code point
	decomposed := "cafe\u0301 au lait!" // e + combining acute
	enc, err := HashPassword(composed, TestParams())
	require.NoError(t, err)
	ok, _, err := VerifyPassword(enc, decomposed)
	require.NoError(t, err)
	require.True(t, ok)
}

// TestDefaultParams is the one test that pays for the real cost.
func TestDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("argon2id with 64 MiB")
	}
	require.Equal(t, Params{Memory: 65536, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}, DefaultParams())
	enc, err := HashPassword("a long enough password", DefaultParams())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=3,p=2$"), enc)
	ok, rehash, err := VerifyPassword(enc, "a long enough password")
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, rehash)
}

func TestHashPasswordRefuses(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		p    Params
	}{
		{"empty password", "", TestParams()},
		{"long password", strings.Repeat("a", MaxPasswordBytes+1), TestParams()},
		{"zero params", "long enough pw", Params{}},
		{"memory too high", "long enough pw", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"memory below 8p", "long enough pw", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"time too high", "long enough pw", Params{Memory: 64, Time: 11, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"threads too high", "long enough pw", Params{Memory: 1024, Time: 1, Threads: 17, SaltLen: 16, KeyLen: 32}},
		{"salt too short", "long enough pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"key too short", "long enough pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HashPassword(tt.pw, tt.p)
			requireCode(t, err, chengdui.EInvalid)
		})
	}
}

func phc(m, tm, p string, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%s,t=%s,p=%s$%s$%s", m, tm, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestParsePHC(t *testing.T) {
	salt, key := make([]byte, 16), make([]byte, 32)
	good := phc("65536", "3", "2", salt, key)
	p, s, k, err := parsePHC(good)
	require.NoError(t, err)
	require.Equal(t, DefaultParams(), p)
	require.Equal(t, salt, s)
	require.Equal(t, key, k)

	bad := []struct{ name, in string }{
		{"empty", ""},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"missing version", "$argon2id$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"no leading $", good[1:]},
		{"trailing $", good + "$"},
		{"extra field", strings.Replace(good, "$v=19$", "$v=19$x=1$", 1)},
		{"params out of order", strings.Replace(good, "m=65536,t=3,p=2", "t=3,m=65536,p=2", 1)},
		{"missing p", strings.Replace(good, ",p=2", "", 1)},
		{"extra param", strings.Replace(good, "p=2", "p=2,k=1", 1)},
		{"leading zero", phc("065536", "3", "2", salt, key)},
		{"plus sign", phc("+65536", "3", "2", salt, key)},
		{"negative", phc("-1", "3", "2", salt, key)},
		{"hex", phc("0x10000", "3", "2", salt, key)},
		{"overflow", phc("4294967296", "3", "2", salt, key)},
		{"empty number", phc("", "3", "2", salt, key)},
		{"memory above 1 GiB", phc("1048577", "3", "2", salt, key)},
		{"memory 4 GiB", phc("4194304", "3", "2", salt, key)},
		{"memory below 8p", phc("15", "1", "2", salt, key)},
		{"time 0", phc("65536", "0", "2", salt, key)},
		{"time 11", phc("65536", "11", "2", salt, key)},
		{"time huge", phc("65536", "4294967295", "2", salt, key)},
		{"threads 0", phc("65536", "3", "0", salt, key)},
		{"threads 17", phc("65536", "3", "17", salt, key)},
		{"threads 256 wraps uint8", phc("65536", "3", "256", salt, key)},
		{"salt too short", phc("65536", "3", "2", make([]byte, 7), key)},
		{"salt too long", phc("65536", "3", "2", make([]byte, 65), key)},
		{"key too short", phc("65536", "3", "2", salt, make([]byte, 15))},
		{"key too long", phc("65536", "3", "2", salt, make([]byte, 65))},
		{"padded base64", good + "="},
		{"url base64", strings.Replace(phc("65536", "3", "2", []byte{0xfb, 0xff, 0xfb, 0xff, 0xfb, 0xff, 0xfb, 0xff}, key), "+", "-", -1)},
		{"non-canonical base64 tail", good[:len(good)-1] + "B"},
		{"newline in hash", good + "\n"},
		{"carriage return in salt", strings.Replace(good, "$AAAA", "$AA\r\nAA", 1)},
		{"too long", good + strings.Repeat("A", maxPHCLen)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parsePHC(tt.in)
			requireCode(t, err, chengdui.EInvalid)
		})
	}
}

func TestVerifyPasswordMalformedHash(t *testing.T) {
	const secretish = "$argon2id$v=19$m=4194304,t=3,p=2$c2VjcmV0c2FsdHNlY3JldA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	ok, rehash, err := VerifyPassword(secretish, "whatever password")
	requireCode(t, err, chengdui.EInternal)
	require.False(t, ok)
	require.False(t, rehash)
	require.NotContains(t, err.Error(), "c2VjcmV0c2FsdHNlY3JldA")
	require.NotContains(t, err.Error(), "whatever password")
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, pw, email string
		wantMsg         string // "" means accepted
	}{
		{"ok", "tangerine-lantern-42", "alice@example.com", ""},
		{"exactly 10 chars", "Zq8#kLm2vX", "alice@example.com", ""},
		{"10 CJK characters", "密码是很长的一句话吧", "alice@example.com", ""},
		{"9 chars", "Zq8#kLm2v", "", "at least 10 characters"},
		{"9 CJK characters (27 bytes)", "密码是很长的一句话", "", "at least 10 characters"},
		{"empty", "", "", "at least 10 characters"},
		{"1024 bytes", strings.Repeat("ab", 512), "", ""},
		{"1025 bytes", strings.Repeat("ab", 512) + "c", "", "at most 1024 bytes"},
		{"invalid utf8", "abcdefghij\xff", "", "valid UTF-8"},
		{"equals email", "alice.smith@example.com", "alice.smith@example.com", "email address"},
		{"equals email other case", "Alice.Smith@Example.com", "alice.smith@example.com", "email address"},
		{"equals email with spaces", " alice.smith@example.com ", "alice.smith@example.com", "email address"},
		{"equals local part", "alice.smith", "alice.smith@example.com", "email address"},
		{"contains email is fine", "alice.smith@example.com!x", "alice.smith@example.com", ""},
		{"common", "password123", "", "most commonly used"},
		{"common other case", "QwertyUIOP", "", "most commonly used"},
		{"common numeric", "1234567890", "", "most commonly used"},
		{"common fullwidth (NFKC)", "ｐａｓｓｗｏｒｄ１２３", "", "most commonly used"},
		{"repeated char", "aaaaaaaaaaaa", "", "single character repeated"},
		{"repeated multibyte char", "ééééééééééé", "", "single character repeated"},
		{"no email given", "tangerine-lantern-42", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw, tt.email)
			if tt.wantMsg == "" {
				require.NoError(t, err)
				return
			}
			requireCode(t, err, chengdui.EInvalid)
			require.Contains(t, err.Error(), tt.wantMsg)
			if tt.pw != "" {
				require.NotContains(t, err.Error(), tt.pw)
			}
		})
	}
}

func TestCommonPasswordListLoads(t *testing.T) {
	set := commonPasswords()
	require.Greater(t, len(set), 50)
	for pw := range set {
		require.Equal(t, strings.ToLower(pw), pw)
		require.GreaterOrEqual(t, len([]rune(pw)), MinPasswordChars, "%q is refused by length already", pw)
	}
}

func FuzzParsePHC(f *testing.F) {
	salt, key := make([]byte, 16), make([]byte, 32)
	f.Add(phc("65536", "3", "2", salt, key))
	f.Add(phc("64", "1", "1", salt, key))
	f.Add(phc("1048577", "3", "2", salt, key))
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Add("")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			requireCode(t, err, chengdui.EInvalid)
			if len(s) >= 8 {
				require.NotContains(t, err.Error(), s)
			}
			return
		}
		// Whatever parses is within the limits and canonical.
		require.NoError(t, p.validate())
		require.LessOrEqual(t, p.Memory, uint32(maxMemoryKiB))
		require.LessOrEqual(t, p.Time, uint32(maxTime))
		require.Equal(t, s, formatPHC(p, salt, key))
	})
}

var checkPasswordMessages = []string{
	"password must be at most 1024 bytes long",
	"password must be valid UTF-8 text",
	"password must be at least 10 characters long",
	"password must not be your email address",
	"password must not be a single character repeated",
	"password is one of the most commonly used passwords; choose another",
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("tangerine-lantern-42", "alice@example.com")
	f.Add("alice", "alice@example.com")
	f.Add("password123", "")
	f.Add("\xff\xfe", "x")
	f.Fuzz(func(t *testing.T, pw, email string) {
		err := CheckPassword(pw, email)
		if err == nil {
			require.LessOrEqual(t, len(pw), MaxPasswordBytes)
			return
		}
		requireCode(t, err, chengdui.EInvalid)
		// Fixed messages only: nothing of the input is echoed.
		require.Contains(t, checkPasswordMessages, chengdui.ErrorMessage(err))
	})
}
