//! `GET /.well-known/webauthn` (no authentication): the related origins (WebAuthn
//! L3 §5.11) of the services whose RP ID is the request's host, for a deployment
//! that proxies `https://<rp id>/.well-known/webauthn` here (docs/api.md,
//! "Related origins").

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::HOST;

use crate::error::ApiError;
use verify_engine::store::Store;

use super::{ApiResult, Shared, json};

/// The request's host without its port, lower-cased: the `Host` header, else the
/// URI's authority (HTTP/2). `None` when neither names one.
fn request_host(request: &Request) -> Option<String> {
    let authority = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `{"origins": [...]}`: the union of the related origins of the services whose
/// RP ID equals the host; 404 (20404) when there is none.
pub(crate) async fn webauthn<S: Store + 'static>(
    State(app): Shared<S>,
    request: Request,
) -> ApiResult {
    let Some(host) = request_host(&request) else {
        return Err(ApiError::no_route());
    };
    let origins = app.engine.related_origins(&host).await?;
    if origins.is_empty() {
        return Err(ApiError::no_route());
    }
    json(StatusCode::OK, &serde_json::json!({ "origins": origins }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(host: Option<&str>, uri: &str) -> Option<String> {
        let mut builder = axum::http::Request::builder().uri(uri);
        if let Some(host) = host {
            builder = builder.header(HOST, host);
        }
        request_host(&builder.body(axum::body::Body::empty()).unwrap())
    }

    #[test]
    fn the_host_loses_its_port_and_case() {
        assert_eq!(
            host_of(Some("Example.ORG:8443"), "/.well-known/webauthn").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            host_of(Some("example.org"), "/").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            host_of(None, "https://example.org:443/.well-known/webauthn").as_deref(),
            Some("example.org")
        );
        assert_eq!(host_of(None, "/.well-known/webauthn"), None);
        assert_eq!(host_of(Some(":443"), "/"), None);
    }
}
