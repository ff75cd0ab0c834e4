package cold_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// The cosigners' mnemonics: BIP39's test vectors, plus one more for a key
// that is not in the wallet.
var mnemonics = [4]string{
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
	"legal winner thank year wave sausage worth useful legal winner thank yellow",
	"letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
	"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
}

// seeds holds the mnemonics' seeds: PBKDF2 makes each cost milliseconds.
var seeds sync.Map

func seed(t testing.TB, i int) keys.Seed {
	t.Helper()
	if s, ok := seeds.Load(i); ok {
		return s.(keys.Seed)
	}
	s, err := keys.MnemonicToSeed(mnemonics[i], "", keys.English)
	require.NoError(t, err)
	seeds.Store(i, s)
	return s
}

func accountKey(t testing.TB, i int, net keys.Network, account uint32) cold.Key {
	t.Helper()
	k, err := cold.AccountKey(seed(t, i), net, account)
	require.NoError(t, err)
	return k
}

// wallet is the 2-of-3 of the first three mnemonics' account 0 keys.
func wallet(t testing.TB, net keys.Network) (*cold.Wallet, [3]string) {
	t.Helper()
	var xpubs [3]string
	for i := range xpubs {
		xpubs[i] = accountKey(t, i, net, 0).String()
	}
	w, err := cold.NewWallet(net, xpubs)
	require.NoError(t, err)
	return w, xpubs
}

func signer(t testing.TB, i int) *keys.SeedSigner {
	t.Helper()
	s, err := keys.NewSeedSigner(seed(t, i))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAccountKey(t *testing.T) {
	k := accountKey(t, 0, keys.Mainnet, 0)
	// 73c5da0a is the well-known master fingerprint of "abandon … about".
	require.True(t, strings.HasPrefix(k.String(), "[73c5da0a/48'/0'/0'/2']xpub"), k.String())
	require.Equal(t, "m/48'/0'/0'/2'", k.Path.String())

	test := accountKey(t, 0, keys.Regtest, 3)
	require.True(t, strings.HasPrefix(test.String(), "[73c5da0a/48'/1'/3'/2']tpub"), test.String())

	// The text form parses back to the same key, and SLIP-132's Zpub is
	// accepted and printed as xpub.
	back, err := cold.ParseKey(k.String(), keys.Mainnet)
	require.NoError(t, err)
	require.Equal(t, k.String(), back.String())
	ext, err := hdkeychain.NewKeyFromString(k.XPub())
	require.NoError(t, err)
	z, err := ext.CloneWithVersion([]byte{0x02, 0xaa, 0x7e, 0xd3})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(z.String(), "Zpub"))
	back, err = cold.ParseKey("[73c5da0a/48h/0h/0h/2h]"+z.String(), keys.Mainnet)
	require.NoError(t, err)
	require.Equal(t, k.String(), back.String())

	_, err = cold.AccountKey(seed(t, 0), keys.Regtest, keys.Hardened)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, err = cold.AccountKey(seed(t, 0), 0, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

// TestAddress checks the watch-only addresses against ones computed from
// the seeds' private keys with txscript's own multisig script.
func TestAddress(t *testing.T) {
	for _, net := range []keys.Network{keys.Mainnet, keys.Regtest} {
		w, _ := wallet(t, net)
		params := map[keys.Network]*chaincfg.Params{keys.Mainnet: &chaincfg.MainNetParams, keys.Regtest: &chaincfg.RegressionNetParams}[net]
		for _, c := range []struct{ change, index uint32 }{{0, 0}, {0, 7}, {1, 0}, {1, 1000}} {
			var pubs []*btcutil.AddressPubKey
			for i := range 3 {
				k := privateChild(t, seed(t, i), params, accountKey(t, i, net, 0).Path.Child(c.change, c.index))
				a, err := btcutil.NewAddressPubKey(k.SerializeCompressed(), params)
				require.NoError(t, err)
				pubs = append(pubs, a)
			}
			sortPubs(pubs)
			ws, err := txscript.MultiSigScript(pubs, 2)
			require.NoError(t, err)
			h := sha256.Sum256(ws)
			want, err := btcutil.NewAddressWitnessScriptHash(h[:], params)
			require.NoError(t, err)

			var got string
			if c.change == cold.Receive {
				got, err = w.Address(c.index)
			} else {
				got, err = w.ChangeAddress(c.index)
			}
			require.NoError(t, err)
			require.Equal(t, want.EncodeAddress(), got)
			gotWS, pk, err := w.Script(c.change, c.index)
			require.NoError(t, err)
			require.Equal(t, ws, gotWS)
			wantPK, err := txscript.PayToAddrScript(want)
			require.NoError(t, err)
			require.Equal(t, wantPK, pk)

			if c.index < 10 { // Find derives every address below: about 1 ms each
				ch, idx, ok := w.Find(pk, c.index+1)
				require.True(t, ok)
				require.Equal(t, c.change, ch)
				require.Equal(t, c.index, idx)
			}
		}
		a, err := w.Address(0)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(a, map[keys.Network]string{keys.Mainnet: "bc1q", keys.Regtest: "bcrt1q"}[net]), a)
		require.Len(t, a, map[keys.Network]int{keys.Mainnet: 62, keys.Regtest: 64}[net])
	}

	w, _ := wallet(t, keys.Regtest)
	_, pk, err := w.Script(cold.Receive, 10)
	require.NoError(t, err)
	_, _, ok := w.Find(pk, 10)
	require.False(t, ok, "index 10 is outside a search of 10")
	_, _, ok = w.Find([]byte{0x00, 0x14, 1, 2}, 10)
	require.False(t, ok)

	_, err = w.Address(keys.Hardened)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	_, _, err = w.Script(2, 0)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
}

func privateChild(t *testing.T, s keys.Seed, params *chaincfg.Params, path keys.Path) *btcec.PublicKey {
	t.Helper()
	k, err := hdkeychain.NewMaster(s.Bytes(), params)
	require.NoError(t, err)
	for _, step := range path {
		k, err = k.Derive(step)
		require.NoError(t, err)
	}
	pub, err := k.ECPubKey()
	require.NoError(t, err)
	return pub
}

// sortPubs sorts keys by their compressed encoding: BIP67.
func sortPubs(p []*btcutil.AddressPubKey) {
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if bytes.Compare(p[j].ScriptAddress(), p[i].ScriptAddress()) < 0 {
				p[i], p[j] = p[j], p[i]
			}
		}
	}
}

func TestDescriptor(t *testing.T) {
	// BIP380's test vectors.
	require.Equal(t, "raw(deadbeef)#89f8spxm", cold.DescriptorChecksum("raw(deadbeef)"))
	require.Equal(t, "addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)#02wpgw69", cold.DescriptorChecksum("addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)"))

	w, xpubs := wallet(t, keys.Regtest)
	d := w.Descriptor(cold.Receive)
	require.True(t, strings.HasPrefix(d, "wsh(sortedmulti(2,"+xpubs[0]+"/0/*,"+xpubs[1]+"/0/*,"+xpubs[2]+"/0/*))#"), d)
	require.Contains(t, w.Descriptor(cold.Change), "/1/*")
}

func TestNewWalletRefusals(t *testing.T) {
	a := accountKey(t, 0, keys.Regtest, 0).String()
	b := accountKey(t, 1, keys.Regtest, 0).String()
	c := accountKey(t, 2, keys.Regtest, 0).String()
	sameSeed := accountKey(t, 0, keys.Regtest, 1).String()
	mainnet := accountKey(t, 2, keys.Mainnet, 0).String()
	origin, bare, _ := strings.Cut(c, "]")
	origin += "]"

	// A private key where a public key belongs.
	master, err := hdkeychain.NewMaster(seed(t, 2).Bytes(), &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	priv := master
	for _, step := range accountKey(t, 2, keys.Regtest, 0).Path {
		priv, err = priv.Derive(step)
		require.NoError(t, err)
	}
	tprv := priv.String()

	for name, c := range map[string]struct {
		net   keys.Network
		third string
		want  string
	}{
		"garbage":           {keys.Regtest, "not a key", "needs its origin"},
		"bad xpub":          {keys.Regtest, origin + bare[:len(bare)-1] + "x", "malformed or its checksum"},
		"bare xpub":         {keys.Regtest, bare, "needs its origin"},
		"private key":       {keys.Regtest, origin + tprv, "private extended key"},
		"same key twice":    {keys.Regtest, a, "are the same key"},
		"same seed":         {keys.Regtest, sameSeed, "same seed"},
		"wrong network":     {keys.Regtest, mainnet, "another network than regtest"},
		"wrong network 2":   {keys.Mainnet, c, "another network than mainnet"},
		"fingerprint":       {keys.Regtest, "[12345g78" + strings.TrimPrefix(c, origin[:9]), "fingerprint, 8 hex digits"},
		"no path":           {keys.Regtest, origin[:9] + "]" + bare, "gives the path"},
		"short path":        {keys.Regtest, strings.Replace(c, "/2']", "]", 1), "has 3 steps but the key is at depth 4"},
		"wrong child":       {keys.Regtest, strings.Replace(c, "/2']", "/1']", 1), "does not end with the key's own child number"},
		"unhardened":        {keys.Regtest, strings.Replace(c, "/48'", "/48", 1), "unhardened step"},
		"coin type":         {keys.Regtest, strings.Replace(c, "/48'/1'", "/48'/0'", 1), "coin type 0"},
		"too long":          {keys.Regtest, c + strings.Repeat("x", 300), "at most"},
		"unknown network":   {0, c, "unknown network"},
		"not a path number": {keys.Regtest, strings.Replace(c, "/48'", "/4x8'", 1), "key origin path"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cold.NewWallet(c.net, [3]string{a, b, c.third})
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
			require.Contains(t, chengdui.ErrorMessage(err), c.want)
			require.NotContains(t, chengdui.ErrorMessage(err), "tprv", "a private key is never echoed")
		})
	}

	// The order of the keys does not change the wallet.
	w1, err := cold.NewWallet(keys.Regtest, [3]string{a, b, c})
	require.NoError(t, err)
	w2, err := cold.NewWallet(keys.Regtest, [3]string{c, a, b})
	require.NoError(t, err)
	a1, _ := w1.Address(3)
	a2, _ := w2.Address(3)
	require.Equal(t, a1, a2)
}

func TestDust(t *testing.T) {
	for typ, c := range map[string]struct {
		script string
		dust   int64
	}{
		"p2wpkh": {"0014" + strings.Repeat("11", 20), 294},
		"p2wsh":  {"0020" + strings.Repeat("11", 32), 330},
		"p2tr":   {"5120" + strings.Repeat("11", 32), 330},
		"p2sh":   {"a914" + strings.Repeat("11", 20) + "87", 540},
		"p2pkh":  {"76a914" + strings.Repeat("11", 20) + "88ac", 546},
	} {
		s, err := hex.DecodeString(c.script)
		require.NoError(t, err)
		require.Equal(t, c.dust, cold.Dust(s), typ)
	}
}
