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

mod command_line;
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
fn an_unknown_member_is_refused_by_name() {
    let (status, out) = run(
        &["totp", "code"],
        r#"{"secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "time": 59, "digit": 8}"#,
    );
    assert_eq!(status, 2, "{out}");
    assert_eq!(out["ok"], false);
    assert_eq!(out["error"]["code"], "unknown_field");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains("`digit`"), "{message}");
    // serde's message lists the members the command knows.
    assert!(message.contains("`digits`"), "{message}");
}

#[test]
fn stdin_must_be_one_object() {
    for input in ["", "[]", "{} {}", "nope"] {
        let (status, out) = run(&["totp", "code"], input);
        assert_eq!(status, 2, "{input:?}");
        assert_eq!(out["error"]["code"], "invalid_json");
    }
}
