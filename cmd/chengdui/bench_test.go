package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"chengdui/postgres"

	"github.com/stretchr/testify/require"
)

var benchArgs = []string{"bench", "ledger", "--duration", "1s", "--warmup", "100ms", "--accounts", "10", "--concurrency", "8"}

// runBenchCmd runs a short bench on dsn and requires it to commit transfers.
func runBenchCmd(t *testing.T, dsn, wantEngine string) {
	t.Helper()
	stdout, stderr, code := runCmd(t, context.Background(), nil, "", append(benchArgs, "--db", dsn)...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "engine="+wantEngine+" accounts=10 concurrency=8 ")
	require.Contains(t, stdout, "transfers/s=")
	m := regexp.MustCompile(`committed=(\d+) refused=(\d+) transfers/s=\d+ p50=\S+ p99=\S+\n`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	committed, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Positive(t, committed, stdout)
	require.Equal(t, "0", m[2], "accounts are funded far beyond what a short run moves")
}

func TestBenchSQLite(t *testing.T) {
	t.Parallel()
	runBenchCmd(t, "sqlite:"+filepath.Join(t.TempDir(), "bench.db"), "sqlite")
}

func TestBenchPostgres(t *testing.T) {
	t.Parallel()
	runBenchCmd(t, testPostgres(t), "postgres")
}

// TestBenchInterrupted: Ctrl-C ends the measurement early; the bench still
// reports what it measured and exits 130.
func TestBenchInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Second, cancel) // after setup (migrate, fund) even on a loaded machine
	start := time.Now()
	stdout, stderr, code := runCmd(t, ctx, nil, "", "bench", "ledger", "--db", "sqlite:"+filepath.Join(t.TempDir(), "bench.db"),
		"--duration", "1m", "--warmup", "100ms", "--accounts", "2", "--concurrency", "2")
	require.Equal(t, exitInterrupted, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Less(t, time.Since(start), 30*time.Second)
	require.Contains(t, stdout, "transfers/s=", "an interrupted bench must still report what it measured\nstderr:\n%s", stderr)
}

func TestBenchBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "ledger", "--accounts", "1"},
		{"bench", "ledger", "--concurrency", "0"},
		{"bench", "ledger", "--duration", "0s"},
		{"bench", "ledger", "--bogus"},
		{"bench", "sqlite"},
	} {
		_, stderr, code := runCmd(t, context.Background(), nil, "", args...)
		require.Equal(t, exitUsage, code, "%q: %s", args, stderr)
	}
}

// testPostgres returns the DSN of the test PostgreSQL server. It skips the
// test when none answers, except under CI=true, where that is a failure.
// Callers share the database, so they must use names of their own.
func testPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CHENGDUI_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("no PostgreSQL (%v); set CHENGDUI_TEST_POSTGRES", err)
	}
	db.Close()
	return dsn
}
