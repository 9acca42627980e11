//! The PostgreSQL outbox under concurrent writers (schema v5: events numbered when
//! read, not by a row every writer updates): every event read exactly once by a
//! reader that pages with `after` and acknowledges as it goes, numbers strictly
//! increasing, each writer's events in the order it wrote them; a write still open
//! holds back no committed event and is read after them once it commits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use verify_model::{ChallengeSid, EventType};
use verify_store::{OutboxEvent, Store};
use verify_store_sql::PgStore;

use crate::support::{Records, at, pg_store};

const WRITERS: usize = 8;
const APPROVALS_PER_WRITER: usize = 30;

/// One writer: its own entity and phone, then `APPROVALS_PER_WRITER` challenges
/// created and approved one after the other. Returns the approved challenges in
/// the order their approvals committed.
async fn writer(store: PgStore, seed: u64) -> Vec<ChallengeSid> {
    let mut records = Records::new(seed);
    let (_, _, phone) = records.phone_in(&store, &format!("writer-{seed}")).await;
    let mut approved = Vec::new();
    for _ in 0..APPROVALS_PER_WRITER {
        let challenge = records.challenge(&phone, at(20));
        store.insert_challenge(&challenge, &[]).await.unwrap();
        let (done, events) = Records::approved(&challenge, &phone, at(21));
        store.update_challenge(&done, &events).await.unwrap();
        approved.push(done.sid());
    }
    approved
}

/// Reads everything after `cursor` and acknowledges it, as a deliverer does.
async fn read_and_ack(store: &PgStore, cursor: &mut u64, seen: &mut Vec<OutboxEvent>) {
    loop {
        let events = store.peek_events(Some(*cursor), 64).await.unwrap();
        let Some(last) = events.last().map(|e| e.sequence) else {
            return;
        };
        for event in &events {
            assert!(
                event.sequence > *cursor,
                "{} after {cursor}",
                event.sequence
            );
            *cursor = event.sequence;
        }
        seen.extend(events);
        store.ack_events(last).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn concurrent_writers_every_event_once_in_each_writers_order() {
    let store = pg_store("outbox_order").await;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut cursor = 0;
            let mut seen = Vec::new();
            while !done.load(Ordering::Acquire) {
                read_and_ack(&store, &mut cursor, &mut seen).await;
            }
            // Everything committed before `done` was set.
            read_and_ack(&store, &mut cursor, &mut seen).await;
            seen
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(store.clone(), 100 + u64::try_from(w).unwrap())))
        .collect();
    let mut written = Vec::new();
    for handle in writers {
        written.push(handle.await.unwrap());
    }
    done.store(true, Ordering::Release);
    let seen = reader.await.unwrap();

    // Every event once: 3 per writer for its factor and entity setup is not counted;
    // the approvals are.
    let approvals: Vec<ChallengeSid> = seen
        .iter()
        .filter(|e| e.event.event_type == EventType::ChallengeApproved)
        .map(|e| e.event.challenge_sid.unwrap())
        .collect();
    assert_eq!(approvals.len(), WRITERS * APPROVALS_PER_WRITER);
    let mut position = BTreeMap::new();
    for (at, sid) in approvals.iter().enumerate() {
        assert!(position.insert(*sid, at).is_none(), "{sid} read twice");
    }
    // Each writer's approvals in the order it made them (each committed before the
    // next began).
    for order in &written {
        let read: Vec<usize> = order.iter().map(|sid| position[sid]).collect();
        assert!(
            read.windows(2).all(|w| w[0] < w[1]),
            "a writer's approvals out of order: {read:?}"
        );
    }
    // Numbers strictly increasing over the whole read.
    assert!(seen.windows(2).all(|w| w[0].sequence < w[1].sequence));
    // And nothing left behind.
    assert!(store.peek_events(None, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn a_write_still_open_holds_back_nothing_and_is_read_after_what_was_read() {
    let store = pg_store("outbox_open_write").await;
    let mut records = Records::new(8);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    // A write that began first and is still open: its event is in the outbox table,
    // uncommitted, with the oldest transaction id.
    let mut deleted = sample_event(&store).await;
    deleted.event_type = EventType::FactorDeleted;
    let mut open = store.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO verify_outbox (record) VALUES ($1)")
        .bind(serde_json::to_string(&deleted).unwrap())
        .execute(&mut *open)
        .await
        .unwrap();
    let approved = writer(store.clone(), 9).await;

    // Committed events are read at once, though an older transaction is open.
    let mut cursor = 0;
    let mut seen = Vec::new();
    read_and_ack(&store, &mut cursor, &mut seen).await;
    let approvals: Vec<ChallengeSid> = seen
        .iter()
        .filter(|e| e.event.event_type == EventType::ChallengeApproved)
        .map(|e| e.event.challenge_sid.unwrap())
        .collect();
    assert_eq!(approvals, approved);
    assert!(
        seen.iter()
            .all(|e| e.event.event_type != EventType::FactorDeleted)
    );

    // When the open write commits, its event is numbered after everything read.
    open.commit().await.unwrap();
    let mut later = Vec::new();
    read_and_ack(&store, &mut cursor, &mut later).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].event.event_type, EventType::FactorDeleted);
    assert!(later[0].sequence > seen.last().unwrap().sequence);
}

/// An event as the store wrote one (the first a writer's setup appends).
async fn sample_event(store: &PgStore) -> verify_model::Event {
    let mut records = Records::new(10);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "sample-user");
    store.insert_entity(&entity).await.unwrap();
    let (_, events) = records.push_factor(&entity);
    events.into_iter().next().unwrap()
}
