//! Resource identifiers: a two-letter prefix and 32 hexadecimal digits.
//!
//! | type | prefix | resource |
//! |---|---|---|
//! | [`ServiceSid`] | `VA` | service |
//! | [`EntitySid`] | `YE` | entity |
//! | [`FactorSid`] | `YF` | factor |
//! | [`ChallengeSid`] | `YC` | challenge |
//! | [`AccessTokenSid`] | `YK` | enrollment access token |
//! | [`WebhookSid`] | `YW` | webhook |
//! | [`NotificationSid`] | `NT` | push notification |
//! | [`AccountSid`] | `AC` | the host's account (tenant), shown as `account_sid` |
//! | [`CredentialSid`] | `CR` | a push factor's key id (`config.credential_sid`) |
//!
//! The documents' pattern is `^XX[0-9a-fA-F]{32}$`: the prefix is exact, the hex digits
//! are parsed in either case and always written in lower case, so two spellings of one
//! id compare equal. New ids come from a caller-supplied RNG (128 random bits), never
//! from the OS.

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, RngCore};

use crate::error::ModelError;

/// Number of hex digits after the prefix.
pub const SID_HEX_DIGITS: usize = 32;
/// Total length of a sid: prefix plus hex digits.
pub const SID_LENGTH: usize = 2 + SID_HEX_DIGITS;

macro_rules! sid_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 16]);

        impl $name {
            /// The two-letter prefix of this kind of id.
            pub const PREFIX: &'static str = $prefix;

            /// A new random id drawn from `rng`.
            pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
                let mut bytes = [0_u8; 16];
                rng.fill_bytes(&mut bytes);
                Self(bytes)
            }

            /// The id whose 32 hex digits encode `bytes` (for tests and fixtures).
            #[must_use]
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The 16 bytes the hex digits encode.
            #[must_use]
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Parses `XX` + 32 hex digits (either case).
            ///
            /// # Errors
            /// [`ModelError::InvalidSid`] naming the expected prefix when the text
            /// does not match the pattern.
            pub fn parse(text: &str) -> Result<Self, ModelError> {
                parse_sid(text, $prefix).map(Self).ok_or(ModelError::InvalidSid {
                    expected_prefix: $prefix,
                    length: text.len(),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = encode_sid($prefix, &self.0);
                f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let text = encode_sid($prefix, &self.0);
                let text = std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(text)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

sid_type!(
    /// A service's id (`VA…`): one relying party / application configuration.
    ServiceSid,
    "VA"
);
sid_type!(
    /// An entity's id (`YE…`): one user of the host, named by its [`Identity`](crate::Identity).
    EntitySid,
    "YE"
);
sid_type!(
    /// A factor's id (`YF…`): one passkey, authenticator app or push device.
    FactorSid,
    "YF"
);
sid_type!(
    /// A challenge's id (`YC…`): one sign-in or approval request.
    ChallengeSid,
    "YC"
);
sid_type!(
    /// An enrollment access token's id (`YK…`).
    AccessTokenSid,
    "YK"
);
sid_type!(
    /// A webhook's id (`YW…`).
    WebhookSid,
    "YW"
);
sid_type!(
    /// The account (tenant) id (`AC…`) a host shows in `account_sid` and uses as the
    /// push JWT `sub`: one per deployment, chosen by the host.
    AccountSid,
    "AC"
);
sid_type!(
    /// A push factor's credential id (`CR…`): the `config.credential_sid` the SDKs
    /// put in their JWT `kid`.
    CredentialSid,
    "CR"
);
sid_type!(
    /// A push notification's id (`NT…`).
    NotificationSid,
    "NT"
);

fn parse_sid(text: &str, prefix: &str) -> Option<[u8; 16]> {
    let hex = text.strip_prefix(prefix)?.as_bytes();
    if hex.len() != SID_HEX_DIGITS {
        return None;
    }
    let mut bytes = [0_u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let [high, low] = *pair else { return None };
        *byte = (hex_value(high)? << 4) | hex_value(low)?;
    }
    Some(bytes)
}

/// `prefix` and the lower-case hex digits of `bytes`, as ASCII. Every view and
/// store key writes sids, so this avoids the formatter's per-byte `{:02x}`.
fn encode_sid(prefix: &str, bytes: &[u8; 16]) -> [u8; SID_LENGTH] {
    // `nibble` is 0..=15: a digit or a lower-case letter.
    let digit = |nibble: u8| {
        if nibble < 10 {
            b'0'.wrapping_add(nibble)
        } else {
            b'a'.wrapping_add(nibble.wrapping_sub(10))
        }
    };
    let mut text = [0_u8; SID_LENGTH];
    let (head, digits) = text.split_at_mut(2);
    head.copy_from_slice(prefix.as_bytes().get(..2).unwrap_or(b"??"));
    for (pair, byte) in digits.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0x0f)]);
    }
    text
}

const fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn parses_either_case_and_writes_lower_case() {
        let upper = FactorSid::parse("YF0123456789ABCDEF0123456789ABCDEF").unwrap();
        let lower = FactorSid::parse("YF0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.to_string(), "YF0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn rejects_wrong_prefix_length_and_digits() {
        for bad in [
            "",
            "YF",
            "YC0123456789abcdef0123456789abcdef",
            "yf0123456789abcdef0123456789abcdef",
            "YF0123456789abcdef0123456789abcde",
            "YF0123456789abcdef0123456789abcdef0",
            "YF0123456789abcdef0123456789abcdeg",
            "YF0123456789abcdef0123456789abcd\u{e9}",
        ] {
            let err = FactorSid::parse(bad).unwrap_err();
            assert_eq!(
                err,
                ModelError::InvalidSid {
                    expected_prefix: "YF",
                    length: bad.len()
                }
            );
        }
    }

    #[test]
    fn generated_ids_come_from_the_rng() {
        let mut a = ChaCha20Rng::seed_from_u64(7);
        let mut b = ChaCha20Rng::seed_from_u64(7);
        assert_eq!(
            ChallengeSid::generate(&mut a),
            ChallengeSid::generate(&mut b)
        );
        assert_ne!(
            ChallengeSid::generate(&mut a),
            ChallengeSid::generate(&mut a)
        );
    }

    #[test]
    fn serde_is_the_string_form() {
        let sid = ServiceSid::from_bytes([0xab; 16]);
        let json = serde_json::to_string(&sid).unwrap();
        assert_eq!(json, "\"VAabababababababababababababababab\"");
        assert_eq!(serde_json::from_str::<ServiceSid>(&json).unwrap(), sid);
        assert!(serde_json::from_str::<EntitySid>(&json).is_err());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(bytes in any::<[u8; 16]>()) {
            let sid = WebhookSid::from_bytes(bytes);
            let text = sid.to_string();
            prop_assert_eq!(text.len(), SID_LENGTH);
            let reference: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            prop_assert_eq!(&text, &format!("YW{reference}"));
            prop_assert_eq!(serde_json::to_value(sid).unwrap(), serde_json::Value::String(text.clone()));
            prop_assert_eq!(WebhookSid::parse(&text).unwrap(), sid);
            prop_assert_eq!(WebhookSid::parse(&format!("YW{}", text[2..].to_uppercase())).unwrap(), sid);
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = EntitySid::parse(&text);
        }
    }
}
