//! COSE_Key (RFC 9052 §7, RFC 9053) credential public keys, via coset.
//!
//! A WebAuthn credential key must name its algorithm (`alg`), and its key type and
//! curve must match that algorithm: EC2 with crv P-256/P-384/P-521 for ES256/ES384/
//! ES512, OKP with crv Ed25519 for EdDSA, RSA for RS256/RS384/RS512/PS256/PS384/PS512.

use coset::iana;
use coset::{AsCborValue as _, Label, RegisteredLabel, RegisteredLabelWithPrivate};

use crate::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm, VerifyingKey};
use crate::error::{ParseError, WebauthnError};
use crate::limits::{MAX_CBOR_DEPTH, MAX_COSE_KEY_BYTES};

/// A credential public key: its algorithm, the backend's parsed key and the COSE_Key
/// bytes exactly as the authenticator encoded them (what a relying party stores).
#[derive(Clone, Debug)]
pub struct CoseKey {
    algorithm: SignatureAlgorithm,
    material: OwnedMaterial,
    key: VerifyingKey,
    bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum OwnedMaterial {
    Ec {
        curve: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

impl CoseKey {
    /// Parses a COSE_Key that makes up all of `bytes`.
    ///
    /// # Errors
    /// [`WebauthnError::Malformed`] for malformed CBOR/COSE, trailing bytes, an
    /// unsupported algorithm or a key type that does not match it;
    /// [`WebauthnError::Key`] for a key the backend rejects.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WebauthnError> {
        let (key, used) = Self::from_prefix(bytes)?;
        let count = bytes.len().saturating_sub(used);
        if count != 0 {
            return Err(ParseError::TrailingBytes {
                field: "credential public key",
                count,
            }
            .into());
        }
        Ok(key)
    }

    /// Parses the COSE_Key at the start of `bytes`, returning it and its encoded
    /// length (authenticator data has extensions after it).
    ///
    /// # Errors
    /// As [`CoseKey::from_bytes`], except that trailing bytes are allowed.
    pub fn from_prefix(bytes: &[u8]) -> Result<(Self, usize), WebauthnError> {
        let mut rest = bytes.get(..MAX_COSE_KEY_BYTES).unwrap_or(bytes);
        let window = rest.len();
        let value: ciborium::Value =
            ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_CBOR_DEPTH).map_err(
                |_| ParseError::Cbor {
                    field: "credential public key",
                    reason: "malformed, truncated or nested too deeply",
                },
            )?;
        let used = window.saturating_sub(rest.len());
        let encoded = bytes.get(..used).ok_or(ParseError::Truncated {
            field: "credential public key",
        })?;
        let cose = coset::CoseKey::from_cbor_value(value).map_err(|_| ParseError::CoseKey {
            reason: "not a COSE_Key map",
        })?;
        let key = Self::from_coset(&cose, encoded)?;
        Ok((key, used))
    }

    fn from_coset(cose: &coset::CoseKey, encoded: &[u8]) -> Result<Self, WebauthnError> {
        let cose_err = |reason| ParseError::CoseKey { reason };
        let alg_id = match &cose.alg {
            Some(RegisteredLabelWithPrivate::Assigned(alg)) => iana::EnumI64::to_i64(alg),
            Some(RegisteredLabelWithPrivate::PrivateUse(id)) => *id,
            Some(RegisteredLabelWithPrivate::Text(_)) => {
                return Err(cose_err("alg is a text label").into());
            }
            None => return Err(cose_err("alg missing").into()),
        };
        let algorithm = SignatureAlgorithm::from_cose(alg_id)
            .filter(|alg| *alg != SignatureAlgorithm::Rs1)
            .ok_or(ParseError::UnsupportedAlgorithm { algorithm: alg_id })?;
        let param = |label: i64| -> Option<&ciborium::Value> {
            cose.params
                .iter()
                .find(|(l, _)| *l == Label::Int(label))
                .map(|(_, v)| v)
        };
        let bytes_param = |label: i64, reason: &'static str| -> Result<Vec<u8>, ParseError> {
            match param(label) {
                Some(ciborium::Value::Bytes(b)) => Ok(b.clone()),
                _ => Err(cose_err(reason)),
            }
        };
        let int_param = |label: i64, reason: &'static str| -> Result<i128, ParseError> {
            match param(label) {
                Some(ciborium::Value::Integer(i)) => Ok(i128::from(*i)),
                _ => Err(cose_err(reason)),
            }
        };
        let kty = match &cose.kty {
            RegisteredLabel::Assigned(kty) => *kty,
            RegisteredLabel::Text(_) => return Err(cose_err("kty is a text label").into()),
        };
        let material = match kty {
            iana::KeyType::EC2 => {
                let curve = match int_param(-1, "EC2 crv missing")? {
                    1 => EcCurve::P256,
                    2 => EcCurve::P384,
                    3 => EcCurve::P521,
                    _ => return Err(cose_err("EC2 crv is not P-256, P-384 or P-521").into()),
                };
                if algorithm.ec_curve() != Some(curve) {
                    return Err(cose_err("EC2 curve does not match alg").into());
                }
                OwnedMaterial::Ec {
                    curve,
                    x: bytes_param(-2, "EC2 x missing or not bytes")?,
                    y: bytes_param(
                        -3,
                        "EC2 y missing or not bytes (compressed points are not allowed)",
                    )?,
                }
            }
            iana::KeyType::OKP => {
                if int_param(-1, "OKP crv missing")? != 6 {
                    return Err(cose_err("OKP crv is not Ed25519").into());
                }
                if algorithm != SignatureAlgorithm::EdDsa {
                    return Err(cose_err("OKP key with a non-EdDSA alg").into());
                }
                OwnedMaterial::Ed25519 {
                    x: bytes_param(-2, "OKP x missing or not bytes")?,
                }
            }
            iana::KeyType::RSA => {
                if !algorithm.is_rsa() {
                    return Err(cose_err("RSA key with a non-RSA alg").into());
                }
                OwnedMaterial::Rsa {
                    n: bytes_param(-1, "RSA n missing or not bytes")?,
                    e: bytes_param(-2, "RSA e missing or not bytes")?,
                }
            }
            _ => return Err(cose_err("kty is not EC2, OKP or RSA").into()),
        };
        let key = VerifyingKey::new(algorithm, &material.borrow())?;
        Ok(Self {
            algorithm,
            material,
            key,
            bytes: encoded.to_vec(),
        })
    }

    /// The key's algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The COSE algorithm identifier (`-7` for ES256, ...).
    #[must_use]
    pub fn cose_algorithm(&self) -> i64 {
        self.algorithm.cose().unwrap_or_default()
    }

    /// The COSE_Key bytes as the authenticator encoded them.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw key components.
    #[must_use]
    pub fn material(&self) -> PublicKeyMaterial<'_> {
        self.material.borrow()
    }

    /// The parsed key, ready to verify.
    #[must_use]
    pub const fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl OwnedMaterial {
    fn borrow(&self) -> PublicKeyMaterial<'_> {
        match self {
            Self::Ec { curve, x, y } => PublicKeyMaterial::Ec {
                curve: *curve,
                x,
                y,
            },
            Self::Ed25519 { x } => PublicKeyMaterial::Ed25519 { x },
            Self::Rsa { n, e } => PublicKeyMaterial::Rsa { n, e },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ES256: &str = "a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";

    #[test]
    fn parses_w3c_es256_key_and_keeps_its_bytes() {
        let bytes = hex::decode(ES256).unwrap();
        let key = CoseKey::from_bytes(&bytes).unwrap();
        assert_eq!(key.algorithm(), SignatureAlgorithm::Es256);
        assert_eq!(key.cose_algorithm(), -7);
        assert_eq!(key.as_bytes(), &bytes[..]);
        assert!(matches!(
            key.material(),
            PublicKeyMaterial::Ec {
                curve: EcCurve::P256,
                ..
            }
        ));
    }

    #[test]
    fn prefix_reports_encoded_length_and_trailing_bytes_are_rejected() {
        let mut bytes = hex::decode(ES256).unwrap();
        let len = bytes.len();
        bytes.extend_from_slice(&[0xa0]);
        let (_, used) = CoseKey::from_prefix(&bytes).unwrap();
        assert_eq!(used, len);
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(ParseError::TrailingBytes {
                count: 1,
                ..
            }))
        ));
    }

    #[test]
    fn curve_and_alg_must_agree() {
        // Same key, alg changed to ES384 (-35 = 0x38 0x22).
        let hex = ES256.replacen("0326", "033822", 1);
        let bytes = hex::decode(hex).unwrap();
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(ParseError::CoseKey { .. }))
        ));
        // alg changed to EdDSA (-8 = 0x27).
        let bytes = hex::decode(ES256.replacen("0326", "0327", 1)).unwrap();
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(ParseError::CoseKey { .. }))
        ));
        // alg changed to RS256 (-257 = 0x39 0x01 0x00).
        let bytes = hex::decode(ES256.replacen("0326", "03390100", 1)).unwrap();
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(ParseError::CoseKey { .. }))
        ));
    }

    #[test]
    fn missing_alg_unknown_alg_and_rs1_are_rejected() {
        // {1: 2, -1: 1, -2: h'', -3: h''} without alg.
        let bytes = hex::decode("a401022001214022 40".replace(' ', "")).unwrap();
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(ParseError::CoseKey {
                reason: "alg missing"
            }))
        ));
        // Ed448 (-53).
        let bytes = hex::decode("a4010103383420072158390000").unwrap();
        assert!(CoseKey::from_bytes(&bytes).is_err());
        let bytes = hex::decode(ES256.replacen("0326", "033863", 1)).unwrap(); // -100 (unassigned)
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(
                ParseError::UnsupportedAlgorithm { algorithm: -100 } | ParseError::CoseKey { .. }
            ))
        ));
        let bytes = hex::decode(ES256.replacen("0326", "033a0000fffe", 1)).unwrap(); // RS1
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Malformed(
                ParseError::UnsupportedAlgorithm { .. }
            ))
        ));
    }

    #[test]
    fn point_off_curve_is_a_key_error() {
        let mut bytes = hex::decode(ES256).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(
            CoseKey::from_bytes(&bytes),
            Err(WebauthnError::Key(_))
        ));
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let mut bytes = vec![0x81_u8; 100_000];
        bytes.push(0x00);
        assert!(CoseKey::from_bytes(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = CoseKey::from_prefix(&bytes);
        }

        #[test]
        fn bit_flips_never_panic(index in 0_usize..77, bit in 0_u8..8) {
            let mut bytes = hex::decode(ES256).unwrap();
            bytes[index] ^= 1 << bit;
            let _ = CoseKey::from_bytes(&bytes);
        }
    }
}
