//! [`EngineConfig`]: what the host decides once for every operation.

use verify_model::{AccountSid, ApiContext, BaseUrl};
use verify_push::SignatureFields;

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
///   compare-and-set conflict.
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
        }
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
