package keys

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/stretchr/testify/require"

	"chengdui"
)

var testNets = []Network{Testnet, Signet}
var baseTestNets = []Network{Testnet, Signet, Regtest} // base58 prefixes are shared

// validBitcoinAddresses are payable addresses and the networks they belong
// to. Scripts are given where the source lists them.
var validBitcoinAddresses = []struct {
	addr   string
	nets   []Network
	typ    string
	script string // hex; "" when the source gives none
}{
	// BIP173 and BIP350 valid segwit vectors.
	{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", []Network{Mainnet}, "p2wpkh", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
	{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", testNets, "p2wsh", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
	{"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", testNets, "p2wsh", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
	{"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", testNets, "p2tr", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
	{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", []Network{Mainnet}, "p2tr", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
	// BIP173's examples: the same programs in lowercase, and on mainnet.
	{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", []Network{Mainnet}, "p2wpkh", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
	{"bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", []Network{Mainnet}, "p2wsh", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
	// Bitcoin Core's regtest encodings of the same programs.
	{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", []Network{Regtest}, "p2wpkh", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
	{"bcrt1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvseswlauz7", []Network{Regtest}, "p2wsh", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
	// BIP84 and BIP86 first receiving addresses of "abandon … about".
	{"bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", []Network{Mainnet}, "p2wpkh", ""},
	{"bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", []Network{Mainnet}, "p2tr", ""},
	// Base58: the Bitcoin wiki's P2PKH and BIP13/16 P2SH examples, and
	// testnet forms, which signet and regtest share.
	{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", []Network{Mainnet}, "p2pkh", "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac"},
	{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", []Network{Mainnet}, "p2sh", ""},
	{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", baseTestNets, "p2pkh", ""},
	{"2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", baseTestNets, "p2sh", ""},
}

func TestParseBitcoinAddressVectors(t *testing.T) {
	for _, v := range validBitcoinAddresses {
		t.Run(v.addr, func(t *testing.T) {
			for _, net := range Networks {
				a, err := ParseBitcoinAddress(v.addr, net)
				if !slices.Contains(v.nets, net) {
					requireWrongNetwork(t, err, net)
					continue
				}
				require.NoError(t, err, "on %s", net)
				require.Equal(t, v.typ, a.Type)
				if isSegwitPrefixed(v.addr) {
					require.Equal(t, strings.ToLower(v.addr), a.String)
				} else {
					require.Equal(t, v.addr, a.String)
				}
				if v.script != "" {
					require.Equal(t, v.script, hex.EncodeToString(a.ScriptPubKey))
				}
				requireScriptClass(t, a)
			}
		})
	}
}

// TestParseBitcoinAddressDerived parses this package's own deposit
// addresses on every network, bcrt1 included.
func TestParseBitcoinAddressDerived(t *testing.T) {
	seed := abandonSeed(t)
	for _, net := range Networks {
		for _, s := range []Scheme{P2WPKH, P2TR} {
			addr, err := DeriveAddress(seed, s, net, 0, 0, 0)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(addr, net.HRP()+"1"), addr)
			for _, other := range Networks {
				a, err := ParseBitcoinAddress(addr, other)
				if net.HRP() != other.HRP() {
					requireWrongNetwork(t, err, other)
					continue
				}
				require.NoError(t, err, "%s on %s", addr, other)
				require.Equal(t, addr, a.String)
				require.Equal(t, s.String(), a.Type)
				pub, err := DerivePublicKey(seed, s, net, 0, 0, 0)
				require.NoError(t, err)
				if s == P2WPKH {
					require.Equal(t, append([]byte{0x00, 0x14}, btcutil.Hash160(pub.SerializeCompressed())...), a.ScriptPubKey)
				}
				requireScriptClass(t, a)
			}
		}
	}
}

func TestParseBitcoinAddressTrims(t *testing.T) {
	a, err := ParseBitcoinAddress(" \tBC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4\n ", Mainnet)
	require.NoError(t, err)
	require.Equal(t, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", a.String)
	a, err = ParseBitcoinAddress(" 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\r\n", Mainnet)
	require.NoError(t, err)
	require.Equal(t, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", a.String)
}

func TestParseBitcoinAddressWrongNetworkMessages(t *testing.T) {
	for _, c := range []struct {
		addr string
		net  Network
		msg  string
	}{
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", Mainnet, "that is a testnet or signet address, but this server is on mainnet"},
		{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Mainnet, "that is a testnet, signet or regtest address, but this server is on mainnet"},
		{"2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", Mainnet, "that is a testnet, signet or regtest address, but this server is on mainnet"},
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Testnet, "that is a mainnet address, but this server is on testnet"},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Regtest, "that is a mainnet address, but this server is on regtest"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", Signet, "that is a mainnet address, but this server is on signet"},
		{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", Testnet, "that is a regtest address, but this server is on testnet"},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", Regtest, "that is a testnet or signet address, but this server is on regtest"},
	} {
		_, err := ParseBitcoinAddress(c.addr, c.net)
		require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), c.addr)
		require.Equal(t, c.msg, chengdui.ErrorMessage(err), c.addr)
	}

	// Simnet is registered with btcd, so btcutil decodes its sb1 addresses;
	// no Network of ours owns them.
	sim, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.SimNetParams)
	require.NoError(t, err)
	_, err = ParseBitcoinAddress(sim.EncodeAddress(), Mainnet)
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
	require.Contains(t, chengdui.ErrorMessage(err), "no Bitcoin network this server knows")
}

func TestParseBitcoinAddressRefusals(t *testing.T) {
	// A witness v1 address with a 20-byte program: valid per BIP350, but
	// btcutil decodes it as the v0 P2WPKH address of the same program.
	prog, err := bech32.ConvertBits(make([]byte, 20), 8, 5, true)
	require.NoError(t, err)
	v1short, err := bech32.EncodeM("bc", append([]byte{1}, prog...))
	require.NoError(t, err)

	for _, c := range []struct {
		name, addr string
		net        Network
		msg        string // a part of the message
	}{
		{"empty", "", Mainnet, "no Bitcoin address given"},
		{"spaces", " \t\n", Mainnet, "no Bitcoin address given"},
		{"overlong", "bc1q" + strings.Repeat("q", 97), Mainnet, "at most 100 characters"},
		{"unknown network", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Network(0), "unknown network"},

		// BIP173 invalid addresses.
		{"173 invalid hrp", "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", Mainnet, "not a Bitcoin address"},
		{"173 bad checksum", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", Mainnet, "fails its checksum"},
		{"173 witness version 17", "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", Mainnet, "no valid witness version"},
		{"173 1-byte program", "bc1rw5uspcuh", Mainnet, "witness version 3 but a bech32 checksum"},
		{"173 41-byte program", "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", Mainnet, "witness version 15 but a bech32 checksum"},
		{"173 v0 16-byte program", "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", Mainnet, "invalid witness program"},
		{"173 mixed case", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", Testnet, "mixes upper and lower case"},
		{"173 padding over 4 bits", "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", Mainnet, "witness version 2 but a bech32 checksum"},
		{"173 non-zero padding", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", Testnet, "invalid witness program"},
		{"173 empty data", "bc1gmk9yu", Mainnet, "no valid witness version"},
		{"173 v2 with bech32, valid before BIP350", "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", Mainnet, "witness version 2 but a bech32 checksum"},

		// BIP350 invalid addresses.
		{"350 invalid hrp", "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", Mainnet, "not a Bitcoin address"},
		{"350 v1 with bech32", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", Mainnet, "witness version 1 but a bech32 checksum"},
		{"350 v2 with bech32", "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", Testnet, "witness version 2 but a bech32 checksum"},
		{"350 v16 with bech32", "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", Mainnet, "witness version 16 but a bech32 checksum"},
		{"350 v0 with bech32m", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", Mainnet, "witness version 0 but a bech32m checksum"},
		{"350 v0 with bech32m, testnet", "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", Testnet, "witness version 0 but a bech32m checksum"},
		{"350 bad checksum character", "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", Mainnet, "malformed bech32"},
		{"350 witness version 17", "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", Mainnet, "no valid witness version"},
		{"350 1-byte program", "bc1pw5dgrnzv", Mainnet, "invalid witness program"},
		{"350 41-byte program", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", Mainnet, "invalid witness program"},
		{"350 v0 16-byte program", "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", Mainnet, "invalid witness program"},
		{"350 mixed case", "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", Testnet, "mixes upper and lower case"},
		{"350 padding over 4 bits", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", Mainnet, "invalid witness program"},
		{"350 non-zero padding", "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", Testnet, "invalid witness program"},
		{"350 empty data", "bc1gmk9yu", Mainnet, "no valid witness version"},

		// BIP350 valid addresses that no payout may go to: nothing can
		// spend them until a soft fork defines them.
		{"350 v1 40-byte program", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", Mainnet, "40-byte witness program"},
		{"350 v16", "BC1SW50QGDZ25J", Mainnet, "witness version 16 addresses are not supported for payouts"},
		{"350 v2", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", Mainnet, "witness version 2 addresses are not supported for payouts: give a bc1q… (v0) or bc1p… (Taproot) address"},
		{"v1 20-byte program", v1short, Mainnet, "only P2PKH, P2SH, P2WPKH, P2WSH and 32-byte P2TR"},

		// Others.
		{"mixed case", "BC1QW508D6QEJXTDG4Y5R3ZARVARy0C5XW7KV8F3T4", Mainnet, "mixes upper and lower case"},
		{"base58 checksum", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", Mainnet, "fails its checksum"},
		{"base58 lowercased", "1bvbmseystwetqtfn5au4m4gfg7xjanvn2", Mainnet, "fails its checksum"},
		{"raw public key", "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Mainnet, "raw public key"},
		{"WIF private key", "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", Mainnet, "private key"},
		{"extended public key", "xpub6CatWdiZiodmUeTDp8LT5or8nmbKNcuyvz7WyksVFkKB4RHwCD3XyuvPEbvqAQY3rAPshWcMLoP2fMFMKHPJ4ZeZXYVUhLv1VMrjPC7PW6V", Mainnet, "at most 100"},
		{"EVM address", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", Mainnet, "not a Bitcoin address"},
		{"inner space", "bc1qw508d6qejxtdg4y5r3z arvary0c5xw7kv8f3t4", Mainnet, "malformed bech32"},
		{"bitcoin URI", "bitcoin:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Mainnet, "not a Bitcoin address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseBitcoinAddress(c.addr, c.net)
			require.Error(t, err)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), err.Error())
			msg := chengdui.ErrorMessage(err)
			require.Contains(t, msg, c.msg)
			if a := strings.TrimSpace(c.addr); len(a) >= 8 {
				require.NotContains(t, strings.ToLower(msg), strings.ToLower(a), "the message quotes the input")
			}
		})
	}
}

func FuzzParseBitcoinAddress(f *testing.F) {
	for _, v := range validBitcoinAddresses {
		f.Add(v.addr)
	}
	for _, s := range []string{
		"", " ", "bc1", "tb1", "bcrt1", "sb1", "1", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
		"BC1SW50QGDZ25J", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc1pw5dgrnzv",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		"5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, net := range Networks {
			a, err := ParseBitcoinAddress(s, net)
			if err != nil {
				require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err))
				continue
			}
			// What is accepted is the input itself, lowercased if bech32,
			// and decodes again to an address of net that pays the same
			// script.
			in := strings.TrimSpace(s)
			require.True(t, a.String == in || a.String == strings.ToLower(in), "%q parsed as %q", s, a.String)
			params := net.params()
			d, err := btcutil.DecodeAddress(a.String, params)
			require.NoError(t, err)
			require.True(t, d.IsForNet(params))
			require.Equal(t, a.String, d.EncodeAddress())
			script, err := txscript.PayToAddrScript(d)
			require.NoError(t, err)
			require.Equal(t, script, a.ScriptPubKey)
			requireScriptClass(t, a)
			b, err := ParseBitcoinAddress(a.String, net)
			require.NoError(t, err)
			require.Equal(t, a, b)
		}
	})
}

// requireWrongNetwork checks that err refuses an address of another network
// than net, saying which.
func requireWrongNetwork(tb testing.TB, err error, net Network) {
	tb.Helper()
	require.Error(tb, err, "accepted on %s", net)
	require.Equal(tb, chengdui.EInvalid, chengdui.ErrorCode(err))
	require.Contains(tb, chengdui.ErrorMessage(err), "but this server is on "+net.String())
}

// requireScriptClass checks that a's script is the standard script of its
// type.
func requireScriptClass(tb testing.TB, a BitcoinAddress) {
	tb.Helper()
	class := map[string]txscript.ScriptClass{
		"p2pkh":  txscript.PubKeyHashTy,
		"p2sh":   txscript.ScriptHashTy,
		"p2wpkh": txscript.WitnessV0PubKeyHashTy,
		"p2wsh":  txscript.WitnessV0ScriptHashTy,
		"p2tr":   txscript.WitnessV1TaprootTy,
	}[a.Type]
	require.Equal(tb, class, txscript.GetScriptClass(a.ScriptPubKey), "%s %s", a.Type, a.String)
}
