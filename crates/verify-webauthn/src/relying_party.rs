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
        Self::with_related_origins(id, name, origins, &[])
    }

    /// [`RelyingParty::new`], with `related` origins (WebAuthn L3 §5.11: origins
    /// outside the RP ID that the RP ID's `/.well-known/webauthn` lists): an origin
    /// whose host is neither the RP ID nor a subdomain of it is accepted when it is
    /// listed in `related`. Each related origin must be an `https://` origin outside
    /// the RP ID that is one of `origins`.
    ///
    /// # Errors
    /// [`WebauthnError::InvalidConfig`] as [`RelyingParty::new`], or for a related
    /// origin that breaks its rule.
    pub fn with_related_origins(
        id: impl Into<String>,
        name: impl Into<String>,
        origins: Vec<String>,
        related: &[String],
    ) -> Result<Self, WebauthnError> {
        let id = id.into();
        // An RP ID is compared with the lower-case host of the origin and hashed
        // into the authenticator data: an upper-case one could never match.
        if id.is_empty()
            || id.len() > verify_model::limits::MAX_RELYING_PARTY_LEN
            || id.starts_with('.')
            || id.ends_with('.')
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Err(WebauthnError::InvalidConfig {
                what: format!("RP ID {id:?} is not a lower-case host name"),
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
        if let Some(bad) = related.iter().find(|o| {
            !o.starts_with("https://")
                || !is_valid_origin(o)
                || origin_fits_rp_id(o, &id)
                || !origins.contains(o)
        }) {
            return Err(WebauthnError::InvalidConfig {
                what: format!(
                    "related origin {bad:?} is not an https origin outside the RP ID {id:?} \
                     that is one of the origins"
                ),
            });
        }
        if let Some(bad) = origins
            .iter()
            .find(|o| !origin_fits_rp_id(o, &id) && !related.contains(o))
        {
            return Err(WebauthnError::InvalidConfig {
                what: format!(
                    "origin {bad:?} is neither the RP ID {id:?} nor a subdomain of it, \
                     nor a related origin"
                ),
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

    /// The relying party of a service's (or factor's) passkeys configuration: the
    /// one place the model's settings become WebAuthn settings, mapped by variant.
    ///
    /// # Errors
    /// [`WebauthnError::InvalidConfig`] as [`RelyingParty::new`].
    pub fn from_config(config: &verify_model::PasskeysConfig) -> Result<Self, WebauthnError> {
        use verify_model::config::{
            AuthenticatorAttachment as ModelAttachment,
            DiscoverableCredentials as ModelDiscoverable,
        };
        let rp = &config.relying_party;
        let mut party = Self::with_related_origins(
            rp.id(),
            rp.name(),
            rp.origins().to_vec(),
            config.restrictions.related_origins(),
        )?;
        party.authenticator_attachment = match config.authenticator_attachment {
            ModelAttachment::Platform => AuthenticatorAttachment::Platform,
            ModelAttachment::CrossPlatform => AuthenticatorAttachment::CrossPlatform,
            ModelAttachment::Any => AuthenticatorAttachment::Any,
        };
        party.discoverable_credentials = match config.discoverable_credentials {
            ModelDiscoverable::Required => DiscoverableCredentials::Required,
            ModelDiscoverable::Preferred => DiscoverableCredentials::Preferred,
            ModelDiscoverable::Discouraged => DiscoverableCredentials::Discouraged,
        };
        party.policy.user_verification = config.user_verification.into();
        Ok(party)
    }
}

/// Whether a web origin's host is the RP ID or one of its subdomains (WebAuthn
/// §5.1.3 step 7.1 / §7.1 step 9: any other origin can never pass). App origins
/// (`android:`, `ios:`) name no host and are bound by the app's signature instead.
fn origin_fits_rp_id(origin: &str, rp_id: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return true;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, _)| host);
    host == rp_id
        || host
            .strip_suffix(rp_id)
            .is_some_and(|label| label.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(id: &str, origin: &str) -> bool {
        RelyingParty::new(id, "Example", vec![origin.to_owned()]).is_ok()
    }

    #[test]
    fn the_one_origin_rule() {
        assert!(accepts("example.com", "https://example.com"));
        assert!(accepts("example.com", "https://login.example.com:8443"));
        assert!(accepts("localhost", "http://localhost:8080"));
        assert!(accepts(
            "example.com",
            "android:apk-key-hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        ));
        assert!(accepts("example.com", "ios:bundle-id:com.example.app"));
        // http only for localhost; no other scheme; no path.
        assert!(!accepts("example.org", "http://example.org"));
        assert!(!accepts("example.com", "ftp://example.com"));
        assert!(!accepts("example.com", "https://example.com/path"));
        // An origin that can never match the RP ID.
        assert!(!accepts("example.com", "https://example.org"));
        assert!(!accepts("example.com", "https://notexample.com"));
        assert!(!accepts("login.example.com", "https://example.com"));
        // An RP ID that can never match an origin's (lower-case) host.
        assert!(!accepts("Example.com", "https://example.com"));
        assert!(!accepts(".example.com", "https://example.com"));
    }

    #[test]
    fn related_origins_admit_origins_outside_the_rp_id() {
        let related = |origins: &[&str], related: &[&str]| {
            RelyingParty::with_related_origins(
                "example.com",
                "Example",
                origins.iter().map(|o| (*o).to_owned()).collect(),
                &related.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>(),
            )
            .map(|rp| rp.origins().to_vec())
        };
        assert!(related(&["https://example.com", "https://example.co.uk"], &[]).is_err());
        assert_eq!(
            related(
                &["https://example.com", "https://example.co.uk"],
                &["https://example.co.uk"]
            )
            .unwrap(),
            ["https://example.com", "https://example.co.uk"]
        );
        // A related origin must be an https origin outside the RP ID, among the
        // origins.
        for bad in [
            "https://login.example.com",
            "http://localhost:8080",
            "ios:bundle-id:com.example.app",
            "https://example.co.uk/path",
        ] {
            assert!(
                related(&["https://example.com", bad], &[bad]).is_err(),
                "{bad}"
            );
        }
        assert!(related(&["https://example.com"], &["https://example.net"]).is_err());
    }

    #[test]
    fn model_settings_map_by_variant() {
        use verify_model::config::{
            AuthenticatorAttachment as A, DiscoverableCredentials as D, PasskeysConfig,
            RelyingParty as ModelRp, UserVerification as U,
        };
        let rp =
            ModelRp::new("example.com", "Example", vec!["https://example.com".into()]).unwrap();
        let mut config = PasskeysConfig::new(rp);
        config.authenticator_attachment = A::CrossPlatform;
        config.discoverable_credentials = D::Required;
        config.user_verification = U::Discouraged;
        let party = RelyingParty::from_config(&config).unwrap();
        assert_eq!(
            party.authenticator_attachment,
            AuthenticatorAttachment::CrossPlatform
        );
        assert_eq!(
            party.discoverable_credentials,
            DiscoverableCredentials::Required
        );
        assert_eq!(
            party.policy.user_verification,
            crate::policy::UserVerification::Discouraged
        );
    }
}
