package sandbox

import (
	"time"

	"chengdui"
)

// Direction tells whether an entry adds to the account or takes from it.
type Direction string

// Directions of statement entries.
const (
	Credit Direction = "credit"
	Debit  Direction = "debit"
)

// Kind tells what booked an entry.
type Kind string

// Kinds of statement entries.
const (
	KindOpening Kind = "opening" // the operating account's funding at start
	KindPayment Kind = "payment" // a completed payment order
	KindReturn  Kind = "return"  // a returned payment, reversing KindPayment
)

// Entry is one line of a statement.
type Entry struct {
	Seq       int64     // increases with every entry the bank books, across accounts
	BookedAt  time.Time // when it was booked
	ValueDate string    // YYYY-MM-DD
	Kind      Kind
	Direction Direction
	Amount    chengdui.Amount // in the currency's smallest unit
	Balance   chengdui.Amount // the account's balance after the entry
	OrderID   string          // our order id (the EndToEndId); "" for the opening entry
	BankRef   string
	// Reference is the payment's remittance information, or for a
	// return its reason.
	Reference    string
	Counterparty string // the other account's id
}

// Statement is an account's entries, oldest first.
type Statement struct {
	AccountID string
	Currency  string
	Decimals  uint8
	Name      string
	IBAN      string // "" for accounts without one
	// Opening is the balance before the first entry listed; Balance the
	// balance now. Opening plus credits minus debits is Balance.
	Opening chengdui.Amount
	Balance chengdui.Amount
	Entries []Entry
}

// The statement on the wire: amounts in whole units with the currency's
// decimals ("12.34").
type (
	statementJSON struct {
		AccountID string      `json:"account_id"`
		Currency  string      `json:"currency"`
		Name      string      `json:"name"`
		IBAN      string      `json:"iban,omitempty"`
		Opening   string      `json:"opening_balance"`
		Balance   string      `json:"balance"`
		Entries   []entryJSON `json:"entries"`
	}
	entryJSON struct {
		Seq          int64     `json:"seq"`
		BookedAt     time.Time `json:"booked_at"`
		ValueDate    string    `json:"value_date"`
		Kind         Kind      `json:"kind"`
		Direction    Direction `json:"direction"`
		Amount       string    `json:"amount"`
		Balance      string    `json:"balance"`
		OrderID      string    `json:"order_id,omitempty"`
		BankRef      string    `json:"bank_ref,omitempty"`
		Reference    string    `json:"reference,omitempty"`
		Counterparty string    `json:"counterparty,omitempty"`
	}
)

func (s Statement) wire() statementJSON {
	d := s.Decimals
	out := statementJSON{AccountID: s.AccountID, Currency: s.Currency, Name: s.Name, IBAN: s.IBAN,
		Opening: chengdui.FormatDecimal(s.Opening, d), Balance: chengdui.FormatDecimal(s.Balance, d), Entries: []entryJSON{}}
	for _, e := range s.Entries {
		out.Entries = append(out.Entries, entryJSON{Seq: e.Seq, BookedAt: e.BookedAt, ValueDate: e.ValueDate, Kind: e.Kind,
			Direction: e.Direction, Amount: chengdui.FormatDecimal(e.Amount, d), Balance: chengdui.FormatDecimal(e.Balance, d),
			OrderID: e.OrderID, BankRef: e.BankRef, Reference: e.Reference, Counterparty: e.Counterparty})
	}
	return out
}
