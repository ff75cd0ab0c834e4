package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/cold"
	"chengdui/bitcoin/regtest"
	"chengdui/keys"
)

// devFaucetBTCPath is the key dev's btcd mines to: account 1, so it is
// never a user's deposit address (account 0).
var devFaucetBTCPath = keys.P2WPKH.Path(keys.Regtest, 1, 0, 0)

// devMatureHeight is where dev's regtest chain starts being useful: past
// segwit's activation (432 blocks on btcd's regtest) and with coinbases
// mature (100 blocks) for the faucet.
const devMatureHeight = 500

// devBitcoin is dev's Bitcoin: a btcd in regtest under the data directory
// (the chain persists across restarts), mining a block every blockTime to
// the faucet's key, and a faucet that pays from mature coinbases.
type devBitcoin struct {
	dataDir   string
	signer    *keys.SeedSigner
	blockTime time.Duration

	proc   *regtest.Node
	node   *bitcoin.Node
	script []byte // the faucet's pkScript
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	nextCB int64 // the lowest coinbase height the faucet may still spend
}

func newDevBitcoin(dataDir string, signer *keys.SeedSigner, blockTime time.Duration) *devBitcoin {
	return &devBitcoin{dataDir: dataDir, signer: signer, blockTime: blockTime, nextCB: 1}
}

// Start builds btcd if needed (about 20 seconds, once per machine), runs
// it, mines to devMatureHeight on first start and then every blockTime.
func (b *devBitcoin) Start(ctx context.Context) error {
	bin, err := regtest.Binary(ctx)
	if err != nil {
		return err
	}
	pub, err := b.signer.PublicKey(devFaucetBTCPath)
	if err != nil {
		return err
	}
	addr, err := keys.Address(keys.P2WPKH, keys.Regtest, pub)
	if err != nil {
		return err
	}
	a, err := keys.ParseBitcoinAddress(addr, keys.Regtest)
	if err != nil {
		return err
	}
	b.script = a.ScriptPubKey
	if b.proc, err = regtest.Start(ctx, regtest.Options{Binary: bin, Dir: filepath.Join(b.dataDir, "btcd"), MiningAddress: addr}); err != nil {
		return fmt.Errorf("btcd: %w", err)
	}
	// The RPC password changes at every start; `chengdui cold create` and
	// `cold finalize --broadcast` read it from this file (mode 0600).
	if err := os.WriteFile(b.PassFile(), []byte(b.proc.Pass+"\n"), 0o600); err != nil {
		b.proc.Stop()
		return err
	}
	b.node, err = bitcoin.Dial(ctx, bitcoin.Config{Host: b.proc.Host, User: b.proc.User, Pass: b.proc.Pass, Network: keys.Regtest, DisableTLS: true})
	if err != nil {
		b.proc.Stop()
		return err
	}
	height, err := b.proc.Client.GetBlockCount()
	if err != nil {
		b.Stop()
		return err
	}
	if height < devMatureHeight {
		if _, err := b.proc.Client.Generate(uint32(devMatureHeight - height)); err != nil {
			b.Stop()
			return fmt.Errorf("btcd: mining the first %d blocks: %w", devMatureHeight, err)
		}
	}
	if b.blockTime > 0 {
		mctx, cancel := context.WithCancel(context.Background())
		b.stop = cancel
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			t := time.NewTicker(b.blockTime)
			defer t.Stop()
			for {
				select {
				case <-mctx.Done():
					return
				case <-t.C:
					b.proc.Client.Generate(1)
				}
			}
		}()
	}
	return nil
}

// PassFile is where dev keeps the running btcd's RPC password.
func (b *devBitcoin) PassFile() string { return filepath.Join(b.dataDir, "btcd", "rpc.pass") }

// Stop stops mining and the node.
func (b *devBitcoin) Stop() {
	if b.stop != nil {
		b.stop()
		b.wg.Wait()
	}
	if b.node != nil {
		b.node.Close()
	}
	if b.proc != nil {
		b.proc.Stop()
	}
}

// setup is the regtest chain as the chain services see it.
func (b *devBitcoin) setup() (*btcSetup, error) {
	cw, err := devColdWallet(b.dataDir)
	if err != nil {
		return nil, err
	}
	return &btcSetup{Chain: "bitcoin:regtest", Node: b.node, Network: keys.Regtest, StartHeight: devMatureHeight - 1,
		Cold: cw, MaxHot: devMaxHot}, nil
}

// maxFaucetBTC bounds one faucet payment: a regtest coinbase past height
// 450 is 6.25 BTC or less.
const maxFaucetBTC = 1 * btcutil.SatoshiPerBitcoin

// Faucet pays amount BTC (default 0.1) to address from the oldest mature
// coinbase the faucet has not spent, and returns the txid.
func (b *devBitcoin) Faucet(ctx context.Context, address, amount string) (string, error) {
	if amount == "" {
		amount = "0.1"
	}
	sat, err := chengdui.ParseDecimal(amount, 8)
	if err != nil {
		return "", err
	}
	if sat.IsZero() || sat.Hi != 0 || sat.Lo > maxFaucetBTC {
		return "", chengdui.Errorf(chengdui.EInvalid, "amount: give more than 0 and at most 1 BTC")
	}
	if _, err := keys.ParseBitcoinAddress(address, keys.Regtest); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tip, err := b.proc.Client.GetBlockCount()
	if err != nil {
		return "", chengdui.Errorf(chengdui.EUnavailable, "btcd: %v", err)
	}
	for ; b.nextCB <= tip-100; b.nextCB++ {
		hash, err := b.proc.Client.GetBlockHash(b.nextCB)
		if err != nil {
			return "", chengdui.Errorf(chengdui.EUnavailable, "btcd: %v", err)
		}
		block, err := b.proc.Client.GetBlock(hash)
		if err != nil {
			return "", chengdui.Errorf(chengdui.EUnavailable, "btcd: %v", err)
		}
		cb := block.Transactions[0]
		if len(cb.TxOut) == 0 || string(cb.TxOut[0].PkScript) != string(b.script) {
			continue
		}
		cbHash := cb.TxHash()
		out, err := b.proc.Client.GetTxOut(&cbHash, 0, true)
		if err != nil || out == nil {
			continue // spent already (an earlier run)
		}
		u, err := bitcoin.BuildTx(bitcoin.TxRequest{Network: keys.Regtest, FeeRate: 2, ChangeScript: b.script,
			UTXOs:    []bitcoin.UTXO{{OutPoint: wire.OutPoint{Hash: cb.TxHash(), Index: 0}, Value: cb.TxOut[0].Value, PkScript: b.script, Path: devFaucetBTCPath, Confirmations: 100}},
			Payments: []bitcoin.Payment{{Address: address, Amount: int64(sat.Lo), ID: "faucet"}}})
		if err != nil {
			return "", err
		}
		signed, err := bitcoin.Sign(u, b.signer)
		if err != nil {
			return "", err
		}
		txid, err := b.node.Broadcast(ctx, signed)
		if err != nil {
			return "", err
		}
		b.nextCB++
		return txid.String(), nil
	}
	return "", chengdui.Errorf(chengdui.EUnavailable, "the faucet has no mature coinbase left; wait for a few blocks")
}

// devMaxHot is dev's hot-wallet ceiling: above 2 BTC, the excess down to
// 1 BTC is swept to the cold wallet.
const devMaxHot = 2 * btcutil.SatoshiPerBitcoin

// devColdWallet opens (creating on first start) dev's three cold-storage
// keystores, <data-dir>/cold/cold-{1,2,3}.json, each its own seed under the
// dev keystore's passphrase, and builds the 2-of-3 wallet from their BIP48
// keys. In production the three keys live on three offline machines; dev
// keeps them beside the data so `chengdui cold sign --key …` can be tried.
func devColdWallet(dataDir string) (*cold.Wallet, error) {
	pass, err := os.ReadFile(filepath.Join(dataDir, "keystore.pass"))
	if err != nil {
		return nil, err
	}
	pass = []byte(strings.TrimSpace(string(pass)))
	dir := filepath.Join(dataDir, "cold")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var xpubs [3]string
	for i := range xpubs {
		path := filepath.Join(dir, fmt.Sprintf("cold-%d.json", i+1))
		seed, err := keys.Open(path, pass)
		if chengdui.ErrorCode(err) == chengdui.ENotFound || errors.Is(err, fs.ErrNotExist) {
			var mnemonic string
			if mnemonic, err = keys.NewMnemonic(256, keys.English); err != nil {
				return nil, err
			}
			if seed, err = keys.MnemonicToSeed(mnemonic, "", keys.English); err != nil {
				return nil, err
			}
			err = keys.Create(path, seed, pass, keys.WithScryptN(keys.MinScryptN))
		}
		if err != nil {
			return nil, fmt.Errorf("dev cold keystore %s: %w", path, err)
		}
		k, err := cold.AccountKey(seed, keys.Regtest, 0)
		seed.Zero()
		if err != nil {
			return nil, err
		}
		xpubs[i] = k.String()
	}
	return cold.NewWallet(keys.Regtest, xpubs)
}
