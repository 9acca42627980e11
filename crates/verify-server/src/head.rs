//! Bounds on a request's head (its URI and header block), answered in the JSON
//! error shape: 414 for a URI longer than [`MAX_URI_BYTES`], 431 for more header
//! fields than [`MAX_HEADER_FIELDS`] or a header block larger than
//! [`MAX_HEADER_BYTES`].
//!
//! These are lower than the HTTP layer's own (hyper's: a URI of 65,534 bytes, a
//! read buffer of about 400 KiB, and the field count [`serve`](crate::serve) sets
//! to twice ours), so a request between the two gets the API's answer; only a head
//! past hyper's limits is refused by hyper itself, with an empty 414 or 431.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::ApiError;

/// The longest URI (path and query) a request may have, in bytes. The API's
/// longest path with a full page of list parameters is well under 1 KiB.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header fields a request may send (hyper's default; the SDKs send
/// about a dozen).
pub const MAX_HEADER_FIELDS: usize = 100;

/// The largest header block a request may send, in bytes: each field's name and
/// value plus the 4 bytes of `": "` and CRLF.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// `code` of the 414 (the service's `20xxx` pattern of HTTP statuses).
pub const CODE_URI_TOO_LONG: u32 = 20414;

/// `code` of the 431.
pub const CODE_HEADERS_TOO_LARGE: u32 = 20431;

/// Refuses a request whose head is past the bounds above, before any other layer
/// reads it.
pub async fn within_limits(request: Request, next: Next) -> Response {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |path| path.as_str().len());
    if uri > MAX_URI_BYTES {
        return refuse(
            414,
            CODE_URI_TOO_LONG,
            format!("URI of {uri} bytes: at most {MAX_URI_BYTES}"),
        );
    }
    let headers = request.headers();
    if headers.len() > MAX_HEADER_FIELDS {
        return refuse(
            431,
            CODE_HEADERS_TOO_LARGE,
            format!(
                "{} header fields: at most {MAX_HEADER_FIELDS}",
                headers.len()
            ),
        );
    }
    let bytes = headers.iter().fold(0_usize, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len())
            .saturating_add(value.len())
            .saturating_add(4)
    });
    if bytes > MAX_HEADER_BYTES {
        return refuse(
            431,
            CODE_HEADERS_TOO_LARGE,
            format!("header block of {bytes} bytes: at most {MAX_HEADER_BYTES}"),
        );
    }
    next.run(request).await
}

/// The JSON error answer of a refused head.
fn refuse(status: u16, code: u32, message: String) -> Response {
    ApiError {
        status,
        code,
        message,
        retry_after: None,
    }
    .into_response()
}
