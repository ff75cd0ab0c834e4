-- Ledger: assets, accounts, the append-only journal of transfers, pending
-- states and the journal head. Amounts are NUMERIC(39,0): 128-bit exact.
-- Identifiers use COLLATE "C": byte order, the same on every server, and
-- much cheaper B-tree comparisons than a locale's collation.
CREATE TABLE assets (
    code       TEXT COLLATE "C" PRIMARY KEY,
    network    TEXT NOT NULL,
    decimals   INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    asset           TEXT COLLATE "C" NOT NULL REFERENCES assets (code),
    flags           INTEGER NOT NULL,
    code            INTEGER NOT NULL,
    metadata        TEXT NOT NULL,
    debits_pending  NUMERIC(39, 0) NOT NULL,
    debits_posted   NUMERIC(39, 0) NOT NULL,
    credits_pending NUMERIC(39, 0) NOT NULL,
    credits_posted  NUMERIC(39, 0) NOT NULL,
    created_at      BIGINT NOT NULL
) WITH (fillfactor = 50); -- room on each page for HOT balance updates

CREATE TABLE transfers (
    seq               BIGINT PRIMARY KEY,
    id                TEXT COLLATE "C" NOT NULL UNIQUE,
    debit_account_id  TEXT COLLATE "C" NOT NULL,
    credit_account_id TEXT COLLATE "C" NOT NULL,
    asset             TEXT COLLATE "C" NOT NULL,
    amount            NUMERIC(39, 0) NOT NULL,
    pending_id        TEXT COLLATE "C" NOT NULL,
    timeout           BIGINT NOT NULL,
    code              INTEGER NOT NULL,
    flags             INTEGER NOT NULL,
    metadata          TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    hash              BYTEA NOT NULL
);

CREATE TABLE pending_transfers (
    id         TEXT COLLATE "C" PRIMARY KEY,
    status     SMALLINT NOT NULL,
    expires_at BIGINT NOT NULL -- unix microseconds; 0: never
);
CREATE INDEX pending_transfers_open ON pending_transfers (expires_at) WHERE status = 1 AND expires_at > 0;

CREATE TABLE ledger_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    size        BIGINT NOT NULL,
    chain_hash  BYTEA NOT NULL,
    merkle_root BYTEA NOT NULL,
    compact     BYTEA NOT NULL
);
INSERT INTO ledger_head (id, size, chain_hash, merkle_root, compact) VALUES (1, 0, '', '', '');

-- Account history, indexed behind the journal by the ledger's history loop.
-- One row per account per indexed chunk of the journal, holding that
-- account's sequence numbers in the chunk: a few rows per chunk instead of
-- two index entries per transfer, which would cost a third of the commit
-- rate. Chunks up to history_cursor are indexed; queries scan the short
-- unindexed tail of transfers.
CREATE TABLE account_history (
    account_id TEXT COLLATE "C" NOT NULL,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL,
    seqs       TEXT NOT NULL, -- ascending, comma-separated
    PRIMARY KEY (account_id, first_seq)
);

CREATE TABLE history_cursor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_size BIGINT NOT NULL
);
INSERT INTO history_cursor (id, indexed_size) VALUES (1, 0);
