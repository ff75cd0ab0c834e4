package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"chengdui/ledger"
	"chengdui/sqlite"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestCrash(t *testing.T) {
	if path := os.Getenv(storetest.CrashEnv); path != "" {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			panic(err)
		}
		storetest.CrashChild(db)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	first, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	_, err = first.Migrate(context.Background())
	require.NoError(t, err)
	first.Close()
	storetest.CrashParent(t, "TestCrash", path, func(t *testing.T) (ledger.Store, func()) {
		db, err := sqlite.Open(context.Background(), path)
		require.NoError(t, err)
		return db, func() { db.Close() }
	})
}
