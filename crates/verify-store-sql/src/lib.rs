#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod codec;
mod error;
mod imp;
mod migrations;
#[cfg(feature = "postgres")]
mod postgres;
mod sealer;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::SqlStoreError;
pub use migrations::SCHEMA_VERSION;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sealer::{AES_GCM_KEY_LEN, AesGcmSealer, SealerError, SecretSealer};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
