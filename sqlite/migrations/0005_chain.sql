-- Chain watchers: the payments they saw (chain_deposits), how far they
-- followed each chain (chain_cursors) and the recent blocks they processed
-- (chain_blocks, to find where a reorganisation parted), and the hot
-- wallet's Bitcoin coins (btc_coins). Amounts are decimal TEXT, like 0001.
-- Heights are 0 while unconfirmed. Times are unix microseconds.
CREATE TABLE chain_deposits (
    chain       TEXT NOT NULL,
    txid        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    idx         INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),
    address     TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    block_hash  TEXT NOT NULL,
    height      INTEGER NOT NULL CHECK (height >= 0),
    rbf         INTEGER NOT NULL CHECK (rbf IN (0, 1)),
    reference   TEXT NOT NULL,
    account_id  TEXT NOT NULL, -- '' until the address resolves
    status      TEXT NOT NULL CHECK (status <> ''),
    credits     INTEGER NOT NULL CHECK (credits BETWEEN 0 AND 4294967295),
    transfer_id TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (chain, txid, kind, idx)
) STRICT;
CREATE INDEX chain_deposits_status ON chain_deposits (chain, status, height);
CREATE INDEX chain_deposits_height ON chain_deposits (chain, height);
CREATE INDEX chain_deposits_first_seen ON chain_deposits (first_seen);
CREATE INDEX chain_deposits_chain_first_seen ON chain_deposits (chain, first_seen);
CREATE INDEX chain_deposits_account ON chain_deposits (account_id, first_seen);

-- The last block a watcher processed, per chain.
CREATE TABLE chain_cursors (
    chain  TEXT PRIMARY KEY,
    height INTEGER NOT NULL CHECK (height >= 0),
    hash   TEXT NOT NULL
) STRICT;

-- The newest processed blocks per chain; older ones are pruned.
CREATE TABLE chain_blocks (
    chain  TEXT NOT NULL,
    height INTEGER NOT NULL CHECK (height >= 0),
    hash   TEXT NOT NULL,
    parent TEXT NOT NULL,
    PRIMARY KEY (chain, height)
) STRICT;

-- Outputs to the hot wallet's own addresses. spent_by is '' while no
-- spending transaction is known.
CREATE TABLE btc_coins (
    chain      TEXT NOT NULL,
    txid       TEXT NOT NULL,
    vout       INTEGER NOT NULL CHECK (vout BETWEEN 0 AND 4294967295),
    value      INTEGER NOT NULL CHECK (value >= 0),
    pk_script  BLOB NOT NULL,
    address    TEXT NOT NULL,
    change     INTEGER NOT NULL CHECK (change BETWEEN 0 AND 4294967295),
    idx        INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),
    height     INTEGER NOT NULL CHECK (height >= 0),
    block_hash TEXT NOT NULL,
    spent_by   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (chain, txid, vout)
) STRICT;
CREATE INDEX btc_coins_spent_by ON btc_coins (chain, spent_by);
CREATE INDEX btc_coins_height ON btc_coins (chain, height);
CREATE INDEX btc_coins_created ON btc_coins (chain, created_at);
