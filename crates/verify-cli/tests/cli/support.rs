//! Runs the built `verify` binary.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `verify <args>` with `stdin`, returning the exit status and the one JSON object
/// it printed on stdout (asserting there is exactly one).
pub(crate) fn run(args: &[&str], stdin: &str) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn verify");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("wait for verify");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let value: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|err| panic!("stdout is not one JSON object ({err}): {stdout:?}"));
    assert!(value.is_object(), "stdout is not an object: {stdout}");
    (output.status.code().expect("exit code"), value)
}

/// Runs with a JSON value as stdin.
pub(crate) fn run_json(args: &[&str], stdin: &Value) -> (i32, Value) {
    run(args, &stdin.to_string())
}
