//! The harness: the router with the demo on (or off) over a memory store, a
//! manual clock and a seeded RNG.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::Value;
use tower::ServiceExt as _;
use verify_engine::ManualClock;
use verify_engine::model::UnixTime;
use verify_engine::store::MemoryStore;
use verify_server::{AppState, Credentials, Demo, router, router_with_demo};

/// 2026-01-01T00:00:00Z.
pub(crate) const T0: u64 = 1_767_225_600;
pub(crate) const BASE: &str = "http://localhost:8080";
pub(crate) const USER: &str = "demo-user-0001";

pub(crate) struct Harness {
    pub(crate) app: axum::Router,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) demo: Option<Demo>,
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a JSON error with `status` and `code`; returns its message.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: u16, code: u64) -> String {
        let json = self.json();
        assert_eq!(self.status.as_u16(), status, "{json}");
        assert_eq!(json["status"], status, "{json}");
        assert_eq!(json["code"], code, "{json}");
        let message = json["message"].as_str().unwrap_or_default().to_owned();
        assert!(!message.is_empty(), "{json}");
        message
    }

    #[track_caller]
    pub(crate) fn assert_ok(&self) -> Value {
        assert!(
            self.status.is_success(),
            "{}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

pub(crate) fn state(base: &str) -> (Arc<AppState<MemoryStore>>, Arc<ManualClock>) {
    state_over(MemoryStore::new(), base)
}

pub(crate) fn state_over(
    store: MemoryStore,
    base: &str,
) -> (Arc<AppState<MemoryStore>>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
    let shared: Arc<dyn verify_engine::Clock> = clock.clone();
    let state = AppState::new(
        store,
        verify_engine::model::AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
        base,
        Credentials::new("key", "secret"),
        shared,
        rand_chacha::ChaCha20Rng::seed_from_u64(42),
    )
    .unwrap();
    (Arc::new(state), clock)
}

impl Harness {
    /// The demo on, at [`BASE`].
    pub(crate) async fn new() -> Self {
        let (state, clock) = state(BASE);
        let demo = Demo::setup(&state).await.unwrap();
        Self {
            app: router_with_demo(state, demo.clone()),
            clock,
            demo: Some(demo),
        }
    }

    /// The demo off.
    pub(crate) fn without_demo() -> Self {
        let (state, clock) = state(BASE);
        Self {
            app: router(state),
            clock,
            demo: None,
        }
    }

    pub(crate) fn service(&self) -> String {
        self.demo.as_ref().unwrap().service_sid().to_string()
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(std::time::Duration::from_secs(secs));
    }

    pub(crate) fn now(&self) -> UnixTime {
        self.clock.get()
    }

    pub(crate) async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, uri: &str) -> Reply {
        self.request(Method::GET, uri, &[], Vec::new()).await
    }

    pub(crate) async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.request(
            Method::POST,
            uri,
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await
    }

    /// A form POST to the API with `auth`.
    pub(crate) async fn post_form(&self, uri: &str, auth: &str, form: &[(&str, &str)]) -> Reply {
        self.request(
            Method::POST,
            uri,
            &[
                ("authorization", auth),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            serde_urlencoded::to_string(form).unwrap().into_bytes(),
        )
        .await
    }
}

/// Asserts `message` is one the page can show a visitor as it is: a sentence (a
/// capital letter first, a full stop last) that names no sid.
#[track_caller]
pub(crate) fn assert_plain(message: &str) {
    assert!(
        message.starts_with(|c: char| c.is_uppercase()) && message.ends_with('.'),
        "not a sentence: {message}"
    );
    assert!(!has_sid(message), "names a sid: {message}");
}

/// Whether `text` holds a sid: two capital letters, then 32 lowercase hex digits.
pub(crate) fn has_sid(text: &str) -> bool {
    text.as_bytes().windows(34).any(|w| {
        w[..2].iter().all(u8::is_ascii_uppercase)
            && w[2..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    })
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
