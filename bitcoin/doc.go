// Package bitcoin is the platform's adapter to a Bitcoin node: it speaks
// JSON-RPC to btcd or bitcoind through btcd's rpcclient (HTTP POST mode) and
// hands the rest of the platform wire types and *chengdui.Error values.
//
// Node is the adapter: the node is the source of truth for the chain, and
// signing needs no node wallet (keys.Signer signs, txscript verifies).
// Around it:
//
//   - Watcher follows blocks from a stored cursor and the mempool, reports
//     payments to users' addresses to the deposit service (confirmations,
//     reorgs, double spends and RBF replacements), and keeps the hot
//     wallet's coins (CoinStore);
//   - SelectCoins, BuildTx, Sign and BumpFee build, sign and fee-bump the
//     hot wallet's transactions;
//   - Payer pays pending withdrawals in batches (withdraw.Payer);
//   - ColdSweeper moves what the hot wallet holds above a ceiling to the
//     2-of-3 cold wallet of package bitcoin/cold.
//
// # Contexts
//
// rpcclient is not context-aware. Every method returns ctx.Err() at once
// when ctx is already done, and stops waiting when ctx ends, but the request
// itself may still reach the node: a Broadcast abandoned by its caller can
// still be relayed, so callers find out by txid. rpcclient sends one request
// at a time per Node and has no timeout of its own, so give every call a
// deadline. When the node stops answering, rpcclient retries a refused
// connection for about 20 seconds before the method returns EUnavailable;
// Dial checks the port first and fails at once.
//
// # Errors
//
// EUnavailable when the node cannot be reached or refuses the RPC
// credentials, EInvalid for a bad Config or a node on another network,
// ENotFound for an unknown block, height or transaction, EConflict and
// EInvalid for a transaction the node refuses (see Broadcast), EInternal for
// anything else, with the node's message for the logs.
package bitcoin
