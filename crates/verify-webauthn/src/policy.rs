//! Policies as typed configuration, each with a documented default.

use crate::attestation::AttestationPolicy;
use crate::crypto::SignatureAlgorithm;

/// How much user verification a ceremony requires (and asks for in its options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UserVerification {
    /// The UV flag must be set.
    Required,
    /// Ask for UV; accept without it. (Default, as in WebAuthn and the service's passkeys defaults.)
    #[default]
    Preferred,
    /// Do not ask for UV; accept either.
    Discouraged,
}

impl From<verify_model::UserVerification> for UserVerification {
    fn from(value: verify_model::UserVerification) -> Self {
        match value {
            verify_model::UserVerification::Required => Self::Required,
            verify_model::UserVerification::Preferred => Self::Preferred,
            verify_model::UserVerification::Discouraged => Self::Discouraged,
        }
    }
}

impl From<UserVerification> for verify_model::UserVerification {
    fn from(value: UserVerification) -> Self {
        match value {
            UserVerification::Required => Self::Required,
            UserVerification::Preferred => Self::Preferred,
            UserVerification::Discouraged => Self::Discouraged,
        }
    }
}

impl UserVerification {
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

/// What to do when an assertion's sign count does not exceed the stored one.
///
/// A count of 0 in both is always fine (authenticators without a counter, passkeys).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CounterPolicy {
    /// Reject the assertion (default: a regression suggests a cloned authenticator).
    #[default]
    Reject,
    /// Accept it and report `counter_warning: true`.
    Warn,
}

/// What to do when an assertion's BE flag differs from the one recorded at
/// registration (WebAuthn L3 §6.1.3: BE never changes for a credential).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupEligibilityPolicy {
    /// Reject the assertion (default).
    #[default]
    Reject,
    /// Accept it.
    Allow,
}

/// Whether ceremonies embedded in a cross-origin iframe are accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrossOriginPolicy {
    /// Reject `crossOrigin: true` and any `topOrigin` (default).
    #[default]
    Reject,
    /// Accept cross-origin ceremonies; a `topOrigin`, when present, must be in
    /// `top_origins` unless that list is empty (then any top origin is accepted).
    Allow {
        /// The allowed top-level origins.
        top_origins: Vec<String>,
    },
}

/// Whether a registration's attestation must chain to a trust anchor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationTrust {
    /// Verify the statement's signature and rules, report whether its chain reached an
    /// anchor, accept either way (default; `none` and self attestation accepted).
    #[default]
    Report,
    /// Accept only a chain reaching one of the host's trust anchors at `now`; `none`
    /// and self attestation are rejected.
    RequireTrusted,
}

/// Whether a registration of a backup-eligible credential (BE flag set: a synced
/// passkey) is accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupEligibleRegistration {
    /// Accept it (default).
    #[default]
    Accept,
    /// Refuse it ([`WebauthnError::BackupEligibleRefused`](crate::WebauthnError::BackupEligibleRefused)).
    Refuse,
}

/// A registration's AAGUID allow-list and deny-list (both empty by default: any
/// AAGUID).
///
/// The deny-list refuses on the AAGUID of the authenticator data even when nothing
/// signs it (`none`, self, fido-u2f attestation): refusing on unsigned data fails
/// closed. The allow-list grants only on a signed AAGUID: with a non-empty list, the
/// attestation must be trusted (its chain reaches a trust anchor), of a type other
/// than `none` and self, in a format whose signature covers the AAGUID (not
/// fido-u2f), and the AAGUID must be listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AaguidPolicy {
    /// When not empty, the only AAGUIDs accepted (attested, see above).
    pub allow: Vec<[u8; 16]>,
    /// AAGUIDs refused.
    pub deny: Vec<[u8; 16]>,
}

impl AaguidPolicy {
    /// The lists.
    #[must_use]
    pub const fn new(allow: Vec<[u8; 16]>, deny: Vec<[u8; 16]>) -> Self {
        Self { allow, deny }
    }
}

/// The attestation conveyance a relying party asks for in creation options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AttestationConveyance {
    /// `"none"` (default, as the service's creation options show).
    #[default]
    None,
    /// `"indirect"`.
    Indirect,
    /// `"direct"`.
    Direct,
    /// `"enterprise"`.
    Enterprise,
}

impl AttestationConveyance {
    /// The WebAuthn string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Indirect => "indirect",
            Self::Direct => "direct",
            Self::Enterprise => "enterprise",
        }
    }
}

/// A `PublicKeyCredentialHint` (WebAuthn L3 §5.8.7): which kind of authenticator the
/// relying party believes the user will use, most preferred first in `hints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Hint {
    /// `"security-key"`: a roaming security key.
    SecurityKey,
    /// `"client-device"`: the platform authenticator of the device in use.
    ClientDevice,
    /// `"hybrid"`: a phone, over the hybrid transport.
    Hybrid,
}

impl Hint {
    /// The WebAuthn string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SecurityKey => "security-key",
            Self::ClientDevice => "client-device",
            Self::Hybrid => "hybrid",
        }
    }
}

/// The `hints` strings of `hints`, in order, each once (a repeated hint adds
/// nothing and L3 orders them by preference: the first occurrence wins).
#[must_use]
pub fn hint_strings(hints: &[Hint]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for hint in hints {
        if !out.iter().any(|h| h == hint.as_str()) {
            out.push(hint.as_str().to_owned());
        }
    }
    out
}

/// The algorithms offered and accepted by default: EdDSA, ES256, RS256 (docs/api.md, "Passkeys").
pub const DEFAULT_ALGORITHMS: [SignatureAlgorithm; 3] = [
    SignatureAlgorithm::EdDsa,
    SignatureAlgorithm::Es256,
    SignatureAlgorithm::Rs256,
];

/// Every check a ceremony applies that is a matter of policy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CeremonyPolicy {
    /// User verification. Default [`UserVerification::Preferred`].
    pub user_verification: UserVerification,
    /// Credential algorithms accepted, in order of preference. Default
    /// [`DEFAULT_ALGORITHMS`] (EdDSA, ES256, RS256).
    pub algorithms: Vec<SignatureAlgorithm>,
    /// Cross-origin ceremonies. Default [`CrossOriginPolicy::Reject`].
    pub cross_origin: CrossOriginPolicy,
    /// Sign-count regressions. Default [`CounterPolicy::Reject`].
    pub counter: CounterPolicy,
    /// BE flag changes. Default [`BackupEligibilityPolicy::Reject`].
    pub backup_eligibility: BackupEligibilityPolicy,
    /// Attestation trust. Default [`AttestationTrust::Report`].
    pub attestation_trust: AttestationTrust,
    /// Format-specific attestation rules (android-key TEE vs software, SafetyNet
    /// freshness). Default [`AttestationPolicy::default`].
    pub attestation: AttestationPolicy,
    /// Backup-eligible credentials at registration. Default
    /// [`BackupEligibleRegistration::Accept`].
    pub backup_eligible_registration: BackupEligibleRegistration,
    /// The AAGUIDs a registration accepts. Default: any.
    pub aaguids: AaguidPolicy,
}

impl Default for CeremonyPolicy {
    fn default() -> Self {
        Self {
            user_verification: UserVerification::default(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            cross_origin: CrossOriginPolicy::default(),
            counter: CounterPolicy::default(),
            backup_eligibility: BackupEligibilityPolicy::default(),
            attestation_trust: AttestationTrust::default(),
            attestation: AttestationPolicy::default(),
            backup_eligible_registration: BackupEligibleRegistration::default(),
            aaguids: AaguidPolicy::default(),
        }
    }
}
