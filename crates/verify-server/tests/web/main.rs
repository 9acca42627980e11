//! Tests of the web page and its demo backend against the router (no sockets, no
//! browser; `tests/browser/run.sh` drives the page in Chromium).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

mod support;

mod flows;
mod page;
mod validation;
