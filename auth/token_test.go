package auth

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewSessionToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		plain, hash, err := NewSessionToken()
		require.NoError(t, err)
		require.Len(t, plain, 43)
		raw, err := base64.RawURLEncoding.DecodeString(plain)
		require.NoError(t, err)
		require.Len(t, raw, 32)
		require.Regexp(t, `^[0-9a-f]{64}$`, hash)
		require.Equal(t, HashToken(plain), hash)
		require.False(t, seen[plain])
		seen[plain] = true
	}
}

func TestHashTokenVector(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 Appendix B.1.
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashToken("abc"))
}

func TestCSRF(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	otherSecret := bytes.Repeat([]byte{8}, 32)
	tok := CSRFToken(secret, "session-a")
	require.Len(t, tok, 43)
	require.Equal(t, tok, CSRFToken(secret, "session-a"), "deterministic")

	tests := []struct {
		name    string
		secret  []byte
		session string
		token   string
		ok      bool
	}{
		{"match", secret, "session-a", tok, true},
		{"other session", secret, "session-b", tok, false},
		{"other secret", otherSecret, "session-a", tok, false},
		{"empty token", secret, "session-a", "", false},
		{"truncated", secret, "session-a", tok[:42], false},
		{"extended", secret, "session-a", tok + "A", false},
		{"flipped char", secret, "session-a", "B" + tok[1:], false},
		{"empty session", secret, "", CSRFToken(secret, ""), false},
		{"short secret", secret[:31], "session-a", CSRFToken(secret[:31], "session-a"), false},
		{"nil secret", nil, "session-a", "", false},
	}
	if tok[0] == 'B' {
		tests[6].token = "C" + tok[1:]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.ok, CheckCSRF(tt.secret, tt.session, tt.token))
		})
	}
	require.Equal(t, "", CSRFToken(secret[:31], "session-a"), "fails closed on a short secret")
	require.Equal(t, "", CSRFToken(secret, ""), "fails closed on an empty session")
}

func FuzzCheckCSRF(f *testing.F) {
	secret := bytes.Repeat([]byte{7}, 32)
	f.Add("session-a", CSRFToken(secret, "session-a"))
	f.Add("", "")
	f.Add("session-a", "not a token")
	f.Fuzz(func(t *testing.T, session, token string) {
		ok := CheckCSRF(secret, session, token)
		require.Equal(t, session != "" && token == CSRFToken(secret, session), ok)
	})
}
