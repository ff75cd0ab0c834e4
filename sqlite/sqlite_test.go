package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"chengdui/audit"
	"chengdui/sqlite"
	"chengdui/storetest"
	"chengdui/wallet"

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

func TestWalletConformance(t *testing.T) {
	storetest.RunWallet(t, func(t testing.TB) wallet.Store { return open(t) })
}

// TestAllocateAddressIndexAcrossHandles allocates through two handles on
// one file, as two processes would: SQLite's write lock and busy timeout,
// not the handle's single write connection, keep the indexes distinct.
func TestAllocateAddressIndexAcrossHandles(t *testing.T) {
	a := open(t)
	b, err := sqlite.Open(context.Background(), a.Path())
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	const workers, each = 8, 25
	var wg sync.WaitGroup
	got := make([][]uint32, 2*workers)
	errs := make([]error, 2*workers)
	for w := range 2 * workers {
		db := []*sqlite.DB{a, b}[w%2]
		wg.Go(func() {
			for range each {
				i, err := db.AllocateAddressIndex(context.Background(), "p2wpkh", "regtest")
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], i)
			}
		})
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for w := range got {
		require.NoError(t, errs[w])
		for _, i := range got[w] {
			require.False(t, seen[i], "index %d handed out twice", i)
			seen[i] = true
		}
	}
	require.Len(t, seen, 2*workers*each)
}

func TestMerchantConformance(t *testing.T) {
	storetest.RunMerchant(t, func(t testing.TB) storetest.MerchantStore { return open(t) })
}

func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t testing.TB) audit.Store { return open(t) })
}
