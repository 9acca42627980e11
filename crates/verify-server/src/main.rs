//! `verify-server`: run the reference HTTP server (see the crate README).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use verify::store::Store;
use verify_server::config::{Config, DEMO_API_KEY, DEMO_API_SECRET, Database, DemoMode};
use verify_server::{AppState, Credentials, Demo, delivery, router, router_with_demo};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(%message, "verify-server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The sealer of --secret-key-file, if given.
fn secret_sealer(
    config: &Config,
) -> Result<Option<Arc<dyn verify_store_sql::SecretSealer>>, String> {
    let Some(path) = &config.secret_key_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--secret-key-file {}: {e}", path.display()))?;
    let sealer = verify_store_sql::AesGcmSealer::from_hex(&text)
        .map_err(|e| format!("--secret-key-file {}: {e}", path.display()))?;
    Ok(Some(Arc::new(sealer)))
}

async fn run(config: Config) -> Result<(), String> {
    let database = Database::parse(&config.database)?;
    let sealer = secret_sealer(&config)?;
    let accept_plaintext = config.accept_plaintext_secrets;
    let store_options = config.store_options();
    // Set before migrating: the upgrade of older rows re-seals their secrets.
    macro_rules! sealed {
        ($store:expr) => {
            match sealer {
                None => {
                    tracing::warn!(
                        "secrets are stored in the clear: set --secret-key-file to seal them"
                    );
                    $store
                }
                Some(sealer) if accept_plaintext => $store.with_sealer_accepting_plaintext(sealer),
                Some(sealer) => $store.with_sealer(sealer),
            }
        };
    }
    match database {
        Database::Memory => {
            if sealer.is_some() {
                tracing::warn!(
                    "--secret-key-file is unused: the memory store keeps nothing at rest"
                );
            }
            serve(config, verify::store::MemoryStore::new()).await
        }
        Database::Sqlite(path) => {
            let store = verify_store_sql::SqliteStore::open_with_options(&path, &store_options)
                .await
                .map_err(|e| format!("opening {path}: {e}"))?;
            let store = sealed!(store);
            store
                .migrate()
                .await
                .map_err(|e| format!("migrating {path}: {e}"))?;
            let served = serve(config, store.clone()).await;
            // Closing the pool checkpoints the write-ahead log into the database
            // file: after a clean shutdown the file alone holds every row.
            store.close().await;
            tracing::info!(%path, "store closed");
            served
        }
        Database::Postgres(url) => {
            let store = verify_store_sql::PgStore::connect_with_options(&url, &store_options)
                .await
                .map_err(|e| format!("connecting to PostgreSQL: {e}"))?;
            let store = sealed!(store);
            store
                .migrate()
                .await
                .map_err(|e| format!("migrating PostgreSQL: {e}"))?;
            let served = serve(config, store.clone()).await;
            store.close().await;
            tracing::info!("store closed");
            served
        }
        other => Err(format!("unsupported database {other:?}")),
    }
}

async fn serve<S: Store + 'static>(config: Config, store: S) -> Result<(), String> {
    let (key, secret, demo_credentials) = match (&config.api_key, &config.api_secret) {
        (Some(key), Some(secret)) => (key.clone(), secret.clone(), false),
        (None, None) => {
            tracing::warn!(
                api_key = DEMO_API_KEY,
                api_secret = DEMO_API_SECRET,
                "NO API CREDENTIALS CONFIGURED: using the public demo key and secret. \
                 Anyone can call this server. Set --api-key and --api-secret."
            );
            (DEMO_API_KEY.to_owned(), DEMO_API_SECRET.to_owned(), true)
        }
        _ => return Err("--api-key and --api-secret go together".to_owned()),
    };
    let base_url = config.base_url();
    let account_sid = verify::model::AccountSid::parse(&config.account_sid)
        .map_err(|e| format!("--account-sid: {e}"))?;
    let clock: Arc<dyn verify::Clock> = Arc::new(verify::SystemClock::new());
    let engine_config =
        verify::EngineConfig::new(account_sid).with_code_guess_policy(config.guess_policy()?);
    let mut state = AppState::with_engine_config(
        store,
        engine_config,
        &base_url,
        Credentials::new(&key, &secret),
        clock,
        rand_core_os(),
    )
    .map_err(|e| format!("--base-url: {e}"))?;
    if let Some(path) = &config.push_credentials {
        let senders = verify_server::push::PushSenders::from_file(path)
            .map_err(|e| format!("--push-credentials: {e}"))?;
        let (apn, fcm) = senders.credential_sids();
        tracing::info!(file = %path.display(), ?apn, ?fcm, "push credentials loaded");
        state = state.with_notification_sender(Arc::new(senders));
    } else {
        tracing::info!("no --push-credentials: push notifications are logged, not sent");
    }
    let allow_destinations =
        verify_server::ssrf::AllowList::new(config.webhook_allow_destination.clone());
    if !allow_destinations.is_empty() {
        tracing::warn!(allowed = %allow_destinations, "webhook destinations allowed although not public (--webhook-allow-destination)");
    }
    state = state.with_webhook_destinations(delivery::WebhookDestinations::new(
        allow_destinations.clone(),
    ));
    match config.client_rate_limit(config.demo_enabled(demo_credentials)) {
        Some(limit) => {
            tracing::info!(
                per_minute = limit.per_minute,
                burst = limit.burst,
                loopback_exempt = limit.exempt_loopback,
                "per-client rate limit on requests without the API key"
            );
            state = state
                .with_client_rate_limit(verify_server::rate_limit::ClientRateLimit::new(limit));
        }
        None => tracing::warn!("per-client rate limit off (--client-rate-limit-per-min 0)"),
    }
    let state = Arc::new(state);
    if config.disable_webhook_delivery {
        tracing::info!("webhook delivery disabled in this process");
        if config.webhook_ca_file.is_some() {
            tracing::warn!("--webhook-ca-file is unused: webhook delivery is disabled");
        }
    } else {
        let mut options = delivery::DeliveryOptions::default();
        options.ca_file = config.webhook_ca_file.clone();
        options.allow_destinations = allow_destinations;
        let client =
            delivery::WebhookClient::new(&options).map_err(|e| format!("webhook delivery: {e}"))?;
        if let Some(path) = &options.ca_file {
            tracing::info!(ca_file = %path.display(), "webhook receivers: extra trust roots added");
        }
        tokio::spawn(delivery::run(
            Arc::clone(&state),
            client,
            Duration::from_secs(config.webhook_poll_secs.max(1)),
        ));
    }
    let demo = if config.demo_enabled(demo_credentials) {
        match Demo::setup(&state).await {
            Ok(demo) => Some(demo),
            // `auto` never keeps the API from starting; `--demo on` does.
            Err(error) if config.demo == DemoMode::Auto => {
                tracing::warn!(%error, "web demo off: its service could not be set up");
                None
            }
            Err(error) => return Err(format!("setting up the demo service: {error}")),
        }
    } else {
        None
    };
    let app = match demo {
        Some(demo) => {
            tracing::warn!(
                page = %demo.origin(),
                rp_id = demo.rp_id(),
                service_sid = %demo.service_sid(),
                "web demo on: the page at / and its UNAUTHENTICATED /demo/api endpoints \
                 (local use only; --demo off to turn it off)"
            );
            router_with_demo(state, demo)
        }
        None => router(state),
    };
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(verify_server::serve::tls_acceptor(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("binding {}: {e}", config.listen))?;
    tracing::info!(listen = %config.listen, %base_url, tls = tls.is_some(), database = %redact(&config.database), "verify-server listening");
    let mut options = verify_server::serve::ServeOptions::default();
    options.header_read_timeout = Duration::from_secs(config.header_read_timeout_secs);
    options.max_connections = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
    options.body_read_timeout = Duration::from_secs(config.body_read_timeout_secs);
    verify_server::serve::serve(listener, app, tls, options, async {
        shutdown_signal().await;
        tracing::info!("shutting down");
    })
    .await
    .map_err(|e| format!("serving: {e}"))
}

/// Ctrl-C (SIGINT), or SIGTERM: what service managers (systemd, Docker, Kubernetes)
/// send to stop a process. Either begins the graceful shutdown.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "SIGTERM cannot be handled: only Ctrl-C stops cleanly");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn rand_core_os() -> rand_core::OsRng {
    rand_core::OsRng
}

/// The database URL without a password: neither `user:password@` nor a
/// `password=` query parameter (`?password=...`, `&password=...`) is shown.
fn redact(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.split_once('?') {
        None => url,
        Some((head, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{head}?{}", query.join("&"))
        }
    }
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let (head, tail) = url.split_at(at);
            let userinfo = head.get(scheme.saturating_add(3)..).unwrap_or_default();
            let Some((user, _password)) = userinfo.split_once(':') else {
                return url.to_owned();
            };
            format!(
                "{}{user}:***{tail}",
                url.get(..scheme.saturating_add(3)).unwrap_or_default()
            )
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_never_shown() {
        assert_eq!(
            redact("postgres://verify:s3cret@db.internal/verify"),
            "postgres://verify:***@db.internal/verify"
        );
        assert_eq!(
            redact("postgres://verify@db.internal/verify?sslmode=disable&password=s3cret"),
            "postgres://verify@db.internal/verify?sslmode=disable&password=***"
        );
        assert_eq!(
            redact("postgres://db.internal/verify?PASSWORD=s3cret"),
            "postgres://db.internal/verify?PASSWORD=***"
        );
        assert_eq!(redact("sqlite://verify.db"), "sqlite://verify.db");
    }
}
