//! The engine's approve paths over `MemoryStore`, each beside the verification call
//! inside it. Target: engine <= 1.10 x the verification inside it.
//!
//! - `passkeys`: `approve_passkey_challenge` with an `AuthenticationResponseJSON`,
//!   beside verify-webauthn's `AuthenticationResponseJson::from_json` +
//!   `finish_authentication` (the credential's key already parsed) on an assertion
//!   of the same key and byte sizes.
//! - `push`: `update_challenge` with the approve JWS as `AuthPayload`, beside
//!   `verify_push::verify_answer` (key and served view already built).
//! - `totp`: `update_challenge` with the code, beside `verify_totp::check` (skew 1).
//!
//! Method: approving consumes the challenge (a second approval is refused), so every
//! measured call needs its own pending challenge. Criterion's `iter_batched` runs an
//! untimed setup that creates a fresh challenge through the engine and signs (or
//! computes) its answer, then times only the approve call. Passkey and push
//! challenges are independent, so they are set up a batch at a time
//! (`BatchSize::SmallInput`); a TOTP code must be for the current time step and above
//! the factor's last used step, so each TOTP iteration advances the engine's manual
//! clock by one 30-second step, creates the challenge and computes the code right
//! before its call (`BatchSize::PerIteration`, which times each call on its own;
//! the timer's own cost, tens of nanoseconds, is counted against the engine). Before
//! each group is measured, one call through the same setup is checked to approve
//! (`is_approved`) and an answer for another challenge (or a reused code) is checked
//! not to; the measured calls' results go to criterion, which drops them untimed. The
//! store keeps every answered challenge, so it grows during a run; the
//! in-memory store's lookups are keyed, so that does not change the per-call cost.
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
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use verify_engine::{
    ChallengeUpdate, EngineConfig, ManualClock, NewChallengeRequest, NewPushFactor, NewTotpFactor,
    ServiceSettings, Verify,
};
use verify_model::{
    AccountSid, DetailField, Details, Identity, PasskeysConfig, TotpSecret, UnixTime,
};
use verify_push::{ChallengeToSign, DeviceKey, SignatureFields, verify_answer};
use verify_store::MemoryStore;
use verify_webauthn::authentication::{
    StoredCredential, finish_authentication, start_authentication,
};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{AuthenticationResponseJson, CredentialDescriptor};

use common::{Authenticator, ORIGIN, RP_ID, block_on};

/// 2025-01-01T00:00:00Z.
const T0: u64 = 1_735_689_600;

/// A passkey challenge's `options` as the API serves them (`{"publicKey": ...}`).
fn request_options(challenge: &verify_model::Challenge) -> Value {
    let ceremony = challenge.passkey().unwrap();
    serde_json::json!({ "publicKey": ceremony.options })
}

fn engine(seed: u64) -> (Verify<MemoryStore>, ManualClock) {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let verify = Verify::new(
        MemoryStore::new(),
        EngineConfig::new(AccountSid::from_bytes([0xac; 16])),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(seed),
    );
    (verify, clock)
}

fn approved(update: &Result<ChallengeUpdate, verify_engine::VerifyError>) {
    assert!(
        update.as_ref().is_ok_and(ChallengeUpdate::is_approved),
        "not approved: {update:?}"
    );
}

fn bench_passkeys(c: &mut Criterion) {
    let (verify, _clock) = engine(1);
    let authenticator = Authenticator::new(11);
    let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
    let (service, user_handle) = block_on(async {
        let rp =
            verify_model::RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
        let service = verify
            .create_service(
                "Owl Bank",
                &ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp)),
            )
            .await
            .unwrap()
            .sid();
        let created = verify
            .create_passkey_factor(service, &identity, "My laptop")
            .await
            .unwrap();
        let challenge = created.options["publicKey"]["challenge"].as_str().unwrap();
        let response = authenticator.create(RP_ID, ORIGIN, challenge);
        let factor = verify
            .verify_passkey_factor(service, &identity, created.factor.sid(), &response)
            .await
            .unwrap();
        (service, factor.entity_sid().to_string().into_bytes())
    });
    // A fresh challenge and its assertion (sign count 0: an authenticator without a
    // counter, so every assertion is acceptable and none is a replay of another).
    let fresh = || {
        block_on(async {
            let challenge = verify
                .create_passkey_challenge(service, Some(&identity), None, None)
                .await
                .unwrap()
                .challenge;
            let options = &request_options(&challenge);
            let nonce = options["publicKey"]["challenge"].as_str().unwrap();
            let assertion = authenticator.get(RP_ID, ORIGIN, nonce, 0, &user_handle);
            (challenge.sid(), assertion.json)
        })
    };
    let approve = |(sid, json): (verify_model::ChallengeSid, String)| {
        block_on(verify.approve_passkey_challenge(service, sid, black_box(&json)))
    };
    approved(&approve(fresh()));
    // Tampered: an assertion for one challenge does not approve another.
    let (first, _) = fresh();
    let (_, other_json) = fresh();
    assert!(approve((first, other_json)).is_err());

    // The verification inside: the same key, an assertion of the same byte sizes.
    let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
    let descriptor: CredentialDescriptor = serde_json::from_value(serde_json::json!({
        "type": "public-key",
        "id": URL_SAFE_NO_PAD.encode(&authenticator.credential_id),
    }))
    .unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (options, state) = start_authentication(
        &rp,
        Some((&user_handle, std::slice::from_ref(&descriptor))),
        UnixTime::from_secs(T0),
        &mut rng,
    );
    let assertion = authenticator.get(
        RP_ID,
        ORIGIN,
        &URL_SAFE_NO_PAD.encode(options.challenge.as_slice()),
        0,
        &user_handle,
    );
    let stored = StoredCredential::new(
        authenticator.credential_id.clone(),
        &authenticator.cose_key(),
        0,
        Some(false),
    )
    .unwrap()
    .with_user_handle(user_handle.clone());
    let inner = |json: &str| {
        AuthenticationResponseJson::from_json(json)
            .ok()
            .and_then(|response| {
                finish_authentication(&rp, &state, &response, &stored, UnixTime::from_secs(T0)).ok()
            })
    };
    assert!(inner(&assertion.json).is_some());

    let mut group = c.benchmark_group("engine/passkeys");
    group.bench_function("inside: from_json + finish_authentication", |b| {
        b.iter(|| inner(black_box(&assertion.json)).is_some());
    });
    group.bench_function("engine: approve_passkey_challenge (MemoryStore)", |b| {
        b.iter_batched(fresh, approve, BatchSize::SmallInput);
    });
    group.finish();
    approved(&approve(fresh()));
}

fn details() -> Details {
    Details::new(
        "Approve login to Owl Bank?",
        vec![
            DetailField::new("Location", "Lisbon").unwrap(),
            DetailField::new("IP", "203.0.113.7").unwrap(),
        ],
    )
    .unwrap()
}

/// What the SDK signs (the listed fields exactly as served, plus `status`) as a
/// compact JWS with a raw r||s signature.
fn answer(device: &SigningKey, json: &Value, fields: &str) -> String {
    let mut signed = serde_json::Map::new();
    for field in fields.split(',') {
        signed.insert(field.to_owned(), json[field].clone());
    }
    signed.insert("status".into(), Value::String("approved".into()));
    let payload = serde_json::to_string(&Value::Object(signed)).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let sig: Signature = device.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn bench_push(c: &mut Criterion) {
    let (verify, _clock) = engine(2);
    let device = SigningKey::random(&mut ChaCha20Rng::seed_from_u64(12));
    let binding = STANDARD.encode(
        device
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes(),
    );
    let identity = Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap();
    let (service, factor_sid) = block_on(async {
        let service = verify
            .create_service("Owl Bank", &ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let token = verify
            .create_access_token(service, &identity, None, None)
            .await
            .unwrap();
        let factor = verify
            .create_push_factor(
                service,
                &identity,
                token.credential(),
                NewPushFactor::new("Jane's phone", &binding, "com.owl.bank"),
            )
            .await
            .unwrap();
        let proof: DerSignature = device.sign(factor.sid().to_string().as_bytes());
        let factor = verify
            .verify_factor(
                service,
                &identity,
                factor.sid(),
                &STANDARD.encode(proof.as_bytes()),
            )
            .await
            .unwrap();
        (service, factor.sid())
    });
    let fresh = || {
        block_on(async {
            let sid = verify
                .create_challenge(
                    service,
                    &identity,
                    factor_sid,
                    NewChallengeRequest::new().with_details(details()),
                )
                .await
                .unwrap()
                .challenge
                .sid();
            let served = verify
                .serve_push_challenge(service, &identity, sid)
                .await
                .unwrap();
            let payload = answer(&device, &served.json, &served.signature_fields);
            (sid, payload, served)
        })
    };
    let approve = |(sid, payload): (verify_model::ChallengeSid, String)| {
        block_on(verify.update_challenge(service, &identity, sid, black_box(&payload), None))
    };
    approved(&approve({
        let (sid, payload, _) = fresh();
        (sid, payload)
    }));
    // Tampered: an answer signed for one challenge does not approve another.
    let (first, _, _) = fresh();
    let (_, other, _) = fresh();
    assert!(approve((first, other)).is_err());

    // The verification inside: the factor's key and the served view built once.
    let (_, payload, served) = fresh();
    let key = DeviceKey::from_binding(&binding, "ES256").unwrap();
    let view = ChallengeToSign::from_served(
        served.json.as_object().unwrap(),
        SignatureFields::from_header_value(&served.signature_fields).unwrap(),
    )
    .unwrap();
    assert!(verify_answer(&key, &view, &payload).is_ok());

    let mut group = c.benchmark_group("engine/push");
    group.bench_function("inside: verify_answer", |b| {
        b.iter(|| verify_answer(&key, &view, black_box(&payload)).is_ok());
    });
    group.bench_function(
        "engine: update_challenge with AuthPayload (MemoryStore)",
        |b| {
            b.iter_batched(
                fresh,
                |(sid, payload, _)| approve((sid, payload)),
                BatchSize::SmallInput,
            );
        },
    );
    group.finish();
}

fn bench_totp(c: &mut Criterion) {
    let (verify, clock) = engine(3);
    let secret_bytes = b"12345678901234567890".to_vec();
    let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
    let secret = verify_totp::Secret::from_bytes(secret_bytes.clone()).unwrap();
    let config = verify_totp::TotpConfig::new(
        verify_totp::Algorithm::Sha1,
        verify_totp::Digits::DEFAULT,
        verify_totp::Period::DEFAULT,
        verify_totp::Skew::new(1).unwrap(),
    );
    let code_now = || {
        verify_totp::generate(&secret, &config, clock.get())
            .unwrap()
            .to_string()
    };
    let (service, factor_sid) = block_on(async {
        let service = verify
            .create_service("Owl Bank", &ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let created = verify
            .create_totp_factor(
                service,
                &identity,
                NewTotpFactor::new("jane@owl").with_secret(TotpSecret::new(secret_bytes).unwrap()),
            )
            .await
            .unwrap();
        let factor = verify
            .verify_factor(service, &identity, created.factor.sid(), &code_now())
            .await
            .unwrap();
        (service, factor.sid())
    });
    // One step later: a fresh challenge and the code of the new step.
    let fresh = || {
        clock.advance(Duration::from_secs(30));
        let sid = block_on(verify.create_challenge(
            service,
            &identity,
            factor_sid,
            NewChallengeRequest::new(),
        ))
        .unwrap()
        .challenge
        .sid();
        (sid, code_now())
    };
    let approve = |(sid, code): (verify_model::ChallengeSid, String)| {
        block_on(verify.update_challenge(service, &identity, sid, black_box(&code), None))
    };
    approved(&approve(fresh()));
    // Tampered: a reused code (its step is used up) does not approve.
    let (sid, code) = fresh();
    approved(&approve((sid, code.clone())));
    let (sid, _) = fresh();
    assert!(!approve((sid, code)).is_ok_and(|update| update.is_approved()));

    // The verification inside: the check at skew 1 with a last used step.
    let now = clock.get();
    let code = code_now();
    let last = now.as_secs() / 30 - 2;
    assert!(verify_totp::check(&secret, &config, &code, now, Some(last)).is_ok());

    let mut group = c.benchmark_group("engine/totp");
    group.bench_function("inside: verify_totp::check (skew 1)", |b| {
        b.iter(|| verify_totp::check(&secret, &config, black_box(&code), now, Some(last)).is_ok());
    });
    group.bench_function(
        "engine: update_challenge with the code (MemoryStore)",
        |b| {
            b.iter_batched(fresh, approve, BatchSize::PerIteration);
        },
    );
    group.finish();
}

fn bench_engine(c: &mut Criterion) {
    bench_passkeys(c);
    bench_push(c);
    bench_totp(c);
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
