//! Serving the router: HTTP/1.1 over plain TCP or TLS, with graceful shutdown.
//!
//! Not `axum::serve`, for two reasons: TLS (`--tls-cert` / `--tls-key`: the Android
//! SDK opens `HttpsURLConnection` and cannot reach a plain-HTTP server), and header
//! names written in title case (`Twilio-Verify-Signature-Fields`, as the service's
//! documents write them), since not every SDK's header lookup is case-insensitive.
//! hyper writes either on request (`title_case_headers`).

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt as _;

use crate::rate_limit::ClientAddr;

/// How long open connections get to finish their requests after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The default time a client gets to send a request's whole header block, counted
/// from when the server starts waiting for it (a new connection, or a keep-alive
/// connection after its last answer); then the connection is closed. So a client
/// dripping a header, and an idle connection, hold a slot at most this long.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time a client gets to send a request's whole body, counted from
/// when its header block was read. A body dripped slower than that is answered
/// 408 and its connection closed, so it holds a slot at most this long (the
/// header timeout does not cover the body).
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// `code` of the 408 for a body not received within the body read timeout (the
/// service's `20xxx` pattern of HTTP statuses: 20404, 20429, 20500).
pub const CODE_REQUEST_TIMEOUT: u32 = 20408;

/// The default number of connections served at once. Past it, new connections wait
/// in the kernel's accept queue (and a warning is logged) until one closes.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Limits of [`serve`], and the `more_info` link of its error answers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// See [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`DEFAULT_MAX_CONNECTIONS`]; at least 1.
    pub max_connections: usize,
    /// See [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Where the `more_info` of every error answer points (`--more-info-url`;
    /// default [`crate::error::DEFAULT_MORE_INFO_URL`]), also of the answers
    /// [`serve`] gives itself (408, 413).
    pub more_info: crate::error::MoreInfo,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            more_info: crate::error::MoreInfo::default(),
        }
    }
}

/// How long a client gets to complete the TLS handshake before its connection is
/// dropped (a slow or silent client must not hold a task for ever).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS server configuration from a PEM certificate chain and a PEM private key
/// (PKCS#8, PKCS#1 or SEC1), on ring, TLS 1.2 and 1.3. Read once, at start: a new
/// certificate takes a restart.
///
/// # Errors
/// A message naming the file and what is wrong with it.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-cert {}: no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("--tls-cert / --tls-key: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// connections finish for at most [`SHUTDOWN_GRACE`]. With `tls`, every connection
/// is TLS (a plain-HTTP request on that port fails its handshake).
///
/// # Errors
/// An accept error that is not about one connection (the listener itself failed).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(
        options.body_read_timeout,
        read_body_in_time,
    ));
    // Outermost: also the answers of the body read above link --more-info-url.
    let app = crate::error::with_more_info(app, options.more_info.clone());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let mut at_limit = false;
    loop {
        // A free connection slot first: at the limit, new connections wait in the
        // accept queue instead of taking memory and descriptors.
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                at_limit = false;
                slot
            }
            Err(_) => {
                if !at_limit {
                    tracing::warn!(
                        max_connections = options.max_connections,
                        "connection limit reached: new connections wait until one closes"
                    );
                    at_limit = true;
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait, do not spin or stop.
                Err(error) if is_per_connection(&error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(error) => return Err(error),
            },
            () = &mut shutdown => break,
        };
        // The peer's address goes with each request: the per-client rate limit
        // (crate::rate_limit) keys on it.
        let client = ClientAddr(peer.ip());
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(client);
                request
            },
        ));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.title_case_headers(true)
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout)
            // Above the router's own bound, so a request between the two gets its
            // JSON 431 rather than hyper's empty one (crate::head).
            .max_headers(crate::head::MAX_HEADER_FIELDS.saturating_mul(2));
        match &tls {
            None => {
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    let _slot = slot;
                    if let Err(error) = watched.await {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _slot = slot;
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    let stream = match handshake {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    if let Err(error) = watcher.watch(connection).await {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period: closing them");
    }
    Ok(())
}

/// Reads the whole request body (at most [`crate::form::MAX_BODY`] bytes, the
/// bound every route has) within `timeout` before the request goes on: 408 (and
/// the connection closed) when it does not arrive in time, 413 when it is larger.
async fn read_body_in_time(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, crate::form::MAX_BODY)).await {
        Ok(Ok(bytes)) => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
        Ok(Err(_)) => crate::ApiError {
            status: 413,
            code: verify_engine::error::CODE_INVALID_PARAMETER,
            message: format!(
                "request body larger than {} bytes (or cut off)",
                crate::form::MAX_BODY
            ),
            retry_after: None,
        }
        .into_response(),
        Err(_) => {
            tracing::info!(
                path = %parts.uri.path(),
                timeout_secs = timeout.as_secs(),
                "request body not received in time: answered 408, connection closed"
            );
            let mut response = crate::ApiError {
                status: 408,
                code: CODE_REQUEST_TIMEOUT,
                message: format!("request body not received within {} s", timeout.as_secs()),
                retry_after: None,
            }
            .into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// Accept errors that concern one connection or a passing resource shortage, after
/// which the listener keeps working.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock // ENFILE (23) and EMFILE (24) on Linux: out of file descriptors for now.
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24)
}
