//! Scoped API keys (`--api-keys-file`): a key for one service acts on it alone, an
//! all-services key everywhere; the file is re-read while the server runs, so two
//! keys work at once during a rotation and a revoked key is refused without a
//! restart; the file holds no secret. The last test drives the binary's
//! `api-keys` subcommands and a running server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rand_chacha::rand_core::SeedableRng as _;
use tower::ServiceExt as _;
use verify_engine::model::{ServiceSid, UnixTime};
use verify_server::api_keys::{self, CreatedKey, KeyScope, WatchedApiKeys};

use crate::support::{Harness, T0, basic, code};

/// A fresh directory's `keys.json` path.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("verify-api-keys-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("keys.json")
}

fn create(
    path: &Path,
    scope: KeyScope,
    name: &str,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> CreatedKey {
    api_keys::create_key(path, scope, name, UnixTime::from_secs(T0), rng).unwrap()
}

fn auth(key: &CreatedKey) -> String {
    basic(&key.key.sid.to_string(), key.secret())
}

/// A harness (operator key `key:secret`) that also reads the keys file at `path`,
/// looking at it every 20 ms instead of every second.
fn harness(path: &Path) -> Harness {
    let keys = WatchedApiKeys::open(path)
        .unwrap()
        .with_reload_interval(Duration::from_millis(20));
    Harness::with(|state| state.with_api_keys(Arc::new(keys)))
}

/// The status of a request whose answer may not be JSON (`/metrics`).
async fn status(h: &Harness, method: Method, uri: &str, auth: &str) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", auth)
        .body(Body::empty())
        .unwrap();
    h.app.clone().oneshot(request).await.unwrap().status()
}

/// Sends `GET uri` with `auth` until it answers `expected`, for up to 5 s (a reload
/// happens on a request once the interval has passed).
async fn until_status(h: &Harness, uri: &str, auth: &str, expected: StatusCode) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = h.send(Method::GET, uri, Some(auth), &[]).await.status;
        if got == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{uri}: still {got}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_service_key_acts_on_its_service_and_nowhere_else() {
    let path = scratch("scoped");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    // A file with no keys yet: the server starts on it.
    std::fs::write(&path, r#"{"version": 1, "keys": []}"#).unwrap();
    let h = harness(&path);
    let a = h.service("Service A").await;
    let b = h.service("Service B").await;
    let key = create(
        &path,
        KeyScope::Service(ServiceSid::parse(&a).unwrap()),
        "service A backend",
        &mut rng,
    );
    let key_auth = auth(&key);
    until_status(&h, &format!("/v2/Services/{a}"), &key_auth, StatusCode::OK).await;

    // On its service: the whole TOTP flow, entity to approved challenge.
    let ent = format!("/v2/Services/{a}/Entities/user-0001");
    let created = h
        .send(
            Method::POST,
            &format!("/v2/Services/{a}/Entities"),
            Some(&key_auth),
            &[("Identity", "user-0001")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let factor = h
        .send(
            Method::POST,
            &format!("{ent}/Factors"),
            Some(&key_auth),
            &[("FactorType", "totp"), ("FriendlyName", "alice")],
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.json);
    let factor_sid = factor.str("sid");
    let secret = factor.json["binding"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = h
        .send(
            Method::POST,
            &format!("{ent}/Factors/{factor_sid}"),
            Some(&key_auth),
            &[("AuthPayload", &code(&secret, h.now()))],
        )
        .await;
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);
    h.advance(30);
    let challenge = h
        .send(
            Method::POST,
            &format!("{ent}/Challenges"),
            Some(&key_auth),
            &[
                ("FactorSid", &factor_sid),
                ("AuthPayload", &code(&secret, h.now())),
            ],
        )
        .await;
    assert_eq!(challenge.status, StatusCode::CREATED, "{}", challenge.json);
    assert_eq!(challenge.json["status"], "approved", "{}", challenge.json);
    let updated = h
        .send(
            Method::POST,
            &format!("/v2/Services/{a}"),
            Some(&key_auth),
            &[("FriendlyName", "Service A renamed")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);

    // Another service answers exactly as one that does not exist: 404.
    let missing = "VA00000000000000000000000000000000";
    let mut answers = Vec::new();
    for service in [b.as_str(), missing] {
        for (method, uri, form) in [
            (Method::GET, format!("/v2/Services/{service}"), vec![]),
            (
                Method::POST,
                format!("/v2/Services/{service}/Entities"),
                vec![("Identity", "user-0001")],
            ),
            (
                Method::GET,
                format!("/v2/Services/{service}/Entities/user-0001/Factors"),
                vec![],
            ),
            (Method::DELETE, format!("/v2/Services/{service}"), vec![]),
        ] {
            let reply = h.send(method, &uri, Some(&key_auth), &form).await;
            reply.assert_error(404, 20404);
            answers.push(reply.json);
        }
    }
    assert_eq!(answers[..4], answers[4..], "B and a missing service alike");
    // Nothing ran on B.
    assert_eq!(
        h.get(&format!("/v2/Services/{b}")).await.json["friendly_name"],
        "Service B"
    );
    let entities = h.get(&format!("/v2/Services/{b}/Entities")).await;
    assert_eq!(
        entities.json["entities"],
        serde_json::json!([]),
        "{}",
        entities.json
    );

    // Outside any one service, and deleting its own: 403.
    h.send(
        Method::POST,
        "/v2/Services",
        Some(&key_auth),
        &[("FriendlyName", "Service C")],
    )
    .await
    .assert_error(403, 20403);
    h.send(Method::GET, "/v2/Services", Some(&key_auth), &[])
        .await
        .assert_error(403, 20403);
    h.send(
        Method::DELETE,
        &format!("/v2/Services/{a}"),
        Some(&key_auth),
        &[],
    )
    .await
    .assert_error(403, 20403);
    assert_eq!(
        status(&h, Method::GET, "/metrics", &key_auth).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get(&format!("/v2/Services/{a}")).await.status,
        StatusCode::OK
    );
    let listed = h.get("/v2/Services").await;
    assert_eq!(listed.json["services"].as_array().unwrap().len(), 2);

    // A wrong secret for the sid is a 401, as any bad credential.
    let wrong = basic(&key.key.sid.to_string(), "not-the-secret");
    h.send(Method::GET, &format!("/v2/Services/{a}"), Some(&wrong), &[])
        .await
        .assert_error(401, 20003);
}

#[tokio::test]
async fn an_all_services_key_acts_everywhere() {
    let path = scratch("all");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let key = create(&path, KeyScope::AllServices, "ops", &mut rng);
    let key_auth = auth(&key);
    let h = harness(&path);
    let created = h
        .send(
            Method::POST,
            "/v2/Services",
            Some(&key_auth),
            &[("FriendlyName", "By key")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let sid = created.str("sid");
    let other = h.service("By the operator").await;
    let listed = h
        .send(Method::GET, "/v2/Services", Some(&key_auth), &[])
        .await;
    assert_eq!(listed.json["services"].as_array().unwrap().len(), 2);
    let entity = h
        .send(
            Method::POST,
            &format!("/v2/Services/{other}/Entities"),
            Some(&key_auth),
            &[("Identity", "user-0001")],
        )
        .await;
    assert_eq!(entity.status, StatusCode::CREATED, "{}", entity.json);
    assert_eq!(
        status(&h, Method::GET, "/metrics", &key_auth).await,
        StatusCode::OK
    );
    assert_eq!(
        status(
            &h,
            Method::DELETE,
            &format!("/v2/Services/{sid}"),
            &key_auth
        )
        .await,
        StatusCode::NO_CONTENT
    );
    // The operator's key keeps working beside the file's keys.
    assert_eq!(
        h.get(&format!("/v2/Services/{other}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rotation_has_two_keys_valid_at_once_and_the_revoked_one_is_refused() {
    let path = scratch("rotation");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let old = create(&path, KeyScope::AllServices, "backend 2026-11", &mut rng);
    let h = harness(&path);
    let sid = h.service("Rotated").await;
    let uri = format!("/v2/Services/{sid}");
    let old_auth = auth(&old);
    assert_eq!(
        h.send(Method::GET, &uri, Some(&old_auth), &[]).await.status,
        StatusCode::OK
    );

    // 1. A new key, picked up without a restart; both work.
    let new = create(
        &path,
        KeyScope::Service(ServiceSid::parse(&sid).unwrap()),
        "backend 2026-12",
        &mut rng,
    );
    let new_auth = auth(&new);
    until_status(&h, &uri, &new_auth, StatusCode::OK).await;
    for _ in 0..3 {
        for key_auth in [&old_auth, &new_auth] {
            assert_eq!(
                h.send(Method::GET, &uri, Some(key_auth), &[]).await.status,
                StatusCode::OK
            );
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    // 2. The file on disk holds neither secret (nor any other encoding of one).
    let raw = std::fs::read_to_string(&path).unwrap();
    for key in [&old, &new] {
        assert!(!raw.contains(key.secret()), "{raw}");
        assert!(raw.contains(&key.key.sid.to_string()));
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(key.secret().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            raw.contains(&hex),
            "the hash is SHA-256 of the secret's text"
        );
    }
    assert!(!raw.contains("secret\""), "no secret field: {raw}");

    // 3. Revoke the old key: refused (401) after the reload, the new one works.
    api_keys::revoke_key(&path, old.key.sid).unwrap();
    until_status(&h, &uri, &old_auth, StatusCode::UNAUTHORIZED).await;
    let refused = h.send(Method::GET, &uri, Some(&old_auth), &[]).await;
    refused.assert_error(401, 20003);
    assert!(refused.headers.contains_key("www-authenticate"));
    assert_eq!(
        h.send(Method::GET, &uri, Some(&new_auth), &[]).await.status,
        StatusCode::OK
    );

    // 4. A broken file keeps the keys read before (and is logged).
    std::fs::write(&path, "{\"version\": 1, \"keys\": [{\"sid\": 7}]}").unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    for _ in 0..3 {
        assert_eq!(
            h.send(Method::GET, &uri, Some(&new_auth), &[]).await.status,
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    h.send(Method::GET, &uri, Some(&old_auth), &[])
        .await
        .assert_error(401, 20003);
}

/// Kills the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `verify-server ARGS`: its stdout, or a panic with its stderr.
fn command(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
        .args(args)
        .env_remove("VERIFY_API_KEYS_FILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `name: value` line of a command's output.
fn field(output: &str, name: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {output}"))
        .to_owned()
}

/// The status of `GET url` with `user:password`, retried until `expected` (10 s).
async fn until_http_status(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
    expected: u16,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = None;
    while Instant::now() < deadline {
        if let Ok(reply) = client
            .get(url)
            .header("authorization", basic(user, password))
            .send()
            .await
        {
            let status = reply.status().as_u16();
            if status == expected {
                return;
            }
            got = Some(status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} as {user}: {got:?}, not {expected}");
}

#[tokio::test]
async fn the_binary_creates_lists_and_revokes_keys_while_serving() {
    let path = scratch("binary");
    let file = path.to_str().unwrap();
    // Created by the CLI: the sid and the secret are printed once.
    let first = command(&["api-keys", "create", "--file", file, "--name", "ops 1"]);
    let (first_sid, first_secret) = (field(&first, "sid"), field(&first, "secret"));
    assert!(
        first_sid.starts_with("SK") && first_sid.len() == 34,
        "{first}"
    );
    assert_eq!(field(&first, "scope"), "* (every service)");
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains(&first_secret)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let _server = Server(
        std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
            .args([
                "--database",
                "memory",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--demo",
                "off",
                "--api-keys-file",
                file,
            ])
            .env_remove("VERIFY_API_KEY")
            .env_remove("VERIFY_API_SECRET")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let services = format!("{base}/v2/Services");
    until_http_status(&client, &services, &first_sid, &first_secret, 200).await;
    // With a keys file and no --api-key, the public demo key is refused.
    until_http_status(&client, &services, "demo-key", "demo-secret", 401).await;
    let created = client
        .post(&services)
        .header("authorization", basic(&first_sid, &first_secret))
        .form(&[("FriendlyName", "Billing")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let service: serde_json::Value =
        serde_json::from_slice(&created.bytes().await.unwrap()).unwrap();
    let service_sid = service["sid"].as_str().unwrap().to_owned();

    // A second key, for that service, works within a second or so; so does the first.
    let second = command(&[
        "api-keys",
        "create",
        "--file",
        file,
        "--service",
        &service_sid,
        "--name",
        "billing backend",
    ]);
    let (second_sid, second_secret) = (field(&second, "sid"), field(&second, "secret"));
    let own = format!("{services}/{service_sid}");
    until_http_status(&client, &own, &second_sid, &second_secret, 200).await;
    until_http_status(&client, &services, &second_sid, &second_secret, 403).await;
    until_http_status(&client, &own, &first_sid, &first_secret, 200).await;

    // `list` shows both, with no secret.
    let listed = command(&["api-keys", "list", "--file", file]);
    assert!(
        listed.contains(&first_sid) && listed.contains(&second_sid),
        "{listed}"
    );
    assert!(listed.contains(&service_sid) && listed.contains("billing backend"));
    assert!(!listed.contains(&first_secret) && !listed.contains(&second_secret));

    // Revoke the first: refused without a restart; the second still works.
    let revoked = command(&["api-keys", "revoke", "--file", file, &first_sid]);
    assert!(revoked.contains(&first_sid), "{revoked}");
    until_http_status(&client, &own, &first_sid, &first_secret, 401).await;
    until_http_status(&client, &own, &second_sid, &second_secret, 200).await;
    let listed = command(&["api-keys", "list", "--file", file]);
    assert!(!listed.contains(&first_sid), "{listed}");

    // A bad sid or a missing key fails with a message, the file unchanged.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
        .args(["api-keys", "revoke", "--file", file, &first_sid])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no key"));
}

/// A server on scoped keys alone is a production server, not the demo: with a
/// SQLite file and no --secret-key-file it refuses to start (as with --api-key),
/// rather than generating the demo's sealing key.
#[test]
fn a_server_on_scoped_keys_alone_is_not_the_demo() {
    let path = scratch("not-demo");
    let file = path.to_str().unwrap();
    command(&["api-keys", "create", "--file", file]);
    let db = path.with_file_name("verify.db");
    let mut server = Server(
        std::process::Command::new(env!("CARGO_BIN_EXE_verify-server"))
            .args([
                "--database",
                &format!("sqlite://{}", db.display()),
                "--listen",
                "127.0.0.1:0",
                "--api-keys-file",
                file,
            ])
            .env_remove("VERIFY_API_KEY")
            .env_remove("VERIFY_API_SECRET")
            .env_remove("VERIFY_SECRET_KEY_FILE")
            .env_remove("VERIFY_ALLOW_PLAINTEXT_SECRETS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server started");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!exit.success());
    assert!(!path.with_file_name("verify.db.secret-key").exists());
}
