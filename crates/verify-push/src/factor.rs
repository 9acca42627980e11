//! Factor verification: the device proves it holds the key by signing the factor sid.
//!
//! `AuthPayload` = standard base64 (padded) of the DER ECDSA signature over the UTF-8
//! bytes of the factor sid, exactly as the SDKs send it (unpadded text is refused).

use std::time::Duration;

use verify_model::{FactorSid, UnixTime};

use crate::b64;
use crate::binding::DeviceKey;
use crate::error::{Encoded, FactorError, PushError};

/// Default lifetime of an unverified factor (24 h).
pub const DEFAULT_UNVERIFIED_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Shortest configurable unverified lifetime (1 h).
pub const MIN_UNVERIFIED_LIFETIME: Duration = Duration::from_secs(3600);
/// Longest DER ECDSA P-256 signature (72 bytes) in padded base64.
const MAX_FACTOR_AUTH_PAYLOAD: usize = 96;

/// Whether a factor has been verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FactorStatus {
    /// Created, not yet proven.
    Unverified,
    /// Proven: usable for challenges.
    Verified,
}

/// A push factor as stored, as far as its verification needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FactorToVerify<'a> {
    /// The factor's sid (what the device signs).
    pub sid: FactorSid,
    /// Its device key.
    pub key: &'a DeviceKey,
    /// Its status.
    pub status: FactorStatus,
    /// When it was created.
    pub created_at: UnixTime,
    /// How long it may stay unverified (1..24 h, default 24 h).
    pub unverified_lifetime: Duration,
}

impl<'a> FactorToVerify<'a> {
    /// A factor with the default unverified lifetime.
    #[must_use]
    pub const fn new(
        sid: FactorSid,
        key: &'a DeviceKey,
        status: FactorStatus,
        created_at: UnixTime,
    ) -> Self {
        Self {
            sid,
            key,
            status,
            created_at,
            unverified_lifetime: DEFAULT_UNVERIFIED_LIFETIME,
        }
    }

    /// Sets the unverified lifetime.
    ///
    /// # Errors
    /// [`FactorError::LifetimeOutOfRange`] outside 1..=24 hours.
    pub fn with_unverified_lifetime(mut self, lifetime: Duration) -> Result<Self, FactorError> {
        if !(MIN_UNVERIFIED_LIFETIME..=DEFAULT_UNVERIFIED_LIFETIME).contains(&lifetime) {
            return Err(FactorError::LifetimeOutOfRange {
                seconds: lifetime.as_secs(),
            });
        }
        self.unverified_lifetime = lifetime;
        Ok(self)
    }

    /// When the unverified factor stops being usable.
    #[must_use]
    pub const fn unverified_until(&self) -> UnixTime {
        self.created_at.saturating_add(self.unverified_lifetime)
    }
}

/// Proof that a factor's device holds its key: the engine marks the factor verified
/// (compare-and-set from unverified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "mark the factor verified"]
#[non_exhaustive]
pub struct FactorVerified {
    /// The factor that proved possession.
    pub factor_sid: FactorSid,
}

/// Checks a factor verification `AuthPayload` at `now`.
///
/// # Errors
/// [`FactorError::AlreadyVerified`], [`FactorError::UnverifiedExpired`] (at or after
/// `created_at + unverified_lifetime`), [`PushError::Base64`] for text that is not
/// padded standard base64, [`FactorError::NotDerSignature`], or the opaque
/// [`PushError::SignatureInvalid`].
pub fn verify_factor(
    factor: &FactorToVerify<'_>,
    auth_payload: &str,
    now: UnixTime,
) -> Result<FactorVerified, PushError> {
    if factor.status != FactorStatus::Unverified {
        return Err(FactorError::AlreadyVerified.into());
    }
    let expired_at = factor.unverified_until();
    if now >= expired_at {
        return Err(FactorError::UnverifiedExpired { expired_at, now }.into());
    }
    if auth_payload.len() > MAX_FACTOR_AUTH_PAYLOAD {
        return Err(FactorError::NotDerSignature.into());
    }
    let der = b64::standard(auth_payload, Encoded::FactorAuthPayload)?;
    factor
        .key
        .verify_der(factor.sid.to_string().as_bytes(), &der)?;
    Ok(FactorVerified {
        factor_sid: factor.sid,
    })
}
