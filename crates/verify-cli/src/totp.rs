//! `verify totp code | check | uri` (contract: crates/verify-cli/README.md).
//!
//! Common fields: `secret` (base32 as in the otpauth URI: any letter case, spaces
//! and padding optional), `algorithm` `sha1` | `sha256` | `sha512` (default `sha1`),
//! `digits` 3..=8 (6), `period` 20..=60 (30); `check` adds `skew` 0..=2 (1). `time`
//! is unix seconds and required. Fields outside these ranges or enumerations, a
//! negative `time` or `last_used_step`, and a `code` that is not a JSON string are
//! envelope errors (exit 2).
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

use serde_json::json;
use verify_totp::{
    Algorithm, Digits, KeyUri, Period, Secret, Skew, TotpConfig, TotpError, check_at, generate_at,
};

use crate::envelope::{Envelope, EnvelopeError, Outcome};

/// `verify totp code`: `{"code"}` for `secret` at `time`.
pub(crate) fn code(envelope: &Envelope) -> Result<Outcome, EnvelopeError> {
    let config = config(envelope, Skew::DEFAULT)?;
    let time = envelope.u64("time")?;
    let secret = envelope.str("secret")?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let code = generate_at(&secret, &config, time)?;
        Ok(json!({"code": code.to_string()}))
    }))
}

/// `verify totp check`: `{"ok": true, "step", "drift"}` when `code` is good at `time`.
pub(crate) fn check(envelope: &Envelope) -> Result<Outcome, EnvelopeError> {
    let skew = envelope.u64_in("skew", 0..=u64::from(Skew::MAX), 1)?;
    let skew = in_range(
        "skew",
        "an integer from 0 to 2",
        u8::try_from(skew).ok().and_then(|s| Skew::new(s).ok()),
    )?;
    let config = config(envelope, skew)?;
    let time = envelope.u64("time")?;
    let last_used_step = envelope.opt_u64("last_used_step")?;
    let secret = envelope.str("secret")?;
    let code = envelope.str("code")?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let matched = check_at(&secret, &config, code, time, last_used_step)?;
        Ok(json!({"ok": true, "step": matched.step(), "drift": matched.drift()}))
    }))
}

/// `verify totp uri`: `{"uri"}`, the otpauth URI the service emits.
pub(crate) fn uri(envelope: &Envelope) -> Result<Outcome, EnvelopeError> {
    let config = config(envelope, Skew::DEFAULT)?;
    let secret = envelope.str("secret")?;
    let issuer = envelope.str("issuer")?;
    let account = envelope.str("account")?;
    Ok(run(|| {
        let secret = Secret::from_base32_lenient(secret)?;
        let key = KeyUri::new(secret, issuer, account, &config)?;
        Ok(json!({"uri": key.to_uri().as_str()}))
    }))
}

/// Reads `algorithm`, `digits` and `period` (each with its default).
fn config(envelope: &Envelope, skew: Skew) -> Result<TotpConfig, EnvelopeError> {
    let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
    let name = envelope.choice_or("algorithm", &names, Algorithm::default().as_str())?;
    let algorithm = Algorithm::ALL
        .into_iter()
        .find(|algorithm| algorithm.as_str() == name)
        .unwrap_or_default();
    let digits = envelope.u64_in(
        "digits",
        u64::from(Digits::MIN)..=u64::from(Digits::MAX),
        u64::from(Digits::DEFAULT.get()),
    )?;
    let digits = in_range(
        "digits",
        "an integer from 3 to 8",
        u8::try_from(digits).ok().and_then(|d| Digits::new(d).ok()),
    )?;
    let period = envelope.u64_in(
        "period",
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
fn run(body: impl FnOnce() -> Result<serde_json::Value, TotpError>) -> Outcome {
    match body() {
        Ok(value) => Outcome::Accepted(value),
        Err(err) => Outcome::rejected(err.code(), err.to_string()),
    }
}
