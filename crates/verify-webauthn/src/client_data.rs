//! `CollectedClientData` (WebAuthn L3 §5.8.1): parsed from the bytes as received,
//! hashed as received, never re-serialized.

use subtle::ConstantTimeEq as _;

use crate::base64url;
use crate::error::{ParseError, WebauthnError};
use crate::limits::MAX_CLIENT_DATA_JSON_BYTES;
use crate::policy::CrossOriginPolicy;

/// The ceremony a client data belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CeremonyType {
    /// Registration: `"webauthn.create"`.
    Create,
    /// Authentication: `"webauthn.get"`.
    Get,
}

impl CeremonyType {
    /// The `type` member's value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

/// The members of `clientDataJSON` a relying party checks. Unknown members are ignored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CollectedClientData {
    /// `type`.
    #[serde(rename = "type")]
    pub ceremony_type: String,
    /// `challenge`, base64url as the client wrote it.
    pub challenge: String,
    /// `origin`.
    pub origin: String,
    /// `crossOrigin`, if present.
    #[serde(default)]
    pub cross_origin: Option<bool>,
    /// `topOrigin`, if present.
    #[serde(default)]
    pub top_origin: Option<String>,
}

impl CollectedClientData {
    /// Parses `clientDataJSON` bytes.
    ///
    /// # Errors
    /// [`ParseError::TooLarge`] above [`MAX_CLIENT_DATA_JSON_BYTES`],
    /// [`ParseError::Json`] for invalid JSON, a missing or mistyped member or a
    /// duplicated one.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        if bytes.len() > MAX_CLIENT_DATA_JSON_BYTES {
            return Err(ParseError::TooLarge {
                field: "clientDataJSON",
                len: bytes.len(),
                max: MAX_CLIENT_DATA_JSON_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json {
            field: "clientDataJSON",
            reason: e.to_string(),
        })
    }

    /// The challenge bytes this client data **claims** (the decoded `challenge`
    /// member).
    ///
    /// Untrusted: anyone can write any challenge into a `clientDataJSON`. Use it only
    /// to route a response to the stored ceremony it names (see
    /// [`start_registration_with_prefix`](crate::registration::start_registration_with_prefix));
    /// [`CollectedClientData::check`] then compares the full stored challenge in
    /// constant time, so a forged value grants nothing.
    ///
    /// # Errors
    /// [`ParseError::Base64`] when the member is not base64url.
    pub fn claimed_challenge(&self) -> Result<Vec<u8>, ParseError> {
        base64url::decode(&self.challenge, "clientDataJSON.challenge")
    }

    /// Checks type, challenge (constant time, on the decoded bytes), origin and the
    /// cross-origin policy.
    ///
    /// # Errors
    /// [`WebauthnError::TypeMismatch`], [`WebauthnError::ChallengeMismatch`],
    /// [`WebauthnError::OriginMismatch`], [`WebauthnError::CrossOriginRejected`] or
    /// [`WebauthnError::TopOriginMismatch`].
    pub fn check(
        &self,
        ceremony: CeremonyType,
        challenge: &[u8],
        origins: &[String],
        cross_origin: &CrossOriginPolicy,
    ) -> Result<(), WebauthnError> {
        if self.ceremony_type != ceremony.as_str() {
            return Err(WebauthnError::TypeMismatch {
                expected: ceremony.as_str(),
                got: self.ceremony_type.clone(),
            });
        }
        let received = base64url::decode(&self.challenge, "clientDataJSON.challenge")
            .map_err(|_| WebauthnError::ChallengeMismatch)?;
        if !bool::from(received.as_slice().ct_eq(challenge)) {
            return Err(WebauthnError::ChallengeMismatch);
        }
        if !origins.contains(&self.origin) {
            return Err(WebauthnError::OriginMismatch {
                expected: origins.to_vec(),
                got: self.origin.clone(),
            });
        }
        let is_cross = self.cross_origin == Some(true) || self.top_origin.is_some();
        if is_cross {
            match cross_origin {
                CrossOriginPolicy::Reject => {
                    return Err(WebauthnError::CrossOriginRejected {
                        top_origin: self.top_origin.clone(),
                    });
                }
                CrossOriginPolicy::Allow { top_origins } => {
                    if let Some(top) = &self.top_origin
                        && !top_origins.is_empty()
                        && !top_origins.contains(top)
                    {
                        return Err(WebauthnError::TopOriginMismatch {
                            expected: top_origins.clone(),
                            got: top.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `origin` is one a relying party may configure: `https://host[:port]`,
/// `http://localhost[:port]` (development), `android:apk-key-hash:<base64url>` or an
/// iOS app origin `ios:bundle-id:<id>`. No path, query or fragment; no trailing slash.
#[must_use]
pub fn is_valid_origin(origin: &str) -> bool {
    if let Some(hash) = origin.strip_prefix("android:apk-key-hash:") {
        return !hash.is_empty() && base64url::decode(hash, "origin").is_ok();
    }
    if let Some(bundle) = origin.strip_prefix("ios:bundle-id:") {
        return !bundle.is_empty()
            && bundle
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    }
    let (rest, localhost_only) = if let Some(rest) = origin.strip_prefix("https://") {
        (rest, false)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        (rest, true)
    } else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if localhost_only {
        return host == "localhost" || host.ends_with(".localhost");
    }
    !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn origins() -> Vec<String> {
        vec!["https://example.org".to_owned()]
    }

    const CHALLENGE: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn json(extra: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"https://example.org"{extra}}}"#,
            base64url::encode(CHALLENGE)
        )
        .into_bytes()
    }

    #[test]
    fn accepts_and_ignores_unknown_members() {
        let cd = CollectedClientData::parse(&json(r#","crossOrigin":false,"other_keys_can_be_added_here":"do not compare clientDataJSON against a template. See https://goo.gl/yabPex""#)).unwrap();
        cd.check(
            CeremonyType::Get,
            CHALLENGE,
            &origins(),
            &CrossOriginPolicy::Reject,
        )
        .unwrap();
    }

    #[test]
    fn each_check_fails() {
        let cd = CollectedClientData::parse(&json("")).unwrap();
        assert!(matches!(
            cd.check(
                CeremonyType::Create,
                CHALLENGE,
                &origins(),
                &CrossOriginPolicy::Reject
            ),
            Err(WebauthnError::TypeMismatch { .. })
        ));
        assert!(matches!(
            cd.check(
                CeremonyType::Get,
                b"other",
                &origins(),
                &CrossOriginPolicy::Reject
            ),
            Err(WebauthnError::ChallengeMismatch)
        ));
        assert!(matches!(
            cd.check(
                CeremonyType::Get,
                CHALLENGE,
                &["https://example.com".to_owned()],
                &CrossOriginPolicy::Reject
            ),
            Err(WebauthnError::OriginMismatch { .. })
        ));
        let cross = CollectedClientData::parse(&json(
            r#","crossOrigin":true,"topOrigin":"https://top.example""#,
        ))
        .unwrap();
        assert!(matches!(
            cross.check(
                CeremonyType::Get,
                CHALLENGE,
                &origins(),
                &CrossOriginPolicy::Reject
            ),
            Err(WebauthnError::CrossOriginRejected { .. })
        ));
        assert!(matches!(
            cross.check(
                CeremonyType::Get,
                CHALLENGE,
                &origins(),
                &CrossOriginPolicy::Allow {
                    top_origins: vec!["https://other.example".to_owned()]
                }
            ),
            Err(WebauthnError::TopOriginMismatch { .. })
        ));
        cross
            .check(
                CeremonyType::Get,
                CHALLENGE,
                &origins(),
                &CrossOriginPolicy::Allow {
                    top_origins: vec!["https://top.example".to_owned()],
                },
            )
            .unwrap();
        cross
            .check(
                CeremonyType::Get,
                CHALLENGE,
                &origins(),
                &CrossOriginPolicy::Allow {
                    top_origins: vec![],
                },
            )
            .unwrap();
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        assert!(matches!(
            CollectedClientData::parse(b"{"),
            Err(ParseError::Json { .. })
        ));
        assert!(matches!(
            CollectedClientData::parse(br#"{"type":"webauthn.get","origin":"x"}"#),
            Err(ParseError::Json { .. })
        ));
        let dup =
            br#"{"type":"webauthn.get","type":"webauthn.create","challenge":"","origin":"x"}"#;
        assert!(matches!(
            CollectedClientData::parse(dup),
            Err(ParseError::Json { .. })
        ));
        let big = vec![b' '; MAX_CLIENT_DATA_JSON_BYTES + 1];
        assert!(matches!(
            CollectedClientData::parse(&big),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn origin_validation() {
        for ok in [
            "https://example.org",
            "https://login.example.org:8443",
            "http://localhost",
            "http://localhost:3000",
            "android:apk-key-hash:lfbwc2c4EK9s_W-xqM7WtXBR8bZb0mGFJWJZAvOgxx8",
            "ios:bundle-id:com.example.app",
        ] {
            assert!(is_valid_origin(ok), "{ok}");
        }
        for bad in [
            "http://example.org",
            "https://example.org/",
            "https://",
            "https://example.org:",
            "ftp://example.org",
            "example.org",
            "android:apk-key-hash:",
            "https://exa mple.org",
        ] {
            assert!(!is_valid_origin(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = CollectedClientData::parse(&bytes);
        }
    }
}
