//! [`SqliteStore`]: the embedded store for one process that must survive restarts.

use std::path::Path;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::codec::Codec;
use crate::error::SqlStoreError;
use crate::options::StoreOptions;

/// A [`Store`](verify_store::Store) in one SQLite database file.
///
/// Opened in WAL mode with foreign keys on, `synchronous = NORMAL` and a busy
/// timeout ([`StoreOptions::busy_timeout`], 5 s by default). Every transaction and
/// every write goes through **one** writer connection, so they run one after the
/// other and each compare-and-set is trivially atomic within the process. Plain
/// reads outside a transaction (fetches, lists, counts, the outbox peek) go to a
/// pool of reader connections ([`StoreOptions::sqlite_readers`], 4 by default),
/// which WAL lets run beside the writer: each read sees every transaction committed
/// before it began, so a read after a write in the same task sees the write.
///
/// Several processes (or several stores) may open one file: every write
/// transaction begins with `BEGIN IMMEDIATE`, taking SQLite's write lock before it
/// reads, so writers queue on the lock (for up to the busy timeout) instead of
/// failing when a snapshot they read turns stale (`SQLITE_BUSY_SNAPSHOT`, which no
/// busy timeout waits out); readers never wait for writers (WAL). A write that
/// still cannot take the lock in time, or an operation that finds no free
/// connection within [`StoreOptions::acquire_timeout`], fails with
/// [`StoreError::Unavailable`](StoreError::Unavailable). Writes of all
/// processes then run one at a time: many processes with much to write share
/// [`PgStore`](crate::PgStore).
///
/// Clones share the pools.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The writer: one connection, every transaction and write.
    pub(crate) pool: SqlitePool,
    /// Plain reads; the writer itself when there are no readers (or in memory).
    pub(crate) readers: SqlitePool,
    pub(crate) codec: Codec,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` with the default
    /// [`StoreOptions`]. Call [`SqliteStore::migrate`] before first use.
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the file cannot be opened or created.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqlStoreError> {
        Self::open_with_options(path, &StoreOptions::new()).await
    }

    /// Opens (creating if missing) the database file at `path`, waiting for the
    /// database as `options` say (its acquire and busy timeouts; its
    /// readers; its `max_connections` is for PostgreSQL). Call
    /// [`SqliteStore::migrate`] before first use.
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the file cannot be opened or created.
    pub async fn open_with_options(
        path: impl AsRef<Path>,
        options: &StoreOptions,
    ) -> Result<Self, SqlStoreError> {
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.busy_timeout());
        Self::open_with_pool(connect, options).await
    }

    /// Opens with the host's own connect options (their busy timeout, sqlx's
    /// default 5 s unless set) and the default acquire timeout; foreign keys are
    /// switched on whatever they say (the cascades depend on them). Keep WAL mode
    /// if several processes open the file: in another journal mode readers wait for
    /// writers.
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the database cannot be opened.
    pub async fn open_with(options: SqliteConnectOptions) -> Result<Self, SqlStoreError> {
        Self::open_with_pool(options, &StoreOptions::new()).await
    }

    async fn open_with_pool(
        connect: SqliteConnectOptions,
        options: &StoreOptions,
    ) -> Result<Self, SqlStoreError> {
        let connect = connect.foreign_keys(true);
        // The writer connects first: it creates the file and switches it to WAL,
        // which the readers then find.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(options.acquire_timeout())
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect.clone())
            .await
            .map_err(SqlStoreError::Connect)?;
        let readers = if options.sqlite_readers() == 0 || in_memory(&connect) {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(options.sqlite_readers())
                .min_connections(0)
                .acquire_timeout(options.acquire_timeout())
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(connect)
                .await
                .map_err(SqlStoreError::Connect)?
        };
        Ok(Self {
            pool,
            readers,
            codec: Codec::default(),
        })
    }

    /// The pool plain reads use (the writer when there are no readers).
    pub(crate) const fn read_pool(&self) -> &SqlitePool {
        &self.readers
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

    /// Closes the pools, waiting for their connections to finish their work (the
    /// writer last, so the WAL is checkpointed into the file when it closes).
    pub async fn close(&self) {
        self.readers.close().await;
        self.pool.close().await;
    }
}

/// Whether `connect` opens a database in memory (`:memory:`, sqlx's
/// `sqlite::memory:` or `mode=memory`), which is private to its connection (or, in
/// a shared cache, locked table by table): readers would see an empty database of
/// their own, or contend with the writer, so such a store reads through its writer.
fn in_memory(connect: &SqliteConnectOptions) -> bool {
    let name = connect.get_filename().to_string_lossy();
    name == ":memory:" || name.starts_with("file:sqlx-in-memory-") || name.contains("mode=memory")
}

crate::imp::store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    // Takes the write lock up front: a deferred transaction that reads, then writes
    // after another connection committed fails at once with SQLITE_BUSY_SNAPSHOT.
    begin = "BEGIN IMMEDIATE",
    for_update = "",
    for_no_key_update = "",
    skip_locked = ""
);

impl SqliteStore {
    /// Appends outbox `records` inside `tx`, numbered from the counter row. The
    /// counter costs nothing here: every write transaction already holds the
    /// database's one write lock, so numbering in the writer is commit order.
    async fn append_outbox(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        records: &[String],
    ) -> Result<(), StoreError> {
        let count = i64::try_from(records.len())
            .map_err(|_| invalid(Resource::Service, "too many events in one write"))?;
        let last: i64 = sqlx::query_scalar(
            "UPDATE verify_outbox_counter SET last = last + $1 WHERE id = 1 RETURNING last",
        )
        .bind(count)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
        let mut sequence = last.saturating_sub(count);
        for record in records {
            sequence = sequence.saturating_add(1);
            sqlx::query("INSERT INTO verify_outbox (sequence, record) VALUES ($1, $2)")
                .bind(sequence)
                .bind(record)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Nothing to do: events are numbered when they are written.
    #[expect(
        clippy::unused_async,
        reason = "the same call as PgStore's, which numbers here"
    )]
    async fn number_outbox(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
