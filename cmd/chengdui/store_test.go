package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, dsn, want string }{
		{"sqlite", "sqlite:./data/chengdui.db", "sqlite:./data/chengdui.db"},
		{"no password", "postgres://app@db:5432/chengdui", "postgres://app@db:5432/chengdui"},
		{"password", "postgres://app:s3cret@db:5432/chengdui", "postgres://app:xxxxx@db:5432/chengdui"},
		{"password with @", "postgresql://app:p@ss@db/chengdui?sslmode=require", "postgresql://app:xxxxx@db/chengdui?sslmode=require"},
		{"user in query", "postgres://db/chengdui?user=app&sslmode=disable", "postgres://db/chengdui?user=app&sslmode=disable"},
		// pgx also takes the password as a query parameter; it must not
		// reach the logs either.
		{"password in query", "postgres://app@db/chengdui?password=s3cret&sslmode=disable", "postgres://app@db/chengdui?password=xxxxx&sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, redact(tt.dsn))
		})
	}
}

// TestBadDSN: a database name the program cannot use is bad input, exit 2,
// and its password is never printed.
func TestBadDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, want string
	}{
		{"sqlite without path", "sqlite:", "give a file path"},
		{"unknown scheme", "mysql://app:s3cret@db/x", `database "mysql://app:xxxxx@db/x": use sqlite:PATH or postgres://`},
		{"malformed postgres", "postgres://app:s3cret@db:notaport/x", "bad connection string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runCmd(t, context.Background(), nil, "", "ledger", "verify", "--db", tt.dsn)
			require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			require.Contains(t, stderr, tt.want)
			require.NotContains(t, stderr, "s3cret")
		})
	}
}

// TestLedgerOnMissingDataDir: a ledger command pointed at a data directory
// that does not exist (a typo, say) must refuse without creating one, or the
// next attempt finds an empty database where the user expected theirs.
func TestLedgerOnMissingDataDir(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"ledger", "balance", "--data-dir", "DIR", "alice"},
		{"ledger", "verify", "--data-dir", "DIR"},
		{"ledger", "transfer", "--data-dir", "DIR", "--id", "x", "--from", "a", "--to", "b", "--amount", "1"},
	} {
		dir := filepath.Join(t.TempDir(), "typo")
		args[3] = dir
		_, stderr, code := runCmd(t, context.Background(), nil, "", args...)
		require.Equal(t, exitUsage, code, stderr)
		require.Contains(t, stderr, "chengdui migrate")
		_, err := os.Stat(dir)
		require.ErrorIs(t, err, os.ErrNotExist, "%q created its data directory", args[:2])
	}
}
