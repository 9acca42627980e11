//! The relying party's configuration (a service's `passkeys` block: docs/api.md).

use crate::client_data::is_valid_origin;
use crate::error::WebauthnError;
use crate::policy::{AttestationConveyance, CeremonyPolicy};

/// `authenticator_attachment`: which authenticators may be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuthenticatorAttachment {
    /// Built into the device (`"platform"`).
    Platform,
    /// Roaming: security keys, phones (`"cross-platform"`).
    CrossPlatform,
    /// Either (default): the member is omitted from the options.
    #[default]
    Any,
}

/// `discoverable_credentials` (`residentKey`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DiscoverableCredentials {
    /// A discoverable credential is required.
    Required,
    /// Preferred (default, as the service's passkeys documentation shows).
    #[default]
    Preferred,
    /// Discouraged.
    Discouraged,
}

impl DiscoverableCredentials {
    /// The WebAuthn string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
            Self::Discouraged => "discouraged",
        }
    }
}

/// The default ceremony timeout: 600 000 ms (docs/api.md, "Passkeys").
pub const DEFAULT_TIMEOUT_MS: u32 = 600_000;

/// A relying party: its RP ID, name, accepted origins, what its options ask for, and
/// the policies its ceremonies apply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelyingParty {
    id: String,
    name: String,
    origins: Vec<String>,
    /// Which authenticators may be used. Default [`AuthenticatorAttachment::Any`].
    pub authenticator_attachment: AuthenticatorAttachment,
    /// Discoverable credentials. Default [`DiscoverableCredentials::Preferred`].
    pub discoverable_credentials: DiscoverableCredentials,
    /// Attestation conveyance asked for. Default [`AttestationConveyance::None`].
    pub attestation: AttestationConveyance,
    /// Ceremony timeout in milliseconds, also the state's lifetime. Default
    /// [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: u32,
    /// The checks' policies (user verification, algorithms, counters, ...).
    pub policy: CeremonyPolicy,
}

impl RelyingParty {
    /// A relying party with the documented defaults.
    ///
    /// # Errors
    /// [`WebauthnError::InvalidConfig`] when `id` is empty or not a host name, or
    /// `origins` is empty or holds an origin that is not `https://host[:port]`,
    /// `http://localhost[:port]`, `android:apk-key-hash:...` or `ios:bundle-id:...`.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        origins: Vec<String>,
    ) -> Result<Self, WebauthnError> {
        let id = id.into();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(WebauthnError::InvalidConfig {
                what: format!("RP ID {id:?} is not a host name"),
            });
        }
        if origins.is_empty() {
            return Err(WebauthnError::InvalidConfig {
                what: "no origins configured".to_owned(),
            });
        }
        if let Some(bad) = origins.iter().find(|o| !is_valid_origin(o)) {
            return Err(WebauthnError::InvalidConfig {
                what: format!("origin {bad:?} is not an https, localhost or app origin"),
            });
        }
        Ok(Self {
            id,
            name: name.into(),
            origins,
            authenticator_attachment: AuthenticatorAttachment::default(),
            discoverable_credentials: DiscoverableCredentials::default(),
            attestation: AttestationConveyance::default(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            policy: CeremonyPolicy::default(),
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

    /// The accepted origins.
    #[must_use]
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}
