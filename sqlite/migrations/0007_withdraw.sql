-- Withdrawals: a user's request to send an asset out, held in the ledger
-- (pending transfer wd:<id>:hold) until its chain transaction confirms.
-- Amounts are decimal text of smallest units; times are unix microseconds.
CREATE TABLE withdrawals (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    asset      TEXT NOT NULL,
    chain      TEXT NOT NULL,
    to_address TEXT NOT NULL,
    amount     TEXT NOT NULL,
    status     TEXT NOT NULL,
    txid       TEXT NOT NULL,
    fee        TEXT NOT NULL,
    fee_asset  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX withdrawals_user ON withdrawals (user_id, created_at);
CREATE INDEX withdrawals_chain_status ON withdrawals (chain, status, created_at);
