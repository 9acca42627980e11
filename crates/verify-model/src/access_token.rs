//! [`AccessToken`]: a single-use enrollment token a host mints so a device can create
//! its push factor.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Field, ModelError};
use crate::factor::{FactorType, next_version};
use crate::id::{AccessTokenSid, ServiceSid};
use crate::identity::Identity;
use crate::limits::{
    ACCESS_TOKEN_BYTES, DEFAULT_ACCESS_TOKEN_TTL, MAX_ACCESS_TOKEN_TTL,
    MAX_FACTOR_FRIENDLY_NAME_LEN, MIN_ACCESS_TOKEN_TTL,
};
use crate::secret::SecretBytes;
use crate::text::FriendlyName;
use crate::time::UnixTime;

/// The input of [`AccessToken::issue`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewAccessToken {
    /// The service.
    pub service_sid: ServiceSid,
    /// The entity the device will enroll for.
    pub identity: Identity,
    /// The factor type (only `push` uses access tokens).
    pub factor_type: FactorType,
    /// `factor_friendly_name` the factor will get, if the host fixes it.
    pub factor_friendly_name: Option<String>,
    /// `ttl` (60..=300 s, default 60).
    pub ttl: Duration,
}

impl NewAccessToken {
    /// A push enrollment token for `identity` with the default TTL.
    #[must_use]
    pub const fn new(service_sid: ServiceSid, identity: Identity) -> Self {
        Self {
            service_sid,
            identity,
            factor_type: FactorType::Push,
            factor_friendly_name: None,
            ttl: DEFAULT_ACCESS_TOKEN_TTL,
        }
    }

    /// With a TTL.
    #[must_use]
    pub const fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// With a fixed factor friendly name.
    #[must_use]
    pub fn with_factor_friendly_name(mut self, name: &str) -> Self {
        self.factor_friendly_name = Some(name.to_owned());
        self
    }
}

/// An enrollment access token: bound to a service, an identity and the factor type
/// push; valid for its TTL; redeemable once. The token value is 32 random bytes
/// (unpadded base64url); the stored token is compared in constant time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    sid: AccessTokenSid,
    service_sid: ServiceSid,
    identity: Identity,
    factor_type: FactorType,
    factor_friendly_name: Option<FriendlyName>,
    #[serde(deserialize_with = "de_ttl")]
    ttl: u64,
    date_created: UnixTime,
    token: SecretBytes,
    used: bool,
    version: u64,
}

fn check_ttl(ttl: u64) -> Result<u64, ModelError> {
    let (min, max) = (
        MIN_ACCESS_TOKEN_TTL.as_secs(),
        MAX_ACCESS_TOKEN_TTL.as_secs(),
    );
    if ttl < min || ttl > max {
        return Err(ModelError::ValueOutOfRange {
            field: Field::AccessTokenTtl,
            min,
            max,
            value: ttl,
        });
    }
    Ok(ttl)
}

fn de_ttl<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    check_ttl(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

impl AccessToken {
    /// Mints a token. Returns the token and its value to hand to the device once
    /// (it is also in [`AccessTokenJson`](crate::api::AccessTokenJson) of the
    /// creation response).
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] for a TTL outside 60..=300 s;
    /// [`ModelError::FactorTypeMismatch`] for a type other than push;
    /// [`ModelError::LengthOutOfRange`] for a friendly name over 64 characters.
    pub fn issue<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        input: NewAccessToken,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<Self, ModelError> {
        let ttl = input.ttl.as_secs();
        let (min, max) = (
            MIN_ACCESS_TOKEN_TTL.as_secs(),
            MAX_ACCESS_TOKEN_TTL.as_secs(),
        );
        if ttl < min || ttl > max {
            return Err(ModelError::ValueOutOfRange {
                field: Field::AccessTokenTtl,
                min,
                max,
                value: ttl,
            });
        }
        if input.factor_type != FactorType::Push {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Push,
                got: input.factor_type,
            });
        }
        let factor_friendly_name = input
            .factor_friendly_name
            .as_deref()
            .map(|name| {
                FriendlyName::new(
                    Field::AccessTokenFactorFriendlyName,
                    name,
                    MAX_FACTOR_FRIENDLY_NAME_LEN,
                )
            })
            .transpose()?;
        Ok(Self {
            sid: AccessTokenSid::generate(rng),
            service_sid: input.service_sid,
            identity: input.identity,
            factor_type: input.factor_type,
            factor_friendly_name,
            ttl,
            date_created: now,
            token: SecretBytes::generate(rng, ACCESS_TOKEN_BYTES),
            used: false,
            version: 0,
        })
    }

    /// The token value for the device (unpadded base64url). Secret: send it once.
    #[must_use]
    pub fn token(&self) -> Zeroizing<String> {
        Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.token.expose_secret()),
        )
    }

    /// When the token stops being valid.
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        UnixTime::from_secs(self.date_created.as_secs().saturating_add(self.ttl))
    }

    /// Redeems the token presented by the device: checks it (constant time), its
    /// lifetime and that it is unused, and returns the token marked used (version + 1)
    /// for a compare-and-set write.
    ///
    /// # Errors
    /// [`ModelError::AccessTokenInvalid`] when `presented` does not match (opaque);
    /// [`ModelError::AccessTokenExpired`] at or after [`AccessToken::expires_at`];
    /// [`ModelError::AccessTokenUsed`] when already redeemed.
    pub fn redeem(&self, presented: &str, now: UnixTime) -> Result<Self, ModelError> {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(presented.as_bytes())
                .unwrap_or_default(),
        );
        if !self.token.ct_eq_bytes(&decoded) {
            return Err(ModelError::AccessTokenInvalid);
        }
        let expired_at = self.expires_at();
        if now >= expired_at {
            return Err(ModelError::AccessTokenExpired { expired_at, now });
        }
        if self.used {
            return Err(ModelError::AccessTokenUsed);
        }
        let mut next = self.clone();
        next.used = true;
        next.version = next_version(self.version)?;
        Ok(next)
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> AccessTokenSid {
        self.sid
    }

    /// The service.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service_sid
    }

    /// The identity it enrolls.
    #[must_use]
    pub const fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The factor type (push).
    #[must_use]
    pub const fn factor_type(&self) -> FactorType {
        self.factor_type
    }

    /// The fixed factor friendly name, if any.
    #[must_use]
    pub const fn factor_friendly_name(&self) -> Option<&FriendlyName> {
        self.factor_friendly_name.as_ref()
    }

    /// `ttl` in seconds.
    #[must_use]
    pub const fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl)
    }

    /// `date_created`.
    #[must_use]
    pub const fn date_created(&self) -> UnixTime {
        self.date_created
    }

    /// Whether it was redeemed.
    #[must_use]
    pub const fn is_used(&self) -> bool {
        self.used
    }

    /// The compare-and-set version.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn input() -> NewAccessToken {
        NewAccessToken::new(
            ServiceSid::from_bytes([1; 16]),
            Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap(),
        )
    }

    #[test]
    fn ttl_boundaries() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let now = UnixTime::from_secs(10_000);
        for (secs, ok) in [(59, false), (60, true), (300, true), (301, false)] {
            let result =
                AccessToken::issue(input().with_ttl(Duration::from_secs(secs)), now, &mut rng);
            assert_eq!(result.is_ok(), ok, "{secs}");
        }
        let default = AccessToken::issue(input(), now, &mut rng).unwrap();
        assert_eq!(default.ttl(), Duration::from_secs(60));
    }

    #[test]
    fn redeem_once_within_ttl() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let now = UnixTime::from_secs(10_000);
        let token = AccessToken::issue(input(), now, &mut rng).unwrap();
        let value = token.token();
        assert_eq!(
            token.redeem("wrong", now).unwrap_err(),
            ModelError::AccessTokenInvalid
        );
        let used = token.redeem(&value, UnixTime::from_secs(10_059)).unwrap();
        assert!(used.is_used());
        assert_eq!(used.version(), 1);
        assert_eq!(
            used.redeem(&value, now).unwrap_err(),
            ModelError::AccessTokenUsed
        );
        assert_eq!(
            token
                .redeem(&value, UnixTime::from_secs(10_060))
                .unwrap_err(),
            ModelError::AccessTokenExpired {
                expired_at: UnixTime::from_secs(10_060),
                now: UnixTime::from_secs(10_060)
            }
        );
        assert!(!format!("{token:?}").contains(value.as_str()));
        let mut record = serde_json::to_value(&token).unwrap();
        assert_eq!(
            serde_json::from_value::<AccessToken>(record.clone()).unwrap(),
            token
        );
        record["ttl"] = 301.into();
        assert!(serde_json::from_value::<AccessToken>(record).is_err());
    }
}
