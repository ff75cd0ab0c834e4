package keys

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"strings"
	"sync"

	"github.com/tyler-smith/go-bip39/wordlists"
	"golang.org/x/text/unicode/norm"

	"chengdui"
)

// Language is a BIP39 word list.
type Language int

const (
	English           Language = iota // the BIP39 English list; the default
	ChineseSimplified                 // the BIP39 Simplified Chinese list (简体中文)
)

// Languages lists the supported word lists, English first.
var Languages = []Language{English, ChineseSimplified}

func (l Language) String() string {
	switch l {
	case English:
		return "english"
	case ChineseSimplified:
		return "chinese_simplified"
	}
	return "unknown"
}

// ParseLanguage accepts the BIP39 file names ("english",
// "chinese_simplified") and the short tags "en", "zh", "zh-hans", "zh-cn".
func ParseLanguage(s string) (Language, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "english":
		return English, nil
	case "zh", "zh-hans", "zh-cn", "zh_cn", "chinese", "chinese_simplified", "chinese-simplified":
		return ChineseSimplified, nil
	}
	return 0, chengdui.Errorf(chengdui.EInvalid, "mnemonic language %q: use en or zh", s)
}

type wordList struct {
	words []string
	index map[string]int
}

// wordLists is built once on first use; it is read-only afterwards, unlike
// the go-bip39 package's SetWordList, which changes a global.
var wordLists = sync.OnceValue(func() map[Language]*wordList {
	m := map[Language]*wordList{}
	for l, words := range map[Language][]string{English: wordlists.English, ChineseSimplified: wordlists.ChineseSimplified} {
		wl := &wordList{words: make([]string, len(words)), index: make(map[string]int, len(words))}
		for i, w := range words {
			w = norm.NFKD.String(w)
			wl.words[i] = w
			wl.index[w] = i
		}
		m[l] = wl
	}
	return m
})

func (l Language) list() (*wordList, error) {
	wl, ok := wordLists()[l]
	if !ok || len(wl.words) != 2048 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "unknown mnemonic language %d", int(l))
	}
	return wl, nil
}

// WordList returns a copy of the language's 2048 words in BIP39 order.
func WordList(l Language) ([]string, error) {
	wl, err := l.list()
	if err != nil {
		return nil, err
	}
	return append([]string(nil), wl.words...), nil
}

// NewMnemonic returns a new mnemonic from entropyBits (128, 160, 192, 224 or
// 256) bits of crypto/rand entropy: 12 to 24 words. 256 bits give the 24
// words the platform's keystore uses.
func NewMnemonic(entropyBits int, lang Language) (string, error) {
	if entropyBits < 128 || entropyBits > 256 || entropyBits%32 != 0 {
		return "", chengdui.Errorf(chengdui.EInvalid, "mnemonic entropy of %d bits: use 128, 160, 192, 224 or 256", entropyBits)
	}
	entropy := make([]byte, entropyBits/8)
	defer clear(entropy)
	rand.Read(entropy) // never fails since Go 1.24: it crashes the program instead
	return EntropyToMnemonic(entropy, lang)
}

// EntropyToMnemonic encodes 16 to 32 bytes of entropy (a multiple of 4) as
// a BIP39 mnemonic, words separated by single spaces.
func EntropyToMnemonic(entropy []byte, lang Language) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", chengdui.Errorf(chengdui.EInvalid, "mnemonic entropy of %d bytes: use 16, 20, 24, 28 or 32", n)
	}
	wl, err := lang.list()
	if err != nil {
		return "", err
	}
	// The checksum is the first n/4 bits of SHA-256(entropy), at most 8.
	sum := sha256.Sum256(entropy)
	buf := append(append(make([]byte, 0, n+1), entropy...), sum[0])
	defer clear(buf)
	count := (n*8 + n/4) / 11
	words := make([]string, count)
	for w := range count {
		idx := 0
		for b := range 11 {
			bit := w*11 + b
			idx = idx<<1 | int(buf[bit/8]>>(7-bit%8))&1
		}
		words[w] = wl.words[idx]
	}
	return strings.Join(words, " "), nil
}

// splitMnemonic normalises a mnemonic (NFKD, as BIP39 requires, which also
// turns ideographic spaces into plain ones) and splits it into words.
func splitMnemonic(mnemonic string) []string {
	return strings.Fields(norm.NFKD.String(mnemonic))
}

// MnemonicToEntropy decodes a mnemonic and checks its checksum. Unknown
// words and bad checksums are EInvalid; messages name positions, never words.
func MnemonicToEntropy(mnemonic string, lang Language) ([]byte, error) {
	return decodeWords(splitMnemonic(mnemonic), lang)
}

func decodeWords(words []string, lang Language) ([]byte, error) {
	wl, err := lang.list()
	if err != nil {
		return nil, err
	}
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return nil, chengdui.Errorf(chengdui.EInvalid, "a mnemonic has 12, 15, 18, 21 or 24 words, not %d", len(words))
	}
	total := len(words) * 11
	cs := total / 33 // checksum bits
	buf := make([]byte, (total+7)/8)
	defer clear(buf)
	for w, word := range words {
		idx, ok := wl.index[word]
		if !ok {
			return nil, chengdui.Errorf(chengdui.EInvalid, "mnemonic word %d is not in the %s word list", w+1, lang)
		}
		for b := range 11 {
			if idx>>(10-b)&1 == 1 {
				bit := w*11 + b
				buf[bit/8] |= 1 << (7 - bit%8)
			}
		}
	}
	entropy := append([]byte(nil), buf[:(total-cs)/8]...)
	sum := sha256.Sum256(entropy)
	got := buf[len(entropy)] >> (8 - cs)
	if want := sum[0] >> (8 - cs); got != want {
		clear(entropy)
		return nil, chengdui.Errorf(chengdui.EInvalid, "mnemonic checksum does not match: a word is wrong or misplaced")
	}
	return entropy, nil
}

// DetectLanguage returns the language whose list holds the mnemonic's first
// word. The supported lists share no word, so the answer is unique; the
// other words are checked when the mnemonic is decoded.
func DetectLanguage(mnemonic string) (Language, error) {
	words := splitMnemonic(mnemonic)
	if len(words) == 0 {
		return 0, chengdui.Errorf(chengdui.EInvalid, "the mnemonic is empty")
	}
	for _, l := range Languages {
		wl, err := l.list()
		if err != nil {
			return 0, err
		}
		if _, ok := wl.index[words[0]]; ok {
			return l, nil
		}
	}
	return 0, chengdui.Errorf(chengdui.EInvalid, "the mnemonic's first word is in no supported word list (en, zh)")
}

// MnemonicToSeed checks the mnemonic's words and checksum against lang and
// returns the BIP39 seed: PBKDF2-HMAC-SHA512, 2048 rounds, of the NFKD
// sentence with salt "mnemonic"+NFKD(passphrase). Extra whitespace between
// words is ignored: the sentence is re-joined with single spaces, which is
// how every valid mnemonic is written.
func MnemonicToSeed(mnemonic, passphrase string, lang Language) (Seed, error) {
	words := splitMnemonic(mnemonic)
	entropy, err := decodeWords(words, lang)
	if err != nil {
		return Seed{}, err
	}
	clear(entropy)
	seed, err := pbkdf2.Key(sha512.New, strings.Join(words, " "), []byte("mnemonic"+norm.NFKD.String(passphrase)), 2048, 64)
	if err != nil {
		return Seed{}, chengdui.Errorf(chengdui.EInternal, "pbkdf2: %v", err)
	}
	return Seed{b: seed}, nil
}
