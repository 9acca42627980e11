//! Secrets at rest: with a sealer, the raw rows hold no TOTP secret, push binding or
//! webhook secret in the clear, and records still read back equal.

use std::sync::Arc;

use sqlx::Row as _;
use verify_store::{FactorInsert, Store, StoreError};
use verify_store_sql::{SecretSealer, SqliteStore};

use verify_store_sql::AesGcmSealer;

use crate::support::{Records, sqlite_path};

/// The plaintext of a JSON field of a record's serde form.
fn field(record: &impl serde::Serialize, path: &[&str]) -> String {
    let value = serde_json::to_value(record).unwrap();
    let mut at = &value;
    for key in path {
        at = &at[*key];
    }
    at.as_str().expect("a string field").to_owned()
}

fn sealer(key: u8) -> Arc<dyn SecretSealer> {
    Arc::new(AesGcmSealer::new(&[key; 32]).unwrap())
}

#[tokio::test]
async fn sealed_rows_hold_no_plaintext_secret() {
    let path = sqlite_path("sealed");
    let store = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(7));
    store.migrate().await.unwrap();
    let mut records = Records::new(1);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "user-0001");
    store.insert_entity(&entity).await.unwrap();
    let (totp, events) = records.totp_factor(&entity);
    store
        .insert_factor(FactorInsert::new(&totp, &events))
        .await
        .unwrap();
    let (push, events) = records.push_factor(&entity);
    store
        .insert_factor(FactorInsert::new(&push, &events))
        .await
        .unwrap();
    let webhook = records.webhook(&service);
    store.insert_webhook(&webhook).await.unwrap();

    let secrets = [
        field(&totp, &["kind", "secret"]),
        field(&push, &["kind", "binding"]),
        field(&webhook, &["secret"]),
    ];
    let mut rows: Vec<String> = Vec::new();
    for table in ["verify_factors", "verify_webhooks"] {
        for row in sqlx::query(&format!("SELECT record FROM {table}"))
            .fetch_all(store.pool())
            .await
            .unwrap()
        {
            rows.push(row.get(0));
        }
    }
    assert_eq!(rows.len(), 3);
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret}");
        assert!(
            rows.iter().all(|row| !row.contains(secret.as_str())),
            "a raw row holds a secret in the clear"
        );
    }
    assert!(rows.iter().all(|row| row.contains("sealed_v1")));

    // They read back equal.
    assert_eq!(
        store.get_factor(service.sid(), totp.sid()).await.unwrap(),
        Some(totp.clone())
    );
    assert_eq!(
        store.get_factor(service.sid(), push.sid()).await.unwrap(),
        Some(push.clone())
    );
    assert_eq!(
        store
            .get_webhook(service.sid(), webhook.sid())
            .await
            .unwrap(),
        Some(webhook.clone())
    );
    let listed = store
        .entity_factors(service.sid(), entity.sid())
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    store.close().await;

    // Without the sealer, or with another key, a sealed record is unreadable, not
    // silently wrong.
    let plain = SqliteStore::open(&path).await.unwrap();
    assert!(matches!(
        plain.get_factor(service.sid(), totp.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    plain.close().await;
    let wrong = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(8));
    assert!(matches!(
        wrong.get_webhook(service.sid(), webhook.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    wrong.close().await;
}

#[tokio::test]
async fn a_sealed_secret_moved_to_another_row_does_not_open() {
    let store = SqliteStore::open(sqlite_path("moved"))
        .await
        .unwrap()
        .with_sealer(sealer(9));
    store.migrate().await.unwrap();
    let mut records = Records::new(2);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "user-0001");
    store.insert_entity(&entity).await.unwrap();
    let (first, events) = records.totp_factor(&entity);
    store
        .insert_factor(FactorInsert::new(&first, &events))
        .await
        .unwrap();
    let (second, events) = records.totp_factor(&entity);
    store
        .insert_factor(FactorInsert::new(&second, &events))
        .await
        .unwrap();

    // Copy the first factor's sealed secret into the second factor's row.
    let sealed_of = |text: &str| -> serde_json::Value {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        value["kind"]["secret"].clone()
    };
    let first_row: String = sqlx::query("SELECT record FROM verify_factors WHERE sid = $1")
        .bind(first.sid().as_bytes().as_slice())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    let second_row: String = sqlx::query("SELECT record FROM verify_factors WHERE sid = $1")
        .bind(second.sid().as_bytes().as_slice())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    let mut tampered: serde_json::Value = serde_json::from_str(&second_row).unwrap();
    tampered["kind"]["secret"] = sealed_of(&first_row);
    sqlx::query("UPDATE verify_factors SET record = $1 WHERE sid = $2")
        .bind(tampered.to_string())
        .bind(second.sid().as_bytes().as_slice())
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.get_factor(service.sid(), second.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        store.get_factor(service.sid(), first.sid()).await.unwrap(),
        Some(first)
    );
}

#[tokio::test]
async fn a_sealer_refuses_plaintext_secrets_unless_migrating() {
    let path = sqlite_path("introduced");
    let plain = SqliteStore::open(&path).await.unwrap();
    plain.migrate().await.unwrap();
    let mut records = Records::new(3);
    let service = records.service();
    plain.insert_service(&service).await.unwrap();
    let webhook = records.webhook(&service);
    plain.insert_webhook(&webhook).await.unwrap();
    plain.close().await;
    // A strict sealing store refuses the secret in the clear (it could have been
    // planted by writing the row directly)...
    let strict = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(1));
    assert!(matches!(
        strict.get_webhook(service.sid(), webhook.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    strict.close().await;
    // ...a migrating one reads it, and seals it on the next write.
    let migrating = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer_accepting_plaintext(sealer(1));
    assert_eq!(
        migrating
            .get_webhook(service.sid(), webhook.sid())
            .await
            .unwrap(),
        Some(webhook.clone())
    );
    let disabled = webhook
        .with_status(verify_model::WebhookStatus::Disabled, crate::support::at(5))
        .unwrap();
    migrating.update_webhook(&disabled).await.unwrap();
    migrating.close().await;
    let strict = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(1));
    assert_eq!(
        strict
            .get_webhook(service.sid(), webhook.sid())
            .await
            .unwrap(),
        Some(disabled)
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn sealed_rows_on_postgres_hold_no_plaintext_secret() {
    let store = crate::support::pg_store("sealed_rows_on_postgres").await;
    let store = store.with_sealer(sealer(5));
    let mut records = Records::new(4);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "user-0001");
    store.insert_entity(&entity).await.unwrap();
    let (totp, events) = records.totp_factor(&entity);
    store
        .insert_factor(FactorInsert::new(&totp, &events))
        .await
        .unwrap();
    let secret = field(&totp, &["kind", "secret"]);
    let row: String = sqlx::query("SELECT record FROM verify_factors")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(!row.contains(secret.as_str()));
    assert_eq!(
        store.get_factor(service.sid(), totp.sid()).await.unwrap(),
        Some(totp)
    );
}

/// A key rotation: rows sealed under key A are read through a `RotatingSealer`
/// (B current, A previous), `reseal_secrets` rewrites every row under B, and then B
/// alone reads them all while A reads none. A database written without a key is
/// sealed the same way (opened accepting plaintext, then resealed).
#[tokio::test]
async fn a_key_rotation_reseals_every_row_under_the_new_key() {
    use verify_store_sql::RotatingSealer;
    let path = sqlite_path("rotation");
    let plain = SqliteStore::open(&path).await.unwrap();
    plain.migrate().await.unwrap();
    let mut records = Records::new(3);
    let service = records.service();
    plain.insert_service(&service).await.unwrap();
    let entity = records.entity(&service, "user-0001");
    plain.insert_entity(&entity).await.unwrap();
    let (written_plain, events) = records.totp_factor(&entity);
    plain
        .insert_factor(FactorInsert::new(&written_plain, &events))
        .await
        .unwrap();
    plain.close().await;

    // Key A: the plaintext row is sealed by a reseal that accepts plaintext.
    let under_a = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer_accepting_plaintext(sealer(0xa));
    assert_eq!(under_a.reseal_secrets().await.unwrap(), 1);
    let (sealed_a, events) = records.totp_factor(&entity);
    under_a
        .insert_factor(FactorInsert::new(&sealed_a, &events))
        .await
        .unwrap();
    let webhook = records.webhook(&service);
    under_a.insert_webhook(&webhook).await.unwrap();
    under_a.close().await;
    let only_a = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(0xa));
    assert_eq!(
        only_a
            .get_factor(service.sid(), written_plain.sid())
            .await
            .unwrap(),
        Some(written_plain.clone()),
        "the plaintext row was sealed under A"
    );
    only_a.close().await;

    // Rotate to B with A as the previous key: everything still reads.
    let rotating: Arc<dyn SecretSealer> = Arc::new(
        RotatingSealer::new(
            AesGcmSealer::new(&[0xb; 32]).unwrap(),
            vec![AesGcmSealer::new(&[0xa; 32]).unwrap()],
        )
        .unwrap(),
    );
    let both = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(rotating);
    assert_eq!(
        both.get_factor(service.sid(), sealed_a.sid())
            .await
            .unwrap(),
        Some(sealed_a.clone())
    );
    assert_eq!(both.reseal_secrets().await.unwrap(), 3);
    both.close().await;

    // B alone reads every row; A reads none.
    let only_b = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(0xb));
    for factor in [&written_plain, &sealed_a] {
        assert_eq!(
            only_b
                .get_factor(service.sid(), factor.sid())
                .await
                .unwrap(),
            Some(factor.clone())
        );
    }
    assert_eq!(
        only_b
            .get_webhook(service.sid(), webhook.sid())
            .await
            .unwrap(),
        Some(webhook.clone())
    );
    only_b.close().await;
    let stale = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_sealer(sealer(0xa));
    assert!(matches!(
        stale.get_factor(service.sid(), sealed_a.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        stale.get_webhook(service.sid(), webhook.sid()).await,
        Err(StoreError::Corrupt { .. })
    ));
    stale.close().await;
}

/// A webhook's rotated-out secret (`previous_secret.secret`) is sealed like the
/// current one, and reads back equal.
#[tokio::test]
async fn a_rotated_out_webhook_secret_is_sealed_too() {
    let store = SqliteStore::open(sqlite_path("rotated-webhook"))
        .await
        .unwrap()
        .with_sealer(sealer(0xc));
    store.migrate().await.unwrap();
    let mut records = Records::new(4);
    let service = records.service();
    store.insert_service(&service).await.unwrap();
    let webhook = records.webhook(&service);
    store.insert_webhook(&webhook).await.unwrap();
    let now = webhook.date_created();
    let rotated = webhook
        .rotate_secret(std::time::Duration::from_secs(3600), now, &mut records.rng)
        .unwrap();
    store.update_webhook(&rotated).await.unwrap();
    let previous = field(&rotated, &["previous_secret", "secret"]);
    assert_eq!(previous, field(&webhook, &["secret"]));
    let row: String = sqlx::query("SELECT record FROM verify_webhooks")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(
        !row.contains(previous.as_str()),
        "the old secret is in the clear"
    );
    assert!(!row.contains(field(&rotated, &["secret"]).as_str()));
    assert_eq!(
        store
            .get_webhook(service.sid(), rotated.sid())
            .await
            .unwrap(),
        Some(rotated)
    );
    store.close().await;
}
