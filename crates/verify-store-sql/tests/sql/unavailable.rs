//! Database faults are answered promptly and typed: several SQLite stores (as
//! several processes) on one file write concurrently without a backend failure; a
//! write lock another connection holds, a pool with no free connection, and a
//! PostgreSQL server that does not answer each give `StoreError::Unavailable`
//! within the configured timeout (never `Backend`, never after sqlx's 30 s).

use std::time::{Duration, Instant};

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use verify_model::{AnswerInput, ServiceSid, VerificationProof};
use verify_store::{FactorInsert, Store, StoreError};
use verify_store_sql::{PgStore, SqliteStore, StoreOptions};

use crate::support::{Records, at, pg_url, sqlite_path};

/// The timeouts of the tests that wait for a fault on purpose: short, so the
/// tests are quick, and far below sqlx's default 30 s acquire timeout.
const SHORT_WAIT: Duration = Duration::from_millis(300);

/// Hang guard: how long a test lets one faulty operation take before failing.
/// Not a performance target: the point is "about the timeout, not 30 s".
const HANG_GUARD: Duration = Duration::from_secs(10);

/// Racing tasks per store in the cross-store test, each answering the round's
/// challenge and creating one more challenge on the factor.
const TASKS_PER_STORE: usize = 8;

/// Rounds of the cross-store test.
const ROUNDS: usize = 15;

/// The waits of the cross-store test: long enough that on a loaded machine no
/// wait runs out, so that any `Unavailable` there would be a write that could not
/// be waited for at all (a stale snapshot, `SQLITE_BUSY_SNAPSHOT`).
const PATIENT_WAIT: Duration = Duration::from_secs(60);

/// Two stores with their own pools (as two server processes) on one file: many
/// tasks approve one challenge per round (exactly one wins, the rest get
/// `Conflict`) and insert challenges (a read of the factor, then a write), round
/// after round. No operation fails otherwise: a deferred transaction would read,
/// find its snapshot stale when it writes, and fail with SQLITE_BUSY_SNAPSHOT.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_write_concurrently_without_failures() {
    let path = sqlite_path("two_stores");
    let options = StoreOptions::new()
        .with_acquire_timeout(PATIENT_WAIT)
        .with_busy_timeout(PATIENT_WAIT);
    let first = SqliteStore::open_with_options(&path, &options)
        .await
        .unwrap();
    first.migrate().await.unwrap();
    let second = SqliteStore::open_with_options(&path, &options)
        .await
        .unwrap();
    second.migrate().await.unwrap();

    let mut records = Records::new(71);
    let service = records.service();
    first.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "user-0001");
    first.insert_entity(&entity).await.unwrap();
    let (phone, events) = records.push_factor(&entity);
    first
        .insert_factor(FactorInsert::new(&phone, &events))
        .await
        .unwrap();
    let (phone, events) = Records::verified(&phone, VerificationProof::PushSignature, at(10));
    first.update_factor(&phone, &events).await.unwrap();

    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let contested = records.challenge(&phone, at(20));
        first.insert_challenge(&contested, &[]).await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..2 * TASKS_PER_STORE {
            let store = if task % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (contested, phone) = (contested.clone(), phone.clone());
            let extra = records.challenge(&phone, at(30));
            tasks.spawn(async move {
                let inserted = store.insert_challenge(&extra, &[]).await;
                // Each task reads the challenge itself, so some read it after the
                // winner wrote (the model then refuses the approval: no write).
                let approved = match store
                    .get_challenge(contested.service_sid(), contested.sid())
                    .await
                {
                    Err(error) => Err(error),
                    Ok(None) => panic!("the round's challenge is gone"),
                    Ok(Some(read)) => {
                        match read.approve(&AnswerInput::new(at(40)).with_factor(&phone)) {
                            Err(_) => Ok(false),
                            Ok(approval) => match store
                                .update_challenge(&approval.challenge, &approval.events)
                                .await
                            {
                                Ok(()) => Ok(true),
                                Err(StoreError::Conflict { .. }) => Ok(false),
                                Err(error) => Err(error),
                            },
                        }
                    }
                };
                (inserted, approved)
            });
        }
        let mut winners = 0;
        while let Some(joined) = tasks.join_next().await {
            let (inserted, approved) = joined.unwrap();
            if let Err(error) = inserted {
                failures.push(format!("round {round}: insert: {error} ({error:?})"));
            }
            match approved {
                Ok(true) => winners += 1,
                Ok(false) => {}
                Err(error) => failures.push(format!("round {round}: approve: {error} ({error:?})")),
            }
        }
        assert!(winners <= 1, "round {round}: {winners} approvals won");
    }
    assert!(
        failures.is_empty(),
        "{} failed operations: {failures:#?}",
        failures.len()
    );
    let challenges = first
        .list_challenges(
            service.sid(),
            entity.sid(),
            &verify_model::ChallengeFilter::default(),
            &verify_store::ListQuery::new(
                verify_model::ListOrder::default(),
                verify_model::PageSize::new(1000).unwrap(),
            ),
            at(50),
        )
        .await
        .unwrap();
    assert_eq!(challenges.items.len(), ROUNDS * (1 + 2 * TASKS_PER_STORE));
    first.close().await;
    second.close().await;
}

/// A SQLite store whose waits are [`SHORT_WAIT`].
async fn impatient_store(path: &std::path::Path) -> SqliteStore {
    let options = StoreOptions::new()
        .with_acquire_timeout(SHORT_WAIT)
        .with_busy_timeout(SHORT_WAIT);
    let store = SqliteStore::open_with_options(path, &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// Asserts `result` is `Unavailable` and came within the hang guard.
#[track_caller]
fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>, started: Instant) {
    let elapsed = started.elapsed();
    match result {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(elapsed < HANG_GUARD, "took {elapsed:?}");
}

/// Another connection holds the write lock (`BEGIN EXCLUSIVE`, as another process
/// in the middle of a write): writes wait the busy timeout, then fail as
/// `Unavailable`, both a plain insert and a write transaction (`BEGIN IMMEDIATE`);
/// reads go on (WAL); once the lock is released, writes succeed again.
#[tokio::test]
async fn a_held_write_lock_makes_writes_unavailable_after_the_busy_timeout() {
    let path = sqlite_path("locked");
    let store = impatient_store(&path).await;
    let mut records = Records::new(72);
    let service = records.service();
    store.insert_service(&service).await.unwrap();

    let mut holder = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();

    let started = Instant::now();
    assert_unavailable(store.insert_service(&records.service()).await, started);
    let renamed = service.with_friendly_name("Owl Bank 2", at(1)).unwrap();
    let started = Instant::now();
    assert_unavailable(store.update_service(&renamed).await, started);
    // Readers do not wait for the writer in WAL mode.
    assert!(store.get_service(service.sid()).await.unwrap().is_some());

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    store.update_service(&renamed).await.unwrap();
    holder.close().await.unwrap();
    store.close().await;
}

/// The store's one writer connection is taken (as by a long operation): the next
/// write waits the acquire timeout, then fails as `Unavailable`, while reads go on
/// through the reader connections.
#[tokio::test]
async fn no_free_connection_is_unavailable_after_the_acquire_timeout() {
    let store = impatient_store(&sqlite_path("busy_pool")).await;
    let mut records = Records::new(74);
    let held = store.pool().acquire().await.unwrap();
    let started = Instant::now();
    assert_unavailable(store.insert_service(&records.service()).await, started);
    assert!(store.get_service(service_sid()).await.unwrap().is_none());
    drop(held);
    store.insert_service(&records.service()).await.unwrap();
    store.close().await;
}

/// Without readers every operation shares the writer: a read waits for it too.
#[tokio::test]
async fn without_readers_a_held_writer_makes_reads_unavailable() {
    let options = StoreOptions::new()
        .with_acquire_timeout(SHORT_WAIT)
        .with_busy_timeout(SHORT_WAIT)
        .with_sqlite_readers(0);
    let store = SqliteStore::open_with_options(&sqlite_path("no_readers"), &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let held = store.pool().acquire().await.unwrap();
    let started = Instant::now();
    assert_unavailable(store.get_service(service_sid()).await, started);
    drop(held);
    assert!(store.get_service(service_sid()).await.unwrap().is_none());
    store.close().await;
}

/// A write committed through the writer is seen by the very next read, which the
/// readers serve: every read begins after the commit it follows.
#[tokio::test]
async fn reads_after_a_write_see_it() {
    let store = impatient_store(&sqlite_path("read_your_writes")).await;
    let mut records = Records::new(75);
    for round in 0..50_u64 {
        let service = records.service();
        store.insert_service(&service).await.unwrap();
        assert_eq!(
            store.get_service(service.sid()).await.unwrap(),
            Some(service.clone())
        );
        let renamed = service
            .with_friendly_name(&format!("Owl Bank {round}"), at(1))
            .unwrap();
        store.update_service(&renamed).await.unwrap();
        assert_eq!(
            store.get_service(service.sid()).await.unwrap(),
            Some(renamed)
        );
    }
    store.close().await;
}

fn service_sid() -> ServiceSid {
    Records::new(73).service().sid()
}

/// A PostgreSQL server that is not there (nothing listens on the port): an
/// operation fails as `Unavailable` after the acquire timeout (sqlx retries the
/// refused connection until then), and no part of the error holds the password of
/// the URL. Needs no server, so it is not ignored.
#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_after_the_acquire_timeout() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let password = "s3cret-never-shown";
    let url = format!("postgres://verify:{password}@127.0.0.1:{port}/verify");
    let store =
        PgStore::connect_lazy(&url, &StoreOptions::new().with_acquire_timeout(SHORT_WAIT)).unwrap();
    let started = Instant::now();
    let result = store.get_service(service_sid()).await;
    let shown = match &result {
        Err(error) => format!("{error} {error:?} {}", chain(error)),
        Ok(_) => String::new(),
    };
    assert_unavailable(result, started);
    assert!(!shown.contains(password), "{shown}");
}

/// An error and its sources, joined.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A PostgreSQL pool of one connection, held: the next operation fails as
/// `Unavailable` after the acquire timeout, and works once the connection is back.
#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn an_exhausted_postgres_pool_is_unavailable_after_the_acquire_timeout() {
    let url = pg_url("an_exhausted_postgres_pool_is_unavailable_after_the_acquire_timeout");
    let options = StoreOptions::new()
        .with_max_connections(1)
        .with_acquire_timeout(SHORT_WAIT);
    let store = PgStore::connect_with_options(&url, &options).await.unwrap();
    let held = store.pool().acquire().await.unwrap();
    let started = Instant::now();
    assert_unavailable(store.get_service(service_sid()).await, started);
    drop(held);
    // The database is not migrated: any answer but Unavailable shows the
    // connection came back (a missing table is a Backend error).
    let again = store.get_service(service_sid()).await;
    assert!(
        !matches!(again, Err(StoreError::Unavailable(_))),
        "{again:?}"
    );
    store.close().await;
}

/// A database in memory is private to its connection (`:memory:`) or shared table
/// by table (sqlx's `sqlite::memory:`): such a store reads through its writer, so
/// what it wrote is there to read (separate readers would each open an empty one).
#[tokio::test]
async fn an_in_memory_store_reads_what_it_wrote() {
    use std::str::FromStr as _;
    for connect in [
        SqliteConnectOptions::new().filename(":memory:"),
        SqliteConnectOptions::from_str("sqlite::memory:").unwrap(),
    ] {
        let store = SqliteStore::open_with(connect).await.unwrap();
        store.migrate().await.unwrap();
        let service = Records::new(76).service();
        store.insert_service(&service).await.unwrap();
        assert_eq!(
            store.get_service(service.sid()).await.unwrap(),
            Some(service)
        );
        store.close().await;
    }
}
