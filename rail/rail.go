package rail

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chengdui"
)

// Limits shared by every rail.
const (
	// MaxIDLen is the longest order id: ISO 20022's Max35Text, the
	// EndToEndId that comes back on the creditor's and our statements.
	MaxIDLen = 35
	// MaxReferenceLen is the longest remittance information in
	// characters (SEPA's unstructured remittance, Max140Text).
	MaxReferenceLen = 140
	// MaxNameLen is the longest party name in characters. SEPA files
	// carry 70 (package sepa truncates); other rails take 140.
	MaxNameLen = 140
	// MaxAccountLen is the longest domestic account number.
	MaxAccountLen = 34
	// MaxBankCodeLen is the longest domestic bank code (a 12-digit CNAPS
	// code, a 9-digit ABA routing number…).
	MaxBankCodeLen = 15
)

// Order is one payout: Amount of Currency to Creditor.
type Order struct {
	// ID is our payout id and the idempotency key: submitting the same
	// ID again returns the first submission's bank reference. See
	// ValidID for its characters.
	ID       string
	Currency string          // ISO 4217: EUR, CNY, USD
	Amount   chengdui.Amount // in the currency's smallest unit (cents, fen)
	// Decimals is the currency's number of minor-unit digits; it must
	// equal CurrencyDecimals(Currency), so an amount built for another
	// scale is refused instead of paid 100 times over.
	Decimals  uint8
	Creditor  Party
	Reference string // remittance information shown to the creditor, ≤ 140 characters
}

// Party is an account holder. IBAN (and optionally BIC) identify a SEPA
// account; Account and BankCode a domestic one (CNY, USD).
type Party struct {
	Name     string `json:"name"`
	IBAN     string `json:"iban,omitempty"`      // any case, spaces allowed; see NormalizeIBAN
	BIC      string `json:"bic,omitempty"`       // optional, 8 or 11 characters
	Account  string `json:"account,omitempty"`   // domestic account number
	BankCode string `json:"bank_code,omitempty"` // domestic bank code (CNAPS, ABA routing number…)
	Country  string `json:"country,omitempty"`   // ISO 3166 alpha-2, optional
}

// Status is where an order stands at the bank.
type Status string

// An order is Accepted by Submit, then Completed or Failed; a Completed
// order can later be Returned by the creditor's bank, which gives the money
// back. Failed and Returned are final.
const (
	Accepted  Status = "accepted"
	Completed Status = "completed"
	Failed    Status = "failed"
	Returned  Status = "returned"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case Accepted, Completed, Failed, Returned:
		return true
	}
	return false
}

// Final reports whether no further update can follow s.
func (s Status) Final() bool { return s == Failed || s == Returned }

// CanBecome reports whether an order in status s may move to next:
// Accepted → Completed or Failed, Completed → Returned.
func (s Status) CanBecome(next Status) bool {
	switch s {
	case Accepted:
		return next == Completed || next == Failed
	case Completed:
		return next == Returned
	}
	return false
}

// Update is what a rail reports about an order, by callback or by Status.
type Update struct {
	OrderID string    `json:"order_id"`
	BankRef string    `json:"bank_ref"`
	Status  Status    `json:"status"`
	Reason  string    `json:"reason"` // why it failed or was returned; "" otherwise
	At      time.Time `json:"at"`     // when the bank reached Status
}

// Rail is a fiat payout channel.
type Rail interface {
	// Name identifies the rail in logs and settlement records.
	Name() string
	// Currencies lists the ISO 4217 codes the rail pays out, sorted.
	Currencies() []string
	// Submit hands o to the bank and returns the bank's reference. It is
	// idempotent by o.ID: submitting the same order again returns the
	// same bankRef and pays once. A bank's refusal of an accepted order
	// (insufficient funds, closed account) arrives later as a Failed
	// update, not as an error. Codes: EInvalid, EInvalidAmount,
	// EZeroAmount for a bad order or a currency the rail does not pay;
	// EIDConflict when o.ID was submitted with another order;
	// EUnauthorized when the bank refuses our credentials; EUnavailable
	// when the bank could not be reached or failed (submitting again is
	// safe).
	Submit(ctx context.Context, o Order) (bankRef string, err error)
	// Status returns the latest update of an order. Codes: ENotFound
	// for an id never submitted; EUnavailable as for Submit.
	Status(ctx context.Context, orderID string) (Update, error)
}

// currencyDecimals lists the currencies a rail may pay and their ISO 4217
// minor units.
var currencyDecimals = map[string]uint8{
	"EUR": 2,
	"CNY": 2,
	"USD": 2,
}

// CurrencyDecimals returns the minor-unit digits of a currency rails
// support (EUR, CNY, USD: 2), and ok=false for any other.
func CurrencyDecimals(currency string) (decimals uint8, ok bool) {
	d, ok := currencyDecimals[currency]
	return d, ok
}

// ValidID reports whether id can be an order id: 1–35 characters of ASCII
// letters, digits, '-', '.' and ':'. These are in the SEPA character set
// and need no escaping in an HTTP header, a URL path or XML.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// Validate checks what every rail needs of an order: a valid id, a
// supported currency with its decimals, a positive amount, a named
// creditor with a valid IBAN (required for EUR) or a domestic account and
// bank code, and a reference of at most 140 characters. Rails may demand
// more (package sepa: EUR only). Codes: EInvalid; EZeroAmount.
func (o Order) Validate() error {
	if !ValidID(o.ID) {
		return chengdui.Errorf(chengdui.EInvalid, "order id %q must be 1-%d letters, digits, '-', '.' or ':'", clip(o.ID), MaxIDLen)
	}
	d, ok := CurrencyDecimals(o.Currency)
	if !ok {
		return chengdui.Errorf(chengdui.EInvalid, "order %s: currency %q is not supported (EUR, CNY, USD)", o.ID, clip(o.Currency))
	}
	if o.Decimals != d {
		return chengdui.Errorf(chengdui.EInvalid, "order %s: %s has %d decimals, not %d", o.ID, o.Currency, d, o.Decimals)
	}
	if o.Amount.IsZero() {
		return chengdui.Errorf(chengdui.EZeroAmount, "order %s: amount must be positive", o.ID)
	}
	if err := checkText("reference", o.Reference, MaxReferenceLen); err != nil {
		return chengdui.Errorf(chengdui.EInvalid, "order %s: %s", o.ID, err.Message)
	}
	if err := o.Creditor.validate(o.Currency); err != nil {
		return chengdui.Errorf(chengdui.EInvalid, "order %s: creditor %s", o.ID, err.Message)
	}
	return nil
}

// validate checks a creditor paid in currency.
func (p Party) validate(currency string) *chengdui.Error {
	if strings.TrimSpace(p.Name) == "" {
		return chengdui.Errorf(chengdui.EInvalid, "name is empty")
	}
	if err := checkText("name", p.Name, MaxNameLen); err != nil {
		return err
	}
	if p.IBAN != "" {
		if err := ValidateIBAN(p.IBAN); err != nil {
			return chengdui.Errorf(chengdui.EInvalid, "%s", chengdui.ErrorMessage(err))
		}
	}
	if p.BIC != "" {
		if err := ValidateBIC(p.BIC); err != nil {
			return chengdui.Errorf(chengdui.EInvalid, "%s", chengdui.ErrorMessage(err))
		}
	}
	if p.Account != "" && !alnum(p.Account, MaxAccountLen, true) {
		return chengdui.Errorf(chengdui.EInvalid, "account %q must be 1-%d letters, digits or '-'", clip(p.Account), MaxAccountLen)
	}
	if p.BankCode != "" && !alnum(p.BankCode, MaxBankCodeLen, false) {
		return chengdui.Errorf(chengdui.EInvalid, "bank code %q must be 1-%d letters or digits", clip(p.BankCode), MaxBankCodeLen)
	}
	if p.Country != "" && (len(p.Country) != 2 || !upper(p.Country[0]) || !upper(p.Country[1])) {
		return chengdui.Errorf(chengdui.EInvalid, "country %q must be two capital letters (ISO 3166)", clip(p.Country))
	}
	switch {
	case currency == "EUR" && p.IBAN == "":
		return chengdui.Errorf(chengdui.EInvalid, "needs an IBAN for EUR (SEPA)")
	case p.IBAN == "" && (p.Account == "" || p.BankCode == ""):
		return chengdui.Errorf(chengdui.EInvalid, "needs an IBAN, or an account number and a bank code")
	}
	return nil
}

// checkText refuses text that is not UTF-8, holds control characters or is
// longer than max characters.
func checkText(what, s string, max int) *chengdui.Error {
	if !utf8.ValidString(s) {
		return chengdui.Errorf(chengdui.EInvalid, "%s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return chengdui.Errorf(chengdui.EInvalid, "%s has %d characters; at most %d", what, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return chengdui.Errorf(chengdui.EInvalid, "%s contains a control character", what)
		}
	}
	return nil
}

func alnum(s string, max int, dash bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !upper(c) && !('a' <= c && c <= 'z') && !digit(c) && !(dash && c == '-') {
			return false
		}
	}
	return true
}

func upper(c byte) bool { return 'A' <= c && c <= 'Z' }
func digit(c byte) bool { return '0' <= c && c <= '9' }

// clip keeps hostile input from flooding error messages and logs.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
