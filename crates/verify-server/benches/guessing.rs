//! Brute force against the TOTP guessing budget, over HTTP, as fast as the
//! machine allows (bounded, loopback only).
//!
//! ```text
//! cargo bench -p verify-server --bench guessing [-- --secs N --concurrency C]
//! ```
//!
//! Starts the server in this process on `127.0.0.1:0` (MemoryStore, the system
//! clock, the default guessing policy), enrolls one TOTP factor with its first
//! code, then `C` clients send wrong codes for `N` seconds, each on a new challenge
//! (`POST .../Challenges` with `AuthPayload`: the attacker who creates challenges
//! without limit). Every answer is classified: compared (201, the challenge
//! pending or denied), slowed down (429, 20429), locked (429, 60202), lost a race
//! on the factor (409); anything else fails the run.
//!
//! Reports the attack rate, how many codes were compared, the most the policy
//! allows in that time (`lock_after + ⌈N / lock_for⌉`; the run fails above it),
//! and the policy's daily bound with the chance of a correct guess per day for
//! 3..=8 digits (skew 1). docs/security-model.md quotes a run.
//!
//! Bounds: `--secs` 1..=600 (default 20, enough to reach the lock),
//! `--concurrency` 1..=64 (default 4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark binary: a broken setup should fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;
use verify_engine::model::GuessPolicy;
use verify_server::{AppState, Credentials, router};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "guess-key";
const SECRET: &str = "guess-secret";
const IDENTITY: &str = "victim-0001";

/// Brute force against the TOTP guessing budget.
#[derive(Debug, Parser)]
struct Options {
    /// How long the attack runs, in seconds (1..=600).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    secs: u64,
    /// Concurrent attacking clients (1..=64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// What `cargo bench` passes (`--bench`); ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    compared: u64,
    slowed: u64,
    locked: u64,
    raced: u64,
}

impl Tally {
    const fn sent(&self) -> u64 {
        self.compared + self.slowed + self.locked + self.raced
    }
}

fn main() {
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ok = runtime.block_on(run(&options));
    if !ok {
        std::process::exit(1);
    }
}

fn totp_code(secret: &str, now: verify_engine::model::UnixTime) -> String {
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

fn unix_now() -> verify_engine::model::UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    verify_engine::model::UnixTime::from_secs(secs)
}

async fn run(options: &Options) -> bool {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clock: Arc<dyn verify_engine::Clock> = Arc::new(verify_engine::SystemClock::new());
    let state = Arc::new(
        AppState::new(
            verify_engine::store::MemoryStore::new(),
            verify_engine::model::AccountSid::parse(ACCOUNT).unwrap(),
            &format!("http://{addr}"),
            Credentials::new(KEY, SECRET),
            clock,
            rand_core::OsRng,
        )
        .unwrap(),
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    let base = format!("http://{addr}/v2");
    let client = reqwest::Client::new();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let request = client
            .post(format!("{base}{path}"))
            .basic_auth(KEY, Some(SECRET))
            .form(&form);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let json: Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
            (status, json)
        }
    };

    let (status, service) = post("/Services".into(), vec![("FriendlyName", "Guess".into())]).await;
    assert_eq!(status, 201, "{service}");
    let service = service["sid"].as_str().unwrap().to_owned();
    let entity = format!("/Services/{service}/Entities/{IDENTITY}");
    let (status, factor) = post(
        format!("{entity}/Factors"),
        vec![
            ("FactorType", "totp".into()),
            ("FriendlyName", "victim".into()),
        ],
    )
    .await;
    assert_eq!(status, 201, "{factor}");
    let secret = factor["binding"]["secret"].as_str().unwrap().to_owned();
    let factor = factor["sid"].as_str().unwrap().to_owned();
    let (status, verified) = post(
        format!("{entity}/Factors/{factor}"),
        vec![("AuthPayload", totp_code(&secret, unix_now()))],
    )
    .await;
    assert_eq!(
        (status, &verified["status"]),
        (200, &Value::from("verified"))
    );

    let policy = GuessPolicy::default();
    println!(
        "verify-server guessing bench: {} clients, {} s, loopback {addr}, default policy \
         ({} free, lock after {} for {} s)",
        options.concurrency,
        options.secs,
        policy.free_failures(),
        policy.lock_after(),
        policy.lock_for().as_secs()
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.secs);
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency {
        let (client, base, entity, factor, secret) = (
            client.clone(),
            base.clone(),
            entity.clone(),
            factor.clone(),
            secret.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                // A code that is none of the accepted steps: every compared guess is
                // a failure, so the count is the attacker's whole budget.
                let now = unix_now().as_secs();
                let near: Vec<String> = [now - 30, now, now + 30]
                    .iter()
                    .map(|t| totp_code(&secret, verify_engine::model::UnixTime::from_secs(*t)))
                    .collect();
                let wrong = (0..1000)
                    .map(|n| format!("{n:06}"))
                    .find(|c| !near.contains(c))
                    .unwrap();
                let response = client
                    .post(format!("{base}{entity}/Challenges"))
                    .basic_auth(KEY, Some(SECRET))
                    .form(&[("FactorSid", factor.as_str()), ("AuthPayload", &wrong)])
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let json: Value =
                    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
                match (status, json["code"].as_u64()) {
                    (201, _) if json["status"] != "approved" => tally.compared += 1,
                    (429, Some(20429)) => tally.slowed += 1,
                    (429, Some(60202)) => tally.locked += 1,
                    (409, _) => tally.raced += 1,
                    _ => panic!("unexpected answer {status}: {json}"),
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        let t = task.await.unwrap();
        total.compared += t.compared;
        total.slowed += t.slowed;
        total.locked += t.locked;
        total.raced += t.raced;
    }
    let elapsed = started.elapsed().as_secs_f64();
    server.abort();

    let allowed = u64::from(policy.lock_after())
        + started
            .elapsed()
            .as_secs()
            .div_ceil(policy.lock_for().as_secs());
    let rate = f64::from(u32::try_from(total.sent()).unwrap_or(u32::MAX)) / elapsed;
    println!(
        "sent {} guesses in {elapsed:.1} s ({rate:.0}/s): compared {}, slowed down (20429) {}, \
         locked (60202) {}, lost a race (409) {}",
        total.sent(),
        total.compared,
        total.slowed,
        total.locked,
        total.raced
    );
    println!(
        "compared {} of at most {allowed} the policy allows in {} s; at most {} a day",
        total.compared,
        started.elapsed().as_secs(),
        policy.max_checks_per_day()
    );
    println!("chance of one correct guess per day (skew 1 / skew 2):");
    for digits in 3..=8 {
        println!(
            "  {digits} digits: {:.2e} / {:.2e}",
            policy.success_bound_per_day(digits, 1),
            policy.success_bound_per_day(digits, 2)
        );
    }
    if total.compared > allowed {
        eprintln!("FAILED: more codes compared than the policy allows");
        return false;
    }
    true
}
