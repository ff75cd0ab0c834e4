package keys

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/ethereum/go-ethereum/crypto"

	"chengdui"
)

// Signer signs with the key at a derivation path. It is the only way to
// use a private key: code that derives addresses needs a Watcher, not a
// Signer, and a server in cold mode has no Signer at all (its seed stays
// offline; it holds account xpubs only).
type Signer interface {
	// SignDigest signs a 32-byte digest (a transaction sighash, an EIP-712
	// hash) with the key at path and returns the 65-byte recoverable
	// secp256k1 signature R || S || V with V in {0, 1} and low S, as
	// go-ethereum's crypto.Sign. A digest of another length is EInvalid.
	SignDigest(path Path, digest []byte) ([]byte, error)
}

// SeedSigner signs with keys derived from a seed held in memory: the hot
// wallet. It holds the master private key, not the seed, and zeroes it on
// Close. It formats as "[redacted]". It is safe for concurrent use.
type SeedSigner struct {
	mu     sync.RWMutex
	master *hdkeychain.ExtendedKey // nil once closed
	// keys are the signing keys derived so far, by path; Close drops them.
	keys map[string]*ecdsa.PrivateKey
}

var _ Signer = (*SeedSigner)(nil)

// NewSeedSigner derives the master key from seed. The caller may zero the
// seed afterwards.
func NewSeedSigner(seed Seed) (*SeedSigner, error) {
	m, err := masterKey(seed, Mainnet) // version bytes do not matter for signing
	if err != nil {
		return nil, err
	}
	// hdkeychain caches the public key of a private extended key on its
	// first use, a write; do it now, so that concurrent derivations under
	// the read lock only read.
	if _, err := m.ECPubKey(); err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "master key: %v", err)
	}
	return &SeedSigner{master: m}, nil
}

// OpenSigner opens the keystore at path and returns a signer on its seed;
// the decrypted seed is zeroed before it returns.
func OpenSigner(path string, passphrase []byte) (*SeedSigner, error) {
	seed, err := Open(path, passphrase)
	if err != nil {
		return nil, err
	}
	defer seed.Zero()
	return NewSeedSigner(seed)
}

// privateKey derives the private key at path; the caller zeroes it.
func (s *SeedSigner) privateKey(path Path) (*btcec.PrivateKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.master == nil {
		return nil, chengdui.Errorf(chengdui.EUnavailable, "the signer is closed")
	}
	k, err := derivePath(s.master, path)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	priv, err := k.ECPrivKey()
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "private key: %v", err)
	}
	return priv, nil
}

// PublicKey returns the public key at path, to check a signer against a
// watcher's addresses.
func (s *SeedSigner) PublicKey(path Path) (*btcec.PublicKey, error) {
	priv, err := s.privateKey(path)
	if err != nil {
		return nil, err
	}
	defer priv.Zero()
	return priv.PubKey(), nil
}

// SignDigest implements Signer.
func (s *SeedSigner) SignDigest(path Path, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a digest to sign has 32 bytes, not %d", len(digest))
	}
	k, err := s.signingKey(path)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(digest, k)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "sign: %v", err)
	}
	return sig, nil
}

// signingKey returns the key at path as go-ethereum signs with it, derived
// once per path and kept while the signer is open: deriving costs five
// scalar multiplications, a signature one (the hot wallet and the router
// intent key sign thousands of times). Close forgets them.
func (s *SeedSigner) signingKey(path Path) (*ecdsa.PrivateKey, error) {
	key := path.String()
	s.mu.RLock()
	k, ok := s.keys[key]
	s.mu.RUnlock()
	if ok {
		return k, nil
	}
	priv, err := s.privateKey(path)
	if err != nil {
		return nil, err
	}
	defer priv.Zero()
	b := priv.Serialize()
	defer clear(b)
	k, err = crypto.ToECDSA(b)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "private key: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == nil {
		return nil, chengdui.Errorf(chengdui.EUnavailable, "the signer is closed")
	}
	if s.keys == nil {
		s.keys = map[string]*ecdsa.PrivateKey{}
	}
	s.keys[key] = k
	return k, nil
}

// Close zeroes the master key; later calls fail with EUnavailable.
func (s *SeedSigner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.keys) // go-ethereum's keys cannot be wiped: they are dropped for the GC
	if s.master != nil {
		s.master.Zero()
		s.master = nil
	}
	return nil
}

func (*SeedSigner) String() string             { return redacted }
func (*SeedSigner) GoString() string           { return redacted }
func (*SeedSigner) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }
func (*SeedSigner) LogValue() slog.Value       { return slog.StringValue(redacted) }
