//! base64url (RFC 4648 §5): tolerant of padding on input, unpadded on output.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::error::ParseError;

const DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes `bytes` as unpadded base64url.
#[must_use]
pub fn encode(bytes: &[u8]) -> String {
    DECODER.encode(bytes)
}

/// Decodes base64url with or without padding.
///
/// # Errors
/// [`ParseError::Base64`] naming `field` when `text` is not base64url.
pub fn decode(text: &str, field: &'static str) -> Result<Vec<u8>, ParseError> {
    DECODER
        .decode(text)
        .map_err(|_| ParseError::Base64 { field })
}

/// Bytes that serialize as unpadded base64url and deserialize from base64url with or
/// without padding.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
#[expect(
    clippy::exhaustive_structs,
    reason = "a transparent newtype over bytes"
)]
pub struct Base64UrlBytes(pub Vec<u8>);

impl Base64UrlBytes {
    /// The bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Base64UrlBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b64u\"{}\"", encode(&self.0))
    }
}

impl From<Vec<u8>> for Base64UrlBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl serde::Serialize for Base64UrlBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Base64UrlBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DECODER
            .decode(text.as_bytes())
            .map(Self)
            .map_err(|_| serde::de::Error::custom("not valid base64url"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn padding_is_optional_on_input_and_absent_on_output() {
        assert_eq!(encode(b"ab"), "YWI");
        assert_eq!(decode("YWI", "x").unwrap(), b"ab");
        assert_eq!(decode("YWI=", "x").unwrap(), b"ab");
        assert_eq!(decode("-_8", "x").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode("+/8", "x"), Err(ParseError::Base64 { field: "x" }));
        assert_eq!(decode("Y", "x"), Err(ParseError::Base64 { field: "x" }));
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(decode(&encode(&bytes), "x").unwrap(), bytes);
        }

        #[test]
        fn never_panics(text in ".{0,64}") {
            let _ = decode(&text, "x");
        }
    }
}
