//! Every limit of the model, as a named constant.
//!
//! Lengths are counted in Unicode scalar values (`char`s), as the source documents
//! count "characters", unless a constant says bytes. Each constructor that enforces a
//! limit names the constant in its `# Errors` section, and the error it returns carries
//! the limit and the offending length or count.
//!
//! | constant | value | rule |
//! |---|---|---|
//! | [`MIN_IDENTITY_LEN`] / [`MAX_IDENTITY_LEN`] | 8 / 64 | identity length |
//! | [`MAX_SERVICE_FRIENDLY_NAME_LEN`] | 255 | service friendly name |
//! | [`MAX_FACTOR_FRIENDLY_NAME_LEN`] | 64 | push / TOTP factor friendly name |
//! | [`MAX_PASSKEY_FRIENDLY_NAME_LEN`] | 255 | passkey factor friendly name |
//! | [`MAX_WEBHOOK_FRIENDLY_NAME_LEN`] | 64 | webhook friendly name (inference) |
//! | [`MAX_STRING_MAP_LEN`] | 1024 | metadata / hidden details, serialized |
//! | [`MAX_DETAILS_MESSAGE_LEN`] | 256 | challenge `details.message` |
//! | [`MAX_DETAILS_FIELDS`] | 20 | challenge `details.fields` |
//! | [`MAX_DETAILS_FIELD_LABEL_LEN`] | 36 | a field's label |
//! | [`MAX_DETAILS_FIELD_VALUE_LEN`] | 128 | a field's value |
//! | [`DEFAULT_CHALLENGE_TTL`] / [`MAX_CHALLENGE_TTL`] | 5 min / 60 min | challenge expiration |
//! | [`MAX_CHALLENGE_ATTEMPTS`] | 5 | failed attempts per challenge (60308) |
//! | [`MAX_PENDING_PUSH_CHALLENGES`] | 5 | pending push challenges per factor (20429) |
//! | [`MAX_FACTOR_VERIFICATION_ATTEMPTS`] | 5 | failed verifications per factor (60310) |
//! | [`MAX_PUSH_FACTORS_PER_ENTITY`] | 20 | push factors per entity (60315) |
//! | [`MAX_TOTP_FACTORS_PER_ENTITY`] | 100 | TOTP factors per entity (60315) |
//! | [`MAX_FACTOR_CREATIONS_PER_DAY`] | 100 | factor creations per entity per day (60326) |
//! | [`MIN_UNVERIFIED_FACTOR_TTL`] / [`MAX_UNVERIFIED_FACTOR_TTL`] | 1 h / 24 h | unverified factor lifetime |
//! | [`MIN_TOTP_CODE_LENGTH`]..=[`MAX_TOTP_CODE_LENGTH`] | 3..=8 (6) | TOTP digits |
//! | [`MIN_TOTP_TIME_STEP`]..=[`MAX_TOTP_TIME_STEP`] | 20..=60 s (30) | TOTP period |
//! | [`MAX_TOTP_SKEW`] | 2 (1) | TOTP steps tolerated either side |
//! | [`MIN_TOTP_AUTH_PAYLOAD_LEN`]..=[`MAX_TOTP_AUTH_PAYLOAD_LEN`] | 3..=8 | TOTP `AuthPayload` |
//! | [`MAX_PUSH_AUTH_PAYLOAD_LEN`] | 5456 | push `AuthPayload` |
//! | [`MAX_PUSH_APP_ID_LEN`] | 100 | push `Config.AppId` |
//! | [`MIN_NOTIFICATION_TOKEN_LEN`]..=[`MAX_NOTIFICATION_TOKEN_LEN`] | 32..=255 | push notification token |
//! | [`PUSH_PUBLIC_KEY_SPKI_LEN`] | 91 bytes | push binding public key (P-256 SPKI DER) |
//! | [`MIN_ACCESS_TOKEN_TTL`]..=[`MAX_ACCESS_TOKEN_TTL`] | 60..=300 s (60) | enrollment access token |
//! | [`MAX_NOTIFICATION_TTL`] | 300 s | push notification re-send `ttl` |
//! | [`MIN_PAGE_SIZE`]..=[`MAX_PAGE_SIZE`] | 1..=1000 (50) | list page size |
//! | [`MAX_URL_LEN`] | 2048 | base URL and webhook URL |

use std::time::Duration;

/// Shortest identity, in characters.
pub const MIN_IDENTITY_LEN: usize = 8;
/// Longest identity, in characters.
pub const MAX_IDENTITY_LEN: usize = 64;

/// Longest service friendly name, in characters (the service's current documents; an
/// older page said 32, and release 0.1.0 kept that).
pub const MAX_SERVICE_FRIENDLY_NAME_LEN: usize = 255;
/// Longest push or TOTP factor friendly name (for TOTP it is the otpauth account name).
pub const MAX_FACTOR_FRIENDLY_NAME_LEN: usize = 64;
/// Longest passkey factor friendly name (the passkeys documents allow 255).
pub const MAX_PASSKEY_FRIENDLY_NAME_LEN: usize = 255;
/// Longest webhook friendly name (an inference: the documents give no number).
pub const MAX_WEBHOOK_FRIENDLY_NAME_LEN: usize = 64;
/// Longest TOTP issuer, in characters (an inference: twice the service name limit,
/// since the issuer defaults to the service's friendly name).
pub const MAX_TOTP_ISSUER_LEN: usize = 64;
/// Longest reference to a push credential (`push.apn_credential_sid`,
/// `push.fcm_credential_sid`), in characters: a 34-character credential sid with
/// room to spare; letters and digits only, since it names a host-side record.
pub const MAX_PUSH_CREDENTIAL_SID_LEN: usize = 64;
/// Longest relying party id or name, in characters (a DNS name is at most 253).
pub const MAX_RELYING_PARTY_LEN: usize = 253;
/// Most origins a relying party may list.
pub const MAX_RELYING_PARTY_ORIGINS: usize = 20;

/// Longest serialized JSON of `metadata` or `hidden_details`, in characters.
pub const MAX_STRING_MAP_LEN: usize = 1024;

/// Longest challenge `details.message`, in characters.
pub const MAX_DETAILS_MESSAGE_LEN: usize = 256;
/// Most entries in a challenge's `details.fields`.
pub const MAX_DETAILS_FIELDS: usize = 20;
/// Longest `details.fields[].label`, in characters.
pub const MAX_DETAILS_FIELD_LABEL_LEN: usize = 36;
/// Longest `details.fields[].value`, in characters.
pub const MAX_DETAILS_FIELD_VALUE_LEN: usize = 128;

/// A challenge's lifetime when the request names no expiration date.
pub const DEFAULT_CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);
/// The latest expiration date a challenge may have, measured from its creation.
pub const MAX_CHALLENGE_TTL: Duration = Duration::from_secs(60 * 60);
/// Failed attempts (wrong codes) after which a challenge is denied (60308).
pub const MAX_CHALLENGE_ATTEMPTS: u32 = 5;
/// Most pending push challenges one factor may have at once: each sends a
/// notification, so an attacker who knows the password cannot bury the user in
/// approval requests hoping one is tapped ("MFA fatigue"), while a user who retries
/// a sign-in a few times within a challenge's lifetime is never refused.
pub const MAX_PENDING_PUSH_CHALLENGES: usize = 5;

/// Failed verification attempts after which a factor can no longer be verified (60310).
pub const MAX_FACTOR_VERIFICATION_ATTEMPTS: u32 = 5;
/// Most push factors one entity may hold (60315).
pub const MAX_PUSH_FACTORS_PER_ENTITY: usize = 20;
/// Most TOTP factors one entity may hold (60315).
pub const MAX_TOTP_FACTORS_PER_ENTITY: usize = 100;
/// Most passkey factors one entity may hold (60315; an inference: the documents give
/// no number, so passkeys share the TOTP limit).
pub const MAX_PASSKEY_FACTORS_PER_ENTITY: usize = 100;
/// Most factor creations per entity in any 24 hours (60326).
pub const MAX_FACTOR_CREATIONS_PER_DAY: usize = 100;
/// Shortest configurable lifetime of an unverified factor.
pub const MIN_UNVERIFIED_FACTOR_TTL: Duration = Duration::from_secs(60 * 60);
/// Longest configurable lifetime of an unverified factor, and the default.
pub const MAX_UNVERIFIED_FACTOR_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The default lifetime of an unverified factor.
pub const DEFAULT_UNVERIFIED_FACTOR_TTL: Duration = MAX_UNVERIFIED_FACTOR_TTL;

/// Fewest TOTP digits.
pub const MIN_TOTP_CODE_LENGTH: u8 = 3;
/// Most TOTP digits.
pub const MAX_TOTP_CODE_LENGTH: u8 = 8;
/// Default TOTP digits.
pub const DEFAULT_TOTP_CODE_LENGTH: u8 = 6;
/// Shortest TOTP time step, in seconds.
pub const MIN_TOTP_TIME_STEP: u8 = 20;
/// Longest TOTP time step, in seconds.
pub const MAX_TOTP_TIME_STEP: u8 = 60;
/// Default TOTP time step, in seconds.
pub const DEFAULT_TOTP_TIME_STEP: u8 = 30;
/// Most TOTP steps tolerated either side of the current one.
pub const MAX_TOTP_SKEW: u8 = 2;
/// Default TOTP skew.
pub const DEFAULT_TOTP_SKEW: u8 = 1;
/// Shortest TOTP secret, in bytes (RFC 4226 §4 R6: at least 128 bits).
pub const MIN_TOTP_SECRET_LEN: usize = 16;
/// Longest TOTP secret, in bytes (the SHA-512 block size).
pub const MAX_TOTP_SECRET_LEN: usize = 128;

/// Shortest TOTP `AuthPayload` (the code), in characters.
pub const MIN_TOTP_AUTH_PAYLOAD_LEN: usize = 3;
/// Longest TOTP `AuthPayload` (the code), in characters.
pub const MAX_TOTP_AUTH_PAYLOAD_LEN: usize = 8;
/// Longest push `AuthPayload` (a compact JWS), in characters.
pub const MAX_PUSH_AUTH_PAYLOAD_LEN: usize = 5456;

/// Longest push `Config.AppId`, in characters.
pub const MAX_PUSH_APP_ID_LEN: usize = 100;
/// Longest push `Config.SdkVersion`, in characters (an inference).
pub const MAX_PUSH_SDK_VERSION_LEN: usize = 64;
/// Shortest push notification token, in characters.
pub const MIN_NOTIFICATION_TOKEN_LEN: usize = 32;
/// Longest push notification token, in characters.
pub const MAX_NOTIFICATION_TOKEN_LEN: usize = 255;
/// Length of a push binding public key: the SPKI DER of an uncompressed P-256 point.
pub const PUSH_PUBLIC_KEY_SPKI_LEN: usize = 91;

/// Longest passkey credential id, in bytes (WebAuthn L3 §6.1: at most 1023).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
/// Longest COSE public key we store, in bytes (an RSA-4096 key is about 550).
pub const MAX_COSE_KEY_LEN: usize = 2048;
/// Most transports a passkey credential may list.
pub const MAX_TRANSPORTS: usize = 8;
/// Longest transport or attestation-type string, in characters.
pub const MAX_CREDENTIAL_TOKEN_LEN: usize = 32;

/// Shortest enrollment access token lifetime.
pub const MIN_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Longest enrollment access token lifetime.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Default enrollment access token lifetime.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = MIN_ACCESS_TOKEN_TTL;
/// Random bytes in an enrollment access token.
pub const ACCESS_TOKEN_BYTES: usize = 32;

/// Longest `ttl` of a push notification re-send, and its default.
pub const MAX_NOTIFICATION_TTL: Duration = Duration::from_secs(300);

/// Smallest list page size.
pub const MIN_PAGE_SIZE: u16 = 1;
/// Largest list page size.
pub const MAX_PAGE_SIZE: u16 = 1000;
/// Default list page size.
pub const DEFAULT_PAGE_SIZE: u16 = 50;
/// Longest page token accepted, in bytes (ours are about 70).
pub const MAX_PAGE_TOKEN_LEN: usize = 256;

/// Longest base URL or webhook URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Random bytes in a webhook signing secret (Standard Webhooks: 24 to 64).
pub const WEBHOOK_SECRET_BYTES: usize = 32;
/// Longest a rotated-out webhook secret keeps signing beside the new one.
pub const MAX_WEBHOOK_SECRET_OVERLAP: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How long a rotated-out webhook secret keeps signing by default: a day to switch
/// the receivers over.
pub const DEFAULT_WEBHOOK_SECRET_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
