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
//! | `rustcrypto` (default) | [`RustCrypto`]: p256 | pure Rust, no C compiler |
//! | `ring` | `Ring` (feature `ring`): ring | about four times faster here |
//!
//! With both features, `ring` is the [`DefaultBackend`]; both stay usable by name
//! ([`DeviceKey::verify_raw_with`], [`DeviceKey::verify_der_with`]), so tests run the same
//! cases through each and check they agree.

#[cfg(not(any(feature = "rustcrypto", feature = "ring")))]
compile_error!("verify-push needs a signature backend: enable feature `rustcrypto` or `ring`");

use p256::ecdsa::Signature;
use p256::ecdsa::signature::Verifier as _;

use crate::binding::DeviceKey;

/// A signature backend: verifies an already parsed, low-S ECDSA P-256/SHA-256
/// signature by an already validated device key.
pub trait Backend {
    /// Whether `signature` is a valid signature of `message` (hashed with SHA-256
    /// here) by `key`.
    fn verify_es256(key: &DeviceKey, message: &[u8], signature: &Signature) -> bool;
}

/// The pure-Rust backend (p256).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct RustCrypto;

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
/// on, else [`RustCrypto`].
#[cfg(feature = "ring")]
pub type DefaultBackend = Ring;
/// The backend verify-push uses: `Ring` (feature `ring`) when the `ring` feature is
/// on, else [`RustCrypto`].
#[cfg(not(feature = "ring"))]
pub type DefaultBackend = RustCrypto;
