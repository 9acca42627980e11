//! [`BaseUrl`]: the host's API base, from which resources' `url` and `links` are
//! built.

use std::fmt;

use crate::error::{Field, ModelError};
use crate::id::{ChallengeSid, FactorSid, ServiceSid};
use crate::identity::Identity;
use crate::limits::MAX_URL_LEN;

/// Checks an absolute `https://` or `http://` URL: a non-empty authority, no
/// whitespace or control characters, no fragment, at most `max` bytes.
pub(crate) fn check_http_url(field: Field, text: &str, max: usize) -> Result<(), ModelError> {
    let invalid = || ModelError::InvalidUrl {
        field,
        length: text.len(),
    };
    if text.len() > max {
        return Err(invalid());
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || text.contains('#')
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(invalid());
    }
    Ok(())
}

/// The host's API base URL, e.g. `https://verify.example/v2`: absolute http(s), no
/// query or fragment, at most 2048 bytes; a trailing `/` is dropped.
///
/// ```
/// use verify_model::url::BaseUrl;
/// let base = BaseUrl::parse("https://verify.example/v2/").unwrap();
/// assert_eq!(base.as_str(), "https://verify.example/v2");
/// assert!(BaseUrl::parse("verify.example").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Checks and normalizes `text`.
    ///
    /// # Errors
    /// [`ModelError::InvalidUrl`] (field `base_url`).
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        check_http_url(Field::BaseUrl, text, MAX_URL_LEN)?;
        if text.contains('?') {
            return Err(ModelError::InvalidUrl {
                field: Field::BaseUrl,
                length: text.len(),
            });
        }
        Ok(Self(text.trim_end_matches('/').to_owned()))
    }

    /// The URL without a trailing slash.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{base}/Services/{VA}`.
    #[must_use]
    pub fn service(&self, service: ServiceSid) -> String {
        format!("{}/Services/{service}", self.0)
    }

    /// `{base}/Services/{VA}/Entities/{identity}`.
    #[must_use]
    pub fn entity(&self, service: ServiceSid, identity: &Identity) -> String {
        format!("{}/Entities/{identity}", self.service(service))
    }

    /// `{base}/Services/{VA}/Entities/{identity}/Factors/{YF}`.
    #[must_use]
    pub fn factor(&self, service: ServiceSid, identity: &Identity, factor: FactorSid) -> String {
        format!("{}/Factors/{factor}", self.entity(service, identity))
    }

    /// `{base}/Services/{VA}/Entities/{identity}/Challenges`.
    #[must_use]
    pub fn challenges(&self, service: ServiceSid, identity: &Identity) -> String {
        format!("{}/Challenges", self.entity(service, identity))
    }

    /// `{base}/Services/{VA}/Entities/{identity}/Factors`.
    #[must_use]
    pub fn factors(&self, service: ServiceSid, identity: &Identity) -> String {
        format!("{}/Factors", self.entity(service, identity))
    }

    /// `{base}/Services/{VA}/Entities/{identity}/Challenges/{YC}`.
    #[must_use]
    pub fn challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        challenge: ChallengeSid,
    ) -> String {
        format!("{}/{challenge}", self.challenges(service, identity))
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_documents_paths() {
        let base = BaseUrl::parse("https://verify.twilio.com/v2").unwrap();
        let service = ServiceSid::from_bytes([0xaa; 16]);
        let identity = Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap();
        let challenge = ChallengeSid::from_bytes([0xbb; 16]);
        assert_eq!(
            base.challenge(service, &identity, challenge),
            format!(
                "https://verify.twilio.com/v2/Services/{service}/Entities/ff483d1ff591898a9942916050d2ca3f/Challenges/{challenge}"
            )
        );
    }

    #[test]
    fn rejects_bad_bases() {
        for bad in [
            "",
            "verify.example",
            "ftp://verify.example",
            "https://",
            "https:///v2",
            "https://verify.example/v2?x=1",
            "https://verify.example/v2#f",
            "https://user@verify.example",
            "https://verify example",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "p".repeat(MAX_URL_LEN));
        assert!(BaseUrl::parse(&long).is_err());
    }
}
