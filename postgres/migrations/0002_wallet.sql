-- Users, sessions and deposit addresses. Emails are unique case-insensitively
-- through email_lower, which the adapter fills with the trimmed, lowercased
-- email. Times are unix microseconds. Identifiers use COLLATE "C", like 0001.
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT NOT NULL,
    email_lower   TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, -- argon2id PHC string
    created_at    BIGINT NOT NULL
);

-- Only the SHA-256 of a session's bearer token is stored.
CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- The next unused derivation index per scheme and network. Allocation is
-- one upsert, so concurrent processes never share an index.
CREATE TABLE address_indexes (
    scheme     TEXT COLLATE "C" NOT NULL,
    network    TEXT COLLATE "C" NOT NULL,
    next_index BIGINT NOT NULL,
    PRIMARY KEY (scheme, network)
);

-- idx stays below 2^31: BIP32 non-hardened child indexes.
CREATE TABLE deposit_addresses (
    address    TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    scheme     TEXT COLLATE "C" NOT NULL,
    network    TEXT COLLATE "C" NOT NULL,
    idx        BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 2147483647),
    created_at BIGINT NOT NULL,
    UNIQUE (scheme, network, idx)
);
CREATE INDEX deposit_addresses_user ON deposit_addresses (user_id, created_at);
