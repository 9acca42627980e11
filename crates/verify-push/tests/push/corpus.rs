//! Replays every file of the committed fuzz corpora through the same public parsers
//! the fuzz targets call, so `cargo test` runs them.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // The crate stands alone outside the repository: nothing to replay.
        return Vec::new();
    };
    let files: Vec<Vec<u8>> = entries
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn binding_corpus() {
    for data in corpus("push_binding") {
        verify_push_fuzz_shims::binding(&data);
    }
}

#[test]
fn jws_corpus() {
    for data in corpus("push_jws") {
        verify_push_fuzz_shims::jws(&data);
    }
}

#[test]
fn request_jwt_corpus() {
    for data in corpus("push_request_jwt") {
        verify_push_fuzz_shims::request_jwt(&data);
    }
}

/// The bodies of the fuzz targets (kept identical to `fuzz/fuzz_targets/push_*.rs`).
mod verify_push_fuzz_shims {
    use serde_json::json;
    use verify_model::UnixTime;
    use verify_push::{
        ChallengeToSign, DeviceKey, RequestJwt, RequestPolicy, SignatureFields, verify_answer,
    };

    const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgjQ0xMMW93gW37CrK1c6X9NEbUju4T3KNeEsG9Axg8NByRc+LGpzWKPrqyE8/W0VxQzRZCipF1BfU/JJ6J5G7A==";

    pub(super) fn binding(data: &[u8]) {
        let _ = DeviceKey::from_spki_der(data);
        if let Ok(text) = std::str::from_utf8(data)
            && let Ok(key) = DeviceKey::from_binding(text, "ES256")
        {
            assert_eq!(
                DeviceKey::from_binding(&key.to_binding(), "ES256").unwrap(),
                key
            );
        }
    }

    pub(super) fn jws(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let key = DeviceKey::from_binding(KEY, "ES256").unwrap();
        let served = json!({
            "sid": "YC00000000000000000000000000000002",
            "factor_sid": "YF00000000000000000000000000000001",
            "details": {"message": "Approve login?", "fields": [{"label": "IP", "value": "203.0.113.7"}]},
            "hidden_details": {"ip": "203.0.113.7"},
            "expiration_date": "2025-01-01T00:05:00Z"
        });
        let fields = SignatureFields::new(&[
            "sid",
            "factor_sid",
            "details",
            "hidden_details",
            "expiration_date",
        ])
        .unwrap();
        let challenge = ChallengeToSign::from_served(served.as_object().unwrap(), fields).unwrap();
        let _ = verify_answer(&key, &challenge, text);
    }

    pub(super) fn request_jwt(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let key = DeviceKey::from_binding(KEY, "ES256").unwrap();
        for request in [RequestJwt::from_authorization(text), RequestJwt::new(text)]
            .into_iter()
            .flatten()
        {
            if let Ok(kid) = request.kid() {
                let _ = request.verify(
                    &key,
                    &kid,
                    "AC1",
                    &RequestPolicy::default(),
                    UnixTime::from_secs(1_735_689_600),
                );
            }
        }
    }
}
