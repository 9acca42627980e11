//! End-to-end engine tests over `MemoryStore` with a fixed clock and a seeded RNG:
//! one module per flow (passkeys, TOTP, push: docs/architecture.md), plus webhooks, errors and properties.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

mod ceremony_options;
mod concurrency;
mod configurations;
mod devices;
mod errors;
mod guessing;
mod passkeys;
mod properties;
mod push;
mod related_origins;
mod restrictions;
mod services;
mod support;
mod totp;
mod webhooks;
