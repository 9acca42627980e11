//! `verify totp code | check | uri` (contract: crates/verify-cli/README.md).
//!
//! Common fields: `secret` (base32 as in the otpauth URI: any letter case, spaces
//! and padding optional), `algorithm` `sha1` | `sha256` | `sha512` (default `sha1`),
//! `digits` 3..=8 (6), `period` 20..=60 (30); `check` adds `skew` 0..=2 (1). `time`
//! is unix seconds and required. Fields outside these ranges or enumerations, a
//! negative `time` or `last_used_step`, and a `code` that is not a JSON string are
//! envelope errors (exit 2), and so is a member the command does not know.
//!
//! Rejections (exit 1) and their stable codes:
//! - `secret_malformed`: `secret` is not base32 (bad character, padding or length);
//! - `secret_too_short` / `secret_too_long`: it decodes to under 80 bits / over 1024;
//! - `code_malformed`: `code` is not exactly `digits` ASCII digits (no HMAC is
//!   computed);
//! - `code_mismatch`: `code` matches no time step within `skew` of the current one;
//! - `step_already_used`: `code` is the code of a step at or below `last_used_step`
//!   (and of no later step in the window): codes are single-use;
//! - `uri_invalid`: `issuer` or `account` is empty.

use serde::Deserialize;
use serde_json::{Value, json};
use verify_totp::{
    Algorithm, Digits, KeyUri, Period, Secret, Skew, TotpConfig, TotpError, check_at, generate_at,
};

use crate::envelope::{EnvelopeError, Field, Outcome, field, parse};

/// The request of `verify totp code`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    secret: Option<Value>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    time: Option<Value>,
}

/// The request of `verify totp check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    secret: Option<Value>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
    skew: Option<Value>,
    time: Option<Value>,
    code: Option<Value>,
    last_used_step: Option<Value>,
}

/// The request of `verify totp uri`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UriRequest {
    secret: Option<Value>,
    issuer: Option<Value>,
    account: Option<Value>,
    algorithm: Option<Value>,
    digits: Option<Value>,
    period: Option<Value>,
}

/// `verify totp code`: `{"code"}` for `secret` at `time`.
pub(crate) fn code(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: CodeRequest = parse(input)?;
    let config = config(
        field!(request.algorithm),
        field!(request.digits),
        field!(request.period),
        Skew::DEFAULT,
    )?;
    let time = field!(request.time).u64()?;
    let secret = field!(request.secret).str()?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let code = generate_at(&secret, &config, time)?;
        Ok(json!({"code": code.to_string()}))
    }))
}

/// `verify totp check`: `{"ok": true, "step", "drift"}` when `code` is good at `time`.
pub(crate) fn check(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: CheckRequest = parse(input)?;
    let skew = field!(request.skew).u64_in(0..=u64::from(Skew::MAX), 1)?;
    let skew = in_range(
        "skew",
        "an integer from 0 to 2",
        u8::try_from(skew).ok().and_then(|s| Skew::new(s).ok()),
    )?;
    let config = config(
        field!(request.algorithm),
        field!(request.digits),
        field!(request.period),
        skew,
    )?;
    let time = field!(request.time).u64()?;
    let last_used_step = field!(request.last_used_step).opt_u64()?;
    let secret = field!(request.secret).str()?;
    let code = field!(request.code).str()?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let matched = check_at(&secret, &config, code, time, last_used_step)?;
        Ok(json!({"ok": true, "step": matched.step(), "drift": matched.drift()}))
    }))
}

/// `verify totp uri`: `{"uri"}`, the otpauth URI the service emits.
pub(crate) fn uri(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: UriRequest = parse(input)?;
    let config = config(
        field!(request.algorithm),
        field!(request.digits),
        field!(request.period),
        Skew::DEFAULT,
    )?;
    let secret = field!(request.secret).str()?;
    let issuer = field!(request.issuer).str()?;
    let account = field!(request.account).str()?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let key = KeyUri::new(secret, issuer, account, &config)?;
        Ok(json!({"uri": key.to_uri().as_str()}))
    }))
}

/// Reads `algorithm`, `digits` and `period` (each with its default).
fn config(
    algorithm: Field<'_>,
    digits: Field<'_>,
    period: Field<'_>,
    skew: Skew,
) -> Result<TotpConfig, EnvelopeError> {
    let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
    let name = algorithm.choice_or(&names, Algorithm::default().as_str())?;
    let algorithm = Algorithm::ALL
        .into_iter()
        .find(|algorithm| algorithm.as_str() == name)
        .unwrap_or_default();
    let digits = digits.u64_in(
        u64::from(Digits::MIN)..=u64::from(Digits::MAX),
        u64::from(Digits::DEFAULT.get()),
    )?;
    let digits = in_range(
        "digits",
        "an integer from 3 to 8",
        u8::try_from(digits).ok().and_then(|d| Digits::new(d).ok()),
    )?;
    let period = period.u64_in(
        u64::from(Period::MIN)..=u64::from(Period::MAX),
        u64::from(Period::DEFAULT.get()),
    )?;
    let period = in_range(
        "period",
        "an integer from 20 to 60",
        u32::try_from(period).ok().and_then(|p| Period::new(p).ok()),
    )?;
    Ok(TotpConfig::new(algorithm, digits, period, skew))
}

/// The validated value, or an out-of-range envelope error (unreachable after
/// `u64_in`, but never assumed).
fn in_range<T>(
    field: &str,
    allowed: impl Into<String>,
    value: Option<T>,
) -> Result<T, EnvelopeError> {
    value.ok_or_else(|| EnvelopeError::OutOfRange {
        field: field.into(),
        allowed: allowed.into(),
    })
}

/// Runs the verification proper: any error is a rejection with the crate's code.
fn run(body: impl FnOnce() -> Result<Value, TotpError>) -> Outcome {
    match body() {
        Ok(value) => Outcome::Accepted(value),
        Err(err) => Outcome::rejected(err.code(), err.to_string()),
    }
}
