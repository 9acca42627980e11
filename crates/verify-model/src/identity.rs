//! [`Identity`]: the host's id for one of its users.

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, RngCore};

use crate::error::ModelError;
use crate::limits::{MAX_IDENTITY_LEN, MIN_IDENTITY_LEN};

/// The host's id for one of its users, naming an entity.
///
/// The rule (docs/api.md, "Conventions"): 8..=64 characters of dash-separated ASCII alphanumerics,
/// `[A-Za-z0-9]+(-[A-Za-z0-9]+)*`: no leading, trailing or doubled dash. It should be
/// immutable and must never be personal data (use a UUID, not an e-mail address).
/// Because it is ASCII alphanumerics and dashes, it is safe in a URL path as is.
///
/// Identities compare exactly (case-sensitive), as the service treats them.
///
/// ```
/// use verify_model::Identity;
/// assert!(Identity::parse("ff483d1f-f591-898a").is_ok());
/// assert!(Identity::parse("short").is_err());
/// assert!(Identity::parse("user@example.com").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity(String);

impl Identity {
    /// Checks `text` against the identity rule.
    ///
    /// # Errors
    /// [`ModelError::InvalidIdentity`] with the limits and the offending length when
    /// `text` is not 8..=64 characters of dash-separated ASCII alphanumerics.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let length = text.chars().count();
        let well_formed = (MIN_IDENTITY_LEN..=MAX_IDENTITY_LEN).contains(&length)
            && text
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(ModelError::InvalidIdentity {
                min: MIN_IDENTITY_LEN,
                max: MAX_IDENTITY_LEN,
                length,
            })
        }
    }

    /// A fresh identity of 32 lower-case hex digits drawn from `rng`, for a host
    /// that lets the service choose one (as the passkeys API does when the request
    /// omits it).
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0_u8; 16];
        rng.fill_bytes(&mut bytes);
        let mut text = String::with_capacity(32);
        for byte in bytes {
            text.push_str(&format!("{byte:02x}"));
        }
        Self(text)
    }

    /// The identity as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.0)
    }
}

impl FromStr for Identity {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Identity {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Identity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Identity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn length_boundaries() {
        assert!(Identity::parse(&"a".repeat(7)).is_err());
        assert!(Identity::parse(&"a".repeat(8)).is_ok());
        assert!(Identity::parse(&"a".repeat(64)).is_ok());
        assert_eq!(
            Identity::parse(&"a".repeat(65)),
            Err(ModelError::InvalidIdentity {
                min: 8,
                max: 64,
                length: 65
            })
        );
    }

    #[test]
    fn dash_rule() {
        assert!(Identity::parse("abcd-efgh-1234").is_ok());
        for bad in [
            "-abcdefgh",
            "abcdefgh-",
            "abcd--efgh",
            "abcd_efgh",
            "abcd efgh",
            "abcdéfgh",
            "User_UUID",
        ] {
            assert!(Identity::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn generated_identities_follow_the_rule() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let id = Identity::generate(&mut rng);
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(Identity::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn serde_validates() {
        let id: Identity = serde_json::from_str("\"ff483d1ff591898a9942916050d2ca3f\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"ff483d1ff591898a9942916050d2ca3f\""
        );
        assert!(serde_json::from_str::<Identity>("\"bad\"").is_err());
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_rule(text in "[A-Za-z0-9_ -]{0,70}") {
            let parts_ok = text.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
            let expected = (8..=64).contains(&text.len()) && parts_ok;
            prop_assert_eq!(Identity::parse(&text).is_ok(), expected);
        }
    }
}
