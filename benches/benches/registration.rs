//! Full registration verification (`verify_registration`: JSON parse, client data,
//! attestation object CBOR, authenticator data, COSE key, attestation statement and,
//! for x5c, the certificate chain up to the trust anchor at a fixed `now`) for the
//! W3C WebAuthn L3 test vectors `none-es256`, `packed-es256` (x5c) and `tpm-es256`,
//! each beside one bare ES256 verify with the same vector's credential key (its
//! authentication signature), so the ratio reads "registration costs N signature
//! verifies". A `none` registration checks no signature at all; `packed` x5c checks
//! the statement signature and the leaf certificate's signature; `tpm` additionally
//! parses `certInfo`/`pubArea`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use verify_model::UnixTime;
use verify_webauthn::attestation::{AnchorScope, TrustAnchors};
use verify_webauthn::base64url;
use verify_webauthn::cose::CoseKey;
use verify_webauthn::policy::CeremonyPolicy;
use verify_webauthn::registration::{RegistrationInput, verify_registration};
use verify_webauthn::wire::RegistrationResponseJson;

const VECTORS: &str = include_str!("../testdata/webauthn-l3-test-vectors.json");
/// 2026-01-01: inside the vectors' certificate validity (2024-01-01 .. 3024-01-01).
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);

fn vector<'a>(all: &'a Value, suffix: &str) -> &'a Value {
    let id = format!("sctn-test-vectors-{suffix}");
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id.as_str())
        .unwrap()
}

fn hex_field(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn registration_json(v: &Value) -> String {
    let outputs = &v["registration"]["outputs"];
    let id = base64url::encode(&hex_field(
        &v["registration"]["generator_inputs"]["credential_id"],
    ));
    serde_json::json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": {
            "clientDataJSON": base64url::encode(&hex_field(&outputs["clientDataJSON"])),
            "attestationObject": base64url::encode(&hex_field(&outputs["attestationObject"])),
            "transports": ["internal"],
        },
        "clientExtensionResults": {},
    })
    .to_string()
}

fn bench_registration(c: &mut Criterion) {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let mut anchors = TrustAnchors::new();
    anchors
        .add_der(
            AnchorScope::All,
            &hex_field(&vector(&all, "attestation-root-cert")["attestation_ca_cert_der_hex"]),
        )
        .unwrap();
    let policy = CeremonyPolicy::default();
    for (suffix, format) in [
        ("none-es256", "none"),
        ("packed-es256", "packed"),
        ("tpm-es256", "tpm"),
    ] {
        let v = vector(&all, suffix);
        let origins = vec![v["origin"].as_str().unwrap().to_owned()];
        let rp_id = v["rp_id"].as_str().unwrap();
        let challenge = hex_field(&v["registration"]["inputs"]["challenge"]);
        let input = RegistrationInput::new(rp_id, &origins, &challenge, &policy, &anchors, NOW);
        let json = registration_json(v);
        let full = |json: &str| {
            RegistrationResponseJson::from_json(json)
                .ok()
                .and_then(|response| verify_registration(&input, &response).ok())
        };
        let registered = full(&json).unwrap();
        assert_eq!(registered.credential.attestation_format, format);
        if format != "none" {
            assert!(registered.credential.attestation_trusted);
        }
        // Tampered: the challenge the RP expects differs from the signed one.
        let mut other = challenge.clone();
        other[0] ^= 1;
        let wrong = RegistrationInput::new(rp_id, &origins, &other, &policy, &anchors, NOW);
        let response = RegistrationResponseJson::from_json(&json).unwrap();
        assert!(verify_registration(&wrong, &response).is_err());

        // The same credential key's bare verify: the vector's assertion signature.
        let key = CoseKey::from_bytes(registered.credential.public_key_cose.as_slice()).unwrap();
        let key = key.verifying_key();
        let outputs = &v["authentication"]["outputs"];
        let mut message = hex_field(&outputs["authenticatorData"]);
        message.extend_from_slice(&{
            use sha2::Digest as _;
            sha2::Sha256::digest(hex_field(&outputs["clientDataJSON"]))
        });
        let signature = hex_field(&outputs["signature"]);
        key.verify(&message, &signature).unwrap();

        let mut group = c.benchmark_group(format!("registration/{suffix}"));
        group.bench_function("bare ES256 verify (credential key, ring)", |b| {
            b.iter(|| {
                key.verify(black_box(&message), black_box(&signature))
                    .is_ok()
            });
        });
        group.bench_function("full: verify_registration (JSON to record)", |b| {
            b.iter(|| full(black_box(&json)).is_some());
        });
        group.finish();
    }
}

criterion_group!(benches, bench_registration);
criterion_main!(benches);
