//! verify-store-sql's one integration-test binary: the conformance suite on SQLite
//! (always) and PostgreSQL, secret sealing, restart survival, migrations (release
//! 0.1.0's database upgraded in place), cross-process races on PostgreSQL, and
//! database faults answered promptly as `StoreError::Unavailable` (several SQLite
//! stores on one file, a held lock, a pool with no free connection, an unreachable
//! PostgreSQL).
//!
//! The PostgreSQL tests are `#[ignore = "needs PostgreSQL: ..."]`: a plain `cargo test`
//! counts them as ignored. `.ci/pg.sh run cargo test -p verify-store-sql --
//! --include-ignored` runs everything against a throwaway cluster; asked for without
//! `VERIFY_TEST_POSTGRES_URL`, they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failed setup step fails the test loudly"
)]

mod support;

mod sqlite_conformance {
    verify_store::conformance_suite!(async || crate::support::sqlite_store().await);
}

mod cross_process;
mod delivery_lease;
mod engine_restart;
mod legacy;
mod outbox_order;
mod pg_conformance;
mod query_plans;
mod restart;
mod sealing;
mod unavailable;
