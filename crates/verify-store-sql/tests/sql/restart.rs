//! SQLite survives a restart: a store is closed and dropped, the file reopened, and
//! every factor, challenge and pending event is still there. Also: migrations are
//! versioned and idempotent.

use sqlx::Row as _;
use verify_model::{ChallengeFilter, ChallengeStatus, VerificationProof};
use verify_store::{FactorInsert, ListQuery, Store};
use verify_store_sql::{SCHEMA_VERSION, SqliteStore};

use crate::support::{Records, at, sqlite_path};

#[tokio::test]
async fn everything_survives_a_restart() {
    let path = sqlite_path("restart");
    let mut records = Records::new(11);
    let service = records.service();
    let entity = records.entity(&service, "user-0001");
    let (totp0, totp_created) = records.totp_factor(&entity);
    let (totp, totp_verified) = Records::verified(&totp0, VerificationProof::TotpStep(100), at(30));
    let (push0, push_created) = records.push_factor(&entity);
    let (push, push_verified) = Records::verified(&push0, VerificationProof::PushSignature, at(31));
    let pending = records.challenge(&push, at(40));
    let answered0 = records.challenge(&push, at(41));
    let (answered, approved_events) = Records::approved(&answered0, &push, at(42));
    let webhook = records.webhook(&service);

    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        store.insert_service(&service).await.unwrap();
        store.insert_entity(&entity).await.unwrap();
        store
            .insert_factor(FactorInsert::new(&totp0, &totp_created))
            .await
            .unwrap();
        store.update_factor(&totp, &totp_verified).await.unwrap();
        store
            .insert_factor(FactorInsert::new(&push0, &push_created))
            .await
            .unwrap();
        store.update_factor(&push, &push_verified).await.unwrap();
        store.insert_challenge(&pending, &[]).await.unwrap();
        store.insert_challenge(&answered0, &[]).await.unwrap();
        store
            .update_challenge(&answered, &approved_events)
            .await
            .unwrap();
        store.insert_webhook(&webhook).await.unwrap();
        store.close().await;
    }

    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap(); // a second run applies nothing
    assert_eq!(
        store.get_service(service.sid()).await.unwrap(),
        Some(service.clone())
    );
    assert_eq!(
        store
            .get_entity_by_identity(service.sid(), entity.identity())
            .await
            .unwrap(),
        Some(entity.clone())
    );
    assert_eq!(
        store
            .entity_factors(service.sid(), entity.sid())
            .await
            .unwrap(),
        vec![totp.clone(), push.clone()]
    );
    assert_eq!(
        store
            .get_challenge(service.sid(), pending.sid())
            .await
            .unwrap(),
        Some(pending.clone())
    );
    assert_eq!(
        store
            .get_challenge(service.sid(), answered.sid())
            .await
            .unwrap(),
        Some(answered.clone())
    );
    let still_pending = store
        .list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::new(None, Some(ChallengeStatus::Pending)),
            &ListQuery::default(),
            at(60),
        )
        .await
        .unwrap();
    assert_eq!(still_pending.items, vec![pending]);
    assert_eq!(
        store
            .get_webhook(service.sid(), webhook.sid())
            .await
            .unwrap(),
        Some(webhook)
    );

    let expected: Vec<_> = totp_created
        .iter()
        .chain(&totp_verified)
        .chain(&push_created)
        .chain(&push_verified)
        .chain(&approved_events)
        .cloned()
        .collect();
    let outbox = store.peek_events(None, 100).await.unwrap();
    assert_eq!(
        outbox.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        expected
    );
    // Sequence numbers keep growing after the restart.
    let last = outbox.last().unwrap().sequence;
    let deleted = totp.delete(at(70)).unwrap();
    store
        .delete_factor(service.sid(), totp.sid(), totp.version(), &deleted.events)
        .await
        .unwrap();
    let newest = store.peek_events(Some(last), 10).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert!(newest.iter().all(|e| e.sequence > last));
}

#[tokio::test]
async fn migrations_are_recorded_once() {
    let store = SqliteStore::open(sqlite_path("migrations")).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let rows = sqlx::query("SELECT version, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let applied: Vec<(i64, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(applied.last(), Some(&(SCHEMA_VERSION, true)));
    assert_eq!(applied.len(), usize::try_from(SCHEMA_VERSION).unwrap());
}
