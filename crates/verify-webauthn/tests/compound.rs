//! `compound` attestation (WebAuthn L3 §8.9) end to end with a software
//! authenticator: packed (self) + none accepted and combined; a bad inner signature,
//! nesting, a single inner statement, repeated and unknown formats and too many
//! statements refused. (A compound whose inner statements are all trusted, from the
//! W3C vectors' CA, is in `tests/attestation.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

use ciborium::Value;
use p256::ecdsa::signature::Signer as _;
use sha2::Digest as _;
use verify_model::UnixTime;
use verify_webauthn::attestation::{
    AttestationError, AttestationFormat, AttestationType, TrustAnchors,
};
use verify_webauthn::limits::MAX_COMPOUND_STATEMENTS;
use verify_webauthn::policy::{AttestationTrust, CeremonyPolicy};
use verify_webauthn::registration::{
    AttestationObject, RegistrationInput, VerifiedRegistration, verify_registration,
};
use verify_webauthn::wire::RegistrationResponseJson;
use verify_webauthn::{ParseError, WebauthnError, base64url};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const CHALLENGE: &[u8] = &[0x5a; 32];
const CREDENTIAL_ID: [u8; 16] = [0xc1; 16];

fn key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap()
}

fn auth_data() -> Vec<u8> {
    let point = key().verifying_key().to_encoded_point(false);
    let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
    data.push(0x41);
    data.extend_from_slice(&[0; 4]);
    data.extend_from_slice(&[0; 16]);
    data.extend_from_slice(&16_u16.to_be_bytes());
    data.extend_from_slice(&CREDENTIAL_ID);
    data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    data.extend_from_slice(point.x().unwrap());
    data.extend_from_slice(&[0x22, 0x58, 0x20]);
    data.extend_from_slice(point.y().unwrap());
    data
}

fn client_data() -> Vec<u8> {
    format!(
        r#"{{"type":"webauthn.create","challenge":"{}","origin":"{ORIGIN}"}}"#,
        base64url::encode(CHALLENGE)
    )
    .into_bytes()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn entry(fmt: &str, statement: Value) -> Value {
    Value::Map(vec![(text("fmt"), text(fmt)), (text("attStmt"), statement)])
}

/// A packed self attestation over `authData || SHA-256(clientDataJSON)`.
fn packed_self() -> Value {
    let mut message = auth_data();
    message.extend_from_slice(&sha2::Sha256::digest(client_data()));
    let signature: p256::ecdsa::Signature = key().sign(&message);
    Value::Map(vec![
        (text("alg"), Value::Integer((-7).into())),
        (
            text("sig"),
            Value::Bytes(signature.to_der().as_bytes().to_vec()),
        ),
    ])
}

fn none() -> Value {
    Value::Map(vec![])
}

fn response(fmt: &str, statement: Value) -> RegistrationResponseJson {
    let object = Value::Map(vec![
        (text("fmt"), text(fmt)),
        (text("attStmt"), statement),
        (text("authData"), Value::Bytes(auth_data())),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&object, &mut bytes).unwrap();
    let id = base64url::encode(&CREDENTIAL_ID);
    RegistrationResponseJson::from_json(
        &serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": base64url::encode(&client_data()),
                "attestationObject": base64url::encode(&bytes),
            },
            "clientExtensionResults": {},
        })
        .to_string(),
    )
    .unwrap()
}

fn register_with(
    policy: &CeremonyPolicy,
    response: &RegistrationResponseJson,
) -> Result<VerifiedRegistration, WebauthnError> {
    let origins = [ORIGIN.to_owned()];
    let trust = TrustAnchors::new();
    verify_registration(
        &RegistrationInput::new(RP_ID, &origins, CHALLENGE, policy, &trust, NOW),
        response,
    )
}

fn register(statements: Vec<Value>) -> Result<VerifiedRegistration, WebauthnError> {
    register_with(
        &CeremonyPolicy::default(),
        &response("compound", Value::Array(statements)),
    )
}

fn compound_refused(result: Result<VerifiedRegistration, WebauthnError>) {
    assert!(
        matches!(
            result,
            Err(WebauthnError::Attestation(
                AttestationError::Compound { .. }
                    | AttestationError::TooManyCompoundStatements { .. }
            ))
        ),
        "{result:?}"
    );
}

#[test]
fn packed_and_none_are_each_verified_and_combined() {
    // Each inner statement alone is a valid registration.
    register_with(
        &CeremonyPolicy::default(),
        &response("packed", packed_self()),
    )
    .unwrap();
    register_with(&CeremonyPolicy::default(), &response("none", none())).unwrap();

    for statements in [
        vec![entry("packed", packed_self()), entry("none", none())],
        vec![entry("none", none()), entry("packed", packed_self())],
    ] {
        let verified = register(statements).unwrap();
        assert_eq!(verified.attestation_format, AttestationFormat::Compound);
        assert_eq!(verified.credential.attestation_format, "compound");
        // The weakest inner type; untrusted as soon as one inner statement is.
        assert_eq!(verified.attestation_type, AttestationType::None);
        assert!(!verified.credential.attestation_trusted);
        let formats: Vec<_> = verified.inner_statements.iter().map(|s| s.format).collect();
        assert_eq!(formats.len(), 2);
        assert!(formats.contains(&AttestationFormat::Packed));
        assert!(formats.contains(&AttestationFormat::None));
        let packed = verified
            .inner_statements
            .iter()
            .find(|s| s.format == AttestationFormat::Packed)
            .unwrap();
        assert_eq!(packed.attestation_type, AttestationType::SelfAttestation);
    }
    // A policy requiring trust refuses it (none and self inside).
    let mut strict = CeremonyPolicy::default();
    strict.attestation_trust = AttestationTrust::RequireTrusted;
    assert!(matches!(
        register_with(
            &strict,
            &response(
                "compound",
                Value::Array(vec![entry("packed", packed_self()), entry("none", none())])
            )
        ),
        Err(WebauthnError::AttestationNotTrusted {
            format: "compound",
            ..
        })
    ));
}

#[test]
fn a_bad_inner_signature_refuses_the_whole_statement() {
    let Value::Map(mut members) = packed_self() else {
        unreachable!()
    };
    for (key, value) in &mut members {
        if key.as_text() == Some("sig")
            && let Value::Bytes(sig) = value
        {
            let last = sig.len() - 1;
            sig[last] ^= 1;
        }
    }
    let result = register(vec![
        entry("packed", Value::Map(members)),
        entry("none", none()),
    ]);
    assert!(
        matches!(
            result,
            Err(WebauthnError::Attestation(
                AttestationError::SignatureInvalid
            ))
        ),
        "{result:?}"
    );
    // A none statement that carries anything fails inside a compound too.
    let result = register(vec![
        entry("packed", packed_self()),
        entry(
            "none",
            Value::Map(vec![(text("sig"), Value::Bytes(vec![1]))]),
        ),
    ]);
    assert!(matches!(
        result,
        Err(WebauthnError::Attestation(
            AttestationError::UnexpectedField { .. }
        ))
    ));
}

#[test]
fn shape_rules() {
    // A single inner statement, or none.
    compound_refused(register(vec![entry("packed", packed_self())]));
    compound_refused(register(vec![]));
    // Nested.
    compound_refused(register(vec![
        entry("packed", packed_self()),
        entry(
            "compound",
            Value::Array(vec![entry("none", none()), entry("packed", packed_self())]),
        ),
    ]));
    // A nested compound whose attStmt is a map is refused as nesting, too.
    compound_refused(register(vec![
        entry("packed", packed_self()),
        entry("compound", none()),
    ]));
    // The same format twice; an unknown format.
    compound_refused(register(vec![
        entry("packed", packed_self()),
        entry("packed", packed_self()),
    ]));
    compound_refused(register(vec![
        entry("packed", packed_self()),
        entry("x-vendor", none()),
    ]));
    // Over the bound (checked before any signature).
    let many = (0..=MAX_COMPOUND_STATEMENTS)
        .map(|_| entry("none", none()))
        .collect();
    assert!(matches!(
        register(many),
        Err(WebauthnError::Attestation(
            AttestationError::TooManyCompoundStatements { count, max: MAX_COMPOUND_STATEMENTS }
        )) if count == MAX_COMPOUND_STATEMENTS + 1
    ));
    // A compound attStmt that is a map.
    compound_refused(register_with(
        &CeremonyPolicy::default(),
        &response("compound", none()),
    ));
    // An array attStmt for any other format is malformed.
    for fmt in ["packed", "none"] {
        assert!(matches!(
            register_with(
                &CeremonyPolicy::default(),
                &response(
                    fmt,
                    Value::Array(vec![entry("none", none()), entry("packed", packed_self())])
                )
            ),
            Err(WebauthnError::Malformed(ParseError::Cbor { .. }))
        ));
    }
}

#[test]
fn attestation_object_reads_compound_in_any_member_order() {
    let statement = Value::Array(vec![entry("packed", packed_self()), entry("none", none())]);
    let object = Value::Map(vec![
        (text("attStmt"), statement),
        (text("authData"), Value::Bytes(auth_data())),
        (text("fmt"), text("compound")),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&object, &mut bytes).unwrap();
    let parsed = AttestationObject::parse(&bytes).unwrap();
    assert_eq!(parsed.format, "compound");
    assert!(parsed.statement.is_array());
}
