package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"slices"
	"strings"

	"chengdui"
)

// An API key reads cd_<id>_<secret>: id is 8 random base62 characters and
// secret 43 (256 bits). The first APIKeyPrefixLen characters, "cd_<id>",
// are stored in clear to find the key's row; the whole key is stored only
// as SHA-256. The "cd_" marker lets secret scanners and people recognise a
// leaked key.
const (
	apiKeyMarker    = "cd_"
	apiKeyIDLen     = 8
	apiKeySecretLen = 43 // 62^43 > 2^256
	// APIKeyPrefixLen is the length of the stored lookup prefix "cd_<id>".
	APIKeyPrefixLen = len(apiKeyMarker) + apiKeyIDLen
	apiKeyLen       = APIKeyPrefixLen + 1 + apiKeySecretLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey returns a new key to show the merchant once, its lookup prefix
// and the SHA-256 hex of the whole key to store. Prefixes are random, not
// guaranteed unique: storage keeps a unique index on them and, on the rare
// conflict, the caller makes a new key.
func NewAPIKey() (plain string, prefix string, hash string, err error) {
	id, err := randomBase62(apiKeyIDLen)
	if err != nil {
		return "", "", "", err
	}
	secret, err := randomBase62(apiKeySecretLen)
	if err != nil {
		return "", "", "", err
	}
	plain = apiKeyMarker + id + "_" + secret
	return plain, plain[:APIKeyPrefixLen], HashToken(plain), nil
}

// randomBase62 returns n uniformly random base62 characters, rejecting
// bytes >= 248 (= 4 × 62) so that no character is likelier than another.
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", chengdui.Errorf(chengdui.EInternal, "reading random key: %v", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// ParseAPIKey checks that s has the form of an API key and returns its
// lookup prefix. Returns EUnauthorized "malformed API key" otherwise; the
// message never quotes s.
func ParseAPIKey(s string) (prefix string, err error) {
	if len(s) != apiKeyLen || !strings.HasPrefix(s, apiKeyMarker) || s[APIKeyPrefixLen] != '_' ||
		!isBase62(s[len(apiKeyMarker):APIKeyPrefixLen]) || !isBase62(s[APIKeyPrefixLen+1:]) {
		return "", chengdui.Errorf(chengdui.EUnauthorized, "malformed API key")
	}
	return s[:APIKeyPrefixLen], nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// CheckAPIKey reports, in constant time, whether plain hashes to storedHash.
func CheckAPIKey(plain, storedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashToken(plain)), []byte(storedHash)) == 1
}

// Scope is a permission an API key grants within its store.
type Scope string

// The scopes an API key can hold. Keys belong to one store, so scopes
// carry no store id.
const (
	ScopeInvoiceCreate Scope = "invoice:create"
	ScopeInvoiceRead   Scope = "invoice:read"
	// ScopeInvoiceWrite (modify, archive, mark) implies ScopeInvoiceRead and
	// ScopeInvoiceCreate, as Greenfield's canmodifyinvoices implies
	// canviewinvoices and cancreateinvoice: a Greenfield client holding
	// that permission expects to do both.
	ScopeInvoiceWrite  Scope = "invoice:write"
	ScopeWebhookManage Scope = "webhook:manage"
	ScopePayoutCreate  Scope = "payout:create"
)

// AllScopes lists every scope in canonical order.
func AllScopes() []Scope {
	return []Scope{ScopeInvoiceCreate, ScopeInvoiceRead, ScopeInvoiceWrite, ScopeWebhookManage, ScopePayoutCreate}
}

// implied lists, for each scope, the other scopes it grants.
func implied(s Scope) []Scope {
	if s == ScopeInvoiceWrite {
		return []Scope{ScopeInvoiceRead, ScopeInvoiceCreate}
	}
	return nil
}

// greenfieldScope maps BTCPay Greenfield permission names to ours where one
// means the same thing, so that Greenfield clients can ask for keys in their
// own words. Greenfield permissions with no counterpart here are refused
// rather than widened or narrowed: canmodifystoresettings, for one, covers
// payouts, webhooks and store settings at once.
func greenfieldScope(name string) (Scope, bool) {
	switch name {
	case "btcpay.store.cancreateinvoice":
		return ScopeInvoiceCreate, true
	case "btcpay.store.canviewinvoices":
		return ScopeInvoiceRead, true
	case "btcpay.store.canmodifyinvoices":
		return ScopeInvoiceWrite, true
	case "btcpay.store.webhooks.canmodifywebhooks":
		return ScopeWebhookManage, true
	case "btcpay.store.cancreatepullpayments": // required by POST /stores/{storeId}/payouts
		return ScopePayoutCreate, true
	}
	return "", false
}

// maxScopeName bounds names quoted in error messages.
const maxScopeName = 64

// ParseScopes reads scope names, ours or Greenfield's, case-insensitively
// and ignoring surrounding spaces, and returns them without duplicates in
// the order of AllScopes.
//
// Returns EInvalid naming the first unknown scope, for a Greenfield
// permission restricted to a store ("btcpay.store.x:storeid"; our keys
// already belong to one store), and for an empty list.
func ParseScopes(names []string) (Scopes, error) {
	if len(names) == 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "at least one scope is required")
	}
	have := make(map[Scope]bool, len(names))
	for _, raw := range names {
		name := strings.ToLower(strings.TrimSpace(raw))
		if s := Scope(name); slices.Contains(AllScopes(), s) {
			have[s] = true
			continue
		}
		if s, ok := greenfieldScope(name); ok {
			have[s] = true
			continue
		}
		if base, _, ok := strings.Cut(name, ":"); ok && strings.HasPrefix(base, "btcpay.") {
			if _, known := greenfieldScope(base); known {
				return nil, chengdui.Errorf(chengdui.EInvalid, "scope %q is restricted to a store; API keys already belong to one store, use %q", quotable(raw), base)
			}
		}
		return nil, chengdui.Errorf(chengdui.EInvalid, "unknown scope %q; known scopes are %s", quotable(raw), strings.Join(scopeNames(), ", "))
	}
	var out Scopes
	for _, s := range AllScopes() {
		if have[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// quotable shortens a caller-supplied name before it goes into a message.
func quotable(s string) string {
	if len(s) > maxScopeName {
		return s[:maxScopeName] + "…"
	}
	return s
}

func scopeNames() []string {
	var names []string
	for _, s := range AllScopes() {
		names = append(names, string(s))
	}
	return names
}

// Scopes is the set of scopes an API key holds.
type Scopes []Scope

// Allows reports whether the scopes grant s, directly or by implication.
func (ss Scopes) Allows(s Scope) bool {
	for _, have := range ss {
		if have == s || slices.Contains(implied(have), s) {
			return true
		}
	}
	return false
}

// Strings returns the scope names, for storage and responses.
func (ss Scopes) Strings() []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// Authorization schemes ParseAuthorization accepts.
const (
	SchemeToken  = "token"  // Greenfield: "Authorization: token <key>"
	SchemeBearer = "bearer" // RFC 6750
)

// maxCredentialLen is far above any key or token this package makes.
const maxCredentialLen = 512

// ParseAuthorization splits an Authorization header into its scheme, in
// lower case (SchemeToken or SchemeBearer; the scheme is matched
// case-insensitively), and its credential. Surrounding spaces are trimmed.
// The credential must be RFC 7235 token68 characters.
//
// Returns EUnauthorized for any other scheme, a missing credential or a
// malformed one; messages never quote the header.
func ParseAuthorization(header string) (kind string, credential string, err error) {
	h := strings.TrimSpace(header)
	i := strings.IndexAny(h, " \t")
	if i < 0 {
		if h == "" {
			return "", "", chengdui.Errorf(chengdui.EUnauthorized, "missing Authorization header")
		}
		i = len(h)
	}
	switch kind = strings.ToLower(h[:i]); kind {
	case SchemeToken, SchemeBearer:
	default:
		return "", "", chengdui.Errorf(chengdui.EUnauthorized, "unsupported authorization scheme; send \"token <key>\" or \"Bearer <key>\"")
	}
	credential = strings.TrimSpace(h[i:])
	if credential == "" {
		return "", "", chengdui.Errorf(chengdui.EUnauthorized, "missing credential after authorization scheme")
	}
	if len(credential) > maxCredentialLen || !isToken68(credential) {
		return "", "", chengdui.Errorf(chengdui.EUnauthorized, "malformed credential")
	}
	return kind, credential, nil
}

// isToken68 reports whether s matches RFC 7235's
// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}
