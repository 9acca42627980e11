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
