package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chengdui"

	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hexBytes reads a hex string from a JSON fixture.
type hexBytes []byte

func (h *hexBytes) UnmarshalText(b []byte) error {
	d, err := hex.DecodeString(string(b))
	*h = d
	return err
}

type rfc6962Vectors struct {
	EmptyRoot hexBytes   `json:"empty_root"`
	Leaves    []hexBytes `json:"leaves"`
	Trees     []struct {
		Size    uint64     `json:"size"`
		Root    hexBytes   `json:"root"`
		Compact []hexBytes `json:"compact"`
	} `json:"trees"`
}

func loadRFC6962(t *testing.T) rfc6962Vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rfc6962_vectors.json"))
	require.NoError(t, err)
	var v rfc6962Vectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.Len(t, v.Leaves, 8)
	require.Len(t, v.Trees, 8)
	for i, tr := range v.Trees {
		require.Equal(t, uint64(i+1), tr.Size, "fixture trees must be sizes 1..8 in order")
	}
	return v
}

// storedHead is what a commit writes and the next one reads back: the
// head with its compact range through the storage blob encoding.
func storedHead(t *testing.T, j *journal) Head {
	t.Helper()
	h, err := j.head()
	require.NoError(t, err)
	decoded, err := DecodeCompact(EncodeCompact(h.Compact))
	require.NoError(t, err)
	h.Compact = decoded
	// Storage hands back its own copies, never the journal's slices.
	h.ChainHash = bytes.Clone(h.ChainHash)
	h.MerkleRoot = bytes.Clone(h.MerkleRoot)
	return h
}

func appendLeaf(t *testing.T, j *journal, data []byte) []byte {
	t.Helper()
	chain, err := j.appendLeafHash(rfc6962.DefaultHasher.HashLeaf(data))
	require.NoError(t, err)
	return chain
}

func TestRFC6962Vectors(t *testing.T) {
	v := loadRFC6962(t)
	require.Equal(t, rfc6962.DefaultHasher.EmptyRoot(), []byte(v.EmptyRoot))
	sum := sha256.Sum256(nil)
	require.Equal(t, sum[:], []byte(v.EmptyRoot), "the empty root is SHA-256 of nothing")

	// One journal, leaf after leaf: the reference every other run must match.
	j, err := openJournal(Head{})
	require.NoError(t, err)
	empty, err := j.head()
	require.NoError(t, err)
	require.Zero(t, empty.Size)
	require.Equal(t, []byte(v.EmptyRoot), empty.MerkleRoot)
	require.Equal(t, make([]byte, sha256.Size), empty.ChainHash)
	require.Empty(t, empty.Compact)

	chains := [][]byte{make([]byte, sha256.Size)}
	for i, leaf := range v.Leaves {
		chains = append(chains, appendLeaf(t, j, leaf))
		h, err := j.head()
		require.NoError(t, err)
		want := v.Trees[i]
		require.Equal(t, want.Size, h.Size)
		require.Equal(t, hex.EncodeToString(want.Root), hex.EncodeToString(h.MerkleRoot), "root at size %d", want.Size)
		require.Len(t, h.Compact, len(want.Compact), "compact range at size %d", want.Size)
		for k := range want.Compact {
			require.Equal(t, []byte(want.Compact[k]), h.Compact[k], "compact hash %d at size %d", k, want.Size)
		}
		require.Equal(t, chains[i+1], h.ChainHash)
	}

	// A group commit reopens the journal from the stored head. Stopping at
	// any size and continuing must give the same roots and chain.
	for stop := 0; stop <= len(v.Leaves); stop++ {
		j, err := openJournal(Head{})
		require.NoError(t, err)
		for _, leaf := range v.Leaves[:stop] {
			appendLeaf(t, j, leaf)
		}
		head := storedHead(t, j)
		if stop == 0 {
			// The empty journal as storage holds it: empty blobs.
			head = Head{Compact: head.Compact}
			head.ChainHash = []byte{}
			head.MerkleRoot = []byte{}
		}
		j, err = openJournal(head)
		require.NoError(t, err, "reopen at size %d", stop)
		for i := stop; i < len(v.Leaves); i++ {
			chain := appendLeaf(t, j, v.Leaves[i])
			h, err := j.head()
			require.NoError(t, err)
			require.Equal(t, []byte(v.Trees[i].Root), h.MerkleRoot, "reopened at %d, root at size %d", stop, i+1)
			require.Equal(t, chains[i+1], chain, "reopened at %d, chain at size %d", stop, i+1)
		}
	}

	// One commit per leaf: reopen after every append.
	head := Head{}
	for i, leaf := range v.Leaves {
		j, err := openJournal(head)
		require.NoError(t, err)
		appendLeaf(t, j, leaf)
		head = storedHead(t, j)
		require.Equal(t, []byte(v.Trees[i].Root), head.MerkleRoot, "size %d", i+1)
		require.Equal(t, chains[i+1], head.ChainHash, "size %d", i+1)
	}
}

func TestOpenJournalRefusesBadCompact(t *testing.T) {
	v := loadRFC6962(t)
	// Size 3 needs two hashes; one or three is a corrupt head.
	for _, n := range []int{0, 1, 3} {
		hashes := make([][]byte, n)
		for i := range hashes {
			hashes[i] = v.Trees[0].Root
		}
		_, err := openJournal(Head{TreeHead: chengdui.TreeHead{Size: 3}, Compact: hashes})
		require.Error(t, err, "%d hashes for size 3", n)
	}
}

func TestNormalizedEmptyHead(t *testing.T) {
	h := Head{Compact: [][]byte{}}.normalized()
	require.Equal(t, make([]byte, sha256.Size), h.ChainHash)
	require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex.EncodeToString(h.MerkleRoot))
	require.Nil(t, h.Compact)

	full := Head{TreeHead: chengdui.TreeHead{Size: 1, ChainHash: []byte{1}, MerkleRoot: []byte{2}}}
	require.Equal(t, full, full.normalized(), "a non-empty head is left alone")
}

func TestHashChain(t *testing.T) {
	ts := []chengdui.Transfer{
		{Seq: 1, ID: "t1", DebitAccountID: "a", CreditAccountID: "b", Asset: "USD", Amount: chengdui.Amount{Lo: 5},
			Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)},
		{Seq: 2, ID: "t2", DebitAccountID: "b", CreditAccountID: "a", Asset: "USD", Amount: chengdui.Amount{Lo: 3},
			Timestamp: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)},
	}
	// By hand: leaf hash = SHA-256(0x00 || leaf), chain = SHA-256(prev || leaf hash).
	leafHash := func(t *chengdui.Transfer) []byte {
		s := sha256.Sum256(append([]byte{0}, EncodeLeaf(t)...))
		return s[:]
	}
	lh1, lh2 := leafHash(&ts[0]), leafHash(&ts[1])
	require.Equal(t, lh1, LeafHash(&ts[0]))
	c1 := sha256.Sum256(append(make([]byte, sha256.Size), lh1...))
	c2 := sha256.Sum256(append(c1[:], lh2...))
	require.Equal(t, c1[:], ChainHash(make([]byte, sha256.Size), lh1))

	j, err := openJournal(Head{})
	require.NoError(t, err)
	for i := range ts {
		require.NoError(t, j.append(&ts[i]))
	}
	require.Equal(t, c1[:], ts[0].Hash, "chain after entry 1")
	require.Equal(t, c2[:], ts[1].Hash, "chain after entry 2")
	h, err := j.head()
	require.NoError(t, err)
	require.Equal(t, uint64(2), h.Size)
	require.Equal(t, c2[:], h.ChainHash)
	// The Merkle root over the same leaf hashes.
	want := sha256.Sum256(append(append([]byte{1}, lh1...), lh2...))
	require.Equal(t, want[:], h.MerkleRoot)

	// The chain value is not part of the leaf: a stale Hash changes nothing.
	again := ts[0]
	again.Hash = []byte("stale")
	require.Equal(t, lh1, LeafHash(&again))

	// Out of sequence entries are refused and leave the journal as it was.
	bad := ts[1]
	bad.Seq = 5
	require.Error(t, j.append(&bad))
	bad.Seq = 2
	require.Error(t, j.append(&bad), "seq 2 again after size 2")
	h2, err := j.head()
	require.NoError(t, err)
	require.Equal(t, h.TreeHead, h2.TreeHead)
}

// goldenTransfer sets every field EncodeLeaf reads.
func goldenTransfer() chengdui.Transfer {
	return chengdui.Transfer{
		Seq:             42,
		ID:              "tx-0001",
		DebitAccountID:  "alice",
		CreditAccountID: "bob",
		Asset:           "USDT-ERC20",
		Amount:          chengdui.Amount{Lo: 0x0123456789abcdef, Hi: 0x1f},
		PendingID:       "hold-7",
		Timeout:         3600,
		Code:            1001,
		Flags:           chengdui.PostPending | chengdui.Linked,
		Metadata:        map[string]string{"memo": "三月房租", "order": "A-17"},
		Timestamp:       time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC),
		Hash:            []byte("not part of the leaf"),
	}
}

func TestEncodeLeafGolden(t *testing.T) {
	tr := goldenTransfer()
	got := hex.EncodeToString(EncodeLeaf(&tr)) + "\n"
	path := filepath.Join("testdata", "leaf_v1.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestEncodeLeafGolden -update to create it")
	require.Equal(t, string(want), got, "the leaf encoding changed: every stored journal would stop verifying; bump leafVersion instead")

	raw, err := hex.DecodeString(strings.TrimSpace(string(want)))
	require.NoError(t, err)
	require.Equal(t, byte(leafVersion), raw[0])
	require.Equal(t, rfc6962.DefaultHasher.HashLeaf(raw), LeafHash(&tr))
}

func TestEncodeLeafEveryFieldCounts(t *testing.T) {
	base := goldenTransfer()
	baseEnc := EncodeLeaf(&base)
	cases := []struct {
		name   string
		mutate func(*chengdui.Transfer)
	}{
		{"Seq", func(t *chengdui.Transfer) { t.Seq++ }},
		{"ID", func(t *chengdui.Transfer) { t.ID = "tx-0002" }},
		{"DebitAccountID", func(t *chengdui.Transfer) { t.DebitAccountID = "alicf" }},
		{"CreditAccountID", func(t *chengdui.Transfer) { t.CreditAccountID = "bod" }},
		{"Asset", func(t *chengdui.Transfer) { t.Asset = "USDT-TRC20" }},
		{"Amount.Lo", func(t *chengdui.Transfer) { t.Amount.Lo++ }},
		{"Amount.Hi", func(t *chengdui.Transfer) { t.Amount.Hi++ }},
		{"Amount halves swapped", func(t *chengdui.Transfer) { t.Amount.Lo, t.Amount.Hi = t.Amount.Hi, t.Amount.Lo }},
		{"PendingID", func(t *chengdui.Transfer) { t.PendingID = "hold-8" }},
		{"Timeout", func(t *chengdui.Transfer) { t.Timeout++ }},
		{"Code", func(t *chengdui.Transfer) { t.Code++ }},
		{"Flags", func(t *chengdui.Transfer) { t.Flags ^= chengdui.Linked }},
		{"metadata key", func(t *chengdui.Transfer) { t.Metadata = map[string]string{"memo": "三月房租", "orden": "A-17"} }},
		{"metadata value", func(t *chengdui.Transfer) { t.Metadata = map[string]string{"memo": "四月房租", "order": "A-17"} }},
		{"metadata key added", func(t *chengdui.Transfer) {
			t.Metadata = map[string]string{"memo": "三月房租", "order": "A-17", "x": ""}
		}},
		{"metadata key removed", func(t *chengdui.Transfer) { t.Metadata = map[string]string{"memo": "三月房租"} }},
		{"metadata value moved to another key", func(t *chengdui.Transfer) {
			t.Metadata = map[string]string{"memo": "A-17", "order": "三月房租"}
		}},
		{"Timestamp", func(t *chengdui.Transfer) { t.Timestamp = t.Timestamp.Add(time.Microsecond) }},
		{"Timestamp before 1970", func(t *chengdui.Transfer) { t.Timestamp = time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC) }},
	}
	seen := map[string]string{hex.EncodeToString(baseEnc): "base"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := goldenTransfer()
			c.mutate(&tr)
			enc := EncodeLeaf(&tr)
			require.NotEqual(t, baseEnc, enc)
			require.NotEqual(t, LeafHash(&base), LeafHash(&tr))
			k := hex.EncodeToString(enc)
			require.NotContains(t, seen, k, "same encoding as %q", seen[k])
			seen[k] = c.name
		})
	}

	// What the journal does not record must not matter: the chain value,
	// the time zone of the same instant, and nil against empty metadata
	// (storage reads an empty map back as nil).
	same := []struct {
		name   string
		mutate func(*chengdui.Transfer)
	}{
		{"Hash", func(t *chengdui.Transfer) { t.Hash = nil }},
		{"time zone", func(t *chengdui.Transfer) { t.Timestamp = t.Timestamp.In(time.FixedZone("CST", 8*3600)) }},
	}
	for _, c := range same {
		tr := goldenTransfer()
		c.mutate(&tr)
		require.Equal(t, baseEnc, EncodeLeaf(&tr), c.name)
	}
	a, b := goldenTransfer(), goldenTransfer()
	a.Metadata, b.Metadata = nil, map[string]string{}
	require.Equal(t, EncodeLeaf(&a), EncodeLeaf(&b), "nil and empty metadata")
}

func TestEncodeLeafMetadataOrder(t *testing.T) {
	keys := []string{"a", "b", "c", "order", "memo", "备注", "z", "k10", "k9", "K"}
	build := func(order []int) map[string]string {
		m := make(map[string]string, len(order))
		for _, i := range order {
			m[keys[i]] = "value of " + keys[i]
		}
		return m
	}
	tr := goldenTransfer()
	tr.Metadata = build(rand.Perm(len(keys)))
	want := EncodeLeaf(&tr)
	for range 50 {
		tr := goldenTransfer()
		tr.Metadata = build(rand.Perm(len(keys)))
		require.Equal(t, want, EncodeLeaf(&tr))
	}
}

func TestEncodeLeafLengthPrefixes(t *testing.T) {
	cases := []struct {
		name string
		a, b func(*chengdui.Transfer)
	}{
		{"ID and debit account",
			func(t *chengdui.Transfer) { t.ID, t.DebitAccountID = "ab", "c" },
			func(t *chengdui.Transfer) { t.ID, t.DebitAccountID = "a", "bc" }},
		{"debit and credit account",
			func(t *chengdui.Transfer) { t.DebitAccountID, t.CreditAccountID = "alice", "bob" },
			func(t *chengdui.Transfer) { t.DebitAccountID, t.CreditAccountID = "alic", "ebob" }},
		{"credit account and asset",
			func(t *chengdui.Transfer) { t.CreditAccountID, t.Asset = "bobU", "SD" },
			func(t *chengdui.Transfer) { t.CreditAccountID, t.Asset = "bob", "USD" }},
		{"metadata key and value",
			func(t *chengdui.Transfer) { t.Metadata = map[string]string{"ab": "c"} },
			func(t *chengdui.Transfer) { t.Metadata = map[string]string{"a": "bc"} }},
		{"metadata entries",
			func(t *chengdui.Transfer) { t.Metadata = map[string]string{"a": "b", "c": "d"} },
			func(t *chengdui.Transfer) { t.Metadata = map[string]string{"a": "bcd"} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, y := goldenTransfer(), goldenTransfer()
			c.a(&x)
			c.b(&y)
			require.NotEqual(t, EncodeLeaf(&x), EncodeLeaf(&y))
		})
	}
}

func TestCompactBlob(t *testing.T) {
	h := func(b byte) []byte { return bytes.Repeat([]byte{b}, sha256.Size) }
	for _, hashes := range [][][]byte{nil, {h(1)}, {h(1), h(2), h(3)}} {
		blob := EncodeCompact(hashes)
		require.Len(t, blob, len(hashes)*sha256.Size)
		got, err := DecodeCompact(blob)
		require.NoError(t, err)
		require.Len(t, got, len(hashes))
		for i := range hashes {
			require.Equal(t, hashes[i], got[i])
		}
	}

	// A decoded hash must not share spare capacity with the next one, or
	// appending to it would overwrite its neighbour.
	got, err := DecodeCompact(EncodeCompact([][]byte{h(1), h(2)}))
	require.NoError(t, err)
	_ = append(got[0], 0xff)
	require.Equal(t, h(2), got[1])

	for _, n := range []int{1, 31, 33, 63, 65} {
		_, err := DecodeCompact(make([]byte, n))
		require.Error(t, err, "%d bytes", n)
	}
}

func FuzzDecodeCompact(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 31))
	f.Add(make([]byte, 64))
	f.Add(bytes.Repeat([]byte{0xab}, 97))
	if b, err := os.ReadFile(filepath.Join("testdata", "rfc6962_vectors.json")); err == nil {
		var v rfc6962Vectors
		if json.Unmarshal(b, &v) == nil {
			for _, tr := range v.Trees {
				hs := make([][]byte, len(tr.Compact))
				for i := range tr.Compact {
					hs[i] = tr.Compact[i]
				}
				f.Add(EncodeCompact(hs))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		hashes, err := DecodeCompact(b)
		if len(b)%sha256.Size != 0 {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Len(t, hashes, len(b)/sha256.Size)
		require.Equal(t, b, EncodeCompact(hashes), "round trip")
		// Whatever storage hands back, the journal opens it or refuses
		// it; it never panics. 2^n-1 leaves need exactly n hashes.
		n := len(hashes)
		if n == 0 || n > 63 {
			return
		}
		size := uint64(1)<<n - 1
		require.Equal(t, n, compact.RangeSize(0, size))
		j, err := openJournal(Head{TreeHead: chengdui.TreeHead{Size: size, ChainHash: make([]byte, sha256.Size)}, Compact: hashes})
		require.NoError(t, err)
		_, err = j.appendLeafHash(make([]byte, sha256.Size))
		require.NoError(t, err)
		h, err := j.head()
		require.NoError(t, err)
		require.Equal(t, size+1, h.Size)
		require.Len(t, h.MerkleRoot, sha256.Size)
		// size 2^n: all n+1 hashes merge into one.
		require.Len(t, h.Compact, 1)
	})
}
