//! The server binary on a SQLite file, driven over HTTP as a host and a push
//! device would: a service, an enrolled push factor, challenges.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use serde_json::{Value, json};

pub(crate) const KEY: &str = "push-test-key";
pub(crate) const SECRET: &str = "push-test-secret";
pub(crate) const ACCOUNT: &str = "AC00000000000000000000000000000000";

/// A scratch directory removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("verify-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `verify-server` process, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts the binary on `database` with `extra` flags and waits until it answers.
    pub(crate) async fn start(database: &Path, extra: &[&str]) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_verify-server"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                &format!("sqlite://{}", database.display()),
                "--api-key",
                KEY,
                "--api-secret",
                SECRET,
                "--demo",
                "off",
                "--webhook-poll-secs",
                "1",
                // Sealing is tested on its own (tests/api/wire.rs).
                "--allow-plaintext-secrets",
            ])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/api", server.base)).await
                && response.status().is_success()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no graceful shutdown, no chance to finish what it was doing.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A form POST (or GET without a form) with `authorization` (the host's
    /// API key when `None`); answers the status and the JSON body.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let (user, password) = authorization.unwrap_or((KEY, SECRET));
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .basic_auth(user, Some(password));
        if !form.is_empty() {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (status, json) = self.call(reqwest::Method::POST, path, None, form).await;
        assert!((200..300).contains(&status), "{path}: {status} {json}");
        json
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A push device as the SDK runs it: its key and enrolled factor.
pub(crate) struct Device {
    key: SigningKey,
    pub(crate) service: String,
    pub(crate) identity: String,
    pub(crate) factor: String,
    credential_sid: String,
}

fn sign_jws(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

impl Device {
    /// A request JWT as the SDKs build it.
    fn jwt(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"cty": "twilio-pba;v=1", "kid": self.credential_sid, "typ": "JWT", "alg": "ES256"});
        let claims = json!({"sub": ACCOUNT, "exp": now + 600, "nbf": now - 5});
        sign_jws(&self.key, &header.to_string(), &claims.to_string())
    }

    pub(crate) fn entity_path(&self) -> String {
        format!("/v2/Services/{}/Entities/{}", self.service, self.identity)
    }

    /// Enrolls a verified push factor for `identity` on `platform` with `token`.
    pub(crate) async fn enroll(
        server: &Server,
        service: &str,
        identity: &str,
        platform: &str,
        token: &str,
    ) -> Self {
        let minted = server
            .post(
                &format!("/v2/Services/{service}/AccessTokens"),
                &[("Identity", identity), ("FactorType", "push")],
            )
            .await;
        let access = minted["token"].as_str().unwrap().to_owned();
        let key = SigningKey::random(&mut rand_core::OsRng);
        let public_key =
            STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let mut form = vec![
            ("FactorType", "push"),
            ("FriendlyName", "Jane's phone"),
            ("Binding.PublicKey", public_key.as_str()),
            ("Binding.Alg", "ES256"),
            ("Config.AppId", "com.example.owl"),
            ("Config.NotificationPlatform", platform),
            ("Config.SdkVersion", "2.0.0"),
        ];
        if platform != "none" {
            form.push(("Config.NotificationToken", token));
        }
        let (status, created) = server
            .call(
                reqwest::Method::POST,
                &format!("/v2/Services/{service}/Entities/{identity}/Factors"),
                Some(("token", &access)),
                &form,
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let device = Self {
            key,
            service: service.to_owned(),
            identity: identity.to_owned(),
            factor: created["sid"].as_str().unwrap().to_owned(),
            credential_sid: created["config"]["credential_sid"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        let signature: DerSignature = device.key.sign(device.factor.as_bytes());
        let jwt = device.jwt();
        let (status, verified) = server
            .call(
                reqwest::Method::POST,
                &format!("{}/Factors/{}", device.entity_path(), device.factor),
                Some(("token", &jwt)),
                &[("AuthPayload", &STANDARD.encode(signature.as_bytes()))],
            )
            .await;
        assert_eq!(status, 200, "{verified}");
        assert_eq!(verified["status"], "verified");
        device
    }

    /// The host creates a push challenge for this device; answers its sid.
    pub(crate) async fn challenge(&self, server: &Server) -> String {
        let created = server
            .post(
                &format!("{}/Challenges", self.entity_path()),
                &[
                    ("FactorSid", &self.factor),
                    ("Details.Message", "Approve login to Owl Bank?"),
                ],
            )
            .await;
        created["sid"].as_str().unwrap().to_owned()
    }
}

/// Waits until `condition` holds, for at most `within`.
pub(crate) async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}
