//! HTTP Basic authentication, three kinds of caller:
//!
//! - the host: the operator's API key and secret from configuration (compared in
//!   constant time), allowed everywhere; or a key of the API keys file
//!   ([`crate::api_keys`]: its sid and secret, the secret's hash compared in
//!   constant time), allowed on every service or on one ([`KeyScope`], checked
//!   here from the request path by [`scope_check`], so no route can forget it);
//! - a device enrolling its push factor: the username `token` with an enrollment
//!   access token as the password, allowed only to create that push factor;
//! - an enrolled push device: the username `token` with a request JWT signed by its
//!   factor key (docs/push-protocol.md), allowed only on the device endpoints of its own entity
//!   (factor fetch and update of its own factor; challenge fetch, list and update),
//!   checked by [`device_access`].
//!
//! Every `401` carries a `Date` header (the server's clock) so the push SDKs can
//! correct their clock and retry once.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, DATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use verify_engine::DeviceAuth;
use verify_engine::model::{FactorSid, Identity, ServiceSid};
use verify_engine::push::RequestJwt;
use verify_engine::store::Store;

use crate::AppState;
use crate::api_keys::{ApiKeySid, KeyScope};
use crate::error::ApiError;
use crate::rate_limit::ClientAddr;

/// Who is calling, as established by the authentication middleware (the device
/// JWT's signature is checked later, by [`device_access`], once the route names the
/// service and identity).
#[derive(Clone)]
#[non_exhaustive]
pub enum Caller {
    /// The host, with the operator's API key and secret or a key of the API keys
    /// file; the middleware has checked the request path against `scope`.
    ApiKey {
        /// What the key may act on.
        scope: KeyScope,
        /// The key of the API keys file, or `None` for the operator's
        /// `--api-key`.
        key: Option<ApiKeySid>,
    },
    /// A device presenting an enrollment access token (`Basic base64("token:" + token)`).
    Token(String),
    /// An enrolled device presenting a request JWT (`Basic base64("token:" + JWT)`),
    /// not yet verified.
    Device(RequestJwt),
    /// A `token:` credential shaped as a JWT (three segments) that does not parse as
    /// a request JWT (`alg: none`, a bad segment...): refused with why, not mistaken
    /// for an enrollment access token.
    MalformedDevice(String),
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey { scope, key } => f
                .debug_struct("ApiKey")
                .field("scope", scope)
                .field("key", key)
                .finish(),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::Device(_) => f.write_str("Device(<redacted>)"),
            Self::MalformedDevice(reason) => write!(f, "MalformedDevice({reason})"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Refuses a caller that is not the host.
///
/// # Errors
/// [`ApiError::unauthorized`] for a device token or JWT.
pub fn require_api_key(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::ApiKey { .. } => Ok(()),
        Caller::Token(_) | Caller::Device(_) | Caller::MalformedDevice(_) => {
            Err(ApiError::unauthorized())
        }
    }
}

/// Who may act on a device endpoint, once checked.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeviceAccess {
    /// The host (API key): any factor and challenge.
    Host,
    /// A device authenticated by the push factor it holds (of the route's identity).
    Device(Box<DeviceAuth>),
}

/// Checks a caller of a device endpoint for `identity` in `service`: the host, or a
/// device whose request JWT verifies with the key of a push factor of that identity
/// and, when the route names a factor (`own_factor`), is that factor.
///
/// # Errors
/// [`ApiError::unauthorized`] (401, with a `Date` header added by the middleware)
/// for an enrollment access token or a refused JWT; 403 (20403) for a device acting
/// on another factor of its entity; the engine's error for a store or clock failure.
pub async fn device_access<S: Store + 'static>(
    app: &AppState<S>,
    caller: &Caller,
    service: ServiceSid,
    identity: &Identity,
    own_factor: Option<FactorSid>,
) -> Result<DeviceAccess, ApiError> {
    let jwt = match caller {
        Caller::ApiKey { .. } => return Ok(DeviceAccess::Host),
        Caller::Token(_) => {
            return Err(ApiError::unauthorized_device(
                "an enrollment access token only creates the push factor: \
             sign later requests with the factor key",
            ));
        }
        Caller::Device(jwt) => jwt,
        Caller::MalformedDevice(reason) => {
            return Err(ApiError::unauthorized_device(&format!(
                "device authentication failed: {reason}"
            )));
        }
    };
    let auth = match app
        .engine
        .authenticate_device_jwt(service, identity, jwt)
        .await
    {
        Ok(auth) => auth,
        Err(error) if error.is_device_auth_refusal() => {
            tracing::info!(%service, %identity, %error, "device request refused");
            return Err(ApiError::unauthorized_device(&format!(
                "device authentication failed: {error}"
            )));
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(factor) = own_factor
        && factor != auth.factor_sid()
    {
        return Err(ApiError::forbidden(
            "a device may act only on its own factor",
        ));
    }
    Ok(DeviceAccess::Device(Box::new(auth)))
}

/// The operator's API credentials (`--api-key`, `--api-secret`): every service.
#[derive(Clone)]
pub struct Credentials {
    key: String,
    secret: String,
    /// False for [`Credentials::none`]: nothing matches.
    enabled: bool,
}

impl Credentials {
    /// The API key and secret.
    #[must_use]
    pub fn new(key: &str, secret: &str) -> Self {
        Self {
            key: key.to_owned(),
            secret: secret.to_owned(),
            enabled: true,
        }
    }

    /// No operator key: only the keys of an API keys file authenticate the host
    /// (the server with `--api-keys-file` and no `--api-key`).
    #[must_use]
    pub fn none() -> Self {
        Self {
            key: String::new(),
            secret: String::new(),
            enabled: false,
        }
    }

    fn check(&self, user: &str, password: &str) -> bool {
        let key = user.as_bytes().ct_eq(self.key.as_bytes());
        let secret = password.as_bytes().ct_eq(self.secret.as_bytes());
        self.enabled && bool::from(key & secret)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.enabled {
            return f.write_str("Credentials(none)");
        }
        f.debug_struct("Credentials")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The prefix of every path that names one service (`/v2/Services/{sid}...`).
const SERVICES_PREFIX: &str = "/v2/Services/";

/// Whether a key of `scope` may make a `method` request to `path` (the raw request
/// path, before percent-decoding).
///
/// - Every service ([`KeyScope::AllServices`]): everything.
/// - One service: `/v2/Services/{its sid}` and everything under it, but not
///   `DELETE /v2/Services/{its sid}` (403: a service's deletion needs an
///   all-services key). Another service's paths, or a sid segment that does not
///   parse, answer 404 (20404) exactly as a service that does not exist, so the
///   key learns nothing about the other services. Every other route
///   (`POST /v2/Services`, `GET /v2/Services`, `/metrics`, and any route added
///   later outside `/v2/Services/{sid}`) answers 403 (20403): a key for one
///   service lists no services and reads no server-wide counters.
///
/// The sid is compared after [`ServiceSid::parse`] (either case, as the routes
/// parse it); a percent-encoded segment does not parse and is refused, never
/// decoded into a match.
///
/// # Errors
/// The [`ApiError`] to answer instead of running the route.
pub fn scope_check(scope: &KeyScope, method: &Method, path: &str) -> Result<(), ApiError> {
    let own = match scope {
        KeyScope::AllServices => return Ok(()),
        KeyScope::Service(own) => *own,
    };
    let Some(rest) = path.strip_prefix(SERVICES_PREFIX) else {
        return Err(ApiError::forbidden(&format!(
            "this API key is for service {own} only: this endpoint needs an all-services key"
        )));
    };
    let (segment, below) = rest.split_once('/').unwrap_or((rest, ""));
    if ServiceSid::parse(segment).ok() != Some(own) {
        return Err(ApiError::no_route());
    }
    if below.is_empty() && method == Method::DELETE {
        return Err(ApiError::forbidden(
            "deleting a service needs an all-services API key",
        ));
    }
    Ok(())
}

fn basic(request: &Request) -> Option<(String, String)> {
    let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The caller named by the `token` username: a request JWT (three dot-separated
/// segments) or else an enrollment access token (`{sid}.{token}`).
fn token_caller(password: String) -> Caller {
    if password.split('.').count() != 3 {
        return Caller::Token(password);
    }
    match RequestJwt::new(&password) {
        Ok(jwt) => Caller::Device(jwt),
        Err(error) => Caller::MalformedDevice(error.to_string()),
    }
}

/// Adds `Date` (the server clock, IMF-fixdate) to a 401 that has none.
fn with_date<S: Store + 'static>(app: &AppState<S>, mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED
        && !response.headers().contains_key(DATE)
        && let Ok(now) = app.now()
        && let Ok(value) = HeaderValue::from_str(&verify_engine::push::http_date(now))
    {
        response.headers_mut().insert(DATE, value);
    }
    response
}

/// The host's key for `user` and `password`: the operator's (every service), else
/// a key of the API keys file, if the server has one. The file is looked at (and
/// re-read when it changed, at most once per [`crate::api_keys::RELOAD_INTERVAL`])
/// only for a username shaped as a key sid.
fn host_key<S: Store + 'static>(
    app: &AppState<S>,
    user: &str,
    password: &str,
) -> Option<(KeyScope, Option<ApiKeySid>)> {
    if app.credentials.check(user, password) {
        return Some((KeyScope::AllServices, None));
    }
    let keys = app.api_keys()?;
    if ApiKeySid::parse(user).is_err() {
        return None;
    }
    let current = keys.current();
    current
        .authenticate(user, password)
        .map(|key| (key.scope, Some(key.sid)))
}

/// The middleware: attaches a [`Caller`] or answers 401; a host key outside its
/// scope is answered 404 or 403 ([`scope_check`]); every 401 leaves with a `Date`
/// header.
pub(crate) async fn authenticate<S: Store + 'static>(
    State(app): State<Arc<AppState<S>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let credentials = basic(&request);
    let host = credentials
        .as_ref()
        .and_then(|(user, password)| host_key(&app, user, password));
    let is_host = host.is_some();
    // Everyone but the host is limited per client address, failed attempts included
    // (so a script guessing enrollment tokens or the API secret is slowed down too).
    if !is_host
        && let Some(limit) = app.client_rate_limit()
        && let Some(ClientAddr(client)) = request.extensions().get::<ClientAddr>().copied()
        && let Err(wait) = limit.check(client)
    {
        tracing::info!(%client, path = %request.uri().path(), "client rate limit: answered 429");
        return ApiError::client_rate_limited(wait).into_response();
    }
    let caller = match (host, credentials) {
        (Some((scope, key)), _) => {
            if let Err(refusal) = scope_check(&scope, request.method(), request.uri().path()) {
                tracing::info!(
                    key = ?key,
                    %scope,
                    method = %request.method(),
                    path = %request.uri().path(),
                    status = refusal.status,
                    "API key outside its scope: refused"
                );
                return with_date(&app, refusal.into_response());
            }
            if let Some(key) = key {
                tracing::debug!(%key, "API key used");
            }
            Caller::ApiKey { scope, key }
        }
        (None, Some((user, password))) if user == "token" && !password.is_empty() => {
            token_caller(password)
        }
        _ => {
            tracing::info!(path = %request.uri().path(), "unauthenticated request refused");
            let mut response = ApiError::unauthorized().into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"verify\""),
            );
            return with_date(&app, response);
        }
    };
    request.extensions_mut().insert(caller);
    let response = next.run(request).await;
    with_date(&app, response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    const OWN: &str = "VA0123456789abcdef0123456789abcdef";
    const OTHER: &str = "VAfedcba9876543210fedcba9876543210";

    fn status(scope: &KeyScope, method: &Method, path: &str) -> u16 {
        scope_check(scope, method, path).map_or_else(|refusal| refusal.status, |()| 200)
    }

    #[test]
    fn a_service_key_acts_only_under_its_service() {
        let scope = KeyScope::Service(ServiceSid::parse(OWN).unwrap());
        let upper = format!("VA{}", OWN.get(2..).unwrap().to_uppercase());
        for (method, path, expected) in [
            (Method::GET, format!("/v2/Services/{OWN}"), 200),
            (Method::POST, format!("/v2/Services/{OWN}"), 200),
            (Method::GET, format!("/v2/Services/{upper}"), 200),
            (Method::POST, format!("/v2/Services/{OWN}/Entities"), 200),
            (
                Method::DELETE,
                format!("/v2/Services/{OWN}/Entities/user-0001"),
                200,
            ),
            (
                Method::POST,
                format!("/v2/Services/{OWN}/Entities/user-0001/Factors"),
                200,
            ),
            (Method::DELETE, format!("/v2/Services/{OWN}"), 403),
            (Method::GET, format!("/v2/Services/{OTHER}"), 404),
            (Method::DELETE, format!("/v2/Services/{OTHER}"), 404),
            (Method::POST, format!("/v2/Services/{OTHER}/Entities"), 404),
            (Method::GET, "/v2/Services/not-a-sid".to_owned(), 404),
            (
                Method::GET,
                format!("/v2/Services/%56A{}", OWN.get(2..).unwrap()),
                404,
            ),
            (Method::GET, format!("/v2/Services/{OWN}x/Entities"), 404),
            (Method::GET, "/v2/Services/".to_owned(), 404),
            (Method::POST, "/v2/Services".to_owned(), 403),
            (Method::GET, "/v2/Services".to_owned(), 403),
            (Method::GET, "/metrics".to_owned(), 403),
        ] {
            assert_eq!(status(&scope, &method, &path), expected, "{method} {path}");
        }
        let refusal =
            scope_check(&scope, &Method::GET, &format!("/v2/Services/{OTHER}")).unwrap_err();
        assert_eq!(refusal.code, verify_engine::error::CODE_NOT_FOUND);
        let refusal = scope_check(&scope, &Method::POST, "/v2/Services").unwrap_err();
        assert_eq!(refusal.code, crate::error::CODE_FORBIDDEN);
    }

    #[test]
    fn an_all_services_key_acts_everywhere() {
        for (method, path) in [
            (Method::POST, "/v2/Services".to_owned()),
            (Method::GET, "/v2/Services".to_owned()),
            (Method::DELETE, format!("/v2/Services/{OTHER}")),
            (Method::GET, "/metrics".to_owned()),
        ] {
            assert!(scope_check(&KeyScope::AllServices, &method, &path).is_ok());
        }
    }
}
