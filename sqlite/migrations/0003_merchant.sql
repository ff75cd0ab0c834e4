-- Stores, their API keys, and users' TOTP enrolments and recovery codes.
-- Times are unix microseconds.
CREATE TABLE stores (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES users (id),
    name             TEXT NOT NULL,
    default_currency TEXT NOT NULL,
    settlement       TEXT NOT NULL, -- JSON: {"mode","asset"}
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX stores_owner ON stores (owner_id, created_at);

-- Only the SHA-256 of a key is stored; prefix finds it. scopes is a
-- comma-separated list ('' for none). Revoked keys stay, so that a request
-- with one is refused as revoked rather than unknown.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    store_id     TEXT NOT NULL REFERENCES stores (id),
    label        TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_store ON api_keys (store_id, created_at);

-- One TOTP enrolment per user. last_step is the time step of the last
-- accepted code: a code is accepted only for a later step, by a
-- compare-and-set on this column, so each code works once.
CREATE TABLE totp (
    user_id    TEXT PRIMARY KEY REFERENCES users (id),
    secret     TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    last_step  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

-- Recovery code hashes at stable positions; '' marks a used code.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    hash    TEXT NOT NULL,
    PRIMARY KEY (user_id, idx)
) STRICT;
