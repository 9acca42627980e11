//! HTTP Basic authentication: the API key and secret from configuration (compared
//! in constant time), or, for the device's push-factor enrollment, the username
//! `token` with an enrollment access token as the password.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;
use verify::store::Store;

use crate::AppState;
use crate::error::ApiError;

/// Who is calling, as established by the authentication middleware.
#[derive(Clone)]
#[non_exhaustive]
pub enum Caller {
    /// The host, with the API key and secret.
    ApiKey,
    /// A device presenting an enrollment access token (`Basic base64("token:" + token)`).
    Token(String),
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey => f.write_str("ApiKey"),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
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
/// [`ApiError::unauthorized`] for a device token.
pub fn require_api_key(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::ApiKey => Ok(()),
        Caller::Token(_) => Err(ApiError::unauthorized()),
    }
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

/// The middleware: attaches a [`Caller`] or answers 401.
pub(crate) async fn authenticate<S: Store + 'static>(
    State(app): State<Arc<AppState<S>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match basic(&request) {
        Some((user, password)) if app.credentials.check(&user, &password) => Caller::ApiKey,
        Some((user, password)) if user == "token" && !password.is_empty() => {
            Caller::Token(password)
        }
        _ => {
            tracing::info!(path = %request.uri().path(), "unauthenticated request refused");
            let mut response = ApiError::unauthorized().into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"verify\""),
            );
            return response;
        }
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}
