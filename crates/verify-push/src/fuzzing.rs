//! Fuzz harness bodies, shared by `fuzz/fuzz_targets/push_*.rs` and the corpus replay
//! test, so `cargo test` runs every committed corpus file through exactly what the
//! fuzzers run. Not part of the supported API.

use serde_json::json;
use verify_model::UnixTime;

use crate::{
    ChallengeToSign, DeviceKey, RequestJwt, RequestPolicy, SignatureFields, verify_answer,
};

/// The SDK vectors' device key.
const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgjQ0xMMW93gW37CrK1c6X9NEbUju4T3KNeEsG9Axg8NByRc+LGpzWKPrqyE8/W0VxQzRZCipF1BfU/JJ6J5G7A==";

/// `push_binding`: the binding parsers on arbitrary bytes; an accepted key must
/// round-trip through its binding text.
///
/// # Panics
/// When an accepted key does not round-trip (a bug).
pub fn binding(data: &[u8]) {
    if let Ok(key) = DeviceKey::from_spki_der(data) {
        assert_eq!(
            DeviceKey::from_binding(&key.to_binding(), "ES256").ok(),
            Some(key)
        );
    }
    if let Ok(text) = core::str::from_utf8(data)
        && let Ok(key) = DeviceKey::from_binding(text, "ES256")
    {
        assert_eq!(key.to_binding(), text);
    }
}

/// `push_jws`: an arbitrary approve/deny `AuthPayload` against the SDK vectors'
/// challenge and key.
pub fn jws(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = DeviceKey::from_binding(KEY, "ES256") else {
        return;
    };
    let served = json!({
        "sid": "YC00000000000000000000000000000002",
        "factor_sid": "YF00000000000000000000000000000001",
        "details": {"message": "Approve login?", "fields": [{"label": "IP", "value": "203.0.113.7"}]},
        "hidden_details": {"ip": "203.0.113.7"},
        "expiration_date": "2025-01-01T00:05:00Z"
    });
    let Some(served) = served.as_object() else {
        return;
    };
    let Ok(fields) = SignatureFields::new(&[
        "sid",
        "factor_sid",
        "details",
        "hidden_details",
        "expiration_date",
    ]) else {
        return;
    };
    let Ok(challenge) = ChallengeToSign::from_served(served, fields) else {
        return;
    };
    let _ = verify_answer(&key, &challenge, text);
}

/// `push_request_jwt`: an arbitrary `Authorization` header value or bare request JWT.
pub fn request_jwt(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = DeviceKey::from_binding(KEY, "ES256") else {
        return;
    };
    for request in [RequestJwt::from_authorization(text), RequestJwt::new(text)]
        .into_iter()
        .flatten()
    {
        if let Ok(kid) = request.kid() {
            let _ = request.verify(
                &key,
                kid,
                "AC00000000000000000000000000000000",
                &RequestPolicy::default(),
                UnixTime::from_secs(1_735_689_600),
            );
        }
    }
}
