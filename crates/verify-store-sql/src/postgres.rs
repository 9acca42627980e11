//! [`PgStore`]: the store many server processes share.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::codec::Codec;
use crate::error::SqlStoreError;
use crate::options::StoreOptions;

/// The pool `options` describe.
fn pool_options(options: &StoreOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(options.max_connections().max(1))
        .acquire_timeout(options.acquire_timeout())
}

/// A [`Store`](verify_store::Store) in PostgreSQL (13 or later).
///
/// Every compare-and-set is one `UPDATE … WHERE sid = $1 AND version = $2`, which
/// PostgreSQL serializes on the row lock at READ COMMITTED: of two processes
/// approving one challenge, the second re-reads the row after the first commits,
/// matches nothing and gets [`StoreError::Conflict`](StoreError).
/// Factor creation locks the entity row so quotas hold across processes.
///
/// # The outbox
///
/// A write appends its events unnumbered, with its transaction's id; no row is
/// shared by every writer, so event-writing transactions do not wait for each
/// other. A read of the outbox ([`peek_events`](verify_store::Store::peek_events),
/// [`drain_events`](verify_store::Store::drain_events)) first numbers the committed
/// events that have no number yet (up to 10,000 per read), one reader at a time,
/// each after every number given before. So numbers only grow: a reader paging
/// with `after`, or acknowledging through a number, never skips an event numbered
/// later, as with the counter row every writer used to update. The order they
/// give: every event of one write together and in write order; an event of a write
/// that committed before another began, before that one's (a challenge's
/// `challenge.approved` after its creation); events of concurrent writes in the
/// order their transactions took their ids.
///
/// Connections are plain TCP or Unix sockets: the crate enables no TLS (sqlx is
/// built without it), so keep the database on loopback, a Unix socket or a
/// private network (a sidecar proxy can add TLS).
///
/// Clones share the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) codec: Codec,
}

impl PgStore {
    /// The pool plain reads use: the one pool (PostgreSQL runs reads and writes on
    /// every connection).
    pub(crate) const fn read_pool(&self) -> &PgPool {
        &self.pool
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with the default
    /// [`StoreOptions`] (a pool of up to 16 connections, a 5 s acquire timeout).
    /// Call [`PgStore::migrate`] before first use.
    ///
    /// # Errors
    /// [`SqlStoreError::InvalidOptions`] for a malformed URL,
    /// [`SqlStoreError::Connect`] when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, SqlStoreError> {
        Self::connect_with_options(url, &StoreOptions::new()).await
    }

    /// Connects to `url` with the pool `options` describe (its size and acquire
    /// timeout; the busy timeout is SQLite's). Call [`PgStore::migrate`] before
    /// first use.
    ///
    /// # Errors
    /// [`SqlStoreError::InvalidOptions`] for a malformed URL,
    /// [`SqlStoreError::Connect`] when the server cannot be reached within the
    /// acquire timeout.
    pub async fn connect_with_options(
        url: &str,
        options: &StoreOptions,
    ) -> Result<Self, SqlStoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(SqlStoreError::InvalidOptions)?;
        let pool = pool_options(options)
            .connect_with(connect)
            .await
            .map_err(SqlStoreError::Connect)?;
        Ok(Self::from_pool(pool))
    }

    /// A store for `url` whose pool connects when an operation first needs a
    /// connection: a host can start while the database is down, and each
    /// operation then fails with
    /// [`StoreError::Unavailable`](StoreError::Unavailable) after the
    /// acquire timeout until the database is back. Nothing is checked until then:
    /// call [`PgStore::migrate`] once it is reachable.
    ///
    /// # Errors
    /// [`SqlStoreError::InvalidOptions`] for a malformed URL.
    pub fn connect_lazy(url: &str, options: &StoreOptions) -> Result<Self, SqlStoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(SqlStoreError::InvalidOptions)?;
        Ok(Self::from_pool(
            pool_options(options).connect_lazy_with(connect),
        ))
    }

    /// Connects with the host's own options and pool size, and the default acquire
    /// timeout ([`DEFAULT_ACQUIRE_TIMEOUT`](crate::DEFAULT_ACQUIRE_TIMEOUT)).
    ///
    /// # Errors
    /// [`SqlStoreError::Connect`] when the server cannot be reached.
    pub async fn connect_with(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Self, SqlStoreError> {
        let pool = pool_options(&StoreOptions::new().with_max_connections(max_connections))
            .connect_with(options)
            .await
            .map_err(SqlStoreError::Connect)?;
        Ok(Self::from_pool(pool))
    }

    /// A store over an existing pool (its acquire timeout is the pool's own: sqlx's
    /// default is 30 s, see [`StoreOptions`]).
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            codec: Codec::default(),
        }
    }

    /// Applies the crate's migrations the database lacks (concurrent callers
    /// serialize on an advisory lock), then rewrites every row release 0.1.0 wrote
    /// in today's record shape (concurrent callers lock each batch's rows, so a row
    /// is rewritten once). Idempotent: a database already upgraded costs one index
    /// probe per table.
    ///
    /// Set the sealer ([`with_sealer`](Self::with_sealer)) before migrating: the
    /// upgrade opens and re-seals secrets with it. Stop every release 0.1.0 process
    /// first: 0.1.0 cannot read the records this release writes.
    ///
    /// # Errors
    /// [`SqlStoreError::Migrate`]; [`SqlStoreError::Upgrade`] when a row does not
    /// load (run again once it is mended: the upgrade continues).
    pub async fn migrate(&self) -> Result<(), SqlStoreError> {
        crate::migrations::postgres()
            .run(&self.pool)
            .await
            .map_err(SqlStoreError::Migrate)?;
        self.upgrade_records().await.map_err(SqlStoreError::Upgrade)
    }

    /// The pool, for the host's own queries. Writing the store's tables directly
    /// bypasses its checks.
    #[must_use]
    pub const fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tries to become the one process that delivers the outbox (webhooks and push
    /// notifications) among all that share this database: takes PostgreSQL's
    /// session advisory lock of the store's schema on a connection of its own,
    /// outside the pool. `None` when another process holds it. The lock is held
    /// while the [`DeliveryLease`] lives; when its process dies or loses the
    /// connection, the server releases it and another process's next try wins.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`](StoreError::Unavailable) /
    /// [`StoreError::Backend`](StoreError::Backend).
    pub async fn try_delivery_lease(&self) -> Result<Option<DeliveryLease>, StoreError> {
        let mut connection = self.pool.acquire().await.map_err(backend)?.detach();
        let held: bool = sqlx::query_scalar(DELIVERY_LOCK)
            .fetch_one(&mut connection)
            .await
            .map_err(backend)?;
        if held {
            Ok(Some(DeliveryLease { connection }))
        } else {
            // Closing the connection releases nothing: the lock was not taken.
            let _ = sqlx::Connection::close(connection).await;
            Ok(None)
        }
    }
}

/// The advisory lock of the outbox deliverer: one per schema, so that separate
/// deployments in one database do not wait for each other.
const DELIVERY_LOCK: &str =
    "SELECT pg_try_advisory_lock(hashtext('verify outbox delivery:' || current_schema()))";

/// The lease of [`PgStore::try_delivery_lease`]: this process delivers the outbox
/// while [`DeliveryLease::still_held`] says so. Dropping it closes its connection,
/// which releases the lock.
#[derive(Debug)]
pub struct DeliveryLease {
    connection: sqlx::postgres::PgConnection,
}

impl DeliveryLease {
    /// Whether the lease still holds: its connection still answers (a session
    /// lock lives as long as its session). `false` means the lock may be another
    /// process's by now: stop delivering and try again.
    pub async fn still_held(&mut self) -> bool {
        sqlx::query("SELECT 1")
            .execute(&mut self.connection)
            .await
            .is_ok()
    }
}

crate::imp::store_impl!(
    PgStore,
    sqlx::Postgres,
    begin = "BEGIN",
    for_update = "FOR UPDATE",
    for_no_key_update = "FOR NO KEY UPDATE",
    skip_locked = "FOR UPDATE SKIP LOCKED"
);

/// The most events one numbering pass of the PostgreSQL outbox numbers: a read
/// numbers at most this many before it reads (the rest on the next read).
const NUMBER_BATCH: i64 = 10_000;

/// Serializes the numbering passes of one schema's outbox (a transaction lock,
/// released when the pass commits), so that numbers only grow.
const NUMBERING_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('verify outbox numbering:' || current_schema()))";

/// The committed events not numbered yet, a transaction's together and in write
/// order, oldest transaction first.
const UNNUMBERED_EVENTS: &str =
    "SELECT id FROM verify_outbox WHERE sequence IS NULL ORDER BY txid, id LIMIT $1";

impl PgStore {
    /// Appends outbox `records` inside `tx`, unnumbered: each row takes its
    /// transaction's id (`txid`) and an insertion id, and no row every writer
    /// updates is touched. [`PgStore::number_outbox`] numbers them once committed.
    async fn append_outbox(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        records: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO verify_outbox (record) SELECT * FROM UNNEST($1::text[])")
            .bind(records)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Numbers up to [`NUMBER_BATCH`] committed events, after every number given
    /// before (the counter row, which only this pass updates).
    async fn number_outbox(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(NUMBERING_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let ids: Vec<i64> = sqlx::query_scalar(UNNUMBERED_EVENTS)
            .bind(NUMBER_BATCH)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        if ids.is_empty() {
            return tx.commit().await.map_err(backend);
        }
        let count = i64::try_from(ids.len()).unwrap_or(NUMBER_BATCH);
        let last: i64 = sqlx::query_scalar(
            "UPDATE verify_outbox_counter SET last = last + $1 WHERE id = 1 RETURNING last",
        )
        .bind(count)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let sequences: Vec<i64> = (last.saturating_sub(count).saturating_add(1)..=last).collect();
        sqlx::query(
            "UPDATE verify_outbox AS o SET sequence = n.sequence \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS n(id, sequence) WHERE o.id = n.id",
        )
        .bind(&ids)
        .bind(&sequences)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
