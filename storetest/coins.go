package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"chengdui"
	"chengdui/bitcoin"

	"github.com/stretchr/testify/require"
)

// RunCoins runs the bitcoin.CoinStore conformance suite. f returns a
// fresh, empty, migrated store, closed by t.Cleanup.
func RunCoins(t *testing.T, f func(t testing.TB) bitcoin.CoinStore) {
	t.Run("RoundTrip", func(t *testing.T) { testCoinRoundTrip(t, f(t)) })
	t.Run("Refusals", func(t *testing.T) { testCoinRefusals(t, f(t)) })
	t.Run("Spend", func(t *testing.T) { testCoinSpend(t, f(t)) })
	t.Run("Disconnect", func(t *testing.T) { testCoinDisconnect(t, f(t)) })
}

const coinChain = "bitcoin:regtest"

// newCoin returns a fully populated coin: every field differs from its zero
// value, so a column dropped on the way shows.
func newCoin(txid string, vout uint32, height uint64, at time.Duration) bitcoin.Coin {
	c := bitcoin.Coin{
		Chain:     coinChain,
		TxID:      txid,
		Vout:      vout,
		Value:     int64(vout)*1000 + 546,
		PkScript:  []byte{0x00, 0x14, byte(vout), 0xff},
		Address:   fmt.Sprintf("bcrt1q%s%d", txid, vout),
		Change:    1,
		Index:     vout + 7,
		Height:    height,
		CreatedAt: depositEpoch.Add(at),
	}
	if height > 0 {
		c.BlockHash = fmt.Sprintf("block%d", height)
	}
	return c
}

func putCoins(t testing.TB, s bitcoin.CoinStore, cs ...bitcoin.Coin) {
	t.Helper()
	for _, c := range cs {
		require.NoError(t, s.PutCoin(context.Background(), c), "put %s:%d", c.TxID, c.Vout)
	}
}

func requireCoins(t testing.TB, s bitcoin.CoinStore, unspentOnly bool, want ...bitcoin.Coin) {
	t.Helper()
	got, err := s.Coins(context.Background(), coinChain, unspentOnly)
	require.NoError(t, err)
	if len(want) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, want, got, "unspentOnly %v", unspentOnly)
}

func testCoinRoundTrip(t *testing.T, s bitcoin.CoinStore) {
	ctx := context.Background()
	full := newCoin("aa", math.MaxUint32, math.MaxInt64, 0)
	full.Value, full.Change, full.Index = math.MaxInt64, math.MaxUint32, math.MaxUint32
	full.SpentBy = "ff"
	bare := bitcoin.Coin{Chain: coinChain, TxID: "bb", CreatedAt: depositEpoch.Add(time.Minute)} // nil script, zero value
	emptyScript := newCoin("cc", 0, 0, 2*time.Minute)
	emptyScript.PkScript = []byte{}
	putCoins(t, s, emptyScript, bare, full)

	readEmpty := emptyScript
	readEmpty.PkScript = nil // an empty script reads back as nil
	requireCoins(t, s, false, full, bare, readEmpty)
	requireCoins(t, s, true, bare, readEmpty)

	// Put replaces every field of the same outpoint, but an empty SpentBy
	// keeps the recorded spend (only UnspendCoins clears one).
	changed := newCoin("aa", math.MaxUint32, 0, 3*time.Minute)
	changed.Value, changed.PkScript, changed.Address, changed.Change, changed.Index = 1, []byte{0x51}, "other", 0, 0
	putCoins(t, s, changed)
	kept := changed
	kept.SpentBy = "ff"
	requireCoins(t, s, false, bare, readEmpty, kept)
	changed.SpentBy = "ee"
	putCoins(t, s, changed)
	requireCoins(t, s, false, bare, readEmpty, changed)
	require.NoError(t, s.UnspendCoins(ctx, coinChain, "ee"))
	changed.SpentBy = ""

	// Coins are per chain.
	other := newCoin("aa", 0, 5, 0)
	other.Chain = "bitcoin:signet"
	putCoins(t, s, other)
	got, err := s.Coins(ctx, "bitcoin:signet", false)
	require.NoError(t, err)
	require.Equal(t, []bitcoin.Coin{other}, got)
	got, err = s.Coins(ctx, "bitcoin:main", false)
	require.NoError(t, err)
	require.Empty(t, got)
	requireCoins(t, s, false, bare, readEmpty, changed)
}

func testCoinRefusals(t *testing.T, s bitcoin.CoinStore) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		edit func(*bitcoin.Coin)
	}{
		{"no chain", func(c *bitcoin.Coin) { c.Chain = "" }},
		{"no txid", func(c *bitcoin.Coin) { c.TxID = "" }},
		{"negative value", func(c *bitcoin.Coin) { c.Value = -1 }},
		{"height past int64", func(c *bitcoin.Coin) { c.Height = math.MaxInt64 + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := newCoin("aa", 0, 0, 0)
			c.edit(&bad)
			requireCode(t, chengdui.EInvalid, s.PutCoin(ctx, bad))
		})
	}
	requireCoins(t, s, false)
	requireCode(t, chengdui.EInvalid, s.SpendCoins(ctx, coinChain, []bitcoin.OutPointRef{{TxID: "aa"}}, ""))
	requireCode(t, chengdui.EInvalid, s.UnspendCoins(ctx, coinChain, ""))
}

func testCoinSpend(t *testing.T, s bitcoin.CoinStore) {
	ctx := context.Background()
	a0, a1, b0 := newCoin("aa", 0, 10, 0), newCoin("aa", 1, 10, time.Second), newCoin("bb", 0, 0, 2*time.Second)
	other := a0
	other.Chain = "bitcoin:signet"
	putCoins(t, s, b0, a1, a0, other)

	// Unknown outpoints (another vout, another tx) are ignored; the known
	// one on this chain is marked, the same outpoint on another chain not.
	require.NoError(t, s.SpendCoins(ctx, coinChain, []bitcoin.OutPointRef{{TxID: "aa", Vout: 0}, {TxID: "aa", Vout: 9}, {TxID: "zz", Vout: 0}}, "s1"))
	require.NoError(t, s.SpendCoins(ctx, coinChain, nil, "s0"), "no outpoints, nothing to do")
	sa0 := a0
	sa0.SpentBy = "s1"
	requireCoins(t, s, false, sa0, a1, b0)
	requireCoins(t, s, true, a1, b0)
	got, err := s.Coins(ctx, "bitcoin:signet", true)
	require.NoError(t, err)
	require.Equal(t, []bitcoin.Coin{other}, got)

	require.NoError(t, s.SpendCoins(ctx, coinChain, []bitcoin.OutPointRef{{TxID: "aa", Vout: 1}, {TxID: "bb", Vout: 0}}, "s2"))
	sa1, sb0 := a1, b0
	sa1.SpentBy, sb0.SpentBy = "s2", "s2"
	requireCoins(t, s, false, sa0, sa1, sb0)
	requireCoins(t, s, true)

	// s2 was replaced: its inputs are spendable again; s1's stay spent.
	require.NoError(t, s.UnspendCoins(ctx, coinChain, "s2"))
	requireCoins(t, s, false, sa0, a1, b0)
	require.NoError(t, s.UnspendCoins(ctx, coinChain, "unknown"))
	require.NoError(t, s.UnspendCoins(ctx, "bitcoin:signet", "s1"), "per chain")
	requireCoins(t, s, true, a1, b0)

	// A replacement spending a coin another transaction was thought to
	// spend takes it over.
	require.NoError(t, s.SpendCoins(ctx, coinChain, []bitcoin.OutPointRef{{TxID: "aa", Vout: 0}}, "s3"))
	sa0.SpentBy = "s3"
	requireCoins(t, s, false, sa0, a1, b0)
	require.NoError(t, s.UnspendCoins(ctx, coinChain, "s1"), "s1 no longer spends anything")
	requireCoins(t, s, false, sa0, a1, b0)
}

func testCoinDisconnect(t *testing.T, s bitcoin.CoinStore) {
	ctx := context.Background()
	c9, c10, c11, mem := newCoin("c9", 0, 9, 0), newCoin("c10", 0, 10, time.Second), newCoin("c11", 0, 11, 2*time.Second), newCoin("m", 0, 0, 3*time.Second)
	c11.SpentBy = "s"
	other := newCoin("o", 0, 10, 0)
	other.Chain = "bitcoin:signet"
	putCoins(t, s, c9, c10, c11, mem, other)

	unconfirmed := func(c bitcoin.Coin) bitcoin.Coin { c.Height, c.BlockHash = 0, ""; return c }
	require.NoError(t, s.DisconnectCoins(ctx, coinChain, 12))
	requireCoins(t, s, false, c9, c10, c11, mem)
	require.NoError(t, s.DisconnectCoins(ctx, coinChain, 10))
	requireCoins(t, s, false, c9, unconfirmed(c10), unconfirmed(c11), mem)
	requireCoins(t, s, true, c9, unconfirmed(c10), mem)
	got, err := s.Coins(ctx, "bitcoin:signet", false)
	require.NoError(t, err)
	require.Equal(t, []bitcoin.Coin{other}, got, "per chain")

	// Mined again in another block.
	again := c10
	again.Height, again.BlockHash = 10, "other10"
	putCoins(t, s, again)
	require.NoError(t, s.DisconnectCoins(ctx, coinChain, 0))
	requireCoins(t, s, false, unconfirmed(c9), unconfirmed(c10), unconfirmed(c11), mem)
}
