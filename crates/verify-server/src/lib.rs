#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

/// The workspace README's Rust examples, compiled as this crate's doctests so that
/// what a newcomer copies first stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;

pub mod api_keys;
pub mod auth;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod form;
pub mod head;
pub mod mds;
pub mod paging;
pub mod push;
pub mod rate_limit;
pub mod retention;
mod routes;
pub mod serve;
pub mod ssrf;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use verify_engine::model::UnixTime;
use verify_engine::store::Store;
use verify_engine::{Clock, Verify};

pub use auth::{Caller, Credentials};
pub use demo::Demo;
pub use error::ApiError;

/// What every handler shares: the engine, its clock, the API credentials, the
/// public base URL, and the push notification sender with its counters.
pub struct AppState<S> {
    /// The engine.
    pub engine: Verify<S>,
    clock: Arc<dyn Clock>,
    credentials: Credentials,
    base_url: String,
    push: Arc<dyn push::NotificationSender>,
    push_metrics: push::PushMetrics,
    webhook_destinations: Arc<delivery::WebhookDestinations>,
    client_rate_limit: Option<rate_limit::ClientRateLimit>,
    api_keys: Option<Arc<api_keys::WatchedApiKeys>>,
}

impl<S> std::fmt::Debug for AppState<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine)
            .field("credentials", &self.credentials)
            .field("api_keys", &self.api_keys)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl<S: Store + 'static> AppState<S> {
    /// State over an engine built from `store` with `clock` and `rng`.
    ///
    /// `base_url` is the public origin (`http://localhost:8080`), without `/v2`.
    ///
    /// # Errors
    /// [`ApiError`] when `base_url` is not an absolute http(s) URL.
    pub fn new<R: verify_engine::EngineRng + 'static>(
        store: S,
        account_sid: verify_engine::model::AccountSid,
        base_url: &str,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
        rng: R,
    ) -> Result<Self, ApiError> {
        Self::with_engine_config(
            store,
            verify_engine::EngineConfig::new(account_sid),
            base_url,
            credentials,
            clock,
            rng,
        )
    }

    /// [`AppState::new`] with the engine's configuration given (its account sid,
    /// the TOTP guessing policy, trust anchors); its base URL is set from
    /// `base_url`.
    ///
    /// # Errors
    /// [`ApiError`] when `base_url` is not an absolute http(s) URL.
    pub fn with_engine_config<R: verify_engine::EngineRng + 'static>(
        store: S,
        config: verify_engine::EngineConfig,
        base_url: &str,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
        rng: R,
    ) -> Result<Self, ApiError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let api_base = verify_engine::model::BaseUrl::parse(&format!("{base_url}/v2"))?;
        let config = config.with_base_url(api_base);
        let engine = Verify::new(store, config, Arc::clone(&clock), rng);
        Ok(Self {
            engine,
            clock,
            credentials,
            base_url,
            push: Arc::new(push::LoggingNotificationSender),
            push_metrics: push::PushMetrics::default(),
            webhook_destinations: Arc::new(delivery::WebhookDestinations::default()),
            client_rate_limit: None,
            api_keys: None,
        })
    }

    /// The state checking new and changed webhook URLs against `destinations`
    /// (by default only public destinations are accepted, with the system's
    /// DNS; see [`ssrf`]). The server passes its `--webhook-allow-destination`.
    #[must_use]
    pub fn with_webhook_destinations(
        mut self,
        destinations: delivery::WebhookDestinations,
    ) -> Self {
        self.webhook_destinations = Arc::new(destinations);
        self
    }

    /// Where webhooks may be sent: the check of a webhook URL at creation and
    /// update.
    #[must_use]
    pub fn webhook_destinations(&self) -> &delivery::WebhookDestinations {
        &self.webhook_destinations
    }

    /// The state sending push notifications through `sender` (by default the
    /// [`push::LoggingNotificationSender`], which sends nothing; the server
    /// installs [`push::PushSenders`] from `--push-credentials`).
    #[must_use]
    pub fn with_notification_sender(mut self, sender: Arc<dyn push::NotificationSender>) -> Self {
        self.push = sender;
        self
    }

    /// The state limiting the requests that do not carry the API key (devices,
    /// failed authentication) per client IP ([`rate_limit`]); without it nothing is
    /// limited. The server sets it from `--client-rate-limit-per-min`.
    #[must_use]
    pub fn with_client_rate_limit(mut self, limit: rate_limit::ClientRateLimit) -> Self {
        self.client_rate_limit = Some(limit);
        self
    }

    /// The state also accepting the scoped keys of an API keys file
    /// ([`api_keys`]), re-read when it changes; without it only the operator's
    /// credentials authenticate the host. The server passes `--api-keys-file`.
    #[must_use]
    pub fn with_api_keys(mut self, keys: Arc<api_keys::WatchedApiKeys>) -> Self {
        self.api_keys = Some(keys);
        self
    }

    /// The API keys file, if any.
    #[must_use]
    pub fn api_keys(&self) -> Option<&api_keys::WatchedApiKeys> {
        self.api_keys.as_deref()
    }

    /// The per-client-IP limit, if any.
    #[must_use]
    pub const fn client_rate_limit(&self) -> Option<&rate_limit::ClientRateLimit> {
        self.client_rate_limit.as_ref()
    }

    /// The push notification counters (served at `GET /metrics`).
    #[must_use]
    pub const fn push_metrics(&self) -> &push::PushMetrics {
        &self.push_metrics
    }

    /// The current time (for resource views that show status at now).
    ///
    /// # Errors
    /// [`ApiError`] (500) when the clock fails.
    pub fn now(&self) -> Result<UnixTime, ApiError> {
        self.clock
            .now()
            .map_err(|error| verify_engine::VerifyError::from(error).into())
    }
}

/// The application: every API route behind Basic auth, JSON errors, bounded
/// bodies; `GET /` and `GET /api` answer the JSON index. No web page, no demo.
pub fn router<S: Store + 'static>(state: Arc<AppState<S>>) -> Router {
    build(state, None)
}

/// [`router`] plus the web page at `/` and its demo backend under `/demo/` (see
/// [`demo`]: unauthenticated, for local use), for the demo service `demo`
/// ([`Demo::setup`]). The JSON index stays at `GET /api`.
pub fn router_with_demo<S: Store + 'static>(state: Arc<AppState<S>>, demo: Demo) -> Router {
    build(state, Some(demo))
}

fn build<S: Store + 'static>(state: Arc<AppState<S>>, demo: Option<Demo>) -> Router {
    let mut api = routes::routes::<S>()
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::authenticate::<S>,
        ))
        .route("/api", axum::routing::get(index))
        .route(
            "/.well-known/webauthn",
            axum::routing::get(routes::well_known::webauthn::<S>),
        );
    if demo.is_none() {
        api = api.route("/", axum::routing::get(index));
    }
    let api = api
        .fallback(|| async { ApiError::no_route() })
        .layer(DefaultBodyLimit::max(form::MAX_BODY))
        .layer(axum::middleware::from_fn(form::require_form_content_type))
        .layer(axum::middleware::map_response(error::json_error_shape))
        .with_state(Arc::clone(&state));
    let app = match demo {
        None => api,
        Some(demo) => api
            .merge(web::routes())
            .merge(demo::routes(state, demo).layer(DefaultBodyLimit::max(form::MAX_BODY))),
    };
    app.layer(axum::middleware::from_fn(head::within_limits))
}

/// `GET /api` (and `GET /` without the demo; no authentication): what this server is and where its API lives.
async fn index() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "name": "verify-server",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "/v2/Services",
        "auth": "HTTP Basic: the API key as username, the API secret as password",
        "docs": "crates/verify-server/README.md",
    }))
}
