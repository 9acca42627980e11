//! Integration tests of verify-model: one binary, one module per concern.
// clippy's allow-*-in-tests covers `#[test]` functions, not the fixtures beside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test fixtures: a failure should fail loudly"
)]

#[path = "model/api.rs"]
mod api;
#[path = "model/limits.rs"]
mod limits;
#[path = "model/parsers.rs"]
mod parsers;
#[path = "model/records.rs"]
mod records;
#[path = "model/state.rs"]
mod state;
#[path = "model/support.rs"]
mod support;
