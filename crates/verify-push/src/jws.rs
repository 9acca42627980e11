//! Compact JWS (RFC 7515 §7.1) as the SDKs produce it: ES256 only.
//!
//! The signature is checked over the bytes received (`seg0.seg1`), never over a
//! re-serialization: the SDKs escape `/` as `\/` and order keys freely.
//!
//! Segments are base64url without padding, exactly as RFC 7515 §2 defines
//! `BASE64URL`: `=` padding, the standard alphabet's `+` and `/`, whitespace and
//! non-zero trailing bits are refused (the SDK vectors use this encoding).

use serde_json::{Map, Value};

use crate::b64;
use crate::binding::DeviceKey;
use crate::error::{Encoded, JwsError, PushError};
use crate::strict_json::parse_object;

/// The only JWS algorithm accepted.
pub const JWS_ALG: &str = "ES256";
/// Longest protected header accepted, in decoded bytes.
const MAX_HEADER_BYTES: usize = 1024;

/// A parsed compact JWS whose signature has **not** been checked yet.
///
/// Obtain one with [`CompactJws::parse`]; read nothing from the payload before
/// [`CompactJws::verify`] succeeds (the approval and request checks of this crate do
/// that for you).
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    signing_input: &'a str,
    header: Map<String, Value>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes a compact JWS of at most `max_len` characters, checking the
    /// header: `alg` must be `ES256`, `crit` must be absent, `typ` (if present) must be
    /// `JWT`, and the signature must be 64 bytes (63 is tolerated: see the crate
    /// documentation on the iOS quirk).
    ///
    /// # Errors
    /// [`PushError::Jws`], [`PushError::Base64`] or [`PushError::Json`] naming the defect.
    pub fn parse(text: &'a str, max_len: usize) -> Result<Self, PushError> {
        let decoded = Decoded::parse(text, max_len)?;
        let signing_input = text
            .get(..decoded.signing_input_len)
            .ok_or(JwsError::SegmentCount { got: 0 })?;
        Ok(Self {
            signing_input,
            header: decoded.header,
            payload: decoded.payload,
            signature: decoded.signature,
        })
    }

    /// The protected header (already checked for `alg`, `crit` and `typ`).
    #[must_use]
    pub const fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// A string header member, if present.
    #[must_use]
    pub fn header_str(&self, member: &str) -> Option<&str> {
        self.header.get(member).and_then(Value::as_str)
    }

    /// Checks the signature with `key` over the received `seg0.seg1` and returns the
    /// payload bytes.
    ///
    /// # Errors
    /// [`PushError::SignatureInvalid`] when the signature does not verify.
    pub fn verify(&self, key: &DeviceKey) -> Result<&[u8], PushError> {
        key.verify_raw(self.signing_input.as_bytes(), &self.signature)?;
        Ok(&self.payload)
    }
}

/// The decoded segments of a compact JWS and where its signing input ends.
#[derive(Clone)]
struct Decoded {
    signing_input_len: usize,
    header: Map<String, Value>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Decoded {
    fn parse(text: &str, max_len: usize) -> Result<Self, PushError> {
        if text.len() > max_len {
            return Err(JwsError::TooLong {
                length: text.len(),
                max: max_len,
            }
            .into());
        }
        let mut segments = text.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(JwsError::SegmentCount {
                got: text.split('.').count(),
            }
            .into());
        };
        let signing_input_len = header.len().saturating_add(1).saturating_add(payload.len());
        let header_bytes = b64::url(header, Encoded::JwsHeader)?;
        let header = parse_object(&header_bytes, MAX_HEADER_BYTES)?;
        check_header(&header)?;
        let payload = b64::url(payload, Encoded::JwsPayload)?;
        let signature = b64::url(signature, Encoded::JwsSignature)?;
        if !matches!(signature.len(), 63 | 64) {
            return Err(JwsError::SignatureLength {
                length: signature.len(),
            }
            .into());
        }
        Ok(Self {
            signing_input_len,
            header,
            payload,
            signature,
        })
    }
}

/// A compact JWS parsed once, as [`CompactJws`], that owns its text: what a value
/// kept across calls (a request JWT from a header, checked later against the key its
/// `kid` names) holds, so it is never split and decoded again.
#[derive(Clone)]
pub(crate) struct OwnedJws {
    text: String,
    decoded: Decoded,
}

impl OwnedJws {
    /// As [`CompactJws::parse`].
    pub(crate) fn parse(text: &str, max_len: usize) -> Result<Self, PushError> {
        let decoded = Decoded::parse(text, max_len)?;
        Ok(Self {
            text: text.to_owned(),
            decoded,
        })
    }

    /// The protected header (already checked for `alg`, `crit` and `typ`).
    pub(crate) const fn header(&self) -> &Map<String, Value> {
        &self.decoded.header
    }

    /// As [`CompactJws::verify`].
    pub(crate) fn verify(&self, key: &DeviceKey) -> Result<&[u8], PushError> {
        let signing_input = self
            .text
            .get(..self.decoded.signing_input_len)
            .ok_or(JwsError::SegmentCount { got: 0 })?;
        key.verify_raw(signing_input.as_bytes(), &self.decoded.signature)?;
        Ok(&self.decoded.payload)
    }
}

fn check_header(header: &Map<String, Value>) -> Result<(), JwsError> {
    match header.get("alg") {
        None => return Err(JwsError::MissingAlg),
        Some(Value::String(alg)) if alg == JWS_ALG => {}
        Some(Value::String(alg)) => return Err(JwsError::UnsupportedAlg { length: alg.len() }),
        Some(_) => return Err(JwsError::HeaderMember { member: "alg" }),
    }
    if header.contains_key("crit") {
        return Err(JwsError::CriticalExtension);
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
        Some(_) => return Err(JwsError::HeaderMember { member: "typ" }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(header: &str, payload: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::url_encode(header.as_bytes()),
            b64::url_encode(payload.as_bytes()),
            b64::url_encode(signature)
        )
    }

    #[test]
    fn needs_three_segments() {
        for (text, got) in [
            ("", 1),
            ("a", 1),
            ("a.b", 2),
            ("a.b.c.d", 4),
            ("a.b.c.d.e", 5),
        ] {
            assert_eq!(
                CompactJws::parse(text, 100).unwrap_err(),
                PushError::Jws(JwsError::SegmentCount { got })
            );
        }
    }

    #[test]
    fn refuses_other_algs_and_crit() {
        for (header, expected) in [
            (r#"{"alg":"none"}"#, JwsError::UnsupportedAlg { length: 4 }),
            (r#"{"alg":"HS256"}"#, JwsError::UnsupportedAlg { length: 5 }),
            (r#"{"alg":"es256"}"#, JwsError::UnsupportedAlg { length: 5 }),
            (r#"{"typ":"JWT"}"#, JwsError::MissingAlg),
            (r#"{"alg":1}"#, JwsError::HeaderMember { member: "alg" }),
            (
                r#"{"alg":"ES256","crit":["b64"]}"#,
                JwsError::CriticalExtension,
            ),
            (
                r#"{"alg":"ES256","typ":"JOSE"}"#,
                JwsError::HeaderMember { member: "typ" },
            ),
        ] {
            let text = jws(header, "{}", &[1; 64]);
            assert_eq!(
                CompactJws::parse(&text, 1000).unwrap_err(),
                PushError::Jws(expected),
                "{header}"
            );
        }
    }

    #[test]
    fn refuses_der_and_odd_signature_lengths() {
        for length in [0, 1, 62, 65, 70, 71, 72] {
            let text = jws(r#"{"alg":"ES256"}"#, "{}", &vec![0x30; length]);
            assert_eq!(
                CompactJws::parse(&text, 1000).unwrap_err(),
                PushError::Jws(JwsError::SignatureLength { length })
            );
        }
        let text = jws(r#"{"alg":"ES256"}"#, "{}", &[1; 64]);
        assert!(CompactJws::parse(&text, 1000).is_ok());
    }

    #[test]
    fn refuses_padding_and_standard_alphabet() {
        let good = jws(r#"{"alg":"ES256"}"#, "{}", &[0xfb; 64]);
        assert!(CompactJws::parse(&good, 1000).is_ok());
        let standard_alphabet = good.replace('-', "+").replace('_', "/");
        assert_ne!(standard_alphabet, good);
        assert!(matches!(
            CompactJws::parse(&standard_alphabet, 1000),
            Err(PushError::Base64 { .. })
        ));
        let padded = format!("{good}==");
        assert!(matches!(
            CompactJws::parse(&padded, 1000),
            Err(PushError::Base64 { .. })
        ));
    }

    #[test]
    fn bounds_length_and_header_duplicates() {
        let text = jws(r#"{"alg":"ES256"}"#, "{}", &[1; 64]);
        assert!(matches!(
            CompactJws::parse(&text, 10),
            Err(PushError::Jws(JwsError::TooLong { .. }))
        ));
        let dup = jws(r#"{"alg":"ES256","alg":"none"}"#, "{}", &[1; 64]);
        assert!(matches!(
            CompactJws::parse(&dup, 1000),
            Err(PushError::Json(
                crate::error::JsonError::DuplicateKey { .. }
            ))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[A-Za-z0-9_.=+/-]{0,200}") {
            let _ = CompactJws::parse(&text, 5456);
        }
    }
}
