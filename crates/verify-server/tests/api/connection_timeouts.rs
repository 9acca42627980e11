//! The header read and idle keep-alive timeouts of `verify_server::serve`, on a real
//! socket, plain TCP and TLS: an idle keep-alive connection is closed after the
//! idle timeout (and not at the header read timeout, which counts only once a
//! request's first byte arrives); a request stalled mid-header is closed after the
//! header read timeout; a keep-alive connection reused after longer than the
//! header timeout is answered; fresh requests are answered while slow and idle
//! connections are held open; and a graceful shutdown closes idle connections at
//! once.
//!
//! Timings are asserted with generous bounds: a connection is closed no earlier
//! than its timeout (less a small allowance for when the client reads the answer)
//! and before three times it.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::oneshot;
use verify_server::serve;

use crate::support::Harness;

const HEADER: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_secs(2);
/// How much earlier than the server's timer the client may see a close: the
/// server's idle time counts from the last byte it wrote, the client's from the
/// moment it has read that byte.
const SLACK: Duration = Duration::from_millis(250);

const REQUEST: &[u8] = b"GET /api HTTP/1.1\r\nHost: localhost\r\n\r\n";
const PARTIAL: &[u8] = b"GET /api HTTP/1.1\r\nHost: lo";

type Server = (
    u16,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

fn options() -> serve::ServeOptions {
    let mut options = serve::ServeOptions::default();
    options.header_read_timeout = HEADER;
    options.idle_timeout = IDLE;
    options
}

async fn start(tls: bool) -> Server {
    let testdata = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
    let acceptor = tls.then(|| {
        serve::tls_acceptor(
            &testdata.join("localhost-test-only.cert.pem"),
            &testdata.join("localhost-test-only.key.pem"),
        )
        .unwrap()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve::serve(
        listener,
        Harness::new().app,
        acceptor,
        options(),
        async {
            let _ = stopped.await;
        },
    ));
    (port, stop, task)
}

async fn connect(port: u16) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap()
}

async fn connect_tls(port: u16) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_slice_iter(include_bytes!("../testdata/localhost-test-only.cert.pem"))
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect("localhost".try_into().unwrap(), connect(port).await)
        .await
        .unwrap()
}

/// Sends `REQUEST` and reads its whole answer (head and `Content-Length` body);
/// the status line.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> String {
    stream.write_all(REQUEST).await.unwrap();
    stream.flush().await.unwrap();
    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if received.len() >= end + 4 + length {
                assert_eq!(received.len(), end + 4 + length, "{head}");
                return head.lines().next().unwrap().to_owned();
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut chunk))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(read > 0, "closed mid-answer: {received:?}");
        received.extend_from_slice(&chunk[..read]);
    }
}

/// How long after `since` the server closed `stream` (end of stream, or a reset),
/// waiting at most 10 s; the bytes it sent meanwhile must be none.
async fn closed_after<S: AsyncRead + Unpin>(stream: &mut S, since: Instant) -> Duration {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .expect("the server did not close the connection within 10 s");
    let elapsed = since.elapsed();
    if read.is_ok() {
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    }
    elapsed
}

/// Whether `stream` is still open: nothing to read (no end of stream) for 50 ms.
async fn still_open<S: AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut byte = [0_u8; 1];
    tokio::time::timeout(Duration::from_millis(50), stream.read(&mut byte))
        .await
        .is_err()
}

#[track_caller]
fn assert_between(what: &str, elapsed: Duration, at_least: Duration, below: Duration) {
    assert!(
        elapsed >= at_least && elapsed < below,
        "{what}: closed after {elapsed:?}, expected in [{at_least:?}, {below:?})"
    );
}

/// An idle keep-alive connection: answered, then closed at the idle timeout, not
/// at the header timeout.
async fn idle_keep_alive<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Duration {
    assert!(exchange(&mut stream).await.starts_with("HTTP/1.1 200"));
    closed_after(&mut stream, Instant::now()).await
}

/// A keep-alive connection reused after longer than the header timeout (answered),
/// then idle again for longer than the header timeout (still open), then a
/// request's first bytes and a stall: closed at the header timeout after them.
async fn reused_then_stalled<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Duration {
    assert!(exchange(&mut stream).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(HEADER + HEADER / 2).await;
    assert!(
        exchange(&mut stream).await.starts_with("HTTP/1.1 200"),
        "a keep-alive connection idle past the header timeout was not answered"
    );
    tokio::time::sleep(HEADER + HEADER / 2).await;
    assert!(
        still_open(&mut stream).await,
        "closed while idle, before the idle timeout"
    );
    stream.write_all(PARTIAL).await.unwrap();
    stream.flush().await.unwrap();
    closed_after(&mut stream, Instant::now()).await
}

/// A fresh connection that sends a request's first bytes and stalls.
async fn stalled_at_start(mut stream: tokio::net::TcpStream) -> Duration {
    stream.write_all(PARTIAL).await.unwrap();
    closed_after(&mut stream, Instant::now()).await
}

#[tokio::test]
async fn idle_keep_alive_and_stalled_headers_are_closed_at_their_own_timeouts() {
    let (port, stop, task) = start(false).await;
    let idle = tokio::spawn(idle_keep_alive(connect(port).await));
    let reused = tokio::spawn(reused_then_stalled(connect(port).await));
    let stalled = tokio::spawn(stalled_at_start(connect(port).await));
    let (tls_port, tls_stop, tls_task) = start(true).await;
    let tls_idle = tokio::spawn(idle_keep_alive(connect_tls(tls_port).await));
    let tls_reused = tokio::spawn(reused_then_stalled(connect_tls(tls_port).await));

    // While those are held open (idle, or mid-header), fresh connections are
    // answered at once.
    for _ in 0..2 {
        tokio::time::sleep(HEADER / 4).await;
        let started = Instant::now();
        let mut fresh = connect(port).await;
        assert!(exchange(&mut fresh).await.starts_with("HTTP/1.1 200"));
        let mut fresh_tls = connect_tls(tls_port).await;
        assert!(exchange(&mut fresh_tls).await.starts_with("HTTP/1.1 200"));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        for (held, name) in [
            (&idle, "idle"),
            (&reused, "reused"),
            (&stalled, "stalled"),
            (&tls_idle, "idle, TLS"),
            (&tls_reused, "reused, TLS"),
        ] {
            assert!(!held.is_finished(), "{name}: closed early");
        }
    }

    assert_between(
        "stalled at start",
        stalled.await.unwrap(),
        HEADER - SLACK,
        HEADER * 3,
    );
    // Not at the header timeout: an idle connection has the idle timeout.
    assert_between("idle", idle.await.unwrap(), IDLE - SLACK, IDLE * 3);
    assert_between("idle, TLS", tls_idle.await.unwrap(), IDLE - SLACK, IDLE * 3);
    assert_between(
        "stalled on a keep-alive connection",
        reused.await.unwrap(),
        HEADER - SLACK,
        HEADER * 3,
    );
    assert_between(
        "stalled on a keep-alive connection, TLS",
        tls_reused.await.unwrap(),
        HEADER - SLACK,
        HEADER * 3,
    );

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    tls_stop.send(()).unwrap();
    tls_task.await.unwrap().unwrap();
}

/// A graceful shutdown does not wait for the idle timeout: idle keep-alive
/// connections (plain and TLS) are closed at once and the server returns.
#[tokio::test]
async fn a_graceful_shutdown_closes_idle_keep_alive_connections_at_once() {
    for tls in [false, true] {
        let (port, stop, task) = start(tls).await;
        let mut stream: Box<dyn AsyncReadWrite> = if tls {
            Box::new(connect_tls(port).await)
        } else {
            Box::new(connect(port).await)
        };
        assert!(exchange(&mut stream).await.starts_with("HTTP/1.1 200"));
        let stopping = Instant::now();
        stop.send(()).unwrap();
        tokio::time::timeout(IDLE / 2, task)
            .await
            .expect("the server waited for an idle connection")
            .unwrap()
            .unwrap();
        let closed = closed_after(&mut stream, stopping).await;
        assert!(closed < IDLE / 2, "tls {tls}: closed after {closed:?}");
    }
}

/// One trait object for a plain or a TLS stream.
trait AsyncReadWrite: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncReadWrite for T {}
