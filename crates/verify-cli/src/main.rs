//! `verify`: inspect and verify WebAuthn credentials, TOTP codes and push approvals.
//!
//! One JSON object on stdin, one JSON object on stdout. Exit 0 = accepted, 1 =
//! rejected (`{"ok": false, "error": {"code", "message"}}`), 2 = the request envelope
//! (or the command line) is unusable. The contract is the crate's README.md; `verify
//! --help` lists the commands. The command line is parsed (clap) before standard input
//! is read, so `--help`, `--version` and a mistyped command never wait for input.
#![forbid(unsafe_code)]

mod envelope;
mod push;
mod totp;
mod webauthn;

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use envelope::{EnvelopeError, Outcome, error_json};

/// Exit status of a usable request that was accepted.
const EXIT_ACCEPTED: u8 = 0;
/// Exit status of a rejection: the JSON says why.
const EXIT_REJECTED: u8 = 1;
/// Exit status of an unusable request or command line (clap's own usage-error status).
const EXIT_UNUSABLE: u8 = 2;

const AFTER_HELP: &str = "\
Each command reads one JSON object on standard input and prints one JSON object on
standard output; `verify <command> --help` lists its input and output fields.

Exit status: 0 accepted, 1 rejected ({\"ok\": false, \"error\": {\"code\", \"message\"}}),
2 unusable request or command line (the same JSON shape; a command-line error is also
described on standard error).";

/// Inspect and verify WebAuthn credentials, TOTP codes and push approvals: one JSON
/// object on stdin, one JSON object on stdout.
#[derive(Debug, Parser)]
#[command(name = "verify", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify WebAuthn registrations and authentications.
    #[command(subcommand)]
    Webauthn(WebauthnCommand),
    /// Decode an attestation object, authenticator data, client data, COSE key,
    /// registration or authentication.
    #[command(long_about = INSPECT)]
    Inspect,
    /// TOTP codes, checks and otpauth:// URIs.
    #[command(subcommand)]
    Totp(TotpCommand),
    /// Push factor and approval signatures.
    #[command(subcommand)]
    Push(PushCommand),
}

#[derive(Debug, Subcommand)]
enum WebauthnCommand {
    /// Check a RegistrationResponseJSON.
    #[command(long_about = VERIFY_REGISTRATION)]
    VerifyRegistration,
    /// Check an AuthenticationResponseJSON.
    #[command(long_about = VERIFY_AUTHENTICATION)]
    VerifyAuthentication,
}

#[derive(Debug, Subcommand)]
enum TotpCommand {
    /// The code for a secret at a time.
    #[command(long_about = TOTP_CODE)]
    Code,
    /// Check a code (single-use window rules).
    #[command(long_about = TOTP_CHECK)]
    Check,
    /// Build an otpauth:// URI.
    #[command(long_about = TOTP_URI)]
    Uri,
}

#[derive(Debug, Subcommand)]
enum PushCommand {
    /// Check a push factor's verification signature.
    #[command(long_about = PUSH_FACTOR)]
    VerifyFactor,
    /// Check a signed approve/deny answer to a challenge.
    #[command(long_about = PUSH_APPROVAL)]
    VerifyApproval,
}

const VERIFY_REGISTRATION: &str = "\
Check a RegistrationResponseJSON.

in:  {\"rp_id\", \"origins\": [..], \"challenge\", \"user_verification\": \"required|preferred|discouraged\",
      \"algorithms\"?: [-8, -7, -257], \"allow_cross_origin\"?: false, \"top_origins\"?: [..],
      \"trust_anchors_pem\"?: [..], \"require_trusted_attestation\"?: false, \"now\"?: unix seconds,
      \"credential\": RegistrationResponseJSON}
out: {\"ok\": true, \"credential\": {\"id\", \"public_key_cose\", \"algorithm\", \"sign_count\",
      \"aaguid\", \"attestation_format\", \"attestation_type\", \"attestation_trusted\",
      \"user_verified\", \"backup_eligible\", \"backup_state\", \"transports\"}}";

const VERIFY_AUTHENTICATION: &str = "\
Check an AuthenticationResponseJSON.

in:  {\"rp_id\", \"origins\", \"challenge\", \"user_verification\", \"allow_cross_origin\"?,
      \"top_origins\"?, \"now\"?, \"credential_record\": {\"id\", \"public_key_cose\", \"sign_count\",
      \"backup_eligible\"?}, \"counter_policy\"?: \"reject|warn\", \"credential\": AuthenticationResponseJSON}
out: {\"ok\": true, \"sign_count\", \"user_verified\", \"backup_state\", \"counter_warning\"}";

const INSPECT: &str = "\
Decode an attestation object, authenticator data, client data, COSE key, registration
or authentication.

in:  {\"kind\"?: \"attestation_object|authenticator_data|client_data|cose_key|registration|authentication\",
      \"data\"}   (kind guessed when omitted)
out: {\"kind\": <kind>, <kind>: <decoded structure>}";

const TOTP_CODE: &str = "\
The code for a secret at a time.

in:  {\"secret\": base32, \"algorithm\"?: \"sha1|sha256|sha512\", \"digits\"?: 3..8 (6),
      \"period\"?: 20..60 (30), \"time\": unix seconds}
out: {\"code\"}";

const TOTP_CHECK: &str = "\
Check a code (single-use window rules).

in:  {\"secret\", \"algorithm\"?, \"digits\"?, \"period\"?, \"skew\"?: 0..2 (1), \"time\", \"code\",
      \"last_used_step\"?}
out: {\"ok\": true, \"step\", \"drift\"}";

const TOTP_URI: &str = "\
Build an otpauth:// URI.

in:  {\"secret\", \"issuer\", \"account\", \"algorithm\"?, \"digits\"?, \"period\"?}
out: {\"uri\"}";

const PUSH_FACTOR: &str = "\
Check a push factor's verification signature.

in:  {\"public_key\": standard base64, \"factor_sid\", \"auth_payload\": standard base64}
out: {\"ok\": true}";

const PUSH_APPROVAL: &str = "\
Check a signed approve/deny answer to a challenge.

in:  {\"public_key\", \"signature_fields\": [..], \"challenge\": {..as served..}, \"auth_payload\"}
out: {\"ok\": true, \"status\": \"approved|denied\"}";

type Handler = fn(&str) -> Result<Outcome, EnvelopeError>;

impl Command {
    /// The function that evaluates this command's request.
    const fn handler(&self) -> Handler {
        match self {
            Self::Webauthn(WebauthnCommand::VerifyRegistration) => webauthn::verify_registration,
            Self::Webauthn(WebauthnCommand::VerifyAuthentication) => {
                webauthn::verify_authentication
            }
            Self::Inspect => webauthn::inspect,
            Self::Totp(TotpCommand::Code) => totp::code,
            Self::Totp(TotpCommand::Check) => totp::check,
            Self::Totp(TotpCommand::Uri) => totp::uri,
            Self::Push(PushCommand::VerifyFactor) => push::verify_factor,
            Self::Push(PushCommand::VerifyApproval) => push::verify_approval,
        }
    }
}

/// Evaluates `input` with `handler`: the JSON to print and the exit status.
fn run(handler: Handler, input: &str) -> (Outcome, u8) {
    match handler(input) {
        Ok(outcome @ Outcome::Accepted(_)) => (outcome, EXIT_ACCEPTED),
        Ok(outcome @ Outcome::Rejected { .. }) => (outcome, EXIT_REJECTED),
        Err(err) => (
            Outcome::rejected(err.code(), err.to_string()),
            EXIT_UNUSABLE,
        ),
    }
}

/// `--help` / `--version` (stdout, exit 0), or a command-line error: clap's message on
/// stderr, the `usage` error object on stdout, exit 2.
fn command_line(err: &clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::from(EXIT_ACCEPTED);
    }
    let _ = err.print();
    let rendered = err.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    print(&error_json("usage", &message));
    ExitCode::from(EXIT_UNUSABLE)
}

fn print(json: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{json}");
    let _ = stdout.flush();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return command_line(&err),
    };
    let handler = cli.command.handler();
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        let _ = writeln!(
            std::io::stderr(),
            "verify: reading the JSON request from standard input (end it with Ctrl-D; \
             `verify --help` for the commands)"
        );
    }
    let mut input = String::new();
    let (outcome, status) = match stdin.read_to_string(&mut input) {
        Ok(_) => run(handler, &input),
        Err(err) => (
            Outcome::rejected(
                "invalid_json",
                format!("standard input is not UTF-8 text: {err}"),
            ),
            EXIT_UNUSABLE,
        ),
    };
    let json = match outcome {
        Outcome::Accepted(value) => value,
        Outcome::Rejected { code, message } => error_json(&code, &message),
    };
    print(&json);
    ExitCode::from(status)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_exit_with_clap_s_status() {
        let err = Cli::try_parse_from(["verify", "frobnicate"]).unwrap_err();
        assert_eq!(err.exit_code(), i32::from(EXIT_UNUSABLE));
        let help = Cli::try_parse_from(["verify", "--help"]).unwrap_err();
        assert_eq!(help.exit_code(), i32::from(EXIT_ACCEPTED));
    }
}
