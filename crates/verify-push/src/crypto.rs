//! Device-signature verification behind one small trait, with two backends.
//!
//! Every signature verify-push checks (the factor's `AuthPayload`, request JWTs,
//! approve/deny answers) is ECDSA over P-256 with SHA-256 by the device key. The
//! encoding checks are shared: a [`DeviceKey`] is parsed and its point validated
//! once, with p256, and every signature is parsed (DER or raw `r ‖ s`, scalars in
//! range) and its `s` normalized before a backend sees it. A backend only does the
//! arithmetic:
//!
//! | feature | backend | note |
//! |---|---|---|
//! | `rustcrypto` (default) | `RustCrypto` (feature `rustcrypto`): p256 | pure Rust, no C compiler |
//! | `ring` | `Ring` (feature `ring`): ring | about four times faster here |
//!
//! With both features, `ring` is the [`DefaultBackend`]; both stay usable by name
//! ([`DeviceKey::verify_raw_with`], [`DeviceKey::verify_der_with`]), so tests run the same
//! cases through each and check they agree.

#[cfg(not(any(feature = "rustcrypto", feature = "ring")))]
compile_error!("verify-push needs a signature backend: enable feature `rustcrypto` or `ring`");

#[cfg(feature = "rustcrypto")]
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{DerSignature, Signature};

use crate::binding::DeviceKey;
use crate::error::{FactorError, JwsError, PushError};

/// A signature backend: verifies an already parsed, low-S ECDSA P-256/SHA-256
/// signature by an already validated device key.
pub trait Backend {
    /// Whether `signature` is a valid signature of `message` (hashed with SHA-256
    /// here) by `key`.
    fn verify_es256(key: &DeviceKey, message: &[u8], signature: &Signature) -> bool;
}

/// The pure-Rust backend (p256).
#[cfg(feature = "rustcrypto")]
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct RustCrypto;

#[cfg(feature = "rustcrypto")]
impl Backend for RustCrypto {
    fn verify_es256(key: &DeviceKey, message: &[u8], signature: &Signature) -> bool {
        key.p256_key().verify(message, signature).is_ok()
    }
}

/// The ring backend: the device key's uncompressed SEC1 point and the fixed-size
/// `r ‖ s` signature go to ring's `ECDSA_P256_SHA256_FIXED`.
#[cfg(feature = "ring")]
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Ring;

#[cfg(feature = "ring")]
impl Backend for Ring {
    fn verify_es256(key: &DeviceKey, message: &[u8], signature: &Signature) -> bool {
        let raw = signature.to_bytes();
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            key.sec1_point(),
        )
        .verify(message, &raw[..])
        .is_ok()
    }
}

/// The backend verify-push uses: `Ring` (feature `ring`) when the `ring` feature is
/// on, else `RustCrypto`.
#[cfg(feature = "ring")]
pub type DefaultBackend = Ring;
/// The backend verify-push uses: `Ring` (feature `ring`) when the `ring` feature is
/// on, else `RustCrypto`.
#[cfg(not(feature = "ring"))]
pub type DefaultBackend = RustCrypto;

// The signature checks of a device key live here, beside the backends they take, so
// that the key's parsing (binding.rs) does not depend on the backends and this module
// depends on the key, not both ways.
impl DeviceKey {
    /// Verifies a DER ECDSA signature over `message` (high-S accepted).
    pub(crate) fn verify_der(&self, message: &[u8], der_sig: &[u8]) -> Result<(), PushError> {
        self.verify_der_with::<DefaultBackend>(message, der_sig)
    }

    /// Verifies a DER ECDSA signature over `message` (high-S accepted) with a backend
    /// named by the caller: the factor-verification `AuthPayload` encoding (ASN.1 DER
    /// `Ecdsa-Sig-Value`).
    ///
    /// # Errors
    /// [`FactorError::NotDerSignature`] for bytes that are not a DER signature with
    /// both scalars in range; [`PushError::SignatureInvalid`] for a signature that
    /// does not verify.
    pub fn verify_der_with<B: Backend>(
        &self,
        message: &[u8],
        der_sig: &[u8],
    ) -> Result<(), PushError> {
        let sig = DerSignature::from_bytes(der_sig).map_err(|_| FactorError::NotDerSignature)?;
        let sig = Signature::try_from(sig).map_err(|_| FactorError::NotDerSignature)?;
        self.verify_signature::<B>(message, &sig)
    }

    /// Verifies a raw JWS ES256 signature over `message` with the default backend;
    /// see [`verify_raw_with`](Self::verify_raw_with).
    pub(crate) fn verify_raw(&self, message: &[u8], raw: &[u8]) -> Result<(), PushError> {
        self.verify_raw_with::<DefaultBackend>(message, raw)
    }

    /// Verifies a raw JWS ES256 signature (`r || s`, 64 bytes) over `message`, with a
    /// backend named by the caller (the JWS encoding of request JWTs and answers).
    ///
    /// A 63-byte signature is the iOS SDK quirk (docs/push-protocol.md, section 6): its DER-to-raw
    /// conversion left-pads a short DER integer with exactly one zero byte, so an `r`
    /// or `s` below 2^239 (a 30-byte DER integer, about one signature in 2^16) comes
    /// out as 31 bytes. Which half is short cannot be told from the bytes, so both
    /// readings are tried: `0 || sig` (short `r`) and `sig[..32] || 0 || sig[32..]`
    /// (short `s`). Each is a complete ECDSA verification over the same message, so
    /// accepting either gives a forger at most a factor of two, and an honest device's
    /// answer is not lost. Every other length (62 bytes: both halves short, about one
    /// in 2^34) is refused.
    ///
    /// # Errors
    /// [`JwsError::SignatureLength`] for a length other than 63 or 64;
    /// [`PushError::SignatureInvalid`] for scalars out of range or a signature that
    /// does not verify.
    pub fn verify_raw_with<B: Backend>(&self, message: &[u8], raw: &[u8]) -> Result<(), PushError> {
        match raw.len() {
            64 => {
                let sig = Signature::from_slice(raw).map_err(|_| PushError::SignatureInvalid)?;
                self.verify_signature::<B>(message, &sig)
            }
            63 => {
                let (head, tail) = raw
                    .split_at_checked(32)
                    .ok_or(PushError::SignatureInvalid)?;
                let short_r = [&[0_u8][..], raw].concat();
                let short_s = [head, &[0_u8][..], tail].concat();
                [short_r, short_s]
                    .iter()
                    .filter_map(|bytes| Signature::from_slice(bytes).ok())
                    .find(|sig| self.verify_signature::<B>(message, sig).is_ok())
                    .map(|_| ())
                    .ok_or(PushError::SignatureInvalid)
            }
            length => Err(JwsError::SignatureLength { length }.into()),
        }
    }

    fn verify_signature<B: Backend>(
        &self,
        message: &[u8],
        sig: &Signature,
    ) -> Result<(), PushError> {
        // ECDSA (r, s) and (r, n - s) are both valid; the SDKs do not normalize, so a
        // high-S signature is accepted by checking its low-S twin (the same input for
        // every backend, whatever each does with high S).
        let sig = sig.normalize_s().unwrap_or(*sig);
        if B::verify_es256(self, message, &sig) {
            Ok(())
        } else {
            Err(PushError::SignatureInvalid)
        }
    }
}
