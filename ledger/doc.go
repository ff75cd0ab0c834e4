// Package ledger is Chengdui's double-entry ledger, after TigerBeetle's model.
//
// The Engine validates transfers against the rules (rules.go), extends the
// journal's hash chain and RFC 6962 Merkle log (journal.go) and commits
// through a Store (store.go) implemented by the sqlite and postgres packages.
//
// Concurrent requests are group-committed: one goroutine drains the request
// queue into a batch, applies it in memory against the accounts it touches,
// and writes everything — transfers, aggregated balance updates, pending
// states and the new tree head — in one database transaction. A batch is all
// or nothing; inside it each request keeps its own outcome, and a linked
// chain of transfers succeeds or fails as a whole.
package ledger
