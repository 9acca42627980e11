//! The command line (clap): `--help` at every level and `--version` print and exit 0
//! without reading standard input; a mistyped command is a short usage error, exit 2,
//! also without reading standard input.

use std::time::Duration;

use serde_json::Value;

use crate::support::run_without_input;

/// Far more than a process start needs; a process that waits for stdin never ends.
const LIMIT: Duration = Duration::from_secs(20);

const COMMANDS: [&[&str]; 8] = [
    &["webauthn", "verify-registration"],
    &["webauthn", "verify-authentication"],
    &["inspect"],
    &["totp", "code"],
    &["totp", "check"],
    &["totp", "uri"],
    &["push", "verify-factor"],
    &["push", "verify-approval"],
];

#[test]
fn help_at_every_level_never_reads_stdin() {
    let mut invocations: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["-h"],
        vec!["help"],
        vec!["help", "totp", "check"],
    ];
    for group in ["webauthn", "totp", "push"] {
        invocations.push(vec![group, "--help"]);
        invocations.push(vec![group, "-h"]);
    }
    for command in COMMANDS {
        for flag in ["--help", "-h"] {
            let mut args = command.to_vec();
            args.push(flag);
            invocations.push(args);
        }
    }
    for args in &invocations {
        let done = run_without_input(args, LIMIT);
        assert_eq!(done.status, 0, "{args:?}: {}", done.stderr);
        assert!(
            done.stdout.contains("Usage: verify"),
            "{args:?}: {}",
            done.stdout
        );
    }
    // The top level lists every command; a command's help lists its fields.
    let top = run_without_input(&["--help"], LIMIT).stdout;
    for name in ["webauthn", "inspect", "totp", "push"] {
        assert!(top.contains(name), "{top}");
    }
    let check = run_without_input(&["totp", "check", "--help"], LIMIT).stdout;
    for member in ["\"secret\"", "\"last_used_step\"", "\"drift\""] {
        assert!(check.contains(member), "{check}");
    }
}

#[test]
fn version_prints_the_crate_version() {
    let done = run_without_input(&["--version"], LIMIT);
    assert_eq!(done.status, 0);
    assert_eq!(
        done.stdout.trim(),
        format!("verify {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(run_without_input(&["-V"], LIMIT).stdout, done.stdout);
}

fn usage_error(args: &[&str]) -> (String, String) {
    let done = run_without_input(args, LIMIT);
    assert_eq!(done.status, 2, "{args:?}: {}", done.stderr);
    let out: Value = serde_json::from_str(done.stdout.trim()).unwrap();
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["code"], "usage", "{out}");
    let message = out["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.contains('\n'), "{message}");
    (message, done.stderr)
}

#[test]
fn a_mistyped_command_is_a_short_usage_error_without_reading_stdin() {
    let (message, stderr) = usage_error(&["frobnicate"]);
    assert_eq!(message, "unrecognized subcommand 'frobnicate'");
    // Short: clap's error and usage line, not the whole command list.
    assert!(
        stderr.starts_with("error: unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
    assert!(!stderr.contains("verify-registration"), "{stderr}");
    assert!(stderr.lines().count() <= 6, "{stderr}");

    let (message, stderr) = usage_error(&["totp", "chek"]);
    assert!(message.contains("'chek'"), "{message}");
    assert!(
        stderr.contains("similar subcommand exists: 'check'"),
        "{stderr}"
    );

    let (message, _) = usage_error(&["totp", "code", "extra"]);
    assert!(message.contains("'extra'"), "{message}");
    let (message, _) = usage_error(&["--frobnicate"]);
    assert!(message.contains("'--frobnicate'"), "{message}");
    // A command group without its command, and no command at all.
    usage_error(&["webauthn"]);
    usage_error(&[]);
}
