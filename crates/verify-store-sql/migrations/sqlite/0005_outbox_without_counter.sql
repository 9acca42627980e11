-- verify-store-sql schema v5 (SQLite): no change. On PostgreSQL v5 stops numbering
-- the outbox from a row every writer updates; on SQLite every write transaction
-- already holds the database's one write lock, so numbering from the counter row
-- costs nothing and stays. This file keeps the two schemas at one version.
SELECT 1;
