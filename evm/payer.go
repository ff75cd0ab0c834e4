package evm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"lukechampine.com/uint128"

	"chengdui"
	"chengdui/keys"
	"chengdui/withdraw"
)

// Sender id prefixes of the Payer's transactions.
const (
	sendPrefix    = "wd:"         // one withdrawal: wd:<withdrawal id>
	batchPrefix   = "wdb:"        // a BatchPayer call: wdb:<hash of its withdrawals' ids>
	approvePrefix = "wd-approve:" // the hot wallet's approval of BatchPayer for a token
)

// Payer defaults.
const (
	// DefaultMaxBatch is how many withdrawals one BatchPayer call pays at
	// most: 100 ERC-20 transfers take about 3 M gas (measured: see the
	// batch tests), well inside a block and an Osaka transaction's 2^24.
	DefaultMaxBatch = 100
	// DefaultBatchInterval is how often Run batches pending withdrawals.
	DefaultBatchInterval = 2 * time.Second
)

// PayerConfig configures a Payer.
type PayerConfig struct {
	Chain       string                    // e.g. evm:1337, the Sender's
	NativeAsset string                    // e.g. ETH
	Tokens      map[string]common.Address // ERC-20 asset code → token contract
	Sender      *Sender
	Hot         Account // the hot wallet that pays
	Withdrawals *withdraw.Service
	// Batcher is the chain's BatchPayer contract (contracts/src). Zero:
	// every withdrawal is its own transaction, sent by Submit. Set: Run
	// pays pending withdrawals in BatchPayer calls of up to MaxBatch
	// recipients of one asset.
	Batcher common.Address
	// MaxBatch bounds the recipients of one call; 0 means DefaultMaxBatch.
	MaxBatch int
	// Interval is how often Run batches; 0 means DefaultBatchInterval.
	Interval time.Duration
	Log      *slog.Logger // nil: slog.Default()
}

// Payer pays withdrawals on an EVM chain from the hot wallet through the
// Sender (which makes each transaction durable before broadcast, manages
// nonces and replaces stuck transactions). It implements withdraw.Payer;
// its OnFinal completes or fails the withdrawals of a transaction when the
// Sender reports it final.
//
// Without a Batcher, Submit sends each withdrawal in its own transaction
// (Sender id wd:<id>). With one, Submit only wakes Run, which groups the
// pending withdrawals by asset into BatchPayer calls (batchNative with the
// ether as value; batchTransfer pulling the token from the hot wallet,
// which approves the contract once, with a transaction of its own) of up
// to MaxBatch recipients; a lone withdrawal still goes alone, which costs
// less gas.
//
// Paying twice is what a crash must never cause. A batch is claimed
// before it is sent: each of its withdrawals records the batch's Sender
// id (wdb:<hash>) as its TxID while still pending, then the Sender
// records the call under that id (nonce and signed bytes before
// broadcast), and only then are the withdrawals marked sent with the
// transaction's hash. After a crash, pending withdrawals that name a batch
// are sent as that batch again, which the Sender answers with the
// transaction it recorded, if any; they never join another batch. A batch
// the node refuses to estimate (a recipient that reverts) was never
// recorded: its withdrawals are released and sent one by one, so one bad
// recipient fails alone; a withdrawal the Sender has a transaction of its
// own for never joins a batch. One Payer per chain batches: two processes
// batching at once could claim a withdrawal twice.
type Payer struct {
	cfg  PayerConfig
	log  *slog.Logger
	kick chan struct{}
	mu   sync.Mutex // one Tick at a time
}

var _ withdraw.Payer = (*Payer)(nil)

// NewPayer returns a Payer. Give the Sender OnFinal: p.OnFinal; with a
// Batcher, run p.Run.
func NewPayer(cfg PayerConfig) *Payer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultBatchInterval
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Payer{cfg: cfg, log: log.With("chain", cfg.Chain), kick: make(chan struct{}, 1)}
}

// Chain implements withdraw.Payer.
func (p *Payer) Chain() string { return p.cfg.Chain }

// NativeAsset implements withdraw.Payer.
func (p *Payer) NativeAsset() string { return p.cfg.NativeAsset }

// Pays implements withdraw.Payer.
func (p *Payer) Pays(asset string) bool {
	_, ok := p.cfg.Tokens[asset]
	return ok || asset == p.cfg.NativeAsset
}

// CheckAddress implements withdraw.Payer: the EIP-55 form of an EVM
// address.
func (p *Payer) CheckAddress(to string) (string, error) {
	a, err := keys.ParseEVMAddress(to)
	if err != nil {
		return "", err
	}
	if a == (common.Address{}) {
		return "", chengdui.Errorf(chengdui.EInvalid, "the zero address burns what it receives; give a real address")
	}
	return a.Hex(), nil
}

// CheckAmount implements withdraw.Payer; EVM chains have no dust limit.
func (p *Payer) CheckAmount(string, chengdui.Amount) error { return nil }

// Submit implements withdraw.Payer. Without a Batcher it sends the
// withdrawal through the Sender (idempotent by id) and marks it sent;
// with one it wakes Run, which batches it.
func (p *Payer) Submit(ctx context.Context, w withdraw.Withdrawal) error {
	if p.cfg.Batcher != (common.Address{}) {
		select {
		case p.kick <- struct{}{}:
		default:
		}
		return nil
	}
	return p.sendOne(ctx, w)
}

// sendOne pays w in a transaction of its own.
func (p *Payer) sendOne(ctx context.Context, w withdraw.Withdrawal) error {
	to := common.HexToAddress(w.To)
	req := SendRequest{ID: sendPrefix + w.ID, From: p.cfg.Hot, To: to, Value: w.Amount.Big(), Asset: w.Asset}
	if w.Asset != p.cfg.NativeAsset {
		token, ok := p.cfg.Tokens[w.Asset]
		if !ok {
			return chengdui.Errorf(chengdui.EInvalid, "chain %s has no token %s", p.cfg.Chain, w.Asset)
		}
		req.To, req.Value, req.Data = token, new(big.Int), TransferData(to, w.Amount.Big())
	}
	tx, err := p.cfg.Sender.Send(ctx, req)
	if chengdui.ErrorCode(err) == chengdui.EInvalid {
		if refused, berr := p.covers(ctx, w); berr == nil && refused {
			// The hot wallet holds the amount and the call still reverts:
			// the recipient refuses it (a contract taking no ether, a
			// token's blacklist). Waiting cannot help; the withdrawal fails
			// and its origin gets the amount back.
			p.log.Warn("withdrawal refused by its recipient; failing it", "withdrawal", w.ID, "to", w.To, "err", err)
			return p.cfg.Withdrawals.Fail(ctx, w.ID, "the recipient refuses the payment: "+message(err))
		}
	}
	if err != nil {
		return err
	}
	return p.cfg.Withdrawals.MarkSent(ctx, w.ID, tx.Hash.Hex())
}

// covers reports whether the hot wallet holds w's amount of its asset, so
// that a transfer of it that reverts is the recipient's refusal rather
// than the wallet's want of funds (a token withdrawal before a sweep).
func (p *Payer) covers(ctx context.Context, w withdraw.Withdrawal) (bool, error) {
	client := p.cfg.Sender.Client()
	var bal *big.Int
	var err error
	if w.Asset == p.cfg.NativeAsset {
		bal, err = client.BalanceAt(ctx, p.cfg.Hot.Address, nil)
	} else {
		token, ok := p.cfg.Tokens[w.Asset]
		if !ok {
			return false, nil
		}
		bal, err = TokenBalance(ctx, client, token, p.cfg.Hot.Address)
	}
	if err != nil {
		return false, err
	}
	return bal.Cmp(w.Amount.Big()) >= 0, nil
}

// Run batches pending withdrawals every Interval, and when Submit wakes
// it, until ctx ends. Without a Batcher it returns at once: Submit sends.
func (p *Payer) Run(ctx context.Context) error {
	if p.cfg.Batcher == (common.Address{}) {
		return nil
	}
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if err := p.Tick(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("evm payer", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

// Tick pays the pending withdrawals of the chain once: the batches a
// crash interrupted first, then new batches per asset, oldest first. One
// batch's error is logged and does not stop the others; the error
// returned is the storage's.
func (p *Payer) Tick(ctx context.Context) error {
	if p.cfg.Batcher == (common.Address{}) {
		return chengdui.Errorf(chengdui.EInvalid, "evm payer %s: no BatchPayer configured", p.cfg.Chain)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pending, err := p.cfg.Withdrawals.Store().Withdrawals(ctx, withdraw.Filter{Chain: p.cfg.Chain, Status: withdraw.Pending, Limit: 10 * p.cfg.MaxBatch})
	if err != nil {
		return err
	}
	claimed := map[string][]withdraw.Withdrawal{}
	var batches []string
	byAsset := map[string][]withdraw.Withdrawal{}
	var assets []string
	for _, w := range pending {
		if strings.HasPrefix(w.TxID, batchPrefix) {
			if _, ok := claimed[w.TxID]; !ok {
				batches = append(batches, w.TxID)
			}
			claimed[w.TxID] = append(claimed[w.TxID], w)
			continue
		}
		// A withdrawal sent alone before (without a Batcher, or released
		// from a refused batch) and not marked sent must not join a batch.
		if tx, err := p.cfg.Sender.Lookup(ctx, sendPrefix+w.ID); err == nil {
			if tx.Hash != (common.Hash{}) {
				if err := p.cfg.Withdrawals.MarkSent(ctx, w.ID, tx.Hash.Hex()); err != nil {
					return err
				}
			}
			continue
		} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
			return err
		}
		if _, ok := byAsset[w.Asset]; !ok {
			assets = append(assets, w.Asset)
		}
		byAsset[w.Asset] = append(byAsset[w.Asset], w)
	}
	for _, asset := range assets {
		for ws := range slices.Chunk(byAsset[asset], p.cfg.MaxBatch) {
			if len(ws) == 1 {
				if err := p.sendOne(ctx, ws[0]); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					p.log.Warn("withdrawal not sent; it will be retried", "withdrawal", ws[0].ID, "err", err)
				}
				continue
			}
			id, err := p.claim(ctx, ws)
			if err != nil {
				return err
			}
			batches = append(batches, id)
			claimed[id] = ws
		}
	}
	for _, id := range batches {
		if err := p.sendBatch(ctx, id, claimed[id]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("withdrawal batch not sent; it will be retried", "batch", id, "withdrawals", len(claimed[id]), "err", err)
		}
	}
	return nil
}

// claim records a new batch's Sender id on each of its withdrawals, still
// pending, and returns the id.
func (p *Payer) claim(ctx context.Context, ws []withdraw.Withdrawal) (string, error) {
	h := sha256.New()
	for _, w := range ws {
		h.Write([]byte(w.ID))
		h.Write([]byte{0})
	}
	id := batchPrefix + hex.EncodeToString(h.Sum(nil)[:16])
	for i := range ws {
		ws[i].TxID = id
		if err := p.cfg.Withdrawals.Store().UpdateWithdrawal(ctx, ws[i]); err != nil {
			return "", err
		}
	}
	return id, nil
}

// sendBatch sends the BatchPayer call of batch id, whose withdrawals are
// ws, unless the Sender has it already, and marks them sent.
func (p *Payer) sendBatch(ctx context.Context, id string, ws []withdraw.Withdrawal) error {
	tx, err := p.cfg.Sender.Lookup(ctx, id)
	if chengdui.ErrorCode(err) == chengdui.ENotFound {
		tx, err = p.sendCall(ctx, id, ws)
		if chengdui.ErrorCode(err) == chengdui.EInvalid {
			if _, lerr := p.cfg.Sender.Lookup(ctx, id); chengdui.ErrorCode(lerr) == chengdui.ENotFound {
				return p.release(ctx, id, ws, err)
			}
		}
	}
	if err != nil {
		return err
	}
	if tx.Hash == (common.Hash{}) {
		return nil // recorded, not signed yet: the Sender's Tick signs it; marked sent next round
	}
	for _, w := range ws {
		if err := p.cfg.Withdrawals.MarkSent(ctx, w.ID, tx.Hash.Hex()); err != nil {
			return err
		}
	}
	p.log.Info("withdrawal batch sent", "batch", id, "hash", tx.Hash.Hex(), "asset", ws[0].Asset, "withdrawals", len(ws))
	return nil
}

// release sends, one by one, the withdrawals of a batch the node refused
// to estimate and the Sender never recorded.
func (p *Payer) release(ctx context.Context, id string, ws []withdraw.Withdrawal, cause error) error {
	p.log.Warn("withdrawal batch refused; paying its withdrawals one by one", "batch", id, "withdrawals", len(ws), "err", cause)
	var errs []error
	for _, w := range ws {
		w.TxID = ""
		if err := p.cfg.Withdrawals.Store().UpdateWithdrawal(ctx, w); err != nil {
			return err
		}
		if err := p.sendOne(ctx, w); err != nil {
			errs = append(errs, chengdui.Errorf(chengdui.ErrorCode(err), "withdrawal %s: %s", w.ID, message(err)))
		}
	}
	return errors.Join(errs...)
}

// sendCall asks the Sender for the BatchPayer call paying ws.
func (p *Payer) sendCall(ctx context.Context, id string, ws []withdraw.Withdrawal) (OutTx, error) {
	ws = slices.Clone(ws)
	slices.SortFunc(ws, func(a, b withdraw.Withdrawal) int { return strings.Compare(a.ID, b.ID) })
	asset := ws[0].Asset
	to := make([]common.Address, len(ws))
	amounts := make([]*big.Int, len(ws))
	total := new(big.Int)
	for i, w := range ws {
		if w.Asset != asset {
			return OutTx{}, chengdui.Errorf(chengdui.EInternal, "batch %s mixes %s and %s", id, asset, w.Asset)
		}
		to[i], amounts[i] = common.HexToAddress(w.To), w.Amount.Big()
		total.Add(total, amounts[i])
	}
	req := SendRequest{ID: id, From: p.cfg.Hot, To: p.cfg.Batcher, Asset: asset}
	if asset == p.cfg.NativeAsset {
		req.Value, req.Data = total, BatchNativeData(to, amounts)
		return p.cfg.Sender.Send(ctx, req)
	}
	token, ok := p.cfg.Tokens[asset]
	if !ok {
		return OutTx{}, chengdui.Errorf(chengdui.EInvalid, "chain %s has no token %s", p.cfg.Chain, asset)
	}
	if ready, err := p.approved(ctx, asset, token, total); err != nil || !ready {
		if err == nil {
			err = chengdui.Errorf(chengdui.EUnavailable, "the hot wallet's approval of the BatchPayer for %s is not mined yet", asset)
		}
		return OutTx{}, err
	}
	req.Data = BatchTransferData(token, to, amounts)
	return p.cfg.Sender.Send(ctx, req)
}

// approved reports whether the hot wallet allows the Batcher to move at
// least need of token; when not, it sends the approval of the largest
// amount, once (its Sender id is fixed per token and contract).
func (p *Payer) approved(ctx context.Context, asset string, token common.Address, need *big.Int) (bool, error) {
	have, err := Allowance(ctx, p.cfg.Sender.Client(), token, p.cfg.Hot.Address, p.cfg.Batcher)
	if err != nil {
		return false, err
	}
	if have.Cmp(need) >= 0 {
		return true, nil
	}
	tx, err := p.cfg.Sender.Send(ctx, SendRequest{ID: approvePrefix + asset + ":" + p.cfg.Batcher.Hex(), From: p.cfg.Hot, To: token,
		Value: new(big.Int), Data: ApproveData(p.cfg.Batcher, maxUint256), Asset: p.cfg.NativeAsset})
	if err != nil {
		return false, err
	}
	if tx.Status.Final() {
		return false, chengdui.Errorf(chengdui.EUnavailable, "the hot wallet approved the BatchPayer for %s (%s, %s) and the allowance is still short: an operator must look", asset, tx.Hash.Hex(), tx.Status)
	}
	return false, nil
}

// OnFinal is the Sender's hook: a mined withdrawal (or batch) completes,
// with its gas fee, a batch's split evenly, booked; a failed one
// (reverted, dropped) is voided. The gas of an approval is booked as the
// platform's network fee. Other transactions (sweeps) are not the
// Payer's.
func (p *Payer) OnFinal(ctx context.Context, tx OutTx) error {
	fee := chengdui.Amount{}
	if tx.Fee != nil {
		fee = uint128.FromBig(new(big.Int).Set(tx.Fee)) // FromBig shifts its argument
	}
	if strings.HasPrefix(tx.ID, approvePrefix) {
		return p.cfg.Withdrawals.BookNetworkFee(ctx, p.cfg.NativeAsset, tx.Hash.Hex(), fee)
	}
	if strings.HasPrefix(tx.ID, batchPrefix) {
		return p.finishBatch(ctx, tx, fee)
	}
	id, ok := strings.CutPrefix(tx.ID, sendPrefix)
	if !ok {
		return nil // a sweep or top-up: not a withdrawal
	}
	if tx.Status != SendMined {
		// A reverted transaction still paid its gas: the platform's
		// expense, as a completed one's.
		if err := p.cfg.Withdrawals.BookNetworkFee(ctx, p.cfg.NativeAsset, tx.Hash.Hex(), fee); err != nil {
			return err
		}
		return p.cfg.Withdrawals.Fail(ctx, id, "transaction failed: "+tx.Error)
	}
	return p.cfg.Withdrawals.Complete(ctx, id, tx.Hash.Hex(), fee)
}

// finishBatch completes or fails the withdrawals of a batch: those that
// name its id (claimed, never marked sent) or one of its attempts' hashes.
func (p *Payer) finishBatch(ctx context.Context, tx OutTx, fee chengdui.Amount) error {
	refs := []string{tx.ID}
	for _, a := range tx.Attempts {
		refs = append(refs, a.Hash.Hex())
	}
	var ws []withdraw.Withdrawal
	seen := map[string]bool{}
	for _, ref := range refs {
		got, err := p.cfg.Withdrawals.Store().Withdrawals(ctx, withdraw.Filter{Chain: p.cfg.Chain, TxID: ref, Limit: 10 * p.cfg.MaxBatch})
		if err != nil {
			return err
		}
		for _, w := range got {
			if !seen[w.ID] {
				seen[w.ID] = true
				ws = append(ws, w)
			}
		}
	}
	if len(ws) == 0 {
		p.log.Error("a withdrawal batch ended and no withdrawal names it", "batch", tx.ID, "hash", tx.Hash.Hex(), "status", tx.Status)
		return nil
	}
	slices.SortFunc(ws, func(a, b withdraw.Withdrawal) int { return strings.Compare(a.ID, b.ID) })
	if tx.Status != SendMined {
		// A reverted batch still paid its gas: booked once, for the batch.
		if err := p.cfg.Withdrawals.BookNetworkFee(ctx, p.cfg.NativeAsset, tx.Hash.Hex(), fee); err != nil {
			return err
		}
	}
	shares := splitFee(fee, len(ws))
	for i, w := range ws {
		var err error
		if tx.Status != SendMined {
			err = p.cfg.Withdrawals.Fail(ctx, w.ID, "batch transaction failed: "+tx.Error)
		} else {
			err = p.cfg.Withdrawals.Complete(ctx, w.ID, tx.Hash.Hex(), shares[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// splitFee shares a batch's fee among n withdrawals, the remainder to the
// first, so the shares add up exactly.
func splitFee(fee chengdui.Amount, n int) []chengdui.Amount {
	q, r := fee.QuoRem64(uint64(n))
	out := make([]chengdui.Amount, n)
	for i := range out {
		out[i] = q
	}
	out[0] = out[0].Add64(r)
	return out
}

// Selectors of the calls the Payer makes, the first four bytes of the
// Keccak-256 of their signatures.
var (
	selectorApprove       = []byte{0x09, 0x5e, 0xa7, 0xb3} // approve(address,uint256)
	selectorAllowance     = []byte{0xdd, 0x62, 0xed, 0x3e} // allowance(address,address)
	selectorBatchNative   = crypto.Keccak256([]byte("batchNative(address[],uint256[])"))[:4]
	selectorBatchTransfer = crypto.Keccak256([]byte("batchTransfer(address,address[],uint256[])"))[:4]
)

// BatchNativeData is the calldata of BatchPayer.batchNative(to, amounts):
// send it with the amounts' sum as value.
func BatchNativeData(to []common.Address, amounts []*big.Int) []byte {
	return batchData(selectorBatchNative, nil, to, amounts)
}

// BatchTransferData is the calldata of BatchPayer.batchTransfer(token, to,
// amounts).
func BatchTransferData(token common.Address, to []common.Address, amounts []*big.Int) []byte {
	return batchData(selectorBatchTransfer, [][]byte{common.LeftPadBytes(token.Bytes(), 32)}, to, amounts)
}

// batchData ABI-encodes a call of static head words followed by an
// address[] and a uint256[].
func batchData(selector []byte, head [][]byte, to []common.Address, amounts []*big.Int) []byte {
	word := func(n int) []byte { return common.LeftPadBytes(big.NewInt(int64(n)).Bytes(), 32) }
	headSize := 32 * (len(head) + 2)
	data := make([]byte, 0, 4+headSize+64+64*len(to))
	data = append(data, selector...)
	for _, h := range head {
		data = append(data, h...)
	}
	data = append(data, word(headSize)...)
	data = append(data, word(headSize+32+32*len(to))...)
	data = append(data, word(len(to))...)
	for _, a := range to {
		data = append(data, common.LeftPadBytes(a.Bytes(), 32)...)
	}
	data = append(data, word(len(amounts))...)
	for _, a := range amounts {
		data = append(data, common.LeftPadBytes(a.Bytes(), 32)...)
	}
	return data
}

// ApproveData is the calldata of an ERC-20 approve(spender, amount).
func ApproveData(spender common.Address, amount *big.Int) []byte {
	data := append([]byte{}, selectorApprove...)
	data = append(data, common.LeftPadBytes(spender.Bytes(), 32)...)
	return append(data, common.LeftPadBytes(amount.Bytes(), 32)...)
}

// Allowance is what owner allows spender to move of the ERC-20 token.
//
// Errors: EInvalid when token answers no uint256, those of FormatError.
func Allowance(ctx context.Context, c Chain, token, owner, spender common.Address) (*big.Int, error) {
	data := append([]byte{}, selectorAllowance...)
	data = append(data, common.LeftPadBytes(owner.Bytes(), 32)...)
	data = append(data, common.LeftPadBytes(spender.Bytes(), 32)...)
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, FormatError(err)
	}
	if len(out) != 32 {
		return nil, chengdui.Errorf(chengdui.EInvalid, "%s answers allowance with %d bytes, not a uint256: is it an ERC-20 on this chain?", token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out), nil
}
