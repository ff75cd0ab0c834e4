package bitcoin_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/deposit"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/sqlite"
)

// Shape of the catch-up benchmark's chain.
const (
	benchBlocks      = 500    // blocks per part of the chain
	benchTxsPerBlock = 200    // transactions per block, besides the coinbase
	benchAddresses   = 10_000 // issued deposit addresses
	benchDepositsPer = 100    // in the second part, one transaction in benchDepositsPer pays an issued address
	benchAccounts    = 10     // ledger accounts the deposits resolve to
	benchFetchers    = 3      // connections besides the watcher's Node that fetch blocks
)

// benchChain is a regtest chain built for the catch-up benchmark.
type benchChain struct {
	node    *btcdtest.Node
	account *keys.Watcher
	addrs   []chengdui.DepositAddress
	scripts [][]byte // of addrs

	miner  *benchMiner
	tips   []wire.OutPoint // the last output of each chain of transactions
	values []int64         // and its value
	n      int             // transactions so far
	paid   int             // deposits so far
}

// BenchmarkWatcherCatchUp measures how fast a watcher that has fallen
// behind scans blocks of benchTxsPerBlock transactions with
// benchAddresses issued addresses: "quiet" blocks pay none of them, "busy"
// ones pay one in benchDepositsPer transactions, each a deposit reported,
// stored as a coin and credited (policy depth 2, SQLite with fsync). Each
// iteration is a new database and a new watcher, loaded (addresses
// derived) before the timer starts. The busy blocks are mined after the
// quiet ones were measured, as a watcher scans to the node's tip.
func BenchmarkWatcherCatchUp(b *testing.B) {
	chain := buildBenchChain(b)
	ctx := b.Context()
	rpc, err := bitcoin.Dial(ctx, bitcoin.Config{Host: chain.node.Host, User: chain.node.User, Pass: chain.node.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(b, err)
	b.Cleanup(func() { rpc.Close() })
	var fetchers []*bitcoin.Node
	for range benchFetchers {
		f, err := bitcoin.Dial(ctx, bitcoin.Config{Host: chain.node.Host, User: chain.node.User, Pass: chain.node.Pass, Network: keys.Regtest, DisableTLS: true})
		require.NoError(b, err)
		b.Cleanup(func() { f.Close() })
		fetchers = append(fetchers, f)
	}
	for _, part := range []struct {
		name string
		busy bool
	}{{"quiet", false}, {"busy", true}} {
		from, to := chain.extend(b, part.busy)
		b.Run(part.name, func(b *testing.B) {
			blocks, deposits := 0, 0
			for b.Loop() {
				b.StopTimer()
				w, db := benchWatcher(b, chain, rpc, fetchers, from)
				b.StartTimer()
				require.NoError(b, w.Sync(ctx))
				b.StopTimer()
				cur, _, err := db.Cursor(ctx, watchChain)
				require.NoError(b, err)
				require.Equal(b, to, cur.Height)
				ds, err := db.Deposits(ctx, deposit.Filter{Chain: watchChain, Limit: 1000})
				require.NoError(b, err)
				blocks, deposits = blocks+int(to-from+1), deposits+len(ds)
				b.StartTimer()
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(blocks)/secs, "blocks/s")
			b.ReportMetric(float64(blocks*benchTxsPerBlock)/secs, "txs/s")
			b.ReportMetric(float64(deposits)/secs, "deposits/s")
		})
	}
}

// benchWatcher opens a database with a ledger and a watcher that starts at
// height from, loaded. Everything is closed when b ends.
func benchWatcher(b *testing.B, chain *benchChain, rpc *bitcoin.Node, fetchers []*bitcoin.Node, from uint64) (*bitcoin.Watcher, *sqlite.DB) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(b, err)
	eng := ledger.New(db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(b, eng.Start(ctx))
	b.Cleanup(eng.Stop)
	_, err = eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(b, err)
	owners := benchResolver{}
	for i, a := range chain.addrs {
		owners[a.Address] = benchAccount(i % benchAccounts)
	}
	for i := range benchAccounts {
		_, err := eng.CreateAccount(ctx, chengdui.Account{ID: benchAccount(i), Asset: "BTC"})
		require.NoError(b, err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	deposits := deposit.New(db, eng, owners, deposit.Config{Policies: map[string]deposit.Policy{"BTC": {Depth: 2}}, Log: quiet})
	w, err := bitcoin.NewWatcher(bitcoin.WatcherConfig{
		Chain: watchChain, Node: rpc, Asset: "BTC", Deposits: deposits, Coins: db, Receive: chain.account,
		Addresses:   func(context.Context) ([]chengdui.DepositAddress, error) { return chain.addrs, nil },
		StartHeight: from, Fetchers: fetchers, Log: quiet,
	})
	require.NoError(b, err)
	require.NoError(b, w.Load(ctx))
	return w, db
}

func benchAccount(i int) string { return "bench:" + string(rune('a'+i)) }

// benchResolver resolves issued addresses to a few accounts.
type benchResolver map[string]string

func (r benchResolver) Resolve(_ context.Context, p deposit.Payment) (string, error) {
	if acct, ok := r[p.Address]; ok {
		return acct, nil
	}
	return "", chengdui.Errorf(chengdui.ENotFound, "no account receives at %s", p.Address)
}

// buildBenchChain mines, with submitblock on a new node, 100 blocks whose
// coinbases pay OP_TRUE, then a block fanning the first coinbase out into
// benchTxsPerBlock chains of transactions for extend. Bare OP_TRUE outputs
// are spent with a P2PKH-sized signature script of filler pushes, so
// nothing is signed; blocks may hold non-standard scripts.
func buildBenchChain(b *testing.B) *benchChain {
	b.Helper()
	start := time.Now()
	node := btcdtest.Start(b)
	seed := btcdtest.Seed(b)
	xpub, err := keys.SchemeXPub(seed, keys.P2WPKH, keys.Regtest, hotAccount)
	require.NoError(b, err)
	account, err := keys.NewWatcher(keys.P2WPKH, keys.Regtest, xpub)
	require.NoError(b, err)
	c := &benchChain{node: node, account: account, addrs: make([]chengdui.DepositAddress, benchAddresses),
		scripts: make([][]byte, benchAddresses)}
	var wg sync.WaitGroup
	const workers = 8
	for g := range workers {
		wg.Go(func() {
			for i := g; i < benchAddresses; i += workers {
				s, err := account.Address(0, uint32(i))
				if err != nil {
					panic(err)
				}
				a, err := keys.ParseBitcoinAddress(s, keys.Regtest)
				if err != nil {
					panic(err)
				}
				c.addrs[i] = chengdui.DepositAddress{Address: s, Scheme: "p2wpkh", Network: "regtest", Index: uint32(i)}
				c.scripts[i] = a.ScriptPubKey
			}
		})
	}

	c.miner = &benchMiner{b: b, node: node, params: &chaincfg.RegressionNetParams, time: time.Now().Add(-3 * time.Hour).Truncate(time.Second)}
	c.miner.prev, err = node.Client.GetBestBlockHash()
	require.NoError(b, err)
	var first *wire.MsgTx
	for range 100 {
		cb := c.miner.mine(nil)
		if first == nil {
			first = cb
		}
	}
	fan := wire.NewMsgTx(2)
	fan.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: first.TxHash()}, fillerSigScript, nil))
	each := first.TxOut[0].Value / benchTxsPerBlock
	for range benchTxsPerBlock {
		fan.AddTxOut(wire.NewTxOut(each, opTrue))
	}
	c.miner.mine([]*wire.MsgTx{fan})
	c.tips = make([]wire.OutPoint, benchTxsPerBlock)
	c.values = make([]int64, benchTxsPerBlock)
	for j := range c.tips {
		c.tips[j], c.values[j] = wire.OutPoint{Hash: fan.TxHash(), Index: uint32(j)}, each
	}
	wg.Wait()
	b.Logf("bench chain: base of %d blocks and %d addresses in %v", c.miner.height, benchAddresses, time.Since(start).Round(time.Millisecond))
	return c
}

// extend mines benchBlocks blocks where every chain of transactions takes
// a step: a transaction spending the chain's last output, paying 1,000 sat
// to a P2WPKH script and the rest to the chain's next output. In busy
// blocks one transaction in benchDepositsPer pays an issued address (each
// a different one); the others pay scripts nobody watches.
func (c *benchChain) extend(b *testing.B, busy bool) (from, to uint64) {
	b.Helper()
	start := time.Now()
	from = uint64(c.miner.height) + 1
	for range benchBlocks {
		txs := make([]*wire.MsgTx, benchTxsPerBlock)
		for j := range txs {
			c.n++
			payee := make([]byte, 22)
			payee[0], payee[1] = txscript.OP_0, txscript.OP_DATA_20
			binary.BigEndian.PutUint64(payee[2:], uint64(c.n))
			if busy && c.n%benchDepositsPer == 0 {
				payee = c.scripts[c.paid%benchAddresses]
				c.paid++
			}
			tx := wire.NewMsgTx(2)
			tx.AddTxIn(wire.NewTxIn(&c.tips[j], fillerSigScript, nil))
			tx.AddTxOut(wire.NewTxOut(1000, payee))
			c.values[j] -= 1000
			tx.AddTxOut(wire.NewTxOut(c.values[j], opTrue))
			c.tips[j] = wire.OutPoint{Hash: tx.TxHash(), Index: 1}
			txs[j] = tx
		}
		c.miner.mine(txs)
	}
	b.Logf("bench chain: %d blocks to %d in %v", benchBlocks, c.miner.height, time.Since(start).Round(time.Millisecond))
	return from, uint64(c.miner.height)
}

// opTrue is a bare OP_TRUE output script.
var opTrue = []byte{txscript.OP_TRUE}

// fillerSigScript spends opTrue with the size of a P2PKH signature script:
// a 72-byte and a 33-byte push, left on the stack under OP_TRUE's true.
var fillerSigScript = func() []byte {
	s, err := txscript.NewScriptBuilder().AddData(make([]byte, 72)).AddData(make([]byte, 33)).Script()
	if err != nil {
		panic(err)
	}
	return s
}()

// benchMiner builds blocks on the node's tip and submits them.
type benchMiner struct {
	b      *testing.B
	node   *btcdtest.Node
	params *chaincfg.Params
	prev   *chainhash.Hash
	height int32
	time   time.Time
}

// mine submits a block of txs after a coinbase paying the subsidy to
// OP_TRUE, and returns the coinbase.
func (m *benchMiner) mine(txs []*wire.MsgTx) *wire.MsgTx {
	m.b.Helper()
	m.height++
	m.time = m.time.Add(time.Second)
	sig, err := txscript.NewScriptBuilder().AddInt64(int64(m.height)).AddData([]byte("chengdui bench")).Script()
	require.NoError(m.b, err)
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), sig, nil))
	cb.AddTxOut(wire.NewTxOut(blockchain.CalcBlockSubsidy(m.height, m.params), opTrue))
	all := append([]*wire.MsgTx{cb}, txs...)
	utxs := make([]*btcutil.Tx, len(all))
	for i, tx := range all {
		utxs[i] = btcutil.NewTx(tx)
	}
	block := &wire.MsgBlock{Header: wire.BlockHeader{
		Version: 4, PrevBlock: *m.prev, MerkleRoot: blockchain.CalcMerkleRoot(utxs, false),
		Timestamp: m.time, Bits: m.params.PowLimitBits,
	}, Transactions: all}
	target := blockchain.CompactToBig(m.params.PowLimitBits)
	for block.Header.Nonce = 0; ; block.Header.Nonce++ {
		h := block.Header.BlockHash()
		if blockchain.HashToBig(&h).Cmp(target) <= 0 {
			break
		}
	}
	require.NoError(m.b, m.node.Client.SubmitBlock(btcutil.NewBlock(block), nil), "block %d", m.height)
	h := block.BlockHash()
	m.prev = &h
	return cb
}

// BenchmarkWatcherLatency measures how long a deposit takes from the block
// that confirms it being mined to its credit in the ledger (policy depth
// 1), with the watcher running as a service at the default Poll. The
// payment is in the mempool, and seen there, before the block.
func BenchmarkWatcherLatency(b *testing.B) {
	e := newWatchEnv(b, nil, nil, deposit.Policy{Depth: 1})
	w := e.watcher(func(c *bitcoin.WatcherConfig) {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		c.StartHeight = btcdtest.SegwitHeight + 2
	})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	user, addr := e.user()
	miner := e.key(0, 0, 0)
	prev := e.payFrom(1, 10_000, false, wire.NewTxOut(btc(1), elsewhere))
	e.broadcast(prev)
	e.node.Mine(b, 1)

	var latencies []time.Duration
	balance := e.balance(user)
	for b.Loop() {
		b.StopTimer()
		change := prev.TxOut[len(prev.TxOut)-1]
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: prev.TxHash(), Index: uint32(len(prev.TxOut) - 1)}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(10_000, addr.ScriptPubKey))
		tx.AddTxOut(wire.NewTxOut(change.Value-10_000-1_000, change.PkScript))
		signInputs(b, tx, []*wire.TxOut{change}, []*btcec.PrivateKey{miner})
		e.broadcast(tx)
		waitUntil(b, func() bool {
			ds, err := e.db.DepositsOfTx(e.ctx, watchChain, tx.TxHash().String())
			require.NoError(b, err)
			return len(ds) == 1
		})
		b.StartTimer()
		mined := time.Now()
		e.node.Mine(b, 1)
		balance += 10_000
		waitUntil(b, func() bool { return e.balance(user) == balance })
		latencies = append(latencies, time.Since(mined))
		prev = tx
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// waitUntil polls cond every millisecond for up to 30 s.
func waitUntil(b *testing.B, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("condition not met within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
}
