//! [`SqliteStore`]: the embedded store for one process that must survive restarts.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::codec::Codec;
use crate::error::SqlStoreError;

/// A [`Store`](verify_store::Store) in one SQLite database file.
///
/// Opened in WAL mode with foreign keys on, `synchronous = NORMAL` and a 5 s busy
/// timeout, through a pool of **one** connection: every operation (and so every
/// transaction) runs after the previous one, which makes each compare-and-set
/// trivially atomic within the process. Another process opening the same file waits
/// on SQLite's lock (busy timeout) rather than corrupting anything, but the intended
/// use is one process; many processes share [`PgStore`](crate::PgStore).
///
/// Clones share the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    pub(crate) codec: Codec,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`. Call
    /// [`SqliteStore::migrate`] before first use.
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the file cannot be opened or created.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqlStoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::open_with(options).await
    }

    /// Opens with the host's own options; foreign keys are switched on whatever
    /// they say (the cascades depend on them).
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the database cannot be opened.
    pub async fn open_with(options: SqliteConnectOptions) -> Result<Self, SqlStoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.foreign_keys(true))
            .await
            .map_err(SqlStoreError::Connect)?;
        Ok(Self {
            pool,
            codec: Codec::default(),
        })
    }

    /// Applies the crate's migrations the database lacks, then rewrites every row
    /// release 0.1.0 wrote in today's record shape (idempotent: a database already
    /// upgraded costs one index probe per table).
    ///
    /// Set the sealer ([`with_sealer`](Self::with_sealer)) before migrating: the
    /// upgrade opens and re-seals secrets with it.
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`]; [`SqlStoreError::Upgrade`] when a row does not
    /// load (run again once it is mended: the upgrade continues).
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        crate::migrations::sqlite()
            .run(&self.pool)
            .await
            .map_err(SqlStoreError::Migrate)?;
        self.upgrade_records().await.map_err(SqlStoreError::Upgrade)
    }

    /// The pool, for the host's own queries and backups. Writing the store's tables
    /// directly bypasses its checks.
    #[must_use]
    pub const fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, waiting for the connection to finish its work.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::imp::store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    for_update = "",
    for_no_key_update = "",
    skip_locked = ""
);
