-- The EVM hot wallet's outgoing transactions (evm.Sender): one row per send
-- request, keyed by the caller's idempotency id, its signed attempts (the
-- first and each fee-bumped replacement, same nonce), and the next nonce of
-- each sending address. Addresses and hashes are 0x hex (addresses EIP-55);
-- wei amounts are NUMERIC(78,0), up to 2^256-1; times are unix microseconds.
-- Identifiers use COLLATE "C", like 0001.
CREATE TABLE evm_nonces (
    chain      TEXT COLLATE "C" NOT NULL,
    address    TEXT COLLATE "C" NOT NULL,
    next_nonce BIGINT NOT NULL CHECK (next_nonce >= 0),
    PRIMARY KEY (chain, address)
);

-- hash is the current attempt's, or the mined one's; '' before the first.
-- tip_cap and fee_cap are the current attempt's (NULL before it, unless the
-- caller fixed the fees); gas_price and fee are NULL until final.
CREATE TABLE evm_sends (
    id         TEXT COLLATE "C" PRIMARY KEY,
    chain      TEXT COLLATE "C" NOT NULL,
    from_addr  TEXT COLLATE "C" NOT NULL,
    path       TEXT COLLATE "C" NOT NULL,
    to_addr    TEXT COLLATE "C" NOT NULL,
    value      NUMERIC(78, 0) NOT NULL CHECK (value >= 0),
    data       BYTEA NOT NULL,
    asset      TEXT COLLATE "C" NOT NULL,
    nonce      BIGINT NOT NULL CHECK (nonce >= 0),
    gas        BIGINT NOT NULL CHECK (gas >= 0),
    fixed_fees BOOLEAN NOT NULL,
    tip_cap    NUMERIC(78, 0) CHECK (tip_cap >= 0),
    fee_cap    NUMERIC(78, 0) CHECK (fee_cap >= 0),
    hash       TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL CHECK (status IN ('queued', 'sent', 'mined', 'failed')),
    block      BIGINT NOT NULL CHECK (block >= 0),
    gas_used   BIGINT NOT NULL CHECK (gas_used >= 0),
    gas_price  NUMERIC(78, 0) CHECK (gas_price >= 0),
    fee        NUMERIC(78, 0) CHECK (fee >= 0),
    error      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (chain, from_addr, nonce)
);
CREATE INDEX evm_sends_unfinished ON evm_sends (chain, from_addr, nonce) WHERE status IN ('queued', 'sent');

-- raw is the signed transaction's binary encoding, broadcast again when a
-- node loses it.
CREATE TABLE evm_send_attempts (
    send_id    TEXT COLLATE "C" NOT NULL REFERENCES evm_sends (id),
    n          BIGINT NOT NULL CHECK (n >= 1),
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    tip_cap    NUMERIC(78, 0) NOT NULL CHECK (tip_cap >= 0),
    fee_cap    NUMERIC(78, 0) NOT NULL CHECK (fee_cap >= 0),
    raw        BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (send_id, n)
);
