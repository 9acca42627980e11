#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod codec;
mod error;
mod imp;
mod migrations;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
mod sealer;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::SqlStoreError;
pub use migrations::SCHEMA_VERSION;
pub use options::{
    DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_BUSY_TIMEOUT, DEFAULT_PG_MAX_CONNECTIONS,
    DEFAULT_SQLITE_READERS, StoreOptions,
};
#[cfg(feature = "postgres")]
pub use postgres::{DeliveryLease, PgStore};
pub use sealer::{
    AES_GCM_KEY_LEN, AesGcmSealer, MAX_PREVIOUS_KEYS, RotatingSealer, SealerError, SecretSealer,
};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
/// The sqlx this crate is built on: the connect options `SqliteStore::open_with`
/// and `PgStore::connect_with` take and the pools `pool()` returns are its types,
/// so a host that tunes them or runs its own queries uses this one, whatever sqlx
/// its own manifest names.
pub use sqlx;
