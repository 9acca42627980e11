//! [`Webhook`]: where the host delivers [`Event`](crate::Event)s.

use serde::{Deserialize, Serialize};

use crate::config::string_enum;
use crate::error::{Field, ModelError};
use crate::event::EventType;
use crate::factor::next_version;
use crate::id::{ServiceSid, WebhookSid};
use crate::limits::{
    MAX_URL_LEN, MAX_WEBHOOK_FRIENDLY_NAME_LEN, MAX_WEBHOOK_SECRET_OVERLAP, WEBHOOK_SECRET_BYTES,
};
use crate::secret::SecretBytes;
use crate::text::FriendlyName;
use crate::time::UnixTime;
use crate::url::check_http_url;

string_enum!(
    /// A webhook's `status`.
    WebhookStatus, Field::WebhookStatus, {
        /// Events are delivered.
        Enabled => "enabled",
        /// Events are not delivered.
        Disabled => "disabled",
    }
);

string_enum!(
    /// A webhook's `webhook_method` (only POST).
    WebhookMethod, Field::WebhookMethod, {
        /// HTTP POST.
        Post => "POST",
    }
);

/// One entry of `event_types`: every event (`*`) or one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookEventType {
    /// `*`: every event type.
    All,
    /// One event type.
    Only(EventType),
}

impl WebhookEventType {
    /// Whether an event of type `event_type` matches.
    #[must_use]
    pub fn matches(self, event_type: EventType) -> bool {
        match self {
            Self::All => event_type.is_webhook(),
            Self::Only(only) => only == event_type && event_type.is_webhook(),
        }
    }
}

impl Serialize for WebhookEventType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("*"),
            Self::Only(event_type) => event_type.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookEventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if text == "*" {
            return Ok(Self::All);
        }
        match text.parse::<EventType>() {
            Ok(event_type) if event_type.is_webhook() => Ok(Self::Only(event_type)),
            Ok(event_type) => Err(serde::de::Error::custom(format_args!(
                "{event_type} is not a webhook event type"
            ))),
            Err(error) => Err(serde::de::Error::custom(error)),
        }
    }
}

/// A webhook: `friendly_name` (1..=64), `event_types` (1 or more), `webhook_url`
/// (absolute http(s), at most 2048 bytes), `webhook_method` POST, `status`,
/// `version` `v2`, and a Standard Webhooks signing secret (32 random bytes, never in
/// the resource JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    sid: WebhookSid,
    service_sid: ServiceSid,
    friendly_name: FriendlyName,
    #[serde(deserialize_with = "de_event_types")]
    event_types: Vec<WebhookEventType>,
    #[serde(deserialize_with = "de_url")]
    webhook_url: String,
    webhook_method: WebhookMethod,
    status: WebhookStatus,
    secret: SecretBytes,
    /// The secret a rotation replaced, still signing until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_secret: Option<PreviousSecret>,
    date_created: UnixTime,
    date_updated: UnixTime,
    version: u64,
}

/// A signing secret replaced by [`Webhook::rotate_secret`]: deliveries carry a
/// signature under it too (Standard Webhooks lists several, space separated) until
/// `expires_at`, so a receiver can switch to the new secret without missing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    secret: SecretBytes,
    expires_at: UnixTime,
}

impl PreviousSecret {
    /// The replaced secret.
    #[must_use]
    pub const fn secret(&self) -> &SecretBytes {
        &self.secret
    }

    /// When deliveries stop being signed with it.
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        self.expires_at
    }
}

impl Webhook {
    /// The `version` the resource reports.
    pub const VERSION: &'static str = "v2";

    /// A webhook with a fresh sid and signing secret, enabled, method POST.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] for the friendly name;
    /// [`ModelError::MissingField`] for empty `event_types`;
    /// [`ModelError::TooManyItems`] for more than one entry per event type plus `*`;
    /// [`ModelError::InvalidUrl`] for the URL.
    pub fn create<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        service_sid: ServiceSid,
        friendly_name: &str,
        event_types: Vec<WebhookEventType>,
        webhook_url: &str,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        let friendly_name = FriendlyName::new(
            Field::WebhookFriendlyName,
            friendly_name,
            MAX_WEBHOOK_FRIENDLY_NAME_LEN,
        )?;
        check_event_types(&event_types)?;
        check_http_url(Field::WebhookUrl, webhook_url, MAX_URL_LEN)?;
        Ok(Self {
            sid: WebhookSid::generate(rng),
            service_sid,
            friendly_name,
            event_types,
            webhook_url: webhook_url.to_owned(),
            webhook_method: WebhookMethod::Post,
            status: WebhookStatus::Enabled,
            secret: SecretBytes::generate(rng, WEBHOOK_SECRET_BYTES),
            previous_secret: None,
            date_created: now,
            date_updated: now,
            version: 0,
        })
    }

    /// The same webhook with another status.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn with_status(&self, status: WebhookStatus, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.clone();
        next.status = status;
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    /// The same webhook with a new friendly name, event types, URL and/or status
    /// (each `None` keeps the current value), checked as in [`Webhook::create`],
    /// one version later. The signing secret is kept.
    ///
    /// # Errors
    /// As [`Webhook::create`]; [`ModelError::VersionExhausted`].
    pub fn with_changes(
        &self,
        friendly_name: Option<&str>,
        event_types: Option<Vec<WebhookEventType>>,
        webhook_url: Option<&str>,
        status: Option<WebhookStatus>,
        now: UnixTime,
    ) -> Result<Self, ModelError> {
        let mut next = self.clone();
        if let Some(status) = status {
            next.status = status;
        }
        if let Some(name) = friendly_name {
            next.friendly_name = FriendlyName::new(
                Field::WebhookFriendlyName,
                name,
                MAX_WEBHOOK_FRIENDLY_NAME_LEN,
            )?;
        }
        if let Some(types) = event_types {
            check_event_types(&types)?;
            next.event_types = types;
        }
        if let Some(url) = webhook_url {
            check_http_url(Field::WebhookUrl, url, MAX_URL_LEN)?;
            url.clone_into(&mut next.webhook_url);
        }
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    /// The same webhook with a fresh signing secret, one version later; the old
    /// secret keeps signing deliveries (beside the new one) for `overlap`, so that
    /// receivers can be switched to the new one first. A rotation during an overlap
    /// drops the older secret: at most two sign at once.
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] for an overlap above
    /// [`MAX_WEBHOOK_SECRET_OVERLAP`] (whole seconds); [`ModelError::VersionExhausted`].
    pub fn rotate_secret<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        &self,
        overlap: std::time::Duration,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        let max = MAX_WEBHOOK_SECRET_OVERLAP.as_secs();
        if overlap.as_secs() > max {
            return Err(ModelError::ValueOutOfRange {
                field: Field::WebhookSecretOverlap,
                min: 0,
                max,
                value: overlap.as_secs(),
            });
        }
        let mut next = self.clone();
        next.previous_secret = (!overlap.is_zero()).then(|| PreviousSecret {
            secret: self.secret.clone(),
            expires_at: now.saturating_add(overlap),
        });
        next.secret = SecretBytes::generate(rng, WEBHOOK_SECRET_BYTES);
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    /// The secrets a delivery made at `now` is signed with: the current one, then
    /// the previous one while its overlap lasts.
    pub fn signing_secrets(&self, now: UnixTime) -> impl Iterator<Item = &SecretBytes> {
        std::iter::once(&self.secret).chain(
            self.previous_secret
                .as_ref()
                .filter(|previous| now < previous.expires_at)
                .map(|previous| &previous.secret),
        )
    }

    /// The secret a rotation replaced, if it has not been dropped since.
    #[must_use]
    pub const fn previous_secret(&self) -> Option<&PreviousSecret> {
        self.previous_secret.as_ref()
    }

    /// Whether an event of `event_type` should be delivered here.
    #[must_use]
    pub fn wants(&self, event_type: EventType) -> bool {
        self.status == WebhookStatus::Enabled
            && self.event_types.iter().any(|t| t.matches(event_type))
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> WebhookSid {
        self.sid
    }

    /// The service.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service_sid
    }

    /// `friendly_name`.
    #[must_use]
    pub const fn friendly_name(&self) -> &FriendlyName {
        &self.friendly_name
    }

    /// `event_types`.
    #[must_use]
    pub fn event_types(&self) -> &[WebhookEventType] {
        &self.event_types
    }

    /// `webhook_url`.
    #[must_use]
    pub fn webhook_url(&self) -> &str {
        &self.webhook_url
    }

    /// `webhook_method`.
    #[must_use]
    pub const fn webhook_method(&self) -> WebhookMethod {
        self.webhook_method
    }

    /// `status`.
    #[must_use]
    pub const fn status(&self) -> WebhookStatus {
        self.status
    }

    /// The Standard Webhooks signing secret.
    #[must_use]
    pub const fn secret(&self) -> &SecretBytes {
        &self.secret
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

fn de_event_types<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<WebhookEventType>, D::Error> {
    let event_types = Vec::<WebhookEventType>::deserialize(deserializer)?;
    check_event_types(&event_types).map_err(serde::de::Error::custom)?;
    Ok(event_types)
}

fn de_url<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let url = String::deserialize(deserializer)?;
    check_http_url(Field::WebhookUrl, &url, MAX_URL_LEN).map_err(serde::de::Error::custom)?;
    Ok(url)
}

fn check_event_types(event_types: &[WebhookEventType]) -> Result<(), ModelError> {
    if event_types.is_empty() {
        return Err(ModelError::MissingField {
            field: Field::WebhookEventTypes,
        });
    }
    let max = EventType::WEBHOOK.len().saturating_add(1);
    if event_types.len() > max {
        return Err(ModelError::TooManyItems {
            field: Field::WebhookEventTypes,
            max,
            count: event_types.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn a_rotation_signs_with_both_secrets_for_the_overlap_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let t0 = UnixTime::from_secs(1_700_000_000);
        let hook = Webhook::create(
            ServiceSid::generate(&mut rng),
            "hook",
            vec![WebhookEventType::All],
            "https://example.com/hook",
            t0,
            &mut rng,
        )
        .unwrap();
        assert_eq!(hook.signing_secrets(t0).count(), 1);
        let day = std::time::Duration::from_secs(86_400);
        let rotated = hook.rotate_secret(day, t0, &mut rng).unwrap();
        assert_ne!(rotated.secret(), hook.secret());
        assert_eq!(rotated.version(), hook.version() + 1);
        let during: Vec<_> = rotated.signing_secrets(t0).collect();
        assert_eq!(during, [rotated.secret(), hook.secret()]);
        let after: Vec<_> = rotated.signing_secrets(t0.saturating_add(day)).collect();
        assert_eq!(after, [rotated.secret()]);
        // A second rotation keeps only the secret it replaced.
        let again = rotated.rotate_secret(day, t0, &mut rng).unwrap();
        let both: Vec<_> = again.signing_secrets(t0).collect();
        assert_eq!(both, [again.secret(), rotated.secret()]);
        // No overlap: the old secret stops at once.
        let hard = again
            .rotate_secret(std::time::Duration::ZERO, t0, &mut rng)
            .unwrap();
        assert_eq!(hard.signing_secrets(t0).count(), 1);
        assert!(matches!(
            hook.rotate_secret(MAX_WEBHOOK_SECRET_OVERLAP + day, t0, &mut rng),
            Err(ModelError::ValueOutOfRange { .. })
        ));
        // The record round-trips, and one without a previous secret has no field.
        let json = serde_json::to_string(&rotated).unwrap();
        assert_eq!(serde_json::from_str::<Webhook>(&json).unwrap(), rotated);
        assert!(
            !serde_json::to_string(&hook)
                .unwrap()
                .contains("previous_secret")
        );
    }

    #[test]
    fn changes_are_checked_and_keep_the_secret() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let service = ServiceSid::from_bytes([3; 16]);
        let hook = Webhook::create(
            service,
            "Old",
            vec![WebhookEventType::All],
            "https://a.example/hook",
            UnixTime::from_secs(5),
            &mut rng,
        )
        .unwrap();
        let later = UnixTime::from_secs(9);
        let changed = hook
            .with_changes(
                Some("New"),
                Some(vec![WebhookEventType::Only(EventType::ChallengeApproved)]),
                Some("https://b.example/hook"),
                Some(WebhookStatus::Disabled),
                later,
            )
            .unwrap();
        assert_eq!(changed.friendly_name().as_str(), "New");
        assert_eq!(changed.webhook_url(), "https://b.example/hook");
        assert_eq!(changed.status(), WebhookStatus::Disabled);
        assert_eq!(changed.version(), hook.version() + 1);
        assert_eq!(changed.date_updated(), later);
        assert_eq!(changed.sid(), hook.sid());
        assert_eq!(changed.secret(), hook.secret());
        let kept = hook.with_changes(None, None, None, None, later).unwrap();
        assert_eq!(kept.friendly_name(), hook.friendly_name());
        assert_eq!(kept.status(), hook.status());
        assert!(
            hook.with_changes(None, Some(vec![]), None, None, later)
                .is_err()
        );
        assert!(
            hook.with_changes(None, None, Some("ftp://a"), None, later)
                .is_err()
        );
        assert!(
            hook.with_changes(Some(&"x".repeat(65)), None, None, None, later)
                .is_err()
        );
    }

    #[test]
    fn create_checks_and_matches() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let service = ServiceSid::from_bytes([2; 16]);
        let now = UnixTime::from_secs(5);
        let hook = Webhook::create(
            service,
            "My Webhook",
            vec![WebhookEventType::Only(EventType::FactorVerified)],
            "https://mywebsite.com/webhook",
            now,
            &mut rng,
        )
        .unwrap();
        assert!(hook.wants(EventType::FactorVerified));
        assert!(!hook.wants(EventType::ChallengeApproved));
        let disabled = hook.with_status(WebhookStatus::Disabled, now).unwrap();
        assert!(!disabled.wants(EventType::FactorVerified));
        assert!(Webhook::create(service, "x", vec![], "https://a.example", now, &mut rng).is_err());
        assert!(
            Webhook::create(
                service,
                "x",
                vec![WebhookEventType::All],
                "ftp://a",
                now,
                &mut rng
            )
            .is_err()
        );
        assert!(
            Webhook::create(
                service,
                &"x".repeat(65),
                vec![WebhookEventType::All],
                "https://a.example",
                now,
                &mut rng
            )
            .is_err()
        );
        let mut record = serde_json::to_value(&hook).unwrap();
        assert_eq!(
            serde_json::from_value::<Webhook>(record.clone()).unwrap(),
            hook
        );
        record["webhook_url"] = "javascript:alert(1)".into();
        assert!(serde_json::from_value::<Webhook>(record.clone()).is_err());
        record["webhook_url"] = "https://mywebsite.com/webhook".into();
        record["event_types"] = serde_json::json!([]);
        assert!(serde_json::from_value::<Webhook>(record).is_err());
        let types: Vec<WebhookEventType> =
            serde_json::from_str(r#"["*","factor.deleted"]"#).unwrap();
        assert_eq!(
            types,
            vec![
                WebhookEventType::All,
                WebhookEventType::Only(EventType::FactorDeleted)
            ]
        );
        assert!(serde_json::from_str::<Vec<WebhookEventType>>(r#"["factor.exploded"]"#).is_err());
    }

    #[test]
    fn challenge_created_is_not_a_webhook_event() {
        // The push notification's outbox event stays in the outbox: no webhook
        // subscribes to it, `*` does not match it.
        assert!(serde_json::from_str::<Vec<WebhookEventType>>(r#"["challenge.created"]"#).is_err());
        assert!(!WebhookEventType::All.matches(EventType::ChallengeCreated));
        assert!(
            !WebhookEventType::Only(EventType::ChallengeCreated)
                .matches(EventType::ChallengeCreated)
        );
        for event_type in EventType::WEBHOOK {
            assert!(WebhookEventType::All.matches(event_type), "{event_type}");
        }
        assert_eq!(
            EventType::ALL.iter().filter(|t| t.is_webhook()).count(),
            EventType::WEBHOOK.len()
        );
    }
}
