-- Webhooks: a store's endpoints for event notifications (BTCPay
-- Greenfield's), their deliveries, and the dispatcher's position in the
-- invoice outbox. Times are unix microseconds.
CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    store_id             TEXT NOT NULL,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    enabled              INTEGER NOT NULL,
    automatic_redelivery INTEGER NOT NULL,
    everything           INTEGER NOT NULL,
    events               TEXT NOT NULL, -- JSON array of event names
    created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_store ON webhooks (store_id, created_at);

-- One row per event sent (or to send) to a webhook; body is the exact
-- bytes sent. A Pending delivery is due at next_attempt_at, which holds a
-- sender's lease while an attempt is in flight.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    store_id        TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    http_code       INTEGER NOT NULL,
    error           TEXT NOT NULL,
    body            BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    next_attempt_at INTEGER NOT NULL,
    redelivery      INTEGER NOT NULL,
    original_id     TEXT NOT NULL
) STRICT;
-- An event is fanned out to a webhook once; redeliveries are extra rows.
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id) WHERE redelivery = 0;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'Pending';

-- The Seq of the last outbox event fanned out, per outbox.
CREATE TABLE webhook_cursors (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT;
INSERT INTO webhook_cursors (name, seq) VALUES ('invoice', 0);
