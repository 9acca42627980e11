//! The W3C WebAuthn Level 3 test vectors (§ Test Vectors), each registration and
//! authentication with its expected outcome under a named policy.
//!
//! The table here is the one in the crate README; `cargo test` runs it with whichever
//! backend the features select.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

use serde_json::Value;
use verify_model::UnixTime;
use verify_webauthn::attestation::{AnchorScope, TrustAnchors};
use verify_webauthn::authentication::{
    AuthenticationInput, StoredCredential, verify_authentication,
};
use verify_webauthn::crypto::SignatureAlgorithm;
use verify_webauthn::policy::{CeremonyPolicy, CrossOriginPolicy};
use verify_webauthn::registration::{RegistrationInput, verify_registration};
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson};
use verify_webauthn::{WebauthnError, base64url};

const VECTORS: &str = include_str!("../testdata/webauthn-l3-test-vectors.json");
/// 2026-01-01: inside the vectors' certificate validity (2024-01-01 .. 3024-01-01).
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);

/// Every algorithm verify supports for credentials.
fn all_algorithms() -> Vec<SignatureAlgorithm> {
    vec![
        SignatureAlgorithm::EdDsa,
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::Rs256,
        SignatureAlgorithm::Ps256,
    ]
}

/// The named policies of the table.
fn policy(name: &str) -> CeremonyPolicy {
    let mut policy = CeremonyPolicy::default();
    match name {
        "default" => {}
        "all-algs" => policy.algorithms = all_algorithms(),
        "cross-origin-any" => {
            policy.algorithms = all_algorithms();
            policy.cross_origin = CrossOriginPolicy::Allow {
                top_origins: vec![],
            };
        }
        "cross-origin-top" => {
            policy.algorithms = all_algorithms();
            policy.cross_origin = CrossOriginPolicy::Allow {
                top_origins: vec!["https://example.com".to_owned()],
            };
        }
        "cross-origin-other" => {
            policy.algorithms = all_algorithms();
            policy.cross_origin = CrossOriginPolicy::Allow {
                top_origins: vec!["https://other.example".to_owned()],
            };
        }
        "require-trusted" => {
            policy.algorithms = all_algorithms();
            policy.attestation_trust = verify_webauthn::policy::AttestationTrust::RequireTrusted;
        }
        "android-software" => {
            policy.algorithms = all_algorithms();
            policy.attestation.android_key_allow_software = true;
        }
        other => panic!("unknown policy {other}"),
    }
    policy
}

/// Expected outcome: `Ok` or the error's stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Err(&'static str),
}
use Outcome::{Err as Rejected, Ok as Accepted};

/// (vector id suffix, policy, registration outcome, authentication outcome).
/// Authentication runs only after an accepted registration.
const TABLE: &[(&str, &str, Outcome, Option<Outcome>)] = &[
    ("none-es256", "default", Accepted, Some(Accepted)),
    (
        "none-es256",
        "require-trusted",
        Rejected("attestation_not_trusted"),
        None,
    ),
    ("packed-self-es256", "default", Accepted, Some(Accepted)),
    (
        "packed-self-es256",
        "require-trusted",
        Rejected("attestation_not_trusted"),
        None,
    ),
    (
        "none-es256-crossOrigin",
        "default",
        Rejected("cross_origin_rejected"),
        None,
    ),
    (
        "none-es256-crossOrigin",
        "cross-origin-any",
        Accepted,
        Some(Accepted),
    ),
    (
        "none-es256-topOrigin",
        "default",
        Rejected("cross_origin_rejected"),
        None,
    ),
    (
        "none-es256-topOrigin",
        "cross-origin-top",
        Accepted,
        Some(Accepted),
    ),
    (
        "none-es256-topOrigin",
        "cross-origin-other",
        Rejected("top_origin_mismatch"),
        None,
    ),
    (
        "none-es256-long-credential-id",
        "default",
        Accepted,
        Some(Accepted),
    ),
    ("packed-es256", "default", Accepted, Some(Accepted)),
    ("packed-es256", "require-trusted", Accepted, Some(Accepted)),
    (
        "packed-es384",
        "default",
        Rejected("algorithm_not_allowed"),
        None,
    ),
    ("packed-es384", "all-algs", Accepted, Some(Accepted)),
    ("packed-es512", "all-algs", Accepted, Some(Accepted)),
    ("packed-rs256", "default", Accepted, Some(Accepted)),
    ("packed-eddsa", "default", Accepted, Some(Accepted)),
    ("packed-ed448", "all-algs", Rejected("malformed"), None),
    // Its AIK names manufacturer id:00000000, which is no TCG vendor id (docs/webauthn.md).
    (
        "tpm-es256",
        "default",
        Rejected("attestation_invalid"),
        None,
    ),
    (
        "tpm-es256",
        "require-trusted",
        Rejected("attestation_invalid"),
        None,
    ),
    (
        "android-key-es256",
        "default",
        Rejected("attestation_invalid"),
        None,
    ),
    (
        "android-key-es256",
        "android-software",
        Rejected("attestation_invalid"),
        None,
    ),
    ("apple-es256", "default", Accepted, Some(Accepted)),
    ("apple-es256", "require-trusted", Accepted, Some(Accepted)),
    // Its AAGUID is not zero; the U2F signature does not cover it (docs/webauthn.md).
    (
        "fido-u2f-es256",
        "default",
        Rejected("attestation_invalid"),
        None,
    ),
    (
        "fido-u2f-es256",
        "require-trusted",
        Rejected("attestation_invalid"),
        None,
    ),
];

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn vector(all: &Value, suffix: &str) -> Value {
    let id = format!("sctn-test-vectors-{suffix}");
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no vector {id}"))
        .clone()
}

fn hex_field(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn trust(all: &Value) -> TrustAnchors {
    let root = vector(all, "attestation-root-cert");
    let mut anchors = TrustAnchors::new();
    anchors
        .add_der(
            AnchorScope::All,
            &hex_field(&root["attestation_ca_cert_der_hex"]),
        )
        .unwrap();
    anchors
}

fn registration_response(v: &Value) -> RegistrationResponseJson {
    let outputs = &v["registration"]["outputs"];
    let id = base64url::encode(&hex_field(
        &v["registration"]["generator_inputs"]["credential_id"],
    ));
    let json = serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "clientDataJSON": base64url::encode(&hex_field(&outputs["clientDataJSON"])),
            "attestationObject": base64url::encode(&hex_field(&outputs["attestationObject"])),
            "transports": ["internal"],
        },
        "clientExtensionResults": {},
    });
    RegistrationResponseJson::from_json(&json.to_string()).unwrap()
}

fn authentication_response(v: &Value) -> AuthenticationResponseJson {
    let outputs = &v["authentication"]["outputs"];
    let id = base64url::encode(&hex_field(
        &v["authentication"]["inputs"]["allowed_credential_id"],
    ));
    let json = serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "clientDataJSON": base64url::encode(&hex_field(&outputs["clientDataJSON"])),
            "authenticatorData": base64url::encode(&hex_field(&outputs["authenticatorData"])),
            "signature": base64url::encode(&hex_field(&outputs["signature"])),
        },
        "clientExtensionResults": {},
    });
    AuthenticationResponseJson::from_json(&json.to_string()).unwrap()
}

fn outcome<T>(result: &Result<T, WebauthnError>) -> Outcome {
    match result {
        Ok(_) => Accepted,
        Err(e) => Rejected(e.code()),
    }
}

fn run_row(suffix: &str, policy_name: &str, want_reg: Outcome, want_auth: Option<Outcome>) {
    let all = vectors();
    let v = vector(&all, suffix);
    let anchors = trust(&all);
    let policy = policy(policy_name);
    let origins = vec![v["origin"].as_str().unwrap().to_owned()];
    let rp_id = v["rp_id"].as_str().unwrap();
    let challenge = hex_field(&v["registration"]["inputs"]["challenge"]);
    let input = RegistrationInput::new(rp_id, &origins, &challenge, &policy, &anchors, NOW);
    let response = registration_response(&v);
    let registered = verify_registration(&input, &response);
    assert_eq!(
        outcome(&registered),
        want_reg,
        "{suffix} under {policy_name}: registration {registered:?}"
    );
    let Some(want_auth) = want_auth else { return };
    let registered = registered.unwrap();
    let derived = &v["derived"];
    assert_eq!(
        registered.credential.public_key_cose.as_slice(),
        hex_field(&derived["credential_public_key_cose_hex"]),
    );
    assert_eq!(
        registered.credential.algorithm,
        derived["credential_public_key_alg"].as_i64().unwrap()
    );
    assert_eq!(
        registered.credential.attestation_format,
        derived["attestation_fmt"].as_str().unwrap()
    );
    let flags = &derived["registration_flags_decoded"];
    assert_eq!(
        registered.credential.backup_eligible,
        flags["BE"].as_bool().unwrap()
    );
    assert_eq!(
        registered.credential.backup_state,
        flags["BS"].as_bool().unwrap()
    );
    assert_eq!(
        registered.credential.user_verified,
        flags["UV"].as_bool().unwrap()
    );

    let stored = StoredCredential::from_record(&registered.credential).unwrap();
    let challenge = hex_field(&v["authentication"]["inputs"]["challenge"]);
    let input = AuthenticationInput::new(rp_id, &origins, &challenge, &policy);
    let response = authentication_response(&v);
    let verified = verify_authentication(&input, &stored, &response);
    assert_eq!(
        outcome(&verified),
        want_auth,
        "{suffix} under {policy_name}: authentication {verified:?}"
    );
    if let Ok(verified) = verified {
        let flags = &derived["authentication_flags_decoded"];
        assert_eq!(verified.sign_count, 0);
        assert!(!verified.counter_warning, "0/0 is never a counter warning");
        assert_eq!(verified.user_verified, flags["UV"].as_bool().unwrap());
        assert_eq!(verified.backup_state, flags["BS"].as_bool().unwrap());
        // Bit flips in the signed authenticator data are always rejected.
        let mut tampered = response.clone();
        let mut data = tampered.response.authenticator_data.0.clone();
        data[0] ^= 0x01;
        tampered.response.authenticator_data = data.into();
        assert!(verify_authentication(&input, &stored, &tampered).is_err());
        let mut tampered = response;
        let mut data = tampered.response.authenticator_data.0.clone();
        data[36] ^= 0x01; // signCount low byte
        tampered.response.authenticator_data = data.into();
        assert_eq!(
            outcome(&verify_authentication(&input, &stored, &tampered)),
            Rejected("signature_invalid")
        );
    }
}

macro_rules! rows {
    ($($name:ident => $index:expr;)*) => {$(
        #[test]
        fn $name() {
            let (suffix, policy, reg, auth) = TABLE[$index];
            run_row(suffix, policy, reg, auth);
        }
    )*};
}

rows! {
    row00_none_es256_default => 0;
    row01_none_es256_require_trusted => 1;
    row02_packed_self_es256_default => 2;
    row03_packed_self_es256_require_trusted => 3;
    row04_cross_origin_default => 4;
    row05_cross_origin_allowed => 5;
    row06_top_origin_default => 6;
    row07_top_origin_allowed => 7;
    row08_top_origin_not_listed => 8;
    row09_long_credential_id => 9;
    row10_packed_es256_default => 10;
    row11_packed_es256_require_trusted => 11;
    row12_packed_es384_default_algs => 12;
    row13_packed_es384_all_algs => 13;
    row14_packed_es512_all_algs => 14;
    row15_packed_rs256_3482_bit => 15;
    row16_packed_eddsa => 16;
    row17_packed_ed448_unsupported => 17;
    row18_tpm_es256_default => 18;
    row19_tpm_es256_require_trusted => 19;
    row20_android_key_default => 20;
    row21_android_key_software_allowed => 21;
    row22_apple_default => 22;
    row23_apple_require_trusted => 23;
    row24_fido_u2f_default => 24;
    row25_fido_u2f_require_trusted => 25;
}

#[test]
fn table_covers_every_ceremony_vector() {
    let all = vectors();
    for v in all["vectors"].as_array().unwrap() {
        if v["kind"] != "registration+authentication" {
            continue;
        }
        let id = v["id"].as_str().unwrap();
        let suffix = id.strip_prefix("sctn-test-vectors-").unwrap();
        assert!(TABLE.iter().any(|row| row.0 == suffix), "{id} has no row");
    }
    assert_eq!(TABLE.len(), 26);
}
