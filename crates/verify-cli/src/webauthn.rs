//! `verify webauthn verify-registration | verify-authentication` and `verify inspect`
//! (contract: crates/verify-cli/README.md), over verify-webauthn's public API.
//!
//! Envelope defects (a missing field, a wrong JSON type, a value outside its
//! enumeration or range: an unknown `user_verification`, an unsupported algorithm, a
//! challenge that is not base64url, an origin that is not one, an unparsable trust
//! anchor or stored credential record) are [`EnvelopeError`]s: exit 2. Every defect in
//! the `credential` being verified (its members, base64url, CBOR, COSE, flags,
//! signature) is a rejection with verify-webauthn's machine code: exit 1. A request
//! member the command does not know (at the top level or in `credential_record`) is an
//! envelope error; the members of `credential` itself are verify-webauthn's to judge.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use verify_model::UnixTime;
use verify_model::config::{Aaguid, PasskeyRestrictions};
use verify_model::{Field as VerifyField, ModelError};
use verify_webauthn::WebauthnError;
use verify_webauthn::attestation::TrustAnchors;
use verify_webauthn::authentication::{self, AuthenticationInput, StoredCredential};
use verify_webauthn::authenticator_data::AuthenticatorData;
use verify_webauthn::base64url;
use verify_webauthn::client_data::{CollectedClientData, is_valid_origin};
use verify_webauthn::cose::CoseKey;
use verify_webauthn::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm};
use verify_webauthn::extensions::{
    CredentialProtectionPolicy, RegistrationExtensionOutputs, RegistrationExtensions,
};
use verify_webauthn::policy::{
    AaguidPolicy, AttestationTrust, BackupEligibleRegistration, CeremonyPolicy, CounterPolicy,
    CrossOriginPolicy, UserVerification,
};
use verify_webauthn::registration::{self, AttestationObject, RegistrationInput};
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson};

use crate::envelope::{EnvelopeError, Field, Outcome, field, nested, parse};

/// The request of `verify webauthn verify-registration`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationRequest {
    rp_id: Option<Value>,
    origins: Option<Value>,
    challenge: Option<Value>,
    user_verification: Option<Value>,
    algorithms: Option<Value>,
    allow_cross_origin: Option<Value>,
    top_origins: Option<Value>,
    trust_anchors_pem: Option<Value>,
    /// A FIDO MDS3 BLOB (the compact JWS text), verified against
    /// `trust_mds_roots_pem` at `now`: its per-AAGUID roots join the anchors, and
    /// its revoked or compromised AAGUIDs are refused.
    trust_mds_blob: Option<Value>,
    /// The roots the BLOB's signing chain must reach (the FIDO MDS root).
    trust_mds_roots_pem: Option<Value>,
    require_trusted_attestation: Option<Value>,
    /// Refuse a backup-eligible (BE) credential (a service's
    /// `Passkeys.RefuseBackupEligible`).
    refuse_backup_eligible: Option<Value>,
    /// When not empty, the only AAGUIDs accepted, and only signed by a trusted
    /// attestation (a service's `Passkeys.AaguidAllowList`).
    aaguid_allow_list: Option<Value>,
    /// AAGUIDs refused, signed or not (a service's `Passkeys.AaguidDenyList`).
    aaguid_deny_list: Option<Value>,
    /// The extensions the ceremony requested (a service's per-service settings).
    extensions: Option<Value>,
    /// `"conditional"` when the browser was called with `mediation: "conditional"`
    /// (a conditional create: UP is not required); absent otherwise.
    mediation: Option<Value>,
    now: Option<Value>,
    /// The `RegistrationResponseJSON`: its members are checked by verify-webauthn
    /// (defects there are rejections).
    credential: Option<Value>,
}

/// The request of `verify webauthn verify-authentication`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthenticationRequest {
    rp_id: Option<Value>,
    origins: Option<Value>,
    challenge: Option<Value>,
    user_verification: Option<Value>,
    allow_cross_origin: Option<Value>,
    top_origins: Option<Value>,
    now: Option<Value>,
    credential_record: Option<Value>,
    counter_policy: Option<Value>,
    /// The `AuthenticationResponseJSON`, checked by verify-webauthn.
    credential: Option<Value>,
}

/// `extensions` of `verify webauthn verify-registration`: what the ceremony
/// requested, whose outputs are then checked and reported.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionsRequest {
    cred_props: Option<Value>,
    cred_protect: Option<Value>,
    enforce_cred_protect: Option<Value>,
    min_pin_length: Option<Value>,
}

/// The CTAP 2.1 `credentialProtectionPolicy` spellings, level 1 to 3.
const CRED_PROTECT_LEVELS: [&str; 3] = [
    "userVerificationOptional",
    "userVerificationOptionalWithCredentialIDList",
    "userVerificationRequired",
];

/// `extensions`: `None` when absent (then the output has no `extensions` either).
fn extensions(field: Field<'_>) -> Result<Option<RegistrationExtensions>, EnvelopeError> {
    if field.get().is_none() {
        return Ok(None);
    }
    let members: ExtensionsRequest = nested(field.name(), field.object()?)?;
    let mut requested = RegistrationExtensions::new();
    if Field::new("extensions.cred_props", members.cred_props.as_ref()).bool_or(false)? {
        requested = requested.with_cred_props();
    }
    let enforce = Field::new(
        "extensions.enforce_cred_protect",
        members.enforce_cred_protect.as_ref(),
    )
    .bool_or(false)?;
    match Field::new("extensions.cred_protect", members.cred_protect.as_ref()).opt_str()? {
        Some(level) => {
            let policy = match pick_level(level)? {
                1 => CredentialProtectionPolicy::UserVerificationOptional,
                2 => CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList,
                _ => CredentialProtectionPolicy::UserVerificationRequired,
            };
            requested = requested.with_cred_protect(policy, enforce);
        }
        None if enforce => {
            return Err(EnvelopeError::Missing("extensions.cred_protect".into()));
        }
        None => {}
    }
    if Field::new("extensions.min_pin_length", members.min_pin_length.as_ref()).bool_or(false)? {
        requested = requested.with_min_pin_length();
    }
    Ok(Some(requested))
}

/// The level (1..=3) of a `credentialProtectionPolicy` spelling.
fn pick_level(text: &str) -> Result<u8, EnvelopeError> {
    let mut level = 0_u8;
    for name in CRED_PROTECT_LEVELS {
        level = level.saturating_add(1);
        if name == text {
            return Ok(level);
        }
    }
    Err(out_of_range(
        "extensions.cred_protect",
        &format!("one of {}", CRED_PROTECT_LEVELS.join(", ")),
    ))
}

/// The reported outputs of the requested extensions (absent ones omitted).
fn extension_outputs(outputs: &RegistrationExtensionOutputs) -> Value {
    let mut map = Map::new();
    if let Some(rk) = outputs.cred_props_rk {
        map.insert("cred_props_rk".to_owned(), Value::Bool(rk));
    }
    if let Some(policy) = outputs.cred_protect {
        map.insert("cred_protect".to_owned(), policy.as_str().into());
    }
    if let Some(length) = outputs.min_pin_length {
        map.insert("min_pin_length".to_owned(), length.into());
    }
    Value::Object(map)
}

/// `credential_record` of `verify webauthn verify-authentication`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordRequest {
    id: Option<Value>,
    public_key_cose: Option<Value>,
    sign_count: Option<Value>,
    backup_eligible: Option<Value>,
}

/// The request of `verify inspect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InspectRequest {
    kind: Option<Value>,
    data: Option<Value>,
}

/// The members both ceremony requests share.
struct CeremonyFields<'a> {
    rp_id: Field<'a>,
    origins: Field<'a>,
    challenge: Field<'a>,
    user_verification: Field<'a>,
    allow_cross_origin: Field<'a>,
    top_origins: Field<'a>,
    now: Field<'a>,
}

/// The [`CeremonyFields`] of a ceremony request.
macro_rules! ceremony_fields {
    ($request:ident) => {
        CeremonyFields {
            rp_id: field!($request.rp_id),
            origins: field!($request.origins),
            challenge: field!($request.challenge),
            user_verification: field!($request.user_verification),
            allow_cross_origin: field!($request.allow_cross_origin),
            top_origins: field!($request.top_origins),
            now: field!($request.now),
        }
    };
}

/// The members every ceremony request shares.
struct Ceremony {
    rp_id: String,
    origins: Vec<String>,
    challenge: Vec<u8>,
    policy: CeremonyPolicy,
    now: UnixTime,
}

impl Ceremony {
    fn parse(fields: &CeremonyFields<'_>) -> Result<Self, EnvelopeError> {
        let rp_id = fields.rp_id.str()?;
        if rp_id.is_empty() || rp_id.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(out_of_range("rp_id", "a domain name"));
        }
        let origins = fields.origins.str_array()?;
        if origins.is_empty() {
            return Err(out_of_range("origins", "a non-empty array of origins"));
        }
        check_origins("origins", &origins)?;
        let challenge = base64url::decode(fields.challenge.str()?, "challenge")
            .map_err(|_| out_of_range("challenge", "base64url"))?;
        if challenge.is_empty() {
            return Err(out_of_range("challenge", "non-empty base64url"));
        }
        let user_verification =
            match fields
                .user_verification
                .choice(&["required", "preferred", "discouraged"])?
            {
                "required" => UserVerification::Required,
                "preferred" => UserVerification::Preferred,
                _ => UserVerification::Discouraged,
            };
        let allow_cross_origin = fields.allow_cross_origin.bool_or(false)?;
        let top_origins = fields.top_origins.opt_str_array()?.unwrap_or_default();
        check_origins("top_origins", &top_origins)?;
        let now = match fields.now.opt_u64()? {
            Some(seconds) => UnixTime::from_secs(seconds),
            None => system_now(),
        };
        let mut policy = CeremonyPolicy::default();
        policy.user_verification = user_verification;
        policy.cross_origin = if allow_cross_origin {
            CrossOriginPolicy::Allow {
                top_origins: top_origins.iter().map(|o| (*o).to_owned()).collect(),
            }
        } else {
            CrossOriginPolicy::Reject
        };
        Ok(Self {
            rp_id: rp_id.to_owned(),
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            challenge,
            policy,
            now,
        })
    }
}

fn check_origins(field: &str, origins: &[&str]) -> Result<(), EnvelopeError> {
    if origins.iter().all(|origin| is_valid_origin(origin)) {
        Ok(())
    } else {
        Err(out_of_range(
            field,
            "origins: https://host[:port], http://localhost[:port], \
             android:apk-key-hash:<hash> or ios:bundle-id:<id>",
        ))
    }
}

fn out_of_range(field: &str, allowed: &str) -> EnvelopeError {
    EnvelopeError::OutOfRange {
        field: field.into(),
        allowed: allowed.into(),
    }
}

fn wrong_type(field: &str, expected: &'static str) -> EnvelopeError {
    EnvelopeError::WrongType {
        field: field.into(),
        expected,
    }
}

/// `aaguid_allow_list` / `aaguid_deny_list`: UUID strings (8-4-4-4-12, either
/// case), parsed by verify-model's rule; absent is empty.
fn aaguids(
    name: &str,
    model_field: VerifyField,
    field: Field<'_>,
) -> Result<Vec<[u8; 16]>, EnvelopeError> {
    field
        .opt_str_array()?
        .unwrap_or_default()
        .iter()
        .map(|text| {
            Aaguid::parse(model_field, text)
                .map(Aaguid::to_bytes)
                .map_err(|_| out_of_range(name, "UUIDs (8-4-4-4-12 hexadecimal digits)"))
        })
        .collect()
}

/// The system clock, for a request without `now` (the CLI is the I/O edge).
fn system_now() -> UnixTime {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    UnixTime::from_secs(seconds)
}

/// `algorithms`: COSE identifiers of credential algorithms, default `[-8, -7, -257]`.
fn algorithms(field: Field<'_>) -> Result<Option<Vec<SignatureAlgorithm>>, EnvelopeError> {
    const FIELD: &str = "algorithms";
    let Some(value) = field.get() else {
        return Ok(None);
    };
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(FIELD, "an array of COSE algorithm identifiers"))?;
    if items.is_empty() {
        return Err(out_of_range(FIELD, "a non-empty array"));
    }
    let mut algorithms = Vec::with_capacity(items.len());
    for item in items {
        let identifier = item
            .as_i64()
            .ok_or_else(|| wrong_type(FIELD, "an array of COSE algorithm identifiers"))?;
        let algorithm = SignatureAlgorithm::from_cose(identifier)
            .filter(|alg| *alg != SignatureAlgorithm::Rs1)
            .ok_or_else(|| {
                out_of_range(
                    FIELD,
                    "COSE credential algorithms: -7, -35, -36, -8, -257, -258, -259, -37, -38, -39",
                )
            })?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    Ok(Some(algorithms))
}

/// `trust_anchors_pem`: PEM texts, each with one or more certificates.
fn trust_anchors(field: Field<'_>) -> Result<TrustAnchors, EnvelopeError> {
    let mut anchors = TrustAnchors::new();
    for (index, pem) in field
        .opt_str_array()?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        anchors
            .add_pem(verify_webauthn::attestation::AnchorScope::All, pem)
            .map_err(|err| {
                out_of_range(
                    "trust_anchors_pem",
                    &format!("PEM certificates (entry {index}: {err})"),
                )
            })?;
    }
    Ok(anchors)
}

/// `trust_mds_blob` with `trust_mds_roots_pem` (each needs the other): the BLOB
/// verified at `now` and imported into `anchors`. A BLOB that fails its checks is
/// an input error, as a malformed anchor is: nothing of it is used.
fn mds_blob(
    anchors: &mut TrustAnchors,
    blob: Field<'_>,
    roots: Field<'_>,
    now: UnixTime,
) -> Result<(), EnvelopeError> {
    let (blob, roots_pem) = match (blob.opt_str()?, roots.opt_str_array()?) {
        (None, None) => return Ok(()),
        (Some(blob), Some(roots)) if !roots.is_empty() => (blob, roots),
        (Some(_), _) => return Err(EnvelopeError::Missing("trust_mds_roots_pem".into())),
        (None, Some(_)) => return Err(EnvelopeError::Missing("trust_mds_blob".into())),
    };
    let mut roots = TrustAnchors::new();
    for (index, pem) in roots_pem.iter().enumerate() {
        roots
            .add_pem(verify_webauthn::attestation::AnchorScope::All, pem)
            .map_err(|err| {
                out_of_range(
                    "trust_mds_roots_pem",
                    &format!("PEM certificates (entry {index}: {err})"),
                )
            })?;
    }
    anchors.add_mds3_blob(blob, &roots, now).map_err(|err| {
        out_of_range(
            "trust_mds_blob",
            &format!("an MDS3 BLOB signed under trust_mds_roots_pem ({err})"),
        )
    })?;
    Ok(())
}

/// The stored credential record of `verify-authentication`.
struct Record {
    stored: StoredCredential,
}

impl Record {
    fn parse(field: Field<'_>) -> Result<Self, EnvelopeError> {
        let members: RecordRequest = nested(field.name(), field.object()?)?;
        let field = |name: &str| format!("credential_record.{name}");
        let string = |name: &str, value: Option<&'_ Value>| -> Result<String, EnvelopeError> {
            match value {
                None | Some(Value::Null) => Err(EnvelopeError::Missing(field(name))),
                Some(Value::String(text)) => Ok(text.clone()),
                Some(_) => Err(wrong_type(&field(name), "a string")),
            }
        };
        let id = base64url::decode(&string("id", members.id.as_ref())?, "credential_record.id")
            .map_err(|_| out_of_range(&field("id"), "base64url"))?;
        if id.is_empty() {
            return Err(out_of_range(&field("id"), "a non-empty credential id"));
        }
        let key_bytes = base64url::decode(
            &string("public_key_cose", members.public_key_cose.as_ref())?,
            "public_key_cose",
        )
        .map_err(|_| out_of_range(&field("public_key_cose"), "base64url"))?;
        let sign_count = match &members.sign_count {
            None | Some(Value::Null) => return Err(EnvelopeError::Missing(field("sign_count"))),
            Some(Value::Number(number)) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    out_of_range(&field("sign_count"), "an integer from 0 to 4294967295")
                })?,
            Some(_) => return Err(wrong_type(&field("sign_count"), "a non-negative integer")),
        };
        let backup_eligible = match &members.backup_eligible {
            None | Some(Value::Null) => None,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(_) => return Err(wrong_type(&field("backup_eligible"), "true or false")),
        };
        let stored =
            StoredCredential::new(id, &key_bytes, sign_count, backup_eligible).map_err(|err| {
                out_of_range(
                    &field("public_key_cose"),
                    &format!("a supported COSE_Key ({err})"),
                )
            })?;
        Ok(Self { stored })
    }
}

/// The response JSON being verified: an object (else the envelope is unusable).
fn credential<'a>(field: Field<'a>) -> Result<&'a Map<String, Value>, EnvelopeError> {
    field.object()
}

fn rejected(err: &WebauthnError) -> Outcome {
    Outcome::rejected(err.code(), err.to_string())
}

/// `verify webauthn verify-registration`.
pub(crate) fn verify_registration(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: RegistrationRequest = parse(input)?;
    let mut ceremony = Ceremony::parse(&ceremony_fields!(request))?;
    if let Some(algorithms) = algorithms(field!(request.algorithms))? {
        ceremony.policy.algorithms = algorithms;
    }
    let mut anchors = trust_anchors(field!(request.trust_anchors_pem))?;
    mds_blob(
        &mut anchors,
        field!(request.trust_mds_blob),
        field!(request.trust_mds_roots_pem),
        ceremony.now,
    )?;
    if field!(request.require_trusted_attestation).bool_or(false)? {
        ceremony.policy.attestation_trust = AttestationTrust::RequireTrusted;
    }
    if field!(request.refuse_backup_eligible).bool_or(false)? {
        ceremony.policy.backup_eligible_registration = BackupEligibleRegistration::Refuse;
    }
    let allow = aaguids(
        "aaguid_allow_list",
        VerifyField::AaguidAllowList,
        field!(request.aaguid_allow_list),
    )?;
    let deny = aaguids(
        "aaguid_deny_list",
        VerifyField::AaguidDenyList,
        field!(request.aaguid_deny_list),
    )?;
    // The service's rules (verify-model's PasskeyRestrictions): at most 64 each,
    // no repeat, none on both lists.
    let to_model = |list: &[[u8; 16]]| list.iter().copied().map(Aaguid::from_bytes).collect();
    if let Err(error) =
        PasskeyRestrictions::new_checked(false, to_model(&allow), to_model(&deny), false, vec![])
    {
        let name = match error {
            ModelError::TooManyItems {
                field: VerifyField::AaguidDenyList,
                ..
            }
            | ModelError::DuplicateItem {
                field: VerifyField::AaguidDenyList,
            } => "aaguid_deny_list",
            _ => "aaguid_allow_list",
        };
        return Err(out_of_range(
            name,
            "at most 64 distinct AAGUIDs, none on both lists",
        ));
    }
    ceremony.policy.aaguids = AaguidPolicy::new(allow, deny);
    let requested = extensions(field!(request.extensions))?;
    let conditional = match field!(request.mediation).opt_str()? {
        None => false,
        Some("conditional") => true,
        Some(_) => return Err(out_of_range("mediation", "\"conditional\" or absent")),
    };
    let credential = credential(field!(request.credential))?;
    let response =
        match RegistrationResponseJson::from_json(&Value::Object(credential.clone()).to_string()) {
            Ok(response) => response,
            Err(err) => return Ok(rejected(&WebauthnError::from(err))),
        };
    let input = RegistrationInput::new(
        &ceremony.rp_id,
        &ceremony.origins,
        &ceremony.challenge,
        &ceremony.policy,
        &anchors,
        ceremony.now,
    );
    let none = RegistrationExtensions::new();
    let input = input.with_extensions(requested.as_ref().unwrap_or(&none));
    let input = if conditional {
        input.with_conditional_mediation()
    } else {
        input
    };
    Ok(match registration::verify_registration(&input, &response) {
        Ok(verified) => {
            let record = &verified.credential;
            let mut accepted = json!({
                "ok": true,
                "credential": {
                    "id": base64url::encode(record.id.as_slice()),
                    "public_key_cose": base64url::encode(record.public_key_cose.as_slice()),
                    "algorithm": record.algorithm,
                    "sign_count": record.sign_count,
                    "aaguid": record.aaguid,
                    "attestation_format": verified.attestation_format.name(),
                    "attestation_type": verified.attestation_type.name(),
                    "attestation_trusted": record.attestation_trusted,
                    "user_verified": record.user_verified,
                    "backup_eligible": record.backup_eligible,
                    "backup_state": record.backup_state,
                    "transports": record.transports,
                }
            });
            if requested.is_some()
                && let Value::Object(members) = &mut accepted
            {
                members.insert(
                    "extensions".to_owned(),
                    extension_outputs(&verified.extensions),
                );
            }
            Outcome::Accepted(accepted)
        }
        Err(err) => rejected(&err),
    })
}

/// `verify webauthn verify-authentication`.
pub(crate) fn verify_authentication(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: AuthenticationRequest = parse(input)?;
    let mut ceremony = Ceremony::parse(&ceremony_fields!(request))?;
    let record = Record::parse(field!(request.credential_record))?;
    ceremony.policy.counter =
        match field!(request.counter_policy).choice_or(&["reject", "warn"], "reject")? {
            "warn" => CounterPolicy::Warn,
            _ => CounterPolicy::Reject,
        };
    let credential = credential(field!(request.credential))?;
    let response =
        match AuthenticationResponseJson::from_json(&Value::Object(credential.clone()).to_string())
        {
            Ok(response) => response,
            Err(err) => return Ok(rejected(&WebauthnError::from(err))),
        };
    let input = AuthenticationInput::new(
        &ceremony.rp_id,
        &ceremony.origins,
        &ceremony.challenge,
        &ceremony.policy,
    );
    Ok(
        match authentication::verify_authentication(&input, &record.stored, &response) {
            Ok(verified) => Outcome::Accepted(json!({
                "ok": true,
                "sign_count": verified.sign_count,
                "user_verified": verified.user_verified,
                "backup_state": verified.backup_state,
                "counter_warning": verified.counter_warning,
            })),
            Err(err) => rejected(&err),
        },
    )
}

/// The kinds `verify inspect` decodes, in the order tried when `kind` is omitted.
const KINDS: [&str; 6] = [
    "attestation_object",
    "registration",
    "authentication",
    "client_data",
    "authenticator_data",
    "cose_key",
];

/// `verify inspect`.
pub(crate) fn inspect(input: &str) -> Result<Outcome, EnvelopeError> {
    let request: InspectRequest = parse(input)?;
    let kind = match field!(request.kind).opt_str()? {
        Some(text) => Some(
            KINDS
                .iter()
                .copied()
                .find(|k| *k == text)
                .ok_or_else(|| out_of_range("kind", &format!("one of {}", KINDS.join(", "))))?,
        ),
        None => None,
    };
    let data = field!(request.data).required()?;
    if !data.is_string() && !data.is_object() {
        return Err(wrong_type("data", "a string or a JSON object"));
    }
    if let Some(kind) = kind {
        return Ok(match decode(kind, data) {
            Ok(decoded) => Outcome::Accepted(json!({ "kind": kind, kind: decoded })),
            Err(message) => Outcome::rejected(format!("invalid_{kind}"), message),
        });
    }
    let mut reasons = Vec::new();
    for kind in KINDS {
        match decode(kind, data) {
            Ok(decoded) => return Ok(Outcome::Accepted(json!({ "kind": kind, kind: decoded }))),
            Err(message) => reasons.push(format!("{kind}: {message}")),
        }
    }
    Ok(Outcome::rejected(
        "unrecognized",
        format!(
            "data is none of the kinds inspect knows ({})",
            reasons.join("; ")
        ),
    ))
}

/// Decodes `data` as `kind`, or says why it is not one.
fn decode(kind: &str, data: &Value) -> Result<Value, String> {
    match kind {
        "authenticator_data" => inspect_authenticator_data(&binary(data)?),
        "cose_key" => CoseKey::from_bytes(&binary(data)?)
            .map(|key| cose_key_json(&key))
            .map_err(|err| err.to_string()),
        "client_data" => inspect_client_data(&client_data_bytes(data)?),
        "attestation_object" => inspect_attestation_object(&binary(data)?),
        "registration" => inspect_registration(&json_text(data)?),
        _ => inspect_authentication(&json_text(data)?),
    }
}

/// A binary value: a base64url string.
fn binary(data: &Value) -> Result<Vec<u8>, String> {
    let text = data
        .as_str()
        .ok_or("expected a base64url string, got a JSON object")?;
    base64url::decode(text, "data").map_err(|err| err.to_string())
}

/// clientDataJSON: base64url of the bytes, or the JSON text itself.
fn client_data_bytes(data: &Value) -> Result<Vec<u8>, String> {
    let text = data
        .as_str()
        .ok_or("expected a base64url string, got a JSON object")?;
    if text.trim_start().starts_with('{') {
        Ok(text.as_bytes().to_vec())
    } else {
        base64url::decode(text, "data").map_err(|err| err.to_string())
    }
}

/// A response JSON: the object itself, or its text.
fn json_text(data: &Value) -> Result<String, String> {
    match data {
        Value::String(text) => Ok(text.clone()),
        other => Ok(other.to_string()),
    }
}

fn inspect_attestation_object(bytes: &[u8]) -> Result<Value, String> {
    let object = AttestationObject::parse(bytes).map_err(|err| err.to_string())?;
    Ok(json!({
        "fmt": object.format,
        "att_stmt": cbor_json(&object.statement),
        "auth_data": inspect_authenticator_data(&object.auth_data)?,
    }))
}

fn inspect_registration(text: &str) -> Result<Value, String> {
    let response = RegistrationResponseJson::from_json(text).map_err(|err| err.to_string())?;
    response.check_envelope().map_err(|err| err.to_string())?;
    let inner = &response.response;
    Ok(json!({
        "id": response.id,
        "type": response.credential_type,
        "authenticator_attachment": response.authenticator_attachment,
        "client_extension_results": response.client_extension_results,
        "transports": inner.transports,
        "client_data": inspect_client_data(inner.client_data_json.as_slice())?,
        "attestation_object": inspect_attestation_object(inner.attestation_object.as_slice())?,
    }))
}

fn inspect_authentication(text: &str) -> Result<Value, String> {
    let response = AuthenticationResponseJson::from_json(text).map_err(|err| err.to_string())?;
    response.check_envelope().map_err(|err| err.to_string())?;
    let inner = &response.response;
    Ok(json!({
        "id": response.id,
        "type": response.credential_type,
        "authenticator_attachment": response.authenticator_attachment,
        "client_extension_results": response.client_extension_results,
        "client_data": inspect_client_data(inner.client_data_json.as_slice())?,
        "authenticator_data": inspect_authenticator_data(inner.authenticator_data.as_slice())?,
        "signature": base64url::encode(inner.signature.as_slice()),
        "user_handle": inner.user_handle.as_ref().map(|handle| base64url::encode(handle.as_slice())),
    }))
}

fn inspect_client_data(bytes: &[u8]) -> Result<Value, String> {
    // Parsed by the library first (its size bound and member checks), then shown with
    // every member, the unknown ones too.
    CollectedClientData::parse(bytes).map_err(|err| err.to_string())?;
    let members: Value = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
    Ok(members)
}

fn inspect_authenticator_data(bytes: &[u8]) -> Result<Value, String> {
    let parsed = AuthenticatorData::parse(bytes).map_err(|err| err.to_string())?;
    let flags = parsed.flags;
    let attested = parsed.attested_credential_data.as_ref().map(|attested| {
        json!({
            "aaguid": aaguid(&attested.aaguid),
            "credential_id": base64url::encode(&attested.credential_id),
            "credential_public_key": cose_key_json(&attested.public_key),
        })
    });
    Ok(json!({
        "rp_id_hash": hex(&parsed.rp_id_hash),
        "flags": {
            "value": flags.bits(),
            "user_present": flags.user_present(),
            "user_verified": flags.user_verified(),
            "backup_eligible": flags.backup_eligible(),
            "backup_state": flags.backup_state(),
            "attested_credential_data": flags.attested_credential_data(),
            "extension_data": flags.extension_data(),
        },
        "sign_count": parsed.sign_count,
        "attested_credential_data": attested,
        "extensions": parsed.extensions.as_ref().map(cbor_json),
    }))
}

/// A COSE_Key as JSON: algorithm, key type and the key's components.
fn cose_key_json(key: &CoseKey) -> Value {
    let algorithm = key.algorithm();
    let mut out = json!({
        "algorithm": key.cose_algorithm(),
        "algorithm_name": algorithm.name(),
        "public_key_cose": base64url::encode(key.as_bytes()),
    });
    let components = match key.material() {
        PublicKeyMaterial::Ec { curve, x, y } => json!({
            "key_type": "EC2",
            "curve": match curve {
                EcCurve::P256 => "P-256",
                EcCurve::P384 => "P-384",
                _ => "P-521",
            },
            "x": base64url::encode(x),
            "y": base64url::encode(y),
        }),
        PublicKeyMaterial::Ed25519 { x } => json!({
            "key_type": "OKP",
            "curve": "Ed25519",
            "x": base64url::encode(x),
        }),
        PublicKeyMaterial::Rsa { n, e } => json!({
            "key_type": "RSA",
            "modulus_bits": rsa_bits(n),
            "n": base64url::encode(n),
            "e": base64url::encode(e),
        }),
        _ => json!({ "key_type": "unknown" }),
    };
    if let (Value::Object(out), Value::Object(components)) = (&mut out, components) {
        out.extend(components);
    }
    out
}

fn rsa_bits(n: &[u8]) -> usize {
    let mut digits = n.iter().skip_while(|byte| **byte == 0);
    digits.next().map_or(0, |first| {
        let rest = digits.count();
        let lead = usize::try_from(u8::BITS.saturating_sub(first.leading_zeros())).unwrap_or(8);
        rest.saturating_mul(8).saturating_add(lead)
    })
}

/// CBOR (extension outputs, attestation statements) as JSON: byte strings become
/// unpadded base64url strings, map keys their text or decimal form, tags their content.
fn cbor_json(value: &ciborium::Value) -> Value {
    use ciborium::Value as Cbor;
    match value {
        Cbor::Integer(integer) => {
            let wide = i128::from(*integer);
            i64::try_from(wide).map_or_else(
                |_| {
                    u64::try_from(wide)
                        .map_or_else(|_| Value::String(wide.to_string()), Value::from)
                },
                Value::from,
            )
        }
        Cbor::Bytes(bytes) => Value::String(base64url::encode(bytes)),
        Cbor::Float(float) => {
            serde_json::Number::from_f64(*float).map_or(Value::Null, Value::Number)
        }
        Cbor::Text(text) => Value::String(text.clone()),
        Cbor::Bool(flag) => Value::Bool(*flag),
        Cbor::Tag(_, inner) => cbor_json(inner),
        Cbor::Array(items) => Value::Array(items.iter().map(cbor_json).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match cbor_json(key) {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    (key, cbor_json(value))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// A lower-case 8-4-4-4-12 UUID.
fn aaguid(bytes: &[u8; 16]) -> String {
    let hex = hex(bytes);
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}
