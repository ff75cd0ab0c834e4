// Package gethtest runs a real geth in developer mode (geth --dev) on
// 127.0.0.1 for tests.
//
// Binary builds geth from the module pinned in go.mod, once per machine,
// into the user cache directory. Start runs a fresh node in a temporary
// directory, with HTTP and WebSocket JSON-RPC on free loopback ports and no
// peers, and stops it when the test ends.
//
// # Blocks
//
// By default the node mines on demand (--dev.period 0): a block is sealed as
// soon as a transaction reaches the pool, and no block is made otherwise.
// That is both the fastest setting, a receipt within milliseconds, and the
// most deterministic one: the head moves only when a test sends something.
// WithPeriod makes blocks on a timer instead, for tests that need the chain
// to advance on its own (confirmations, head subscriptions).
//
// # The developer account
//
// geth --dev prefunds one account with 2^256-9 wei: the well-known developer
// key of cmd/utils, imported into the node's keystore with an empty
// passphrase and unlocked. Geth 1.17 still signs for unlocked keystore
// accounts, so Fund moves ether with eth_sendTransaction from that account:
// the node picks the nonce (under its own per-account lock, so concurrent
// Funds are safe), the gas and the fees, and seals the block. No key is held
// here.
//
// The chain is geth's dev preset (chain id 1337), which turns on every fork
// geth knows, including those still in development; package evm's simulated
// chain follows mainnet's schedule instead.
//
// When geth cannot be built, tests skip, except with CI=true, where they
// fail: CI must never skip the chain tests.
package gethtest
