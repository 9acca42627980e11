//! Ceremony challenges: random bytes, or a caller's routing prefix followed by random
//! bytes, or — for clients that decode the challenge with the browser's `atob` —
//! ASCII text.
//!
//! A [`CeremonyChallenge`] can only be made here, from the OS-grade RNG the caller
//! passes: a ceremony never starts on a constant or caller-chosen challenge.
//!
//! **Text challenges** exist because some clients (the service's own web SDK among
//! them) turn the options' base64url `challenge` and `user.id` into bytes with
//! `atob`, which knows only the standard alphabet and throws on `-` and `_`. The
//! base64 of ASCII letters and digits never contains `+`, `/`, `-` or `_` (every
//! such byte is below `0x7b`, which keeps every 6-bit group below 62), so a challenge
//! whose bytes are `[A-Za-z0-9]` text reads the same through `atob` as through
//! base64url decoding. Its random part is [`TEXT_CHALLENGE_RANDOM_CHARS`] characters
//! of that 62-letter alphabet: more than 128 bits.

use rand_core::{CryptoRng, RngCore};

use crate::error::WebauthnError;

/// Bytes of randomness in a challenge (also after a caller-chosen prefix).
pub const CHALLENGE_BYTES: usize = 32;

/// Longest caller-chosen challenge prefix, in bytes (see
/// [`start_registration_with_prefix`](crate::registration::start_registration_with_prefix)). A challenge is then at most 64 bytes:
/// the prefix followed by [`CHALLENGE_BYTES`] random bytes.
pub const MAX_CHALLENGE_PREFIX_BYTES: usize = 32;

/// Random characters after a text prefix: 22 characters of a 62-letter alphabet
/// carry 22 · log2(62) ≈ 131 bits.
pub const TEXT_CHALLENGE_RANDOM_CHARS: usize = 22;

/// Longest text prefix, in characters: room for a 34-character resource sid with a
/// short tag. The whole challenge is then at most 86 bytes.
pub const MAX_TEXT_CHALLENGE_PREFIX_LEN: usize = 64;

/// The alphabet of a text challenge's random part.
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Bytes at or above this are redrawn so that `byte % 62` is uniform (4 · 62 = 248).
const UNBIASED_BYTE_LIMIT: u8 = 248;

/// A ceremony's challenge, made from the caller's RNG.
#[derive(Clone, PartialEq, Eq)]
pub struct CeremonyChallenge(Vec<u8>);

impl std::fmt::Debug for CeremonyChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CeremonyChallenge")
            .field(&self.0.len())
            .finish()
    }
}

impl CeremonyChallenge {
    /// [`CHALLENGE_BYTES`] random bytes.
    pub fn random<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut challenge = vec![0_u8; CHALLENGE_BYTES];
        rng.fill_bytes(&mut challenge);
        Self(challenge)
    }

    /// `prefix` followed by [`CHALLENGE_BYTES`] random bytes. The prefix routes a
    /// bare response to its stored ceremony; it is not secret (the whole challenge is
    /// compared in constant time when the ceremony finishes).
    ///
    /// # Errors
    /// [`WebauthnError::ChallengePrefixTooLong`] above [`MAX_CHALLENGE_PREFIX_BYTES`].
    pub fn with_prefix<R: RngCore + CryptoRng + ?Sized>(
        prefix: &[u8],
        rng: &mut R,
    ) -> Result<Self, WebauthnError> {
        if prefix.len() > MAX_CHALLENGE_PREFIX_BYTES {
            return Err(WebauthnError::ChallengePrefixTooLong {
                len: prefix.len(),
                max: MAX_CHALLENGE_PREFIX_BYTES,
            });
        }
        let mut challenge = prefix.to_vec();
        challenge.extend_from_slice(&Self::random(rng).0);
        Ok(Self(challenge))
    }

    /// ASCII text: `prefix` (letters and digits) followed by
    /// [`TEXT_CHALLENGE_RANDOM_CHARS`] random letters and digits. Its base64url is
    /// also valid standard base64 of the same bytes (see the module documentation).
    ///
    /// # Errors
    /// [`WebauthnError::ChallengePrefixTooLong`] above
    /// [`MAX_TEXT_CHALLENGE_PREFIX_LEN`]; [`WebauthnError::InvalidConfig`] for a
    /// prefix with a character other than `[A-Za-z0-9]`.
    pub fn with_text_prefix<R: RngCore + CryptoRng + ?Sized>(
        prefix: &str,
        rng: &mut R,
    ) -> Result<Self, WebauthnError> {
        if prefix.len() > MAX_TEXT_CHALLENGE_PREFIX_LEN {
            return Err(WebauthnError::ChallengePrefixTooLong {
                len: prefix.len(),
                max: MAX_TEXT_CHALLENGE_PREFIX_LEN,
            });
        }
        if !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(WebauthnError::InvalidConfig {
                what: "a text challenge prefix is letters and digits only".to_owned(),
            });
        }
        let mut challenge = Vec::with_capacity(prefix.len() + TEXT_CHALLENGE_RANDOM_CHARS);
        challenge.extend_from_slice(prefix.as_bytes());
        let mut pool = [0_u8; TEXT_CHALLENGE_RANDOM_CHARS * 2];
        while challenge.len() < prefix.len() + TEXT_CHALLENGE_RANDOM_CHARS {
            rng.fill_bytes(&mut pool);
            for byte in pool {
                if challenge.len() == prefix.len() + TEXT_CHALLENGE_RANDOM_CHARS {
                    break;
                }
                if byte < UNBIASED_BYTE_LIMIT
                    && let Some(&c) = ALPHANUMERIC.get(usize::from(byte % 62))
                {
                    challenge.push(c);
                }
            }
        }
        Ok(Self(challenge))
    }

    /// The challenge bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The challenge bytes, owned.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;

    use super::*;

    #[test]
    fn text_challenges_read_the_same_through_atob_and_base64url() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for i in 0..2000 {
            let prefix = if i % 2 == 0 {
                "YC0123456789abcdef0123456789abcdef"
            } else {
                ""
            };
            let challenge = CeremonyChallenge::with_text_prefix(prefix, &mut rng).unwrap();
            let bytes = challenge.as_bytes();
            assert_eq!(bytes.len(), prefix.len() + TEXT_CHALLENGE_RANDOM_CHARS);
            assert!(bytes.starts_with(prefix.as_bytes()));
            assert!(bytes.iter().all(u8::is_ascii_alphanumeric));
            let encoded = URL_SAFE_NO_PAD.encode(bytes);
            assert!(!encoded.contains(['-', '_', '+', '/']), "{encoded}");
            assert_eq!(STANDARD_NO_PAD.decode(&encoded).unwrap(), bytes);
        }
    }

    #[test]
    fn the_random_part_uses_the_whole_alphabet_evenly() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut counts = [0_u32; 62];
        for _ in 0..2000 {
            for &c in CeremonyChallenge::with_text_prefix("", &mut rng)
                .unwrap()
                .as_bytes()
            {
                let index = ALPHANUMERIC.iter().position(|&a| a == c).unwrap();
                counts[index] += 1;
            }
        }
        // 44,000 draws: about 710 per letter; a biased `% 62` would favour the
        // first 8 letters by about 1/31.
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 600 && *max < 820, "{counts:?}");
    }

    #[test]
    fn prefixes_are_bounded_and_text_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let long = "a".repeat(MAX_TEXT_CHALLENGE_PREFIX_LEN + 1);
        assert!(matches!(
            CeremonyChallenge::with_text_prefix(&long, &mut rng),
            Err(WebauthnError::ChallengePrefixTooLong { .. })
        ));
        for bad in ["YC-01", "a b", "é", "a_b", "a/b"] {
            assert!(
                CeremonyChallenge::with_text_prefix(bad, &mut rng).is_err(),
                "{bad}"
            );
        }
        let raw = CeremonyChallenge::with_prefix(&[0xff; 16], &mut rng).unwrap();
        assert_eq!(raw.as_bytes().len(), 16 + CHALLENGE_BYTES);
    }
}
