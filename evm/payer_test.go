package evm_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/auth"
	"chengdui/contracts"
	"chengdui/deposit"
	"chengdui/evm"
	"chengdui/ledger"
	"chengdui/payout"
	"chengdui/withdraw"
)

const usdt = "USDT-ERC20"

// batchEnv is the crypto payout path on the simulated chain: payouts and
// withdrawals in SQLite, a real ledger, the Sender and a Payer paying
// through a deployed BatchPayer from the faucet account as hot wallet.
type batchEnv struct {
	*sendEnv
	eng     *ledger.Engine
	ws      *withdraw.Service
	payouts *payout.Service
	sender  *evm.Sender
	payer   *evm.Payer
	token   common.Address
	batcher common.Address
	funded  int
}

func newBatchEnv(tb testing.TB) *batchEnv {
	tb.Helper()
	e := &batchEnv{sendEnv: newSendEnv(tb)}
	c := context.Background()
	e.token = sendDeployToken(tb, e.sendEnv, 6)
	sendMint(tb, e.sendEnv, e.token, e.faucet.Address, big.NewInt(1_000_000_000_000)) // 1,000,000 USDT
	opts, err := contracts.TransactOpts(ctx(tb), e.chain, e.faucet)
	require.NoError(tb, err)
	e.batcher, _, _, err = contracts.DeployBatchPayer(opts, e.chain)
	require.NoError(tb, err)
	e.sim.Commit()

	e.eng = ledger.New(e.db, ledger.Options{ExpiryInterval: -1, HistoryInterval: -1})
	require.NoError(tb, e.eng.Start(c))
	tb.Cleanup(e.eng.Stop)
	for _, a := range []chengdui.Asset{{Code: "ETH", Network: "ethereum", Decimals: 18}, {Code: usdt, Network: "ethereum", Decimals: 6}} {
		_, err := e.eng.CreateAsset(c, a)
		require.NoError(tb, err)
		for _, acct := range []chengdui.Account{{ID: deposit.ChainAccount(a.Code), Asset: a.Code},
			{ID: payout.StoreAccount("s1", a.Code), Asset: a.Code, Flags: chengdui.DebitsMustNotExceedCredits}} {
			_, err := e.eng.CreateAccount(c, acct)
			require.NoError(tb, err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	e.ws = withdraw.New(e.db, e.eng, e.db, auth.Guard{F: e.db}, withdraw.Config{Log: log})
	e.sender = e.sendEnv.sender(tb, func(cfg *evm.SenderConfig) {
		cfg.Log = log
		cfg.OnFinal = func(ctx context.Context, tx evm.OutTx) error { return e.payer.OnFinal(ctx, tx) }
	})
	e.payer = evm.NewPayer(evm.PayerConfig{Chain: e.sender.Chain(), NativeAsset: "ETH", Tokens: map[string]common.Address{usdt: e.token},
		Sender: e.sender, Hot: e.faucet, Withdrawals: e.ws, Batcher: e.batcher, Log: log})
	e.ws.AddPayer(e.payer)
	cs := payout.NewChainSender(e.ws)
	e.payouts, err = payout.New(payout.Config{Store: e.db, Ledger: e.eng, Assets: e.db, Crypto: cs, Log: log})
	require.NoError(tb, err)
	cs.Attach(e.payouts)
	return e
}

// credit gives the store amount of asset, as deposits would.
func (e *batchEnv) credit(tb testing.TB, asset string, amount *big.Int) {
	tb.Helper()
	e.funded++
	res, err := e.eng.CreateTransfers(context.Background(), []chengdui.Transfer{{ID: fmt.Sprintf("deposit-%d", e.funded),
		DebitAccountID: deposit.ChainAccount(asset), CreditAccountID: payout.StoreAccount("s1", asset), Amount: uint128.FromBig(amount), Code: deposit.CodeDeposit}})
	require.NoError(tb, err)
	require.NoError(tb, res[0].Err)
}

func (e *batchEnv) ledgerAccount(tb testing.TB, id string) chengdui.Account {
	tb.Helper()
	a, err := e.eng.Account(context.Background(), id)
	require.NoError(tb, err)
	return a
}

// recipient is the address of payout i of a round: fresh accounts, the
// costliest case (a new account's storage and, for ether, its creation).
func recipient(round, i int) common.Address {
	return common.BigToAddress(big.NewInt(int64(0x10000000 + round*100_000 + i)))
}

// batchRound is a round of payouts sent and mined.
type batchRound struct {
	ids   []string
	txids map[string]bool
	sent  time.Duration
}

// payOut creates n payouts, two in five in ether and the others in USDT,
// dispatches them, and ticks the payer and the sender, sealing blocks,
// until every payout is completed.
func (e *batchEnv) payOut(tb testing.TB, round, n int) batchRound {
	tb.Helper()
	c := context.Background()
	r := batchRound{txids: map[string]bool{}}
	for i := range n {
		req := payout.CreateRequest{ID: fmt.Sprintf("r%d-%d", round, i), StoreID: "s1", Asset: usdt, Amount: fmt.Sprintf("1.%06d", i),
			Method: payout.Chain, Address: recipient(round, i).Hex(), CreatedBy: "ops"}
		if i%5 < 2 {
			req.Asset, req.Amount = "ETH", fmt.Sprintf("0.001%06d", i)
		}
		p, err := e.payouts.Create(c, req)
		require.NoError(tb, err)
		r.ids = append(r.ids, p.ID)
	}
	start := time.Now()
	sent, err := e.payouts.Dispatch(c)
	require.NoError(tb, err)
	require.Equal(tb, n, sent)
	for rounds := 0; ; rounds++ {
		require.Less(tb, rounds, 20, "payouts are still not completed")
		require.NoError(tb, e.payer.Tick(c))
		e.sim.Commit()
		tick(tb, e.sender)
		open, err := e.db.Withdrawals(c, withdraw.Filter{Chain: e.sender.Chain(), Status: withdraw.Pending, Limit: 1})
		require.NoError(tb, err)
		sentOnes, err := e.db.Withdrawals(c, withdraw.Filter{Chain: e.sender.Chain(), Status: withdraw.Sent, Limit: 1})
		require.NoError(tb, err)
		if len(open)+len(sentOnes) == 0 {
			break
		}
	}
	r.sent = time.Since(start)
	for _, id := range r.ids {
		w, err := e.db.Withdrawal(c, id)
		require.NoError(tb, err)
		r.txids[w.TxID] = true
	}
	return r
}

// TestPayoutBatchesEVM sends 1,000 CHAIN payouts (400 in ether, 600 in
// an ERC-20; batches are per asset) on the simulated chain: they leave in at most 10
// BatchPayer calls (plus the hot wallet's one approval of the contract),
// each recipient gets exactly its amount, every payout completes with its
// transaction's hash, and the ledger matches the chain: the store paid
// the amounts, the chain accounts lost the amounts and the gas, and the
// fees booked are the gas the hot wallet paid.
func TestPayoutBatchesEVM(t *testing.T) {
	e := newBatchEnv(t)
	c := context.Background()
	e.credit(t, "ETH", ether(t, "10"))
	e.credit(t, usdt, big.NewInt(10_000_000_000))
	ethBefore := e.balance(t, e.faucet.Address)

	const n = 1000
	r := e.payOut(t, 0, n)
	t.Logf("%d payouts in %d transactions, %v from Dispatch to all mined", n, len(r.txids), r.sent)
	require.LessOrEqual(t, len(r.txids), 10)

	paid := map[string]*big.Int{"ETH": new(big.Int), usdt: new(big.Int)}
	for i, id := range r.ids {
		p, err := e.payouts.Get(c, id)
		require.NoError(t, err)
		require.Equal(t, payout.Completed, p.State, "%s: %s", id, p.Reason)
		w, err := e.db.Withdrawal(c, id)
		require.NoError(t, err)
		require.Equal(t, w.TxID, p.Ref)
		paid[p.Asset].Add(paid[p.Asset], p.Amount.Big())
		to := recipient(0, i)
		if p.Asset == "ETH" {
			require.Equal(t, p.Amount.Big().String(), e.balance(t, to).String())
		} else {
			bal, err := evm.TokenBalance(c, e.chain, e.token, to)
			require.NoError(t, err)
			require.Equal(t, p.Amount.Big().String(), bal.String())
		}
	}
	// Gas: every transaction of the hot wallet (the approval included).
	gas := new(big.Int)
	perRecipient := map[string][]uint64{}
	for txid := range r.txids {
		var ws []withdraw.Withdrawal
		ws, err := e.db.Withdrawals(c, withdraw.Filter{TxID: txid, Limit: 1000})
		require.NoError(t, err)
		rc, err := e.chain.TransactionReceipt(c, common.HexToHash(txid))
		require.NoError(t, err)
		perRecipient[ws[0].Asset] = append(perRecipient[ws[0].Asset], rc.GasUsed/uint64(len(ws)))
		t.Logf("%s: %d × %s, %d gas, %d gas per recipient", txid[:10], len(ws), ws[0].Asset, rc.GasUsed, rc.GasUsed/uint64(len(ws)))
	}
	t.Logf("gas per recipient: ETH %v, %s %v", perRecipient["ETH"], usdt, perRecipient[usdt])
	spent := new(big.Int).Sub(ethBefore, e.balance(t, e.faucet.Address))
	gas.Sub(spent, paid["ETH"])

	store := e.ledgerAccount(t, payout.StoreAccount("s1", "ETH"))
	require.Equal(t, new(big.Int).Sub(ether(t, "10"), paid["ETH"]).String(), store.CreditsPosted.Sub(store.DebitsPosted).Big().String())
	chainETH := e.ledgerAccount(t, deposit.ChainAccount("ETH"))
	require.True(t, chainETH.CreditsPending.IsZero(), "no hold left open")
	require.Equal(t, spent.String(), chainETH.CreditsPosted.Big().String(), "the chain account lost what the hot wallet spent: amounts and gas")
	require.Equal(t, gas.String(), e.ledgerAccount(t, "platform:ETH:network-fees").DebitsPosted.Big().String())
	chainUSDT := e.ledgerAccount(t, deposit.ChainAccount(usdt))
	require.True(t, chainUSDT.CreditsPending.IsZero())
	require.Equal(t, paid[usdt].String(), chainUSDT.CreditsPosted.Big().String())
}

// TestBatchCrash: withdrawals claimed by a batch the Sender recorded but
// not marked sent (a crash between the two) are marked sent with that
// transaction, never paid again; one the Sender has a transaction of its
// own for never joins a batch; and a batch the node refuses (a recipient
// that reverts) pays its other withdrawals one by one.
func TestBatchCrash(t *testing.T) {
	e := newBatchEnv(t)
	c := context.Background()
	e.credit(t, "ETH", ether(t, "10"))
	enqueue := func(id string, to common.Address) withdraw.Withdrawal {
		w, err := e.ws.Enqueue(c, withdraw.Withdrawal{ID: id, Origin: withdraw.OriginRefund, Asset: "ETH", To: to.Hex(), Amount: chengdui.Amount{Lo: 1000}})
		require.NoError(t, err)
		return w
	}
	e.ws.OnOutcome(withdraw.OriginRefund, func(context.Context, withdraw.Withdrawal) error { return nil })
	for i := range 3 {
		enqueue(fmt.Sprint("a", i), recipient(1, i))
	}
	require.NoError(t, e.payer.Tick(c))
	a0, err := e.db.Withdrawal(c, "a0")
	require.NoError(t, err)
	require.Equal(t, withdraw.Sent, a0.Status)
	unfinished, err := e.sender.Unfinished(c)
	require.NoError(t, err)
	require.Len(t, unfinished, 1, "one call for three")
	batchID := unfinished[0].ID

	// The crash: back to pending, claimed by the batch.
	for i := range 3 {
		w, err := e.db.Withdrawal(c, fmt.Sprint("a", i))
		require.NoError(t, err)
		w.Status, w.TxID = withdraw.Pending, batchID
		require.NoError(t, e.db.UpdateWithdrawal(c, w))
	}
	// A withdrawal sent alone and not marked sent.
	lone := enqueue("b0", recipient(1, 10))
	loneTx, err := e.sender.Send(c, evm.SendRequest{ID: "wd:" + lone.ID, From: e.faucet, To: recipient(1, 10), Value: big.NewInt(1000), Asset: "ETH"})
	require.NoError(t, err)
	require.NoError(t, e.payer.Tick(c))
	unfinished, err = e.sender.Unfinished(c)
	require.NoError(t, err)
	require.Len(t, unfinished, 2, "nothing sent again")
	batch, err := e.sender.Lookup(c, batchID)
	require.NoError(t, err)
	for i := range 3 {
		w, err := e.db.Withdrawal(c, fmt.Sprint("a", i))
		require.NoError(t, err)
		require.Equal(t, withdraw.Sent, w.Status)
		require.Equal(t, batch.Hash.Hex(), w.TxID, "marked sent with the batch recorded before the crash")
	}
	b0, err := e.db.Withdrawal(c, "b0")
	require.NoError(t, err)
	require.Equal(t, loneTx.Hash.Hex(), b0.TxID)
	e.sim.Commit()
	tick(t, e.sender)
	for i := range 3 {
		require.Equal(t, "1000", e.balance(t, recipient(1, i)).String(), "paid once")
	}

	// A contract that takes no ether (the token) poisons a batch: the
	// others go alone, and it fails (the hot wallet covers it: the
	// recipient refuses it).
	enqueue("c0", recipient(1, 20))
	enqueue("c1", e.token)
	enqueue("c2", recipient(1, 22))
	require.NoError(t, e.payer.Tick(c))
	e.sim.Commit()
	tick(t, e.sender)
	for _, id := range []string{"c0", "c2"} {
		w, err := e.db.Withdrawal(c, id)
		require.NoError(t, err)
		require.Equal(t, withdraw.Completed, w.Status, id)
	}
	c1, err := e.db.Withdrawal(c, "c1")
	require.NoError(t, err)
	require.Equal(t, withdraw.Failed, c1.Status, "refused by its recipient")
	require.Contains(t, c1.Reason, "the recipient refuses")
}

// BenchmarkPayoutBatchesEVM sends 1,000 CHAIN payouts per iteration on
// the simulated chain (400 ether, 600 USDT, fresh recipients)
// from Dispatch until all are mined and completed, and reports the
// transactions used, the time per payout and the gas per recipient.
func BenchmarkPayoutBatchesEVM(b *testing.B) {
	e := newBatchEnv(b)
	c := context.Background()
	const n = 1000
	var txs int
	var sent time.Duration
	var gas, recipients uint64
	for i := range b.N {
		b.StopTimer()
		e.credit(b, "ETH", ether(b, "10"))
		e.credit(b, usdt, big.NewInt(10_000_000_000))
		b.StartTimer()
		r := e.payOut(b, i, n)
		txs += len(r.txids)
		sent += r.sent
		for txid := range r.txids {
			rc, err := e.chain.TransactionReceipt(c, common.HexToHash(txid))
			require.NoError(b, err)
			gas += rc.GasUsed
		}
		recipients += n
	}
	b.ReportMetric(float64(txs)/float64(b.N), "txs/op")
	b.ReportMetric(float64(sent.Microseconds())/float64(b.N*n), "µs/payout")
	b.ReportMetric(float64(gas)/float64(recipients), "gas/recipient")
}

// TestLoneWithdrawalGas: a withdrawal alone in its round goes in a
// transaction of its own, not through the BatchPayer; the gas logged is
// what batching is measured against.
func TestLoneWithdrawalGas(t *testing.T) {
	e := newBatchEnv(t)
	c := context.Background()
	e.ws.OnOutcome(withdraw.OriginRefund, func(context.Context, withdraw.Withdrawal) error { return nil })
	for i, asset := range []string{"ETH", usdt} {
		w, err := e.ws.Enqueue(c, withdraw.Withdrawal{ID: fmt.Sprint("lone", i), Origin: withdraw.OriginRefund, Asset: asset, To: recipient(2, i).Hex(), Amount: chengdui.Amount{Lo: 1000}})
		require.NoError(t, err)
		require.NoError(t, e.payer.Tick(c))
		e.sim.Commit()
		tick(t, e.sender)
		w, err = e.db.Withdrawal(c, w.ID)
		require.NoError(t, err)
		require.Equal(t, withdraw.Completed, w.Status)
		tx, err := e.sender.Lookup(c, "wd:"+w.ID)
		require.NoError(t, err, "sent alone")
		require.NotEqual(t, e.batcher, tx.To)
		t.Logf("%s alone to a fresh address: %d gas", asset, tx.GasUsed)
	}
}
