package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"chengdui"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// leafVersion prefixes every leaf so the encoding can evolve.
const leafVersion = 1

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// EncodeLeaf is the canonical byte form of a committed transfer: the Merkle
// leaf and the input of the hash chain. Every field that has meaning is in
// it, strings length-prefixed and metadata sorted, so two different
// transfers never share an encoding.
func EncodeLeaf(t *chengdui.Transfer) []byte {
	var b bytes.Buffer
	b.Grow(160 + len(t.ID) + len(t.DebitAccountID) + len(t.CreditAccountID))
	b.WriteByte(leafVersion)
	u64 := func(v uint64) { b.Write(binary.BigEndian.AppendUint64(nil, v)) }
	str := func(s string) { u64(uint64(len(s))); b.WriteString(s) }
	u64(t.Seq)
	str(t.ID)
	str(t.DebitAccountID)
	str(t.CreditAccountID)
	str(t.Asset)
	u64(t.Amount.Hi)
	u64(t.Amount.Lo)
	str(t.PendingID)
	u64(uint64(t.Timeout))
	u64(uint64(t.Code))
	u64(uint64(t.Flags))
	keys := make([]string, 0, len(t.Metadata))
	for k := range t.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	u64(uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(t.Metadata[k])
	}
	u64(uint64(t.Timestamp.UnixMicro()))
	return b.Bytes()
}

// LeafHash is the RFC 6962 leaf hash of a transfer.
func LeafHash(t *chengdui.Transfer) []byte {
	return rfc6962.DefaultHasher.HashLeaf(EncodeLeaf(t))
}

// ChainHash extends the hash chain: SHA-256(prev || leaf hash).
func ChainHash(prev, leafHash []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(leafHash)
	return h.Sum(nil)
}

// journal extends the hash chain and the Merkle log.
type journal struct {
	size  uint64
	chain []byte
	rng   *compact.Range
}

// normalized gives the empty journal its defined head: a zero chain hash
// and the RFC 6962 root of the empty tree (storage holds empty values).
func (h Head) normalized() Head {
	if h.Size == 0 {
		h.ChainHash = make([]byte, sha256.Size)
		h.MerkleRoot = rfc6962.DefaultHasher.EmptyRoot()
		h.Compact = nil
	}
	return h
}

func openJournal(h Head) (*journal, error) {
	rng, err := rangeFactory.NewRange(0, h.Size, slices.Clone(h.Compact))
	if err != nil {
		return nil, fmt.Errorf("journal head at size %d: %w", h.Size, err)
	}
	chain := h.ChainHash
	if h.Size == 0 {
		chain = make([]byte, sha256.Size)
	}
	return &journal{size: h.Size, chain: chain, rng: rng}, nil
}

// append sets t.Hash and adds t to the Merkle log. t.Seq must be size+1.
func (j *journal) append(t *chengdui.Transfer) error {
	if t.Seq != j.size+1 {
		return fmt.Errorf("journal: seq %d after size %d", t.Seq, j.size)
	}
	var err error
	t.Hash, err = j.appendLeafHash(LeafHash(t))
	return err
}

// appendLeafHash extends the hash chain and the Merkle log by one leaf hash
// and returns the new chain value. It is append without the transfer, so
// that tests can feed RFC 6962 test-vector leaves through the same path.
func (j *journal) appendLeafHash(lh []byte) ([]byte, error) {
	j.chain = ChainHash(j.chain, lh)
	j.size++
	err := j.rng.Append(lh, nil)
	return j.chain, err
}

func (j *journal) head() (Head, error) {
	root := rfc6962.DefaultHasher.EmptyRoot()
	if j.size > 0 {
		var err error
		if root, err = j.rng.GetRootHash(nil); err != nil {
			return Head{}, err
		}
	}
	// A copy: the range keeps appending in place, and this head may be
	// written by the pipeline's writer while the next batch extends a
	// range opened from it.
	hashes := j.rng.Hashes()
	compact := make([][]byte, len(hashes))
	for i, h := range hashes {
		compact[i] = bytes.Clone(h)
	}
	return Head{
		TreeHead: chengdui.TreeHead{Size: j.size, ChainHash: j.chain, MerkleRoot: root},
		Compact:  compact,
	}, nil
}

// EncodeCompact and DecodeCompact store a compact range as one blob.
func EncodeCompact(hashes [][]byte) []byte {
	out := make([]byte, 0, len(hashes)*sha256.Size)
	for _, h := range hashes {
		out = append(out, h...)
	}
	return out
}

func DecodeCompact(b []byte) ([][]byte, error) {
	if len(b)%sha256.Size != 0 {
		return nil, fmt.Errorf("compact range blob of %d bytes", len(b))
	}
	out := make([][]byte, 0, len(b)/sha256.Size)
	for i := 0; i < len(b); i += sha256.Size {
		out = append(out, b[i:i+sha256.Size:i+sha256.Size])
	}
	return out, nil
}
