-- The audit log: security-relevant events, append-only (no method updates
-- or deletes a row). seq comes from an identity, so it follows the order
-- of inserts. at is unix microseconds; detail is JSON with sorted keys, ''
-- when empty. actor uses COLLATE "C", like the identifiers of 0001.
CREATE TABLE audit_events (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    event  TEXT NOT NULL CHECK (event <> ''),
    actor  TEXT COLLATE "C" NOT NULL,
    ip     TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
