//! Signature verification behind one small trait, with two backends.
//!
//! Every signature verify-webauthn checks (assertions, attestation statements,
//! certificate chains) goes through [`VerifyingKey`], which wraps the key type of the
//! backend chosen at build time:
//!
//! | feature | backend | algorithms |
//! |---|---|---|
//! | `rustcrypto` (default) | `RustCrypto` (feature `rustcrypto`): p256, p384, p521, ed25519-dalek, rsa | all |
//! | `ring` | `Ring` (feature `ring`): ring, several times faster | all; P-521 delegates to RustCrypto (ring has no P-521) |
//!
//! With both features, `ring` is the default backend; both stay usable by name, so tests
//! run every case through each. A key is parsed once (`VerifyingKey::new`) into the
//! backend's own type and then verifies any number of messages.
//!
//! Signature encodings are WebAuthn's: ECDSA signatures are ASN.1 DER `Ecdsa-Sig-Value`,
//! Ed25519 signatures are the raw 64 bytes, RSA signatures are the raw modulus-sized
//! integer.

#[cfg(not(any(feature = "rustcrypto", feature = "ring")))]
compile_error!("verify-webauthn needs a signature backend: enable feature `rustcrypto` or `ring`");

use std::fmt;

#[cfg(feature = "ring")]
mod ring_backend;
mod rustcrypto_backend;

#[cfg(feature = "ring")]
pub use ring_backend::{Ring, RingKey};
#[cfg(feature = "rustcrypto")]
pub use rustcrypto_backend::RustCrypto;
pub use rustcrypto_backend::RustCryptoKey;

/// The smallest RSA modulus accepted, in bits (NIST SP 800-131A; ring's floor).
pub const RSA_MIN_MODULUS_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits (ring's ceiling; bounds the work an
/// attacker-chosen key can cost).
pub const RSA_MAX_MODULUS_BITS: usize = 8192;
/// The largest RSA public exponent accepted: 2^33 - 1 (as ring and the rsa crate).
pub const RSA_MAX_PUBLIC_EXPONENT: u64 = (1 << 33) - 1;

/// The backend [`VerifyingKey`] uses: `Ring` (feature `ring`) when the `ring` feature is on, else
/// `RustCrypto`.
#[cfg(feature = "ring")]
pub type DefaultBackend = Ring;
/// The backend [`VerifyingKey`] uses: `Ring` (feature `ring`) when the `ring` feature is on, else
/// `RustCrypto`.
#[cfg(not(feature = "ring"))]
pub type DefaultBackend = RustCrypto;

/// A signature algorithm, named by its COSE identifier (IANA "COSE Algorithms").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA with SHA-256 on P-256 (COSE -7).
    Es256,
    /// ECDSA with SHA-384 on P-384 (COSE -35).
    Es384,
    /// ECDSA with SHA-512 on P-521 (COSE -36).
    Es512,
    /// EdDSA on Ed25519 (COSE -8).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (COSE -257).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (COSE -258).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (COSE -259).
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (COSE -37).
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1-SHA-384 (COSE -38).
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1-SHA-512 (COSE -39).
    Ps512,
    /// RSASSA-PKCS1-v1_5 with SHA-1 (COSE -65535): only in attestation statements and
    /// certificates of older TPMs, never accepted for a credential key.
    Rs1,
    /// ECDSA with SHA-256 on P-384, which appears only in X.509 certificate signatures
    /// (`ecdsa-with-SHA256` by a P-384 issuer); no COSE identifier.
    Es256P384,
    /// ECDSA with SHA-384 on P-256, for X.509 certificate signatures only; no COSE
    /// identifier.
    Es384P256,
}

impl SignatureAlgorithm {
    /// The algorithm a COSE identifier names, if verify supports it.
    #[must_use]
    pub const fn from_cose(identifier: i64) -> Option<Self> {
        Some(match identifier {
            -7 => Self::Es256,
            -35 => Self::Es384,
            -36 => Self::Es512,
            -8 => Self::EdDsa,
            -257 => Self::Rs256,
            -258 => Self::Rs384,
            -259 => Self::Rs512,
            -37 => Self::Ps256,
            -38 => Self::Ps384,
            -39 => Self::Ps512,
            -65535 => Self::Rs1,
            _ => return None,
        })
    }

    /// The COSE identifier, or `None` for the certificate-only combinations.
    #[must_use]
    pub const fn cose(self) -> Option<i64> {
        Some(match self {
            Self::Es256 => -7,
            Self::Es384 => -35,
            Self::Es512 => -36,
            Self::EdDsa => -8,
            Self::Rs256 => -257,
            Self::Rs384 => -258,
            Self::Rs512 => -259,
            Self::Ps256 => -37,
            Self::Ps384 => -38,
            Self::Ps512 => -39,
            Self::Rs1 => -65535,
            Self::Es256P384 | Self::Es384P256 => return None,
        })
    }

    /// The curve this algorithm's keys must be on, for ECDSA algorithms.
    #[must_use]
    pub const fn ec_curve(self) -> Option<EcCurve> {
        match self {
            Self::Es256 | Self::Es384P256 => Some(EcCurve::P256),
            Self::Es384 | Self::Es256P384 => Some(EcCurve::P384),
            Self::Es512 => Some(EcCurve::P521),
            _ => None,
        }
    }

    /// The hash function the algorithm signs with.
    #[must_use]
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::Es256 | Self::EdDsa | Self::Rs256 | Self::Ps256 | Self::Es256P384 => {
                HashAlgorithm::Sha256
            }
            Self::Es384 | Self::Rs384 | Self::Ps384 | Self::Es384P256 => HashAlgorithm::Sha384,
            Self::Es512 | Self::Rs512 | Self::Ps512 => HashAlgorithm::Sha512,
            Self::Rs1 => HashAlgorithm::Sha1,
        }
    }

    /// Whether this algorithm is RSASSA-PSS.
    #[must_use]
    pub const fn is_pss(self) -> bool {
        matches!(self, Self::Ps256 | Self::Ps384 | Self::Ps512)
    }

    /// The algorithm's name as in the IANA COSE registry (`"ES256"`, `"EdDSA"`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Rs1 => "RS1",
            Self::Es256P384 => "ecdsa-with-SHA256/P-384",
            Self::Es384P256 => "ecdsa-with-SHA384/P-256",
        }
    }

    /// Whether this algorithm takes an RSA key.
    #[must_use]
    pub const fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::Rs256
                | Self::Rs384
                | Self::Rs512
                | Self::Ps256
                | Self::Ps384
                | Self::Ps512
                | Self::Rs1
        )
    }
}

/// A hash function used by a signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1 (legacy TPM attestation only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Hashes `message`, without allocating.
    #[must_use]
    pub fn digest(self, message: &[u8]) -> Digest {
        use sha2::Digest as _;
        let mut bytes = [0_u8; 64];
        let len = match self {
            Self::Sha1 => copy_digest(&mut bytes, &sha1::Sha1::digest(message)),
            Self::Sha256 => copy_digest(&mut bytes, &sha2::Sha256::digest(message)),
            Self::Sha384 => copy_digest(&mut bytes, &sha2::Sha384::digest(message)),
            Self::Sha512 => copy_digest(&mut bytes, &sha2::Sha512::digest(message)),
        };
        Digest { bytes, len }
    }
}

fn copy_digest(out: &mut [u8; 64], digest: &[u8]) -> usize {
    for (o, d) in out.iter_mut().zip(digest) {
        *o = *d;
    }
    digest.len().min(64)
}

/// A message digest of up to 64 bytes, on the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    bytes: [u8; 64],
    len: usize,
}

impl std::ops::Deref for Digest {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// `04 || x || y` when both coordinates have the curve's exact length.
pub(crate) fn sec1_uncompressed(curve: EcCurve, x: &[u8], y: &[u8]) -> Option<Vec<u8>> {
    let len = curve.coordinate_len();
    if x.len() != len || y.len() != len {
        return None;
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    Some(point)
}

/// Strips leading zero bytes from RSA components and applies the shared acceptance
/// rules, so both backends accept exactly the same keys: modulus odd and
/// [`RSA_MIN_MODULUS_BITS`]..=[`RSA_MAX_MODULUS_BITS`] bits long; exponent odd and in
/// 3..=[`RSA_MAX_PUBLIC_EXPONENT`].
pub(crate) fn checked_rsa_components<'a>(
    algorithm: SignatureAlgorithm,
    n: &'a [u8],
    e: &'a [u8],
) -> Result<(&'a [u8], &'a [u8]), CryptoError> {
    let invalid = CryptoError::InvalidKey { algorithm };
    let strip = |bytes: &'a [u8]| -> &'a [u8] {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes.get(start..).unwrap_or(&[])
    };
    let (n, e) = (strip(n), strip(e));
    let (Some(first), Some(last)) = (n.first(), n.last()) else {
        return Err(invalid);
    };
    let leading = usize::try_from(first.leading_zeros()).map_err(|_| invalid)?;
    let bits = n.len().saturating_mul(8).saturating_sub(leading);
    if !(RSA_MIN_MODULUS_BITS..=RSA_MAX_MODULUS_BITS).contains(&bits) || last & 1 == 0 {
        return Err(invalid);
    }
    if e.len() > 8 {
        return Err(invalid);
    }
    let exponent = e.iter().fold(0_u64, |acc, b| (acc << 8) | u64::from(*b));
    if !(3..=RSA_MAX_PUBLIC_EXPONENT).contains(&exponent) || exponent & 1 == 0 {
        return Err(invalid);
    }
    Ok((n, e))
}

/// An elliptic curve for ECDSA keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256 (secp256r1), COSE crv 1.
    P256,
    /// NIST P-384 (secp384r1), COSE crv 2.
    P384,
    /// NIST P-521 (secp521r1), COSE crv 3.
    P521,
}

impl EcCurve {
    /// The byte length of one affine coordinate.
    #[must_use]
    pub const fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// A public key as its raw components, before a backend parses it.
///
/// Borrowed from wherever it was decoded (a COSE key, a certificate's
/// SubjectPublicKeyInfo, a TPM `pubArea`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyMaterial<'a> {
    /// An EC point by its affine coordinates, each exactly
    /// [`EcCurve::coordinate_len`] bytes, big-endian.
    Ec {
        /// The curve.
        curve: EcCurve,
        /// The x coordinate.
        x: &'a [u8],
        /// The y coordinate.
        y: &'a [u8],
    },
    /// An Ed25519 public key: 32 bytes.
    Ed25519 {
        /// The encoded point.
        x: &'a [u8],
    },
    /// An RSA public key by modulus and public exponent, big-endian, no sign byte
    /// required.
    Rsa {
        /// The modulus n.
        n: &'a [u8],
        /// The public exponent e.
        e: &'a [u8],
    },
}

/// Why a key could not be used or a signature did not verify.
///
/// Deliberately coarse: a failed verification says nothing about why, so it cannot
/// serve as an oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The key's type does not match the algorithm (an RSA key for ES256, a P-384 key
    /// for ES256, ...).
    #[error("the key type does not match the algorithm {algorithm:?}")]
    KeyAlgorithmMismatch {
        /// The algorithm the key was to be used with.
        algorithm: SignatureAlgorithm,
    },
    /// The key is malformed: a point not on its curve, wrong coordinate length, an RSA
    /// modulus outside the accepted sizes, ...
    #[error("the public key is malformed or unacceptable for {algorithm:?}")]
    InvalidKey {
        /// The algorithm the key was to be used with.
        algorithm: SignatureAlgorithm,
    },
    /// The signature did not verify.
    #[error("signature verification failed")]
    SignatureInvalid,
}

/// A signature-verification backend: parses a key once, then verifies messages.
///
/// Implementations must never panic, whatever bytes they are given.
pub trait Backend: fmt::Debug + Send + Sync + 'static {
    /// The backend's parsed key.
    type Key: fmt::Debug + Clone + Send + Sync + 'static;

    /// Parses `material` as a key for `algorithm`.
    ///
    /// # Errors
    /// [`CryptoError::KeyAlgorithmMismatch`] or [`CryptoError::InvalidKey`].
    fn parse_key(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<Self::Key, CryptoError>;

    /// Verifies `signature` over `message` with `key`.
    ///
    /// # Errors
    /// [`CryptoError::SignatureInvalid`] when the signature does not verify (including
    /// when it is malformed).
    fn verify(key: &Self::Key, message: &[u8], signature: &[u8]) -> Result<(), CryptoError>;
}

/// A parsed public key bound to one algorithm, on the [`DefaultBackend`].
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    algorithm: SignatureAlgorithm,
    key: <DefaultBackend as Backend>::Key,
}

impl VerifyingKey {
    /// Parses `material` once for use with `algorithm`.
    ///
    /// # Errors
    /// [`CryptoError::KeyAlgorithmMismatch`] or [`CryptoError::InvalidKey`].
    pub fn new(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            algorithm,
            key: DefaultBackend::parse_key(algorithm, material)?,
        })
    }

    /// The algorithm this key verifies.
    #[must_use]
    pub const fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Verifies `signature` over `message`.
    ///
    /// # Errors
    /// [`CryptoError::SignatureInvalid`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        DefaultBackend::verify(&self.key, message, signature)
    }
}

#[cfg(test)]
mod tests;
