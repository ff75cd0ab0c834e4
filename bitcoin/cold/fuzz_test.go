package cold_test

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// FuzzParsePSBT feeds ParsePSBT, and what reads its result, with PSBT
// files: whatever the bytes, a refusal is EInvalid (or EConflict for a
// finalized input), never a panic, and a PSBT that parses writes back to
// the same file.
func FuzzParsePSBT(f *testing.F) {
	w, _ := wallet(f, keys.Regtest)
	p, err := w.CreatePSBT(coins(), []*wire.TxOut{wire.NewTxOut(1000, payee)}, 0, 3)
	if err != nil {
		f.Fatal(err)
	}
	s, err := keys.NewSeedSigner(seed(f, 0))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	unsigned, _ := cold.EncodePSBT(p)
	if _, err := cold.Sign(p, s); err != nil {
		f.Fatal(err)
	}
	signed, _ := cold.EncodePSBT(p)
	var raw bytes.Buffer
	p.Serialize(&raw)
	for _, seed := range [][]byte{unsigned, signed, raw.Bytes(), []byte("psbt\xff"), []byte("cHNidP8BAA=="), nil} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := cold.ParsePSBT(data)
		if err != nil {
			if code := chengdui.ErrorCode(err); code != chengdui.EInvalid {
				t.Fatalf("code %s: %v", code, err)
			}
			return
		}
		out, err := cold.EncodePSBT(p)
		if err != nil {
			return
		}
		q, err := cold.ParsePSBT(out)
		if err != nil {
			t.Fatalf("a parsed PSBT does not parse once written: %v", err)
		}
		again, _ := cold.EncodePSBT(q)
		if !bytes.Equal(out, again) {
			t.Fatal("writing a parsed PSBT is not stable")
		}
		for _, err := range []error{describe(p), finalize(p), combine(p, q), sign(p, s)} {
			if code := chengdui.ErrorCode(err); err != nil && code != chengdui.EInvalid && code != chengdui.EConflict {
				t.Fatalf("code %s: %v", code, err)
			}
		}
	})
}

func describe(p *psbt.Packet) error            { _, err := cold.Describe(p, keys.Regtest); return err }
func finalize(p *psbt.Packet) error            { _, err := cold.Finalize(p); return err }
func combine(p, q *psbt.Packet) error          { _, err := cold.Combine(p, q); return err }
func sign(p *psbt.Packet, s cold.Signer) error { _, err := cold.Sign(p, s); return err }
