//! Conditional create (WebAuthn L3 §7.1: "If options.mediation is not set to
//! conditional, verify that the UP bit of the flags in authData is set"), issue 17:
//! only a ceremony marked conditional accepts a registration without UP; user
//! verification is still required when the policy requires it, and an assertion
//! without UP is still refused.
//!
//! The registration is the W3C WebAuthn Level 3 `none-es256` vector: a `none`
//! attestation signs nothing over authData, so its flags can be edited.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test should fail loudly"
)]

use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::Digest as _;
use verify_model::UnixTime;
use verify_webauthn::attestation::TrustAnchors;
use verify_webauthn::authentication::{
    AuthenticationInput, StoredCredential, verify_authentication,
};
use verify_webauthn::challenge::CeremonyChallenge;
use verify_webauthn::policy::{CeremonyPolicy, UserVerification};
use verify_webauthn::registration::{
    RegistrationInput, RegistrationOptions, RegistrationState, VerifiedRegistration,
    finish_registration, start_registration_with_options, verify_registration,
};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson, UserEntity};
use verify_webauthn::{WebauthnError, base64url};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const CHALLENGE: &str = "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA";
const CLIENT_DATA: &str = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQU1NUHQ0VXh4R1RTdG5jZHE0MTdZRHdCRmk4dnBJYS1wdzhvT3VWVzRUQSIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6ZmFsc2UsImV4dHJhRGF0YSI6ImNsaWVudERhdGFKU09OIG1heSBiZSBleHRlbmRlZCB3aXRoIGFkZGl0aW9uYWwgZmllbGRzIGluIHRoZSBmdXR1cmUsIHN1Y2ggYXMgdGhpczogQmtRZURqZGNUQnJYQmlBd0pUTEU1USJ9";
const OBJECT: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA";
const ID: &str = "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q";
const UP: u8 = 0x01;
const UV: u8 = 0x04;

/// The vector with its authData flags byte passed through `edit` (the vector's
/// flags are UP, BE, BS and AT; UV is clear).
fn vector(edit: impl Fn(u8) -> u8) -> RegistrationResponseJson {
    let mut object = base64url::decode(OBJECT, "attestationObject").unwrap();
    // `authData` (8 letters) then a one-byte-length byte string (0x58 len): the
    // flags are byte 32 of authData.
    let at = object
        .windows(9)
        .position(|w| w == b"\x68authData")
        .unwrap()
        + 9
        + 2
        + 32;
    object[at] = edit(object[at]);
    RegistrationResponseJson::from_json(
        &serde_json::json!({
            "id": ID, "rawId": ID, "type": "public-key",
            "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": base64url::encode(&object)},
            "clientExtensionResults": {},
        })
        .to_string(),
    )
    .unwrap()
}

fn without_up() -> RegistrationResponseJson {
    vector(|flags| flags & !UP)
}

fn register(
    uv: UserVerification,
    conditional: bool,
    response: &RegistrationResponseJson,
) -> Result<VerifiedRegistration, WebauthnError> {
    let origins = vec![ORIGIN.to_owned()];
    let trust = TrustAnchors::new();
    let mut policy = CeremonyPolicy::default();
    policy.user_verification = uv;
    let challenge = base64url::decode(CHALLENGE, "challenge").unwrap();
    let input = RegistrationInput::new(RP_ID, &origins, &challenge, &policy, &trust, NOW);
    assert!(!input.conditional_mediation);
    let input = if conditional {
        input.with_conditional_mediation()
    } else {
        input
    };
    verify_registration(&input, response)
}

#[test]
fn a_registration_without_up_is_accepted_only_when_conditional() {
    // The vector as published registers either way.
    for conditional in [false, true] {
        register(UserVerification::Preferred, conditional, &vector(|f| f)).unwrap();
    }
    let err = register(UserVerification::Preferred, false, &without_up()).unwrap_err();
    assert!(matches!(err, WebauthnError::UserNotPresent), "{err:?}");
    assert_eq!(err.code(), "user_not_present");
    let verified = register(UserVerification::Preferred, true, &without_up()).unwrap();
    assert_eq!(base64url::encode(verified.credential.id.as_slice()), ID);
    assert!(!verified.credential.user_verified);
    register(UserVerification::Discouraged, true, &without_up()).unwrap();
}

#[test]
fn conditional_does_not_relax_required_user_verification() {
    // UV required and absent: refused, with or without UP, conditional or not.
    for conditional in [false, true] {
        for response in [vector(|f| f), without_up()] {
            let err = register(UserVerification::Required, conditional, &response).unwrap_err();
            if conditional {
                assert!(
                    matches!(err, WebauthnError::UserVerificationRequired),
                    "{err:?}"
                );
            }
        }
    }
    // UV required and present, UP clear: accepted only when conditional.
    let uv_without_up = vector(|f| (f & !UP) | UV);
    let err = register(UserVerification::Required, false, &uv_without_up).unwrap_err();
    assert!(matches!(err, WebauthnError::UserNotPresent), "{err:?}");
    let verified = register(UserVerification::Required, true, &uv_without_up).unwrap();
    assert!(verified.credential.user_verified);
}

#[test]
fn the_state_remembers_a_conditional_ceremony_and_the_options_json_is_unchanged() {
    let rp = RelyingParty::new(RP_ID, "Example", vec![ORIGIN.to_owned()]).unwrap();
    let user = UserEntity::new(b"user-1".to_vec(), "alice", "Alice");
    let start = |options: &RegistrationOptions| {
        let challenge = CeremonyChallenge::random(&mut ChaCha20Rng::seed_from_u64(3));
        start_registration_with_options(&rp, &user, &[], challenge, options, NOW).unwrap()
    };
    let (plain_json, plain_state) = start(&RegistrationOptions::new());
    let options = RegistrationOptions::new().with_conditional_mediation();
    assert!(options.conditional_mediation);
    let (json, state) = start(&options);
    assert_eq!(
        serde_json::to_value(&json).unwrap(),
        serde_json::to_value(&plain_json).unwrap(),
        "mediation is not a member of the creation options"
    );
    assert!(!plain_state.conditional_mediation());
    assert!(state.conditional_mediation());
    // Through the host's storage; a state stored without the member is not
    // conditional.
    let stored = serde_json::to_value(&state).unwrap();
    assert_eq!(stored["conditional_mediation"], true);
    let back: RegistrationState = serde_json::from_value(stored).unwrap();
    assert!(back.conditional_mediation());
    let plain_stored = serde_json::to_value(&plain_state).unwrap();
    assert!(plain_stored.get("conditional_mediation").is_none());
    let plain_back: RegistrationState = serde_json::from_value(plain_stored).unwrap();
    assert!(!plain_back.conditional_mediation());
}

#[test]
fn finish_registration_relaxes_up_only_for_a_conditional_state() {
    let rp = RelyingParty::new(RP_ID, "Example", vec![ORIGIN.to_owned()]).unwrap();
    let trust = TrustAnchors::new();
    let state = || {
        RegistrationState::from_parts(
            base64url::decode(CHALLENGE, "challenge").unwrap(),
            b"user-1".to_vec(),
            vec![],
            UnixTime::from_secs(NOW.as_secs() + 600),
        )
    };
    let err = finish_registration(&rp, &state(), &without_up(), NOW, &trust).unwrap_err();
    assert_eq!(err.code(), "user_not_present");
    let conditional = state().with_conditional_mediation();
    let verified = finish_registration(&rp, &conditional, &without_up(), NOW, &trust).unwrap();
    assert_eq!(
        verified.credential.user_handle.unwrap().as_slice(),
        b"user-1"
    );
    // UV required by the relying party: still refused.
    let mut strict = rp;
    strict.policy.user_verification = UserVerification::Required;
    let err = finish_registration(&strict, &conditional, &without_up(), NOW, &trust).unwrap_err();
    assert_eq!(err.code(), "user_verification_required");
}

#[test]
fn an_assertion_without_up_is_still_refused() {
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    cose.extend_from_slice(point.x().unwrap());
    cose.extend_from_slice(&[0x22, 0x58, 0x20]);
    cose.extend_from_slice(point.y().unwrap());
    let credential_id = vec![0xc1; 16];
    let stored = StoredCredential::new(credential_id.clone(), &cose, 0, None).unwrap();
    let challenge = [0x5a; 32];
    let client_data = format!(
        r#"{{"type":"webauthn.get","challenge":"{}","origin":"{ORIGIN}"}}"#,
        base64url::encode(&challenge)
    );
    let assertion = |flags: u8| {
        let mut auth_data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
        auth_data.push(flags);
        auth_data.extend_from_slice(&1_u32.to_be_bytes());
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(client_data.as_bytes()));
        let signature: p256::ecdsa::Signature = key.sign(&message);
        let id = base64url::encode(&credential_id);
        AuthenticationResponseJson::from_json(
            &serde_json::json!({
                "id": id, "rawId": id, "type": "public-key",
                "response": {
                    "clientDataJSON": base64url::encode(client_data.as_bytes()),
                    "authenticatorData": base64url::encode(&auth_data),
                    "signature": base64url::encode(signature.to_der().as_bytes()),
                },
                "clientExtensionResults": {},
            })
            .to_string(),
        )
        .unwrap()
    };
    let origins = vec![ORIGIN.to_owned()];
    for uv in [
        UserVerification::Discouraged,
        UserVerification::Preferred,
        UserVerification::Required,
    ] {
        let mut policy = CeremonyPolicy::default();
        policy.user_verification = uv;
        let input = AuthenticationInput::new(RP_ID, &origins, &challenge, &policy);
        verify_authentication(&input, &stored, &assertion(UP | UV)).unwrap();
        let err = verify_authentication(&input, &stored, &assertion(UV)).unwrap_err();
        assert!(
            matches!(err, WebauthnError::UserNotPresent),
            "{uv:?}: {err:?}"
        );
    }
}
