package gethtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// Version is the go-ethereum release Binary builds; it must match go.mod.
const Version = "v1.17.10"

// ChainID is the chain id of geth's developer network.
const ChainID = 1337

// DefaultGasLimit is the block gas limit Start uses without WithGasLimit:
// mainnet's, and geth's own target.
const DefaultGasLimit = 60_000_000

const (
	buildTimeout   = 10 * time.Minute
	readyTimeout   = 30 * time.Second
	receiptTimeout = 30 * time.Second
	stopTimeout    = 10 * time.Second
	callTimeout    = 10 * time.Second
)

// buildMu keeps parallel tests in one process from building twice; the
// rename in build keeps processes from seeing a half-written binary.
var buildMu sync.Mutex

// Binary returns the path of a geth built from the pinned module, building
// it on first use: several minutes on a small machine, so give the first
// run a go test -timeout above the default 10 minutes. The build stops at
// the test's deadline or after 10 minutes. Binary skips the test when the
// build fails, or fails it when CI=true.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	deadline := time.Now().Add(buildTimeout)
	// Stop in time to report, rather than be killed by go test's -timeout
	// (10 minutes by default) halfway through a first build.
	if t, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).Before(deadline) {
			deadline = d.Add(-30 * time.Second)
		}
	}
	path, err := binary(deadline)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("gethtest: %v", err)
		}
		tb.Skipf("gethtest: %v (CI=true makes this a failure)", err)
	}
	return path
}

func binary(deadline time.Time) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the geth binary: %w", err)
	}
	dir := filepath.Join(cache, "chengdui")
	path := filepath.Join(dir, "geth-"+Version)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	// Build under a unique name and rename: concurrent builds by other test
	// processes each produce a whole binary, and the last rename wins.
	tmp, err := os.CreateTemp(dir, "geth-build-*")
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// -pgo=off: cmd/geth ships a default.pgo, and building with it
	// recompiles every dependency; without it the build reuses the
	// packages already compiled for this module's own tests.
	cmd := exec.CommandContext(ctx, "go", "build", "-pgo=off", "-o", tmp.Name(), "github.com/ethereum/go-ethereum/cmd/geth")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("building geth %s did not finish by %s; the packages built so far stay in Go's build cache, so run again, with a longer go test -timeout (say 20m) on a slow machine", Version, deadline.Format(time.TimeOnly))
		}
		return "", fmt.Errorf("building geth %s failed: %v\n%s", Version, err, tail(string(out), 20))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("installing geth: %w", err)
	}
	return path, nil
}

// moduleRoot walks up from the working directory, a package directory
// under go test, to the directory holding go.mod.
func moduleRoot() (string, error) {
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

// Option changes how Start runs geth.
type Option func(*config)

type config struct {
	period   time.Duration
	gasLimit uint64
}

// WithPeriod makes the node seal a block every period, a whole number of
// seconds, whether or not transactions are waiting. Without it, or with 0,
// the node seals a block as soon as a transaction arrives and never
// otherwise.
func WithPeriod(period time.Duration) Option {
	return func(c *config) { c.period = period }
}

// WithGasLimit sets the block gas limit, from genesis on; the node keeps
// it. Without it the limit is DefaultGasLimit.
func WithGasLimit(gas uint64) Option {
	return func(c *config) { c.gasLimit = gas }
}

// Node is a running geth --dev.
type Node struct {
	URL       string         // HTTP JSON-RPC, http://127.0.0.1:port
	WSURL     string         // WebSocket JSON-RPC, ws://127.0.0.1:port
	ChainID   *big.Int       // ChainID, as the node reports it
	Developer common.Address // the prefunded, unlocked developer account
	Dir       string         // data directory and log
	Client    *ethclient.Client
	rpc       *rpc.Client
}

// Start runs geth --dev and waits until its RPC answers. The node stops
// when the test ends; if the test failed, the end of its log is printed
// first.
func Start(tb testing.TB, opts ...Option) *Node {
	tb.Helper()
	cfg := config{gasLimit: DefaultGasLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.period < 0 || cfg.period%time.Second != 0 {
		tb.Fatalf("gethtest: block period %v is not a whole number of seconds", cfg.period)
	}
	if cfg.gasLimit == 0 {
		tb.Fatalf("gethtest: a block gas limit is positive")
	}
	bin := Binary(tb)
	dir := tb.TempDir()
	ports := freePorts(tb, 3)
	n := &Node{
		URL:   fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		WSURL: fmt.Sprintf("ws://127.0.0.1:%d", ports[1]),
		Dir:   dir,
	}
	logPath := filepath.Join(dir, "geth.log")
	out, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("gethtest: %v", err)
	}
	defer out.Close()

	const apis = "eth,net,web3,txpool,debug"
	gas := strconv.FormatUint(cfg.gasLimit, 10)
	cmd := exec.Command(bin,
		"--dev",
		"--dev.period", strconv.FormatInt(int64(cfg.period/time.Second), 10),
		"--dev.gaslimit", gas,
		"--miner.gaslimit", gas, // else blocks drift to geth's target
		"--datadir", filepath.Join(dir, "data"),
		"--cache", "256",
		"--ipcdisable",
		"--nodiscover",
		"--maxpeers", "0",
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(ports[0]), "--http.api", apis,
		"--ws", "--ws.addr", "127.0.0.1", "--ws.port", strconv.Itoa(ports[1]), "--ws.api", apis,
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(ports[2]),
	)
	// geth logs to stderr; stdout also catches a panic.
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("gethtest: starting geth: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		if n.Client != nil {
			n.Client.Close()
		}
		if tb.Failed() {
			dumpLog(tb, logPath)
		}
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-exited
		}
	})

	if err := n.waitReady(exited); err != nil {
		dumpLog(tb, logPath)
		tb.Fatalf("gethtest: %v", err)
	}
	return n
}

// waitReady waits until the HTTP RPC gives the chain id and the developer
// account.
func (n *Node) waitReady(exited <-chan struct{}) error {
	c, err := rpc.Dial(n.URL) // HTTP: no connection yet
	if err != nil {
		return err
	}
	n.rpc = c
	n.Client = ethclient.NewClient(c)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return errors.New("geth exited at start")
		default:
		}
		err := n.ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("geth's RPC did not answer within %v: %v", readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *Node) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	id, err := n.Client.ChainID(ctx)
	if err != nil {
		return err
	}
	var accounts []common.Address
	if err := n.rpc.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		return err
	}
	if len(accounts) == 0 {
		return errors.New("geth has no developer account")
	}
	n.ChainID, n.Developer = id, accounts[0]
	return nil
}

// Fund sends wei from the developer account to to and waits for the
// receipt, which it returns. It fails the test if the transfer does not
// succeed.
func (n *Node) Fund(tb testing.TB, to common.Address, wei *big.Int) *types.Receipt {
	tb.Helper()
	if wei == nil || wei.Sign() <= 0 {
		tb.Fatalf("gethtest: fund %s with %v wei: the amount is a positive number of wei", to.Hex(), wei)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), callTimeout)
	defer cancel()
	var hash common.Hash
	err := n.rpc.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{
		"from":  n.Developer,
		"to":    to,
		"value": (*hexutil.Big)(wei),
	})
	if err != nil {
		tb.Fatalf("gethtest: fund %s with %s wei: %v", to.Hex(), wei, err)
	}
	r := n.WaitReceipt(tb, hash)
	if r.Status != types.ReceiptStatusSuccessful {
		tb.Fatalf("gethtest: fund %s with %s wei: transaction %s failed", to.Hex(), wei, hash.Hex())
	}
	return r
}

// WaitReceipt polls for the receipt of the transaction hash until it is
// mined, and fails the test if that takes more than 30 seconds.
func (n *Node) WaitReceipt(tb testing.TB, hash common.Hash) *types.Receipt {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), receiptTimeout)
	defer cancel()
	for {
		r, err := n.Client.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			return r
		case ctx.Err() != nil:
			tb.Fatalf("gethtest: no receipt for %s within %v", hash.Hex(), receiptTimeout)
		// Not mined yet, or the index is still catching up with the head.
		case !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress"):
			tb.Fatalf("gethtest: receipt for %s: %v", hash.Hex(), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func dumpLog(tb testing.TB, path string) {
	tb.Helper()
	if b, err := os.ReadFile(path); err == nil {
		tb.Logf("gethtest: end of geth's log:\n%s", tail(string(b), 60))
	}
}

// freePorts returns n ports that were free a moment ago; they are held open
// together so that they differ.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("gethtest: free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
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
