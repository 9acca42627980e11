//! The schema migrations shipped with the crate, embedded at compile time.
//!
//! Versioned: each release appends its `000N_….sql` to the lists below and
//! `migrate` applies only what a database lacks (sqlx's
//! `_sqlx_migrations` table records what was applied, with checksums, so an edited
//! migration is refused instead of silently diverging).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` of each migration of one backend.
type Source = (i64, &'static str, &'static str);

#[cfg(feature = "postgres")]
const POSTGRES: &[Source] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "record format",
        include_str!("../migrations/postgres/0002_record_format.sql"),
    ),
    (
        3,
        "entities list",
        include_str!("../migrations/postgres/0003_entities_list.sql"),
    ),
    (
        4,
        "request indexes",
        include_str!("../migrations/postgres/0004_request_indexes.sql"),
    ),
    (
        5,
        "outbox without counter",
        include_str!("../migrations/postgres/0005_outbox_without_counter.sql"),
    ),
    (
        6,
        "retention indexes",
        include_str!("../migrations/postgres/0006_retention_indexes.sql"),
    ),
    (
        7,
        "pending indexes",
        include_str!("../migrations/postgres/0007_pending_indexes.sql"),
    ),
];

#[cfg(feature = "sqlite")]
const SQLITE: &[Source] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "record format",
        include_str!("../migrations/sqlite/0002_record_format.sql"),
    ),
    (
        3,
        "entities list",
        include_str!("../migrations/sqlite/0003_entities_list.sql"),
    ),
    (
        4,
        "request indexes",
        include_str!("../migrations/sqlite/0004_request_indexes.sql"),
    ),
    (
        5,
        "outbox without counter",
        include_str!("../migrations/sqlite/0005_outbox_without_counter.sql"),
    ),
    (
        6,
        "retention indexes",
        include_str!("../migrations/sqlite/0006_retention_indexes.sql"),
    ),
    (
        7,
        "pending indexes",
        include_str!("../migrations/sqlite/0007_pending_indexes.sql"),
    ),
];

fn migrator(sources: &[Source]) -> Migrator {
    let migrations: Vec<Migration> = sources
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

#[cfg(feature = "postgres")]
pub(crate) fn postgres() -> Migrator {
    migrator(POSTGRES)
}

#[cfg(feature = "sqlite")]
pub(crate) fn sqlite() -> Migrator {
    migrator(SQLITE)
}

/// The newest schema version this release ships (the same for both backends).
///
/// 1 is release 0.1.0's schema; 2 adds `record_format` to factors and challenges,
/// after which `migrate` rewrites the rows 0.1.0 wrote in today's record shape; 3
/// indexes a service's entities for listing; 4 indexes an entity's challenges and
/// factors by `(service_sid, entity_sid, ...)` in list order, so every request's
/// lookup reads only its answer; 5 numbers PostgreSQL's outbox when it is read
/// instead of in every writing transaction (no change on SQLite); 6 indexes
/// challenges by expiration date and factor creation times by date, for
/// `prune_expired`; 7 indexes the challenges whose stored status is pending (partial
/// indexes), for `Status=pending` lists.
pub const SCHEMA_VERSION: i64 = 7;
