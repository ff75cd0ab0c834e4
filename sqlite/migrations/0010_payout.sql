-- Payouts: a store's balance paid out by a bank rail or on chain, held in
-- the ledger (pending transfer po:<id>:hold) until the rail reports the
-- outcome. Amounts are decimal text of smallest units; times are unix
-- microseconds (submitted_at 0: no rail has accepted it yet). version
-- counts the changes: updates are compare-and-set on it.
CREATE TABLE payouts (
    id                 TEXT PRIMARY KEY CHECK (id <> ''),
    store_id           TEXT NOT NULL CHECK (store_id <> ''),
    asset              TEXT NOT NULL,
    amount             TEXT NOT NULL,
    method             TEXT NOT NULL,
    rail               TEXT NOT NULL,
    creditor_name      TEXT NOT NULL,
    creditor_iban      TEXT NOT NULL,
    creditor_bic       TEXT NOT NULL,
    creditor_account   TEXT NOT NULL,
    creditor_bank_code TEXT NOT NULL,
    creditor_country   TEXT NOT NULL,
    address            TEXT NOT NULL,
    reference          TEXT NOT NULL,
    state              TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    approved_by        TEXT NOT NULL,
    reason             TEXT NOT NULL,
    ref                TEXT NOT NULL,
    submitted_at       INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    version            INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
CREATE INDEX payouts_store ON payouts (store_id, created_at, id);
CREATE INDEX payouts_state ON payouts (state, created_at, id);
CREATE INDEX payouts_created ON payouts (created_at, id);
-- Dispatch's retries: claimed payouts no rail has accepted.
CREATE INDEX payouts_unaccepted ON payouts (updated_at) WHERE state = 'InProgress' AND submitted_at = 0;
