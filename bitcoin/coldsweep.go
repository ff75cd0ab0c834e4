package bitcoin

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/bitcoin/cold"
	"chengdui/keys"
)

// Cold sweep defaults.
const (
	DefaultMinSweep       = 100_000     // sat: a smaller excess waits for the next deposits
	DefaultSweepInterval  = time.Minute // how often Run looks at the hot wallet
	DefaultSweepFeeBlocks = 24          // a sweep is not urgent: about four hours

	// MaxSweepInputs bounds the coins one sweep spends (about 34,000 vB):
	// when the smallest coins would need more, BuildSweep falls back to
	// BuildTx's selection, which spends the largest.
	MaxSweepInputs = 500
)

// ColdSweeperConfig configures a ColdSweeper.
type ColdSweeperConfig struct {
	Chain   string       // e.g. bitcoin:regtest, as the watcher's and payer's
	Network keys.Network //
	Node    *Node        //
	Coins   CoinStore    // the watcher keeps them
	Signer  keys.Signer  // the hot wallet's seed: coins are at P2WPKH account 0, as the Payer's
	Cold    *cold.Wallet // the 2-of-3 cold storage, on Network

	// MaxHot is the most the hot wallet keeps, in satoshis: above it, a
	// sweep takes it down to Target. Target (0 means MaxHot/2) must be
	// below MaxHot: the gap between them is the hysteresis that keeps the
	// sweeper from sweeping after every deposit. A sweep of less than
	// MinSweep (0 means DefaultMinSweep) is not made.
	MaxHot, Target, MinSweep int64

	// ColdIndex allocates the next index on the cold wallet's receive
	// branch, never the same twice, e.g. from a storage sequence.
	ColdIndex func(ctx context.Context) (uint32, error)
	// ChangeAddress allocates a fresh internal (change chain) index of the
	// hot wallet and returns its pkScript, as PayerConfig's; the watcher
	// must track it (Watcher.TrackChange).
	ChangeAddress func(ctx context.Context) (index uint32, pkScript []byte, err error)

	// FeeBlocks is the confirmation target asked of the node's estimator;
	// 0 means DefaultSweepFeeBlocks.
	FeeBlocks int
	// Interval is how often Run ticks; 0 means DefaultSweepInterval.
	Interval time.Duration
	// OnSweep, if set, is called by Run after each broadcast sweep with
	// what the ledger must book: its Fee (see Sweep). Run calls it again
	// on later ticks until it succeeds, so it must be idempotent, e.g. a
	// ledger transfer whose id is derived from Sweep.TxID.
	OnSweep func(ctx context.Context, s Sweep) error
	Log     *slog.Logger
}

// Sweep is one transaction moving the hot wallet's excess to cold
// storage.
//
// What to book: only Fee. The amount swept stays in the platform's
// custody (it moves from keys the server holds to the 2-of-3 cold wallet,
// both the platform's), so no ledger account changes but the one of the
// platform's on-chain holdings, which loses the fee paid to miners.
type Sweep struct {
	TxID        string
	Hot         int64  // sat: the confirmed hot coins before the sweep
	Amount      int64  // sat received by ColdAddress: Hot − Target
	Fee         int64  // sat paid to miners, on top of Amount, by the hot wallet
	Change      int64  // sat back to a fresh change address of the hot wallet; 0 for none
	ColdAddress string // the cold wallet's receive address at ColdIndex
	ColdIndex   uint32 //
	Inputs      int    // hot coins spent
}

// ColdSweeper keeps the Bitcoin hot wallet at or below MaxHot: when its
// confirmed coins add up to more, it sends the excess above Target to the
// next address of the cold wallet in one transaction, signed with the hot
// key, change to a fresh hot change address. The fee is paid by the hot
// wallet on top of the amount, so the cold address receives exactly
// Hot − Target and the hot wallet keeps Target less the fee.
//
// Which coins: the smallest first (see BuildSweep), so the hot wallet
// keeps its large coins and withdrawals need few inputs, while the many
// small deposit outputs are consolidated into cold storage by a
// transaction that is not urgent and can wait for a low fee rate.
//
// What it counts and spends are the hot wallet's confirmed, unspent
// P2WPKH coins: coins reserved by a withdrawal batch are already marked
// spent (SpentBy) and never touched, and unconfirmed coins, the payer's
// own change included, are neither counted nor spent (they count once
// confirmed, so a sweep may come a tick later than it could).
//
// One sweep at a time: while a sweep is unconfirmed, Tick only follows
// it. The sweeper and the Payer read the same coins: a coin the payer
// reserves at the same moment makes one of the two transactions fail to
// broadcast and be retried; Tick re-marks the coins of its unconfirmed
// sweep as spent by it, so the payer cannot reuse them after such a race.
// A sweep is broadcast before its coins are marked spent: if the process
// dies in between, the watcher marks them when it sees the transaction.
type ColdSweeper struct {
	cfg ColdSweeperConfig

	mu       sync.Mutex
	inflight map[string][]OutPointRef // unconfirmed sweeps: their inputs, by txid
}

// NewColdSweeper checks cfg and returns a sweeper; run it with Run.
//
// Errors: EInvalid for a missing part, MaxHot ≤ 0, a Target not below
// MaxHot, MinSweep below the dust limit of a cold (P2WSH) output, or a
// cold wallet or node on another network.
func NewColdSweeper(cfg ColdSweeperConfig) (*ColdSweeper, error) {
	switch {
	case cfg.Chain == "" || cfg.Node == nil || cfg.Coins == nil || cfg.Signer == nil || cfg.Cold == nil ||
		cfg.ColdIndex == nil || cfg.ChangeAddress == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: Chain, Node, Coins, Signer, Cold, ColdIndex and ChangeAddress are all needed")
	case cfg.Network.HRP() == "":
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: unknown Bitcoin network %d", int(cfg.Network))
	case cfg.Cold.Network() != cfg.Network:
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: the cold wallet is on %s, the hot wallet on %s", cfg.Cold.Network(), cfg.Network)
	case cfg.Node.Network() != cfg.Network:
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: the node is on %s, the hot wallet on %s", cfg.Node.Network(), cfg.Network)
	case cfg.MaxHot <= 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: the hot wallet's maximum must be positive, not %d sat", cfg.MaxHot)
	}
	if cfg.Target == 0 {
		cfg.Target = cfg.MaxHot / 2
	}
	if cfg.MinSweep == 0 {
		cfg.MinSweep = DefaultMinSweep
	}
	if cfg.Target < 0 || cfg.Target >= cfg.MaxHot {
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: the target %d sat must be at least 0 and below the maximum of %d sat", cfg.Target, cfg.MaxHot)
	}
	if dust := DustLimit(p2wshTemplate); cfg.MinSweep < dust {
		return nil, chengdui.Errorf(chengdui.EInvalid, "cold sweeper: the smallest sweep must be at least %d sat, the dust limit of a cold output, not %d", dust, cfg.MinSweep)
	}
	if cfg.FeeBlocks <= 0 {
		cfg.FeeBlocks = DefaultSweepFeeBlocks
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultSweepInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &ColdSweeper{cfg: cfg, inflight: map[string][]OutPointRef{}}, nil
}

// Run sweeps every Interval until ctx ends, and gives each sweep to
// OnSweep, retrying on later ticks until it succeeds.
func (s *ColdSweeper) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	var unbooked []Sweep
	for {
		sw, err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("bitcoin cold sweep", "err", err)
		}
		if sw.TxID != "" && s.cfg.OnSweep != nil {
			unbooked = append(unbooked, sw)
		}
		for len(unbooked) > 0 && ctx.Err() == nil {
			if err := s.cfg.OnSweep(ctx, unbooked[0]); err != nil {
				s.cfg.Log.Error("bitcoin cold sweep: booking the fee failed; will retry", "txid", unbooked[0].TxID, "fee", unbooked[0].Fee, "err", err)
				break
			}
			unbooked = unbooked[1:]
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick follows the unconfirmed sweep, if any; otherwise, when the hot
// wallet's confirmed coins add up to more than MaxHot, and to at least
// MinSweep more than Target, it sweeps the excess above Target to a new
// cold address and returns the sweep. It returns a zero Sweep when there
// is nothing to do.
//
// Errors: the node's, the stores' and the allocators'; EExceedsCredits
// when the coins cannot pay the sweep and its fee (Target is below the
// fee); EConflict when a coin was spent meanwhile (the next tick sweeps
// from the coins left).
func (s *ColdSweeper) Tick(ctx context.Context) (Sweep, error) {
	if busy, err := s.follow(ctx); err != nil || busy {
		return Sweep{}, err
	}
	utxos, err := spendableCoins(ctx, s.cfg.Coins, s.cfg.Chain, s.cfg.Network, false)
	if err != nil {
		return Sweep{}, err
	}
	var hot int64
	for _, u := range utxos {
		hot += u.Value
	}
	amount := hot - s.cfg.Target
	if hot <= s.cfg.MaxHot || amount < s.cfg.MinSweep {
		return Sweep{}, nil
	}
	rate, err := s.cfg.Node.EstimateFeeRate(ctx, s.cfg.FeeBlocks)
	if err != nil {
		return Sweep{}, err
	}
	_, tip, err := s.cfg.Node.BestBlock(ctx)
	if err != nil {
		return Sweep{}, err
	}
	index, err := s.cfg.ColdIndex(ctx)
	if err != nil {
		return Sweep{}, err
	}
	to, err := s.cfg.Cold.Address(index)
	if err != nil {
		return Sweep{}, err
	}
	_, changeScript, err := s.cfg.ChangeAddress(ctx)
	if err != nil {
		return Sweep{}, err
	}
	u, err := BuildSweep(TxRequest{Network: s.cfg.Network, UTXOs: utxos, FeeRate: rate, ChangeScript: changeScript, LockTime: uint32(tip),
		Payments: []Payment{{Address: to, Amount: amount, ID: "cold-sweep"}}})
	if err != nil {
		return Sweep{}, err
	}
	signed, err := Sign(u, s.cfg.Signer)
	if err != nil {
		return Sweep{}, err
	}
	txid := signed.TxHash()
	if _, err := s.cfg.Node.Broadcast(ctx, signed); err != nil {
		// The transaction may have reached the node all the same (a
		// timeout); then it is a sweep like any other.
		if _, _, lookup := s.cfg.Node.Transaction(ctx, txid); lookup != nil {
			return Sweep{}, err
		}
	}
	var spent []OutPointRef
	for _, in := range u.Inputs {
		spent = append(spent, OutPointRef{TxID: in.OutPoint.Hash.String(), Vout: in.OutPoint.Index})
	}
	s.mu.Lock()
	s.inflight[txid.String()] = spent
	s.mu.Unlock()
	if err := s.cfg.Coins.SpendCoins(ctx, s.cfg.Chain, spent, txid.String()); err != nil {
		// The next tick marks them again; so does the watcher.
		s.cfg.Log.Warn("bitcoin cold sweep: marking its coins spent failed; will retry", "txid", txid, "err", err)
	}
	sw := Sweep{TxID: txid.String(), Hot: hot, Amount: amount, Fee: u.Fee, Change: u.Change(),
		ColdAddress: to, ColdIndex: index, Inputs: len(u.Inputs)}
	s.cfg.Log.Info("bitcoin cold sweep broadcast", "txid", sw.TxID, "hot", hot, "amount", amount, "fee", sw.Fee,
		"cold_address", to, "cold_index", index, "inputs", sw.Inputs, "change", sw.Change, "vsize", u.VSize)
	return sw, nil
}

// follow forgets confirmed sweeps, frees the coins of sweeps the node no
// longer knows, and marks again the coins of unconfirmed ones. It reports
// whether one is still unconfirmed.
func (s *ColdSweeper) follow(ctx context.Context) (busy bool, err error) {
	s.mu.Lock()
	inflight := make(map[string][]OutPointRef, len(s.inflight))
	for txid, spent := range s.inflight {
		inflight[txid] = spent
	}
	s.mu.Unlock()
	for txid, spent := range inflight {
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			return false, chengdui.Errorf(chengdui.EInternal, "cold sweep txid %q: %v", txid, err)
		}
		_, conf, err := s.cfg.Node.Transaction(ctx, *h)
		switch {
		case chengdui.ErrorCode(err) == chengdui.ENotFound:
			s.cfg.Log.Error("operator alert: a bitcoin cold sweep left the node unconfirmed; its coins are the hot wallet's again, and its fee, if booked, was never paid",
				"txid", txid)
			if err := s.cfg.Coins.UnspendCoins(ctx, s.cfg.Chain, txid); err != nil {
				return false, err
			}
		case err != nil:
			return false, err
		case conf == 0:
			if err := s.cfg.Coins.SpendCoins(ctx, s.cfg.Chain, spent, txid); err != nil {
				return false, err
			}
			busy = true
			continue
		}
		s.mu.Lock()
		delete(s.inflight, txid)
		s.mu.Unlock()
	}
	return busy, nil
}

// BuildSweep is BuildTx for a sweep: one payment, paid from the smallest
// of req.UTXOs first. Outputs worth less than the fee to spend them at
// req.FeeRate are left alone; the others are taken in increasing value
// until they pay the amount and the fee, with change back to
// req.ChangeScript unless the change would be below its dust limit (then
// it goes to the fee, as BuildTx does). When that needs more than
// MaxSweepInputs coins it uses BuildTx's selection instead, which spends
// the largest. The result is an Unsigned as BuildTx's, with the same
// guarantees: RBF, locktime, a fee of at least FeeRate × VSize.
//
// Errors: BuildTx's; EInvalid for other than one payment.
func BuildSweep(req TxRequest) (*Unsigned, error) {
	if req.Network.HRP() == "" {
		return nil, chengdui.Errorf(chengdui.EInvalid, "unknown Bitcoin network %d", int(req.Network))
	}
	if len(req.Payments) != 1 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "a sweep pays one output, not %d", len(req.Payments))
	}
	if err := checkFeeRate(req.FeeRate); err != nil {
		return nil, err
	}
	if req.LockTime >= maxLockHeight {
		return nil, chengdui.Errorf(chengdui.EInvalid, "locktime %d is a time, not a block height: give the best block's height", req.LockTime)
	}
	if err := checkChangeScript(req.ChangeScript); err != nil {
		return nil, err
	}
	outputs, err := paymentOutputs(req.Network, req.Payments)
	if err != nil {
		return nil, err
	}
	if err := checkUTXOs(req.UTXOs); err != nil {
		return nil, err
	}
	var coins []UTXO
	for _, u := range req.UTXOs {
		if u.Value > req.FeeRate*inputVSize {
			coins = append(coins, u)
		}
	}
	slices.SortFunc(coins, func(a, b UTXO) int {
		if a.Value != b.Value {
			if a.Value < b.Value {
				return -1
			}
			return 1
		}
		return compareOutPoints(a.OutPoint, b.OutPoint)
	})

	amount, paySize := outputs[0].Value, int64(outputs[0].SerializeSize())
	changeSize, changeDust := outputSize(req.ChangeScript), DustLimit(req.ChangeScript)
	var in int64
	for i, c := range coins {
		if i == MaxSweepInputs {
			return BuildTx(req)
		}
		in += c.Value
		n := i + 1
		if change := in - amount - req.FeeRate*txVSize(n, 2, paySize+changeSize); change >= changeDust {
			return sweepTx(req, coins[:n], outputs[0], change, txVSize(n, 2, paySize+changeSize))
		}
		if plain := txVSize(n, 1, paySize); in-amount >= req.FeeRate*plain {
			return sweepTx(req, coins[:n], outputs[0], 0, plain)
		}
	}
	var all int64
	for _, u := range req.UTXOs {
		all += u.Value
	}
	return nil, chengdui.Errorf(chengdui.EExceedsCredits,
		"the hot wallet's %d coins (%d sat) cannot pay a sweep of %d sat and its fee at %d sat/vB", len(req.UTXOs), all, amount, req.FeeRate)
}

// sweepTx assembles a sweep spending inputs to pay, then change unless 0.
func sweepTx(req TxRequest, inputs []UTXO, pay *wire.TxOut, change, vsize int64) (*Unsigned, error) {
	tx := wire.NewMsgTx(txVersion)
	tx.LockTime = req.LockTime
	var in int64
	for _, u := range inputs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: u.OutPoint, Sequence: RBFSequence})
		in += u.Value
	}
	tx.AddTxOut(pay)
	u := &Unsigned{
		Tx:           tx,
		Inputs:       slices.Clone(inputs),
		Payments:     slices.Clone(req.Payments),
		ChangeIndex:  -1,
		ChangeScript: slices.Clone(req.ChangeScript),
		Fee:          in - pay.Value - change,
		VSize:        vsize,
		FeeRate:      req.FeeRate,
	}
	if change > 0 {
		u.ChangeIndex = 1
		tx.AddTxOut(wire.NewTxOut(change, u.ChangeScript))
	}
	return u, u.check()
}

// p2wshTemplate has the size of any P2WSH script, as the cold wallet's.
var p2wshTemplate = append([]byte{txscript.OP_0, txscript.OP_DATA_32}, make([]byte, 32)...)

// spendableCoins are the hot wallet's unspent coins its signer can spend,
// as inputs, largest first: P2WPKH coins of account 0 that are confirmed,
// and with ownChange also its unconfirmed change (an unconfirmed deposit
// is not the platform's to spend yet). Confirmations is 1 for a confirmed
// coin, the least it has (the store does not know the tip), and 0 for
// unconfirmed change.
func spendableCoins(ctx context.Context, store CoinStore, chain string, net keys.Network, ownChange bool) ([]UTXO, error) {
	coins, err := store.Coins(ctx, chain, true)
	if err != nil {
		return nil, err
	}
	var out []UTXO
	for _, c := range coins {
		if c.Height == 0 && (!ownChange || c.Change == 0) {
			continue
		}
		h, err := chainhash.NewHashFromStr(c.TxID)
		if err != nil {
			return nil, chengdui.Errorf(chengdui.EInternal, "coin %s:%d: %v", c.TxID, c.Vout, err)
		}
		if class := txscript.GetScriptClass(c.PkScript); class != txscript.WitnessV0PubKeyHashTy {
			continue // only P2WPKH is spendable by this signer
		}
		var confirmations int64
		if c.Height > 0 {
			confirmations = 1
		}
		out = append(out, UTXO{OutPoint: wire.OutPoint{Hash: *h, Index: c.Vout}, Value: c.Value, PkScript: c.PkScript,
			Path: keys.P2WPKH.Path(net, 0, c.Change, c.Index), Confirmations: confirmations})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	return out, nil
}
