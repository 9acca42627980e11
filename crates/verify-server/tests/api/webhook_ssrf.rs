//! The webhook destination guard (SSRF): URLs whose host is, or resolves to, a
//! loopback, private, link-local, metadata, ... address are refused when a
//! webhook is created or changed, and never connected to at delivery, also
//! when the URL was stored while it pointed elsewhere (DNS rebinding) or
//! through an allow-list another process had.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use verify_server::delivery::{DeliveryOptions, WebhookClient, WebhookDestinations, drain_once};
use verify_server::ssrf::AllowList;

use crate::support::{Harness, TestDns};

fn ips(addresses: &[&str]) -> Vec<IpAddr> {
    addresses.iter().map(|ip| ip.parse().unwrap()).collect()
}

/// The names these tests resolve, with their (fake) answers.
fn dns() -> TestDns {
    TestDns(vec![
        ("rebind.test", ips(&["127.0.0.1"])),
        ("private.test", ips(&["10.0.0.1"])),
        ("mixed.test", ips(&["93.184.216.34", "10.0.0.1"])),
        ("imds.test", ips(&["169.254.169.254"])),
        ("v6.test", ips(&["::ffff:127.0.0.1"])),
        ("public.test", ips(&["93.184.216.34", "2606:4700::1111"])),
    ])
}

/// A harness with no allow-list (production's default) and [`dns`].
fn strict() -> Harness {
    Harness::with_destinations(WebhookDestinations::with_resolver(
        AllowList::default(),
        Arc::new(dns()),
    ))
}

fn allow(entries: &[&str]) -> AllowList {
    AllowList::new(entries.iter().map(|entry| entry.parse().unwrap()))
}

/// Forbidden webhook URLs and a word of the rule their refusal names. Each has
/// a token in its query, which the message must not echo.
const FORBIDDEN: &[(&str, &str)] = &[
    ("http://127.0.0.1/?token=s3cret", "loopback"),
    ("http://127.0.0.1:9000/hook?token=s3cret", "loopback"),
    ("http://10.0.0.1/?token=s3cret", "private"),
    ("http://172.16.5.4/?token=s3cret", "private"),
    ("http://192.168.1.1/?token=s3cret", "private"),
    (
        "http://169.254.169.254/latest/meta-data/?token=s3cret",
        "metadata",
    ),
    ("http://169.254.1.1/?token=s3cret", "link-local"),
    ("http://100.64.0.1/?token=s3cret", "carrier-grade NAT"),
    ("http://100.100.100.200/?token=s3cret", "metadata"),
    (
        "http://metadata.google.internal/computeMetadata/v1/?token=s3cret",
        "metadata",
    ),
    ("http://metadata/?token=s3cret", "metadata"),
    ("http://[::1]:5432/?token=s3cret", "loopback"),
    ("http://[fd00:ec2::254]/?token=s3cret", "metadata"),
    ("http://[fe80::1]/?token=s3cret", "link-local"),
    ("https://[fc00::1]/?token=s3cret", "private"),
    ("http://[::ffff:127.0.0.1]/?token=s3cret", "loopback"),
    ("http://[::ffff:a9fe:a9fe]/?token=s3cret", "metadata"),
    ("http://[64:ff9b::a00:1]/?token=s3cret", "private"),
    ("http://[::]/?token=s3cret", "unspecified"),
    ("http://0.0.0.0:8080/?token=s3cret", "unspecified"),
    ("http://224.0.0.1/?token=s3cret", "multicast"),
    ("http://255.255.255.255/?token=s3cret", "broadcast"),
    ("http://192.0.2.10/?token=s3cret", "documentation"),
    ("http://240.0.0.1/?token=s3cret", "reserved"),
    // Other spellings of 127.0.0.1, which the URL parser normalizes.
    ("http://2130706433/?token=s3cret", "loopback"),
    ("http://0x7f.1/?token=s3cret", "loopback"),
    ("http://017700000001/?token=s3cret", "loopback"),
    ("http://127.1/?token=s3cret", "loopback"),
    ("http://127.0.0.1\\.example.com/?token=s3cret", "loopback"),
    // Names: refused by name, or by what they resolve to.
    ("http://localhost:8080/?token=s3cret", "loopback"),
    ("http://LOCALHOST./?token=s3cret", "loopback"),
    ("http://api.localhost/?token=s3cret", "loopback"),
    ("http://rebind.test/?token=s3cret", "loopback"),
    ("http://private.test/?token=s3cret", "private"),
    ("http://mixed.test/?token=s3cret", "private"),
    ("http://imds.test/?token=s3cret", "metadata"),
    ("http://v6.test/?token=s3cret", "loopback"),
];

#[track_caller]
fn assert_refused(reply: &crate::support::Reply, url: &str, rule: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{url}: {}",
        reply.json
    );
    reply.assert_error(400, 60200);
    let message = reply.str("message");
    assert!(message.starts_with("WebhookUrl: "), "{url}: {message}");
    assert!(message.contains(rule), "{url}: {message}");
    assert!(message.contains("--webhook-allow-destination"), "{message}");
    assert!(!message.contains("s3cret"), "{url}: {message}");
}

#[tokio::test]
async fn forbidden_urls_are_refused_at_creation() {
    let h = strict();
    let sid = h.service("Owl Bank").await;
    let create = format!("/v2/Services/{sid}/Webhooks");
    for (url, rule) in FORBIDDEN {
        let reply = h
            .post(
                &create,
                &[
                    ("FriendlyName", "hook"),
                    ("EventTypes", "*"),
                    ("WebhookUrl", url),
                ],
            )
            .await;
        assert_refused(&reply, url, rule);
    }
    // Nothing was stored.
    let listed = h.get(&create).await;
    assert_eq!(
        listed.json["webhooks"],
        serde_json::json!([]),
        "{}",
        listed.json
    );
}

#[tokio::test]
async fn forbidden_urls_are_refused_at_update() {
    let h = strict();
    let sid = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Webhooks"),
            &[
                ("FriendlyName", "hook"),
                ("EventTypes", "*"),
                ("WebhookUrl", "https://public.test/hook"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let url = format!("/v2/Services/{sid}/Webhooks/{}", created.str("sid"));
    let before = h.get(&url).await.json;
    for (forbidden, rule) in FORBIDDEN {
        let reply = h
            .post(
                &url,
                &[("FriendlyName", "moved"), ("WebhookUrl", forbidden)],
            )
            .await;
        assert_refused(&reply, forbidden, rule);
    }
    assert_eq!(h.get(&url).await.json, before, "nothing was changed");
    // An update without WebhookUrl is not checked (nor resolved).
    let renamed = h.post(&url, &[("FriendlyName", "renamed")]).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
}

#[tokio::test]
async fn public_and_unresolvable_destinations_are_accepted() {
    let h = strict();
    let sid = h.service("Owl Bank").await;
    for url in [
        "https://93.184.216.34/hook",
        "https://[2606:4700::1111]/hook",
        "https://public.test/hook",
        // Not resolvable (yet): accepted, and checked again at delivery.
        "https://not-yet.test/hook",
    ] {
        let created = h
            .post(
                &format!("/v2/Services/{sid}/Webhooks"),
                &[
                    ("FriendlyName", "hook"),
                    ("EventTypes", "*"),
                    ("WebhookUrl", url),
                ],
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{url}: {}",
            created.json
        );
        assert_eq!(created.json["webhook_url"], url);
    }
}

#[tokio::test]
async fn localhost_is_refused_with_the_system_resolver() {
    // The server's own default: the system's DNS, nothing allowed.
    let h = Harness::with_destinations(WebhookDestinations::default());
    let sid = h.service("Owl Bank").await;
    for url in ["http://localhost/hook", "http://localhost.:3000/hook"] {
        let reply = h
            .post(
                &format!("/v2/Services/{sid}/Webhooks"),
                &[
                    ("FriendlyName", "hook"),
                    ("EventTypes", "*"),
                    ("WebhookUrl", url),
                ],
            )
            .await;
        assert_refused(&reply, url, "loopback");
    }
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

/// A loopback listener that must see no connection.
fn untouched_listener() -> (std::net::TcpListener, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Creates a `factor.verified` webhook to `url` and a verified factor, so that
/// one request waits in the outbox.
async fn one_pending_webhook(h: &Harness, url: &str) {
    let sid = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Webhooks"),
            &[
                ("FriendlyName", "hook"),
                ("EventTypes", "factor.verified"),
                ("WebhookUrl", url),
            ],
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{url}: {}",
        created.json
    );
    h.verified_totp(&sid, "user-0001").await;
}

#[tokio::test]
async fn delivery_refuses_stored_urls_that_point_at_forbidden_addresses() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (listener, port) = untouched_listener();

    // DNS rebinding: public when the webhook is created ...
    let created_with = TestDns(vec![("rebind.test", ips(&["93.184.216.34"]))]);
    let h = Harness::with_destinations(WebhookDestinations::with_resolver(
        AllowList::default(),
        Arc::new(created_with),
    ));
    one_pending_webhook(&h, &format!("http://rebind.test:{port}/hook")).await;
    // ... loopback when it is delivered.
    let mut options = DeliveryOptions::default();
    options.max_attempts = 3;
    options.first_backoff = Duration::from_millis(10);
    let client = WebhookClient::with_resolver(&options, Arc::new(dns())).unwrap();
    assert!(drain_once(&h.state, &client).await.unwrap() >= 2);

    // A literal loopback URL stored through an allow-list (another process's,
    // or one since removed), delivered by a client without it.
    let h = Harness::new();
    one_pending_webhook(&h, &format!("http://127.0.0.1:{port}/hook")).await;
    assert!(drain_once(&h.state, &client).await.unwrap() >= 2);

    assert_eq!(
        listener.accept().map_err(|error| error.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "a connection reached the loopback listener"
    );
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    let refused: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("webhook dropped: destination refused"))
        .collect();
    assert_eq!(refused.len(), 2, "{text}");
    assert!(
        refused[0].contains("rebind.test resolves to a loopback address"),
        "{text}"
    );
    assert!(
        refused[1].contains("127.0.0.1 is a loopback address"),
        "{text}"
    );
    // Refused at once, not retried.
    assert!(!text.contains("webhook delivery failed"), "{text}");
    assert!(!text.contains("webhook delivered"), "{text}");
}

#[tokio::test]
async fn an_allow_listed_loopback_receiver_gets_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let receiver = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            assert_ne!(read, 0, "connection closed early");
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
                socket
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await
                    .unwrap();
                return head.to_owned();
            }
        }
    });
    // Only 127.0.0.1 is allowed, as an operator would for a local receiver.
    let allowed = allow(&["127.0.0.1"]);
    let h = Harness::with_destinations(WebhookDestinations::with_resolver(
        allowed.clone(),
        Arc::new(dns()),
    ));
    let sid = h.service("Other Bank").await;
    // Other non-public destinations stay refused.
    let reply = h
        .post(
            &format!("/v2/Services/{sid}/Webhooks"),
            &[
                ("FriendlyName", "hook"),
                ("EventTypes", "*"),
                ("WebhookUrl", "http://10.0.0.1/"),
            ],
        )
        .await;
    assert_refused(&reply, "http://10.0.0.1/", "private");
    one_pending_webhook(&h, &format!("http://127.0.0.1:{port}/hook")).await;

    let mut options = DeliveryOptions::default();
    options.allow_destinations = allowed;
    let client = WebhookClient::new(&options).unwrap();
    assert!(drain_once(&h.state, &client).await.unwrap() >= 2);
    let head = receiver.await.unwrap();
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
}
