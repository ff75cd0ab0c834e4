package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/wallet"

	"github.com/stretchr/testify/require"
)

// RunWallet runs the wallet.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunWallet(t *testing.T, f func(t testing.TB) wallet.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, f(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, f(t)) })
	t.Run("AddressIndexes", func(t *testing.T) { testAddressIndexes(t, f(t)) })
	t.Run("AddressIndexLimit", func(t *testing.T) { testAddressIndexLimit(t, f(t)) })
	t.Run("AddressIndexConcurrency", func(t *testing.T) { testAddressIndexConcurrency(t, f(t)) })
	t.Run("DepositAddresses", func(t *testing.T) { testDepositAddresses(t, f(t)) })
	t.Run("AddressesOf", func(t *testing.T) { testAddressesOf(t, f(t)) })
}

// walletEpoch is a time with microsecond precision, the stores' resolution.
var walletEpoch = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func requireCode(t testing.TB, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, chengdui.ErrorCode(err), "error: %v", err)
}

func mustCreateUser(t testing.TB, s wallet.Store, id, email string) chengdui.User {
	t.Helper()
	u := chengdui.User{ID: id, Email: email, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: walletEpoch}
	require.NoError(t, s.CreateUser(context.Background(), u))
	return u
}

func testUsers(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "u1", "Alice@Example.com")

	got, err := s.User(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, u, got)

	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM", "  alice@example.com "} {
		got, err := s.UserByEmail(ctx, email)
		require.NoError(t, err, "email %q", email)
		require.Equal(t, u, got, "email %q", email)
	}

	dup := chengdui.User{ID: "u2", Email: "aLiCe@example.COM", PasswordHash: "secret-hash-never-echoed", CreatedAt: walletEpoch}
	err = s.CreateUser(ctx, dup)
	requireCode(t, chengdui.EConflict, err)
	require.NotContains(t, chengdui.ErrorMessage(err), dup.PasswordHash)
	_, err = s.User(ctx, "u2")
	requireCode(t, chengdui.ENotFound, err)

	err = s.CreateUser(ctx, chengdui.User{ID: "u1", Email: "other@example.com", PasswordHash: "secret-hash-never-echoed", CreatedAt: walletEpoch})
	requireCode(t, chengdui.EConflict, err)
	require.NotContains(t, chengdui.ErrorMessage(err), "secret-hash-never-echoed")

	_, err = s.User(ctx, "nobody")
	requireCode(t, chengdui.ENotFound, err)
	_, err = s.UserByEmail(ctx, "nobody@example.com")
	requireCode(t, chengdui.ENotFound, err)
}

func testSessions(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	sess := chengdui.Session{TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", UserID: "u1",
		CreatedAt: walletEpoch, ExpiresAt: walletEpoch.Add(30 * 24 * time.Hour)}
	require.NoError(t, s.CreateSession(ctx, sess))

	got, err := s.Session(ctx, sess.TokenHash)
	require.NoError(t, err)
	require.Equal(t, sess, got)

	requireCode(t, chengdui.EConflict, s.CreateSession(ctx, sess))
	requireCode(t, chengdui.ENotFound, s.CreateSession(ctx, chengdui.Session{TokenHash: "other", UserID: "nobody",
		CreatedAt: walletEpoch, ExpiresAt: walletEpoch.Add(time.Hour)}))

	require.NoError(t, s.DeleteSession(ctx, sess.TokenHash))
	_, err = s.Session(ctx, sess.TokenHash)
	requireCode(t, chengdui.ENotFound, err)
	require.NoError(t, s.DeleteSession(ctx, sess.TokenHash), "deleting a missing session is not an error")
}

func testAddressIndexes(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	alloc := func(scheme, network string) uint32 {
		t.Helper()
		i, err := s.AllocateAddressIndex(ctx, scheme, network)
		require.NoError(t, err)
		return i
	}
	require.Equal(t, uint32(0), alloc("p2wpkh", "mainnet"))
	require.Equal(t, uint32(1), alloc("p2wpkh", "mainnet"))
	require.Equal(t, uint32(0), alloc("p2wpkh", "testnet"), "networks count separately")
	require.Equal(t, uint32(0), alloc("p2tr", "mainnet"), "schemes count separately")
	require.Equal(t, uint32(2), alloc("p2wpkh", "mainnet"))
	require.Equal(t, uint32(1), alloc("p2tr", "mainnet"))
	require.Equal(t, uint32(1), alloc("p2wpkh", "testnet"))

	// Blocks: n consecutive indexes in one write, shared with single ones.
	blocks, ok := s.(interface {
		AllocateAddressIndexes(ctx context.Context, scheme, network string, n uint32) (uint32, error)
	})
	if !ok {
		return
	}
	first, err := blocks.AllocateAddressIndexes(ctx, "p2wpkh", "mainnet", 64)
	require.NoError(t, err)
	require.Equal(t, uint32(3), first)
	require.Equal(t, uint32(67), alloc("p2wpkh", "mainnet"))
	first, err = blocks.AllocateAddressIndexes(ctx, "new", "mainnet", 10)
	require.NoError(t, err)
	require.Equal(t, uint32(0), first, "a new counter starts at 0")
	require.Equal(t, uint32(10), alloc("new", "mainnet"))
	_, err = blocks.AllocateAddressIndexes(ctx, "new", "mainnet", 0)
	requireCode(t, chengdui.EInvalid, err)
	_, err = blocks.AllocateAddressIndexes(ctx, "new", "mainnet", 1<<31-1)
	requireCode(t, chengdui.EInvalid, err)
	require.Equal(t, uint32(11), alloc("new", "mainnet"), "a refused block allocates nothing")
}

// testAddressIndexLimit moves a counter to the last non-hardened index
// with raw SQL, so it needs a store that offers Exec.
func testAddressIndexLimit(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	ex, ok := s.(interface {
		Exec(ctx context.Context, query string, args ...any) error
	})
	if !ok {
		t.Skip("the store has no Exec")
	}
	_, err := s.AllocateAddressIndex(ctx, "evm", "mainnet")
	require.NoError(t, err)
	require.NoError(t, ex.Exec(ctx, `UPDATE address_indexes SET next_index = 2147483647 WHERE scheme = 'evm' AND network = 'mainnet'`))

	i, err := s.AllocateAddressIndex(ctx, "evm", "mainnet")
	require.NoError(t, err)
	require.Equal(t, uint32(1<<31-1), i)
	for range 2 {
		_, err = s.AllocateAddressIndex(ctx, "evm", "mainnet")
		requireCode(t, chengdui.EInvalid, err)
	}
	i, err = s.AllocateAddressIndex(ctx, "evm", "testnet")
	require.NoError(t, err)
	require.Equal(t, uint32(0), i, "other counters go on")

	mustCreateUser(t, s, "u1", "alice@example.com")
	err = s.AddDepositAddress(ctx, chengdui.DepositAddress{Address: "0xhardened", UserID: "u1", Scheme: "evm", Network: "mainnet", Index: 1 << 31, CreatedAt: walletEpoch})
	requireCode(t, chengdui.EInvalid, err)
}

// testAddressIndexConcurrency allocates from many goroutines at once:
// every index is handed out exactly once, with none skipped.
func testAddressIndexConcurrency(t *testing.T, s wallet.Store) {
	const workers, each = 32, 20
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([][]uint32, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for range each {
				i, err := s.AllocateAddressIndex(ctx, "p2wpkh", "regtest")
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], i)
			}
		})
	}
	wg.Wait()
	seen := make(map[uint32]bool, workers*each)
	for w := range workers {
		require.NoError(t, errs[w], "worker %d", w)
		for _, i := range got[w] {
			require.False(t, seen[i], "index %d handed out twice", i)
			seen[i] = true
		}
	}
	require.Len(t, seen, workers*each)
	for i := range uint32(workers * each) {
		require.True(t, seen[i], "index %d never handed out", i)
	}
	next, err := s.AllocateAddressIndex(ctx, "p2wpkh", "regtest")
	require.NoError(t, err)
	require.Equal(t, uint32(workers*each), next)
}

func testDepositAddresses(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	mustCreateUser(t, s, "u2", "bob@example.com")
	addr := func(n int, user, scheme string, idx uint32, at time.Duration) chengdui.DepositAddress {
		return chengdui.DepositAddress{Address: fmt.Sprintf("bcrt1q%04d", n), UserID: user, Scheme: scheme, Network: "regtest",
			Index: idx, CreatedAt: walletEpoch.Add(at)}
	}
	// Inserted out of order: the list follows created_at.
	a2 := addr(2, "u1", "p2wpkh", 1, 2*time.Minute)
	a1 := addr(1, "u1", "p2wpkh", 0, time.Minute)
	a3 := addr(3, "u1", "p2tr", 0, 3*time.Minute)
	b1 := addr(4, "u2", "p2wpkh", 2, 0)
	for _, a := range []chengdui.DepositAddress{a2, a1, a3, b1} {
		require.NoError(t, s.AddDepositAddress(ctx, a))
	}

	list, err := s.DepositAddresses(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, []chengdui.DepositAddress{a1, a2, a3}, list)
	list, err = s.DepositAddresses(ctx, "u2")
	require.NoError(t, err)
	require.Equal(t, []chengdui.DepositAddress{b1}, list)
	list, err = s.DepositAddresses(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, list)

	got, err := s.DepositAddress(ctx, a3.Address)
	require.NoError(t, err)
	require.Equal(t, a3, got)
	_, err = s.DepositAddress(ctx, "bcrt1qunknown")
	requireCode(t, chengdui.ENotFound, err)

	dupAddress := addr(1, "u2", "p2wpkh", 9, 0)
	requireCode(t, chengdui.EConflict, s.AddDepositAddress(ctx, dupAddress))
	dupIndex := addr(9, "u2", "p2wpkh", 1, 0)
	requireCode(t, chengdui.EConflict, s.AddDepositAddress(ctx, dupIndex))
	_, err = s.DepositAddress(ctx, dupIndex.Address)
	requireCode(t, chengdui.ENotFound, err)
	signet := addr(10, "u2", "p2wpkh", 1, 0)
	signet.Network = "signet"
	require.NoError(t, s.AddDepositAddress(ctx, signet), "the same index on another network")

	err = s.AddDepositAddress(ctx, addr(11, "nobody", "p2wpkh", 50, 0))
	requireCode(t, chengdui.ENotFound, err)
	_, err = s.DepositAddress(ctx, addr(11, "", "", 0, 0).Address)
	requireCode(t, chengdui.ENotFound, err)
}

func testAddressesOf(t *testing.T, s wallet.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", "alice@example.com")
	mustCreateUser(t, s, "u2", "bob@example.com")
	addr := func(n int, user, scheme, network string, idx uint32) chengdui.DepositAddress {
		return chengdui.DepositAddress{Address: fmt.Sprintf("addr%04d", n), UserID: user, Scheme: scheme, Network: network,
			Index: idx, CreatedAt: walletEpoch.Add(time.Duration(n) * time.Minute)}
	}
	// Inserted out of index order and across users: the list follows idx.
	w7 := addr(1, "u1", "p2wpkh", "regtest", 7)
	w0 := addr(2, "u2", "p2wpkh", "regtest", 0)
	w3 := addr(3, "u1", "p2wpkh", "regtest", 3)
	tr := addr(4, "u1", "p2tr", "regtest", 1)
	signet := addr(5, "u2", "p2wpkh", "signet", 2)
	for _, a := range []chengdui.DepositAddress{w7, w0, w3, tr, signet} {
		require.NoError(t, s.AddDepositAddress(ctx, a))
	}
	for _, c := range []struct {
		scheme, network string
		want            []chengdui.DepositAddress
	}{
		{"p2wpkh", "regtest", []chengdui.DepositAddress{w0, w3, w7}},
		{"p2tr", "regtest", []chengdui.DepositAddress{tr}},
		{"p2wpkh", "signet", []chengdui.DepositAddress{signet}},
		{"p2tr", "signet", nil},
		{"evm", "regtest", nil},
		{"", "", nil},
	} {
		got, err := s.AddressesOf(ctx, c.scheme, c.network)
		require.NoError(t, err, "%s/%s", c.scheme, c.network)
		if c.want == nil {
			require.Empty(t, got, "%s/%s", c.scheme, c.network)
			continue
		}
		require.Equal(t, c.want, got, "%s/%s", c.scheme, c.network)
	}
}
