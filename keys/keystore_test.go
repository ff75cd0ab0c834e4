package keys

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui"
)

var testCost = WithScryptN(MinScryptN)

func newKeystore(t *testing.T) (path string, seed Seed, pass []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "data", "keystore.json")
	seed = abandonSeed(t)
	pass = []byte("correct horse battery staple")
	require.NoError(t, Create(path, seed, pass, testCost))
	return path, seed, pass
}

func TestKeystoreRoundTrip(t *testing.T) {
	path, seed, pass := newKeystore(t)
	got, err := Open(path, pass)
	require.NoError(t, err)
	require.Equal(t, seed.Bytes(), got.Bytes())
	got.Zero()
	require.Equal(t, make([]byte, 64), got.Bytes(), "Zero wipes the buffer")

	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		st, err = os.Stat(filepath.Dir(path))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")

	var f map[string]any
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &f))
	require.EqualValues(t, 1, f["version"])
	require.Equal(t, "scrypt", f["kdf"].(map[string]any)["name"])
	require.EqualValues(t, MinScryptN, f["kdf"].(map[string]any)["n"])
	require.Equal(t, "aes-256-gcm", f["cipher"].(map[string]any)["name"])
}

func TestKeystoreDefaultCost(t *testing.T) {
	if testing.Short() {
		t.Skip("scrypt at production cost")
	}
	path := filepath.Join(t.TempDir(), "keystore.json")
	require.NoError(t, Create(path, abandonSeed(t), []byte("production passphrase")))
	f, err := readFile(path)
	require.NoError(t, err)
	require.Equal(t, DefaultScryptN, f.KDF.N)
	require.GreaterOrEqual(t, f.KDF.N, 1<<15)
}

func TestKeystoreWrongPassphrase(t *testing.T) {
	path, _, pass := newKeystore(t)
	for _, wrong := range [][]byte{nil, []byte("correct horse battery stapler"), pass[:len(pass)-1]} {
		_, err := Open(path, wrong)
		require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
		require.NotContains(t, err.Error(), string(pass))
		if len(wrong) > 0 {
			require.NotContains(t, err.Error(), string(wrong))
		}
	}
}

// Any change to the sealed bytes or to the parameters they are bound to is
// refused exactly like a wrong passphrase.
func TestKeystoreTampering(t *testing.T) {
	path, _, pass := newKeystore(t)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	var f keystoreFile
	require.NoError(t, json.Unmarshal(orig, &f))
	for name, mutate := range map[string]func(f *keystoreFile){
		"ciphertext": func(f *keystoreFile) { f.Ciphertext[0] ^= 1 },
		"tag":        func(f *keystoreFile) { f.Ciphertext[len(f.Ciphertext)-1] ^= 0x80 },
		"nonce":      func(f *keystoreFile) { f.Cipher.Nonce[3] ^= 1 },
		"salt":       func(f *keystoreFile) { f.KDF.Salt[0] ^= 1 },
		"cost":       func(f *keystoreFile) { f.KDF.N *= 2 },
		"r":          func(f *keystoreFile) { f.KDF.R = 4 },
		"truncated":  func(f *keystoreFile) { f.Ciphertext = f.Ciphertext[:len(f.Ciphertext)-1] },
	} {
		t.Run(name, func(t *testing.T) {
			c := f
			c.Ciphertext = append([]byte(nil), f.Ciphertext...)
			c.Cipher.Nonce = append([]byte(nil), f.Cipher.Nonce...)
			c.KDF.Salt = append([]byte(nil), f.KDF.Salt...)
			mutate(&c)
			data, err := json.Marshal(c)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, data, 0o600))
			_, err = Open(path, pass)
			require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err), "%v", err)
		})
	}
}

func TestKeystoreMalformed(t *testing.T) {
	path, _, pass := newKeystore(t)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	var f map[string]any
	require.NoError(t, json.Unmarshal(orig, &f))
	for name, c := range map[string]struct {
		data string
		code string
	}{
		"not json":      {"hello", chengdui.EInvalid},
		"empty":         {"", chengdui.EInvalid},
		"version 2":     {`{"version":2}`, chengdui.EInvalid},
		"unknown field": {`{"version":1,"extra":true}`, chengdui.EInvalid},
		"huge cost":     {`{"version":1,"kdf":{"name":"scrypt","n":1073741824,"r":8,"p":1,"salt":"` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"}}`, chengdui.EInvalid},
		"other kdf":     {`{"version":1,"kdf":{"name":"pbkdf2"}}`, chengdui.EInvalid},
		"short nonce":   {`{"version":1,"kdf":{"name":"scrypt","n":1024,"r":8,"p":1,"salt":"` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"},"cipher":{"name":"aes-256-gcm","nonce":"AAAA"}}`, chengdui.EInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(c.data), 0o600))
			_, err := Open(path, pass)
			require.Equal(t, c.code, chengdui.ErrorCode(err), "%v", err)
		})
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.json"), pass)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))

	if runtime.GOOS != "windows" {
		require.NoError(t, os.WriteFile(path, orig, 0o600))
		require.NoError(t, os.Chmod(path, 0o644))
		_, err = Open(path, pass)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "a world-readable keystore is refused")
		require.NoError(t, os.Chmod(path, 0o600))
		_, err = Open(path, pass)
		require.NoError(t, err)
	}
}

func TestKeystoreCreateRefusals(t *testing.T) {
	path, seed, pass := newKeystore(t)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	err = Create(path, seed, pass, testCost)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after, "an existing keystore is never overwritten")

	other := filepath.Join(t.TempDir(), "k.json")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(Create(other, seed, []byte("short"), testCost)))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(Create(other, Seed{}, pass, testCost)))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(Create(other, seed, pass, WithScryptN(1000))))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(Create(other, seed, pass, WithScryptN(1<<8))))
	_, err = os.Stat(other)
	require.True(t, os.IsNotExist(err))
}

// Two processes creating the same keystore: exactly one wins.
func TestKeystoreCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.json")
	seed := abandonSeed(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Create(path, seed, []byte("same passphrase"), testCost)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err))
		}
	}
	require.Equal(t, 1, ok)
}

func TestChangePassphrase(t *testing.T) {
	path, seed, pass := newKeystore(t)
	before, err := readFile(path)
	require.NoError(t, err)
	newPass := []byte("a much longer new passphrase")

	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(ChangePassphrase(path, []byte("wrong passphrase"), newPass, testCost)))
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(ChangePassphrase(path, pass, []byte("short"), testCost)))
	_, err = Open(path, pass)
	require.NoError(t, err, "failed changes leave the old passphrase working")

	require.NoError(t, ChangePassphrase(path, pass, newPass, testCost))
	_, err = Open(path, pass)
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	got, err := Open(path, newPass)
	require.NoError(t, err)
	require.Equal(t, seed.Bytes(), got.Bytes())

	after, err := readFile(path)
	require.NoError(t, err)
	require.NotEqual(t, before.KDF.Salt, after.KDF.Salt)
	require.NotEqual(t, before.Cipher.Nonce, after.Cipher.Nonce)
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}
