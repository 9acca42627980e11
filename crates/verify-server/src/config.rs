//! Configuration: command-line flags, each also read from an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The demo API key used when none is configured (printed with a warning).
pub const DEMO_API_KEY: &str = "demo-key";
/// The demo API secret used when none is configured (printed with a warning).
pub const DEMO_API_SECRET: &str = "demo-secret";

/// verify-server: the verification service's REST API (`/v2/Services/...`) over
/// an embedded store.
#[derive(Debug, Clone, Parser)]
#[command(name = "verify-server", version, about, long_about = None)]
#[non_exhaustive]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "VERIFY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Storage: `sqlite://PATH` (a file, created and migrated on start), `memory`
    /// (lost on exit), or `postgres://user@host/db` (migrated on start; no TLS).
    #[arg(
        long,
        env = "VERIFY_DATABASE",
        default_value = "sqlite://verify.db",
        global = true
    )]
    pub database: String,

    /// The API key clients send as the HTTP Basic username. Without it a demo key
    /// is used and a warning printed: never run a demo key in production.
    #[arg(long, env = "VERIFY_API_KEY")]
    pub api_key: Option<String>,

    /// The API secret clients send as the HTTP Basic password (see --api-key).
    #[arg(long, env = "VERIFY_API_SECRET", hide_env_values = true)]
    pub api_secret: Option<String>,

    /// A JSON file of scoped API keys (`verify-server api-keys create|list|revoke`
    /// writes it): each key acts on every service or on one, and clients send its
    /// sid (SK...) and secret as the HTTP Basic username and password. It holds
    /// the secrets' SHA-256 only. Read on start (a bad file stops the server), then
    /// again within a second of each change, so keys rotate without a restart (a
    /// file that then fails to parse keeps the keys read before, with an error
    /// logged). With it and no --api-key, the demo key is not used.
    #[arg(long, env = "VERIFY_API_KEYS_FILE", value_name = "PATH")]
    pub api_keys_file: Option<PathBuf>,

    /// A FIDO MDS3 metadata BLOB file (downloaded by you from the FIDO Alliance):
    /// its per-AAGUID attestation roots become the trust anchors of passkey
    /// registrations, and the authenticator models it reports revoked or
    /// compromised are refused whatever the service's attestation policy. Verified
    /// against --mds-root at start (a bad file stops the server), then re-read
    /// within a second of each change (a BLOB that then fails keeps the anchors
    /// read before, with an error logged).
    #[arg(
        long,
        env = "VERIFY_MDS_BLOB",
        value_name = "FILE",
        requires = "mds_root"
    )]
    pub mds_blob: Option<PathBuf>,

    /// The root certificate (PEM or DER) the --mds-blob signature must chain to:
    /// the FIDO Alliance's MDS root, which you obtain and trust yourself.
    #[arg(
        long,
        env = "VERIFY_MDS_ROOT",
        value_name = "FILE",
        requires = "mds_blob"
    )]
    pub mds_root: Option<PathBuf>,

    /// A command to run instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The public origin used in `url`, `links` and paging URLs, and by the demo
    /// page as its WebAuthn origin (RP ID = its host). Default:
    /// `http://localhost:<port>` when listening on a loopback address, else
    /// `http://<listen>` (`https://` with --tls-cert).
    #[arg(long, env = "VERIFY_BASE_URL")]
    pub base_url: Option<String>,

    /// Where the `more_info` of every error answer points: an absolute http(s) URL
    /// in which `{code}` stands for the error's code (e.g.
    /// `https://docs.example.com/errors/{code}`). Default: the code's row in the
    /// table of error codes of verify-engine's documentation on docs.rs.
    #[arg(
        long,
        env = "VERIFY_MORE_INFO_URL",
        value_name = "URL",
        default_value = crate::error::DEFAULT_MORE_INFO_URL
    )]
    pub more_info_url: crate::error::MoreInfo,

    /// The `account_sid` shown on every resource (AC + 32 hex).
    #[arg(
        long,
        env = "VERIFY_ACCOUNT_SID",
        default_value = "AC00000000000000000000000000000000"
    )]
    pub account_sid: String,

    /// Seconds between outbox polls of the webhook delivery task.
    #[arg(long, env = "VERIFY_WEBHOOK_POLL_SECS", default_value_t = 2)]
    pub webhook_poll_secs: u64,

    /// Do not run the outbox delivery task (webhooks and push notifications) in
    /// this process. Not needed for several processes on one PostgreSQL database:
    /// they deliver one at a time (an advisory lock elects the deliverer, and
    /// another takes over when it exits). With several processes on one SQLite
    /// file, give it to all but one.
    #[arg(long, env = "VERIFY_DISABLE_WEBHOOK_DELIVERY")]
    pub disable_webhook_delivery: bool,

    /// A PEM file of extra root certificates trusted for `https://` webhook
    /// receivers, in addition to the built-in Mozilla roots (for receivers with a
    /// private CA or a self-signed certificate). Read on start: an unreadable
    /// file, or one without a valid certificate, stops the server.
    #[arg(long, env = "VERIFY_WEBHOOK_CA_FILE", value_name = "PEM")]
    pub webhook_ca_file: Option<PathBuf>,

    /// Webhook destinations allowed although they are not public, for development
    /// or a receiver on a private network: exact host names (`localhost`) and IP
    /// addresses or CIDR ranges (`127.0.0.1`, `::1`, `10.1.0.0/16`), repeated or
    /// comma separated, every port. Without it, webhook URLs whose host is or
    /// resolves to a loopback, private, link-local, carrier-grade NAT, multicast,
    /// reserved or cloud metadata address are refused (400) and never connected to.
    #[arg(
        long,
        env = "VERIFY_WEBHOOK_ALLOW_DESTINATIONS",
        value_name = "HOST|CIDR",
        value_delimiter = ','
    )]
    pub webhook_allow_destination: Vec<crate::ssrf::AllowEntry>,

    /// A JSON file of APNs and FCM credentials (docs/push.md): push challenges'
    /// notifications are sent through the credential the service names in
    /// `Push.ApnCredentialSid` / `Push.FcmCredentialSid`. Read on start: an
    /// unreadable file, or an invalid credential, stops the server. Without it
    /// notifications are logged, not sent (devices poll).
    #[arg(long, env = "VERIFY_PUSH_CREDENTIALS", value_name = "JSON")]
    pub push_credentials: Option<PathBuf>,

    /// The web page at `/` and its demo backend under `/demo/` (a demo relying
    /// party for a "verify web demo" service). The demo endpoints are
    /// UNAUTHENTICATED, for local use: `auto` turns them on only while the server
    /// runs on the demo API key (no --api-key) and --base-url names a host (not an
    /// IP address), `on` always (start fails if it cannot be set up), `off` never.
    #[arg(long, env = "VERIFY_DEMO", value_enum, default_value_t = DemoMode::Auto)]
    pub demo: DemoMode,

    /// Serve HTTPS with this PEM certificate chain (with --tls-key). Read on start: a
    /// new certificate takes a restart. Plain HTTP is then not served on the port.
    #[arg(
        long,
        env = "VERIFY_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// Seal secrets at rest (TOTP seeds, push bindings, webhook signing secrets) in
    /// the SQLite or PostgreSQL store with AES-256-GCM under the key in this file: 64
    /// hex digits (32 bytes). Without it they are stored in the clear. Records
    /// written with a key cannot be read without it: keep the key safe and apart
    /// from the database.
    #[arg(
        long,
        env = "VERIFY_SECRET_KEY_FILE",
        value_name = "PATH",
        global = true
    )]
    pub secret_key_file: Option<PathBuf>,

    /// With --secret-key-file, still read secrets stored in the clear (a database
    /// written before the key was set; every write seals). Drop it once every row
    /// has been rewritten.
    #[arg(
        long,
        env = "VERIFY_ACCEPT_PLAINTEXT_SECRETS",
        requires = "secret_key_file",
        global = true
    )]
    pub accept_plaintext_secrets: bool,

    /// An older --secret-key-file key, still accepted for reading after a key
    /// rotation (repeated, at most 8). With it the server rewrites every sealed
    /// row under --secret-key-file in the background after start, and logs when it
    /// is done: then drop this flag.
    #[arg(
        long,
        env = "VERIFY_PREVIOUS_SECRET_KEY_FILES",
        value_name = "PATH",
        value_delimiter = ',',
        requires = "secret_key_file",
        global = true
    )]
    pub previous_secret_key_file: Vec<PathBuf>,

    /// Store secrets in the clear in a SQLite or PostgreSQL database although the
    /// server runs on its own API key. Without a --secret-key-file such a server
    /// refuses to start; the demo (no --api-key) on SQLite generates a key next to
    /// the database file instead.
    #[arg(
        long,
        env = "VERIFY_ALLOW_PLAINTEXT_SECRETS",
        conflicts_with = "secret_key_file"
    )]
    pub allow_plaintext_secrets: bool,

    /// Seconds a client gets to send a request's header block, counted from the
    /// connection's start for its first request and from the request's first byte
    /// for later ones on a keep-alive connection; then the connection is closed.
    #[arg(long, env = "VERIFY_HEADER_READ_TIMEOUT_SECS",
          default_value_t = crate::serve::DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout_secs: u64,

    /// Seconds a keep-alive connection may sit with no request after its last
    /// answer (counted from the answer's last byte written); then the server closes
    /// it. Behind a load balancer that reuses connections, set it above the
    /// balancer's own idle timeout.
    #[arg(long, env = "VERIFY_IDLE_TIMEOUT_SECS",
          default_value_t = crate::serve::DEFAULT_IDLE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub idle_timeout_secs: u64,

    /// Seconds a client gets to send a request's whole body once its header block
    /// is read; then it is answered 408 (code 20408) and the connection closed.
    #[arg(long, env = "VERIFY_BODY_READ_TIMEOUT_SECS",
          default_value_t = crate::serve::DEFAULT_BODY_READ_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub body_read_timeout_secs: u64,

    /// Requests per minute per client IP address for every request that does not
    /// carry the API key (push devices, enrollment, failed authentication); past
    /// it, 429 with `Retry-After` (code 20429). 0 turns the limit off. Loopback
    /// clients are exempt while the web demo is served. Behind a reverse proxy
    /// every client is the proxy: limit at the proxy instead.
    #[arg(long, env = "VERIFY_CLIENT_RATE_LIMIT_PER_MIN", value_name = "N",
          default_value_t = crate::rate_limit::DEFAULT_REQUESTS_PER_MINUTE)]
    pub client_rate_limit_per_min: u32,

    /// Requests a client may send at once before --client-rate-limit-per-min
    /// applies.
    #[arg(long, env = "VERIFY_CLIENT_RATE_LIMIT_BURST", value_name = "N",
          default_value_t = crate::rate_limit::DEFAULT_BURST,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub client_rate_limit_burst: u32,

    /// Connections served at once; past it new connections wait (and a warning is
    /// logged) until one closes.
    #[arg(long, env = "VERIFY_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "VERIFY_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Milliseconds a request waits for a database connection (SQLite or
    /// PostgreSQL; connecting included, and on SQLite also the wait for another
    /// process's write lock) before it is answered 503 with `Retry-After` (code
    /// 20503). The default, 5000, rides out a moment of contention or a failover
    /// yet answers well before HTTP clients and load balancers give up (sqlx's own
    /// default would hold every request for 30 s during an outage).
    #[arg(long, env = "VERIFY_DB_ACQUIRE_TIMEOUT_MS", value_name = "MS",
          default_value_t = DEFAULT_DB_ACQUIRE_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_DB_ACQUIRE_TIMEOUT_MS),
          global = true)]
    pub db_acquire_timeout_ms: u64,

    /// PostgreSQL: the most connections this process opens. The default, 16, keeps
    /// a busy process's requests from queueing for a connection while several
    /// processes stay well under PostgreSQL's default `max_connections` of 100.
    #[arg(long, env = "VERIFY_DB_MAX_CONNECTIONS", value_name = "N",
          default_value_t = verify_store_sql::DEFAULT_PG_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=10_000),
          global = true)]
    pub db_max_connections: u32,

    /// SQLite: connections that serve plain reads beside the one writer (WAL mode);
    /// 0 sends every operation through the writer. The default is 4
    /// (crates/verify-store-sql/benches/approvals.rs measures it).
    #[arg(long, env = "VERIFY_SQLITE_READERS", value_name = "N",
          default_value_t = verify_store_sql::DEFAULT_SQLITE_READERS,
          value_parser = clap::value_parser!(u32).range(0..=64),
          global = true)]
    pub sqlite_readers: u32,

    /// Consecutive wrong TOTP codes (across a factor's challenges) that lock the
    /// factor (docs/security-model.md, "TOTP guessing budget"). With the default,
    /// 10, and --totp-lock-secs 3600, at most 34 codes are compared a day.
    #[arg(long, env = "VERIFY_TOTP_LOCK_AFTER", value_name = "N",
          default_value_t = verify_engine::model::guessing::DEFAULT_LOCK_AFTER_FAILURES,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(verify_engine::model::guessing::MAX_LOCK_AFTER_FAILURES)))]
    pub totp_lock_after: u32,

    /// Seconds a TOTP factor stays locked after --totp-lock-after wrong codes (and
    /// after each wrong code once a lock has ended), 60..=2592000.
    #[arg(long, env = "VERIFY_TOTP_LOCK_SECS", value_name = "SECS",
          default_value_t = verify_engine::model::guessing::DEFAULT_LOCK_DURATION.as_secs(),
          value_parser = clap::value_parser!(u64).range(
              verify_engine::model::guessing::MIN_LOCK_DURATION.as_secs()..=verify_engine::model::guessing::MAX_LOCK_DURATION.as_secs()))]
    pub totp_lock_secs: u64,

    /// Hours a challenge is kept after its expiration date (answered or not), then
    /// removed by an hourly pass; 24..=876000 (a day to a hundred years). The
    /// default, 720, keeps 30 days.
    #[arg(long, env = "VERIFY_CHALLENGE_RETENTION_HOURS", value_name = "HOURS",
          default_value_t = verify_engine::DEFAULT_RETENTION.as_secs() / 3600,
          value_parser = clap::value_parser!(u64).range(
              verify_engine::MIN_RETENTION.as_secs() / 3600..=MAX_RETENTION_HOURS))]
    pub challenge_retention_hours: u64,
}

/// The longest `--challenge-retention-hours`: a hundred years (keep everything).
pub const MAX_RETENTION_HOURS: u64 = 876_000;

/// `--db-acquire-timeout-ms` by default: verify-store-sql's
/// [`DEFAULT_ACQUIRE_TIMEOUT`](verify_store_sql::DEFAULT_ACQUIRE_TIMEOUT), 5 s.
pub const DEFAULT_DB_ACQUIRE_TIMEOUT_MS: u64 = 5_000;

/// The largest `--db-acquire-timeout-ms`: five minutes. Past that a request has
/// long been given up by its client; a longer wait only holds connections open.
pub const MAX_DB_ACQUIRE_TIMEOUT_MS: u64 = 300_000;

/// The commands of the server binary (without one it serves).
#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Create, list and revoke the scoped API keys of an API keys file
    /// (--api-keys-file). A running server picks the change up within a second.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Make a sealing key, or reseal every stored secret under --secret-key-file
    /// (a key rotation). `reseal` takes the server's --database,
    /// --secret-key-file, --previous-secret-key-file, --accept-plaintext-secrets
    /// and pool flags, and their environment variables, as the server does.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

/// `verify-server secrets ...`.
#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum SecretsCommand {
    /// Write a new random AES-256-GCM key (64 hex digits, from the OS random
    /// number generator) to a new file, readable by its owner only (mode 0600), for
    /// --secret-key-file. An existing file is never overwritten.
    GenerateKey {
        /// The file to create.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Rewrite every factor and webhook row of --database with its secrets sealed
    /// under --secret-key-file, opening them with that key or a
    /// --previous-secret-key-file (or in the clear, with
    /// --accept-plaintext-secrets); migrates the schema first, as the server does.
    /// Prints the number of rows rewritten. Fails, naming the row, on a secret no
    /// given key opens (rows rewritten before it stay under the new key). Servers
    /// running meanwhile must already read the new key (--secret-key-file NEW
    /// --previous-secret-key-file OLD).
    Reseal,
}

/// `verify-server api-keys ...`.
#[derive(Debug, Clone, clap::Subcommand)]
#[non_exhaustive]
pub enum ApiKeysCommand {
    /// Create a key (the file too, if missing) and print its sid and secret: the
    /// secret is shown this once, the file keeps its SHA-256 only.
    Create {
        /// The API keys file.
        #[arg(long, env = "VERIFY_API_KEYS_FILE", value_name = "PATH")]
        file: PathBuf,
        /// The one service the key may act on; without it, every service.
        #[arg(long, value_name = "VA...", value_parser = parse_service_sid)]
        service: Option<verify_engine::model::ServiceSid>,
        /// A name for the key, shown by `list` (at most 64 characters).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the keys: sid, scope, creation date, name (never a secret).
    List {
        /// The API keys file.
        #[arg(long, env = "VERIFY_API_KEYS_FILE", value_name = "PATH")]
        file: PathBuf,
    },
    /// Revoke a key: remove it from the file.
    Revoke {
        /// The API keys file.
        #[arg(long, env = "VERIFY_API_KEYS_FILE", value_name = "PATH")]
        file: PathBuf,
        /// The key's sid.
        #[arg(value_name = "SK...", value_parser = parse_key_sid)]
        sid: crate::api_keys::ApiKeySid,
    },
}

fn parse_service_sid(text: &str) -> Result<verify_engine::model::ServiceSid, String> {
    verify_engine::model::ServiceSid::parse(text)
        .map_err(|_| "not a service sid (VA + 32 hex digits)".to_owned())
}

fn parse_key_sid(text: &str) -> Result<crate::api_keys::ApiKeySid, String> {
    crate::api_keys::ApiKeySid::parse(text).map_err(|e| e.to_string())
}

/// When the web page and its demo backend are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum DemoMode {
    /// Only while the server runs on the demo API credentials.
    Auto,
    /// Always (the demo endpoints stay unauthenticated).
    On,
    /// Never: `/` answers the JSON index.
    Off,
}

impl Config {
    /// `--base-url`, or by default `http://localhost:<port>` for a loopback or
    /// unspecified listen address (WebAuthn needs a host name, not an IP, as its
    /// relying party id), else `http://<listen>`.
    #[must_use]
    pub fn base_url(&self) -> String {
        if let Some(url) = &self.base_url {
            return url.clone();
        }
        let scheme = if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let ip = self.listen.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("{scheme}://localhost:{}", self.listen.port())
        } else {
            format!("{scheme}://{}", self.listen)
        }
    }

    /// How the SQL stores use the database: `--db-acquire-timeout-ms` as the pool's
    /// acquire timeout and SQLite's busy timeout, `--db-max-connections` and
    /// `--sqlite-readers` as the pool sizes.
    #[must_use]
    pub fn store_options(&self) -> verify_store_sql::StoreOptions {
        let wait = std::time::Duration::from_millis(self.db_acquire_timeout_ms);
        verify_store_sql::StoreOptions::new()
            .with_acquire_timeout(wait)
            .with_busy_timeout(wait)
            .with_max_connections(self.db_max_connections)
            .with_sqlite_readers(self.sqlite_readers)
    }

    /// The per-client-IP limit of --client-rate-limit-per-min and
    /// --client-rate-limit-burst (`None` when turned off), loopback exempt when
    /// `demo` is served.
    #[must_use]
    pub fn client_rate_limit(&self, demo: bool) -> Option<crate::rate_limit::RateLimitOptions> {
        let per_minute = std::num::NonZeroU32::new(self.client_rate_limit_per_min)?;
        let burst = std::num::NonZeroU32::new(self.client_rate_limit_burst)
            .unwrap_or(std::num::NonZeroU32::MIN);
        Some(crate::rate_limit::RateLimitOptions::new(
            per_minute, burst, demo,
        ))
    }

    /// The challenge retention of --challenge-retention-hours.
    ///
    /// # Errors
    /// A message naming the flag when it is under a day (clap's range already
    /// refuses it).
    pub fn challenge_retention(&self) -> Result<verify_engine::Retention, String> {
        verify_engine::Retention::new(std::time::Duration::from_secs(
            self.challenge_retention_hours.saturating_mul(3600),
        ))
        .map_err(|e| format!("--challenge-retention-hours: {e}"))
    }

    /// The TOTP guessing policy of --totp-lock-after and --totp-lock-secs.
    ///
    /// # Errors
    /// A message naming the flag whose value is out of range.
    pub fn guess_policy(&self) -> Result<verify_engine::model::GuessPolicy, String> {
        verify_engine::model::GuessPolicy::new(
            self.totp_lock_after,
            std::time::Duration::from_secs(self.totp_lock_secs),
        )
        .map_err(|e| format!("--totp-lock-after / --totp-lock-secs: {e}"))
    }

    /// Whether the demo is served, given whether the demo API credentials are in use.
    #[must_use]
    pub const fn demo_enabled(&self, demo_credentials: bool) -> bool {
        match self.demo {
            DemoMode::Auto => demo_credentials,
            DemoMode::On => true,
            DemoMode::Off => false,
        }
    }
}

/// Where state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Database {
    /// In memory.
    Memory,
    /// A SQLite file.
    Sqlite(String),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// Parses `--database`.
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "memory" {
            return Ok(Self::Memory);
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path".to_owned());
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(text.to_owned()));
        }
        Err("--database must be sqlite://PATH, memory or postgres://...".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_forms() {
        assert_eq!(Database::parse("memory"), Ok(Database::Memory));
        assert_eq!(
            Database::parse("sqlite://verify.db"),
            Ok(Database::Sqlite("verify.db".into()))
        );
        assert!(matches!(
            Database::parse("postgres://u@h/db"),
            Ok(Database::Postgres(_))
        ));
        assert!(Database::parse("sqlite://").is_err());
        assert!(Database::parse("mysql://x").is_err());
    }

    #[test]
    fn flags_parse() {
        let config = Config::try_parse_from([
            "verify-server",
            "--listen",
            "0.0.0.0:9000",
            "--database",
            "memory",
        ])
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database, "memory");
        assert!(Config::try_parse_from(["verify-server", "--listen", "nope"]).is_err());
        assert_eq!(config.webhook_ca_file, None);
        let config =
            Config::try_parse_from(["verify-server", "--webhook-ca-file", "/etc/receiver-ca.pem"])
                .unwrap();
        assert_eq!(
            config.webhook_ca_file,
            Some(PathBuf::from("/etc/receiver-ca.pem"))
        );
    }

    #[test]
    fn more_info_url_defaults_to_the_engine_docs_and_is_checked() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(config.more_info_url, crate::error::MoreInfo::default());
        let config = Config::try_parse_from([
            "verify-server",
            "--more-info-url",
            "https://docs.example.com/errors/{code}",
        ])
        .unwrap();
        assert_eq!(
            config.more_info_url.link(60200),
            "https://docs.example.com/errors/60200"
        );
        assert!(
            Config::try_parse_from(["verify-server", "--more-info-url", "errors/{code}"]).is_err()
        );
    }

    #[test]
    fn webhook_allow_destinations_parse() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert!(config.webhook_allow_destination.is_empty());
        let config = Config::try_parse_from([
            "verify-server",
            "--webhook-allow-destination",
            "localhost,127.0.0.0/8",
            "--webhook-allow-destination",
            "::1",
        ])
        .unwrap();
        let shown: Vec<String> = config
            .webhook_allow_destination
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["localhost", "127.0.0.0/8", "::1/128"]);
        for bad in ["10.1.2.3/8", "localhost:8080", "no such host"] {
            assert!(
                Config::try_parse_from(["verify-server", "--webhook-allow-destination", bad])
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn totp_lock_flags_default_to_the_policy_and_are_bounded() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(
            config.guess_policy().unwrap(),
            verify_engine::model::GuessPolicy::default()
        );
        let config = Config::try_parse_from([
            "verify-server",
            "--totp-lock-after",
            "5",
            "--totp-lock-secs",
            "86400",
        ])
        .unwrap();
        let policy = config.guess_policy().unwrap();
        assert_eq!(
            (policy.lock_after(), policy.lock_for().as_secs()),
            (5, 86400)
        );
        assert_eq!(policy.max_checks_per_day(), 6);
        for bad in [
            ["--totp-lock-after", "0"],
            ["--totp-lock-after", "101"],
            ["--totp-lock-secs", "59"],
        ] {
            assert!(
                Config::try_parse_from(["verify-server", bad[0], bad[1]]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn client_rate_limit_flags() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        let limit = config.client_rate_limit(false).unwrap();
        assert_eq!(
            (
                limit.per_minute.get(),
                limit.burst.get(),
                limit.exempt_loopback
            ),
            (600, 60, false)
        );
        assert!(config.client_rate_limit(true).unwrap().exempt_loopback);
        let off =
            Config::try_parse_from(["verify-server", "--client-rate-limit-per-min", "0"]).unwrap();
        assert!(off.client_rate_limit(false).is_none());
        assert!(
            Config::try_parse_from(["verify-server", "--client-rate-limit-burst", "0"]).is_err()
        );
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(config.body_read_timeout_secs, 10);
    }

    #[test]
    fn read_and_idle_timeouts_default_to_serve_and_are_bounded() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(
            (
                config.header_read_timeout_secs,
                config.body_read_timeout_secs,
                config.idle_timeout_secs
            ),
            (
                crate::serve::DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
                crate::serve::DEFAULT_BODY_READ_TIMEOUT.as_secs(),
                crate::serve::DEFAULT_IDLE_TIMEOUT.as_secs()
            )
        );
        assert!(crate::serve::DEFAULT_IDLE_TIMEOUT <= std::time::Duration::from_secs(30));
        let config = Config::try_parse_from(["verify-server", "--idle-timeout-secs", "5"]).unwrap();
        assert_eq!(config.idle_timeout_secs, 5);
        for flag in [
            "--idle-timeout-secs",
            "--header-read-timeout-secs",
            "--body-read-timeout-secs",
        ] {
            for bad in ["0", "301", "soon"] {
                assert!(
                    Config::try_parse_from(["verify-server", flag, bad]).is_err(),
                    "{flag} {bad}"
                );
            }
        }
    }

    #[test]
    fn default_base_url_is_a_host_name_on_loopback() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(config.base_url(), "http://localhost:8080");
        let config =
            Config::try_parse_from(["verify-server", "--listen", "10.1.2.3:9000"]).unwrap();
        assert_eq!(config.base_url(), "http://10.1.2.3:9000");
        let config =
            Config::try_parse_from(["verify-server", "--base-url", "https://verify.example.com"])
                .unwrap();
        assert_eq!(config.base_url(), "https://verify.example.com");
    }

    #[test]
    fn challenge_retention_defaults_to_30_days_and_is_bounded() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(
            config.challenge_retention().unwrap().keep(),
            verify_engine::DEFAULT_RETENTION
        );
        let config =
            Config::try_parse_from(["verify-server", "--challenge-retention-hours", "24"]).unwrap();
        assert_eq!(
            config.challenge_retention().unwrap().keep(),
            verify_engine::MIN_RETENTION
        );
        for bad in ["23", "0", "876001"] {
            assert!(
                Config::try_parse_from(["verify-server", "--challenge-retention-hours", bad])
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn pool_sizes_default_to_the_stores_and_are_bounded() {
        let options = Config::try_parse_from(["verify-server"])
            .unwrap()
            .store_options();
        assert_eq!(
            options.max_connections(),
            verify_store_sql::DEFAULT_PG_MAX_CONNECTIONS
        );
        assert_eq!(
            options.sqlite_readers(),
            verify_store_sql::DEFAULT_SQLITE_READERS
        );
        let options = Config::try_parse_from([
            "verify-server",
            "--db-max-connections",
            "40",
            "--sqlite-readers",
            "0",
        ])
        .unwrap()
        .store_options();
        assert_eq!(
            (options.max_connections(), options.sqlite_readers()),
            (40, 0)
        );
        for (flag, bad) in [
            ("--db-max-connections", "0"),
            ("--db-max-connections", "10001"),
            ("--sqlite-readers", "65"),
            ("--sqlite-readers", "-1"),
        ] {
            assert!(
                Config::try_parse_from(["verify-server", flag, bad]).is_err(),
                "{flag} {bad}"
            );
        }
    }

    #[test]
    fn db_acquire_timeout_defaults_to_the_stores_and_is_bounded() {
        let config = Config::try_parse_from(["verify-server"]).unwrap();
        assert_eq!(
            config.store_options().acquire_timeout(),
            verify_store_sql::DEFAULT_ACQUIRE_TIMEOUT
        );
        let config =
            Config::try_parse_from(["verify-server", "--db-acquire-timeout-ms", "250"]).unwrap();
        let options = config.store_options();
        assert_eq!(
            options.acquire_timeout(),
            std::time::Duration::from_millis(250)
        );
        assert_eq!(
            options.busy_timeout(),
            std::time::Duration::from_millis(250)
        );
        for bad in ["0", "300001", "soon"] {
            assert!(
                Config::try_parse_from(["verify-server", "--db-acquire-timeout-ms", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn demo_modes() {
        let auto = Config::try_parse_from(["verify-server"]).unwrap();
        assert!(auto.demo_enabled(true));
        assert!(!auto.demo_enabled(false));
        let on = Config::try_parse_from(["verify-server", "--demo", "on"]).unwrap();
        assert!(on.demo_enabled(false));
        let off = Config::try_parse_from(["verify-server", "--demo", "off"]).unwrap();
        assert!(!off.demo_enabled(true));
        assert!(Config::try_parse_from(["verify-server", "--demo", "maybe"]).is_err());
    }

    #[test]
    fn secrets_subcommands_take_the_server_flags_before_or_after_them() {
        for args in [
            &[
                "verify-server",
                "secrets",
                "reseal",
                "--database",
                "sqlite:///var/lib/verify.db",
                "--secret-key-file",
                "new.key",
                "--previous-secret-key-file",
                "old.key,older.key",
                "--sqlite-readers",
                "0",
            ][..],
            &[
                "verify-server",
                "--database",
                "sqlite:///var/lib/verify.db",
                "--secret-key-file",
                "new.key",
                "--previous-secret-key-file",
                "old.key,older.key",
                "--sqlite-readers",
                "0",
                "secrets",
                "reseal",
            ][..],
        ] {
            let config = Config::try_parse_from(args).unwrap();
            assert!(
                matches!(
                    config.command,
                    Some(Command::Secrets(SecretsCommand::Reseal))
                ),
                "{args:?}"
            );
            assert_eq!(config.database, "sqlite:///var/lib/verify.db");
            assert_eq!(config.secret_key_file, Some(PathBuf::from("new.key")));
            assert_eq!(
                config.previous_secret_key_file,
                [PathBuf::from("old.key"), PathBuf::from("older.key")]
            );
            assert_eq!(config.store_options().sqlite_readers(), 0);
        }
        // As for the server, a previous key needs the current one.
        assert!(
            Config::try_parse_from([
                "verify-server",
                "secrets",
                "reseal",
                "--previous-secret-key-file",
                "old.key"
            ])
            .is_err()
        );
        let config =
            Config::try_parse_from(["verify-server", "secrets", "generate-key", "--out", "k"])
                .unwrap();
        assert!(matches!(
            config.command,
            Some(Command::Secrets(SecretsCommand::GenerateKey { out })) if out.as_os_str() == "k"
        ));
        assert!(Config::try_parse_from(["verify-server", "secrets", "generate-key"]).is_err());
    }

    #[test]
    fn api_keys_subcommands_parse_beside_the_server_flags() {
        let config = Config::try_parse_from(["verify-server", "--database", "memory"]).unwrap();
        assert!(config.command.is_none());
        assert_eq!(config.api_keys_file, None);
        let config =
            Config::try_parse_from(["verify-server", "--api-keys-file", "/etc/verify/keys.json"])
                .unwrap();
        assert_eq!(
            config.api_keys_file,
            Some(PathBuf::from("/etc/verify/keys.json"))
        );
        let service = "VA0123456789abcdef0123456789abcdef";
        let config = Config::try_parse_from([
            "verify-server",
            "api-keys",
            "create",
            "--file",
            "keys.json",
            "--service",
            service,
            "--name",
            "billing",
        ])
        .unwrap();
        let Some(Command::ApiKeys(ApiKeysCommand::Create {
            file,
            service: Some(sid),
            name,
        })) = config.command
        else {
            panic!("{:?}", config.command);
        };
        assert_eq!(
            (file, sid.to_string(), name.as_str()),
            (PathBuf::from("keys.json"), service.to_owned(), "billing")
        );
        let config = Config::try_parse_from([
            "verify-server",
            "api-keys",
            "revoke",
            "--file",
            "keys.json",
            "SK0123456789abcdef0123456789abcdef",
        ])
        .unwrap();
        assert!(matches!(
            config.command,
            Some(Command::ApiKeys(ApiKeysCommand::Revoke { .. }))
        ));
        for bad in [
            &[
                "verify-server",
                "api-keys",
                "create",
                "--file",
                "k",
                "--service",
                "AC0123456789abcdef0123456789abcdef",
            ][..],
            &[
                "verify-server",
                "api-keys",
                "revoke",
                "--file",
                "k",
                "SK0123",
            ],
        ] {
            assert!(Config::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
