package keys

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

func eip55Vectors(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/eip55_vectors.txt")
	require.NoError(tb, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	require.NoError(tb, sc.Err())
	return out
}

func TestEIP55Vectors(t *testing.T) {
	vs := eip55Vectors(t)
	require.Len(t, vs, 8)
	for _, v := range vs {
		a, err := ParseEVMAddress(v)
		require.NoError(t, err, v)
		require.Equal(t, v, a.Hex(), "checksum of %s", v)
		for _, s := range []string{"0x" + strings.ToLower(v[2:]), "0x" + strings.ToUpper(v[2:])} {
			b, err := ParseEVMAddress(s)
			require.NoError(t, err, s)
			require.Equal(t, a, b)
		}
		if strings.ToLower(v) != v && strings.ToUpper(v[2:]) != v[2:] {
			// Flip the case of one letter: EIP-55 must catch it.
			bs := []byte(v)
			for i := 2; i < len(bs); i++ {
				if c := bs[i]; c >= 'a' && c <= 'f' {
					bs[i] = c - 'a' + 'A'
					break
				} else if c >= 'A' && c <= 'F' {
					bs[i] = c - 'A' + 'a'
					break
				}
			}
			_, err := ParseEVMAddress(string(bs))
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), string(bs))
		}
	}
}

func TestParseEVMAddressRefusals(t *testing.T) {
	for _, s := range []string{
		"", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
		"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	} {
		_, err := ParseEVMAddress(s)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%q", s)
	}
}

func FuzzParseEVMAddress(f *testing.F) {
	for _, v := range eip55Vectors(f) {
		f.Add(v)
	}
	f.Add("0x")
	f.Add("0xZZ")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseEVMAddress(s)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			return
		}
		// Whatever parses is the address its checksummed form parses to.
		b, err := ParseEVMAddress(a.Hex())
		require.NoError(t, err)
		require.Equal(t, a, b)
		require.Equal(t, strings.ToLower(s), strings.ToLower(a.Hex()))
	})
}
