package storetest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"chengdui"
	"chengdui/deposit"

	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"
)

// RunDeposit runs the deposit.Store conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunDeposit(t *testing.T, f func(t testing.TB) deposit.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testDepositRoundTrip(t, f(t)) })
	t.Run("Refusals", func(t *testing.T) { testDepositRefusals(t, f(t)) })
	t.Run("Batch", func(t *testing.T) { testDepositBatch(t, f(t)) })
	t.Run("Unsettled", func(t *testing.T) { testDepositUnsettled(t, f(t)) })
	t.Run("DepositsFrom", func(t *testing.T) { testDepositsFrom(t, f(t)) })
	t.Run("DepositsOfTx", func(t *testing.T) { testDepositsOfTx(t, f(t)) })
	t.Run("Deposits", func(t *testing.T) { testDepositsFilter(t, f(t)) })
	t.Run("Cursor", func(t *testing.T) { testDepositCursor(t, f(t)) })
	t.Run("AdvanceRefusals", func(t *testing.T) { testAdvanceRefusals(t, f(t)) })
	t.Run("Rewind", func(t *testing.T) { testRewind(t, f(t)) })
	t.Run("AdvanceConcurrency", func(t *testing.T) { testAdvanceConcurrency(t, f(t)) })
}

// depositEpoch is a time with microsecond precision, the stores' resolution.
var depositEpoch = time.Date(2026, 12, 1, 8, 30, 0, 654321000, time.UTC)

// maxDepositAmount is 2^128-1, the largest chengdui.Amount.
var maxDepositAmount = chengdui.Amount(uint128.Max)

// newDeposit returns a fully populated deposit: every field differs from its zero
// value, so a column dropped on the way shows.
func newDeposit(chain, txid string, idx uint32, status deposit.Status, height uint64, at time.Duration) deposit.Deposit {
	d := deposit.Deposit{
		Payment: deposit.Payment{
			Key:       deposit.Key{Chain: chain, TxID: txid, Kind: deposit.KindOutput, Index: idx},
			Address:   "bcrt1qaddress" + txid,
			Asset:     "BTC",
			Amount:    chengdui.Amount(uint128.From64(uint64(idx)*1000 + 546)),
			Height:    height,
			RBF:       true,
			Reference: "ref-" + txid,
		},
		AccountID:  "user:u1:BTC",
		Status:     status,
		Credits:    2,
		TransferID: "dep:" + txid,
		FirstSeen:  depositEpoch.Add(at),
		UpdatedAt:  depositEpoch.Add(at + time.Second),
	}
	if height > 0 {
		d.BlockHash = fmt.Sprintf("block%d", height)
	}
	return d
}

func putDeposits(t testing.TB, s deposit.Store, ds ...deposit.Deposit) {
	t.Helper()
	for _, d := range ds {
		require.NoError(t, s.PutDeposit(context.Background(), d), "put %s", d.Key)
	}
}

// depositKeys returns the keys of ds, in order.
func depositKeys(ds []deposit.Deposit) []deposit.Key {
	var out []deposit.Key
	for _, d := range ds {
		out = append(out, d.Key)
	}
	return out
}

func testDepositRoundTrip(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	full := newDeposit("bitcoin:regtest", "aa", 3, deposit.Credited, 101, 0)
	full.Amount = maxDepositAmount
	full.Kind = deposit.KindERC20
	full.Index = math.MaxUint32
	full.Credits = math.MaxUint32
	// Zero values everywhere they are allowed: a mempool payment, not yet
	// resolved, never credited, with a zero time.
	bare := deposit.Deposit{Payment: deposit.Payment{Key: deposit.Key{Chain: "evm:1337", TxID: "0xbb", Kind: deposit.KindNative}},
		Status: deposit.Seen}
	mempool := newDeposit("bitcoin:regtest", "cc", 0, deposit.Seen, 0, time.Minute)
	mempool.RBF = false

	for _, c := range []struct {
		name string
		d    deposit.Deposit
	}{{"every field", full}, {"zero values", bare}, {"mempool", mempool}} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, s.PutDeposit(ctx, c.d))
			got, err := s.Deposit(ctx, c.d.Key)
			require.NoError(t, err)
			require.Equal(t, c.d, got)
		})
	}

	// Put replaces every field of the same key.
	changed := full
	changed.Address, changed.Asset, changed.Amount = "other", "USDC", chengdui.Amount(uint128.From64(1))
	changed.BlockHash, changed.Height, changed.RBF, changed.Reference = "", 0, false, ""
	changed.AccountID, changed.Status, changed.Credits, changed.TransferID = "", deposit.Reversed, 0, ""
	changed.FirstSeen, changed.UpdatedAt = depositEpoch.Add(-time.Hour), depositEpoch.Add(time.Hour)
	require.NoError(t, s.PutDeposit(ctx, changed))
	got, err := s.Deposit(ctx, full.Key)
	require.NoError(t, err)
	require.Equal(t, changed, got)
	all, err := s.Deposits(ctx, deposit.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 3, "a put of a known key replaces it, it adds no row")

	// A key differs from another in any of its four parts.
	for _, k := range []deposit.Key{
		{Chain: "bitcoin:signet", TxID: full.TxID, Kind: full.Kind, Index: full.Index},
		{Chain: full.Chain, TxID: "AA", Kind: full.Kind, Index: full.Index},
		{Chain: full.Chain, TxID: full.TxID, Kind: deposit.KindRouter, Index: full.Index},
		{Chain: full.Chain, TxID: full.TxID, Kind: full.Kind, Index: 0},
		{},
	} {
		_, err := s.Deposit(ctx, k)
		requireCode(t, chengdui.ENotFound, err)
	}
}

func testDepositRefusals(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	ok := newDeposit("bitcoin:regtest", "aa", 0, deposit.Seen, 0, 0)
	for _, c := range []struct {
		name string
		edit func(*deposit.Deposit)
	}{
		{"no chain", func(d *deposit.Deposit) { d.Chain = "" }},
		{"no txid", func(d *deposit.Deposit) { d.TxID = "" }},
		{"no kind", func(d *deposit.Deposit) { d.Kind = "" }},
		{"no status", func(d *deposit.Deposit) { d.Status = "" }},
		{"height past int64", func(d *deposit.Deposit) { d.Height = math.MaxInt64 + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := ok
			c.edit(&d)
			requireCode(t, chengdui.EInvalid, s.PutDeposit(ctx, d))
			// In a batch, one bad deposit refuses the whole batch.
			requireCode(t, chengdui.EInvalid, s.PutDeposit(ctx, ok, d))
		})
	}
	_, err := s.Deposits(ctx, deposit.Filter{Limit: -1})
	requireCode(t, chengdui.EInvalid, err)
	all, err := s.Deposits(ctx, deposit.Filter{})
	require.NoError(t, err)
	require.Empty(t, all, "nothing refused was stored")
}

func testDepositUnsettled(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "bitcoin:regtest"
	// One of each status, in a block and in the mempool, out of order of
	// first_seen; and the same on another chain.
	var want []deposit.Deposit
	n := 0
	for _, st := range []deposit.Status{deposit.Unexpected, deposit.Credited, deposit.Replaced, deposit.Orphaned, deposit.Reversed, deposit.Seen} {
		for _, h := range []uint64{0, 50} {
			n++
			d := newDeposit(chain, fmt.Sprintf("tx%02d", n), 0, st, h, time.Duration(100-n)*time.Minute)
			putDeposits(t, s, d)
			other := d
			other.Chain = "evm:1337"
			putDeposits(t, s, other)
			if st == deposit.Seen || st == deposit.Orphaned || (st == deposit.Credited && h == 0) {
				want = append([]deposit.Deposit{d}, want...) // oldest first: later n, earlier first_seen
			}
		}
	}
	got, err := s.Unsettled(ctx, chain)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = s.Unsettled(ctx, "bitcoin:signet")
	require.NoError(t, err)
	require.Empty(t, got)
}

func testDepositsFrom(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "bitcoin:regtest"
	d0 := newDeposit(chain, "m0", 0, deposit.Seen, 0, 0) // mempool: in no block
	d9 := newDeposit(chain, "b9", 0, deposit.Credited, 9, 1*time.Minute)
	d10a := newDeposit(chain, "b10", 1, deposit.Seen, 10, 2*time.Minute)
	d10b := newDeposit(chain, "b10", 0, deposit.Reversed, 10, 3*time.Minute)
	d11 := newDeposit(chain, "b11", 0, deposit.Unexpected, 11, 4*time.Minute)
	other := newDeposit("evm:1337", "0x12", 0, deposit.Seen, 12, 5*time.Minute)
	putDeposits(t, s, d11, d10a, d0, d9, other, d10b)
	for _, c := range []struct {
		height uint64
		want   []deposit.Deposit
	}{
		{0, []deposit.Deposit{d9, d10b, d10a, d11}},
		{1, []deposit.Deposit{d9, d10b, d10a, d11}},
		{9, []deposit.Deposit{d9, d10b, d10a, d11}},
		{10, []deposit.Deposit{d10b, d10a, d11}},
		{11, []deposit.Deposit{d11}},
		{12, nil},
		{math.MaxUint64, nil},
	} {
		got, err := s.DepositsFrom(ctx, chain, c.height)
		require.NoError(t, err, "from %d", c.height)
		require.Equal(t, depositKeys(c.want), depositKeys(got), "from %d", c.height)
		if len(c.want) > 0 {
			require.Equal(t, c.want, got, "from %d", c.height)
		}
	}
}

func testDepositsOfTx(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "evm:1337"
	a := newDeposit(chain, "0xaa", 2, deposit.Seen, 0, 0)
	a.Kind = deposit.KindERC20
	b := newDeposit(chain, "0xaa", 0, deposit.Seen, 0, 0)
	b.Kind = deposit.KindNative
	c := newDeposit(chain, "0xaa", 1, deposit.Seen, 0, 0)
	c.Kind = deposit.KindERC20
	otherTx := newDeposit(chain, "0xbb", 0, deposit.Seen, 0, 0)
	otherChain := newDeposit("evm:1", "0xaa", 0, deposit.Seen, 0, 0)
	putDeposits(t, s, a, b, c, otherTx, otherChain)
	got, err := s.DepositsOfTx(ctx, chain, "0xaa")
	require.NoError(t, err)
	require.Equal(t, []deposit.Deposit{c, a, b}, got, "by kind, then index")
	got, err = s.DepositsOfTx(ctx, chain, "0xcc")
	require.NoError(t, err)
	require.Empty(t, got)
}

func testDepositsFilter(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	// 120 deposits on two chains, two accounts and three statuses; first_seen
	// rises with n, and pairs share a first_seen so the key breaks ties.
	var all []deposit.Deposit
	statuses := []deposit.Status{deposit.Seen, deposit.Credited, deposit.Unexpected}
	for n := range 120 {
		chain := []string{"bitcoin:regtest", "evm:1337"}[n%2]
		d := newDeposit(chain, fmt.Sprintf("tx%03d", n), 0, statuses[n%3], uint64(n+1), time.Duration(n/2)*time.Minute)
		d.AccountID = []string{"acct-a", "acct-b", "acct-a", ""}[n%4]
		all = append(all, d)
	}
	for i := len(all) - 1; i >= 0; i-- {
		putDeposits(t, s, all[i])
	}
	// newest: newest first by first_seen, then by key ascending.
	newest := func(keep func(deposit.Deposit) bool, limit int) []deposit.Key {
		var out []deposit.Key
		for i := len(all) - 1; i >= 0; i -= 2 {
			for _, d := range []deposit.Deposit{all[i-1], all[i]} {
				if keep(d) && len(out) < limit {
					out = append(out, d.Key)
				}
			}
		}
		return out
	}
	every := func(deposit.Deposit) bool { return true }
	for _, c := range []struct {
		name string
		f    deposit.Filter
		want []deposit.Key
	}{
		{"default limit", deposit.Filter{}, newest(every, 100)},
		{"limit", deposit.Filter{Limit: 7}, newest(every, 7)},
		{"limit past the rows", deposit.Filter{Limit: 1000}, newest(every, 1000)},
		{"chain", deposit.Filter{Chain: "evm:1337"}, newest(func(d deposit.Deposit) bool { return d.Chain == "evm:1337" }, 100)},
		{"account", deposit.Filter{AccountID: "acct-b"}, newest(func(d deposit.Deposit) bool { return d.AccountID == "acct-b" }, 100)},
		{"status", deposit.Filter{Status: deposit.Unexpected, Limit: 5}, newest(func(d deposit.Deposit) bool { return d.Status == deposit.Unexpected }, 5)},
		{"all three", deposit.Filter{Chain: "bitcoin:regtest", AccountID: "acct-a", Status: deposit.Credited},
			newest(func(d deposit.Deposit) bool {
				return d.Chain == "bitcoin:regtest" && d.AccountID == "acct-a" && d.Status == deposit.Credited
			}, 100)},
		{"unknown chain", deposit.Filter{Chain: "bitcoin:main"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Deposits(ctx, c.f)
			require.NoError(t, err)
			require.Equal(t, c.want, depositKeys(got))
		})
	}
	got, err := s.Deposits(ctx, deposit.Filter{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []deposit.Deposit{all[118]}, got, "rows come back whole")
}

func testDepositCursor(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "bitcoin:regtest"
	_, ok, err := s.Cursor(ctx, chain)
	require.NoError(t, err)
	require.False(t, ok, "no cursor before the first block")
	_, err = s.BlockAt(ctx, chain, 0)
	requireCode(t, chengdui.ENotFound, err)

	require.NoError(t, s.Advance(ctx, chain, nil, 10), "advancing by no blocks changes nothing")
	_, ok, err = s.Cursor(ctx, chain)
	require.NoError(t, err)
	require.False(t, ok)

	blocks := depositBlocks(0, 5)
	require.NoError(t, s.Advance(ctx, chain, blocks, 100))
	requireCursor(t, s, chain, blocks[4])
	for _, b := range blocks {
		got, err := s.BlockAt(ctx, chain, b.Height)
		require.NoError(t, err)
		require.Equal(t, b, got)
	}
	_, err = s.BlockAt(ctx, chain, 5)
	requireCode(t, chengdui.ENotFound, err)
	_, err = s.BlockAt(ctx, chain, math.MaxUint64)
	requireCode(t, chengdui.ENotFound, err)
	_, err = s.BlockAt(ctx, "evm:1337", 1)
	requireCode(t, chengdui.ENotFound, err) // blocks are per chain
	_, ok, err = s.Cursor(ctx, "evm:1337")
	require.NoError(t, err)
	require.False(t, ok, "cursors are per chain")

	// One block at a time, keeping 3: the cursor follows, older blocks go.
	more := depositBlocks(0, 12)
	for _, b := range more[5:] {
		require.NoError(t, s.Advance(ctx, chain, []deposit.Block{b}, 3))
		requireCursor(t, s, chain, b)
	}
	requireBlocks(t, s, chain, 0, 12, more[9:])

	// Several at once, keeping 5: the batch is stored, then pruned.
	batch := depositBlocks(0, 20)[12:]
	require.NoError(t, s.Advance(ctx, chain, batch, 5))
	requireCursor(t, s, chain, batch[len(batch)-1])
	requireBlocks(t, s, chain, 0, 20, batch[3:])

	// A batch larger than keep keeps only its newest.
	big := depositBlocks(0, 40)[20:]
	require.NoError(t, s.Advance(ctx, chain, big, 2))
	requireBlocks(t, s, chain, 0, 40, big[18:])

	// A block at a stored height replaces it (the same height, another
	// branch), and blocks above the new cursor go: the cursor is the top.
	fork := deposit.Block{Height: 38, Hash: "fork38", Parent: "h37"}
	require.NoError(t, s.Advance(ctx, chain, []deposit.Block{fork}, 2))
	requireCursor(t, s, chain, fork)
	requireBlocks(t, s, chain, 0, 40, []deposit.Block{fork})
}

func testAdvanceRefusals(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "bitcoin:regtest"
	require.NoError(t, s.Advance(ctx, chain, depositBlocks(0, 3), 10))
	for _, c := range []struct {
		name   string
		chain  string
		blocks []deposit.Block
		keep   int
	}{
		{"no chain", "", depositBlocks(3, 4), 10},
		{"keep 0", chain, depositBlocks(3, 4), 0},
		{"keep negative", chain, depositBlocks(3, 4), -1},
		{"descending", chain, []deposit.Block{depositBlocks(0, 5)[4], depositBlocks(0, 5)[3]}, 10},
		{"one height twice", chain, []deposit.Block{depositBlocks(0, 5)[4], depositBlocks(0, 5)[4]}, 10},
		{"no hash", chain, []deposit.Block{{Height: 3, Parent: "h2"}}, 10},
		{"height past int64", chain, []deposit.Block{{Height: math.MaxInt64 + 1, Hash: "x"}}, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireCode(t, chengdui.EInvalid, s.Advance(ctx, c.chain, c.blocks, c.keep))
			requireCursor(t, s, chain, depositBlocks(0, 3)[2])
			requireBlocks(t, s, chain, 0, 6, depositBlocks(0, 3))
		})
	}
}

func testRewind(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const chain = "bitcoin:regtest"
	blocks := depositBlocks(100, 110)
	require.NoError(t, s.Advance(ctx, chain, blocks, 8)) // keeps 102..109
	require.NoError(t, s.Advance(ctx, "evm:1337", blocks, 8))

	// To an unknown height: refused, nothing moves.
	for _, h := range []uint64{101, 110, 0, math.MaxUint64} {
		requireCode(t, chengdui.ENotFound, s.Rewind(ctx, chain, h))
		requireCursor(t, s, chain, blocks[9])
		requireBlocks(t, s, chain, 100, 110, blocks[2:])
	}
	requireCode(t, chengdui.ENotFound, s.Rewind(ctx, "bitcoin:signet", 105))

	require.NoError(t, s.Rewind(ctx, chain, 105))
	requireCursor(t, s, chain, blocks[5])
	requireBlocks(t, s, chain, 100, 110, blocks[2:6])
	for h := uint64(106); h < 110; h++ {
		_, err := s.BlockAt(ctx, chain, h)
		requireCode(t, chengdui.ENotFound, err)
	}
	requireCursor(t, s, "evm:1337", blocks[9])
	requireBlocks(t, s, "evm:1337", 100, 110, blocks[2:])

	// To the cursor itself: nothing to forget.
	require.NoError(t, s.Rewind(ctx, chain, 105))
	requireCursor(t, s, chain, blocks[5])

	// After a rewind the watcher advances on the new branch.
	branch := []deposit.Block{{Height: 106, Hash: "x106", Parent: "h105"}, {Height: 107, Hash: "x107", Parent: "x106"}}
	require.NoError(t, s.Advance(ctx, chain, branch, 8))
	requireCursor(t, s, chain, branch[1])
	requireBlocks(t, s, chain, 100, 110, append(append([]deposit.Block{}, blocks[2:6]...), branch...))

	// To the oldest kept block.
	require.NoError(t, s.Rewind(ctx, chain, 102))
	requireCursor(t, s, chain, blocks[2])
	requireBlocks(t, s, chain, 100, 110, blocks[2:3])
}

// testAdvanceConcurrency advances two chains from two goroutines at once,
// with rewinds in between: each chain ends as if it was alone.
func testAdvanceConcurrency(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	const n, keep = 60, 6
	chains := []string{"bitcoin:regtest", "evm:1337"}
	blocks := depositBlocks(1, n+1)
	var wg sync.WaitGroup
	errs := make([]error, len(chains))
	for i, chain := range chains {
		wg.Go(func() {
			for j, b := range blocks {
				if errs[i] = s.Advance(ctx, chain, []deposit.Block{b}, keep); errs[i] != nil {
					return
				}
				if j%10 == 9 {
					// A one-block reorg: back to the parent, then this block again.
					if errs[i] = s.Rewind(ctx, chain, b.Height-1); errs[i] != nil {
						return
					}
					if errs[i] = s.Advance(ctx, chain, []deposit.Block{b}, keep); errs[i] != nil {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i, chain := range chains {
		require.NoError(t, errs[i], chain)
		requireCursor(t, s, chain, blocks[n-1])
		requireBlocks(t, s, chain, 1, n+1, blocks[n-keep:])
	}
}

// depositBlocks returns blocks at heights [from, to), each the child of the one
// before it.
func depositBlocks(from, to uint64) []deposit.Block {
	var out []deposit.Block
	for h := from; h < to; h++ {
		out = append(out, deposit.Block{Height: h, Hash: fmt.Sprintf("h%d", h), Parent: fmt.Sprintf("h%d", int64(h)-1)})
	}
	return out
}

func requireCursor(t testing.TB, s deposit.Store, chain string, b deposit.Block) {
	t.Helper()
	c, ok, err := s.Cursor(context.Background(), chain)
	require.NoError(t, err)
	require.True(t, ok, "%s has a cursor", chain)
	require.Equal(t, deposit.Cursor{Height: b.Height, Hash: b.Hash}, c)
}

// requireBlocks checks that the stored blocks of chain at heights [from,
// to) are exactly want.
func requireBlocks(t testing.TB, s deposit.Store, chain string, from, to uint64, want []deposit.Block) {
	t.Helper()
	var got []deposit.Block
	for h := from; h < to; h++ {
		b, err := s.BlockAt(context.Background(), chain, h)
		if chengdui.ErrorCode(err) == chengdui.ENotFound {
			continue
		}
		require.NoError(t, err, "block %d", h)
		got = append(got, b)
	}
	require.Equal(t, want, got, "stored blocks of %s", chain)
}

// testDepositBatch: many deposits in one PutDeposit, inserted and then
// replaced together; an empty batch is a no-op.
func testDepositBatch(t *testing.T, s deposit.Store) {
	ctx := context.Background()
	require.NoError(t, s.PutDeposit(ctx))
	var ds []deposit.Deposit
	for i := range 50 {
		d := newDeposit("bitcoin:regtest", fmt.Sprintf("tx%02d", i), uint32(i), deposit.Seen, uint64(100+i), time.Duration(i)*time.Second)
		ds = append(ds, d)
	}
	require.NoError(t, s.PutDeposit(ctx, ds...))
	for i := range ds {
		ds[i].Status, ds[i].Credits, ds[i].TransferID = deposit.Credited, 1, fmt.Sprintf("dep:%d", i)
	}
	require.NoError(t, s.PutDeposit(ctx, ds...))
	for _, want := range ds {
		got, err := s.Deposit(ctx, want.Key)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
