use axum::http::StatusCode;

use crate::support::{BASE, Harness, code};

#[tokio::test]
async fn totp_challenge_with_a_code_is_approved_once() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    h.advance(30);
    let now_code = code(&secret, h.now());
    let approved = h
        .post(&url, &[("FactorSid", &factor), ("AuthPayload", &now_code)])
        .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.json);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(approved.json["factor_sid"], factor.as_str());
    let challenge = approved.str("sid");
    assert!(challenge.starts_with("YC"));
    assert_eq!(approved.json["url"], format!("{BASE}{url}/{challenge}"));

    // The same code again: single use. The answer says "already used" under its
    // own code (not the pending challenge a wrong code gets), and the new challenge
    // stays pending with the failed attempt counted.
    let replay = h
        .post(&url, &[("FactorSid", &factor), ("AuthPayload", &now_code)])
        .await;
    assert_eq!(replay.status, StatusCode::CONFLICT, "{}", replay.json);
    assert_eq!(replay.json["code"], 60340, "{}", replay.json);
    let message = replay.str("message");
    assert!(message.contains("already used"), "{message}");
    assert!(message.contains("4 attempts left"), "{message}");
    let listed = h
        .get(&format!("{url}?FactorSid={factor}&Status=pending"))
        .await;
    let pending = listed.json["challenges"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{}", listed.json);
    let pending = pending[0]["sid"].as_str().unwrap().to_owned();
    assert!(message.contains(&pending), "{message}");

    // On the pending challenge the replay is answered the same way, and a wrong code
    // as the service answers it: 200 with the challenge still pending.
    let again = h
        .post(&format!("{url}/{pending}"), &[("AuthPayload", &now_code)])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.json);
    assert_eq!(again.json["code"], 60340);
    assert!(
        again.str("message").contains("3 attempts left"),
        "{}",
        again.json
    );
    let wrong = if now_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let wrong = h
        .post(&format!("{url}/{pending}"), &[("AuthPayload", wrong)])
        .await;
    assert_eq!(wrong.status, StatusCode::OK, "{}", wrong.json);
    assert_eq!(wrong.json["status"], "pending");
}

#[tokio::test]
async fn pending_challenge_updated_with_codes_and_expiry() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    let pending = h.post(&url, &[("FactorSid", &factor)]).await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.json);
    assert_eq!(pending.json["status"], "pending");
    assert_eq!(pending.json["expiration_date"], "2026-01-01T00:05:00Z");
    let challenge = pending.str("sid");

    h.advance(30);
    let right = code(&secret, h.now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let still = h
        .post(&format!("{url}/{challenge}"), &[("AuthPayload", wrong)])
        .await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.json);
    assert_eq!(still.json["status"], "pending");
    let approved = h
        .post(&format!("{url}/{challenge}"), &[("AuthPayload", &right)])
        .await;
    assert_eq!(approved.json["status"], "approved", "{}", approved.json);
    assert_eq!(
        h.get(&format!("{url}/{challenge}")).await.json["status"],
        "approved"
    );

    // Another challenge left to expire.
    let late = h.post(&url, &[("FactorSid", &factor)]).await.str("sid");
    h.advance(301);
    let fetched = h.get(&format!("{url}/{late}")).await;
    assert_eq!(fetched.json["status"], "expired", "{}", fetched.json);
    h.post(
        &format!("{url}/{late}"),
        &[("AuthPayload", &code(&secret, h.now()))],
    )
    .await
    .assert_error(403, 60323);
}

#[tokio::test]
async fn challenge_validation_errors() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (unverified, _) = h.totp_factor(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    h.post(&url, &[("FactorSid", &unverified)])
        .await
        .assert_error(403, 60318);
    h.post(&url, &[]).await.assert_error(400, 60200);
    h.post(&url, &[("FactorSid", "YF00000000000000000000000000000000")])
        .await
        .assert_error(404, 20404);
    let (factor, _) = h.verified_totp(&sid, "user-0002").await;
    let other = format!("/v2/Services/{sid}/Entities/user-0002/Challenges");
    h.post(
        &other,
        &[("FactorSid", &factor), ("ExpirationDate", "tomorrow")],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &other,
        &[
            ("FactorSid", &factor),
            ("ExpirationDate", "2026-01-01T02:00:00Z"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(&other, &[("FactorSid", &factor), ("AuthPayload", "12")])
        .await
        .assert_error(400, 60200);
    h.post(
        &other,
        &[("FactorSid", &factor), ("HiddenDetails", "not json")],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &other,
        &[
            ("FactorSid", &factor),
            ("Details.Message", "hi"),
            ("Details.Fields", "{\"label\":1}"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.get(&format!("{other}/YCnope"))
        .await
        .assert_error(400, 60364);
    h.get(&format!("{other}/YC00000000000000000000000000000000"))
        .await
        .assert_error(404, 60391);
    h.post(&format!("{other}/YC00000000000000000000000000000000"), &[])
        .await
        .assert_error(400, 60200);
    // Another identity's factor is not found.
    h.post(&url, &[("FactorSid", &factor)])
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn challenges_list_with_filters_and_paging() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    let mut sids = Vec::new();
    for _ in 0..3 {
        h.advance(1);
        sids.push(h.post(&url, &[("FactorSid", &factor)]).await.str("sid"));
    }
    h.advance(30);
    let approved = h
        .post(
            &url,
            &[
                ("FactorSid", &factor),
                ("AuthPayload", &code(&secret, h.now())),
            ],
        )
        .await;
    assert_eq!(approved.json["status"], "approved", "{}", approved.json);

    let all = h.get(&format!("{url}?PageSize=2")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(all.json["meta"]["key"], "challenges");
    let page: Vec<_> = all.json["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page, sids[..2]);
    let next = all.json["meta"]["next_page_url"]
        .as_str()
        .unwrap()
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let second = h.get(&next).await;
    assert_eq!(second.json["challenges"].as_array().unwrap().len(), 2);
    assert_eq!(
        second.json["meta"]["next_page_url"],
        serde_json::Value::Null
    );

    let pending = h.get(&format!("{url}?Status=pending")).await;
    assert_eq!(pending.json["challenges"].as_array().unwrap().len(), 3);
    assert!(
        pending.json["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("Status=pending")
    );
    let approved_only = h
        .get(&format!("{url}?Status=approved&FactorSid={factor}"))
        .await;
    assert_eq!(
        approved_only.json["challenges"].as_array().unwrap().len(),
        1
    );
    let desc = h.get(&format!("{url}?Order=desc&PageSize=1")).await;
    assert_eq!(desc.json["challenges"][0]["status"], "approved");

    // Past the expiration date, the pending ones list as expired.
    h.advance(600);
    let expired = h.get(&format!("{url}?Status=expired")).await;
    assert_eq!(expired.json["challenges"].as_array().unwrap().len(), 3);

    h.get(&format!("{url}?Status=maybe"))
        .await
        .assert_error(400, 60200);
    h.get(&format!("{url}?FactorSid=nope"))
        .await
        .assert_error(400, 60200);
    h.get(&format!("/v2/Services/{sid}/Entities/user-0009/Challenges"))
        .await
        .assert_error(404, 20404);
}

/// The retention pass (`verify_server::retention::run`, started by the binary with
/// `--challenge-retention-hours`): its first pass, at once, removes a challenge
/// expired longer ago than the retention, which then answers 404/60391.
#[tokio::test]
async fn the_retention_pass_removes_challenges_past_the_retention() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let (factor, _) = h.verified_totp(&service, "user-0001").await;
    let path = format!("/v2/Services/{service}/Entities/user-0001/Challenges");
    let created = h.post(&path, &[("FactorSid", &factor)]).await;
    let sid = created.str("sid");
    assert_eq!(h.get(&format!("{path}/{sid}")).await.status, StatusCode::OK);
    // A day and an hour past the challenge's 5-minute expiry.
    h.advance(25 * 3600);
    let retention = verify_engine::Retention::new(verify_engine::MIN_RETENTION).unwrap();
    let pass = tokio::spawn(verify_server::retention::run(
        std::sync::Arc::clone(&h.state),
        retention,
    ));
    let mut gone = false;
    for _ in 0..200 {
        let reply = h.get(&format!("{path}/{sid}")).await;
        if reply.status == StatusCode::NOT_FOUND {
            reply.assert_error(404, 60391);
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    pass.abort();
    assert!(gone, "the challenge past the retention is still there");
}
