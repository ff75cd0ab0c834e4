// Package postgres stores Chengdui's data in PostgreSQL through a pgx v5
// pool. Ledger commits lock the journal head row, which serialises writers
// across processes; amounts are NUMERIC(39,0) and travel as decimal text.
package postgres
