//! Webhook delivery to an `https://` receiver on loopback, with a self-signed
//! certificate (tests/testdata, valid until 2126) that the delivery client trusts
//! only through `DeliveryOptions::ca_file` (the server's `--webhook-ca-file`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use verify_server::delivery::{WebhookClient, drain_once};

use crate::support::{Harness, loopback_delivery};

const CERT: &[u8] = include_bytes!("../testdata/localhost-test-only.cert.pem");
const KEY: &[u8] = include_bytes!("../testdata/localhost-test-only.key.pem");

fn ca_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/localhost-test-only.cert.pem")
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    handshakes: AtomicUsize,
}

/// An HTTPS receiver on 127.0.0.1 answering every request 204; each request's
/// (head, body) goes to the returned channel.
async fn https_receiver() -> (
    u16,
    Arc<Seen>,
    mpsc::UnboundedReceiver<(String, String)>,
    tokio::task::JoinHandle<()>,
) {
    let certs = CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let (sender, requests) = mpsc::unbounded_channel();
    let counters = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            counters.connections.fetch_add(1, Ordering::SeqCst);
            let Ok(mut tls) = acceptor.accept(socket).await else {
                continue;
            };
            counters.handshakes.fetch_add(1, Ordering::SeqCst);
            let mut received = Vec::new();
            let mut buffer = [0_u8; 4096];
            while let Ok(read) = tls.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                received.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&received).to_string();
                let Some((head, body)) = text.split_once("\r\n\r\n") else {
                    continue;
                };
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                if body.len() >= length {
                    let _ = tls
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    let _ = tls.shutdown().await;
                    let _ = sender.send((head.to_owned(), body.to_owned()));
                    break;
                }
            }
        }
    });
    (port, seen, requests, task)
}

/// A log sink for one test (the tokio test runtime runs on this thread).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

/// A service with a webhook for `factor.verified` to `https://localhost:<port>/hook`
/// and one verified TOTP factor (so one request waits in the outbox); returns
/// the webhook's secret and the factor sid.
async fn one_pending_webhook(h: &Harness, port: u16) -> (verify_engine::WebhookSecret, String) {
    let sid = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Webhooks"),
            &[
                ("FriendlyName", "tls"),
                ("EventTypes", "factor.verified"),
                ("WebhookUrl", &format!("https://localhost:{port}/hook")),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let secret = verify_engine::WebhookSecret::parse(&created.str("secret")).unwrap();
    let (factor, _secret) = h.verified_totp(&sid, "user-0001").await;
    (secret, factor)
}

#[tokio::test]
async fn https_delivery_succeeds_with_the_extra_root() {
    let h = Harness::new();
    let (port, seen, mut requests, task) = https_receiver().await;
    let (secret, factor) = one_pending_webhook(&h, port).await;

    let mut options = loopback_delivery();
    options.ca_file = Some(ca_file());
    let client = WebhookClient::new(&options).unwrap();
    let handled = drain_once(&h.state, &client).await.unwrap();
    assert!(
        handled >= 2,
        "factor.created and factor.verified: {handled}"
    );

    let (head, body) = requests.recv().await.unwrap();
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("host"), format!("localhost:{port}"));
    let id = header("webhook-id");
    let timestamp: u64 = header("webhook-timestamp").parse().unwrap();
    let expected = secret.sign(
        &id,
        verify_engine::model::UnixTime::from_secs(timestamp),
        body.as_bytes(),
    );
    assert_eq!(header("webhook-signature"), expected);
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "factor.verified", "{event}");
    assert_eq!(event["factor_sid"], factor.as_str());
    // Exactly one delivery, on the first attempt.
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 1);
    assert!(requests.try_recv().is_err());
    assert_eq!(drain_once(&h.state, &client).await.unwrap(), 0);
    task.abort();
}

#[tokio::test]
async fn https_delivery_fails_without_the_extra_root() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::new();
    let (port, seen, mut requests, task) = https_receiver().await;
    let _ = one_pending_webhook(&h, port).await;

    // Built-in roots only: the self-signed certificate is not trusted (loopback
    // is allowed, so the failure is the certificate's).
    let mut options = loopback_delivery();
    options.max_attempts = 3;
    options.first_backoff = Duration::from_millis(10);
    let client = WebhookClient::new(&options).unwrap();
    let handled = drain_once(&h.state, &client).await.unwrap();
    assert!(handled >= 2, "{handled}");

    // Retried: three connections, no completed handshake, nothing delivered.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 3);
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), 0);
    assert!(requests.try_recv().is_err());
    // Logged: each failed attempt names the certificate, then the drop.
    let text = logs.text();
    let failures: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("webhook delivery failed"))
        .collect();
    assert_eq!(failures.len(), 3, "{text}");
    for line in &failures {
        assert!(line.contains("connect failed"), "{line}");
        assert!(line.to_lowercase().contains("certificate"), "{line}");
    }
    assert!(text.contains("webhook dropped after retries"), "{text}");
    assert!(!text.contains("webhook delivered"), "{text}");
    // The event is settled (dropped), not redelivered.
    assert_eq!(drain_once(&h.state, &client).await.unwrap(), 0);
    task.abort();
}
