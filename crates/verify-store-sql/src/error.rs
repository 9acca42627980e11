//! [`SqlStoreError`]: what opening a store or migrating its schema reports. Store
//! operations themselves return [`verify_store::StoreError`].

/// An error while connecting to the database or migrating its schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlStoreError {
    /// The connection URL or options were refused.
    #[error("invalid database connection options")]
    InvalidOptions(#[source] sqlx::Error),
    /// The database could not be reached or opened.
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    /// Applying the crate's migrations failed (nothing of the failed migration is
    /// applied: each runs in a transaction).
    #[error("schema migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The schema is migrated, but rewriting the rows an earlier release wrote in
    /// today's record shape failed: a row does not load
    /// ([`StoreError::Corrupt`](verify_store::StoreError::Corrupt), naming the row's
    /// sid) or the database failed. The batches before the failure are kept, the
    /// failed one is rolled back; calling `migrate` again continues from there.
    #[error("upgrading the records of an earlier release failed")]
    Upgrade(#[source] verify_store::StoreError),
}

/// SQLite's primary result codes of a lock another connection holds:
/// `SQLITE_BUSY` (5: another connection, or process, writes; returned once the busy
/// timeout has run out) and `SQLITE_LOCKED` (6: a conflict inside one shared cache).
/// Extended codes (`SQLITE_BUSY_SNAPSHOT` = 517, ...) carry the primary code in their
/// low byte.
const SQLITE_BUSY_CODES: [i64; 2] = [5, 6];

/// The low byte of a SQLite extended result code: its primary code.
const SQLITE_PRIMARY_CODE_MASK: i64 = 0xff;

/// PostgreSQL SQLSTATEs of faults that pass, where the statement did nothing and
/// the same operation retried later can succeed.
const PG_TRANSIENT_SQLSTATES: [&str; 7] = [
    // admin_shutdown: the server is shutting down, or the backend was terminated.
    "57P01", // crash_shutdown: another backend crashed and the server is restarting.
    "57P02", // cannot_connect_now: the server is starting up or in recovery.
    "57P03",
    // too_many_connections: every server slot is taken (other clients' pools).
    "53300", // serialization_failure: rolled back to keep transactions serializable.
    "40001", // deadlock_detected: this transaction was chosen to be rolled back.
    "40P01", // lock_not_available: a `lock_timeout` the host set ran out.
    "55P03",
];

/// The SQLSTATE class of connection exceptions (`08000`, `08003`, `08006`, ...):
/// the connection failed or was lost.
const PG_CONNECTION_EXCEPTION_CLASS: &str = "08";

/// The [`StoreError`](verify_store::StoreError) a failed sqlx call becomes:
/// [`Unavailable`](verify_store::StoreError::Unavailable) for a fault that passes
/// (see [`is_transient`]), else
/// [`Backend`](verify_store::StoreError::Backend). Both keep the sqlx error as
/// their source, which names the cause but never the connection's password (sqlx
/// errors do not carry the connect options).
pub(crate) fn store_error(error: sqlx::Error) -> verify_store::StoreError {
    if is_transient(&error) {
        verify_store::StoreError::Unavailable(Box::new(error))
    } else {
        verify_store::StoreError::Backend(Box::new(error))
    }
}

/// Whether `error` is a fault that passes: no pooled connection came free within
/// the acquire timeout (which also bounds connecting, so a refused connection ends
/// here), the pool is closing (the process is shutting down), the connection was
/// refused, reset or lost, PostgreSQL is shutting down, restarting or out of
/// connection slots, or SQLite's write lock was still held by another connection
/// when the busy timeout ran out.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Io(io) => is_transient_io(io.kind()),
        sqlx::Error::Database(db) => is_transient_database(db.as_ref()),
        _ => false,
    }
}

/// I/O errors of a connection that failed or was lost (not of a file).
const fn is_transient_io(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::UnexpectedEof
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
    )
}

fn is_transient_database(db: &dyn sqlx::error::DatabaseError) -> bool {
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return is_transient_sqlstate(pg.code());
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(is_sqlite_busy);
    }
    false
}

/// Whether a PostgreSQL SQLSTATE is one of a fault that passes.
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with(PG_CONNECTION_EXCEPTION_CLASS) || PG_TRANSIENT_SQLSTATES.contains(&code)
}

/// Whether a SQLite (extended) result code is `SQLITE_BUSY` or `SQLITE_LOCKED`.
fn is_sqlite_busy(code: i64) -> bool {
    SQLITE_BUSY_CODES.contains(&(code & SQLITE_PRIMARY_CODE_MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_connection_faults_pass() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::PoolClosed));
        for kind in [
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::BrokenPipe,
        ] {
            assert!(is_transient(&sqlx::Error::Io(std::io::Error::from(kind))));
        }
        assert!(!is_transient(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::PermissionDenied
        ))));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::WorkerCrashed));
        assert!(store_error(sqlx::Error::PoolTimedOut).is_unavailable());
        assert_eq!(store_error(sqlx::Error::RowNotFound).kind(), "backend");
    }

    #[test]
    fn postgres_shutdown_startup_and_lost_connections_pass() {
        for code in [
            "57P01", "57P02", "57P03", "53300", "08006", "08001", "40P01",
        ] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        // A unique violation, a syntax error, a missing table: retrying cannot help.
        for code in ["23505", "42601", "42P01", "XX000"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn sqlite_busy_and_locked_pass_in_every_extended_form() {
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT,
        // SQLITE_LOCKED_SHAREDCACHE.
        for code in [5, 6, 261, 517, 262] {
            assert!(is_sqlite_busy(code), "{code}");
        }
        // SQLITE_ERROR, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE.
        for code in [1, 10, 11, 13, 2067] {
            assert!(!is_sqlite_busy(code), "{code}");
        }
    }
}
