package chengdui

import (
	"context"
	"time"
)

// Asset is a unit on a network with its decimals: BTC on bitcoin (8), ETH on
// ethereum (18), USDT-ERC20 (6), CNY on fiat (2).
type Asset struct {
	Code      string    `json:"code"`
	Network   string    `json:"network"`
	Decimals  uint8     `json:"decimals"`
	CreatedAt time.Time `json:"created_at"`
}

// AccountFlags constrain an account's balances.
type AccountFlags uint32

const (
	// DebitsMustNotExceedCredits: debits (posted + pending) never exceed
	// posted credits. Customer accounts carry it: no overdraft.
	DebitsMustNotExceedCredits AccountFlags = 1 << iota
	// CreditsMustNotExceedDebits: the mirror, for accounts that hold what
	// the platform owes outward (e.g. an on-chain settlement account).
	CreditsMustNotExceedDebits

	accountFlagsAll = DebitsMustNotExceedCredits | CreditsMustNotExceedDebits
)

// Valid reports whether f holds only known, compatible flags.
func (f AccountFlags) Valid() bool {
	return f&^accountFlagsAll == 0 && f != accountFlagsAll
}

// Account holds one asset. Balances are in the asset's smallest unit.
type Account struct {
	ID             string            `json:"id"`
	Asset          string            `json:"asset"`
	Flags          AccountFlags      `json:"flags"`
	Code           uint16            `json:"code"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	DebitsPending  Amount            `json:"debits_pending"`
	DebitsPosted   Amount            `json:"debits_posted"`
	CreditsPending Amount            `json:"credits_pending"`
	CreditsPosted  Amount            `json:"credits_posted"`
	CreatedAt      time.Time         `json:"created_at"`
}

// TransferFlags select the kind of a transfer.
type TransferFlags uint32

const (
	// Linked: this transfer and the next one in the request succeed or fail
	// together. A chain ends at the first transfer without the flag.
	Linked TransferFlags = 1 << iota
	// Pending: reserve the amount (a hold) until posted, voided or expired.
	Pending
	// PostPending: post the pending transfer PendingID, fully or partly.
	PostPending
	// VoidPending: release the pending transfer PendingID.
	VoidPending
	// Expiry marks the void the ledger itself writes when a pending
	// transfer's timeout passes. Clients cannot set it.
	Expiry
)

// Transfer moves Amount from the debit account to the credit account. ID is
// chosen by the client and is the idempotency key: the same ID with the same
// body returns the first result; with another body it is refused.
type Transfer struct {
	ID              string            `json:"id"`
	DebitAccountID  string            `json:"debit_account_id"`
	CreditAccountID string            `json:"credit_account_id"`
	Amount          Amount            `json:"amount"`
	PendingID       string            `json:"pending_id,omitempty"`
	Timeout         uint32            `json:"timeout,omitempty"` // seconds; pending transfers only; 0: never
	Code            uint16            `json:"code"`
	Flags           TransferFlags     `json:"flags"`
	Metadata        map[string]string `json:"metadata,omitempty"`

	// Set by the ledger when the transfer commits.
	Asset     string    `json:"asset"`
	Seq       uint64    `json:"seq"`
	Timestamp time.Time `json:"timestamp"`
	Hash      []byte    `json:"hash"` // hash chain value after this entry
}

// PendingStatus is the state of a pending transfer.
type PendingStatus uint8

const (
	PendingOpen PendingStatus = iota + 1
	PendingPostedStatus
	PendingVoidedStatus
	PendingExpiredStatus
)

func (s PendingStatus) String() string {
	switch s {
	case PendingOpen:
		return "pending"
	case PendingPostedStatus:
		return "posted"
	case PendingVoidedStatus:
		return "voided"
	case PendingExpiredStatus:
		return "expired"
	}
	return "unknown"
}

// TransferResult is the outcome of one transfer of a request: the committed
// transfer (Existed when an identical earlier one was returned) or an error.
type TransferResult struct {
	Transfer Transfer
	Existed  bool
	Err      error
}

// TransferFilter selects transfers for history. Zero values mean "any".
type TransferFilter struct {
	AccountID string // debit or credit side
	AfterSeq  uint64 // cursor: only seq > AfterSeq
	Limit     int
}

// TreeHead summarises the journal: its size, the hash chain's last value and
// the RFC 6962 Merkle root of all transfers.
type TreeHead struct {
	Size       uint64 `json:"size"`
	ChainHash  []byte `json:"chain_hash"`
	MerkleRoot []byte `json:"merkle_root"`
}

// Ledger is the double-entry ledger service.
type Ledger interface {
	// CreateAsset registers an asset. Creating the same asset again is a
	// no-op; with other properties it fails with EExists.
	CreateAsset(ctx context.Context, a Asset) (Asset, error)
	// CreateAccount opens an account. Same idempotency as CreateAsset.
	// Codes: EInvalid, EAssetNotFound, EExists.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Account returns an account with its balances. Codes: EAccountNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// CreateTransfers commits transfers; linked chains are all-or-nothing,
	// other transfers are independent. The error is for the whole request
	// (EInvalid for an open chain, EInternal, EUnavailable); per-transfer
	// refusals are in the results.
	CreateTransfers(ctx context.Context, ts []Transfer) ([]TransferResult, error)
	// Transfers lists committed transfers in journal order.
	Transfers(ctx context.Context, f TransferFilter) ([]Transfer, error)
	// Head returns the journal's tree head.
	Head(ctx context.Context) (TreeHead, error)
}
