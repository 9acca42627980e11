//! [`Service`] (one application's configuration) and [`Entity`] (one user).

use serde::{Deserialize, Serialize};

use crate::config::{PasskeysConfig, TotpAlgorithm, TotpParams};
use crate::error::{Field, ModelError, check_text};
use crate::factor::{UnverifiedFactorTtl, next_version};
use crate::id::{EntitySid, ServiceSid};
use crate::identity::Identity;
use crate::limits::{MAX_SERVICE_FRIENDLY_NAME_LEN, MAX_TOTP_ISSUER_LEN};
use crate::text::FriendlyName;
use crate::time::UnixTime;

/// A service's `totp` block: the issuer shown in authenticator apps (default: the
/// service's friendly name) and the default parameters for new TOTP factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct TotpServiceConfig {
    /// `issuer`; `None` means the service's friendly name.
    pub issuer: Option<FriendlyName>,
    /// Default `code_length`, `time_step` and `skew`.
    #[serde(flatten)]
    pub params: TotpParams,
}

impl TotpServiceConfig {
    /// A block with an explicit issuer (1..=64 characters).
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] / [`ModelError::InvalidCharacters`] naming
    /// `totp.issuer`.
    pub fn new(issuer: Option<&str>, params: TotpParams) -> Result<Self, ModelError> {
        let issuer = issuer
            .map(|text| FriendlyName::new(Field::TotpIssuer, text, MAX_TOTP_ISSUER_LEN))
            .transpose()?;
        Ok(Self { issuer, params })
    }

    /// The default algorithm for new TOTP factors: the service documents none, so
    /// SHA-1, which every authenticator app supports.
    #[must_use]
    pub const fn alg(&self) -> TotpAlgorithm {
        TotpAlgorithm::Sha1
    }
}

/// A service's `push` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct PushServiceConfig {
    /// `include_date` (deprecated upstream; kept for parity, default false).
    pub include_date: bool,
    /// The host's reference to its APNs credential, if it sends notifications.
    pub apn_credential_sid: Option<String>,
    /// The host's reference to its FCM credential, if it sends notifications.
    pub fcm_credential_sid: Option<String>,
}

impl PushServiceConfig {
    /// A `push` block; each credential reference, when given, is 1..=
    /// [`MAX_PUSH_CREDENTIAL_SID_LEN`](crate::limits::MAX_PUSH_CREDENTIAL_SID_LEN)
    /// ASCII letters and digits.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] or [`ModelError::InvalidCharacters`] naming
    /// `push.apn_credential_sid` or `push.fcm_credential_sid`.
    pub fn new(
        include_date: bool,
        apn_credential_sid: Option<&str>,
        fcm_credential_sid: Option<&str>,
    ) -> Result<Self, ModelError> {
        let checked = |field, text: Option<&str>| {
            text.map(|text| {
                crate::error::check_len(
                    field,
                    text.len(),
                    1,
                    crate::limits::MAX_PUSH_CREDENTIAL_SID_LEN,
                )?;
                if text.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    Ok(text.to_owned())
                } else {
                    Err(ModelError::InvalidCharacters { field })
                }
            })
            .transpose()
        };
        Ok(Self {
            include_date,
            apn_credential_sid: checked(Field::PushApnCredentialSid, apn_credential_sid)?,
            fcm_credential_sid: checked(Field::PushFcmCredentialSid, fcm_credential_sid)?,
        })
    }
}

/// A service: one application's configuration of passkeys, TOTP and push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    sid: ServiceSid,
    #[serde(deserialize_with = "de_service_name")]
    friendly_name: FriendlyName,
    totp: TotpServiceConfig,
    push: PushServiceConfig,
    passkeys: Option<PasskeysConfig>,
    unverified_factor_ttl: UnverifiedFactorTtl,
    date_created: UnixTime,
    date_updated: UnixTime,
    version: u64,
}

fn de_service_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<FriendlyName, D::Error> {
    let text = String::deserialize(deserializer)?;
    FriendlyName::new(
        Field::ServiceFriendlyName,
        &text,
        MAX_SERVICE_FRIENDLY_NAME_LEN,
    )
    .map_err(serde::de::Error::custom)
}

impl Service {
    /// A service with a fresh sid, default TOTP and push blocks, no passkeys
    /// configuration and the default unverified-factor TTL (24 h).
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] when `friendly_name` is not 1..=
    /// [`MAX_SERVICE_FRIENDLY_NAME_LEN`] characters; [`ModelError::InvalidCharacters`] for control characters.
    pub fn create<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        friendly_name: &str,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        let friendly_name = FriendlyName::new(
            Field::ServiceFriendlyName,
            friendly_name,
            MAX_SERVICE_FRIENDLY_NAME_LEN,
        )?;
        Ok(Self {
            sid: ServiceSid::generate(rng),
            friendly_name,
            totp: TotpServiceConfig::default(),
            push: PushServiceConfig::default(),
            passkeys: None,
            unverified_factor_ttl: UnverifiedFactorTtl::default(),
            date_created: now,
            date_updated: now,
            version: 0,
        })
    }

    fn bumped(&self, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.clone();
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    /// The same service with a new friendly name.
    ///
    /// # Errors
    /// As [`Service::create`].
    pub fn with_friendly_name(
        &self,
        friendly_name: &str,
        now: UnixTime,
    ) -> Result<Self, ModelError> {
        check_text(
            Field::ServiceFriendlyName,
            friendly_name,
            1,
            MAX_SERVICE_FRIENDLY_NAME_LEN,
        )?;
        let mut next = self.bumped(now)?;
        next.friendly_name = FriendlyName::new(
            Field::ServiceFriendlyName,
            friendly_name,
            MAX_SERVICE_FRIENDLY_NAME_LEN,
        )?;
        Ok(next)
    }

    /// The same service with a new `totp` block.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn with_totp(&self, totp: TotpServiceConfig, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.bumped(now)?;
        next.totp = totp;
        Ok(next)
    }

    /// The same service with a new `push` block.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn with_push(&self, push: PushServiceConfig, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.bumped(now)?;
        next.push = push;
        Ok(next)
    }

    /// The same service with a `passkeys` block.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn with_passkeys(
        &self,
        passkeys: PasskeysConfig,
        now: UnixTime,
    ) -> Result<Self, ModelError> {
        let mut next = self.bumped(now)?;
        next.passkeys = Some(passkeys);
        Ok(next)
    }

    /// The same service with another unverified-factor TTL.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn with_unverified_factor_ttl(
        &self,
        ttl: UnverifiedFactorTtl,
        now: UnixTime,
    ) -> Result<Self, ModelError> {
        let mut next = self.bumped(now)?;
        next.unverified_factor_ttl = ttl;
        Ok(next)
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> ServiceSid {
        self.sid
    }

    /// `friendly_name`.
    #[must_use]
    pub const fn friendly_name(&self) -> &FriendlyName {
        &self.friendly_name
    }

    /// The TOTP issuer: the configured one, else the friendly name.
    #[must_use]
    pub fn totp_issuer(&self) -> &str {
        self.totp
            .issuer
            .as_ref()
            .map_or(self.friendly_name.as_str(), FriendlyName::as_str)
    }

    /// The `totp` block.
    #[must_use]
    pub const fn totp(&self) -> &TotpServiceConfig {
        &self.totp
    }

    /// The `push` block.
    #[must_use]
    pub const fn push(&self) -> &PushServiceConfig {
        &self.push
    }

    /// The `passkeys` block, if configured.
    #[must_use]
    pub const fn passkeys(&self) -> Option<&PasskeysConfig> {
        self.passkeys.as_ref()
    }

    /// How long new unverified factors stay verifiable.
    #[must_use]
    pub const fn unverified_factor_ttl(&self) -> UnverifiedFactorTtl {
        self.unverified_factor_ttl
    }

    /// `date_created`.
    #[must_use]
    pub const fn date_created(&self) -> UnixTime {
        self.date_created
    }

    /// `date_updated`.
    #[must_use]
    pub const fn date_updated(&self) -> UnixTime {
        self.date_updated
    }

    /// The compare-and-set version.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
}

/// An entity: one user of the host, named by its [`Identity`], created implicitly
/// with its first factor. Deleting it deletes its factors and challenges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    sid: EntitySid,
    service_sid: ServiceSid,
    identity: Identity,
    date_created: UnixTime,
    date_updated: UnixTime,
}

impl Entity {
    /// A new entity with a fresh sid.
    pub fn create<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        service_sid: ServiceSid,
        identity: Identity,
        now: UnixTime,
        rng: &mut R,
    ) -> Self {
        Self {
            sid: EntitySid::generate(rng),
            service_sid,
            identity,
            date_created: now,
            date_updated: now,
        }
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> EntitySid {
        self.sid
    }

    /// The service.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service_sid
    }

    /// The identity.
    #[must_use]
    pub const fn identity(&self) -> &Identity {
        &self.identity
    }

    /// `date_created`.
    #[must_use]
    pub const fn date_created(&self) -> UnixTime {
        self.date_created
    }

    /// `date_updated`.
    #[must_use]
    pub const fn date_updated(&self) -> UnixTime {
        self.date_updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn service_friendly_name_boundary() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let now = UnixTime::from_secs(1_000);
        assert!(Service::create(&"s".repeat(MAX_SERVICE_FRIENDLY_NAME_LEN), now, &mut rng).is_ok());
        assert_eq!(
            Service::create(
                &"s".repeat(MAX_SERVICE_FRIENDLY_NAME_LEN + 1),
                now,
                &mut rng
            )
            .unwrap_err(),
            ModelError::LengthOutOfRange {
                field: Field::ServiceFriendlyName,
                min: 1,
                max: 255,
                length: 256
            }
        );
        assert!(Service::create("", now, &mut rng).is_err());
        let service = Service::create("Owl Bank", now, &mut rng).unwrap();
        let mut record = serde_json::to_value(&service).unwrap();
        assert_eq!(
            serde_json::from_value::<Service>(record.clone()).unwrap(),
            service
        );
        record["friendly_name"] = "s".repeat(MAX_SERVICE_FRIENDLY_NAME_LEN + 1).into();
        assert!(serde_json::from_value::<Service>(record).is_err());
    }

    #[test]
    fn a_service_record_of_release_0_1_0_loads_and_writes_back_unchanged() {
        // As `verify-store-sql`'s release-0.1.0 database holds it (before the
        // passkeys block had ceremony options or a policy).
        let old = serde_json::json!({
            "date_created": "2025-12-31T23:00:00Z",
            "date_updated": "2025-12-31T23:00:00Z",
            "friendly_name": "Owl Bank",
            "passkeys": {
                "authenticator_attachment": "any",
                "discoverable_credentials": "preferred",
                "relying_party": {"id": "example.com", "name": "Owl Bank",
                                  "origins": ["https://example.com"]},
                "user_verification": "preferred"
            },
            "push": {"apn_credential_sid": "CRapn-owl-bank", "fcm_credential_sid": null,
                     "include_date": false},
            "sid": "VA0c669509ff0ebf4ca73c269f9911fc49",
            "totp": {"code_length": 6, "issuer": "Owl Bank", "skew": 1, "time_step": 30},
            "unverified_factor_ttl": 86400,
            "version": 0
        });
        let service: Service = serde_json::from_value(old.clone()).unwrap();
        let passkeys = service.passkeys().unwrap();
        assert!(passkeys.attestation_conveyance.is_none());
        assert!(passkeys.hints.is_empty());
        assert!(passkeys.attestation_formats.is_empty());
        assert!(passkeys.extensions.is_empty());
        assert_eq!(serde_json::to_value(&service).unwrap(), old);
    }

    #[test]
    fn issuer_defaults_to_friendly_name() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let now = UnixTime::from_secs(1_000);
        let service = Service::create("Owl Bank", now, &mut rng).unwrap();
        assert_eq!(service.totp_issuer(), "Owl Bank");
        let totp = TotpServiceConfig::new(Some("Owl"), TotpParams::default()).unwrap();
        let updated = service.with_totp(totp, now).unwrap();
        assert_eq!(updated.totp_issuer(), "Owl");
        assert_eq!(updated.version(), service.version() + 1);
        assert!(TotpServiceConfig::new(Some(&"i".repeat(65)), TotpParams::default()).is_err());
    }
}
