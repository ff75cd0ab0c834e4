-- The audit log: security-relevant events, append-only (no method updates
-- or deletes a row). seq is the rowid: with no deletes, each insert takes
-- max + 1, so seq follows append order without AUTOINCREMENT's extra table.
-- at is unix microseconds; detail is JSON with sorted keys, '' when empty.
CREATE TABLE audit_events (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    event  TEXT NOT NULL CHECK (event <> ''),
    actor  TEXT NOT NULL,
    ip     TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
