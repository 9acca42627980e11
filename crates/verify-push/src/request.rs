//! Device request authentication after enrollment (docs/push-protocol.md, section 4).
//!
//! The SDKs send `Authorization: Basic base64("token:" + JWT)` where the JWT is ES256
//! signed by the factor key with header
//! `{"cty":"twilio-pba;v=1","kid":<credential_sid>,"typ":"JWT","alg":"ES256"}` and
//! claims `{"sub":<account id>,"exp":now+600,"nbf":now}`.
//!
//! Flow: [`RequestJwt::from_authorization`] → look the factor up by
//! [`RequestJwt::kid`] → [`RequestJwt::verify`] with its key. On any error answer
//! `401` with the header from [`http_date`] so the SDK can correct its clock and retry
//! once.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use verify_model::UnixTime;
use zeroize::Zeroizing;

use crate::binding::DeviceKey;
use crate::error::{Encoded, PushError, RequestAuthError};
use crate::jws::OwnedJws;
use crate::strict_json::parse_object;

/// The `cty` the SDKs put in the request JWT header.
pub const REQUEST_JWT_CTY: &str = "twilio-pba;v=1";
/// Longest `Authorization` header value looked at.
const MAX_AUTHORIZATION: usize = 4096;
/// Longest request JWT looked at.
const MAX_REQUEST_JWT: usize = 3000;

/// The token the SDKs send as `Authorization: Basic base64("token:" + token)`, both
/// for the enrollment access token and for request JWTs. Pass the header's value; the
/// scheme matches case-insensitively, the credentials are padded standard base64.
///
/// # Errors
/// [`RequestAuthError::NotBasic`], [`PushError::Base64`] or
/// [`RequestAuthError::NotTokenUser`].
pub fn basic_token(header_value: &str) -> Result<Zeroizing<String>, PushError> {
    if header_value.len() > MAX_AUTHORIZATION {
        return Err(RequestAuthError::NotBasic.into());
    }
    let (scheme, credentials) = header_value
        .trim()
        .split_once(' ')
        .ok_or(RequestAuthError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(RequestAuthError::NotBasic.into());
    }
    let decoded =
        Zeroizing::new(
            STANDARD
                .decode(credentials.trim())
                .map_err(|_| PushError::Base64 {
                    what: Encoded::BasicCredentials,
                })?,
        );
    let text = core::str::from_utf8(&decoded).map_err(|_| RequestAuthError::NotTokenUser)?;
    let token = text
        .strip_prefix("token:")
        .ok_or(RequestAuthError::NotTokenUser)?;
    Ok(Zeroizing::new(token.to_owned()))
}

/// Time rules for request JWTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPolicy {
    /// Clock skew tolerated on `nbf` and `exp` (default 60 s).
    pub leeway: Duration,
    /// Longest `exp - nbf` accepted (default 900 s; the SDKs use 600 s).
    pub max_lifetime: Duration,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(60),
            max_lifetime: Duration::from_secs(900),
        }
    }
}

/// A request JWT taken from an `Authorization` header; its signature is not yet checked.
///
/// The JWT is a bearer credential for its lifetime: `Debug` redacts it.
#[derive(Clone)]
pub struct RequestJwt {
    /// Split, decoded and its header checked once, when taken from the request.
    jws: OwnedJws,
}

impl std::fmt::Debug for RequestJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestJwt")
            .field("token", &"<redacted>")
            .finish()
    }
}

impl RequestJwt {
    /// Takes the JWT out of `Authorization: Basic base64("token:" + JWT)` (pass the
    /// header's value; see [`basic_token`]).
    ///
    /// # Errors
    /// As [`basic_token`], or [`PushError::Jws`] for a malformed JWT.
    pub fn from_authorization(header_value: &str) -> Result<Self, PushError> {
        Self::new(&basic_token(header_value)?)
    }

    /// A request JWT given directly.
    ///
    /// # Errors
    /// [`PushError::Jws`] when it is longer than allowed.
    pub fn new(token: &str) -> Result<Self, PushError> {
        Ok(Self {
            jws: OwnedJws::parse(token, MAX_REQUEST_JWT)?,
        })
    }

    /// The header's `kid`: the credential sid naming the factor whose key must verify
    /// the JWT. Unauthenticated: use it only to look the factor up.
    ///
    /// # Errors
    /// [`RequestAuthError::MissingKid`] when absent or not a string.
    pub fn kid(&self) -> Result<&str, PushError> {
        self.jws
            .header()
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| RequestAuthError::MissingKid.into())
    }

    /// Verifies the JWT with the factor's `key`: signature, `kid` equal to
    /// `credential_sid`, `cty` (if present) `twilio-pba;v=1`, `sub` equal to
    /// `expected_sub`, and `nbf - leeway ≤ now < exp + leeway` with
    /// `0 < exp - nbf ≤ max_lifetime`.
    ///
    /// # Errors
    /// [`PushError::SignatureInvalid`], [`RequestAuthError`] naming the failed claim
    /// check, or a parse error. Answer every error with 401 and [`http_date`].
    pub fn verify(
        &self,
        key: &DeviceKey,
        credential_sid: &str,
        expected_sub: &str,
        policy: &RequestPolicy,
        now: UnixTime,
    ) -> Result<AuthenticatedRequest, PushError> {
        let jws = &self.jws;
        let payload = jws.verify(key)?;
        match jws.header().get("kid") {
            Some(Value::String(kid)) if kid == credential_sid => {}
            Some(Value::String(_)) => return Err(RequestAuthError::KidMismatch.into()),
            _ => return Err(RequestAuthError::MissingKid.into()),
        }
        match jws.header().get("cty") {
            None => {}
            Some(Value::String(cty)) if cty == REQUEST_JWT_CTY => {}
            Some(_) => {
                return Err(crate::error::JwsError::HeaderMember { member: "cty" }.into());
            }
        }
        let claims = parse_object(payload, MAX_REQUEST_JWT)?;
        match claims.get("sub") {
            None => return Err(RequestAuthError::MissingClaim { claim: "sub" }.into()),
            Some(Value::String(sub)) if sub == expected_sub => {}
            Some(Value::String(_)) => return Err(RequestAuthError::SubjectMismatch.into()),
            Some(_) => return Err(RequestAuthError::ClaimType { claim: "sub" }.into()),
        }
        let not_before = numeric_date(&claims, "nbf")?;
        let expires_at = numeric_date(&claims, "exp")?;
        let max = policy.max_lifetime.as_secs();
        let lifetime = expires_at.as_secs().saturating_sub(not_before.as_secs());
        if lifetime == 0 || lifetime > max {
            return Err(RequestAuthError::Lifetime {
                seconds: lifetime,
                max,
            }
            .into());
        }
        if now.saturating_add(policy.leeway) < not_before {
            return Err(RequestAuthError::NotYetValid { not_before, now }.into());
        }
        if now >= expires_at.saturating_add(policy.leeway) {
            return Err(RequestAuthError::Expired {
                expired_at: expires_at,
                now,
            }
            .into());
        }
        Ok(AuthenticatedRequest {
            credential_sid: credential_sid.to_owned(),
            expires_at,
        })
    }
}

/// A device request authenticated by its factor key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticatedRequest {
    /// The credential sid (`kid`) the request was signed for.
    pub credential_sid: String,
    /// The JWT's `exp`.
    pub expires_at: UnixTime,
}

/// A JWT NumericDate (RFC 7519 §2): a non-negative number of seconds; a fraction is
/// dropped.
fn numeric_date(
    claims: &serde_json::Map<String, Value>,
    claim: &'static str,
) -> Result<UnixTime, PushError> {
    let value = claims
        .get(claim)
        .ok_or(RequestAuthError::MissingClaim { claim })?;
    let Value::Number(number) = value else {
        return Err(RequestAuthError::ClaimType { claim }.into());
    };
    if let Some(seconds) = number.as_u64() {
        return Ok(UnixTime::from_secs(seconds));
    }
    let seconds = number
        .as_f64()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < 1e15)
        .ok_or(RequestAuthError::ClaimType { claim })?;
    // Checked above: finite, non-negative and below 2^53.
    #[expect(
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked just above"
    )]
    let whole = seconds.trunc() as u64;
    Ok(UnixTime::from_secs(whole))
}

/// The value of the HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7) for `now`, to
/// send with a 401 so the SDK can correct its clock.
#[must_use]
pub fn http_date(now: UnixTime) -> String {
    // httpdate formats years up to 9999 (and panics past them): `UnixTime` is clamped
    // to 9999-12-31T23:59:59Z, so every value it holds is in range.
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(now.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_is_imf_fixdate() {
        assert_eq!(
            http_date(UnixTime::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(http_date(UnixTime::EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(UnixTime::from_secs(1_735_689_600)),
            "Wed, 01 Jan 2025 00:00:00 GMT"
        );
    }

    proptest::proptest! {
        /// Over every second `UnixTime` holds: httpdate's text reads back as the same
        /// second, and its date and time are the model's calendar (`to_civil`), the
        /// weekday counted from the epoch's Thursday.
        #[test]
        fn http_date_agrees_with_the_model_calendar(seconds in 0..=UnixTime::MAX.as_secs()) {
            let now = UnixTime::from_secs(seconds);
            let text = http_date(now);
            let parsed = httpdate::parse_http_date(&text).unwrap();
            proptest::prop_assert_eq!(UnixTime::try_from(parsed).unwrap(), now);
            let (year, month, day, hour, minute, second) = now.to_civil();
            const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let weekday = DAYS[usize::try_from((seconds / 86_400) % 7).unwrap()];
            let month = MONTHS[usize::try_from(month - 1).unwrap()];
            proptest::prop_assert_eq!(
                text,
                format!("{weekday}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} GMT")
            );
        }
    }

    #[test]
    fn authorization_must_be_basic_token() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let good = format!("Basic {}", STANDARD.encode(format!("token:{jwt}")));
        assert!(RequestJwt::from_authorization(&good).is_ok());
        let lower = format!("basic {}", STANDARD.encode(format!("token:{jwt}")));
        assert!(RequestJwt::from_authorization(&lower).is_ok());
        let bearer = format!("Bearer {jwt}");
        assert!(matches!(
            RequestJwt::from_authorization(&bearer),
            Err(PushError::RequestAuth(RequestAuthError::NotBasic))
        ));
        let user = format!("Basic {}", STANDARD.encode(format!("admin:{jwt}")));
        assert!(matches!(
            RequestJwt::from_authorization(&user),
            Err(PushError::RequestAuth(RequestAuthError::NotTokenUser))
        ));
        assert!(matches!(
            RequestJwt::from_authorization("Basic !!!"),
            Err(PushError::Base64 { .. })
        ));
        assert!(RequestJwt::from_authorization("Basic").is_err());
    }
}
