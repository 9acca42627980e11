//! Approvals per second on PostgreSQL with 1, 8 and 64 concurrent clients (and on
//! SQLite for comparison), then SQLite under a mixed load (4 reads per approval)
//! with its reads on the writer and on the reader connections, interleaved.
//!
//! Each approval is what the engine does for a push approve: read the challenge,
//! run the model's transition, write it back with the version-checked `UPDATE` and
//! its `challenge.approved` event in one transaction. Challenges are created before
//! the clock starts.
//!
//! ```text
//! eval "$(.ci/pg.sh start)"
//! cargo bench -p verify-store-sql --bench approvals
//! ```
//!
//! Without `VERIFY_TEST_POSTGRES_URL` the PostgreSQL part says it was skipped.

use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use verify_model::factor::{PushBinding, PushConfig};
use verify_model::{
    AnswerInput, Challenge, ChallengeSid, ChallengeTarget, CredentialSid, Details, Entity, Factor,
    FactorKind, Identity, NewChallenge, NewFactor, NotificationPlatform, Service, UnixTime,
    VerificationProof,
};
use verify_store::{FactorInsert, Store, StoreError};
use verify_store_sql::{PgStore, SqliteStore};

const CLIENTS: [usize; 3] = [1, 8, 64];
/// Approvals per run.
const APPROVALS: usize = 3_000;
const T0: UnixTime = UnixTime::from_secs(1_767_225_600);

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct Setup {
    service: Service,
    phone: Factor,
}

async fn setup<S: Store>(store: &S, rng: &mut ChaCha20Rng) -> BenchResult<Setup> {
    let service = Service::create("Bench", T0, rng)?;
    store.insert_service(&service).await?;
    let entity = Entity::create(service.sid(), Identity::parse("bench-user-0001")?, T0, rng);
    store.insert_entity(&entity).await?;
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    der.extend_from_slice(&[0x42; 64]);
    let config = PushConfig::new(
        "com.example.app",
        NotificationPlatform::None,
        None,
        Some("1.0.0"),
        CredentialSid::generate(rng),
    )?;
    let created = Factor::create(
        NewFactor::new(
            service.sid(),
            entity.sid(),
            entity.identity().clone(),
            "Phone",
        ),
        FactorKind::push(PushBinding::from_spki_der(&der)?, config),
        T0,
        rng,
    )?;
    store
        .insert_factor(FactorInsert::new(&created.factor, &created.events))
        .await?;
    let verified = created.factor.verify(
        VerificationProof::PushSignature,
        UnixTime::from_secs(T0.as_secs() + 1),
    )?;
    store
        .update_factor(&verified.factor, &verified.events)
        .await?;
    Ok(Setup {
        service,
        phone: verified.factor,
    })
}

async fn challenges<S: Store>(
    store: &S,
    setup: &Setup,
    rng: &mut ChaCha20Rng,
) -> BenchResult<Vec<ChallengeSid>> {
    let mut sids = Vec::with_capacity(APPROVALS);
    for _ in 0..APPROVALS {
        let input = NewChallenge::new().with_details(Details::new("Sign in?", Vec::new())?);
        let challenge = Challenge::create(
            ChallengeTarget::Factor(&setup.phone),
            input,
            UnixTime::from_secs(T0.as_secs() + 2),
            rng,
        )?
        .challenge;
        store.insert_challenge(&challenge, &[]).await?;
        sids.push(challenge.sid());
    }
    Ok(sids)
}

/// Approves every challenge of `sids` with `clients` tasks, each approval after
/// `reads` plain reads (fetches of other challenges, as status polls are); approvals
/// per second. (Not lists: this one entity holds every challenge, and a list scans
/// its entity's keys.)
async fn run<S: Store + Clone + 'static>(
    store: &S,
    setup: &Setup,
    sids: Vec<ChallengeSid>,
    clients: usize,
    reads: usize,
    deliver: bool,
) -> BenchResult<f64> {
    let sids = Arc::new(sids);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deliverer = deliver.then(|| Deliverer::start(store.clone(), &sids));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (store, sids, next) = (store.clone(), Arc::clone(&sids), Arc::clone(&next));
        let (service, phone) = (setup.service.sid(), setup.phone.clone());
        tasks.push(tokio::spawn(async move {
            let now = UnixTime::from_secs(T0.as_secs() + 10);
            let answer = AnswerInput::new(now).with_factor(&phone);
            while let Some(&sid) = sids.get(next.fetch_add(1, Ordering::Relaxed)) {
                for read in 0..reads {
                    if let Some(&other) = sids.get((read * 7919 + sids.len() / 2) % sids.len()) {
                        store.get_challenge(service, other).await?;
                    }
                }
                let challenge = store
                    .get_challenge(service, sid)
                    .await?
                    .ok_or("challenge missing")?;
                let approved = challenge.approve(&answer)?;
                match store
                    .update_challenge(&approved.challenge, &approved.events)
                    .await
                {
                    Ok(()) => {}
                    Err(StoreError::Conflict { .. }) => return Err("unexpected conflict".into()),
                    Err(other) => return Err(other.into()),
                }
            }
            BenchResult::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(deliverer) = deliverer {
        let delivered = deliverer.finish().await?;
        if delivered != sids.len() {
            return Err(
                format!("{delivered} events delivered for {} approvals", sids.len()).into(),
            );
        }
    }
    let count = f64::from(u32::try_from(sids.len())?);
    Ok(count / seconds)
}

/// What the server's outbox task does beside the approvals: read the outbox
/// (`peek_events`), acknowledge what it read, again, until told to stop.
struct Deliverer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<BenchResult<usize>>,
}

impl Deliverer {
    /// Counts the approvals of `sids` it reads (events of earlier rounds are read
    /// and acknowledged, not counted).
    fn start<S: Store + Clone + 'static>(store: S, sids: &[ChallengeSid]) -> Self {
        let ours: std::collections::HashSet<ChallengeSid> = sids.iter().copied().collect();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut delivered = 0;
            loop {
                let stopping = flag.load(Ordering::Acquire);
                let events = store.peek_events(None, 100).await?;
                let approvals = events
                    .iter()
                    .filter(|e| {
                        e.event.event_type == verify_model::EventType::ChallengeApproved
                            && e.event.challenge_sid.is_some_and(|sid| ours.contains(&sid))
                    })
                    .count();
                delivered += approvals;
                match events.last() {
                    Some(last) => {
                        store.ack_events(last.sequence).await?;
                    }
                    None if stopping => return Ok(delivered),
                    None => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the outbox is empty; the approvals it delivered.
    async fn finish(self) -> BenchResult<usize> {
        self.stop.store(true, Ordering::Release);
        self.task.await?
    }
}

async fn bench<S: Store + Clone + 'static>(name: &str, store: S) -> BenchResult<()> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let setup = setup(&store, &mut rng).await?;
    for clients in CLIENTS {
        let sids = challenges(&store, &setup, &mut rng).await?;
        let rate = run(&store, &setup, sids, clients, 0, false).await?;
        println!(
            "{name:<10} {clients:>3} clients: {rate:>9.0} approvals/s ({APPROVALS} approvals)"
        );
    }
    // The outbox drained beside the approvals, as the server does: on PostgreSQL the
    // events are numbered when read, so the reader's share of the cost shows here.
    for clients in CLIENTS {
        let sids = challenges(&store, &setup, &mut rng).await?;
        let rate = run(&store, &setup, sids, clients, 0, true).await?;
        println!(
            "{name:<10} {clients:>3} clients, outbox drained beside: {rate:>9.0} approvals/s \
             ({APPROVALS} approvals, every event delivered once)"
        );
    }
    Ok(())
}

async fn postgres(url: &str) -> BenchResult<PgStore> {
    let schema = format!("bench_{}", std::process::id());
    let mut admin = PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let options = PgConnectOptions::from_str(url)?.options([("search_path", schema.as_str())]);
    let store = PgStore::connect_with(options, 70).await?;
    store.migrate().await?;
    Ok(store)
}

fn main() -> BenchResult<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a
    // short smoke pass only when benchmarking for real.
    if !std::env::args().any(|a| a == "--bench") {
        println!("approvals: run with `cargo bench` to measure");
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match std::env::var("VERIFY_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => bench("postgres", postgres(&url).await?).await?,
            _ => eprintln!(
                "SKIPPED (PostgreSQL): VERIFY_TEST_POSTGRES_URL is not set; run .ci/pg.sh start"
            ),
        }
        let path = std::env::temp_dir().join(format!("verify-bench-{}.db", std::process::id()));
        let sqlite = SqliteStore::open(&path).await?;
        sqlite.migrate().await?;
        bench("sqlite", sqlite.clone()).await?;
        sqlite.close().await;
        remove_sqlite(&path);
        sqlite_readers().await
    })
}

/// SQLite with plain reads beside the writes: the same mixed load on a store whose
/// reads share the writer (`with_sqlite_readers(0)`) and on one with the default
/// readers, in alternating rounds of one run, so both see the same machine.
async fn sqlite_readers() -> BenchResult<()> {
    const READS: usize = 4;
    const ROUNDS: usize = 3;
    let mut stores = Vec::new();
    for readers in [0, verify_store_sql::DEFAULT_SQLITE_READERS] {
        let path = std::env::temp_dir().join(format!(
            "verify-bench-{}-readers-{readers}.db",
            std::process::id()
        ));
        let options = verify_store_sql::StoreOptions::new().with_sqlite_readers(readers);
        let store = SqliteStore::open_with_options(&path, &options).await?;
        store.migrate().await?;
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let setup = setup(&store, &mut rng).await?;
        stores.push((readers, path, store, setup, rng));
    }
    for clients in [8, 64] {
        for round in 1..=ROUNDS {
            for (readers, _, store, setup, rng) in &mut stores {
                let sids = challenges(store, setup, rng).await?;
                let rate = run(store, setup, sids, clients, READS, false).await?;
                println!(
                    "sqlite, {READS} reads per approval, {readers} readers, {clients:>2} clients, round {round}: \
                     {rate:>7.0} approvals/s ({:>7.0} operations/s)",
                    rate * f64::from(u32::try_from(READS + 2)?)
                );
            }
        }
    }
    for (_, path, store, _, _) in stores {
        store.close().await;
        remove_sqlite(&path);
    }
    Ok(())
}

/// Removes a bench database and its WAL and shared-memory files.
fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.to_path_buf().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
