-- Invoices, their payments, deposit addresses and router intents, the
-- outbox of invoice events, and idempotency keys. Times are unix
-- microseconds; amounts are decimal text of smallest units.
--
-- An invoice row keeps the fields queries filter and sort on as columns;
-- doc is the whole invoice.Invoice as JSON (encoding/json; amounts as
-- {"Lo","Hi"} integers, exact), read back with the columns taking
-- precedence. metadata is the merchant's JSON kept byte for byte.
CREATE TABLE invoices (
    id               TEXT PRIMARY KEY,
    store_id         TEXT NOT NULL CHECK (store_id <> ''),
    status           TEXT NOT NULL CHECK (status <> ''),
    order_id         TEXT NOT NULL,
    archived         INTEGER NOT NULL CHECK (archived IN (0, 1)),
    closed           INTEGER NOT NULL CHECK (closed IN (0, 1)),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    monitoring_until INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    metadata         TEXT NOT NULL,
    doc              TEXT NOT NULL
) STRICT;
-- Lists, newest first: by store, and across stores. Every index costs
-- each invoice's insert a page write or more, so there are no others
-- (payments are found by their primary key's invoice_id prefix, and no
-- query looks addresses up by invoice).
CREATE INDEX invoices_store_created ON invoices (store_id, created_at, id);
CREATE INDEX invoices_created ON invoices (created_at, id);
CREATE INDEX invoices_store_order ON invoices (store_id, order_id) WHERE order_id <> '';
-- The clock's work (Pending): unpaid invoices by expiry, open ones by the
-- end of their monitoring window.
CREATE INDEX invoices_new_expiry ON invoices (expires_at, id) WHERE status = 'New';
CREATE INDEX invoices_open_monitoring ON invoices (monitoring_until) WHERE closed = 0;

-- The small tables keyed by their primary key are WITHOUT ROWID: one
-- B-tree instead of a table and its key's index, a page less to write.
CREATE TABLE invoice_payments (
    invoice_id  TEXT NOT NULL REFERENCES invoices (id),
    id          TEXT NOT NULL CHECK (id <> ''),
    method      TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    status      TEXT NOT NULL,
    destination TEXT NOT NULL,
    txid        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, id)
) STRICT, WITHOUT ROWID;

-- Addresses derived for invoices. They share the derivation indexes of
-- address_indexes with deposit_addresses; idx stays below 2^31.
CREATE TABLE invoice_addresses (
    address    TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    scheme     TEXT NOT NULL,
    network    TEXT NOT NULL,
    idx        INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 2147483647),
    created_at INTEGER NOT NULL,
    UNIQUE (scheme, network, idx)
) STRICT, WITHOUT ROWID;

-- PaymentRouter intent ids (0x + 64 lower-case hex digits).
CREATE TABLE invoice_intents (
    intent_id  TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices (id)
) STRICT, WITHOUT ROWID;

-- The outbox: events written in the transaction of the change they
-- announce. AUTOINCREMENT so that a seq is never handed out twice, even
-- after delivered events are pruned; SQLite's single writer commits them
-- in seq order, so a reader following seq > cursor misses none. data is
-- JSON kept byte for byte.
CREATE TABLE outbox_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE CHECK (id <> ''),
    store_id   TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type <> ''),
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_events_invoice ON outbox_events (invoice_id, seq);

-- Idempotency-Key answers: status 0 while the first request is in flight.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
