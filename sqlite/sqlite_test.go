package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"chengdui/sqlite"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

// open returns a fresh migrated database in a temp dir.
func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "chengdui.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	require.NoError(t, err)
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) storetest.Harness {
		db := open(t)
		return storetest.Harness{Store: db, Exec: db.Exec}
	})
}

func TestMigrateTwice(t *testing.T) {
	db := open(t)
	applied, err := db.Migrate(context.Background())
	require.NoError(t, err)
	require.Empty(t, applied)
	v, err := db.SchemaVersion(context.Background())
	require.NoError(t, err)
	ms, err := sqlite.Migrations()
	require.NoError(t, err)
	require.Equal(t, ms[len(ms)-1].Version, v)
}
