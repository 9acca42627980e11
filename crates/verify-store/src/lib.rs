#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod memory;
mod store;

pub use error::{QuotaKind, Resource, StoreError, UniqueKey};
pub use memory::{DEFAULT_OUTBOX_BOUND, MemoryStore};
pub use store::{FactorInsert, FactorQuota, ListQuery, Listing, OutboxEvent, Store};
