//! The TOTP guessing budget over HTTP: 429 with `Retry-After` and the codes 20429
//! (slowed down) and 60202 (locked), `factor.locked` in the outbox, and the host's
//! `Unlock`.

use axum::http::StatusCode;

use crate::support::{Harness, code};

/// A wrong 6-digit code at the harness's time (not one of the accepted steps).
fn wrong(secret: &str, h: &Harness) -> String {
    let near: Vec<String> = [-60_i64, -30, 0, 30, 60]
        .iter()
        .map(|d| {
            let t = h.now().as_secs().checked_add_signed(*d).unwrap();
            code(secret, verify_engine::model::UnixTime::from_secs(t))
        })
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

#[tokio::test]
async fn wrong_codes_back_off_then_lock_with_retry_after_and_the_host_unlocks() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    h.advance(30);
    let bad = wrong(&secret, &h);
    let form = [
        ("FactorSid", factor.as_str()),
        ("AuthPayload", bad.as_str()),
    ];
    let guess = || h.post(&url, &form);
    // Five wrong codes cost nothing (each on its own challenge).
    for _ in 0..5 {
        let reply = guess().await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        assert_eq!(reply.json["status"], "pending");
    }
    // The sixth is compared, and the next check must wait a second.
    assert_eq!(guess().await.status, StatusCode::CREATED);
    let slowed = guess().await;
    slowed.assert_error(429, 20429);
    assert_eq!(slowed.headers["retry-after"], "1");
    for wait in [1, 2, 4, 8] {
        h.advance(wait);
        assert_eq!(guess().await.status, StatusCode::CREATED);
    }
    // The tenth wrong code locked the factor for an hour.
    let locked = guess().await;
    locked.assert_error(429, 60202);
    assert_eq!(locked.headers["retry-after"], "3600");
    // The right code is not compared during the lock.
    let right = code(&secret, h.now());
    let refused = h
        .post(&url, &[("FactorSid", &factor), ("AuthPayload", &right)])
        .await;
    refused.assert_error(429, 60202);

    // A device cannot lift the lock: the host can.
    let unlock = format!("/v2/Services/{sid}/Entities/user-0001/Factors/{factor}/Unlock");
    let anonymous = h.send(axum::http::Method::POST, &unlock, None, &[]).await;
    anonymous.assert_error(401, 20003);
    let unlocked = h.post(&unlock, &[]).await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.json);
    assert_eq!(unlocked.json["sid"], factor.as_str());
    let approved = h
        .post(&url, &[("FactorSid", &factor), ("AuthPayload", &right)])
        .await;
    assert_eq!(approved.json["status"], "approved", "{}", approved.json);

    let events = h.state.engine.drain_events(1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.event_type == verify_engine::model::EventType::FactorLocked)
            .count(),
        1
    );
}

#[tokio::test]
async fn unlock_answers_the_factor_and_404_for_an_unknown_one() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, _) = h.verified_totp(&sid, "user-0001").await;
    let missing = h
        .post(
            &format!(
                "/v2/Services/{sid}/Entities/user-0001/Factors/YF00000000000000000000000000000000/Unlock"
            ),
            &[],
        )
        .await;
    missing.assert_error(404, 20404);
    let ok = h
        .post(
            &format!("/v2/Services/{sid}/Entities/user-0001/Factors/{factor}/Unlock"),
            &[],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
}
