//! The engine's randomness: any `rand_core` cryptographic RNG the host injects,
//! behind a mutex (the engine is shared between tasks), or the OS RNG (feature
//! `os-rng`).

use std::sync::Mutex;

use rand_core::{CryptoRng, RngCore};

use crate::error::VerifyError;

/// A cryptographic RNG the engine can own and share: `RngCore + CryptoRng + Send`.
/// Implemented for every such type.
pub trait EngineRng: RngCore + CryptoRng + Send {}

impl<R: RngCore + CryptoRng + Send> EngineRng for R {}

/// The shared RNG. Locked only around synchronous draws, never across an `.await`.
pub(crate) struct SharedRng(Mutex<Box<dyn EngineRng>>);

impl SharedRng {
    pub(crate) fn new<R: EngineRng + 'static>(rng: R) -> Self {
        Self(Mutex::new(Box::new(rng)))
    }

    /// Runs `f` with the RNG.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn EngineRng) -> T,
    ) -> Result<T, VerifyError> {
        let mut guard = self.0.lock().map_err(|_| VerifyError::RngUnavailable)?;
        Ok(f(&mut **guard))
    }
}

impl std::fmt::Debug for SharedRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedRng(..)")
    }
}
