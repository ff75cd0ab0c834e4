package evm

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"chengdui"
	"chengdui/keys"
)

// Defaults of a Sender.
const (
	DefaultGasMargin  = 20               // percent added to the gas estimate of a call that runs code
	DefaultStuckAfter = 3 * time.Minute  // a transaction unmined this long is replaced
	DefaultInterval   = 4 * time.Second  // how often Run follows the transactions
	MaxSendIDLength   = 200              // bytes of a SendRequest.ID
	replacementBump   = 10               // percent: geth's txpool.pricebump
	maxGasLimit       = params.MaxTxGas  // the largest gas limit a node accepts since Osaka
	finishTimeout     = 10 * time.Second // to record an end OnFinal acted on, past the caller's ctx
)

// SendStatus is where an outgoing transaction stands.
type SendStatus string

// The states of an outgoing transaction. A transaction is recorded queued,
// becomes sent once a node accepted one of its attempts, and ends mined
// (its receipt succeeded) or failed (it reverted, or its nonce was taken by
// a transaction that is not one of its attempts).
const (
	SendQueued SendStatus = "queued"
	SendSent   SendStatus = "sent"
	SendMined  SendStatus = "mined"
	SendFailed SendStatus = "failed"
)

// Final reports whether s is an end state: mined or failed.
func (s SendStatus) Final() bool { return s == SendMined || s == SendFailed }

// Attempt is one signed version of an outgoing transaction: the first, or
// a replacement with the same nonce and higher fees.
type Attempt struct {
	Hash   common.Hash
	TipCap *big.Int // max priority fee per gas, wei
	FeeCap *big.Int // max fee per gas, wei
	Raw    []byte   // the signed transaction (its binary encoding), to broadcast again
	At     time.Time
}

// OutTx is an outgoing transaction as the SendStore keeps it.
type OutTx struct {
	ID    string // the caller's idempotency key, e.g. a withdrawal's id
	Chain string // e.g. evm:1337
	From  common.Address
	Path  keys.Path // of From's key in the platform's seed
	To    common.Address
	Value *big.Int // wei
	Data  []byte   // calldata; nil for a plain transfer
	Asset string   // what the transaction moves, e.g. ETH or USDT-ERC20
	Nonce uint64
	Gas   uint64 // gas limit
	// FixedFees marks a transaction whose fees the caller chose: it is
	// never replaced with higher fees (a sweep of a whole balance could
	// not pay them).
	FixedFees bool
	// TipCap and FeeCap are the current attempt's fees; before the first
	// attempt, the fees it will have when fixed, else nil.
	TipCap, FeeCap *big.Int
	// Hash is the current attempt's hash, or once mined the hash of the
	// attempt that was; zero before the first attempt.
	Hash     common.Hash
	Attempts []Attempt // oldest first
	Status   SendStatus
	Block    uint64   // the block it was mined in; 0 before
	GasUsed  uint64   // once final
	GasPrice *big.Int // the effective gas price paid, once final; else nil
	// Fee is GasUsed × GasPrice, the ether From paid for gas, once final;
	// else nil. On rollups the L1 data fee comes on top.
	Fee *big.Int
	// Error is why it failed, or the node's last refusal while it waits.
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SendResult is how an outgoing transaction ended.
type SendResult struct {
	Status   SendStatus  // SendMined or SendFailed
	Hash     common.Hash // the attempt mined; zero when none was
	Block    uint64
	GasUsed  uint64
	GasPrice *big.Int // effective gas price; zero when none was mined
	Fee      *big.Int // GasUsed × GasPrice
	Error    string
	At       time.Time
}

// CheckNew refuses a transaction CreateSend cannot record: no id (or one
// longer than MaxSendIDLength), chain, sender, key path or asset, a value
// outside 0 to 2^256-1, fees that are not both nil or 0 ≤ TipCap ≤ FeeCap,
// a gas limit above 2^63-1. Stores call it.
//
// Errors: EInvalid.
func (tx OutTx) CheckNew() error {
	switch {
	case tx.ID == "" || len(tx.ID) > MaxSendIDLength:
		return chengdui.Errorf(chengdui.EInvalid, "a send id is 1 to %d bytes", MaxSendIDLength)
	case tx.Chain == "" || tx.Asset == "":
		return chengdui.Errorf(chengdui.EInvalid, "send %s: chain and asset are required", tx.ID)
	case tx.From == (common.Address{}) || len(tx.Path) == 0:
		return chengdui.Errorf(chengdui.EInvalid, "send %s: the sender's address and key path are required", tx.ID)
	case tx.Value == nil || tx.Value.Sign() < 0 || tx.Value.Cmp(maxUint256) > 0:
		return chengdui.Errorf(chengdui.EInvalid, "send %s: value must be 0 to 2^256-1 wei", tx.ID)
	case (tx.TipCap == nil) != (tx.FeeCap == nil),
		tx.FeeCap != nil && (tx.TipCap.Sign() < 0 || tx.TipCap.Cmp(tx.FeeCap) > 0 || tx.FeeCap.Cmp(maxUint256) > 0):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: fees must be both unset, or 0 ≤ TipCap ≤ FeeCap < 2^256", tx.ID)
	case tx.Gas > math.MaxInt64:
		return chengdui.Errorf(chengdui.EInvalid, "send %s: gas limit %d is out of range", tx.ID, tx.Gas)
	}
	return nil
}

// Check refuses an attempt AddAttempt cannot record: no hash, fees or
// signed bytes, or fees outside 0 ≤ TipCap ≤ FeeCap < 2^256.
//
// Errors: EInvalid.
func (a Attempt) Check() error {
	if a.Hash == (common.Hash{}) || len(a.Raw) == 0 || a.TipCap == nil || a.FeeCap == nil ||
		a.TipCap.Sign() < 0 || a.TipCap.Cmp(a.FeeCap) > 0 || a.FeeCap.Cmp(maxUint256) > 0 {
		return chengdui.Errorf(chengdui.EInvalid, "an attempt needs a hash, its signed bytes and fees 0 ≤ TipCap ≤ FeeCap < 2^256")
	}
	return nil
}

// Check refuses a result FinishSend cannot record: a status that is not
// final, a gas price or fee missing or outside 0 to 2^256-1, a block or
// gas used above 2^63-1.
//
// Errors: EInvalid.
func (r SendResult) Check() error {
	ok := func(x *big.Int) bool { return x != nil && x.Sign() >= 0 && x.Cmp(maxUint256) <= 0 }
	switch {
	case !r.Status.Final():
		return chengdui.Errorf(chengdui.EInvalid, "a send ends %s or %s, not %q", SendMined, SendFailed, r.Status)
	case !ok(r.GasPrice) || !ok(r.Fee):
		return chengdui.Errorf(chengdui.EInvalid, "a send's result needs a gas price and a fee of 0 to 2^256-1 wei")
	case r.Block > math.MaxInt64 || r.GasUsed > math.MaxInt64:
		return chengdui.Errorf(chengdui.EInvalid, "block %d or gas used %d is out of range", r.Block, r.GasUsed)
	}
	return nil
}

// SendStore keeps the Sender's outgoing transactions and the next nonce of
// each sending address, so that a restart or a second process neither
// loses a transaction nor reuses a nonce. The sqlite and postgres packages
// implement it; storetest.RunEVMSend checks them.
type SendStore interface {
	// CreateSend records tx, without attempts, as queued, and gives it the
	// next nonce of (tx.Chain, tx.From): the larger of the stored next
	// nonce and floor. Allocation and insert are one transaction, so
	// concurrent callers in any process get distinct nonces without gaps
	// and a refused insert uses none. It returns tx as stored.
	// Errors: EConflict when tx.ID is recorded, EInvalid for a tx no row
	// can hold.
	CreateSend(ctx context.Context, tx OutTx, floor uint64) (OutTx, error)
	// OutTx returns the transaction with id, its attempts oldest first.
	// Errors: ENotFound.
	OutTx(ctx context.Context, id string) (OutTx, error)
	// UnfinishedSends lists a chain's queued and sent transactions by
	// sending address, then nonce.
	UnfinishedSends(ctx context.Context, chain string) ([]OutTx, error)
	// AddAttempt records a signed attempt of transaction id and makes it
	// the current one. Errors: ENotFound, EConflict once the transaction
	// is final or when the hash is recorded.
	AddAttempt(ctx context.Context, id string, a Attempt) error
	// SetSendState moves an unfinished transaction to status (queued or
	// sent) and records note as its Error. Errors: ENotFound, EInvalid for
	// a final status, EConflict once the transaction is final.
	SetSendState(ctx context.Context, id string, status SendStatus, note string, at time.Time) error
	// FinishSend records how transaction id ended. Errors: ENotFound,
	// EInvalid for a status that is not final, EConflict once it is final.
	FinishSend(ctx context.Context, id string, r SendResult) error
}

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Chain is the chain's key in the store, e.g. "evm:1337"; empty means
	// "evm:<the node's chain id>". When it has that form the node's chain
	// id must match.
	Chain string
	// Client is the node.
	Client Chain
	// Store keeps the transactions.
	Store SendStore
	// Signer signs replacements and the transactions a Send left unsigned,
	// with the key at the stored path: the platform's seed.
	Signer keys.Signer
	// MaxFeeCap bounds the max fee per gas of every attempt, in wei; nil
	// means no bound. A base fee above it leaves transactions waiting.
	MaxFeeCap *big.Int
	// GasMargin is the percentage added to gas estimates of calls that run
	// code; 0 means DefaultGasMargin. Plain transfers get exactly 21,000.
	GasMargin uint64
	// StuckAfter is how long an attempt may stay unmined before it is
	// replaced with higher fees; 0 means DefaultStuckAfter.
	StuckAfter time.Duration
	// Confirmations is how many blocks, the transaction's own included,
	// make it final; 0 means 1.
	Confirmations uint64
	// Interval is how often Run follows the transactions; 0 means
	// DefaultInterval.
	Interval time.Duration
	// OnFinal is called when a transaction is mined or fails, before that
	// is recorded: at least once, again after a crash or an error it
	// returns, so it must be idempotent (the withdrawal service posts or
	// voids its hold and books tx.Fee there). nil: nothing is called.
	OnFinal func(ctx context.Context, tx OutTx) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives retries and refusals; nil means slog.Default().
	Log *slog.Logger
}

// Sender is the EVM hot wallet's outgoing side. It sends transactions
// exactly once per request, with nonces allocated in the SendStore, and
// follows them until they are mined:
//
//   - Send is idempotent by SendRequest.ID. The transaction is recorded
//     (nonce allocated in the same database transaction) and then its
//     signed bytes are recorded before it is broadcast, so that a crash at
//     any point is recovered by Tick with the same nonce, never a new one.
//   - Sends from one address are serialised in the process, so they reach
//     the node in nonce order. The first Send from an address in a process
//     takes the larger of the stored next nonce and the node's pending
//     nonce, so transactions sent by other means before are stepped over.
//   - Fees are EIP-1559: the node's suggested tip, a fee cap of twice the
//     base fee plus the tip (geth's default, includable through six full
//     blocks of base fee rises), both bounded by MaxFeeCap.
//   - Tick follows every unfinished transaction: a receipt of any of its
//     attempts ends it (mined, or failed when it reverted) after
//     Confirmations; an attempt unmined for StuckAfter is replaced with the
//     same nonce and fees at least 10 % higher (geth's replacement rule),
//     bounded by MaxFeeCap; every attempt is recorded and whichever is mined
//     wins; a nonce used by another transaction fails it.
//   - Nonce holes: a node may drop a transaction (a restart, pool
//     eviction), which would hold every later nonce of the address back
//     forever. Tick asks the node for the current attempt of every
//     unmined transaction and broadcasts the stored signed bytes again when
//     it does not know it, so the hole fills with the same transaction.
//     A transaction a node refuses stays queued and is broadcast again
//     every Tick (a wallet short of ether goes once funded); so that no
//     refusal is for good, Send checks the key, the funds and the node's
//     estimate before a nonce is taken.
//   - Fixed fees (SendRequest.TipCap and FeeCap, the Sweeper's) are never
//     raised: such a transaction waits for the base fee to fall under its
//     fee cap.
//
// Several processes may share a store: nonces stay distinct; two Ticks
// replacing one transaction at once only record two attempts with the same
// nonce. It is safe for concurrent use.
type Sender struct {
	cfg     SenderConfig
	chainID *big.Int
	log     *slog.Logger

	mu    sync.Mutex
	locks map[common.Address]*sync.Mutex // serialise sends and ticks per address
	seen  map[common.Address]bool        // addresses whose pending nonce was read
	keys  map[string]bool                // address and path pairs checkKey accepted
}

// NewSender checks cfg and reads the node's chain id.
//
// Errors: EInvalid for a missing client, store or signer, a MaxFeeCap
// that is not positive or a Chain that names another chain id; those of
// FormatError.
func NewSender(ctx context.Context, cfg SenderConfig) (*Sender, error) {
	switch {
	case cfg.Client == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sender: no chain client")
	case cfg.Store == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sender: no store")
	case cfg.Signer == nil:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sender: no signer: replacements are signed with the platform's seed")
	case cfg.MaxFeeCap != nil && cfg.MaxFeeCap.Sign() <= 0:
		return nil, chengdui.Errorf(chengdui.EInvalid, "evm sender: MaxFeeCap must be a positive number of wei")
	}
	id, err := cfg.Client.ChainID(ctx)
	if err != nil {
		return nil, FormatError(err)
	}
	want := "evm:" + id.String()
	if cfg.Chain == "" {
		cfg.Chain = want
	} else if n, ok := strings.CutPrefix(cfg.Chain, "evm:"); ok && n != id.String() {
		if _, err := strconv.ParseUint(n, 10, 64); err == nil {
			return nil, chengdui.Errorf(chengdui.EInvalid, "evm sender: chain %s, but the node is on chain id %s", cfg.Chain, id)
		}
	}
	if cfg.GasMargin == 0 {
		cfg.GasMargin = DefaultGasMargin
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = DefaultStuckAfter
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 1
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Sender{
		cfg:     cfg,
		chainID: id,
		log:     log.With("chain", cfg.Chain),
		locks:   make(map[common.Address]*sync.Mutex),
		seen:    make(map[common.Address]bool),
		keys:    make(map[string]bool),
	}, nil
}

// Chain is the chain's key in the store, e.g. evm:1337.
func (s *Sender) Chain() string { return s.cfg.Chain }

// Client is the node the Sender uses.
func (s *Sender) Client() Chain { return s.cfg.Client }

// SendRequest asks for one transaction.
type SendRequest struct {
	// ID is the idempotency key: the same ID always means the same
	// transaction. At most MaxSendIDLength bytes.
	ID    string
	From  Account
	To    common.Address
	Value *big.Int // wei; nil means 0
	Data  []byte   // calldata, e.g. an ERC-20 transfer
	Asset string   // what it moves, recorded for the caller
	// Gas is the gas limit; 0 means the node's estimate, plus GasMargin
	// when the call runs code. A limit given must cover the intrinsic gas:
	// a transaction the node refuses waits, and holds From's later nonces
	// back.
	Gas uint64
	// TipCap and FeeCap, both or neither, fix the fees: the transaction
	// is then never replaced. Neither: the Sender's fees, bumped when
	// stuck.
	TipCap, FeeCap *big.Int
}

// maxUint256 is 2^256 - 1, the largest value a transaction carries.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

func (r SendRequest) check() error {
	switch {
	case r.ID == "" || len(r.ID) > MaxSendIDLength:
		return chengdui.Errorf(chengdui.EInvalid, "a send id is 1 to %d bytes", MaxSendIDLength)
	case r.From.Signer == nil || len(r.From.Path) == 0 || r.From.Address == (common.Address{}):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: From needs a signer, a path and an address", r.ID)
	case r.To == (common.Address{}):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: no recipient; contract creation is not a send", r.ID)
	case r.Value != nil && (r.Value.Sign() < 0 || r.Value.Cmp(maxUint256) > 0):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: value must be 0 to 2^256-1 wei", r.ID)
	case r.Asset == "":
		return chengdui.Errorf(chengdui.EInvalid, "send %s: no asset", r.ID)
	case (r.TipCap == nil) != (r.FeeCap == nil):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: give both TipCap and FeeCap, or neither", r.ID)
	case r.FeeCap != nil && (r.TipCap.Sign() < 0 || r.FeeCap.Sign() <= 0 || r.TipCap.Cmp(r.FeeCap) > 0 || r.FeeCap.Cmp(maxUint256) > 0):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: fees must be 0 ≤ TipCap ≤ FeeCap < 2^256, FeeCap positive", r.ID)
	case r.Gas > maxGasLimit || (r.Gas != 0 && r.Gas < params.TxGas):
		return chengdui.Errorf(chengdui.EInvalid, "send %s: gas limit %d is outside the %d to %d nodes accept", r.ID, r.Gas, params.TxGas, uint64(maxGasLimit))
	}
	return nil
}

// sameRequest reports whether tx was recorded for a request with r's body.
// Gas and fees are not compared: they follow the chain, not the caller.
func sameRequest(tx OutTx, chain string, r SendRequest) bool {
	v := r.Value
	if v == nil {
		v = new(big.Int)
	}
	return tx.Chain == chain && tx.From == r.From.Address && tx.To == r.To &&
		tx.Value.Cmp(v) == 0 && bytes.Equal(tx.Data, r.Data) && tx.Asset == r.Asset
}

// Send sends the transaction r asks for, once: a second Send with the same
// ID returns the transaction of the first, whatever its state. The result
// is sent when a node accepted it; queued, with the node's answer in
// Error, when none did yet (Tick broadcasts it again).
//
// Once recorded, the transaction goes out however Send returns: an error
// after that point (signing, storage) leaves it to Tick, and Send with the
// same ID returns it.
//
// Errors: EInvalid for a bad request or a call that would revert (the
// node's estimate), EExceedsCredits when From cannot pay value and gas,
// EConflict when the ID was used for another body (chain, from, to,
// value, data, asset), and those of the store and of FormatError.
func (s *Sender) Send(ctx context.Context, r SendRequest) (OutTx, error) {
	if err := r.check(); err != nil {
		return OutTx{}, err
	}
	if tx, err := s.cfg.Store.OutTx(ctx, r.ID); err == nil {
		return s.existing(tx, r)
	} else if chengdui.ErrorCode(err) != chengdui.ENotFound {
		return OutTx{}, err
	}
	if err := s.checkKey(r.From); err != nil {
		return OutTx{}, err
	}
	value := new(big.Int)
	if r.Value != nil {
		value.Set(r.Value)
	}
	gas := r.Gas
	if gas == 0 {
		var err error
		if gas, err = s.EstimateGas(ctx, r.From.Address, r.To, value, r.Data); err != nil {
			return OutTx{}, err
		}
	}
	tip, feeCap, fixed := r.TipCap, r.FeeCap, r.FeeCap != nil
	if !fixed {
		f, err := s.Fees(ctx)
		if err != nil {
			return OutTx{}, err
		}
		tip, feeCap = f.TipCap, f.FeeCap
	}
	// A transaction the node refuses for want of funds would hold every
	// later nonce back: refuse it before a nonce is taken.
	bal, err := s.cfg.Client.PendingBalanceAt(ctx, r.From.Address)
	if err != nil {
		return OutTx{}, FormatError(err)
	}
	need := new(big.Int).Add(value, new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap))
	if bal.Cmp(need) < 0 {
		return OutTx{}, chengdui.Errorf(chengdui.EExceedsCredits, "send %s: %s holds %s wei, and value plus the most gas may cost is %s wei: fund it first", r.ID, r.From.Address.Hex(), bal, need)
	}

	unlock := s.lock(r.From.Address)
	defer unlock()
	var floor uint64
	if !s.seenAddress(r.From.Address) {
		if floor, err = s.cfg.Client.PendingNonceAt(ctx, r.From.Address); err != nil {
			return OutTx{}, FormatError(err)
		}
	}
	now := s.now()
	tx, err := s.cfg.Store.CreateSend(ctx, OutTx{
		ID: r.ID, Chain: s.cfg.Chain, From: r.From.Address, Path: r.From.Path, To: r.To,
		Value: value, Data: bytes.Clone(r.Data), Asset: r.Asset, Gas: gas,
		FixedFees: fixed, TipCap: copyInt(r.TipCap), FeeCap: copyInt(r.FeeCap),
		Status: SendQueued, CreatedAt: now, UpdatedAt: now,
	}, floor)
	if chengdui.ErrorCode(err) == chengdui.EConflict {
		// A concurrent Send with the same ID recorded it first.
		got, gerr := s.cfg.Store.OutTx(ctx, r.ID)
		if chengdui.ErrorCode(gerr) == chengdui.ENotFound {
			return OutTx{}, err // the nonce, not the ID, conflicts
		} else if gerr != nil {
			return OutTx{}, gerr
		}
		return s.existing(got, r)
	} else if err != nil {
		return OutTx{}, err
	}
	s.markSeen(r.From.Address)
	if err := s.attempt(ctx, &tx, r.From, tip, feeCap); err != nil {
		return tx, err
	}
	return tx, nil
}

// keyCheckDigest is what checkKey signs.
var keyCheckDigest = crypto.Keccak256([]byte("chengdui evm sender: key check"))

// checkKey makes sure that from's signer, and the Sender's, sign for
// from.Address at from.Path: a transaction recorded with a key that
// cannot sign it would hold the address's later nonces back. from's signer
// signs a digest every time (it may be locked since); the Sender's answer
// is remembered per address and path.
func (s *Sender) checkKey(from Account) error {
	if err := signsFor(from.Signer, from.Path, from.Address); err != nil {
		return err
	}
	k := from.Address.Hex() + " " + from.Path.String()
	s.mu.Lock()
	ok := s.keys[k]
	s.mu.Unlock()
	if ok {
		return nil
	}
	if err := signsFor(s.cfg.Signer, from.Path, from.Address); err != nil {
		return chengdui.Errorf(chengdui.ErrorCode(err), "the Sender's signer: %s; it must hold the same seed", message(err))
	}
	s.mu.Lock()
	s.keys[k] = true
	s.mu.Unlock()
	return nil
}

// signsFor checks that signer's key at path is addr's.
func signsFor(signer keys.Signer, path keys.Path, addr common.Address) error {
	sig, err := signer.SignDigest(path, keyCheckDigest)
	if err != nil {
		return err
	}
	pub, err := crypto.SigToPub(keyCheckDigest, sig)
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "evm: recover signer: %v", err)
	}
	if got := crypto.PubkeyToAddress(*pub); got != addr {
		return chengdui.Errorf(chengdui.EInvalid, "the key at %s is the address %s, not %s", path, got.Hex(), addr.Hex())
	}
	return nil
}

// existing answers a Send whose ID is recorded.
func (s *Sender) existing(tx OutTx, r SendRequest) (OutTx, error) {
	if !sameRequest(tx, s.cfg.Chain, r) {
		return OutTx{}, chengdui.Errorf(chengdui.EConflict, "send %s exists with another body; use a new id for another transaction", r.ID)
	}
	return tx, nil
}

// attempt signs a version of tx with the given fees, records it, then
// broadcasts it and records whether the node took it. The caller holds the
// lock of tx.From.
func (s *Sender) attempt(ctx context.Context, tx *OutTx, from Account, tip, feeCap *big.Int) error {
	to := tx.To
	unsigned := types.NewTx(&types.DynamicFeeTx{
		ChainID:   s.chainID,
		Nonce:     tx.Nonce,
		GasTipCap: new(big.Int).Set(tip),
		GasFeeCap: new(big.Int).Set(feeCap),
		Gas:       tx.Gas,
		To:        &to,
		Value:     new(big.Int).Set(tx.Value),
		Data:      bytes.Clone(tx.Data),
	})
	signed, err := SignTx(unsigned, s.chainID, from)
	if err != nil {
		return err
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return chengdui.Errorf(chengdui.EInternal, "evm: encode transaction: %v", err)
	}
	a := Attempt{Hash: signed.Hash(), TipCap: copyInt(tip), FeeCap: copyInt(feeCap), Raw: raw, At: s.now()}
	if err := s.cfg.Store.AddAttempt(ctx, tx.ID, a); err != nil {
		return err
	}
	tx.Attempts = append(tx.Attempts, a)
	tx.Hash, tx.TipCap, tx.FeeCap, tx.UpdatedAt = a.Hash, a.TipCap, a.FeeCap, a.At
	return s.broadcast(ctx, tx, signed)
}

// broadcast gives the signed attempt to the node and records the answer:
// sent when it took it (or knew it already), the refusal otherwise.
func (s *Sender) broadcast(ctx context.Context, tx *OutTx, signed *types.Transaction) error {
	err := s.cfg.Client.SendTransaction(ctx, signed)
	status, note := SendSent, ""
	if err != nil && !strings.Contains(err.Error(), "already known") {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		note = message(FormatError(err))
		s.log.Warn("evm sender: the node refused a transaction; it will be broadcast again",
			"id", tx.ID, "from", tx.From.Hex(), "nonce", tx.Nonce, "hash", signed.Hash().Hex(), "error", note)
		if tx.Status == SendQueued || tx.Status == "" {
			status = SendQueued
		} else {
			status = tx.Status
		}
	}
	at := s.now()
	if err := s.cfg.Store.SetSendState(ctx, tx.ID, status, note, at); err != nil {
		return err
	}
	tx.Status, tx.Error, tx.UpdatedAt = status, note, at
	return nil
}

// message is the message of a *chengdui.Error, or the text of err.
func message(err error) string {
	var e *chengdui.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// Lookup returns the transaction recorded for id.
//
// Errors: ENotFound, those of the store.
func (s *Sender) Lookup(ctx context.Context, id string) (OutTx, error) {
	return s.cfg.Store.OutTx(ctx, id)
}

// Unfinished lists the chain's transactions that are not final yet.
func (s *Sender) Unfinished(ctx context.Context) ([]OutTx, error) {
	return s.cfg.Store.UnfinishedSends(ctx, s.cfg.Chain)
}

// Fees are the EIP-1559 fees per gas of a new transaction, in wei.
type Fees struct {
	BaseFee *big.Int // the head's
	TipCap  *big.Int // max priority fee per gas
	FeeCap  *big.Int // max fee per gas: 2 × BaseFee + TipCap, at most MaxFeeCap
}

// Fees are the fees the Sender would give a transaction now: the node's
// suggested tip and twice the head's base fee plus the tip, both bounded
// by MaxFeeCap.
//
// Errors: EInvalid for a chain before London (no base fee), those of
// FormatError.
func (s *Sender) Fees(ctx context.Context) (Fees, error) {
	head, err := s.cfg.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return Fees{}, FormatError(err)
	}
	if head.BaseFee == nil {
		return Fees{}, chengdui.Errorf(chengdui.EInvalid, "chain %s has no base fee: it predates EIP-1559 (London)", s.cfg.Chain)
	}
	tip, err := s.cfg.Client.SuggestGasTipCap(ctx)
	if err != nil {
		return Fees{}, FormatError(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip)
	feeCap, tip = s.capFees(feeCap, tip)
	return Fees{BaseFee: new(big.Int).Set(head.BaseFee), TipCap: tip, FeeCap: feeCap}, nil
}

// capFees bounds feeCap by MaxFeeCap and tip by feeCap.
func (s *Sender) capFees(feeCap, tip *big.Int) (*big.Int, *big.Int) {
	if m := s.cfg.MaxFeeCap; m != nil && feeCap.Cmp(m) > 0 {
		feeCap = new(big.Int).Set(m)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return feeCap, tip
}

// EstimateGas is the gas limit the Sender gives a call from from to to:
// the node's estimate, plus GasMargin when it runs code (a plain transfer
// gets exactly its 21,000).
//
// Errors: EInvalid when the call would revert, EExceedsCredits when from
// cannot pay value, those of FormatError.
func (s *Sender) EstimateGas(ctx context.Context, from, to common.Address, value *big.Int, data []byte) (uint64, error) {
	gas, err := s.cfg.Client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Value: value, Data: data})
	if err != nil {
		return 0, FormatError(err)
	}
	if gas > params.TxGas {
		gas += gas * s.cfg.GasMargin / 100
	}
	return min(gas, uint64(maxGasLimit)), nil
}

// Run calls Tick every Interval until ctx ends, and returns nil then.
// Errors of a Tick are logged; the next one tries again.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("evm sender: following transactions", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick follows every unfinished transaction of the chain once: it signs
// those a Send left unsigned, broadcasts again those the node does not
// know, replaces those stuck for StuckAfter, and ends those mined or whose
// nonce another transaction used, calling OnFinal first. It goes on past
// a transaction it cannot follow and returns the errors joined.
func (s *Sender) Tick(ctx context.Context) error {
	txs, err := s.cfg.Store.UnfinishedSends(ctx, s.cfg.Chain)
	if err != nil || len(txs) == 0 {
		return err
	}
	head, err := s.cfg.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return FormatError(err)
	}
	var errs []error
	for len(txs) > 0 {
		from := txs[0].From
		n := 1
		for n < len(txs) && txs[n].From == from {
			n++
		}
		if err := s.followAddress(ctx, head, txs[:n]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
		txs = txs[n:]
	}
	return errors.Join(errs...)
}

// followAddress follows the unfinished transactions of one address, in
// nonce order, holding its lock.
func (s *Sender) followAddress(ctx context.Context, head *types.Header, txs []OutTx) error {
	from := txs[0].From
	unlock := s.lock(from)
	defer unlock()
	// The nonce is read before the receipts: a transaction mined after
	// the read shows its receipt; one mined before moved the nonce past
	// it and shows its receipt too.
	mined, err := s.cfg.Client.NonceAt(ctx, from, nil)
	if err != nil {
		return FormatError(err)
	}
	var errs []error
	for i := range txs {
		// Re-read: a Send may have moved it on since the list was made.
		tx, err := s.cfg.Store.OutTx(ctx, txs[i].ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if tx.Status.Final() {
			continue
		}
		if err := s.follow(ctx, head, mined, &tx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, chengdui.Errorf(chengdui.ErrorCode(err), "send %s: %s", tx.ID, message(err)))
		}
	}
	return errors.Join(errs...)
}

// follow takes one unfinished transaction a step further.
func (s *Sender) follow(ctx context.Context, head *types.Header, mined uint64, tx *OutTx) error {
	if len(tx.Attempts) == 0 {
		// Send recorded it and stopped before the first signature.
		from, err := s.account(tx)
		if err != nil {
			return err
		}
		tip, feeCap := tx.TipCap, tx.FeeCap
		if !tx.FixedFees {
			f, err := s.Fees(ctx)
			if err != nil {
				return err
			}
			tip, feeCap = f.TipCap, f.FeeCap
		}
		return s.attempt(ctx, tx, from, tip, feeCap)
	}
	for _, a := range slices.Backward(tx.Attempts) {
		r, err := s.cfg.Client.TransactionReceipt(ctx, a.Hash)
		if errors.Is(err, ethereum.NotFound) {
			continue
		} else if err != nil {
			return FormatError(err)
		}
		if r.BlockNumber == nil || head.Number.Uint64()+1 < r.BlockNumber.Uint64()+s.cfg.Confirmations {
			return nil // mined; not deep enough yet
		}
		return s.finish(ctx, tx, resultOf(r, s.now()))
	}
	if mined > tx.Nonce {
		return s.finish(ctx, tx, SendResult{
			Status: SendFailed, GasPrice: new(big.Int), Fee: new(big.Int), At: s.now(),
			Error: "dropped: nonce " + strconv.FormatUint(tx.Nonce, 10) + " of " + tx.From.Hex() + " was used by a transaction that is none of its attempts",
		})
	}
	cur := tx.Attempts[len(tx.Attempts)-1]
	if tx.Status == SendSent && !tx.FixedFees && s.now().Sub(cur.At) >= s.cfg.StuckAfter {
		replaced, err := s.replace(ctx, tx, cur)
		if replaced || err != nil {
			return err
		}
	}
	if tx.Status == SendSent {
		_, _, err := s.cfg.Client.TransactionByHash(ctx, cur.Hash)
		if err == nil {
			return nil // in the pool, waiting
		} else if !errors.Is(err, ethereum.NotFound) {
			return FormatError(err)
		}
		s.log.Info("evm sender: the node lost a transaction; broadcasting it again",
			"id", tx.ID, "from", tx.From.Hex(), "nonce", tx.Nonce, "hash", cur.Hash.Hex())
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(cur.Raw); err != nil {
		return chengdui.Errorf(chengdui.EInternal, "evm: stored transaction %s does not decode: %v", cur.Hash.Hex(), err)
	}
	return s.broadcast(ctx, tx, signed)
}

// replace sends a version of tx with fees at least replacementBump percent
// above cur's, and reports whether it did: not when MaxFeeCap leaves no
// room for the bump.
func (s *Sender) replace(ctx context.Context, tx *OutTx, cur Attempt) (bool, error) {
	f, err := s.Fees(ctx)
	if err != nil {
		return false, err
	}
	minTip, minFeeCap := bump(cur.TipCap), bump(cur.FeeCap)
	tip := bigMax(f.TipCap, minTip)
	feeCap := bigMax(new(big.Int).Add(new(big.Int).Lsh(f.BaseFee, 1), tip), minFeeCap)
	feeCap, tip = s.capFees(feeCap, tip)
	if feeCap.Cmp(minFeeCap) < 0 || tip.Cmp(minTip) < 0 {
		s.log.Warn("evm sender: a transaction is stuck and MaxFeeCap leaves no room to replace it",
			"id", tx.ID, "nonce", tx.Nonce, "fee_cap", cur.FeeCap, "base_fee", f.BaseFee, "max_fee_cap", s.cfg.MaxFeeCap)
		return false, nil
	}
	from, err := s.account(tx)
	if err != nil {
		return false, err
	}
	s.log.Info("evm sender: replacing a stuck transaction", "id", tx.ID, "nonce", tx.Nonce,
		"old", cur.Hash.Hex(), "tip", tip, "fee_cap", feeCap, "base_fee", f.BaseFee)
	return true, s.attempt(ctx, tx, from, tip, feeCap)
}

// finish ends tx with r: OnFinal first, then the store.
func (s *Sender) finish(ctx context.Context, tx *OutTx, r SendResult) error {
	final := *tx
	final.Status, final.Block, final.GasUsed, final.Error, final.UpdatedAt = r.Status, r.Block, r.GasUsed, r.Error, r.At
	final.GasPrice, final.Fee = copyInt(r.GasPrice), copyInt(r.Fee)
	if r.Hash != (common.Hash{}) {
		final.Hash = r.Hash
		for _, a := range tx.Attempts {
			if a.Hash == r.Hash {
				final.TipCap, final.FeeCap = copyInt(a.TipCap), copyInt(a.FeeCap)
			}
		}
	}
	if s.cfg.OnFinal != nil {
		if err := s.cfg.OnFinal(ctx, final); err != nil {
			return err
		}
	}
	// OnFinal acted: record that even if ctx ends now, so it is not
	// called again.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := s.cfg.Store.FinishSend(storeCtx, tx.ID, r); err != nil && chengdui.ErrorCode(err) != chengdui.EConflict {
		return err
	}
	*tx = final
	return nil
}

// resultOf is how a receipt ends its transaction.
func resultOf(r *types.Receipt, at time.Time) SendResult {
	price := new(big.Int)
	if r.EffectiveGasPrice != nil {
		price.Set(r.EffectiveGasPrice)
	}
	res := SendResult{
		Status: SendMined, Hash: r.TxHash, Block: r.BlockNumber.Uint64(), GasUsed: r.GasUsed,
		GasPrice: price, Fee: new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), price), At: at,
	}
	if r.Status != types.ReceiptStatusSuccessful {
		res.Status, res.Error = SendFailed, "reverted in block "+r.BlockNumber.String()
	}
	return res
}

// account is the key that signs tx's attempts after the first.
func (s *Sender) account(tx *OutTx) (Account, error) {
	if len(tx.Path) == 0 {
		return Account{}, chengdui.Errorf(chengdui.EInternal, "send %s has no key path", tx.ID)
	}
	return Account{Signer: s.cfg.Signer, Path: tx.Path, Address: tx.From}, nil
}

// lock takes the lock of an address and returns its release.
func (s *Sender) lock(a common.Address) func() {
	s.mu.Lock()
	l, ok := s.locks[a]
	if !ok {
		l = new(sync.Mutex)
		s.locks[a] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (s *Sender) seenAddress(a common.Address) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[a]
}

func (s *Sender) markSeen(a common.Address) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[a] = true
}

// now is the clock at the stores' precision.
func (s *Sender) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// bump is x raised by replacementBump percent, rounded up.
func bump(x *big.Int) *big.Int {
	y := new(big.Int).Mul(x, big.NewInt(100+replacementBump))
	y.Add(y, big.NewInt(99))
	return y.Quo(y, big.NewInt(100))
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}

func copyInt(x *big.Int) *big.Int {
	if x == nil {
		return nil
	}
	return new(big.Int).Set(x)
}
