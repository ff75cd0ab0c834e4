// Package btcdtest runs a real btcd in regtest on 127.0.0.1 for tests.
//
// Binary builds btcd from the module pinned in go.mod, once per machine, into
// the user cache directory. Start runs a fresh node in a temporary directory
// and stops it when the test ends. Blocks mine to MiningAddress, the BIP84
// address m/84'/1'/0'/0/0 of the BIP39 test mnemonic "abandon … about", so
// tests can spend the coinbases with keys derived from Seed. StartWith
// with Segwit starts past segwit's activation; Connect, Disconnect and
// WaitSync join two nodes and part them again, for reorganisation tests.
//
// When btcd cannot be built, tests skip, except with CI=true, where they
// fail: CI must never skip the chain tests.
package btcdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"

	"chengdui/bitcoin/regtest"
	"chengdui/keys"
)

// Version is the btcd release Binary builds; it must match go.mod.
const Version = regtest.Version

// Mnemonic is the BIP39 test mnemonic whose key receives the mined coins.
const Mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

const (
	readyTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// Binary returns the path of a btcd built from the pinned module, building
// it on first use (about 20 seconds; regtest.Binary). It skips the test when
// the build fails, or fails it when CI=true.
func Binary(tb testing.TB) string {
	tb.Helper()
	path, err := regtest.Binary(context.Background())
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("btcdtest: %v", err)
		}
		tb.Skipf("btcdtest: %v (CI=true makes this a failure)", err)
	}
	return path
}

// Seed returns the seed of Mnemonic.
func Seed(tb testing.TB) keys.Seed {
	tb.Helper()
	return seed()
}

func seed() keys.Seed {
	s, err := keys.MnemonicToSeed(Mnemonic, "", keys.English)
	if err != nil {
		panic("btcdtest: the test mnemonic does not decode: " + err.Error())
	}
	return s
}

// MiningAddress is the regtest address that receives mined coinbases:
// m/84'/1'/0'/0/0 of Seed.
func MiningAddress(tb testing.TB) string {
	tb.Helper()
	addr, err := keys.DeriveAddress(Seed(tb), keys.P2WPKH, keys.Regtest, 0, 0, 0)
	if err != nil {
		tb.Fatalf("btcdtest: mining address: %v", err)
	}
	return addr
}

// Node is a running btcd.
type Node struct {
	Host          string // RPC host:port
	P2P           string // peer-to-peer host:port, to connect nodes
	User, Pass    string // RPC credentials
	MiningAddress string
	Dir           string            // data, logs and config
	Client        *rpcclient.Client // HTTP POST mode, no TLS
}

// Start runs btcd in regtest with a transaction index and waits until its
// RPC answers. The node stops when the test ends; if the test failed, the
// end of its log is printed first.
func Start(tb testing.TB) *Node {
	tb.Helper()
	return StartWith(tb, Options{})
}

// Options changes how StartWith runs a node.
type Options struct {
	// Segwit mines SegwitHeight+1 blocks before StartWith returns (a
	// fraction of a second): segwit is active and the coinbases of blocks
	// 1 to SegwitHeight-99 are mature and spendable with Seed's key.
	Segwit bool
}

// SegwitHeight is where btcd's regtest activates segwit (BIP9: three
// 144-block windows); P2WPKH outputs are spendable from the next block.
const SegwitHeight = 432

// utxoCacheMiB is btcd's UTXO cache size. btcd allocates the whole cache
// at start, which takes 3 s at its default of 250 MiB; test chains need
// little.
const utxoCacheMiB = 16

// StartWith is Start with options.
func StartWith(tb testing.TB, opts Options) *Node {
	tb.Helper()
	p, err := launch(Binary(tb), tb.TempDir())
	if err != nil {
		tb.Fatalf("btcdtest: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			dumpLog(tb, p.logPath)
		}
		p.stop()
	})
	if opts.Segwit {
		p.Mine(tb, SegwitHeight+1)
	}
	return p.Node
}

// process is a running btcd.
type process struct {
	*Node
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// launch runs btcd in dir and waits until its RPC answers. In regtest
// btcd deletes its block database at start: a node cannot be restarted
// with its chain.
func launch(bin, dir string) (*process, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	user, err := randomHex()
	if err != nil {
		return nil, err
	}
	pass, err := randomHex()
	if err != nil {
		return nil, err
	}
	mining, err := keys.DeriveAddress(seed(), keys.P2WPKH, keys.Regtest, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mining address: %w", err)
	}
	n := &Node{
		Host:          fmt.Sprintf("127.0.0.1:%d", ports[0]),
		P2P:           fmt.Sprintf("127.0.0.1:%d", ports[1]),
		User:          user,
		Pass:          pass,
		MiningAddress: mining,
		Dir:           dir,
	}
	// An empty config file keeps btcd from reading or creating one in the
	// home directory.
	conf := filepath.Join(dir, "btcd.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return nil, err
	}
	// btcd logs to stdout as well as to its log file; stdout also catches
	// a panic.
	logPath := filepath.Join(dir, "stdout.log")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()

	cmd := exec.Command(bin,
		"--configfile="+conf,
		"--regtest",
		"--datadir="+filepath.Join(dir, "data"),
		"--logdir="+filepath.Join(dir, "logs"),
		"--rpclisten="+n.Host,
		"--listen="+n.P2P,
		"--rpcuser="+n.User,
		"--rpcpass="+n.Pass,
		"--notls",
		"--txindex",
		"--miningaddr="+n.MiningAddress,
		fmt.Sprintf("--utxocachemaxsize=%d", utxoCacheMiB),
	)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting btcd: %w", err)
	}
	p := &process{Node: n, cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	if err := n.waitReady(p.exited); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// stop interrupts btcd, which flushes its database, and kills it if it
// takes too long.
func (p *process) stop() {
	if p.Client != nil {
		p.Client.Shutdown()
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitReady waits for the RPC port, then for an answer. It dials the port
// itself because rpcclient retries a refused connection for 20 seconds.
func (n *Node) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return errors.New("btcd exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("btcd's RPC did not answer within %v", readyTimeout)
		}
		conn, err := net.DialTimeout("tcp", n.Host, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	client, err := rpcclient.New(&rpcclient.ConnConfig{
		Host:         n.Host,
		User:         n.User,
		Pass:         n.Pass,
		DisableTLS:   true,
		HTTPPostMode: true,
	}, nil)
	if err != nil {
		return err
	}
	n.Client = client
	for {
		_, err := client.GetBlockCount()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("btcd's RPC did not answer within %v: %v", readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Mine mines blocks to MiningAddress and returns their hashes.
func (n *Node) Mine(tb testing.TB, blocks uint32) []*chainhash.Hash {
	tb.Helper()
	hashes, err := n.Client.Generate(blocks)
	if err != nil {
		tb.Fatalf("btcdtest: generate %d: %v", blocks, err)
	}
	return hashes
}

func dumpLog(tb testing.TB, path string) {
	tb.Helper()
	if b, err := os.ReadFile(path); err == nil {
		tb.Logf("btcdtest: end of btcd's log:\n%s", regtest.Tail(string(b), 40))
	}
}

// freePorts returns n ports that were free a moment ago; they are held open
// together so that they differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func randomHex() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// peerTimeout bounds the wait for a connection, a disconnection or a sync.
const peerTimeout = 30 * time.Second

// Connect makes n open a temporary (not retried) peer connection to peer
// and waits until both list it. Blocks and transactions then flow between
// them; a node whose chain has less work reorganises onto the other's.
func (n *Node) Connect(tb testing.TB, peer *Node) {
	tb.Helper()
	temp := "temp"
	if err := n.Client.Node(btcjson.NConnect, peer.P2P, &temp); err != nil {
		tb.Fatalf("btcdtest: connect %s to %s: %v", n.P2P, peer.P2P, err)
	}
	waitFor(tb, "the peers to see each other", func() (bool, error) {
		local, ok, err := n.peerAddr(peer.P2P)
		if err != nil || !ok {
			return false, err
		}
		_, ok, err = peer.peerAddr(local)
		return ok, err
	})
}

// Disconnect closes the connection Connect opened and waits until neither
// node lists it.
func (n *Node) Disconnect(tb testing.TB, peer *Node) {
	tb.Helper()
	local, ok, err := n.peerAddr(peer.P2P)
	if err != nil {
		tb.Fatalf("btcdtest: %v", err)
	}
	if !ok {
		return
	}
	if err := n.Client.Node(btcjson.NDisconnect, peer.P2P, nil); err != nil {
		tb.Fatalf("btcdtest: disconnect %s from %s: %v", n.P2P, peer.P2P, err)
	}
	waitFor(tb, "the peers to part", func() (bool, error) {
		_, on, err := n.peerAddr(peer.P2P)
		if err != nil || on {
			return false, err
		}
		_, on, err = peer.peerAddr(local)
		return !on, err
	})
}

// WaitSync waits until n's best block is peer's.
func (n *Node) WaitSync(tb testing.TB, peer *Node) {
	tb.Helper()
	waitFor(tb, "the nodes to agree on the best block", func() (bool, error) {
		a, err := n.Client.GetBestBlockHash()
		if err != nil {
			return false, err
		}
		b, err := peer.Client.GetBestBlockHash()
		if err != nil {
			return false, err
		}
		return *a == *b, nil
	})
}

// peerAddr finds the peer whose address is addr and returns the local end
// of the connection, which is how the other side names it.
func (n *Node) peerAddr(addr string) (local string, ok bool, err error) {
	peers, err := n.Client.GetPeerInfo()
	if err != nil {
		return "", false, err
	}
	for _, p := range peers {
		if p.Addr == addr && p.Version != 0 {
			return p.AddrLocal, true, nil
		}
	}
	return "", false, nil
}

// waitFor polls cond until it holds, failing the test after peerTimeout.
func waitFor(tb testing.TB, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(peerTimeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("btcdtest: waited %v for %s (last error: %v)", peerTimeout, what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
