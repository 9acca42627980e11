//! A database that cannot be written is answered 503 with `Retry-After` and the
//! JSON error (code 20503) within the configured wait, naming no cause: the router
//! over a SQLite store whose write lock another connection holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::Value;
use tower::ServiceExt as _;
use verify_engine::ManualClock;
use verify_engine::model::UnixTime;
use verify_server::error::RETRY_AFTER_UNAVAILABLE_SECS;
use verify_server::{AppState, Credentials, router};
use verify_store_sql::sqlx::Connection as _;
use verify_store_sql::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use verify_store_sql::{SqliteStore, StoreOptions};

use crate::support::{BASE, T0, basic};

/// The store's waits in this test: short, far below sqlx's default 30 s.
const SHORT_WAIT: Duration = Duration::from_millis(300);

/// Hang guard for one request (not a performance target).
const HANG_GUARD: Duration = Duration::from_secs(10);

async fn post_service(
    app: &axum::Router,
    name: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v2/Services")
        .header("authorization", basic("key", "secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("FriendlyName={name}")))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_locked_sqlite_database_answers_503_with_retry_after() {
    let dir = std::env::temp_dir().join(format!("verify-api-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("locked.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let options = StoreOptions::new()
        .with_acquire_timeout(SHORT_WAIT)
        .with_busy_timeout(SHORT_WAIT);
    let store = SqliteStore::open_with_options(&path, &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock: Arc<dyn verify_engine::Clock> = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
    let state = Arc::new(
        AppState::new(
            store.clone(),
            verify_engine::model::AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
            BASE,
            Credentials::new("key", "secret"),
            clock,
            rand_chacha::ChaCha20Rng::seed_from_u64(7),
        )
        .unwrap(),
    );
    let app = router(state);
    let (status, _, _) = post_service(&app, "Before").await;
    assert_eq!(status, StatusCode::CREATED);

    // Another process in the middle of a write, as far as SQLite can tell.
    let mut holder = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    verify_store_sql::sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = Instant::now();
    let (status, headers, json) = post_service(&app, "During").await;
    assert!(
        started.elapsed() < HANG_GUARD,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some(RETRY_AFTER_UNAVAILABLE_SECS.to_string().as_str())
    );
    assert_eq!(json["code"], 20503, "{json}");
    assert_eq!(json["status"], 503, "{json}");
    let message = json["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty());
    for cause in ["locked", "sqlite", "code", "busy"] {
        assert!(!message.to_lowercase().contains(cause), "{message}");
    }

    verify_store_sql::sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let (status, _, _) = post_service(&app, "After").await;
    assert_eq!(status, StatusCode::CREATED);
    holder.close().await.unwrap();
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
