package invoice

import (
	"context"
	"encoding/json"
	"time"

	"chengdui"
)

// Status is an invoice's status, as BTCPay Greenfield names it.
type Status string

// Statuses.
const (
	New        Status = "New"        // awaiting (full) payment
	Processing Status = "Processing" // paid in full, payments not confirmed yet
	Settled    Status = "Settled"    // paid and confirmed (or marked)
	Expired    Status = "Expired"    // not paid in full before expiry
	Invalid    Status = "Invalid"    // paid, but not confirmed within the monitoring window, or marked
)

// Additional says why an invoice is in its status.
type Additional string

// Additional statuses.
const (
	None        Additional = "None"
	PaidPartial Additional = "PaidPartial"
	PaidOver    Additional = "PaidOver"
	PaidLate    Additional = "PaidLate"
	Marked      Additional = "Marked"
	AddInvalid  Additional = "Invalid"
)

// SpeedPolicy is how many confirmations a payment needs before it counts
// as settled.
type SpeedPolicy string

// Speed policies.
const (
	HighSpeed      SpeedPolicy = "HighSpeed"      // 0 confirmations
	MediumSpeed    SpeedPolicy = "MediumSpeed"    // 1
	LowMediumSpeed SpeedPolicy = "LowMediumSpeed" // 2
	LowSpeed       SpeedPolicy = "LowSpeed"       // 6
)

// Depth is the number of confirmations the policy asks for; ok is false
// for an unknown policy.
func (p SpeedPolicy) Depth() (depth uint32, ok bool) {
	switch p {
	case HighSpeed:
		return 0, true
	case MediumSpeed:
		return 1, true
	case LowMediumSpeed:
		return 2, true
	case LowSpeed:
		return 6, true
	}
	return 0, false
}

// Payment method ids.
const (
	MethodBTC     = "BTC-CHAIN"
	MethodETH     = "ETH"
	MethodUSDT    = "USDT-ERC20"
	MethodUSDC    = "USDC-ERC20"
	MethodBalance = "BALANCE"
)

// Checkout holds what the checkout page and redirects need.
type Checkout struct {
	RedirectURL           string `json:"redirectURL,omitempty"`
	RedirectAutomatically bool   `json:"redirectAutomatically,omitempty"`
	DefaultLanguage       string `json:"defaultLanguage,omitempty"`
	DefaultPaymentMethod  string `json:"defaultPaymentMethod,omitempty"`
}

// Intent is a signed PaymentRouter intent (EIP-712) for an EVM method.
// Amounts are smallest units; Signature is 0x-prefixed hex.
type Intent struct {
	Router       string          `json:"router"`
	ChainID      uint64          `json:"chainId"`
	ID           string          `json:"id"` // 0x + 32 bytes
	Token        string          `json:"token"`
	Amount       chengdui.Amount `json:"amount"`
	Fee          chengdui.Amount `json:"fee"`
	Recipient    string          `json:"recipient"`
	FeeRecipient string          `json:"feeRecipient"`
	Deadline     int64           `json:"deadline"` // unix seconds
	Signature    string          `json:"signature"`
}

// Quote is the rate locked for one asset when the invoice was made, and
// the whole invoice amount in that asset.
type Quote struct {
	Asset    string `json:"asset"` // ledger asset: BTC, ETH, USDT-ERC20…
	Decimals uint8  `json:"decimals"`
	// Rate is invoice currency per whole unit of Asset, an exact decimal
	// string (spread included); Sources and SpreadBps say where it came from.
	Rate      string   `json:"rate"`
	Sources   []string `json:"sources,omitempty"`
	SpreadBps uint32   `json:"spreadBps"`
	// Due is the whole invoice amount in Asset's smallest unit, rounded
	// down (in the payer's favour); zero for a top-up invoice.
	Due chengdui.Amount `json:"due"`
}

// Method is one way to pay an invoice and where to pay it.
type Method struct {
	ID string `json:"id"` // MethodBTC, MethodETH, …, MethodBalance
	// Asset is the asset paid; "" for BALANCE (any quoted asset).
	Asset string `json:"asset,omitempty"`
	// Destination is the address to pay ("" for BALANCE); Scheme, Network
	// and Index say how it was derived (the wallet's tree).
	Destination string `json:"destination,omitempty"`
	Scheme      string `json:"scheme,omitempty"`
	Network     string `json:"network,omitempty"`
	Index       uint32 `json:"index,omitempty"`
	Chain       string `json:"chain,omitempty"` // deposit chain key, e.g. bitcoin:regtest, evm:1337
	// ChainID and Token: EVM methods' chain id and token contract ("" for
	// ether).
	ChainID uint64 `json:"chainId,omitempty"`
	Token   string `json:"token,omitempty"`
	// Intent is the signed router intent paying the whole amount (EVM,
	// invoices with an amount).
	Intent *Intent `json:"intent,omitempty"`
}

// Invoice is a merchant's request for payment.
type Invoice struct {
	ID      string `json:"id"`
	StoreID string `json:"storeId"`
	// Amount is the price in Currency's smallest unit; zero for a top-up
	// invoice (any payment pays it in full).
	Amount   chengdui.Amount `json:"amount"`
	TopUp    bool            `json:"topUp"`
	Currency string          `json:"currency"`
	Decimals uint8           `json:"decimals"` // of Currency
	Status   Status          `json:"status"`
	// Additional is the additional status.
	Additional  Additional  `json:"additionalStatus"`
	SpeedPolicy SpeedPolicy `json:"speedPolicy"`
	// ToleranceBps is the payment tolerance in hundredths of a percent:
	// paying (1 - tolerance) of the amount pays in full.
	ToleranceBps uint32          `json:"toleranceBps"`
	OrderID      string          `json:"orderId,omitempty"` // metadata.orderId, indexed
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	Checkout     Checkout        `json:"checkout"`
	Quotes       []Quote         `json:"quotes"`
	Methods      []Method        `json:"methods"`
	Archived     bool            `json:"archived"`
	// Closed: the monitoring window ended and the clock changes it no more.
	Closed    bool      `json:"closed"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// MonitoringUntil is when payments stop being watched for (expiry plus
	// the monitoring window).
	MonitoringUntil time.Time `json:"monitoringUntil"`
	UpdatedAt       time.Time `json:"updatedAt"`
	// Version counts the stored changes; UpdateInvoice checks it.
	Version int64 `json:"version"`
}

// Quote returns the invoice's quote of an asset.
func (inv Invoice) Quote(asset string) (Quote, bool) {
	for _, q := range inv.Quotes {
		if q.Asset == asset {
			return q, true
		}
	}
	return Quote{}, false
}

// Method returns the invoice's method with the given id.
func (inv Invoice) Method(id string) (Method, bool) {
	for _, m := range inv.Methods {
		if m.ID == id {
			return m, true
		}
	}
	return Method{}, false
}

// PaymentStatus is where one payment stands (Greenfield's names).
type PaymentStatus string

// Payment statuses.
const (
	PaymentProcessing PaymentStatus = "Processing" // seen, not confirmed enough
	PaymentSettled    PaymentStatus = "Settled"    // confirmed per the speed policy: in the ledger
	PaymentInvalid    PaymentStatus = "Invalid"    // replaced, double spent or reorganised away
)

// Payment is one payment to an invoice.
type Payment struct {
	ID        string          `json:"id"` // the deposit key, or bal:<invoice>:<user> for balance payments
	InvoiceID string          `json:"invoiceId"`
	Method    string          `json:"method"`
	Asset     string          `json:"asset"`
	Amount    chengdui.Amount `json:"amount"` // smallest units of Asset
	Status    PaymentStatus   `json:"status"`
	// Destination is where it was paid (address, or the payer's account).
	Destination string    `json:"destination"`
	TxID        string    `json:"txid,omitempty"`
	ReceivedAt  time.Time `json:"receivedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Event types (Greenfield webhook names).
const (
	EventCreated         = "InvoiceCreated"
	EventReceivedPayment = "InvoiceReceivedPayment"
	EventPaymentSettled  = "InvoicePaymentSettled"
	EventProcessing      = "InvoiceProcessing"
	EventExpired         = "InvoiceExpired"
	EventSettled         = "InvoiceSettled"
	EventInvalid         = "InvoiceInvalid"
)

// Event is a state change to announce (an outbox row). It is written in
// the same database transaction as the change, so webhooks are sent for
// saved states only, and for every one of them. Data holds the
// event-specific fields of Greenfield's webhook payload (afterExpiration,
// paymentMethodId, payment, overPaid, manuallyMarked, partiallyPaid…); the
// webhook sender adds deliveryId, webhookId, isRedelivery, type,
// timestamp, storeId, invoiceId and metadata.
type Event struct {
	Seq       int64           `json:"seq"` // assigned by the store, ascending
	ID        string          `json:"id"`  // unique, chosen by the writer
	StoreID   string          `json:"storeId"`
	InvoiceID string          `json:"invoiceId"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"createdAt"`
}

// Filter selects invoices to list, newest first (CreatedAt descending, then
// ID descending). Zero values mean any.
type Filter struct {
	StoreID  string
	Statuses []Status
	OrderIDs []string
	// Archived includes archived invoices.
	Archived bool
	// Since and Until bound CreatedAt (inclusive, exclusive); zero: open.
	Since, Until time.Time
	// After is a cursor: the ID of the last invoice of the previous page.
	After string
	Limit int // 0: 100
}

// Address is a per-invoice deposit address.
type Address struct {
	Address   string
	InvoiceID string
	Scheme    string
	Network   string
	Index     uint32
	CreatedAt time.Time
}

// Creation is one invoice to create with its events.
type Creation struct {
	Invoice Invoice
	Events  []Event
}

// Store is what the invoice service needs from storage. The sqlite and
// postgres packages implement it; storetest.RunInvoice checks both.
type Store interface {
	// CreateInvoice stores a new invoice (Version 1), its methods'
	// addresses and router intent ids, and events, in one transaction.
	// Codes: EConflict when the id exists, or an address or intent id is
	// taken (nothing is written); EInvalid for an invoice without id,
	// store or status.
	CreateInvoice(ctx context.Context, inv Invoice, events []Event) error
	// CreateInvoices creates several invoices as CreateInvoice does, all
	// in one transaction: all or none (the service batches concurrent
	// creations into one commit). Codes: as CreateInvoice, for the whole
	// batch.
	CreateInvoices(ctx context.Context, batch []Creation) error
	// Invoice returns an invoice. Codes: ENotFound.
	Invoice(ctx context.Context, id string) (Invoice, error)
	// Invoices lists invoices by filter. Codes: EInvalid for a negative
	// Limit.
	Invoices(ctx context.Context, f Filter) ([]Invoice, error)
	// UpdateInvoice saves inv if the stored version is still inv.Version,
	// with Version incremented (the returned value), upserts payments (by
	// ID) and appends events, in one transaction. Codes: EConflict when
	// the stored version moved on (nothing is written), ENotFound.
	UpdateInvoice(ctx context.Context, inv Invoice, payments []Payment, events []Event) (Invoice, error)
	// Payments lists an invoice's payments by ReceivedAt, then ID.
	Payments(ctx context.Context, invoiceID string) ([]Payment, error)
	// Pending lists the ids of invoices the clock may change at now:
	// status New with ExpiresAt <= now, and invoices not Closed with
	// MonitoringUntil <= now. By ExpiresAt, then ID, at most limit.
	Pending(ctx context.Context, now time.Time, limit int) ([]string, error)
	// InvoiceAddress finds the invoice an address was issued to. Codes:
	// ENotFound.
	InvoiceAddress(ctx context.Context, address string) (Address, error)
	// InvoiceAddresses lists the invoice addresses of a scheme and
	// network, for watchers and sweepers. (Not AddressesOf: the databases
	// already have that method for users' addresses.)
	InvoiceAddresses(ctx context.Context, scheme, network string) ([]Address, error)
	// InvoiceByIntent finds the invoice of a router intent id (0x hex,
	// lower case). Codes: ENotFound.
	InvoiceByIntent(ctx context.Context, intentID string) (string, error)
	// Events lists events with Seq > after, ascending, at most limit; with
	// invoiceID set, that invoice's only.
	Events(ctx context.Context, invoiceID string, after int64, limit int) ([]Event, error)
}
