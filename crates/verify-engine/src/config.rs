//! [`EngineConfig`]: what the host decides once for every operation.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use verify_model::UnixTime;
use verify_model::{AccountSid, ApiContext, BaseUrl, GuessPolicy, ServiceSid};
use verify_push::SignatureFields;
use verify_webauthn::attestation::{AttestationError, MdsImport, TrustAnchors};

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
///   refuses every registration. FIDO metadata comes in the same way: the host
///   builds the [`TrustAnchors`] with [`TrustAnchors::add_mds3_blob`] (which also
///   records the AAGUIDs refused under every policy) and passes them here. To
///   replace the global anchors while the engine runs (a re-downloaded BLOB), keep
///   a clone of the configuration and call
///   [`EngineConfig::replace_trust_anchors`] or [`EngineConfig::replace_mds_blob`]
///   on it; [`EngineConfig::with_mds_blob`] reads a BLOB's anchors from file
///   contents, for a host without `verify-webauthn` in its manifest.
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
    /// Attestation trust anchors for every service without its own, replaceable.
    trust_anchors: SharedTrustAnchors,
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
            trust_anchors: SharedTrustAnchors::default(),
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
    /// Clones made after this share them, also when they are replaced
    /// ([`EngineConfig::replace_trust_anchors`]).
    #[must_use]
    pub fn with_trust_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.trust_anchors = SharedTrustAnchors::new(anchors);
        self
    }

    /// Replaces the global trust anchors while the engine runs, for this
    /// configuration and every clone made of it since its anchors were last set
    /// (the engine's among them): registrations that start later use `anchors`
    /// ([`EngineConfig::trust_anchors`]); one under way finishes with the previous
    /// set. Per-service anchors are not touched.
    pub fn replace_trust_anchors(&self, anchors: TrustAnchors) {
        self.trust_anchors.replace(anchors);
    }

    /// With the global trust anchors read from a FIDO MDS3 BLOB: its per-AAGUID
    /// roots, refused AAGUIDs and metadata ([`TrustAnchors::add_mds3_blob`]),
    /// verified against `mds_root` (the FIDO root the host trusts, PEM or DER) at
    /// `now`. The same as building the anchors with
    /// [`TrustAnchors::add_mds3_blob`] and passing them to
    /// [`EngineConfig::with_trust_anchors`], for a host that holds file contents.
    ///
    /// # Errors
    /// The errors of [`TrustAnchors::add_mds3_blob`], and
    /// [`AttestationError::AnchorMalformed`] when `mds_root` is no certificate.
    pub fn with_mds_blob(
        self,
        blob: &str,
        mds_root: &[u8],
        now: UnixTime,
    ) -> Result<(Self, MdsImport), AttestationError> {
        let (anchors, import) = mds_anchors(blob, mds_root, now)?;
        Ok((self.with_trust_anchors(anchors), import))
    }

    /// [`EngineConfig::with_mds_blob`] at run time: verifies the BLOB and, only if
    /// it is good, puts its anchors in place as
    /// [`EngineConfig::replace_trust_anchors`] does. On error the anchors in place
    /// stay.
    ///
    /// # Errors
    /// As [`EngineConfig::with_mds_blob`].
    pub fn replace_mds_blob(
        &self,
        blob: &str,
        mds_root: &[u8],
        now: UnixTime,
    ) -> Result<MdsImport, AttestationError> {
        let (anchors, import) = mds_anchors(blob, mds_root, now)?;
        self.replace_trust_anchors(anchors);
        Ok(import)
    }

    /// The trust anchors a registration in `service` is checked against *now*:
    /// the service's own, else the current global anchors (after any
    /// [`EngineConfig::replace_trust_anchors`]). Hold the `Arc` for one registration, so
    /// that one ceremony sees one set of anchors.
    #[must_use]
    pub fn trust_anchors(&self, service: ServiceSid) -> Arc<TrustAnchors> {
        self.service_trust_anchors
            .get(&service)
            .map_or_else(|| self.trust_anchors.current(), Arc::clone)
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

/// The anchors and what was imported from an MDS3 BLOB and its root.
fn mds_anchors(
    blob: &str,
    mds_root: &[u8],
    now: UnixTime,
) -> Result<(TrustAnchors, MdsImport), AttestationError> {
    let root = match core::str::from_utf8(mds_root) {
        Ok(text) if text.contains("-----BEGIN") => TrustAnchors::from_pem(text)?,
        _ => TrustAnchors::from_der([mds_root])?,
    };
    let mut anchors = TrustAnchors::new();
    let import = anchors.add_mds3_blob(blob, &root, now)?;
    Ok((anchors, import))
}

/// Attestation trust anchors that can be replaced while they are in use: a cheap
/// clone shares them; `current` hands out the set in place, which stays valid (an
/// `Arc`) for as long as it is held after a `replace`.
#[derive(Clone, Debug, Default)]
struct SharedTrustAnchors(Arc<RwLock<Arc<TrustAnchors>>>);

impl SharedTrustAnchors {
    fn new(anchors: TrustAnchors) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(anchors))))
    }

    fn current(&self) -> Arc<TrustAnchors> {
        match self.0.read() {
            Ok(anchors) => Arc::clone(&anchors),
            // The lock guards one `Arc` swap: poisoning cannot leave it half-written.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts `anchors` in place for every later `current` (a registration already
    /// holding the previous set finishes with it).
    fn replace(&self, anchors: TrustAnchors) {
        let anchors = Arc::new(anchors);
        match self.0.write() {
            Ok(mut current) => *current = anchors,
            Err(poisoned) => *poisoned.into_inner() = anchors,
        }
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
        let global = config.trust_anchors(other);
        assert!(Arc::ptr_eq(
            &global,
            &config.trust_anchors(ServiceSid::from_bytes([3; 16]))
        ));
        assert!(!Arc::ptr_eq(&global, &config.trust_anchors(ours)));
        // Clones share the anchors.
        let cloned = config.clone();
        assert!(Arc::ptr_eq(
            &cloned.trust_anchors(ours),
            &config.trust_anchors(ours)
        ));
        assert!(Arc::ptr_eq(&cloned.trust_anchors(other), &global));
    }

    #[test]
    fn shared_trust_anchors_are_replaced_for_every_clone_but_not_per_service_ones() {
        let (ours, other) = (
            ServiceSid::from_bytes([1; 16]),
            ServiceSid::from_bytes([2; 16]),
        );
        let config = EngineConfig::default()
            .with_trust_anchors(TrustAnchors::new())
            .with_service_trust_anchors(ours, TrustAnchors::new());
        let cloned = config.clone();
        let before = config.trust_anchors(other);
        assert_eq!(before.refusal(&[7; 16]), None);
        let mut refusing = TrustAnchors::new();
        refusing.refuse_aaguid([7; 16]);
        cloned.replace_trust_anchors(refusing);
        for config in [&config, &cloned] {
            assert!(config.trust_anchors(other).refusal(&[7; 16]).is_some());
            assert!(config.trust_anchors(ours).refusal(&[7; 16]).is_none());
        }
        // A bad BLOB replaces nothing.
        assert!(
            config
                .replace_mds_blob("a.b.c", b"junk", UnixTime::from_secs(0))
                .is_err()
        );
        assert!(config.trust_anchors(other).refusal(&[7; 16]).is_some());
        // A set already handed out is unchanged.
        assert_eq!(before.refusal(&[7; 16]), None);
    }
}
