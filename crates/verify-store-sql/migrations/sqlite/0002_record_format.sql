-- verify-store-sql schema v2 (SQLite): the shape of each row's `record`.
--
-- Release 0.1.0 stored challenges flat (factor_type, entity_sid, identity,
-- factor_sid, details and a `passkey` of JSON trees) and a passkey factor's
-- registration as the WebAuthn crate's JSON; today's records hold a typed `subject`
-- and `kind`. `record_format` says which shape a row holds: 1 is release 0.1.0's
-- (every row that exists when this runs, and every row a 0.1.0 process still
-- inserts), 2 is today's, which every write of this release stores. After the
-- migration the store rewrites every format-1 row in today's shape (see
-- `upgrade_records` in src/imp.rs).
--
-- Services, entities, access tokens, webhooks and outbox events have the same serde
-- form in release 0.1.0 and today, so they get no column.
ALTER TABLE verify_challenges ADD COLUMN record_format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE verify_factors ADD COLUMN record_format INTEGER NOT NULL DEFAULT 1;

-- The rows still to upgrade: empty once the upgrade is done, so the check every
-- `migrate()` makes afterwards costs one index probe, not a table scan.
CREATE INDEX verify_challenges_format_1 ON verify_challenges (sid) WHERE record_format = 1;
CREATE INDEX verify_factors_format_1 ON verify_factors (sid) WHERE record_format = 1;
