package keys

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

type bip39File struct {
	Passphrase        string      `json:"passphrase"`
	English           [][4]string `json:"english"`
	ChineseSimplified [][4]string `json:"chinese_simplified"`
}

func readJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(tb, err)
	require.NoError(tb, json.Unmarshal(data, v))
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(tb, err)
	return b
}

func TestBIP39Vectors(t *testing.T) {
	var f bip39File
	readJSON(t, "bip39_vectors.json", &f)
	require.Equal(t, "TREZOR", f.Passphrase)
	require.GreaterOrEqual(t, len(f.English), 8)
	require.GreaterOrEqual(t, len(f.ChineseSimplified), 8)
	for _, c := range []struct {
		lang    Language
		vectors [][4]string
	}{{English, f.English}, {ChineseSimplified, f.ChineseSimplified}} {
		for _, v := range c.vectors {
			entropy, mnemonic, seedHex, xprv := v[0], v[1], v[2], v[3]
			t.Run(c.lang.String()+"/"+entropy, func(t *testing.T) {
				got, err := EntropyToMnemonic(mustHex(t, entropy), c.lang)
				require.NoError(t, err)
				require.Equal(t, mnemonic, got)

				back, err := MnemonicToEntropy(mnemonic, c.lang)
				require.NoError(t, err)
				require.Equal(t, entropy, hex.EncodeToString(back))

				seed, err := MnemonicToSeed(mnemonic, f.Passphrase, c.lang)
				require.NoError(t, err)
				require.Equal(t, seedHex, hex.EncodeToString(seed.Bytes()))

				m, err := masterKey(seed, Mainnet)
				require.NoError(t, err)
				require.Equal(t, xprv, m.String())

				lang, err := DetectLanguage(mnemonic)
				require.NoError(t, err)
				require.Equal(t, c.lang, lang)
			})
		}
	}
}

// The Simplified Chinese zero-entropy mnemonic with an empty passphrase, as
// bitcoinjs/bip39 prints it: a second implementation agreeing with ours.
func TestBIP39ChineseEmptyPassphrase(t *testing.T) {
	seed, err := MnemonicToSeed("的 的 的 的 的 的 的 的 的 的 的 在", "", ChineseSimplified)
	require.NoError(t, err)
	require.Equal(t, "c015b86e4b208402bb0bdd0febb746708b869bb6e433cb227fd66d444f3ccdc360fee9ca9271014c2a684df380fcc40bd80a37eaa41a8061a52a18d319cdd899", hex.EncodeToString(seed.Bytes()))
}

// The embedded lists are checked against the official files' CRC32 by the
// wordlists package itself; here we check the shape BIP39 relies on.
func TestWordLists(t *testing.T) {
	en, err := WordList(English)
	require.NoError(t, err)
	zh, err := WordList(ChineseSimplified)
	require.NoError(t, err)
	require.Len(t, en, 2048)
	require.Len(t, zh, 2048)
	require.Equal(t, "abandon", en[0])
	require.Equal(t, "zoo", en[2047])
	require.Equal(t, "的", zh[0])
	require.Equal(t, "在", zh[3])
	require.Equal(t, "歇", zh[2047])
	seen := map[string]bool{}
	for _, w := range append(append([]string{}, en...), zh...) {
		require.False(t, seen[w], "word %q appears twice across the lists", w)
		seen[w] = true
	}
}

func TestNewMnemonicRoundTrip(t *testing.T) {
	for _, lang := range Languages {
		for bits, words := range map[int]int{128: 12, 160: 15, 192: 18, 224: 21, 256: 24} {
			m, err := NewMnemonic(bits, lang)
			require.NoError(t, err)
			require.Len(t, strings.Fields(m), words)
			entropy, err := MnemonicToEntropy(m, lang)
			require.NoError(t, err)
			require.Len(t, entropy, bits/8)
			again, err := EntropyToMnemonic(entropy, lang)
			require.NoError(t, err)
			require.Equal(t, m, again)
			got, err := DetectLanguage(m)
			require.NoError(t, err)
			require.Equal(t, lang, got)
		}
	}
	a, _ := NewMnemonic(256, English)
	b, _ := NewMnemonic(256, English)
	require.NotEqual(t, a, b)
	for _, bits := range []int{0, 96, 127, 129, 288, 512} {
		_, err := NewMnemonic(bits, English)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "bits %d", bits)
	}
	_, err := NewMnemonic(128, Language(9))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

func TestMnemonicRefusals(t *testing.T) {
	const abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
	for name, c := range map[string]struct {
		mnemonic string
		lang     Language
		notIn    string // must not appear in the message
	}{
		"bad checksum":       {abandon + "abandon", English, "abandon"},
		"unknown word":       {abandon + "bitcoinz", English, "bitcoinz"},
		"misspelt word":      {"abandn " + abandon[:len(abandon)-1] + " about", English, "abandn"},
		"11 words":           {abandon[:len(abandon)-1], English, ""},
		"13 words":           {abandon + "about about", English, ""},
		"empty":              {"", English, ""},
		"chinese as english": {"的 的 的 的 的 的 的 的 的 的 的 在", English, "的"},
		"english as chinese": {abandon + "about", ChineseSimplified, "abandon"},
		"chinese checksum":   {"的 的 的 的 的 的 的 的 的 的 的 的", ChineseSimplified, "的"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := MnemonicToSeed(c.mnemonic, "", c.lang)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			if c.notIn != "" {
				require.NotContains(t, err.Error(), c.notIn)
			}
		})
	}
}

// Extra whitespace and NFKD-equivalent spellings give the same seed.
func TestMnemonicNormalisation(t *testing.T) {
	const m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	want, err := MnemonicToSeed(m, "TREZOR", English)
	require.NoError(t, err)
	got, err := MnemonicToSeed("  "+strings.ReplaceAll(m, " ", " \n\t")+"\n", "TREZOR", English)
	require.NoError(t, err)
	require.Equal(t, want.Bytes(), got.Bytes())
	// "é" precomposed and decomposed are one passphrase under NFKD.
	a, _ := MnemonicToSeed(m, "caf\u00e9", English)
	b, _ := MnemonicToSeed(m, "cafe\u0301", English)
	require.Equal(t, a.Bytes(), b.Bytes())
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]Language{"en": English, "English": English, "zh": ChineseSimplified, "chinese_simplified": ChineseSimplified, "zh-Hans": ChineseSimplified} {
		got, err := ParseLanguage(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ParseLanguage("klingon")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

// FuzzMnemonicToEntropy: imported mnemonics are outside input. Decoding
// never panics, and what decodes re-encodes to the same words.
func FuzzMnemonicToEntropy(f *testing.F) {
	var v bip39File
	readJSON(f, "bip39_vectors.json", &v)
	for _, e := range append(v.English[:4], v.ChineseSimplified[:4]...) {
		f.Add(e[1])
	}
	f.Add("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon")
	f.Fuzz(func(t *testing.T, s string) {
		for _, lang := range Languages {
			entropy, err := MnemonicToEntropy(s, lang)
			if err != nil {
				require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
				continue
			}
			m, err := EntropyToMnemonic(entropy, lang)
			require.NoError(t, err)
			require.Equal(t, strings.Join(splitMnemonic(s), " "), m)
		}
	})
}
