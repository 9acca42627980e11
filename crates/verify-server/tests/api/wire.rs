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
    start_harness(Harness::new(), tls, options).await
}

async fn start_harness(
    h: Harness,
    tls: bool,
    options: serve::ServeOptions,
) -> (
    u16,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
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
    // An idle connection (nothing sent at all) is closed by the same timeout.
    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut nothing = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut nothing)).await;
    assert!(closed.is_ok(), "an idle connection is still open");
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
    use verify_engine::store::Store as _;
    let dir = std::env::temp_dir().join(format!("verify-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("verify.db");
    let (mut server, port) = spawn_server(&db, &[]);
    let client = reqwest::Client::new();
    let created = post_when_up(
        &client,
        &format!("http://127.0.0.1:{port}/v2/Services"),
        &[("FriendlyName", "Owl Bank")],
    )
    .await
    .map(|reply| reply.status());
    assert_eq!(created, Some(reqwest::StatusCode::CREATED));
    terminate(&mut server);
    // Only the main file, copied elsewhere: no -wal or -shm beside it.
    let copy = dir.join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let store = verify_store_sql::SqliteStore::open(&copy.display().to_string())
        .await
        .unwrap();
    let listing = store
        .list_services(&verify_engine::store::ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 1);
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The server binary on the SQLite file `db` with known API credentials, on a free
/// port; the child and the port.
fn spawn_server(db: &std::path::Path, extra: &[&str]) -> (std::process::Child, u16) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut args = vec![
        "--database".to_owned(),
        format!("sqlite://{}", db.display()),
        "--listen".to_owned(),
        format!("127.0.0.1:{port}"),
        "--demo".to_owned(),
        "off".to_owned(),
        "--api-key".to_owned(),
        "key".to_owned(),
        "--api-secret".to_owned(),
        "secret".to_owned(),
    ];
    // A server on its own API key refuses to store secrets in the clear unless told.
    if !extra.contains(&"--secret-key-file") {
        args.push("--allow-plaintext-secrets".to_owned());
    }
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (server, port)
}

/// POSTs `form` with the API key once the server answers (within 10 s).
async fn post_when_up(
    client: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Option<reqwest::Response> {
    for _ in 0..100 {
        if let Ok(reply) = client
            .post(url)
            .header("authorization", basic("key", "secret"))
            .form(form)
            .send()
            .await
        {
            return Some(reply);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Stops the server as a service manager does (SIGTERM) and waits for a clean exit.
fn terminate(server: &mut std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// Creates a service and a TOTP factor through the server on `port` once it
/// answers: their sids and the factor's base32 secret.
async fn totp_factor_when_up(
    port: u16,
) -> (
    verify_engine::model::ServiceSid,
    verify_engine::model::FactorSid,
    String,
) {
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/v2/Services");
    let service = post_when_up(&client, &base, &[("FriendlyName", "Owl Bank")])
        .await
        .unwrap();
    let service: serde_json::Value =
        serde_json::from_slice(&service.bytes().await.unwrap()).unwrap();
    let service_sid = service["sid"].as_str().unwrap().to_owned();
    let factor = post_when_up(
        &client,
        &format!("{base}/{service_sid}/Entities/user-0001/Factors"),
        &[("FactorType", "totp"), ("FriendlyName", "phone")],
    )
    .await
    .unwrap();
    let factor: serde_json::Value = serde_json::from_slice(&factor.bytes().await.unwrap()).unwrap();
    let secret = factor["binding"]["secret"].as_str().unwrap().to_owned();
    (
        service_sid.parse().unwrap(),
        factor["sid"].as_str().unwrap().parse().unwrap(),
        secret,
    )
}

/// With --secret-key-file, a TOTP seed is sealed at rest: the database read without
/// the key refuses the factor, read with it gives the seed the enrollment showed.
#[tokio::test]
async fn secrets_are_sealed_at_rest_with_the_key_file() {
    use std::sync::Arc;
    use verify_engine::store::Store as _;
    let dir = std::env::temp_dir().join(format!("verify-wire-sealed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (db, key_file) = (dir.join("verify.db"), dir.join("secret.key"));
    let key = "5a".repeat(32);
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let (mut server, port) =
        spawn_server(&db, &["--secret-key-file", &key_file.display().to_string()]);
    let (service_sid, factor_sid, secret) = totp_factor_when_up(port).await;
    terminate(&mut server);

    let path = db.display().to_string();
    let unsealed = verify_store_sql::SqliteStore::open(&path).await.unwrap();
    assert!(unsealed.get_factor(service_sid, factor_sid).await.is_err());
    unsealed.close().await;
    let sealer = verify_store_sql::AesGcmSealer::from_hex(&key).unwrap();
    let keyed = verify_store_sql::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(Arc::new(sealer));
    let stored = keyed
        .get_factor(service_sid, factor_sid)
        .await
        .unwrap()
        .unwrap();
    let verify_engine::model::factor::FactorKind::Totp(totp) = stored.kind() else {
        panic!("not a TOTP factor");
    };
    assert_eq!(totp.secret().to_base32().as_str(), secret);
    keyed.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A body dripped slower than the body read timeout is answered 408 (JSON, code
/// 20408) and its connection closed, while a normal request is answered at once.
#[tokio::test]
async fn a_dripped_body_is_cut_off_and_others_are_answered() {
    let mut options = serve::ServeOptions::default();
    options.body_read_timeout = Duration::from_secs(1);
    let (port, stop, task) = start_with(false, options).await;
    let mut dripping = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let auth = basic("key", "secret");
    dripping
        .write_all(
            format!(
                "POST /v2/Services HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
                 FriendlyName=Dr"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
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
    let mut received = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(5), dripping.read_to_end(&mut received)).await;
    assert!(closed.is_ok(), "the dripping connection is still open");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":20408"), "{text}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// `ServeOptions::more_info` (`--more-info-url`) links every error answer: the
/// router's (401, 404) and those `serve` gives itself (413).
#[tokio::test]
async fn error_answers_link_the_configured_more_info() {
    let mut options = serve::ServeOptions::default();
    options.more_info =
        verify_server::error::MoreInfo::new("https://docs.example.com/errors/{code}").unwrap();
    let (port, stop, task) = start_with(false, options).await;
    let auth = basic("key", "secret");
    let too_big = "x".repeat(verify_server::form::MAX_BODY + 1);
    for (request, code) in [
        (
            "GET /v2/Services HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_owned(),
            20003,
        ),
        (
            format!(
                "GET /v2/Nothing HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Connection: close\r\n\r\n"
            ),
            20404,
        ),
        (
            format!(
                "POST /v2/Services HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{too_big}",
                too_big.len()
            ),
            60200,
        ),
    ] {
        let response = String::from_utf8(raw_exchange(port, &request).await).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], code, "{head}");
        assert_eq!(
            json["more_info"],
            format!("https://docs.example.com/errors/{code}"),
            "{head}"
        );
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// Requests without the API key are limited per client address (429 with
/// `Retry-After`, code 20429), failed authentication included; the host is not.
#[tokio::test]
async fn requests_without_the_api_key_are_limited_per_client() {
    use verify_server::rate_limit::{ClientRateLimit, RateLimitOptions};
    let limit = RateLimitOptions::new(
        std::num::NonZeroU32::new(6).unwrap(),
        std::num::NonZeroU32::new(3).unwrap(),
        false,
    );
    let h = Harness::with(|state| state.with_client_rate_limit(ClientRateLimit::new(limit)));
    let (port, stop, task) = start_harness(h, false, serve::ServeOptions::default()).await;
    let anonymous = "GET /v2/Services HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for _ in 0..3 {
        let answer = raw_exchange(port, anonymous).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 401"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let limited = String::from_utf8_lossy(&raw_exchange(port, anonymous).await).into_owned();
    assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
    assert!(limited.contains("Retry-After: "), "{limited}");
    assert!(limited.contains("\"code\":20429"), "{limited}");
    // The host's requests are never limited here.
    let host = format!(
        "GET /v2/Services HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic("key", "secret")
    );
    for _ in 0..10 {
        let answer = raw_exchange(port, &host).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// A server on its own API key with a SQL store and no --secret-key-file does not
/// start (unless told to store secrets in the clear), and says what to pass.
#[test]
fn a_server_on_its_own_key_refuses_to_store_secrets_in_the_clear() {
    let dir = std::env::temp_dir().join(format!("verify-wire-clear-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
        .args([
            "--database",
            &format!("sqlite://{}", dir.join("verify.db").display()),
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "key",
            "--api-secret",
            "secret",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    // The log (where the reason is) goes to stdout.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("--secret-key-file"), "{said}");
    assert!(said.contains("--allow-plaintext-secrets"), "{said}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The demo (no --api-key) on SQLite seals with a key it generates next to the
/// database file, readable by its owner only: the raw rows hold no TOTP seed.
#[tokio::test]
async fn the_demo_seals_with_a_key_generated_next_to_its_database() {
    let dir = std::env::temp_dir().join(format!("verify-wire-demo-key-{}", std::process::id()));
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
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/v2/Services");
    let demo = basic("demo-key", "demo-secret");
    let mut service = None;
    for _ in 0..100 {
        if let Ok(reply) = client
            .post(&base)
            .header("authorization", &demo)
            .form(&[("FriendlyName", "Owl Bank")])
            .send()
            .await
        {
            service = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let service: serde_json::Value =
        serde_json::from_slice(&service.unwrap().bytes().await.unwrap()).unwrap();
    let service_sid = service["sid"].as_str().unwrap();
    let factor = client
        .post(format!("{base}/{service_sid}/Entities/user-0001/Factors"))
        .header("authorization", &demo)
        .form(&[("FactorType", "totp"), ("FriendlyName", "phone")])
        .send()
        .await
        .unwrap();
    let factor: serde_json::Value = serde_json::from_slice(&factor.bytes().await.unwrap()).unwrap();
    let secret = factor["binding"]["secret"].as_str().unwrap().to_owned();
    terminate(&mut server);

    let key_file = dir.join("verify.db.secret-key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the TOTP seed is in the database file in the clear"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A key rotation at start: rows sealed under key A are read with
/// --previous-secret-key-file A and rewritten under --secret-key-file B in the
/// background; afterwards B alone reads the factor and A does not.
#[tokio::test]
async fn a_key_rotation_reseals_every_row_after_start() {
    use std::sync::Arc;
    use verify_engine::store::Store as _;
    let dir = std::env::temp_dir().join(format!("verify-wire-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("verify.db");
    let (key_a, key_b) = ("a1".repeat(32), "b2".repeat(32));
    let (file_a, file_b) = (dir.join("a.key"), dir.join("b.key"));
    std::fs::write(&file_a, &key_a).unwrap();
    std::fs::write(&file_b, &key_b).unwrap();
    let (mut server, port) =
        spawn_server(&db, &["--secret-key-file", &file_a.display().to_string()]);
    let client = reqwest::Client::new();
    let (service_sid, factor_sid, _) = totp_factor_when_up(port).await;
    terminate(&mut server);

    let (mut server, port) = spawn_server(
        &db,
        &[
            "--secret-key-file",
            &file_b.display().to_string(),
            "--previous-secret-key-file",
            &file_a.display().to_string(),
        ],
    );
    // The server reads the old row while it reseals.
    let fetched = post_when_up(
        &client,
        &format!("http://127.0.0.1:{port}/v2/Services"),
        &[("FriendlyName", "Second")],
    )
    .await
    .unwrap();
    assert_eq!(fetched.status(), 201);
    let path = db.display().to_string();
    let only_b = verify_store_sql::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(Arc::new(
            verify_store_sql::AesGcmSealer::from_hex(&key_b).unwrap(),
        ));
    let mut resealed = false;
    for _ in 0..100 {
        if only_b.get_factor(service_sid, factor_sid).await.is_ok() {
            resealed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resealed, "the factor was not resealed under the new key");
    only_b.close().await;
    terminate(&mut server);
    let only_a = verify_store_sql::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(Arc::new(
            verify_store_sql::AesGcmSealer::from_hex(&key_a).unwrap(),
        ));
    assert!(only_a.get_factor(service_sid, factor_sid).await.is_err());
    only_a.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A request head past the API's bounds (a URI over `head::MAX_URI_BYTES`, more
/// than `head::MAX_HEADER_FIELDS` fields, a header block over
/// `head::MAX_HEADER_BYTES`) gets the JSON error shape, 414/20414 or 431/20431;
/// one just inside them is served. Past hyper's own field limit (twice ours) the
/// HTTP layer answers an empty 431 itself, as documented.
#[tokio::test]
async fn oversized_request_heads_get_the_json_error_shape() {
    use verify_server::head::{MAX_HEADER_BYTES, MAX_HEADER_FIELDS, MAX_URI_BYTES};
    let (port, stop, task) = start_with(false, serve::ServeOptions::default()).await;
    let auth = basic("key", "secret");
    let request = |path: &str, extra: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n{extra}\
             Connection: close\r\n\r\n"
        )
    };
    let fields = |count: usize| -> String {
        (0..count)
            .map(|i| format!("X-Field-{i}: {i}\r\n"))
            .collect()
    };
    let long_path = format!("/v2/Services?PageSize=20&x={}", "a".repeat(MAX_URI_BYTES));
    let big_value = format!("X-Big: {}\r\n", "b".repeat(MAX_HEADER_BYTES));
    for (what, request, status, code) in [
        ("long URI", request(&long_path, ""), 414, 20414),
        (
            "too many fields",
            request("/v2/Services", &fields(MAX_HEADER_FIELDS + 1)),
            431,
            20431,
        ),
        (
            "large block",
            request("/v2/Services", &big_value),
            431,
            20431,
        ),
    ] {
        let response = String::from_utf8(raw_exchange(port, &request).await).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{what}: {head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["status"], status, "{what}");
        assert_eq!(json["code"], code, "{what}");
        assert!(
            json["message"].as_str().unwrap().contains("at most"),
            "{what}"
        );
    }
    // Just inside the bounds: served (the authorization header and the usual ones
    // count too, so a few fields fewer than the limit).
    let inside = request("/v2/Services", &fields(MAX_HEADER_FIELDS - 8));
    let answer = String::from_utf8(raw_exchange(port, &inside).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Past hyper's own limit: its empty 431, the connection closed.
    let beyond = request("/v2/Services", &fields(MAX_HEADER_FIELDS * 2 + 1));
    let answer = String::from_utf8(raw_exchange(port, &beyond).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
