// Package chengdui holds the platform's domain types and service interfaces.
//
// It does no I/O. Implementations live in packages named for their
// responsibility (ledger) or for the technology they wrap (sqlite, postgres,
// http); cmd/chengdui wires them together. See docs/architecture.md.
package chengdui
