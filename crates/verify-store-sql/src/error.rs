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
}
