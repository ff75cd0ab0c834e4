package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/settle"

	"github.com/stretchr/testify/require"
)

// SettlementStore is what the settlement suite needs: settle.Store and a
// way to make users and stores.
type SettlementStore interface {
	settle.Store
	CreateUser(ctx context.Context, u chengdui.User) error
	CreateStore(ctx context.Context, s chengdui.Store) error
}

// RunSettlement runs the settle.Store conformance suite. f returns a
// fresh, empty, migrated store, closed by t.Cleanup.
func RunSettlement(t *testing.T, f func(t testing.TB) SettlementStore) {
	t.Run("CompareAndSet", func(t *testing.T) { testSettlementCAS(t, f(t)) })
	t.Run("Concurrent", func(t *testing.T) { testSettlementConcurrent(t, f(t)) })
	t.Run("Index", func(t *testing.T) { testSettlementIndex(t, f(t)) })
}

var settlementEpoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// settlementStores makes a user and stores s1…sn with the default
// settlement.
func settlementStores(t testing.TB, s SettlementStore, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.CreateUser(ctx, chengdui.User{ID: "owner", Email: "owner@example.com", PasswordHash: "x", CreatedAt: settlementEpoch}))
	for i := 1; i <= n; i++ {
		require.NoError(t, s.CreateStore(ctx, chengdui.Store{ID: fmt.Sprintf("s%d", i), OwnerID: "owner", Name: "Shop", DefaultCurrency: "CNY",
			Settlement: chengdui.StoreSettlement{Mode: "balance", Asset: "CNY"}, CreatedAt: settlementEpoch}))
	}
}

func profile() chengdui.StoreSettlement {
	fee := uint32(150)
	return chengdui.StoreSettlement{Mode: "balance", Asset: "CNY", FeeBps: &fee,
		Splits: []chengdui.SettlementSplit{
			{Bps: 7000, Asset: "EUR", Destination: chengdui.SettlementDestination{Type: chengdui.DestinationBank,
				Creditor: &chengdui.SettlementCreditor{Name: "Tea House GmbH", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX"}}},
			{Bps: 3000, Asset: "USDC-ERC20", Destination: chengdui.SettlementDestination{Type: chengdui.DestinationChain, Address: "0x00000000000000000000000000000000000000c1"}},
		},
		Schedule:  chengdui.PayoutSchedule{Kind: chengdui.ScheduleDaily, At: "10:00", TimeZone: "Asia/Shanghai"},
		MinPayout: map[string]string{"EUR": "10.00", "USDC-ERC20": "5"},
		Pending: &chengdui.SettlementChange{Splits: []chengdui.SettlementSplit{{Bps: 10000, Asset: "CNY",
			Destination: chengdui.SettlementDestination{Type: chengdui.DestinationBalance}}},
			RequestedBy: "owner", RequestedAt: settlementEpoch, EffectiveAt: settlementEpoch.Add(24 * time.Hour)},
	}
}

// testSettlementCAS: an update from the settlement as stored is written
// whole and read back the same; one from a stale settlement, or of a
// store that does not exist, changes nothing.
func testSettlementCAS(t *testing.T, s SettlementStore) {
	ctx := context.Background()
	settlementStores(t, s, 1)
	st, err := s.Store(ctx, "s1")
	require.NoError(t, err)
	next := profile()
	require.NoError(t, s.UpdateSettlement(ctx, "s1", st.Settlement, next))
	got, err := s.Store(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, next, got.Settlement)

	stale := st.Settlement
	other := next
	other.Schedule = chengdui.PayoutSchedule{Kind: chengdui.ScheduleInstant}
	err = s.UpdateSettlement(ctx, "s1", stale, other)
	require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	got, err = s.Store(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, next, got.Settlement, "a lost compare-and-set writes nothing")

	err = s.UpdateSettlement(ctx, "nope", stale, other)
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "%v", err)
}

// testSettlementConcurrent: of several updates from the same settlement,
// exactly one is written.
func testSettlementConcurrent(t *testing.T, s SettlementStore) {
	ctx := context.Background()
	settlementStores(t, s, 1)
	st, err := s.Store(ctx, "s1")
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			next := st.Settlement
			next.MinPayout = map[string]string{"CNY": fmt.Sprintf("%d", i+1)}
			errs[i] = s.UpdateSettlement(ctx, "s1", st.Settlement, next)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two updates from one settlement were both written")
			won = i
			continue
		}
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "%v", err)
	}
	require.NotEqual(t, -1, won)
	got, err := s.Store(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%d", won+1), got.Settlement.MinPayout["CNY"])
}

// testSettlementIndex: SettlementStores lists stores on an instant or
// daily schedule and those whose pending change is due, by id, in pages.
func testSettlementIndex(t *testing.T, s SettlementStore) {
	ctx := context.Background()
	settlementStores(t, s, 6)
	set := func(id string, f func(*chengdui.StoreSettlement)) {
		t.Helper()
		st, err := s.Store(ctx, id)
		require.NoError(t, err)
		next := st.Settlement
		f(&next)
		require.NoError(t, s.UpdateSettlement(ctx, id, st.Settlement, next))
	}
	change := func(at time.Time) *chengdui.SettlementChange {
		return &chengdui.SettlementChange{Splits: profile().Splits, RequestedBy: "owner", RequestedAt: settlementEpoch, EffectiveAt: at}
	}
	set("s1", func(x *chengdui.StoreSettlement) { x.Schedule.Kind = chengdui.ScheduleDaily; x.Schedule.At = "10:00" })
	set("s2", func(x *chengdui.StoreSettlement) { x.Schedule.Kind = chengdui.ScheduleManual })
	set("s3", func(x *chengdui.StoreSettlement) { x.Pending = change(settlementEpoch.Add(time.Hour)) })
	set("s4", func(x *chengdui.StoreSettlement) { x.Schedule.Kind = chengdui.ScheduleInstant })
	set("s5", func(x *chengdui.StoreSettlement) { x.Pending = change(settlementEpoch.Add(-time.Hour)) })
	// s6 was never updated: manual.
	ids := func(due time.Time, after string, limit int) []string {
		t.Helper()
		sts, err := s.SettlementStores(ctx, due, after, limit)
		require.NoError(t, err)
		out := []string{}
		for _, st := range sts {
			out = append(out, st.ID)
		}
		return out
	}
	require.Equal(t, []string{"s1", "s4", "s5"}, ids(settlementEpoch, "", 10))
	require.Equal(t, []string{"s1", "s3", "s4", "s5"}, ids(settlementEpoch.Add(time.Hour), "", 10), "a change due at the very instant")
	require.Equal(t, []string{"s1", "s3"}, ids(settlementEpoch.Add(time.Hour), "", 2))
	require.Equal(t, []string{"s4", "s5"}, ids(settlementEpoch.Add(time.Hour), "s3", 2))
	sts, err := s.SettlementStores(ctx, settlementEpoch, "", 10)
	require.NoError(t, err)
	require.Equal(t, chengdui.ScheduleDaily, sts[0].Settlement.Schedule.Kind, "whole stores are returned")

	// Applying the change and going manual takes a store off the index.
	set("s5", func(x *chengdui.StoreSettlement) { x.Pending = nil })
	set("s1", func(x *chengdui.StoreSettlement) { x.Schedule = chengdui.PayoutSchedule{Kind: chengdui.ScheduleManual} })
	require.Equal(t, []string{"s4"}, ids(settlementEpoch, "", 10))
}
