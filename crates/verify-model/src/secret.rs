//! Secret bytes: [`TotpSecret`] and [`SecretBytes`], zeroized on drop, redacted in
//! `Debug`, compared in constant time.

use std::fmt;

use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Field, ModelError, check_len};
use crate::limits::{MAX_TOTP_SECRET_LEN, MIN_TOTP_SECRET_LEN};

/// Secret bytes (an access token, a webhook signing key): zeroized on drop,
/// `Debug` prints only the length, `==` runs in constant time.
///
/// Its serde form is unpadded base64url, used only by the storage form of the
/// resource that holds it; public resource JSON never contains it.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps `bytes`.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// `len` fresh random bytes from `rng`.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R, len: usize) -> Self {
        let mut bytes = Zeroizing::new(vec![0_u8; len]);
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret bytes. Handle with care: do not log or copy them around.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Constant-time comparison with `other`.
    #[must_use]
    pub fn ct_eq_bytes(&self, other: &[u8]) -> bool {
        self.0.as_slice().ct_eq(other).into()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq_bytes(&other.0)
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl serde::Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let text =
            Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&*self.0));
        serializer.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map(Self::new)
            .map_err(|_| serde::de::Error::custom("secret is not unpadded base64url"))
    }
}

/// A TOTP factor's shared secret: 16..=128 bytes, zeroized on drop, redacted in
/// `Debug`, compared in constant time.
///
/// Its serde form (unpadded upper-case base32, as in an otpauth URI) exists for the
/// storage form of [`Factor`](crate::Factor); the public factor JSON never carries it.
/// Only the creation response does, through
/// [`FactorJson::created_totp`](crate::api::FactorJson::created_totp).
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// Bytes in a generated secret: 160 bits, RFC 4226's recommendation.
    pub const GENERATED_LEN: usize = 20;

    /// Wraps `bytes`.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] (field `binding.secret`) unless
    /// [`MIN_TOTP_SECRET_LEN`] ≤ length ≤ [`MAX_TOTP_SECRET_LEN`] bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, ModelError> {
        let bytes = Zeroizing::new(bytes);
        check_len(
            Field::TotpSecret,
            bytes.len(),
            MIN_TOTP_SECRET_LEN,
            MAX_TOTP_SECRET_LEN,
        )?;
        Ok(Self(bytes))
    }

    /// A fresh 160-bit secret from `rng`.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new(vec![0_u8; Self::GENERATED_LEN]);
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Decodes base32 (RFC 4648, case-insensitive, padding optional, spaces ignored),
    /// as authenticator apps and the API's `Binding.Secret` spell it.
    ///
    /// # Errors
    /// [`ModelError::InvalidCharacters`] when the text is not base32;
    /// [`ModelError::LengthOutOfRange`] as for [`TotpSecret::new`].
    pub fn from_base32(text: &str) -> Result<Self, ModelError> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| *c != ' ' && *c != '=')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| ModelError::InvalidCharacters {
                field: Field::TotpSecret,
            })?;
        Self::new(bytes)
    }

    /// Unpadded upper-case base32, the otpauth URI's `secret` parameter.
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// The key bytes for HMAC. Handle with care: do not log or copy them around.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for TotpSecret {}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TotpSecret(<{} bytes redacted>)", self.0.len())
    }
}

impl serde::Serialize for TotpSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base32())
    }
}

impl<'de> serde::Deserialize<'de> for TotpSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Self::from_base32(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn length_boundaries() {
        assert!(TotpSecret::new(vec![1; 15]).is_err());
        assert!(TotpSecret::new(vec![1; 16]).is_ok());
        assert!(TotpSecret::new(vec![1; 128]).is_ok());
        assert_eq!(
            TotpSecret::new(vec![1; 129]).unwrap_err(),
            ModelError::LengthOutOfRange {
                field: Field::TotpSecret,
                min: 16,
                max: 128,
                length: 129
            }
        );
    }

    #[test]
    fn debug_is_redacted() {
        let secret = TotpSecret::new(b"12345678901234567890".to_vec()).unwrap();
        let debug = format!("{secret:?}");
        assert!(!debug.contains("GEZDGNBV"));
        assert!(!debug.contains("49"));
        assert_eq!(debug, "TotpSecret(<20 bytes redacted>)");
        let bytes = SecretBytes::new(vec![0xaa; 4]);
        assert_eq!(format!("{bytes:?}"), "SecretBytes(<4 bytes redacted>)");
    }

    #[test]
    fn base32_round_trip() {
        // RFC 6238 Appendix B's SHA-1 seed.
        let secret = TotpSecret::new(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(&*secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let parsed =
            TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq====").unwrap();
        assert_eq!(parsed, secret);
        assert!(TotpSecret::from_base32("not base32!").is_err());
        let json = serde_json::to_string(&secret).unwrap();
        assert_eq!(serde_json::from_str::<TotpSecret>(&json).unwrap(), secret);
    }

    #[test]
    fn generated_secrets_come_from_the_rng() {
        let a = TotpSecret::generate(&mut ChaCha20Rng::seed_from_u64(3));
        let b = TotpSecret::generate(&mut ChaCha20Rng::seed_from_u64(3));
        let c = TotpSecret::generate(&mut ChaCha20Rng::seed_from_u64(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.expose_secret().len(), TotpSecret::GENERATED_LEN);
    }

    #[test]
    fn secret_bytes_compare_and_round_trip() {
        let a = SecretBytes::new(vec![1, 2, 3]);
        assert!(a.ct_eq_bytes(&[1, 2, 3]));
        assert!(!a.ct_eq_bytes(&[1, 2, 4]));
        assert!(!a.ct_eq_bytes(&[1, 2]));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<SecretBytes>(&json).unwrap(), a);
    }
}
