//! [`SecretSealer`]: the host's envelope-encryption hook for secrets at rest.

use std::fmt;

use zeroize::Zeroizing;

/// The error a [`SecretSealer`] returns: the host's own error, boxed. The store never
/// shows it to API clients; sealing failures surface as
/// [`StoreError::Backend`](verify_store::StoreError::Backend), opening failures as
/// [`StoreError::Corrupt`](verify_store::StoreError::Corrupt) without the source text.
pub type SealerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Envelope encryption for the secret fields of stored records, supplied by the host
/// (a KMS-wrapped data key with AES-256-GCM, for example).
///
/// The store passes through it, before writing and after reading:
/// - a TOTP factor's shared secret (`kind.secret`),
/// - a push factor's binding, the device public key (`kind.binding`),
/// - a webhook's signing secret (`secret`).
///
/// `context` names the record and field (`factor:YF…:kind.secret`): use it as the
/// AEAD's associated data so that a sealed value copied into another row or field
/// fails to open. Implementations must be authenticated encryption; the store adds
/// no integrity of its own. With a sealer set, a secret found in the clear is refused
/// (unless the store was built with `with_sealer_accepting_plaintext`, for databases
/// written before the sealer existed); records written with a sealer cannot be read
/// without it.
pub trait SecretSealer: Send + Sync + 'static {
    /// Encrypts `plaintext` bound to `context`.
    ///
    /// # Errors
    /// Whatever the host's key service reports; the write then fails and writes
    /// nothing.
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealerError>;

    /// Decrypts what [`SecretSealer::seal`] returned for the same `context`.
    ///
    /// # Errors
    /// A wrong key, a wrong context or tampered bytes; the read then fails with
    /// [`StoreError::Corrupt`](verify_store::StoreError::Corrupt).
    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealerError>;
}

/// A shared sealer handle.
#[derive(Clone)]
pub(crate) struct SharedSealer(pub(crate) std::sync::Arc<dyn SecretSealer>);

impl fmt::Debug for SharedSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSealer(..)")
    }
}

/// The length of an [`AesGcmSealer`] key: AES-256.
pub const AES_GCM_KEY_LEN: usize = 32;

/// A [`SecretSealer`] with one AES-256-GCM key (ring), for hosts without a key
/// service: sealed = a random 96-bit nonce, then the ciphertext and its tag, the
/// `context` as associated data.
///
/// Random nonces bound how much one key may seal: NIST SP 800-38D keeps the chance of
/// a repeated nonce below 2^-32 for up to 2^32 seals, and every secret is sealed once
/// per write of its record, far below that for any one deployment. Rotate the key
/// (rewrite the rows under a new one) long before.
pub struct AesGcmSealer {
    key: ring::aead::LessSafeKey,
    rng: ring::rand::SystemRandom,
}

impl fmt::Debug for AesGcmSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesGcmSealer(<key>)")
    }
}

impl AesGcmSealer {
    /// A sealer with this key.
    ///
    /// # Errors
    /// Never for a 32-byte key (ring's own check, kept typed).
    pub fn new(key: &[u8; AES_GCM_KEY_LEN]) -> Result<Self, SealerError> {
        let key = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key)
            .map_err(|_| "an AES-256-GCM key is 32 bytes")?;
        Ok(Self {
            key: ring::aead::LessSafeKey::new(key),
            rng: ring::rand::SystemRandom::new(),
        })
    }

    /// A sealer whose key is given as 64 hex digits (surrounding whitespace, such as
    /// a file's final newline, ignored).
    ///
    /// # Errors
    /// Text that is not exactly 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, SealerError> {
        let text = text.trim();
        if text.len() != AES_GCM_KEY_LEN * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the key must be 64 hex digits (32 bytes)".into());
        }
        let mut key = Zeroizing::new([0_u8; AES_GCM_KEY_LEN]);
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let digits = std::str::from_utf8(pair).map_err(|_| "not hex")?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| "not hex")?;
        }
        Self::new(&key)
    }
}

impl SecretSealer for AesGcmSealer {
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealerError> {
        use ring::rand::SecureRandom as _;
        let mut nonce = [0_u8; ring::aead::NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "the OS random source failed")?;
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| "sealing failed")?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealerError> {
        let (nonce, body) = sealed
            .split_at_checked(ring::aead::NONCE_LEN)
            .ok_or("sealed value too short")?;
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce")?;
        let mut body = Zeroizing::new(body.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, ring::aead::Aad::from(context), &mut body)
            .map_err(|_| "wrong key, wrong context or tampered value")?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }
}

/// The most previous keys a [`RotatingSealer`] tries: each one is a failed AEAD
/// open on every read of a row still sealed under an older key.
pub const MAX_PREVIOUS_KEYS: usize = 8;

/// An [`AesGcmSealer`] key rotation: seals with the current key, opens with the
/// current key or, failing that, each previous key in turn (AES-GCM's tag tells a
/// wrong key from the right one). Run the store's `reseal_secrets` to rewrite every
/// row under the current key; then the previous keys can be dropped.
pub struct RotatingSealer {
    current: AesGcmSealer,
    previous: Vec<AesGcmSealer>,
}

impl fmt::Debug for RotatingSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RotatingSealer(<key>, {} previous <key>s)",
            self.previous.len()
        )
    }
}

impl RotatingSealer {
    /// Seals with `current`; opens with `current` or any of `previous`.
    ///
    /// # Errors
    /// More than [`MAX_PREVIOUS_KEYS`] previous keys.
    pub fn new(current: AesGcmSealer, previous: Vec<AesGcmSealer>) -> Result<Self, SealerError> {
        if previous.len() > MAX_PREVIOUS_KEYS {
            return Err(format!("at most {MAX_PREVIOUS_KEYS} previous keys").into());
        }
        Ok(Self { current, previous })
    }
}

impl SecretSealer for RotatingSealer {
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealerError> {
        self.current.seal(plaintext, context)
    }

    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealerError> {
        let mut last = match self.current.open(sealed, context) {
            Ok(plain) => return Ok(plain),
            Err(error) => error,
        };
        for key in &self.previous {
            match key.open(sealed, context) {
                Ok(plain) => return Ok(plain),
                Err(error) => last = error,
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_key_and_context() {
        let sealer = AesGcmSealer::from_hex(&"0f".repeat(32)).unwrap();
        let sealed = sealer
            .seal(b"JBSWY3DPEHPK3PXP", b"factor:YF1:kind.secret")
            .unwrap();
        assert!(!sealed.windows(16).any(|w| w == b"JBSWY3DPEHPK3PXP"));
        assert_eq!(
            &*sealer.open(&sealed, b"factor:YF1:kind.secret").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        // Two seals of one value differ (fresh nonces).
        assert_ne!(
            sealed,
            sealer
                .seal(b"JBSWY3DPEHPK3PXP", b"factor:YF1:kind.secret")
                .unwrap()
        );
        assert!(sealer.open(&sealed, b"factor:YF2:kind.secret").is_err());
        let other = AesGcmSealer::new(&[1; 32]).unwrap();
        assert!(other.open(&sealed, b"factor:YF1:kind.secret").is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(sealer.open(&tampered, b"factor:YF1:kind.secret").is_err());
        assert!(
            sealer
                .open(&sealed[..5], b"factor:YF1:kind.secret")
                .is_err()
        );
    }

    #[test]
    fn a_rotating_sealer_seals_with_the_current_key_and_opens_with_any() {
        let old = AesGcmSealer::new(&[1; 32]).unwrap();
        let sealed_old = old.seal(b"secret", b"ctx").unwrap();
        let rotating = RotatingSealer::new(
            AesGcmSealer::new(&[2; 32]).unwrap(),
            vec![AesGcmSealer::new(&[1; 32]).unwrap()],
        )
        .unwrap();
        assert_eq!(&*rotating.open(&sealed_old, b"ctx").unwrap(), b"secret");
        let sealed_new = rotating.seal(b"secret", b"ctx").unwrap();
        assert!(old.open(&sealed_new, b"ctx").is_err());
        let current = AesGcmSealer::new(&[2; 32]).unwrap();
        assert_eq!(&*current.open(&sealed_new, b"ctx").unwrap(), b"secret");
        assert!(rotating.open(&sealed_old, b"other").is_err());
        let unknown = AesGcmSealer::new(&[3; 32])
            .unwrap()
            .seal(b"x", b"ctx")
            .unwrap();
        assert!(rotating.open(&unknown, b"ctx").is_err());
        let too_many = (0..=MAX_PREVIOUS_KEYS)
            .map(|_| AesGcmSealer::new(&[4; 32]).unwrap())
            .collect();
        assert!(RotatingSealer::new(AesGcmSealer::new(&[5; 32]).unwrap(), too_many).is_err());
    }

    #[test]
    fn hex_keys_are_exactly_64_digits() {
        assert!(AesGcmSealer::from_hex(&format!("{}\n", "ab".repeat(32))).is_ok());
        for bad in [
            "",
            "ab",
            &"ab".repeat(31),
            &"ab".repeat(33),
            &"zz".repeat(32),
            &format!("+{}", "a".repeat(63)),
        ] {
            assert!(AesGcmSealer::from_hex(bad).is_err(), "{bad}");
        }
    }
}
