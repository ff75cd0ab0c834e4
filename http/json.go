package http

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	nethttp "net/http"
	"strconv"
	"time"

	"chengdui"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// writeJSON encodes v before writing anything, so an encoding failure still
// gets a clean 500 instead of a truncated 200.
func writeJSON(w nethttp.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		status = nethttp.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"code":"internal","message":"internal error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// page is the body of every list response. Next is the cursor to pass as
// ?after= for the following page; it is empty when the page was not full,
// so a full last page is followed by one empty page.
type page[T any] struct {
	Data []T    `json:"data"`
	Next string `json:"next"`
}

// parseLimit reads ?limit=, defaultLimit when absent.
func parseLimit(r *nethttp.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, chengdui.Errorf(chengdui.EInvalid, "limit must be a whole number from 1 to %d", maxLimit)
	}
	return n, nil
}

// parseSeqCursor reads ?after= as a journal sequence number, 0 when absent.
func parseSeqCursor(r *nethttp.Request) (uint64, error) {
	s := r.URL.Query().Get("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, chengdui.Errorf(chengdui.EInvalid, "after must be a transfer sequence number")
	}
	return n, nil
}

// decimalsByAsset indexes asset decimals by code.
func decimalsByAsset(assets []chengdui.Asset) map[string]uint8 {
	m := make(map[string]uint8, len(assets))
	for _, a := range assets {
		m[a.Code] = a.Decimals
	}
	return m
}

// accountJSON is an account as the API shows it. Amounts are decimal
// strings of smallest units.
type accountJSON struct {
	ID             string            `json:"id"`
	Asset          string            `json:"asset"`
	Flags          uint32            `json:"flags"`
	Code           uint16            `json:"code"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	DebitsPending  string            `json:"debits_pending"`
	DebitsPosted   string            `json:"debits_posted"`
	CreditsPending string            `json:"credits_pending"`
	CreditsPosted  string            `json:"credits_posted"`
	// Balance is credits_posted - debits_posted, with a leading "-" when
	// debits exceed credits (a debit-normal account such as settlement).
	Balance string `json:"balance"`
	// BalanceDecimal is Balance in whole units of the asset; empty when the
	// asset is unknown.
	BalanceDecimal string    `json:"balance_decimal,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func newAccountJSON(a chengdui.Account, decimals map[string]uint8) accountJSON {
	bal, ok := chengdui.SubAmounts(a.CreditsPosted, a.DebitsPosted)
	sign := ""
	if !ok {
		bal, _ = chengdui.SubAmounts(a.DebitsPosted, a.CreditsPosted)
		sign = "-"
	}
	out := accountJSON{
		ID:             a.ID,
		Asset:          a.Asset,
		Flags:          uint32(a.Flags),
		Code:           a.Code,
		Metadata:       a.Metadata,
		DebitsPending:  a.DebitsPending.String(),
		DebitsPosted:   a.DebitsPosted.String(),
		CreditsPending: a.CreditsPending.String(),
		CreditsPosted:  a.CreditsPosted.String(),
		Balance:        sign + bal.String(),
		CreatedAt:      a.CreatedAt,
	}
	if d, ok := decimals[a.Asset]; ok {
		out.BalanceDecimal = sign + chengdui.FormatDecimal(bal, d)
	}
	return out
}

// transferJSON is a committed transfer as the API shows it.
type transferJSON struct {
	Seq             uint64            `json:"seq"`
	ID              string            `json:"id"`
	DebitAccountID  string            `json:"debit_account_id"`
	CreditAccountID string            `json:"credit_account_id"`
	Asset           string            `json:"asset"`
	Amount          string            `json:"amount"`
	AmountDecimal   string            `json:"amount_decimal,omitempty"` // empty when the asset is unknown
	PendingID       string            `json:"pending_id,omitempty"`
	Timeout         uint32            `json:"timeout,omitempty"`
	Code            uint16            `json:"code"`
	Flags           uint32            `json:"flags"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Timestamp       time.Time         `json:"timestamp"`
	Hash            string            `json:"hash"` // hex hash chain value after this entry
}

func newTransferJSON(t chengdui.Transfer, decimals map[string]uint8) transferJSON {
	out := transferJSON{
		Seq:             t.Seq,
		ID:              t.ID,
		DebitAccountID:  t.DebitAccountID,
		CreditAccountID: t.CreditAccountID,
		Asset:           t.Asset,
		Amount:          t.Amount.String(),
		PendingID:       t.PendingID,
		Timeout:         t.Timeout,
		Code:            t.Code,
		Flags:           uint32(t.Flags),
		Metadata:        t.Metadata,
		Timestamp:       t.Timestamp,
		Hash:            hex.EncodeToString(t.Hash),
	}
	if d, ok := decimals[t.Asset]; ok {
		out.AmountDecimal = chengdui.FormatDecimal(t.Amount, d)
	}
	return out
}

func newTransfersJSON(ts []chengdui.Transfer, decimals map[string]uint8) []transferJSON {
	out := make([]transferJSON, len(ts))
	for i, t := range ts {
		out[i] = newTransferJSON(t, decimals)
	}
	return out
}

// headJSON is the journal's tree head with hashes in hex.
type headJSON struct {
	Size       uint64 `json:"size"`
	ChainHash  string `json:"chain_hash"`
	MerkleRoot string `json:"merkle_root"`
}

func newHeadJSON(h chengdui.TreeHead) headJSON {
	return headJSON{Size: h.Size, ChainHash: hex.EncodeToString(h.ChainHash), MerkleRoot: hex.EncodeToString(h.MerkleRoot)}
}
