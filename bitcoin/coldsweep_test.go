package bitcoin_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
	"chengdui/sqlite"
)

func TestBuildSweep(t *testing.T) {
	seed := btcdtest.Seed(t)
	to := newPayees(t, seed)
	change := seedAddress(t, seed, 1, 0).ScriptPubKey
	signer := newSigner(t, seed)
	const rate = 10 // an input costs 680 sat
	utxos := []bitcoin.UTXO{
		seedUTXO(t, seed, 1, 1_000_000),
		seedUTXO(t, seed, 2, 20_000),
		seedUTXO(t, seed, 3, 600), // worth less than its input's fee: never spent
		seedUTXO(t, seed, 4, 100_000),
		seedUTXO(t, seed, 5, 5_000),
	}
	sweep := func(amount int64) (*bitcoin.Unsigned, error) {
		return bitcoin.BuildSweep(bitcoin.TxRequest{Network: keys.Regtest, UTXOs: utxos, FeeRate: rate, ChangeScript: change, LockTime: 900,
			Payments: []bitcoin.Payment{{Address: to.p2wsh, Amount: amount, ID: "cold"}}})
	}
	values := func(u *bitcoin.Unsigned) []int64 {
		var v []int64
		for _, in := range u.Inputs {
			v = append(v, in.Value)
		}
		return v
	}

	t.Run("smallest first, with change", func(t *testing.T) {
		u, err := sweep(110_000)
		require.NoError(t, err)
		require.Equal(t, []int64{5_000, 20_000, 100_000}, values(u), "the large coin stays hot")
		require.EqualValues(t, 2, u.Tx.Version)
		require.EqualValues(t, 900, u.Tx.LockTime)
		for _, in := range u.Tx.TxIn {
			require.EqualValues(t, bitcoin.RBFSequence, in.Sequence)
		}
		require.Len(t, u.Tx.TxOut, 2)
		require.EqualValues(t, 110_000, u.Tx.TxOut[0].Value, "exactly the amount: the fee is on top")
		require.Equal(t, 1, u.ChangeIndex)
		require.Equal(t, change, u.Tx.TxOut[1].PkScript)
		require.Equal(t, maxVSize(3, u.Tx.TxOut), u.VSize)
		require.Equal(t, rate*u.VSize, u.Fee)
		require.Equal(t, 125_000-110_000-u.Fee, u.Change())
		signed, err := bitcoin.Sign(u, signer)
		require.NoError(t, err)
		verifySigned(t, signed, u.Inputs)
	})

	t.Run("dust change goes to the fee", func(t *testing.T) {
		// Three inputs and one P2WSH output: 258 vB, 2580 sat.
		u, err := sweep(125_000 - 2_580 - 300)
		require.NoError(t, err)
		require.Equal(t, []int64{5_000, 20_000, 100_000}, values(u))
		require.Equal(t, -1, u.ChangeIndex)
		require.Len(t, u.Tx.TxOut, 1)
		require.EqualValues(t, 258, u.VSize)
		require.EqualValues(t, 2_580+300, u.Fee)
	})

	t.Run("all of it", func(t *testing.T) {
		u, err := sweep(1_000_000)
		require.NoError(t, err)
		require.Equal(t, []int64{5_000, 20_000, 100_000, 1_000_000}, values(u), "never the uneconomic coin")
	})

	t.Run("too much", func(t *testing.T) {
		_, err := sweep(1_125_000)
		requireCode(t, chengdui.EExceedsCredits, err)
	})

	t.Run("more inputs than a sweep takes", func(t *testing.T) {
		var many []bitcoin.UTXO
		for i := range bitcoin.MaxSweepInputs + 10 {
			many = append(many, fakeUTXO(i, 10_000))
		}
		many = append(many, fakeUTXO(9999, 10_000_000))
		u, err := bitcoin.BuildSweep(bitcoin.TxRequest{Network: keys.Regtest, UTXOs: many, FeeRate: 1, ChangeScript: change,
			Payments: []bitcoin.Payment{{Address: to.p2wsh, Amount: 6_000_000, ID: "cold"}}})
		require.NoError(t, err)
		require.Less(t, len(u.Inputs), 10, "BuildTx's selection: the large coin first")
		require.EqualValues(t, 6_000_000, u.Tx.TxOut[0].Value)
	})

	for _, tc := range []struct {
		name string
		req  func(*bitcoin.TxRequest)
	}{
		{"no payment", func(r *bitcoin.TxRequest) { r.Payments = nil }},
		{"two payments", func(r *bitcoin.TxRequest) {
			r.Payments = append(r.Payments, bitcoin.Payment{Address: to.p2tr, Amount: 1000, ID: "b"})
		}},
		{"dust", func(r *bitcoin.TxRequest) { r.Payments[0].Amount = 329 }},
		{"other network", func(r *bitcoin.TxRequest) { r.Payments[0].Address = to.mainnet }},
		{"no change script", func(r *bitcoin.TxRequest) { r.ChangeScript = nil }},
		{"fee rate", func(r *bitcoin.TxRequest) { r.FeeRate = 0 }},
		{"locktime", func(r *bitcoin.TxRequest) { r.LockTime = 600_000_000 }},
		{"network", func(r *bitcoin.TxRequest) { r.Network = 0 }},
		{"a coin twice", func(r *bitcoin.TxRequest) { r.UTXOs = append(r.UTXOs, r.UTXOs[0]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := bitcoin.TxRequest{Network: keys.Regtest, UTXOs: slices.Clone(utxos), FeeRate: rate, ChangeScript: change,
				Payments: []bitcoin.Payment{{Address: to.p2wsh, Amount: 10_000, ID: "cold"}}}
			tc.req(&req)
			_, err := bitcoin.BuildSweep(req)
			requireCode(t, chengdui.EInvalid, err)
		})
	}
}

// coldWallet is a 2-of-3 of three seeds other than the hot wallet's.
func coldWallet(t *testing.T, net keys.Network) *cold.Wallet {
	t.Helper()
	var xpubs [3]string
	for i, m := range []string{
		"legal winner thank year wave sausage worth useful legal winner thank yellow",
		"letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
		"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
	} {
		seed, err := keys.MnemonicToSeed(m, "", keys.English)
		require.NoError(t, err)
		k, err := cold.AccountKey(seed, net, 0)
		require.NoError(t, err)
		xpubs[i] = k.String()
	}
	w, err := cold.NewWallet(net, xpubs)
	require.NoError(t, err)
	return w
}

// sweepEnv is a hot wallet on a real btcd, its coins in a real SQLite
// store, and a cold wallet.
type sweepEnv struct {
	t        *testing.T
	ctx      context.Context
	node     *btcdtest.Node
	rpc      *bitcoin.Node
	db       *sqlite.DB
	seed     keys.Seed
	signer   *keys.SeedSigner
	cold     *cold.Wallet
	coinbase int32         // the next coinbase height to spend
	receive  uint32        // the last hot receive index used
	coldNext atomic.Uint32 // the next cold index ColdIndex allocates
	change   atomic.Uint32 // the last change index ChangeAddress allocated
}

func newSweepEnv(t *testing.T, ctx context.Context) *sweepEnv {
	t.Helper()
	node := btcdtest.StartWith(t, btcdtest.Options{Segwit: true})
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chengdui.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	seed := btcdtest.Seed(t)
	return &sweepEnv{t: t, ctx: ctx, node: node, rpc: dial(t, ctx, node), db: db, seed: seed, signer: newSigner(t, seed),
		cold: coldWallet(t, keys.Regtest), coinbase: 1}
}

// config is a sweeper's configuration on the env.
func (e *sweepEnv) config(maxHot, target int64) bitcoin.ColdSweeperConfig {
	return bitcoin.ColdSweeperConfig{
		Chain: watchChain, Network: keys.Regtest, Node: e.rpc, Coins: e.db, Signer: e.signer, Cold: e.cold,
		MaxHot: maxHot, Target: target,
		ColdIndex: func(context.Context) (uint32, error) { return e.coldNext.Add(1) - 1, nil },
		ChangeAddress: func(context.Context) (uint32, []byte, error) {
			i := e.change.Add(1)
			return i, seedAddress(e.t, e.seed, 1, i).ScriptPubKey, nil
		},
		Log: testLog(e.t),
	}
}

func (e *sweepEnv) sweeper(maxHot, target int64) *bitcoin.ColdSweeper {
	e.t.Helper()
	s, err := bitcoin.NewColdSweeper(e.config(maxHot, target))
	require.NoError(e.t, err)
	return s
}

// fund pays values to fresh hot receive addresses from a mature coinbase,
// mines the transaction and records its outputs as the watcher would.
func (e *sweepEnv) fund(values ...int64) []bitcoin.Coin {
	e.t.Helper()
	h, err := e.rpc.BlockHashAt(e.ctx, e.coinbase)
	require.NoError(e.t, err)
	b, err := e.rpc.Block(e.ctx, h)
	require.NoError(e.t, err)
	e.coinbase++
	cb := b.Transactions[0]
	var payments []bitcoin.Payment
	var idx []uint32
	for _, v := range values {
		e.receive++
		idx = append(idx, e.receive)
		payments = append(payments, bitcoin.Payment{Address: seedAddress(e.t, e.seed, 0, e.receive).String, Amount: v, ID: string(rune('a' + len(payments)))})
	}
	_, tip, err := e.rpc.BestBlock(e.ctx)
	require.NoError(e.t, err)
	u, err := bitcoin.BuildTx(bitcoin.TxRequest{Network: keys.Regtest, FeeRate: 2, LockTime: uint32(tip), Payments: payments,
		UTXOs: []bitcoin.UTXO{{OutPoint: wire.OutPoint{Hash: cb.TxHash()}, Value: cb.TxOut[0].Value, PkScript: cb.TxOut[0].PkScript,
			Path: keys.P2WPKH.Path(keys.Regtest, 0, 0, 0), Confirmations: 100}},
		ChangeScript: seedAddress(e.t, e.seed, 1, 1000).ScriptPubKey, // not a hot coin
	})
	require.NoError(e.t, err)
	signed, err := bitcoin.Sign(u, e.signer)
	require.NoError(e.t, err)
	_, err = e.rpc.Broadcast(e.ctx, signed)
	require.NoError(e.t, err)
	blocks := e.node.Mine(e.t, 1)
	var coins []bitcoin.Coin
	for i, p := range payments {
		coins = append(coins, e.put(signed, i, 0, idx[i], *blocks[0]))
		require.EqualValues(e.t, p.Amount, coins[i].Value)
	}
	return coins
}

// put records output vout of tx, at change/index of the hot account, as
// confirmed in block.
func (e *sweepEnv) put(tx *wire.MsgTx, vout int, change, index uint32, block chainhash.Hash) bitcoin.Coin {
	e.t.Helper()
	_, height, err := e.rpc.BestBlock(e.ctx)
	require.NoError(e.t, err)
	c := bitcoin.Coin{Chain: watchChain, TxID: tx.TxHash().String(), Vout: uint32(vout), Value: tx.TxOut[vout].Value,
		PkScript: tx.TxOut[vout].PkScript, Address: seedAddress(e.t, e.seed, change, index).String, Change: change, Index: index,
		Height: uint64(height), BlockHash: block.String(), CreatedAt: time.Now().UTC()}
	require.Equal(e.t, seedAddress(e.t, e.seed, change, index).ScriptPubKey, c.PkScript)
	require.NoError(e.t, e.db.PutCoin(e.ctx, c))
	return c
}

// spentBy returns the SpentBy of the stored coin.
func (e *sweepEnv) spentBy(c bitcoin.Coin) string {
	e.t.Helper()
	cs, err := e.db.Coins(e.ctx, watchChain, false)
	require.NoError(e.t, err)
	for _, s := range cs {
		if s.TxID == c.TxID && s.Vout == c.Vout {
			return s.SpentBy
		}
	}
	e.t.Fatalf("coin %s:%d is not stored", c.TxID, c.Vout)
	return ""
}

func (e *sweepEnv) tick(s *bitcoin.ColdSweeper) bitcoin.Sweep {
	e.t.Helper()
	sw, err := s.Tick(e.ctx)
	require.NoError(e.t, err)
	return sw
}

// TestColdSweeper sweeps a hot wallet on a real btcd with its coins in
// SQLite: nothing below the maximum; above it, exactly the excess over the
// target to a new cold address, from the smallest coins, never a coin a
// withdrawal reserved nor an unconfirmed one; nothing while the sweep is
// unconfirmed, nor once confirmed (hysteresis); then Run sweeps again and
// retries the fee's booking.
func TestColdSweeper(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	e := newSweepEnv(t, ctx)
	const btc = btcutil.SatoshiPerBitcoin
	const maxHot, target = 3 * btc, 2 * btc
	s := e.sweeper(maxHot, target)

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			edit func(*bitcoin.ColdSweeperConfig)
		}{
			{"no cold wallet", func(c *bitcoin.ColdSweeperConfig) { c.Cold = nil }},
			{"no coins", func(c *bitcoin.ColdSweeperConfig) { c.Coins = nil }},
			{"no index allocator", func(c *bitcoin.ColdSweeperConfig) { c.ColdIndex = nil }},
			{"no change", func(c *bitcoin.ColdSweeperConfig) { c.ChangeAddress = nil }},
			{"no max", func(c *bitcoin.ColdSweeperConfig) { c.MaxHot = 0 }},
			{"target at max", func(c *bitcoin.ColdSweeperConfig) { c.Target = c.MaxHot }},
			{"negative target", func(c *bitcoin.ColdSweeperConfig) { c.Target = -1 }},
			{"dust sweeps", func(c *bitcoin.ColdSweeperConfig) { c.MinSweep = 329 }},
			{"cold on mainnet", func(c *bitcoin.ColdSweeperConfig) { c.Cold = coldWallet(t, keys.Mainnet) }},
			{"hot on testnet", func(c *bitcoin.ColdSweeperConfig) { c.Network = keys.Testnet }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := e.config(maxHot, target)
				tc.edit(&cfg)
				_, err := bitcoin.NewColdSweeper(cfg)
				requireCode(t, chengdui.EInvalid, err)
			})
		}
	})

	small := e.fund(10_000_000, 20_000_000, 30_000_000, 100_000_000, 120_000_000) // 2.8 BTC
	// A coin a withdrawal batch reserved, and an unconfirmed deposit: not
	// the sweeper's, whatever their value.
	reserved := e.fund(200_000_000)[0]
	require.NoError(t, e.db.SpendCoins(ctx, watchChain, []bitcoin.OutPointRef{{TxID: reserved.TxID, Vout: reserved.Vout}}, "withdrawal-batch"))
	unconfirmed := bitcoin.Coin{Chain: watchChain, TxID: chainhash.DoubleHashH([]byte("mempool")).String(), Value: 500_000_000,
		PkScript: seedAddress(t, e.seed, 0, 999).ScriptPubKey, Index: 999, CreatedAt: time.Now().UTC()}
	require.NoError(t, e.db.PutCoin(ctx, unconfirmed))

	t.Run("below the maximum", func(t *testing.T) {
		require.Zero(t, e.tick(s))
		require.Zero(t, e.coldNext.Load(), "no cold address used")
		// Above the maximum, but by less than MinSweep.
		near := e.sweeper(280_000_000-1, 280_000_000-50_000)
		require.Zero(t, e.tick(near))
	})

	more := e.fund(50_000_000)[0] // 3.3 BTC
	sw := e.tick(s)
	t.Logf("sweep: %+v", sw)
	require.NotEmpty(t, sw.TxID)
	require.EqualValues(t, 330_000_000, sw.Hot)
	require.EqualValues(t, 130_000_000, sw.Amount, "down to the target")
	require.Zero(t, sw.ColdIndex)
	addr0, err := e.cold.Address(0)
	require.NoError(t, err)
	require.Equal(t, addr0, sw.ColdAddress)
	require.Equal(t, 5, sw.Inputs, "0.1 + 0.2 + 0.3 + 0.5 + 1.0: the smallest first")
	require.EqualValues(t, 210_000_000-130_000_000-sw.Fee, sw.Change)
	swept := append(slices.Clone(small[:4]), more)
	for _, c := range swept {
		require.Equal(t, sw.TxID, e.spentBy(c), "coin %d sat", c.Value)
	}
	require.Empty(t, e.spentBy(small[4]), "the largest coin stays hot")
	require.Equal(t, "withdrawal-batch", e.spentBy(reserved))
	require.Empty(t, e.spentBy(unconfirmed))
	txid, err := chainhash.NewHashFromStr(sw.TxID)
	require.NoError(t, err)
	pool, err := e.rpc.RawMempool(ctx)
	require.NoError(t, err)
	require.Contains(t, pool, *txid)

	t.Run("nothing while unconfirmed", func(t *testing.T) {
		// A payer that took a coin over, failed and let it go must not
		// leave it free: the tick marks it spent by the sweep again.
		op := []bitcoin.OutPointRef{{TxID: more.TxID, Vout: more.Vout}}
		require.NoError(t, e.db.SpendCoins(ctx, watchChain, op, "a-failed-batch"))
		require.NoError(t, e.db.UnspendCoins(ctx, watchChain, "a-failed-batch"))
		require.Empty(t, e.spentBy(more))
		require.Zero(t, e.tick(s))
		require.Equal(t, sw.TxID, e.spentBy(more))
		require.EqualValues(t, 1, e.coldNext.Load())
	})

	blocks := e.node.Mine(t, 1)
	got, confs, err := e.rpc.Transaction(ctx, *txid)
	require.NoError(t, err)
	require.EqualValues(t, 1, confs)
	_, coldScript, err := e.cold.Script(cold.Receive, 0)
	require.NoError(t, err)
	require.Len(t, got.TxOut, 2)
	require.Equal(t, coldScript, got.TxOut[0].PkScript)
	require.EqualValues(t, 130_000_000, got.TxOut[0].Value, "exactly the excess reaches cold storage")
	res, err := e.node.Client.GetTxOut(txid, 0, false)
	require.NoError(t, err)
	require.NotNil(t, res, "the cold output is unspent on chain")
	var in int64
	for _, c := range swept {
		in += c.Value
	}
	require.Equal(t, in-outputSum(got.TxOut), sw.Fee, "the fee returned is the fee paid")
	rate, err := e.rpc.EstimateFeeRate(ctx, bitcoin.DefaultSweepFeeBlocks)
	require.NoError(t, err)
	require.GreaterOrEqual(t, sw.Fee, rate*vsizeOf(got))
	t.Logf("sweep of %d coins: %d vB, fee %d sat at %d sat/vB", sw.Inputs, vsizeOf(got), sw.Fee, rate)

	// The watcher records the change, confirmed.
	changeCoin := e.put(got, 1, 1, e.change.Load(), *blocks[0])
	require.EqualValues(t, sw.Change, changeCoin.Value)

	t.Run("hysteresis", func(t *testing.T) {
		require.Zero(t, e.tick(s), "2 BTC less the fee")
		e.fund(90_000_000)
		require.Zero(t, e.tick(s), "2.9 BTC less the fee is above the target, not the maximum")
		require.EqualValues(t, 1, e.coldNext.Load())
	})

	t.Run("run", func(t *testing.T) {
		e.fund(20_000_000) // 3.1 BTC less the first fee
		booked := make(chan bitcoin.Sweep, 1)
		var calls atomic.Int32
		cfg := e.config(maxHot, target)
		cfg.Interval = 10 * time.Millisecond
		cfg.OnSweep = func(_ context.Context, s bitcoin.Sweep) error {
			if calls.Add(1) == 1 {
				return errors.New("ledger unavailable")
			}
			booked <- s
			return nil
		}
		r, err := bitcoin.NewColdSweeper(cfg)
		require.NoError(t, err)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(runCtx) }()
		var sw2 bitcoin.Sweep
		select {
		case sw2 = <-booked:
		case <-ctx.Done():
			t.Fatal("no sweep booked")
		}
		stop()
		require.NoError(t, <-done)
		require.EqualValues(t, 2, calls.Load(), "booked on the retry")
		require.EqualValues(t, 1, sw2.ColdIndex, "a new cold address")
		require.Equal(t, 310_000_000-sw.Fee-target, sw2.Amount)
		addr1, err := e.cold.Address(1)
		require.NoError(t, err)
		require.Equal(t, addr1, sw2.ColdAddress)
		e.node.Mine(t, 1)
		h, err := chainhash.NewHashFromStr(sw2.TxID)
		require.NoError(t, err)
		tx, confs, err := e.rpc.Transaction(ctx, *h)
		require.NoError(t, err)
		require.EqualValues(t, 1, confs)
		require.Equal(t, sw2.Amount, tx.TxOut[0].Value)
	})
}
