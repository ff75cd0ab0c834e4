-- Settlement profiles live in stores.settlement (JSON, package settle);
-- this index tells the scheduler which stores to look at: those paid out
-- on a schedule (instant, daily) and those with a pending destination
-- change, by when it takes effect (unix microseconds; NULL: none). It is
-- written with stores.settlement, in one transaction, by UpdateSettlement.
CREATE TABLE settlement_schedules (
    store_id     TEXT COLLATE "C" PRIMARY KEY REFERENCES stores (id),
    schedule     TEXT NOT NULL CHECK (schedule IN ('manual', 'instant', 'daily')),
    pending_at   BIGINT
);
CREATE INDEX settlement_schedules_scheduled ON settlement_schedules (store_id) WHERE schedule <> 'manual';
CREATE INDEX settlement_schedules_pending ON settlement_schedules (pending_at) WHERE pending_at IS NOT NULL;
