//! The `Ring` backend (not yet built: every call fails closed).

use super::{Backend, CryptoError, PublicKeyMaterial, SignatureAlgorithm};

/// The Ring signature backend.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Ring;

impl Backend for Ring {
    type Key = ();

    fn parse_key(
        algorithm: SignatureAlgorithm,
        _material: &PublicKeyMaterial<'_>,
    ) -> Result<Self::Key, CryptoError> {
        Err(CryptoError::InvalidKey { algorithm })
    }

    fn verify(_key: &Self::Key, _message: &[u8], _signature: &[u8]) -> Result<(), CryptoError> {
        Err(CryptoError::SignatureInvalid)
    }
}
