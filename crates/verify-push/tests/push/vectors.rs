//! `testdata/push-sdk-vectors.json` (the SDK vectors described in docs/push-protocol.md).

use serde::Deserialize;
use serde_json::{Map, Value};
use verify_model::{FactorSid, UnixTime};
use verify_push::{
    ChallengeToSign, Decision, DeviceKey, FactorStatus, FactorToVerify, PushError, SignatureFields,
    verify_answer, verify_factor,
};

use crate::device::Device;

#[derive(Deserialize)]
pub(crate) struct Vectors {
    pub(crate) private_scalar_hex: String,
    pub(crate) binding_public_key: String,
    pub(crate) factor_verification: FactorVector,
    pub(crate) challenge_approval: ApprovalVector,
}

#[derive(Deserialize)]
pub(crate) struct FactorVector {
    pub(crate) factor_sid: String,
    pub(crate) auth_payload: String,
    pub(crate) expected: String,
}

#[derive(Deserialize)]
pub(crate) struct ApprovalVector {
    pub(crate) signature_fields: Vec<String>,
    pub(crate) challenge_served: Map<String, Value>,
    pub(crate) auth_payload: String,
    pub(crate) expected_status: String,
}

pub(crate) fn load() -> Vectors {
    let text = include_str!("../../testdata/push-sdk-vectors.json");
    serde_json::from_str(text).unwrap()
}

pub(crate) fn now() -> UnixTime {
    UnixTime::parse_rfc3339("2025-01-01T00:01:00Z").unwrap()
}

#[test]
fn binding_matches_the_private_scalar() {
    let v = load();
    let device = Device::from_scalar_hex(&v.private_scalar_hex);
    assert_eq!(device.binding(), v.binding_public_key);
    let key = DeviceKey::from_binding(&v.binding_public_key, "ES256").unwrap();
    assert_eq!(key.to_binding(), v.binding_public_key);
}

#[test]
fn factor_verification_vector_verifies() {
    let v = load();
    assert_eq!(v.factor_verification.expected, "valid");
    let key = DeviceKey::from_binding(&v.binding_public_key, "ES256").unwrap();
    let sid = FactorSid::parse(&v.factor_verification.factor_sid).unwrap();
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Unverified, now());
    let verified = verify_factor(&factor, &v.factor_verification.auth_payload, now()).unwrap();
    assert_eq!(verified.factor_sid, sid);
    // The same proof does not verify another factor.
    let other = FactorToVerify::new(
        FactorSid::parse("YF00000000000000000000000000000002").unwrap(),
        &key,
        FactorStatus::Unverified,
        now(),
    );
    assert_eq!(
        verify_factor(&other, &v.factor_verification.auth_payload, now()),
        Err(PushError::SignatureInvalid)
    );
}

#[test]
fn approval_vector_verifies() {
    let v = load();
    let key = DeviceKey::from_binding(&v.binding_public_key, "ES256").unwrap();
    let fields = SignatureFields::new(&v.challenge_approval.signature_fields).unwrap();
    let challenge =
        ChallengeToSign::from_served(&v.challenge_approval.challenge_served, fields).unwrap();
    let answer = verify_answer(&key, &challenge, &v.challenge_approval.auth_payload).unwrap();
    assert_eq!(v.challenge_approval.expected_status, "approved");
    assert_eq!(answer.decision(), Decision::Approved);
    assert_eq!(
        answer.challenge_sid().to_string(),
        v.challenge_approval.challenge_served["sid"]
    );
    assert_eq!(
        answer.factor_sid().map(|sid| sid.to_string()),
        Some("YF00000000000000000000000000000001".to_owned())
    );
}

#[test]
fn approval_vector_fails_with_another_key() {
    let v = load();
    let other = DeviceKey::from_binding(&Device::new(99).binding(), "ES256").unwrap();
    let fields = SignatureFields::new(&v.challenge_approval.signature_fields).unwrap();
    let challenge =
        ChallengeToSign::from_served(&v.challenge_approval.challenge_served, fields).unwrap();
    assert_eq!(
        verify_answer(&other, &challenge, &v.challenge_approval.auth_payload),
        Err(PushError::SignatureInvalid)
    );
}
