//! The [`Ring`] backend: ring for P-256/P-384 ECDSA, Ed25519 and RSA; RustCrypto for
//! P-521, which ring lacks.

use ring::signature::{self as rs, UnparsedPublicKey};

use super::{
    Backend, CryptoError, EcCurve, PublicKeyMaterial, RustCryptoKey, SignatureAlgorithm,
    checked_rsa_components, sec1_uncompressed,
};

/// The ring signature backend.
///
/// ring offers no parsed public-key type for verification, so a key is validated once
/// when it is parsed (the EC point on its curve, the Ed25519 point not of small order,
/// the RSA components within bounds) and kept in its encoded form; ring re-reads that
/// encoding, cheaply, on each verification. P-521 keys are RustCrypto keys.
///
/// One known difference from the `RustCrypto` backend: for Ed25519 signatures,
/// ring rejects a non-canonical `S` but, unlike ed25519-dalek's `verify_strict`, does
/// not reject a small-order `R`; such a signature can only be made by the key holder,
/// so it cannot forge, but the two backends are not bit-for-bit identical there.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Ring;

/// A key parsed by the [`Ring`] backend.
#[derive(Clone, Debug)]
pub struct RingKey(Inner);

#[derive(Clone, Debug)]
enum Inner {
    Ecdsa {
        algorithm: &'static rs::EcdsaVerificationAlgorithm,
        point: Vec<u8>,
    },
    Ed25519([u8; 32]),
    Rsa {
        parameters: &'static rs::RsaParameters,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    RustCrypto(RustCryptoKey),
}

impl Backend for Ring {
    type Key = RingKey;

    fn parse_key(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<Self::Key, CryptoError> {
        let mismatch = CryptoError::KeyAlgorithmMismatch { algorithm };
        let invalid = CryptoError::InvalidKey { algorithm };
        let inner = match (algorithm, material) {
            (SignatureAlgorithm::EdDsa, PublicKeyMaterial::Ed25519 { .. })
            | (SignatureAlgorithm::Es512, _) => {
                // Validation (weak Ed25519 keys, points on the curve) is shared with
                // the RustCrypto backend so both accept exactly the same keys.
                let key = RustCryptoKey::parse(algorithm, material)?;
                match material {
                    PublicKeyMaterial::Ed25519 { x } => {
                        Inner::Ed25519((*x).try_into().map_err(|_| invalid)?)
                    }
                    _ => Inner::RustCrypto(key),
                }
            }
            (_, PublicKeyMaterial::Ec { curve, x, y }) => {
                let ring_algorithm: &'static rs::EcdsaVerificationAlgorithm =
                    match (algorithm, curve) {
                        (SignatureAlgorithm::Es256, EcCurve::P256) => &rs::ECDSA_P256_SHA256_ASN1,
                        (SignatureAlgorithm::Es384P256, EcCurve::P256) => {
                            &rs::ECDSA_P256_SHA384_ASN1
                        }
                        (SignatureAlgorithm::Es384, EcCurve::P384) => &rs::ECDSA_P384_SHA384_ASN1,
                        (SignatureAlgorithm::Es256P384, EcCurve::P384) => {
                            &rs::ECDSA_P384_SHA256_ASN1
                        }
                        _ => return Err(mismatch),
                    };
                // Validate the point once (on the curve, not the identity).
                RustCryptoKey::parse(algorithm, material)?;
                let point = sec1_uncompressed(*curve, x, y).ok_or(invalid)?;
                Inner::Ecdsa {
                    algorithm: ring_algorithm,
                    point,
                }
            }
            (_, PublicKeyMaterial::Rsa { n, e }) => {
                let parameters: &'static rs::RsaParameters = match algorithm {
                    SignatureAlgorithm::Rs256 => &rs::RSA_PKCS1_2048_8192_SHA256,
                    SignatureAlgorithm::Rs384 => &rs::RSA_PKCS1_2048_8192_SHA384,
                    SignatureAlgorithm::Rs512 => &rs::RSA_PKCS1_2048_8192_SHA512,
                    SignatureAlgorithm::Ps256 => &rs::RSA_PSS_2048_8192_SHA256,
                    SignatureAlgorithm::Ps384 => &rs::RSA_PSS_2048_8192_SHA384,
                    SignatureAlgorithm::Ps512 => &rs::RSA_PSS_2048_8192_SHA512,
                    SignatureAlgorithm::Rs1 => &rs::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    _ => return Err(mismatch),
                };
                let (n, e) = checked_rsa_components(algorithm, n, e)?;
                Inner::Rsa {
                    parameters,
                    n: n.to_vec(),
                    e: e.to_vec(),
                }
            }
            _ => return Err(mismatch),
        };
        Ok(RingKey(inner))
    }

    fn verify(key: &Self::Key, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let bad = |_| CryptoError::SignatureInvalid;
        match &key.0 {
            Inner::Ecdsa { algorithm, point } => UnparsedPublicKey::new(*algorithm, point)
                .verify(message, signature)
                .map_err(bad),
            Inner::Ed25519(x) => UnparsedPublicKey::new(&rs::ED25519, x)
                .verify(message, signature)
                .map_err(bad),
            Inner::Rsa { parameters, n, e } => rs::RsaPublicKeyComponents { n, e }
                .verify(parameters, message, signature)
                .map_err(bad),
            Inner::RustCrypto(key) => key.verify(message, signature),
        }
    }
}
