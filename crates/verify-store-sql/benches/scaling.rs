//! What one request costs as the store grows: `MemoryStore`, `SqliteStore` and (when
//! `VERIFY_TEST_POSTGRES_URL` is set) `PgStore`, filled to 10^3, 10^4 and 10^5
//! fillers (`--max 1000000` adds 10^6), each filler one entity with one verified push
//! factor and one pending challenge, as a busy service accumulates them.
//!
//! At every size the bench adds a fresh probe entity (two push factors, one passkey,
//! 200 challenges at distinct times, half of them approved), then times the
//! operations a request makes on it, `--reps` times each (200 by default), and
//! prints the median and the 90th percentile; at the end, each operation's median at
//! the largest size over its median at 10^3. A request that costs the same at any
//! size has a ratio near 1.
//!
//! ```text
//! cargo bench -p verify-store-sql --bench scaling                       # 10^3..10^5
//! cargo bench -p verify-store-sql --bench scaling -- --max 1000000      # ..10^6
//! cargo bench -p verify-store-sql --bench scaling -- --stores memory --max 10000
//! eval "$(.ci/pg.sh start)"; cargo bench -p verify-store-sql --bench scaling -- --stores postgres
//! ```
//!
//! Filling: `MemoryStore` and `PgStore` through the `Store` insert methods (one
//! transaction per row on PostgreSQL: slow past 10^5). SQLite fillers are written
//! straight into the tables in transactions of [`SQL_FILL_BATCH`] fillers, with the
//! columns and the serde records `SqliteStore`'s own inserts write (the `Store`
//! trait writes one row per transaction, and 4 x 10^6 SQLite commits would take
//! longer than the measurements). Fillers get no outbox events; the probes' writes
//! do.

use std::path::Path;
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use clap::Parser;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use verify_model::factor::{PasskeyCredential, PushBinding, PushConfig};
use verify_model::limits::MAX_FACTOR_CREATIONS_PER_DAY;
use verify_model::{
    AnswerInput, Challenge, ChallengeFilter, ChallengeSid, ChallengeStatus, ChallengeTarget,
    CredentialSid, Details, Entity, Event, Factor, FactorKind, FactorSid, FactorType, Identity,
    ListOrder, NewChallenge, NewFactor, NotificationPlatform, PageSize, PageToken, PasskeysConfig,
    RelyingParty, Service, ServiceSid, TotpAlgorithm, TotpParams, TotpSecret, UnixTime,
    VerificationProof,
};
use verify_store::{FactorInsert, FactorQuota, ListQuery, MemoryStore, Store};
use verify_store_sql::{PgStore, SqliteStore};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The first store size; every further size is ten times the one before.
const FIRST_SIZE: usize = 1_000;
/// Challenges of the probe entity (enough for four pages of [`PAGE`]).
const PROBE_CHALLENGES: usize = 200;
/// The page size of the timed lists (the API's default).
const PAGE: u64 = 50;
/// Entities the timed factor creations are spread over, so that no entity reaches
/// its TOTP quota (100) or its daily creation quota (100) within one size.
const QUOTA_ENTITIES: usize = 10;
/// Fillers per SQL transaction when filling SQLite directly.
const SQL_FILL_BATCH: usize = 10_000;
/// Untimed calls before each timed series (caches, allocator, prepared statements).
const WARM_UP: usize = 10;
/// 2026-01-01T00:00:00Z: fillers are created here; each size's probes a day later
/// than the previous size's, so creation quotas never overlap between sizes.
const T0: UnixTime = UnixTime::from_secs(1_767_225_600);
const DAY: u64 = 86_400;

/// Command line (`cargo bench` appends `--bench`).
#[derive(Debug, Parser)]
#[command(about = "Per-request store costs at 10^3..10^N rows")]
struct Args {
    /// Largest size (fillers); sizes are 1000, 10000, ... up to this.
    #[arg(long, default_value_t = 100_000)]
    max: usize,
    /// Timed calls per operation and size.
    #[arg(long, default_value_t = 200)]
    reps: usize,
    /// Stores to run, comma separated: memory, sqlite, postgres (postgres needs
    /// VERIFY_TEST_POSTGRES_URL).
    #[arg(long, value_delimiter = ',', default_value = "memory,sqlite,postgres")]
    stores: Vec<String>,
    /// Passed by `cargo bench`; without it (`cargo test --benches`) the bench runs a
    /// smoke pass at 100 fillers and 3 repetitions.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Deterministic records for one run.
struct Records {
    rng: ChaCha20Rng,
}

impl Records {
    fn push_factor(&mut self, entity: &Entity, now: UnixTime) -> BenchResult<Factor> {
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        der.extend_from_slice(&[0x42; 64]);
        let config = PushConfig::new(
            "com.example.app",
            NotificationPlatform::None,
            None,
            Some("1.0.0"),
            CredentialSid::generate(&mut self.rng),
        )?;
        let created = Factor::create(
            new_factor(entity, "Phone"),
            FactorKind::push(PushBinding::from_spki_der(&der)?, config),
            now,
            &mut self.rng,
        )?;
        Ok(created.factor)
    }

    fn totp_factor(&mut self, entity: &Entity, now: UnixTime) -> BenchResult<(Factor, Vec<Event>)> {
        let kind = FactorKind::totp(
            TotpSecret::generate(&mut self.rng),
            TotpAlgorithm::default(),
            TotpParams::default(),
        );
        let created = Factor::create(
            new_factor(entity, "Authenticator"),
            kind,
            now,
            &mut self.rng,
        )?;
        Ok((created.factor, created.events))
    }

    fn passkey_factor(&mut self, entity: &Entity, now: UnixTime) -> BenchResult<Factor> {
        let rp = RelyingParty::new(
            "example.com",
            "Example",
            vec!["https://example.com".to_owned()],
        )?;
        let kind = FactorKind::passkeys(PasskeysConfig::new(rp));
        Ok(Factor::create(new_factor(entity, "Passkey"), kind, now, &mut self.rng)?.factor)
    }

    fn push_challenge(&mut self, factor: &Factor, now: UnixTime) -> BenchResult<Challenge> {
        let input = NewChallenge::new().with_details(Details::new("Sign in?", Vec::new())?);
        Ok(
            Challenge::create(ChallengeTarget::Factor(factor), input, now, &mut self.rng)?
                .challenge,
        )
    }
}

fn new_factor(entity: &Entity, name: &str) -> NewFactor {
    NewFactor::new(
        entity.service_sid(),
        entity.sid(),
        entity.identity().clone(),
        name,
    )
}

fn at(base: UnixTime, secs: u64) -> UnixTime {
    UnixTime::from_secs(base.as_secs().saturating_add(secs))
}

/// One filler as rows: the entity, its verified push factor, a pending challenge.
struct Filler {
    entity: Entity,
    /// The factor as created (version 0) and verified (version 1).
    unverified: Factor,
    factor: Factor,
    challenge: Challenge,
}

fn filler(records: &mut Records, service: ServiceSid, index: usize) -> BenchResult<Filler> {
    let identity = Identity::parse(&format!("filler-{index:08}"))?;
    let entity = Entity::create(service, identity, T0, &mut records.rng);
    let unverified = records.push_factor(&entity, T0)?;
    let factor = unverified
        .verify(VerificationProof::PushSignature, at(T0, 1))?
        .factor;
    let challenge = records.push_challenge(&factor, at(T0, 2))?;
    Ok(Filler {
        entity,
        unverified,
        factor,
        challenge,
    })
}

/// Writes fillers through the `Store` methods, one row per call.
async fn fill_with_store<S: Store>(
    store: &S,
    records: &mut Records,
    service: ServiceSid,
    range: std::ops::Range<usize>,
) -> BenchResult<()> {
    for index in range {
        let filler = filler(records, service, index)?;
        store.insert_entity(&filler.entity).await?;
        // The factor as created (version 0), then its verification, as the engine
        // writes them.
        store
            .insert_factor(FactorInsert::new(&filler.unverified, &[]))
            .await?;
        store.update_factor(&filler.factor, &[]).await?;
        store.insert_challenge(&filler.challenge, &[]).await?;
    }
    Ok(())
}

/// Writes fillers straight into SQLite's tables, [`SQL_FILL_BATCH`] per transaction,
/// with the columns and records `SqliteStore`'s inserts write.
async fn fill_sqlite_direct(
    path: &Path,
    records: &mut Records,
    service: ServiceSid,
    range: std::ops::Range<usize>,
) -> BenchResult<()> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30));
    let mut connection = SqliteConnection::connect_with(&options).await?;
    let mut start = range.start;
    while start < range.end {
        let end = start.saturating_add(SQL_FILL_BATCH).min(range.end);
        let mut tx = connection.begin().await?;
        for index in start..end {
            let f = filler(records, service, index)?;
            let secs = |t: UnixTime| i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO verify_entities (sid, service_sid, identity, date_created, record) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(f.entity.sid().as_bytes().as_slice())
            .bind(service.as_bytes().as_slice())
            .bind(f.entity.identity().as_str())
            .bind(secs(f.entity.date_created()))
            .bind(serde_json::to_string(&f.entity)?)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO verify_factors (sid, service_sid, entity_sid, identity, factor_type, \
                 credential_id, date_created, version, record, record_format) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, 2)",
            )
            .bind(f.factor.sid().as_bytes().as_slice())
            .bind(service.as_bytes().as_slice())
            .bind(f.entity.sid().as_bytes().as_slice())
            .bind(f.factor.identity().as_str())
            .bind(f.factor.factor_type().as_str())
            .bind(secs(f.factor.date_created()))
            .bind(i64::try_from(f.factor.version())?)
            .bind(serde_json::to_string(&f.factor)?)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO verify_factor_creations (entity_sid, date_created, factor_sid) \
                 VALUES ($1, $2, $3)",
            )
            .bind(f.entity.sid().as_bytes().as_slice())
            .bind(secs(f.factor.date_created()))
            .bind(f.factor.sid().as_bytes().as_slice())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO verify_challenges (sid, service_sid, entity_sid, identity, factor_sid, \
                 factor_type, status, expiration_date, date_created, version, record, record_format) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, 2)",
            )
            .bind(f.challenge.sid().as_bytes().as_slice())
            .bind(service.as_bytes().as_slice())
            .bind(f.entity.sid().as_bytes().as_slice())
            .bind(f.entity.identity().as_str())
            .bind(f.factor.sid().as_bytes().as_slice())
            .bind(f.challenge.factor_type().as_str())
            .bind(f.challenge.state().status().as_str())
            .bind(secs(f.challenge.expires_at()))
            .bind(secs(f.challenge.date_created()))
            .bind(serde_json::to_string(&f.challenge)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        start = end;
    }
    // No ANALYZE: the store never runs one, so the planner's choices here are the
    // ones a deployed database gets.
    connection.close().await?;
    Ok(())
}

/// What the timed operations act on at one size.
struct Probe {
    service: ServiceSid,
    entity: Entity,
    phone: FactorSid,
    credential: Vec<u8>,
    challenges: Vec<ChallengeSid>,
    second_page: PageToken,
    /// Entities the timed factor creations go to, and the creation time.
    quota_entities: Vec<Entity>,
    created_at: UnixTime,
    /// Pending challenges the timed updates approve, with their approvals.
    updates: Vec<(Challenge, Vec<Event>)>,
    now: UnixTime,
}

/// Adds the probe records for size number `round` (0 for 10^3), untimed.
async fn probe<S: Store>(
    store: &S,
    records: &mut Records,
    service: ServiceSid,
    round: u64,
    reps: usize,
) -> BenchResult<Probe> {
    let base = at(T0, DAY.saturating_mul(round.saturating_add(1)));
    let entity = Entity::create(
        service,
        Identity::parse(&format!("probe-{round:04}"))?,
        base,
        &mut records.rng,
    );
    store.insert_entity(&entity).await?;
    let mut phones = Vec::new();
    for _ in 0..2 {
        let factor = records.push_factor(&entity, base)?;
        store.insert_factor(FactorInsert::new(&factor, &[])).await?;
        let verified = factor.verify(VerificationProof::PushSignature, at(base, 1))?;
        store
            .update_factor(&verified.factor, &verified.events)
            .await?;
        phones.push(verified.factor);
    }
    let passkey = records.passkey_factor(&entity, base)?;
    store
        .insert_factor(FactorInsert::new(&passkey, &[]))
        .await?;
    let credential = format!("probe-credential-{round}").into_bytes();
    let record = PasskeyCredential::new(
        credential.clone(),
        vec![0xa5; 77],
        -7,
        0,
        Vec::new(),
        false,
        false,
        [0; 16],
        "none",
        true,
    )?;
    let verified = passkey.verify(VerificationProof::Passkey(record), at(base, 1))?;
    store
        .update_factor(&verified.factor, &verified.events)
        .await?;
    // Challenges at distinct seconds 10.., alternating between the phones; every
    // other pair approved, so each filter matches half.
    let mut challenges = Vec::with_capacity(PROBE_CHALLENGES);
    for i in 0..PROBE_CHALLENGES {
        let phone = phones.get(i % 2).ok_or("two phones")?;
        let created = at(base, 10_u64.saturating_add(u64::try_from(i)?));
        let challenge = records.push_challenge(phone, created)?;
        store.insert_challenge(&challenge, &[]).await?;
        if (i / 2) % 2 == 0 {
            let approved =
                challenge.approve(&AnswerInput::new(at(created, 1)).with_factor(phone))?;
            store
                .update_challenge(&approved.challenge, &approved.events)
                .await?;
        }
        challenges.push(challenge.sid());
    }
    // All challenges were created within 200 s; they expire 5 minutes after.
    let now = at(
        base,
        10_u64.saturating_add(u64::try_from(PROBE_CHALLENGES)?),
    );
    let first = store
        .list_challenges(
            service,
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::new(ListOrder::Asc, PageSize::new(PAGE)?),
            now,
        )
        .await?;
    let second_page = first.next_page_token.ok_or("a second page")?;
    let mut quota_entities = Vec::with_capacity(QUOTA_ENTITIES);
    for k in 0..QUOTA_ENTITIES {
        let quota = Entity::create(
            service,
            Identity::parse(&format!("quota-{round}-{k}"))?,
            base,
            &mut records.rng,
        );
        store.insert_entity(&quota).await?;
        quota_entities.push(quota);
    }
    let updater = Entity::create(
        service,
        Identity::parse(&format!("update-{round}"))?,
        base,
        &mut records.rng,
    );
    store.insert_entity(&updater).await?;
    let phone = records.push_factor(&updater, base)?;
    store.insert_factor(FactorInsert::new(&phone, &[])).await?;
    let phone = phone
        .verify(VerificationProof::PushSignature, at(base, 1))?
        .factor;
    store.update_factor(&phone, &[]).await?;
    let mut updates = Vec::new();
    for _ in 0..reps.saturating_add(WARM_UP) {
        let challenge = records.push_challenge(&phone, at(base, 2))?;
        store.insert_challenge(&challenge, &[]).await?;
        let approved = challenge.approve(&AnswerInput::new(at(base, 3)).with_factor(&phone))?;
        updates.push((approved.challenge, approved.events));
    }
    Ok(Probe {
        service,
        entity,
        phone: phones.first().ok_or("a phone")?.sid(),
        credential,
        challenges,
        second_page,
        quota_entities,
        created_at: at(base, 4),
        updates,
        now,
    })
}

/// Median and 90th percentile of one series.
#[derive(Debug, Clone, Copy)]
struct Figures {
    median: Duration,
    p90: Duration,
}

fn figures(mut samples: Vec<Duration>) -> Figures {
    samples.sort_unstable();
    let pick = |q: usize| {
        let index = samples.len().saturating_sub(1).saturating_mul(q) / 100;
        samples.get(index).copied().unwrap_or_default()
    };
    Figures {
        median: pick(50),
        p90: pick(90),
    }
}

/// The timed operations, in report order.
const OPERATIONS: [&str; 11] = [
    "get_entity_by_identity",
    "entity_factors",
    "find_factor_by_credential_id",
    "get_challenge",
    "list_challenges page 50 asc",
    "list_challenges page 50 desc",
    "list_challenges 2nd page (token)",
    "list_challenges FactorSid filter",
    "list_challenges Status=pending",
    "insert_factor TOTP with quota",
    "update_challenge (approve)",
];

/// Times `call` `reps` times after [`WARM_UP`] untimed calls; `call(i)` gets the
/// call's index (warm-up calls first).
async fn time<F, Fut>(reps: usize, mut call: F) -> BenchResult<Figures>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = BenchResult<()>>,
{
    for i in 0..WARM_UP {
        call(i).await?;
    }
    let mut samples = Vec::with_capacity(reps);
    for i in WARM_UP..WARM_UP.saturating_add(reps) {
        let started = Instant::now();
        call(i).await?;
        samples.push(started.elapsed());
    }
    Ok(figures(samples))
}

async fn measure<S: Store>(
    store: &S,
    records: &mut Records,
    probe: &Probe,
    reps: usize,
) -> BenchResult<Vec<Figures>> {
    let (service, entity, now) = (probe.service, probe.entity.sid(), probe.now);
    let page = PageSize::new(PAGE)?;
    let asc = ListQuery::new(ListOrder::Asc, page);
    let desc = ListQuery::new(ListOrder::Desc, page);
    let second = asc.clone().with_page_token(probe.second_page.clone());
    let all = ChallengeFilter::default();
    let by_factor = ChallengeFilter::new(Some(probe.phone), None);
    let pending = ChallengeFilter::new(None, Some(ChallengeStatus::Pending));
    let mut out = Vec::with_capacity(OPERATIONS.len());
    out.push(
        time(reps, |_| async {
            store
                .get_entity_by_identity(service, probe.entity.identity())
                .await?
                .ok_or("probe entity missing")?;
            Ok(())
        })
        .await?,
    );
    out.push(
        time(reps, |_| async {
            let factors = store.entity_factors(service, entity).await?;
            if factors.len() != 3 {
                return Err("the probe has three factors".into());
            }
            Ok(())
        })
        .await?,
    );
    out.push(
        time(reps, |_| async {
            store
                .find_factor_by_credential_id(service, &probe.credential)
                .await?
                .ok_or("passkey missing")?;
            Ok(())
        })
        .await?,
    );
    out.push(
        time(reps, |i| {
            let sid = probe.challenges.get(i % probe.challenges.len()).copied();
            async move {
                let sid = sid.ok_or("no probe challenge")?;
                store
                    .get_challenge(service, sid)
                    .await?
                    .ok_or("challenge missing")?;
                Ok(())
            }
        })
        .await?,
    );
    for (query, filter, expect) in [
        (&asc, &all, PAGE),
        (&desc, &all, PAGE),
        (&second, &all, PAGE),
        (&asc, &by_factor, PAGE),
        (&asc, &pending, PAGE),
    ] {
        out.push(
            time(reps, |_| async move {
                let listing = store
                    .list_challenges(service, entity, filter, query, now)
                    .await?;
                if listing.items.len() != usize::try_from(expect)? {
                    return Err(format!("a page of {expect}, got {}", listing.items.len()).into());
                }
                Ok(())
            })
            .await?,
        );
    }
    // Factor creations: built untimed, written timed.
    let window_start = UnixTime::from_secs(probe.created_at.as_secs().saturating_sub(DAY));
    let quota = FactorQuota::new(
        FactorType::Totp.max_per_entity(),
        window_start,
        MAX_FACTOR_CREATIONS_PER_DAY,
    );
    let mut creates = Vec::with_capacity(reps.saturating_add(WARM_UP));
    for i in 0..reps.saturating_add(WARM_UP) {
        let entity = probe
            .quota_entities
            .get(i % probe.quota_entities.len())
            .ok_or("a quota entity")?;
        creates.push(records.totp_factor(entity, probe.created_at)?);
    }
    out.push(
        time(reps, |i| {
            let create = creates.get(i);
            async move {
                let (factor, events) = create.ok_or("a prepared factor")?;
                store
                    .insert_factor(FactorInsert::new(factor, events).with_quota(quota))
                    .await?;
                Ok(())
            }
        })
        .await?,
    );
    out.push(
        time(reps, |i| {
            let update = probe.updates.get(i);
            async move {
                let (challenge, events) = update.ok_or("a prepared approval")?;
                store.update_challenge(challenge, events).await?;
                Ok(())
            }
        })
        .await?,
    );
    Ok(out)
}

fn micros(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 100.0 {
        format!("{us:.0}")
    } else {
        format!("{us:.1}")
    }
}

fn report(name: &str, sizes: &[(usize, Duration, Vec<Figures>)]) {
    println!();
    println!("## {name}: median / p90 in µs per call");
    let mut header = format!("| {:<34} |", "operation");
    let mut rule = format!("|{}|", "-".repeat(36));
    for (size, _, _) in sizes {
        header.push_str(&format!(" n={size:<12} |"));
        rule.push_str(&format!("{}|", "-".repeat(16)));
    }
    header.push_str(" largest / 10^3 |");
    rule.push_str(&format!("{}|", "-".repeat(16)));
    println!("{header}");
    println!("{rule}");
    for (index, operation) in OPERATIONS.iter().enumerate() {
        let mut line = format!("| {operation:<34} |");
        for (_, _, figures) in sizes {
            let cell = figures
                .get(index)
                .map(|f| format!("{} / {}", micros(f.median), micros(f.p90)))
                .unwrap_or_default();
            line.push_str(&format!(" {cell:<14} |"));
        }
        let ratio = match (sizes.first(), sizes.last()) {
            (Some((_, _, first)), Some((_, _, last))) => {
                match (first.get(index), last.get(index)) {
                    (Some(a), Some(b)) if !a.median.is_zero() => {
                        format!("{:.2}x", b.median.as_secs_f64() / a.median.as_secs_f64())
                    }
                    _ => String::new(),
                }
            }
            _ => String::new(),
        };
        line.push_str(&format!(" {ratio:<14} |"));
        println!("{line}");
    }
    let mut fill = format!("| {:<34} |", "fill to n (s, cumulative)");
    for (_, filled, _) in sizes {
        fill.push_str(&format!(
            " {:<14} |",
            format!("{:.2}", filled.as_secs_f64())
        ));
    }
    println!("{fill}");
}

/// How a store is filled.
enum Fill<'a> {
    Store,
    SqliteFile(&'a Path),
}

async fn run<S: Store>(
    name: &str,
    store: &S,
    fill: Fill<'_>,
    sizes: &[usize],
    reps: usize,
) -> BenchResult<()> {
    let mut records = Records {
        rng: ChaCha20Rng::seed_from_u64(42),
    };
    let service = Service::create("Scaling", T0, &mut records.rng)?;
    store.insert_service(&service).await?;
    let mut filled = 0;
    let mut fill_time = Duration::ZERO;
    let mut results = Vec::new();
    for (round, &size) in sizes.iter().enumerate() {
        let started = Instant::now();
        match fill {
            Fill::Store => {
                fill_with_store(store, &mut records, service.sid(), filled..size).await?;
            }
            Fill::SqliteFile(path) => {
                fill_sqlite_direct(path, &mut records, service.sid(), filled..size).await?;
            }
        }
        fill_time = fill_time.saturating_add(started.elapsed());
        filled = size;
        let probe = probe(
            store,
            &mut records,
            service.sid(),
            u64::try_from(round)?,
            reps,
        )
        .await?;
        let figures = measure(store, &mut records, &probe, reps).await?;
        eprintln!(
            "{name}: n={size} measured (fill {:.2} s)",
            fill_time.as_secs_f64()
        );
        results.push((size, fill_time, figures));
    }
    report(name, &results);
    Ok(())
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

async fn postgres(url: &str) -> BenchResult<PgStore> {
    let schema = format!("bench_scaling_{}", std::process::id());
    let mut admin = PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let options = PgConnectOptions::from_str(url)?.options([("search_path", schema.as_str())]);
    let store = PgStore::connect_with(options, 4).await?;
    store.migrate().await?;
    Ok(store)
}

fn main() -> BenchResult<()> {
    let args = Args::parse();
    let (max, reps) = if args.bench {
        (args.max, args.reps)
    } else {
        println!("scaling: smoke pass (run with `cargo bench` to measure)");
        (100, 3)
    };
    let mut sizes = Vec::new();
    let mut size = if args.bench { FIRST_SIZE } else { max };
    while size <= max {
        sizes.push(size);
        size = size.saturating_mul(10);
    }
    let wants = |name: &str| args.stores.iter().any(|s| s == name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("sizes {sizes:?}, {reps} timed calls per operation");
        if wants("memory") {
            run(
                "MemoryStore",
                &MemoryStore::new(),
                Fill::Store,
                &sizes,
                reps,
            )
            .await?;
        }
        if wants("sqlite") {
            let path =
                std::env::temp_dir().join(format!("verify-scaling-{}.db", std::process::id()));
            remove_sqlite(&path);
            let sqlite = SqliteStore::open(&path).await?;
            sqlite.migrate().await?;
            let result = run(
                "SqliteStore",
                &sqlite,
                Fill::SqliteFile(&path),
                &sizes,
                reps,
            )
            .await;
            sqlite.close().await;
            remove_sqlite(&path);
            result?;
        }
        if wants("postgres") {
            match std::env::var("VERIFY_TEST_POSTGRES_URL") {
                Ok(url) if !url.is_empty() => {
                    let store = postgres(&url).await?;
                    let result = run("PgStore", &store, Fill::Store, &sizes, reps).await;
                    store.close().await;
                    result?;
                }
                _ => eprintln!(
                    "SKIPPED (PostgreSQL): VERIFY_TEST_POSTGRES_URL is not set; run .ci/pg.sh start"
                ),
            }
        }
        BenchResult::Ok(())
    })
}
