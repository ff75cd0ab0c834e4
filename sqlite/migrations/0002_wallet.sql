-- Users, sessions and deposit addresses. Emails are unique case-insensitively
-- through email_lower, which the adapter fills with the trimmed, lowercased
-- email. Times are unix microseconds.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, -- argon2id PHC string
    created_at    INTEGER NOT NULL
) STRICT;

-- Only the SHA-256 of a session's bearer token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);

-- The next unused derivation index per scheme and network. Allocation is
-- one upsert, so concurrent processes never share an index.
CREATE TABLE address_indexes (
    scheme     TEXT NOT NULL,
    network    TEXT NOT NULL,
    next_index INTEGER NOT NULL,
    PRIMARY KEY (scheme, network)
) STRICT;

-- idx stays below 2^31: BIP32 non-hardened child indexes.
CREATE TABLE deposit_addresses (
    address    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    scheme     TEXT NOT NULL,
    network    TEXT NOT NULL,
    idx        INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 2147483647),
    created_at INTEGER NOT NULL,
    UNIQUE (scheme, network, idx)
) STRICT;
CREATE INDEX deposit_addresses_user ON deposit_addresses (user_id, created_at);
