//! Push approval verification (`verify_push::verify_answer`: the approve/deny
//! compact JWS checked over the received bytes, its payload parsed and compared with
//! the served challenge) beside the bare ES256 verify of the same signature over the
//! same `seg0.seg1` with the same key: raw ring (the default backend here, since the
//! engine enables `ring`) and raw p256, and each verify-push backend by name.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::json;
use verify_push::crypto::{Ring, RustCrypto};
use verify_push::{ChallengeToSign, Decision, DeviceKey, SignatureFields, verify_answer};

fn bench_push(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let device = SigningKey::random(&mut rng);
    let binding = STANDARD.encode(
        device
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes(),
    );
    let key = DeviceKey::from_binding(&binding, "ES256").unwrap();

    // A challenge as the engine serves it (recommended signature fields).
    let served = json!({
        "sid": "YC0123456789abcdef0123456789abcdef",
        "account_sid": "ACacacacacacacacacacacacacacacacac",
        "service_sid": "VA0123456789abcdef0123456789abcdef",
        "entity_sid": "YE0123456789abcdef0123456789abcdef",
        "identity": "ff483d1ff591898a9942916050d2ca3f",
        "factor_sid": "YF0123456789abcdef0123456789abcdef",
        "date_created": "2025-01-01T00:00:00Z",
        "date_updated": "2025-01-01T00:00:00Z",
        "date_responded": null,
        "expiration_date": "2025-01-01T00:05:00Z",
        "status": "pending",
        "responded_reason": "none",
        "details": {"message": "Approve login to Owl Bank?", "date": "2025-01-01T00:00:00Z",
            "fields": [{"label": "Location", "value": "Lisbon"}, {"label": "IP", "value": "203.0.113.7"}]},
        "hidden_details": {"ip": "203.0.113.7"},
        "metadata": null,
        "factor_type": "push",
    });
    let challenge =
        ChallengeToSign::from_served(served.as_object().unwrap(), SignatureFields::recommended())
            .unwrap();
    let payload = serde_json::to_vec(&challenge.payload_to_sign(Decision::Approved)).unwrap();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
        URL_SAFE_NO_PAD.encode(&payload)
    );
    let signature: Signature = device.sign(signing_input.as_bytes());
    let auth_payload = format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    );
    let answer = verify_answer(&key, &challenge, &auth_payload).unwrap();
    assert_eq!(answer.decision(), Decision::Approved);
    // Tampered: one payload character changed after signing.
    let tampered = auth_payload.replacen('.', ".e", 1);
    assert!(verify_answer(&key, &challenge, &tampered).is_err());

    let verifying = *device.verifying_key();
    let raw_signature = signature.to_bytes().to_vec();
    let point = key.to_sec1_uncompressed();
    let mut group = c.benchmark_group("push");
    group.bench_function("bare ES256 verify (p256, raw r||s over seg0.seg1)", |b| {
        b.iter(|| {
            Signature::from_slice(black_box(&raw_signature))
                .and_then(|sig| verifying.verify(black_box(signing_input.as_bytes()), &sig))
                .is_ok()
        });
    });
    group.bench_function("bare ES256 verify (ring, raw r||s over seg0.seg1)", |b| {
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                black_box(&point),
            )
            .verify(
                black_box(signing_input.as_bytes()),
                black_box(&raw_signature),
            )
            .is_ok()
        });
    });
    group.bench_function("backend RustCrypto (DeviceKey::verify_raw_with)", |b| {
        b.iter(|| {
            key.verify_raw_with::<RustCrypto>(
                black_box(signing_input.as_bytes()),
                black_box(&raw_signature),
            )
            .is_ok()
        });
    });
    group.bench_function("backend ring (DeviceKey::verify_raw_with)", |b| {
        b.iter(|| {
            key.verify_raw_with::<Ring>(
                black_box(signing_input.as_bytes()),
                black_box(&raw_signature),
            )
            .is_ok()
        });
    });
    group.bench_function("full: verify_answer (JWS to decision, ring)", |b| {
        b.iter(|| verify_answer(&key, &challenge, black_box(&auth_payload)).is_ok());
    });
    group.finish();
}

criterion_group!(benches, bench_push);
criterion_main!(benches);
