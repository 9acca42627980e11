//! The crate's one error type, [`PushError`], and its families.
//!
//! Every variant names the check that failed and carries context (lengths, limits,
//! field names, times), never a secret, a signature or an attacker-chosen value of
//! unbounded size. Signature failures are opaque: [`PushError::SignatureInvalid`]
//! says nothing about why.

use thiserror::Error;
use verify_model::{ModelError, UnixTime};

/// Which base64 text failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoded {
    /// `Binding.PublicKey` (standard base64, padded).
    BindingPublicKey,
    /// The factor verification `AuthPayload` (standard base64, padded).
    FactorAuthPayload,
    /// The protected header segment of a compact JWS (base64url, unpadded).
    JwsHeader,
    /// The payload segment of a compact JWS (base64url, unpadded).
    JwsPayload,
    /// The signature segment of a compact JWS (base64url, unpadded).
    JwsSignature,
    /// The credentials of an `Authorization: Basic` header (standard base64).
    BasicCredentials,
    /// A part of an enrollment access token (base64url, unpadded).
    AccessToken,
}

impl core::fmt::Display for Encoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BindingPublicKey => "Binding.PublicKey (standard base64, padded)",
            Self::FactorAuthPayload => "factor AuthPayload (standard base64, padded)",
            Self::JwsHeader => "JWS header segment (base64url, unpadded)",
            Self::JwsPayload => "JWS payload segment (base64url, unpadded)",
            Self::JwsSignature => "JWS signature segment (base64url, unpadded)",
            Self::BasicCredentials => "Basic credentials (standard base64)",
            Self::AccessToken => "access token part (base64url, unpadded)",
        })
    }
}

/// Why a device binding (`Binding.PublicKey`, `Binding.Alg`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BindingError {
    /// `Binding.Alg` is not `ES256`.
    #[error("Binding.Alg must be ES256 (got {length} characters)")]
    UnsupportedAlg {
        /// Length of the rejected value.
        length: usize,
    },
    /// The public key is not a DER `SubjectPublicKeyInfo`.
    #[error("Binding.PublicKey is not a DER SubjectPublicKeyInfo")]
    NotSpki,
    /// The DER structure is followed by extra bytes.
    #[error("Binding.PublicKey has {extra} bytes after the SubjectPublicKeyInfo")]
    TrailingBytes {
        /// Number of bytes after the structure.
        extra: usize,
    },
    /// The key's algorithm is not `id-ecPublicKey`.
    #[error("Binding.PublicKey is not an elliptic-curve key")]
    NotEcKey,
    /// The key is on a curve other than P-256 (prime256v1).
    #[error("Binding.PublicKey is not on P-256")]
    UnsupportedCurve,
    /// The point is SEC1-compressed; the SDKs send uncompressed points.
    #[error("Binding.PublicKey is a compressed point; an uncompressed P-256 point is required")]
    CompressedPoint,
    /// The point is not 65 bytes `04 || X || Y`.
    #[error("Binding.PublicKey point has {length} bytes; 65 (04 || X || Y) are required")]
    PointLength {
        /// Length of the point in bytes.
        length: usize,
    },
    /// The coordinates do not name a point on P-256.
    #[error("Binding.PublicKey is not a point on P-256")]
    PointNotOnCurve,
}

/// Why a compact JWS (approve/deny payload or request JWT) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwsError {
    /// The compact serialization is longer than allowed.
    #[error("compact JWS is {length} characters; at most {max} are allowed")]
    TooLong {
        /// Length of the input.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// The compact serialization does not have exactly three `.`-separated segments.
    #[error("compact JWS must have 3 segments (got {got})")]
    SegmentCount {
        /// Number of segments found.
        got: usize,
    },
    /// The protected header does not name `alg`.
    #[error("JWS header has no alg")]
    MissingAlg,
    /// The header names an algorithm other than ES256 (`none`, `HS256`, ...).
    #[error("JWS alg must be ES256 (got {length} characters)")]
    UnsupportedAlg {
        /// Length of the rejected alg.
        length: usize,
    },
    /// The header carries `crit`: no extension is understood, so the JWS is refused
    /// (RFC 7515 §4.1.11).
    #[error("JWS header lists critical extensions; none are supported")]
    CriticalExtension,
    /// A header member has an unexpected value or type.
    #[error("JWS header member `{member}` has an unexpected value")]
    HeaderMember {
        /// The member's name.
        member: &'static str,
    },
    /// The signature segment is not a raw `r || s` of 64 bytes (63 is also tried, see
    /// the crate docs). A DER signature lands here.
    #[error("JWS signature has {length} bytes; ES256 uses 64 (raw r || s)")]
    SignatureLength {
        /// Length of the decoded signature.
        length: usize,
    },
}

/// Why untrusted JSON was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The text is longer than allowed.
    #[error("JSON text is {length} bytes; at most {max} are allowed")]
    TooLarge {
        /// Length of the input.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// The text is not valid JSON.
    #[error("invalid JSON at line {line}, column {column}")]
    Syntax {
        /// 1-based line of the defect.
        line: usize,
        /// 1-based column of the defect.
        column: usize,
    },
    /// An object repeats a key (at any depth).
    #[error("JSON object repeats the key `{key}`")]
    DuplicateKey {
        /// The repeated key (truncated to 64 characters).
        key: String,
    },
    /// Objects and arrays nest deeper than allowed.
    #[error("JSON nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The top-level value is not an object.
    #[error("JSON text is not an object")]
    NotAnObject,
}

/// Why the signature field list of a challenge was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureFieldsError {
    /// `sid` is not in the list (it binds the answer to the challenge).
    #[error("signature fields must include sid")]
    MissingSid,
    /// A field is listed twice.
    #[error("signature field `{field}` is listed twice")]
    Duplicate {
        /// The repeated field.
        field: String,
    },
    /// `status` is listed: it is what the device adds, never a served field.
    #[error("signature fields must not include status")]
    StatusListed,
    /// A field name is empty, too long, or not `[a-z0-9_]`.
    #[error("signature field name of {length} characters is not [a-z0-9_]{{1,64}}")]
    InvalidName {
        /// Length of the rejected name.
        length: usize,
    },
    /// More fields than allowed.
    #[error("{count} signature fields; at most {max} are allowed")]
    TooMany {
        /// Number of fields.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A listed field is not in the served challenge JSON.
    #[error("signature field `{field}` is not in the served challenge")]
    NotServed {
        /// The missing field.
        field: String,
    },
    /// The served `sid` or `factor_sid` is not a JSON string.
    #[error("served challenge {field} is not a string")]
    ServedSidNotString {
        /// `sid` or `factor_sid`.
        field: &'static str,
    },
    /// The served `sid` or `factor_sid` is not a valid sid.
    #[error("served challenge has an invalid {field}")]
    InvalidServedSid {
        /// `sid` or `factor_sid`.
        field: &'static str,
        /// Why it failed to parse.
        #[source]
        source: ModelError,
    },
}

/// Why a signed approve/deny payload does not answer the challenge.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// The `AuthPayload` is longer than the service allows (5456 characters).
    #[error("AuthPayload is {length} characters; at most {max} are allowed")]
    TooLong {
        /// Length of the input.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// A signed field is missing from the payload.
    #[error("signed field `{field}` is missing from the payload")]
    FieldMissing {
        /// The missing field.
        field: String,
    },
    /// A signed field differs from the challenge as served.
    #[error("signed field `{field}` differs from the challenge")]
    FieldMismatch {
        /// The differing field.
        field: String,
    },
    /// The payload carries a key that is neither a signature field nor `status`.
    #[error("payload carries unexpected key `{field}`")]
    UnexpectedField {
        /// The unexpected key (truncated to 64 characters).
        field: String,
    },
    /// The payload has no `status`.
    #[error("payload has no status")]
    StatusMissing,
    /// `status` is not `approved` or `denied`.
    #[error("payload status must be \"approved\" or \"denied\"")]
    StatusUnknown,
}

/// Why a factor verification (`AuthPayload` over the factor sid) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FactorError {
    /// The factor is already verified.
    #[error("factor is already verified")]
    AlreadyVerified,
    /// The unverified factor outlived its unverified lifetime.
    #[error("unverified factor expired at {expired_at} (now {now})")]
    UnverifiedExpired {
        /// When it stopped being usable.
        expired_at: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// The configured unverified lifetime is outside 1..24 hours.
    #[error("unverified lifetime of {seconds} s is outside 3600..=86400")]
    LifetimeOutOfRange {
        /// The requested lifetime in seconds.
        seconds: u64,
    },
    /// The `AuthPayload` is not a DER ECDSA signature.
    #[error("factor AuthPayload is not a DER ECDSA signature")]
    NotDerSignature,
}

/// Why a device request JWT (`Authorization: Basic base64("token:" + JWT)`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestAuthError {
    /// The `Authorization` header is not `Basic <base64>`.
    #[error("Authorization header is not Basic credentials")]
    NotBasic,
    /// The Basic credentials are not `token:<JWT>`.
    #[error("Basic credentials are not token:<value>")]
    NotTokenUser,
    /// The header has no `kid` naming the factor's credential.
    #[error("request JWT header has no kid")]
    MissingKid,
    /// The kid is not the credential sid of the factor whose key verified it.
    #[error("request JWT kid does not name this factor's credential")]
    KidMismatch,
    /// A claim is absent.
    #[error("request JWT has no `{claim}` claim")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim has the wrong JSON type or an impossible value.
    #[error("request JWT claim `{claim}` has the wrong type or value")]
    ClaimType {
        /// The claim's name.
        claim: &'static str,
    },
    /// `sub` is not the expected account.
    #[error("request JWT sub does not match")]
    SubjectMismatch,
    /// `nbf` is later than now plus the leeway.
    #[error("request JWT not valid before {not_before} (now {now})")]
    NotYetValid {
        /// The `nbf` claim.
        not_before: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// `exp` plus the leeway has passed.
    #[error("request JWT expired at {expired_at} (now {now})")]
    Expired {
        /// The `exp` claim.
        expired_at: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// `exp - nbf` exceeds the allowed lifetime, or `exp` is not after `nbf`.
    #[error("request JWT lifetime of {seconds} s is outside 1..={max} s")]
    Lifetime {
        /// `exp - nbf` (0 when `exp` is not after `nbf`).
        seconds: u64,
        /// The cap.
        max: u64,
    },
}

/// Why an enrollment access token could not be minted or was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AccessTokenError {
    /// The token is not `vpat1.<kid>.<claims>.<mac>` within the size limit.
    #[error("access token is malformed")]
    Malformed,
    /// The token names a format version this crate does not know.
    #[error("access token version is not supported")]
    UnknownVersion,
    /// No key with the token's key id is configured (rotated out, or forged).
    #[error("access token key id `{key_id}` is not configured")]
    UnknownKey {
        /// The key id from the token (validated `[A-Za-z0-9_-]{1,32}`).
        key_id: String,
    },
    /// The MAC does not verify (opaque).
    #[error("access token MAC is invalid")]
    MacInvalid,
    /// The token has expired.
    #[error("access token expired at {expired_at} (now {now})")]
    Expired {
        /// When it expired.
        expired_at: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },
    /// The token was minted for another service.
    #[error("access token belongs to another service")]
    ServiceMismatch,
    /// The token was minted for another factor type.
    #[error("access token is not for push factors")]
    FactorTypeMismatch,
    /// The ttl is outside 60..=300 seconds.
    #[error("access token ttl of {seconds} s is outside 60..=300")]
    TtlOutOfRange {
        /// The requested ttl.
        seconds: u64,
    },
    /// The identity is not 8..64 dash-separated alphanumerics.
    #[error("identity of {length} characters is not 8..64 dash-separated alphanumerics")]
    InvalidIdentity {
        /// Length of the rejected identity.
        length: usize,
    },
    /// The friendly name is longer than 64 characters.
    #[error("friendly name of {length} characters is longer than 64")]
    FriendlyNameTooLong {
        /// Length in characters.
        length: usize,
    },
    /// A key id is not `[A-Za-z0-9_-]{1,32}`.
    #[error("access token key id of {length} characters is not [A-Za-z0-9_-]{{1,32}}")]
    InvalidKeyId {
        /// Length of the rejected id.
        length: usize,
    },
    /// A MAC key is shorter than 32 bytes.
    #[error("access token key has {length} bytes; at least 32 are required")]
    KeyTooShort {
        /// Length of the rejected key.
        length: usize,
    },
}

/// Why a notification payload could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The message is empty or longer than 256 characters.
    #[error("notification message of {length} characters is outside 1..=256")]
    MessageLength {
        /// Length in characters.
        length: usize,
    },
    /// The device token is outside 32..=255 characters.
    #[error("notification token of {length} characters is outside 32..=255")]
    TokenLength {
        /// Length in characters.
        length: usize,
    },
    /// The serialized payload exceeds the platform's limit.
    #[error("notification payload of {length} bytes exceeds {max}")]
    TooLarge {
        /// Serialized length.
        length: usize,
        /// The platform's limit.
        max: usize,
    },
}

/// Every way an operation of this crate can fail.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PushError {
    /// A base64 text did not decode in the encoding its place requires.
    #[error("invalid base64 in {what}")]
    Base64 {
        /// Which text.
        what: Encoded,
    },
    /// The device binding was refused.
    #[error(transparent)]
    Binding(#[from] BindingError),
    /// A compact JWS was malformed.
    #[error(transparent)]
    Jws(#[from] JwsError),
    /// Untrusted JSON was refused.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The challenge's signature field list was refused.
    #[error(transparent)]
    SignatureFields(#[from] SignatureFieldsError),
    /// The signed payload does not answer the challenge.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// The factor cannot be verified.
    #[error(transparent)]
    Factor(#[from] FactorError),
    /// The device request authentication was refused.
    #[error(transparent)]
    RequestAuth(#[from] RequestAuthError),
    /// The enrollment access token was refused.
    #[error(transparent)]
    AccessToken(#[from] AccessTokenError),
    /// A notification payload could not be built.
    #[error(transparent)]
    Notification(#[from] NotificationError),
    /// A signature did not verify (deliberately opaque).
    #[error("signature is invalid")]
    SignatureInvalid,
}

/// Truncates an attacker-chosen name for inclusion in an error.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}
