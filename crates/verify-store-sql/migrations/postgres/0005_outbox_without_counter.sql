-- verify-store-sql schema v5 (PostgreSQL): the outbox without a row every writer
-- updates.
--
-- Until v4, every event-writing transaction updated the one row of
-- `verify_outbox_counter` to number its events; that row lock ordered the commits
-- and made sequence order commit order, but it also serialized every approval (at
-- 64 clients, about 40 backends waited on it at any moment). Now a write inserts
-- its events unnumbered, with its transaction id (`txid`) and an insertion id, and
-- a read numbers the committed ones (a transaction's together, oldest transaction
-- first) under a transaction-scoped advisory lock: only that numbering pass updates
-- the counter, and numbers still only grow (PgStore's documentation, "The outbox").
-- Rows already numbered keep their numbers.
ALTER TABLE verify_outbox DROP CONSTRAINT verify_outbox_pkey;
ALTER TABLE verify_outbox ALTER COLUMN sequence DROP NOT NULL;
ALTER TABLE verify_outbox ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
ALTER TABLE verify_outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE UNIQUE INDEX verify_outbox_sequence ON verify_outbox (sequence);
CREATE INDEX verify_outbox_unnumbered ON verify_outbox (txid, id) WHERE sequence IS NULL;
