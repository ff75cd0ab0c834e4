package keys

import (
	"strconv"
	"strings"

	"chengdui"
)

// Hardened is the offset of hardened child indexes (BIP32 i ≥ 2^31).
const Hardened uint32 = 1 << 31

// maxDepth is BIP32's limit: the depth is serialised in one byte.
const maxDepth = 255

// Path is a BIP32 derivation path from the master key: each element is a
// child index, hardened ones offset by Hardened.
type Path []uint32

// ParsePath parses "m", "m/84'/0'/0'/0/5" or the same with h or H marking
// hardened steps. It refuses anything else (EInvalid): no leading "/", no
// empty steps, no signs, spaces or leading zeros, indexes below 2^31 only
// (hardening is written with the marker), at most 255 steps.
func ParsePath(s string) (Path, error) {
	if len(s) > maxDepth*12+1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path is too long (%d bytes)", len(s))
	}
	if s == "m" {
		return Path{}, nil
	}
	rest, ok := strings.CutPrefix(s, "m/")
	if !ok {
		return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path %q: it must start with m/", s)
	}
	steps := strings.Split(rest, "/")
	if len(steps) > maxDepth {
		return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path has %d steps; BIP32 allows %d", len(steps), maxDepth)
	}
	p := make(Path, 0, len(steps))
	for i, step := range steps {
		hardened := false
		if n := len(step); n > 0 && (step[n-1] == '\'' || step[n-1] == 'h' || step[n-1] == 'H') {
			hardened, step = true, step[:n-1]
		}
		if step == "" || len(step) > 10 || (len(step) > 1 && step[0] == '0') || strings.TrimLeft(step, "0123456789") != "" {
			return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path %q: step %d is not a decimal index", s, i+1)
		}
		v, err := strconv.ParseUint(step, 10, 32)
		if err != nil || uint32(v) >= Hardened {
			return nil, chengdui.Errorf(chengdui.EInvalid, "derivation path %q: step %d is not below 2^31; mark hardened steps with '", s, i+1)
		}
		if hardened {
			v += uint64(Hardened)
		}
		p = append(p, uint32(v))
	}
	return p, nil
}

// String formats the path canonically, with ' for hardened steps.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString("m")
	for _, i := range p {
		b.WriteByte('/')
		if i >= Hardened {
			b.WriteString(strconv.FormatUint(uint64(i-Hardened), 10))
			b.WriteByte('\'')
		} else {
			b.WriteString(strconv.FormatUint(uint64(i), 10))
		}
	}
	return b.String()
}

// Child returns a new path with the given steps appended.
func (p Path) Child(steps ...uint32) Path {
	return append(append(make(Path, 0, len(p)+len(steps)), p...), steps...)
}
