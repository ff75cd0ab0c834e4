package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"chengdui"
	"chengdui/audit"
	"chengdui/keys"
)

// Environment variables the keys commands read when no file is given.
const (
	envKeystorePassphrase    = "CHENGDUI_KEYSTORE_PASSPHRASE"
	envKeystoreNewPassphrase = "CHENGDUI_KEYSTORE_NEW_PASSPHRASE"
	defaultKeystore          = "./data/keystore.json"
)

func keysCommands() map[string]command {
	return map[string]command{
		"init":              {"create the keystore with a new 24-word mnemonic (or --mnemonic-file) and print the mnemonic once", runKeysInit},
		"show-xpub":         {"print the account xpubs (BIP84, BIP86, EVM) a watch-only server needs: show-xpub --network regtest --account 0", runKeysShowXPub},
		"change-passphrase": {"re-encrypt the keystore under a new passphrase", runKeysChangePassphrase},
	}
}

func runKeys(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "keys", "[--keystore FILE] [--passphrase-file FILE] [flags]",
		fmt.Sprintf("The passphrase comes from --passphrase-file, else $%s, else one line of stdin.", envKeystorePassphrase),
		keysCommands(), args)
}

// keystoreFlags are the flags every keys command shares.
type keystoreFlags struct {
	path           string
	passphraseFile string
}

func (k *keystoreFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.path, "keystore", defaultKeystore, "keystore file")
	fs.StringVar(&k.passphraseFile, "passphrase-file", "", "file whose first line is the keystore passphrase (default: $"+envKeystorePassphrase+", else stdin)")
}

// passphraseReader reads passphrases from a file, the environment or stdin,
// in that order. Stdin is read one line at a time; on a terminal it is read
// without echo. The passphrase itself is never printed or logged.
type passphraseReader struct {
	e     *env
	stdin *bufio.Reader
}

func newPassphraseReader(e *env) *passphraseReader {
	return &passphraseReader{e: e, stdin: bufio.NewReader(e.stdin)}
}

func (r *passphraseReader) read(file, envVar, prompt string, confirm bool) ([]byte, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--passphrase-file: %v", err)
		}
		defer clear(data)
		line, _, _ := bytes.Cut(data, []byte("\n"))
		return nonEmpty(bytes.Clone(bytes.TrimSuffix(line, []byte("\r"))), file)
	}
	if v := r.e.getenv(envVar); v != "" {
		return []byte(v), nil
	}
	if f, ok := r.e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p, err := r.readTerminal(int(f.Fd()), prompt)
		if err != nil || !confirm {
			return p, err
		}
		again, err := r.readTerminal(int(f.Fd()), "Repeat it: ")
		defer clear(again)
		if err != nil {
			clear(p)
			return nil, err
		}
		if !bytes.Equal(p, again) {
			clear(p)
			return nil, usagef("the passphrases do not match")
		}
		return p, nil
	}
	line, err := r.stdin.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read passphrase from stdin: %w", err)
	}
	return nonEmpty(bytes.TrimRight(line, "\r\n"), "stdin")
}

func (r *passphraseReader) readTerminal(fd int, prompt string) ([]byte, error) {
	fmt.Fprint(r.e.stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(r.e.stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return nonEmpty(p, "the terminal")
}

func nonEmpty(p []byte, from string) ([]byte, error) {
	if len(p) == 0 {
		return nil, usagef("no passphrase: %s gave an empty one; use --passphrase-file, $%s or stdin", from, envKeystorePassphrase)
	}
	return p, nil
}

func runKeysInit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys init", "keys init [--keystore FILE] [--passphrase-file FILE] [--mnemonic-file FILE] [--language en|zh] [--no-show-mnemonic]")
	var kf keystoreFlags
	kf.register(fs)
	mnemonicFile := fs.String("mnemonic-file", "", "import this BIP39 mnemonic (English or Simplified Chinese) instead of creating one")
	language := fs.String("language", "en", "word list of a new mnemonic: en or zh (简体中文)")
	noShow := fs.Bool("no-show-mnemonic", false, "do not print the new mnemonic (you must already have a backup)")
	scryptN := fs.Int("scrypt-n", keys.DefaultScryptN, "scrypt cost N, a power of two; lower it only in tests")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("keys init: unexpected argument %q", fs.Arg(0))
	}
	lang, err := keys.ParseLanguage(*language)
	if err != nil {
		return cliError(err)
	}
	if _, err := os.Lstat(kf.path); err == nil {
		return usagef("a keystore already exists at %s; it is never overwritten", kf.path)
	}

	var mnemonic string
	imported := *mnemonicFile != ""
	if imported {
		data, err := os.ReadFile(*mnemonicFile)
		if err != nil {
			return usagef("--mnemonic-file: %v", err)
		}
		mnemonic = string(data)
		clear(data)
		if lang, err = keys.DetectLanguage(mnemonic); err != nil {
			return cliError(err)
		}
	} else if mnemonic, err = keys.NewMnemonic(256, lang); err != nil {
		return err
	}
	// No BIP39 passphrase: the keystore passphrase protects the file, and a
	// second secret to lose would not add to it.
	seed, err := keys.MnemonicToSeed(mnemonic, "", lang)
	if err != nil {
		return cliError(err)
	}
	defer seed.Zero()

	pr := newPassphraseReader(e)
	pass, err := pr.read(kf.passphraseFile, envKeystorePassphrase, "New keystore passphrase: ", true)
	if err != nil {
		return err
	}
	defer clear(pass)
	if err := keys.Create(kf.path, seed, pass, keys.WithScryptN(*scryptN)); err != nil {
		return cliError(err)
	}
	e.log.Info("keystore created", "path", kf.path, "imported", imported)
	fmt.Fprintf(e.stdout, "Keystore created: %s (scrypt N=%d, AES-256-GCM, mode 0600)\n", kf.path, *scryptN)
	if imported || *noShow {
		return nil
	}
	fmt.Fprintf(e.stdout, `
WARNING: the %d words below are the only backup of every key and address this
platform derives. Write them on paper and keep them offline. Anyone who sees
them can take every deposit. They are shown now and never again.

%s

`, len(strings.Fields(mnemonic)), mnemonic)
	return nil
}

func runKeysShowXPub(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys show-xpub", "keys show-xpub [--keystore FILE] [--passphrase-file FILE] [--network mainnet|testnet|signet|regtest] [--account N]")
	var kf keystoreFlags
	kf.register(fs)
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	account := fs.Uint("account", 0, "BIP44 account number")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("keys show-xpub: unexpected argument %q", fs.Arg(0))
	}
	net, err := keys.ParseNetwork(*network)
	if err != nil {
		return cliError(err)
	}
	if *account >= uint(keys.Hardened) {
		return usagef("--account %d: must be below 2^31", *account)
	}
	acct := uint32(*account)

	pass, err := newPassphraseReader(e).read(kf.passphraseFile, envKeystorePassphrase, "Keystore passphrase: ", false)
	if err != nil {
		return err
	}
	defer clear(pass)
	seed, err := keys.Open(kf.path, pass)
	if err != nil {
		return cliError(err)
	}
	defer seed.Zero()

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "# network %s, account %d: give these to a watch-only server; they derive every address and cannot spend\n", net, acct)
	fmt.Fprintln(tw, "SCHEME\tPATH\tXPUB\tFIRST ADDRESS")
	for _, s := range keys.Schemes {
		xpub, err := keys.SchemeXPub(seed, s, net, acct)
		if err != nil {
			return err
		}
		w, err := keys.NewWatcher(s, net, xpub)
		if err != nil {
			return err
		}
		first, err := w.Address(0, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s, s.AccountPath(net, acct), xpub, first)
		if s == keys.P2WPKH {
			z, err := keys.ZPub(xpub)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.String()+" (SLIP-132)", s.AccountPath(net, acct), z, first)
		}
	}
	return tw.Flush()
}

func runKeysChangePassphrase(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys change-passphrase", "keys change-passphrase [--keystore FILE] [--passphrase-file FILE] [--new-passphrase-file FILE]")
	var kf keystoreFlags
	kf.register(fs)
	newFile := fs.String("new-passphrase-file", "", "file whose first line is the new passphrase (default: $"+envKeystoreNewPassphrase+", else the next line of stdin)")
	scryptN := fs.Int("scrypt-n", keys.DefaultScryptN, "scrypt cost N, a power of two; lower it only in tests")
	auditDB := fs.String("audit-db", "", "database whose audit log records the change (sqlite:PATH or postgres://…); default: the dev store beside the keystore, if there is one")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("keys change-passphrase: unexpected argument %q", fs.Arg(0))
	}
	pr := newPassphraseReader(e)
	old, err := pr.read(kf.passphraseFile, envKeystorePassphrase, "Current keystore passphrase: ", false)
	if err != nil {
		return err
	}
	defer clear(old)
	next, err := pr.read(*newFile, envKeystoreNewPassphrase, "New keystore passphrase: ", true)
	if err != nil {
		return err
	}
	defer clear(next)
	if err := keys.ChangePassphrase(kf.path, old, next, keys.WithScryptN(*scryptN)); err != nil {
		return cliError(err)
	}
	e.log.Info("keystore passphrase changed", "path", kf.path)
	fmt.Fprintf(e.stdout, "Passphrase changed: %s\n", kf.path)
	return auditKeystoreChange(ctx, e, *auditDB, kf.path)
}

// auditKeystoreChange records a passphrase change in the audit log of the
// named database, or of the dev store beside the keystore when there is
// one. Without a database there is no audit log to write to: the slog line
// above is the record.
func auditKeystoreChange(ctx context.Context, e *env, dsn, keystorePath string) error {
	if dsn == "" {
		beside := filepath.Join(filepath.Dir(keystorePath), "chengdui.db")
		if _, err := os.Stat(beside); err != nil {
			return nil
		}
		dsn = "sqlite:" + beside
	}
	db, err := openMigrated(ctx, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	store, ok := db.(audit.Store)
	if !ok {
		return nil
	}
	rec := &audit.Recorder{Store: store, Log: e.log}
	rec.Record(ctx, chengdui.AuditPassphraseChanged, "cli", map[string]string{"keystore": keystorePath})
	return nil
}
