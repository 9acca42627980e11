//! `verify push verify-factor | verify-approval` (contract: crates/verify-cli/README.md).
//!
//! `public_key` and the factor `auth_payload` are standard base64, padded, exactly as
//! the device sends them. Any defect in them, or in the approval `auth_payload`, is a
//! rejection (exit 1). An unusable `signature_fields` list, or a `challenge` that
//! lacks a listed field or has an invalid `sid` / `factor_sid`, makes the envelope
//! unusable (exit 2): the request cannot describe a challenge a device could sign. So
//! is a member of the request the command does not know (the served `challenge`'s own
//! members are the challenge's and are not listed).

use serde::Deserialize;
use serde_json::{Value, json};
use verify_model::{FactorSid, UnixTime};
use verify_push::{
    ApprovalError, BindingError, ChallengeToSign, DeviceKey, Encoded, FactorError, FactorStatus,
    FactorToVerify, PushError, SignatureFields, verify_answer, verify_factor as check,
};

use crate::envelope::{EnvelopeError, Outcome, field, parse};

/// The request of `verify push verify-factor`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorRequest {
    public_key: Option<Value>,
    factor_sid: Option<Value>,
    auth_payload: Option<Value>,
}

/// The request of `verify push verify-approval`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalRequest {
    public_key: Option<Value>,
    signature_fields: Option<Value>,
    /// The challenge JSON as served: its members are the challenge's, not checked
    /// against a list here.
    challenge: Option<Value>,
    auth_payload: Option<Value>,
}

/// `verify push verify-factor`: `{"public_key", "factor_sid", "auth_payload"}` →
/// `{"ok": true}`.
pub(crate) fn verify_factor(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: FactorRequest = parse(input)?;
    let public_key = field!(request.public_key).str()?;
    let factor_sid = field!(request.factor_sid).str()?;
    let auth_payload = field!(request.auth_payload).str()?;
    let key = match DeviceKey::from_binding(public_key, "ES256") {
        Ok(key) => key,
        Err(err) => return Ok(rejection(&err)),
    };
    let sid = match FactorSid::parse(factor_sid) {
        Ok(sid) => sid,
        Err(err) => return Ok(Outcome::rejected("invalid_factor_sid", err.to_string())),
    };
    // The CLI checks possession only: the factor is taken as unverified and young.
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Unverified, UnixTime::EPOCH);
    Ok(match check(&factor, auth_payload, UnixTime::EPOCH) {
        Ok(_) => Outcome::Accepted(json!({"ok": true})),
        Err(err) => rejection(&err),
    })
}

/// `verify push verify-approval`: `{"public_key", "signature_fields", "challenge",
/// "auth_payload"}` → `{"ok": true, "status"}` for a correctly signed answer, approved
/// or denied alike.
pub(crate) fn verify_approval(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: ApprovalRequest = parse(input)?;
    let public_key = field!(request.public_key).str()?;
    let fields = field!(request.signature_fields).str_array()?;
    let served = field!(request.challenge).object()?;
    let auth_payload = field!(request.auth_payload).str()?;
    let fields = SignatureFields::new(&fields).map_err(|err| EnvelopeError::OutOfRange {
        field: "signature_fields".into(),
        allowed: format!("a valid signature field list ({err})"),
    })?;
    let challenge =
        ChallengeToSign::from_served(served, fields).map_err(|err| EnvelopeError::OutOfRange {
            field: "challenge".into(),
            allowed: format!("the challenge as served ({err})"),
        })?;
    let key = match DeviceKey::from_binding(public_key, "ES256") {
        Ok(key) => key,
        Err(err) => return Ok(rejection(&err)),
    };
    Ok(match verify_answer(&key, &challenge, auth_payload) {
        Ok(answer) => Outcome::Accepted(json!({
            "ok": true,
            "status": answer.decision().as_str(),
        })),
        Err(err) => rejection(&err),
    })
}

fn rejection(err: &PushError) -> Outcome {
    Outcome::rejected(code(err), err.to_string())
}

/// A stable machine code for each kind of rejection.
fn code(err: &PushError) -> &'static str {
    match err {
        PushError::SignatureInvalid => "signature_invalid",
        PushError::Binding(BindingError::UnsupportedAlg { .. }) => "unsupported_alg",
        PushError::Binding(_)
        | PushError::Base64 {
            what: Encoded::BindingPublicKey,
        } => "invalid_public_key",
        PushError::Base64 { .. }
        | PushError::Jws(_)
        | PushError::Factor(FactorError::NotDerSignature) => "malformed_auth_payload",
        PushError::Json(_) => "malformed_payload",
        PushError::Approval(ApprovalError::FieldMismatch { .. }) => "field_mismatch",
        PushError::Approval(ApprovalError::FieldMissing { .. }) => "field_missing",
        PushError::Approval(ApprovalError::UnexpectedField { .. }) => "unexpected_field",
        PushError::Approval(ApprovalError::StatusMissing | ApprovalError::StatusUnknown) => {
            "invalid_status"
        }
        PushError::Approval(ApprovalError::TooLong { .. }) => "auth_payload_too_long",
        _ => "rejected",
    }
}
