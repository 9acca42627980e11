//! `verify-server`: run the reference HTTP server (see the crate README).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use verify_engine::store::Store;
use verify_server::config::{
    ApiKeysCommand, Command, Config, DEMO_API_KEY, DEMO_API_SECRET, Database, DemoMode,
    SecretsCommand,
};
use verify_server::{AppState, Credentials, Demo, delivery, router, router_with_demo};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    // A command prints to stdout for the operator: no log lines in between.
    match &config.command {
        None => {}
        Some(Command::ApiKeys(command)) => return api_keys_command(command),
        Some(Command::Secrets(command)) => return secrets_command(&config, command).await,
        Some(other) => {
            eprintln!("verify-server: unsupported command {other:?}");
            return std::process::ExitCode::FAILURE;
        }
    }
    // `RUST_LOG` takes a default level and `target=level` directives
    // (`info,verify_server::auth=debug`); tracing-subscriber's `Targets` parses them
    // without the regex engine that its `EnvFilter` compiles in.
    let (filter, bad_filter) = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer())
            .with(filter)
            .init();
    }
    if let Some(error) = bad_filter {
        tracing::warn!(%error, "RUST_LOG is not a list of level and target=level directives: logging at info");
    }
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(%message, "verify-server failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `$store` (a SQL store) with the sealing of [`sealing`]. Set before migrating:
/// the upgrade of older rows re-seals their secrets.
macro_rules! sealed {
    ($store:expr, $sealer:expr, $accept_plaintext:expr) => {
        match $sealer {
            None => $store,
            Some(sealer) if $accept_plaintext => $store.with_sealer_accepting_plaintext(sealer),
            Some(sealer) => $store.with_sealer(sealer),
        }
    };
}

/// How the SQL store seals secrets: the sealer, whether it still reads secrets in
/// the clear, and whether every row is to be resealed after start.
struct Sealing {
    sealer: Option<Arc<dyn verify_store_sql::SecretSealer>>,
    accept_plaintext: bool,
    reseal: bool,
}

/// The key of a `--secret-key-file`-style file (64 hex digits).
fn read_key(flag: &str, path: &std::path::Path) -> Result<verify_store_sql::AesGcmSealer, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    verify_store_sql::AesGcmSealer::from_hex(&text)
        .map_err(|e| format!("{flag} {}: {e}", path.display()))
}

/// The demo's generated key file, next to its SQLite file: read when it exists,
/// else made from the OS RNG and written readable by its owner only.
fn demo_key_file(db_path: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(format!("{db_path}.secret-key"));
    if path.exists() {
        return Ok(path);
    }
    write_new_key(&path).map_err(|e| format!("the demo's secret key: {e}"))?;
    Ok(path)
}

/// Writes a new AES-256-GCM key from the OS RNG to `path` as 64 hex digits and a
/// newline, in a file made for it (never over an existing one), mode 0600 on Unix.
fn write_new_key(path: &std::path::Path) -> Result<(), String> {
    use rand_core::RngCore as _;
    let mut key = zeroize::Zeroizing::new([0_u8; verify_store_sql::AES_GCM_KEY_LEN]);
    rand_core_os().fill_bytes(key.as_mut_slice());
    let mut hex = zeroize::Zeroizing::new(String::with_capacity(key.len() * 2 + 1));
    for byte in key.iter() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} exists: not overwritten", path.display())
        }
        _ => format!("creating {}: {e}", path.display()),
    })?;
    std::io::Write::write_all(&mut file, hex.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// The sealing of `database`: --secret-key-file (with --previous-secret-key-file
/// keys for reading older rows); for the demo on SQLite without a key, one
/// generated next to the database file; a server on its own API key without a key
/// refuses to start unless --allow-plaintext-secrets.
fn sealing(config: &Config, database: &Database) -> Result<Sealing, String> {
    if let Some(path) = &config.secret_key_file {
        let current = read_key("--secret-key-file", path)?;
        let sealer: Arc<dyn verify_store_sql::SecretSealer> =
            if config.previous_secret_key_file.is_empty() {
                Arc::new(current)
            } else {
                let previous = config
                    .previous_secret_key_file
                    .iter()
                    .map(|p| read_key("--previous-secret-key-file", p))
                    .collect::<Result<Vec<_>, _>>()?;
                Arc::new(
                    verify_store_sql::RotatingSealer::new(current, previous)
                        .map_err(|e| format!("--previous-secret-key-file: {e}"))?,
                )
            };
        return Ok(Sealing {
            sealer: Some(sealer),
            accept_plaintext: config.accept_plaintext_secrets,
            reseal: !config.previous_secret_key_file.is_empty() || config.accept_plaintext_secrets,
        });
    }
    let clear = Sealing {
        sealer: None,
        accept_plaintext: false,
        reseal: false,
    };
    // Scoped keys (--api-keys-file) are a production server too, not the demo.
    let demo = config.api_key.is_none() && config.api_keys_file.is_none();
    match database {
        Database::Memory => Ok(clear),
        Database::Sqlite(path) if demo => {
            let key_path = demo_key_file(path)?;
            tracing::warn!(
                key = %key_path.display(),
                "demo: secrets sealed with a key generated next to the database; \
                 in production pass your own --secret-key-file"
            );
            Ok(Sealing {
                sealer: Some(Arc::new(read_key("the demo's secret key", &key_path)?)),
                // A demo database written before the key existed still opens, and
                // its rows are sealed after start.
                accept_plaintext: true,
                reseal: true,
            })
        }
        _ if demo || config.allow_plaintext_secrets => {
            tracing::warn!("secrets are stored in the clear: set --secret-key-file to seal them");
            Ok(clear)
        }
        _ => Err(
            "a server on its own API key seals secrets at rest: pass --secret-key-file \
             (64 hex digits, e.g. `openssl rand -hex 32`), or --allow-plaintext-secrets to \
             store them in the clear"
                .to_owned(),
        ),
    }
}

/// `verify-server api-keys create|list|revoke`: a new key's sid and secret come
/// from the OS random number generator, its date from the system clock.
fn api_keys_command(command: &ApiKeysCommand) -> std::process::ExitCode {
    let now = match verify_engine::Clock::now(&verify_engine::SystemClock::new()) {
        Ok(now) => now,
        Err(error) => {
            eprintln!("verify-server api-keys: the system clock failed: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match verify_server::api_keys::run_command(command, now, &mut rand_core::OsRng, &mut out) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("verify-server api-keys: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `verify-server secrets generate-key|reseal`: one line on stdout and exit 0, or
/// a message on stderr and exit 1.
async fn secrets_command(config: &Config, command: &SecretsCommand) -> std::process::ExitCode {
    let done = match command {
        SecretsCommand::GenerateKey { out } => write_new_key(out).map(|()| {
            format!(
                "a new secret key is in {} (mode 0600): pass it as --secret-key-file",
                out.display()
            )
        }),
        SecretsCommand::Reseal => reseal(config).await.map(|rows| {
            format!(
                "resealed {rows} {} (factors and webhooks) under --secret-key-file {}",
                if rows == 1 { "row" } else { "rows" },
                config
                    .secret_key_file
                    .as_deref()
                    .unwrap_or(std::path::Path::new("?"))
                    .display()
            )
        }),
        other => Err(format!("unsupported command {other:?}")),
    };
    match done {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("verify-server secrets: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `verify-server secrets reseal`: the store of --database opened and migrated with
/// the server's sealing (--secret-key-file required), then every row rewritten
/// under the current key; the rows rewritten.
async fn reseal(config: &Config) -> Result<u64, String> {
    if config.secret_key_file.is_none() {
        return Err(
            "reseal needs --secret-key-file (the key to seal under) and, for a \
                    rotation, --previous-secret-key-file (the key the rows are sealed with now)"
                .to_owned(),
        );
    }
    let database = Database::parse(&config.database)?;
    let Sealing {
        sealer,
        accept_plaintext,
        ..
    } = sealing(config, &database)?;
    let failed = |error: verify_engine::store::StoreError| {
        let hint = if matches!(error, verify_engine::store::StoreError::Corrupt { .. }) {
            " (a secret that no given key opens: is the key it was sealed with among \
             --secret-key-file and --previous-secret-key-file? Rows resealed before it \
             are under --secret-key-file now: keep that key)"
        } else {
            ""
        };
        format!("resealing failed: {error}{hint}")
    };
    let store_options = config.store_options();
    match database {
        Database::Memory => {
            Err("--database memory keeps nothing at rest: there is nothing to reseal".to_owned())
        }
        Database::Sqlite(path) => {
            // Opening would create an empty database: a mistyped path would then
            // "succeed" with 0 rows.
            if !std::path::Path::new(&path).exists() {
                return Err(format!("{path}: no such database file"));
            }
            let store = verify_store_sql::SqliteStore::open_with_options(&path, &store_options)
                .await
                .map_err(|e| format!("opening {path}: {e}"))?;
            let store = sealed!(store, sealer, accept_plaintext);
            let resealed = match store.migrate().await {
                Ok(()) => store.reseal_secrets().await.map_err(failed),
                Err(e) => Err(format!("migrating {path}: {e}")),
            };
            // Checkpoints the write-ahead log: the file alone holds the rows.
            store.close().await;
            resealed
        }
        Database::Postgres(url) => {
            let store = verify_store_sql::PgStore::connect_with_options(&url, &store_options)
                .await
                .map_err(|e| format!("connecting to PostgreSQL: {e}"))?;
            let store = sealed!(store, sealer, accept_plaintext);
            let resealed = match store.migrate().await {
                Ok(()) => store.reseal_secrets().await.map_err(failed),
                Err(e) => Err(format!("migrating PostgreSQL: {e}")),
            };
            store.close().await;
            resealed
        }
        other => Err(format!("unsupported database {other:?}")),
    }
}

async fn run(config: Config) -> Result<(), String> {
    let database = Database::parse(&config.database)?;
    let Sealing {
        sealer,
        accept_plaintext,
        reseal,
    } = sealing(&config, &database)?;
    let store_options = config.store_options();
    // After a key rotation (or with plaintext rows accepted), every row is rewritten
    // under the current key in the background while the server serves.
    macro_rules! resealed {
        ($store:expr) => {
            if reseal {
                let store = $store.clone();
                tokio::spawn(async move {
                    match store.reseal_secrets().await {
                        Ok(rows) => tracing::info!(
                            rows,
                            "every secret is now sealed under --secret-key-file: \
                             --previous-secret-key-file and --accept-plaintext-secrets \
                             can be dropped"
                        ),
                        Err(error) => tracing::error!(%error, "resealing secrets failed"),
                    }
                });
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
            serve(config, verify_engine::store::MemoryStore::new(), None).await
        }
        Database::Sqlite(path) => {
            let store = verify_store_sql::SqliteStore::open_with_options(&path, &store_options)
                .await
                .map_err(|e| format!("opening {path}: {e}"))?;
            let store = sealed!(store, sealer, accept_plaintext);
            store
                .migrate()
                .await
                .map_err(|e| format!("migrating {path}: {e}"))?;
            resealed!(store);
            let served = serve(config, store.clone(), None).await;
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
            let store = sealed!(store, sealer, accept_plaintext);
            store
                .migrate()
                .await
                .map_err(|e| format!("migrating PostgreSQL: {e}"))?;
            resealed!(store);
            // Processes sharing the database deliver the outbox one at a time.
            let leader: Arc<dyn delivery::DeliveryLeader> =
                Arc::new(delivery::PgDeliveryLeader::new(store.clone()));
            let served = serve(config, store.clone(), Some(leader)).await;
            store.close().await;
            tracing::info!("store closed");
            served
        }
        other => Err(format!("unsupported database {other:?}")),
    }
}

async fn serve<S: Store + 'static>(
    config: Config,
    store: S,
    delivery_leader: Option<Arc<dyn delivery::DeliveryLeader>>,
) -> Result<(), String> {
    let api_keys = match &config.api_keys_file {
        Some(path) => {
            let keys = verify_server::api_keys::WatchedApiKeys::open(path)
                .map_err(|e| format!("--api-keys-file: {e}"))?;
            tracing::info!(
                file = %path.display(),
                keys = keys.current().len(),
                "API keys file read (re-read within a second of a change)"
            );
            Some(Arc::new(keys))
        }
        None => None,
    };
    let (credentials, demo_credentials) = match (&config.api_key, &config.api_secret) {
        (Some(key), Some(secret)) => (Credentials::new(key, secret), false),
        // Scoped keys configured: the public demo key would undo them.
        (None, None) if api_keys.is_some() => {
            tracing::info!("no --api-key: only the keys of --api-keys-file authenticate");
            (Credentials::none(), false)
        }
        (None, None) => {
            tracing::warn!(
                api_key = DEMO_API_KEY,
                api_secret = DEMO_API_SECRET,
                "NO API CREDENTIALS CONFIGURED: using the public demo key and secret. \
                 Anyone can call this server. Set --api-key and --api-secret."
            );
            (Credentials::new(DEMO_API_KEY, DEMO_API_SECRET), true)
        }
        _ => return Err("--api-key and --api-secret go together".to_owned()),
    };
    let base_url = config.base_url();
    let account_sid = verify_engine::model::AccountSid::parse(&config.account_sid)
        .map_err(|e| format!("--account-sid: {e}"))?;
    let clock: Arc<dyn verify_engine::Clock> = Arc::new(verify_engine::SystemClock::new());
    let engine_config = verify_engine::EngineConfig::new(account_sid)
        .with_code_guess_policy(config.guess_policy()?);
    let (engine_config, mds) = match (&config.mds_blob, &config.mds_root) {
        (Some(blob), Some(root)) => {
            let now = clock
                .now()
                .map_err(|e| format!("the system clock failed: {e}"))?;
            let (engine_config, watched, summary) =
                verify_server::mds::WatchedMds::open(engine_config, blob, root, now)?;
            tracing::info!(
                file = %blob.display(),
                serial = summary.serial,
                next_update = %summary.next_update,
                roots = summary.roots,
                refused_aaguids = summary.refused,
                "FIDO metadata BLOB read (re-read within a second of a change)"
            );
            (engine_config, Some(Arc::new(watched)))
        }
        _ => (engine_config, None),
    };
    if let Some(watched) = mds {
        tokio::spawn(watched.run(Arc::clone(&clock)));
    }
    let mut state = AppState::with_engine_config(
        store,
        engine_config,
        &base_url,
        credentials,
        clock,
        rand_core_os(),
    )
    .map_err(|e| format!("--base-url: {e}"))?;
    if let Some(keys) = api_keys {
        state = state.with_api_keys(keys);
    }
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
    let retention = config.challenge_retention()?;
    tracing::info!(
        hours = retention.keep().as_secs() / 3600,
        "challenges are kept this long after they expire"
    );
    tokio::spawn(verify_server::retention::run(Arc::clone(&state), retention));
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
            delivery_leader,
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
    options.idle_timeout = Duration::from_secs(config.idle_timeout_secs);
    options.max_connections = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
    options.body_read_timeout = Duration::from_secs(config.body_read_timeout_secs);
    options.more_info = config.more_info_url.clone();
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

/// The log filter from `RUST_LOG` (`info` when unset), and why it was refused if it
/// could not be read (then `info` too).
fn log_filter(directives: Option<&str>) -> (tracing_subscriber::filter::Targets, Option<String>) {
    let info = || {
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing_subscriber::filter::LevelFilter::INFO)
    };
    match directives.map(str::trim).filter(|text| !text.is_empty()) {
        None => (info(), None),
        Some(text) => match text.parse() {
            Ok(targets) => (targets, None),
            Err(error) => (info(), Some(error.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{log_filter, redact};
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn rust_log_takes_levels_and_target_directives_and_falls_back_to_info() {
        let (unset, none) = log_filter(None);
        assert!(none.is_none());
        assert!(unset.would_enable("verify_server::serve", &tracing::Level::INFO));
        assert!(!unset.would_enable("verify_server::serve", &tracing::Level::DEBUG));

        let (targets, error) = log_filter(Some("warn,verify_server::auth=debug"));
        assert!(error.is_none());
        assert!(targets.would_enable("verify_server::auth", &tracing::Level::DEBUG));
        assert!(!targets.would_enable("verify_server::serve", &tracing::Level::INFO));
        assert!(targets.would_enable("sqlx", &tracing::Level::WARN));

        let (fallback, error) = log_filter(Some("verify_server=loud"));
        assert!(error.is_some());
        assert_eq!(fallback.default_level(), Some(LevelFilter::INFO));
    }

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
