//! [`Secret`]: the shared key, its generation and its base32 forms.

use std::fmt;

use rand_core::{CryptoRng, RngCore};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::config::Algorithm;
use crate::error::{SecretError, TotpError};

/// The shared secret K of RFC 4226: zeroized on drop, redacted in `Debug`, compared
/// in constant time.
///
/// Secrets this crate generates are 160, 256 or 512 bits (one hash output, see
/// [`Algorithm::generated_secret_len`]), above RFC 4226 §4's 128-bit minimum.
/// Secrets taken in ([`Secret::from_bytes`], [`Secret::from_base32_lenient`], URI
/// import) may be as short as [`Secret::MIN_BYTES`] (80 bits): authenticator apps
/// have been issued such keys for years, including the Key Uri Format's own example
/// and pyotp's. A host that wants to refuse them as new bindings checks
/// [`Secret::meets_rfc4226_minimum`].
///
/// There is deliberately no `Serialize`: store [`Secret::to_base32`] or
/// [`Secret::expose_bytes`] explicitly, where you mean to.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Vec<u8>,
}

/// Longest base32 text accepted, in bytes (the longest secret's 205 symbols, its
/// padding and generous room for spaces).
const MAX_TEXT_LEN: usize = 512;

impl Secret {
    /// Shortest secret accepted, in bytes (80 bits).
    pub const MIN_BYTES: usize = 10;
    /// Shortest secret RFC 4226 §4 (R6) allows, in bytes (128 bits).
    pub const RFC4226_MIN_BYTES: usize = 16;
    /// Longest secret accepted, in bytes (1024 bits, the HMAC-SHA-512 block).
    pub const MAX_BYTES: usize = 128;

    /// A fresh random secret for `algorithm` from the caller's cryptographic RNG:
    /// 20 bytes for SHA-1, 32 for SHA-256, 64 for SHA-512 (RFC 4226 §4 recommends 160
    /// bits; RFC 6238's reference code keys each hash with its own output length).
    #[must_use]
    pub fn generate<R>(rng: &mut R, algorithm: Algorithm) -> Self
    where
        R: RngCore + CryptoRng + ?Sized,
    {
        let mut bytes = vec![0_u8; algorithm.generated_secret_len()];
        rng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// The secret with these raw bytes.
    ///
    /// # Errors
    /// [`SecretError::TooShort`] under [`Secret::MIN_BYTES`], [`SecretError::TooLong`]
    /// over [`Secret::MAX_BYTES`]. The rejected bytes are zeroized.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        // Wrapping first means every exit path zeroizes.
        let secret = Self { bytes };
        let len = secret.bytes.len();
        if len < Self::MIN_BYTES {
            return Err(SecretError::TooShort {
                bits: len.saturating_mul(8),
                min_bits: Self::MIN_BYTES * 8,
            }
            .into());
        }
        if len > Self::MAX_BYTES {
            return Err(SecretError::TooLong {
                bytes: len,
                max_bytes: Self::MAX_BYTES,
            }
            .into());
        }
        Ok(secret)
    }

    /// Decodes base32 (RFC 4648 §6) the way people and apps write it: either letter
    /// case, spaces anywhere (`"jbsw y3dp ehpk 3pxp"`), `=` padding present or
    /// absent, and unused trailing bits ignored (as Google Authenticator and pyotp
    /// do).
    ///
    /// # Errors
    /// [`SecretError::InvalidCharacter`], [`SecretError::InvalidPadding`],
    /// [`SecretError::InvalidLength`] or [`SecretError::TextTooLong`] when the text is
    /// not base32; the length errors of [`Secret::from_bytes`] when it decodes to an
    /// unusable length. Intermediate buffers are zeroized.
    pub fn from_base32_lenient(text: &str) -> Result<Self, TotpError> {
        Self::from_bytes(decode_base32_lenient(text)?)
    }

    /// The secret in upper-case base32 without padding, as otpauth URIs carry it.
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.bytes))
    }

    /// The raw key bytes, for storing. Handle with care.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length of the secret in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.bytes.len().saturating_mul(8)
    }

    /// Whether the secret has the 128 bits RFC 4226 §4 requires (generated secrets
    /// always do; imported ones may not).
    #[must_use]
    pub fn meets_rfc4226_minimum(&self) -> bool {
        self.bytes.len() >= Self::RFC4226_MIN_BYTES
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for Secret {
    /// Constant time in the contents; lengths are not secret.
    fn ct_eq(&self, other: &Self) -> Choice {
        self.bytes.as_slice().ct_eq(other.bytes.as_slice())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret {}

/// The 5-bit value of a base32 symbol, either letter case.
const fn symbol_value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a'),
        b'2'..=b'7' => Some(byte - b'2' + 26),
        _ => None,
    }
}

/// Lenient base32 decoding; see [`Secret::from_base32_lenient`].
fn decode_base32_lenient(text: &str) -> Result<Vec<u8>, SecretError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(SecretError::TextTooLong {
            length: text.len(),
            max: MAX_TEXT_LEN,
        });
    }
    let mut out = Zeroizing::new(Vec::with_capacity(text.len().saturating_mul(5) / 8));
    let mut buffer = Zeroizing::new(0_u16);
    let mut bits = 0_u32;
    let mut symbols = 0_usize;
    let mut padding = 0_usize;
    for (position, byte) in text.bytes().enumerate() {
        match byte {
            b' ' => {}
            b'=' => padding += 1,
            _ if padding > 0 => return Err(SecretError::InvalidPadding),
            _ => {
                let value = symbol_value(byte).ok_or(SecretError::InvalidCharacter { position })?;
                *buffer = (*buffer << 5) | u16::from(value);
                bits += 5;
                symbols += 1;
                if bits >= 8 {
                    bits -= 8;
                    // `buffer` holds at most 12 bits, so the byte is its low half.
                    let [_, byte] = (*buffer >> bits).to_be_bytes();
                    out.push(byte);
                    *buffer &= (1_u16 << bits) - 1;
                }
            }
        }
    }
    let expected_padding = match symbols % 8 {
        0 => 0,
        2 => 6,
        4 => 4,
        5 => 3,
        7 => 1,
        _ => return Err(SecretError::InvalidLength { symbols }),
    };
    if padding != 0 && padding != expected_padding {
        return Err(SecretError::InvalidPadding);
    }
    Ok(std::mem::take(&mut *out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn generated_lengths_follow_the_algorithm() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for (algorithm, bits) in [
            (Algorithm::Sha1, 160),
            (Algorithm::Sha256, 256),
            (Algorithm::Sha512, 512),
        ] {
            let secret = Secret::generate(&mut rng, algorithm);
            assert_eq!(secret.bits(), bits);
            assert!(secret.meets_rfc4226_minimum());
        }
        let a = Secret::generate(&mut rng, Algorithm::Sha1);
        let b = Secret::generate(&mut rng, Algorithm::Sha1);
        assert_ne!(a, b, "two draws from the RNG gave the same secret");
    }

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::from_base32_lenient("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        let debug = format!("{secret:?}");
        assert_eq!(debug, "Secret { bits: 160, .. }");
        assert!(!debug.contains("GEZD"));
        assert!(!debug.contains("49"));
    }

    #[test]
    fn lenient_forms_decode_alike() {
        let canonical = Secret::from_base32_lenient("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(canonical.expose_bytes(), b"Hello!\xde\xad\xbe\xef");
        for text in [
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "jbsw y3dp ehpk 3pxp ",
            " JbSwY3dPeHpK3pXp",
        ] {
            assert_eq!(
                Secret::from_base32_lenient(text).unwrap(),
                canonical,
                "{text:?}"
            );
        }
        let padded =
            Secret::from_base32_lenient("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====")
                .unwrap();
        let unpadded =
            Secret::from_base32_lenient("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA")
                .unwrap();
        assert_eq!(padded.expose_bytes(), b"12345678901234567890123456789012");
        assert_eq!(padded, unpadded);
    }

    #[test]
    fn malformed_base32_is_a_typed_error() {
        let err = |text: &str| match Secret::from_base32_lenient(text) {
            Err(TotpError::Secret(err)) => err,
            other => panic!("{text:?}: {other:?}"),
        };
        assert_eq!(
            err("JBSWY3DPEHPK3PX1"),
            SecretError::InvalidCharacter { position: 15 }
        );
        assert_eq!(
            err("JBSWY3DPEHPK3PX0"),
            SecretError::InvalidCharacter { position: 15 }
        );
        assert_eq!(
            err("JBSWY3DPÉHPK3PXP"),
            SecretError::InvalidCharacter { position: 8 }
        );
        assert_eq!(err("JBSW=Y3DPEHPK3PXP"), SecretError::InvalidPadding);
        // 26 symbols need 6 padding characters, not 2.
        assert_eq!(
            err("GEZDGNBVGY3TQOJQGEZDGNBVGY=="),
            SecretError::InvalidPadding
        );
        assert_eq!(err("JBSWY3DPEHPK3PXP========"), SecretError::InvalidPadding);
        assert_eq!(
            err("JBSWY3DPEHPK3PXPA"),
            SecretError::InvalidLength { symbols: 17 }
        );
        assert_eq!(
            err("JBSWY3DP"),
            SecretError::TooShort {
                bits: 40,
                min_bits: 80
            }
        );
        assert_eq!(
            err(""),
            SecretError::TooShort {
                bits: 0,
                min_bits: 80
            }
        );
        assert!(matches!(
            err(&"A".repeat(600)),
            SecretError::TextTooLong { length: 600, .. }
        ));
        assert!(matches!(
            err(&"A".repeat(256)),
            SecretError::TooLong { bytes: 160, .. }
        ));
    }

    #[test]
    fn to_base32_is_unpadded_upper_case() {
        let secret = Secret::from_bytes(b"12345678901234567890123456789012".to_vec()).unwrap();
        assert_eq!(
            secret.to_base32().as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
        );
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 10..=128)) {
            let secret = Secret::from_bytes(bytes.clone()).unwrap();
            let text = secret.to_base32();
            prop_assert_eq!(Secret::from_base32_lenient(&text).unwrap().expose_bytes().to_vec(), bytes.as_slice().to_vec());
            let lower = text.to_ascii_lowercase();
            prop_assert_eq!(Secret::from_base32_lenient(&lower).unwrap().expose_bytes().to_vec(), bytes.as_slice().to_vec());
            let padded = data_encoding::BASE32.encode(&bytes);
            prop_assert_eq!(Secret::from_base32_lenient(&padded).unwrap().expose_bytes().to_vec(), bytes.as_slice().to_vec());
        }

        #[test]
        fn decoding_agrees_with_data_encoding(text in "[A-Z2-7=a-z0-9 ]{0,80}") {
            let ours = decode_base32_lenient(&text);
            let cleaned: String = text.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
            let mut spec = data_encoding::BASE32_NOPAD.specification();
            spec.check_trailing_bits = false;
            let reference = spec.encoding().unwrap();
            let unpadded = cleaned.trim_end_matches('=');
            let theirs = reference.decode(unpadded.as_bytes());
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Ok(_), Err(e)) => prop_assert!(false, "we accepted what data-encoding refuses: {e}"),
                // We refuse more than data-encoding only for inconsistent padding.
                (Err(err), Ok(_)) => prop_assert_eq!(err, &SecretError::InvalidPadding),
                (Err(_), Err(_)) => {}
            }
        }

        #[test]
        fn arbitrary_text_gives_a_secret_or_a_secret_error(text in "\\PC{0,100}") {
            match Secret::from_base32_lenient(&text) {
                Ok(secret) => prop_assert_eq!(
                    Secret::from_base32_lenient(&secret.to_base32()).unwrap(),
                    secret
                ),
                Err(err) => prop_assert!(matches!(err, TotpError::Secret(_)), "{err:?}"),
            }
        }
    }
}
