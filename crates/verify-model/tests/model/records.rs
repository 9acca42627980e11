//! Storage records written by release 0.1.0 (flat `factor_type`, `entity_sid`,
//! `identity`, `factor_sid`, `details`, and a passkey ceremony of JSON trees) load
//! into today's typed shape, and are written back in that shape.

use verify_model::ceremony::PasskeyCeremony;
use verify_model::{Challenge, ChallengeKind, ChallengeSubject, FactorType, UserVerification};

const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";
const ENTITY: &str = "YE0123456789abcdef0123456789abcdef";
const FACTOR: &str = "YF0123456789abcdef0123456789abcdef";

/// A release 0.1.0 challenge record with the subject and kind fields given.
fn legacy(fields: serde_json::Value) -> serde_json::Value {
    let mut record = serde_json::json!({
        "sid": "YC0123456789abcdef0123456789abcdef",
        "service_sid": SERVICE,
        "date_created": "2025-01-01T00:00:00Z",
        "date_updated": "2025-01-01T00:00:00Z",
        "expiration_date": "2025-01-01T00:05:00Z",
        "state": {"status": "pending"},
        "responded_reason": "none",
        "hidden_details": null,
        "metadata": null,
        "failed_attempts": 0,
        "version": 0,
    });
    for (key, value) in fields.as_object().unwrap() {
        record[key] = value.clone();
    }
    record
}

fn factor_subject() -> serde_json::Value {
    serde_json::json!({"entity_sid": ENTITY, "identity": "ff483d1f-f591-898a", "factor_sid": FACTOR})
}

fn legacy_passkey(user_handle: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "options": {"publicKey": {
            "challenge": "WUMwMTIz",
            "timeout": 600_000,
            "rpId": "example.com",
            "allowCredentials": [{"type": "public-key", "id": "AQID", "transports": ["internal"]}],
            "userVerification": "preferred",
        }},
        "state": {
            "challenge": "WUMwMTIz",
            "allowed": ["AQID"],
            "user_handle": user_handle,
            "expires_at": "2025-01-01T00:10:00Z",
        },
    })
}

fn load(record: serde_json::Value) -> Challenge {
    let challenge: Challenge = serde_json::from_value(record).unwrap();
    // Written back in today's shape, it loads to the same value.
    let again: Challenge =
        serde_json::from_str(&serde_json::to_string(&challenge).unwrap()).unwrap();
    assert_eq!(again, challenge);
    challenge
}

#[test]
fn a_totp_record_of_release_0_1_0_loads() {
    let mut fields = factor_subject();
    fields["factor_type"] = "totp".into();
    fields["details"] = serde_json::Value::Null;
    let challenge = load(legacy(fields));
    assert_eq!(challenge.kind(), &ChallengeKind::Totp);
    assert_eq!(challenge.factor_sid().unwrap().to_string(), FACTOR);
}

#[test]
fn a_push_record_of_release_0_1_0_loads_with_its_details() {
    let mut fields = factor_subject();
    fields["factor_type"] = "push".into();
    fields["details"] = serde_json::json!({"message": "Sign in?", "fields": []});
    let challenge = load(legacy(fields));
    assert_eq!(challenge.factor_type(), FactorType::Push);
    assert_eq!(challenge.details().unwrap().message(), "Sign in?");
    // A push record without details was never valid.
    let mut fields = factor_subject();
    fields["factor_type"] = "push".into();
    assert!(serde_json::from_value::<Challenge>(legacy(fields)).is_err());
}

#[test]
fn passkey_records_of_release_0_1_0_load_typed() {
    // By identity: entity known, no factor yet, the user handle in the state.
    let fields = serde_json::json!({
        "entity_sid": ENTITY,
        "identity": "ff483d1f-f591-898a",
        "factor_type": "passkeys",
        "passkey": legacy_passkey(Some("WUUw")),
    });
    let challenge = load(legacy(fields));
    assert!(matches!(
        challenge.subject(),
        ChallengeSubject::EntityPasskeys { .. }
    ));
    let ceremony: &PasskeyCeremony = challenge.passkey().unwrap();
    assert_eq!(ceremony.options.challenge, b"YC0123");
    assert_eq!(ceremony.options.allow_credentials[0].id, [1, 2, 3]);
    assert_eq!(
        ceremony.options.user_verification,
        UserVerification::Preferred
    );
    assert_eq!(ceremony.user_handle.as_deref(), Some(&b"YE0"[..]));
    // Discoverable: nothing known, no user handle.
    let fields = serde_json::json!({"factor_type": "passkeys", "passkey": legacy_passkey(None)});
    let challenge = load(legacy(fields));
    assert_eq!(challenge.subject(), &ChallengeSubject::Discoverable);
    // A discoverable record carrying a user handle is inconsistent.
    let fields =
        serde_json::json!({"factor_type": "passkeys", "passkey": legacy_passkey(Some("WUUw"))});
    assert!(serde_json::from_value::<Challenge>(legacy(fields)).is_err());
    // A passkey record without its ceremony, or a TOTP one with one, is refused.
    let mut fields = factor_subject();
    fields["factor_type"] = "passkeys".into();
    assert!(serde_json::from_value::<Challenge>(legacy(fields.clone())).is_err());
    fields["factor_type"] = "totp".into();
    fields["passkey"] = legacy_passkey(None);
    assert!(serde_json::from_value::<Challenge>(legacy(fields)).is_err());
}
