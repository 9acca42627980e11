//! Resource JSON: the API representation of every resource, with the field names
//! and value spellings of the source documents.
//!
//! Each view is built from a resource and an [`ApiContext`] (the host's
//! `account_sid` and optional base URL: `url` and `links` are omitted without one).
//! Views derive `Serialize` and `Deserialize`, so clients can parse what a host
//! serves. They never carry secrets, except the one creation response that must:
//! [`FactorJson::created_totp`] (the TOTP `binding.secret`) and
//! [`AccessTokenJson`] (the enrollment `token`).

use crate::ceremony::PasskeyRequestOptions;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::access_token::AccessToken;
use crate::challenge::{Challenge, ChallengeStatus, RespondedReason};
use crate::config::{PasskeyExtensionOutputs, PasskeysConfig, TotpAlgorithm, TotpParams};
use crate::factor::{Factor, FactorKind, FactorStatus, FactorType, PushBinding, PushConfig};
use crate::id::{
    AccessTokenSid, AccountSid, ChallengeSid, EntitySid, FactorSid, ServiceSid, WebhookSid,
};
use crate::identity::Identity;
use crate::service::{Entity, PushServiceConfig, Service};
use crate::text::{Details, StringMap};
use crate::time::UnixTime;
use crate::url::BaseUrl;
use crate::webhook::{Webhook, WebhookEventType, WebhookMethod, WebhookStatus};

/// What resource JSON needs from the host: its `account_sid` and, optionally, the
/// base URL for `url` and `links`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiContext {
    /// The `account_sid` shown on every resource.
    pub account_sid: AccountSid,
    /// The base URL, or `None` to omit `url` and `links`.
    pub base_url: Option<BaseUrl>,
}

impl ApiContext {
    /// A context; pass `None` to omit `url` and `links`.
    #[must_use]
    pub const fn new(account_sid: AccountSid, base_url: Option<BaseUrl>) -> Self {
        Self {
            account_sid,
            base_url,
        }
    }
}

/// `Option<sid or identity>` written as `""` when absent (as the passkeys documents
/// show for a discoverable challenge), read from `""` or `null`.
mod empty_as_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::str::FromStr;

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => value.serialize(serializer),
            None => serializer.serialize_str(""),
        }
    }

    pub(super) fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
        D: Deserializer<'de>,
    {
        let text = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match text.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// A field that is omitted (`None`), `null` (`Some(None)`) or present.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes `&Option<Option<T>>`"
    )]
    pub(super) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// `links` of a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChallengeLinks {
    /// `…/Challenges/{YC}/Notifications`.
    pub notifications: String,
}

/// The Challenge resource as the API serves it (docs/api.md, "Challenges"): `sid`, `account_sid`,
/// `service_sid`, `entity_sid`, `identity`, `factor_sid`, `date_created`,
/// `date_updated`, `date_responded`, `expiration_date`, `status`,
/// `responded_reason`, `details`, `hidden_details`, `metadata`, `factor_type`, `url`,
/// `links`, and `options` for passkey challenges.
///
/// `status` is read at `now`: a pending challenge past its expiration date shows
/// `expired`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChallengeJson {
    /// `sid`.
    pub sid: ChallengeSid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `service_sid`.
    pub service_sid: ServiceSid,
    /// `entity_sid` (`""` while unknown).
    #[serde(with = "empty_as_none")]
    pub entity_sid: Option<EntitySid>,
    /// `identity` (`""` while unknown).
    #[serde(with = "empty_as_none")]
    pub identity: Option<Identity>,
    /// `factor_sid` (`""` while unknown).
    #[serde(with = "empty_as_none")]
    pub factor_sid: Option<FactorSid>,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `date_updated`.
    pub date_updated: UnixTime,
    /// `date_responded` (null until answered).
    pub date_responded: Option<UnixTime>,
    /// `expiration_date`.
    pub expiration_date: UnixTime,
    /// `status`.
    pub status: ChallengeStatus,
    /// `responded_reason`.
    pub responded_reason: RespondedReason,
    /// `details`.
    pub details: Option<Details>,
    /// `hidden_details`.
    pub hidden_details: Option<StringMap>,
    /// `metadata`.
    pub metadata: Option<StringMap>,
    /// `factor_type`.
    pub factor_type: FactorType,
    /// `url` (omitted without a base URL).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// `links`: omitted without a base URL; `null` for a discoverable passkey
    /// challenge, which has no entity path yet.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        with = "double_option"
    )]
    pub links: Option<Option<ChallengeLinks>>,
    /// `options` (passkey challenges only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub options: Option<RequestOptionsJson>,
}

/// A passkey challenge's `options`: `{"publicKey": PublicKeyCredentialRequestOptionsJSON}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestOptionsJson {
    /// The request options.
    #[serde(rename = "publicKey")]
    pub public_key: PasskeyRequestOptions,
}

impl RequestOptionsJson {
    /// The options a passkey challenge serves, as the browser takes them.
    #[must_use]
    pub fn of(ceremony: &crate::ceremony::PasskeyCeremony) -> Self {
        Self {
            public_key: ceremony.options.clone(),
        }
    }
}

impl ChallengeJson {
    /// The view of `challenge` at `now`.
    #[must_use]
    pub fn new(challenge: &Challenge, ctx: &ApiContext, now: UnixTime) -> Self {
        let (url, links) = match (&ctx.base_url, challenge.identity()) {
            (Some(base), Some(identity)) => {
                let url = base.challenge(challenge.service_sid(), identity, challenge.sid());
                let links = ChallengeLinks {
                    notifications: format!("{url}/Notifications"),
                };
                (Some(url), Some(Some(links)))
            }
            (Some(base), None) => (
                Some(format!(
                    "{}/Passkeys/Challenges",
                    base.service(challenge.service_sid())
                )),
                Some(None),
            ),
            (None, _) => (None, None),
        };
        Self {
            sid: challenge.sid(),
            account_sid: ctx.account_sid,
            service_sid: challenge.service_sid(),
            entity_sid: challenge.entity_sid(),
            identity: challenge.identity().cloned(),
            factor_sid: challenge.factor_sid(),
            date_created: challenge.date_created(),
            date_updated: challenge.date_updated(),
            date_responded: challenge.date_responded(),
            expiration_date: challenge.expiration_date(),
            status: challenge.status_at(now),
            responded_reason: challenge.responded_reason(),
            details: challenge.details().cloned(),
            hidden_details: challenge.hidden_details().cloned(),
            metadata: challenge.metadata().cloned(),
            factor_type: challenge.factor_type(),
            url,
            links,
            options: challenge.passkey().map(RequestOptionsJson::of),
        }
    }
}

/// A TOTP factor's `config`: `alg`, `code_length`, `time_step`, `skew`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TotpConfigJson {
    /// `alg`.
    pub alg: TotpAlgorithm,
    /// `code_length`, `time_step`, `skew`.
    #[serde(flatten)]
    pub params: TotpParams,
}

/// A passkey factor's `config`: the service's passkeys block as it was when the
/// factor was created and, once verified, `extension_outputs` (this server's
/// extension): what the registration reported for the extensions it requested
/// (`cred_props_rk`, `min_pin_length`), shown only when something was reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyFactorConfigJson {
    /// The passkeys configuration's members.
    #[serde(flatten)]
    pub config: PasskeysConfig,
    /// `extension_outputs`, absent when nothing was reported.
    #[serde(default, skip_serializing_if = "PasskeyExtensionOutputs::is_empty")]
    pub extension_outputs: PasskeyExtensionOutputs,
}

/// A factor's `config`, by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum FactorConfigJson {
    /// TOTP parameters.
    Totp(TotpConfigJson),
    /// Push configuration (with `credential_sid`).
    Push(PushConfig),
    /// Passkeys configuration (with the reported extension outputs).
    Passkeys(PasskeyFactorConfigJson),
}

/// The Factor resource as the API serves it: `sid`, `account_sid`, `service_sid`,
/// `entity_sid`, `identity`, `date_created`, `date_updated`, `friendly_name`,
/// `status`, `factor_type`, `config`, `metadata`, `url`. No secret and no binding:
/// only [`CreatedFactorJson`] carries `binding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FactorJson {
    /// `sid`.
    pub sid: FactorSid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `service_sid`.
    pub service_sid: ServiceSid,
    /// `entity_sid`.
    pub entity_sid: EntitySid,
    /// `identity`.
    pub identity: Identity,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `date_updated`.
    pub date_updated: UnixTime,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `status`.
    pub status: FactorStatus,
    /// `factor_type`.
    pub factor_type: FactorType,
    /// `config`.
    pub config: FactorConfigJson,
    /// `metadata`.
    pub metadata: Option<StringMap>,
    /// `url` (omitted without a base URL).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
}

/// A TOTP factor's creation `binding`: the base32 secret and the otpauth URI.
/// Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[non_exhaustive]
pub struct TotpBindingJson {
    /// `secret`: unpadded base32.
    pub secret: String,
    /// `uri`: the otpauth:// URI (built by the TOTP crate).
    pub uri: String,
}

impl std::fmt::Debug for TotpBindingJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpBindingJson { <redacted> }")
    }
}

/// A push factor's creation `binding`: `alg` and `public_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PushBindingJson {
    /// `alg`: `ES256`.
    pub alg: String,
    /// `public_key`: standard base64 of the SPKI DER.
    pub public_key: PushBinding,
}

/// The creation response's `binding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum BindingJson {
    /// TOTP.
    Totp(TotpBindingJson),
    /// Push.
    Push(PushBindingJson),
}

/// The factor creation response: the factor plus `binding` (null for passkeys) and,
/// for passkeys, `options` (the WebAuthn creation options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreatedFactorJson {
    /// The factor fields.
    #[serde(flatten)]
    pub factor: FactorJson,
    /// `binding`.
    pub binding: Option<BindingJson>,
    /// `options`: the WebAuthn creation options for passkeys, `null` for the other
    /// types (served either way: the helper library's factor model reads it).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

impl FactorJson {
    /// The view of `factor`.
    #[must_use]
    pub fn new(factor: &Factor, ctx: &ApiContext) -> Self {
        let config = match factor.kind() {
            FactorKind::Totp(totp) => FactorConfigJson::Totp(TotpConfigJson {
                alg: totp.alg(),
                params: totp.params(),
            }),
            FactorKind::Push(push) => FactorConfigJson::Push(push.config().clone()),
            FactorKind::Passkeys(passkey) => FactorConfigJson::Passkeys(PasskeyFactorConfigJson {
                config: passkey.config().public_view(),
                extension_outputs: passkey
                    .credential()
                    .map(|credential| credential.extension_outputs)
                    .unwrap_or_default(),
            }),
        };
        Self {
            sid: factor.sid(),
            account_sid: ctx.account_sid,
            service_sid: factor.service_sid(),
            entity_sid: factor.entity_sid(),
            identity: factor.identity().clone(),
            date_created: factor.date_created(),
            date_updated: factor.date_updated(),
            friendly_name: factor.friendly_name().as_str().to_owned(),
            status: factor.status(),
            factor_type: factor.factor_type(),
            config,
            metadata: factor.metadata().cloned(),
            url: ctx
                .base_url
                .as_ref()
                .map(|base| base.factor(factor.service_sid(), factor.identity(), factor.sid())),
        }
    }

    /// The creation response of a TOTP factor: `binding {secret, uri}` with the
    /// secret in base32 and `otpauth_uri` from the TOTP crate. `None` for another
    /// factor type.
    #[must_use]
    pub fn created_totp(
        factor: &Factor,
        ctx: &ApiContext,
        otpauth_uri: &str,
    ) -> Option<CreatedFactorJson> {
        let FactorKind::Totp(totp) = factor.kind() else {
            return None;
        };
        Some(CreatedFactorJson {
            factor: Self::new(factor, ctx),
            binding: Some(BindingJson::Totp(TotpBindingJson {
                secret: totp.secret().to_base32().as_str().to_owned(),
                uri: otpauth_uri.to_owned(),
            })),
            options: None,
        })
    }

    /// The creation response of a push factor: `binding {alg, public_key}`. `None`
    /// for another factor type.
    #[must_use]
    pub fn created_push(factor: &Factor, ctx: &ApiContext) -> Option<CreatedFactorJson> {
        let FactorKind::Push(push) = factor.kind() else {
            return None;
        };
        Some(CreatedFactorJson {
            factor: Self::new(factor, ctx),
            binding: Some(BindingJson::Push(PushBindingJson {
                alg: PushBinding::ALG.to_owned(),
                public_key: push.binding().clone(),
            })),
            options: None,
        })
    }

    /// The creation response of a passkey factor: `binding: null` and the WebAuthn
    /// creation `options`. `None` for another factor type.
    #[must_use]
    pub fn created_passkey(
        factor: &Factor,
        ctx: &ApiContext,
        options: serde_json::Value,
    ) -> Option<CreatedFactorJson> {
        if factor.factor_type() != FactorType::Passkeys {
            return None;
        }
        Some(CreatedFactorJson {
            factor: Self::new(factor, ctx),
            binding: None,
            options: Some(options),
        })
    }
}

/// `links` of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityLinks {
    /// `…/Factors`.
    pub factors: String,
    /// `…/Challenges`.
    pub challenges: String,
    /// `…/Factors`, where new factors are created (the service's own name for it).
    pub new_factors: String,
}

/// The Entity resource: `sid`, `account_sid`, `service_sid`, `identity`,
/// `date_created`, `date_updated`, `url`, `links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityJson {
    /// `sid`.
    pub sid: EntitySid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `service_sid`.
    pub service_sid: ServiceSid,
    /// `identity`.
    pub identity: Identity,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `date_updated`.
    pub date_updated: UnixTime,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// `links`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub links: Option<EntityLinks>,
}

impl EntityJson {
    /// The view of `entity`.
    #[must_use]
    pub fn new(entity: &Entity, ctx: &ApiContext) -> Self {
        let base = ctx.base_url.as_ref();
        Self {
            sid: entity.sid(),
            account_sid: ctx.account_sid,
            service_sid: entity.service_sid(),
            identity: entity.identity().clone(),
            date_created: entity.date_created(),
            date_updated: entity.date_updated(),
            url: base.map(|b| b.entity(entity.service_sid(), entity.identity())),
            links: base.map(|b| EntityLinks {
                factors: b.factors(entity.service_sid(), entity.identity()),
                challenges: b.challenges(entity.service_sid(), entity.identity()),
                new_factors: b.factors(entity.service_sid(), entity.identity()),
            }),
        }
    }
}

/// A service's `totp` block as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceTotpJson {
    /// `issuer` (the friendly name when not configured).
    pub issuer: String,
    /// `code_length`, `time_step`, `skew`.
    #[serde(flatten)]
    pub params: TotpParams,
}

/// The Service resource: `sid`, `account_sid`, `friendly_name`, `totp`, `push`,
/// `passkeys`, `date_created`, `date_updated`, `url`, `links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceJson {
    /// `sid`.
    pub sid: ServiceSid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `totp`.
    pub totp: ServiceTotpJson,
    /// `push`.
    pub push: PushServiceConfig,
    /// `passkeys`.
    pub passkeys: Option<PasskeysConfig>,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `date_updated`.
    pub date_updated: UnixTime,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// `links`: the service's sub-resources this server serves (SMS, voice and the
    /// other channels' resources are out of scope).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub links: Option<ServiceLinks>,
}

/// `links` of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceLinks {
    /// `…/Entities`.
    pub entities: String,
    /// `…/Webhooks`.
    pub webhooks: String,
    /// `…/AccessTokens`.
    pub access_tokens: String,
}

impl ServiceJson {
    /// The view of `service`.
    #[must_use]
    pub fn new(service: &Service, ctx: &ApiContext) -> Self {
        Self {
            sid: service.sid(),
            account_sid: ctx.account_sid,
            friendly_name: service.friendly_name().as_str().to_owned(),
            totp: ServiceTotpJson {
                issuer: service.totp_issuer().to_owned(),
                params: service.totp().params,
            },
            push: service.push().clone(),
            passkeys: service.passkeys().map(PasskeysConfig::public_view),
            date_created: service.date_created(),
            date_updated: service.date_updated(),
            url: ctx.base_url.as_ref().map(|b| b.service(service.sid())),
            links: ctx.base_url.as_ref().map(|b| {
                let url = b.service(service.sid());
                ServiceLinks {
                    entities: format!("{url}/Entities"),
                    webhooks: format!("{url}/Webhooks"),
                    access_tokens: format!("{url}/AccessTokens"),
                }
            }),
        }
    }
}

/// The AccessToken creation response (docs/api.md, "Access tokens"): `sid`, `account_sid`,
/// `service_sid`, `entity_identity`, `factor_type`, `factor_friendly_name`, `ttl`,
/// `date_created`, `token`, `url`. It carries the token: serve it once, to the host
/// that minted it. Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccessTokenJson {
    /// `sid`.
    pub sid: AccessTokenSid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `service_sid`.
    pub service_sid: ServiceSid,
    /// `entity_identity`.
    pub entity_identity: Identity,
    /// `factor_type`.
    pub factor_type: FactorType,
    /// `factor_friendly_name`.
    pub factor_friendly_name: Option<String>,
    /// `ttl` in seconds.
    pub ttl: u64,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `token`.
    pub token: String,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
}

impl Drop for AccessTokenJson {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

impl std::fmt::Debug for AccessTokenJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenJson")
            .field("sid", &self.sid)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl AccessTokenJson {
    /// The creation response for `token`.
    #[must_use]
    pub fn new(token: &AccessToken, ctx: &ApiContext) -> Self {
        Self {
            sid: token.sid(),
            account_sid: ctx.account_sid,
            service_sid: token.service_sid(),
            entity_identity: token.identity().clone(),
            factor_type: token.factor_type(),
            factor_friendly_name: token.factor_friendly_name().map(|n| n.as_str().to_owned()),
            ttl: token.ttl().as_secs(),
            date_created: token.date_created(),
            token: token.token().as_str().to_owned(),
            url: ctx.base_url.as_ref().map(|b| {
                format!(
                    "{}/AccessTokens/{}",
                    b.service(token.service_sid()),
                    token.sid()
                )
            }),
        }
    }
}

/// The Webhook resource (docs/api.md, "Webhooks"): `url`, `sid`, `account_sid`, `service_sid`,
/// `friendly_name`, `event_types`, `webhook_method`, `webhook_url`, `status`,
/// `version`, `date_created`, `date_updated`. Never the signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookJson {
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// `sid`.
    pub sid: WebhookSid,
    /// `account_sid`.
    pub account_sid: AccountSid,
    /// `service_sid`.
    pub service_sid: ServiceSid,
    /// `friendly_name`.
    pub friendly_name: String,
    /// `event_types`.
    pub event_types: Vec<WebhookEventType>,
    /// `webhook_method`.
    pub webhook_method: WebhookMethod,
    /// `webhook_url`.
    pub webhook_url: String,
    /// `status`.
    pub status: WebhookStatus,
    /// `version`: `v2`.
    pub version: String,
    /// `date_created`.
    pub date_created: UnixTime,
    /// `date_updated`.
    pub date_updated: UnixTime,
}

impl WebhookJson {
    /// The view of `webhook`.
    #[must_use]
    pub fn new(webhook: &Webhook, ctx: &ApiContext) -> Self {
        Self {
            url: ctx.base_url.as_ref().map(|b| {
                format!(
                    "{}/Webhooks/{}",
                    b.service(webhook.service_sid()),
                    webhook.sid()
                )
            }),
            sid: webhook.sid(),
            account_sid: ctx.account_sid,
            service_sid: webhook.service_sid(),
            friendly_name: webhook.friendly_name().as_str().to_owned(),
            event_types: webhook.event_types().to_vec(),
            webhook_method: webhook.webhook_method(),
            webhook_url: webhook.webhook_url().to_owned(),
            status: webhook.status(),
            version: Webhook::VERSION.to_owned(),
            date_created: webhook.date_created(),
            date_updated: webhook.date_updated(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;
    use crate::config::RelyingParty;
    use crate::factor::{NewFactor, PasskeyCredential, VerificationProof};

    fn verified_passkey(outputs: PasskeyExtensionOutputs) -> Factor {
        let config = PasskeysConfig::new(
            RelyingParty::new("example.com", "Example", vec!["https://example.com".into()])
                .unwrap(),
        );
        let input = NewFactor::new(
            ServiceSid::from_bytes([0xaa; 16]),
            EntitySid::from_bytes([0xbb; 16]),
            Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap(),
            "Laptop",
        );
        let now = UnixTime::from_secs(1_700_000_000);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let created = Factor::create(input, FactorKind::passkeys(config), now, &mut rng).unwrap();
        let credential = PasskeyCredential::new(
            vec![1, 2, 3, 4],
            vec![0xa5; 77],
            -7,
            0,
            vec!["internal".into()],
            true,
            false,
            [0; 16],
            "none",
            true,
        )
        .unwrap()
        .with_extension_outputs(outputs);
        created
            .factor
            .verify(VerificationProof::Passkey(credential), now)
            .unwrap()
            .factor
    }

    fn ctx() -> ApiContext {
        ApiContext::new(AccountSid::from_bytes([1; 16]), None)
    }

    #[test]
    fn a_passkey_factors_config_shows_the_reported_extension_outputs() {
        let outputs = PasskeyExtensionOutputs::new()
            .with_cred_props_rk(Some(true))
            .with_min_pin_length(Some(8));
        let view = FactorJson::new(&verified_passkey(outputs), &ctx());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json["config"]["extension_outputs"],
            serde_json::json!({"cred_props_rk": true, "min_pin_length": 8})
        );
        // The service's block is still there, beside it.
        assert_eq!(json["config"]["relying_party"]["id"], "example.com");
        assert_eq!(json["config"]["user_verification"], "preferred");
        let back: FactorJson = serde_json::from_value(json).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn a_passkey_factors_config_is_the_services_block_when_nothing_was_reported() {
        let factor = verified_passkey(PasskeyExtensionOutputs::new());
        let json = serde_json::to_value(FactorJson::new(&factor, &ctx())).unwrap();
        assert!(json["config"].get("extension_outputs").is_none(), "{json}");
        let FactorKind::Passkeys(passkey) = factor.kind() else {
            unreachable!()
        };
        assert_eq!(
            json["config"],
            serde_json::to_value(passkey.config().public_view()).unwrap()
        );
    }
}
