package bitcoin

import (
	"context"
	"time"
)

// Coin is an unspent (or recently spent) output the platform can spend: an
// output to one of its own addresses (a deposit address, a change
// address), derived at Change/Index under the hot wallet's account key.
// The watcher records coins as it sees them; the sender spends them.
type Coin struct {
	Chain     string    // e.g. bitcoin:regtest
	TxID      string    // hex, as the node prints it
	Vout      uint32    //
	Value     int64     // satoshi
	PkScript  []byte    //
	Address   string    //
	Change    uint32    // 0: receive (deposit) chain, 1: change chain
	Index     uint32    // derivation index on that chain
	Height    uint64    // 0 while unconfirmed
	BlockHash string    // "" while unconfirmed
	SpentBy   string    // txid of the transaction spending it, "" if none seen
	CreatedAt time.Time //
}

// CoinStore is what the watcher and the sender need to keep the hot
// wallet's coins. The sqlite and postgres packages implement it;
// storetest.RunCoins checks both.
type CoinStore interface {
	// PutCoin inserts or replaces the coin (Chain, TxID, Vout), every
	// field but one: an empty SpentBy keeps a spend already recorded (the
	// payer may have spent the coin while the watcher was updating it;
	// only UnspendCoins clears a spend). An empty PkScript reads back as nil. Codes: EInvalid without
	// Chain or TxID, or for a negative Value.
	PutCoin(ctx context.Context, c Coin) error
	// SpendCoins marks coins as spent by txid. Unknown outpoints are
	// ignored (they are not ours). A coin already spent by another
	// transaction is taken over by txid (a replacement spends it now).
	// All or none are marked. Codes: EInvalid for an empty txid.
	SpendCoins(ctx context.Context, chain string, outpoints []OutPointRef, txid string) error
	// UnspendCoins clears SpentBy of the coins spent by txid (it was
	// replaced, or its block left the chain and it was dropped). Codes:
	// EInvalid for an empty txid.
	UnspendCoins(ctx context.Context, chain, txid string) error
	// Coins lists a chain's coins; with unspentOnly, those with no SpentBy.
	// Oldest first: by CreatedAt, then TxID, Vout.
	Coins(ctx context.Context, chain string, unspentOnly bool) ([]Coin, error)
	// DisconnectCoins marks the coins created in blocks at height and
	// above as unconfirmed (Height 0, BlockHash ""). SpentBy is kept.
	DisconnectCoins(ctx context.Context, chain string, height uint64) error
}

// OutPointRef names an output: a transaction id and an output index.
type OutPointRef struct {
	TxID string
	Vout uint32
}
