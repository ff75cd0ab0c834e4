package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// Environment variables the cold commands read for the node's RPC login.
const (
	envBitcoinRPCUser = "CHENGDUI_BITCOIN_RPC_USER"
	envBitcoinRPCPass = "CHENGDUI_BITCOIN_RPC_PASS"
)

// coldSearch is how many indexes of each branch 'cold create' searches for
// a coin given without its index.
const coldSearch = 1000

func coldCommands() map[string]command {
	return map[string]command{
		"xpub":     {"print this keystore's cosigner key for the 2-of-3 wallet: xpub --network regtest [--account N]", runColdXPub},
		"address":  {"print a cold deposit address: address --xpub A --xpub B --xpub C --index N --network regtest", runColdAddress},
		"create":   {"build an unsigned PSBT from cold coins: create --xpub …×3 --utxo TXID:VOUT --to ADDR --amount BTC --node HOST:PORT", runColdCreate},
		"sign":     {"sign a PSBT on an offline machine: sign --psbt FILE --key KEYSTORE", runColdSign},
		"finalize": {"combine two signatures and broadcast: finalize --psbt A [--psbt B] [--broadcast --node HOST:PORT]", runColdFinalize},
	}
}

func runCold(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "cold", "[flags]", `Cold storage: a 2-of-3 multisig (P2WSH, sortedmulti) of three BIP48 keys,
m/48'/coin'/account'/2', each on its own offline machine. The server holds
the three public keys only. To spend: 'create' on the server, 'sign' on two of
the three offline machines, 'finalize --broadcast' on the server.`, coldCommands(), args)
}

// coldList is a repeatable string flag.
type coldList []string

func (l *coldList) String() string     { return strings.Join(*l, ",") }
func (l *coldList) Set(s string) error { *l = append(*l, s); return nil }

// coldWallet builds the wallet from three --xpub flags.
func coldWallet(xpubs coldList, network string) (*cold.Wallet, error) {
	net, err := keys.ParseNetwork(network)
	if err != nil {
		return nil, cliError(err)
	}
	if len(xpubs) != 3 {
		return nil, usagef("give the three cosigner keys, --xpub three times (you gave %d); each cosigner prints theirs with 'chengdui cold xpub'", len(xpubs))
	}
	w, err := cold.NewWallet(net, [3]string(xpubs))
	if err != nil {
		return nil, cliError(err)
	}
	return w, nil
}

func runColdXPub(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cold xpub", "cold xpub [--keystore FILE] [--passphrase-file FILE] [--network mainnet|testnet|signet|regtest] [--account N]")
	var kf keystoreFlags
	kf.register(fs)
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	account := fs.Uint("account", 0, "BIP48 account number")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cold xpub: unexpected argument %q", fs.Arg(0))
	}
	net, err := keys.ParseNetwork(*network)
	if err != nil {
		return cliError(err)
	}
	if *account >= uint(keys.Hardened) {
		return usagef("--account %d: must be below 2^31", *account)
	}
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
	k, err := cold.AccountKey(seed, net, uint32(*account))
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.stdout, "# cosigner key, BIP48 P2WSH multisig, %s, account %d: give it to the server and the other cosigners; it cannot spend\n%s\n", net, *account, k)
	return nil
}

func runColdAddress(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cold address", "cold address --xpub A --xpub B --xpub C --index N [--change] [--count N] [--descriptor] --network regtest")
	var xpubs coldList
	fs.Var(&xpubs, "xpub", "a cosigner key, [fingerprint/48'/coin'/account'/2']xpub…; three times")
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	index := fs.Uint("index", 0, "address index")
	change := fs.Bool("change", false, "the change branch (1) rather than the receive branch (0)")
	count := fs.Uint("count", 1, "print this many addresses from --index on")
	descriptor := fs.Bool("descriptor", false, "print the wallet's output descriptors instead, to import it watch-only elsewhere")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cold address: unexpected argument %q", fs.Arg(0))
	}
	w, err := coldWallet(xpubs, *network)
	if err != nil {
		return err
	}
	if *descriptor {
		fmt.Fprintf(e.stdout, "%s\n%s\n", w.Descriptor(cold.Receive), w.Descriptor(cold.Change))
		return nil
	}
	if *index >= uint(keys.Hardened) || *count < 1 || *count > 10_000 || *index+*count > uint(keys.Hardened) {
		return usagef("--index %d --count %d: indexes are below 2^31, and --count is 1 to 10000", *index, *count)
	}
	branch := cold.Receive
	if *change {
		branch = cold.Change
	}
	address := w.Address
	if branch == cold.Change {
		address = w.ChangeAddress
	}
	for i := uint32(*index); i < uint32(*index+*count); i++ {
		a, err := address(i)
		if err != nil {
			return cliError(err)
		}
		if *count == 1 {
			fmt.Fprintln(e.stdout, a)
		} else {
			fmt.Fprintf(e.stdout, "%d/%d\t%s\n", branch, i, a)
		}
	}
	return nil
}

// coldNodeFlags say how to reach the Bitcoin node.
type coldNodeFlags struct {
	host, user, passFile, cert string
}

func (n *coldNodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.host, "node", "", "the Bitcoin node's RPC host:port (btcd or bitcoind)")
	fs.StringVar(&n.user, "rpc-user", "", "RPC user (default: $"+envBitcoinRPCUser+")")
	fs.StringVar(&n.passFile, "rpc-pass-file", "", "file whose first line is the RPC password (default: $"+envBitcoinRPCPass+")")
	fs.StringVar(&n.cert, "rpc-cert", "", "btcd's TLS certificate (rpc.cert); without it the RPC is plain HTTP, as bitcoind speaks it")
}

func (n *coldNodeFlags) config(e *env, net keys.Network) (bitcoin.Config, error) {
	if n.host == "" {
		return bitcoin.Config{}, usagef("no node: give --node HOST:PORT, the RPC address of a btcd or bitcoind on %s", net)
	}
	cfg := bitcoin.Config{Host: n.host, User: n.user, Network: net, DisableTLS: n.cert == ""}
	if cfg.User == "" {
		cfg.User = e.getenv(envBitcoinRPCUser)
	}
	if n.passFile != "" {
		data, err := os.ReadFile(n.passFile)
		if err != nil {
			return bitcoin.Config{}, usagef("--rpc-pass-file: %v", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		cfg.Pass = strings.TrimSuffix(line, "\r")
	} else {
		cfg.Pass = e.getenv(envBitcoinRPCPass)
	}
	if n.cert != "" {
		pem, err := os.ReadFile(n.cert)
		if err != nil {
			return bitcoin.Config{}, usagef("--rpc-cert: %v", err)
		}
		cfg.Certificates = pem
	}
	return cfg, nil
}

func (n *coldNodeFlags) dial(ctx context.Context, e *env, net keys.Network) (*bitcoin.Node, bitcoin.Config, error) {
	cfg, err := n.config(e, net)
	if err != nil {
		return nil, cfg, err
	}
	node, err := bitcoin.Dial(ctx, cfg)
	if err != nil {
		return nil, cfg, cliError(err)
	}
	return node, cfg, nil
}

// coldUTXO is a --utxo flag: txid:vout, optionally with :index (receive
// branch) or :branch/index.
type coldUTXO struct {
	op        wire.OutPoint
	hasIndex  bool
	change, i uint32
}

func parseColdUTXO(s string) (coldUTXO, error) {
	parts := strings.Split(s, ":")
	bad := usagef("--utxo %q: use TXID:VOUT, TXID:VOUT:INDEX or TXID:VOUT:BRANCH/INDEX (branch 0 receive, 1 change)", s)
	if len(parts) < 2 || len(parts) > 3 {
		return coldUTXO{}, bad
	}
	h, err := chainhash.NewHashFromStr(parts[0])
	if err != nil || len(parts[0]) != 64 {
		return coldUTXO{}, bad
	}
	vout, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return coldUTXO{}, bad
	}
	u := coldUTXO{op: wire.OutPoint{Hash: *h, Index: uint32(vout)}}
	if len(parts) == 3 {
		u.hasIndex = true
		branch, index, ok := strings.Cut(parts[2], "/")
		if !ok {
			branch, index = "0", parts[2]
		}
		c, err1 := strconv.ParseUint(branch, 10, 32)
		i, err2 := strconv.ParseUint(index, 10, 32)
		if err1 != nil || err2 != nil || c > 1 || i >= uint64(keys.Hardened) {
			return coldUTXO{}, bad
		}
		u.change, u.i = uint32(c), uint32(i)
	}
	return u, nil
}

func runColdCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cold create", "cold create --xpub A --xpub B --xpub C --utxo TXID:VOUT[:INDEX] ... --to ADDRESS --amount BTC [--fee-rate N] --change-index N --node HOST:PORT --network N [--out FILE]")
	var xpubs, utxos coldList
	fs.Var(&xpubs, "xpub", "a cosigner key, [fingerprint/48'/coin'/account'/2']xpub…; three times")
	fs.Var(&utxos, "utxo", fmt.Sprintf("a cold coin to spend, TXID:VOUT (its address is searched among indexes 0 to %d of both branches), TXID:VOUT:INDEX or TXID:VOUT:BRANCH/INDEX; repeatable", coldSearch-1))
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	to := fs.String("to", "", "the address to pay")
	amount := fs.String("amount", "", "the amount to pay, in BTC (e.g. 0.015)")
	feeRate := fs.Int64("fee-rate", 0, "fee rate in sat/vB (default: the node's estimate for 6 blocks)")
	changeIndex := fs.Uint("change-index", 0, "index of the change address on the change branch; use a fresh one for each spend")
	minConf := fs.Int64("min-conf", 1, "the confirmations each coin needs")
	out := fs.String("out", "", "write the PSBT (base64) to this new file (default: stdout)")
	var nf coldNodeFlags
	nf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cold create: unexpected argument %q", fs.Arg(0))
	}
	w, err := coldWallet(xpubs, *network)
	if err != nil {
		return err
	}
	net := w.Network()
	if len(utxos) == 0 {
		return usagef("no coins: give --utxo TXID:VOUT for each cold coin to spend")
	}
	specs := make([]coldUTXO, len(utxos))
	for i, s := range utxos {
		if specs[i], err = parseColdUTXO(s); err != nil {
			return err
		}
	}
	if *to == "" || *amount == "" {
		return usagef("say where the coins go: --to ADDRESS --amount BTC")
	}
	dest, err := keys.ParseBitcoinAddress(*to, net)
	if err != nil {
		return cliError(err)
	}
	sat, err := coldSatoshis(*amount)
	if err != nil {
		return err
	}
	if *changeIndex >= uint(keys.Hardened) {
		return usagef("--change-index %d: must be below 2^31", *changeIndex)
	}
	if *out != "" {
		if _, err := os.Lstat(*out); err == nil {
			return usagef("%s already exists; a PSBT file is never overwritten: choose another --out", *out)
		}
	}

	node, cfg, err := nf.dial(ctx, e, net)
	if err != nil {
		return err
	}
	defer node.Close()
	rate := *feeRate
	if rate == 0 {
		if rate, err = node.EstimateFeeRate(ctx, 6); err != nil {
			return cliError(err)
		}
	}
	inputs := make([]cold.Input, len(specs))
	for i, u := range specs {
		if inputs[i], err = coldCoin(ctx, cfg, w, u, *minConf); err != nil {
			return err
		}
	}
	p, err := w.CreatePSBT(inputs, []*wire.TxOut{wire.NewTxOut(sat, dest.ScriptPubKey)}, uint32(*changeIndex), rate)
	if err != nil {
		return cliError(err)
	}
	data, err := cold.EncodePSBT(p)
	if err != nil {
		return err
	}
	summary := e.stdout
	if *out == "" {
		if _, err := e.stdout.Write(data); err != nil {
			return err
		}
		summary = e.stderr
	} else if err := coldWriteFile(*out, data, false); err != nil {
		return err
	}
	if err := coldPrintSummary(summary, p, net); err != nil {
		return err
	}
	file := *out
	if file == "" {
		file = "FILE"
	}
	fmt.Fprintf(summary, "\nUnsigned PSBT written%s. Next: on two of the three offline machines, check the outputs above and run\n  chengdui cold sign --psbt %s --key KEYSTORE --network %s\nthen here: chengdui cold finalize --psbt %s [--psbt SECOND-COPY] --network %s --broadcast --node %s\n",
		map[bool]string{true: " to " + *out, false: " to stdout"}[*out != ""], file, net, file, net, nf.host)
	return nil
}

// coldSatoshis parses a positive BTC amount exactly.
func coldSatoshis(s string) (int64, error) {
	a, err := chengdui.ParseDecimal(s, 8)
	if err != nil {
		return 0, usagef("--amount %q: %s; give BTC with at most 8 decimals, e.g. 0.015", s, chengdui.ErrorMessage(err))
	}
	if a.IsZero() || a.Cmp64(btcutil.MaxSatoshi) > 0 {
		return 0, usagef("--amount %s BTC: give more than 0 and at most 21000000", s)
	}
	return int64(a.Lo), nil
}

// coldCoin reads a coin from the node (gettxout, the mempool included, so
// a coin already spent there is refused) and finds which of the wallet's
// addresses it pays.
func coldCoin(ctx context.Context, cfg bitcoin.Config, w *cold.Wallet, u coldUTXO, minConf int64) (cold.Input, error) {
	out, confs, err := coldTxOut(ctx, cfg, u.op)
	if err != nil {
		return cold.Input{}, err
	}
	if confs < minConf {
		return cold.Input{}, usagef("coin %s has %d confirmation(s); --min-conf asks for %d: wait for a block, or lower --min-conf", u.op, confs, minConf)
	}
	in := cold.Input{OutPoint: u.op, Value: out.Value, Change: u.change, Index: u.i}
	if u.hasIndex {
		_, pk, err := w.Script(u.change, u.i)
		if err != nil {
			return cold.Input{}, cliError(err)
		}
		if !bytes.Equal(pk, out.PkScript) {
			return cold.Input{}, usagef("coin %s does not pay the cold address at %d/%d; check the index, or leave it out to search", u.op, u.change, u.i)
		}
		return in, nil
	}
	var ok bool
	if in.Change, in.Index, ok = w.Find(out.PkScript, coldSearch); !ok {
		return cold.Input{}, usagef("coin %s pays none of the first %d addresses of either branch of this cold wallet: check the --xpub keys, or give its index (TXID:VOUT:BRANCH/INDEX)", u.op, coldSearch)
	}
	return in, nil
}

// coldTxOut asks the node for an unspent output. bitcoin.Node has no
// gettxout yet, so this opens its own rpcclient with the same settings;
// the amount is read from the JSON text exactly, never through a float.
func coldTxOut(ctx context.Context, cfg bitcoin.Config, op wire.OutPoint) (*wire.TxOut, int64, error) {
	client, err := rpcclient.New(&rpcclient.ConnConfig{
		Host: cfg.Host, User: cfg.User, Pass: cfg.Pass,
		DisableTLS: cfg.DisableTLS, Certificates: cfg.Certificates, HTTPPostMode: true,
	}, nil)
	if err != nil {
		return nil, 0, usagef("bitcoin node: %v", err)
	}
	defer client.Shutdown()
	type result struct {
		raw json.RawMessage
		err error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := client.RawRequest("gettxout", []json.RawMessage{
			json.RawMessage(strconv.Quote(op.Hash.String())), json.RawMessage(strconv.FormatUint(uint64(op.Index), 10)), json.RawMessage("true"),
		})
		done <- result{raw, err}
	}()
	var r result
	select {
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case r = <-done:
	}
	if r.err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EUnavailable, "bitcoin node: gettxout %s: %v", op, r.err)
	}
	if len(r.raw) == 0 || string(r.raw) == "null" {
		return nil, 0, usagef("coin %s is spent (perhaps by a transaction in the mempool) or unknown to the node: check the txid and output number", op)
	}
	var res struct {
		Confirmations int64       `json:"confirmations"`
		Value         json.Number `json:"value"`
		ScriptPubKey  struct {
			Hex string `json:"hex"`
		} `json:"scriptPubKey"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.raw))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: %v", op, err)
	}
	// The node writes BTC as a JSON number, possibly in exponent form
	// (1e-05); big.Rat reads either exactly.
	v, ok := new(big.Rat).SetString(res.Value.String())
	if ok {
		v.Mul(v, big.NewRat(btcutil.SatoshiPerBitcoin, 1))
	}
	if !ok || !v.IsInt() || v.Sign() <= 0 || v.Num().Cmp(big.NewInt(btcutil.MaxSatoshi)) > 0 {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: amount %q is not a whole number of satoshis", op, res.Value)
	}
	pk, err := hex.DecodeString(res.ScriptPubKey.Hex)
	if err != nil {
		return nil, 0, chengdui.Errorf(chengdui.EInternal, "bitcoin node: gettxout %s: script: %v", op, err)
	}
	return wire.NewTxOut(v.Num().Int64(), pk), res.Confirmations, nil
}

func runColdSign(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cold sign", "cold sign --psbt FILE --key KEYSTORE [--passphrase-file FILE] [--network N] [--out FILE]")
	file := fs.String("psbt", "", "the PSBT file (base64 or binary)")
	keyFile := fs.String("key", defaultKeystore, "this cosigner's keystore, made by 'chengdui keys init'")
	passFile := fs.String("passphrase-file", "", "file whose first line is the keystore passphrase (default: $"+envKeystorePassphrase+", else stdin)")
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	out := fs.String("out", "", "write the signed PSBT here (default: update --psbt in place)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cold sign: unexpected argument %q", fs.Arg(0))
	}
	if *file == "" {
		return usagef("cold sign: give the PSBT with --psbt FILE")
	}
	net, err := keys.ParseNetwork(*network)
	if err != nil {
		return cliError(err)
	}
	p, err := coldReadPSBT(*file)
	if err != nil {
		return err
	}
	if err := coldPrintSummary(e.stdout, p, net); err != nil {
		return err
	}

	pass, err := newPassphraseReader(e).read(*passFile, envKeystorePassphrase, "Keystore passphrase: ", false)
	if err != nil {
		return err
	}
	defer clear(pass)
	seed, err := keys.Open(*keyFile, pass)
	if err != nil {
		return cliError(err)
	}
	defer seed.Zero()
	signer, err := keys.NewSeedSigner(seed)
	if err != nil {
		return cliError(err)
	}
	defer signer.Close()
	me, err := cold.AccountKey(seed, net, 0)
	if err != nil {
		return cliError(err)
	}
	n, err := cold.Sign(p, signer)
	if err != nil {
		return cliError(err)
	}
	data, err := cold.EncodePSBT(p)
	if err != nil {
		return err
	}
	dst := *out
	if dst == "" {
		dst = *file
	}
	if err := coldWriteFile(dst, data, true); err != nil {
		return err
	}
	s, err := cold.Describe(p, net)
	if err != nil {
		return cliError(err)
	}
	e.log.Info("cold PSBT signed", "txid", s.TxID.String(), "inputs", n, "fingerprint", hex.EncodeToString(me.Fingerprint[:]))
	fmt.Fprintf(e.stdout, "\nSigned %d input(s) with the key of master fingerprint %x; written to %s.\n", n, me.Fingerprint, dst)
	if s.Complete() {
		fmt.Fprintf(e.stdout, "Every input now has %d signatures. Next, on the server: chengdui cold finalize --psbt %s --network %s --broadcast --node HOST:PORT\n", cold.Required, dst, net)
	} else {
		fmt.Fprintf(e.stdout, "It needs %d signatures per input. Next: a second cosigner signs it (chengdui cold sign --psbt %s --key THEIR-KEYSTORE), or signs another copy, then 'chengdui cold finalize' combines them.\n", cold.Required, dst)
	}
	return nil
}

func runColdFinalize(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cold finalize", "cold finalize --psbt A [--psbt B ...] [--network N] [--out FILE] [--broadcast --node HOST:PORT]")
	var files coldList
	fs.Var(&files, "psbt", "a signed copy of the PSBT; repeat for each cosigner's copy")
	network := fs.String("network", "mainnet", "Bitcoin network: mainnet, testnet, signet or regtest")
	out := fs.String("out", "", "also write the signed transaction, hex, to this file")
	broadcast := fs.Bool("broadcast", false, "send the transaction through --node")
	var nf coldNodeFlags
	nf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("cold finalize: unexpected argument %q", fs.Arg(0))
	}
	if len(files) == 0 {
		return usagef("cold finalize: give the signed PSBT copies with --psbt FILE (repeatable)")
	}
	net, err := keys.ParseNetwork(*network)
	if err != nil {
		return cliError(err)
	}
	ps := make([]*psbt.Packet, len(files))
	for i, f := range files {
		if ps[i], err = coldReadPSBT(f); err != nil {
			return err
		}
	}
	p, err := cold.Combine(ps...)
	if err != nil {
		return cliError(err)
	}
	if err := coldPrintSummary(e.stdout, p, net); err != nil {
		return err
	}
	tx, err := cold.Finalize(p)
	if err != nil {
		return cliError(err)
	}
	var raw bytes.Buffer
	if err := tx.Serialize(&raw); err != nil {
		return err
	}
	txHex := hex.EncodeToString(raw.Bytes())
	if *out != "" {
		if err := coldWriteFile(*out, []byte(txHex+"\n"), true); err != nil {
			return err
		}
	}
	if !*broadcast {
		fmt.Fprintf(e.stdout, "\nSigned transaction %s:\n%s\nNext: broadcast it with --broadcast --node HOST:PORT, or through any node's sendrawtransaction.\n", tx.TxHash(), txHex)
		return nil
	}
	node, _, err := nf.dial(ctx, e, net)
	if err != nil {
		return err
	}
	defer node.Close()
	txid, err := node.Broadcast(ctx, tx)
	if err != nil {
		return cliError(err)
	}
	e.log.Info("cold spend broadcast", "txid", txid.String())
	fmt.Fprintf(e.stdout, "\nBroadcast: %s\n", txid)
	return nil
}

// coldReadPSBT reads and parses a PSBT file.
func coldReadPSBT(path string) (*psbt.Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--psbt: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, cold.MaxPSBTSize+1))
	if err != nil {
		return nil, usagef("--psbt: %v", err)
	}
	p, err := cold.ParsePSBT(data)
	if err != nil {
		return nil, usagef("%s: %s", path, chengdui.ErrorMessage(err))
	}
	return p, nil
}

// coldWriteFile writes data to path through a temporary file and a rename,
// so that a crash leaves the old file or the new one. Without replace it
// refuses an existing file.
func coldWriteFile(path string, data []byte, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".chengdui-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return usagef("%s already exists; a PSBT file is never overwritten: choose another --out", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// coldPrintSummary prints what a PSBT spends and pays, for a person to
// check before signing or broadcasting.
func coldPrintSummary(w io.Writer, p *psbt.Packet, net keys.Network) error {
	s, err := cold.Describe(p, net)
	if err != nil {
		return cliError(err)
	}
	btc := func(sat int64) string {
		return fmt.Sprintf("%16s BTC", chengdui.FormatDecimal(uint128.From64(uint64(sat)), 8))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Transaction %s on %s\n", s.TxID, net)
	for _, in := range s.Inputs {
		fmt.Fprintf(tw, "  spends\t%s\t%s\t%d of %d signatures\n", in.OutPoint, btc(in.Value), in.Signatures, cold.Required)
	}
	for _, o := range s.Outputs {
		note := ""
		if o.Change {
			note = "change, back to cold storage"
		}
		fmt.Fprintf(tw, "  pays\t%s\t%s\t%s\n", o.Address, btc(o.Value), note)
	}
	tenths := s.Fee * 10 / s.VSize // the lowest rate, to a tenth of a sat/vB
	fmt.Fprintf(tw, "  fee\t\t%s\t%d.%d sat/vB or more (%d vB at most)\n", btc(s.Fee), tenths/10, tenths%10, s.VSize)
	return tw.Flush()
}
