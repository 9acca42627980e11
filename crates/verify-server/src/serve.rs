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
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt as _;

use crate::rate_limit::ClientAddr;

/// How long open connections get to finish their requests after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The default time a client gets to send a request's whole header block, counted
/// from the connection's start for its first request (after the TLS handshake on
/// HTTPS) and from the request's first byte for each later one on a keep-alive
/// connection; then the connection is closed. So a client dripping a header, or
/// opening a connection and sending nothing, holds a slot at most this long.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time a keep-alive connection may sit with no request after its last
/// answer went out (counted from the last byte of it written): then the server
/// closes it. A request whose first byte arrives in time then has the header read
/// timeout for its header block. Long enough that clients and proxies reuse their
/// connections between requests a few seconds apart (fewer TCP and TLS handshakes),
/// short enough that idle connections do not sit on the connection limit.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// See [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
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
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
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
        let limits = Limits {
            header: options.header_read_timeout,
            idle: options.idle_timeout,
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.title_case_headers(true)
            .timer(TokioTimer::new())
            // The header and idle timeouts are ours (`Timed`): hyper's header timer
            // starts when it begins waiting for the next request, so it would also
            // close an idle keep-alive connection at the header timeout.
            .header_read_timeout(None)
            // Above the router's own bound, so a request between the two gets its
            // JSON 431 rather than hyper's empty one (crate::head).
            .max_headers(crate::head::MAX_HEADER_FIELDS.saturating_mul(2));
        match &tls {
            None => {
                let (io, service) = timed(stream, service, limits);
                let connection = http.serve_connection(TokioIo::new(io), service);
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
                    let (io, service) = timed(stream, service, limits);
                    let connection = http.serve_connection(TokioIo::new(io), service);
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

/// The header read and idle timeouts of one connection.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header: Duration,
    idle: Duration,
}

/// Where a connection is between requests, as its [`Timed`] IO and [`Tracked`]
/// service see it.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for, or reading, a request's header block: closed at `deadline`
    /// (the connection's start, or the request's first byte, plus the header read
    /// timeout).
    Head { deadline: Instant },
    /// Request `number` is being answered (its header read; the body read
    /// timeout bounds its body, the handler is not bounded here).
    Busy { number: u64 },
    /// The last answer is out, the last of its bytes written at `since`: closed
    /// at `since` plus the idle timeout unless a byte of a request arrives.
    Idle { since: Instant },
}

/// The phase of one connection, shared by its IO and its service.
#[derive(Debug)]
struct Clock {
    limits: Limits,
    state: std::sync::Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    phase: Phase,
    /// The number of the last request started.
    requests: u64,
    /// The connection task's waker, from the IO's last wait: a phase change that
    /// sets a deadline wakes it, since hyper does not poll a read that is already
    /// waiting again by itself, and the timer is set when the read is polled.
    waker: Option<std::task::Waker>,
}

impl Clock {
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: std::sync::Mutex::new(ClockState {
                phase: Phase::Head {
                    deadline: Instant::now() + limits.header,
                },
                requests: 0,
                waker: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `read` bytes of the request side arrived. The first after an answer starts
    /// the next request's header timer. (Bytes that arrive while a request is
    /// being answered, a pipelined request's, do not: an incomplete pipelined
    /// header is then bounded by the idle timeout instead.)
    fn on_read(&self, read: usize) {
        let mut state = self.lock();
        if read > 0 && matches!(state.phase, Phase::Idle { .. }) {
            state.phase = Phase::Head {
                deadline: Instant::now() + self.limits.header,
            };
        }
    }

    /// `written` bytes went out: once the answer is out, the idle time counts from
    /// its last byte (a client slow to read it is not idle).
    fn on_written(&self, written: usize) {
        let mut state = self.lock();
        if written > 0 && matches!(state.phase, Phase::Idle { .. }) {
            state.phase = Phase::Idle {
                since: Instant::now(),
            };
        }
    }

    /// A request's header block was read: the number of the request.
    fn request_started(&self) -> u64 {
        let mut state = self.lock();
        state.requests = state.requests.wrapping_add(1);
        state.phase = Phase::Busy {
            number: state.requests,
        };
        state.requests
    }

    /// The answer to request `number` is done (hyper dropped its body): the idle
    /// timer starts, and the connection task is woken to set it.
    fn response_done(&self, number: u64) {
        let waker = {
            let mut state = self.lock();
            if !matches!(state.phase, Phase::Busy { number: busy } if busy == number) {
                return;
            }
            state.phase = Phase::Idle {
                since: Instant::now(),
            };
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// When the connection is closed unless something happens first, and why;
    /// `waker` is woken when that changes from none to some.
    fn deadline(&self, waker: &std::task::Waker) -> Option<(Instant, Expiry)> {
        let mut state = self.lock();
        match &state.waker {
            Some(parked) if parked.will_wake(waker) => {}
            _ => state.waker = Some(waker.clone()),
        }
        match state.phase {
            Phase::Head { deadline } => Some((deadline, Expiry::Header)),
            Phase::Busy { .. } => None,
            Phase::Idle { since } => Some((since + self.limits.idle, Expiry::Idle)),
        }
    }
}

/// Which timeout ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Header,
    Idle,
}

/// The connection IO with [`Clock`]'s deadlines: a read or write that would wait
/// past the deadline ends instead. An idle connection reads end of stream (hyper
/// then closes it as it closes one the client closed: cleanly, `FIN` or TLS
/// `close_notify`); a header not received in time, or an answer the client does not
/// read, fails with [`io::ErrorKind::TimedOut`], which ends the connection.
///
/// Requires `T: Unpin` (a `TcpStream`, a `TlsStream` of one), so no pin projection:
/// the workspace forbids unsafe code.
struct Timed<T> {
    io: T,
    clock: Arc<Clock>,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// The deadline `sleep` is set to.
    armed: Instant,
}

impl<T> std::fmt::Debug for Timed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed").field("clock", &self.clock).finish()
    }
}

impl<T> Timed<T> {
    fn new(io: T, clock: Arc<Clock>) -> Self {
        let armed = Instant::now() + clock.limits.header;
        Self {
            io,
            clock,
            sleep: Box::pin(tokio::time::sleep_until(armed)),
            armed,
        }
    }

    /// After the IO said "pending": ready with the expiry once the deadline has
    /// passed, else pending with the timer registered to wake the task then.
    fn poll_deadline(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Expiry> {
        let Some((deadline, expiry)) = self.clock.deadline(cx.waker()) else {
            return std::task::Poll::Pending;
        };
        if deadline != self.armed {
            self.sleep.as_mut().reset(deadline);
            self.armed = deadline;
        }
        self.sleep.as_mut().poll(cx).map(|()| expiry)
    }

    fn timed_out(&self, expiry: Expiry) -> io::Error {
        let message = match expiry {
            Expiry::Header => format!(
                "request header not received within {} ms",
                self.clock.limits.header.as_millis()
            ),
            Expiry::Idle => format!(
                "answer not read by the client within {} ms",
                self.clock.limits.idle.as_millis()
            ),
        };
        io::Error::new(io::ErrorKind::TimedOut, message)
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Timed<T> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.clock
                    .on_read(buf.filled().len().saturating_sub(before));
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => match this.poll_deadline(cx) {
                Poll::Pending => Poll::Pending,
                // End of stream: hyper closes an idle connection cleanly.
                Poll::Ready(Expiry::Idle) => {
                    tracing::debug!(
                        idle_ms = this.clock.limits.idle.as_millis(),
                        "idle keep-alive connection closed"
                    );
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(expiry) => Poll::Ready(Err(this.timed_out(expiry))),
            },
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Timed<T> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.io).poll_write(cx, buf) {
            std::task::Poll::Ready(Ok(written)) => {
                this.clock.on_written(written);
                std::task::Poll::Ready(Ok(written))
            }
            std::task::Poll::Pending => this
                .poll_deadline(cx)
                .map(|expiry| Err(this.timed_out(expiry))),
            ready @ std::task::Poll::Ready(Err(_)) => ready,
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            std::task::Poll::Ready(Ok(written)) => {
                this.clock.on_written(written);
                std::task::Poll::Ready(Ok(written))
            }
            std::task::Poll::Pending => this
                .poll_deadline(cx)
                .map(|expiry| Err(this.timed_out(expiry))),
            ready @ std::task::Poll::Ready(Err(_)) => ready,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.io).poll_flush(cx) {
            std::task::Poll::Pending => this
                .poll_deadline(cx)
                .map(|expiry| Err(this.timed_out(expiry))),
            ready => ready,
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The connection's service, telling its [`Clock`] when a request's header has been
/// read (hyper calls the service right then) and when its answer is done (hyper
/// drops the answer's body once it has taken all of it).
#[derive(Debug)]
struct Tracked<S> {
    inner: S,
    clock: Arc<Clock>,
}

impl<S, B> hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for Tracked<S>
where
    S: hyper::service::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::http::Response<B>,
        >,
    S::Future: Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
{
    type Response = axum::http::Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn call(&self, request: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        let number = self.clock.request_started();
        let clock = Arc::clone(&self.clock);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(response.map(|inner| TrackedBody {
                inner,
                done: Some((clock, number)),
            }))
        })
    }
}

/// An answer's body that tells the connection's [`Clock`] when it is dropped.
#[derive(Debug)]
struct TrackedBody<B> {
    inner: B,
    done: Option<(Arc<Clock>, u64)>,
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for TrackedBody<B> {
    fn drop(&mut self) {
        if let Some((clock, number)) = self.done.take() {
            clock.response_done(number);
        }
    }
}

/// `io` and `service` of one connection, sharing a [`Clock`] with `limits`, which
/// starts now (after the TLS handshake on HTTPS) with the first request's header
/// timer.
fn timed<T, S>(io: T, service: S, limits: Limits) -> (Timed<T>, Tracked<S>) {
    let clock = Arc::new(Clock::new(limits));
    (
        Timed::new(io, Arc::clone(&clock)),
        Tracked {
            inner: service,
            clock,
        },
    )
}
