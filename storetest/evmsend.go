package storetest

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/evm"
	"chengdui/keys"
)

// RunEVMSend runs the evm.SendStore conformance suite. f returns a fresh,
// empty, migrated store, closed by t.Cleanup.
func RunEVMSend(t *testing.T, f func(t testing.TB) evm.SendStore) {
	t.Run("CreateRead", func(t *testing.T) { testSendCreateRead(t, f(t)) })
	t.Run("Nonces", func(t *testing.T) { testSendNonces(t, f(t)) })
	t.Run("Conflict", func(t *testing.T) { testSendConflict(t, f(t)) })
	t.Run("Refusals", func(t *testing.T) { testSendRefusals(t, f(t)) })
	t.Run("Attempts", func(t *testing.T) { testSendAttempts(t, f(t)) })
	t.Run("Lifecycle", func(t *testing.T) { testSendLifecycle(t, f(t)) })
	t.Run("Unfinished", func(t *testing.T) { testSendUnfinished(t, f(t)) })
	t.Run("ConcurrentNonces", func(t *testing.T) { testSendConcurrentNonces(t, f(t)) })
}

// sendEpoch has microseconds, the stores' precision, and nanoseconds
// they drop.
var sendEpoch = time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)

var (
	sendChain = "evm:1337"
	sendFrom  = common.HexToAddress("0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
	sendTo    = common.HexToAddress("0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0")
	sendPath  = keys.EVM.Path(keys.Mainnet, 0, 0, 0)
	maxWei    = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
)

// newSend is a send request of n wei with id.
func newSend(id string, n int64) evm.OutTx {
	return evm.OutTx{ID: id, Chain: sendChain, From: sendFrom, Path: sendPath, To: sendTo, Value: big.NewInt(n),
		Asset: "ETH", Gas: 21000, Status: evm.SendQueued, CreatedAt: sendEpoch, UpdatedAt: sendEpoch}
}

func mustCreateSend(t testing.TB, s evm.SendStore, tx evm.OutTx, floor uint64) evm.OutTx {
	t.Helper()
	got, err := s.CreateSend(context.Background(), tx, floor)
	require.NoError(t, err)
	return got
}

func mustOutTx(t testing.TB, s evm.SendStore, id string) evm.OutTx {
	t.Helper()
	got, err := s.OutTx(context.Background(), id)
	require.NoError(t, err)
	return got
}

// newAttempt is a made-up signed attempt: stores keep the bytes, they do
// not decode them.
func newAttempt(n int, tip, feeCap int64, at time.Duration) evm.Attempt {
	return evm.Attempt{Hash: common.BigToHash(big.NewInt(int64(1000 + n))), TipCap: big.NewInt(tip), FeeCap: big.NewInt(feeCap),
		Raw: []byte(fmt.Sprintf("signed-%d", n)), At: sendEpoch.Add(at).Truncate(time.Microsecond)}
}

func testSendCreateRead(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	_, err := s.OutTx(ctx, "w1")
	requireCode(t, chengdui.ENotFound, err)

	// The largest value a transaction carries, calldata, fixed fees.
	tx := newSend("w1", 0)
	tx.Value = new(big.Int).Set(maxWei)
	tx.Data = evm.TransferData(sendTo, big.NewInt(1_500_000))
	tx.Path = keys.EVM.Path(keys.Mainnet, 0, 0, 7)
	tx.Asset, tx.Gas, tx.FixedFees = "USDT-ERC20", 65_000, true
	tx.TipCap, tx.FeeCap = big.NewInt(1_000_000), new(big.Int).Set(maxWei)
	got := mustCreateSend(t, s, tx, 5)

	want := tx
	want.Nonce = 5
	want.CreatedAt, want.UpdatedAt = sendEpoch.Truncate(time.Microsecond), sendEpoch.Truncate(time.Microsecond)
	require.Equal(t, want, got, "CreateSend returns the send as stored")
	require.Equal(t, want, mustOutTx(t, s, "w1"), "read back as created")

	// A plain transfer: no data, the Sender's fees.
	plain := mustCreateSend(t, s, newSend("w2", 0), 0)
	read := mustOutTx(t, s, "w2")
	require.Equal(t, plain, read)
	require.Nil(t, read.Data)
	require.Nil(t, read.TipCap)
	require.Nil(t, read.FeeCap)
	require.Nil(t, read.GasPrice)
	require.Nil(t, read.Fee)
	require.Zero(t, read.Hash)
	require.Equal(t, evm.SendQueued, read.Status)
	require.Equal(t, "0", read.Value.String())
	require.EqualValues(t, 6, read.Nonce)
}

func testSendNonces(t *testing.T, s evm.SendStore) {
	other := common.HexToAddress("0x0000000000000000000000000000000000000001")
	tests := []struct {
		id    string
		chain string
		from  common.Address
		floor uint64
		want  uint64
	}{
		{"a", sendChain, sendFrom, 0, 0},                              // first use: the floor
		{"b", sendChain, sendFrom, 0, 1},                              // then the counter
		{"c", sendChain, sendFrom, 1, 2},                              // a floor behind it changes nothing
		{"d", sendChain, sendFrom, 10, 10},                            // one ahead of it wins: nonces used elsewhere
		{"e", sendChain, sendFrom, 0, 11},                             //
		{"f", sendChain, other, 3, 3},                                 // each address has its own counter
		{"g", "evm:1", sendFrom, 0, 0},                                // and each chain
		{"h", sendChain, sendFrom, 11, 12},                            // a floor equal to a used nonce
		{"i", sendChain, other, math.MaxInt64 - 1, math.MaxInt64 - 1}, // the largest floor
	}
	for _, tt := range tests {
		tx := newSend(tt.id, 1)
		tx.Chain, tx.From = tt.chain, tt.from
		got := mustCreateSend(t, s, tx, tt.floor)
		require.Equal(t, tt.want, got.Nonce, "send %s", tt.id)
		require.Equal(t, tt.want, mustOutTx(t, s, tt.id).Nonce, "send %s", tt.id)
	}
}

func testSendConflict(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	first := mustCreateSend(t, s, newSend("w1", 5), 0)
	for _, tx := range []evm.OutTx{newSend("w1", 5), newSend("w1", 6)} {
		_, err := s.CreateSend(ctx, tx, 0)
		requireCode(t, chengdui.EConflict, err)
	}
	require.Equal(t, first, mustOutTx(t, s, "w1"), "a refused create changes nothing")
	// A refused insert takes no nonce: no gap.
	require.EqualValues(t, 1, mustCreateSend(t, s, newSend("w2", 5), 0).Nonce)
}

func testSendRefusals(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(*evm.OutTx)
	}{
		{"no id", func(tx *evm.OutTx) { tx.ID = "" }},
		{"long id", func(tx *evm.OutTx) { tx.ID = string(make([]byte, evm.MaxSendIDLength+1)) }},
		{"no chain", func(tx *evm.OutTx) { tx.Chain = "" }},
		{"no asset", func(tx *evm.OutTx) { tx.Asset = "" }},
		{"no from", func(tx *evm.OutTx) { tx.From = common.Address{} }},
		{"no path", func(tx *evm.OutTx) { tx.Path = nil }},
		{"no value", func(tx *evm.OutTx) { tx.Value = nil }},
		{"negative value", func(tx *evm.OutTx) { tx.Value = big.NewInt(-1) }},
		{"value of 2^256", func(tx *evm.OutTx) { tx.Value = new(big.Int).Add(maxWei, big.NewInt(1)) }},
		{"tip without fee cap", func(tx *evm.OutTx) { tx.TipCap = big.NewInt(1) }},
		{"tip above fee cap", func(tx *evm.OutTx) { tx.TipCap, tx.FeeCap = big.NewInt(2), big.NewInt(1) }},
		{"gas out of range", func(tx *evm.OutTx) { tx.Gas = math.MaxUint64 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := newSend("w1", 1)
			tt.edit(&tx)
			_, err := s.CreateSend(ctx, tx, 0)
			requireCode(t, chengdui.EInvalid, err)
		})
	}
	_, err := s.CreateSend(ctx, newSend("w1", 1), math.MaxUint64)
	requireCode(t, chengdui.EInvalid, err)
	// None of them took a nonce.
	require.EqualValues(t, 0, mustCreateSend(t, s, newSend("w1", 1), 0).Nonce)
}

func testSendAttempts(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	tx := mustCreateSend(t, s, newSend("w1", 1), 0)
	err := s.AddAttempt(ctx, "nope", newAttempt(1, 1, 2, 0))
	requireCode(t, chengdui.ENotFound, err)
	for _, a := range []evm.Attempt{
		{},
		{Hash: common.Hash{1}, TipCap: big.NewInt(1), FeeCap: big.NewInt(2)},                               // no bytes
		{Hash: common.Hash{1}, TipCap: big.NewInt(3), FeeCap: big.NewInt(2), Raw: []byte{1}},               // tip above cap
		{Hash: common.Hash{1}, FeeCap: big.NewInt(2), Raw: []byte{1}},                                      // no tip
		{Hash: common.Hash{1}, TipCap: big.NewInt(1), FeeCap: new(big.Int).Lsh(maxWei, 1), Raw: []byte{1}}, // cap too large
	} {
		requireCode(t, chengdui.EInvalid, s.AddAttempt(ctx, "w1", a))
	}

	a1, a2 := newAttempt(1, 1_000_000, 2_000_000_000, time.Second), newAttempt(2, 1_100_000, 2_200_000_000, time.Minute)
	require.NoError(t, s.AddAttempt(ctx, "w1", a1))
	got := mustOutTx(t, s, "w1")
	require.Equal(t, []evm.Attempt{a1}, got.Attempts)
	require.Equal(t, a1.Hash, got.Hash)
	require.Equal(t, a1.TipCap, got.TipCap)
	require.Equal(t, a1.FeeCap, got.FeeCap)
	require.Equal(t, a1.At, got.UpdatedAt)
	require.Equal(t, tx.CreatedAt, got.CreatedAt)
	require.Equal(t, evm.SendQueued, got.Status, "an attempt is recorded before it is broadcast")

	require.NoError(t, s.AddAttempt(ctx, "w1", a2))
	got = mustOutTx(t, s, "w1")
	require.Equal(t, []evm.Attempt{a1, a2}, got.Attempts, "oldest first")
	require.Equal(t, a2.Hash, got.Hash, "the newest is current")
	require.Equal(t, a2.FeeCap, got.FeeCap)

	// A hash is one attempt of one send.
	requireCode(t, chengdui.EConflict, s.AddAttempt(ctx, "w1", a2))
	mustCreateSend(t, s, newSend("w2", 1), 0)
	requireCode(t, chengdui.EConflict, s.AddAttempt(ctx, "w2", a1))
	require.Empty(t, mustOutTx(t, s, "w2").Attempts)
}

func testSendLifecycle(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	mustCreateSend(t, s, newSend("w1", 1), 0)
	a1, a2 := newAttempt(1, 1, 10, 0), newAttempt(2, 2, 20, time.Minute)
	require.NoError(t, s.AddAttempt(ctx, "w1", a1))

	requireCode(t, chengdui.ENotFound, s.SetSendState(ctx, "nope", evm.SendSent, "", sendEpoch))
	requireCode(t, chengdui.EInvalid, s.SetSendState(ctx, "w1", evm.SendMined, "", sendEpoch))
	at := sendEpoch.Add(2 * time.Minute).Truncate(time.Microsecond)
	require.NoError(t, s.SetSendState(ctx, "w1", evm.SendQueued, "insufficient funds", at))
	got := mustOutTx(t, s, "w1")
	require.Equal(t, evm.SendQueued, got.Status)
	require.Equal(t, "insufficient funds", got.Error)
	require.Equal(t, at, got.UpdatedAt)
	require.NoError(t, s.SetSendState(ctx, "w1", evm.SendSent, "", at))
	require.NoError(t, s.AddAttempt(ctx, "w1", a2))
	got = mustOutTx(t, s, "w1")
	require.Equal(t, evm.SendSent, got.Status)
	require.Empty(t, got.Error)

	// The first attempt is mined: it becomes the send's hash and fees.
	res := evm.SendResult{Status: evm.SendMined, Hash: a1.Hash, Block: 42, GasUsed: 21000,
		GasPrice: big.NewInt(7), Fee: big.NewInt(147_000), At: sendEpoch.Add(3 * time.Minute).Truncate(time.Microsecond)}
	requireCode(t, chengdui.ENotFound, s.FinishSend(ctx, "nope", res))
	for _, bad := range []evm.SendResult{
		{Status: evm.SendSent, GasPrice: big.NewInt(1), Fee: big.NewInt(1)},
		{Status: evm.SendMined, Fee: big.NewInt(1)},
		{Status: evm.SendMined, GasPrice: big.NewInt(-1), Fee: big.NewInt(1)},
		{Status: evm.SendMined, GasPrice: big.NewInt(1), Fee: big.NewInt(1), Block: math.MaxUint64},
		{Status: evm.SendMined, GasPrice: big.NewInt(1), Fee: big.NewInt(1), Hash: common.Hash{9}}, // not an attempt
	} {
		requireCode(t, chengdui.EInvalid, s.FinishSend(ctx, "w1", bad))
	}
	require.Equal(t, evm.SendSent, mustOutTx(t, s, "w1").Status, "refused results change nothing")
	require.NoError(t, s.FinishSend(ctx, "w1", res))
	got = mustOutTx(t, s, "w1")
	require.Equal(t, evm.SendMined, got.Status)
	require.Equal(t, a1.Hash, got.Hash)
	require.Equal(t, a1.TipCap, got.TipCap)
	require.Equal(t, a1.FeeCap, got.FeeCap)
	require.EqualValues(t, 42, got.Block)
	require.EqualValues(t, 21000, got.GasUsed)
	require.Equal(t, "7", got.GasPrice.String())
	require.Equal(t, "147000", got.Fee.String())
	require.Equal(t, res.At, got.UpdatedAt)
	require.Equal(t, []evm.Attempt{a1, a2}, got.Attempts, "every attempt stays recorded")

	// A final send moves no more.
	requireCode(t, chengdui.EConflict, s.FinishSend(ctx, "w1", res))
	requireCode(t, chengdui.EConflict, s.SetSendState(ctx, "w1", evm.SendSent, "", at))
	requireCode(t, chengdui.EConflict, s.AddAttempt(ctx, "w1", newAttempt(3, 3, 30, 0)))
	require.Equal(t, got, mustOutTx(t, s, "w1"))

	// A dropped send: failed, no attempt mined, the current hash kept.
	mustCreateSend(t, s, newSend("w2", 1), 0)
	a3 := newAttempt(3, 1, 10, 0)
	require.NoError(t, s.AddAttempt(ctx, "w2", a3))
	require.NoError(t, s.FinishSend(ctx, "w2", evm.SendResult{Status: evm.SendFailed, GasPrice: new(big.Int), Fee: new(big.Int),
		Error: "dropped", At: res.At}))
	got = mustOutTx(t, s, "w2")
	require.Equal(t, evm.SendFailed, got.Status)
	require.Equal(t, "dropped", got.Error)
	require.Equal(t, a3.Hash, got.Hash)
	require.Equal(t, "0", got.Fee.String())
	require.Zero(t, got.Block)
}

func testSendUnfinished(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	got, err := s.UnfinishedSends(ctx, sendChain)
	require.NoError(t, err)
	require.Empty(t, got)

	other := common.HexToAddress("0x0000000000000000000000000000000000000001")
	create := func(id, chain string, from common.Address) {
		tx := newSend(id, 1)
		tx.Chain, tx.From = chain, from
		mustCreateSend(t, s, tx, 0)
	}
	create("b0", sendChain, sendFrom)
	create("a0", sendChain, other)
	create("b1", sendChain, sendFrom)
	create("a1", sendChain, other)
	create("b2", sendChain, sendFrom)
	create("x0", "evm:1", sendFrom)
	require.NoError(t, s.AddAttempt(ctx, "b1", newAttempt(1, 1, 2, 0)))
	require.NoError(t, s.AddAttempt(ctx, "b1", newAttempt(2, 2, 4, 0)))
	require.NoError(t, s.AddAttempt(ctx, "b2", newAttempt(3, 1, 2, 0)))
	require.NoError(t, s.SetSendState(ctx, "b2", evm.SendSent, "", sendEpoch))
	require.NoError(t, s.AddAttempt(ctx, "a1", newAttempt(4, 1, 2, 0)))
	require.NoError(t, s.FinishSend(ctx, "a1", evm.SendResult{Status: evm.SendMined, Hash: newAttempt(4, 1, 2, 0).Hash,
		GasPrice: big.NewInt(1), Fee: big.NewInt(21000), GasUsed: 21000, Block: 1, At: sendEpoch}))

	got, err = s.UnfinishedSends(ctx, sendChain)
	require.NoError(t, err)
	var ids []string
	for _, tx := range got {
		ids = append(ids, tx.ID)
		require.Equal(t, mustOutTx(t, s, tx.ID), tx, "listed as read one by one, attempts included")
	}
	// By address (0x0000…01 sorts before 0x9858…), then nonce; the mined
	// send and the other chain's are not listed.
	require.Equal(t, []string{"a0", "b0", "b1", "b2"}, ids)
	require.Len(t, got[2].Attempts, 2)

	got, err = s.UnfinishedSends(ctx, "evm:1")
	require.NoError(t, err)
	require.Len(t, got, 1)
}

// testSendConcurrentNonces creates sends from one address in many
// goroutines, with floors behind the counter and ids used twice: every
// send gets its own nonce, and together they have no gap.
func testSendConcurrentNonces(t *testing.T, s evm.SendStore) {
	ctx := context.Background()
	const workers, each = 8, 20
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				floor := uint64(i % 3)
				if _, err := s.CreateSend(ctx, newSend(id, 1), floor); err != nil {
					errs[w] = err
					return
				}
				// The same id again, as a retried request: refused, no nonce taken.
				if _, err := s.CreateSend(ctx, newSend(id, 1), floor); chengdui.ErrorCode(err) != chengdui.EConflict {
					errs[w] = fmt.Errorf("send %s twice: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s.UnfinishedSends(ctx, sendChain)
	require.NoError(t, err)
	require.Len(t, got, workers*each)
	var nonces []uint64
	for _, tx := range got {
		nonces = append(nonces, tx.Nonce)
	}
	want := make([]uint64, workers*each)
	for i := range want {
		want[i] = uint64(i)
	}
	require.True(t, slices.IsSorted(nonces), "listed by nonce")
	require.Equal(t, want, nonces, "0 to %d, each once", workers*each-1)
}
