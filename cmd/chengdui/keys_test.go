package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chengdui/keys"
	"chengdui/sqlite"
)

const testScryptN = "--scrypt-n=1024"

func TestKeysInitShowChange(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ks := filepath.Join(dir, "data", "keystore.json")
	const pass = "first passphrase 123"
	env := map[string]string{envKeystorePassphrase: pass}

	out, errOut, code := runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks, testScryptN)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Keystore created: "+ks)
	require.Contains(t, out, "WARNING")
	var mnemonic string
	for _, line := range strings.Split(out, "\n") {
		if len(strings.Fields(line)) == 24 {
			mnemonic = line
		}
	}
	require.NotEmpty(t, mnemonic, "the mnemonic is printed once:\n%s", out)
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(t, err)
	require.NotContains(t, out+errOut, pass)
	require.NotContains(t, errOut, mnemonic)
	st, err := os.Stat(ks)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A second init never overwrites.
	before, err := os.ReadFile(ks)
	require.NoError(t, err)
	_, errOut, code = runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks, testScryptN)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "already exists")
	after, err := os.ReadFile(ks)
	require.NoError(t, err)
	require.Equal(t, before, after)

	// show-xpub with the passphrase on stdin.
	out, errOut, code = runCmd(t, ctx, nil, pass+"\n", "keys", "show-xpub", "--keystore", ks, "--network", "regtest", "--account", "0")
	require.Equal(t, 0, code, errOut)
	for _, s := range keys.Schemes {
		xpub, err := keys.SchemeXPub(seed, s, keys.Regtest, 0)
		require.NoError(t, err)
		require.Contains(t, out, xpub)
		addr, err := keys.DeriveAddress(seed, s, keys.Regtest, 0, 0, 0)
		require.NoError(t, err)
		require.Contains(t, out, addr)
	}
	require.Contains(t, out, "vpub")
	require.Contains(t, out, "bcrt1q")
	require.Contains(t, out, "bcrt1p")
	require.NotContains(t, out+errOut, pass)
	require.NotContains(t, out+errOut, mnemonic)

	// Wrong passphrase: refused, exit 2, nothing revealed.
	_, errOut, code = runCmd(t, ctx, map[string]string{envKeystorePassphrase: "not the passphrase"}, "", "keys", "show-xpub", "--keystore", ks)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "wrong passphrase")
	require.NotContains(t, errOut, "not the passphrase")

	// change-passphrase: old and new as two lines of stdin.
	const newPass = "second passphrase 456"
	out, errOut, code = runCmd(t, ctx, nil, pass+"\n"+newPass+"\n", "keys", "change-passphrase", "--keystore", ks, testScryptN)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Passphrase changed")
	require.NotContains(t, out+errOut, newPass)
	_, _, code = runCmd(t, ctx, env, "", "keys", "show-xpub", "--keystore", ks)
	require.Equal(t, 2, code, "the old passphrase no longer opens it")
	pf := filepath.Join(dir, "pass.txt")
	require.NoError(t, os.WriteFile(pf, []byte(newPass+"\n"), 0o600))
	out, errOut, code = runCmd(t, ctx, nil, "", "keys", "show-xpub", "--keystore", ks, "--passphrase-file", pf, "--network", "mainnet")
	require.Equal(t, 0, code, errOut)
	xpub, err := keys.SchemeXPub(seed, keys.P2TR, keys.Mainnet, 0)
	require.NoError(t, err)
	require.Contains(t, out, xpub)
}

func TestKeysInitImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pf := filepath.Join(dir, "pass.txt")
	require.NoError(t, os.WriteFile(pf, []byte("import passphrase\r\nignored second line\n"), 0o600))
	for name, c := range map[string]struct {
		mnemonic string
		want     []string
	}{
		"english": {
			"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about\n",
			[]string{
				"zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
				"xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ",
				"bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
				"bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
				"0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
			},
		},
		"chinese": {"的 的 的 的 的 的 的 的 的 的 的 在", nil},
	} {
		t.Run(name, func(t *testing.T) {
			ks := filepath.Join(dir, name+".json")
			mf := filepath.Join(dir, name+".txt")
			require.NoError(t, os.WriteFile(mf, []byte(c.mnemonic), 0o600))
			out, errOut, code := runCmd(t, ctx, nil, "", "keys", "init", "--keystore", ks, "--passphrase-file", pf, "--mnemonic-file", mf, testScryptN)
			require.Equal(t, 0, code, errOut)
			require.NotContains(t, out, strings.Fields(c.mnemonic)[0], "an imported mnemonic is not printed back")
			out, errOut, code = runCmd(t, ctx, nil, "", "keys", "show-xpub", "--keystore", ks, "--passphrase-file", pf)
			require.Equal(t, 0, code, errOut)
			for _, w := range c.want {
				require.Contains(t, out, w)
			}
			lang, err := keys.DetectLanguage(c.mnemonic)
			require.NoError(t, err)
			seed, err := keys.MnemonicToSeed(c.mnemonic, "", lang)
			require.NoError(t, err)
			for _, s := range keys.Schemes {
				xpub, err := keys.SchemeXPub(seed, s, keys.Mainnet, 0)
				require.NoError(t, err)
				require.Contains(t, out, xpub)
			}
		})
	}
}

func TestKeysInitChineseNoShow(t *testing.T) {
	ctx := context.Background()
	ks := filepath.Join(t.TempDir(), "k.json")
	env := map[string]string{envKeystorePassphrase: "passphrase for zh"}
	out, errOut, code := runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks, "--language", "zh", "--no-show-mnemonic", testScryptN)
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "WARNING")
	require.Equal(t, 1, strings.Count(out, "\n"), out)

	ks2 := filepath.Join(t.TempDir(), "k.json")
	out, errOut, code = runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks2, "--language", "zh", testScryptN)
	require.Equal(t, 0, code, errOut)
	var words []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 24 {
			words = f
		}
	}
	require.Len(t, words, 24)
	_, err := keys.MnemonicToEntropy(strings.Join(words, " "), keys.ChineseSimplified)
	require.NoError(t, err)
}

func TestKeysBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ks := filepath.Join(dir, "keystore.json")
	env := map[string]string{envKeystorePassphrase: "good passphrase"}
	_, errOut, code := runCmd(t, ctx, env, "", "keys", "init", "--keystore", ks, testScryptN)
	require.Equal(t, 0, code, errOut)
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"), 0o600))

	for name, c := range map[string]struct {
		env   map[string]string
		stdin string
		args  []string
		want  string
	}{
		"no command":       {nil, "", []string{"keys"}, "no command"},
		"unknown command":  {nil, "", []string{"keys", "export-seed"}, "unknown command"},
		"bad network":      {env, "", []string{"keys", "show-xpub", "--keystore", ks, "--network", "dogecoin"}, "network"},
		"bad account":      {env, "", []string{"keys", "show-xpub", "--keystore", ks, "--account", "2147483648"}, "account"},
		"bad language":     {env, "", []string{"keys", "init", "--keystore", filepath.Join(dir, "x.json"), "--language", "tlh", testScryptN}, "language"},
		"bad checksum":     {env, "", []string{"keys", "init", "--keystore", filepath.Join(dir, "y.json"), "--mnemonic-file", bad, testScryptN}, "checksum"},
		"empty passphrase": {nil, "\n", []string{"keys", "show-xpub", "--keystore", ks}, "no passphrase"},
		"no stdin":         {nil, "", []string{"keys", "show-xpub", "--keystore", ks}, "no passphrase"},
		"short passphrase": {map[string]string{envKeystorePassphrase: "short"}, "", []string{"keys", "init", "--keystore", filepath.Join(dir, "z.json"), testScryptN}, "at least"},
		"missing keystore": {env, "", []string{"keys", "show-xpub", "--keystore", filepath.Join(dir, "none.json")}, "no keystore"},
		"weak scrypt":      {env, "", []string{"keys", "init", "--keystore", filepath.Join(dir, "w.json"), "--scrypt-n", "16"}, "scrypt"},
		"extra argument":   {env, "", []string{"keys", "show-xpub", "--keystore", ks, "extra"}, "unexpected argument"},
		"missing passfile": {nil, "", []string{"keys", "show-xpub", "--keystore", ks, "--passphrase-file", filepath.Join(dir, "nope")}, "passphrase-file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := runCmd(t, ctx, c.env, c.stdin, c.args...)
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, c.want)
			require.NotContains(t, errOut, "good passphrase")
		})
	}
	for _, name := range []string{"x.json", "y.json", "z.json", "w.json"} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.True(t, os.IsNotExist(err), name)
	}
}

// TestKeysChangePassphraseAudited: a passphrase change is recorded in the
// audit log of the dev store beside the keystore.
func TestKeysChangePassphraseAudited(t *testing.T) {
	dir := t.TempDir()
	_, _, code := runCmd(t, context.Background(), nil, "", "migrate", "--data-dir", dir)
	require.Equal(t, 0, code)
	ks := filepath.Join(dir, "keystore.json")
	pass := filepath.Join(dir, "old")
	require.NoError(t, os.WriteFile(pass, []byte("first passphrase\n"), 0o600))
	_, stderr, code := runCmd(t, context.Background(), nil, "", "keys", "init", "--keystore", ks, "--passphrase-file", pass, "--scrypt-n", "1024", "--no-show-mnemonic")
	require.Equal(t, 0, code, stderr)
	next := filepath.Join(dir, "new")
	require.NoError(t, os.WriteFile(next, []byte("second passphrase\n"), 0o600))
	_, stderr, code = runCmd(t, context.Background(), nil, "", "keys", "change-passphrase", "--keystore", ks, "--passphrase-file", pass, "--new-passphrase-file", next, "--scrypt-n", "1024")
	require.Equal(t, 0, code, stderr)

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "chengdui.db"))
	require.NoError(t, err)
	defer db.Close()
	events, err := db.AuditEvents(context.Background(), "cli", 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "keystore_passphrase_changed", events[0].Event)
	require.Equal(t, ks, events[0].Detail["keystore"])
	require.NotContains(t, stderr, "second passphrase")
}
