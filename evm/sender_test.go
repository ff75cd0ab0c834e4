package evm_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"chengdui"
	"chengdui/contracts"
	"chengdui/evm"
	"chengdui/keys"
	"chengdui/sqlite"
)

// sendClock is a settable clock.
type sendClock struct{ ns atomic.Int64 }

func newSendClock() *sendClock {
	c := &sendClock{}
	c.ns.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *sendClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *sendClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// sendFinals records the OnFinal calls.
type sendFinals struct {
	mu    sync.Mutex
	calls map[string][]evm.OutTx
	fail  atomic.Int32 // how many calls to refuse first
}

func (f *sendFinals) onFinal(_ context.Context, tx evm.OutTx) error {
	if f.fail.Load() > 0 {
		f.fail.Add(-1)
		return chengdui.Errorf(chengdui.EUnavailable, "the ledger is down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[tx.ID] = append(f.calls[tx.ID], tx)
	return nil
}

func (f *sendFinals) of(id string) []evm.OutTx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[id])
}

// sendEnv is a simulated chain, a SQLite store and the platform's seed.
type sendEnv struct {
	fixture
	signer *keys.SeedSigner
	db     *sqlite.DB
	clock  *sendClock
	finals *sendFinals
}

func newSendEnv(tb testing.TB) *sendEnv {
	tb.Helper()
	e := &sendEnv{fixture: newFixture(tb), clock: newSendClock(), finals: &sendFinals{calls: map[string][]evm.OutTx{}}}
	seed, err := keys.MnemonicToSeed(mnemonic, "", keys.English)
	require.NoError(tb, err)
	e.signer, err = keys.NewSeedSigner(seed)
	require.NoError(tb, err)
	tb.Cleanup(func() { e.signer.Close() })
	// The first derivation caches the master public key inside
	// hdkeychain, unguarded: derive once before signing concurrently.
	_, err = e.signer.PublicKey(e.faucet.Path)
	require.NoError(tb, err)
	e.db = openSendStore(tb)
	return e
}

func openSendStore(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), tb.TempDir()+"/chengdui.db")
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	_, err = db.Migrate(context.Background())
	require.NoError(tb, err)
	return db
}

// sender is a Sender on the env's chain and store; edit changes its
// configuration.
func (e *sendEnv) sender(tb testing.TB, edit ...func(*evm.SenderConfig)) *evm.Sender {
	tb.Helper()
	cfg := evm.SenderConfig{
		Client: e.chain, Store: e.db, Signer: e.signer, Now: e.clock.Now, OnFinal: e.finals.onFinal,
		StuckAfter: time.Minute, Log: slog.New(slog.NewTextHandler(tb.Output(), nil)),
	}
	for _, f := range edit {
		f(&cfg)
	}
	s, err := evm.NewSender(ctx(tb), cfg)
	require.NoError(tb, err)
	return s
}

func (e *sendEnv) account(tb testing.TB, i uint32) evm.Account {
	tb.Helper()
	a, err := evm.DepositAccount(e.signer, i)
	require.NoError(tb, err)
	return a
}

func (e *sendEnv) balance(tb testing.TB, a common.Address) *big.Int {
	tb.Helper()
	b, err := e.chain.BalanceAt(ctx(tb), a, nil)
	require.NoError(tb, err)
	return b
}

// fund sends wei from the faucet to a and mines it.
func (e *sendEnv) fund(tb testing.TB, a common.Address, wei *big.Int) {
	tb.Helper()
	_, err := evm.Faucet(ctx(tb), e.chain, e.faucet, a, wei)
	require.NoError(tb, err)
	e.sim.Commit()
}

// mine seals a block and follows the transactions. The node indexes a
// block's transactions in the background: a Tick that finds it still at
// it (unavailable, as Run would retry) is tried again.
func (e *sendEnv) mine(tb testing.TB, s *evm.Sender) {
	tb.Helper()
	e.sim.Commit()
	tick(tb, s)
}

// tick runs a Sender's Tick, again while the node answers it is still
// indexing the last block's transactions (unavailable: Run retries).
func tick(tb testing.TB, s *evm.Sender) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Tick(ctx(tb))
		if err == nil {
			return
		}
		require.True(tb, chengdui.ErrorCode(err) == chengdui.EUnavailable && time.Now().Before(deadline), "%v", err)
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *sendEnv) lookup(tb testing.TB, s *evm.Sender, id string) evm.OutTx {
	tb.Helper()
	tx, err := s.Lookup(ctx(tb), id)
	require.NoError(tb, err)
	return tx
}

// requireMined checks that tx is mined as recorded: its receipt, its fee,
// the one OnFinal call.
func (e *sendEnv) requireMined(tb testing.TB, s *evm.Sender, id string) evm.OutTx {
	tb.Helper()
	tx := e.lookup(tb, s, id)
	require.Equal(tb, evm.SendMined, tx.Status, "send %s: %s", id, tx.Error)
	r, err := e.chain.TransactionReceipt(ctx(tb), tx.Hash)
	require.NoError(tb, err)
	require.Equal(tb, types.ReceiptStatusSuccessful, r.Status)
	require.Equal(tb, r.GasUsed, tx.GasUsed)
	require.Equal(tb, r.EffectiveGasPrice.String(), tx.GasPrice.String())
	require.Equal(tb, r.BlockNumber.Uint64(), tx.Block)
	require.Equal(tb, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice).String(), tx.Fee.String())
	calls := e.finals.of(id)
	require.Len(tb, calls, 1, "OnFinal once")
	require.Equal(tb, tx, calls[0], "OnFinal sees the send as recorded")
	return tx
}

func sendGwei(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.GWei)) }

// lossyChain is a node that accepts a broadcast and forgets it, as one
// restarted before it relayed the transaction.
type lossyChain struct{ evm.Chain }

func (lossyChain) SendTransaction(context.Context, *types.Transaction) error { return nil }

// lockedSigner refuses to sign, as a keystore not unlocked yet.
type lockedSigner struct{}

func (lockedSigner) SignDigest(keys.Path, []byte) ([]byte, error) {
	return nil, chengdui.Errorf(chengdui.EUnavailable, "the keystore is locked")
}

func TestSenderConcurrentSends(t *testing.T) {
	e := newSendEnv(t)
	s := e.sender(t)
	c := ctx(t)
	before := e.balance(t, e.faucet.Address)

	const n = 20
	var wg sync.WaitGroup
	sent := make([]evm.OutTx, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			sent[i], errs[i] = s.Send(c, evm.SendRequest{
				ID: fmt.Sprintf("w%d", i), From: e.faucet, To: e.payer.Address, Value: sendGwei(int64(i + 1)), Asset: "ETH",
			})
		})
	}
	wg.Wait()
	total := new(big.Int)
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, evm.SendSent, sent[i].Status, sent[i].Error)
		require.Len(t, sent[i].Attempts, 1)
		require.EqualValues(t, params.TxGas, sent[i].Gas, "a plain transfer gets exactly 21,000")
		total.Add(total, sendGwei(int64(i+1)))
	}
	pending, err := e.chain.PendingNonceAt(c, e.faucet.Address)
	require.NoError(t, err)
	require.EqualValues(t, n, pending, "the node holds all of them, no gap")

	e.mine(t, s)
	block, err := e.chain.BlockByNumber(c, nil)
	require.NoError(t, err)
	require.Len(t, block.Transactions(), n, "all in one block")
	fees := new(big.Int)
	var nonces []uint64
	for i := range n {
		tx := e.requireMined(t, s, fmt.Sprintf("w%d", i))
		require.Equal(t, sent[i].Hash, tx.Hash)
		nonces = append(nonces, tx.Nonce)
		fees.Add(fees, tx.Fee)
	}
	slices.Sort(nonces)
	for i, nonce := range nonces {
		require.EqualValues(t, i, nonce, "nonces 0 to %d, each once", n-1)
	}
	for i, tx := range block.Transactions() {
		require.EqualValues(t, i, tx.Nonce(), "mined in nonce order")
	}
	require.Equal(t, total.String(), e.balance(t, e.payer.Address).String())
	spent := new(big.Int).Sub(before, e.balance(t, e.faucet.Address))
	require.Equal(t, new(big.Int).Add(total, fees).String(), spent.String(), "the sender paid values plus recorded fees")

	unfinished, err := s.Unfinished(c)
	require.NoError(t, err)
	require.Empty(t, unfinished)
}

func TestSenderIdempotent(t *testing.T) {
	e := newSendEnv(t)
	s := e.sender(t)
	c := ctx(t)
	req := evm.SendRequest{ID: "w1", From: e.faucet, To: e.payer.Address, Value: ether(t, "1"), Asset: "ETH"}
	first, err := s.Send(c, req)
	require.NoError(t, err)

	again, err := s.Send(c, req)
	require.NoError(t, err)
	require.Equal(t, first, again, "the same id is the same transaction")
	// Another Sender, as another process, too.
	again, err = e.sender(t).Send(c, req)
	require.NoError(t, err)
	require.Equal(t, first, again)

	for name, edit := range map[string]func(*evm.SendRequest){
		"value": func(r *evm.SendRequest) { r.Value = ether(t, "2") },
		"to":    func(r *evm.SendRequest) { r.To = e.faucet.Address },
		"data":  func(r *evm.SendRequest) { r.Data = []byte{1} },
		"asset": func(r *evm.SendRequest) { r.Asset = "WETH" },
		"from":  func(r *evm.SendRequest) { r.From = e.account(t, 9) },
	} {
		other := req
		edit(&other)
		_, err := s.Send(c, other)
		require.Equal(t, chengdui.EConflict, chengdui.ErrorCode(err), "another %s: %v", name, err)
	}
	pending, err := e.chain.PendingNonceAt(c, e.faucet.Address)
	require.NoError(t, err)
	require.EqualValues(t, 1, pending, "one transaction only")

	e.mine(t, s)
	mined := e.requireMined(t, s, "w1")
	again, err = s.Send(c, req)
	require.NoError(t, err)
	require.Equal(t, mined, again, "once mined, still the same")
	require.Equal(t, "1000000000000000000", e.balance(t, e.payer.Address).String())
}

func TestSendRequestRefused(t *testing.T) {
	e := newSendEnv(t)
	s := e.sender(t)
	c := ctx(t)
	ok := evm.SendRequest{ID: "w1", From: e.faucet, To: e.payer.Address, Value: big.NewInt(1), Asset: "ETH"}
	tests := []struct {
		name string
		edit func(*evm.SendRequest)
		code string
	}{
		{"no id", func(r *evm.SendRequest) { r.ID = "" }, chengdui.EInvalid},
		{"long id", func(r *evm.SendRequest) { r.ID = string(make([]byte, evm.MaxSendIDLength+1)) }, chengdui.EInvalid},
		{"no signer", func(r *evm.SendRequest) { r.From.Signer = nil }, chengdui.EInvalid},
		{"no recipient", func(r *evm.SendRequest) { r.To = common.Address{} }, chengdui.EInvalid},
		{"negative value", func(r *evm.SendRequest) { r.Value = big.NewInt(-1) }, chengdui.EInvalid},
		{"no asset", func(r *evm.SendRequest) { r.Asset = "" }, chengdui.EInvalid},
		{"tip alone", func(r *evm.SendRequest) { r.TipCap = big.NewInt(1) }, chengdui.EInvalid},
		{"tip above cap", func(r *evm.SendRequest) { r.TipCap, r.FeeCap = big.NewInt(2), big.NewInt(1) }, chengdui.EInvalid},
		{"gas above the cap", func(r *evm.SendRequest) { r.Gas = params.MaxTxGas + 1 }, chengdui.EInvalid},
		{"gas below a transfer's", func(r *evm.SendRequest) { r.Gas = params.TxGas - 1 }, chengdui.EInvalid},
		{"more than the balance", func(r *evm.SendRequest) { r.Value = ether(t, "5000") }, chengdui.EExceedsCredits},
		{"no ether for gas", func(r *evm.SendRequest) { r.From, r.To, r.Value = e.payer, e.faucet.Address, nil }, chengdui.EExceedsCredits},
		{"key not the address", func(r *evm.SendRequest) { r.From.Path = e.payer.Path }, chengdui.EInvalid},
		{"locked signer", func(r *evm.SendRequest) { r.From.Signer = lockedSigner{} }, chengdui.EUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			_, err := s.Send(c, r)
			require.Equal(t, tt.code, chengdui.ErrorCode(err), "%v", err)
			t.Log(err)
			_, err = s.Lookup(c, "w1")
			require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err), "nothing recorded")
		})
	}
	// Nothing was recorded, no nonce taken.
	_, err := s.Lookup(c, "w1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))
	tx, err := s.Send(c, ok)
	require.NoError(t, err)
	require.Zero(t, tx.Nonce)

	t.Run("config", func(t *testing.T) {
		for name, cfg := range map[string]evm.SenderConfig{
			"no client":     {Store: e.db, Signer: e.signer},
			"no store":      {Client: e.chain, Signer: e.signer},
			"no signer":     {Client: e.chain, Store: e.db},
			"zero fee cap":  {Client: e.chain, Store: e.db, Signer: e.signer, MaxFeeCap: new(big.Int)},
			"another chain": {Client: e.chain, Store: e.db, Signer: e.signer, Chain: "evm:1"},
		} {
			_, err := evm.NewSender(c, cfg)
			require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%s: %v", name, err)
		}
		s, err := evm.NewSender(c, evm.SenderConfig{Client: e.chain, Store: e.db, Signer: e.signer})
		require.NoError(t, err)
		require.Equal(t, "evm:1337", s.Chain())
	})
}

func TestSenderRestart(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	send := func(s *evm.Sender, id string) evm.OutTx {
		t.Helper()
		tx, err := s.Send(c, evm.SendRequest{ID: id, From: e.faucet, To: e.payer.Address, Value: sendGwei(1), Asset: "ETH"})
		require.NoError(t, err)
		return tx
	}
	a := e.sender(t)
	for i := range 3 {
		require.EqualValues(t, i, send(a, fmt.Sprintf("a%d", i)).Nonce)
	}
	// A new process on the same store continues the nonces and follows
	// the first one's transactions.
	b := e.sender(t)
	require.EqualValues(t, 3, send(b, "b3").Nonce)
	require.EqualValues(t, 4, send(b, "b4").Nonce)
	e.mine(t, b)
	for _, id := range []string{"a0", "a1", "a2", "b3", "b4"} {
		e.requireMined(t, b, id)
	}

	t.Run("lost by the node", func(t *testing.T) {
		// The node took nonce 5 and lost it: nonce 6 waits behind the
		// hole until Tick broadcasts the stored transaction again.
		lossy := e.sender(t, func(cfg *evm.SenderConfig) { cfg.Client = lossyChain{e.chain} })
		lost := send(lossy, "lost")
		require.Equal(t, evm.SendSent, lost.Status)
		require.EqualValues(t, 5, lost.Nonce)
		s := e.sender(t)
		require.EqualValues(t, 6, send(s, "behind").Nonce, "the store's nonce, above the node's pending 5")
		e.sim.Commit()
		n, err := e.chain.NonceAt(c, e.faucet.Address, nil)
		require.NoError(t, err)
		require.EqualValues(t, 5, n, "the hole holds nonce 6 back")

		require.NoError(t, s.Tick(c)) // broadcasts nonce 5 again
		e.mine(t, s)
		e.requireMined(t, s, "lost")
		e.requireMined(t, s, "behind")
	})

	t.Run("stopped before signing", func(t *testing.T) {
		// A process recorded a send and its nonce, as Send does first,
		// and stopped before signing it: Tick signs it with the
		// platform's key at the stored path, with fresh fees.
		now := e.clock.Now()
		_, err := e.db.CreateSend(c, evm.OutTx{ID: "unsigned", Chain: "evm:1337", From: e.faucet.Address, Path: e.faucet.Path,
			To: e.payer.Address, Value: sendGwei(2), Asset: "ETH", Gas: params.TxGas, CreatedAt: now, UpdatedAt: now}, 0)
		require.NoError(t, err)
		s := e.sender(t)
		tx := e.lookup(t, s, "unsigned")
		require.Equal(t, evm.SendQueued, tx.Status)
		require.Empty(t, tx.Attempts)
		require.EqualValues(t, 7, tx.Nonce)
		require.EqualValues(t, 8, send(s, "after").Nonce)

		require.NoError(t, s.Tick(c))
		require.Equal(t, evm.SendSent, e.lookup(t, s, "unsigned").Status)
		e.mine(t, s)
		e.requireMined(t, s, "unsigned")
		e.requireMined(t, s, "after")
	})
}

func TestSenderReplacesStuck(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	// The base fee starts at 1 sendGwei: a fee cap of 0.1 sendGwei is stuck.
	low := e.sender(t, func(cfg *evm.SenderConfig) {
		cfg.MaxFeeCap = sendGwei(1)
		cfg.MaxFeeCap.Quo(cfg.MaxFeeCap, big.NewInt(10))
	})
	before := e.balance(t, e.faucet.Address)
	value := ether(t, "3")
	first, err := low.Send(c, evm.SendRequest{ID: "w1", From: e.faucet, To: e.payer.Address, Value: value, Asset: "ETH"})
	require.NoError(t, err)
	require.Equal(t, "100000000", first.FeeCap.String())
	e.mine(t, low)
	e.mine(t, low)
	require.Equal(t, evm.SendSent, e.lookup(t, low, "w1").Status, "below the base fee: not mined")

	// Stuck, but MaxFeeCap leaves no room for a 10 % bump.
	e.clock.Advance(2 * time.Minute)
	require.NoError(t, low.Tick(c))
	require.Len(t, e.lookup(t, low, "w1").Attempts, 1)

	// The operator raises the cap and restarts: the transaction is
	// replaced, same nonce, higher fees, and mined.
	high := e.sender(t, func(cfg *evm.SenderConfig) { cfg.MaxFeeCap = sendGwei(100) })
	require.NoError(t, high.Tick(c))
	tx := e.lookup(t, high, "w1")
	require.Len(t, tx.Attempts, 2)
	a1, a2 := tx.Attempts[0], tx.Attempts[1]
	require.Equal(t, a2.Hash, tx.Hash)
	require.GreaterOrEqual(t, new(big.Int).Mul(a2.TipCap, big.NewInt(100)).Cmp(new(big.Int).Mul(a1.TipCap, big.NewInt(110))), 0, "tip +10 %%")
	require.GreaterOrEqual(t, new(big.Int).Mul(a2.FeeCap, big.NewInt(100)).Cmp(new(big.Int).Mul(a1.FeeCap, big.NewInt(110))), 0, "fee cap +10 %%")
	require.NoError(t, high.Tick(c))
	require.Len(t, e.lookup(t, high, "w1").Attempts, 2, "not replaced again before StuckAfter")

	e.mine(t, high)
	mined := e.requireMined(t, high, "w1")
	require.Equal(t, a2.Hash, mined.Hash, "the replacement was mined")
	require.Equal(t, a2.FeeCap, mined.FeeCap)
	require.Equal(t, first.Nonce, mined.Nonce)
	_, err = e.chain.TransactionReceipt(c, a1.Hash)
	require.ErrorIs(t, err, ethereum.NotFound)
	spent := new(big.Int).Sub(before, e.balance(t, e.faucet.Address))
	require.Equal(t, new(big.Int).Add(value, mined.Fee).String(), spent.String(), "value + gasUsed × effectiveGasPrice, once")
	require.Equal(t, value.String(), e.balance(t, e.payer.Address).String())
}

func TestSenderEarlierAttemptWins(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	// The payer holds exactly what its first attempt may cost: the node
	// refuses any replacement with a higher fee cap.
	capWei := big.NewInt(100_000_000) // 0.1 sendGwei, below the base fee
	value := sendGwei(1000)
	funds := new(big.Int).Add(value, new(big.Int).Mul(big.NewInt(int64(params.TxGas)), capWei))
	e.fund(t, e.payer.Address, funds)
	low := e.sender(t, func(cfg *evm.SenderConfig) { cfg.MaxFeeCap = capWei })
	_, err := low.Send(c, evm.SendRequest{ID: "w1", From: e.payer, To: e.faucet.Address, Value: value, Asset: "ETH"})
	require.NoError(t, err)

	e.clock.Advance(2 * time.Minute)
	high := e.sender(t)
	require.NoError(t, high.Tick(c))
	tx := e.lookup(t, high, "w1")
	require.Len(t, tx.Attempts, 2, "the replacement is recorded before it is broadcast")
	require.Contains(t, tx.Error, "insufficient funds")
	t.Log(tx.Error)

	// The base fee falls under the first attempt's cap, and it is mined.
	require.Eventually(t, func() bool {
		e.mine(t, high)
		return e.lookup(t, high, "w1").Status.Final()
	}, 10*time.Second, time.Millisecond)
	mined := e.requireMined(t, high, "w1")
	require.Equal(t, tx.Attempts[0].Hash, mined.Hash, "whichever attempt is mined wins")
	require.Equal(t, capWei.String(), mined.FeeCap.String())
	require.Len(t, mined.Attempts, 2)
	left := new(big.Int).Sub(funds, new(big.Int).Add(value, mined.Fee))
	require.Equal(t, left.String(), e.balance(t, e.payer.Address).String())
}

func TestSenderReverted(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	s := e.sender(t)
	token := sendDeployToken(t, e, 6)
	sendMint(t, e, token, e.faucet.Address, big.NewInt(100))

	// The node's estimate refuses a transfer that would revert: nothing
	// is recorded.
	data := evm.TransferData(e.payer.Address, big.NewInt(200))
	_, err := s.Send(c, evm.SendRequest{ID: "w1", From: e.faucet, To: token, Data: data, Asset: "USDT-ERC20"})
	require.Equal(t, chengdui.EInvalid, chengdui.ErrorCode(err), "%v", err)
	_, err = s.Lookup(c, "w1")
	require.Equal(t, chengdui.ENotFound, chengdui.ErrorCode(err))

	// With a gas limit given, it is sent, reverts, and fails, its fee paid.
	before := e.balance(t, e.faucet.Address)
	_, err = s.Send(c, evm.SendRequest{ID: "w1", From: e.faucet, To: token, Data: data, Asset: "USDT-ERC20", Gas: 100_000})
	require.NoError(t, err)
	e.mine(t, s)
	tx := e.lookup(t, s, "w1")
	require.Equal(t, evm.SendFailed, tx.Status)
	require.Contains(t, tx.Error, "reverted")
	r, err := e.chain.TransactionReceipt(c, tx.Hash)
	require.NoError(t, err)
	require.Equal(t, types.ReceiptStatusFailed, r.Status)
	require.Equal(t, r.GasUsed, tx.GasUsed)
	require.Equal(t, new(big.Int).Sub(before, e.balance(t, e.faucet.Address)).String(), tx.Fee.String(), "a revert costs its gas")
	require.Equal(t, []evm.OutTx{tx}, e.finals.of("w1"))
	bal, err := evm.TokenBalance(c, e.chain, token, e.faucet.Address)
	require.NoError(t, err)
	require.Equal(t, "100", bal.String())
}

func TestSenderNonceTaken(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	e.fund(t, e.payer.Address, ether(t, "1"))
	lossy := e.sender(t, func(cfg *evm.SenderConfig) { cfg.Client = lossyChain{e.chain} })
	_, err := lossy.Send(c, evm.SendRequest{ID: "w1", From: e.payer, To: e.faucet.Address, Value: sendGwei(1), Asset: "ETH"})
	require.NoError(t, err)
	// Another wallet with the same key uses nonce 0 first.
	_, err = evm.Faucet(c, e.chain, e.payer, e.faucet.Address, sendGwei(5))
	require.NoError(t, err)
	s := e.sender(t)
	e.mine(t, s)
	tx := e.lookup(t, s, "w1")
	require.Equal(t, evm.SendFailed, tx.Status)
	require.Contains(t, tx.Error, "nonce 0")
	require.Equal(t, "0", tx.Fee.String())
	require.Equal(t, []evm.OutTx{tx}, e.finals.of("w1"))
}

func TestSenderConfirmations(t *testing.T) {
	e := newSendEnv(t)
	c := ctx(t)
	s := e.sender(t, func(cfg *evm.SenderConfig) { cfg.Confirmations = 3 })
	_, err := s.Send(c, evm.SendRequest{ID: "w1", From: e.faucet, To: e.payer.Address, Value: sendGwei(1), Asset: "ETH"})
	require.NoError(t, err)
	e.mine(t, s)
	e.mine(t, s)
	require.Equal(t, evm.SendSent, e.lookup(t, s, "w1").Status, "two blocks of three")
	// OnFinal fails once: the send stays unfinished and is retried.
	e.finals.fail.Store(1)
	e.sim.Commit()
	require.Error(t, s.Tick(c))
	require.Equal(t, evm.SendSent, e.lookup(t, s, "w1").Status)
	require.NoError(t, s.Tick(c))
	e.requireMined(t, s, "w1")
}

func TestSenderRun(t *testing.T) {
	e := newSendEnv(t)
	s := e.sender(t, func(cfg *evm.SenderConfig) { cfg.Interval = 10 * time.Millisecond })
	stop := e.sim.StartSealing(20 * time.Millisecond)
	defer stop()
	runCtx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()

	_, err := s.Send(ctx(t), evm.SendRequest{ID: "w1", From: e.faucet, To: e.payer.Address, Value: sendGwei(1), Asset: "ETH"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.lookup(t, s, "w1").Status == evm.SendMined }, 5*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	e.requireMined(t, s, "w1")
}

// sendDeployToken deploys a TestToken with decimals from the faucet.
func sendDeployToken(tb testing.TB, e *sendEnv, decimals uint8) common.Address {
	tb.Helper()
	opts, err := contracts.TransactOpts(ctx(tb), e.chain, e.faucet)
	require.NoError(tb, err)
	addr, _, _, err := contracts.DeployTestToken(opts, e.chain, "Tether USD", "USDT", decimals)
	require.NoError(tb, err)
	e.sim.Commit()
	return addr
}

// sendMint creates amount of token for to.
func sendMint(tb testing.TB, e *sendEnv, token, to common.Address, amount *big.Int) {
	tb.Helper()
	opts, err := contracts.TransactOpts(ctx(tb), e.chain, e.faucet)
	require.NoError(tb, err)
	t, err := contracts.NewTestToken(token, e.chain)
	require.NoError(tb, err)
	_, err = t.Mint(opts, to, amount)
	require.NoError(tb, err)
	e.sim.Commit()
}
