//! No request that passes validation ends in a 5xx: every operation the server
//! exposes, sent on every kind of factor and challenge, as the host (API key) and as
//! an enrolled push device (request JWT).
//!
//! One server, one service (TOTP, push and passkeys). For each (action, caller) the
//! test builds a fresh *world* (a new entity of that service holding one subject of
//! each kind, see [`world`]) and sends the action to every target of its kind, so
//! that each request sees its target exactly as built. Every answer must be below
//! 500; every 4xx must be the service's error JSON (`code`, `message`, `more_info`,
//! `status`, see `src/error.rs`) with a non-zero code; the answers known from
//! docs/api.md are asserted exactly ([`known`]). On failure the whole table of
//! request → status is printed (set `EVERY_OPERATION_TABLE=1` to print it always).
//! Each (action, caller, target) is counted: the count must equal the table size.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::BodyExt as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use tower::ServiceExt as _;

use crate::device_auth::{Device, enroll, sign_jws};
use crate::support::{Harness, basic, code};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";

/// An `AuthPayload` that is neither a code nor a signature.
const GARBAGE: &str = "not a code, not a signature";
/// A compact-JWS-shaped `AuthPayload` (`{"alg":"ES256"}.{"status":"approved"}.`
/// with a signature that is no signature).
const JWS_LIKE: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdGF0dXMiOiJhcHByb3ZlZCJ9.AAAA";

// ---------------------------------------------------------------------------------
// The table: targets, callers, actions.

/// A factor subject. The device's own factor comes last: an action that deletes
/// it must not change what the device caller gets on the others of its round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fk {
    TotpUnverified,
    TotpVerified,
    PushUnverified,
    PasskeyUnverified,
    PasskeyVerified,
    Deleted,
    PushVerified,
}

const FACTORS: [Fk; 7] = [
    Fk::TotpUnverified,
    Fk::TotpVerified,
    Fk::PushUnverified,
    Fk::PasskeyUnverified,
    Fk::PasskeyVerified,
    Fk::Deleted,
    Fk::PushVerified,
];

/// A challenge subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ck {
    TotpPending,
    PushPending,
    PasskeyByFactor,
    PasskeyByIdentity,
    PasskeyDiscoverable,
    /// A TOTP challenge approved at creation.
    Approved,
    /// A push challenge the device denied.
    Denied,
    /// A TOTP challenge past its expiration date (the harness's manual clock).
    Expired,
}

const CHALLENGES: [Ck; 8] = [
    Ck::TotpPending,
    Ck::PushPending,
    Ck::PasskeyByFactor,
    Ck::PasskeyByIdentity,
    Ck::PasskeyDiscoverable,
    Ck::Approved,
    Ck::Denied,
    Ck::Expired,
];

impl Ck {
    const fn is_passkey_pending(self) -> bool {
        matches!(
            self,
            Self::PasskeyByFactor | Self::PasskeyByIdentity | Self::PasskeyDiscoverable
        )
    }

    /// The `Status` it lists under.
    const fn status(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            _ => "pending",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Factor(Fk),
    Challenge(Ck),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    /// The host: API key and secret.
    Key,
    /// The world's enrolled push device: a request JWT signed by its factor key.
    Device,
}

const CALLERS: [Who; 2] = [Who::Key, Who::Device];

/// What is sent (the target fills in the sids; the caller the credential).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    // On a factor: `.../Factors/{sid}`, or the factor named in a query or body.
    FactorFetch,
    FactorAuthCode,
    FactorAuthGarbage,
    FactorAuthJwsLike,
    /// `AuthPayload`: the push verification proof (DER signature of the sid).
    FactorAuthDeviceSignature,
    FactorMetadata,
    FactorFriendlyName,
    /// `Config.AppId`, `Config.NotificationPlatform`, `Config.NotificationToken`,
    /// `Config.SdkVersion`, as the SDKs send them.
    FactorPushConfig,
    FactorEmptyUpdate,
    FactorDelete,
    ChallengesListByFactor,
    /// `FactorSid`, and `Details.Message` where the factor is a push factor (the
    /// form each kind needs).
    ChallengeCreate,
    /// `FactorSid` and `Details.Message` whatever the kind.
    ChallengeCreateWithDetails,
    ChallengeCreateWithCode,
    /// `Passkeys/VerifyFactor` naming the factor (`identity` + `factor_sid`), a
    /// credential that is not a registration response.
    VerifyFactorGarbage,
    /// ... a registration response, well formed, over another challenge.
    VerifyFactorWrong,
    /// ... the registration response to the unverified passkey's own options.
    VerifyFactorRight,
    /// A bare registration response whose challenge begins with the factor's sid.
    VerifyFactorForgedBare,
    /// `Passkeys/Challenges` with `identity` + `factor_sid`.
    PasskeyChallengeNamed,
    /// `Passkeys/Challenges` with `factor_sid` alone.
    PasskeyChallengeFactorOnly,
    // On a challenge: `.../Challenges/{sid}`, or the challenge named in a body.
    ChallengeFetch,
    ChallengesList,
    AnswerCode,
    AnswerGarbage,
    AnswerJwsLike,
    /// A compact JWS signed by the device over the served signature fields.
    AnswerSigned,
    AnswerCodeWithMetadata,
    AnswerMetadataOnly,
    AnswerPushConfig,
    Notify,
    /// `Passkeys/ApproveChallenge` with `challenge_sid`, not an assertion.
    ApproveGarbage,
    /// ... a well-formed assertion of the verified passkey over another challenge.
    ApproveWrong,
    /// ... the assertion over the challenge's own options (a passkey challenge's,
    /// else the passkey-by-factor challenge's).
    ApproveRight,
    /// A bare assertion whose challenge begins with the challenge's sid.
    ApproveForgedBare,
}

const ACTIONS: [Action; 34] = [
    Action::FactorFetch,
    Action::FactorAuthCode,
    Action::FactorAuthGarbage,
    Action::FactorAuthJwsLike,
    Action::FactorAuthDeviceSignature,
    Action::FactorMetadata,
    Action::FactorFriendlyName,
    Action::FactorPushConfig,
    Action::FactorEmptyUpdate,
    Action::FactorDelete,
    Action::ChallengesListByFactor,
    Action::ChallengeCreate,
    Action::ChallengeCreateWithDetails,
    Action::ChallengeCreateWithCode,
    Action::VerifyFactorGarbage,
    Action::VerifyFactorWrong,
    Action::VerifyFactorRight,
    Action::VerifyFactorForgedBare,
    Action::PasskeyChallengeNamed,
    Action::PasskeyChallengeFactorOnly,
    Action::ChallengeFetch,
    Action::ChallengesList,
    Action::AnswerCode,
    Action::AnswerGarbage,
    Action::AnswerJwsLike,
    Action::AnswerSigned,
    Action::AnswerCodeWithMetadata,
    Action::AnswerMetadataOnly,
    Action::AnswerPushConfig,
    Action::Notify,
    Action::ApproveGarbage,
    Action::ApproveWrong,
    Action::ApproveRight,
    Action::ApproveForgedBare,
];

impl Action {
    fn targets(self) -> Vec<Target> {
        match self {
            Self::FactorFetch
            | Self::FactorAuthCode
            | Self::FactorAuthGarbage
            | Self::FactorAuthJwsLike
            | Self::FactorAuthDeviceSignature
            | Self::FactorMetadata
            | Self::FactorFriendlyName
            | Self::FactorPushConfig
            | Self::FactorEmptyUpdate
            | Self::FactorDelete
            | Self::ChallengesListByFactor
            | Self::ChallengeCreate
            | Self::ChallengeCreateWithDetails
            | Self::ChallengeCreateWithCode
            | Self::VerifyFactorGarbage
            | Self::VerifyFactorWrong
            | Self::VerifyFactorRight
            | Self::VerifyFactorForgedBare
            | Self::PasskeyChallengeNamed
            | Self::PasskeyChallengeFactorOnly => FACTORS.into_iter().map(Target::Factor).collect(),
            Self::ChallengeFetch
            | Self::ChallengesList
            | Self::AnswerCode
            | Self::AnswerGarbage
            | Self::AnswerJwsLike
            | Self::AnswerSigned
            | Self::AnswerCodeWithMetadata
            | Self::AnswerMetadataOnly
            | Self::AnswerPushConfig
            | Self::Notify
            | Self::ApproveGarbage
            | Self::ApproveWrong
            | Self::ApproveRight
            | Self::ApproveForgedBare => CHALLENGES.into_iter().map(Target::Challenge).collect(),
        }
    }

    /// Host-only endpoints (docs/api.md, "Authentication").
    const fn host_only(self) -> bool {
        matches!(
            self,
            Self::ChallengeCreate
                | Self::ChallengeCreateWithDetails
                | Self::ChallengeCreateWithCode
                | Self::VerifyFactorGarbage
                | Self::VerifyFactorWrong
                | Self::VerifyFactorRight
                | Self::VerifyFactorForgedBare
                | Self::PasskeyChallengeNamed
                | Self::PasskeyChallengeFactorOnly
                | Self::Notify
                | Self::ApproveGarbage
                | Self::ApproveWrong
                | Self::ApproveRight
                | Self::ApproveForgedBare
        )
    }

    /// An update of `.../Factors/{sid}`.
    const fn factor_update(self) -> bool {
        matches!(
            self,
            Self::FactorAuthCode
                | Self::FactorAuthGarbage
                | Self::FactorAuthJwsLike
                | Self::FactorAuthDeviceSignature
                | Self::FactorMetadata
                | Self::FactorFriendlyName
                | Self::FactorPushConfig
                | Self::FactorEmptyUpdate
        )
    }

    /// A `POST .../Challenges/{sid}` that carries an `AuthPayload`.
    const fn answer_with_payload(self) -> bool {
        matches!(
            self,
            Self::AnswerCode
                | Self::AnswerGarbage
                | Self::AnswerJwsLike
                | Self::AnswerSigned
                | Self::AnswerCodeWithMetadata
        )
    }
}

// ---------------------------------------------------------------------------------
// Known answers.

/// An answer known from docs/api.md (and the engine's documented errors).
#[derive(Clone, Copy, Debug)]
struct Known {
    status: u16,
    /// The error code (4xx).
    code: Option<u64>,
    /// Text the error message must contain.
    message: Option<&'static str>,
    /// The resource's `status` (2xx).
    resource_status: Option<&'static str>,
}

const fn ok(status: u16) -> Known {
    Known {
        status,
        code: None,
        message: None,
        resource_status: None,
    }
}

const fn ok_with(status: u16, resource_status: &'static str) -> Known {
    Known {
        status,
        code: None,
        message: None,
        resource_status: Some(resource_status),
    }
}

const fn err(status: u16, code: u64) -> Known {
    Known {
        status,
        code: Some(code),
        message: None,
        resource_status: None,
    }
}

const fn err_naming(status: u16, code: u64, message: &'static str) -> Known {
    Known {
        status,
        code: Some(code),
        message: Some(message),
        resource_status: None,
    }
}

/// The exact answer where it is known; `None`: any non-5xx answer of the right
/// shape.
fn known(action: Action, who: Who, target: Target) -> Option<Known> {
    if who == Who::Device && action.host_only() {
        return Some(err(401, 20003));
    }
    match target {
        Target::Factor(f) => known_on_factor(action, who, f),
        Target::Challenge(c) => known_on_challenge(action, c),
    }
}

fn known_on_factor(action: Action, who: Who, f: Fk) -> Option<Known> {
    use Action as A;
    // A device on a factor path that is not its own factor: 403/20403, before any
    // lookup (so also for the deleted factor).
    let factor_path = action.factor_update() || matches!(action, A::FactorFetch | A::FactorDelete);
    if who == Who::Device && factor_path && f != Fk::PushVerified {
        return Some(err(403, 20403));
    }
    let not_found = err(404, 20404);
    match (action, f) {
        (A::FactorMetadata | A::FactorEmptyUpdate, _) => Some(err(400, 60200)),
        (A::FactorFetch, Fk::Deleted) => Some(not_found),
        (A::FactorFetch, _) => Some(ok(200)),
        (A::FactorDelete, Fk::Deleted) => Some(not_found),
        (A::FactorDelete, _) => Some(ok(204)),
        (action, Fk::Deleted) if action.factor_update() => Some(not_found),
        (A::FactorAuthCode, Fk::TotpUnverified) => Some(ok_with(200, "verified")),
        (A::FactorAuthDeviceSignature, Fk::PushUnverified) => Some(ok_with(200, "verified")),
        (A::FactorPushConfig, Fk::PushVerified | Fk::PushUnverified) => Some(ok(200)),
        (
            A::FactorPushConfig,
            Fk::TotpUnverified | Fk::TotpVerified | Fk::PasskeyUnverified | Fk::PasskeyVerified,
        ) => Some(err(400, 60200)),
        (A::ChallengesListByFactor, _) => Some(ok(200)),
        (A::ChallengeCreate, Fk::TotpVerified | Fk::PushVerified)
        | (A::ChallengeCreateWithDetails, Fk::PushVerified) => Some(ok_with(201, "pending")),
        // "an unverified factor cannot be challenged (60318)".
        (
            A::ChallengeCreate | A::ChallengeCreateWithDetails,
            Fk::TotpUnverified | Fk::PushUnverified,
        )
        | (A::ChallengeCreateWithCode, Fk::TotpUnverified) => Some(err(403, 60318)),
        (
            A::ChallengeCreate | A::ChallengeCreateWithDetails | A::ChallengeCreateWithCode,
            Fk::Deleted,
        ) => Some(not_found),
        (A::ChallengeCreateWithCode, Fk::TotpVerified) => Some(ok_with(201, "approved")),
        (
            A::VerifyFactorGarbage
            | A::VerifyFactorWrong
            | A::VerifyFactorRight
            | A::VerifyFactorForgedBare,
            Fk::Deleted,
        ) => Some(not_found),
        (A::VerifyFactorWrong, Fk::PasskeyUnverified) => Some(err(403, 60324)),
        (A::VerifyFactorRight, Fk::PasskeyUnverified) => Some(ok_with(200, "verified")),
        // The claimed challenge routes to the row; the whole challenge then differs.
        (A::VerifyFactorForgedBare, Fk::PasskeyUnverified) => Some(err(403, 60324)),
        // "a factor that is not a passkey (a forged or foreign prefix learns nothing more)"
        (
            A::VerifyFactorForgedBare,
            Fk::TotpUnverified | Fk::TotpVerified | Fk::PushUnverified | Fk::PushVerified,
        ) => Some(not_found),
        (A::PasskeyChallengeNamed, Fk::PasskeyVerified) => Some(ok_with(201, "pending")),
        (A::PasskeyChallengeNamed, Fk::Deleted) => Some(not_found),
        // A factor is named within its entity: `factor_sid` needs `identity` (as on
        // VerifyFactor), whatever it names.
        (A::PasskeyChallengeFactorOnly, _) => Some(err_naming(400, 60200, "identity")),
        // A passkey challenge carries no details: refused, not dropped.
        (A::ChallengeCreateWithDetails, Fk::PasskeyVerified) => {
            Some(err_naming(400, 60200, "details"))
        }
        _ => None,
    }
}

/// The same for both callers: a device may act on every challenge of its entity.
fn known_on_challenge(action: Action, c: Ck) -> Option<Known> {
    use Action as A;
    let no_challenge = err(404, 60391);
    match (action, c) {
        // The path's identity is the world's: the usernameless challenge has none.
        (A::ChallengeFetch, Ck::PasskeyDiscoverable) => Some(no_challenge),
        (A::ChallengeFetch, _) => Some(ok_with(200, c.status())),
        (A::ChallengesList, _) => Some(ok(200)),
        // `AuthPayload` is required, checked before any lookup.
        (A::AnswerMetadataOnly | A::AnswerPushConfig, _) => Some(err(400, 60200)),
        (action, Ck::PasskeyDiscoverable) if action.answer_with_payload() => Some(no_challenge),
        // docs/api.md, Errors: "a passkey challenge answered through POST
        // .../Challenges/{sid} (the message names Passkeys/ApproveChallenge)".
        (action, Ck::PasskeyByFactor | Ck::PasskeyByIdentity) if action.answer_with_payload() => {
            Some(err_naming(400, 60200, "Passkeys/ApproveChallenge"))
        }
        (A::AnswerCode | A::AnswerCodeWithMetadata, Ck::TotpPending) => {
            Some(ok_with(200, "approved"))
        }
        (A::AnswerSigned, Ck::PushPending) => Some(ok_with(200, "approved")),
        // "A challenge that is no longer pending answers 409/20409."
        (A::AnswerCode | A::AnswerCodeWithMetadata, Ck::Approved) => Some(err(409, 20409)),
        (A::AnswerSigned | A::AnswerJwsLike, Ck::Denied) => Some(err(409, 20409)),
        // "Any answer at or after expiration_date ... answers 403/60323."
        (A::AnswerCode | A::AnswerCodeWithMetadata, Ck::Expired) => Some(err(403, 60323)),
        // A finished challenge answers so before its payload is looked at (its length
        // included).
        (A::AnswerGarbage | A::AnswerJwsLike | A::AnswerSigned, Ck::Expired) => {
            Some(err(403, 60323))
        }
        (A::AnswerGarbage | A::AnswerJwsLike | A::AnswerSigned, Ck::Approved) => {
            Some(err(409, 20409))
        }
        (A::Notify, Ck::PushPending) => Some(ok(201)),
        (A::Notify, Ck::TotpPending | Ck::PasskeyByFactor | Ck::PasskeyByIdentity) => {
            Some(err(400, 60369))
        }
        (A::Notify, Ck::Denied) => Some(err(409, 20409)),
        (A::Notify, Ck::PasskeyDiscoverable) => Some(no_challenge),
        // The operation that answers a TOTP or push challenge is the challenge update.
        (
            A::ApproveGarbage | A::ApproveWrong | A::ApproveRight,
            Ck::TotpPending | Ck::PushPending,
        ) => Some(Known {
            status: 400,
            code: None,
            message: Some("challenge update"),
            resource_status: None,
        }),
        // "a rejected assertion ... answers 403/60324 and leaves the challenge pending"
        (A::ApproveWrong | A::ApproveForgedBare, c) if c.is_passkey_pending() => {
            Some(err(403, 60324))
        }
        (A::ApproveRight, c) if c.is_passkey_pending() => Some(ok_with(200, "approved")),
        // "... when the claimed challenge names no challenge of service, or one that is
        // not a passkey challenge" (60391).
        (A::ApproveForgedBare, _) => Some(no_challenge),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------
// A software authenticator (P-256, `none` attestation), as in passkeys.rs.

struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
}

fn client_data(kind: &str, challenge: &str) -> Vec<u8> {
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{ORIGIN}"}}"#).into_bytes()
}

impl Authenticator {
    fn new(seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut credential_id = vec![0; 16];
        rng.fill_bytes(&mut credential_id);
        Self {
            key: SigningKey::random(&mut rng),
            credential_id,
        }
    }

    fn auth_data(&self, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(0x05 | if attested { 0x40 } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            let point = self.key.verifying_key().to_encoded_point(false);
            data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
            data.extend_from_slice(point.x().unwrap());
            data.extend_from_slice(&[0x22, 0x58, 0x20]);
            data.extend_from_slice(point.y().unwrap());
        }
        data
    }

    /// The `RegistrationResponseJSON` for creation `options`.
    fn create(&self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(0, true)),
            ),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key", "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data("webauthn.create", challenge)),
                "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// The `AuthenticationResponseJSON` for request `options`.
    fn get(&self, options: &Value, count: u32, user_handle: &[u8]) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(count, false);
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": URL_SAFE_NO_PAD.encode(user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}

/// Options whose WebAuthn challenge begins with `prefix` (a sid's 16 bytes: the
/// engine's routing prefix), then 32 bytes that match nothing.
fn options_with_prefix(prefix: &[u8]) -> Value {
    let mut challenge = prefix.to_vec();
    challenge.extend_from_slice(&[7; 32]);
    json!({"publicKey": {"challenge": URL_SAFE_NO_PAD.encode(challenge)}})
}

/// A credential-shaped object that is no credential.
fn garbage_credential() -> Value {
    json!({
        "id": "garbage", "rawId": "garbage", "type": "public-key",
        "response": {"clientDataJSON": "!!not base64!!", "attestationObject": 5},
    })
}

fn with(mut body: Value, extra: &[(&str, &str)]) -> Value {
    for (key, value) in extra {
        body[*key] = Value::String((*value).to_owned());
    }
    body
}

// ---------------------------------------------------------------------------------
// Requests and answers.

enum Payload {
    None,
    Form(Vec<(String, String)>),
    Json(Value),
}

struct Req {
    method: Method,
    path: String,
    payload: Payload,
}

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    /// The JSON body (`Null` when empty), or the raw text when it is not JSON.
    json: Result<Value, String>,
}

fn form(pairs: &[(&str, &str)]) -> Payload {
    Payload::Form(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn get(path: String) -> Req {
    Req {
        method: Method::GET,
        path,
        payload: Payload::None,
    }
}

fn post(path: String, payload: Payload) -> Req {
    Req {
        method: Method::POST,
        path,
        payload,
    }
}

/// Sends `req` with `auth`; unlike the harness's `send`, a body that is not JSON is
/// kept as text (a 5xx must be reported, not panic the test).
async fn send(h: &Harness, req: &Req, auth: &str) -> Answer {
    let mut builder = Request::builder()
        .method(req.method.clone())
        .uri(&req.path)
        .header("authorization", auth);
    let body = match &req.payload {
        Payload::None => Body::empty(),
        Payload::Form(pairs) => {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
            Body::from(serde_urlencoded::to_string(pairs).unwrap())
        }
        Payload::Json(value) => {
            builder = builder.header("content-type", "application/json");
            Body::from(value.to_string())
        }
    };
    let response = h
        .app
        .clone()
        .oneshot(builder.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&bytes).map_err(|_| String::from_utf8_lossy(&bytes).into_owned())
    };
    Answer {
        status,
        headers,
        json,
    }
}

// ---------------------------------------------------------------------------------
// The world: one entity of the service with one subject of each kind.

struct World {
    service: String,
    identity: String,
    entity_sid: String,
    factors: BTreeMap<Fk, String>,
    challenges: BTreeMap<Ck, String>,
    /// The request options of the passkey challenges.
    options: BTreeMap<Ck, Value>,
    totp_unverified_secret: String,
    totp_verified_secret: String,
    /// The verified push factor's device: the device caller.
    device: Device,
    /// The unverified push factor's key.
    pending_key: SigningKey,
    /// The verified passkey's authenticator and its sign count.
    passkey: Authenticator,
    sign_count: Cell<u32>,
    /// The authenticator that has not registered, and the unverified passkey's
    /// creation options.
    fresh: Authenticator,
    registration_options: Value,
}

impl World {
    fn entity_url(&self) -> String {
        format!("/v2/Services/{}/Entities/{}", self.service, self.identity)
    }

    fn passkeys_url(&self, what: &str) -> String {
        format!("/v2/Services/{}/Passkeys/{what}", self.service)
    }

    fn auth(&self, h: &Harness, who: Who) -> String {
        match who {
            Who::Key => basic("key", "secret"),
            Who::Device => self.device.auth(h),
        }
    }

    fn next_count(&self) -> u32 {
        self.sign_count.set(self.sign_count.get() + 1);
        self.sign_count.get()
    }

    /// The current code of the target's own TOTP secret, else of the verified
    /// TOTP factor's (the one every TOTP challenge is for).
    fn code_for(&self, h: &Harness, target: Target) -> String {
        let secret = match target {
            Target::Factor(Fk::TotpUnverified) => &self.totp_unverified_secret,
            _ => &self.totp_verified_secret,
        };
        code(secret, h.now())
    }
}

async fn ok_json(h: &Harness, req: Req, auth: &str, status: u16) -> Value {
    let answer = send(h, &req, auth).await;
    let json = answer
        .json
        .unwrap_or_else(|text| panic!("{}: {text}", req.path));
    assert_eq!(answer.status, status, "{} {}: {json}", req.method, req.path);
    json
}

fn string(json: &Value, key: &str) -> String {
    json[key].as_str().unwrap_or_default().to_owned()
}

/// The service: TOTP (defaults), push (always on) and passkeys.
async fn service(h: &Harness) -> String {
    let reply = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Every operation"),
                ("Totp.Issuer", "Owl"),
                ("Passkeys.RelyingParty.Id", RP_ID),
                ("Passkeys.RelyingParty.Name", "Example"),
                ("Passkeys.RelyingParty.Origins", ORIGIN),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.str("sid")
}

/// A push factor created with an enrollment token and never verified.
async fn unverified_push(
    h: &Harness,
    service: &str,
    identity: &str,
    seed: u64,
) -> (String, SigningKey) {
    let token = h
        .post(
            &format!("/v2/Services/{service}/AccessTokens"),
            &[("Identity", identity), ("FactorType", "push")],
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.json);
    let key = SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let created = h
        .send(
            Method::POST,
            &format!("/v2/Services/{service}/Entities/{identity}/Factors"),
            Some(&basic("token", &token.str("token"))),
            &[
                ("FactorType", "push"),
                ("FriendlyName", "Spare phone"),
                ("Binding.PublicKey", public_key.as_str()),
                ("Binding.Alg", "ES256"),
                ("Config.AppId", "com.example.owl"),
                ("Config.NotificationPlatform", "none"),
                ("Config.SdkVersion", "2.0.0"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["status"], "unverified");
    (created.str("sid"), key)
}

/// Builds world number `round`: entity `world-{round}` with every subject.
async fn world(h: &Harness, service: &str, round: u64) -> World {
    let identity = format!("world-{round:04}");
    let key = basic("key", "secret");
    let ent = format!("/v2/Services/{service}/Entities/{identity}");
    let passkeys = |what: &str| format!("/v2/Services/{service}/Passkeys/{what}");
    let mut factors = BTreeMap::new();
    let mut challenges = BTreeMap::new();
    let mut options = BTreeMap::new();

    // The verified TOTP factor, and a challenge of it left to expire: the clock
    // moves past its expiration date before anything else is made.
    let (totp_verified, totp_verified_secret) = h.verified_totp(service, &identity).await;
    let expired = ok_json(
        h,
        post(
            format!("{ent}/Challenges"),
            form(&[("FactorSid", &totp_verified)]),
        ),
        &key,
        201,
    )
    .await;
    challenges.insert(Ck::Expired, string(&expired, "sid"));
    h.advance(301);
    factors.insert(Fk::TotpVerified, totp_verified.clone());

    let (totp_unverified, totp_unverified_secret) = h.totp_factor(service, &identity).await;
    factors.insert(Fk::TotpUnverified, totp_unverified);

    let device = enroll(h, service, &identity, 1000 + round, "apn").await;
    factors.insert(Fk::PushVerified, device.factor.clone());
    let (push_unverified, pending_key) = unverified_push(h, service, &identity, 2000 + round).await;
    factors.insert(Fk::PushUnverified, push_unverified);

    // Passkeys: one registered, one pending registration.
    let passkey = Authenticator::new(3000 + round);
    let created = ok_json(
        h,
        post(
            passkeys("Factors"),
            Payload::Json(json!({"friendly_name": "laptop", "identity": identity})),
        ),
        &key,
        201,
    )
    .await;
    let entity_sid = string(&created, "entity_sid");
    let verified = ok_json(
        h,
        post(
            passkeys("VerifyFactor"),
            Payload::Json(passkey.create(&created["options"])),
        ),
        &key,
        200,
    )
    .await;
    assert_eq!(verified["status"], "verified", "{verified}");
    factors.insert(Fk::PasskeyVerified, string(&verified, "sid"));
    let pending = ok_json(
        h,
        post(
            passkeys("Factors"),
            Payload::Json(json!({"friendly_name": "phone", "identity": identity})),
        ),
        &key,
        201,
    )
    .await;
    factors.insert(Fk::PasskeyUnverified, string(&pending, "sid"));
    let registration_options = pending["options"].clone();

    // A deleted factor's sid.
    let (deleted, _) = h.totp_factor(service, &identity).await;
    let gone = h.delete(&format!("{ent}/Factors/{deleted}")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.json);
    factors.insert(Fk::Deleted, deleted);

    // Challenges.
    let totp = ok_json(
        h,
        post(
            format!("{ent}/Challenges"),
            form(&[("FactorSid", &totp_verified)]),
        ),
        &key,
        201,
    )
    .await;
    challenges.insert(Ck::TotpPending, string(&totp, "sid"));
    let push = crate::device_auth::challenge(h, &device).await;
    challenges.insert(Ck::PushPending, push);
    let denied = crate::device_auth::challenge(h, &device).await;
    let denied_url = format!("{ent}/Challenges/{denied}");
    let served = h
        .send(Method::GET, &denied_url, Some(&device.auth(h)), &[])
        .await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.json);
    let answer = device.answer(&served, "denied");
    let reply = h
        .send(
            Method::POST,
            &denied_url,
            Some(&device.auth(h)),
            &[("AuthPayload", &answer)],
        )
        .await;
    assert_eq!(reply.json["status"], "denied", "{}", reply.json);
    challenges.insert(Ck::Denied, denied);
    let approved = ok_json(
        h,
        post(
            format!("{ent}/Challenges"),
            form(&[
                ("FactorSid", &totp_verified),
                ("AuthPayload", &code(&totp_verified_secret, h.now())),
            ]),
        ),
        &key,
        201,
    )
    .await;
    assert_eq!(approved["status"], "approved", "{approved}");
    challenges.insert(Ck::Approved, string(&approved, "sid"));
    for (kind, body) in [
        (
            Ck::PasskeyByFactor,
            json!({"identity": identity, "factor_sid": factors[&Fk::PasskeyVerified]}),
        ),
        (Ck::PasskeyByIdentity, json!({"identity": identity})),
        (Ck::PasskeyDiscoverable, json!({})),
    ] {
        let created = ok_json(
            h,
            post(passkeys("Challenges"), Payload::Json(body)),
            &key,
            201,
        )
        .await;
        challenges.insert(kind, string(&created, "sid"));
        options.insert(kind, created["options"].clone());
    }

    // A new TOTP time step: the codes the actions send are unused.
    h.advance(30);
    World {
        service: service.to_owned(),
        identity,
        entity_sid,
        factors,
        challenges,
        options,
        totp_unverified_secret,
        totp_verified_secret,
        device,
        pending_key,
        passkey,
        sign_count: Cell::new(0),
        fresh: Authenticator::new(4000 + round),
        registration_options,
    }
}

// ---------------------------------------------------------------------------------
// Building the request of (action, target).

async fn request(h: &Harness, w: &World, action: Action, target: Target) -> Req {
    use Action as A;
    let ent = w.entity_url();
    let metadata = r#"{"note":"every operation"}"#;
    let push_config = [
        ("Config.AppId", "com.example.owl"),
        ("Config.NotificationPlatform", "fcm"),
        ("Config.NotificationToken", &"a".repeat(40)),
        ("Config.SdkVersion", "2.1.0"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    match target {
        Target::Factor(f) => {
            let sid = w.factors[&f].as_str();
            let url = format!("{ent}/Factors/{sid}");
            let code = w.code_for(h, target);
            let named = |credential: Value| {
                Payload::Json(with(
                    credential,
                    &[("identity", &w.identity), ("factor_sid", sid)],
                ))
            };
            match action {
                A::FactorFetch => get(url),
                A::FactorAuthCode => post(url, form(&[("AuthPayload", &code)])),
                A::FactorAuthGarbage => post(url, form(&[("AuthPayload", GARBAGE)])),
                A::FactorAuthJwsLike => post(url, form(&[("AuthPayload", JWS_LIKE)])),
                A::FactorAuthDeviceSignature => {
                    let key = if f == Fk::PushUnverified {
                        &w.pending_key
                    } else {
                        &w.device.key
                    };
                    let signature: DerSignature = key.sign(sid.as_bytes());
                    post(
                        url,
                        form(&[("AuthPayload", &STANDARD.encode(signature.as_bytes()))]),
                    )
                }
                A::FactorMetadata => post(url, form(&[("Metadata", metadata)])),
                A::FactorFriendlyName => post(url, form(&[("FriendlyName", "renamed")])),
                A::FactorPushConfig => post(url, Payload::Form(push_config)),
                A::FactorEmptyUpdate => post(url, Payload::Form(Vec::new())),
                A::FactorDelete => Req {
                    method: Method::DELETE,
                    path: url,
                    payload: Payload::None,
                },
                A::ChallengesListByFactor => {
                    get(format!("{ent}/Challenges?FactorSid={sid}&PageSize=1000"))
                }
                A::ChallengeCreate if matches!(f, Fk::PushUnverified | Fk::PushVerified) => post(
                    format!("{ent}/Challenges"),
                    form(&[("FactorSid", sid), ("Details.Message", "Approve login?")]),
                ),
                A::ChallengeCreate => {
                    post(format!("{ent}/Challenges"), form(&[("FactorSid", sid)]))
                }
                A::ChallengeCreateWithDetails => post(
                    format!("{ent}/Challenges"),
                    form(&[("FactorSid", sid), ("Details.Message", "Approve login?")]),
                ),
                A::ChallengeCreateWithCode => post(
                    format!("{ent}/Challenges"),
                    form(&[("FactorSid", sid), ("AuthPayload", &code)]),
                ),
                A::VerifyFactorGarbage => {
                    post(w.passkeys_url("VerifyFactor"), named(garbage_credential()))
                }
                A::VerifyFactorWrong => post(
                    w.passkeys_url("VerifyFactor"),
                    named(w.fresh.create(&options_with_prefix(&[9; 16]))),
                ),
                A::VerifyFactorRight => post(
                    w.passkeys_url("VerifyFactor"),
                    named(w.fresh.create(&w.registration_options)),
                ),
                A::VerifyFactorForgedBare => {
                    let prefix = verify_engine::model::FactorSid::parse(sid).unwrap();
                    post(
                        w.passkeys_url("VerifyFactor"),
                        Payload::Json(w.fresh.create(&options_with_prefix(prefix.as_bytes()))),
                    )
                }
                A::PasskeyChallengeNamed => post(
                    w.passkeys_url("Challenges"),
                    Payload::Json(json!({"identity": w.identity, "factor_sid": sid})),
                ),
                A::PasskeyChallengeFactorOnly => post(
                    w.passkeys_url("Challenges"),
                    Payload::Json(json!({"factor_sid": sid})),
                ),
                _ => unreachable!("{action:?} is not an action on a factor"),
            }
        }
        Target::Challenge(c) => {
            let sid = w.challenges[&c].as_str();
            let url = format!("{ent}/Challenges/{sid}");
            let code = w.code_for(h, target);
            let user_handle = w.entity_sid.as_bytes();
            let named =
                |credential: Value| Payload::Json(with(credential, &[("challenge_sid", sid)]));
            match action {
                A::ChallengeFetch => get(url),
                A::ChallengesList => get(format!(
                    "{ent}/Challenges?Status={}&PageSize=1000",
                    c.status()
                )),
                A::AnswerCode => post(url, form(&[("AuthPayload", &code)])),
                A::AnswerGarbage => post(url, form(&[("AuthPayload", GARBAGE)])),
                A::AnswerJwsLike => post(url, form(&[("AuthPayload", JWS_LIKE)])),
                A::AnswerSigned => {
                    // As the device does it: fetch, sign the named fields and status.
                    let served = send(h, &get(url.clone()), &basic("key", "secret")).await;
                    let json = served.json.clone().unwrap_or_default();
                    let fields = served
                        .headers
                        .get("twilio-verify-signature-fields")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("sid")
                        .to_owned();
                    let mut payload = Map::new();
                    for field in fields.split(',') {
                        let value = match &json[field] {
                            Value::Null if field == "sid" => Value::String(sid.to_owned()),
                            value => value.clone(),
                        };
                        payload.insert(field.to_owned(), value);
                    }
                    payload.insert("status".to_owned(), Value::String("approved".to_owned()));
                    let jws = sign_jws(
                        &w.device.key,
                        r#"{"typ":"JWT","alg":"ES256"}"#,
                        &Value::Object(payload).to_string(),
                    );
                    post(url, form(&[("AuthPayload", &jws)]))
                }
                A::AnswerCodeWithMetadata => {
                    post(url, form(&[("AuthPayload", &code), ("Metadata", metadata)]))
                }
                A::AnswerMetadataOnly => post(url, form(&[("Metadata", metadata)])),
                A::AnswerPushConfig => post(url, Payload::Form(push_config)),
                A::Notify => post(format!("{url}/Notifications"), form(&[("Ttl", "60")])),
                A::ApproveGarbage => post(
                    w.passkeys_url("ApproveChallenge"),
                    named(garbage_credential()),
                ),
                A::ApproveWrong => post(
                    w.passkeys_url("ApproveChallenge"),
                    named(w.passkey.get(
                        &options_with_prefix(&[9; 16]),
                        w.next_count(),
                        user_handle,
                    )),
                ),
                A::ApproveRight => {
                    let options = w
                        .options
                        .get(&c)
                        .unwrap_or(&w.options[&Ck::PasskeyByFactor]);
                    post(
                        w.passkeys_url("ApproveChallenge"),
                        named(w.passkey.get(options, w.next_count(), user_handle)),
                    )
                }
                A::ApproveForgedBare => {
                    let prefix = verify_engine::model::ChallengeSid::parse(sid).unwrap();
                    post(
                        w.passkeys_url("ApproveChallenge"),
                        Payload::Json(w.passkey.get(
                            &options_with_prefix(prefix.as_bytes()),
                            w.next_count(),
                            user_handle,
                        )),
                    )
                }
                _ => unreachable!("{action:?} is not an action on a challenge"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Checking an answer.

/// What is wrong with `answer` to (action, who, target), if anything.
fn problems(action: Action, who: Who, target: Target, w: &World, answer: &Answer) -> Vec<String> {
    let mut found = Vec::new();
    let status = answer.status;
    if status >= 500 {
        found.push("5xx".to_owned());
    }
    let json = match &answer.json {
        Ok(json) => json,
        Err(text) => {
            found.push(format!("the body is not JSON: {text:?}"));
            return found;
        }
    };
    if status >= 400 {
        let keys: BTreeSet<&str> = json
            .as_object()
            .map(|map| map.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys != BTreeSet::from(["code", "message", "more_info", "status"]) {
            found.push(format!("not the error JSON shape: {json}"));
        }
        if json["code"].as_u64().is_none_or(|code| code == 0) {
            found.push("no non-zero code".to_owned());
        }
        if json["message"].as_str().is_none_or(str::is_empty) {
            found.push("no message".to_owned());
        }
        if !json["more_info"].is_string() {
            found.push("no more_info".to_owned());
        }
        if json["status"].as_u64() != Some(u64::from(status)) {
            found.push(format!("status field {} is not {status}", json["status"]));
        }
    } else if status != 204 && !json.is_object() {
        found.push(format!("a {status} without a JSON object: {json}"));
    }
    if let Some(known) = known(action, who, target) {
        if status != known.status {
            found.push(format!("expected {}", known.status));
        }
        if let Some(code) = known.code
            && json["code"].as_u64() != Some(code)
        {
            found.push(format!("expected code {code}"));
        }
        if let Some(text) = known.message
            && !json["message"].as_str().is_some_and(|m| m.contains(text))
        {
            found.push(format!("expected a message naming {text:?}"));
        }
        if let Some(resource_status) = known.resource_status
            && json["status"] != resource_status
        {
            found.push(format!("expected resource status {resource_status:?}"));
        }
    }
    // A listing by the world's entity shows its challenge.
    if action == Action::ChallengesList
        && status == 200
        && let Target::Challenge(c) = target
        && c != Ck::PasskeyDiscoverable
    {
        let sid = &w.challenges[&c];
        let listed = json["challenges"]
            .as_array()
            .is_some_and(|list| list.iter().any(|item| item["sid"] == sid.as_str()));
        if !listed {
            found.push(format!("{sid} is not listed"));
        }
    }
    found
}

fn short(path: &str, w: &World) -> String {
    let mut path = path.replace(&format!("/v2/Services/{}", w.service), "…");
    path = path.replace(&format!("/Entities/{}", w.identity), "/E");
    for (kind, sid) in &w.factors {
        path = path.replace(sid.as_str(), &format!("{{{kind:?}}}"));
    }
    for (kind, sid) in &w.challenges {
        path = path.replace(sid.as_str(), &format!("{{{kind:?}}}"));
    }
    path
}

#[tokio::test]
async fn every_operation_on_every_factor_and_challenge_answers_below_500() {
    let h = Harness::new();
    let service = service(&h).await;

    let table_size: usize = ACTIONS
        .iter()
        .map(|action| action.targets().len() * CALLERS.len())
        .sum();
    let mut ran = BTreeSet::new();
    let mut sent = 0_usize;
    let mut table = String::new();
    let mut failures = 0_usize;
    let mut round = 0_u64;
    for action in ACTIONS {
        for who in CALLERS {
            round += 1;
            let w = world(&h, &service, round).await;
            for target in action.targets() {
                let req = request(&h, &w, action, target).await;
                let answer = send(&h, &req, &w.auth(&h, who)).await;
                sent += 1;
                assert!(
                    ran.insert((action, who, target)),
                    "{action:?} {who:?} {target:?} ran twice"
                );
                let found = problems(action, who, target, &w, &answer);
                let (code, message) = match &answer.json {
                    Ok(json) => (
                        json["code"]
                            .as_u64()
                            .map_or_else(String::new, |c| c.to_string()),
                        json["message"].as_str().unwrap_or_default().to_owned(),
                    ),
                    Err(text) => (String::new(), text.clone()),
                };
                let mark = if answer.status >= 500 {
                    "5XX "
                } else if found.is_empty() {
                    "ok  "
                } else {
                    "FAIL"
                };
                if !found.is_empty() {
                    failures += 1;
                }
                let target_name = match target {
                    Target::Factor(f) => format!("{f:?}"),
                    Target::Challenge(c) => format!("{c:?}"),
                };
                writeln!(
                    table,
                    "{mark} {:<27} {:<6} {:<19} {} {} → {} {code} {message}{}",
                    format!("{action:?}"),
                    format!("{who:?}"),
                    target_name,
                    req.method,
                    short(&req.path, &w),
                    answer.status,
                    if found.is_empty() {
                        String::new()
                    } else {
                        format!("  <-- {}", found.join("; "))
                    },
                )
                .unwrap();
            }
        }
    }
    if failures > 0 || std::env::var_os("EVERY_OPERATION_TABLE").is_some() {
        println!("request → status ({sent} requests, {failures} wrong):\n{table}");
    }
    // Exhaustive: every (action, caller, target) of the table ran, once.
    assert_eq!(sent, table_size);
    assert_eq!(ran.len(), table_size);
    for action in ACTIONS {
        for who in CALLERS {
            for target in action.targets() {
                assert!(
                    ran.contains(&(action, who, target)),
                    "{action:?} {who:?} {target:?}"
                );
            }
        }
    }
    assert_eq!(failures, 0, "{failures} wrong answers: see the table above");
}
