-- Withdrawals the platform sends on a service's behalf (a store's crypto
-- payout, a refund to an outside address) carry their origin; a user's
-- own withdrawal has ''. The txid index finds the withdrawals a batched
-- transaction pays.
ALTER TABLE withdrawals ADD COLUMN origin TEXT NOT NULL DEFAULT '';
CREATE INDEX withdrawals_txid ON withdrawals (txid);
