//! Extensions end to end with a software authenticator: every extension's options
//! JSON, accepted outputs and refused ones; the `appid` accept/refuse matrix; the
//! W3C L3 PRF vectors; `hints`, `attestationFormats` and the conveyance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use verify_model::UnixTime;
use verify_webauthn::attestation::{AttestationFormat, TrustAnchors};
use verify_webauthn::authentication::{
    AuthenticationOptions, AuthenticationState, StoredCredential, finish_authentication,
    start_authentication_with_options,
};
use verify_webauthn::base64url::Base64UrlBytes;
use verify_webauthn::challenge::CeremonyChallenge;
use verify_webauthn::extensions::{
    AuthenticationExtensions, CredentialProtectionPolicy, LargeBlobRequest, LargeBlobSupport,
    PrfRequest, PrfValues, RegistrationExtensions,
};
use verify_webauthn::policy::{AttestationConveyance, Hint};
use verify_webauthn::registration::{
    RegistrationOptions, RegistrationState, VerifiedRegistration, finish_registration,
    start_registration_with_options,
};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{
    AuthenticationResponseJson, CredentialDescriptor, RegistrationResponseJson, UserEntity,
};
use verify_webauthn::{ParseError, WebauthnError, base64url};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const APPID: &str = "https://example.org/u2f/appid.json";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const UP: u8 = 0x01;
const AT: u8 = 0x40;
const ED: u8 = 0x80;
const CREDENTIAL_ID: [u8; 16] = [0xc1; 16];

fn rp() -> RelyingParty {
    RelyingParty::new(RP_ID, "Example", vec![ORIGIN.to_owned()]).unwrap()
}

fn key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap()
}

fn cose_key() -> Vec<u8> {
    let point = key().verifying_key().to_encoded_point(false);
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    cose.extend_from_slice(point.x().unwrap());
    cose.extend_from_slice(&[0x22, 0x58, 0x20]);
    cose.extend_from_slice(point.y().unwrap());
    cose
}

fn cbor(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

/// Authenticator data for `rp_id`; with `extensions`, the ED flag and the map.
fn auth_data(rp_id: &str, attested: bool, extensions: Option<ciborium::Value>) -> Vec<u8> {
    let mut data = sha2::Sha256::digest(rp_id.as_bytes()).to_vec();
    let mut flags = UP;
    if attested {
        flags |= AT;
    }
    if extensions.is_some() {
        flags |= ED;
    }
    data.push(flags);
    data.extend_from_slice(&u32::from(!attested).to_be_bytes());
    if attested {
        data.extend_from_slice(&[0; 16]);
        data.extend_from_slice(&16_u16.to_be_bytes());
        data.extend_from_slice(&CREDENTIAL_ID);
        data.extend_from_slice(&cose_key());
    }
    if let Some(extensions) = extensions {
        data.extend(cbor(&extensions));
    }
    data
}

fn extensions_map(entries: &[(&str, ciborium::Value)]) -> ciborium::Value {
    ciborium::Value::Map(
        entries
            .iter()
            .map(|(k, v)| (ciborium::Value::Text((*k).to_owned()), v.clone()))
            .collect(),
    )
}

fn client_data(kind: &str, challenge: &[u8]) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{ORIGIN}"}}"#,
        base64url::encode(challenge)
    )
    .into_bytes()
}

fn user() -> UserEntity {
    UserEntity::new(b"user-1".to_vec(), "alice", "Alice")
}

fn challenge(seed: u64) -> CeremonyChallenge {
    CeremonyChallenge::random(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn start_registration(
    options: &RegistrationOptions,
) -> (
    verify_webauthn::wire::CreationOptionsJson,
    RegistrationState,
) {
    start_registration_with_options(&rp(), &user(), &[], challenge(1), options, NOW).unwrap()
}

fn registration_response(
    state_challenge: &[u8],
    extensions: Option<ciborium::Value>,
    client_results: Value,
) -> RegistrationResponseJson {
    let object = ciborium::Value::Map(vec![
        ("fmt".into(), "none".into()),
        ("attStmt".into(), ciborium::Value::Map(vec![])),
        (
            "authData".into(),
            ciborium::Value::Bytes(auth_data(RP_ID, true, extensions)),
        ),
    ]);
    let id = base64url::encode(&CREDENTIAL_ID);
    RegistrationResponseJson::from_json(
        &json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": base64url::encode(&client_data("webauthn.create", state_challenge)),
                "attestationObject": base64url::encode(&cbor(&object)),
            },
            "clientExtensionResults": client_results,
        })
        .to_string(),
    )
    .unwrap()
}

/// Starts a registration requesting `extensions`, answers it with the authenticator
/// extensions and client outputs given, and finishes it.
fn register(
    extensions: RegistrationExtensions,
    authenticator: Option<ciborium::Value>,
    client_results: Value,
) -> Result<VerifiedRegistration, WebauthnError> {
    let options = RegistrationOptions::new().with_extensions(extensions);
    let (creation, state) = start_registration(&options);
    let response =
        registration_response(creation.challenge.as_slice(), authenticator, client_results);
    finish_registration(&rp(), &state, &response, NOW, &TrustAnchors::new())
}

fn stored() -> StoredCredential {
    StoredCredential::new(CREDENTIAL_ID.to_vec(), &cose_key(), 0, None)
        .unwrap()
        .with_user_handle(b"user-1".to_vec())
}

fn descriptor() -> CredentialDescriptor {
    CredentialDescriptor::new(CREDENTIAL_ID.to_vec(), vec![])
}

fn start_authentication(
    extensions: AuthenticationExtensions,
) -> (
    verify_webauthn::wire::RequestOptionsJson,
    AuthenticationState,
) {
    let options = AuthenticationOptions::new().with_extensions(extensions);
    start_authentication_with_options(
        &rp(),
        Some((b"user-1", &[descriptor()])),
        challenge(2),
        &options,
        NOW,
    )
    .unwrap()
}

fn assertion(challenge: &[u8], rp_id: &str, client_results: Value) -> AuthenticationResponseJson {
    let client_data = client_data("webauthn.get", challenge);
    let auth_data = auth_data(rp_id, false, None);
    let mut message = auth_data.clone();
    message.extend_from_slice(&sha2::Sha256::digest(&client_data));
    let signature: p256::ecdsa::Signature = key().sign(&message);
    let id = base64url::encode(&CREDENTIAL_ID);
    AuthenticationResponseJson::from_json(
        &json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": base64url::encode(&client_data),
                "authenticatorData": base64url::encode(&auth_data),
                "signature": base64url::encode(signature.to_der().as_bytes()),
                "userHandle": base64url::encode(b"user-1"),
            },
            "clientExtensionResults": client_results,
        })
        .to_string(),
    )
    .unwrap()
}

fn authenticate(
    extensions: AuthenticationExtensions,
    rp_id: &str,
    client_results: Value,
) -> Result<verify_webauthn::authentication::VerifiedAuthentication, WebauthnError> {
    let (request, state) = start_authentication(extensions);
    let response = assertion(request.challenge.as_slice(), rp_id, client_results);
    finish_authentication(&rp(), &state, &response, &stored(), NOW)
}

fn malformed(result: Result<impl std::fmt::Debug, WebauthnError>, extension: &str) {
    match result {
        Err(WebauthnError::ExtensionOutputMalformed { extension: got, .. }) if got == extension => {
        }
        other => panic!("expected a malformed {extension} output, got {other:?}"),
    }
}

fn not_met(result: Result<impl std::fmt::Debug, WebauthnError>, extension: &str) {
    match result {
        Err(WebauthnError::ExtensionRequirementNotMet { extension: got, .. })
            if got == extension => {}
        other => panic!("expected {extension} requirement not met, got {other:?}"),
    }
}

fn int(value: i64) -> ciborium::Value {
    ciborium::Value::Integer(value.into())
}

// ---- credProps ----

#[test]
fn cred_props_reports_rk() {
    let request = RegistrationExtensions::new().with_cred_props();
    let (creation, _) =
        start_registration(&RegistrationOptions::new().with_extensions(request.clone()));
    assert_eq!(
        serde_json::to_value(&creation).unwrap()["extensions"],
        json!({"credProps": true})
    );
    let verified = register(request.clone(), None, json!({"credProps": {"rk": true}})).unwrap();
    assert_eq!(verified.extensions.cred_props_rk, Some(true));
    let verified = register(request.clone(), None, json!({"credProps": {"rk": false}})).unwrap();
    assert_eq!(verified.extensions.cred_props_rk, Some(false));
    // The client may say nothing (no rk, or no credProps at all).
    let verified = register(request.clone(), None, json!({"credProps": {}})).unwrap();
    assert_eq!(verified.extensions.cred_props_rk, None);
    assert_eq!(
        register(request.clone(), None, json!({}))
            .unwrap()
            .extensions
            .cred_props_rk,
        None
    );
    malformed(
        register(request.clone(), None, json!({"credProps": {"rk": "yes"}})),
        "credProps",
    );
    malformed(
        register(request, None, json!({"credProps": true})),
        "credProps",
    );
    // Not requested: the output is ignored, even malformed.
    let verified = register(
        RegistrationExtensions::default(),
        None,
        json!({"credProps": {"rk": "yes"}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.cred_props_rk, None);
}

// ---- credProtect ----

#[test]
fn cred_protect_is_requested_enforced_and_reported() {
    let level2 = CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList;
    let enforced = RegistrationExtensions::new().with_cred_protect(level2, true);
    let (creation, _) =
        start_registration(&RegistrationOptions::new().with_extensions(enforced.clone()));
    assert_eq!(
        serde_json::to_value(&creation).unwrap()["extensions"],
        json!({
            "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
            "enforceCredentialProtectionPolicy": true,
        })
    );
    let with_level = |level: i64| Some(extensions_map(&[("credProtect", int(level))]));
    // The level asked for, or a higher one.
    for (level, policy) in [
        (2, level2),
        (3, CredentialProtectionPolicy::UserVerificationRequired),
    ] {
        let verified = register(enforced.clone(), with_level(level), json!({})).unwrap();
        assert_eq!(verified.extensions.cred_protect, Some(policy));
    }
    // Enforced: a lower level, or none, is refused.
    not_met(
        register(enforced.clone(), with_level(1), json!({})),
        "credProtect",
    );
    not_met(register(enforced.clone(), None, json!({})), "credProtect");
    // The client's word does not count: only the signed authenticator data.
    not_met(
        register(enforced, None, json!({"credProtect": 3})),
        "credProtect",
    );
    // Not enforced: reported as found.
    let preferred = RegistrationExtensions::new().with_cred_protect(level2, false);
    let verified = register(preferred.clone(), with_level(1), json!({})).unwrap();
    assert_eq!(
        verified.extensions.cred_protect,
        Some(CredentialProtectionPolicy::UserVerificationOptional)
    );
    assert_eq!(
        register(preferred.clone(), None, json!({}))
            .unwrap()
            .extensions
            .cred_protect,
        None
    );
    // A malformed level in the authenticator data is refused, requested or not.
    for bad in [int(0), int(4), ciborium::Value::Text("2".into())] {
        for request in [preferred.clone(), RegistrationExtensions::default()] {
            assert!(matches!(
                register(
                    request,
                    Some(extensions_map(&[("credProtect", bad.clone())])),
                    json!({})
                ),
                Err(WebauthnError::Malformed(ParseError::Cbor { .. }))
            ));
        }
    }
    // An authenticator that reports a level nobody asked for: accepted, not reported.
    let verified = register(RegistrationExtensions::default(), with_level(2), json!({})).unwrap();
    assert_eq!(verified.extensions.cred_protect, None);
}

// ---- minPinLength ----

#[test]
fn min_pin_length_is_reported_from_the_authenticator_data() {
    let request = RegistrationExtensions::new().with_min_pin_length();
    let (creation, _) =
        start_registration(&RegistrationOptions::new().with_extensions(request.clone()));
    assert_eq!(
        serde_json::to_value(&creation).unwrap()["extensions"],
        json!({"minPinLength": true})
    );
    let data = Some(extensions_map(&[("minPinLength", int(6))]));
    let verified = register(request.clone(), data.clone(), json!({})).unwrap();
    assert_eq!(verified.extensions.min_pin_length, Some(6));
    // Not on the authenticator's RP ID list: nothing reported, accepted.
    assert_eq!(
        register(request.clone(), None, json!({}))
            .unwrap()
            .extensions
            .min_pin_length,
        None
    );
    // Not requested: ignored.
    let verified = register(RegistrationExtensions::default(), data, json!({})).unwrap();
    assert_eq!(verified.extensions.min_pin_length, None);
    for bad in [
        int(-1),
        ciborium::Value::Bool(true),
        ciborium::Value::Bytes(vec![6]),
    ] {
        assert!(matches!(
            register(
                request.clone(),
                Some(extensions_map(&[("minPinLength", bad)])),
                json!({})
            ),
            Err(WebauthnError::Malformed(ParseError::Cbor { .. }))
        ));
    }
}

// ---- prf ----

#[test]
fn prf_at_registration() {
    let enabled_only = RegistrationExtensions::new().with_prf(PrfRequest::new());
    let (creation, _) =
        start_registration(&RegistrationOptions::new().with_extensions(enabled_only.clone()));
    assert_eq!(
        serde_json::to_value(&creation).unwrap()["extensions"],
        json!({"prf": {}})
    );
    let verified = register(
        enabled_only.clone(),
        None,
        json!({"prf": {"enabled": true}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.prf_enabled, Some(true));
    assert_eq!(verified.extensions.prf_results, None);
    malformed(
        register(enabled_only.clone(), None, json!({"prf": {"enabled": 1}})),
        "prf",
    );
    malformed(
        register(enabled_only.clone(), None, json!({"prf": []})),
        "prf",
    );
    // No eval input: no results can come back.
    malformed(
        register(
            enabled_only,
            None,
            json!({"prf": {"enabled": true, "results": {"first": "AAAA"}}}),
        ),
        "prf",
    );
    let with_eval = RegistrationExtensions::new()
        .with_prf(PrfRequest::new().with_eval(PrfValues::new(b"salt".to_vec(), None)));
    let first = [0x3c_u8; 32];
    let verified = register(
        with_eval.clone(),
        None,
        json!({"prf": {"enabled": true, "results": {"first": base64url::encode(&first)}}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.prf_results.unwrap().first, first);
    // A second output for a single input, a non-base64url or oversized output.
    for results in [
        json!({"first": base64url::encode(&first), "second": base64url::encode(&first)}),
        json!({"first": "!!"}),
        json!({"first": 5}),
        json!({"second": base64url::encode(&first)}),
        json!({"first": base64url::encode(&[0; 65])}),
    ] {
        malformed(
            register(
                with_eval.clone(),
                None,
                json!({"prf": {"results": results}}),
            ),
            "prf",
        );
    }
}

/// HMAC-SHA-256 (RFC 2104), for checking the vectors' hmac-secret outputs.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0_u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = sha2::Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    sha2::Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The W3C L3 "PRF extension: CTAP2 hmac-secret mapping" vectors, relying-party
/// side: each case's `eval` inputs go into the options (base64url), the client's
/// salts and the authenticator's outputs are recomputed from the vectors' shared
/// `credRandom` (so the vectors are what they claim), and the case's
/// `prf.results` come back to the host as bytes.
#[test]
fn w3c_prf_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/webauthn-l3-test-vectors.json"
    ))
    .unwrap();
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let section = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "test-vectors-extensions-prf-ctap")
        .expect("the PRF section");
    let cases = section["cases"].as_array().unwrap();
    let hex = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap();
    let cred_random = hex(&cases[0]["authenticator_cred_random"]);
    let mut ran = 0;
    for case in cases.iter().filter(|c| c.get("prf_eval_first").is_some()) {
        let first_input = hex(&case["prf_eval_first"]);
        let second_input = case.get("prf_eval_second").map(hex);
        // L3 §10.1.4: salt = SHA-256("WebAuthn PRF" || 0x00 || input).
        let salt = |input: &[u8]| -> Vec<u8> {
            sha2::Sha256::new()
                .chain_update(b"WebAuthn PRF\x00")
                .chain_update(input)
                .finalize()
                .to_vec()
        };
        assert_eq!(salt(&first_input), hex(&case["salt1"]), "{}", case["case"]);
        assert_eq!(
            hmac_sha256(&cred_random, &salt(&first_input)).to_vec(),
            hex(&case["prf_results_first"])
        );
        if let Some(second) = &second_input {
            assert_eq!(salt(second), hex(&case["salt2"]));
            assert_eq!(
                hmac_sha256(&cred_random, &salt(second)).to_vec(),
                hex(&case["prf_results_second"])
            );
        }

        let inputs = PrfValues::new(first_input.clone(), second_input.clone());
        let request = AuthenticationExtensions::new().with_prf(PrfRequest::new().with_eval(inputs));
        let (options, state) = start_authentication(request);
        let mut expected_eval = json!({"first": base64url::encode(&first_input)});
        if let Some(second) = &second_input {
            expected_eval["second"] = json!(base64url::encode(second));
        }
        assert_eq!(
            serde_json::to_value(&options).unwrap()["extensions"],
            json!({"prf": {"eval": expected_eval}})
        );
        let mut results = json!({"first": base64url::encode(&hex(&case["prf_results_first"]))});
        if case.get("prf_results_second").is_some() {
            results["second"] = json!(base64url::encode(&hex(&case["prf_results_second"])));
        }
        let response = assertion(
            options.challenge.as_slice(),
            RP_ID,
            json!({"prf": {"results": results}}),
        );
        let verified = finish_authentication(&rp(), &state, &response, &stored(), NOW).unwrap();
        let outputs = verified.extensions.prf_results.unwrap();
        assert_eq!(outputs.first, hex(&case["prf_results_first"]));
        assert_eq!(outputs.second, case.get("prf_results_second").map(hex));
        ran += 1;
    }
    assert_eq!(ran, 3, "every PRF case with inputs ran");
}

#[test]
fn prf_eval_by_credential() {
    let request = AuthenticationExtensions::new().with_prf(
        PrfRequest::new()
            .with_eval(PrfValues::new(vec![3], None))
            .with_eval_by_credential(&CREDENTIAL_ID, PrfValues::new(vec![1], Some(vec![2]))),
    );
    let (options, _) = start_authentication(request.clone());
    assert_eq!(
        serde_json::to_value(&options).unwrap()["extensions"]["prf"]["evalByCredential"]
            [base64url::encode(&CREDENTIAL_ID)],
        json!({"first": "AQ", "second": "Ag"})
    );
    // This credential's entry has a second input, so a second output is fine.
    let two = json!({"prf": {"results": {"first": "AAAA", "second": "AQEB"}}});
    let verified = authenticate(request.clone(), RP_ID, two.clone()).unwrap();
    assert_eq!(
        verified.extensions.prf_results.unwrap().second,
        Some(vec![1, 1, 1])
    );
    // Only eval (one input) applies to this credential: a second output is refused.
    let mut fallback = request;
    fallback.prf.as_mut().unwrap().eval_by_credential.clear();
    malformed(authenticate(fallback, RP_ID, two), "prf");
    // evalByCredential naming a credential outside allowCredentials: the client
    // would refuse, so starting is a configuration error.
    let bad =
        AuthenticationOptions::new().with_extensions(AuthenticationExtensions::new().with_prf(
            PrfRequest::new().with_eval_by_credential(&[9; 16], PrfValues::new(vec![1], None)),
        ));
    assert!(matches!(
        start_authentication_with_options(
            &rp(),
            Some((b"user-1", &[descriptor()])),
            challenge(3),
            &bad,
            NOW
        ),
        Err(WebauthnError::InvalidConfig { .. })
    ));
    assert!(matches!(
        start_authentication_with_options(&rp(), None, challenge(3), &bad, NOW),
        Err(WebauthnError::InvalidConfig { .. })
    ));
}

// ---- largeBlob ----

#[test]
fn large_blob_support_at_registration() {
    for (support, name) in [
        (LargeBlobSupport::Required, "required"),
        (LargeBlobSupport::Preferred, "preferred"),
    ] {
        let request = RegistrationExtensions::new().with_large_blob(support);
        let (creation, _) =
            start_registration(&RegistrationOptions::new().with_extensions(request.clone()));
        assert_eq!(
            serde_json::to_value(&creation).unwrap()["extensions"],
            json!({"largeBlob": {"support": name}})
        );
        let verified = register(
            request.clone(),
            None,
            json!({"largeBlob": {"supported": true}}),
        )
        .unwrap();
        assert_eq!(verified.extensions.large_blob_supported, Some(true));
        malformed(
            register(
                request.clone(),
                None,
                json!({"largeBlob": {"supported": "yes"}}),
            ),
            "largeBlob",
        );
        malformed(
            register(request, None, json!({"largeBlob": 1})),
            "largeBlob",
        );
    }
    let required = RegistrationExtensions::new().with_large_blob(LargeBlobSupport::Required);
    not_met(
        register(
            required.clone(),
            None,
            json!({"largeBlob": {"supported": false}}),
        ),
        "largeBlob",
    );
    not_met(register(required, None, json!({})), "largeBlob");
    let preferred = RegistrationExtensions::new().with_large_blob(LargeBlobSupport::Preferred);
    let verified = register(
        preferred.clone(),
        None,
        json!({"largeBlob": {"supported": false}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.large_blob_supported, Some(false));
    assert_eq!(
        register(preferred, None, json!({}))
            .unwrap()
            .extensions
            .large_blob_supported,
        None
    );
}

#[test]
fn large_blob_read_and_write() {
    let read = AuthenticationExtensions::new().with_large_blob(LargeBlobRequest::Read);
    let verified =
        authenticate(read.clone(), RP_ID, json!({"largeBlob": {"blob": "AQID"}})).unwrap();
    assert_eq!(verified.extensions.large_blob, Some(vec![1, 2, 3]));
    assert_eq!(verified.extensions.large_blob_written, None);
    // Nothing stored (or the read failed): no blob.
    let verified = authenticate(read.clone(), RP_ID, json!({"largeBlob": {}})).unwrap();
    assert_eq!(verified.extensions.large_blob, None);
    for bad in [
        json!({"largeBlob": {"blob": 5}}),
        json!({"largeBlob": {"blob": "!!"}}),
        json!({"largeBlob": {"written": true}}),
        json!({"largeBlob": "AQID"}),
    ] {
        malformed(authenticate(read.clone(), RP_ID, bad), "largeBlob");
    }
    let write = AuthenticationExtensions::new()
        .with_large_blob(LargeBlobRequest::Write(Base64UrlBytes(vec![0xfe, 0xff])));
    let (options, _) = start_authentication(write.clone());
    assert_eq!(
        serde_json::to_value(&options).unwrap()["extensions"],
        json!({"largeBlob": {"write": "_v8"}})
    );
    let verified = authenticate(
        write.clone(),
        RP_ID,
        json!({"largeBlob": {"written": true}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.large_blob_written, Some(true));
    for bad in [
        json!({"largeBlob": {"written": "yes"}}),
        json!({"largeBlob": {"blob": "AQID"}}),
    ] {
        malformed(authenticate(write.clone(), RP_ID, bad), "largeBlob");
    }
    // Not requested: a client output is ignored.
    let verified = authenticate(
        AuthenticationExtensions::default(),
        RP_ID,
        json!({"largeBlob": {"blob": 5}}),
    )
    .unwrap();
    assert_eq!(verified.extensions.large_blob, None);
}

// ---- appid / appidExclude ----

#[test]
fn appid_accept_and_refuse_matrix() {
    let with_appid = AuthenticationExtensions::new().with_appid(APPID);
    let (options, _) = start_authentication(with_appid.clone());
    assert_eq!(
        serde_json::to_value(&options).unwrap()["extensions"],
        json!({"appid": APPID})
    );
    let none = AuthenticationExtensions::default();
    let mismatch = |result: Result<_, WebauthnError>, expected: &str| match result {
        Err(WebauthnError::RpIdHashMismatch { rp_id }) => assert_eq!(rp_id, expected),
        other => panic!("expected an rpIdHash mismatch, got {other:?}"),
    };
    // Accepted: asked for, the client used it, the hash is the AppID's.
    let verified = authenticate(with_appid.clone(), APPID, json!({"appid": true})).unwrap();
    assert!(verified.extensions.appid_used);
    // Accepted: asked for, the client did not use it, the hash is the RP ID's.
    for results in [json!({"appid": false}), json!({})] {
        let verified = authenticate(with_appid.clone(), RP_ID, results).unwrap();
        assert!(!verified.extensions.appid_used);
    }
    // Accepted: not asked for, RP ID hash (a stray appid output is ignored).
    let verified = authenticate(none.clone(), RP_ID, json!({"appid": true})).unwrap();
    assert!(!verified.extensions.appid_used);

    // Refused: the AppID's hash without the client's appid: true.
    mismatch(
        authenticate(with_appid.clone(), APPID, json!({"appid": false})),
        RP_ID,
    );
    mismatch(authenticate(with_appid.clone(), APPID, json!({})), RP_ID);
    // Refused: the AppID's hash when the ceremony did not ask for appid, whatever
    // the client says.
    mismatch(
        authenticate(none.clone(), APPID, json!({"appid": true})),
        RP_ID,
    );
    mismatch(authenticate(none, APPID, json!({})), RP_ID);
    // Refused: the client says it used the AppID but the hash is the RP ID's.
    mismatch(
        authenticate(with_appid.clone(), RP_ID, json!({"appid": true})),
        APPID,
    );
    // Refused: another AppID's hash.
    mismatch(
        authenticate(
            with_appid.clone(),
            "https://other.example/appid.json",
            json!({"appid": true}),
        ),
        APPID,
    );
    // Refused: a malformed appid output when asked for.
    for bad in [
        json!({"appid": "true"}),
        json!({"appid": 1}),
        json!({"appid": null}),
    ] {
        malformed(authenticate(with_appid.clone(), APPID, bad), "appid");
    }
}

#[test]
fn appid_exclude_is_passed_and_its_output_reported() {
    let request = RegistrationExtensions::new().with_appid_exclude(APPID);
    let (creation, _) =
        start_registration(&RegistrationOptions::new().with_extensions(request.clone()));
    assert_eq!(
        serde_json::to_value(&creation).unwrap()["extensions"],
        json!({"appidExclude": APPID})
    );
    let verified = register(request.clone(), None, json!({"appidExclude": true})).unwrap();
    assert_eq!(verified.extensions.appid_exclude, Some(true));
    malformed(
        register(request, None, json!({"appidExclude": "yes"})),
        "appidExclude",
    );
}

// ---- state, hints, attestationFormats, conveyance ----

#[test]
fn states_remember_the_requested_extensions() {
    let request = RegistrationExtensions::new()
        .with_cred_protect(CredentialProtectionPolicy::UserVerificationRequired, true);
    let (creation, state) =
        start_registration(&RegistrationOptions::new().with_extensions(request.clone()));
    assert_eq!(state.extensions(), &request);
    // Through serde, as a host stores it.
    let stored: RegistrationState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    let response = registration_response(creation.challenge.as_slice(), None, json!({}));
    not_met(
        finish_registration(&rp(), &stored, &response, NOW, &TrustAnchors::new()),
        "credProtect",
    );
    // A state stored without extensions (an earlier release) reads as none.
    let mut old = serde_json::to_value(&state).unwrap();
    old.as_object_mut().unwrap().remove("extensions");
    let old: RegistrationState = serde_json::from_value(old).unwrap();
    assert!(old.extensions().is_empty());
    finish_registration(&rp(), &old, &response, NOW, &TrustAnchors::new()).unwrap();

    let auth = AuthenticationExtensions::new().with_appid(APPID);
    let (request, state) = start_authentication(auth.clone());
    let stored: AuthenticationState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(stored.extensions(), &auth);
    let response = assertion(request.challenge.as_slice(), APPID, json!({"appid": true}));
    finish_authentication(&rp(), &stored, &response, &stored_credential(), NOW).unwrap();
    let rebuilt = AuthenticationState::from_parts(
        stored.challenge().to_vec(),
        vec![CREDENTIAL_ID.to_vec()],
        Some(b"user-1".to_vec()),
        stored.expires_at(),
    );
    assert!(matches!(
        finish_authentication(&rp(), &rebuilt, &response, &stored_credential(), NOW),
        Err(WebauthnError::RpIdHashMismatch { .. })
    ));
    finish_authentication(
        &rp(),
        &rebuilt.with_extensions(auth),
        &response,
        &stored_credential(),
        NOW,
    )
    .unwrap();
}

fn stored_credential() -> StoredCredential {
    stored()
}

#[test]
fn hints_attestation_formats_and_conveyance() {
    let options = RegistrationOptions::new()
        .with_hints(vec![
            Hint::SecurityKey,
            Hint::Hybrid,
            Hint::SecurityKey,
            Hint::ClientDevice,
        ])
        .with_attestation(AttestationConveyance::Enterprise)
        .with_attestation_formats(vec![
            AttestationFormat::Packed,
            AttestationFormat::Tpm,
            AttestationFormat::Packed,
        ]);
    let (creation, _) = start_registration(&options);
    let json = serde_json::to_value(&creation).unwrap();
    assert_eq!(
        json["hints"],
        json!(["security-key", "hybrid", "client-device"])
    );
    assert_eq!(json["attestation"], json!("enterprise"));
    assert_eq!(json["attestationFormats"], json!(["packed", "tpm"]));
    assert!(json.get("extensions").is_none());
    // Defaults: the relying party's conveyance, no hints, no formats.
    let (plain, _) = start_registration(&RegistrationOptions::new());
    let plain = serde_json::to_value(&plain).unwrap();
    assert_eq!(plain["attestation"], json!("none"));
    assert!(plain.get("hints").is_none() && plain.get("attestationFormats").is_none());
    for (conveyance, name) in [
        (AttestationConveyance::None, "none"),
        (AttestationConveyance::Indirect, "indirect"),
        (AttestationConveyance::Direct, "direct"),
        (AttestationConveyance::Enterprise, "enterprise"),
    ] {
        let (creation, _) =
            start_registration(&RegistrationOptions::new().with_attestation(conveyance));
        assert_eq!(
            serde_json::to_value(&creation).unwrap()["attestation"],
            json!(name)
        );
    }
    // Request options take hints too.
    let (request, _) = start_authentication_with_options(
        &rp(),
        None,
        challenge(4),
        &AuthenticationOptions::new().with_hints(vec![Hint::ClientDevice]),
        NOW,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&request).unwrap()["hints"],
        json!(["client-device"])
    );
    // The options are configuration: they round-trip through serde.
    let text = serde_json::to_string(&options).unwrap();
    assert_eq!(
        serde_json::from_str::<RegistrationOptions>(&text).unwrap(),
        options
    );
    assert_eq!(
        serde_json::from_str::<RegistrationOptions>(
            r#"{"hints":["hybrid"],"attestation_formats":["none"]}"#
        )
        .unwrap(),
        RegistrationOptions::new()
            .with_hints(vec![Hint::Hybrid])
            .with_attestation_formats(vec![AttestationFormat::None])
    );
    assert!(serde_json::from_str::<RegistrationOptions>(r#"{"hints":["usb"]}"#).is_err());
}
