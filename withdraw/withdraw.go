package withdraw

import (
	"context"
	"time"

	"chengdui"
)

// Status is where a withdrawal stands.
type Status string

// Withdrawal statuses.
const (
	// Pending: the amount is held; the chain's payer has it to send.
	Pending Status = "pending"
	// Sent: a transaction paying it was broadcast; TxID names it.
	Sent Status = "sent"
	// Completed: the transaction confirmed; the hold is posted.
	Completed Status = "completed"
	// Failed: it could not be paid; the hold is voided.
	Failed Status = "failed"
)

// Transfer codes of the ledger transfers this package writes.
const (
	CodeWithdrawal uint16 = 7 // the user's account → platform:<ASSET>:chain (pending, then posted)
	CodeNetworkFee uint16 = 8 // platform:<NATIVE>:network-fees → platform:<NATIVE>:chain
)

// Origins of withdrawals: a user's own, or one the platform sends on
// behalf of one of its services (Service.Enqueue).
const (
	OriginUser   = ""       // a user's own withdrawal (2FA, own hold wd:<id>:hold)
	OriginPayout = "payout" // a store's crypto payout (package payout)
	OriginRefund = "refund" // a refund claimed to an outside address (package refund)
)

// Withdrawal is a request to send an asset to an outside address.
type Withdrawal struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"` // empty for a service's withdrawal
	// Origin is OriginUser, or the service that enqueued it (its own
	// ledger hold pays it; see Service.Enqueue).
	Origin    string          `json:"origin,omitempty"`
	Asset     string          `json:"asset"`
	Chain     string          `json:"chain"` // the payer's chain, e.g. bitcoin:regtest, evm:1337
	To        string          `json:"to"`    // canonical form (EIP-55, lowercase bech32)
	Amount    chengdui.Amount `json:"amount"`
	Status    Status          `json:"status"`
	TxID      string          `json:"txid,omitempty"`
	Fee       chengdui.Amount `json:"fee"`       // network fee paid by the platform, in FeeAsset
	FeeAsset  string          `json:"fee_asset"` // the chain's native asset
	Reason    string          `json:"reason,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// HoldID is the ledger id of a withdrawal's pending transfer.
func HoldID(id string) string { return "wd:" + id + ":hold" }

// Filter selects withdrawals. Zero values mean any.
type Filter struct {
	UserID string
	Chain  string
	Status Status
	TxID   string // the transaction (or batch) that pays them
	Limit  int    // default 100
}

// Store keeps withdrawals. The sqlite and postgres packages implement it;
// storetest.RunWithdraw checks both.
type Store interface {
	// CreateWithdrawal inserts w. Codes: EConflict when its id exists.
	CreateWithdrawal(ctx context.Context, w Withdrawal) error
	// Withdrawal returns a withdrawal by id. Codes: ENotFound.
	Withdrawal(ctx context.Context, id string) (Withdrawal, error)
	// UpdateWithdrawal replaces the mutable fields (status, txid, fee,
	// reason, updated_at) of w.ID. Codes: ENotFound.
	UpdateWithdrawal(ctx context.Context, w Withdrawal) error
	// Withdrawals lists withdrawals by filter, oldest first.
	Withdrawals(ctx context.Context, f Filter) ([]Withdrawal, error)
}
