//! The two base64 alphabets of the push wire format, strict: standard with padding
//! (what the SDKs send for keys and payloads) and base64url without padding (JWS).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::error::{Encoded, PushError};

/// Decodes standard base64 with canonical padding (what the SDKs send for
/// `Binding.PublicKey` and the factor `AuthPayload`). Unpadded text, whitespace and
/// non-zero trailing bits are refused.
pub(crate) fn standard(text: &str, what: Encoded) -> Result<Vec<u8>, PushError> {
    STANDARD
        .decode(text)
        .map_err(|_| PushError::Base64 { what })
}

/// Decodes base64url without padding (RFC 7515 §2 `BASE64URL`): `=`, `+`, `/` and
/// non-zero trailing bits are refused.
pub(crate) fn url(text: &str, what: Encoded) -> Result<Vec<u8>, PushError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| PushError::Base64 { what })
}

/// Encodes base64url without padding.
pub(crate) fn url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_places_are_strict() {
        assert!(standard("AAAA", Encoded::BindingPublicKey).is_ok());
        assert!(standard("AA==", Encoded::BindingPublicKey).is_ok());
        assert!(standard("AA", Encoded::BindingPublicKey).is_err());
        assert!(standard("AB==", Encoded::BindingPublicKey).is_err());
        assert!(standard("AA==\n", Encoded::BindingPublicKey).is_err());
        assert!(url("AA", Encoded::JwsPayload).is_ok());
        assert!(url("AA==", Encoded::JwsPayload).is_err());
        assert!(url("+/", Encoded::JwsPayload).is_err());
    }
}
