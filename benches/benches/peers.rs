//! verify beside its peers, on the same work (`--features peers`):
//!
//! - **ES256 authentication**: webauthn-rs-core 0.5 (OpenSSL underneath) and
//!   verify-webauthn each verify an assertion from the same software authenticator
//!   (one P-256 key, the same 32-byte credential id, 16-byte user handle, 32-byte
//!   challenge, sign count 1), each timed from the `AuthenticationResponseJSON` text
//!   to the decision. The webauthn-rs-core credential is made honestly through its
//!   own registration API (`generate_challenge_register` -> software authenticator,
//!   `none` attestation -> `register_credential`), and its assertion is signed over
//!   the challenge of its own `generate_challenge_authenticate`; verify's over the
//!   challenge of its own `start_authentication`.
//! - **TOTP**: totp-rs's `check(token, time)` (what `check_current` calls after
//!   reading the clock) and `verify_totp::check`, both SHA-1, 6 digits, 30 s, skew 1,
//!   on the same secret, time and code.
//!
//! Target: verify faster than webauthn-rs-core.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use verify_model::UnixTime;
use verify_webauthn::authentication::{
    StoredCredential, finish_authentication, start_authentication,
};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{AuthenticationResponseJson, CredentialDescriptor};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{PublicKeyCredential, RegisterPublicKeyCredential};

use common::{Authenticator, ORIGIN, RP_ID};

const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);
const USER_HANDLE: [u8; 16] = [0x5a; 16];

fn challenge_of(options: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(options).unwrap();
    value["publicKey"]["challenge"].as_str().unwrap().to_owned()
}

fn bench_webauthn(c: &mut Criterion) {
    let authenticator = Authenticator::new(21);

    // webauthn-rs-core: register through its own API, then one assertion over its
    // own authentication challenge.
    let core = WebauthnCore::new_unsafe_experts_only(
        "Owl Bank",
        RP_ID,
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(300),
        None,
        None,
    );
    let builder = core
        .new_challenge_register_builder(&USER_HANDLE, "jane", "Jane")
        .unwrap();
    let (creation, registration) = core.generate_challenge_register(builder).unwrap();
    let created = authenticator.create(RP_ID, ORIGIN, &challenge_of(&creation));
    let created: RegisterPublicKeyCredential = serde_json::from_str(&created).unwrap();
    let credential = core
        .register_credential(&created, &registration, None)
        .unwrap();
    let builder = core
        .new_challenge_authenticate_builder(vec![credential], None)
        .unwrap();
    let (request, state) = core.generate_challenge_authenticate(builder).unwrap();
    let theirs = authenticator.get(RP_ID, ORIGIN, &challenge_of(&request), 1, &USER_HANDLE);
    let webauthn_rs = |json: &str| {
        serde_json::from_str::<PublicKeyCredential>(json)
            .ok()
            .and_then(|response| core.authenticate_credential(&response, &state).ok())
    };
    assert!(webauthn_rs(&theirs.json).is_some());
    let tampered = theirs
        .json
        .replacen("\"signature\":\"", "\"signature\":\"A", 1);
    assert!(webauthn_rs(&tampered).is_none());

    // verify-webauthn: the same key and sizes, over its own challenge.
    let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
    let descriptor: CredentialDescriptor = serde_json::from_value(serde_json::json!({
        "type": "public-key",
        "id": URL_SAFE_NO_PAD.encode(&authenticator.credential_id),
    }))
    .unwrap();
    let (options, ours_state) = start_authentication(
        &rp,
        Some((&USER_HANDLE, std::slice::from_ref(&descriptor))),
        NOW,
        &mut ChaCha20Rng::seed_from_u64(9),
    );
    let ours = authenticator.get(
        RP_ID,
        ORIGIN,
        &URL_SAFE_NO_PAD.encode(options.challenge.as_slice()),
        1,
        &USER_HANDLE,
    );
    assert_eq!(ours.json.len(), theirs.json.len(), "same byte sizes");
    let stored = StoredCredential::new(
        authenticator.credential_id.clone(),
        &authenticator.cose_key(),
        0,
        Some(false),
    )
    .unwrap();
    let verify = |json: &str| {
        AuthenticationResponseJson::from_json(json)
            .ok()
            .and_then(|response| {
                finish_authentication(&rp, &ours_state, &response, &stored, NOW).ok()
            })
    };
    assert!(verify(&ours.json).is_some());
    let tampered = ours
        .json
        .replacen("\"signature\":\"", "\"signature\":\"A", 1);
    assert!(verify(&tampered).is_none());

    let mut group = c.benchmark_group("peers/ES256 authentication (JSON to decision)");
    group.bench_function("webauthn-rs-core 0.5 authenticate_credential", |b| {
        b.iter(|| webauthn_rs(black_box(&theirs.json)).is_some());
    });
    group.bench_function("verify-webauthn finish_authentication", |b| {
        b.iter(|| verify(black_box(&ours.json)).is_some());
    });
    group.finish();
}

fn bench_totp(c: &mut Criterion) {
    let key = b"12345678901234567890".to_vec();
    let now = 1_767_225_615_u64;
    let theirs = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, key.clone()).unwrap();
    let secret = verify_totp::Secret::from_bytes(key).unwrap();
    let config = verify_totp::TotpConfig::new(
        verify_totp::Algorithm::Sha1,
        verify_totp::Digits::DEFAULT,
        verify_totp::Period::DEFAULT,
        verify_totp::Skew::new(1).unwrap(),
    );
    let at = UnixTime::from_secs(now);
    let code = verify_totp::generate(&secret, &config, at)
        .unwrap()
        .to_string();
    assert_eq!(theirs.generate(now), code);
    assert!(theirs.check(&code, now));
    assert!(verify_totp::check(&secret, &config, &code, at, None).is_ok());
    // A wrong code of the right shape: both compute the whole window.
    let wrong = (0..1_000_000)
        .map(|value| format!("{value:06}"))
        .find(|candidate| !theirs.check(candidate, now))
        .unwrap();
    assert!(verify_totp::check(&secret, &config, &wrong, at, None).is_err());

    let mut group = c.benchmark_group("peers/TOTP check (SHA-1, skew 1)");
    for (name, token) in [("valid", &code), ("wrong", &wrong)] {
        group.bench_function(format!("totp-rs check ({name})"), |b| {
            b.iter(|| theirs.check(black_box(token), now));
        });
        group.bench_function(format!("verify-totp check ({name})"), |b| {
            b.iter(|| verify_totp::check(&secret, &config, black_box(token), at, None).is_ok());
        });
    }
    group.finish();
}

criterion_group!(benches, bench_webauthn, bench_totp);
criterion_main!(benches);
