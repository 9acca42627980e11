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
    let task = tokio::spawn(serve::serve(listener, h.app.clone(), acceptor, async {
        let _ = stopped.await;
    }));
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
