//! Approve / deny: the signed answer to a push challenge.
//!
//! When a device fetches a challenge, the host sends the header
//! `Twilio-Verify-Signature-Fields` ([`SignatureFields::header_value`]). The SDK signs
//! a compact JWS whose payload is exactly those top-level keys with their values as
//! served, plus `"status":"approved"` or `"denied"`. [`verify_answer`] checks that
//! payload against the challenge as served and returns the signed [`Decision`].
//!
//! Single use is not decided here: the result names the challenge it answers, and the
//! engine moves that challenge from `pending` with a compare-and-set, so a replayed
//! answer finds the challenge no longer pending.

use serde_json::{Map, Value};
use verify_model::{ChallengeSid, FactorSid};

use crate::binding::DeviceKey;
use crate::error::{ApprovalError, PushError, SignatureFieldsError, clip};
use crate::jws::CompactJws;
use crate::strict_json::{json_eq, parse_object};

/// The service's limit on a push `AuthPayload` (docs/api.md, "Limits"), in characters.
pub const MAX_AUTH_PAYLOAD: usize = 5456;
/// Most signature fields a challenge may list.
pub const MAX_SIGNATURE_FIELDS: usize = 16;
/// The header a host sends with a challenge the device will sign.
pub const SIGNATURE_FIELDS_HEADER: &str = "Twilio-Verify-Signature-Fields";

/// The top-level challenge keys a device signs: always including `sid`, never
/// `status`, no duplicates. Fix it when the challenge is created and keep it for the
/// challenge's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFields {
    fields: Vec<String>,
}

impl SignatureFields {
    /// The recommended list:
    /// `sid,factor_sid,details,hidden_details,expiration_date,date_created`.
    #[must_use]
    pub fn recommended() -> Self {
        Self {
            fields: [
                "sid",
                "factor_sid",
                "details",
                "hidden_details",
                "expiration_date",
                "date_created",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    /// A list of field names.
    ///
    /// # Errors
    /// [`SignatureFieldsError`] when `sid` is missing, `status` is listed, a name is
    /// repeated or not `[a-z0-9_]{1,64}`, or more than [`MAX_SIGNATURE_FIELDS`] are given.
    pub fn new<S: AsRef<str>>(fields: &[S]) -> Result<Self, SignatureFieldsError> {
        if fields.len() > MAX_SIGNATURE_FIELDS {
            return Err(SignatureFieldsError::TooMany {
                count: fields.len(),
                max: MAX_SIGNATURE_FIELDS,
            });
        }
        let mut out: Vec<String> = Vec::with_capacity(fields.len());
        for field in fields {
            let field = field.as_ref();
            let valid = (1..=64).contains(&field.len())
                && field
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(SignatureFieldsError::InvalidName {
                    length: field.len(),
                });
            }
            if field == "status" {
                return Err(SignatureFieldsError::StatusListed);
            }
            if out.iter().any(|seen| seen == field) {
                return Err(SignatureFieldsError::Duplicate {
                    field: field.to_owned(),
                });
            }
            out.push(field.to_owned());
        }
        if !out.iter().any(|field| field == "sid") {
            return Err(SignatureFieldsError::MissingSid);
        }
        Ok(Self { fields: out })
    }

    /// Parses a `Twilio-Verify-Signature-Fields` header value (comma-separated, no
    /// spaces).
    ///
    /// # Errors
    /// As [`SignatureFields::new`].
    pub fn from_header_value(value: &str) -> Result<Self, SignatureFieldsError> {
        let fields: Vec<&str> = value.split(',').collect();
        Self::new(&fields)
    }

    /// The `Twilio-Verify-Signature-Fields` header value.
    #[must_use]
    pub fn header_value(&self) -> String {
        self.fields.join(",")
    }

    /// The field names in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }
}

/// What a challenge looks like to a signing device: the signed fields' values exactly
/// as served (JSON), with the challenge and factor it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeToSign {
    challenge_sid: ChallengeSid,
    factor_sid: Option<FactorSid>,
    fields: SignatureFields,
    values: Map<String, Value>,
}

impl ChallengeToSign {
    /// Takes the signed fields from `served`, the challenge JSON object the host
    /// serves to the device (the resource as the device fetches it).
    ///
    /// # Errors
    /// [`SignatureFieldsError::NotServed`] when a listed field is absent from
    /// `served`; [`SignatureFieldsError::InvalidServedSid`] or
    /// [`SignatureFieldsError::ServedSidNotString`] when `sid` (or `factor_sid`, if
    /// listed) is not a valid sid.
    pub fn from_served(
        served: &Map<String, Value>,
        fields: SignatureFields,
    ) -> Result<Self, PushError> {
        let mut values = Map::new();
        for field in fields.iter() {
            let value = served
                .get(field)
                .ok_or_else(|| SignatureFieldsError::NotServed {
                    field: field.to_owned(),
                })?;
            values.insert(field.to_owned(), value.clone());
        }
        let challenge_sid = sid_field(&values, "sid", ChallengeSid::parse)?.ok_or(
            SignatureFieldsError::NotServed {
                field: "sid".into(),
            },
        )?;
        let factor_sid = sid_field(&values, "factor_sid", FactorSid::parse)?;
        Ok(Self {
            challenge_sid,
            factor_sid,
            fields,
            values,
        })
    }

    /// The challenge this view belongs to.
    #[must_use]
    pub const fn challenge_sid(&self) -> ChallengeSid {
        self.challenge_sid
    }

    /// The signature fields.
    #[must_use]
    pub const fn fields(&self) -> &SignatureFields {
        &self.fields
    }

    /// The JSON object a device signs to answer with `decision`: the signed fields as
    /// served plus `status`.
    #[must_use]
    pub fn payload_to_sign(&self, decision: Decision) -> Map<String, Value> {
        let mut payload = self.values.clone();
        payload.insert("status".into(), Value::String(decision.as_str().into()));
        payload
    }
}

fn sid_field<T>(
    values: &Map<String, Value>,
    field: &'static str,
    parse: fn(&str) -> Result<T, verify_model::ModelError>,
) -> Result<Option<T>, SignatureFieldsError> {
    match values.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => parse(text)
            .map(Some)
            .map_err(|source| SignatureFieldsError::InvalidServedSid { field, source }),
        Some(_) => Err(SignatureFieldsError::ServedSidNotString { field }),
    }
}

/// The decision a device signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Decision {
    /// `"status":"approved"`.
    Approved,
    /// `"status":"denied"`.
    Denied,
}

impl Decision {
    /// The wire string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }
}

/// A correctly signed answer to one challenge. It is not yet a state change: the
/// engine applies it with a compare-and-set `pending → decision` on
/// [`VerifiedAnswer::challenge_sid`], which is what makes an answer single-use.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "apply the decision to the challenge with a compare-and-set"]
pub struct VerifiedAnswer {
    challenge_sid: ChallengeSid,
    factor_sid: Option<FactorSid>,
    decision: Decision,
    signed: Map<String, Value>,
}

impl VerifiedAnswer {
    /// The challenge this answer was signed for.
    #[must_use]
    pub const fn challenge_sid(&self) -> ChallengeSid {
        self.challenge_sid
    }

    /// The factor named in the signed payload, when `factor_sid` was a signed field.
    #[must_use]
    pub const fn factor_sid(&self) -> Option<FactorSid> {
        self.factor_sid
    }

    /// The signed decision.
    #[must_use]
    pub const fn decision(&self) -> Decision {
        self.decision
    }

    /// The verified payload (signed fields and `status`).
    #[must_use]
    pub const fn signed_payload(&self) -> &Map<String, Value> {
        &self.signed
    }
}

/// Verifies a device's approve/deny `AuthPayload` for `challenge`, signed by `key`.
///
/// Checks, in order: length ≤ [`MAX_AUTH_PAYLOAD`]; three base64url segments; header
/// `alg` = `ES256` (no `crit`); the ES256 signature over the received `seg0.seg1`
/// (high-S accepted, the 63-byte iOS quirk tolerated as documented on
/// [`DeviceKey`]); the payload is one JSON object without duplicate keys at any depth,
/// nesting ≤ 16; every signature field is present and JSON-equal to the served value;
/// no other key than those and `status`; `status` is `approved` or `denied`.
///
/// `key` must be the key of the factor the challenge was created for (the engine
/// looks it up by the challenge's `factor_sid`, never by anything in the payload).
/// Whether the challenge is still pending (and not expired) is the engine's check.
///
/// # Errors
/// [`PushError::SignatureInvalid`] for a bad signature (or the wrong key), otherwise
/// the [`PushError::Jws`], [`PushError::Base64`], [`PushError::Json`] or
/// [`PushError::Approval`] naming the defect.
pub fn verify_answer(
    key: &DeviceKey,
    challenge: &ChallengeToSign,
    auth_payload: &str,
) -> Result<VerifiedAnswer, PushError> {
    if auth_payload.chars().count() > MAX_AUTH_PAYLOAD {
        return Err(ApprovalError::TooLong {
            length: auth_payload.chars().count(),
            max: MAX_AUTH_PAYLOAD,
        }
        .into());
    }
    let jws = CompactJws::parse(auth_payload, MAX_AUTH_PAYLOAD)?;
    let payload = jws.verify(key)?;
    let signed = parse_object(payload, MAX_AUTH_PAYLOAD)?;
    for (field, served) in &challenge.values {
        let got = signed
            .get(field)
            .ok_or_else(|| ApprovalError::FieldMissing {
                field: field.clone(),
            })?;
        if !json_eq(got, served) {
            return Err(ApprovalError::FieldMismatch {
                field: field.clone(),
            }
            .into());
        }
    }
    if let Some(extra) = signed
        .keys()
        .find(|key| *key != "status" && !challenge.values.contains_key(*key))
    {
        return Err(ApprovalError::UnexpectedField { field: clip(extra) }.into());
    }
    let decision = match signed.get("status") {
        None => return Err(ApprovalError::StatusMissing.into()),
        Some(Value::String(status)) if status == "approved" => Decision::Approved,
        Some(Value::String(status)) if status == "denied" => Decision::Denied,
        Some(_) => return Err(ApprovalError::StatusUnknown.into()),
    };
    Ok(VerifiedAnswer {
        challenge_sid: challenge.challenge_sid,
        factor_sid: challenge.factor_sid,
        decision,
        signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signature_fields_rules() {
        assert_eq!(
            SignatureFields::recommended().header_value(),
            "sid,factor_sid,details,hidden_details,expiration_date,date_created"
        );
        let parsed = SignatureFields::from_header_value("sid,details").unwrap();
        assert_eq!(parsed.iter().collect::<Vec<_>>(), ["sid", "details"]);
        assert_eq!(
            SignatureFields::new(&["details"]),
            Err(SignatureFieldsError::MissingSid)
        );
        assert_eq!(
            SignatureFields::new(&["sid", "status"]),
            Err(SignatureFieldsError::StatusListed)
        );
        assert_eq!(
            SignatureFields::new(&["sid", "sid"]),
            Err(SignatureFieldsError::Duplicate {
                field: "sid".into()
            })
        );
        for bad in ["sid, details", "sid,", "sid,Details", ""] {
            assert!(matches!(
                SignatureFields::from_header_value(bad),
                Err(SignatureFieldsError::InvalidName { .. })
            ));
        }
        let many: Vec<String> = (0..17).map(|i| format!("f{i}")).collect();
        assert!(matches!(
            SignatureFields::new(&many),
            Err(SignatureFieldsError::TooMany { count: 17, .. })
        ));
    }

    #[test]
    fn served_challenge_must_hold_the_fields() {
        let served = json!({"sid": "YC00000000000000000000000000000002", "details": {}});
        let served = served.as_object().unwrap();
        let fields = SignatureFields::new(&["sid", "details", "hidden_details"]).unwrap();
        assert!(matches!(
            ChallengeToSign::from_served(served, fields),
            Err(PushError::SignatureFields(
                SignatureFieldsError::NotServed { .. }
            ))
        ));
        let bad_sid = json!({"sid": "YF00000000000000000000000000000002"});
        assert!(matches!(
            ChallengeToSign::from_served(
                bad_sid.as_object().unwrap(),
                SignatureFields::new(&["sid"]).unwrap()
            ),
            Err(PushError::SignatureFields(
                SignatureFieldsError::InvalidServedSid { field: "sid", .. }
            ))
        ));
        let numeric_sid = json!({"sid": 7});
        assert_eq!(
            ChallengeToSign::from_served(
                numeric_sid.as_object().unwrap(),
                SignatureFields::new(&["sid"]).unwrap()
            ),
            Err(PushError::SignatureFields(
                SignatureFieldsError::ServedSidNotString { field: "sid" }
            ))
        );
        let view =
            ChallengeToSign::from_served(served, SignatureFields::new(&["sid"]).unwrap()).unwrap();
        assert_eq!(
            view.payload_to_sign(Decision::Denied),
            *json!({"sid": "YC00000000000000000000000000000002", "status": "denied"})
                .as_object()
                .unwrap()
        );
    }
}
