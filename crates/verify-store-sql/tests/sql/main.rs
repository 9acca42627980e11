//! verify-store-sql's one integration-test binary: the conformance suite on SQLite
//! (always) and PostgreSQL (when `VERIFY_TEST_POSTGRES_URL` is set), secret sealing,
//! restart survival, migrations (release 0.1.0's database upgraded in place), and
//! cross-process races on PostgreSQL.

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
mod engine_restart;
mod legacy;
mod pg_conformance;
mod restart;
mod sealing;
