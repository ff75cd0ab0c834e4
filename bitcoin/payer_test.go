package bitcoin_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/auth"
	"chengdui/bitcoin"
	"chengdui/bitcoin/btcdtest"
	"chengdui/deposit"
	"chengdui/keys"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/sqlite"
	"chengdui/withdraw"
)

// payoutEnv is the whole crypto payout path on a real btcd: payouts in a
// real SQLite store and ledger, the payout service sending them through
// payout.ChainSender and the withdraw service to the Bitcoin hot wallet's
// Payer, whose coins the env funds from mature coinbases.
type payoutEnv struct {
	tb       testing.TB
	ctx      context.Context
	node     *btcdtest.Node
	rpc      *bitcoin.Node
	db       *sqlite.DB
	eng      *ledger.Engine
	seed     keys.Seed
	signer   *keys.SeedSigner
	payer    *bitcoin.Payer
	ws       *withdraw.Service
	payouts  *payout.Service
	coinbase int32         // the next coinbase height to spend
	receive  uint32        // the last hot receive index used
	change   atomic.Uint32 // the last change index ChangeAddress allocated
	funded   int           // fund transfers made
}

func newPayoutEnv(tb testing.TB, ctx context.Context) *payoutEnv {
	tb.Helper()
	e := &payoutEnv{tb: tb, ctx: ctx, node: btcdtest.StartWith(tb, btcdtest.Options{Segwit: true}), seed: btcdtest.Seed(tb), coinbase: 1}
	var err error
	e.rpc, err = bitcoin.Dial(ctx, bitcoin.Config{Host: e.node.Host, User: e.node.User, Pass: e.node.Pass, Network: keys.Regtest, DisableTLS: true})
	require.NoError(tb, err)
	tb.Cleanup(func() { e.rpc.Close() })
	e.signer, err = keys.NewSeedSigner(e.seed)
	require.NoError(tb, err)
	tb.Cleanup(func() { e.signer.Close() })
	e.db, err = sqlite.Open(ctx, filepath.Join(tb.TempDir(), "chengdui.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { e.db.Close() })
	_, err = e.db.Migrate(ctx)
	require.NoError(tb, err)
	e.eng = ledger.New(e.db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(tb, e.eng.Start(ctx))
	tb.Cleanup(e.eng.Stop)
	_, err = e.eng.CreateAsset(ctx, chengdui.Asset{Code: "BTC", Network: "bitcoin", Decimals: 8})
	require.NoError(tb, err)
	for _, a := range []chengdui.Account{{ID: deposit.ChainAccount("BTC"), Asset: "BTC"},
		{ID: payout.StoreAccount("s1", "BTC"), Asset: "BTC", Flags: chengdui.DebitsMustNotExceedCredits}} {
		_, err := e.eng.CreateAccount(ctx, a)
		require.NoError(tb, err)
	}
	log := slog.New(slog.DiscardHandler)
	e.ws = withdraw.New(e.db, e.eng, e.db, auth.Guard{F: e.db}, withdraw.Config{Log: log})
	e.payer = bitcoin.NewPayer(bitcoin.PayerConfig{Chain: watchChain, Network: keys.Regtest, Asset: "BTC", Node: e.rpc, Coins: e.db,
		Signer: e.signer, Withdrawals: e.ws, Log: log,
		ChangeAddress: func(context.Context) (uint32, []byte, error) {
			i := e.change.Add(1)
			a, err := deriveAddress(e.seed, 0, 1, i)
			return i, a.ScriptPubKey, err
		}})
	e.ws.AddPayer(e.payer)
	sender := payout.NewChainSender(e.ws)
	e.payouts, err = payout.New(payout.Config{Store: e.db, Ledger: e.eng, Assets: e.db, Crypto: sender, Log: log})
	require.NoError(tb, err)
	sender.Attach(e.payouts)
	return e
}

// deriveAddress is the regtest P2WPKH address m/84'/1'/account'/change/index.
func deriveAddress(seed keys.Seed, account, change, index uint32) (keys.BitcoinAddress, error) {
	s, err := keys.DeriveAddress(seed, keys.P2WPKH, keys.Regtest, account, change, index)
	if err != nil {
		return keys.BitcoinAddress{}, err
	}
	return keys.ParseBitcoinAddress(s, keys.Regtest)
}

// fundHot pays values to fresh hot receive addresses from a mature
// coinbase, mines the transaction and records its outputs as the watcher
// would. The store is credited the same total, as deposits would.
func (e *payoutEnv) fundHot(values ...int64) {
	tb := e.tb
	tb.Helper()
	h, err := e.rpc.BlockHashAt(e.ctx, e.coinbase)
	require.NoError(tb, err)
	b, err := e.rpc.Block(e.ctx, h)
	require.NoError(tb, err)
	e.coinbase++
	cb := b.Transactions[0]
	var payments []bitcoin.Payment
	var total int64
	for i, v := range values {
		e.receive++
		a, err := deriveAddress(e.seed, 0, 0, e.receive)
		require.NoError(tb, err)
		payments = append(payments, bitcoin.Payment{Address: a.String, Amount: v, ID: fmt.Sprint(i)})
		total += v
	}
	_, tip, err := e.rpc.BestBlock(e.ctx)
	require.NoError(tb, err)
	notHot, err := deriveAddress(e.seed, 0, 1, 1_000_000)
	require.NoError(tb, err)
	u, err := bitcoin.BuildTx(bitcoin.TxRequest{Network: keys.Regtest, FeeRate: 2, LockTime: uint32(tip), Payments: payments,
		UTXOs: []bitcoin.UTXO{{OutPoint: wire.OutPoint{Hash: cb.TxHash()}, Value: cb.TxOut[0].Value, PkScript: cb.TxOut[0].PkScript,
			Path: keys.P2WPKH.Path(keys.Regtest, 0, 0, 0), Confirmations: 100}},
		ChangeScript: notHot.ScriptPubKey})
	require.NoError(tb, err)
	signed, err := bitcoin.Sign(u, e.signer)
	require.NoError(tb, err)
	_, err = e.rpc.Broadcast(e.ctx, signed)
	require.NoError(tb, err)
	block := e.node.Mine(tb, 1)[0]
	_, height, err := e.rpc.BestBlock(e.ctx)
	require.NoError(tb, err)
	for i := range payments {
		out := signed.TxOut[i]
		require.NoError(tb, e.db.PutCoin(e.ctx, bitcoin.Coin{Chain: watchChain, TxID: signed.TxHash().String(), Vout: uint32(i), Value: out.Value,
			PkScript: out.PkScript, Address: payments[i].Address, Index: e.receive - uint32(len(payments)-1-i),
			Height: uint64(height), BlockHash: block.String(), CreatedAt: time.Now().UTC()}))
	}
	e.funded++
	e.transfer(chengdui.Transfer{ID: fmt.Sprintf("deposit-%d", e.funded), DebitAccountID: deposit.ChainAccount("BTC"),
		CreditAccountID: payout.StoreAccount("s1", "BTC"), Amount: chengdui.Amount{Lo: uint64(total)}, Code: deposit.CodeDeposit})
}

func (e *payoutEnv) transfer(t chengdui.Transfer) {
	e.tb.Helper()
	res, err := e.eng.CreateTransfers(e.ctx, []chengdui.Transfer{t})
	require.NoError(e.tb, err)
	require.NoError(e.tb, res[0].Err)
}

func (e *payoutEnv) account(id string) chengdui.Account {
	e.tb.Helper()
	a, err := e.eng.Account(e.ctx, id)
	require.NoError(e.tb, err)
	return a
}

// payoutRun is a round of payouts sent and confirmed.
type payoutRun struct {
	ids   []string
	txids map[string]bool
	sent  time.Duration // from the first Dispatch to every payout on chain
}

// payOut creates n payouts of the store to distinct addresses, dispatches
// them and ticks the payer until none is pending, then mines a block and
// ticks again so that they complete.
func (e *payoutEnv) payOut(round, n int) payoutRun {
	tb := e.tb
	tb.Helper()
	r := payoutRun{txids: map[string]bool{}}
	for i := range n {
		to, err := deriveAddress(e.seed, 1, uint32(round), uint32(i))
		require.NoError(tb, err)
		p, err := e.payouts.Create(e.ctx, payout.CreateRequest{ID: fmt.Sprintf("r%d-%d", round, i), StoreID: "s1", Asset: "BTC",
			Amount: fmt.Sprintf("0.%08d", 10_000+i), Method: payout.Chain, Address: to.String, CreatedBy: "ops"})
		require.NoError(tb, err)
		r.ids = append(r.ids, p.ID)
	}
	start := time.Now()
	sent, err := e.payouts.Dispatch(e.ctx)
	require.NoError(tb, err)
	require.Equal(tb, n, sent)
	for ticks := 0; ; ticks++ {
		require.Less(tb, ticks, 50, "the payer keeps leaving payouts pending")
		require.NoError(tb, e.payer.Tick(e.ctx))
		pending, err := e.db.Withdrawals(e.ctx, withdraw.Filter{Chain: watchChain, Status: withdraw.Pending, Limit: 1})
		require.NoError(tb, err)
		if len(pending) == 0 {
			break
		}
	}
	r.sent = time.Since(start)
	e.node.Mine(tb, 1)
	require.NoError(tb, e.payer.Tick(e.ctx))
	for _, id := range r.ids {
		w, err := e.db.Withdrawal(e.ctx, id)
		require.NoError(tb, err)
		r.txids[w.TxID] = true
	}
	return r
}

// TestPayoutBatches sends 1,000 CHAIN payouts on a real btcd: they leave
// in at most 10 transactions (the Payer batches DefaultMaxBatch outputs
// per transaction), every payout completes with its transaction's id, and
// the money is conserved: the store paid exactly the amounts, the chain
// account lost the amounts and the fees, and the fees booked are what the
// transactions paid.
func TestPayoutBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	e := newPayoutEnv(t, ctx)
	e.fundHot(btcutil.SatoshiPerBitcoin, btcutil.SatoshiPerBitcoin, btcutil.SatoshiPerBitcoin)
	const n = 1000
	r := e.payOut(0, n)
	t.Logf("%d payouts in %d transactions, on chain %v after Dispatch", n, len(r.txids), r.sent)
	require.LessOrEqual(t, len(r.txids), 10)

	var amounts, fees int64
	byTx := map[string]int64{} // fee shares booked per transaction
	for i, id := range r.ids {
		p, err := e.payouts.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, payout.Completed, p.State, id)
		w, err := e.db.Withdrawal(ctx, id)
		require.NoError(t, err)
		require.Equal(t, withdraw.Completed, w.Status)
		require.Equal(t, withdraw.OriginPayout, w.Origin)
		require.Equal(t, w.TxID, p.Ref, "the payout names its transaction")
		require.EqualValues(t, 10_000+i, p.Amount.Lo)
		amounts += int64(p.Amount.Lo)
		byTx[w.TxID] += int64(w.Fee.Lo)
	}
	for txid, booked := range byTx {
		h, err := chainhash.NewHashFromStr(txid)
		require.NoError(t, err)
		tx, conf, err := e.rpc.Transaction(ctx, *h)
		require.NoError(t, err)
		require.EqualValues(t, 1, conf)
		paid := txFee(t, ctx, e.rpc, tx)
		require.Equal(t, paid, booked, "the fee shares of %s add up to its fee", txid)
		fees += paid
		t.Logf("tx %s: %d outputs, %d vB, fee %d sat", txid, len(tx.TxOut), vsizeOf(tx), paid)
	}
	const funded = 3 * btcutil.SatoshiPerBitcoin
	store := e.account(payout.StoreAccount("s1", "BTC"))
	require.EqualValues(t, funded-amounts, int64(store.CreditsPosted.Lo-store.DebitsPosted.Lo))
	require.True(t, store.DebitsPending.IsZero())
	chain := e.account(deposit.ChainAccount("BTC"))
	require.True(t, chain.CreditsPending.IsZero(), "no hold left open")
	require.EqualValues(t, amounts+fees, int64(chain.CreditsPosted.Lo), "what left the chain left the chain account")
	require.EqualValues(t, funded, int64(chain.DebitsPosted.Lo))
	require.EqualValues(t, fees, int64(e.account("platform:BTC:network-fees").DebitsPosted.Lo))
}

// txFee is what a confirmed transaction paid: its inputs' values, read
// from the node, less its outputs.
func txFee(t testing.TB, ctx context.Context, rpc *bitcoin.Node, tx *wire.MsgTx) int64 {
	t.Helper()
	var in, out int64
	for _, ti := range tx.TxIn {
		prev, _, err := rpc.Transaction(ctx, ti.PreviousOutPoint.Hash)
		require.NoError(t, err)
		in += prev.TxOut[ti.PreviousOutPoint.Index].Value
	}
	for _, o := range tx.TxOut {
		out += o.Value
	}
	return in - out
}

// BenchmarkPayoutBatches1000 sends 1,000 CHAIN payouts per iteration on a
// real btcd, from Dispatch to every payout in a broadcast transaction
// (the Payer's ticks back to back, not its 2 s timer), and reports the
// transactions used and the time per payout. Run with -benchtime=3x.
func BenchmarkPayoutBatches1000(b *testing.B) {
	ctx := b.Context()
	e := newPayoutEnv(b, ctx)
	const n = 1000
	var txs int
	var sent time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		e.fundHot(btcutil.SatoshiPerBitcoin/2, btcutil.SatoshiPerBitcoin/2)
		b.StartTimer()
		r := e.payOut(i, n)
		txs += len(r.txids)
		sent += r.sent
	}
	b.ReportMetric(float64(txs)/float64(b.N), "txs/op")
	b.ReportMetric(float64(sent.Milliseconds())/float64(b.N), "ms-to-broadcast/op")
	b.ReportMetric(float64(sent.Microseconds())/float64(b.N*n), "µs/payout")
}
