//! The device binding: `Binding.PublicKey` and `Binding.Alg`, parsed once into a
//! [`DeviceKey`] that every later check uses without re-parsing.

use p256::ecdsa::VerifyingKey;
use p256::pkcs8::der::{self, Decode as _};
use p256::pkcs8::spki::SubjectPublicKeyInfoRef;
use p256::pkcs8::{AssociatedOid as _, ObjectIdentifier};

use crate::b64;
use crate::error::{BindingError, Encoded, PushError};

/// `id-ecPublicKey` (RFC 5480).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// Longest `Binding.PublicKey` text looked at (the real one is 124 characters).
const MAX_BINDING_TEXT: usize = 512;

/// The only binding algorithm the SDKs use: ECDSA over P-256 with SHA-256.
pub const BINDING_ALG: &str = "ES256";

/// A push factor's device key: a P-256 public key from `Binding.PublicKey`.
///
/// Built only by [`DeviceKey::from_binding`] or [`DeviceKey::from_spki_der`], so
/// holding one means the key was a well-formed, uncompressed point on P-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceKey {
    key: VerifyingKey,
    /// The same key as an uncompressed SEC1 point (`04 || X || Y`), for backends
    /// that take the encoded form.
    point: [u8; 65],
}

impl DeviceKey {
    /// Parses the binding a device sends when it creates a push factor:
    /// `Binding.PublicKey` (standard base64, padded, of the 91-byte DER
    /// `SubjectPublicKeyInfo` of an uncompressed P-256 point) and `Binding.Alg`
    /// (exactly `ES256`).
    ///
    /// Unpadded base64, whitespace, other curves, compressed points and bytes after
    /// the DER structure are refused.
    ///
    /// # Errors
    /// [`PushError::Base64`] or [`PushError::Binding`] naming the defect.
    pub fn from_binding(public_key: &str, alg: &str) -> Result<Self, PushError> {
        if alg != BINDING_ALG {
            return Err(BindingError::UnsupportedAlg { length: alg.len() }.into());
        }
        if public_key.len() > MAX_BINDING_TEXT {
            return Err(BindingError::NotSpki.into());
        }
        let der = b64::standard(public_key, Encoded::BindingPublicKey)?;
        Ok(Self::from_spki_der(&der)?)
    }

    /// Parses a DER `SubjectPublicKeyInfo` holding an uncompressed P-256 point.
    ///
    /// # Errors
    /// [`BindingError`] naming the defect.
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self, BindingError> {
        let spki =
            SubjectPublicKeyInfoRef::from_der(der_bytes).map_err(|err| match err.kind() {
                der::ErrorKind::TrailingData { remaining, .. } => BindingError::TrailingBytes {
                    extra: usize::try_from(remaining).unwrap_or(usize::MAX),
                },
                _ => BindingError::NotSpki,
            })?;
        if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
            return Err(BindingError::NotEcKey);
        }
        let curve = spki
            .algorithm
            .parameters_oid()
            .map_err(|_| BindingError::UnsupportedCurve)?;
        if curve != p256::NistP256::OID {
            return Err(BindingError::UnsupportedCurve);
        }
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or(BindingError::NotSpki)?;
        let uncompressed: [u8; 65] = match point.first() {
            Some(0x02 | 0x03) => return Err(BindingError::CompressedPoint),
            Some(0x04) => point.try_into().map_err(|_| BindingError::PointLength {
                length: point.len(),
            })?,
            _ => {
                return Err(BindingError::PointLength {
                    length: point.len(),
                });
            }
        };
        let key =
            VerifyingKey::from_sec1_bytes(point).map_err(|_| BindingError::PointNotOnCurve)?;
        Ok(Self {
            key,
            point: uncompressed,
        })
    }

    /// The key as the device sent it: standard base64 (padded) of the DER
    /// `SubjectPublicKeyInfo`.
    #[must_use]
    pub fn to_binding(&self) -> String {
        use base64::Engine as _;
        let mut der_bytes = Vec::with_capacity(91);
        der_bytes.extend_from_slice(&SPKI_PREFIX);
        der_bytes.extend_from_slice(&self.point);
        base64::engine::general_purpose::STANDARD.encode(der_bytes)
    }

    /// The uncompressed SEC1 point `04 || X || Y`.
    #[must_use]
    pub fn to_sec1_uncompressed(&self) -> Vec<u8> {
        self.point.to_vec()
    }

    /// The p256 key, for the `RustCrypto` backend.
    #[cfg(feature = "rustcrypto")]
    pub(crate) fn p256_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The uncompressed SEC1 point, validated on P-256.
    #[cfg_attr(not(feature = "ring"), allow(dead_code))]
    pub(crate) fn sec1_point(&self) -> &[u8; 65] {
        &self.point
    }
}

/// The DER `SubjectPublicKeyInfo` header of an uncompressed P-256 key, up to and
/// including the bit string's unused-bits byte.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    const VECTOR_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgjQ0xMMW93gW37CrK1c6X9NEbUju4T3KNeEsG9Axg8NByRc+LGpzWKPrqyE8/W0VxQzRZCipF1BfU/JJ6J5G7A==";

    #[test]
    fn parses_the_sdk_binding_and_round_trips() {
        let key = DeviceKey::from_binding(VECTOR_KEY, "ES256").unwrap();
        assert_eq!(key.to_binding(), VECTOR_KEY);
        assert_eq!(key.to_sec1_uncompressed().len(), 65);
    }

    #[test]
    fn refuses_other_algs_and_encodings() {
        for alg in ["es256", "RS256", "", "ES256 "] {
            assert!(matches!(
                DeviceKey::from_binding(VECTOR_KEY, alg),
                Err(PushError::Binding(BindingError::UnsupportedAlg { .. }))
            ));
        }
        let unpadded = VECTOR_KEY.trim_end_matches('=');
        assert_eq!(
            DeviceKey::from_binding(unpadded, "ES256"),
            Err(PushError::Base64 {
                what: Encoded::BindingPublicKey
            })
        );
        let urlsafe = VECTOR_KEY.replace('+', "-").replace('/', "_");
        assert!(DeviceKey::from_binding(&urlsafe, "ES256").is_err());
    }

    fn der() -> Vec<u8> {
        STANDARD.decode(VECTOR_KEY).unwrap()
    }

    #[test]
    fn refuses_trailing_bytes() {
        let mut bytes = der();
        bytes.extend_from_slice(&[0, 0]);
        assert_eq!(
            DeviceKey::from_spki_der(&bytes),
            Err(BindingError::TrailingBytes { extra: 2 })
        );
    }

    #[test]
    fn refuses_compressed_points() {
        let key = DeviceKey::from_binding(VECTOR_KEY, "ES256").unwrap();
        let compressed = key.key.to_encoded_point(true);
        // SEQUENCE { SEQUENCE { ecPublicKey, prime256v1 }, BIT STRING (34 bytes) }
        let mut bytes = vec![0x30, 0x39];
        bytes.extend_from_slice(&SPKI_PREFIX[2..23]);
        bytes.extend_from_slice(&[0x03, 0x22, 0x00]);
        bytes.extend_from_slice(compressed.as_bytes());
        assert_eq!(
            DeviceKey::from_spki_der(&bytes),
            Err(BindingError::CompressedPoint)
        );
    }

    #[test]
    fn refuses_other_curves_and_key_types() {
        // secp256k1 (1.3.132.0.10) in place of prime256v1.
        let mut bytes = vec![0x30, 0x56, 0x30, 0x10, 0x06, 0x07];
        bytes.extend_from_slice(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
        bytes.extend_from_slice(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]);
        bytes.extend_from_slice(&[0x03, 0x42, 0x00]);
        bytes.extend_from_slice(&der()[26..]);
        assert_eq!(
            DeviceKey::from_spki_der(&bytes),
            Err(BindingError::UnsupportedCurve)
        );
        // rsaEncryption OID in place of ecPublicKey.
        let mut rsa = der();
        rsa.splice(6..13, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01]);
        // Length of the OID changes from 7 to 9 bytes: rebuild properly.
        let mut bytes = vec![0x30, 0x5b, 0x30, 0x15, 0x06, 0x09];
        bytes.extend_from_slice(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);
        bytes.extend_from_slice(&der()[13..]);
        assert_eq!(
            DeviceKey::from_spki_der(&bytes),
            Err(BindingError::NotEcKey)
        );
        assert_ne!(rsa, der());
    }

    #[test]
    fn refuses_points_off_the_curve() {
        let mut bytes = der();
        let last = bytes.last_mut().unwrap();
        *last ^= 1;
        assert_eq!(
            DeviceKey::from_spki_der(&bytes),
            Err(BindingError::PointNotOnCurve)
        );
    }

    #[test]
    fn refuses_truncation_and_garbage() {
        let bytes = der();
        for cut in 0..bytes.len() {
            assert!(DeviceKey::from_spki_der(&bytes[..cut]).is_err(), "{cut}");
        }
        assert_eq!(
            DeviceKey::from_spki_der(b"not der"),
            Err(BindingError::NotSpki)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128)) {
            let _ = DeviceKey::from_spki_der(&bytes);
        }

        #[test]
        fn byte_flips_never_yield_another_valid_key(index in 0_usize..91, bit in 0_u8..8) {
            let mut bytes = der();
            bytes[index] ^= 1 << bit;
            // Either refused, or (a flip inside Y that lands on the curve is
            // impossible for a fixed X except the negation) a different key.
            if let Ok(key) = DeviceKey::from_spki_der(&bytes) {
                proptest::prop_assert_ne!(key, DeviceKey::from_spki_der(&der()).unwrap());
            }
        }
    }
}
