//! [`EngineConfig`]: what the host decides once for every operation.

use std::collections::BTreeMap;
use std::sync::Arc;

use verify_model::{AccountSid, ApiContext, BaseUrl, GuessPolicy, ServiceSid};
use verify_push::SignatureFields;
use verify_webauthn::attestation::TrustAnchors;

/// How many times an operation whose decision is safe to re-run (a rename, a
/// deny, creating a factor) reloads and retries after losing a compare-and-set race.
pub const DEFAULT_CONFLICT_RETRIES: u8 = 3;

/// The engine's configuration.
///
/// - `account_sid`: shown as `account_sid` on every resource and webhook payload;
/// - `base_url`: when set, resources carry `url` and `links` under it;
/// - `push_signature_fields`: the challenge fields a push device signs (the
///   `Twilio-Verify-Signature-Fields` header; fixed for a challenge's lifetime);
/// - `conflict_retries`: bounded retries of re-runnable decisions after a
///   compare-and-set conflict;
/// - `code_guess_policy`: how consecutive wrong TOTP codes slow down and then
///   lock a factor's checks, across challenges ([`verify_model::guessing`]; the
///   default allows at most 34 checks a day);
/// - trust anchors for passkey attestation ([`EngineConfig::with_trust_anchors`]
///   for every service, [`EngineConfig::with_service_trust_anchors`] to replace
///   them for one service): roots are host decisions made in Rust, never stored.
///   Whether a service *requires* a trusted attestation is its stored passkey
///   policy ([`verify_model::PasskeyPolicy`]); without anchors, requiring trust
///   refuses every registration.
///
/// The unverified-factor lifetime (1..=24 h) and the TOTP, push and passkeys
/// defaults are per service (see [`verify_model::Service`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// The `account_sid` of every resource.
    pub account_sid: AccountSid,
    /// The base URL for `url` and `links`, if any.
    pub base_url: Option<BaseUrl>,
    /// The fields a push device signs.
    pub push_signature_fields: SignatureFields,
    /// Retries after a compare-and-set conflict where re-running is safe.
    pub conflict_retries: u8,
    /// The guessing budget of TOTP factors.
    pub code_guess_policy: GuessPolicy,
    /// Attestation trust anchors for every service without its own.
    trust_anchors: Arc<TrustAnchors>,
    /// Per-service attestation trust anchors (replacing `trust_anchors`).
    service_trust_anchors: BTreeMap<ServiceSid, Arc<TrustAnchors>>,
}

/// The `account_sid` of [`EngineConfig::default`]: `AC` and 32 zeros.
pub const EMBEDDED_ACCOUNT_SID: AccountSid = AccountSid::from_bytes([0; 16]);

/// For a host that embeds the engine and serves none of the API's JSON views (where
/// `account_sid` shows): [`EngineConfig::new`] with [`EMBEDDED_ACCOUNT_SID`].
impl Default for EngineConfig {
    fn default() -> Self {
        Self::new(EMBEDDED_ACCOUNT_SID)
    }
}

impl EngineConfig {
    /// A configuration with no base URL, the recommended
    /// signature fields and [`DEFAULT_CONFLICT_RETRIES`].
    #[must_use]
    pub fn new(account_sid: AccountSid) -> Self {
        Self {
            account_sid,
            base_url: None,
            push_signature_fields: SignatureFields::recommended(),
            conflict_retries: DEFAULT_CONFLICT_RETRIES,
            code_guess_policy: GuessPolicy::default(),
            trust_anchors: Arc::new(TrustAnchors::new()),
            service_trust_anchors: BTreeMap::new(),
        }
    }

    /// With a guessing budget for TOTP factors other than the default
    /// ([`GuessPolicy::default`]).
    #[must_use]
    pub const fn with_code_guess_policy(mut self, policy: GuessPolicy) -> Self {
        self.code_guess_policy = policy;
        self
    }

    /// With attestation trust anchors for every service (those given
    /// per service by [`EngineConfig::with_service_trust_anchors`] replace them).
    #[must_use]
    pub fn with_trust_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.trust_anchors = Arc::new(anchors);
        self
    }

    /// With attestation trust anchors for `service` only, replacing the anchors of
    /// [`EngineConfig::with_trust_anchors`] for its registrations.
    #[must_use]
    pub fn with_service_trust_anchors(
        mut self,
        service: ServiceSid,
        anchors: TrustAnchors,
    ) -> Self {
        self.service_trust_anchors
            .insert(service, Arc::new(anchors));
        self
    }

    /// The trust anchors a registration in `service` is checked against.
    #[must_use]
    pub fn trust_anchors_for(&self, service: ServiceSid) -> &TrustAnchors {
        self.service_trust_anchors
            .get(&service)
            .unwrap_or(&self.trust_anchors)
    }

    /// With a base URL for `url` and `links`.
    #[must_use]
    pub fn with_base_url(mut self, base_url: BaseUrl) -> Self {
        self.base_url = Some(base_url);
        self
    }

    /// With other push signature fields.
    #[must_use]
    pub fn with_push_signature_fields(mut self, fields: SignatureFields) -> Self {
        self.push_signature_fields = fields;
        self
    }

    /// With another retry bound.
    #[must_use]
    pub const fn with_conflict_retries(mut self, retries: u8) -> Self {
        self.conflict_retries = retries;
        self
    }

    /// The context resource JSON views are built with.
    #[must_use]
    pub fn api_context(&self) -> ApiContext {
        ApiContext::new(self.account_sid, self.base_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_service_trust_anchors_replace_the_global_ones() {
        let (ours, other) = (
            ServiceSid::from_bytes([1; 16]),
            ServiceSid::from_bytes([2; 16]),
        );
        let config = EngineConfig::new(AccountSid::from_bytes([9; 16]))
            .with_trust_anchors(TrustAnchors::new())
            .with_service_trust_anchors(ours, TrustAnchors::new());
        let global = config.trust_anchors_for(other);
        assert!(std::ptr::eq(
            global,
            config.trust_anchors_for(ServiceSid::from_bytes([3; 16]))
        ));
        assert!(!std::ptr::eq(global, config.trust_anchors_for(ours)));
        // Clones share the anchors.
        let cloned = config.clone();
        assert!(std::ptr::eq(
            cloned.trust_anchors_for(ours),
            config.trust_anchors_for(ours)
        ));
    }
}
