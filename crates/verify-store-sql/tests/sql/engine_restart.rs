//! The restart test through the engine: a SQLite-backed `Verify` is dropped and a
//! new one opened on the same file; the factor (with its secret and its last used
//! time step), the pending challenge and the undelivered events are all still there.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use verify_engine::{
    EngineConfig, ManualClock, NewChallengeRequest, NewTotpFactor, ServiceSettings, Verify,
};
use verify_model::{
    AccountSid, ChallengeOutcome, ChallengeStatus, EventType, FactorStatus, Identity, UnixTime,
};
use verify_store_sql::SqliteStore;

use crate::support::sqlite_path;

fn code_at(uri: &str, now: UnixTime) -> String {
    let key = verify_totp::KeyUri::parse(uri).unwrap();
    let config = key.config(verify_totp::Skew::new(1).unwrap());
    verify_totp::generate(key.secret(), &config, now)
        .unwrap()
        .to_string()
}

async fn engine(path: &std::path::Path, clock: &ManualClock, seed: u64) -> Verify<SqliteStore> {
    let store = SqliteStore::open(path).await.unwrap();
    store.migrate().await.unwrap();
    Verify::new(
        store,
        EngineConfig::new(AccountSid::from_bytes([1; 16])),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(seed),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_on_sqlite_survives_a_restart() {
    let path = sqlite_path("engine");
    let clock = ManualClock::new(UnixTime::from_secs(1_767_225_600));
    let alice = Identity::parse("ff483d1f-f591-898a").unwrap();

    let verify = engine(&path, &clock, 1).await;
    let service = verify
        .create_service("Owl Bank", &ServiceSettings::new())
        .await
        .unwrap()
        .sid();
    let created = verify
        .create_totp_factor(service, &alice, NewTotpFactor::new("alice"))
        .await
        .unwrap();
    let first = code_at(&created.uri, clock.get());
    let factor = verify
        .verify_factor(service, &alice, created.factor.sid(), &first)
        .await
        .unwrap();
    // A challenge created without a code: pending, answered after the restart.
    let pending = verify
        .create_challenge(service, &alice, factor.sid(), NewChallengeRequest::new())
        .await
        .unwrap();
    assert_eq!(
        pending.challenge.status_at(clock.get()),
        ChallengeStatus::Pending
    );
    let events_before = verify.peek_events(None, 100).await.unwrap();
    drop(verify);

    clock.advance(std::time::Duration::from_secs(30));
    let verify = engine(&path, &clock, 2).await;
    let reloaded = verify
        .fetch_factor(service, &alice, factor.sid())
        .await
        .unwrap();
    assert_eq!(reloaded, factor);
    assert_eq!(reloaded.status(), FactorStatus::Verified);
    let still = verify
        .fetch_challenge(service, &alice, pending.challenge.sid())
        .await
        .unwrap();
    assert_eq!(still.status_at(clock.get()), ChallengeStatus::Pending);
    assert_eq!(verify.peek_events(None, 100).await.unwrap(), events_before);

    // The enrollment code is still spent after the restart (the last used time step
    // was persisted): replaying it is refused.
    let replayed = verify
        .update_challenge(service, &alice, pending.challenge.sid(), &first, None)
        .await
        .unwrap();
    assert!(matches!(
        replayed.outcome,
        ChallengeOutcome::CodeAlreadyUsed { .. }
    ));
    // A fresh code (the secret survived) approves the challenge created before it.
    let fresh = code_at(&created.uri, clock.get());
    let approved = verify
        .update_challenge(service, &alice, pending.challenge.sid(), &fresh, None)
        .await
        .unwrap();
    assert!(approved.is_approved());
    let types: Vec<EventType> = verify
        .drain_events(100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event.event_type)
        .collect();
    assert_eq!(
        types,
        [
            EventType::FactorCreated,
            EventType::FactorVerified,
            EventType::ChallengeApproved
        ]
    );
}
