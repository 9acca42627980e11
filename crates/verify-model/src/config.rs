//! Configuration values shared by services and factors: TOTP parameters, passkey
//! relying-party settings, push notification platforms.

use serde::{Deserialize, Serialize};

use crate::error::{Field, ModelError, check_text};
use crate::limits::{
    DEFAULT_TOTP_CODE_LENGTH, DEFAULT_TOTP_SKEW, DEFAULT_TOTP_TIME_STEP, MAX_RELYING_PARTY_LEN,
    MAX_RELYING_PARTY_ORIGINS, MAX_TOTP_CODE_LENGTH, MAX_TOTP_SKEW, MAX_TOTP_TIME_STEP,
    MAX_URL_LEN, MIN_TOTP_CODE_LENGTH, MIN_TOTP_TIME_STEP,
};
// `string_enum!` lives in the leaf `crate::macros`; its old path stays.
pub(crate) use crate::macros::string_enum;

string_enum!(
    @exhaustive
    /// The HMAC hash of a TOTP factor (`config.alg`).
    TotpAlgorithm, Field::TotpAlgorithm, {
        /// HMAC-SHA1, the default and what every authenticator app supports.
        Sha1 => "sha1",
        /// HMAC-SHA256.
        Sha256 => "sha256",
        /// HMAC-SHA512.
        Sha512 => "sha512",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for TotpAlgorithm {
    fn default() -> Self {
        Self::Sha1
    }
}

string_enum!(
    /// Where push notifications for a factor go (`config.notification_platform`).
    NotificationPlatform, Field::NotificationPlatform, {
        /// Apple Push Notification service.
        Apn => "apn",
        /// Firebase Cloud Messaging.
        Fcm => "fcm",
        /// No notifications: the device polls.
        None => "none",
    }
);

string_enum!(
    @exhaustive
    /// `authenticator_attachment` of a passkeys configuration.
    AuthenticatorAttachment, Field::AuthenticatorAttachment, {
        /// Built into the device.
        Platform => "platform",
        /// A roaming authenticator (security key, phone).
        CrossPlatform => "cross-platform",
        /// Either.
        Any => "any",
    }
);

string_enum!(
    @exhaustive
    /// `discoverable_credentials` of a passkeys configuration (WebAuthn `residentKey`).
    DiscoverableCredentials, Field::DiscoverableCredentials, {
        /// Must be discoverable.
        Required => "required",
        /// Discoverable if possible.
        Preferred => "preferred",
        /// Server-side credential preferred.
        Discouraged => "discouraged",
    }
);

string_enum!(
    @exhaustive
    /// `user_verification` of a passkeys configuration.
    UserVerification, Field::UserVerification, {
        /// The authenticator must verify the user.
        Required => "required",
        /// Verify the user if possible.
        Preferred => "preferred",
        /// Do not ask for user verification.
        Discouraged => "discouraged",
    }
);

string_enum!(
    @exhaustive
    /// `allow_credentials` of a passkeys configuration: what a sign-in by identity puts
    /// in the request options' `allowCredentials`. An extension of this server, not
    /// in the service's documents.
    AllowCredentials, Field::AllowCredentials, {
        /// The user's verified passkeys (the default): the browser offers only those.
        List => "list",
        /// An empty list: the browser offers the user's discoverable passkeys for the
        /// RP, and the server still accepts only a passkey of the identified user. For
        /// clients that hand `allowCredentials` to the browser without decoding its
        /// ids (the service's web SDK does), with which a listed sign-in cannot work.
        Empty => "empty",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for AllowCredentials {
    fn default() -> Self {
        Self::List
    }
}

impl AllowCredentials {
    /// Whether this is the default, [`AllowCredentials::List`] (not serialized then).
    #[must_use]
    pub const fn is_list(&self) -> bool {
        matches!(self, Self::List)
    }
}

/// TOTP parameters: digits (`code_length` 3..=8, default 6), period (`time_step`
/// 20..=60 s, default 30) and tolerated drift (`skew` 0..=2 steps, default 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TotpParams {
    code_length: u8,
    time_step: u8,
    skew: u8,
}

impl TotpParams {
    /// Checks each parameter against its range.
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] naming `code_length`, `time_step` or `skew`.
    pub fn new(code_length: u8, time_step: u8, skew: u8) -> Result<Self, ModelError> {
        check_range(
            Field::TotpCodeLength,
            code_length,
            MIN_TOTP_CODE_LENGTH,
            MAX_TOTP_CODE_LENGTH,
        )?;
        check_range(
            Field::TotpTimeStep,
            time_step,
            MIN_TOTP_TIME_STEP,
            MAX_TOTP_TIME_STEP,
        )?;
        check_range(Field::TotpSkew, skew, 0, MAX_TOTP_SKEW)?;
        Ok(Self {
            code_length,
            time_step,
            skew,
        })
    }

    /// Digits in a code.
    #[must_use]
    pub const fn code_length(self) -> u8 {
        self.code_length
    }

    /// Seconds per time step.
    #[must_use]
    pub const fn time_step(self) -> u8 {
        self.time_step
    }

    /// Steps tolerated either side of the current one.
    #[must_use]
    pub const fn skew(self) -> u8 {
        self.skew
    }
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            code_length: DEFAULT_TOTP_CODE_LENGTH,
            time_step: DEFAULT_TOTP_TIME_STEP,
            skew: DEFAULT_TOTP_SKEW,
        }
    }
}

#[derive(Deserialize)]
struct TotpParamsWire {
    code_length: u8,
    time_step: u8,
    skew: u8,
}

impl<'de> Deserialize<'de> for TotpParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = TotpParamsWire::deserialize(deserializer)?;
        Self::new(wire.code_length, wire.time_step, wire.skew).map_err(serde::de::Error::custom)
    }
}

fn check_range(field: Field, value: u8, min: u8, max: u8) -> Result<(), ModelError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ModelError::ValueOutOfRange {
            field,
            min: u64::from(min),
            max: u64::from(max),
            value: u64::from(value),
        })
    }
}

/// The WebAuthn relying party: `id` (a domain), `name`, and the `origins` allowed to
/// use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelyingParty {
    id: String,
    name: String,
    origins: Vec<String>,
}

impl RelyingParty {
    /// Checks the sizes and characters: the id (1..=253 characters: ASCII letters,
    /// digits, `-` and `.`), the name (1..=253 characters), and 1..=20 origins of at
    /// most 2048 characters each.
    ///
    /// What makes an RP ID and its origins usable for WebAuthn (a lower-case host
    /// name; `https://` origins of that host or its subdomains, `http://localhost`,
    /// Android and iOS app origins) is decided once, by `verify-webauthn`'s
    /// `RelyingParty`; the engine checks a configuration through it when a service
    /// is created or updated.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`], [`ModelError::InvalidCharacters`],
    /// [`ModelError::TooManyItems`] or [`ModelError::InvalidUrl`] naming the field.
    pub fn new(id: &str, name: &str, origins: Vec<String>) -> Result<Self, ModelError> {
        check_text(Field::RelyingPartyId, id, 1, MAX_RELYING_PARTY_LEN)?;
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(ModelError::InvalidCharacters {
                field: Field::RelyingPartyId,
            });
        }
        check_text(Field::RelyingPartyName, name, 1, MAX_RELYING_PARTY_LEN)?;
        if origins.is_empty() {
            return Err(ModelError::MissingField {
                field: Field::RelyingPartyOrigins,
            });
        }
        if origins.len() > MAX_RELYING_PARTY_ORIGINS {
            return Err(ModelError::TooManyItems {
                field: Field::RelyingPartyOrigins,
                max: MAX_RELYING_PARTY_ORIGINS,
                count: origins.len(),
            });
        }
        for origin in &origins {
            check_text(Field::RelyingPartyOrigins, origin, 1, MAX_URL_LEN)?;
        }
        Ok(Self {
            id: id.to_owned(),
            name: name.to_owned(),
            origins,
        })
    }

    /// The RP ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The RP name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The allowed origins.
    #[must_use]
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

#[derive(Deserialize)]
struct RelyingPartyWire {
    id: String,
    name: String,
    origins: Vec<String>,
}

impl<'de> Deserialize<'de> for RelyingParty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = RelyingPartyWire::deserialize(deserializer)?;
        Self::new(&wire.id, &wire.name, wire.origins).map_err(serde::de::Error::custom)
    }
}

/// What an assertion whose signature counter did not increase does (both counters
/// zero is never a regression: most passkeys keep no counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignCountRegression {
    /// Refuse the assertion (default: a regression suggests a cloned
    /// authenticator).
    #[default]
    Reject,
    /// Approve it, keep the stored (higher) counter, and report the regression to
    /// the host.
    Warn,
}

/// A service's passkey policy: host decisions the documents do not show, kept in the
/// storage record only (the API's JSON views never carry it). Both default to the
/// strict-but-compatible choice; a record stored before these fields existed reads
/// as the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyPolicy {
    /// Sign-count regressions. Default [`SignCountRegression::Reject`].
    #[serde(default)]
    pub sign_count_regression: SignCountRegression,
    /// Whether a registration's attestation must chain to one of the host's trust
    /// anchors (then `none` and self attestation are refused). Default `false`:
    /// attestation is checked and its trust reported, not required.
    #[serde(default)]
    pub require_trusted_attestation: bool,
}

impl PasskeyPolicy {
    /// The defaults: reject regressions, do not require trusted attestation.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sign_count_regression: SignCountRegression::Reject,
            require_trusted_attestation: false,
        }
    }

    /// With a sign-count regression policy.
    #[must_use]
    pub const fn with_sign_count_regression(mut self, policy: SignCountRegression) -> Self {
        self.sign_count_regression = policy;
        self
    }

    /// Requiring (or not) a trusted attestation at registration.
    #[must_use]
    pub const fn with_require_trusted_attestation(mut self, require: bool) -> Self {
        self.require_trusted_attestation = require;
        self
    }

    /// Whether this is the default policy (then it is not even stored).
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A passkeys configuration, as in the service's `passkeys` block and a passkey
/// factor's `config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeysConfig {
    /// The relying party.
    pub relying_party: RelyingParty,
    /// Which authenticators may be used.
    pub authenticator_attachment: AuthenticatorAttachment,
    /// Whether credentials must be discoverable.
    pub discoverable_credentials: DiscoverableCredentials,
    /// Whether user verification is required.
    pub user_verification: UserVerification,
    /// What a sign-in by identity lists in `allowCredentials`. Serialized only when
    /// not the default; absent in older records.
    #[serde(default, skip_serializing_if = "AllowCredentials::is_list")]
    pub allow_credentials: AllowCredentials,
    /// The host's policy (not part of the API's JSON: [`PasskeysConfig::public_view`]
    /// drops it). Serialized only when not the default; absent in older records.
    #[serde(default, skip_serializing_if = "PasskeyPolicy::is_default")]
    pub policy: PasskeyPolicy,
}

impl PasskeysConfig {
    /// A configuration with the given relying party and the documents' defaults:
    /// attachment `any`, discoverable credentials `preferred`, user verification
    /// `preferred`.
    #[must_use]
    pub const fn new(relying_party: RelyingParty) -> Self {
        Self {
            relying_party,
            authenticator_attachment: AuthenticatorAttachment::Any,
            discoverable_credentials: DiscoverableCredentials::Preferred,
            user_verification: UserVerification::Preferred,
            allow_credentials: AllowCredentials::List,
            policy: PasskeyPolicy::new(),
        }
    }

    /// The same configuration with the host's passkey policy.
    #[must_use]
    pub const fn with_policy(mut self, policy: PasskeyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The configuration as the API shows it: the documented fields only (the
    /// policy reset to its default, which serializes to nothing).
    #[must_use]
    pub fn public_view(&self) -> Self {
        Self {
            policy: PasskeyPolicy::default(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_param_boundaries() {
        assert!(TotpParams::new(3, 20, 0).is_ok());
        assert!(TotpParams::new(8, 60, 2).is_ok());
        assert_eq!(
            TotpParams::new(2, 30, 1),
            Err(ModelError::ValueOutOfRange {
                field: Field::TotpCodeLength,
                min: 3,
                max: 8,
                value: 2
            })
        );
        assert!(TotpParams::new(9, 30, 1).is_err());
        assert!(TotpParams::new(6, 19, 1).is_err());
        assert!(TotpParams::new(6, 61, 1).is_err());
        assert_eq!(
            TotpParams::new(6, 30, 3),
            Err(ModelError::ValueOutOfRange {
                field: Field::TotpSkew,
                min: 0,
                max: 2,
                value: 3
            })
        );
        assert!(
            serde_json::from_str::<TotpParams>(r#"{"code_length":9,"time_step":30,"skew":1}"#)
                .is_err()
        );
    }

    #[test]
    fn passkey_policy_defaults_and_old_records() {
        let rp = RelyingParty::new("example.com", "Example", vec!["https://example.com".into()])
            .unwrap();
        let config = PasskeysConfig::new(rp);
        // The default policy is not serialized, so existing records are unchanged...
        let json = serde_json::to_value(&config).unwrap();
        assert!(json.get("policy").is_none());
        // ...and a record without it reads as the default.
        let old = r#"{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"authenticator_attachment":"any","discoverable_credentials":"preferred","user_verification":"preferred"}"#;
        let read: PasskeysConfig = serde_json::from_str(old).unwrap();
        assert_eq!(read, config);
        assert_eq!(
            read.policy.sign_count_regression,
            SignCountRegression::Reject
        );
        assert!(!read.policy.require_trusted_attestation);
        // A non-default policy round-trips through the record, not the public view.
        let strict = config.with_policy(
            PasskeyPolicy::new()
                .with_sign_count_regression(SignCountRegression::Warn)
                .with_require_trusted_attestation(true),
        );
        let stored = serde_json::to_string(&strict).unwrap();
        assert!(stored.contains(r#""sign_count_regression":"warn""#));
        assert_eq!(
            serde_json::from_str::<PasskeysConfig>(&stored).unwrap(),
            strict
        );
        assert!(
            serde_json::to_value(strict.public_view())
                .unwrap()
                .get("policy")
                .is_none()
        );
        assert!(
            serde_json::from_str::<PasskeysConfig>(&format!(
                r#"{},"policy":{{"sign_count_regression":"sometimes"}}}}"#,
                old.strip_suffix('}').unwrap()
            ))
            .is_err()
        );
    }

    #[test]
    fn enums_use_the_api_spellings() {
        assert_eq!(
            serde_json::to_string(&AuthenticatorAttachment::CrossPlatform).unwrap(),
            "\"cross-platform\""
        );
        assert_eq!(
            "sha256".parse::<TotpAlgorithm>().unwrap(),
            TotpAlgorithm::Sha256
        );
        assert!("SHA256".parse::<TotpAlgorithm>().is_err());
        assert_eq!(NotificationPlatform::Apn.to_string(), "apn");
    }

    #[test]
    fn relying_party_checks() {
        let rp = RelyingParty::new("example.com", "Example", vec!["https://example.com".into()]);
        assert!(rp.is_ok());
        assert!(
            RelyingParty::new(
                "exa mple.com",
                "Example",
                vec!["https://example.com".into()]
            )
            .is_err()
        );
        assert!(RelyingParty::new("example.com", "Example", vec![]).is_err());
        // What makes an origin usable is verify-webauthn's rule, not a copy here.
        assert!(RelyingParty::new("example.com", "Example", vec![String::new()]).is_err());
        assert!(RelyingParty::new("example.com", "Example", vec!["x".repeat(2049)]).is_err());
        assert!(
            RelyingParty::new(
                "example.com",
                "Example",
                vec!["https://example.com".into(); 21]
            )
            .is_err()
        );
    }
}
