-- Webhooks: a store's endpoints for event notifications (BTCPay
-- Greenfield's), their deliveries, and the dispatcher's position in the
-- invoice outbox. Times are unix microseconds.
CREATE TABLE webhooks (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    store_id             TEXT NOT NULL,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL,
    automatic_redelivery BOOLEAN NOT NULL,
    everything           BOOLEAN NOT NULL,
    events               TEXT NOT NULL, -- JSON array of event names
    created_at           BIGINT NOT NULL
);
CREATE INDEX webhooks_store ON webhooks (store_id, created_at);

-- One row per event sent (or to send) to a webhook; body is the exact
-- bytes sent. A Pending delivery is due at next_attempt_at, which holds a
-- sender's lease while an attempt is in flight.
CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    store_id        TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    http_code       INTEGER NOT NULL,
    error           TEXT NOT NULL,
    body            BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    next_attempt_at BIGINT NOT NULL,
    redelivery      BOOLEAN NOT NULL,
    original_id     TEXT NOT NULL
);
-- An event is fanned out to a webhook once; redeliveries are extra rows.
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id) WHERE NOT redelivery;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'Pending';

-- The Seq of the last outbox event fanned out, per outbox.
CREATE TABLE webhook_cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO webhook_cursors (name, seq) VALUES ('invoice', 0);
