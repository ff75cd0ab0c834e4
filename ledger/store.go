package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chengdui"
)

// Store is what the ledger needs from storage. The sqlite and postgres
// packages implement it; storetest checks that both behave the same.
type Store interface {
	// CreateAsset inserts an asset unless one with its code exists, and
	// returns the stored asset (the engine compares it with the request).
	CreateAsset(ctx context.Context, a chengdui.Asset) (chengdui.Asset, error)
	Asset(ctx context.Context, code string) (chengdui.Asset, error)
	Assets(ctx context.Context) ([]chengdui.Asset, error)
	// CreateAccount inserts an account with zero balances unless one with
	// its id exists, and returns the stored account. Codes: EAssetNotFound.
	CreateAccount(ctx context.Context, a chengdui.Account) (chengdui.Account, error)
	Account(ctx context.Context, id string) (chengdui.Account, error)
	// Accounts lists accounts ordered by id, after the cursor.
	Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error)
	Transfer(ctx context.Context, id string) (chengdui.Transfer, error)
	// Transfers lists committed transfers in seq order.
	Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error)
	// PendingStatus returns the state of a pending transfer.
	PendingStatus(ctx context.Context, id string) (chengdui.PendingStatus, error)
	// ExpiredPending lists open pending transfers whose deadline is at or
	// before now.
	ExpiredPending(ctx context.Context, now time.Time, limit int) ([]string, error)
	Head(ctx context.Context) (Head, error)
	// IndexHistory adds the next chunk of at most max journal entries after
	// the history cursor to the per-account history, in one transaction,
	// and returns how many it indexed. Transfers by account is exact at any
	// cursor position; indexing keeps it fast.
	IndexHistory(ctx context.Context, max int) (int, error)
	// Prefetch reads committed transfers, accounts and pending states
	// outside any write transaction: the engine prepares the next batch
	// with it while the current one commits.
	Prefetch(ctx context.Context, transferIDs, accountIDs, pendingIDs []string) (*Prefetched, error)
	// Snapshot runs fn against one consistent read-only view of the store.
	Snapshot(ctx context.Context, fn func(Reader) error) error
	// Commit runs fn in one write transaction holding the journal head lock.
	// If fn returns an error, nothing of it is kept.
	Commit(ctx context.Context, fn func(BatchTx) error) error
}

// Reader is a read-only view: the store itself, or a snapshot of it.
type Reader interface {
	Head(ctx context.Context) (Head, error)
	Accounts(ctx context.Context, afterID string, limit int) ([]chengdui.Account, error)
	Transfers(ctx context.Context, f chengdui.TransferFilter) ([]chengdui.Transfer, error)
}

// BatchReader reads the state a batch needs. Absent ids are absent from
// the maps.
type BatchReader interface {
	// Transfers returns the committed transfers among ids.
	Transfers(ids []string) (map[string]chengdui.Transfer, error)
	// Accounts returns the accounts among ids.
	Accounts(ids []string) (map[string]chengdui.Account, error)
	// Pending returns the pending states among ids.
	Pending(ids []string) (map[string]PendingState, error)
}

// BatchTx is the view of the store inside a commit.
type BatchTx interface {
	BatchReader
	Head() (Head, error)
	// Write stores the batch's outcome.
	Write(b *Batch) error
}

// Prefetched is what Prefetch found; absent ids are absent from the maps.
type Prefetched struct {
	Transfers map[string]chengdui.Transfer
	Accounts  map[string]chengdui.Account
	Pending   map[string]PendingState
}

// PrefetchWith runs Prefetch's three reads on r; adapters implement
// Prefetch with it over their read pool.
func PrefetchWith(r BatchReader, transferIDs, accountIDs, pendingIDs []string) (*Prefetched, error) {
	var p Prefetched
	var err error
	if p.Transfers, err = r.Transfers(transferIDs); err != nil {
		return nil, err
	}
	if p.Accounts, err = r.Accounts(accountIDs); err != nil {
		return nil, err
	}
	if p.Pending, err = r.Pending(pendingIDs); err != nil {
		return nil, err
	}
	return &p, nil
}

// PendingState is the stored state of a pending transfer.
type PendingState struct {
	ID        string
	Status    chengdui.PendingStatus
	ExpiresAt time.Time // zero: never
}

// Batch is what one commit writes.
type Batch struct {
	Transfers []chengdui.Transfer // new, in seq order, with Seq, Asset, Timestamp and Hash set
	Accounts  []chengdui.Account  // accounts whose balances changed, final values
	Pending   []PendingState      // inserted or changed pending states
	Head      Head
}

// Head is the journal's state after the last commit: the tree head plus the
// compact range that lets the next commit extend the Merkle log without
// reading old leaves.
type Head struct {
	chengdui.TreeHead
	Compact [][]byte
}

// ParseSeqList parses a history chunk's comma-separated sequence numbers
// into ascending order.
func ParseSeqList(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("history chunk: %w", err)
		}
		out[i] = v
	}
	slices.Sort(out)
	return out, nil
}

// EncodeMetadata is the stored form of metadata: JSON with sorted keys, or
// "" when empty. Both storage adapters use it.
func EncodeMetadata(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m) // a map[string]string always marshals
	return string(b)
}

// DecodeMetadata parses EncodeMetadata's output.
func DecodeMetadata(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("stored metadata: %w", err)
	}
	return m, nil
}
