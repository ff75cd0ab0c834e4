package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui/bitcoin/btcdtest"
	"chengdui/keys"
)

// coldMnemonics are the three cosigners' mnemonics and a fourth, wrong one.
var coldMnemonics = [4]string{
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
	"legal winner thank year wave sausage worth useful legal winner thank yellow",
	"letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
	"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
}

// coldKeystores imports the four mnemonics into keystores (cheap scrypt)
// and returns their paths and the three cosigners' keys as 'cold xpub'
// prints them.
func coldKeystores(t *testing.T, ctx context.Context, env map[string]string) (ks [4]string, xpubs []string) {
	t.Helper()
	dir := t.TempDir()
	for i, m := range coldMnemonics {
		ks[i] = filepath.Join(dir, "keystore"+string(rune('a'+i))+".json")
		mf := filepath.Join(dir, "mnemonic.txt")
		require.NoError(t, os.WriteFile(mf, []byte(m), 0o600))
		_, errOut, code := runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks[i], "--mnemonic-file", mf, testScryptN)
		require.Equal(t, 0, code, errOut)
		if i == 3 {
			break
		}
		out, errOut, code := runCmd(t, ctx, env, "", "cold", "xpub", "--keystore", ks[i], "--network", "regtest")
		require.Equal(t, 0, code, errOut)
		key := regexp.MustCompile(`(?m)^\[[0-9a-f]{8}/48'/1'/0'/2'\]tpub\w+$`).FindString(out)
		require.NotEmpty(t, key, out)
		xpubs = append(xpubs, key)
	}
	return ks, xpubs
}

// TestColdCLI runs cold storage through the binary's run, against a real
// btcd: address, create, sign (and refusals), finalize, broadcast.
func TestColdCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	node := btcdtest.Start(t)
	env := map[string]string{
		envKeystorePassphrase: "cold cosigner passphrase",
		envBitcoinRPCUser:     node.User,
		envBitcoinRPCPass:     node.Pass,
	}
	ks, xpubs := coldKeystores(t, ctx, env)
	require.True(t, strings.HasPrefix(xpubs[0], "[73c5da0a/"), xpubs[0])
	withKeys := func(args ...string) []string {
		for _, x := range xpubs {
			args = append(args, "--xpub", x)
		}
		return args
	}

	out, errOut, code := runCmd(t, ctx, env, "", withKeys("cold", "address", "--index", "0", "--network", "regtest")...)
	require.Equal(t, 0, code, errOut)
	address := strings.TrimSpace(out)
	require.Regexp(t, `^bcrt1q\w{58}$`, address)
	out, errOut, code = runCmd(t, ctx, env, "", withKeys("cold", "address", "--index", "0", "--count", "2", "--change", "--network", "regtest")...)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^1/0\tbcrt1q\w+\n1/1\tbcrt1q\w+\n$`, out)
	out, errOut, code = runCmd(t, ctx, env, "", withKeys("cold", "address", "--descriptor", "--network", "regtest")...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "wsh(sortedmulti(2,"+xpubs[0]+"/0/*,")

	// Fund the cold address from the coinbase of block 1.
	node.Mine(t, 433) // segwit is active from block 432
	hot := btcdtest.Seed(t)
	h1, err := node.Client.GetBlockHash(1)
	require.NoError(t, err)
	block1, err := node.Client.GetBlock(h1)
	require.NoError(t, err)
	coinbase := block1.Transactions[0]
	coldAddr, err := keys.ParseBitcoinAddress(address, keys.Regtest)
	require.NoError(t, err)
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: coinbase.TxHash(), Index: 0}, nil, nil))
	fund.AddTxOut(wire.NewTxOut(2*btcutil.SatoshiPerBitcoin, coldAddr.ScriptPubKey))
	fund.AddTxOut(wire.NewTxOut(coinbase.TxOut[0].Value-2*btcutil.SatoshiPerBitcoin-10_000, coinbase.TxOut[0].PkScript))
	coldSignP2WPKH(t, hot, fund, coinbase.TxOut[0])
	fundID, err := node.Client.SendRawTransaction(fund, false)
	require.NoError(t, err)
	node.Mine(t, 1)
	payee, err := keys.DeriveAddress(hot, keys.P2WPKH, keys.Regtest, 0, 0, 9)
	require.NoError(t, err)

	dir := t.TempDir()
	unsigned := filepath.Join(dir, "spend.psbt")
	nodeFlags := []string{"--node", node.Host, "--network", "regtest"}
	create := withKeys(append([]string{"cold", "create", "--utxo", fundID.String() + ":0", "--to", payee, "--amount", "1.5", "--fee-rate", "3", "--change-index", "2"}, nodeFlags...)...)
	out, errOut, code = runCmd(t, ctx, env, "", append(create, "--out", unsigned)...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, payee)
	require.Contains(t, out, "1.50000000 BTC")
	require.Contains(t, out, "change, back to cold storage")
	require.Contains(t, out, "0 of 2 signatures")
	require.Contains(t, out, "chengdui cold sign --psbt "+unsigned)
	_, errOut, code = runCmd(t, ctx, env, "", append(create, "--out", unsigned)...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "never overwritten")

	// Key A signs a copy.
	copyA := filepath.Join(dir, "a.psbt")
	out, errOut, code = runCmd(t, ctx, env, "", "cold", "sign", "--psbt", unsigned, "--key", ks[0], "--network", "regtest", "--out", copyA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Signed 1 input(s) with the key of master fingerprint 73c5da0a")
	require.Contains(t, out, "a second cosigner signs it")
	require.NotContains(t, out+errOut, env[envKeystorePassphrase])
	signedA, err := os.ReadFile(copyA)
	require.NoError(t, err)

	// The wrong key and key A again are refused, and the file is unchanged.
	_, errOut, code = runCmd(t, ctx, env, "", "cold", "sign", "--psbt", copyA, "--key", ks[3], "--network", "regtest")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "signed with the wrong key?")
	require.Contains(t, errOut, "nothing was")
	_, errOut, code = runCmd(t, ctx, env, "", "cold", "sign", "--psbt", copyA, "--key", ks[0], "--network", "regtest")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "already signed")
	after, err := os.ReadFile(copyA)
	require.NoError(t, err)
	require.Equal(t, signedA, after)

	// A wrong passphrase is refused before anything is signed.
	_, errOut, code = runCmd(t, ctx, map[string]string{envKeystorePassphrase: "not the passphrase"}, "", "cold", "sign", "--psbt", copyA, "--key", ks[1], "--network", "regtest")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "wrong passphrase")

	// Signed once, it cannot be finalized.
	_, errOut, code = runCmd(t, ctx, env, "", append([]string{"cold", "finalize", "--psbt", copyA, "--broadcast"}, nodeFlags...)...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "1 valid signature(s) of the 2 needed")

	// Key C signs its own copy, with the passphrase on stdin; finalize
	// combines both and broadcasts.
	copyC := filepath.Join(dir, "c.psbt")
	noPass := map[string]string{envBitcoinRPCUser: node.User, envBitcoinRPCPass: node.Pass}
	out, errOut, code = runCmd(t, ctx, noPass, env[envKeystorePassphrase]+"\n", "cold", "sign", "--psbt", unsigned, "--key", ks[2], "--network", "regtest", "--out", copyC)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "It needs 2 signatures per input", "C's copy holds C's signature only")
	out, errOut, code = runCmd(t, ctx, env, "", append([]string{"cold", "finalize", "--psbt", copyA, "--psbt", copyC, "--broadcast"}, nodeFlags...)...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "2 of 2 signatures")
	txid := regexp.MustCompile(`Broadcast: ([0-9a-f]{64})`).FindStringSubmatch(out)
	require.Len(t, txid, 2, out)
	node.Mine(t, 1)

	hash, err := chainhash.NewHashFromStr(txid[1])
	require.NoError(t, err)
	tx, err := node.Client.GetRawTransaction(hash)
	require.NoError(t, err)
	payeeAddr, err := keys.ParseBitcoinAddress(payee, keys.Regtest)
	require.NoError(t, err)
	var paid int64
	for _, o := range tx.MsgTx().TxOut {
		if string(o.PkScript) == string(payeeAddr.ScriptPubKey) {
			paid += o.Value
		}
	}
	require.EqualValues(t, 150_000_000, paid)

	// The spent coin is refused by create.
	_, errOut, code = runCmd(t, ctx, env, "", create...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "is spent")
}

func TestColdCLIRefusals(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{envKeystorePassphrase: "cold cosigner passphrase"}
	ks, xpubs := coldKeystores(t, ctx, env)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.psbt")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not base64!"), 0o600))
	notPSBT := filepath.Join(dir, "hello.psbt")
	require.NoError(t, os.WriteFile(notPSBT, []byte("aGVsbG8gd29ybGQ="), 0o600))
	keysArgs := []string{"--xpub", xpubs[0], "--xpub", xpubs[1], "--xpub", xpubs[2]}
	createArgs := func(extra ...string) []string {
		args := append([]string{"cold", "create", "--network", "regtest", "--node", "127.0.0.1:1"}, keysArgs...)
		return append(args, extra...)
	}
	const txid = "1111111111111111111111111111111111111111111111111111111111111111"

	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"two keys":        {[]string{"cold", "address", "--network", "regtest", "--xpub", xpubs[0], "--xpub", xpubs[1]}, "three times (you gave 2)"},
		"same key twice":  {[]string{"cold", "address", "--network", "regtest", "--xpub", xpubs[0], "--xpub", xpubs[1], "--xpub", xpubs[0]}, "same key"},
		"wrong network":   {append([]string{"cold", "address", "--network", "mainnet"}, keysArgs...), "another network than mainnet"},
		"bad xpub":        {[]string{"cold", "address", "--network", "regtest", "--xpub", xpubs[0], "--xpub", xpubs[1], "--xpub", xpubs[2] + "x"}, "malformed"},
		"no utxo":         {createArgs("--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1"), "no coins"},
		"bad utxo":        {createArgs("--utxo", "abc:1", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1"), "use TXID:VOUT"},
		"bad branch":      {createArgs("--utxo", txid+":0:2/5", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1"), "use TXID:VOUT"},
		"bad amount":      {createArgs("--utxo", txid+":0", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1.123456789"), "--amount"},
		"zero amount":     {createArgs("--utxo", txid+":0", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "0"), "more than 0"},
		"mainnet payee":   {createArgs("--utxo", txid+":0", "--to", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "--amount", "1"), "mainnet address"},
		"no node":         {append([]string{"cold", "create", "--network", "regtest", "--utxo", txid + ":0", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1"}, keysArgs...), "no node"},
		"sign no psbt":    {[]string{"cold", "sign", "--key", ks[0]}, "--psbt FILE"},
		"sign garbage":    {[]string{"cold", "sign", "--psbt", garbage, "--key", ks[0]}, "neither base64 nor binary"},
		"sign not a psbt": {[]string{"cold", "sign", "--psbt", notPSBT, "--key", ks[0]}, "not a valid PSBT"},
		"sign missing":    {[]string{"cold", "sign", "--psbt", filepath.Join(dir, "missing"), "--key", ks[0]}, "no such file"},
		"finalize none":   {[]string{"cold", "finalize"}, "--psbt FILE"},
		"finalize bad":    {[]string{"cold", "finalize", "--psbt", garbage}, "neither base64"},
		"unknown":         {[]string{"cold", "frobnicate"}, "unknown command"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := runCmd(t, ctx, env, "", c.args...)
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, c.want)
		})
	}

	// The node is not there: exit 1, with what to check.
	_, errOut, code := runCmd(t, ctx, env, "", createArgs("--utxo", txid+":0", "--to", "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", "--amount", "1")...)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "is it running")

	out, _, code := runCmd(t, ctx, env, "", "cold", "--help")
	require.Equal(t, 0, code)
	for _, c := range []string{"xpub", "address", "create", "sign", "finalize"} {
		require.Contains(t, out, c)
	}
	_, errOut, code = runCmd(t, ctx, env, "", "cold", "sign", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "--passphrase-file")
}

// coldSignP2WPKH signs tx's single input, a spend of prevOut paid to the
// mining key m/84'/1'/0'/0/0.
func coldSignP2WPKH(t *testing.T, seed keys.Seed, tx *wire.MsgTx, prevOut *wire.TxOut) {
	t.Helper()
	s, err := keys.NewSeedSigner(seed)
	require.NoError(t, err)
	defer s.Close()
	path := keys.P2WPKH.Path(keys.Regtest, 0, 0, 0)
	pub, err := s.PublicKey(path)
	require.NoError(t, err)
	fetcher := txscript.NewCannedPrevOutputFetcher(prevOut.PkScript, prevOut.Value)
	digest, err := txscript.CalcWitnessSigHash(prevOut.PkScript, txscript.NewTxSigHashes(tx, fetcher), txscript.SigHashAll, tx, 0, prevOut.Value)
	require.NoError(t, err)
	rsv, err := s.SignDigest(path, digest)
	require.NoError(t, err)
	var r, sc btcec.ModNScalar
	r.SetByteSlice(rsv[:32])
	sc.SetByteSlice(rsv[32:64])
	der := ecdsa.NewSignature(&r, &sc).Serialize()
	tx.TxIn[0].Witness = wire.TxWitness{append(der, byte(txscript.SigHashAll)), pub.SerializeCompressed()}
}
