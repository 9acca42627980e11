//! Integration tests of the `verify` binary against its contract, crates/verify-cli/README.md: one test binary,
//! one module per command group.

// Helpers outside `#[test]` functions are test code too: a broken fixture should fail
// the test loudly, so the panicking shortcuts the library forbids are fine here.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod push;
mod support;
mod totp;
mod webauthn;

use support::run;

#[test]
fn unknown_command_is_a_usage_error() {
    let (status, out) = run(&["frobnicate"], "{}");
    assert_eq!(status, 2);
    assert_eq!(out["ok"], false);
    assert_eq!(out["error"]["code"], "usage");
}

#[test]
fn stdin_must_be_one_object() {
    for input in ["", "[]", "{} {}", "nope"] {
        let (status, out) = run(&["totp", "code"], input);
        assert_eq!(status, 2, "{input:?}");
        assert_eq!(out["error"]["code"], "invalid_json");
    }
}
