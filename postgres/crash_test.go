package postgres_test

import (
	"context"
	"os"
	"testing"

	"chengdui/ledger"
	"chengdui/postgres"
	"chengdui/storetest"

	"github.com/stretchr/testify/require"
)

func TestCrash(t *testing.T) {
	if dsn := os.Getenv(storetest.CrashEnv); dsn != "" {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			panic(err)
		}
		storetest.CrashChild(db)
		return
	}
	_, dsn := FreshDSN(t)
	storetest.CrashParent(t, "TestCrash", dsn, func(t *testing.T) (ledger.Store, func()) {
		db, err := postgres.Open(context.Background(), dsn)
		require.NoError(t, err)
		return db, func() { db.Close() }
	})
}
