//! X.509 for attestation: bounded parsing, public keys, signature algorithms,
//! validity at `now`, chain checks and the extensions the formats need.
//!
//! Certificates are parsed with `x509-cert` (strict DER); the signed `tbsCertificate`
//! bytes are taken from the input as received, never re-serialized from the parsed
//! value. Every certificate signature is checked through
//! [`crate::crypto::VerifyingKey`], so both backends are exercised.

use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged as _};
use x509_cert::Certificate;
use x509_cert::ext::Extension;

use super::AttestationError;
use crate::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm, VerifyingKey};

/// The largest certificate accepted, in bytes.
pub(crate) const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// The most certificates accepted in one `x5c`.
pub(crate) const MAX_CHAIN_LEN: usize = 8;

/// id-ecPublicKey.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_RSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// basicConstraints.
pub(crate) const OID_BASIC_CONSTRAINTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.19");
/// subjectAltName.
pub(crate) const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// keyUsage.
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// extKeyUsage.
pub(crate) const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// id-fido-gen-ce-aaguid.
pub(crate) const OID_FIDO_AAGUID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// Subject attribute types.
pub(crate) const OID_COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// organizationName.
pub(crate) const OID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// organizationalUnitName.
pub(crate) const OID_ORGANIZATIONAL_UNIT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.4.11");
/// commonName.
pub(crate) const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Where SHA-1 certificate signatures (sha1WithRSAEncryption) are accepted.
///
/// Only in `tpm` chains: TPM AIK and EK certificate chains of older TPMs and their
/// manufacturers' CAs are signed with SHA-1, and `tpm` is the one format whose
/// statement `alg` includes RS1 (COSE -65535) for the same TPMs. Everywhere else
/// (packed, fido-u2f, apple, android-key, android-safetynet, MDS BLOB chains, and the
/// link to an anchor) a SHA-1 signature is
/// [`AttestationError::CertificateSignatureAlgorithmUnsupported`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sha1 {
    /// Refused.
    Refused,
    /// Accepted: a `tpm` chain.
    Tpm,
}

impl Sha1 {
    /// The rule for `format`'s chains.
    pub(crate) const fn for_format(format: super::AttestationFormat) -> Self {
        match format {
            super::AttestationFormat::Tpm => Self::Tpm,
            _ => Self::Refused,
        }
    }
}

/// A parsed certificate that keeps the bytes it was parsed from.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    der: Vec<u8>,
    tbs: Vec<u8>,
    cert: Certificate,
    /// basicConstraints, decoded once at parse time (a malformed one fails the parse,
    /// so "absent" here means absent).
    basic_constraints: Option<x509_cert::ext::pkix::BasicConstraints>,
    /// keyUsage, likewise.
    key_usage: Option<x509_cert::ext::pkix::KeyUsage>,
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Cert {}

impl Cert {
    /// Parses one DER certificate (bounded; no trailing bytes). `index` is only used in
    /// errors.
    pub(crate) fn parse(der: &[u8], index: usize) -> Result<Self, AttestationError> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(AttestationError::CertificateTooLarge {
                index,
                len: der.len(),
                max: MAX_CERTIFICATE_LEN,
            });
        }
        let malformed = |_| AttestationError::CertificateMalformed { index };
        let cert = Certificate::from_der(der).map_err(malformed)?;
        let tbs = raw_tbs(der).map_err(malformed)?;
        check_extensions(&cert, index)?;
        let basic_constraints = decode_extension(&cert, OID_BASIC_CONSTRAINTS, index)?;
        let key_usage = decode_extension(&cert, OID_KEY_USAGE, index)?;
        Ok(Self {
            der: der.to_vec(),
            tbs,
            cert,
            basic_constraints,
            key_usage,
        })
    }

    /// The certificate as received.
    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    /// The X.509 version number (1, 2 or 3).
    pub(crate) fn version(&self) -> u8 {
        match self.cert.tbs_certificate.version {
            x509_cert::Version::V1 => 1,
            x509_cert::Version::V2 => 2,
            x509_cert::Version::V3 => 3,
        }
    }

    /// The subject public key as raw components.
    pub(crate) fn public_key(&self) -> Option<PublicKeyMaterial<'_>> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let bits = spki.subject_public_key.as_bytes()?;
        let oid = spki.algorithm.oid;
        if oid == OID_EC_PUBLIC_KEY {
            let params = spki.algorithm.parameters.as_ref()?;
            let curve_oid: ObjectIdentifier = params.decode_as().ok()?;
            let curve = if curve_oid == OID_P256 {
                EcCurve::P256
            } else if curve_oid == OID_P384 {
                EcCurve::P384
            } else if curve_oid == OID_P521 {
                EcCurve::P521
            } else {
                return None;
            };
            let point = bits.strip_prefix(&[0x04])?;
            let len = curve.coordinate_len();
            if point.len() != len.checked_mul(2)? {
                return None;
            }
            let (x, y) = point.split_at_checked(len)?;
            Some(PublicKeyMaterial::Ec { curve, x, y })
        } else if oid == OID_RSA {
            let (n, e) = rsa_public_key(bits)?;
            Some(PublicKeyMaterial::Rsa { n, e })
        } else if oid == OID_ED25519 {
            if spki.algorithm.parameters.is_some() || bits.len() != 32 {
                return None;
            }
            Some(PublicKeyMaterial::Ed25519 { x: bits })
        } else {
            None
        }
    }

    /// Checks notBefore <= now <= notAfter.
    pub(crate) fn check_validity(
        &self,
        now: verify_model::UnixTime,
        index: usize,
    ) -> Result<(), AttestationError> {
        let validity = &self.cert.tbs_certificate.validity;
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        let now = now.as_secs();
        if now < not_before {
            return Err(AttestationError::CertificateNotYetValid {
                index,
                not_before,
                now,
            });
        }
        if now > not_after {
            return Err(AttestationError::CertificateExpired {
                index,
                not_after,
                now,
            });
        }
        Ok(())
    }

    /// Whether `now` is inside the validity period.
    pub(crate) fn is_valid_at(&self, now: verify_model::UnixTime) -> bool {
        self.check_validity(now, 0).is_ok()
    }

    /// The extension with `oid`, if present exactly once (a repeated extension is
    /// treated as malformed: `Err`).
    pub(crate) fn extension(&self, oid: ObjectIdentifier) -> Result<Option<&Extension>, ()> {
        let mut found = None;
        for ext in self.cert.tbs_certificate.extensions.iter().flatten() {
            if ext.extn_id == oid {
                if found.is_some() {
                    return Err(());
                }
                found = Some(ext);
            }
        }
        Ok(found)
    }

    /// basicConstraints cA, `None` when the extension is absent (a malformed or
    /// repeated one never gets this far: [`Cert::parse`] refuses it).
    pub(crate) fn basic_constraints_ca(&self) -> Option<bool> {
        self.basic_constraints.as_ref().map(|bc| bc.ca)
    }

    /// The first critical extension verify does not process (RFC 5280 4.2: such a
    /// certificate must be rejected).
    pub(crate) fn unknown_critical_extension(&self) -> Option<String> {
        const KNOWN: [&str; 8] = [
            "2.5.29.14",               // subjectKeyIdentifier
            "2.5.29.15",               // keyUsage
            "2.5.29.17",               // subjectAltName (critical in TPM AIK certificates)
            "2.5.29.19",               // basicConstraints
            "2.5.29.32",               // certificatePolicies (no policy is required by verify)
            "2.5.29.35",               // authorityKeyIdentifier
            "2.5.29.37",               // extKeyUsage
            "1.3.6.1.4.1.45724.1.1.4", // id-fido-gen-ce-aaguid (checked: must not be critical)
        ];
        self.cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|ext| ext.critical)
            .map(|ext| ext.extn_id.to_string())
            .find(|oid| !KNOWN.contains(&oid.as_str()))
    }

    /// For trust anchors: the host vouches for the anchor's key, so a root without
    /// basicConstraints or keyUsage is accepted (as RFC 5280 6.1 treats anchors), but
    /// constraints it does state are honoured.
    pub(crate) fn may_issue_as_anchor(&self, depth: usize) -> bool {
        let unconstrained = self.basic_constraints.is_none() && self.key_usage.is_none();
        unconstrained || self.may_issue(depth)
    }

    /// Whether this certificate may issue the certificate `depth` intermediates below
    /// it (0: directly issues the leaf): a CA by basicConstraints, within its
    /// pathLenConstraint, and with keyCertSign when it has a keyUsage extension
    /// (RFC 5280 4.2.1.3, 4.2.1.9).
    pub(crate) fn may_issue(&self, depth: usize) -> bool {
        let Some(bc) = self.basic_constraints.as_ref() else {
            return false;
        };
        if !bc.ca
            || bc
                .path_len_constraint
                .is_some_and(|max| depth > usize::from(max))
        {
            return false;
        }
        self.key_usage.is_none_or(|ku| ku.key_cert_sign())
    }

    /// The string values of subject attributes of type `oid`.
    pub(crate) fn subject_values(&self, oid: ObjectIdentifier) -> Vec<&str> {
        name_values(&self.cert.tbs_certificate.subject, oid)
    }

    /// Whether the subject is the empty sequence.
    pub(crate) fn subject_is_empty(&self) -> bool {
        self.cert.tbs_certificate.subject.0.is_empty()
    }

    /// Verifies that this certificate is signed by `issuer`'s key and names `issuer`'s
    /// subject as its issuer. `index` names this certificate in errors.
    ///
    /// `sha1` says whether sha1WithRSAEncryption is accepted ([`Sha1::Tpm`] only).
    pub(crate) fn verify_issued_by(
        &self,
        issuer: &Self,
        index: usize,
        sha1: Sha1,
    ) -> Result<(), AttestationError> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(AttestationError::ChainSignatureInvalid { index });
        }
        let issuer_key =
            issuer
                .public_key()
                .ok_or(AttestationError::CertificateKeyUnsupported {
                    index: index.saturating_add(1),
                })?;
        let algorithm = self.signature_algorithm(&issuer_key, index, sha1)?;
        let key = VerifyingKey::new(algorithm, &issuer_key)
            .map_err(|_| AttestationError::ChainSignatureInvalid { index })?;
        // Some early U2F attestation certificates are reported to declare unused bits
        // in the signature BIT STRING although the octets are the whole signature; take
        // the octets as they are. The signature is verified either way, so this only
        // tolerates a mis-declared bit count, never a wrong signature.
        let signature = self.cert.signature.raw_bytes();
        key.verify(&self.tbs, signature)
            .map_err(|_| AttestationError::ChainSignatureInvalid { index })
    }

    /// The algorithm to verify this certificate's signature with, given its issuer's key.
    fn signature_algorithm(
        &self,
        issuer_key: &PublicKeyMaterial<'_>,
        index: usize,
        sha1: Sha1,
    ) -> Result<SignatureAlgorithm, AttestationError> {
        let alg = &self.cert.signature_algorithm;
        // The outer and inner (signed) algorithm identifiers must agree (RFC 5280 4.1.1.2).
        if alg != &self.cert.tbs_certificate.signature {
            return Err(AttestationError::CertificateMalformed { index });
        }
        let unsupported = || AttestationError::CertificateSignatureAlgorithmUnsupported {
            index,
            oid: alg.oid.to_string(),
        };
        let oid = alg.oid;
        let curve = match issuer_key {
            PublicKeyMaterial::Ec { curve, .. } => Some(*curve),
            _ => None,
        };
        let rsa = matches!(issuer_key, PublicKeyMaterial::Rsa { .. });
        let ed = matches!(issuer_key, PublicKeyMaterial::Ed25519 { .. });
        let ecdsa = oid == OID_ECDSA_SHA256 || oid == OID_ECDSA_SHA384 || oid == OID_ECDSA_SHA512;
        if ecdsa || oid == OID_ED25519 {
            // ECDSA and Ed25519 AlgorithmIdentifiers carry no parameters (RFC 5758, 8410).
            if alg.parameters.is_some() {
                return Err(unsupported());
            }
        } else if oid != OID_RSA_PSS {
            // PKCS#1 v1.5: parameters NULL or (tolerated) absent.
            if alg.parameters.as_ref().is_some_and(|p| !p.is_null()) {
                return Err(unsupported());
            }
        }
        let chosen = match (curve, oid) {
            (Some(EcCurve::P256), o) if o == OID_ECDSA_SHA256 => SignatureAlgorithm::Es256,
            (Some(EcCurve::P256), o) if o == OID_ECDSA_SHA384 => SignatureAlgorithm::Es384P256,
            (Some(EcCurve::P384), o) if o == OID_ECDSA_SHA384 => SignatureAlgorithm::Es384,
            (Some(EcCurve::P384), o) if o == OID_ECDSA_SHA256 => SignatureAlgorithm::Es256P384,
            (Some(EcCurve::P521), o) if o == OID_ECDSA_SHA512 => SignatureAlgorithm::Es512,
            (None, o) if rsa && o == OID_RSA_SHA256 => SignatureAlgorithm::Rs256,
            (None, o) if rsa && o == OID_RSA_SHA384 => SignatureAlgorithm::Rs384,
            (None, o) if rsa && o == OID_RSA_SHA512 => SignatureAlgorithm::Rs512,
            (None, o) if rsa && o == OID_RSA_SHA1 && sha1 == Sha1::Tpm => SignatureAlgorithm::Rs1,
            (None, o) if rsa && o == OID_RSA_PSS => {
                let params = alg.parameters.as_ref().ok_or_else(unsupported)?;
                let params = params.to_der().map_err(|_| unsupported())?;
                standard_pss(&params).ok_or_else(unsupported)?
            }
            (None, o) if ed && o == OID_ED25519 => SignatureAlgorithm::EdDsa,
            _ => return Err(unsupported()),
        };
        Ok(chosen)
    }
}

/// RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
/// particular extension." Every extension verify reads is also decoded strictly here,
/// so that a malformed one is a rejection, never "absent".
fn check_extensions(cert: &Certificate, index: usize) -> Result<(), AttestationError> {
    let extensions = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    for (position, ext) in extensions.iter().enumerate() {
        if extensions
            .get(..position)
            .unwrap_or_default()
            .iter()
            .any(|earlier| earlier.extn_id == ext.extn_id)
        {
            return Err(AttestationError::ExtensionRepeated {
                index,
                oid: ext.extn_id.to_string(),
            });
        }
    }
    use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
    decode_extension::<ExtendedKeyUsage>(cert, OID_EXT_KEY_USAGE, index)?;
    decode_extension::<SubjectAltName>(cert, OID_SUBJECT_ALT_NAME, index)?;
    if let Some(ext) = find_extension(cert, OID_FIDO_AAGUID) {
        let valid = OctetString::from_der(ext.extn_value.as_bytes())
            .is_ok_and(|inner| inner.as_bytes().len() == 16);
        if !valid {
            return Err(AttestationError::ExtensionInvalid {
                index,
                oid: OID_FIDO_AAGUID.to_string(),
            });
        }
    }
    Ok(())
}

fn find_extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&Extension> {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == oid)
}

/// Decodes extension `oid` as `T` (strict DER, no trailing bytes), `None` when absent.
fn decode_extension<'c, T: Decode<'c>>(
    cert: &'c Certificate,
    oid: ObjectIdentifier,
    index: usize,
) -> Result<Option<T>, AttestationError> {
    find_extension(cert, oid)
        .map(|ext| {
            T::from_der(ext.extn_value.as_bytes()).map_err(|_| AttestationError::ExtensionInvalid {
                index,
                oid: oid.to_string(),
            })
        })
        .transpose()
}

/// The raw `tbsCertificate` TLV of a certificate, as received.
fn raw_tbs(der: &[u8]) -> der::Result<Vec<u8>> {
    let mut reader = SliceReader::new(der)?;
    let tbs = reader.sequence(|inner| {
        let tbs: AnyRef<'_> = inner.decode()?;
        let _algorithm: AnyRef<'_> = inner.decode()?;
        let _signature: AnyRef<'_> = inner.decode()?;
        Ok(tbs)
    })?;
    reader.finish(())?;
    if tbs.tag() != Tag::Sequence {
        return Err(der::Error::new(der::ErrorKind::Failed, der::Length::ZERO));
    }
    // DER has exactly one encoding of a TLV's header, so re-encoding the header of
    // the raw value reproduces the received bytes.
    tbs.to_der()
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
fn rsa_public_key(bits: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut reader = SliceReader::new(bits).ok()?;
    let (n, e) = reader
        .sequence(|inner| {
            let n: der::asn1::UintRef<'_> = inner.decode()?;
            let e: der::asn1::UintRef<'_> = inner.decode()?;
            Ok((n.as_bytes(), e.as_bytes()))
        })
        .ok()?;
    reader.finish(()).ok()?;
    Some((n, e))
}

/// The DER of the standard RSASSA-PSS-params for one hash (hash and MGF1 hash equal,
/// salt length = hash length, trailer field 1), with and without NULL hash parameters.
fn standard_pss(params: &[u8]) -> Option<SignatureAlgorithm> {
    for (hash, salt, alg) in [
        (OID_SHA256, 32_u8, SignatureAlgorithm::Ps256),
        (OID_SHA384, 48, SignatureAlgorithm::Ps384),
        (OID_SHA512, 64, SignatureAlgorithm::Ps512),
    ] {
        for with_null in [true, false] {
            if pss_params_der(hash, salt, with_null).is_some_and(|p| p == params) {
                return Some(alg);
            }
        }
    }
    None
}

fn pss_params_der(hash: ObjectIdentifier, salt: u8, with_null: bool) -> Option<Vec<u8>> {
    let hash_alg = {
        let mut body = hash.to_der().ok()?;
        if with_null {
            body.extend_from_slice(&[0x05, 0x00]);
        }
        tlv(0x30, &body)?
    };
    let mgf = {
        let mut body = OID_MGF1.to_der().ok()?;
        body.extend_from_slice(&hash_alg);
        tlv(0x30, &body)?
    };
    let mut seq = tlv(0xa0, &hash_alg)?;
    seq.extend(tlv(0xa1, &mgf)?);
    seq.extend(tlv(0xa2, &[0x02, 0x01, salt])?);
    tlv(0x30, &seq)
}

/// A short-form TLV (contents under 128 bytes).
fn tlv(tag: u8, body: &[u8]) -> Option<Vec<u8>> {
    let len = u8::try_from(body.len()).ok().filter(|l| *l < 0x80)?;
    let mut out = vec![tag, len];
    out.extend_from_slice(body);
    Some(out)
}

/// The string values of attributes of type `oid` in a Name.
pub(crate) fn name_values(name: &x509_cert::name::Name, oid: ObjectIdentifier) -> Vec<&str> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid)
        .filter_map(|atv| {
            let tag = atv.value.tag();
            if matches!(
                tag,
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString
            ) {
                core::str::from_utf8(atv.value.value()).ok()
            } else {
                None
            }
        })
        .collect()
}

/// Parses `x5c` (an array of DER certificates, leaf first): bounded count and size.
pub(crate) fn parse_chain(
    format: &'static str,
    x5c: &[ciborium::Value],
) -> Result<Vec<Cert>, AttestationError> {
    if x5c.is_empty() {
        return Err(AttestationError::EmptyCertificateChain { format });
    }
    if x5c.len() > MAX_CHAIN_LEN {
        return Err(AttestationError::TooManyCertificates {
            count: x5c.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    x5c.iter()
        .enumerate()
        .map(|(index, value)| {
            let bytes = value.as_bytes().ok_or(AttestationError::InvalidField {
                format,
                field: "x5c",
            })?;
            Cert::parse(bytes, index)
        })
        .collect()
}

/// Checks the chain in `x5c` order at `now`: every certificate is within its validity,
/// each is issued (name and signature) by the next, and each issuer is a CA with
/// keyCertSign (when it has keyUsage) and a pathLenConstraint that allows its depth.
///
/// This does not decide trust: see [`super::trust::TrustAnchors::chain_is_trusted`].
pub(crate) fn check_chain(
    chain: &[Cert],
    now: verify_model::UnixTime,
    sha1: Sha1,
) -> Result<(), AttestationError> {
    for (index, cert) in chain.iter().enumerate() {
        cert.check_validity(now, index)?;
        if let Some(oid) = cert.unknown_critical_extension() {
            return Err(AttestationError::UnknownCriticalExtension { index, oid });
        }
    }
    for (index, pair) in chain.windows(2).enumerate() {
        let [child, issuer] = pair else {
            continue;
        };
        let issuer_index = index.saturating_add(1);
        // `index` intermediates sit between this issuer and the leaf.
        if !issuer.may_issue(index) {
            return Err(AttestationError::IssuerNotCa {
                index: issuer_index,
            });
        }
        child.verify_issued_by(issuer, index, sha1)?;
    }
    Ok(())
}

/// The FIDO AAGUID extension (§8.2.1): when present it must be non-critical and equal
/// authData's AAGUID.
pub(crate) fn check_aaguid_extension(
    format: &'static str,
    cert: &Cert,
    aaguid: &[u8; 16],
) -> Result<(), AttestationError> {
    let malformed = AttestationError::ExtensionMalformed {
        format,
        oid: "1.3.6.1.4.1.45724.1.1.4",
    };
    let Some(ext) = cert
        .extension(OID_FIDO_AAGUID)
        .map_err(|()| malformed.clone())?
    else {
        return Ok(());
    };
    if ext.critical {
        return Err(AttestationError::CertificateRequirement {
            format,
            requirement: "the id-fido-gen-ce-aaguid extension must not be critical",
        });
    }
    let inner = OctetString::from_der(ext.extn_value.as_bytes()).map_err(|_| malformed.clone())?;
    let got: [u8; 16] = inner.as_bytes().try_into().map_err(|_| malformed)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&got[..], &aaguid[..])) {
        return Err(AttestationError::AaguidMismatch {
            certificate: hex_string(&got),
            authenticator_data: hex_string(aaguid),
        });
    }
    Ok(())
}

/// Lower-case hex, for error context.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Whether two keys are the same key (EC coordinates, Ed25519 point, RSA n and e,
/// ignoring leading zero bytes of RSA integers).
pub(crate) fn same_key(a: &PublicKeyMaterial<'_>, b: &PublicKeyMaterial<'_>) -> bool {
    fn trim(bytes: &[u8]) -> &[u8] {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes.get(start..).unwrap_or_default()
    }
    match (a, b) {
        (
            PublicKeyMaterial::Ec {
                curve: c1,
                x: x1,
                y: y1,
            },
            PublicKeyMaterial::Ec {
                curve: c2,
                x: x2,
                y: y2,
            },
        ) => c1 == c2 && x1 == x2 && y1 == y2,
        (PublicKeyMaterial::Ed25519 { x: x1 }, PublicKeyMaterial::Ed25519 { x: x2 }) => x1 == x2,
        (PublicKeyMaterial::Rsa { n: n1, e: e1 }, PublicKeyMaterial::Rsa { n: n2, e: e2 }) => {
            trim(n1) == trim(n2) && trim(e1) == trim(e2)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pss_params_match_the_rfc_4055_encoding() {
        // RFC 4055 section 6 style params for SHA-256 with NULL hash parameters.
        let expected = hex::decode(
            "3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
        )
        .unwrap();
        assert_eq!(standard_pss(&expected), Some(SignatureAlgorithm::Ps256));
        let mut wrong_salt = expected;
        *wrong_salt.last_mut().unwrap() = 0x21;
        assert_eq!(standard_pss(&wrong_salt), None);
    }

    proptest! {
        #[test]
        fn certificate_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(cert) = Cert::parse(&bytes, 0) {
                let _ = cert.public_key();
                let _ = cert.basic_constraints_ca();
            }
        }

        #[test]
        fn rsa_public_key_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = rsa_public_key(&bytes);
        }
    }
}
