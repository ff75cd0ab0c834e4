package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var devURLLine = regexp.MustCompile(`Ledger page:\s+(http://127\.0\.0\.1:\d+)/`)

// startDev runs 'chengdui dev' on a free port with its store in dataDir.
func startDev(t *testing.T, dataDir string) *server {
	t.Helper()
	return startServer(t, nil, devURLLine, "/healthz", "dev", "--no-bitcoin", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
}

// getJSON fetches url, requires 200 and decodes the body into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	status, body := httpGet(t, url)
	require.Equal(t, http.StatusOK, status, "GET %s: %s", url, body)
	require.NoError(t, json.Unmarshal([]byte(body), v), "GET %s: %s", url, body)
}

type headResponse struct {
	Size       uint64 `json:"size"`
	ChainHash  string `json:"chain_hash"`
	MerkleRoot string `json:"merkle_root"`
}

func TestDev(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	dev := startDev(t, dir)
	require.Contains(t, dev.Stdout.String(), "chengdui ledger verify --data-dir "+dir)

	for _, path := range []string{"/healthz", "/readyz"} {
		status, body := httpGet(t, dev.URL+path)
		require.Equal(t, http.StatusOK, status, "GET %s: %s", path, body)
	}

	status, metrics := httpGet(t, dev.URL+"/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, metrics, "chengdui_ledger_transfers_committed_total")
	require.Contains(t, metrics, "chengdui_http_requests_total")

	// The demo seed: 50 USDT converted at 7.1 less a 1 % fee.
	var teahouse struct {
		ID             string `json:"id"`
		Asset          string `json:"asset"`
		BalanceDecimal string `json:"balance_decimal"`
	}
	getJSON(t, dev.URL+"/api/v1/ledger/accounts/merchant:teahouse:CNY", &teahouse)
	require.Equal(t, "merchant:teahouse:CNY", teahouse.ID)
	require.Equal(t, "CNY", teahouse.Asset)
	require.Equal(t, "351.45", teahouse.BalanceDecimal)

	var head1 headResponse
	getJSON(t, dev.URL+"/api/v1/ledger/head", &head1)
	require.NotZero(t, head1.Size, "the demo seed commits transfers")
	require.Equal(t, strconv.FormatUint(head1.Size, 10), committedMetric(t, metrics), "the seed is all this process committed")

	status, _ = httpGet(t, dev.URL+"/")
	require.Equal(t, http.StatusOK, status, "the ledger page")

	dev.Stop(t)

	// A restart on the same data must not seed again.
	dev = startDev(t, dir)
	var head2 headResponse
	getJSON(t, dev.URL+"/api/v1/ledger/head", &head2)
	require.Equal(t, head1, head2, "restarting dev changed the journal")
	getJSON(t, dev.URL+"/api/v1/ledger/accounts/merchant:teahouse:CNY", &teahouse)
	require.Equal(t, "351.45", teahouse.BalanceDecimal)
	_, metrics = httpGet(t, dev.URL+"/metrics")
	require.Equal(t, "0", committedMetric(t, metrics), "the restart committed transfers")
	dev.Stop(t)

	stdout, stderr, code := runCmd(t, context.Background(), nil, "", "ledger", "verify", "--data-dir", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "OK:")
	require.Equal(t, strconv.FormatUint(head1.Size, 10), verifyField(t, stdout, "entries"))
	require.Equal(t, head1.ChainHash, verifyField(t, stdout, "chain hash"))
	require.Equal(t, head1.MerkleRoot, verifyField(t, stdout, "merkle root"))
}

// TestDevWithCLIAlongside commits with the CLI while dev runs on the same
// data: dev must serve the new balances, and its own commits (voiding an
// expired hold) must build on the CLI's, not on what it cached.
func TestDevWithCLIAlongside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := startDev(t, dir)
	cli := ledgerCLI{t: t, dir: dir}
	var head headResponse
	getJSON(t, dev.URL+"/api/v1/ledger/head", &head)
	seeded := head.Size

	cli.ok("transfer", "--id", "cli-1", "--from", "user:alice:USDT-ERC20", "--to", "merchant:teahouse:USDT-ERC20", "--amount", "10")
	cli.ok("pending", "--id", "cli-hold", "--from", "user:alice:USDT-ERC20", "--to", "merchant:teahouse:USDT-ERC20", "--amount", "5", "--timeout", "1s")

	type account struct {
		BalanceDecimal string `json:"balance_decimal"`
		DebitsPending  string `json:"debits_pending"`
	}
	var alice account
	getJSON(t, dev.URL+"/api/v1/ledger/accounts/user:alice:USDT-ERC20", &alice)
	require.Equal(t, account{BalanceDecimal: "890.000000", DebitsPending: "5000000"}, alice)

	// dev's expiry loop voids the hold within a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for head.Size != seeded+3 {
		require.True(t, time.Now().Before(deadline), "the hold did not expire; head %+v", head)
		time.Sleep(100 * time.Millisecond)
		getJSON(t, dev.URL+"/api/v1/ledger/head", &head)
	}
	getJSON(t, dev.URL+"/api/v1/ledger/accounts/user:alice:USDT-ERC20", &alice)
	require.Equal(t, account{BalanceDecimal: "890.000000", DebitsPending: "0"}, alice)
	dev.Stop(t)

	require.Regexp(t, `(?m)^\d+\s+\S+\s+\S+\s+out\s+5\.000000\s+merchant:teahouse:USDT-ERC20\s+expired cli-hold$`, cli.ok("history user:alice:USDT-ERC20"))
	out := cli.ok("verify")
	require.Contains(t, out, "OK:")
	require.Equal(t, strconv.FormatUint(seeded+3, 10), verifyField(t, out, "entries"))
}

func TestDevWithoutSeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev := startServer(t, nil, devURLLine, "/healthz", "dev", "--no-bitcoin", "--addr", "127.0.0.1:0", "--data-dir", dir, "--seed=false")
	var head headResponse
	getJSON(t, dev.URL+"/api/v1/ledger/head", &head)
	require.Zero(t, head.Size)
	dev.Stop(t)
}

func TestDevAddrInUse(t *testing.T) {
	t.Parallel()
	dev := startDev(t, t.TempDir())
	addr := dev.URL[len("http://"):]

	// A second dev on the same port must fail with a usage error and shut
	// down what it started.
	stdout, stderr, code := runCmd(t, context.Background(), nil, "", "dev", "--no-bitcoin", "--addr", addr, "--data-dir", t.TempDir(), "--seed=false")
	require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "pick another --addr")
	requireInOrder(t, stderr, "ledger stopped", "database closed")

	dev.Stop(t)
}

func TestDevBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"dev", "--bogus"}, "flag provided but not defined: -bogus"},
		{"log level", []string{"dev", "--log-level", "loud", "--data-dir", t.TempDir()}, `log level "loud"`},
		{"log format", []string{"dev", "--log-format", "xml", "--data-dir", t.TempDir()}, `log format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCmd(t, context.Background(), nil, "", tt.args...)
			require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			require.Contains(t, stderr, tt.want)
		})
	}
}

// verifyField returns a "name: value" line's value from 'ledger verify'.
func verifyField(t *testing.T, stdout, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(\S+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no %q in verify output:\n%s", name, stdout)
	return m[1]
}

// committedMetric returns the ledger's committed-transfers counter.
func committedMetric(t *testing.T, metrics string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^chengdui_ledger_transfers_committed_total (\d+)$`).FindStringSubmatch(metrics)
	require.NotNil(t, m, metrics)
	return m[1]
}
