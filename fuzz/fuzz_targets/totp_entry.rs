//! The entry points of the `totp_*` fuzz targets, shared with
//! `crates/verify-totp/tests/fuzz_corpus.rs`, which `#[path]`-includes this file and
//! replays every committed corpus file through the same functions under `cargo test`.
//! (The fuzz targets include it the same way: one copy of the code, two users.)
//!
//! Errors are the expected outcome for most inputs and are ignored; what is checked is
//! that nothing panics and that whatever is accepted is consistent.

use verify_totp::{
    Algorithm, Code, Digits, KeyUri, Period, Secret, Skew, TotpConfig, check_at, hotp,
};

/// `totp_uri`: `KeyUri::parse` on any text; an accepted URI re-emitted by `to_uri`
/// parses back to the same key.
pub fn uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = KeyUri::parse(text) else {
        return;
    };
    let emitted = key.to_uri();
    if key.issuer().is_some_and(|issuer| !issuer.is_empty()) {
        match KeyUri::parse(&emitted) {
            Ok(again) => assert!(again == key, "to_uri does not round-trip"),
            // Every KeyUri writes a URI parse reads back, whatever its length once
            // percent-encoded (the long-percent-encoded-account seed once broke this).
            Err(err) => panic!("to_uri output refused: {err}"),
        }
    }
}

/// `totp_secret`: lenient base32 decoding; an accepted secret's canonical base32
/// decodes to the same bytes, and raw-byte construction respects the length bounds.
pub fn secret(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(secret) = Secret::from_base32_lenient(text)
    {
        let canonical = secret.to_base32();
        let again = Secret::from_base32_lenient(&canonical);
        assert!(
            again.is_ok_and(|again| again == secret),
            "base32 does not round-trip"
        );
        assert!(secret.expose_bytes().len() >= Secret::MIN_BYTES);
        assert!(secret.expose_bytes().len() <= Secret::MAX_BYTES);
    }
    let accepted = Secret::from_bytes(data.to_vec()).is_ok();
    assert_eq!(
        accepted,
        (Secret::MIN_BYTES..=Secret::MAX_BYTES).contains(&data.len())
    );
}

/// Takes the first byte, or 0 when the input is used up.
fn byte(data: &mut &[u8]) -> u8 {
    let Some((first, rest)) = data.split_first() else {
        return 0;
    };
    *data = rest;
    *first
}

fn u64_le(data: &mut &[u8]) -> u64 {
    let mut value = 0_u64;
    for shift in 0..8 {
        value |= u64::from(byte(data)) << (8 * shift);
    }
    value
}

/// `totp_code`: a configuration, a clock, a last used step and a secret taken from
/// the leading bytes, the rest as the submitted code. A code `Code::parse` accepts
/// prints back as itself; a code `check_at` accepts is the HOTP value of the step it
/// reports, within the skew, above the last used step.
pub fn code(data: &[u8]) {
    let mut data = data;
    let algorithm = match byte(&mut data) % 3 {
        0 => Algorithm::Sha1,
        1 => Algorithm::Sha256,
        _ => Algorithm::Sha512,
    };
    let (Ok(digits), Ok(period), Ok(skew)) = (
        Digits::new(3 + byte(&mut data) % 6),
        Period::new(20 + u32::from(byte(&mut data) % 41)),
        Skew::new(byte(&mut data) % 3),
    ) else {
        panic!("in-range parameters refused");
    };
    let config = TotpConfig::new(algorithm, digits, period, skew);
    let now = u64_le(&mut data);
    let last_used_step = (byte(&mut data) % 2 == 1).then(|| u64_le(&mut data));
    let secret_len = usize::from(byte(&mut data));
    let (secret_bytes, code_bytes) = data.split_at(secret_len.min(data.len()));
    let Ok(text) = std::str::from_utf8(code_bytes) else {
        return;
    };
    if let Ok(parsed) = Code::parse(text, digits) {
        assert_eq!(parsed.to_string(), text);
    }
    let Ok(secret) = Secret::from_bytes(secret_bytes.to_vec()) else {
        return;
    };
    let Ok(matched) = check_at(&secret, &config, text, now, last_used_step) else {
        return;
    };
    let current = period.step_at(now);
    assert!(matched.drift().unsigned_abs() <= skew.get());
    assert_eq!(
        current.checked_add_signed(i64::from(matched.drift())),
        Some(matched.step())
    );
    assert!(last_used_step.is_none_or(|last| matched.step() > last));
    let expected = hotp(&secret, algorithm, digits, matched.step()).map(|code| code.to_string());
    assert_eq!(expected.ok().as_deref(), Some(text));
}
