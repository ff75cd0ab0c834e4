-- Ledger: assets, accounts, the append-only journal of transfers, pending
-- states and the journal head. Amounts are decimal TEXT: SQLite has no
-- 128-bit integers and NUMERIC affinity would turn big values into floats.
CREATE TABLE assets (
    code       TEXT PRIMARY KEY,
    network    TEXT NOT NULL,
    decimals   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    asset           TEXT NOT NULL REFERENCES assets (code),
    flags           INTEGER NOT NULL,
    code            INTEGER NOT NULL,
    metadata        TEXT NOT NULL,
    debits_pending  TEXT NOT NULL,
    debits_posted   TEXT NOT NULL,
    credits_pending TEXT NOT NULL,
    credits_posted  TEXT NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE transfers (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    debit_account_id  TEXT NOT NULL,
    credit_account_id TEXT NOT NULL,
    asset             TEXT NOT NULL,
    amount            TEXT NOT NULL,
    pending_id        TEXT NOT NULL,
    timeout           INTEGER NOT NULL,
    code              INTEGER NOT NULL,
    flags             INTEGER NOT NULL,
    metadata          TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    hash              BLOB NOT NULL
) STRICT;

CREATE TABLE pending_transfers (
    id         TEXT PRIMARY KEY,
    status     INTEGER NOT NULL,
    expires_at INTEGER NOT NULL -- unix microseconds; 0: never
) STRICT;
CREATE INDEX pending_transfers_open ON pending_transfers (expires_at) WHERE status = 1 AND expires_at > 0;

CREATE TABLE ledger_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    size        INTEGER NOT NULL,
    chain_hash  BLOB NOT NULL,
    merkle_root BLOB NOT NULL,
    compact     BLOB NOT NULL
) STRICT;
INSERT INTO ledger_head (id, size, chain_hash, merkle_root, compact) VALUES (1, 0, x'', x'', x'');

-- Account history, indexed behind the journal by the ledger's history loop.
-- One row per account per indexed chunk of the journal, holding that
-- account's sequence numbers in the chunk: a few rows per chunk instead of
-- two index entries per transfer, which would cost a third of the commit
-- rate. Chunks up to history_cursor are indexed; queries scan the short
-- unindexed tail of transfers.
CREATE TABLE account_history (
    account_id TEXT NOT NULL,
    first_seq  INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    seqs       TEXT NOT NULL, -- ascending, comma-separated
    PRIMARY KEY (account_id, first_seq)
) WITHOUT ROWID, STRICT;

CREATE TABLE history_cursor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_size INTEGER NOT NULL
) STRICT;
INSERT INTO history_cursor (id, indexed_size) VALUES (1, 0);
