//! Runs the built `verify` binary.

use std::io::{ErrorKind, Read as _, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    // A command-line error exits before reading stdin: a closed pipe is not a failure.
    if let Err(err) = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "write stdin: {err}");
    }
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

/// What `verify` printed and its exit status.
pub(crate) struct Finished {
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `verify <args>` with standard input a pipe that is held open and never
/// written, as a terminal would be: the process must exit on its own within `limit`
/// (it is killed, and the test fails, otherwise).
pub(crate) fn run_without_input(args: &[&str], limit: Duration) -> Finished {
    let mut child = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn verify");
    let stdin = child.stdin.take().expect("stdin");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll verify") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`verify {}` waited for standard input: killed after {limit:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    Finished {
        status: status.code().expect("exit code"),
        stdout: read_all(&mut child, true),
        stderr: read_all(&mut child, false),
    }
}

fn read_all(child: &mut Child, stdout: bool) -> String {
    let mut text = String::new();
    if stdout {
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut text)
    } else {
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut text)
    }
    .expect("read output");
    text
}
