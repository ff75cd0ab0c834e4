// Package sqlite stores Chengdui's data in an embedded SQLite file through
// modernc.org/sqlite (pure Go, no cgo). The file runs in WAL mode with
// synchronous=FULL, so every commit is fsynced. Writes go through one
// connection opened with BEGIN IMMEDIATE; reads use a pool.
package sqlite
