//! The JSON error every failure answers with: `code`, `message`, `more_info`,
//! `status`.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use verify_engine::VerifyError;
use verify_engine::error::{
    CODE_INVALID_PARAMETER, CODE_NOT_IMPLEMENTED, CODE_UNAUTHORIZED, CODE_UNAVAILABLE,
};

/// `code` for an authenticated caller acting outside its credential's scope (a
/// device on another factor of its entity).
pub const CODE_FORBIDDEN: u32 = 20403;

/// `code` for a client over the per-client-IP request rate (429; the service's
/// "Too Many Requests"; also the code of a TOTP factor's backoff, 20429).
pub const CODE_TOO_MANY_REQUESTS: u32 = 20429;

/// The `Retry-After` seconds of a 503 for an unavailable store (20503). Short: the
/// faults behind it (a busy pool, a database restarting or failing over, another
/// process's SQLite write lock) typically pass in seconds, and a client retrying
/// sooner would only add to the queue; each attempt already waits up to the
/// acquire timeout (`--db-acquire-timeout-ms`) before it is answered.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 2;

/// The default `more_info` link (`--more-info-url`): the code's row in the table of
/// error codes of verify-engine's `error` module on docs.rs, which has an anchor
/// `#code-NNNNN` for every code. `{code}` stands for the error's code.
pub const DEFAULT_MORE_INFO_URL: &str =
    "https://docs.rs/verify-engine/latest/verify_engine/error/index.html#code-{code}";

/// What a URL template needs to stand for the error's code.
const CODE_PLACEHOLDER: &str = "{code}";

/// Where the `more_info` of an error answer points: an absolute http(s) URL in
/// which `{code}` stands for the error's code (without `{code}`, every error
/// links the same page). The server sets it from `--more-info-url`; the default
/// is [`DEFAULT_MORE_INFO_URL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoreInfo(Arc<str>);

impl MoreInfo {
    /// A `more_info` URL template.
    ///
    /// # Errors
    /// A message when `template` is not an absolute `http://` or `https://` URL
    /// with a host, or holds whitespace or control characters.
    pub fn new(template: &str) -> Result<Self, String> {
        let rest = template
            .strip_prefix("https://")
            .or_else(|| template.strip_prefix("http://"))
            .ok_or_else(|| format!("{template:?} is not an absolute http(s) URL"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("{template:?} has no host"));
        }
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "{template:?} holds whitespace or control characters"
            ));
        }
        Ok(Self(Arc::from(template)))
    }

    /// The link for `code`.
    #[must_use]
    pub fn link(&self, code: u32) -> String {
        self.0.replace(CODE_PLACEHOLDER, &code.to_string())
    }

    /// The template, as given.
    #[must_use]
    pub fn template(&self) -> &str {
        &self.0
    }
}

impl Default for MoreInfo {
    fn default() -> Self {
        Self(Arc::from(DEFAULT_MORE_INFO_URL))
    }
}

impl std::str::FromStr for MoreInfo {
    type Err = String;

    fn from_str(template: &str) -> Result<Self, Self::Err> {
        Self::new(template)
    }
}

impl std::fmt::Display for MoreInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `router` with the `more_info` of every error answer it gives linking
/// `more_info` (the server's `--more-info-url`; [`crate::serve::serve`] applies
/// its [`crate::serve::ServeOptions::more_info`] so). Without it, answers link
/// [`DEFAULT_MORE_INFO_URL`].
pub fn with_more_info(router: axum::Router, more_info: MoreInfo) -> axum::Router {
    if more_info == MoreInfo::default() {
        return router;
    }
    router.layer(axum::middleware::map_response_with_state(more_info, relink))
}

/// An error answer rewritten with the `more_info` of `more_info`: every
/// [`ApiError`] answer carries the error in its extensions for this.
async fn relink(
    axum::extract::State(more_info): axum::extract::State<MoreInfo>,
    mut response: Response,
) -> Response {
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return response;
    };
    let (mut parts, _body) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        axum::body::Body::from(error.body(&more_info).to_string()),
    )
}

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
    /// Seconds the client should wait before retrying, sent as `Retry-After`: an
    /// unavailable store ([`RETRY_AFTER_UNAVAILABLE_SECS`]), or the time left of a
    /// TOTP factor's backoff or lock (60202 / 20429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A request parameter that is missing or malformed (400, 60200).
    #[must_use]
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            retry_after: None,
            code: CODE_INVALID_PARAMETER,
            message: message.into(),
        }
    }

    /// Missing or wrong credentials (401, 20003).
    #[must_use]
    pub fn unauthorized() -> Self {
        Self {
            status: 401,
            retry_after: None,
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
            retry_after: None,
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
            retry_after: None,
            code: CODE_FORBIDDEN,
            message: message.to_owned(),
        }
    }

    /// An operation this build does not provide (501, 20501).
    #[must_use]
    pub fn not_built(what: &str) -> Self {
        Self {
            status: 501,
            retry_after: None,
            code: CODE_NOT_IMPLEMENTED,
            message: format!("not built: {what}"),
        }
    }

    /// The store is unavailable for now (503, [`CODE_UNAVAILABLE`]), with
    /// `Retry-After: `[`RETRY_AFTER_UNAVAILABLE_SECS`]. The message names no cause.
    #[must_use]
    pub fn unavailable() -> Self {
        Self {
            status: 503,
            retry_after: Some(RETRY_AFTER_UNAVAILABLE_SECS),
            code: CODE_UNAVAILABLE,
            message: "the service is temporarily unavailable: retry later".to_owned(),
        }
    }

    /// The seconds this error's answer tells the client to wait before retrying
    /// (`Retry-After`), if any.
    #[must_use]
    pub const fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// A client over the per-client-IP request rate ([`crate::rate_limit`]): 429,
    /// [`CODE_TOO_MANY_REQUESTS`], `Retry-After` the wait rounded up (at least 1 s).
    #[must_use]
    pub fn client_rate_limited(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            status: 429,
            code: CODE_TOO_MANY_REQUESTS,
            message: "too many requests from this client: retry later".to_owned(),
            retry_after: Some(secs.max(1)),
        }
    }

    /// No route (404, 20404).
    #[must_use]
    pub fn no_route() -> Self {
        Self {
            status: 404,
            retry_after: None,
            code: verify_engine::error::CODE_NOT_FOUND,
            message: "the requested resource was not found".to_owned(),
        }
    }
}

impl From<VerifyError> for ApiError {
    /// The answer to an engine error. A 5xx is logged with the error's whole
    /// source chain (the store's message alone, "store backend failed", hides the
    /// database's), passwords masked; the answer itself names no cause.
    fn from(error: VerifyError) -> Self {
        let status = error.http_status();
        let code = error.code();
        if status >= 500 {
            let cause = redact_secrets(&source_chain(&error));
            if code == CODE_UNAVAILABLE {
                tracing::warn!(
                    %cause,
                    retry_after = RETRY_AFTER_UNAVAILABLE_SECS,
                    "store unavailable: answered 503"
                );
            } else {
                tracing::error!(%cause, code, "operation failed");
            }
        }
        if code == CODE_UNAVAILABLE {
            return Self::unavailable();
        }
        Self {
            status,
            code,
            message: error.to_string(),
            retry_after: error.retry_after_secs(),
        }
    }
}

/// The most sources of an error [`source_chain`] follows: a bound against a cycle,
/// far above any real chain (an engine error, a store error, a sqlx error, an I/O
/// error).
const MAX_SOURCE_CHAIN: usize = 16;

/// `error` and its sources, each `Display`ed, joined with `: `.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    for _ in 0..MAX_SOURCE_CHAIN {
        let Some(cause) = source else { break };
        let shown = cause.to_string();
        // `#[error(transparent)]` layers repeat their inner error's message.
        if !text.ends_with(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

/// What precedes a password in a connection string's key/value form.
const PASSWORD_KEY: &str = "password=";

/// `text` with the password of any URL (`scheme://user:PASSWORD@host`) and any
/// `password=VALUE` masked as `***`. Database errors do not carry the connection
/// URL, but a log line is no place to find out that one does.
fn redact_secrets(text: &str) -> String {
    let text = redact_url_passwords(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = find_ignore_ascii_case(rest, PASSWORD_KEY) {
        let Some((head, tail)) = rest.split_at_checked(at.saturating_add(PASSWORD_KEY.len()))
        else {
            break;
        };
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | '"' | '\'' | ',' | ')'))
            .unwrap_or(tail.len());
        out.push_str("***");
        rest = tail.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// `text` with `://user:PASSWORD@` masked to `://user:***@`.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme) = rest.find("://") {
        let Some((head, tail)) = rest.split_at_checked(scheme.saturating_add("://".len())) else {
            break;
        };
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#` or space.
        let authority_end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#'))
            .unwrap_or(tail.len());
        let authority = tail.get(..authority_end).unwrap_or_default();
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(tail.get(..=colon).unwrap_or_default());
                out.push_str("***");
                rest = tail.get(at..).unwrap_or_default();
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ignore_ascii_case(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

impl From<verify_engine::model::ModelError> for ApiError {
    fn from(error: verify_engine::model::ModelError) -> Self {
        VerifyError::from(error).into()
    }
}

impl ApiError {
    /// The JSON body of this error's answer, `more_info` linking `more_info`.
    fn body(&self, more_info: &MoreInfo) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "more_info": more_info.link(self.code),
            "status": self.status,
        })
    }
}

impl IntoResponse for ApiError {
    /// The answer, `more_info` linking [`DEFAULT_MORE_INFO_URL`]; the error goes
    /// along in the response's extensions, for [`with_more_info`] to link another.
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after();
        let body = self.body(&MoreInfo::default());
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        response.extensions_mut().insert(self);
        response
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
        404 => verify_engine::error::CODE_NOT_FOUND,
        // The service's "Method not allowed".
        405 => 20004,
        409 => verify_engine::error::CODE_CONFLICT,
        500..=599 => verify_engine::error::CODE_INTERNAL,
        _ => CODE_INVALID_PARAMETER,
    };
    let mut shaped = ApiError {
        status: status.as_u16(),
        retry_after: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use verify_engine::store::StoreError;

    #[tokio::test]
    async fn an_unavailable_store_is_503_with_retry_after_and_no_cause() {
        let cause = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connecting to postgres://verify:hunter2@db.internal/verify refused",
        );
        let error = ApiError::from(VerifyError::from(StoreError::Unavailable(Box::new(cause))));
        assert_eq!((error.status, error.code), (503, CODE_UNAVAILABLE));
        assert_eq!(error.retry_after(), Some(RETRY_AFTER_UNAVAILABLE_SECS));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS))
        );
        let body = axum::body::to_bytes(response.into_body(), 4096).await.ok();
        let json: serde_json::Value =
            serde_json::from_slice(&body.unwrap_or_default()).unwrap_or_default();
        assert_eq!(json["code"], 20503);
        assert_eq!(json["status"], 503);
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains("unavailable"), "{message}");
        assert!(
            !message.contains("refused") && !message.contains("hunter2"),
            "{message}"
        );
    }

    #[test]
    fn other_errors_carry_no_retry_after() {
        let backend = ApiError::from(VerifyError::from(StoreError::Backend(Box::new(
            std::io::Error::other("disk"),
        ))));
        assert_eq!((backend.status, backend.retry_after()), (500, None));
        assert_eq!(backend.message, "store backend failed");
        assert_eq!(ApiError::invalid("x").retry_after(), None);
        assert!(
            ApiError::invalid("x")
                .into_response()
                .headers()
                .get(axum::http::header::RETRY_AFTER)
                .is_none()
        );
    }

    #[test]
    fn the_logged_chain_names_every_cause() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let error = VerifyError::from(StoreError::Backend(Box::new(inner)));
        assert_eq!(
            source_chain(&error),
            "store backend failed: connection reset"
        );
    }

    #[test]
    fn passwords_are_masked_in_logged_text() {
        assert_eq!(
            redact_secrets("connecting to postgres://verify:s3cret@db:5432/verify: refused"),
            "connecting to postgres://verify:***@db:5432/verify: refused"
        );
        assert_eq!(
            redact_secrets("host=db user=verify password=s3cret dbname=verify"),
            "host=db user=verify password=*** dbname=verify"
        );
        assert_eq!(
            redact_secrets("postgres://db/verify?sslmode=disable&PASSWORD=s3cret&x=1"),
            "postgres://db/verify?sslmode=disable&PASSWORD=***&x=1"
        );
        assert_eq!(
            redact_secrets("postgres://verify@db/verify and sqlite://verify.db"),
            "postgres://verify@db/verify and sqlite://verify.db"
        );
        assert_eq!(redact_secrets("no url: ü://"), "no url: ü://");
    }

    #[test]
    fn more_info_links_the_code() {
        assert_eq!(
            MoreInfo::default().link(60340),
            "https://docs.rs/verify-engine/latest/verify_engine/error/index.html#code-60340"
        );
        let custom = MoreInfo::new("https://docs.example.com/errors/{code}.html").unwrap();
        assert_eq!(
            custom.link(20404),
            "https://docs.example.com/errors/20404.html"
        );
        assert_eq!(
            MoreInfo::new("http://intranet/errors").unwrap().link(20404),
            "http://intranet/errors"
        );
        for bad in [
            "",
            "docs/{code}",
            "ftp://host/{code}",
            "https://",
            "https:///x",
            "https://a b",
        ] {
            assert!(MoreInfo::new(bad).is_err(), "{bad:?}");
        }
    }

    async fn answer(router: axum::Router, path: &str) -> (Response, serde_json::Value) {
        use tower::ServiceExt as _;
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 4096).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap();
        (Response::from_parts(parts, axum::body::Body::empty()), json)
    }

    #[tokio::test]
    async fn with_more_info_relinks_every_error_answer_and_keeps_the_rest() {
        let router = || {
            axum::Router::new()
                .route(
                    "/busy",
                    axum::routing::get(|| async { ApiError::unavailable() }),
                )
                .route("/ok", axum::routing::get(|| async { "fine" }))
                .fallback(|| async { ApiError::no_route() })
        };
        let (_, json) = answer(router(), "/nope").await;
        assert_eq!(json["more_info"], MoreInfo::default().link(20404));

        let more_info = MoreInfo::new("https://docs.example.com/errors/{code}").unwrap();
        let relinked = || with_more_info(router(), more_info.clone());
        let (response, json) = answer(relinked(), "/busy").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS))
        );
        assert_eq!(json["more_info"], "https://docs.example.com/errors/20503");
        assert_eq!(
            (json["code"].as_u64(), json["status"].as_u64()),
            (Some(20503), Some(503))
        );
        assert_eq!(json["message"], ApiError::unavailable().message);
        let (_, json) = answer(relinked(), "/nope").await;
        assert_eq!(json["more_info"], "https://docs.example.com/errors/20404");

        use tower::ServiceExt as _;
        let ok = relinked()
            .oneshot(
                axum::http::Request::get("/ok")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(ok.into_body(), 4096).await.unwrap();
        assert_eq!(&bytes[..], b"fine");
    }
}
