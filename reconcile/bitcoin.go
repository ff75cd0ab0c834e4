package reconcile

import (
	"context"
	"fmt"
	"math/big"
	"sort"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"chengdui"
	"chengdui/bitcoin"
	"chengdui/bitcoin/cold"
	"chengdui/deposit"
	"chengdui/withdraw"
)

// BitcoinNode is what reconciliation asks a Bitcoin node; *bitcoin.Node
// is one.
type BitcoinNode interface {
	// BestBlock returns the chain's tip.
	BestBlock(ctx context.Context) (hash chainhash.Hash, height int32, err error)
	// Transaction returns a transaction and its confirmations (0 in the
	// mempool); ENotFound when the node does not know it.
	Transaction(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, int64, error)
	// TxOut returns an unspent output, the mempool included; ENotFound
	// when it is spent or unknown.
	TxOut(ctx context.Context, op wire.OutPoint) (*wire.TxOut, int64, error)
}

// Bitcoin is the Bitcoin chain the platform holds coins on.
type Bitcoin struct {
	Chain       string // e.g. bitcoin:regtest, as the watcher's
	Asset       string // "" means BTC
	Node        BitcoinNode
	Coins       bitcoin.CoinStore
	Deposits    deposit.Store
	Withdrawals withdraw.Store
	// Cold, if set, recognises the output scripts of the platform's cold
	// storage (ColdScripts): outputs of the platform's transactions that
	// pay it are holdings, not payments out.
	Cold func(pkScript []byte) bool
}

func (b Bitcoin) asset() string {
	if b.Asset == "" {
		return "BTC"
	}
	return b.Asset
}

// ColdScripts recognises the output scripts of the first n receive and
// change addresses of a cold wallet. The cold sweeper allocates receive
// indexes one by one (wallet store scheme "cold-p2wsh"), so n above the
// number of sweeps covers them all.
//
// Errors: those of the wallet's derivation.
func ColdScripts(w *cold.Wallet, n uint32) (func(pkScript []byte) bool, error) {
	set := map[string]bool{}
	for branch := uint32(0); branch < 2; branch++ {
		for i := uint32(0); i < n; i++ {
			_, pk, err := w.Script(branch, i)
			if err != nil {
				return nil, err
			}
			set[string(pk)] = true
		}
	}
	return func(pk []byte) bool { return set[string(pk)] }, nil
}

// btcTx is what the node says of a transaction that spends platform coins.
type btcTx struct {
	tx    *wire.MsgTx // nil when the node does not know it
	confs int64
}

// bitcoin reconciles the chain account of b's asset with the coins of
// the platform's addresses.
func (r *runner) bitcoin(ctx context.Context, b Bitcoin) (Asset, error) {
	asset := b.asset()
	a := Asset{Asset: asset, Source: b.Chain, Account: deposit.ChainAccount(asset), Actual: new(big.Int)}
	var err error
	if a.Ledger, err = r.chainSide(ctx, asset); err != nil {
		return a, err
	}
	coins, err := b.Coins.Coins(ctx, b.Chain, false)
	if err != nil {
		return a, err
	}
	ours := map[wire.OutPoint]bitcoin.Coin{}
	for _, c := range coins {
		h, err := chainhash.NewHashFromStr(c.TxID)
		if err != nil {
			return a, chengdui.Errorf(chengdui.EInternal, "coin %s:%d: %v", c.TxID, c.Vout, err)
		}
		ours[wire.OutPoint{Hash: *h, Index: c.Vout}] = c
	}

	// The transactions that spend platform coins, as the node sees them.
	txs := map[string]btcTx{}
	lookup := func(txid string) (btcTx, error) {
		if t, ok := txs[txid]; ok {
			return t, nil
		}
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			txs[txid] = btcTx{} // the watcher's mark of a replaced transaction's own coins
			return btcTx{}, nil
		}
		tx, confs, err := b.Node.Transaction(ctx, *h)
		if chengdui.ErrorCode(err) == chengdui.ENotFound {
			err = nil
		}
		if err != nil {
			return btcTx{}, err
		}
		txs[txid] = btcTx{tx: tx, confs: confs}
		return txs[txid], nil
	}
	var spenders []string
	for _, c := range coins {
		if c.SpentBy == "" {
			continue
		}
		if _, seen := txs[c.SpentBy]; !seen {
			spenders = append(spenders, c.SpentBy)
		}
		if _, err := lookup(c.SpentBy); err != nil {
			return a, err
		}
	}
	r.progress("  %d coin(s) in the store, %d spending transaction(s)", len(coins), len(spenders))

	// What exists: every coin not spent by a transaction the node knows,
	// and the cold outputs of the platform's transactions, read from the
	// node.
	type candidate struct {
		op   wire.OutPoint
		role string
		coin *bitcoin.Coin
	}
	// spent reports whether a coin's recorded spender is a transaction the
	// node knows that does spend it (the watcher marks the coins of a
	// replaced transaction as spent by that transaction itself).
	spent := func(c bitcoin.Coin, op wire.OutPoint) bool {
		t := txs[c.SpentBy]
		if c.SpentBy == "" || t.tx == nil {
			return false
		}
		for _, in := range t.tx.TxIn {
			if in.PreviousOutPoint == op {
				return true
			}
		}
		return false
	}
	var cands []candidate
	for op, c := range ours {
		if spent(c, op) {
			continue
		}
		role := "deposit"
		if c.Change == 1 {
			role = "change"
		}
		cands = append(cands, candidate{op: op, role: role, coin: &c})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].op.String() < cands[j].op.String() })
	isCold := func(pk []byte) bool { return b.Cold != nil && b.Cold(pk) }
	for _, txid := range spenders {
		t := txs[txid]
		if t.tx == nil {
			continue
		}
		for i, out := range t.tx.TxOut {
			op := wire.OutPoint{Hash: t.tx.TxHash(), Index: uint32(i)}
			if _, mine := ours[op]; !mine && isCold(out.PkScript) {
				cands = append(cands, candidate{op: op, role: "cold"})
			}
		}
	}
	found := map[wire.OutPoint]bool{}
	for i, c := range cands {
		if i > 0 && i%500 == 0 {
			r.progress("  checked %d of %d coins with the node", i, len(cands))
		}
		out, _, err := b.Node.TxOut(ctx, c.op)
		if chengdui.ErrorCode(err) == chengdui.ENotFound {
			if c.coin != nil && c.coin.SpentBy == "" {
				a.Notes = append(a.Notes, fmt.Sprintf("coin %s (%d sat) is unspent in the coin store, but the node has it spent or does not know it", c.op, c.coin.Value))
			}
			continue
		} else if err != nil {
			return a, err
		}
		if out.Value < 0 {
			continue
		}
		if c.coin != nil && c.coin.Value != out.Value {
			a.Notes = append(a.Notes, fmt.Sprintf("coin %s: the store says %d sat, the node %d sat; the node's value is used", c.op, c.coin.Value, out.Value))
		}
		found[c.op] = true
		a.Actual.Add(a.Actual, big.NewInt(out.Value))
		a.Holdings = append(a.Holdings, Holding{Role: c.role, Where: c.op.String(), Amount: chengdui.Amount{Lo: uint64(out.Value)}})
	}

	// Deposits not credited, and payments nobody's: on the chain when
	// their coin exists, or was spent by a transaction the node knows.
	onChain := func(d deposit.Deposit) bool {
		h, err := chainhash.NewHashFromStr(d.TxID)
		if err != nil {
			return false
		}
		op := wire.OutPoint{Hash: *h, Index: d.Index}
		if found[op] {
			return true
		}
		c, ok := ours[op]
		return ok && spent(c, op)
	}
	_, height, err := b.Node.BestBlock(ctx)
	if err != nil {
		return a, err
	}
	tip := uint64(max(height, 0))
	unsettled, err := b.Deposits.Unsettled(ctx, b.Chain)
	if err != nil {
		return a, err
	}
	for _, d := range unsettled {
		if d.Asset != asset || (d.Status != deposit.Seen && d.Status != deposit.Orphaned) || !onChain(d) {
			continue
		}
		a.Explained = append(a.Explained, Item{Kind: DepositNotCredited, Ref: d.Key.String(), TxID: d.TxID, Effect: d.Amount.Big(),
			Detail: fmt.Sprintf("to %s, %s, not credited yet", d.Address, confirmations(d, tip))})
	}
	unexpected, err := b.Deposits.Deposits(ctx, deposit.Filter{Chain: b.Chain, Status: deposit.Unexpected, Limit: maxList})
	if err != nil {
		return a, err
	}
	deposited := map[wire.OutPoint]bool{}
	for _, d := range unexpected {
		if d.Asset != asset || !onChain(d) {
			continue
		}
		if h, err := chainhash.NewHashFromStr(d.TxID); err == nil {
			deposited[wire.OutPoint{Hash: *h, Index: d.Index}] = true
		}
		a.Unexplained = append(a.Unexplained, Item{Kind: UnexpectedDeposit, Ref: d.Key.String(), TxID: d.TxID, Effect: d.Amount.Big(),
			Detail: "to " + d.Address + ", which resolves to no account: recorded, never credited"})
	}

	// Withdrawals whose transaction is on the chain, not completed yet.
	ws, err := b.Withdrawals.Withdrawals(ctx, withdraw.Filter{Chain: b.Chain, Limit: maxList})
	if err != nil {
		return a, err
	}
	chainTs, err := r.accountTransfers(ctx, deposit.ChainAccount(asset))
	if err != nil {
		return a, err
	}
	posted := postedHolds(chainTs)
	withdrawn := map[string]*big.Int{} // by txid: what withdrawals sent or completed in it pay out
	for _, w := range ws {
		if w.TxID == "" || (w.Status != withdraw.Sent && w.Status != withdraw.Completed) || w.Asset != asset {
			continue
		}
		if withdrawn[w.TxID] == nil {
			withdrawn[w.TxID] = new(big.Int)
		}
		withdrawn[w.TxID].Add(withdrawn[w.TxID], w.Amount.Big())
		if w.Status != withdraw.Sent || withdrawalHoldPosted(w, posted) {
			continue
		}
		t, err := lookup(w.TxID)
		if err != nil {
			return a, err
		}
		if t.tx == nil {
			a.Notes = append(a.Notes, fmt.Sprintf("withdrawal %s was sent in %s, which the node does not know: the payer will send it again", w.ID, w.TxID))
			continue
		}
		a.Explained = append(a.Explained, Item{Kind: WithdrawalInFlight, Ref: w.ID, TxID: w.TxID, Effect: neg(w.Amount.Big()),
			Detail: fmt.Sprintf("to %s, %d confirmation(s), not completed yet", w.To, t.confs)})
	}

	// Each transaction of the platform: its fee against what the ledger
	// booked, and what it paid to outside addresses against its
	// withdrawals.
	booked, err := r.bookedFees(ctx, asset)
	if err != nil {
		return a, err
	}
	sort.Strings(spenders)
	for _, txid := range spenders {
		t := txs[txid]
		if t.tx == nil {
			continue
		}
		var in, out, ext int64
		var mine, others int
		for _, txin := range t.tx.TxIn {
			if c, ok := ours[txin.PreviousOutPoint]; ok {
				in += c.Value
				mine++
			} else {
				others++
			}
		}
		if mine == 0 {
			continue // not the platform's: the watcher's mark of a replaced transaction
		}
		if others > 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("transaction %s spends platform coins and others: its fee is not checked", txid))
			continue
		}
		for i, o := range t.tx.TxOut {
			out += o.Value
			op := wire.OutPoint{Hash: t.tx.TxHash(), Index: uint32(i)}
			if _, mine := ours[op]; !mine && !isCold(o.PkScript) {
				ext += o.Value
			}
		}
		fee := big.NewInt(in - out)
		unbooked := new(big.Int).Sub(fee, bigOr0(booked[normTx(txid)]))
		switch unbooked.Sign() {
		case 1:
			a.Explained = append(a.Explained, Item{Kind: FeeNotBooked, Ref: txid, TxID: txid, Effect: neg(unbooked),
				Detail: fmt.Sprintf("network fee %d sat, %d confirmation(s), not booked yet", fee, t.confs)})
		case -1:
			a.Unexplained = append(a.Unexplained, Item{Kind: FeeOverbooked, Ref: txid, TxID: txid, Effect: neg(unbooked),
				Detail: fmt.Sprintf("the ledger booked %s sat of fee, the transaction paid %d", booked[normTx(txid)], fee)})
		}
		if d := new(big.Int).Sub(big.NewInt(ext), bigOr0(withdrawn[txid])); d.Sign() != 0 {
			a.Unexplained = append(a.Unexplained, Item{Kind: UnaccountedOutflow, Ref: txid, TxID: txid, Effect: neg(d),
				Detail: fmt.Sprintf("pays %d sat to outside addresses; its withdrawals account for %s sat", ext, bigOr0(withdrawn[txid]))})
		}
	}

	// Coins that came from outside and that no deposit accounts for.
	known := map[wire.OutPoint]bool{}
	for _, d := range unsettled {
		if h, err := chainhash.NewHashFromStr(d.TxID); err == nil {
			known[wire.OutPoint{Hash: *h, Index: d.Index}] = true
		}
	}
	for op := range found {
		c, ok := ours[op]
		if !ok || known[op] || deposited[op] {
			continue
		}
		if _, platformTx := txs[c.TxID]; platformTx {
			continue // change of the platform's own transaction
		}
		if c.Change == 0 {
			if ds, err := b.Deposits.DepositsOfTx(ctx, b.Chain, c.TxID); err != nil {
				return a, err
			} else if creditedOutput(ds, c.Vout) {
				continue
			}
		}
		a.Unexplained = append(a.Unexplained, Item{Kind: UnknownCoin, Ref: op.String(), TxID: c.TxID, Effect: big.NewInt(c.Value),
			Detail: fmt.Sprintf("%d sat to %s, which no deposit and no transaction of the platform accounts for", c.Value, c.Address)})
	}
	sortItems(a.Unexplained)
	return a, nil
}

// creditedOutput reports whether a transaction's deposits hold a credit
// of output vout that stands.
func creditedOutput(ds []deposit.Deposit, vout uint32) bool {
	for _, d := range ds {
		if d.Kind == deposit.KindOutput && d.Index == vout && d.Status == deposit.Credited {
			return true
		}
	}
	return false
}

func sortItems(its []Item) {
	sort.SliceStable(its, func(i, j int) bool {
		if its[i].Kind != its[j].Kind {
			return its[i].Kind < its[j].Kind
		}
		return its[i].Ref < its[j].Ref
	})
}
