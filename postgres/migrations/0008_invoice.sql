-- Invoices, their payments, deposit addresses and router intents, the
-- outbox of invoice events, and idempotency keys. Times are unix
-- microseconds. Identifiers use COLLATE "C", like 0001, so that ordering
-- by id is by bytes, as in SQLite.
--
-- An invoice row keeps the fields queries filter and sort on as columns;
-- doc is the whole invoice.Invoice as JSON (encoding/json; amounts as
-- {"Lo","Hi"} integers, exact), read back with the columns taking
-- precedence. doc and metadata are TEXT, not JSONB, so that they come back
-- byte for byte.
CREATE TABLE invoices (
    id               TEXT COLLATE "C" PRIMARY KEY,
    store_id         TEXT COLLATE "C" NOT NULL CHECK (store_id <> ''),
    status           TEXT COLLATE "C" NOT NULL CHECK (status <> ''),
    order_id         TEXT COLLATE "C" NOT NULL,
    archived         BOOLEAN NOT NULL,
    closed           BOOLEAN NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    monitoring_until BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL CHECK (version >= 1),
    metadata         TEXT NOT NULL,
    doc              TEXT NOT NULL
);
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
CREATE INDEX invoices_open_monitoring ON invoices (monitoring_until) WHERE NOT closed;

CREATE TABLE invoice_payments (
    invoice_id  TEXT COLLATE "C" NOT NULL REFERENCES invoices (id),
    id          TEXT COLLATE "C" NOT NULL CHECK (id <> ''),
    method      TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      NUMERIC(39, 0) NOT NULL,
    status      TEXT NOT NULL,
    destination TEXT NOT NULL,
    txid        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, id)
);

-- Addresses derived for invoices. They share the derivation indexes of
-- address_indexes with deposit_addresses; idx stays below 2^31.
CREATE TABLE invoice_addresses (
    address    TEXT COLLATE "C" PRIMARY KEY,
    invoice_id TEXT COLLATE "C" NOT NULL REFERENCES invoices (id),
    scheme     TEXT COLLATE "C" NOT NULL,
    network    TEXT COLLATE "C" NOT NULL,
    idx        BIGINT NOT NULL CHECK (idx BETWEEN 0 AND 2147483647),
    created_at BIGINT NOT NULL,
    UNIQUE (scheme, network, idx)
);

-- PaymentRouter intent ids (0x + 64 lower-case hex digits).
CREATE TABLE invoice_intents (
    intent_id  TEXT COLLATE "C" PRIMARY KEY,
    invoice_id TEXT COLLATE "C" NOT NULL REFERENCES invoices (id)
);

-- The outbox: events written in the transaction of the change they
-- announce. The identity hands out seq at insert, not at commit, so
-- writers take a transaction-level advisory lock (outboxLock in
-- invoice.go) right before inserting events and hold it to commit: appends
-- commit in seq order, and a reader following seq > cursor misses none.
-- data is JSON kept byte for byte.
CREATE TABLE outbox_events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL UNIQUE CHECK (id <> ''),
    store_id   TEXT COLLATE "C" NOT NULL,
    invoice_id TEXT COLLATE "C" NOT NULL,
    type       TEXT NOT NULL CHECK (type <> ''),
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_events_invoice ON outbox_events (invoice_id, seq);

-- Idempotency-Key answers: status 0 while the first request is in flight.
CREATE TABLE idempotency_keys (
    scope        TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
