// Package evm connects the platform to Ethereum-compatible chains through
// go-ethereum.
//
// Chain is the one view of a chain the rest of the package uses: a remote
// node reached with Dial (geth, Erigon, a hosted JSON-RPC or WebSocket
// endpoint) and the in-process chain of NewSimulated both satisfy it, so the
// same code and the same tests run on either.
//
// The simulated chain follows mainnet's fork schedule (every fork up to
// Osaka and its blob-parameter forks, active from genesis), not the dev
// preset, which also enables forks still under development; gas figures
// measured on it are those of mainnet.
//
// Transactions are signed through keys.Signer, the platform's one signing
// path: Account names the key, SignTx signs with it and Send hands the result
// to the chain.
//
// Around the chain: Watcher follows blocks from a stored cursor and reports
// ETH, ERC-20 and PaymentRouter payments to users' addresses to the deposit
// service, with reorgs; Sender makes outgoing transactions durable (nonces
// per address in storage, every signed attempt kept), follows them to their
// receipts and replaces stuck ones; Sweeper moves deposit-address balances
// to the hot wallet; Payer pays withdrawals through the Sender
// (withdraw.Payer). The contracts themselves are in package contracts.
//
// Errors: methods of this package return *chengdui.Error. The Chain methods
// themselves return go-ethereum's errors; FormatError translates them.
package evm
