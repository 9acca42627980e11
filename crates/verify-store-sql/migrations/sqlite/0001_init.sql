-- verify-store-sql schema v1 (SQLite; foreign keys must be on).
-- Each table keeps the columns that are looked up, constrained or ordered on, plus
-- `record`: the resource's own serde form, re-validated by verify-model on load.
-- Sids are the 16 id bytes (BLOB), times are Unix seconds, versions count writes.

CREATE TABLE verify_services (
    sid          BLOB   PRIMARY KEY,
    date_created INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    record       TEXT   NOT NULL
);
CREATE INDEX verify_services_list ON verify_services (date_created, sid);

CREATE TABLE verify_entities (
    sid          BLOB   PRIMARY KEY,
    service_sid  BLOB   NOT NULL REFERENCES verify_services (sid) ON DELETE CASCADE,
    identity     TEXT   NOT NULL,
    date_created INTEGER NOT NULL,
    record       TEXT   NOT NULL,
    CONSTRAINT verify_entities_identity_key UNIQUE (service_sid, identity)
);

CREATE TABLE verify_factors (
    sid           BLOB   PRIMARY KEY,
    service_sid   BLOB   NOT NULL,
    entity_sid    BLOB   NOT NULL REFERENCES verify_entities (sid) ON DELETE CASCADE,
    identity      TEXT   NOT NULL,
    factor_type   TEXT   NOT NULL,
    credential_id BLOB ,
    date_created  INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    record        TEXT   NOT NULL,
    CONSTRAINT verify_factors_credential_key UNIQUE (service_sid, credential_id),
    CONSTRAINT verify_factors_scope_key UNIQUE (service_sid, entity_sid, sid)
);
-- Listing (entity, date_created, sid) and the per-type quota count.
CREATE INDEX verify_factors_list ON verify_factors (entity_sid, date_created, sid);
CREATE INDEX verify_factors_type ON verify_factors (entity_sid, factor_type);

-- Every factor creation, kept after the factor is deleted (daily creation quota).
CREATE TABLE verify_factor_creations (
    entity_sid   BLOB   NOT NULL REFERENCES verify_entities (sid) ON DELETE CASCADE,
    date_created INTEGER NOT NULL,
    factor_sid   BLOB   NOT NULL,
    PRIMARY KEY (entity_sid, date_created, factor_sid)
);

CREATE TABLE verify_challenges (
    sid             BLOB   PRIMARY KEY,
    service_sid     BLOB   NOT NULL REFERENCES verify_services (sid) ON DELETE CASCADE,
    entity_sid      BLOB   REFERENCES verify_entities (sid) ON DELETE CASCADE,
    identity        TEXT,
    factor_sid      BLOB ,
    factor_type     TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    expiration_date INTEGER NOT NULL,
    date_created    INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    record          TEXT   NOT NULL,
    CONSTRAINT verify_challenges_factor_fkey FOREIGN KEY (service_sid, entity_sid, factor_sid)
        REFERENCES verify_factors (service_sid, entity_sid, sid) ON DELETE CASCADE
);
-- Listing by entity, optionally by factor (the status filter reads status and
-- expiration_date from the same scan), and the cascades.
CREATE INDEX verify_challenges_list ON verify_challenges (entity_sid, date_created, sid);
CREATE INDEX verify_challenges_by_factor ON verify_challenges (entity_sid, factor_sid, date_created, sid);
CREATE INDEX verify_challenges_by_status ON verify_challenges (entity_sid, status, expiration_date);
CREATE INDEX verify_challenges_factor ON verify_challenges (factor_sid);
CREATE INDEX verify_challenges_service ON verify_challenges (service_sid);

CREATE TABLE verify_access_tokens (
    sid          BLOB   PRIMARY KEY,
    service_sid  BLOB   NOT NULL REFERENCES verify_services (sid) ON DELETE CASCADE,
    identity     TEXT   NOT NULL,
    date_created INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    record       TEXT   NOT NULL
);
CREATE INDEX verify_access_tokens_service ON verify_access_tokens (service_sid);

CREATE TABLE verify_webhooks (
    sid          BLOB   PRIMARY KEY,
    service_sid  BLOB   NOT NULL REFERENCES verify_services (sid) ON DELETE CASCADE,
    date_created INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    record       TEXT   NOT NULL
);
CREATE INDEX verify_webhooks_list ON verify_webhooks (service_sid, date_created, sid);

-- The outbox. Sequence numbers come from one counter row that every event-writing
-- transaction updates last: its row lock orders those transactions, so sequence
-- order is commit order and a reader paging with `after` never skips an event that
-- commits later with a lower number.
CREATE TABLE verify_outbox_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER  NOT NULL
);
INSERT INTO verify_outbox_counter (id, last) VALUES (1, 0);

CREATE TABLE verify_outbox (
    sequence INTEGER PRIMARY KEY,
    record   TEXT   NOT NULL
);
