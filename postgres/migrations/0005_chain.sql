-- Chain watchers: the payments they saw (chain_deposits), how far they
-- followed each chain (chain_cursors) and the recent blocks they processed
-- (chain_blocks, to find where a reorganisation parted), and the hot
-- wallet's Bitcoin coins (btc_coins). Amounts are NUMERIC(39,0), like 0001.
-- Heights are 0 while unconfirmed. Times are unix microseconds.
-- Identifiers use COLLATE "C", like 0001.
CREATE TABLE chain_deposits (
    chain       TEXT COLLATE "C" NOT NULL,
    txid        TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    idx         BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),
    address     TEXT COLLATE "C" NOT NULL,
    asset       TEXT COLLATE "C" NOT NULL,
    amount      NUMERIC(39, 0) NOT NULL CHECK (amount >= 0),
    block_hash  TEXT COLLATE "C" NOT NULL,
    height      BIGINT NOT NULL CHECK (height >= 0),
    rbf         BOOLEAN NOT NULL,
    reference   TEXT NOT NULL,
    account_id  TEXT COLLATE "C" NOT NULL, -- '' until the address resolves
    status      TEXT COLLATE "C" NOT NULL CHECK (status <> ''),
    credits     BIGINT NOT NULL CHECK (credits BETWEEN 0 AND 4294967295),
    transfer_id TEXT COLLATE "C" NOT NULL,
    first_seen  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (chain, txid, kind, idx)
);
CREATE INDEX chain_deposits_status ON chain_deposits (chain, status, height);
CREATE INDEX chain_deposits_height ON chain_deposits (chain, height);
CREATE INDEX chain_deposits_first_seen ON chain_deposits (first_seen);
CREATE INDEX chain_deposits_chain_first_seen ON chain_deposits (chain, first_seen);
CREATE INDEX chain_deposits_account ON chain_deposits (account_id, first_seen);

-- The last block a watcher processed, per chain.
CREATE TABLE chain_cursors (
    chain  TEXT COLLATE "C" PRIMARY KEY,
    height BIGINT NOT NULL CHECK (height >= 0),
    hash   TEXT COLLATE "C" NOT NULL
);

-- The newest processed blocks per chain; older ones are pruned.
CREATE TABLE chain_blocks (
    chain  TEXT COLLATE "C" NOT NULL,
    height BIGINT NOT NULL CHECK (height >= 0),
    hash   TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (chain, height)
);

-- Outputs to the hot wallet's own addresses. spent_by is '' while no
-- spending transaction is known.
CREATE TABLE btc_coins (
    chain      TEXT COLLATE "C" NOT NULL,
    txid       TEXT COLLATE "C" NOT NULL,
    vout       BIGINT NOT NULL CHECK (vout BETWEEN 0 AND 4294967295),
    value      BIGINT NOT NULL CHECK (value >= 0),
    pk_script  BYTEA NOT NULL,
    address    TEXT COLLATE "C" NOT NULL,
    change     BIGINT NOT NULL CHECK (change BETWEEN 0 AND 4294967295),
    idx        BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 4294967295),
    height     BIGINT NOT NULL CHECK (height >= 0),
    block_hash TEXT COLLATE "C" NOT NULL,
    spent_by   TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chain, txid, vout)
);
CREATE INDEX btc_coins_spent_by ON btc_coins (chain, spent_by);
CREATE INDEX btc_coins_height ON btc_coins (chain, height);
CREATE INDEX btc_coins_created ON btc_coins (chain, created_at);
