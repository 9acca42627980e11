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
