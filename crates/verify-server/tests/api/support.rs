//! The test harness: a router over a memory store, a manual clock and a seeded RNG.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::Value;
use tower::ServiceExt as _;
use verify_engine::ManualClock;
use verify_engine::model::UnixTime;
use verify_engine::store::MemoryStore;
use verify_server::delivery::{DeliveryOptions, WebhookDestinations};
use verify_server::ssrf::AllowList;
use verify_server::{AppState, Credentials, router};

/// 2026-01-01T00:00:00Z.
pub(crate) const T0: u64 = 1_767_225_600;
pub(crate) const BASE: &str = "http://verify.test";

pub(crate) struct Harness {
    pub(crate) app: axum::Router,
    pub(crate) state: Arc<AppState<MemoryStore>>,
    pub(crate) clock: Arc<ManualClock>,
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) json: Value,
}

impl Reply {
    /// Asserts an error reply with `status` and `code`.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: u16, code: u64) {
        assert_eq!(self.status.as_u16(), status, "{}", self.json);
        assert_eq!(self.json["status"], status, "{}", self.json);
        assert_eq!(self.json["code"], code, "{}", self.json);
        assert!(self.json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    pub(crate) fn str(&self, key: &str) -> String {
        self.json[key].as_str().unwrap_or_default().to_owned()
    }
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// What the delivery tests' receivers need: loopback, allowed explicitly (the
/// destination guard refuses it by default; tests/api/webhook_ssrf.rs tests
/// the guard itself).
pub(crate) fn loopback_allowed() -> AllowList {
    AllowList::new(
        ["localhost", "127.0.0.0/8", "::1"]
            .iter()
            .map(|entry| entry.parse().unwrap()),
    )
}

/// Delivery options allowing [`loopback_allowed`].
pub(crate) fn loopback_delivery() -> DeliveryOptions {
    let mut options = DeliveryOptions::default();
    options.allow_destinations = loopback_allowed();
    options
}

/// A DNS for tests (no network): each name answers its addresses, `localhost`
/// answers loopback, any other name does not resolve.
#[derive(Debug, Default)]
pub(crate) struct TestDns(pub(crate) Vec<(&'static str, Vec<std::net::IpAddr>)>);

impl reqwest::dns::Resolve for TestDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let found = match name.as_str() {
            "localhost" => Some(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
            other => self
                .0
                .iter()
                .find(|(known, _)| *known == other)
                .map(|(_, addresses)| addresses.clone()),
        };
        Box::pin(async move {
            let found = found.ok_or("no such host")?;
            let addresses: reqwest::dns::Addrs =
                Box::new(found.into_iter().map(|ip| std::net::SocketAddr::new(ip, 0)));
            Ok(addresses)
        })
    }
}

impl Harness {
    /// A harness whose webhooks may point at loopback ([`loopback_allowed`]),
    /// resolving names with a [`TestDns`] that knows only `localhost`.
    pub(crate) fn new() -> Self {
        Self::with(|state| state)
    }

    /// A harness checking webhook URLs against `destinations`.
    pub(crate) fn with_destinations(destinations: WebhookDestinations) -> Self {
        Self::with(|state| state.with_webhook_destinations(destinations))
    }

    /// A harness whose push notifications go to `sender`.
    pub(crate) fn with_sender(sender: Arc<dyn verify_server::push::NotificationSender>) -> Self {
        Self::with(|state| state.with_notification_sender(sender))
    }

    pub(crate) fn with(
        configure: impl FnOnce(AppState<MemoryStore>) -> AppState<MemoryStore>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
        let shared_clock: Arc<dyn verify_engine::Clock> = clock.clone();
        let state = Arc::new(configure(
            AppState::new(
                MemoryStore::new(),
                verify_engine::model::AccountSid::parse("AC0123456789abcdef0123456789abcdef")
                    .unwrap(),
                BASE,
                Credentials::new("key", "secret"),
                shared_clock,
                rand_chacha::ChaCha20Rng::seed_from_u64(42),
            )
            .unwrap()
            .with_webhook_destinations(WebhookDestinations::with_resolver(
                loopback_allowed(),
                Arc::new(TestDns::default()),
            )),
        ));
        Self {
            app: router(Arc::clone(&state)),
            state,
            clock,
        }
    }

    pub(crate) fn now(&self) -> UnixTime {
        self.clock.get()
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(std::time::Duration::from_secs(secs));
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &str,
        auth: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        let body = serde_urlencoded::to_string(form).unwrap();
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if !form.is_empty() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    pub(crate) async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("authorization", basic("key", "secret"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap();
        Reply {
            status,
            headers,
            json,
        }
    }

    pub(crate) async fn post(&self, uri: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, uri, Some(&basic("key", "secret")), form)
            .await
    }

    pub(crate) async fn get(&self, uri: &str) -> Reply {
        self.send(Method::GET, uri, Some(&basic("key", "secret")), &[])
            .await
    }

    pub(crate) async fn delete(&self, uri: &str) -> Reply {
        self.send(Method::DELETE, uri, Some(&basic("key", "secret")), &[])
            .await
    }

    /// Creates a service, returns its sid.
    pub(crate) async fn service(&self, name: &str) -> String {
        let reply = self.post("/v2/Services", &[("FriendlyName", name)]).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        reply.str("sid")
    }

    /// Creates a TOTP factor for `identity`, returns (factor sid, base32 secret).
    pub(crate) async fn totp_factor(&self, service: &str, identity: &str) -> (String, String) {
        let reply = self
            .post(
                &format!("/v2/Services/{service}/Entities/{identity}/Factors"),
                &[
                    ("FactorType", "totp"),
                    ("FriendlyName", "alice@example.com"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        (
            reply.str("sid"),
            reply.json["binding"]["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates and verifies a TOTP factor; returns (factor sid, secret).
    pub(crate) async fn verified_totp(&self, service: &str, identity: &str) -> (String, String) {
        let (sid, secret) = self.totp_factor(service, identity).await;
        let reply = self
            .post(
                &format!("/v2/Services/{service}/Entities/{identity}/Factors/{sid}"),
                &[("AuthPayload", &code(&secret, self.now()))],
            )
            .await;
        assert_eq!(reply.json["status"], "verified", "{}", reply.json);
        (sid, secret)
    }
}

/// The 6-digit SHA-1 30-second TOTP code of `secret` at `now`.
pub(crate) fn code(secret: &str, now: UnixTime) -> String {
    use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig};
    let config = TotpConfig::new(
        Algorithm::Sha1,
        Digits::new(6).unwrap(),
        Period::new(30).unwrap(),
        Skew::new(1).unwrap(),
    );
    verify_totp::generate(&Secret::from_base32_lenient(secret).unwrap(), &config, now)
        .unwrap()
        .to_string()
}
