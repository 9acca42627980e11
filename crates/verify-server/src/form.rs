//! Form-encoded request bodies with the service's dotted parameter names.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::error::ApiError;

/// The largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// One name or value of a form: `+` is a space, `%XX` a byte, and the bytes must be
/// UTF-8 (refused, not replaced by U+FFFD: a stored identity or name must be what the
/// client meant).
fn decode(part: &[u8]) -> Result<String, ApiError> {
    let spaced: Vec<u8> = part
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| ApiError::invalid("the form is not UTF-8 once decoded"))
}

/// A parsed `application/x-www-form-urlencoded` body (or query string): each name
/// with its values in order (`EventTypes` and `Passkeys.RelyingParty.Origins` repeat).
#[derive(Debug, Clone, Default)]
pub struct Form(BTreeMap<String, Vec<String>>);

impl Form {
    /// Parses `bytes`.
    ///
    /// # Errors
    /// [`ApiError::invalid`] for a name or value that is not UTF-8 once decoded.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in bytes.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (
                    pair.get(..at).unwrap_or_default(),
                    pair.get(at + 1..).unwrap_or_default(),
                ),
                None => (pair, &b""[..]),
            };
            map.entry(decode(name)?).or_default().push(decode(value)?);
        }
        Ok(Self(map))
    }

    /// The first value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// Every value of `name` (empty when absent).
    #[must_use]
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of `name`, required.
    ///
    /// # Errors
    /// [`ApiError::invalid`] naming the missing parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid(format!("missing required parameter {name}")))
    }

    /// The value of `name` parsed with `FromStr`, if present.
    ///
    /// # Errors
    /// [`ApiError::invalid`] naming the malformed parameter.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|text| {
                text.parse::<T>()
                    .map_err(|_| ApiError::invalid(format!("parameter {name} is malformed")))
            })
            .transpose()
    }
}

/// Refuses a `POST` whose `Content-Type` names something other than a form (JSON,
/// multipart) on the form-taking routes, with 415 in the JSON error shape, instead of
/// reading it as a form. A request without the header is read as a form (what the
/// service's clients send always has it). The `Passkeys/*` routes take JSON and are
/// left alone.
pub async fn require_form_content_type(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let path = request.uri().path();
    let is_form_route = request.method() == axum::http::Method::POST
        && path.starts_with("/v2/")
        && !path.contains("/Passkeys/");
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or_default().to_ascii_lowercase());
    match content_type {
        Some(kind)
            if is_form_route
                && !kind
                    .trim_start()
                    .starts_with("application/x-www-form-urlencoded") =>
        {
            ApiError {
                status: 415,
                retry_after: None,
                code: verify_engine::error::CODE_INVALID_PARAMETER,
                message: "the body must be application/x-www-form-urlencoded".to_owned(),
            }
            .into_response()
        }
        _ => next.run(request).await,
    }
}
