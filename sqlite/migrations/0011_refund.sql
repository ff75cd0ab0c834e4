-- Refunds: money a store gives back to an invoice's payer, held in the
-- ledger (refund:<id>:<ASSET>) until the payer claims it. Amounts are
-- decimal text of smallest units; times are unix microseconds. version
-- counts the changes: updates are compare-and-set on it. The live refunds
-- (state <> 'Cancelled') of an invoice and asset never add up to more than
-- the invoice received in it: checked in the writing transaction (SQLite's
-- one writer serialises them).
CREATE TABLE refunds (
    id            TEXT PRIMARY KEY CHECK (id <> ''),
    store_id      TEXT NOT NULL CHECK (store_id <> ''),
    invoice_id    TEXT NOT NULL CHECK (invoice_id <> ''),
    variant       TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    asset         TEXT NOT NULL,
    amount        TEXT NOT NULL,
    currency      TEXT NOT NULL,
    fiat_amount   TEXT NOT NULL,
    value_asset   TEXT NOT NULL,
    value         TEXT NOT NULL,
    rate          TEXT NOT NULL,
    subtract_bps  INTEGER NOT NULL CHECK (subtract_bps BETWEEN 0 AND 10000),
    state         TEXT NOT NULL,
    booked        INTEGER NOT NULL CHECK (booked IN (0, 1)),
    attempt       INTEGER NOT NULL CHECK (attempt >= 0),
    claim         TEXT NOT NULL,
    claim_user    TEXT NOT NULL,
    claim_address TEXT NOT NULL,
    withdrawal_id TEXT NOT NULL,
    txid          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
CREATE INDEX refunds_invoice ON refunds (invoice_id, asset);
CREATE INDEX refunds_store ON refunds (store_id, created_at, id);
CREATE INDEX refunds_created ON refunds (created_at, id);
-- Recover's work: refunds whose ledger transfers are not posted yet.
CREATE INDEX refunds_unbooked ON refunds (updated_at) WHERE booked = 0;
