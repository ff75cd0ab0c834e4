package deposit

import (
	"context"
	"fmt"
	"time"

	"chengdui"
)

// Status is where a deposit stands.
type Status string

// Deposit statuses.
const (
	// Seen: observed, in a block or in the mempool, and not credited yet.
	Seen Status = "seen"
	// Credited: the ledger holds its credit.
	Credited Status = "credited"
	// Orphaned: its block left the chain before it was credited; it is
	// credited if it is mined again and reaches its depth.
	Orphaned Status = "orphaned"
	// Reversed: it was credited, then its block left the chain or its
	// transaction was replaced: a compensating transfer took the credit back.
	Reversed Status = "reversed"
	// Replaced: its transaction was double-spent or replaced (RBF) before
	// it was confirmed.
	Replaced Status = "replaced"
	// Unexpected: its address resolves to no account (an unknown token,
	// an address not issued to anyone): recorded for the operator, never
	// credited.
	Unexpected Status = "unexpected"
)

// Kinds of payment.
const (
	KindOutput = "output" // a Bitcoin transaction output; Index is the vout
	KindNative = "native" // an EVM transaction's value; Index is 0
	KindERC20  = "erc20"  // an ERC-20 Transfer log; Index is the log index
	KindRouter = "router" // a PaymentRouter Paid log; Index is the log index
)

// Transfer codes of the ledger transfers this package writes.
const (
	CodeDeposit  uint16 = 1 // platform:<ASSET>:chain → the resolved account
	CodeReversal uint16 = 6 // the resolved account → platform:<ASSET>:chain
)

// Key identifies a payment on a chain.
type Key struct {
	Chain string `json:"chain"` // e.g. bitcoin:regtest, evm:1337
	TxID  string `json:"txid"`  // as the chain prints it (hex, EVM with 0x)
	Kind  string `json:"kind"`  // KindOutput, KindNative, KindERC20, KindRouter
	Index uint32 `json:"index"` // output index or log index
}

func (k Key) String() string { return fmt.Sprintf("%s:%s:%s:%d", k.Chain, k.TxID, k.Kind, k.Index) }

// Payment is what a watcher saw: a payment to an address it tracks, in a
// block (BlockHash and Height set) or in the mempool (both zero).
type Payment struct {
	Key
	Address   string          // the receiving address, as the chain prints it
	Asset     string          // the ledger asset it pays
	Amount    chengdui.Amount // in the asset's smallest unit
	BlockHash string          // "" while unconfirmed
	Height    uint64          // 0 while unconfirmed
	RBF       bool            // the transaction signals replaceability (BIP125)
	Reference string          // what it pays for beyond the address, e.g. a router payment's intent id
}

// Deposit is a payment as stored, with its status.
type Deposit struct {
	Payment
	AccountID  string    `json:"account_id"`  // "" until the address resolves
	Status     Status    `json:"status"`      //
	Credits    uint32    `json:"credits"`     // credits posted so far (reversals do not decrement it)
	TransferID string    `json:"transfer_id"` // the last credit's or reversal's ledger transfer id
	FirstSeen  time.Time `json:"first_seen"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// CreditID is the ledger transfer id of a payment's n-th credit (from 0).
func CreditID(k Key, n uint32) string { return fmt.Sprintf("dep:%s:%d", k, n) }

// ReversalID is the ledger transfer id of the reversal of the n-th credit.
func ReversalID(k Key, n uint32) string { return fmt.Sprintf("rev:%s:%d", k, n) }

// Cursor is how far a watcher has followed a chain: the last block it
// processed.
type Cursor struct {
	Height uint64
	Hash   string
}

// Block is a processed block, kept so that a watcher can find where its
// chain and the node's part after a reorganisation.
type Block struct {
	Height uint64
	Hash   string
	Parent string
}

// Filter selects deposits to list. Zero values mean any.
type Filter struct {
	Chain     string
	AccountID string
	Status    Status
	Limit     int
}

// Store is what the deposit service and the chain watchers need from
// storage. The sqlite and postgres packages implement it;
// storetest.RunDeposit checks both.
type Store interface {
	// Deposit returns the deposit of a key. Codes: ENotFound.
	Deposit(ctx context.Context, k Key) (Deposit, error)
	// PutDeposit inserts or replaces the deposits of their keys, every
	// field, in one transaction: all or none (a block's thousand deposits
	// are one commit). Codes: EInvalid for a deposit without chain, txid,
	// kind or status (nothing is written).
	PutDeposit(ctx context.Context, ds ...Deposit) error
	// Unsettled lists a chain's deposits that Settle may change: status
	// Seen, Orphaned, or Credited with Height 0 (credited, and its block is
	// gone or it was credited from the mempool). Oldest first: by
	// FirstSeen, then TxID, Kind, Index.
	Unsettled(ctx context.Context, chain string) ([]Deposit, error)
	// DepositsFrom lists a chain's deposits in blocks at Height >= height,
	// by Height, then TxID, Kind, Index. Mempool deposits (Height 0) are in
	// no block and never listed, even for height 0.
	DepositsFrom(ctx context.Context, chain string, height uint64) ([]Deposit, error)
	// DepositsOfTx lists a chain's deposits of one transaction, by Kind,
	// then Index.
	DepositsOfTx(ctx context.Context, chain, txid string) ([]Deposit, error)
	// Deposits lists deposits by filter, newest first: by FirstSeen
	// descending, then Chain, TxID, Kind, Index ascending. Limit 0 means
	// 100. Codes: EInvalid for a negative Limit.
	Deposits(ctx context.Context, f Filter) ([]Deposit, error)

	// Cursor returns a chain's cursor; ok is false before the first block.
	Cursor(ctx context.Context, chain string) (c Cursor, ok bool, err error)
	// Advance records blocks a watcher has processed, in ascending order,
	// and moves the cursor to the last one, in one transaction. It keeps
	// the newest keep blocks of the chain and forgets older ones (those at
	// heights up to the last one's minus keep). A block at a stored height
	// replaces it, and stored blocks above the last one are forgotten: the
	// cursor is always the highest stored block. No blocks changes nothing.
	// Codes: EInvalid for no chain, keep below 1, a block without a hash,
	// or heights that do not strictly ascend.
	Advance(ctx context.Context, chain string, blocks []Block, keep int) error
	// BlockAt returns the stored block of a chain at height. Codes: ENotFound.
	BlockAt(ctx context.Context, chain string, height uint64) (Block, error)
	// Rewind forgets a chain's blocks above height and sets the cursor to
	// the block at height (which must be stored), in one transaction: the
	// blocks above it left the canonical chain. Rewinding to the cursor's
	// own height changes nothing. Codes: ENotFound when no block of the
	// chain is stored at height (it was pruned, or never processed): the
	// watcher must resynchronise from further back.
	Rewind(ctx context.Context, chain string, height uint64) error
}
