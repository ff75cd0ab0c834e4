package http

import (
	"context"
	nethttp "net/http"
	"time"

	"chengdui/deposit"
)

// Deposits lists a user's chain deposits, newest first: those credited and
// those still waiting for confirmations, orphaned, reversed or replaced.
type Deposits interface {
	UserDeposits(ctx context.Context, userID string) ([]deposit.Deposit, error)
}

type depositJSON struct {
	Chain       string    `json:"chain"`
	TxID        string    `json:"txid"`
	Kind        string    `json:"kind"`
	Index       uint32    `json:"index"`
	Address     string    `json:"address"`
	Asset       string    `json:"asset"`
	Amount      string    `json:"amount"` // smallest units
	Status      string    `json:"status"`
	BlockHash   string    `json:"block_hash,omitempty"`
	Height      uint64    `json:"height,omitempty"`
	TransferID  string    `json:"transfer_id,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	UpdatedAt   time.Time `json:"updated_at"`
	Replaceable bool      `json:"rbf,omitempty"`
}

// handleDeposits answers the caller's deposits.
func (s *Server) handleDeposits(w nethttp.ResponseWriter, r *nethttp.Request) {
	u, ok := s.user(w, r)
	if !ok {
		return
	}
	ds, err := s.cfg.Deposits.UserDeposits(r.Context(), u.ID)
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]depositJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, depositJSON{Chain: d.Chain, TxID: d.TxID, Kind: d.Kind, Index: d.Index, Address: d.Address, Asset: d.Asset,
			Amount: d.Amount.String(), Status: string(d.Status), BlockHash: d.BlockHash, Height: d.Height, TransferID: d.TransferID,
			FirstSeen: d.FirstSeen, UpdatedAt: d.UpdatedAt, Replaceable: d.RBF})
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"deposits": out})
}
