//! `verify`: inspect and verify WebAuthn credentials, TOTP codes and push approvals.
//!
//! One JSON object on stdin, one JSON object on stdout. Exit 0 = accepted, 1 =
//! rejected (`{"ok": false, "error": {"code", "message"}}`), 2 = the request envelope
//! is unusable. The contract is the crate's README.md; `verify --help` lists the commands.
#![forbid(unsafe_code)]

mod envelope;
mod push;
mod totp;
mod webauthn;

use std::io::Read;
use std::process::ExitCode;

use envelope::{Envelope, EnvelopeError, Outcome, error_json};

const USAGE: &str = "\
usage: verify <command> < request.json

commands (JSON object on stdin, JSON object on stdout):
  webauthn verify-registration     check a RegistrationResponseJSON
  webauthn verify-authentication   check an AuthenticationResponseJSON
  inspect                          decode an attestation object, authenticator data,
                                   client data, COSE key, registration or authentication
  totp code                        the code for a secret at a time
  totp check                       check a code (single-use window rules)
  totp uri                         build an otpauth:// URI
  push verify-factor               check a push factor's verification signature
  push verify-approval             check a signed approve/deny answer to a challenge

exit status: 0 accepted, 1 rejected (the JSON says why), 2 unusable request";

type Command = fn(&Envelope) -> Result<Outcome, EnvelopeError>;

fn command(args: &[String]) -> Option<Command> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    Some(match words.as_slice() {
        ["webauthn", "verify-registration"] => webauthn::verify_registration,
        ["webauthn", "verify-authentication"] => webauthn::verify_authentication,
        ["inspect"] => webauthn::inspect,
        ["totp", "code"] => totp::code,
        ["totp", "check"] => totp::check,
        ["totp", "uri"] => totp::uri,
        ["push", "verify-factor"] => push::verify_factor,
        ["push", "verify-approval"] => push::verify_approval,
        _ => return None,
    })
}

fn run(args: &[String], input: &str) -> (Outcome, u8) {
    let result = command(args)
        .ok_or_else(|| EnvelopeError::Usage(USAGE.into()))
        .and_then(|command| command(&Envelope::parse(input)?));
    match result {
        Ok(outcome @ Outcome::Accepted(_)) => (outcome, 0),
        Ok(outcome @ Outcome::Rejected { .. }) => (outcome, 1),
        Err(err) => (Outcome::rejected(err.code(), err.to_string()), 2),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.as_slice(), [flag] if flag == "--help" || flag == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mut input = String::new();
    let (outcome, status) = match std::io::stdin().read_to_string(&mut input) {
        Ok(_) => run(&args, &input),
        Err(err) => (
            Outcome::rejected(
                "invalid_json",
                format!("standard input is not UTF-8 text: {err}"),
            ),
            2,
        ),
    };
    let json = match outcome {
        Outcome::Accepted(value) => value,
        Outcome::Rejected { code, message } => error_json(&code, &message),
    };
    println!("{json}");
    ExitCode::from(status)
}
