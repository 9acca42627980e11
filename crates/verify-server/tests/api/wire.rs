//! The server on a real socket, through `verify_server::serve`: HTTPS with the
//! `--tls-cert` / `--tls-key` pair (the Android SDK opens `HttpsURLConnection`),
//! plain HTTP refused on that port, graceful shutdown, and header names written in
//! title case (`Content-Type`, `Twilio-Verify-Signature-Fields`), as the service's
//! documents write them.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::oneshot;
use verify_server::serve;

use crate::support::{Harness, basic};

const CERT: &[u8] = include_bytes!("../testdata/localhost-test-only.cert.pem");

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name)
}

/// Serves a fresh harness's router on 127.0.0.1; the port, the shutdown trigger and
/// the serving task.
async fn start(
    tls: bool,
) -> (
    u16,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    start_with(tls, serve::ServeOptions::default()).await
}

async fn start_with(
    tls: bool,
    options: serve::ServeOptions,
) -> (
    u16,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let h = Harness::new();
    let acceptor = tls.then(|| {
        serve::tls_acceptor(
            &testdata("localhost-test-only.cert.pem"),
            &testdata("localhost-test-only.key.pem"),
        )
        .unwrap()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve::serve(
        listener,
        h.app.clone(),
        acceptor,
        options,
        async {
            let _ = stopped.await;
        },
    ));
    (port, stop, task)
}

/// The raw bytes of a response to `request` on a plain TCP connection.
async fn raw_exchange(port: u16, request: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received)).await;
    received
}

#[tokio::test]
async fn https_with_the_configured_certificate_and_no_plain_http_on_its_port() {
    let (port, stop, task) = start(true).await;
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(CERT).unwrap())
        .build()
        .unwrap();
    let reply = trusting
        .get(format!("https://localhost:{port}/v2/Services"))
        .header("authorization", basic("key", "secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    assert!(body["services"].is_array(), "{body}");

    // A client that does not trust the certificate does not get through.
    let untrusting = reqwest::Client::builder().build().unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/api"))
            .send()
            .await
            .is_err()
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = raw_exchange(
        port,
        "GET /api HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        !plain.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&plain)
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .expect("the server stops within its grace period")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_bad_certificate_or_key_file_is_a_clear_error() {
    let error = |cert: &str, key: &str| match serve::tls_acceptor(&testdata(cert), &testdata(key)) {
        Ok(_) => panic!("{cert} / {key} accepted"),
        Err(message) => message,
    };
    let missing = error("nope.pem", "nope.pem");
    assert!(missing.contains("--tls-cert"), "{missing}");
    let key_as_cert = error("localhost-test-only.key.pem", "localhost-test-only.key.pem");
    assert!(key_as_cert.contains("no certificate"), "{key_as_cert}");
    let cert_as_key = error(
        "localhost-test-only.cert.pem",
        "localhost-test-only.cert.pem",
    );
    assert!(cert_as_key.contains("--tls-key"), "{cert_as_key}");
}

#[tokio::test]
async fn header_names_go_out_in_title_case() {
    let (port, stop, task) = start(false).await;
    let request = format!(
        "GET /v2/Services HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic("key", "secret")
    );
    let response = String::from_utf8(raw_exchange(port, &request).await).unwrap();
    let (head, _) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: application/json"),
        "{head}"
    );
    assert!(!head.contains("content-type:"), "{head}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// Slow and idle clients cannot hold the server: a header dripped past the header
/// timeout is cut off, and at the connection limit a normal request waits for a free
/// slot (here: the one the cut-off client frees) and is answered.
#[tokio::test]
async fn slow_and_idle_connections_do_not_hold_the_server() {
    let mut options = serve::ServeOptions::default();
    options.header_read_timeout = Duration::from_secs(1);
    options.max_connections = 3;
    let (port, stop, task) = start_with(false, options).await;
    // Three connections that start a request and never finish its header.
    let mut slow = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream
            .write_all(b"GET /api HTTP/1.1\r\nHost: lo")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A normal request, queued behind them, is answered once the header timeout
    // closes one of them.
    let started = std::time::Instant::now();
    let answered = raw_exchange(
        port,
        "GET /api HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        answered.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The slow ones were closed by the server.
    for mut stream in slow {
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a slow connection is still open");
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// After a clean shutdown (SIGTERM, as service managers send) of the binary on a
/// SQLite file, the database
/// file alone holds every row: the store is closed, which checkpoints the
/// write-ahead log, so copying "the database file" loses nothing.
#[tokio::test]
async fn a_clean_shutdown_leaves_every_row_in_the_sqlite_file() {
    use verify::store::Store as _;
    let dir = std::env::temp_dir().join(format!("verify-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("verify.db");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
        .args([
            "--database",
            &format!("sqlite://{}", db.display()),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--demo",
            "off",
            "--api-key",
            "key",
            "--api-secret",
            "secret",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut created = None;
    for _ in 0..100 {
        if let Ok(reply) = client
            .post(format!("http://127.0.0.1:{port}/v2/Services"))
            .header("authorization", basic("key", "secret"))
            .form(&[("FriendlyName", "Owl Bank")])
            .send()
            .await
        {
            created = Some(reply.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(created, Some(reqwest::StatusCode::CREATED));
    let interrupted = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    // Only the main file, copied elsewhere: no -wal or -shm beside it.
    let copy = dir.join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let store = verify_store_sql::SqliteStore::open(&copy.display().to_string())
        .await
        .unwrap();
    let listing = store
        .list_services(&verify::store::ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 1);
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
