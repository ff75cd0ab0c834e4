package keys

import (
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

func TestParsePath(t *testing.T) {
	const h = Hardened
	for in, want := range map[string]Path{
		"m":                        {},
		"m/0":                      {0},
		"m/84'/0'/0'/0/5":          {84 + h, 0 + h, 0 + h, 0, 5},
		"m/84h/0h/0h/1/2":          {84 + h, h, h, 1, 2},
		"m/86H/1H/7H":              {86 + h, 1 + h, 7 + h},
		"m/2147483647'/2147483647": {^uint32(0), h - 1},
		"m/44'/60'/0'/0/0":         {44 + h, 60 + h, h, 0, 0},
	} {
		got, err := ParsePath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"", "M", "m/", "/0", "0/1", "m//0", "m/0/", "m/-1", "m/+1", "m/01", "m/00'", "m/ 1", "m/1 ",
		"m/2147483648", "m/4294967295", "m/99999999999", "m/1''", "m/1'h", "m/h", "m/'", "m/1x",
		"m/0x10", "m/１", "m\\0", "m/1/2/3\n", "n/0",
	} {
		_, err := ParsePath(in)
		require.Error(t, err, "%q", in)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%q", in)
	}
	deep := "m"
	for range 256 {
		deep += "/0"
	}
	_, err := ParsePath(deep)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = ParsePath(deep[:len(deep)-2])
	require.NoError(t, err)
}

func TestPathString(t *testing.T) {
	require.Equal(t, "m", Path{}.String())
	require.Equal(t, "m/84'/0'/0'/0/5", Path{84 + Hardened, Hardened, Hardened, 0, 5}.String())
	require.Equal(t, "m/84'/1'/3'/1/9", P2WPKH.Path(Regtest, 3, 1, 9).String())
	require.Equal(t, "m/86'/0'/0'", P2TR.AccountPath(Mainnet, 0).String())
	require.Equal(t, "m/44'/60'/2'/0/7", EVM.Path(Testnet, 2, 0, 7).String())
}

// FuzzParsePath: the parser never panics, accepts only what it can print
// back, and printing is canonical.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"m", "m/0", "m/84'/0'/0'/0/5", "m/84h/0H/0'", "m/2147483647'", "m/2147483648", "m//", "m/01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			return
		}
		require.LessOrEqual(t, len(p), 255)
		canon := p.String()
		q, err := ParsePath(canon)
		require.NoError(t, err, "canonical form %q of %q does not parse", canon, s)
		require.Equal(t, p, q)
		require.Equal(t, canon, q.String())
	})
}
