//! [`StoreOptions`]: how long a store waits for the database, and its pool size.

use std::time::Duration;

/// How long an operation waits for a pooled connection by default
/// ([`StoreOptions::acquire_timeout`]).
///
/// Five seconds: long enough to ride out a burst that keeps every connection busy
/// for a moment, or a database failing over, and short enough that during an outage
/// a request is answered "unavailable, retry" well before an HTTP client or a load
/// balancer gives up on it (commonly 10 to 60 s), instead of holding the caller for
/// sqlx's default of 30 s.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a SQLite statement waits for a lock another connection (another
/// process on the same file) holds, by default ([`StoreOptions::busy_timeout`]).
///
/// Five seconds, as the acquire timeout: a write transaction holds the lock for
/// milliseconds, so a wait this long means another process is stuck or overloaded,
/// and the operation is reported unavailable rather than kept waiting.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL pool's size by default ([`StoreOptions::max_connections`]).
///
/// Sixteen: enough for a busy process's concurrent requests (each holds a
/// connection only for its statements), while a handful of processes stay far below
/// PostgreSQL's default `max_connections` of 100.
pub const DEFAULT_PG_MAX_CONNECTIONS: u32 = 16;

/// The SQLite store's reader connections by default ([`StoreOptions::sqlite_readers`]).
///
/// Four: WAL lets readers run beside the one writer, so plain reads (fetches,
/// lists, counts, the outbox peek) stop queueing behind writes; four covers the
/// cores of a small host (reads are CPU-bound in SQLite's page cache), and each
/// costs one open file and its page cache. `benches/approvals.rs` measures it
/// (docs/performance.md, "SQLite readers").
pub const DEFAULT_SQLITE_READERS: u32 = 4;

/// How a [`SqliteStore`](crate::SqliteStore) or [`PgStore`](crate::PgStore) uses its
/// database: the bounded waits that turn an outage into a prompt
/// [`StoreError::Unavailable`](verify_store::StoreError::Unavailable), and the pool
/// size.
///
/// ```
/// use std::time::Duration;
/// use verify_store_sql::StoreOptions;
///
/// let options = StoreOptions::new()
///     .with_acquire_timeout(Duration::from_secs(2))
///     .with_max_connections(32);
/// assert_eq!(options.acquire_timeout(), Duration::from_secs(2));
/// assert_eq!(options.busy_timeout(), verify_store_sql::DEFAULT_BUSY_TIMEOUT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    acquire_timeout: Duration,
    busy_timeout: Duration,
    max_connections: u32,
    sqlite_readers: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl StoreOptions {
    /// The defaults: [`DEFAULT_ACQUIRE_TIMEOUT`], [`DEFAULT_BUSY_TIMEOUT`],
    /// [`DEFAULT_PG_MAX_CONNECTIONS`], [`DEFAULT_SQLITE_READERS`].
    #[must_use]
    pub const fn new() -> Self {
        Self {
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_connections: DEFAULT_PG_MAX_CONNECTIONS,
            sqlite_readers: DEFAULT_SQLITE_READERS,
        }
    }

    /// SQLite only: how many connections serve plain reads beside the one writer
    /// (WAL mode). 0 sends every operation through the writer, one at a time.
    /// A database in memory always has 0: each connection would open its own.
    #[must_use]
    pub const fn with_sqlite_readers(mut self, readers: u32) -> Self {
        self.sqlite_readers = readers;
        self
    }

    /// See [`with_sqlite_readers`](Self::with_sqlite_readers).
    #[must_use]
    pub const fn sqlite_readers(&self) -> u32 {
        self.sqlite_readers
    }

    /// How long an operation waits for a pooled connection, including connecting
    /// one (sqlx retries a refused connection until then). When it runs out, the
    /// operation fails with
    /// [`StoreError::Unavailable`](verify_store::StoreError::Unavailable).
    #[must_use]
    pub const fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// SQLite only: how long a statement waits for a lock another connection or
    /// process holds (SQLite's busy timeout). When it runs out, the operation fails
    /// with [`StoreError::Unavailable`](verify_store::StoreError::Unavailable).
    #[must_use]
    pub const fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// PostgreSQL only: the most connections the pool opens (at least 1). A SQLite
    /// store has one writer and [`sqlite_readers`](Self::sqlite_readers) readers
    /// (see [`SqliteStore`](crate::SqliteStore)).
    #[must_use]
    pub const fn with_max_connections(mut self, max: u32) -> Self {
        self.max_connections = if max == 0 { 1 } else { max };
        self
    }

    /// See [`with_acquire_timeout`](Self::with_acquire_timeout).
    #[must_use]
    pub const fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// See [`with_busy_timeout`](Self::with_busy_timeout).
    #[must_use]
    pub const fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// See [`with_max_connections`](Self::with_max_connections).
    #[must_use]
    pub const fn max_connections(&self) -> u32 {
        self.max_connections
    }
}
