// Package pgtest gives tests a fresh, migrated PostgreSQL schema of the
// test server (CHENGDUI_TEST_POSTGRES, else 127.0.0.1:5432 database test),
// dropped when the test ends. Without a server the test is skipped, except
// under CI=true, where that is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"chengdui/postgres"

	"github.com/stretchr/testify/require"
)

// Fresh returns a migrated database in a schema of its own and its DSN.
func Fresh(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	ctx := context.Background()
	dsn := os.Getenv("CHENGDUI_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := postgres.Open(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("no PostgreSQL (%v); set CHENGDUI_TEST_POSTGRES", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	require.NoError(t, admin.Exec(ctx, "CREATE SCHEMA "+schema))
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() {
		db.Close()
		_ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	return db, u.String()
}
