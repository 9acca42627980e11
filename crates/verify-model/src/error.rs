//! The crate's one error type, [`ModelError`], and the field names it reports.

use std::fmt;

use thiserror::Error;

use crate::time::UnixTime;
use crate::type_and_status::{ChallengeStatus, FactorType};

/// The request or resource field a check applies to, spelled as in the API
/// (`details.message`, `config.notification_token`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// An entity's `identity`.
    Identity,
    /// A service's `friendly_name`.
    ServiceFriendlyName,
    /// A factor's `friendly_name`.
    FactorFriendlyName,
    /// A webhook's `friendly_name`.
    WebhookFriendlyName,
    /// An access token's `factor_friendly_name`.
    AccessTokenFactorFriendlyName,
    /// A service's `totp.issuer`.
    TotpIssuer,
    /// `totp.code_length` / `config.code_length`.
    TotpCodeLength,
    /// `totp.time_step` / `config.time_step`.
    TotpTimeStep,
    /// `totp.skew` / `config.skew`.
    TotpSkew,
    /// The TOTP shared secret (its length in bytes; never its value).
    TotpSecret,
    /// `passkeys.allow_credentials` (this server's extension).
    AllowCredentials,
    /// `passkeys.attestation_conveyance` (this server's extension).
    AttestationConveyance,
    /// `passkeys.hints` (this server's extension).
    PasskeyHints,
    /// `passkeys.attestation_formats` (this server's extension).
    AttestationFormats,
    /// `passkeys.extensions.cred_protect` (this server's extension).
    CredProtect,
    /// `passkeys.aaguid_allow_list` (this server's extension).
    AaguidAllowList,
    /// `passkeys.aaguid_deny_list` (this server's extension).
    AaguidDenyList,
    /// `passkeys.top_origins` (this server's extension).
    TopOrigins,
    /// `passkeys.related_origins` (this server's extension).
    RelatedOrigins,
    /// `push.apn_credential_sid`.
    PushApnCredentialSid,
    /// `push.fcm_credential_sid`.
    PushFcmCredentialSid,
    /// `passkeys.relying_party.id`.
    RelyingPartyId,
    /// `passkeys.relying_party.name`.
    RelyingPartyName,
    /// `passkeys.relying_party.origins`.
    RelyingPartyOrigins,
    /// The service's unverified factor lifetime.
    UnverifiedFactorTtl,
    /// `metadata`.
    Metadata,
    /// `hidden_details`.
    HiddenDetails,
    /// `details.message`.
    DetailsMessage,
    /// `details.fields`.
    DetailsFields,
    /// `details.fields[].label`.
    DetailsFieldLabel,
    /// `details.fields[].value`.
    DetailsFieldValue,
    /// `expiration_date`.
    ExpirationDate,
    /// `AuthPayload`.
    AuthPayload,
    /// `binding.public_key`.
    BindingPublicKey,
    /// `config.app_id`.
    PushAppId,
    /// `config.notification_token`.
    NotificationToken,
    /// `config.sdk_version`.
    PushSdkVersion,
    /// A passkey credential's id.
    CredentialId,
    /// A passkey credential's COSE public key.
    CredentialPublicKey,
    /// A passkey credential's transports.
    CredentialTransports,
    /// A passkey credential's attestation type.
    AttestationType,
    /// An access token's `ttl`.
    AccessTokenTtl,
    /// A notification's `ttl`.
    NotificationTtl,
    /// A webhook's `event_types`.
    WebhookEventTypes,
    /// A webhook's `webhook_url`.
    WebhookUrl,
    /// The host's base URL for `url` and `links`.
    BaseUrl,
    /// `PageSize`.
    PageSize,
    /// `PageToken`.
    PageToken,
    /// `config.alg` of a TOTP factor.
    TotpAlgorithm,
    /// `config.notification_platform`.
    NotificationPlatform,
    /// `authenticator_attachment`.
    AuthenticatorAttachment,
    /// `discoverable_credentials`.
    DiscoverableCredentials,
    /// `user_verification`.
    UserVerification,
    /// `factor_type`.
    FactorType,
    /// `status` of a factor.
    FactorStatus,
    /// `status` of a challenge.
    ChallengeStatus,
    /// `responded_reason`.
    RespondedReason,
    /// An event `type`.
    EventType,
    /// A webhook's `status`.
    WebhookStatus,
    /// A webhook's `webhook_method`.
    WebhookMethod,
    /// A list's `Order`.
    Order,
    /// The user handle of a passkey sign-in's ceremony (present exactly when the
    /// user is identified).
    PasskeyUserHandle,
    /// How long a rotated-out webhook secret keeps signing.
    WebhookSecretOverlap,
    /// The guessing policy's consecutive failures before a lock (engine
    /// configuration).
    CodeLockAfter,
    /// The guessing policy's lock duration (engine configuration).
    CodeLockDuration,
}

impl Field {
    /// The field's name as the API spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::ServiceFriendlyName | Self::FactorFriendlyName | Self::WebhookFriendlyName => {
                "friendly_name"
            }
            Self::AccessTokenFactorFriendlyName => "factor_friendly_name",
            Self::TotpIssuer => "totp.issuer",
            Self::TotpCodeLength => "code_length",
            Self::TotpTimeStep => "time_step",
            Self::TotpSkew => "skew",
            Self::TotpSecret => "binding.secret",
            Self::AllowCredentials => "passkeys.allow_credentials",
            Self::AttestationConveyance => "passkeys.attestation_conveyance",
            Self::PasskeyHints => "passkeys.hints",
            Self::AttestationFormats => "passkeys.attestation_formats",
            Self::CredProtect => "passkeys.extensions.cred_protect",
            Self::AaguidAllowList => "passkeys.aaguid_allow_list",
            Self::AaguidDenyList => "passkeys.aaguid_deny_list",
            Self::TopOrigins => "passkeys.top_origins",
            Self::RelatedOrigins => "passkeys.related_origins",
            Self::PushApnCredentialSid => "push.apn_credential_sid",
            Self::PushFcmCredentialSid => "push.fcm_credential_sid",
            Self::RelyingPartyId => "passkeys.relying_party.id",
            Self::RelyingPartyName => "passkeys.relying_party.name",
            Self::RelyingPartyOrigins => "passkeys.relying_party.origins",
            Self::UnverifiedFactorTtl => "unverified_factor_ttl",
            Self::Metadata => "metadata",
            Self::HiddenDetails => "hidden_details",
            Self::DetailsMessage => "details.message",
            Self::DetailsFields => "details.fields",
            Self::DetailsFieldLabel => "details.fields[].label",
            Self::DetailsFieldValue => "details.fields[].value",
            Self::ExpirationDate => "expiration_date",
            Self::AuthPayload => "auth_payload",
            Self::BindingPublicKey => "binding.public_key",
            Self::PushAppId => "config.app_id",
            Self::NotificationToken => "config.notification_token",
            Self::PushSdkVersion => "config.sdk_version",
            Self::CredentialId => "credential.id",
            Self::CredentialPublicKey => "credential.public_key",
            Self::CredentialTransports => "credential.transports",
            Self::AttestationType => "credential.attestation_type",
            Self::AccessTokenTtl => "ttl",
            Self::NotificationTtl => "notification.ttl",
            Self::WebhookEventTypes => "event_types",
            Self::WebhookUrl => "webhook_url",
            Self::BaseUrl => "base_url",
            Self::PageSize => "page_size",
            Self::PageToken => "page_token",
            Self::TotpAlgorithm => "config.alg",
            Self::NotificationPlatform => "config.notification_platform",
            Self::AuthenticatorAttachment => "authenticator_attachment",
            Self::DiscoverableCredentials => "discoverable_credentials",
            Self::UserVerification => "user_verification",
            Self::FactorType => "factor_type",
            Self::PasskeyUserHandle => "passkey.user_handle",
            Self::FactorStatus | Self::ChallengeStatus | Self::WebhookStatus => "status",
            Self::RespondedReason => "responded_reason",
            Self::EventType => "type",
            Self::WebhookMethod => "webhook_method",
            Self::Order => "order",
            Self::CodeLockAfter => "code_lock_after",
            Self::WebhookSecretOverlap => "secret_overlap",
            Self::CodeLockDuration => "code_lock_duration",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value of the model could not be built or a transition could not happen.
///
/// Each variant names the rule that was violated and carries the limit and the
/// offending length or count, never the offending value itself (it may be secret or
/// personal data). [`ModelError::code`] maps each variant to the service's machine
/// code where the documents give one.
///
/// A transition that returns `Err` changed nothing: there is nothing to persist.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A sid did not match `^XX[0-9a-fA-F]{32}$` for its prefix.
    #[error(
        "invalid sid: expected {expected_prefix} followed by 32 hex digits (got {length} characters)"
    )]
    InvalidSid {
        /// The prefix this kind of sid must start with.
        expected_prefix: &'static str,
        /// Length of the rejected text in bytes.
        length: usize,
    },
    /// A timestamp was not `YYYY-MM-DDTHH:MM:SSZ` or named an impossible instant.
    #[error("invalid timestamp: expected YYYY-MM-DDTHH:MM:SSZ in UTC (got {length} characters)")]
    InvalidTimestamp {
        /// Length of the rejected text in bytes.
        length: usize,
    },
    /// An identity broke the rule: 8..=64 characters of dash-separated ASCII
    /// alphanumerics (`[A-Za-z0-9]+(-[A-Za-z0-9]+)*`).
    #[error(
        "invalid identity: must be {min}..={max} characters of dash-separated ASCII letters and digits (got {length} characters)"
    )]
    InvalidIdentity {
        /// [`MIN_IDENTITY_LEN`](crate::limits::MIN_IDENTITY_LEN).
        min: usize,
        /// [`MAX_IDENTITY_LEN`](crate::limits::MAX_IDENTITY_LEN).
        max: usize,
        /// Length of the rejected text in characters.
        length: usize,
    },
    /// A text field was shorter or longer than its limits allow.
    #[error("{field}: length must be {min}..={max} (got {length})")]
    LengthOutOfRange {
        /// The field.
        field: Field,
        /// The shortest allowed length.
        min: usize,
        /// The longest allowed length.
        max: usize,
        /// The offending length (characters for text, bytes for binary values).
        length: usize,
    },
    /// A list held more items than its limit allows.
    #[error("{field}: at most {max} items (got {count})")]
    TooManyItems {
        /// The field.
        field: Field,
        /// The most items allowed.
        max: usize,
        /// The offending count.
        count: usize,
    },
    /// A number was outside its allowed range.
    #[error("{field}: must be {min}..={max} (got {value})")]
    ValueOutOfRange {
        /// The field.
        field: Field,
        /// The smallest allowed value.
        min: u64,
        /// The largest allowed value.
        max: u64,
        /// The offending value.
        value: u64,
    },
    /// A text field held characters its format forbids (control characters, or
    /// characters outside the field's alphabet).
    #[error("{field}: contains characters the field does not allow")]
    InvalidCharacters {
        /// The field.
        field: Field,
    },
    /// A value was not one of the field's enumerated spellings.
    #[error("{field}: not one of the allowed values (got {length} characters)")]
    UnknownValue {
        /// The field.
        field: Field,
        /// Length of the rejected text in bytes.
        length: usize,
    },
    /// A list named the same value twice.
    #[error("{field}: a value is repeated (each may appear once)")]
    DuplicateItem {
        /// The field.
        field: Field,
    },
    /// `metadata` / `hidden_details` was not a JSON object whose values are all
    /// strings, or repeated a key.
    #[error("{field}: must be a JSON object of string values with unique keys")]
    NotAStringMap {
        /// The field.
        field: Field,
    },
    /// A field required in this context was missing.
    #[error("{field} is required here")]
    MissingField {
        /// The field.
        field: Field,
    },
    /// A field was given where it is not allowed (e.g. a notification token with
    /// platform `none`).
    #[error("{field} is not allowed here")]
    UnexpectedField {
        /// The field.
        field: Field,
    },
    /// A URL was not an absolute `https://` (or `http://`) URL without query or
    /// fragment.
    #[error("{field}: not an absolute http(s) URL without query or fragment ({length} bytes)")]
    InvalidUrl {
        /// The field.
        field: Field,
        /// Length of the rejected text in bytes.
        length: usize,
    },
    /// A push binding public key was not the SPKI DER of an uncompressed P-256 point.
    #[error(
        "binding.public_key: expected the {expected}-byte SPKI DER of an uncompressed P-256 key (got {length} bytes)"
    )]
    InvalidPublicKey {
        /// [`PUSH_PUBLIC_KEY_SPKI_LEN`](crate::limits::PUSH_PUBLIC_KEY_SPKI_LEN).
        expected: usize,
        /// Length of the decoded key, or of the text when it was not base64.
        length: usize,
    },
    /// A challenge's requested expiration date was not after `now` or was later than
    /// `now` + [`MAX_CHALLENGE_TTL`](crate::limits::MAX_CHALLENGE_TTL).
    #[error("expiration_date must be after {now} and at most {latest} (got {requested})")]
    ExpirationOutOfRange {
        /// The creation time.
        now: UnixTime,
        /// The latest allowed expiration date.
        latest: UnixTime,
        /// The requested expiration date.
        requested: UnixTime,
    },
    /// An operation for one factor type was applied to another (60369).
    #[error("factor type mismatch: expected {expected}, got {got}")]
    FactorTypeMismatch {
        /// The type the operation needs.
        expected: FactorType,
        /// The factor's type.
        got: FactorType,
    },
    /// The challenge is past its expiration date (60323).
    #[error("challenge expired at {expired_at} (now {now})")]
    ChallengeExpired {
        /// The challenge's expiration date.
        expired_at: UnixTime,
        /// The time of the attempt.
        now: UnixTime,
    },
    /// The challenge was already answered: approved or denied are terminal.
    #[error("challenge is no longer pending (status {status})")]
    ChallengeNotPending {
        /// The challenge's status.
        status: ChallengeStatus,
    },
    /// The challenge was denied after too many failed attempts (60308).
    #[error("challenge attempts exhausted (limit {limit})")]
    ChallengeAttemptsExhausted {
        /// [`MAX_CHALLENGE_ATTEMPTS`](crate::limits::MAX_CHALLENGE_ATTEMPTS).
        limit: u32,
    },
    /// The factor named in an answer is not the challenge's (another factor or
    /// service).
    #[error("the answering factor does not belong to this challenge")]
    ChallengeFactorMismatch,
    /// A challenge was requested on a factor that is not verified (60318).
    #[error("factor is not verified")]
    FactorNotVerified,
    /// The factor is already verified: verification is one-way.
    #[error("factor is already verified")]
    FactorAlreadyVerified,
    /// The unverified factor outlived its verification window and is unusable
    /// (reported as not found, 20404).
    #[error("unverified factor expired at {expired_at} (now {now})")]
    FactorExpired {
        /// When the factor stopped being verifiable.
        expired_at: UnixTime,
        /// The time of the attempt.
        now: UnixTime,
    },
    /// Too many failed verification attempts on this factor (60310).
    #[error("factor verification attempts exhausted (limit {limit})")]
    FactorVerificationAttemptsExhausted {
        /// [`MAX_FACTOR_VERIFICATION_ATTEMPTS`](crate::limits::MAX_FACTOR_VERIFICATION_ATTEMPTS).
        limit: u32,
    },
    /// The factor is locked after too many consecutive wrong codes (60202, "Max
    /// check attempts reached"): no code is checked before `until`, and every
    /// wrong code after the lock ends locks it again. A correct code after the
    /// lock, or the host ([`Factor::unlock_code_checks`](crate::Factor::unlock_code_checks)),
    /// clears it.
    #[error("factor locked after too many wrong codes: retry after {retry_after_secs} s")]
    FactorLocked {
        /// When the lock ends.
        until: UnixTime,
        /// Seconds from the attempt to `until` (at least 1), for `Retry-After`.
        retry_after_secs: u64,
    },
    /// Wrong codes in a row slowed this factor's checks down (20429, "Too Many
    /// Requests"): no code is checked before `until`.
    #[error("too many wrong codes in a row: retry after {retry_after_secs} s")]
    CodeChecksThrottled {
        /// When the next check may run.
        until: UnixTime,
        /// Seconds from the attempt to `until` (at least 1), for `Retry-After`.
        retry_after_secs: u64,
    },
    /// The push factor already has the most pending challenges
    /// ([`MAX_PENDING_PUSH_CHALLENGES`](crate::limits::MAX_PENDING_PUSH_CHALLENGES);
    /// 20429): no new one (and no notification) until one is answered or expires.
    #[error(
        "too many pending push challenges on this factor (limit {limit}): retry after {retry_after_secs} s"
    )]
    TooManyPendingChallenges {
        /// The limit.
        limit: usize,
        /// Seconds until the oldest pending one expires (at least 1).
        retry_after_secs: u64,
    },
    /// The entity already holds the most factors of this type (60315).
    #[error("too many {factor_type} factors for this entity (limit {limit}, have {count})")]
    TooManyFactors {
        /// The type of the factor being created.
        factor_type: FactorType,
        /// The limit for that type.
        limit: usize,
        /// How many the entity holds.
        count: usize,
    },
    /// The entity created too many factors in the last 24 hours (60326).
    #[error("too many factor creations today (limit {limit}, have {count})")]
    TooManyFactorCreations {
        /// [`MAX_FACTOR_CREATIONS_PER_DAY`](crate::limits::MAX_FACTOR_CREATIONS_PER_DAY).
        limit: usize,
        /// How many were created in the window.
        count: usize,
    },
    /// A TOTP time step at or below the last accepted one was offered: codes are
    /// single-use.
    #[error("TOTP step {step} is not after the last used step {last_used_step}")]
    TotpStepReused {
        /// The last accepted step.
        last_used_step: u64,
        /// The offered step.
        step: u64,
    },
    /// The enrollment access token is past its lifetime.
    #[error("access token expired at {expired_at} (now {now})")]
    AccessTokenExpired {
        /// When the token expired.
        expired_at: UnixTime,
        /// The time of the attempt.
        now: UnixTime,
    },
    /// The enrollment access token was already redeemed: tokens are single-use.
    #[error("access token already used")]
    AccessTokenUsed,
    /// The presented access token does not match. Deliberately opaque.
    #[error("access token invalid")]
    AccessTokenInvalid,
    /// A page token was malformed, or was issued for another list order.
    #[error("invalid page token ({length} bytes)")]
    InvalidPageToken {
        /// Length of the rejected token in bytes.
        length: usize,
    },
    /// A stored record broke an invariant the constructors guarantee (it was
    /// written by something other than this crate, or corrupted).
    #[error("stored {resource} record breaks the rule: {rule}")]
    CorruptRecord {
        /// The resource (`factor`, `challenge`).
        resource: &'static str,
        /// The broken rule.
        rule: &'static str,
    },
    /// A resource's version counter cannot advance further.
    #[error("version counter exhausted")]
    VersionExhausted,
}

impl ModelError {
    /// Seconds until the refused operation may succeed, for the two refusals of the
    /// guessing budget ([`ModelError::FactorLocked`],
    /// [`ModelError::CodeChecksThrottled`]); `None` for every other error.
    #[must_use]
    pub const fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::FactorLocked {
                retry_after_secs, ..
            }
            | Self::CodeChecksThrottled {
                retry_after_secs, ..
            }
            | Self::TooManyPendingChallenges {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The service's machine code for this error (docs/api.md, "Errors"), where it documents one.
    ///
    /// | code | variant |
    /// |---|---|
    /// | 60308 | [`ChallengeAttemptsExhausted`](Self::ChallengeAttemptsExhausted) |
    /// | 60310 | [`FactorVerificationAttemptsExhausted`](Self::FactorVerificationAttemptsExhausted) |
    /// | 60202 | [`FactorLocked`](Self::FactorLocked) |
    /// | 20429 | [`CodeChecksThrottled`](Self::CodeChecksThrottled), [`TooManyPendingChallenges`](Self::TooManyPendingChallenges) |
    /// | 60315 | [`TooManyFactors`](Self::TooManyFactors) |
    /// | 60318 | [`FactorNotVerified`](Self::FactorNotVerified) |
    /// | 60323 | [`ChallengeExpired`](Self::ChallengeExpired) |
    /// | 60326 | [`TooManyFactorCreations`](Self::TooManyFactorCreations) |
    /// | 60364 | [`InvalidSid`](Self::InvalidSid) with prefix `YC` |
    /// | 60369 | [`FactorTypeMismatch`](Self::FactorTypeMismatch) |
    /// | 20404 | [`FactorExpired`](Self::FactorExpired) (an expired unverified factor is gone) |
    ///
    /// Every other variant is a request validation error (the engine answers 400)
    /// or a state the engine reports in its own terms, and returns `None`.
    ///
    /// [`ModelError::retry_after_secs`] gives the `Retry-After` of the two 429s
    /// that carry one.
    #[must_use]
    pub const fn code(&self) -> Option<u32> {
        match self {
            Self::ChallengeAttemptsExhausted { .. } => Some(60308),
            Self::FactorVerificationAttemptsExhausted { .. } => Some(60310),
            Self::FactorLocked { .. } => Some(60202),
            Self::CodeChecksThrottled { .. } | Self::TooManyPendingChallenges { .. } => Some(20429),
            Self::TooManyFactors { .. } => Some(60315),
            Self::FactorNotVerified => Some(60318),
            Self::ChallengeExpired { .. } => Some(60323),
            Self::TooManyFactorCreations { .. } => Some(60326),
            Self::InvalidSid {
                expected_prefix, ..
            } => {
                if matches!(expected_prefix.as_bytes(), b"YC") {
                    Some(60364)
                } else {
                    None
                }
            }
            Self::FactorTypeMismatch { .. } => Some(60369),
            Self::FactorExpired { .. } => Some(20404),
            Self::InvalidTimestamp { .. }
            | Self::InvalidIdentity { .. }
            | Self::LengthOutOfRange { .. }
            | Self::TooManyItems { .. }
            | Self::DuplicateItem { .. }
            | Self::ValueOutOfRange { .. }
            | Self::InvalidCharacters { .. }
            | Self::UnknownValue { .. }
            | Self::NotAStringMap { .. }
            | Self::MissingField { .. }
            | Self::UnexpectedField { .. }
            | Self::InvalidUrl { .. }
            | Self::InvalidPublicKey { .. }
            | Self::ExpirationOutOfRange { .. }
            | Self::ChallengeNotPending { .. }
            | Self::ChallengeFactorMismatch
            | Self::FactorAlreadyVerified
            | Self::TotpStepReused { .. }
            | Self::AccessTokenExpired { .. }
            | Self::AccessTokenUsed
            | Self::AccessTokenInvalid
            | Self::InvalidPageToken { .. }
            | Self::CorruptRecord { .. }
            | Self::VersionExhausted => None,
        }
    }
}

/// Checks `min <= length <= max` for `field`.
pub(crate) const fn check_len(
    field: Field,
    length: usize,
    min: usize,
    max: usize,
) -> Result<(), ModelError> {
    if length < min || length > max {
        Err(ModelError::LengthOutOfRange {
            field,
            min,
            max,
            length,
        })
    } else {
        Ok(())
    }
}

/// Checks a text's character count against `min..=max` and rejects control
/// characters other than tab, line feed and carriage return.
pub(crate) fn check_text(
    field: Field,
    text: &str,
    min: usize,
    max: usize,
) -> Result<(), ModelError> {
    check_len(field, text.chars().count(), min, max)?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ModelError::InvalidCharacters { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_spec() {
        assert_eq!(
            ModelError::ChallengeAttemptsExhausted { limit: 5 }.code(),
            Some(60308)
        );
        assert_eq!(
            ModelError::InvalidSid {
                expected_prefix: "YC",
                length: 3
            }
            .code(),
            Some(60364)
        );
        assert_eq!(
            ModelError::InvalidSid {
                expected_prefix: "YF",
                length: 3
            }
            .code(),
            None
        );
        assert_eq!(ModelError::FactorNotVerified.code(), Some(60318));
    }

    #[test]
    fn messages_carry_limits_not_values() {
        let err = ModelError::LengthOutOfRange {
            field: Field::DetailsMessage,
            min: 1,
            max: 256,
            length: 257,
        };
        assert_eq!(
            err.to_string(),
            "details.message: length must be 1..=256 (got 257)"
        );
    }

    #[test]
    fn check_text_counts_chars_and_rejects_controls() {
        assert!(check_text(Field::DetailsMessage, "ééé", 1, 3).is_ok());
        assert!(check_text(Field::DetailsMessage, "éééé", 1, 3).is_err());
        assert_eq!(
            check_text(Field::DetailsMessage, "a\u{0}", 1, 3),
            Err(ModelError::InvalidCharacters {
                field: Field::DetailsMessage
            })
        );
    }
}
