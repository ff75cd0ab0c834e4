package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/crypto/scrypt"

	"chengdui"
)

// The keystore keeps the master seed encrypted in one JSON file, mode 0600:
//
//	{
//	  "version": 1,
//	  "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 32 bytes>"},
//	  "cipher": {"name": "aes-256-gcm", "nonce": "<base64, 12 bytes>"},
//	  "ciphertext": "<base64: the sealed seed and its 16-byte tag>"
//	}
//
// scrypt turns the passphrase and salt into a 32-byte AES-256-GCM key. The
// version and KDF parameters are the additional authenticated data, so a
// file whose parameters were lowered fails like a wrong passphrase. Salt and
// nonce are fresh on every write. Why scrypt and AES-GCM rather than age:
// the format stays plain, versioned JSON whose every field is visible and
// checked here, with no dependency beyond golang.org/x/crypto (already
// required by go-ethereum); age's scrypt recipient would hide the same
// construction inside its own binary header.
const (
	keystoreVersion = 1
	// DefaultScryptN is the production cost: 2^17 × r=8 needs 128 MiB and
	// about half a second per attempt on a server core.
	DefaultScryptN = 1 << 17
	// MinScryptN is the lowest cost the keystore accepts, for tests only.
	MinScryptN = 1 << 10
	maxScryptN = 1 << 20 // 1 GiB at r=8: a file may not ask for more
	scryptR    = 8
	scryptP    = 1
	saltLen    = 32
	maxFile    = 64 << 10
	// MinPassphrase is the shortest passphrase Create accepts, in bytes.
	MinPassphrase = 8
)

type keystoreFile struct {
	Version    int         `json:"version"`
	KDF        kdfParams   `json:"kdf"`
	Cipher     cipherParam `json:"cipher"`
	Ciphertext []byte      `json:"ciphertext"`
}

type kdfParams struct {
	Name string `json:"name"`
	N    int    `json:"n"`
	R    int    `json:"r"`
	P    int    `json:"p"`
	Salt []byte `json:"salt"`
}

type cipherParam struct {
	Name  string `json:"name"`
	Nonce []byte `json:"nonce"`
}

func (f *keystoreFile) aad() []byte {
	return fmt.Appendf(nil, "chengdui keystore v%d scrypt n=%d r=%d p=%d aes-256-gcm", f.Version, f.KDF.N, f.KDF.R, f.KDF.P)
}

// Option changes how the keystore writes.
type Option func(*options)

type options struct{ scryptN int }

// WithScryptN sets scrypt's cost parameter N, a power of two between
// MinScryptN and 2^20. Lower than DefaultScryptN is for tests only.
func WithScryptN(n int) Option { return func(o *options) { o.scryptN = n } }

func buildOptions(opts []Option) (options, error) {
	o := options{scryptN: DefaultScryptN}
	for _, opt := range opts {
		opt(&o)
	}
	if o.scryptN < MinScryptN || o.scryptN > maxScryptN || o.scryptN&(o.scryptN-1) != 0 {
		return o, chengdui.Errorf(chengdui.EInvalid, "scrypt N=%d: use a power of two from %d to %d", o.scryptN, MinScryptN, maxScryptN)
	}
	return o, nil
}

// Create encrypts seed under passphrase into a new keystore file at path
// (mode 0600, parent directories 0700). It refuses an existing file
// (EConflict), a passphrase shorter than MinPassphrase bytes (EInvalid) and
// an invalid seed (EInvalid). The caller keeps and zeroes seed and passphrase.
func Create(path string, seed Seed, passphrase []byte, opts ...Option) error {
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	if len(seed.b) < 16 || len(seed.b) > 64 {
		return chengdui.Errorf(chengdui.EInvalid, "a seed has 16 to 64 bytes, not %d", len(seed.b))
	}
	if len(passphrase) < MinPassphrase {
		return chengdui.Errorf(chengdui.EInvalid, "the passphrase must have at least %d bytes", MinPassphrase)
	}
	if _, err := os.Lstat(path); err == nil {
		return chengdui.Errorf(chengdui.EConflict, "a keystore already exists at %s; it is never overwritten", path)
	}
	data, err := seal(seed, passphrase, o)
	if err != nil {
		return err
	}
	return writeFile(path, data, false)
}

// Open decrypts the keystore at path. A wrong passphrase and a damaged or
// altered file are the same EUnauthorized refusal, which tells nothing
// about which. A missing file is ENotFound; one that is not a keystore,
// or that others may read, is EInvalid. The caller zeroes the seed.
func Open(path string, passphrase []byte) (Seed, error) {
	f, err := readFile(path)
	if err != nil {
		return Seed{}, err
	}
	key, err := scrypt.Key(passphrase, f.KDF.Salt, f.KDF.N, f.KDF.R, f.KDF.P, 32)
	if err != nil {
		return Seed{}, chengdui.Errorf(chengdui.EInvalid, "keystore %s: unusable scrypt parameters", path)
	}
	defer clear(key)
	aead, err := newGCM(key)
	if err != nil {
		return Seed{}, err
	}
	plain, err := aead.Open(nil, f.Cipher.Nonce, f.Ciphertext, f.aad())
	if err != nil {
		return Seed{}, chengdui.Errorf(chengdui.EUnauthorized, "keystore %s: wrong passphrase, or the file was altered", path)
	}
	if len(plain) < 16 || len(plain) > 64 {
		clear(plain)
		return Seed{}, chengdui.Errorf(chengdui.EInvalid, "keystore %s: the sealed seed has an invalid length", path)
	}
	return Seed{b: plain}, nil
}

// ChangePassphrase re-encrypts the keystore at path under newPassphrase
// with a fresh salt and nonce, replacing the file atomically: a crash leaves
// either the old file or the new one. The old passphrase must open it
// (EUnauthorized otherwise).
func ChangePassphrase(path string, oldPassphrase, newPassphrase []byte, opts ...Option) error {
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	if len(newPassphrase) < MinPassphrase {
		return chengdui.Errorf(chengdui.EInvalid, "the new passphrase must have at least %d bytes", MinPassphrase)
	}
	seed, err := Open(path, oldPassphrase)
	if err != nil {
		return err
	}
	defer seed.Zero()
	data, err := seal(seed, newPassphrase, o)
	if err != nil {
		return err
	}
	return writeFile(path, data, true)
}

func seal(seed Seed, passphrase []byte, o options) ([]byte, error) {
	f := keystoreFile{
		Version: keystoreVersion,
		KDF:     kdfParams{Name: "scrypt", N: o.scryptN, R: scryptR, P: scryptP, Salt: make([]byte, saltLen)},
		Cipher:  cipherParam{Name: "aes-256-gcm", Nonce: make([]byte, 12)},
	}
	rand.Read(f.KDF.Salt)
	rand.Read(f.Cipher.Nonce)
	key, err := scrypt.Key(passphrase, f.KDF.Salt, f.KDF.N, f.KDF.R, f.KDF.P, 32)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "scrypt: %v", err)
	}
	defer clear(key)
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	f.Ciphertext = aead.Seal(nil, f.Cipher.Nonce, seed.b, f.aad())
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "encode keystore: %v", err)
	}
	return append(data, '\n'), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "aes: %v", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "gcm: %v", err)
	}
	return aead, nil
}

func readFile(path string) (*keystoreFile, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chengdui.Errorf(chengdui.ENotFound, "no keystore at %s; create one with 'chengdui keys init'", path)
	} else if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "open keystore: %v", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "stat keystore: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, chengdui.Errorf(chengdui.EInvalid, "keystore %s is not a regular file", path)
	}
	// Like ssh with private keys: a keystore others can read is refused.
	// Windows reports synthetic permission bits, so the check is Unix-only.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "keystore %s has mode %v; others may read it: chmod 600 it", path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxFile+1))
	if err != nil {
		return nil, chengdui.Errorf(chengdui.EInternal, "read keystore: %v", err)
	}
	if len(data) > maxFile {
		return nil, chengdui.Errorf(chengdui.EInvalid, "keystore %s is too large to be a keystore", path)
	}
	return parseKeystore(path, data)
}

func parseKeystore(path string, data []byte) (*keystoreFile, error) {
	var f keystoreFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, chengdui.Errorf(chengdui.EInvalid, "keystore %s is not a keystore file: %v", path, err)
	}
	bad := func(what string) error {
		return chengdui.Errorf(chengdui.EInvalid, "keystore %s: %s", path, what)
	}
	switch {
	case f.Version != keystoreVersion:
		return nil, bad(fmt.Sprintf("format version %d is not supported (this build reads %d)", f.Version, keystoreVersion))
	case f.KDF.Name != "scrypt":
		return nil, bad(fmt.Sprintf("kdf %q is not supported", f.KDF.Name))
	case f.KDF.N < MinScryptN || f.KDF.N > maxScryptN || f.KDF.N&(f.KDF.N-1) != 0:
		return nil, bad(fmt.Sprintf("scrypt n=%d is out of range", f.KDF.N))
	case f.KDF.R < 1 || f.KDF.R > 16 || f.KDF.P < 1 || f.KDF.P > 4 || f.KDF.N*f.KDF.R > maxScryptN*scryptR:
		return nil, bad(fmt.Sprintf("scrypt r=%d p=%d is out of range", f.KDF.R, f.KDF.P))
	case len(f.KDF.Salt) < 16 || len(f.KDF.Salt) > 64:
		return nil, bad("the salt has an invalid length")
	case f.Cipher.Name != "aes-256-gcm":
		return nil, bad(fmt.Sprintf("cipher %q is not supported", f.Cipher.Name))
	case len(f.Cipher.Nonce) != 12:
		return nil, bad("the nonce has an invalid length")
	case len(f.Ciphertext) < 16+16 || len(f.Ciphertext) > 64+16:
		return nil, bad("the ciphertext has an invalid length")
	}
	return &f, nil
}

// writeFile writes data to a temporary file beside path, syncs it, then
// links it into place (refusing an existing file) or renames it over path.
func writeFile(path string, data []byte, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return chengdui.Errorf(chengdui.EInternal, "create keystore directory: %v", err)
	}
	tmp, err := os.CreateTemp(dir, ".keystore-*.tmp") // mode 0600
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "create keystore: %v", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return chengdui.Errorf(chengdui.EInternal, "chmod keystore: %v", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return chengdui.Errorf(chengdui.EInternal, "write keystore: %v", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return chengdui.Errorf(chengdui.EInternal, "sync keystore: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return chengdui.Errorf(chengdui.EInternal, "close keystore: %v", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return chengdui.Errorf(chengdui.EConflict, "a keystore already exists at %s; it is never overwritten", path)
	}
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "install keystore: %v", err)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable
		d.Sync()
		d.Close()
	}
	return nil
}
