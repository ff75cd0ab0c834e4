package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/sqlite"
	"chengdui/storetest"
	"chengdui/wallet"
	"chengdui/withdraw"

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

func TestDepositConformance(t *testing.T) {
	storetest.RunDeposit(t, func(t testing.TB) deposit.Store { return open(t) })
}

func TestCoinsConformance(t *testing.T) {
	storetest.RunCoins(t, func(t testing.TB) bitcoin.CoinStore { return open(t) })
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

func TestWithdrawStore(t *testing.T) {
	storetest.RunWithdraw(t, func(t testing.TB) withdraw.Store { return open(t) })
}

// TestAddressesOfMany loads a watcher's whole address set, 10,000 rows
// (bulk-inserted in SQL: one insert per row through the store would fsync
// 10,000 times), and checks that it comes back whole, in index order,
// without a query per row.
func TestAddressesOfMany(t *testing.T) {
	const n = 10_000
	db := open(t)
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, `INSERT INTO users (id, email, email_lower, password_hash, created_at) VALUES ('u1', 'a@b.example', 'a@b.example', 'x', 0)`))
	require.NoError(t, db.Exec(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 9999)
		INSERT INTO deposit_addresses (address, user_id, scheme, network, idx, created_at)
		SELECT printf('bcrt1q%06d', i), 'u1', 'p2wpkh', 'regtest', i, 10000 - i FROM s ORDER BY i DESC`))
	start := time.Now()
	got, err := db.AddressesOf(ctx, "p2wpkh", "regtest")
	took := time.Since(start)
	require.NoError(t, err)
	require.Len(t, got, n)
	for i, a := range got {
		require.Equal(t, chengdui.DepositAddress{Address: fmt.Sprintf("bcrt1q%06d", i), UserID: "u1", Scheme: "p2wpkh",
			Network: "regtest", Index: uint32(i), CreatedAt: time.UnixMicro(int64(n - i)).UTC()}, a)
	}
	t.Logf("AddressesOf: %d addresses in %v", n, took)
	// Generous for -race on a loaded machine; a query per row would take far longer.
	require.Less(t, took, 15*time.Second)
}

func TestEVMSendConformance(t *testing.T) {
	storetest.RunEVMSend(t, func(t testing.TB) evm.SendStore { return open(t) })
}
