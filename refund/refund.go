package refund

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strconv"
	"time"

	"chengdui"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// Variant is how a refund's amount is reckoned (Greenfield's
// refundVariant).
type Variant string

// Refund variants. See the package documentation for the amount of each.
const (
	RateThen       Variant = "RateThen"
	CurrentRate    Variant = "CurrentRate"
	OverpaidAmount Variant = "OverpaidAmount"
	Fiat           Variant = "Fiat"
	Custom         Variant = "Custom"
)

// Valid reports whether v is one of the five variants.
func (v Variant) Valid() bool {
	switch v {
	case RateThen, CurrentRate, OverpaidAmount, Fiat, Custom:
		return true
	}
	return false
}

// State is where a refund stands.
type State string

// Refund states. A refund moves Creating → AwaitingClaim → InProgress →
// Completed; a merchant may cancel it while it is AwaitingClaim; a claim
// to an address whose withdrawal fails is AwaitingClaim again.
const (
	// Creating: the refund is stored (its amount counts against what the
	// invoice was paid) and its ledger batch is being posted. Nobody sees
	// it yet; a batch the ledger refuses deletes it.
	Creating State = "Creating"
	// AwaitingClaim: the amount is held for the payer in
	// refund:<id>:<ASSET> (a Fiat refund: in refund:<id>:<CURRENCY>).
	AwaitingClaim State = "AwaitingClaim"
	// InProgress: claimed; to a balance for a moment, or to an address
	// until its withdrawal completes or fails.
	InProgress State = "InProgress"
	// Completed: the payer has the amount.
	Completed State = "Completed"
	// Cancelled: the merchant took it back before it was claimed.
	Cancelled State = "Cancelled"
)

// Valid reports whether s is one of the refund states.
func (s State) Valid() bool {
	switch s {
	case Creating, AwaitingClaim, InProgress, Completed, Cancelled:
		return true
	}
	return false
}

// Live reports whether a refund in state s counts against what its
// invoice was paid: every state but Cancelled.
func (s State) Live() bool { return s != Cancelled }

// Claim kinds: where the payer takes a refund.
const (
	ToBalance = "balance" // the payer's platform balance (user:<uid>:<ASSET>)
	ToAddress = "address" // an outside address, through a withdrawal
)

// AlertCancelBlocked is the operator alert of a cancelled refund whose
// value the platform's inventory cannot give back to the store yet.
const AlertCancelBlocked = "alert_refund_cancel_blocked"

// EExceedsPaid is the code of a refund that would take the live refunds
// of an asset past what the invoice received in it. The http package
// answers it 422.
const EExceedsPaid = "refund_exceeds_paid"

// Transfer codes of the ledger transfers this package writes.
const (
	CodeStoreBack   uint16 = 50 // store:<id>:<C> → platform:<C>:inventory, the value given back
	CodeOut         uint16 = 51 // platform:<A>:inventory → refund:<id>:<A>, the asset refunded
	CodeFiatHold    uint16 = 52 // store:<id>:<C> → refund:<id>:<C>, a Fiat refund until it is claimed
	CodeKeepBack    uint16 = 53 // store:<id>:<A> → refund:<id>:<A>, a store that keeps the asset paid
	CodeFiatConvert uint16 = 54 // refund:<id>:<C> → platform:<C>:inventory, a Fiat refund converted at its claim
	CodeToBalance   uint16 = 55 // refund:<id>:<A> → user:<uid>:<A>
	CodeToChain     uint16 = 56 // refund:<id>:<A> → platform:<A>:chain, pending until the withdrawal's outcome
	CodeCancel      uint16 = 57 // the reverse legs of a cancelled refund
)

// Refund is an amount of an asset a store gives back to an invoice's
// payer, held in the ledger until the payer claims it.
type Refund struct {
	ID        string  `json:"id"`
	StoreID   string  `json:"storeId"`
	InvoiceID string  `json:"invoiceId"`
	Variant   Variant `json:"variant"`
	// Name and Description are the merchant's (Greenfield's pull payment
	// name and description).
	Name        string `json:"name"`
	Description string `json:"description"`
	// Asset is the asset paid back; Amount how much, in its smallest
	// unit. A Fiat refund's Amount is zero until its claim converts it.
	Asset  string          `json:"asset"`
	Amount chengdui.Amount `json:"amount"`
	// Currency is the invoice's currency; FiatAmount a Fiat refund's
	// amount in it (smallest units), zero for the other variants.
	Currency   string          `json:"currency"`
	FiatAmount chengdui.Amount `json:"fiatAmount"`
	// ValueAsset and Value are what the store gave back: Value smallest
	// units of its settlement asset (the invoice currency, or Asset for
	// a store that keeps the asset paid).
	ValueAsset string          `json:"valueAsset"`
	Value      chengdui.Amount `json:"value"`
	// Rate is the rate Amount was reckoned at (currency per whole unit of
	// Asset, an exact decimal), "" when no rate was needed.
	Rate string `json:"rate,omitempty"`
	// SubtractBps is subtractPercentage in hundredths of a percent.
	SubtractBps uint32 `json:"subtractBps"`
	State       State  `json:"state"`
	// Booked: the ledger transfers of the current state are posted.
	// Recover finishes refunds that stay unbooked (a crash between the
	// state change and the ledger).
	Booked bool `json:"booked"`
	// Attempt numbers the claims: the current (or last) claim's, 0 before
	// the first. Each claim's ledger ids and withdrawal id carry it.
	Attempt uint32 `json:"attempt"`
	// Claim is ToBalance or ToAddress while claimed ("" otherwise);
	// ClaimUser the claiming user (balance), ClaimAddress the outside
	// address (canonical form once the withdrawal took it); WithdrawalID
	// and TxID the withdrawal paying it.
	Claim        string `json:"claim,omitempty"`
	ClaimUser    string `json:"claimUser,omitempty"`
	ClaimAddress string `json:"claimAddress,omitempty"`
	WithdrawalID string `json:"withdrawalId,omitempty"`
	TxID         string `json:"txid,omitempty"`
	// Reason says why the last claim to an address failed.
	Reason string `json:"reason,omitempty"`
	// RequestHash is the digest of the request that created it: the same
	// id with another request is a conflict.
	RequestHash string    `json:"-"`
	CreatedBy   string    `json:"createdBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// Version counts the stored changes (1 when created); UpdateRefund
	// writes only over the version it was given.
	Version int64 `json:"-"`
}

// Converted reports whether the refund's asset amount is fixed: always,
// except for a Fiat refund before its first claim.
func (r Refund) Converted() bool { return r.Variant != Fiat || !r.Amount.IsZero() }

// ID returns the refund id of a store's client id: "rf" and the base58 of
// a hash, so that the client's id is not revealed in the refund's public
// link.
func ID(storeID, clientID string) string {
	h := sha256.Sum256([]byte("chengdui:refund:" + storeID + "\x00" + clientID))
	return "rf" + base58.Encode(h[:16])
}

// newID is a random refund id, for requests without a client id.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("refund: no randomness: " + err.Error())
	}
	return "rf" + base58.Encode(b[:])
}

// ValidID reports whether id can be a refund id: "rf" and 1 to 24 base58
// characters. Outside input (a page's path) is checked before any lookup.
func ValidID(id string) bool {
	if len(id) < 3 || len(id) > 26 || id[:2] != "rf" {
		return false
	}
	for _, c := range id[2:] {
		if !(c >= '1' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' || c >= 'a' && c <= 'z' && c != 'l') {
			return false
		}
	}
	return true
}

// Account is a refund's ledger account of an asset: what is held for the
// payer.
func Account(id, asset string) string { return "refund:" + id + ":" + asset }

// WithdrawalID is the id of the withdrawal paying a refund's claim to an
// address (withdraw ids have no colons).
func WithdrawalID(id string, attempt uint32) string {
	return "rf-" + id + "-" + itoa(attempt)
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// Filter selects refunds, oldest first (CreatedAt, then ID). Zero values
// mean any; refunds being created are never listed.
type Filter struct {
	StoreID   string
	InvoiceID string
	// After is a cursor: the ID of the last refund of the previous page.
	After string
	Limit int // 0: 100, at most MaxLimit
}

// MaxLimit bounds a page of refunds.
const MaxLimit = 1000

// Store keeps refunds. The sqlite and postgres packages implement it;
// storetest.RunRefund checks both.
//
// What an invoice was paid in an asset bounds its refunds: the Amounts of
// the live refunds (Live) of one invoice and asset never add up to more
// than the paid amount the caller gives. Stores check it in the
// transaction that writes, serialised per invoice and asset, so that two
// concurrent refunds cannot both pass.
type Store interface {
	// CreateRefund inserts r (Version 1) if the live refunds of
	// r.InvoiceID and r.Asset, r included, add up to at most paid.
	// Codes: EConflict when r.ID exists; EExceedsPaid (nothing written).
	CreateRefund(ctx context.Context, r Refund, paid chengdui.Amount) error
	// Refund returns a refund by id. Codes: ENotFound.
	Refund(ctx context.Context, id string) (Refund, error)
	// UpdateRefund writes the mutable fields of r (State, Booked, Amount,
	// Rate, Attempt, Claim…, TxID, Reason, UpdatedAt) if the stored refund
	// is still at r.Version, and returns it at the next version. When r is
	// live and its Amount is more than the stored one (a Fiat refund
	// converted at its claim), the bound is checked as in CreateRefund.
	// Codes: EConflict when it changed since it was read; ENotFound;
	// EExceedsPaid. Nothing is written on an error.
	UpdateRefund(ctx context.Context, r Refund, paid chengdui.Amount) (Refund, error)
	// DeleteRefund removes a refund whose ledger batch was refused: only
	// in state Creating and at version. Codes: EConflict otherwise;
	// ENotFound.
	DeleteRefund(ctx context.Context, id string, version int64) error
	// Refunds lists refunds by filter, oldest first, without the ones in
	// state Creating. An After that names no refund gives an empty page.
	Refunds(ctx context.Context, f Filter) ([]Refund, error)
	// UnbookedRefunds lists, oldest update first, refunds whose ledger
	// work is not done (Booked false) last updated before before.
	UnbookedRefunds(ctx context.Context, before time.Time, limit int) ([]Refund, error)
}

// Paid sums the refunds' amounts in Live states: what the store checks.
// It is exported for the storage adapters, which sum in Go (SQLite keeps
// amounts as text).
func Paid(rs []Refund) (chengdui.Amount, bool) {
	var sum chengdui.Amount
	for _, r := range rs {
		if !r.State.Live() {
			continue
		}
		var ok bool
		if sum, ok = chengdui.AddAmounts(sum, r.Amount); !ok {
			return sum, false
		}
	}
	return sum, true
}

// CheckBound returns EExceedsPaid when refunded plus amount is more than
// paid; the storage adapters call it inside their transactions.
func CheckBound(invoiceID, asset string, refunded, amount, paid chengdui.Amount) error {
	total, ok := chengdui.AddAmounts(refunded, amount)
	if !ok || total.Cmp(paid) > 0 {
		left, _ := chengdui.SubAmounts(paid, refunded)
		return chengdui.Errorf(EExceedsPaid, "invoice %s received %s of %s in smallest units and %s of it is refunded already: at most %s more can be refunded",
			invoiceID, paid.String(), asset, refunded.String(), left.String())
	}
	return nil
}
