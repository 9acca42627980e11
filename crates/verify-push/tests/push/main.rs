//! Integration tests of verify-push: SDK vectors, a software device signing the way
//! each SDK does, negative cases, and the fuzz corpus replay. One test binary, one
//! module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

mod access_token;
mod approval;
mod backends;
mod corpus;
mod device;
mod engine;
mod factor;
mod properties;
mod request;
mod time_properties;
mod vectors;
