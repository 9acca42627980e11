//! Enrollment access tokens: what a host's backend hands its app so the device can
//! create a push factor (`Authorization: Basic base64("token:" + token)`).
//!
//! # Format (ours; opaque to devices)
//!
//! ```text
//! vpat1.<key id>.<claims>.<mac>
//! ```
//!
//! - `vpat1`: format and version tag.
//! - `<key id>`: `[A-Za-z0-9_-]{1,32}`, the id of the host-held MAC key, so keys can be
//!   rotated: mint with the current key, keep the previous ones for checking until
//!   their tokens have expired (at most 300 s).
//! - `<claims>`: base64url (unpadded) of the JSON object
//!   `{"jti","svc","sub","fty","fnm"?,"iat","exp"}`: token sid (`YK…`), service sid,
//!   identity, factor type (`push`), optional friendly name, issue and expiry times.
//! - `<mac>`: base64url (unpadded) of HMAC-SHA256(key, `vpat1.<key id>.<claims>`),
//!   checked in constant time before the claims are read.
//!
//! Tokens are not encrypted: the claims (identity, friendly name) are readable by
//! whoever holds the token, which is the device they were minted for.
//!
//! Single use: [`AccessTokenKeys::check`] returns the token's sid; the engine must
//! record it as consumed (atomically, until [`CheckedAccessToken::expires_at`]) and
//! refuse a sid it has seen. This crate holds no state.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use verify_model::{AccessTokenSid, ServiceSid, UnixTime};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::b64;
use crate::error::{AccessTokenError, Encoded, PushError};

/// Default ttl of an access token.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Shortest ttl.
pub const MIN_TTL: Duration = Duration::from_secs(60);
/// Longest ttl.
pub const MAX_TTL: Duration = Duration::from_secs(300);
const VERSION: &str = "vpat1";
const MAX_TOKEN_LEN: usize = 1024;

type HmacSha256 = Hmac<Sha256>;

/// A host-held MAC key with its id. Zeroized on drop; `Debug` shows only the id.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AccessTokenKey {
    id: String,
    secret: Vec<u8>,
}

impl AccessTokenKey {
    /// A key with id `id` (`[A-Za-z0-9_-]{1,32}`) and at least 32 secret bytes (draw
    /// them from a CSPRNG and store them like any other secret).
    ///
    /// # Errors
    /// [`AccessTokenError::InvalidKeyId`] or [`AccessTokenError::KeyTooShort`].
    pub fn new(id: &str, secret: &[u8]) -> Result<Self, AccessTokenError> {
        if !valid_key_id(id) {
            return Err(AccessTokenError::InvalidKeyId { length: id.len() });
        }
        if secret.len() < 32 {
            return Err(AccessTokenError::KeyTooShort {
                length: secret.len(),
            });
        }
        Ok(Self {
            id: id.to_owned(),
            secret: secret.to_vec(),
        })
    }

    /// A new random 32-byte key drawn from `rng`.
    ///
    /// # Errors
    /// [`AccessTokenError::InvalidKeyId`].
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(
        id: &str,
        rng: &mut R,
    ) -> Result<Self, AccessTokenError> {
        let mut secret = Zeroizing::new([0_u8; 32]);
        rng.fill_bytes(secret.as_mut());
        Self::new(id, secret.as_ref())
    }

    /// The key id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 over `signing_input` (HMAC takes keys of any length, so this
    /// only fails if that ever changes; it then refuses rather than use another key).
    fn mac(&self, signing_input: &str) -> Result<HmacSha256, AccessTokenError> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret).map_err(|_| {
            AccessTokenError::KeyTooShort {
                length: self.secret.len(),
            }
        })?;
        mac.update(signing_input.as_bytes());
        Ok(mac)
    }
}

impl fmt::Debug for AccessTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The keys a host mints and checks access tokens with: the current key and any
/// previous keys still accepted during a rotation.
#[derive(Debug, Clone)]
pub struct AccessTokenKeys {
    current: AccessTokenKey,
    previous: Vec<AccessTokenKey>,
}

/// What an access token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessTokenRequest {
    /// The service the factor will belong to.
    pub service_sid: ServiceSid,
    /// The host's user id (8..64 dash-separated alphanumerics).
    pub identity: String,
    /// Optional factor friendly name (≤ 64 characters).
    pub friendly_name: Option<String>,
    /// Lifetime (60..=300 s, default 60 s).
    pub ttl: Duration,
}

impl AccessTokenRequest {
    /// A request for `identity` in `service_sid` with the default ttl and no friendly
    /// name.
    #[must_use]
    pub const fn new(service_sid: ServiceSid, identity: String) -> Self {
        Self {
            service_sid,
            identity,
            friendly_name: None,
            ttl: DEFAULT_TTL,
        }
    }
}

/// A freshly minted access token. The token text is a bearer credential: `Debug`
/// redacts it and it is zeroized on drop.
#[non_exhaustive]
pub struct IssuedAccessToken {
    /// The token's sid (`YK…`).
    pub sid: AccessTokenSid,
    /// When it expires.
    pub expires_at: UnixTime,
    /// The ttl it was minted with.
    pub ttl: Duration,
    token: Zeroizing<String>,
}

impl IssuedAccessToken {
    /// The token text to hand to the app.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("sid", &self.sid)
            .field("expires_at", &self.expires_at)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A valid, unexpired access token. Mark [`CheckedAccessToken::sid`] consumed (until
/// [`CheckedAccessToken::expires_at`]) atomically before creating the factor; refuse
/// the token if it was already consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "mark the token sid consumed before creating the factor"]
#[non_exhaustive]
pub struct CheckedAccessToken {
    /// The sid to mark consumed.
    pub sid: AccessTokenSid,
    /// The service it is bound to.
    pub service_sid: ServiceSid,
    /// The identity it is bound to.
    pub identity: String,
    /// The friendly name it carries, if any.
    pub friendly_name: Option<String>,
    /// When it expires (the consumed mark may be dropped after this).
    pub expires_at: UnixTime,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    jti: AccessTokenSid,
    svc: ServiceSid,
    sub: String,
    fty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fnm: Option<String>,
    iat: u64,
    exp: u64,
}

impl AccessTokenKeys {
    /// Keys with `current` only.
    #[must_use]
    pub const fn new(current: AccessTokenKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Also accept tokens minted with `previous` (during a key rotation).
    #[must_use]
    pub fn with_previous(mut self, previous: AccessTokenKey) -> Self {
        self.previous.push(previous);
        self
    }

    /// Mints a token for `request` at `now`, its sid drawn from `rng`.
    ///
    /// # Errors
    /// [`AccessTokenError::TtlOutOfRange`], [`AccessTokenError::InvalidIdentity`] or
    /// [`AccessTokenError::FriendlyNameTooLong`].
    pub fn mint<R: RngCore + CryptoRng + ?Sized>(
        &self,
        request: &AccessTokenRequest,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<IssuedAccessToken, AccessTokenError> {
        if !(MIN_TTL..=MAX_TTL).contains(&request.ttl) {
            return Err(AccessTokenError::TtlOutOfRange {
                seconds: request.ttl.as_secs(),
            });
        }
        check_identity(&request.identity)?;
        if let Some(name) = &request.friendly_name {
            let length = name.chars().count();
            if length > 64 {
                return Err(AccessTokenError::FriendlyNameTooLong { length });
            }
        }
        let sid = AccessTokenSid::generate(rng);
        let expires_at = now.saturating_add(request.ttl);
        let claims = Claims {
            jti: sid,
            svc: request.service_sid,
            sub: request.identity.clone(),
            fty: "push".into(),
            fnm: request.friendly_name.clone(),
            iat: now.as_secs(),
            exp: expires_at.as_secs(),
        };
        // Serializing a struct of strings and integers cannot fail.
        let claims_json = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!(
            "{VERSION}.{}.{}",
            self.current.id,
            b64::url_encode(&claims_json)
        );
        let tag = self.current.mac(&signing_input)?.finalize().into_bytes();
        let token = Zeroizing::new(format!("{signing_input}.{}", b64::url_encode(&tag)));
        Ok(IssuedAccessToken {
            sid,
            expires_at,
            ttl: request.ttl,
            token,
        })
    }

    /// Checks a token presented for `service_sid` at `now`: format, key id, MAC
    /// (constant time), factor type `push`, service and expiry.
    ///
    /// # Errors
    /// [`PushError::AccessToken`] naming the failed check, or [`PushError::Base64`].
    pub fn check(
        &self,
        token: &str,
        service_sid: ServiceSid,
        now: UnixTime,
    ) -> Result<CheckedAccessToken, PushError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AccessTokenError::Malformed.into());
        }
        let mut parts = token.split('.');
        let (Some(version), Some(key_id), Some(claims), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(AccessTokenError::Malformed.into());
        };
        if version != VERSION {
            return Err(AccessTokenError::UnknownVersion.into());
        }
        if !valid_key_id(key_id) {
            return Err(AccessTokenError::Malformed.into());
        }
        let key = core::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id)
            .ok_or_else(|| AccessTokenError::UnknownKey {
                key_id: key_id.to_owned(),
            })?;
        let tag = b64::url(tag, Encoded::AccessToken)?;
        let signing_input = format!("{VERSION}.{key_id}.{claims}");
        key.mac(&signing_input)?
            .verify_slice(&tag)
            .map_err(|_| AccessTokenError::MacInvalid)?;
        let claims = b64::url(claims, Encoded::AccessToken)?;
        let claims: Claims =
            serde_json::from_slice(&claims).map_err(|_| AccessTokenError::Malformed)?;
        if claims.fty != "push" {
            return Err(AccessTokenError::FactorTypeMismatch.into());
        }
        if claims.svc != service_sid {
            return Err(AccessTokenError::ServiceMismatch.into());
        }
        let expires_at = UnixTime::from_secs(claims.exp);
        if now >= expires_at {
            return Err(AccessTokenError::Expired {
                expired_at: expires_at,
                now,
            }
            .into());
        }
        Ok(CheckedAccessToken {
            sid: claims.jti,
            service_sid: claims.svc,
            identity: claims.sub,
            friendly_name: claims.fnm,
            expires_at,
        })
    }
}

impl AccessTokenKeys {
    /// [`AccessTokenKeys::check`] on the token of the factor-creation request's
    /// `Authorization: Basic base64("token:" + token)` header value.
    ///
    /// # Errors
    /// As [`crate::request::basic_token`] and [`AccessTokenKeys::check`].
    pub fn check_authorization(
        &self,
        header_value: &str,
        service_sid: ServiceSid,
        now: UnixTime,
    ) -> Result<CheckedAccessToken, PushError> {
        self.check(
            &crate::request::basic_token(header_value)?,
            service_sid,
            now,
        )
    }
}

/// The identity rule (docs/api.md, "Conventions"): 8..64 characters, dash-separated ASCII alphanumerics.
fn check_identity(identity: &str) -> Result<(), AccessTokenError> {
    let valid = (8..=64).contains(&identity.len())
        && identity
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    if valid {
        Ok(())
    } else {
        Err(AccessTokenError::InvalidIdentity {
            length: identity.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn keys() -> AccessTokenKeys {
        AccessTokenKeys::new(AccessTokenKey::new("k2", &[7; 32]).unwrap())
    }

    fn service() -> ServiceSid {
        ServiceSid::from_bytes([1; 16])
    }

    #[test]
    fn mint_and_check_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut request = AccessTokenRequest::new(service(), "user-0001".into());
        request.friendly_name = Some("Jane's \u{1F4F1}".into());
        request.ttl = Duration::from_secs(300);
        let now = UnixTime::from_secs(1_700_000_000);
        let issued = keys().mint(&request, now, &mut rng).unwrap();
        assert!(!format!("{issued:?}").contains(issued.token()));
        let checked = keys().check(issued.token(), service(), now).unwrap();
        let header = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("token:{}", issued.token())
            )
        );
        assert_eq!(
            keys().check_authorization(&header, service(), now).unwrap(),
            checked
        );
        assert_eq!(checked.sid, issued.sid);
        assert_eq!(checked.identity, "user-0001");
        assert_eq!(checked.friendly_name.as_deref(), Some("Jane's \u{1F4F1}"));
        assert_eq!(checked.expires_at, UnixTime::from_secs(1_700_000_300));
        // Last valid second, then expired.
        assert!(
            keys()
                .check(
                    issued.token(),
                    service(),
                    UnixTime::from_secs(1_700_000_299)
                )
                .is_ok()
        );
        assert!(matches!(
            keys().check(issued.token(), service(), checked.expires_at),
            Err(PushError::AccessToken(AccessTokenError::Expired { .. }))
        ));
    }

    #[test]
    fn refuses_tampering_wrong_service_and_unknown_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let now = UnixTime::from_secs(1_700_000_000);
        let issued = keys()
            .mint(
                &AccessTokenRequest::new(service(), "user-0001".into()),
                now,
                &mut rng,
            )
            .unwrap();
        let token = issued.token();
        assert!(matches!(
            keys().check(token, ServiceSid::from_bytes([2; 16]), now),
            Err(PushError::AccessToken(AccessTokenError::ServiceMismatch))
        ));
        // Flip a character of the claims.
        let parts: Vec<&str> = token.split('.').collect();
        let claims = parts[2];
        let forged_claims = b64::url_encode(
            &b64::url(claims, Encoded::AccessToken)
                .unwrap()
                .iter()
                .map(|b| if *b == b'1' { b'2' } else { *b })
                .collect::<Vec<_>>(),
        );
        let forged = [parts[0], parts[1], &forged_claims, parts[3]].join(".");
        assert!(matches!(
            keys().check(&forged, service(), now),
            Err(PushError::AccessToken(AccessTokenError::MacInvalid))
        ));
        let other_key = AccessTokenKeys::new(AccessTokenKey::new("k2", &[8; 32]).unwrap());
        assert!(matches!(
            other_key.check(token, service(), now),
            Err(PushError::AccessToken(AccessTokenError::MacInvalid))
        ));
        let rotated = AccessTokenKeys::new(AccessTokenKey::new("k3", &[9; 32]).unwrap());
        assert!(matches!(
            rotated.check(token, service(), now),
            Err(PushError::AccessToken(AccessTokenError::UnknownKey { .. }))
        ));
        let rotated = rotated.with_previous(AccessTokenKey::new("k2", &[7; 32]).unwrap());
        assert!(rotated.check(token, service(), now).is_ok());
        for bad in [
            "",
            "vpat1",
            "vpat2.k2.e30.AA",
            "vpat1.k 2.e30.AA",
            "vpat1.k2.e30.AA.AA",
        ] {
            assert!(keys().check(bad, service(), now).is_err(), "{bad}");
        }
    }

    #[test]
    fn mint_validates_its_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let now = UnixTime::from_secs(1);
        let mut request = AccessTokenRequest::new(service(), "user-0001".into());
        for ttl in [0, 59, 301] {
            request.ttl = Duration::from_secs(ttl);
            assert_eq!(
                keys().mint(&request, now, &mut rng).unwrap_err(),
                AccessTokenError::TtlOutOfRange { seconds: ttl }
            );
        }
        request.ttl = DEFAULT_TTL;
        for identity in ["short", "user--0001", "-user0001", "user_0001", "user 0001"] {
            request.identity = identity.into();
            assert!(matches!(
                keys().mint(&request, now, &mut rng),
                Err(AccessTokenError::InvalidIdentity { .. })
            ));
        }
        request.identity = "user-0001".into();
        request.friendly_name = Some("x".repeat(65));
        assert!(matches!(
            keys().mint(&request, now, &mut rng),
            Err(AccessTokenError::FriendlyNameTooLong { length: 65 })
        ));
        assert!(AccessTokenKey::new("k", &[0; 31]).is_err());
        assert!(AccessTokenKey::new("", &[0; 32]).is_err());
        let key = AccessTokenKey::generate("gen", &mut rng).unwrap();
        assert_eq!(
            format!("{key:?}"),
            r#"AccessTokenKey { id: "gen", secret: "<redacted>" }"#
        );
    }
}
