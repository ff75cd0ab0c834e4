// Package deposit turns payments seen on a chain into ledger credits,
// exactly once, and undoes them when a reorganisation takes their block
// away.
//
// Chain watchers (bitcoin.Watcher, evm.Watcher) report what they see:
// Observe for a payment in a block or in the mempool, Disconnect when
// blocks leave the canonical chain, Replace when an unconfirmed
// transaction was double-spent or replaced (RBF). Settle then applies the
// asset's confirmation policy at the chain's tip:
//
//   - a payment with enough confirmations is credited to the account its
//     address resolves to, with a ledger transfer whose id is derived from
//     the chain, the transaction, the kind and the output or log index, so a
//     retry after a crash is the ledger's idempotent replay, never a second
//     posting;
//   - a credited payment whose block left the chain, or whose transaction
//     was replaced, is reversed with a compensating transfer and an alert;
//   - a payment to an address that resolves to nothing is recorded as
//     unexpected, never dropped and never credited.
//
// A payment credited, reversed and then mined again is credited again, under
// a new transfer id (its credit number is part of the id).
package deposit
