package keys

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/txscript"
	"github.com/stretchr/testify/require"

	"chengdui"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const abandonAbout = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

func abandonSeed(tb testing.TB) Seed {
	tb.Helper()
	seed, err := MnemonicToSeed(abandonAbout, "", English)
	require.NoError(tb, err)
	return seed
}

func TestBIP32Vectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			Seed   string
			Chains []struct{ Path, XPub, XPrv string }
		}
	}
	readJSON(t, "bip32_vectors.json", &f)
	require.Len(t, f.Vectors, 3)
	for _, v := range f.Vectors {
		seed, err := NewSeed(mustHex(t, v.Seed))
		require.NoError(t, err)
		m, err := masterKey(seed, Mainnet)
		require.NoError(t, err)
		for _, c := range v.Chains {
			t.Run(v.Seed[:8]+"/"+c.Path, func(t *testing.T) {
				p, err := ParsePath(c.Path)
				require.NoError(t, err)
				k := m
				if len(p) > 0 {
					k, err = derivePath(m, p)
					require.NoError(t, err)
				}
				require.Equal(t, c.XPrv, k.String())
				pub, err := k.Neuter()
				require.NoError(t, err)
				require.Equal(t, c.XPub, pub.String())
			})
		}
	}
}

type bitcoinVectors struct {
	Mnemonic string
	RootPriv string
	BIP84    struct {
		RootZPrv     string `json:"rootzprv"`
		Account0ZPrv string `json:"account0_zprv"`
		Account0ZPub string `json:"account0_zpub"`
		Addresses    []struct {
			Change, Index   uint32
			PubKey, Address string
		}
	}
	BIP86 struct {
		Account0XPrv string `json:"account0_xprv"`
		Account0XPub string `json:"account0_xpub"`
		Addresses    []struct {
			Change, Index uint32
			InternalKey   string `json:"internal_key"`
			OutputKey     string `json:"output_key"`
			Address       string
		}
	}
	EVM struct {
		Addresses []struct {
			Account, Index uint32
			Address        string
		}
	}
}

func TestBIP84(t *testing.T) {
	var v bitcoinVectors
	readJSON(t, "bip84_bip86_vectors.json", &v)
	seed, err := MnemonicToSeed(v.Mnemonic, "", English)
	require.NoError(t, err)

	m, err := masterKey(seed, Mainnet)
	require.NoError(t, err)
	require.Equal(t, v.RootPriv, m.String())
	zprv := []byte{0x04, 0xb2, 0x43, 0x0c} // SLIP-132 zprv
	z, err := m.CloneWithVersion(zprv)
	require.NoError(t, err)
	require.Equal(t, v.BIP84.RootZPrv, z.String())
	acct, err := derivePath(m, P2WPKH.AccountPath(Mainnet, 0))
	require.NoError(t, err)
	z, err = acct.CloneWithVersion(zprv)
	require.NoError(t, err)
	require.Equal(t, v.BIP84.Account0ZPrv, z.String())

	xpub, err := SchemeXPub(seed, P2WPKH, Mainnet, 0)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(xpub, "xpub"), xpub)
	zpub, err := ZPub(xpub)
	require.NoError(t, err)
	require.Equal(t, v.BIP84.Account0ZPub, zpub)

	w, err := NewWatcher(P2WPKH, Mainnet, zpub)
	require.NoError(t, err)
	for _, a := range v.BIP84.Addresses {
		got, err := DeriveAddress(seed, P2WPKH, Mainnet, 0, a.Change, a.Index)
		require.NoError(t, err)
		require.Equal(t, a.Address, got)
		for _, key := range []string{xpub, zpub} {
			pub, err := DeriveFromXPub(key, a.Change, a.Index)
			require.NoError(t, err)
			require.Equal(t, a.PubKey, hex.EncodeToString(pub.SerializeCompressed()))
		}
		got, err = w.Address(a.Change, a.Index)
		require.NoError(t, err)
		require.Equal(t, a.Address, got)
	}
}

func TestBIP86(t *testing.T) {
	var v bitcoinVectors
	readJSON(t, "bip84_bip86_vectors.json", &v)
	seed, err := MnemonicToSeed(v.Mnemonic, "", English)
	require.NoError(t, err)

	m, err := masterKey(seed, Mainnet)
	require.NoError(t, err)
	acct, err := derivePath(m, P2TR.AccountPath(Mainnet, 0))
	require.NoError(t, err)
	require.Equal(t, v.BIP86.Account0XPrv, acct.String())
	xpub, err := SchemeXPub(seed, P2TR, Mainnet, 0)
	require.NoError(t, err)
	require.Equal(t, v.BIP86.Account0XPub, xpub)

	w, err := NewWatcher(P2TR, Mainnet, xpub)
	require.NoError(t, err)
	for _, a := range v.BIP86.Addresses {
		pub, err := DeriveFromXPub(xpub, a.Change, a.Index)
		require.NoError(t, err)
		require.Equal(t, a.InternalKey, hex.EncodeToString(schnorr.SerializePubKey(pub)))
		require.Equal(t, a.OutputKey, hex.EncodeToString(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pub))))
		got, err := DeriveAddress(seed, P2TR, Mainnet, 0, a.Change, a.Index)
		require.NoError(t, err)
		require.Equal(t, a.Address, got)
		got, err = w.Address(a.Change, a.Index)
		require.NoError(t, err)
		require.Equal(t, a.Address, got)
	}
}

func TestEVMBIP44(t *testing.T) {
	var v bitcoinVectors
	readJSON(t, "bip84_bip86_vectors.json", &v)
	seed, err := MnemonicToSeed(v.Mnemonic, "", English)
	require.NoError(t, err)
	xpub, err := SchemeXPub(seed, EVM, Mainnet, 0)
	require.NoError(t, err)
	for _, net := range Networks { // EVM addresses ignore the Bitcoin network
		w, err := NewWatcher(EVM, net, xpub)
		require.NoError(t, err)
		for _, a := range v.EVM.Addresses {
			got, err := DeriveAddress(seed, EVM, net, a.Account, 0, a.Index)
			require.NoError(t, err)
			require.Equal(t, a.Address, got)
			got, err = w.Address(0, a.Index)
			require.NoError(t, err)
			require.Equal(t, a.Address, got)
		}
	}
}

// Cold mode: every address the server derives from an account xpub is the
// address the seed derives, on every network and scheme.
func TestWatchOnlyMatchesSeed(t *testing.T) {
	seed := abandonSeed(t)
	other, err := MnemonicToSeed(abandonAbout, "a passphrase makes another wallet", English)
	require.NoError(t, err)
	for _, s := range []Seed{seed, other} {
		for _, net := range Networks {
			for _, scheme := range Schemes {
				for _, account := range []uint32{0, 7} {
					xpub, err := SchemeXPub(s, scheme, net, account)
					require.NoError(t, err)
					w, err := NewWatcher(scheme, net, xpub)
					require.NoError(t, err)
					for change := uint32(0); change < 2; change++ {
						for index := uint32(0); index < 3; index++ {
							want, err := DeriveAddress(s, scheme, net, account, change, index)
							require.NoError(t, err)
							got, err := w.Address(change, index)
							require.NoError(t, err)
							require.Equal(t, want, got, "%s %s %d/%d/%d", net, scheme, account, change, index)
						}
					}
				}
			}
		}
	}
	// A large index, the last unhardened one.
	xpub, err := SchemeXPub(seed, P2WPKH, Regtest, 0)
	require.NoError(t, err)
	pub, err := DeriveFromXPub(xpub, 0, Hardened-1)
	require.NoError(t, err)
	want, err := DerivePublicKey(seed, P2WPKH, Regtest, 0, 0, Hardened-1)
	require.NoError(t, err)
	require.True(t, want.IsEqual(pub))
}

func TestXPubVersions(t *testing.T) {
	seed := abandonSeed(t)
	for net, prefix := range map[Network]string{Mainnet: "xpub", Testnet: "tpub", Signet: "tpub", Regtest: "tpub"} {
		xpub, err := SchemeXPub(seed, P2WPKH, net, 0)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(xpub, prefix), "%s: %s", net, xpub)
		z, err := ZPub(xpub)
		require.NoError(t, err)
		wantZ := map[string]string{"xpub": "zpub", "tpub": "vpub"}[prefix]
		require.True(t, strings.HasPrefix(z, wantZ), "%s: %s", net, z)
		a, err := DeriveFromXPub(xpub, 0, 3)
		require.NoError(t, err)
		b, err := DeriveFromXPub(z, 0, 3)
		require.NoError(t, err)
		require.True(t, a.IsEqual(b))
	}
}

func TestWatchOnlyRefusals(t *testing.T) {
	seed := abandonSeed(t)
	xpub, err := SchemeXPub(seed, P2WPKH, Mainnet, 0)
	require.NoError(t, err)
	tpub, err := SchemeXPub(seed, P2WPKH, Regtest, 0)
	require.NoError(t, err)
	m, err := masterKey(seed, Mainnet)
	require.NoError(t, err)
	acct, err := derivePath(m, P2WPKH.AccountPath(Mainnet, 0))
	require.NoError(t, err)
	xprv := acct.String()
	rootPub, err := m.Neuter()
	require.NoError(t, err)
	addrKey, err := derivePath(acct, Path{0, 0})
	require.NoError(t, err)
	addrPub, err := addrKey.Neuter()
	require.NoError(t, err)
	flipped := []byte(xpub)
	flipped[50] ^= 1 // still base58, but the checksum fails
	if flipped[50] == '0' || flipped[50] == 'O' || flipped[50] == 'I' || flipped[50] == 'l' {
		flipped[50] = 'z'
	}
	for name, key := range map[string]string{
		"private key":    xprv,
		"root key":       rootPub.String(),
		"address key":    addrPub.String(),
		"bad checksum":   string(flipped),
		"empty":          "",
		"garbage":        "not a key",
		"too long":       strings.Repeat("x", 500),
		"unknown prefix": mustClone(t, xpub, []byte{0x04, 0x9d, 0x7c, 0xb2}), // ypub: BIP49, not used here
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DeriveFromXPub(key, 0, 0)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			require.NotContains(t, err.Error(), xprv)
		})
	}
	_, err = DeriveFromXPub(xpub, Hardened, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = DeriveFromXPub(xpub, 0, Hardened)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))

	_, err = NewWatcher(P2WPKH, Regtest, xpub)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "mainnet key on regtest")
	_, err = NewWatcher(P2TR, Mainnet, tpub)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "test key on mainnet")
	_, err = NewWatcher(Scheme(0), Mainnet, xpub)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = NewWatcher(P2WPKH, Network(0), xpub)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = DeriveAddress(seed, P2WPKH, Mainnet, Hardened, 0, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = AccountXPub(seed, Mainnet, 84, Hardened, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = AccountXPub(Seed{}, Mainnet, 84, 0, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

func mustClone(tb testing.TB, key string, version []byte) string {
	tb.Helper()
	k, err := hdkeychain.NewKeyFromString(key)
	require.NoError(tb, err)
	c, err := k.CloneWithVersion(version)
	require.NoError(tb, err)
	return c.String()
}

// TestAddressGolden pins the address format of every scheme on every
// network (bc1q/tb1q/bcrt1q, bc1p/tb1p/bcrt1p, 0x…). Regenerate with
// go test ./keys -run AddressGolden -update.
func TestAddressGolden(t *testing.T) {
	seed := abandonSeed(t)
	var b strings.Builder
	fmt.Fprintf(&b, "# mnemonic %q, no passphrase\n", abandonAbout)
	for _, net := range Networks {
		for _, scheme := range Schemes {
			xpub, err := SchemeXPub(seed, scheme, net, 0)
			require.NoError(t, err)
			fmt.Fprintf(&b, "%s %s account 0 %s\n", net, scheme, xpub)
			for _, ci := range [][2]uint32{{0, 0}, {0, 1}, {1, 0}} {
				a, err := DeriveAddress(seed, scheme, net, 0, ci[0], ci[1])
				require.NoError(t, err)
				fmt.Fprintf(&b, "%s %s %s %s\n", net, scheme, scheme.Path(net, 0, ci[0], ci[1]), a)
			}
		}
	}
	const golden = "testdata/addresses.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), b.String())
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		f := strings.Fields(line)
		addr := f[len(f)-1]
		if f[2] == "account" {
			continue
		}
		prefix := map[string]string{
			"mainnet p2wpkh": "bc1q", "testnet p2wpkh": "tb1q", "signet p2wpkh": "tb1q", "regtest p2wpkh": "bcrt1q",
			"mainnet p2tr": "bc1p", "testnet p2tr": "tb1p", "signet p2tr": "tb1p", "regtest p2tr": "bcrt1p",
		}[f[0]+" "+f[1]]
		if f[1] == "evm" {
			prefix = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"[:2]
		}
		require.True(t, strings.HasPrefix(addr, prefix), line)
	}
}

func TestNetworks(t *testing.T) {
	for _, n := range Networks {
		got, err := ParseNetwork(n.String())
		require.NoError(t, err)
		require.Equal(t, n, got)
	}
	require.Equal(t, "bc", Mainnet.HRP())
	require.Equal(t, "tb", Testnet.HRP())
	require.Equal(t, "tb", Signet.HRP())
	require.Equal(t, "bcrt", Regtest.HRP())
	require.Equal(t, "", Network(0).HRP())
	_, err := ParseNetwork("dogecoin")
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

// FuzzDeriveFromXPub: account keys come from configuration. Parsing never
// panics and never accepts a private key.
func FuzzDeriveFromXPub(f *testing.F) {
	seed := abandonSeed(f)
	for _, net := range []Network{Mainnet, Regtest} {
		for _, s := range Schemes {
			xpub, err := SchemeXPub(seed, s, net, 0)
			require.NoError(f, err)
			f.Add(xpub, uint32(0), uint32(0))
		}
	}
	f.Add("xprv9s21ZrQH143K3GJpoapnV8SFfukcVBSfeCficPSGfubmSFDxo1kuHnLisriDvSnRRuL2Qrg5ggqHKNVpxR86QEC8w35uxmGoggxtQTPvfUu", uint32(0), uint32(1))
	f.Fuzz(func(t *testing.T, xpub string, change, index uint32) {
		pub, err := DeriveFromXPub(xpub, change, index)
		if err != nil {
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
			return
		}
		require.NotNil(t, pub)
		k, err := hdkeychain.NewKeyFromString(xpub)
		require.NoError(t, err)
		require.False(t, k.IsPrivate())
	})
}
