package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"chengdui"
)

func TestSeedSigner(t *testing.T) {
	seed := abandonSeed(t)
	s, err := NewSeedSigner(seed)
	require.NoError(t, err)
	defer s.Close()
	var signer Signer = s

	digest := sha256.Sum256([]byte("payment intent"))
	path := EVM.Path(Mainnet, 0, 0, 0)
	sig, err := signer.SignDigest(path, digest[:])
	require.NoError(t, err)
	require.Len(t, sig, 65)
	pub, err := crypto.SigToPub(digest[:], sig)
	require.NoError(t, err)
	require.Equal(t, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", crypto.PubkeyToAddress(*pub).Hex())

	// The signer's key at a Bitcoin path is the watcher's key there.
	for _, net := range Networks {
		xpub, err := SchemeXPub(seed, P2WPKH, net, 0)
		require.NoError(t, err)
		want, err := DeriveFromXPub(xpub, 1, 7)
		require.NoError(t, err)
		got, err := s.PublicKey(P2WPKH.Path(net, 0, 1, 7))
		require.NoError(t, err)
		require.True(t, want.IsEqual(got))
		sig, err := s.SignDigest(P2WPKH.Path(net, 0, 1, 7), digest[:])
		require.NoError(t, err)
		rec, err := crypto.Ecrecover(digest[:], sig)
		require.NoError(t, err)
		require.Equal(t, want.SerializeUncompressed(), rec)
	}

	_, err = s.SignDigest(path, digest[:31])
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = s.SignDigest(Path{}, digest[:])
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "the master key never signs")

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignDigest(EVM.Path(Mainnet, 0, 0, uint32(i)), digest[:])
			require.NoError(t, err)
		}()
	}
	wg.Wait()

	require.NoError(t, s.Close())
	_, err = s.SignDigest(path, digest[:])
	require.Equal(t, chengdui.EUnavailable, chengdui.ErrorCode(err))
	require.NoError(t, s.Close())
}

func TestOpenSigner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.json")
	pass := []byte("signer passphrase")
	require.NoError(t, Create(path, abandonSeed(t), pass, testCost))
	_, err := OpenSigner(path, []byte("wrong passphrase"))
	require.Equal(t, chengdui.EUnauthorized, chengdui.ErrorCode(err))
	s, err := OpenSigner(path, pass)
	require.NoError(t, err)
	defer s.Close()
	pub, err := s.PublicKey(P2WPKH.Path(Mainnet, 0, 0, 0))
	require.NoError(t, err)
	require.Equal(t, "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c", hex.EncodeToString(pub.SerializeCompressed()))
}

// Secrets never reach fmt, slog or encoding/json.
func TestSecretsRedacted(t *testing.T) {
	seed := abandonSeed(t)
	s, err := NewSeedSigner(seed)
	require.NoError(t, err)
	defer s.Close()
	m, err := masterKey(seed, Mainnet)
	require.NoError(t, err)
	secrets := []string{
		hex.EncodeToString(seed.Bytes()),
		hex.EncodeToString(seed.Bytes()[:8]),
		fmt.Sprint(seed.Bytes()[:8])[1:20],
		m.String(),
		string(seed.Bytes()[:8]),
	}
	type wrapper struct {
		Seed   Seed
		Ptr    *Seed
		Signer *SeedSigner
	}
	w := wrapper{seed, &seed, s}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		fmt.Fprintf(&out, verb+"\n", seed)
		fmt.Fprintf(&out, verb+"\n", &seed)
		fmt.Fprintf(&out, verb+"\n", s)
		fmt.Fprintf(&out, verb+"\n", w)
		fmt.Fprintf(&out, verb+"\n", []any{seed, s})
	}
	fmt.Fprintln(&out, seed, s)
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(h).Info("keys", "seed", seed, "ptr", &seed, "signer", s, "wrapper", w, slog.Any("any", seed))
	}
	js, err := json.Marshal(w)
	require.NoError(t, err)
	out.Write(js)

	for _, secret := range secrets {
		require.NotContains(t, out.String(), secret)
	}
	require.Contains(t, out.String(), "[redacted]")
}
