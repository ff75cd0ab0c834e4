// Package regtest builds and runs a btcd node in regtest on loopback: the
// Bitcoin chain of `chengdui dev`. The tests' harness (btcdtest) runs
// nodes the same way.
package regtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
)

// Version is the btcd release Binary builds; it must match go.mod.
const Version = "v0.24.2"

const (
	buildTimeout = 5 * time.Minute
	readyTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

var buildMu sync.Mutex

// Binary returns the path of a btcd built from the module pinned in go.mod,
// building it on first use into the user cache directory (about 20 seconds).
// It looks for go.mod upwards from the working directory; when there is
// none (an installed chengdui outside its source tree), a `btcd` on PATH
// is used instead.
func Binary(ctx context.Context) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the btcd binary: %w", err)
	}
	dir := filepath.Join(cache, "chengdui")
	path := filepath.Join(dir, "btcd-"+Version)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		if p, lerr := exec.LookPath("btcd"); lerr == nil {
			return p, nil
		}
		return "", fmt.Errorf("cannot build btcd (%v) and there is no btcd on PATH: run from the chengdui source tree, or install btcd %s", err, Version)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	// Build under a unique name and rename: concurrent builds by other
	// processes each produce a whole binary, and the last rename wins.
	tmp, err := os.CreateTemp(dir, "btcd-build-*")
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp.Name(), "github.com/btcsuite/btcd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building btcd %s failed: %v\n%s", Version, err, Tail(string(out), 20))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("installing btcd: %w", err)
	}
	return path, nil
}

// ModuleRoot walks up from the working directory to the directory holding
// go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Options say how to run a node.
type Options struct {
	Binary        string   // from Binary
	Dir           string   // data, logs and config; kept across runs for a persistent chain
	MiningAddress string   // receives coinbases mined by Generate
	RPCPort       int      // 0: a free port
	P2PPort       int      // 0: a free port
	Args          []string // more btcd flags
}

// Node is a running btcd.
type Node struct {
	Host       string // RPC host:port
	P2P        string // peer-to-peer host:port
	User, Pass string // RPC credentials, random per start
	Dir        string
	LogPath    string
	Client     *rpcclient.Client // HTTP POST mode, no TLS

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs btcd in regtest with a transaction index on 127.0.0.1 and
// waits until its RPC answers. Stop it with Stop.
func Start(ctx context.Context, o Options) (*Node, error) {
	ports := []int{o.RPCPort, o.P2PPort}
	for i, p := range ports {
		if p == 0 {
			free, err := FreePort()
			if err != nil {
				return nil, err
			}
			ports[i] = free
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	n := &Node{
		Host:    fmt.Sprintf("127.0.0.1:%d", ports[0]),
		P2P:     fmt.Sprintf("127.0.0.1:%d", ports[1]),
		User:    randomHex(),
		Pass:    randomHex(),
		Dir:     o.Dir,
		LogPath: filepath.Join(o.Dir, "stdout.log"),
		exited:  make(chan struct{}),
	}
	// An empty config file keeps btcd from reading or creating one in the
	// home directory.
	conf := filepath.Join(o.Dir, "btcd.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return nil, err
	}
	out, err := os.Create(n.LogPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	args := []string{
		"--configfile=" + conf,
		"--regtest",
		"--datadir=" + filepath.Join(o.Dir, "data"),
		"--logdir=" + filepath.Join(o.Dir, "logs"),
		"--rpclisten=" + n.Host,
		"--listen=" + n.P2P,
		"--rpcuser=" + n.User,
		"--rpcpass=" + n.Pass,
		"--notls",
		"--txindex",
	}
	if o.MiningAddress != "" {
		args = append(args, "--miningaddr="+o.MiningAddress)
	}
	n.cmd = exec.Command(o.Binary, append(args, o.Args...)...)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting btcd: %w", err)
	}
	go func() {
		n.cmd.Wait()
		close(n.exited)
	}()
	if err := n.waitReady(ctx); err != nil {
		n.Stop()
		return nil, fmt.Errorf("%w\n%s", err, n.LogTail(20))
	}
	return n, nil
}

// LogTail returns the last lines of the node's output.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return ""
	}
	return Tail(string(b), lines)
}

// Stop asks btcd to stop (SIGINT), and kills it after 30 seconds: btcd
// flushes its chain state on the way out, and a kill loses recent blocks.
func (n *Node) Stop() {
	if n.Client != nil {
		n.Client.Shutdown()
	}
	n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.exited:
	case <-time.After(stopTimeout):
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// waitReady waits for the RPC port, then for an answer. It dials the port
// itself because rpcclient retries a refused connection for 20 seconds.
func (n *Node) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-n.exited:
			return errors.New("btcd exited at start")
		case <-ctx.Done():
			return ctx.Err()
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
	client, err := rpcclient.New(&rpcclient.ConnConfig{Host: n.Host, User: n.User, Pass: n.Pass, DisableTLS: true, HTTPPostMode: true}, nil)
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

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
