package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"

	"chengdui"
)

const sessionTokenBytes = 32

// NewSessionToken returns a fresh session token for the cookie or bearer
// header (32 random bytes, URL-safe base64 without padding) and the SHA-256
// hex of it, which is all storage keeps: a stolen sessions table cannot be
// replayed.
func NewSessionToken() (plain, hash string, err error) {
	var b [sessionTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", chengdui.Errorf(chengdui.EInternal, "reading random session token: %v", err)
	}
	plain = base64.RawURLEncoding.EncodeToString(b[:])
	return plain, HashToken(plain), nil
}

// HashToken returns the SHA-256 hex of a high-entropy token (session token
// or API key): the form it is stored and looked up by. Any string is
// accepted; a malformed token simply finds nothing.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// MinCSRFSecretLen is the shortest session secret CSRFToken accepts.
const MinCSRFSecretLen = 32

// csrfLabel separates CSRF MACs from any other use of the same key.
const csrfLabel = "chengdui/csrf/v1\x00"

// CSRFToken returns the CSRF token for a session: HMAC-SHA256 under the
// server's secret of the session's id, in URL-safe base64. Pages put it in
// forms and a header; CheckCSRF recomputes it. This is the signed
// double-submit pattern: an attacker can neither read the token (same-origin
// policy) nor compute it for a victim's session (no secret), and it needs no
// server-side state. sessionID must be something the attacker cannot choose,
// such as the stored hash of the session token.
//
// It fails closed: with a secret shorter than MinCSRFSecretLen or an empty
// sessionID it returns "", which CheckCSRF never accepts.
func CSRFToken(sessionSecret []byte, sessionID string) string {
	if len(sessionSecret) < MinCSRFSecretLen || sessionID == "" {
		return ""
	}
	m := hmac.New(sha256.New, sessionSecret)
	m.Write([]byte(csrfLabel))
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether token is the CSRF token of
// the session.
func CheckCSRF(sessionSecret []byte, sessionID, token string) bool {
	want := CSRFToken(sessionSecret, sessionID)
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}
