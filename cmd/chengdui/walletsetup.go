package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"chengdui/audit"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/merchant"
	"chengdui/wallet"
)

// walletSetup says where users' deposit addresses come from: a network and
// the account-level xpubs per scheme (watch-only: no seed on the server).
type walletSetup struct {
	Network keys.Network
	XPubs   map[keys.Scheme]string
}

// newUserServices builds the users-and-wallets and the merchant services
// over the database and the ledger engine.
func newUserServices(db database, eng *ledger.Engine, ws *walletSetup, log *slog.Logger) (*wallet.Service, *merchant.Service, error) {
	ustore, ok1 := db.(wallet.Store)
	mstore, ok2 := db.(merchant.Store)
	astore, ok3 := db.(audit.Store)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, fmt.Errorf("database %T does not store users, merchants and the audit log", db)
	}
	rec := &audit.Recorder{Store: astore, Log: log}
	w, err := wallet.New(ustore, eng, db, wallet.Config{Network: ws.Network, XPubs: ws.XPubs, Audit: rec})
	if err != nil {
		return nil, nil, err
	}
	return w, merchant.New(mstore, merchant.Config{Audit: rec}), nil
}

// devWallet opens the dev keystore under dataDir, creating it with a fresh
// seed and a random passphrase on first start, and returns the regtest
// xpubs and a signer over the seed (dev's EVM faucet signs with it; close
// it when done). The passphrase is kept beside the keystore (mode 0600):
// this is a developer's machine, not a server, and with the passphrase next
// to it the keystore's scrypt cost protects nothing, so dev uses the lowest
// one.
// Production keystores are made with 'chengdui keys init'. The seed never
// leaves this function; the signer holds the master key, not the seed.
func devWallet(dataDir string) (*walletSetup, *keys.SeedSigner, error) {
	path := filepath.Join(dataDir, "keystore.json")
	passPath := filepath.Join(dataDir, "keystore.pass")
	var seed keys.Seed
	pass, err := os.ReadFile(passPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, statErr := os.Stat(path); statErr == nil {
			return nil, nil, fmt.Errorf("%s exists but %s is missing: move the keystore away to start a new dev wallet", path, passPath)
		}
		if seed, err = newDevKeystore(dataDir, path, passPath); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	default:
		if seed, err = keys.Open(path, []byte(strings.TrimSpace(string(pass)))); err != nil {
			return nil, nil, fmt.Errorf("dev keystore %s: %w", path, err)
		}
	}
	defer seed.Zero()
	ws := &walletSetup{Network: keys.Regtest, XPubs: map[keys.Scheme]string{}}
	for _, s := range []keys.Scheme{keys.P2WPKH, keys.EVM} {
		if ws.XPubs[s], err = keys.SchemeXPub(seed, s, keys.Regtest, 0); err != nil {
			return nil, nil, err
		}
	}
	signer, err := keys.NewSeedSigner(seed)
	if err != nil {
		return nil, nil, err
	}
	return ws, signer, nil
}

func newDevKeystore(dataDir, path, passPath string) (keys.Seed, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return keys.Seed{}, err
	}
	pass := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return keys.Seed{}, err
	}
	mnemonic, err := keys.NewMnemonic(256, keys.English)
	if err != nil {
		return keys.Seed{}, err
	}
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	if err != nil {
		return keys.Seed{}, err
	}
	if err := keys.Create(path, seed, pass, keys.WithScryptN(keys.MinScryptN)); err != nil {
		return keys.Seed{}, err
	}
	return seed, os.WriteFile(passPath, pass, 0o600)
}

// parseWalletConfig reads serve's bitcoin_network and xpubs settings.
func parseWalletConfig(network string, xpubs map[string]string) (*walletSetup, error) {
	if len(xpubs) == 0 {
		return nil, nil
	}
	net, err := keys.ParseNetwork(network)
	if err != nil {
		return nil, usagef("bitcoin_network %q: use mainnet, testnet, signet or regtest", network)
	}
	ws := &walletSetup{Network: net, XPubs: map[keys.Scheme]string{}}
	for name, xpub := range xpubs {
		var scheme keys.Scheme
		for _, s := range keys.Schemes {
			if s.String() == name {
				scheme = s
			}
		}
		if scheme == 0 {
			return nil, usagef("xpubs: unknown scheme %q; use p2wpkh, p2tr or evm (see 'chengdui keys show-xpub')", name)
		}
		if _, err := keys.NewWatcher(scheme, net, xpub); err != nil {
			return nil, usagef("xpubs.%s: %v", name, err)
		}
		ws.XPubs[scheme] = xpub
	}
	return ws, nil
}
