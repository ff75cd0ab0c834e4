package reconcile

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"chengdui"
)

// Kind names what an item of a difference is.
type Kind string

// Kinds of items that explain a difference: each is on its way to being
// booked, or to reaching the chain or the bank.
const (
	// DepositNotCredited: a payment to a platform address that is on the
	// chain but not credited yet (below its confirmation depth).
	DepositNotCredited Kind = "deposit_not_credited"
	// WithdrawalInFlight: a withdrawal or crypto payout whose transaction
	// is on the chain while its hold is not posted yet.
	WithdrawalInFlight Kind = "withdrawal_in_flight"
	// FeeNotBooked: a network fee the platform's transaction paid that the
	// ledger has not booked yet (it books it once the transaction is
	// final).
	FeeNotBooked Kind = "fee_not_booked"
	// PayoutInFlight: a payout the bank completed while its callback has
	// not been applied (the hold is still pending).
	PayoutInFlight Kind = "payout_in_flight"
	// ReturnNotBooked: a payout the bank returned while the return has not
	// been booked yet.
	ReturnNotBooked Kind = "return_not_booked"
)

// Kinds of items that do not explain a difference but are part of it.
const (
	// UnexpectedDeposit: a payment to a platform address that resolves to
	// no account: recorded by the watcher, never credited.
	UnexpectedDeposit Kind = "unexpected_deposit"
	// UnknownCoin: a coin to a platform address that no deposit and no
	// transaction of the platform accounts for.
	UnknownCoin Kind = "unknown_coin"
	// UnaccountedOutflow: a transaction of the platform that pays outside
	// addresses more (or less) than its withdrawals.
	UnaccountedOutflow Kind = "unaccounted_outflow"
	// FeeOverbooked: the ledger booked more network fee for a transaction
	// than it paid.
	FeeOverbooked Kind = "fee_overbooked"
	// BankMismatch: a payout whose bank movements differ from its ledger
	// movements, or a bank entry no payout matches.
	BankMismatch Kind = "bank_mismatch"
)

// Item is one movement that makes up part of a difference. Effect is
// signed: how much it adds to the source's side minus the ledger's (a
// deposit not credited yet is positive, a withdrawal not posted yet is
// negative).
type Item struct {
	Kind   Kind     `json:"kind"`
	Ref    string   `json:"ref"`            // a deposit key, withdrawal or send id, payout id, outpoint
	TxID   string   `json:"txid,omitempty"` // the chain transaction, when there is one
	Effect *big.Int `json:"-"`
	Detail string   `json:"detail,omitempty"`
}

// Holding is one place the source says the platform keeps an asset: an
// address, a coin, a bank account.
type Holding struct {
	Role   string          `json:"role"` // hot, deposit, invoice, change, cold, bank
	Where  string          `json:"where"`
	Amount chengdui.Amount `json:"-"`
}

// Asset is the reconciliation of one asset with one source (a chain or a
// bank).
type Asset struct {
	Asset    string
	Decimals uint8
	Source   string // e.g. bitcoin:regtest, evm:1337, bank:sandbox
	Account  string // the ledger account compared
	// Ledger is what the ledger says (signed: a chain account's debits
	// minus credits posted; a payouts account's credits minus debits
	// posted); Float what the operator put on the platform's addresses
	// outside the ledger (configured), part of the ledger's side.
	Ledger *big.Int
	Float  chengdui.Amount
	// Actual is what the source says: the sum of Holdings, or for a bank
	// the net amount paid out of its operating account.
	Actual   *big.Int
	Holdings []Holding
	// Explained are the items that account for part of the difference;
	// Unexplained the items found to be part of what is left, Residual
	// (which they may not cover in full: a transfer to an EVM address
	// leaves no item, only a balance).
	Explained   []Item
	Unexplained []Item
	Residual    *big.Int
	// Notes are what the operator should know but does not change the
	// sums (a coin the store lists that the node does not have, a
	// transaction the node does not know).
	Notes []string
}

// Expected is the ledger's side: Ledger plus Float.
func (a Asset) Expected() *big.Int {
	return new(big.Int).Add(bigOr0(a.Ledger), a.Float.Big())
}

// Difference is the source's side minus the ledger's.
func (a Asset) Difference() *big.Int {
	return new(big.Int).Sub(bigOr0(a.Actual), a.Expected())
}

// OK reports whether every difference is explained: nothing is left over,
// and no item is unexplained (two unexplained items may cancel out, a
// payout the bank never paid and a payment it made to nobody's order).
func (a Asset) OK() bool { return bigOr0(a.Residual).Sign() == 0 && len(a.Unexplained) == 0 }

// Report is a reconciliation of every asset of every source.
type Report struct {
	At     time.Time
	Assets []Asset
}

// OK reports whether every asset's difference is explained.
func (r Report) OK() bool {
	for _, a := range r.Assets {
		if !a.OK() {
			return false
		}
	}
	return true
}

// Unexplained lists the assets with an unexplained difference, as
// "ASSET on SOURCE".
func (r Report) Unexplained() []string {
	var out []string
	for _, a := range r.Assets {
		if !a.OK() {
			out = append(out, a.Asset+" on "+a.Source)
		}
	}
	return out
}

// Explain settles an asset's sums: Residual is the difference less the
// effects of the explaining items. The unexplained items are left as they
// are: they describe the residual, they do not reduce it.
func Explain(a *Asset) {
	r := a.Difference()
	for _, it := range a.Explained {
		r.Sub(r, bigOr0(it.Effect))
	}
	a.Residual = r
}

func bigOr0(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

// FormatSigned prints a signed amount of smallest units in whole units
// with the asset's decimals and an explicit sign for non-zero values:
// "+0.00010000", "-5.000000", "0.00".
func FormatSigned(x *big.Int, decimals uint8) string {
	x = bigOr0(x)
	s := new(big.Int).Abs(x).String()
	if d := int(decimals); d > 0 {
		if len(s) <= d {
			s = strings.Repeat("0", d-len(s)+1) + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	switch x.Sign() {
	case 1:
		return "+" + s
	case -1:
		return "-" + s
	}
	return s
}

// plain is FormatSigned without the plus sign.
func plain(x *big.Int, decimals uint8) string {
	return strings.TrimPrefix(FormatSigned(x, decimals), "+")
}

// WriteText writes the report for a person: per asset the two sides, the
// difference, and each item with its effect.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "reconciliation at %s\n", r.At.UTC().Format(time.RFC3339))
	for _, a := range r.Assets {
		d := a.Decimals
		fmt.Fprintf(&b, "\n%s on %s (ledger account %s)\n", a.Asset, a.Source, a.Account)
		fmt.Fprintf(&b, "  ledger      %s\n", plain(a.Ledger, d))
		if !a.Float.IsZero() {
			fmt.Fprintf(&b, "  float       %s (outside the ledger, configured)\n", chengdui.FormatDecimal(a.Float, d))
		}
		roles := map[string]int{}
		var order []string
		for _, h := range a.Holdings {
			if roles[h.Role] == 0 {
				order = append(order, h.Role)
			}
			roles[h.Role]++
		}
		var parts []string
		for _, role := range order {
			parts = append(parts, fmt.Sprintf("%s ×%d", role, roles[role]))
		}
		side := "chain"
		if strings.HasPrefix(a.Source, "bank:") {
			side = "bank"
		}
		fmt.Fprintf(&b, "  %-11s %s", side, plain(a.Actual, d))
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintf(&b, "\n  difference  %s\n", FormatSigned(a.Difference(), d))
		for _, it := range a.Explained {
			fmt.Fprintf(&b, "    explained   %s  %s\n", FormatSigned(it.Effect, d), itemText(it))
		}
		if a.OK() {
			fmt.Fprintln(&b, "  OK")
		} else {
			fmt.Fprintf(&b, "  UNEXPLAINED %s\n", FormatSigned(a.Residual, d))
			for _, it := range a.Unexplained {
				fmt.Fprintf(&b, "    unexplained %s  %s\n", FormatSigned(it.Effect, d), itemText(it))
			}
			if len(a.Unexplained) == 0 {
				fmt.Fprintln(&b, "    no item accounts for it: look for transfers to or from the platform's addresses that the ledger does not have")
			}
		}
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	bad := r.Unexplained()
	if len(bad) == 0 {
		fmt.Fprintf(&b, "\nOK: %d asset(s), every difference explained\n", len(r.Assets))
	} else {
		fmt.Fprintf(&b, "\nUNEXPLAINED: %d of %d asset(s): %s\n", len(bad), len(r.Assets), strings.Join(bad, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func itemText(it Item) string {
	s := string(it.Kind) + " " + it.Ref
	if it.TxID != "" && !strings.Contains(it.Ref, it.TxID) {
		s += " tx " + it.TxID
	}
	if it.Detail != "" {
		s += ": " + it.Detail
	}
	return s
}

// The report on the wire: amounts as decimal strings in whole units.
type (
	reportJSON struct {
		At          time.Time   `json:"at"`
		OK          bool        `json:"ok"`
		Unexplained []string    `json:"unexplained"`
		Assets      []assetJSON `json:"assets"`
	}
	assetJSON struct {
		Asset       string        `json:"asset"`
		Decimals    uint8         `json:"decimals"`
		Source      string        `json:"source"`
		Account     string        `json:"account"`
		Ledger      string        `json:"ledger"`
		Float       string        `json:"float"`
		Actual      string        `json:"actual"`
		Difference  string        `json:"difference"`
		Residual    string        `json:"unexplained"`
		OK          bool          `json:"ok"`
		Holdings    []holdingJSON `json:"holdings"`
		Explained   []itemJSON    `json:"explained"`
		Unexplained []itemJSON    `json:"unexplained_items"`
		Notes       []string      `json:"notes"`
	}
	holdingJSON struct {
		Role   string `json:"role"`
		Where  string `json:"where"`
		Amount string `json:"amount"`
	}
	itemJSON struct {
		Kind   Kind   `json:"kind"`
		Ref    string `json:"ref"`
		TxID   string `json:"txid,omitempty"`
		Effect string `json:"effect"`
		Detail string `json:"detail,omitempty"`
	}
)

// MarshalJSON renders the report with amounts as decimal strings in whole
// units ("-0.00010000"), never as floats.
func (r Report) MarshalJSON() ([]byte, error) {
	out := reportJSON{At: r.At.UTC(), OK: r.OK(), Unexplained: r.Unexplained(), Assets: []assetJSON{}}
	if out.Unexplained == nil {
		out.Unexplained = []string{}
	}
	for _, a := range r.Assets {
		d := a.Decimals
		aj := assetJSON{Asset: a.Asset, Decimals: d, Source: a.Source, Account: a.Account,
			Ledger: plain(a.Ledger, d), Float: chengdui.FormatDecimal(a.Float, d), Actual: plain(a.Actual, d),
			Difference: FormatSigned(a.Difference(), d), Residual: FormatSigned(a.Residual, d), OK: a.OK(),
			Holdings: []holdingJSON{}, Explained: items(a.Explained, d), Unexplained: items(a.Unexplained, d), Notes: a.Notes}
		if aj.Notes == nil {
			aj.Notes = []string{}
		}
		for _, h := range a.Holdings {
			aj.Holdings = append(aj.Holdings, holdingJSON{Role: h.Role, Where: h.Where, Amount: chengdui.FormatDecimal(h.Amount, d)})
		}
		out.Assets = append(out.Assets, aj)
	}
	return json.Marshal(out)
}

func items(its []Item, d uint8) []itemJSON {
	out := []itemJSON{}
	for _, it := range its {
		out = append(out, itemJSON{Kind: it.Kind, Ref: it.Ref, TxID: it.TxID, Effect: FormatSigned(it.Effect, d), Detail: it.Detail})
	}
	return out
}
