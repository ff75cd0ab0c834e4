package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

func TestNewAPIKey(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		plain, prefix, hash, err := NewAPIKey()
		require.NoError(t, err)
		require.Regexp(t, `^cd_[0-9A-Za-z]{8}_[0-9A-Za-z]{43}$`, plain)
		require.Len(t, prefix, 11)
		require.Equal(t, plain[:11], prefix)
		require.Regexp(t, `^[0-9a-f]{64}$`, hash)
		require.Equal(t, HashToken(plain), hash)
		require.False(t, seen[plain])
		seen[plain] = true

		got, err := ParseAPIKey(plain)
		require.NoError(t, err)
		require.Equal(t, prefix, got)
		require.True(t, CheckAPIKey(plain, hash))
	}
}

func TestCheckAPIKey(t *testing.T) {
	plain, _, hash, err := NewAPIKey()
	require.NoError(t, err)
	other, _, otherHash, err := NewAPIKey()
	require.NoError(t, err)
	tests := []struct {
		name, plain, hash string
		ok                bool
	}{
		{"match", plain, hash, true},
		{"other key", other, hash, false},
		{"other hash", plain, otherHash, false},
		{"one char changed", plain[:len(plain)-1] + "!", hash, false},
		{"upper-case hash", plain, strings.ToUpper(hash), false},
		{"empty hash", plain, "", false},
		{"empty key", "", hash, false},
		{"hash as key", hash, hash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.ok, CheckAPIKey(tt.plain, tt.hash))
		})
	}
}

func TestParseAPIKey(t *testing.T) {
	good := "cd_Ab3dE6gH_" + strings.Repeat("x", 43)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", good, true},
		{"empty", "", false},
		{"no marker", "xx" + good[2:], false},
		{"upper marker", "CD" + good[2:], false},
		{"short id", "cd_Ab3dE6g_" + strings.Repeat("x", 44), false},
		{"missing separator", "cd_Ab3dE6gHx" + strings.Repeat("x", 43), false},
		{"short secret", good[:len(good)-1], false},
		{"long secret", good + "x", false},
		{"symbol in id", "cd_Ab3dE-gH_" + strings.Repeat("x", 43), false},
		{"symbol in secret", good[:len(good)-1] + "/", false},
		{"space", " " + good[1:], false},
		{"non-ascii", strings.Replace(good, "x", "é", 1)[:len(good)], false},
		{"session token", strings.Repeat("A", 43), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix, err := ParseAPIKey(tt.in)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, tt.in[:11], prefix)
				return
			}
			requireCode(t, err, chengdui.EUnauthorized)
			require.Equal(t, "malformed API key", chengdui.ErrorMessage(err))
		})
	}
}

func FuzzParseAPIKey(f *testing.F) {
	plain, _, _, err := NewAPIKey()
	require.NoError(f, err)
	f.Add(plain)
	f.Add("cd__")
	f.Add("")
	f.Add("cd_" + strings.Repeat("\xff", 52))
	f.Fuzz(func(t *testing.T, s string) {
		prefix, err := ParseAPIKey(s)
		if err != nil {
			requireCode(t, err, chengdui.EUnauthorized)
			require.Equal(t, "malformed API key", chengdui.ErrorMessage(err))
			return
		}
		require.Len(t, s, apiKeyLen)
		require.Equal(t, s[:APIKeyPrefixLen], prefix)
		require.True(t, strings.HasPrefix(prefix, "cd_"))
		require.True(t, isBase62(s[3:11]+s[12:]))
	})
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    Scopes
		wantErr string
	}{
		{"ours", []string{"invoice:read", "invoice:create"}, Scopes{ScopeInvoiceCreate, ScopeInvoiceRead}, ""},
		{"all ours", []string{"payout:create", "webhook:manage", "invoice:write", "invoice:read", "invoice:create"}, Scopes(AllScopes()), ""},
		{"duplicates", []string{"invoice:read", "invoice:read", " INVOICE:READ "}, Scopes{ScopeInvoiceRead}, ""},
		{"greenfield create", []string{"btcpay.store.cancreateinvoice"}, Scopes{ScopeInvoiceCreate}, ""},
		{"greenfield view", []string{"btcpay.store.canviewinvoices"}, Scopes{ScopeInvoiceRead}, ""},
		{"greenfield modify", []string{"btcpay.store.canmodifyinvoices"}, Scopes{ScopeInvoiceWrite}, ""},
		{"greenfield webhooks", []string{"btcpay.store.webhooks.canmodifywebhooks"}, Scopes{ScopeWebhookManage}, ""},
		{"greenfield payouts", []string{"btcpay.store.cancreatepullpayments"}, Scopes{ScopePayoutCreate}, ""},
		{"greenfield mixed case", []string{"BTCPay.Store.CanViewInvoices"}, Scopes{ScopeInvoiceRead}, ""},
		{"mixed", []string{"btcpay.store.canviewinvoices", "invoice:read", "webhook:manage"}, Scopes{ScopeInvoiceRead, ScopeWebhookManage}, ""},
		{"empty list", nil, nil, "at least one scope"},
		{"unknown", []string{"invoice:read", "invoice:delete"}, nil, `unknown scope "invoice:delete"`},
		{"empty name", []string{""}, nil, `unknown scope ""`},
		{"greenfield unmapped", []string{"btcpay.store.canmodifystoresettings"}, nil, `unknown scope "btcpay.store.canmodifystoresettings"`},
		{"unrestricted", []string{"unrestricted"}, nil, `unknown scope "unrestricted"`},
		{"store-restricted", []string{"btcpay.store.cancreateinvoice:6HSHAEU4iYWtjxtyRs9KyPjM9GAQp8kw2T9VWbGG1FnZ"}, nil, "restricted to a store"},
		{"long name shortened", []string{strings.Repeat("x", 200)}, nil, strings.Repeat("x", 64) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			if tt.wantErr != "" {
				requireCode(t, err, chengdui.EInvalid)
				require.Contains(t, chengdui.ErrorMessage(err), tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestScopesAllows(t *testing.T) {
	tests := []struct {
		have   Scopes
		want   Scope
		allows bool
	}{
		{Scopes{ScopeInvoiceRead}, ScopeInvoiceRead, true},
		{Scopes{ScopeInvoiceRead}, ScopeInvoiceCreate, false},
		{Scopes{ScopeInvoiceRead}, ScopeInvoiceWrite, false},
		{Scopes{ScopeInvoiceCreate}, ScopeInvoiceRead, false},
		{Scopes{ScopeInvoiceWrite}, ScopeInvoiceRead, true},
		{Scopes{ScopeInvoiceWrite}, ScopeInvoiceCreate, true},
		{Scopes{ScopeInvoiceWrite}, ScopeWebhookManage, false},
		{Scopes{ScopeInvoiceWrite}, ScopePayoutCreate, false},
		{Scopes{ScopeWebhookManage}, ScopeInvoiceRead, false},
		{Scopes{ScopePayoutCreate}, ScopePayoutCreate, true},
		{Scopes{ScopeInvoiceRead, ScopePayoutCreate}, ScopePayoutCreate, true},
		{nil, ScopeInvoiceRead, false},
		{Scopes{"invoice:*"}, ScopeInvoiceRead, false},
		{Scopes(AllScopes()), Scope(""), false},
	}
	for _, tt := range tests {
		t.Run(string(tt.want)+" by "+strings.Join(tt.have.Strings(), ","), func(t *testing.T) {
			require.Equal(t, tt.allows, tt.have.Allows(tt.want))
		})
	}
}

func FuzzParseScopes(f *testing.F) {
	f.Add("invoice:read,btcpay.store.canmodifyinvoices")
	f.Add("btcpay.store.cancreateinvoice:store1")
	f.Add("")
	f.Add(",,")
	f.Fuzz(func(t *testing.T, list string) {
		got, err := ParseScopes(strings.Split(list, ","))
		if err != nil {
			requireCode(t, err, chengdui.EInvalid)
			require.Less(t, len(chengdui.ErrorMessage(err)), 400)
			return
		}
		require.NotEmpty(t, got)
		// Canonical: a subsequence of AllScopes, so sorted and distinct.
		all := AllScopes()
		j := 0
		for _, s := range got {
			for j < len(all) && all[j] != s {
				j++
			}
			require.Less(t, j, len(all), "scope %q out of order or unknown", s)
			j++
		}
		// Parsing the canonical names gives the same set back.
		again, err := ParseScopes(got.Strings())
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

func TestParseAuthorization(t *testing.T) {
	key := "cd_Ab3dE6gH_" + strings.Repeat("x", 43)
	tests := []struct {
		name, header, kind, cred string
		wantErr                  string
	}{
		{"greenfield token", "token " + key, SchemeToken, key, ""},
		{"bearer", "Bearer " + key, SchemeBearer, key, ""},
		{"scheme case", "TOKEN " + key, SchemeToken, key, ""},
		{"bearer lower", "bearer abc-_.~+/==", SchemeBearer, "abc-_.~+/==", ""},
		{"spaces trimmed", "  Bearer    " + key + "  ", SchemeBearer, key, ""},
		{"tab separator", "Bearer\t" + key, SchemeBearer, key, ""},
		{"empty", "", "", "", "missing Authorization header"},
		{"blank", "   ", "", "", "missing Authorization header"},
		{"basic", "Basic dXNlcjpwYXNz", "", "", "unsupported authorization scheme"},
		{"digest", "Digest username=x", "", "", "unsupported authorization scheme"},
		{"no scheme", key, "", "", "unsupported authorization scheme"},
		{"scheme only", "Bearer", "", "", "missing credential"},
		{"scheme and spaces", "Bearer   ", "", "", "missing credential"},
		{"two credentials", "Bearer a b", "", "", "malformed credential"},
		{"comma", "Bearer a,b", "", "", "malformed credential"},
		{"only padding", "Bearer ==", "", "", "malformed credential"},
		{"padding inside", "Bearer a=b", "", "", "malformed credential"},
		{"control char", "Bearer a\x00b", "", "", "malformed credential"},
		{"non-ascii", "Bearer clé", "", "", "malformed credential"},
		{"too long", "Bearer " + strings.Repeat("a", 513), "", "", "malformed credential"},
		{"bearer-ish scheme", "Bearerx " + key, "", "", "unsupported authorization scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, cred, err := ParseAuthorization(tt.header)
			if tt.wantErr != "" {
				requireCode(t, err, chengdui.EUnauthorized)
				require.Contains(t, chengdui.ErrorMessage(err), tt.wantErr)
				require.NotContains(t, err.Error(), key)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, kind)
			require.Equal(t, tt.cred, cred)
		})
	}
}

var authorizationMessages = []string{
	"missing Authorization header",
	"unsupported authorization scheme; send \"token <key>\" or \"Bearer <key>\"",
	"missing credential after authorization scheme",
	"malformed credential",
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("token cd_Ab3dE6gH_" + strings.Repeat("x", 43))
	f.Add("Bearer abc==")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add(" \t ")
	f.Fuzz(func(t *testing.T, header string) {
		kind, cred, err := ParseAuthorization(header)
		if err != nil {
			requireCode(t, err, chengdui.EUnauthorized)
			require.Contains(t, authorizationMessages, chengdui.ErrorMessage(err))
			return
		}
		require.Contains(t, []string{SchemeToken, SchemeBearer}, kind)
		require.NotEmpty(t, cred)
		require.LessOrEqual(t, len(cred), maxCredentialLen)
		require.True(t, isToken68(cred))
		require.Contains(t, header, cred)
	})
}
