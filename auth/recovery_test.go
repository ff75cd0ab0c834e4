package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewRecoveryCodes(t *testing.T) {
	plain, hashes, err := NewRecoveryCodes()
	require.NoError(t, err)
	require.Len(t, plain, RecoveryCodeCount)
	require.Len(t, hashes, RecoveryCodeCount)
	seen := map[string]bool{}
	for i, c := range plain {
		require.Regexp(t, `^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`, c)
		require.False(t, seen[c], "duplicate code")
		seen[c] = true
		require.Regexp(t, `^[0-9a-f]{64}$`, hashes[i])
		require.NotContains(t, hashes[i], strings.ReplaceAll(c, "-", ""))
		idx, ok := MatchRecoveryCode(hashes, c)
		require.True(t, ok)
		require.Equal(t, i, idx)
	}
	// The hash is SHA-256 hex of the code without dashes.
	require.Equal(t, HashToken(strings.ReplaceAll(plain[0], "-", "")), hashes[0])

	other, _, err := NewRecoveryCodes()
	require.NoError(t, err)
	require.NotEqual(t, plain, other)
}

func TestRecoveryAlphabet(t *testing.T) {
	require.Len(t, recoveryAlphabet, 32)
	for _, c := range "ilou" {
		require.NotContains(t, recoveryAlphabet, string(c))
	}
	// Every symbol is used: over many codes each appears.
	counts := map[rune]int{}
	for range 50 {
		plain, _, err := NewRecoveryCodes()
		require.NoError(t, err)
		for _, c := range plain {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
		}
	}
	require.Len(t, counts, 32)
}

func TestMatchRecoveryCode(t *testing.T) {
	const code = "0123-4567-89ab"
	hashes := []string{HashToken("zzzzzzzzzzzz"), "", HashToken("0123456789ab"), HashToken("0123456789ab")}
	tests := []struct {
		name  string
		input string
		idx   int
		ok    bool
	}{
		{"exact", code, 2, true},
		{"upper case", "0123-4567-89AB", 2, true},
		{"no dashes", "0123456789ab", 2, true},
		{"spaces", " 0123 4567 89ab ", 2, true},
		{"o read as zero, but another code", "O1Z3-4567-89ab", -1, false},
		{"o for zero", "o123-4567-89ab", 2, true},
		{"i for one", "0i23-4567-89ab", 2, true},
		{"L for one", "0L23-4567-89ab", 2, true},
		{"first entry", "zzzz-zzzz-zzzz", 0, true},
		{"wrong", "0123-4567-89ac", -1, false},
		{"u not in alphabet", "0123-4567-89au", -1, false},
		{"too short", "0123-4567-89a", -1, false},
		{"too long", "0123-4567-89abc", -1, false},
		{"empty", "", -1, false},
		{"very long", strings.Repeat("-", 100) + "0123456789ab", -1, false},
		{"non-ascii", "0123-4567-89aß", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, ok := MatchRecoveryCode(hashes, tt.input)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.idx, idx)
		})
	}
	_, ok := MatchRecoveryCode(nil, code)
	require.False(t, ok)
	// A used (emptied) slot never matches, even for malformed input.
	_, ok = MatchRecoveryCode([]string{""}, "")
	require.False(t, ok)
}

func FuzzMatchRecoveryCode(f *testing.F) {
	plain, hashes, err := NewRecoveryCodes()
	require.NoError(f, err)
	for _, c := range plain {
		f.Add(c)
	}
	f.Add("O1IL-oooo-llll")
	f.Add("")
	f.Add("----------------")
	f.Fuzz(func(t *testing.T, input string) {
		idx, ok := MatchRecoveryCode(hashes, input)
		norm, valid := normaliseRecoveryCode(input)
		if !valid {
			require.False(t, ok)
			return
		}
		require.Len(t, norm, recoveryChars)
		again, valid2 := normaliseRecoveryCode(norm)
		require.True(t, valid2)
		require.Equal(t, norm, again, "normalising is idempotent")
		if ok {
			require.Equal(t, hashRecoveryCode(norm), hashes[idx])
			require.Equal(t, strings.ReplaceAll(plain[idx], "-", ""), norm)
		}
	})
}
