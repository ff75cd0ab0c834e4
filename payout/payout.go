package payout

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"

	"chengdui"
	"chengdui/rail"
)

// State is where a payout stands (BTCPay's payout states, plus Failed).
type State string

// Payout states. A payout moves AwaitingApproval → AwaitingPayment →
// InProgress → Completed, and ends Failed or Cancelled instead; a
// Completed payout the bank returns becomes Failed.
const (
	// AwaitingApproval: the amount is held; the payout is above its
	// asset's approval threshold and waits for a second operator.
	AwaitingApproval State = "AwaitingApproval"
	// AwaitingPayment: the amount is held; Dispatch will send it.
	AwaitingPayment State = "AwaitingPayment"
	// InProgress: handed to a rail or the crypto sender (SubmittedAt set
	// once it accepted); it can no longer be cancelled.
	InProgress State = "InProgress"
	// Completed: paid; the hold is posted.
	Completed State = "Completed"
	// Failed: not paid, the hold voided; or paid and returned by the
	// bank, the amount given back (Reason starts with ReasonReturned).
	Failed State = "Failed"
	// Cancelled: cancelled before it was sent; the hold is voided.
	Cancelled State = "Cancelled"
)

// Valid reports whether s is one of the six states.
func (s State) Valid() bool {
	switch s {
	case AwaitingApproval, AwaitingPayment, InProgress, Completed, Failed, Cancelled:
		return true
	}
	return false
}

// Final reports whether s is an end state. A Completed payout is final
// unless the bank returns it.
func (s State) Final() bool { return s == Completed || s == Failed || s == Cancelled }

// Method is how a payout is paid.
type Method string

// Payout methods.
const (
	// Bank pays fiat through a rail (Payout.Rail) to Payout.Creditor.
	Bank Method = "BANK"
	// Chain pays crypto to Payout.Address through the CryptoSender.
	Chain Method = "CHAIN"
)

// ReasonReturned starts the Reason of a payout the bank returned after
// completing it (followed by ": " and the bank's reason when it gave one).
const ReasonReturned = "returned by the bank"

// Transfer codes of the ledger transfers this package writes.
const (
	CodePayout       uint16 = 40 // store:<id>:<ASSET> → HoldAccount: platform:<ASSET>:payouts (BANK) or platform:<ASSET>:chain (CHAIN); pending, then posted or voided
	CodePayoutReturn uint16 = 41 // platform:<ASSET>:payouts → store:<id>:<ASSET>, a returned payout
)

// Payout is an amount of a store's balance paid out of the platform.
type Payout struct {
	ID      string          `json:"id"` // see ID; also the rail's order id
	StoreID string          `json:"store_id"`
	Asset   string          `json:"asset"` // a ledger asset; for Bank, the ISO 4217 currency
	Amount  chengdui.Amount `json:"amount"`
	Method  Method          `json:"method"`
	// Rail names the rail of a Bank payout (rail.Rail.Name).
	Rail     string     `json:"rail,omitempty"`
	Creditor rail.Party `json:"creditor"`          // Bank: who is paid
	Address  string     `json:"address,omitempty"` // Chain: where to, in canonical form
	// Reference is the remittance information the creditor sees.
	Reference  string `json:"reference,omitempty"`
	State      State  `json:"state"`
	CreatedBy  string `json:"created_by"`
	ApprovedBy string `json:"approved_by,omitempty"`
	Reason     string `json:"reason,omitempty"` // why it was cancelled, failed or returned
	// Ref is the bank's reference or the transaction id, once known.
	Ref string `json:"ref,omitempty"`
	// SubmittedAt is when a rail or the crypto sender accepted the
	// payout; zero while it has not.
	SubmittedAt time.Time `json:"submitted_at"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Version counts the stored changes (1 when created); UpdatePayout
	// writes only over the version it was given.
	Version int64 `json:"-"`
}

// ID returns the payout id of a store's client id: "po-" and the base58
// of a hash, at most 25 characters, so that it serves as a rail order id
// (rail.ValidID) and does not reveal the client's id.
func ID(storeID, clientID string) string {
	h := sha256.Sum256([]byte("chengdui:payout:" + storeID + "\x00" + clientID))
	return "po-" + base58.Encode(h[:16])
}

// HoldID is the ledger id of a payout's pending transfer.
func HoldID(id string) string { return "po:" + id + ":hold" }

// Account is the platform account that holds what is being and has been
// paid out of an asset through the bank. Chain payouts leave through the
// asset's chain account instead (HoldAccount).
func Account(asset string) string { return "platform:" + asset + ":payouts" }

// Filter selects payouts. Zero values mean any.
type Filter struct {
	StoreID string
	State   State
	// UpdatedSince keeps payouts last changed at or after it.
	UpdatedSince time.Time
	// After is a cursor: the id of the last payout of the previous page.
	After string
	Limit int // default 100, at most MaxLimit
}

// MaxLimit bounds a page of payouts.
const MaxLimit = 1000

// Store keeps payouts. The sqlite and postgres packages implement it;
// storetest.RunPayout checks both.
type Store interface {
	// CreatePayout inserts p, whose Version is 1. Codes: EConflict when
	// its id exists.
	CreatePayout(ctx context.Context, p Payout) error
	// Payout returns a payout by id. Codes: ENotFound.
	Payout(ctx context.Context, id string) (Payout, error)
	// UpdatePayout writes the mutable fields of p (State, ApprovedBy,
	// Reason, Ref, SubmittedAt, UpdatedAt) if the stored payout is still
	// at p.Version, and returns it at the next version. This is the
	// compare-and-set that keeps two processes from both moving a payout
	// out of the same state. Codes: EConflict when the payout changed
	// since it was read (nothing is written); ENotFound.
	UpdatePayout(ctx context.Context, p Payout) (Payout, error)
	// Payouts lists payouts by filter, oldest first (by CreatedAt, then
	// ID). An After that names no payout gives an empty page.
	Payouts(ctx context.Context, f Filter) ([]Payout, error)
	// DuePayouts lists, oldest first, the payouts Dispatch must send:
	// every AwaitingPayment one, and the InProgress ones no rail has
	// accepted (zero SubmittedAt) last updated before staleBefore. after
	// is a cursor as in Filter.
	DuePayouts(ctx context.Context, staleBefore time.Time, after string, limit int) ([]Payout, error)
}
