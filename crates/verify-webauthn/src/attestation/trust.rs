//! Trust anchors for attestation chains, supplied by the host.
//!
//! verify ships no roots: the host decides which attestation roots it trusts (from a
//! vendor, from the FIDO Metadata Service, from its own fleet) and for what. A root can
//! be added for every format, for one format, or for one AAGUID:
//!
//! ```
//! use verify_webauthn::attestation::{AnchorScope, AttestationFormat, TrustAnchors};
//!
//! let mut anchors = TrustAnchors::new();
//! // Not a certificate: rejected with a typed error, nothing is added.
//! assert!(anchors.add_der(AnchorScope::Format(AttestationFormat::Tpm), b"junk").is_err());
//! assert!(anchors.is_empty());
//! ```

use std::collections::BTreeMap;

use base64::Engine as _;

use super::mds::AuthenticatorMetadata;
use super::x509::{Cert, MAX_CERTIFICATE_LEN, Sha1};
use super::{AttestationError, AttestationFormat};

/// Which attestations a trust anchor vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnchorScope {
    /// Any attestation, whatever its format or AAGUID.
    All,
    /// Attestations of one statement format only.
    Format(AttestationFormat),
    /// Attestations from authenticators with this AAGUID only (as metadata such as FIDO
    /// MDS3 lists roots per AAGUID). Never applies to `fido-u2f`, whose AAGUID is not
    /// covered by the attestation signature.
    Aaguid([u8; 16]),
}

/// The most anchors one `TrustAnchors` holds.
const MAX_ANCHORS: usize = 65_536;

/// Root certificates an attestation chain may end at: for every format, per format,
/// and per AAGUID. No roots are built in.
///
/// A chain is trusted when one of its certificates is an applicable anchor (byte for
/// byte), or its last certificate is issued (name and signature) by an applicable
/// anchor; the anchor itself must be within its validity period at `now`.
///
/// Besides roots, it holds AAGUIDs that are *refused* whatever the attestation
/// ([`TrustAnchors::refuse_aaguid`]; a FIDO MDS3 import adds those with a compromise
/// status report), and per-AAGUID metadata a host may show
/// ([`TrustAnchors::metadata`]).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TrustAnchors {
    anchors: Vec<(AnchorScope, Cert)>,
    /// AAGUID → the status that refuses it.
    refused: BTreeMap<[u8; 16], &'static str>,
    metadata: BTreeMap<[u8; 16], AuthenticatorMetadata>,
}

impl TrustAnchors {
    /// No anchors: every chain is reported untrusted.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Anchors for every format, from DER certificates.
    ///
    /// # Errors
    /// [`AttestationError::AnchorMalformed`] (or `CertificateTooLarge`) naming the
    /// first certificate that does not parse.
    pub fn from_der<'d, I>(roots: I) -> Result<Self, AttestationError>
    where
        I: IntoIterator<Item = &'d [u8]>,
    {
        let mut anchors = Self::new();
        for (index, der) in roots.into_iter().enumerate() {
            anchors.push(AnchorScope::All, der, index)?;
        }
        Ok(anchors)
    }

    /// Anchors for every format, from PEM text holding one or more `CERTIFICATE`
    /// blocks (other blocks are ignored).
    ///
    /// # Errors
    /// [`AttestationError::AnchorMalformed`] when a block is not base64 or not a
    /// certificate, or when the text holds no certificate at all.
    pub fn from_pem(pem: &str) -> Result<Self, AttestationError> {
        let mut anchors = Self::new();
        anchors.add_pem(AnchorScope::All, pem)?;
        Ok(anchors)
    }

    /// Adds one DER root for `scope`.
    ///
    /// # Errors
    /// [`AttestationError::AnchorMalformed`] or `CertificateTooLarge`; nothing is added.
    pub fn add_der(&mut self, scope: AnchorScope, der: &[u8]) -> Result<(), AttestationError> {
        self.push(scope, der, 0)
    }

    /// Adds every `CERTIFICATE` block of `pem` for `scope`, returning how many.
    ///
    /// # Errors
    /// [`AttestationError::AnchorMalformed`] naming the first bad block (or index 0 when
    /// there is no certificate); nothing is added then.
    pub fn add_pem(&mut self, scope: AnchorScope, pem: &str) -> Result<usize, AttestationError> {
        let ders = pem_certificates(pem)?;
        let mut parsed = Vec::with_capacity(ders.len());
        for (index, der) in ders.iter().enumerate() {
            parsed.push(parse_anchor(der, index)?);
        }
        let count = parsed.len();
        if self.anchors.len().saturating_add(count) > MAX_ANCHORS {
            return Err(AttestationError::TooManyCertificates {
                count: self.anchors.len().saturating_add(count),
                max: MAX_ANCHORS,
            });
        }
        self.anchors
            .extend(parsed.into_iter().map(|cert| (scope, cert)));
        Ok(count)
    }

    /// How many anchors there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are no anchors (refused AAGUIDs and metadata aside).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Refuses every registration whose authData names `aaguid`, whatever its
    /// attestation (also `none` and self attestation) and whatever the ceremony's
    /// trust policy, with `AttestationError::MdsCheck {{ check: HOST_REFUSAL_CHECK }}`
    /// ([`super::mds::HOST_REFUSAL_CHECK`]). The all-zero AAGUID ("not known", and
    /// always the AAGUID of `fido-u2f`) cannot be refused: it is ignored.
    ///
    /// The AAGUID of a `none` or self attestation is not vouched for by anyone, so a
    /// refusal only ever fails closed: an authenticator can dodge it by lying about
    /// its AAGUID (it would then also not be trusted), never gain trust through it.
    pub fn refuse_aaguid(&mut self, aaguid: [u8; 16]) {
        self.refuse(aaguid, super::mds::HOST_REFUSAL_CHECK);
    }

    fn refuse(&mut self, aaguid: [u8; 16], check: &'static str) {
        if aaguid != [0; 16] {
            self.refused.entry(aaguid).or_insert(check);
        }
    }

    /// The check a registration naming `aaguid` fails, if it is refused:
    /// [`super::mds::HOST_REFUSAL_CHECK`], or for an MDS3 import one of
    /// [`super::mds::REFUSAL_CHECKS`] (`"AAGUID has no REVOKED status report"`, ...).
    #[must_use]
    pub fn refusal(&self, aaguid: &[u8; 16]) -> Option<&'static str> {
        self.refused.get(aaguid).copied()
    }

    /// How many AAGUIDs are refused.
    #[must_use]
    pub fn refused_len(&self) -> usize {
        self.refused.len()
    }

    /// The metadata an MDS3 import recorded for `aaguid` (its `description` and
    /// `icon`), for a host to show next to a credential.
    ///
    /// Display only: for `none` and self attestation (and whenever the chain was not
    /// trusted) the AAGUID is the authenticator's own unverified claim, so this is
    /// what the authenticator *says* it is. Never derive trust from it; trust is
    /// `attestation_trusted` of the verified registration.
    #[must_use]
    pub fn metadata(&self, aaguid: &[u8; 16]) -> Option<&AuthenticatorMetadata> {
        self.metadata.get(aaguid)
    }

    /// Adds an MDS3 import's refusals and metadata (after its roots were added).
    pub(crate) fn extend_mds(
        &mut self,
        refused: Vec<([u8; 16], &'static str)>,
        metadata: Vec<([u8; 16], AuthenticatorMetadata)>,
    ) {
        for (aaguid, check) in refused {
            self.refuse(aaguid, check);
        }
        self.metadata.extend(metadata);
    }

    fn push(
        &mut self,
        scope: AnchorScope,
        der: &[u8],
        index: usize,
    ) -> Result<(), AttestationError> {
        if self.anchors.len() >= MAX_ANCHORS {
            return Err(AttestationError::TooManyCertificates {
                count: self.anchors.len().saturating_add(1),
                max: MAX_ANCHORS,
            });
        }
        let cert = parse_anchor(der, index)?;
        self.anchors.push((scope, cert));
        Ok(())
    }

    /// Adds pre-parsed anchors, all or nothing.
    pub(crate) fn extend_checked(
        &mut self,
        anchors: Vec<(AnchorScope, Cert)>,
    ) -> Result<(), AttestationError> {
        let count = self.anchors.len().saturating_add(anchors.len());
        if count > MAX_ANCHORS {
            return Err(AttestationError::TooManyCertificates {
                count,
                max: MAX_ANCHORS,
            });
        }
        self.anchors.extend(anchors);
        Ok(())
    }

    /// Whether `chain` reaches any anchor, whatever its scope (for MDS BLOBs).
    pub(crate) fn chain_reaches_any(&self, chain: &[Cert], now: verify_model::UnixTime) -> bool {
        let Some(last) = chain.last() else {
            return false;
        };
        let depth = chain.len().saturating_sub(1);
        self.anchors
            .iter()
            .filter(|(_, anchor)| anchor.is_valid_at(now))
            .any(|(_, anchor)| {
                chain.iter().any(|cert| cert == anchor)
                    || (anchor.may_issue_as_anchor(depth)
                        && last.verify_issued_by(anchor, depth, Sha1::Refused).is_ok())
            })
    }

    /// Whether `chain` (already checked in order by `x509::check_chain`) reaches an
    /// anchor applicable to `format` and `aaguid` at `now`.
    pub(crate) fn chain_is_trusted(
        &self,
        format: AttestationFormat,
        aaguid: &[u8; 16],
        chain: &[Cert],
        now: verify_model::UnixTime,
    ) -> bool {
        let Some(last) = chain.last() else {
            return false;
        };
        self.anchors
            .iter()
            .filter(|(scope, _)| match scope {
                AnchorScope::All => true,
                AnchorScope::Format(f) => *f == format,
                // The AAGUID must be covered by the attestation signature for an
                // AAGUID-scoped root to vouch for it; fido-u2f's is not (§8.6).
                AnchorScope::Aaguid(a) => format_signs_aaguid(format) && a == aaguid,
            })
            .filter(|(_, anchor)| anchor.is_valid_at(now))
            .any(|(_, anchor)| {
                let depth = chain.len().saturating_sub(1);
                chain.iter().any(|cert| cert == anchor)
                    || (anchor.may_issue_as_anchor(depth)
                        && last
                            .verify_issued_by(anchor, depth, Sha1::for_format(format))
                            .is_ok())
            })
    }
}

/// Whether `format`'s attestation signature covers authData's AAGUID: every format
/// signs (or binds through a nonce / extraData) the whole authData, except fido-u2f,
/// whose signed data is rpIdHash, clientDataHash, credentialId and the key (§8.6).
const fn format_signs_aaguid(format: AttestationFormat) -> bool {
    !matches!(format, AttestationFormat::FidoU2f | AttestationFormat::None)
}

fn parse_anchor(der: &[u8], index: usize) -> Result<Cert, AttestationError> {
    Cert::parse(der, index).map_err(|e| match e {
        AttestationError::CertificateTooLarge { .. } => e,
        _ => AttestationError::AnchorMalformed { index },
    })
}

/// The DER bodies of the `CERTIFICATE` blocks of a PEM text.
fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, AttestationError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let index = out.len();
        let malformed = AttestationError::AnchorMalformed { index };
        let after = rest
            .get(start.saturating_add(BEGIN.len())..)
            .ok_or(malformed.clone())?;
        let end = after.find(END).ok_or(malformed.clone())?;
        let body = after.get(..end).ok_or(malformed.clone())?;
        if body.len() > MAX_CERTIFICATE_LEN.saturating_mul(2) {
            return Err(malformed);
        }
        let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| malformed.clone())?;
        out.push(der);
        rest = after
            .get(end.saturating_add(END.len())..)
            .ok_or(malformed)?;
    }
    if out.is_empty() {
        return Err(AttestationError::AnchorMalformed { index: 0 });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_rejected() {
        assert_eq!(
            TrustAnchors::from_pem("no pem here").unwrap_err(),
            AttestationError::AnchorMalformed { index: 0 }
        );
    }

    #[test]
    fn pem_with_bad_base64_is_rejected() {
        let text = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(TrustAnchors::from_pem(text).is_err());
    }

    #[test]
    fn unterminated_pem_is_rejected() {
        let text = "-----BEGIN CERTIFICATE-----\nMAA=\n";
        assert!(TrustAnchors::from_pem(text).is_err());
    }
}
