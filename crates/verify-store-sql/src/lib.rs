//! PostgreSQL and SQLite stores for verify.
//!
//! Not yet built: this crate will implement the `verify-store` traits on sqlx, with
//! version-checked updates as single statements and shipped migrations.
#![forbid(unsafe_code)]
