package invoice

// Checks and derived rows every Store implementation needs, shared by the
// sqlite and postgres packages.

import (
	"encoding/json"
	"math"
	"strings"
	"unicode/utf8"

	"chengdui"
)

// StoredAddresses lists the addresses derived for inv's methods: those
// with a destination and a derivation scheme, once each.
func StoredAddresses(inv Invoice) ([]Address, error) {
	var out []Address
	seen := map[string]Address{}
	for _, m := range inv.Methods {
		if m.Destination == "" || m.Scheme == "" {
			continue
		}
		if m.Index > math.MaxInt32 {
			return nil, chengdui.Errorf(chengdui.EInvalid, "method %s: address index %d is past 2^31-1", m.ID, m.Index)
		}
		a := Address{Address: m.Destination, InvoiceID: inv.ID, Scheme: m.Scheme, Network: m.Network, Index: m.Index, CreatedAt: inv.CreatedAt}
		if prev, ok := seen[a.Address]; ok {
			if prev.Scheme != a.Scheme || prev.Network != a.Network || prev.Index != a.Index {
				return nil, chengdui.Errorf(chengdui.EInvalid, "address %s is given two derivations", a.Address)
			}
			continue
		}
		seen[a.Address] = a
		out = append(out, a)
	}
	return out, nil
}

// IntentIDs lists the lower-cased router intent ids of inv's methods,
// once each.
func IntentIDs(inv Invoice) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range inv.Methods {
		if m.Intent == nil {
			continue
		}
		id := strings.ToLower(m.Intent.ID)
		if !IsIntentID(id) {
			return nil, chengdui.Errorf(chengdui.EInvalid, "method %s: router intent id %q is not 0x and 64 hex digits", m.ID, clipped(m.Intent.ID))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// IsIntentID reports whether id is 0x and 64 lower-case hex digits.
func IsIntentID(id string) bool {
	if len(id) != 66 || id[:2] != "0x" {
		return false
	}
	for i := 2; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CheckPayments refuses payments a store must not write for inv: no id,
// another invoice's, or one id twice. Codes: EInvalid.
func CheckPayments(inv Invoice, payments []Payment) error {
	seen := map[string]bool{}
	for _, p := range payments {
		switch {
		case p.ID == "":
			return chengdui.Errorf(chengdui.EInvalid, "a payment of invoice %q has no id", inv.ID)
		case p.InvoiceID != inv.ID:
			return chengdui.Errorf(chengdui.EInvalid, "payment %q is of invoice %q, not %q", clipped(p.ID), clipped(p.InvoiceID), inv.ID)
		case seen[p.ID]:
			return chengdui.Errorf(chengdui.EInvalid, "payment %q is given twice", clipped(p.ID))
		}
		seen[p.ID] = true
	}
	return nil
}

// CheckEvents refuses events a store must not write for inv. Codes:
// EInvalid.
func CheckEvents(inv Invoice, events []Event) error {
	for _, e := range events {
		switch {
		case e.ID == "" || e.Type == "":
			return chengdui.Errorf(chengdui.EInvalid, "an event of invoice %q has no id or type", inv.ID)
		case e.InvoiceID != inv.ID || e.StoreID != inv.StoreID:
			return chengdui.Errorf(chengdui.EInvalid, "event %q is not of invoice %q of store %q", clipped(e.ID), inv.ID, inv.StoreID)
		}
		if err := CheckJSON("event data", e.Data); err != nil {
			return err
		}
	}
	return nil
}

// CheckJSON accepts nothing or valid JSON in UTF-8. Codes: EInvalid.
func CheckJSON(what string, b []byte) error {
	if len(b) > 0 && (!json.Valid(b) || !utf8.Valid(b)) {
		return chengdui.Errorf(chengdui.EInvalid, "%s is not JSON in UTF-8", what)
	}
	return nil
}

// clipped keeps long input out of error messages.
func clipped(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
