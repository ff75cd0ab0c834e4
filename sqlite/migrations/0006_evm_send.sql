-- The EVM hot wallet's outgoing transactions (evm.Sender): one row per send
-- request, keyed by the caller's idempotency id, its signed attempts (the
-- first and each fee-bumped replacement, same nonce), and the next nonce of
-- each sending address. Addresses and hashes are 0x hex (addresses EIP-55);
-- wei amounts are decimal TEXT, up to 2^256-1; times are unix microseconds.
CREATE TABLE evm_nonces (
    chain      TEXT NOT NULL,
    address    TEXT NOT NULL,
    next_nonce INTEGER NOT NULL CHECK (next_nonce >= 0),
    PRIMARY KEY (chain, address)
) STRICT;

-- hash is the current attempt's, or the mined one's; '' before the first.
-- tip_cap and fee_cap are the current attempt's ('' before it, unless the
-- caller fixed the fees); gas_price and fee are '' until final.
CREATE TABLE evm_sends (
    id         TEXT PRIMARY KEY,
    chain      TEXT NOT NULL,
    from_addr  TEXT NOT NULL,
    path       TEXT NOT NULL,
    to_addr    TEXT NOT NULL,
    value      TEXT NOT NULL,
    data       BLOB NOT NULL,
    asset      TEXT NOT NULL,
    nonce      INTEGER NOT NULL CHECK (nonce >= 0),
    gas        INTEGER NOT NULL CHECK (gas >= 0),
    fixed_fees INTEGER NOT NULL CHECK (fixed_fees IN (0, 1)),
    tip_cap    TEXT NOT NULL,
    fee_cap    TEXT NOT NULL,
    hash       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'mined', 'failed')),
    block      INTEGER NOT NULL CHECK (block >= 0),
    gas_used   INTEGER NOT NULL CHECK (gas_used >= 0),
    gas_price  TEXT NOT NULL,
    fee        TEXT NOT NULL,
    error      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (chain, from_addr, nonce)
) STRICT;
CREATE INDEX evm_sends_unfinished ON evm_sends (chain, from_addr, nonce) WHERE status IN ('queued', 'sent');

-- raw is the signed transaction's binary encoding, broadcast again when a
-- node loses it.
CREATE TABLE evm_send_attempts (
    send_id    TEXT NOT NULL REFERENCES evm_sends (id),
    n          INTEGER NOT NULL CHECK (n >= 1),
    hash       TEXT NOT NULL UNIQUE,
    tip_cap    TEXT NOT NULL,
    fee_cap    TEXT NOT NULL,
    raw        BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (send_id, n)
) STRICT;
