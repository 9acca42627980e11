//! The `RustCrypto` backend: p256, p384, p521, ed25519-dalek and rsa, pure Rust.
//!
//! [`RustCryptoKey`] is compiled with either feature: the ring backend parses every key
//! through it (so both backends accept exactly the same keys) and verifies P-521 with
//! it (ring has no P-521). The feature `rustcrypto` adds the [`Backend`] named
//! `RustCrypto`, which uses these keys for every algorithm.

use std::fmt;

use ecdsa::signature::hazmat::PrehashVerifier;
use sha2::Digest as _;

#[cfg(feature = "rustcrypto")]
use super::Backend;
use super::{
    CryptoError, EcCurve, HashAlgorithm, PublicKeyMaterial, SignatureAlgorithm,
    checked_rsa_components, sec1_uncompressed,
};

/// The RustCrypto signature backend: p256, p384, p521, ed25519-dalek (strict
/// verification: small-order keys and non-canonical signatures are rejected) and rsa
/// (PKCS#1 v1.5 and PSS with salt length equal to the hash length).
#[cfg(feature = "rustcrypto")]
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct RustCrypto;

/// A key parsed by the pure-Rust crates (the `RustCrypto` backend's key type).
#[derive(Clone, Debug)]
pub struct RustCryptoKey(Inner);

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey, HashAlgorithm),
    P384(p384::ecdsa::VerifyingKey, HashAlgorithm),
    P521(p521::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<RsaKey>),
}

#[derive(Clone, Debug)]
struct RsaKey {
    key: rsa::RsaPublicKey,
    hash: HashAlgorithm,
    pss: bool,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::P256(key, hash) => f.debug_tuple("P256").field(key).field(hash).finish(),
            Self::P384(key, hash) => f.debug_tuple("P384").field(key).field(hash).finish(),
            Self::P521(key) => f
                .debug_tuple("P521")
                .field(&key.to_encoded_point(false))
                .finish(),
            Self::Ed25519(key) => f.debug_tuple("Ed25519").field(key).finish(),
            Self::Rsa(key) => f.debug_tuple("Rsa").field(key).finish(),
        }
    }
}

impl RustCryptoKey {
    pub(super) fn parse(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<Self, CryptoError> {
        let mismatch = CryptoError::KeyAlgorithmMismatch { algorithm };
        let invalid = CryptoError::InvalidKey { algorithm };
        let hash = algorithm.hash();
        let inner = match (algorithm, material) {
            (SignatureAlgorithm::EdDsa, PublicKeyMaterial::Ed25519 { x }) => {
                let bytes: &[u8; 32] = (*x).try_into().map_err(|_| invalid)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| invalid)?;
                if key.is_weak() {
                    return Err(invalid);
                }
                Inner::Ed25519(key)
            }
            (_, PublicKeyMaterial::Ec { curve, x, y }) => {
                if algorithm.ec_curve() != Some(*curve) {
                    return Err(mismatch);
                }
                let point = sec1_uncompressed(*curve, x, y).ok_or(invalid)?;
                match curve {
                    EcCurve::P256 => Inner::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| invalid)?,
                        hash,
                    ),
                    EcCurve::P384 => Inner::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| invalid)?,
                        hash,
                    ),
                    EcCurve::P521 => Inner::P521(
                        p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| invalid)?,
                    ),
                }
            }
            (_, PublicKeyMaterial::Rsa { n, e }) if algorithm.is_rsa() => {
                let (n, e) = checked_rsa_components(algorithm, n, e)?;
                let key = rsa::RsaPublicKey::new_with_max_size(
                    rsa::BigUint::from_bytes_be(n),
                    rsa::BigUint::from_bytes_be(e),
                    super::RSA_MAX_MODULUS_BITS,
                )
                .map_err(|_| invalid)?;
                Inner::Rsa(Box::new(RsaKey {
                    key,
                    hash,
                    pss: algorithm.is_pss(),
                }))
            }
            _ => return Err(mismatch),
        };
        Ok(Self(inner))
    }

    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let bad = CryptoError::SignatureInvalid;
        match &self.0 {
            Inner::P256(key, hash) => {
                let der = p256::ecdsa::DerSignature::try_from(signature).map_err(|_| bad)?;
                let sig = p256::ecdsa::Signature::try_from(der).map_err(|_| bad)?;
                key.verify_prehash(&hash.digest(message), &sig)
                    .map_err(|_| bad)
            }
            Inner::P384(key, hash) => {
                let der = p384::ecdsa::DerSignature::try_from(signature).map_err(|_| bad)?;
                let sig = p384::ecdsa::Signature::try_from(der).map_err(|_| bad)?;
                key.verify_prehash(&hash.digest(message), &sig)
                    .map_err(|_| bad)
            }
            Inner::P521(key) => {
                let der = ecdsa::der::Signature::<p521::NistP521>::try_from(signature)
                    .map_err(|_| bad)?;
                let sig = p521::ecdsa::Signature::try_from(der).map_err(|_| bad)?;
                key.verify_prehash(&sha2::Sha512::digest(message), &sig)
                    .map_err(|_| bad)
            }
            Inner::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad)?;
                key.verify_strict(message, &sig).map_err(|_| bad)
            }
            Inner::Rsa(rsa_key) => {
                let digest = rsa_key.hash.digest(message);
                let result = if rsa_key.pss {
                    let scheme = match rsa_key.hash {
                        HashAlgorithm::Sha256 => rsa::Pss::new::<sha2::Sha256>(),
                        HashAlgorithm::Sha384 => rsa::Pss::new::<sha2::Sha384>(),
                        HashAlgorithm::Sha512 => rsa::Pss::new::<sha2::Sha512>(),
                        HashAlgorithm::Sha1 => return Err(bad),
                    };
                    rsa_key.key.verify(scheme, &digest, signature)
                } else {
                    let scheme = match rsa_key.hash {
                        HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                        HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                        HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                        HashAlgorithm::Sha1 => rsa::Pkcs1v15Sign {
                            hash_len: Some(20),
                            prefix: SHA1_DIGEST_INFO_PREFIX.into(),
                        },
                    };
                    rsa_key.key.verify(scheme, &digest, signature)
                };
                result.map_err(|_| bad)
            }
        }
    }
}

/// The DER `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2 note 1).
const SHA1_DIGEST_INFO_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

#[cfg(feature = "rustcrypto")]
impl Backend for RustCrypto {
    type Key = RustCryptoKey;

    fn parse_key(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<Self::Key, CryptoError> {
        RustCryptoKey::parse(algorithm, material)
    }

    fn verify(key: &Self::Key, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        key.verify(message, signature)
    }
}
