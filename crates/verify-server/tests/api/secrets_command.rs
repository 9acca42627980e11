//! `verify-server secrets generate-key` and `verify-server secrets reseal`, end to
//! end with the binary: rows written by a server on key A are resealed under key B
//! by the command (which prints how many), after which nothing opens under A alone
//! (neither through the store nor for the command itself, which then fails naming
//! the row) and a server on B alone reads the TOTP factor and verifies a code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use verify_engine::store::Store as _;

use crate::support::basic;

const BINARY: &str = env!("CARGO_BIN_EXE_verify-server");

fn secrets(args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("secrets")
        .args(args)
        .env_clear()
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The server binary on the SQLite file `db` with API key `key:secret`, sealing
/// with `key_file`, delivery off; the child and its port.
fn spawn_server(db: &Path, key_file: &Path) -> (std::process::Child, u16) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let server = Command::new(BINARY)
        .args(["--database", &format!("sqlite://{}", db.display())])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--demo",
            "off",
            "--api-key",
            "key",
            "--api-secret",
            "secret",
        ])
        .args(["--secret-key-file", &key_file.display().to_string()])
        .arg("--disable-webhook-delivery")
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (server, port)
}

/// Stops the server with SIGTERM and waits for its clean exit.
fn terminate(server: &mut std::process::Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// POSTs `form` with the API key once the server answers (within 10 s); the
/// status and JSON.
async fn post(port: u16, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(reply) = client
            .post(format!("http://127.0.0.1:{port}{path}"))
            .header("authorization", basic("key", "secret"))
            .form(form)
            .send()
            .await
        {
            let status = reply.status().as_u16();
            let json = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
            return (status, json);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not answer within 10 s");
}

fn sealed_with(hex_file: &Path) -> Arc<verify_store_sql::AesGcmSealer> {
    Arc::new(
        verify_store_sql::AesGcmSealer::from_hex(&std::fs::read_to_string(hex_file).unwrap())
            .unwrap(),
    )
}

#[tokio::test]
async fn secrets_reseal_moves_every_row_to_the_new_key() {
    let dir = std::env::temp_dir().join(format!("verify-secrets-command-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("verify.db");
    let database = format!("sqlite://{}", db.display());
    let key = |name: &str| -> PathBuf { dir.join(name) };
    let (a, b) = (key("a.key"), key("b.key"));

    // generate-key: 64 hex digits and a newline, mode 0600, never over a file.
    for file in [&a, &b] {
        let made = secrets(&["generate-key", "--out", &file.display().to_string()]);
        assert!(made.status.success(), "{}", text(&made.stderr));
        assert_eq!(
            text(&made.stdout).lines().count(),
            1,
            "{}",
            text(&made.stdout)
        );
        let hex = std::fs::read_to_string(file).unwrap();
        assert!(
            hex.len() == 65
                && hex.ends_with('\n')
                && hex.trim().bytes().all(|b| b.is_ascii_hexdigit()),
            "{hex:?}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }
    assert_ne!(
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap()
    );
    let before = std::fs::read_to_string(&a).unwrap();
    let again = secrets(&["generate-key", "--out", &a.display().to_string()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("not overwritten"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&a).unwrap(), before);

    // A server on key A: a service, a TOTP factor and a webhook (2 sealed rows).
    let (mut server, port) = spawn_server(&db, &a);
    let (status, service) = post(port, "/v2/Services", &[("FriendlyName", "Owl Bank")]).await;
    assert_eq!(status, 201, "{service}");
    let service_sid = service["sid"].as_str().unwrap().to_owned();
    let (status, factor) = post(
        port,
        &format!("/v2/Services/{service_sid}/Entities/user-0001/Factors"),
        &[("FactorType", "totp"), ("FriendlyName", "phone")],
    )
    .await;
    assert_eq!(status, 201, "{factor}");
    let factor_sid = factor["sid"].as_str().unwrap().to_owned();
    let secret = factor["binding"]["secret"].as_str().unwrap().to_owned();
    let (status, webhook) = post(
        port,
        &format!("/v2/Services/{service_sid}/Webhooks"),
        &[
            ("FriendlyName", "audit"),
            ("EventTypes", "*"),
            ("WebhookUrl", "https://93.184.215.14/verify"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{webhook}");
    terminate(&mut server);

    // The rotation: B current, A previous. One line naming the 2 rows.
    let started = std::time::Instant::now();
    let resealed = secrets(&[
        "reseal",
        "--database",
        &database,
        "--secret-key-file",
        &b.display().to_string(),
        "--previous-secret-key-file",
        &a.display().to_string(),
    ]);
    assert!(resealed.status.success(), "{}", text(&resealed.stderr));
    let out = text(&resealed.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("resealed 2 rows "), "{out}");
    eprintln!("secrets reseal took {:?}", started.elapsed());

    // Nothing opens under A alone: the command fails, naming the row, and exits 1.
    let only_a = secrets(&[
        "reseal",
        "--database",
        &database,
        "--secret-key-file",
        &a.display().to_string(),
    ]);
    assert_eq!(only_a.status.code(), Some(1), "{}", text(&only_a.stdout));
    let error = text(&only_a.stderr);
    assert!(
        error.contains("resealing failed")
            && error.contains("row sid")
            && error.contains("--previous-secret-key-file"),
        "{error}"
    );
    assert!(only_a.stdout.is_empty(), "{}", text(&only_a.stdout));

    // The file read directly: the factor does not open under A, does under B with
    // the seed the enrollment showed, and the seed is nowhere in the clear.
    let path = db.display().to_string();
    let service: verify_engine::model::ServiceSid = service_sid.parse().unwrap();
    let factor: verify_engine::model::FactorSid = factor_sid.parse().unwrap();
    let under_a = verify_store_sql::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealed_with(&a));
    assert!(under_a.get_factor(service, factor).await.is_err());
    under_a.close().await;
    let under_b = verify_store_sql::SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealed_with(&b));
    let stored = under_b.get_factor(service, factor).await.unwrap().unwrap();
    let verify_engine::model::factor::FactorKind::Totp(totp) = stored.kind() else {
        panic!("not a TOTP factor");
    };
    assert_eq!(totp.secret().to_base32().as_str(), secret);
    under_b.close().await;
    let raw = std::fs::read(&db).unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));

    // A server on B alone reads the factor and verifies it with a code.
    let (mut server, port) = spawn_server(&db, &b);
    let now = verify_engine::Clock::now(&verify_engine::SystemClock::new()).unwrap();
    let (status, verified) = post(
        port,
        &format!("/v2/Services/{service_sid}/Entities/user-0001/Factors/{factor_sid}"),
        &[("AuthPayload", &crate::support::code(&secret, now))],
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["status"], "verified", "{verified}");
    terminate(&mut server);

    std::fs::remove_dir_all(&dir).unwrap();
}

/// Clear failures, exit 1, nothing on stdout: no key, a database file that does
/// not exist (not created), the memory store.
#[tokio::test]
async fn secrets_reseal_refuses_what_it_cannot_reseal() {
    let dir = std::env::temp_dir().join(format!("verify-secrets-refuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("k.key");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let key = key.display().to_string();
    let missing = dir.join("nope.db");
    let missing_url = format!("sqlite://{}", missing.display());
    for (args, says) in [
        (
            vec!["reseal", "--database", missing_url.as_str()],
            "needs --secret-key-file",
        ),
        (
            vec![
                "reseal",
                "--database",
                &missing_url,
                "--secret-key-file",
                &key,
            ],
            "no such database file",
        ),
        (
            vec!["reseal", "--database", "memory", "--secret-key-file", &key],
            "nothing to reseal",
        ),
    ] {
        let run = secrets(&args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert!(
            text(&run.stderr).contains(says),
            "{args:?}: {}",
            text(&run.stderr)
        );
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    assert!(!missing.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
