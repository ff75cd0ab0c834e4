-- Stores, their API keys, and users' TOTP enrolments and recovery codes.
-- Times are unix microseconds. Identifiers use COLLATE "C", like 0001.
CREATE TABLE stores (
    id               TEXT COLLATE "C" PRIMARY KEY,
    owner_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    name             TEXT NOT NULL,
    default_currency TEXT COLLATE "C" NOT NULL,
    settlement       TEXT NOT NULL, -- JSON: {"mode","asset"}
    created_at       BIGINT NOT NULL
);
CREATE INDEX stores_owner ON stores (owner_id, created_at);

-- Only the SHA-256 of a key is stored; prefix finds it. scopes is a
-- comma-separated list ('' for none). Revoked keys stay, so that a request
-- with one is refused as revoked rather than unknown.
CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    store_id     TEXT COLLATE "C" NOT NULL REFERENCES stores (id),
    label        TEXT NOT NULL,
    prefix       TEXT COLLATE "C" NOT NULL UNIQUE,
    hash         TEXT COLLATE "C" NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_store ON api_keys (store_id, created_at);

-- One TOTP enrolment per user. last_step is the time step of the last
-- accepted code: a code is accepted only for a later step, by a
-- compare-and-set on this column, so each code works once.
CREATE TABLE totp (
    user_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id),
    secret     TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT false,
    last_step  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Recovery code hashes at stable positions; '' marks a used code.
CREATE TABLE recovery_codes (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    hash    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, idx)
);
