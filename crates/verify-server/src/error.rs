//! The JSON error every failure answers with: `code`, `message`, `more_info`,
//! `status`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use verify::VerifyError;
use verify::error::{CODE_INVALID_PARAMETER, CODE_NOT_IMPLEMENTED, CODE_UNAUTHORIZED};

/// `code` for an authenticated caller acting outside its credential's scope (a
/// device on another factor of its entity).
pub const CODE_FORBIDDEN: u32 = 20403;

/// An API error: a machine code, a message and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} ({code}): {message}")]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The machine code (the service's where it documents one).
    pub code: u32,
    /// What failed (never a secret value).
    pub message: String,
}

impl ApiError {
    /// A request parameter that is missing or malformed (400, 60200).
    #[must_use]
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: CODE_INVALID_PARAMETER,
            message: message.into(),
        }
    }

    /// Missing or wrong credentials (401, 20003).
    #[must_use]
    pub fn unauthorized() -> Self {
        Self {
            status: 401,
            code: CODE_UNAUTHORIZED,
            message: "authenticate with HTTP Basic auth: the API key and secret".to_owned(),
        }
    }

    /// A device credential that was refused (401, 20003), saying why (never the
    /// credential itself).
    #[must_use]
    pub fn unauthorized_device(message: &str) -> Self {
        Self {
            status: 401,
            code: CODE_UNAUTHORIZED,
            message: message.to_owned(),
        }
    }

    /// An authenticated caller acting outside what its credential allows (403,
    /// [`CODE_FORBIDDEN`]).
    #[must_use]
    pub fn forbidden(message: &str) -> Self {
        Self {
            status: 403,
            code: CODE_FORBIDDEN,
            message: message.to_owned(),
        }
    }

    /// An operation this build does not provide (501, 20501).
    #[must_use]
    pub fn not_built(what: &str) -> Self {
        Self {
            status: 501,
            code: CODE_NOT_IMPLEMENTED,
            message: format!("not built: {what}"),
        }
    }

    /// No route (404, 20404).
    #[must_use]
    pub fn no_route() -> Self {
        Self {
            status: 404,
            code: verify::error::CODE_NOT_FOUND,
            message: "the requested resource was not found".to_owned(),
        }
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        let status = error.http_status();
        if status >= 500 {
            tracing::error!(%error, "operation failed");
        }
        Self {
            status,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<verify::model::ModelError> for ApiError {
    fn from(error: verify::model::ModelError) -> Self {
        VerifyError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://example.invalid/verify/errors/{}", self.code),
            "status": self.status,
        });
        (status, axum::Json(body)).into_response()
    }
}

/// The longest text of a framework rejection kept as the JSON error's message.
const MAX_REJECTION_MESSAGE: usize = 200;

/// Gives every error answer the service's JSON shape, also those the framework
/// writes itself in plain text (a body over the size limit: 413; a method the
/// route does not take: 405; a path or body extractor's rejection: 400/415/422).
/// Answers already in JSON pass unchanged.
pub async fn json_error_shape(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_MESSAGE * 4)
        .await
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(MAX_REJECTION_MESSAGE)
                .collect::<String>()
        })
        .unwrap_or_default();
    let message = if text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned()
    } else {
        text
    };
    let code = match status.as_u16() {
        401 => CODE_UNAUTHORIZED,
        404 => verify::error::CODE_NOT_FOUND,
        // The service's "Method not allowed".
        405 => 20004,
        409 => verify::error::CODE_CONFLICT,
        500..=599 => verify::error::CODE_INTERNAL,
        _ => CODE_INVALID_PARAMETER,
    };
    let mut shaped = ApiError {
        status: status.as_u16(),
        code,
        message,
    }
    .into_response();
    // Keep what the framework said beyond the body (`Allow` on a 405, for one).
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}
