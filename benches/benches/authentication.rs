//! Full ES256 authentication verification, from the `AuthenticationResponseJSON`
//! string to the decision, beside the bare ES256 verify of the same signature over
//! the same bytes with the same key.
//!
//! "Full" is everything a relying party does per sign-in once it has loaded the
//! credential: JSON parse with size bounds, base64url decoding of every member, the
//! client data parse and checks (type, challenge in constant time, origin,
//! crossOrigin), the authenticator data parse and checks (rpIdHash, UP, UV policy,
//! BE), the signature, and the sign counter. The credential's COSE key is parsed once
//! when the record is loaded (`StoredCredential::new`), as the API intends; its cost
//! is measured separately. Target: full <= 1.15 x bare.
//!
//! In this package verify-webauthn has both backends compiled in, so the full path
//! runs on ring; the bare verify on ring is the denominator, and the RustCrypto
//! backend's bare verify is shown for reference.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

mod common;

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use verify_model::UnixTime;
use verify_webauthn::authentication::{
    AuthenticationInput, ParsedAuthentication, StoredCredential, finish_authentication,
    finish_parsed_authentication, start_authentication, verify_authentication,
};
use verify_webauthn::crypto::{
    Backend, EcCurve, PublicKeyMaterial, RustCrypto, SignatureAlgorithm, VerifyingKey,
};
use verify_webauthn::policy::CeremonyPolicy;
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{AuthenticationResponseJson, CredentialDescriptor};

use common::{Authenticator, ORIGIN, RP_ID};

const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);

fn bench_authentication(c: &mut Criterion) {
    let authenticator = Authenticator::new(1);
    let user_handle = [0x5a_u8; 16];
    let challenge = [0x42_u8; 32];
    let assertion = authenticator.get(
        RP_ID,
        ORIGIN,
        &URL_SAFE_NO_PAD.encode(challenge),
        7,
        &user_handle,
    );
    let cose = authenticator.cose_key();
    let stored =
        StoredCredential::new(authenticator.credential_id.clone(), &cose, 6, Some(false)).unwrap();
    let origins = vec![ORIGIN.to_owned()];
    let policy = CeremonyPolicy::default();
    let input = AuthenticationInput::new(RP_ID, &origins, &challenge, &policy);
    let full = |json: &str| {
        AuthenticationResponseJson::from_json(json)
            .ok()
            .and_then(|response| verify_authentication(&input, &stored, &response).ok())
    };
    let verified = full(&assertion.json).unwrap();
    assert_eq!(verified.sign_count, 7);
    // A tampered assertion (the counter raised after signing) is refused.
    let tampered = assertion.json.replacen(
        &URL_SAFE_NO_PAD.encode(&assertion.signed_message[..37]),
        &URL_SAFE_NO_PAD.encode({
            let mut data = assertion.signed_message[..37].to_vec();
            data[36] ^= 0x10;
            data
        }),
        1,
    );
    assert_ne!(tampered, assertion.json);
    assert!(full(&tampered).is_none());

    let point = authenticator.key.verifying_key().to_encoded_point(false);
    let material = PublicKeyMaterial::Ec {
        curve: EcCurve::P256,
        x: point.x().unwrap(),
        y: point.y().unwrap(),
    };
    let key = VerifyingKey::new(SignatureAlgorithm::Es256, &material).unwrap();
    let rustcrypto = RustCrypto::parse_key(SignatureAlgorithm::Es256, &material).unwrap();
    let (message, signature) = (&assertion.signed_message, &assertion.signature);
    key.verify(message, signature).unwrap();

    let mut group = c.benchmark_group("authentication/ES256");
    group.bench_function("bare ES256 verify (ring, the default backend)", |b| {
        b.iter(|| key.verify(black_box(message), black_box(signature)).is_ok());
    });
    group.bench_function("full: JSON to decision (verify_authentication)", |b| {
        b.iter(|| full(black_box(&assertion.json)).is_some());
    });

    // The ceremony API: the same, plus the stored state's expiry, allowCredentials
    // and userHandle checks.
    let rp = RelyingParty::new(RP_ID, "Owl Bank", origins.clone()).unwrap();
    let descriptor: CredentialDescriptor = serde_json::from_value(serde_json::json!({
        "type": "public-key",
        "id": URL_SAFE_NO_PAD.encode(&authenticator.credential_id),
    }))
    .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (options, state) = start_authentication(
        &rp,
        Some((&user_handle, std::slice::from_ref(&descriptor))),
        NOW,
        &mut rng,
    );
    let ceremony = authenticator.get(
        RP_ID,
        ORIGIN,
        &URL_SAFE_NO_PAD.encode(options.challenge.as_slice()),
        7,
        &user_handle,
    );
    let finish = |json: &str| {
        AuthenticationResponseJson::from_json(json)
            .ok()
            .and_then(|response| finish_authentication(&rp, &state, &response, &stored, NOW).ok())
    };
    assert!(finish(&ceremony.json).is_some());
    group.bench_function("full: JSON to decision (finish_authentication)", |b| {
        b.iter(|| finish(black_box(&ceremony.json)).is_some());
    });
    // What the engine runs: the body bytes as received, parsed once (client data
    // included) and routed by the claimed challenge, then finished on that parse.
    let parsed_once = |body: &[u8]| {
        ParsedAuthentication::from_slice(body)
            .ok()
            .and_then(|parsed| {
                parsed.claimed_challenge().ok()?;
                finish_parsed_authentication(&rp, &state, &parsed, &stored, NOW).ok()
            })
    };
    assert!(parsed_once(ceremony.json.as_bytes()).is_some());
    group.bench_function(
        "full: bytes to decision, parsed once (finish_parsed_authentication)",
        |b| {
            b.iter(|| parsed_once(black_box(ceremony.json.as_bytes())).is_some());
        },
    );
    group.bench_function("bare ES256 verify (RustCrypto backend, reference)", |b| {
        b.iter(|| {
            RustCrypto::verify(&rustcrypto, black_box(message), black_box(signature)).is_ok()
        });
    });
    group.bench_function(
        "load: StoredCredential::new (COSE key parse, once per record)",
        |b| {
            b.iter(|| {
                StoredCredential::new(
                    authenticator.credential_id.clone(),
                    black_box(&cose),
                    6,
                    Some(false),
                )
                .is_ok()
            });
        },
    );
    group.finish();
}

criterion_group!(benches, bench_authentication);
criterion_main!(benches);
