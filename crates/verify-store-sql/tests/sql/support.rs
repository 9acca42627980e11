//! Shared test setup: temporary SQLite files, throwaway PostgreSQL schemas, model
//! records built with a seeded RNG and a fixed clock, and an AES-256-GCM sealer.

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU64, Ordering};

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use verify_model::factor::{PushBinding, PushConfig};
use verify_model::{
    AnswerInput, Challenge, ChallengeTarget, CredentialSid, Details, Entity, Event, Factor,
    FactorKind, Identity, NewChallenge, NewFactor, NotificationPlatform, Service, TotpAlgorithm,
    TotpParams, TotpSecret, UnixTime, VerificationProof, Webhook, WebhookEventType,
};
use verify_store_sql::{PgStore, SqliteStore};

/// The environment variable naming the PostgreSQL server the tests use.
pub(crate) const PG_URL_VAR: &str = "VERIFY_TEST_POSTGRES_URL";

/// The fixed "now" records start at (2026-01-01T00:00:00Z).
pub(crate) const T0: UnixTime = UnixTime::from_secs(1_767_225_600);

pub(crate) fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0.as_secs() + secs)
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(tag: &str) -> String {
    format!(
        "{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh database file path under the system temp dir.
pub(crate) fn sqlite_path(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("verify-store-sql-tests");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let path = dir.join(format!("{}.db", unique(tag)));
    for suffix in ["", "-wal", "-shm"] {
        let mut stale = path.clone().into_os_string();
        stale.push(suffix);
        let _ = std::fs::remove_file(stale);
    }
    path
}

/// A migrated SQLite store in a new file.
pub(crate) async fn sqlite_store() -> SqliteStore {
    let store = SqliteStore::open(sqlite_path("conformance"))
        .await
        .expect("open a SQLite file");
    store.migrate().await.expect("migrate");
    store
}

/// Why every PostgreSQL test is `#[ignore]`d: the reason `cargo test` prints for them.
/// (The attribute needs a literal; this documents the one the PostgreSQL tests share.)
pub(crate) const PG_IGNORE_REASON: &str =
    "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)";

/// The URL of the test server. The PostgreSQL tests are `#[ignore]`d, so this runs
/// only when they were asked for (`-- --ignored` / `--include-ignored`): without the
/// URL that request cannot be honoured, and the test fails rather than pass unchecked.
pub(crate) fn pg_url(test: &str) -> String {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{test}: this PostgreSQL test was run (--ignored or --include-ignored) but \
             {PG_URL_VAR} is not set: start a server with \
             `.ci/pg.sh run cargo test -p verify-store-sql -- --include-ignored`, \
             or export {PG_URL_VAR}=postgres://... ({PG_IGNORE_REASON})"
        ),
    }
}

/// Creates a new schema for one test and returns connect options that use it.
pub(crate) async fn pg_schema(url: &str, tag: &str) -> PgConnectOptions {
    let schema = unique(&format!("t_{tag}")).to_lowercase();
    let mut admin = PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("create a schema");
    admin.close().await.expect("close");
    schema_options(url, &schema)
}

/// Connect options for `url` whose search path is `schema`.
pub(crate) fn schema_options(url: &str, schema: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .expect("a valid URL")
        .options([("search_path", schema)])
}

/// The schema name a store's options point at (for worker processes).
pub(crate) async fn pg_schema_name(url: &str, tag: &str) -> String {
    let schema = unique(&format!("t_{tag}")).to_lowercase();
    let mut admin = PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .expect("create a schema");
    admin.close().await.expect("close");
    schema
}

/// A migrated PostgreSQL store in its own schema (fails the test when no server is
/// configured: see [`pg_url`]).
pub(crate) async fn pg_store(test: &str) -> PgStore {
    let url = pg_url(test);
    let options = pg_schema(&url, test).await;
    let store = PgStore::connect_with(options, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// Builds model records with a seeded RNG.
pub(crate) struct Records {
    pub(crate) rng: ChaCha20Rng,
}

impl Records {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    pub(crate) fn service(&mut self) -> Service {
        Service::create("Owl Bank", T0, &mut self.rng).unwrap()
    }

    pub(crate) fn entity(&mut self, service: &Service, identity: &str) -> Entity {
        Entity::create(
            service.sid(),
            Identity::parse(identity).unwrap(),
            T0,
            &mut self.rng,
        )
    }

    fn new_factor(entity: &Entity, name: &str) -> NewFactor {
        NewFactor::new(
            entity.service_sid(),
            entity.sid(),
            entity.identity().clone(),
            name,
        )
    }

    /// An unverified TOTP factor and its events.
    pub(crate) fn totp_factor(&mut self, entity: &Entity) -> (Factor, Vec<Event>) {
        let kind = FactorKind::totp(
            TotpSecret::generate(&mut self.rng),
            TotpAlgorithm::default(),
            TotpParams::default(),
        );
        let created = Factor::create(
            Self::new_factor(entity, "Authenticator"),
            kind,
            T0,
            &mut self.rng,
        )
        .unwrap();
        (created.factor, created.events)
    }

    /// An unverified push factor and its events.
    pub(crate) fn push_factor(&mut self, entity: &Entity) -> (Factor, Vec<Event>) {
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        der.extend_from_slice(&[0x42; 64]);
        let binding = PushBinding::from_spki_der(&der).unwrap();
        let config = PushConfig::new(
            "com.example.app",
            NotificationPlatform::None,
            None,
            Some("1.0.0"),
            CredentialSid::generate(&mut self.rng),
        )
        .unwrap();
        let created = Factor::create(
            Self::new_factor(entity, "Phone"),
            FactorKind::push(binding, config),
            T0,
            &mut self.rng,
        )
        .unwrap();
        (created.factor, created.events)
    }

    /// A service, its entity `identity` and a push factor verified at `at(10)`,
    /// all written to `store` (with the factor's events).
    pub(crate) async fn phone_in<S: verify_store::Store>(
        &mut self,
        store: &S,
        identity: &str,
    ) -> (Service, Entity, Factor) {
        let service = self.service();
        store.insert_service(&service).await.unwrap();
        let entity = self.entity(&service, identity);
        store.insert_entity(&entity).await.unwrap();
        let (phone, events) = self.push_factor(&entity);
        store
            .insert_factor(verify_store::FactorInsert::new(&phone, &events))
            .await
            .unwrap();
        let (phone, events) = Self::verified(&phone, VerificationProof::PushSignature, at(10));
        store.update_factor(&phone, &events).await.unwrap();
        (service, entity, phone)
    }

    /// `factor` verified at `now`.
    pub(crate) fn verified(
        factor: &Factor,
        proof: VerificationProof,
        now: UnixTime,
    ) -> (Factor, Vec<Event>) {
        let verified = factor.verify(proof, now).unwrap();
        (verified.factor, verified.events)
    }

    /// A pending challenge on `factor` created at `now`.
    pub(crate) fn challenge(&mut self, factor: &Factor, now: UnixTime) -> Challenge {
        let mut input = NewChallenge::new();
        if factor.factor_type() == verify_model::FactorType::Push {
            input = input.with_details(Details::new("Sign in?", Vec::new()).unwrap());
        }
        Challenge::create(ChallengeTarget::Factor(factor), input, now, &mut self.rng)
            .unwrap()
            .challenge
    }

    /// `challenge` approved at `now` through `factor` (push).
    pub(crate) fn approved(
        challenge: &Challenge,
        factor: &Factor,
        now: UnixTime,
    ) -> (Challenge, Vec<Event>) {
        let approved = challenge
            .approve(&AnswerInput::new(now).with_factor(factor))
            .unwrap();
        (approved.challenge, approved.events)
    }

    pub(crate) fn webhook(&mut self, service: &Service) -> Webhook {
        Webhook::create(
            service.sid(),
            "Events",
            vec![WebhookEventType::All],
            "https://hooks.example.com/verify",
            T0,
            &mut self.rng,
        )
        .unwrap()
    }
}
