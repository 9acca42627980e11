//! HTTP load test of the reference server (bounded, loopback only).
//!
//! ```text
//! cargo bench -p verify-server --bench load [-- --secs N --concurrency C --sqlite]
//! cargo bench -p verify-server --bench load -- --database postgres://... [--servers N]
//! ```
//!
//! Starts the server in this process on `127.0.0.1:0` (MemoryStore; with `--sqlite`
//! a SQLite file in the temp directory, removed afterwards; with `--database URL` a
//! PostgreSQL [`PgStore`](verify_store_sql::PgStore) in a throwaway schema), creates a
//! service and, per client, an identity with a push factor enrolled exactly as the
//! SDK does it (access token, factor created with a P-256 device key, verified with a
//! request JWT). Then `C` concurrent keep-alive HTTP/1.1 clients run for `N` seconds,
//! each alternating:
//!
//! - a push cycle: the host creates a challenge (API key), the device fetches it
//!   (request JWT) and approves it with a compact JWS signed by its key;
//! - a TOTP cycle: the host creates a TOTP factor for a fresh identity, verifies it
//!   with the current code and creates a challenge with the next step's code, which
//!   approves it (TOTP codes are single-use per factor, so each approval needs its
//!   own factor: one factor can approve at most once per time step).
//!
//! Every response is checked (status, resource status, signature-fields header, the
//! approved challenge's sid); any mismatch counts as an error and makes the run fail.
//! Every challenge must be approved exactly once: a 409 (conflict) on any request is
//! an error (and counted apart), and a challenge sid approved twice, across all
//! clients and servers, counts as a double approval and fails the run. Reports
//! requests/s, approved challenges/s (and push approvals/s) and p50/p90/p99/max
//! latency per request kind.
//!
//! Each server instance also runs the outbox delivery task as the binary does by
//! default (poll every 2 s; on PostgreSQL behind the advisory-lock leader, so one
//! instance delivers); no webhook is configured and push notifications are logged
//! (no subscriber here), so it only drains the outbox.
//!
//! PostgreSQL (`--database URL`, a `postgres://` URL; not with `--sqlite`): the bench
//! creates the schema `verify_load_<pid>_<unix secs>` on a plain connection, connects
//! each store with `search_path` set to it (a pool of
//! [`DEFAULT_PG_MAX_CONNECTIONS`](verify_store_sql::DEFAULT_PG_MAX_CONNECTIONS)
//! connections, the binary's default), migrates, and drops the schema
//! (`DROP SCHEMA ... CASCADE`) at the end, also after a failed run; so runs never see
//! each other's rows. `--servers N` (1..=4, default 1; more than 1 needs
//! `--database`) starts N independent server instances on one schema, each with its
//! own AppState, store pool and listener, the clients spread round-robin over them
//! (client `i` on instance `i % N`, for its enrollment too; the service is created
//! on instance 0): the stand-in for several server processes sharing one database,
//! though here they share one OS process and one tokio runtime (separate pools).
//! Against the throwaway cluster of `.ci/pg.sh`:
//!
//! ```text
//! eval "$(.ci/pg.sh start)"; cargo bench -p verify-server --bench load -- --database "$VERIFY_TEST_POSTGRES_URL" --concurrency 64 --secs 10
//! ```
//!
//! (add `--servers 3` for three instances, `--pool N` for another pool size;
//! `.ci/pg.sh stop` afterwards).
//!
//! The CPU ceiling: the clients run on their own tokio runtime, whose threads are
//! named `load-client`; every other thread of the process is the server's (its
//! runtime, the SQLite workers, the delivery task). The bench reads each thread's
//! time on a CPU (`/proc/self/task/*/schedstat`, nanoseconds) at the start and the
//! end of the measured interval and reports the server's and the clients' CPU per
//! request, and two ceilings: what the server alone could answer with every core of
//! the machine (cores / server CPU per request: the figure the issue's target is
//! about) and what this machine can do with the bench's clients on the same cores
//! (cores / all CPU per request); the achieved rate is given as a share of both.
//! Without `schedstat` (not Linux, or a kernel without it) the ceiling is left out.
//!
//! Bounds: `--secs` 1..=300 (default 10), `--concurrency` 1..=256 (default 16),
//! `--servers` 1..=4; a value out of range is an error (clap). Each client is one
//! hyper HTTP/1.1 client connection (`hyper::client::conn::http1`) over its own
//! keep-alive `TcpStream`, no pool, so the figures are the server's; response bodies
//! are read up to 1 MiB.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark binary: a broken setup should fail loudly"
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clap::Parser;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use verify_engine::store::Store;
use verify_server::{AppState, Credentials, delivery, router};
use verify_store_sql::sqlx::Connection as _;
use verify_store_sql::sqlx::postgres::{PgConnectOptions, PgConnection};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "load-key";
const SECRET: &str = "load-secret";
/// Largest response body read.
const MAX_BODY: usize = 1 << 20;

/// HTTP load test of the reference server (bounded, loopback only).
#[derive(Debug, Clone, Parser)]
struct Options {
    /// How long the clients run, in seconds (1..=300).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    secs: u64,
    /// Concurrent keep-alive clients (1..=256).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// A SQLite file in the temp directory (removed afterwards) instead of the MemoryStore.
    #[arg(long)]
    sqlite: bool,
    /// PostgreSQL at this `postgres://` URL, in a throwaway schema (dropped afterwards).
    #[arg(long, value_name = "URL", conflicts_with = "sqlite")]
    database: Option<String>,
    /// Independent server instances (1..=4) on the one database, clients round-robin
    /// (more than 1 needs --database).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=4))]
    servers: u8,
    /// Connections in each server instance's PostgreSQL pool (1..=256; default the
    /// binary's, `DEFAULT_PG_MAX_CONNECTIONS`); only with --database.
    #[arg(long, value_name = "N", requires = "database",
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pool: Option<u32>,
    /// What `cargo bench` passes (`--bench`); ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let options = Options::parse();
    if options.servers > 1 && options.database.is_none() {
        use clap::CommandFactory as _;
        Options::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--servers above 1 needs --database (instances share one PostgreSQL schema)",
            )
            .exit();
    }
    if let Some(url) = &options.database
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        use clap::CommandFactory as _;
        Options::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                "--database takes a postgres:// URL",
            )
            .exit();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("verify-server")
        .enable_all()
        .build()
        .unwrap();
    // The clients' own runtime, so that their CPU is told apart from the server's.
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()
        .unwrap();
    let clients = clients.handle().clone();
    let ok = runtime.block_on(async move {
        let clients = &clients;
        if let Some(url) = &options.database {
            run_postgres(&options, url, clients).await
        } else if options.sqlite {
            let path = std::env::temp_dir().join(format!(
                "verify-load-{}-{}.sqlite",
                std::process::id(),
                unix_now()
            ));
            let store = verify_store_sql::SqliteStore::open(&path).await.unwrap();
            store.migrate().await.unwrap();
            let name = format!("sqlite {}", path.display());
            let ok = run(&options, vec![(store, None)], &name, clients).await;
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
            ok
        } else {
            let store = verify_engine::store::MemoryStore::new();
            run(&options, vec![(store, None)], "memory", clients).await
        }
    });
    if !ok {
        std::process::exit(1);
    }
}

/// The run on PostgreSQL: a fresh schema, `--servers` stores (each its own pool)
/// with `search_path` set to it, and the schema dropped afterwards, also when the
/// run failed or panicked.
async fn run_postgres(options: &Options, url: &str, clients: &tokio::runtime::Handle) -> bool {
    let schema = format!("verify_load_{}_{}", std::process::id(), unix_now());
    let mut admin = PgConnection::connect(url).await.unwrap();
    verify_store_sql::sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let connect = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = options
        .pool
        .unwrap_or(verify_store_sql::DEFAULT_PG_MAX_CONNECTIONS);
    let mut stores = Vec::new();
    for _ in 0..options.servers {
        let store = verify_store_sql::PgStore::connect_with(connect.clone(), pool)
            .await
            .unwrap();
        // Every process migrates at start (serialized on an advisory lock).
        store.migrate().await.unwrap();
        stores.push(store);
    }
    let instances = stores
        .iter()
        .map(|store| {
            // Processes sharing the database deliver the outbox one at a time.
            let leader: Arc<dyn delivery::DeliveryLeader> =
                Arc::new(delivery::PgDeliveryLeader::new(store.clone()));
            (store.clone(), Some(leader))
        })
        .collect();
    let name = format!(
        "postgres (schema {schema}, {} server instance{}, {} connections each)",
        options.servers,
        if options.servers == 1 { "" } else { "s" },
        pool,
    );
    let task = {
        let options = options.clone();
        let clients = clients.clone();
        tokio::spawn(async move { run(&options, instances, &name, &clients).await })
    };
    let ok = match task.await {
        Ok(ok) => ok,
        Err(error) => {
            eprintln!("the run failed: {error}");
            false
        }
    };
    for store in &stores {
        store.close().await;
    }
    let mut admin = PgConnection::connect(url).await.unwrap();
    verify_store_sql::sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    ok
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One server instance per store (its own AppState, listener and delivery task), the
/// clients round-robin over them.
async fn run<S: Store + 'static>(
    options: &Options,
    stores: Vec<(S, Option<Arc<dyn delivery::DeliveryLeader>>)>,
    store_name: &str,
    clients: &tokio::runtime::Handle,
) -> bool {
    let mut addrs = Vec::new();
    let mut servers = Vec::new();
    for (store, leader) in stores {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clock: Arc<dyn verify_engine::Clock> = Arc::new(verify_engine::SystemClock::new());
        let state = Arc::new(
            AppState::new(
                store,
                verify_engine::model::AccountSid::parse(ACCOUNT).unwrap(),
                &format!("http://{addr}"),
                Credentials::new(KEY, SECRET),
                clock,
                rand_core::OsRng,
            )
            .unwrap(),
        );
        let client = delivery::WebhookClient::new(&delivery::DeliveryOptions::default()).unwrap();
        servers.push(tokio::spawn(delivery::run(
            Arc::clone(&state),
            client,
            Duration::from_secs(2),
            leader,
        )));
        servers.push(tokio::spawn(async move {
            axum::serve(listener, router(state)).await.unwrap();
        }));
        addrs.push(addr);
    }

    let mut setups = Vec::new();
    for addr in &addrs {
        setups.push(Client::connect(*addr).await);
    }
    let host = basic(KEY, SECRET);
    let service = setups[0]
        .call("POST", "/v2/Services", &host, &[("FriendlyName", "Load")])
        .await;
    assert_eq!(service.status, 201, "{}", service.json);
    let service = service.json["sid"].as_str().unwrap().to_owned();

    let mut workers = Vec::new();
    for index in 0..usize::from(options.concurrency) {
        let server = index % addrs.len();
        let device = enroll(&mut setups[server], &service, index).await;
        workers.push((addrs[server], device));
    }
    let listening = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "verify-server load test: {store_name} store, {} clients, {} s, loopback {listening} \
         (shared machine: figures are indicative)",
        options.concurrency, options.secs
    );

    let deadline = Instant::now() + Duration::from_secs(options.secs);
    let cpu_before = ThreadCpu::read();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, (addr, device)) in workers.into_iter().enumerate() {
        let service = service.clone();
        tasks.push(
            clients.spawn(async move { worker(addr, &service, index, device, deadline).await }),
        );
    }
    let mut total = Stats::default();
    for task in tasks {
        total.merge(task.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = ThreadCpu::read()
        .zip(cpu_before)
        .map(|(after, before)| after.since(&before));
    for server in servers {
        server.abort();
    }
    total.report(elapsed, cpu)
}

/// The name of the clients' runtime threads (see the module docs: every other
/// thread is the server's).
const CLIENT_THREAD: &str = "load-client";

/// Time on a CPU of this process's threads, server's and clients' apart.
#[derive(Debug, Clone, Copy)]
struct ThreadCpu {
    server: Duration,
    clients: Duration,
}

impl ThreadCpu {
    /// Sums `/proc/self/task/*/schedstat` (its first field: nanoseconds on a CPU)
    /// by thread name; `None` where the kernel does not provide it. A thread that
    /// ended between the two reads drops out of the second; the runtimes' threads
    /// live for the whole run, so the interval is not skewed by it.
    fn read() -> Option<Self> {
        let mut total = Self {
            server: Duration::ZERO,
            clients: Duration::ZERO,
        };
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let path = task.ok()?.path();
            let (Ok(name), Ok(stat)) = (
                std::fs::read_to_string(path.join("comm")),
                std::fs::read_to_string(path.join("schedstat")),
            ) else {
                continue;
            };
            let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
            let time = Duration::from_nanos(nanos);
            // `comm` is cut at 15 bytes: compare its start.
            if name.trim_end().starts_with(CLIENT_THREAD) {
                total.clients += time;
            } else {
                total.server += time;
            }
        }
        Some(total)
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            server: self.server.saturating_sub(before.server),
            clients: self.clients.saturating_sub(before.clients),
        }
    }
}

// ---- the device ---------------------------------------------------------------

struct Device {
    key: SigningKey,
    identity: String,
    factor: String,
    credential_sid: String,
    jwt: String,
    jwt_minted: Instant,
}

impl Device {
    /// `Authorization` as the SDK sends it: a request JWT re-minted every minute.
    fn auth(&mut self) -> String {
        if self.jwt.is_empty() || self.jwt_minted.elapsed() > Duration::from_secs(60) {
            let now = unix_now();
            let header = json!({
                "cty": "twilio-pba;v=1",
                "kid": self.credential_sid,
                "typ": "JWT",
                "alg": "ES256",
            });
            let claims = json!({"sub": ACCOUNT, "exp": now + 600, "nbf": now});
            self.jwt = sign_jws(&self.key, &header.to_string(), &claims.to_string());
            self.jwt_minted = Instant::now();
        }
        basic("token", &self.jwt)
    }
}

fn sign_jws(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn enroll(client: &mut Client, service: &str, index: usize) -> Device {
    let host = basic(KEY, SECRET);
    let identity = format!("load-push-{index:04}");
    let token = client
        .call(
            "POST",
            &format!("/v2/Services/{service}/AccessTokens"),
            &host,
            &[("Identity", &identity), ("FactorType", "push")],
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.json);
    let credential = token.json["token"].as_str().unwrap().to_owned();
    let key = SigningKey::random(&mut rand_core::OsRng);
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let created = client
        .call(
            "POST",
            &format!("/v2/Services/{service}/Entities/{identity}/Factors"),
            &basic("token", &credential),
            &[
                ("FactorType", "push"),
                ("FriendlyName", "load device"),
                ("Binding.PublicKey", &public_key),
                ("Binding.Alg", "ES256"),
                ("Config.AppId", "com.example.load"),
                ("Config.NotificationPlatform", "none"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let mut device = Device {
        key,
        identity,
        factor: created.json["sid"].as_str().unwrap().to_owned(),
        credential_sid: created.json["config"]["credential_sid"]
            .as_str()
            .unwrap()
            .to_owned(),
        jwt: String::new(),
        jwt_minted: Instant::now(),
    };
    let proof: DerSignature = device.key.sign(device.factor.as_bytes());
    let auth = device.auth();
    let verified = client
        .call(
            "POST",
            &format!(
                "/v2/Services/{service}/Entities/{}/Factors/{}",
                device.identity, device.factor
            ),
            &auth,
            &[("AuthPayload", &STANDARD.encode(proof.as_bytes()))],
        )
        .await;
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);
    device
}

// ---- the clients ----------------------------------------------------------------

async fn worker(
    addr: SocketAddr,
    service: &str,
    index: usize,
    mut device: Device,
    deadline: Instant,
) -> Stats {
    let mut client = Client::connect(addr).await;
    let mut stats = Stats::default();
    let host = basic(KEY, SECRET);
    let entity = format!("/v2/Services/{service}/Entities/{}", device.identity);
    let mut round = 0_u64;
    while Instant::now() < deadline {
        round += 1;
        // ---- push: create (host), fetch + approve (device) ----
        let created = stats
            .timed(
                "push challenge create",
                client.call(
                    "POST",
                    &format!("{entity}/Challenges"),
                    &host,
                    &[
                        ("FactorSid", &device.factor),
                        ("Details.Message", "Approve sign-in?"),
                        ("Details.Fields", r#"{"label":"IP","value":"192.0.2.1"}"#),
                    ],
                ),
            )
            .await;
        let challenge_sid = created.json["sid"].as_str().unwrap_or("").to_owned();
        if !stats.check(
            created.status == 201
                && created.json["status"] == "pending"
                && !challenge_sid.is_empty(),
            &created,
        ) {
            continue;
        }
        stats.push_created += 1;
        let url = format!("{entity}/Challenges/{challenge_sid}");
        let auth = device.auth();
        let served = stats
            .timed(
                "push challenge fetch (device)",
                client.call("GET", &url, &auth, &[]),
            )
            .await;
        let Some(fields) = served.signature_fields.clone() else {
            stats.check(false, &served);
            continue;
        };
        if !stats.check(
            served.status == 200
                && served.json["status"] == "pending"
                && served.json["sid"] == challenge_sid.as_str(),
            &served,
        ) {
            continue;
        }
        let mut payload = Map::new();
        for field in fields.split(',') {
            payload.insert(field.to_owned(), served.json[field].clone());
        }
        payload.insert("status".to_owned(), Value::String("approved".to_owned()));
        let answer = sign_jws(
            &device.key,
            r#"{"typ":"JWT","alg":"ES256"}"#,
            &Value::Object(payload).to_string(),
        );
        let approved = stats
            .timed(
                "push challenge approve (device)",
                client.call("POST", &url, &auth, &[("AuthPayload", &answer)]),
            )
            .await;
        if stats.check(
            approved.status == 200
                && approved.json["status"] == "approved"
                && approved.json["sid"] == challenge_sid.as_str(),
            &approved,
        ) {
            stats.approve(challenge_sid, true);
        }

        if Instant::now() >= deadline {
            break;
        }
        // ---- TOTP: a fresh factor (codes are single-use), then a challenge with a code ----
        let identity = format!("load-totp-{index:04}-{round:08}");
        let totp_entity = format!("/v2/Services/{service}/Entities/{identity}");
        let factor = stats
            .timed(
                "totp factor create",
                client.call(
                    "POST",
                    &format!("{totp_entity}/Factors"),
                    &host,
                    &[("FactorType", "totp"), ("FriendlyName", "load@example.com")],
                ),
            )
            .await;
        if !stats.check(factor.status == 201, &factor) {
            continue;
        }
        let sid = factor.json["sid"].as_str().unwrap_or("").to_owned();
        let secret = factor.json["binding"]["secret"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let now = unix_now();
        let verified = stats
            .timed(
                "totp factor verify",
                client.call(
                    "POST",
                    &format!("{totp_entity}/Factors/{sid}"),
                    &host,
                    &[("AuthPayload", &totp_code(&secret, now))],
                ),
            )
            .await;
        if !stats.check(
            verified.status == 200 && verified.json["status"] == "verified",
            &verified,
        ) {
            continue;
        }
        // The next step's code: within the skew, above the step just used.
        let challenge = stats
            .timed(
                "totp challenge create with code",
                client.call(
                    "POST",
                    &format!("{totp_entity}/Challenges"),
                    &host,
                    &[
                        ("FactorSid", &sid),
                        ("AuthPayload", &totp_code(&secret, now + 30)),
                    ],
                ),
            )
            .await;
        let challenge_sid = challenge.json["sid"].as_str().unwrap_or("").to_owned();
        if stats.check(
            challenge.status == 201
                && challenge.json["status"] == "approved"
                && !challenge_sid.is_empty(),
            &challenge,
        ) {
            stats.approve(challenge_sid, false);
        }
    }
    stats
}

fn totp_code(secret: &str, now: u64) -> String {
    use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig};
    let config = TotpConfig::new(
        Algorithm::Sha1,
        Digits::new(6).unwrap(),
        Period::new(30).unwrap(),
        Skew::new(1).unwrap(),
    );
    let Ok(secret) = Secret::from_base32_lenient(secret) else {
        return String::new();
    };
    verify_totp::generate(
        &secret,
        &config,
        verify_engine::model::UnixTime::from_secs(now),
    )
    .map(|code| code.to_string())
    .unwrap_or_default()
}

// ---- statistics ---------------------------------------------------------------

#[derive(Default)]
struct Stats {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: u64,
    first_error: Option<String>,
    /// Responses with status 409 (a conflict: e.g. a challenge answered twice).
    conflicts: u64,
    /// Push challenges created pending.
    push_created: u64,
    /// Push challenges approved.
    push_approved: u64,
    /// The sid of every challenge approved (push and TOTP): each must appear once.
    approved: Vec<String>,
}

impl Stats {
    async fn timed(&mut self, kind: &'static str, call: impl Future<Output = Reply>) -> Reply {
        let started = Instant::now();
        let reply = call.await;
        self.latencies
            .entry(kind)
            .or_default()
            .push(started.elapsed());
        reply
    }

    /// Counts the approval of challenge `sid`.
    fn approve(&mut self, sid: String, push: bool) {
        if push {
            self.push_approved += 1;
        }
        self.approved.push(sid);
    }

    fn check(&mut self, ok: bool, reply: &Reply) -> bool {
        if reply.status == 409 {
            self.conflicts += 1;
        }
        if !ok {
            self.errors += 1;
            if self.first_error.is_none() {
                self.first_error = Some(format!("{} {}", reply.status, reply.json));
            }
        }
        ok
    }

    fn merge(&mut self, other: Self) {
        for (kind, mut values) in other.latencies {
            self.latencies.entry(kind).or_default().append(&mut values);
        }
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        self.push_created += other.push_created;
        self.push_approved += other.push_approved;
        self.approved.extend(other.approved);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn report(mut self, elapsed: f64, cpu: Option<ThreadCpu>) -> bool {
        let requests: usize = self.latencies.values().map(Vec::len).sum();
        let approved = self.approved.len();
        self.approved.sort_unstable();
        // Each sid after its first occurrence is one approval too many.
        let double_approvals = self.approved.windows(2).filter(|w| w[0] == w[1]).count();
        let push_approved = usize::try_from(self.push_approved).unwrap_or(usize::MAX);
        println!(
            "{requests} requests in {elapsed:.1} s: {:.0} requests/s, {:.0} challenges approved/s ({approved} approved), \
             {:.0} push approvals/s ({push_approved} of {} push challenges created), \
             double approvals {double_approvals}, conflicts (409) {}, errors {}",
            rate(requests, elapsed),
            rate(approved, elapsed),
            rate(push_approved, elapsed),
            self.push_created,
            self.conflicts,
            self.errors,
        );
        if let Some(cpu) = cpu {
            report_ceiling(requests, elapsed, cpu);
        }
        println!(
            "{:<34} {:>8} {:>9} {:>9} {:>9} {:>9}",
            "request", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for (kind, values) in &mut self.latencies {
            values.sort_unstable();
            let at = |percent: usize| {
                let index = values.len().saturating_sub(1) * percent / 100;
                values.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
            };
            println!(
                "{kind:<34} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                values.len(),
                at(50),
                at(90),
                at(99),
                at(100)
            );
        }
        if let Some(error) = &self.first_error {
            eprintln!("first error: {error}");
        }
        if double_approvals > 0 {
            eprintln!("{double_approvals} challenge approvals were not the challenge's first");
        }
        self.errors == 0 && self.conflicts == 0 && double_approvals == 0 && requests > 0
    }
}

/// Prints the CPU per request and the ceilings it implies (see the module docs).
fn report_ceiling(requests: usize, elapsed: f64, cpu: ThreadCpu) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let cores = f64::from(u32::try_from(cores).unwrap_or(u32::MAX));
    let count = f64::from(u32::try_from(requests.max(1)).unwrap_or(u32::MAX));
    let server = cpu.server.as_secs_f64() / count;
    let clients = cpu.clients.as_secs_f64() / count;
    let achieved = rate(requests, elapsed);
    let alone = cores / server;
    let shared = cores / (server + clients);
    println!(
        "CPU per request: server {:.0} µs, clients {:.0} µs ({cores} cores; busy {:.0}% of them); \
         ceiling: server alone {alone:.0} requests/s (achieved {:.0}%), \
         server and clients on these cores {shared:.0} requests/s (achieved {:.0}%)",
        server * 1e6,
        clients * 1e6,
        (cpu.server + cpu.clients).as_secs_f64() / elapsed / cores * 100.0,
        achieved / alone * 100.0,
        achieved / shared * 100.0,
    );
}

/// `count` per second over `elapsed` seconds.
fn rate(count: usize, elapsed: f64) -> f64 {
    f64::from(u32::try_from(count).unwrap_or(u32::MAX)) / elapsed
}

// ---- the HTTP/1.1 client: one hyper connection per client -------------------------

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Reply {
    status: u16,
    json: Value,
    signature_fields: Option<String>,
}

struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        // Drives the connection until the client is dropped or the server closes it;
        // a failure shows as a transport error on the call that meets it.
        tokio::spawn(async move { connection.await.ok() });
        Self { sender }
    }

    async fn call(&mut self, method: &str, path: &str, auth: &str, form: &[(&str, &str)]) -> Reply {
        match self.try_call(method, path, auth, form).await {
            Ok(reply) => reply,
            Err(error) => Reply {
                status: 0,
                json: Value::String(format!("transport error: {error}")),
                signature_fields: None,
            },
        }
    }

    async fn try_call(
        &mut self,
        method: &str,
        path: &str,
        auth: &str,
        form: &[(&str, &str)],
    ) -> Result<Reply, BoxError> {
        let body = serde_urlencoded::to_string(form)?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, "127.0.0.1")
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let signature_fields = response
            .headers()
            .get("twilio-verify-signature-fields")
            .map(|value| value.to_str().map(str::to_owned))
            .transpose()?;
        // A body over MAX_BODY (by Content-Length or as read) is an error.
        let bytes = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await?
            .to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        Ok(Reply {
            status,
            json,
            signature_fields,
        })
    }
}
