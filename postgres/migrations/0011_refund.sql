-- Refunds: money a store gives back to an invoice's payer, held in the
-- ledger (refund:<id>:<ASSET>) until the payer claims it. Times are unix
-- microseconds. version counts the changes: updates are compare-and-set
-- on it. The live refunds (state <> 'Cancelled') of an invoice and asset
-- never add up to more than the invoice received in it: checked in the
-- writing transaction under a transaction-scoped advisory lock per
-- invoice and asset.
CREATE TABLE refunds (
    id            TEXT COLLATE "C" PRIMARY KEY CHECK (id <> ''),
    store_id      TEXT NOT NULL CHECK (store_id <> ''),
    invoice_id    TEXT NOT NULL CHECK (invoice_id <> ''),
    variant       TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    asset         TEXT NOT NULL,
    amount        NUMERIC(39, 0) NOT NULL,
    currency      TEXT NOT NULL,
    fiat_amount   NUMERIC(39, 0) NOT NULL,
    value_asset   TEXT NOT NULL,
    value         NUMERIC(39, 0) NOT NULL,
    rate          TEXT NOT NULL,
    subtract_bps  INTEGER NOT NULL CHECK (subtract_bps BETWEEN 0 AND 10000),
    state         TEXT NOT NULL,
    booked        BOOLEAN NOT NULL,
    attempt       BIGINT NOT NULL CHECK (attempt >= 0),
    claim         TEXT NOT NULL,
    claim_user    TEXT NOT NULL,
    claim_address TEXT NOT NULL,
    withdrawal_id TEXT NOT NULL,
    txid          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL CHECK (version >= 1)
);
CREATE INDEX refunds_invoice ON refunds (invoice_id, asset);
CREATE INDEX refunds_store ON refunds (store_id, created_at, id);
CREATE INDEX refunds_created ON refunds (created_at, id);
-- Recover's work: refunds whose ledger transfers are not posted yet.
CREATE INDEX refunds_unbooked ON refunds (updated_at) WHERE NOT booked;
