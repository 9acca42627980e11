#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod store;

pub use error::{QuotaKind, Resource, StoreError, UniqueKey};
pub use store::{FactorInsert, FactorQuota, ListQuery, Listing, OutboxEvent, Store};
