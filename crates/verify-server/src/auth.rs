//! HTTP Basic authentication, three kinds of caller:
//!
//! - the host: the API key and secret from configuration (compared in constant
//!   time), allowed everywhere;
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
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use verify::DeviceAuth;
use verify::model::{FactorSid, Identity, ServiceSid};
use verify::push::RequestJwt;
use verify::store::Store;

use crate::AppState;
use crate::error::ApiError;
use crate::rate_limit::ClientAddr;

/// Who is calling, as established by the authentication middleware (the device
/// JWT's signature is checked later, by [`device_access`], once the route names the
/// service and identity).
#[derive(Clone)]
#[non_exhaustive]
pub enum Caller {
    /// The host, with the API key and secret.
    ApiKey,
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
            Self::ApiKey => f.write_str("ApiKey"),
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
        Caller::ApiKey => Ok(()),
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
        Caller::ApiKey => return Ok(DeviceAccess::Host),
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

/// The API credentials.
#[derive(Clone)]
pub struct Credentials {
    key: String,
    secret: String,
}

impl Credentials {
    /// The API key and secret.
    #[must_use]
    pub fn new(key: &str, secret: &str) -> Self {
        Self {
            key: key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    fn check(&self, user: &str, password: &str) -> bool {
        let key = user.as_bytes().ct_eq(self.key.as_bytes());
        let secret = password.as_bytes().ct_eq(self.secret.as_bytes());
        bool::from(key & secret)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
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
        && let Ok(value) = HeaderValue::from_str(&verify::push::http_date(now))
    {
        response.headers_mut().insert(DATE, value);
    }
    response
}

/// The middleware: attaches a [`Caller`] or answers 401; every 401 leaves with a
/// `Date` header.
pub(crate) async fn authenticate<S: Store + 'static>(
    State(app): State<Arc<AppState<S>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let credentials = basic(&request);
    let is_host =
        matches!(&credentials, Some((user, password)) if app.credentials.check(user, password));
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
    let caller = match credentials {
        Some(_) if is_host => Caller::ApiKey,
        Some((user, password)) if user == "token" && !password.is_empty() => token_caller(password),
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
