package keys

import (
	"fmt"
	"io"
	"log/slog"

	"chengdui"
)

const redacted = "[redacted]"

// Seed is a BIP32 master seed (16 to 64 bytes, 64 when it comes from a
// BIP39 mnemonic). It formats as "[redacted]" with every fmt verb and in
// slog, so that it cannot leak into logs or error messages by accident.
type Seed struct{ b []byte }

// NewSeed copies b into a Seed. It refuses lengths BIP32 does not allow
// (EInvalid). The caller may zero b afterwards.
func NewSeed(b []byte) (Seed, error) {
	if len(b) < 16 || len(b) > 64 {
		return Seed{}, chengdui.Errorf(chengdui.EInvalid, "a seed has 16 to 64 bytes, not %d", len(b))
	}
	return Seed{b: append([]byte(nil), b...)}, nil
}

// Bytes returns the seed's bytes, not a copy: do not retain or modify them.
func (s Seed) Bytes() []byte { return s.b }

// Len is the seed's length in bytes.
func (s Seed) Len() int { return len(s.b) }

// Zero overwrites the seed's bytes. Copies of the Seed value share them.
func (s Seed) Zero() { clear(s.b) }

func (Seed) String() string               { return redacted }
func (Seed) GoString() string             { return redacted }
func (Seed) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Seed) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Seed) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (*Seed) UnmarshalText(_ []byte) error {
	return chengdui.Errorf(chengdui.EInvalid, "a seed is never decoded from text")
}
