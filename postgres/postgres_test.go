package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chengdui"
	"chengdui/audit"
	"chengdui/bitcoin"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/postgres"
	"chengdui/postgres/pgtest"
	"chengdui/sqlite"
	"chengdui/storetest"
	"chengdui/wallet"
	"chengdui/withdraw"

	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) storetest.Harness {
		db := Fresh(t)
		return storetest.Harness{Store: db, Exec: db.Exec}
	})
}

func TestMigrationsMatchSQLite(t *testing.T) {
	pg, err := postgres.Migrations()
	require.NoError(t, err)
	lite, err := sqlite.Migrations()
	require.NoError(t, err)
	require.Equal(t, len(lite), len(pg))
	for i := range pg {
		require.Equal(t, lite[i].Version, pg[i].Version)
		require.Equal(t, lite[i].Name, pg[i].Name)
	}
	db := Fresh(t)
	applied, err := db.Migrate(context.Background())
	require.NoError(t, err)
	require.Empty(t, applied, "second migrate applies nothing")
	v, err := db.SchemaVersion(context.Background())
	require.NoError(t, err)
	require.Equal(t, pg[len(pg)-1].Version, v)
}

// Fresh returns a migrated database in a schema of its own, dropped at the
// end of the test. Without a server it skips, except under CI=true where a
// missing server is a failure.
func Fresh(t testing.TB) *postgres.DB {
	t.Helper()
	db, _ := FreshDSN(t)
	return db
}

// FreshDSN is Fresh that also returns the DSN of the test's schema.
func FreshDSN(t testing.TB) (*postgres.DB, string) { return pgtest.Fresh(t) }

func TestDepositConformance(t *testing.T) {
	storetest.RunDeposit(t, func(t testing.TB) deposit.Store { return Fresh(t) })
}

func TestCoinsConformance(t *testing.T) {
	storetest.RunCoins(t, func(t testing.TB) bitcoin.CoinStore { return Fresh(t) })
}

func TestWalletConformance(t *testing.T) {
	storetest.RunWallet(t, func(t testing.TB) wallet.Store { return Fresh(t) })
}

func TestMerchantConformance(t *testing.T) {
	storetest.RunMerchant(t, func(t testing.TB) storetest.MerchantStore { return Fresh(t) })
}

func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t testing.TB) audit.Store { return Fresh(t) })
}

func TestWithdrawStore(t *testing.T) {
	storetest.RunWithdraw(t, func(t testing.TB) withdraw.Store { return Fresh(t) })
}

// TestAddressesOfMany loads a watcher's whole address set, 10,000 rows
// (bulk-inserted in SQL: one insert per row through the store would fsync
// 10,000 times), and checks that it comes back whole, in index order,
// without a query per row.
func TestAddressesOfMany(t *testing.T) {
	const n = 10_000
	db := Fresh(t)
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, `INSERT INTO users (id, email, email_lower, password_hash, created_at) VALUES ('u1', 'a@b.example', 'a@b.example', 'x', 0)`))
	require.NoError(t, db.Exec(ctx, `INSERT INTO deposit_addresses (address, user_id, scheme, network, idx, created_at)
		SELECT 'bcrt1q' || lpad(i::text, 6, '0'), 'u1', 'p2wpkh', 'regtest', i, 10000 - i FROM generate_series(9999, 0, -1) AS i`))
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
	storetest.RunEVMSend(t, func(t testing.TB) evm.SendStore { return Fresh(t) })
}
