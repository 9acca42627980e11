//! Entities created and listed directly (`POST`/`GET .../Entities`), and access
//! tokens fetched (`GET .../AccessTokens/{sid}`): the calls the service's own helper
//! libraries make.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::{BASE, Harness, basic};

const OTHER_VA: &str = "VA00000000000000000000000000000000";

#[tokio::test]
async fn create_entity_answers_the_entity_resource() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Entities"),
            &[("Identity", "ff483d1ff591898a9942916050d2ca3f")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let url = format!("{BASE}/v2/Services/{sid}/Entities/ff483d1ff591898a9942916050d2ca3f");
    assert!(created.str("sid").starts_with("YE"));
    assert_eq!(created.json["identity"], "ff483d1ff591898a9942916050d2ca3f");
    assert_eq!(
        created.json["account_sid"],
        "AC0123456789abcdef0123456789abcdef"
    );
    assert_eq!(created.json["service_sid"], sid.as_str());
    assert_eq!(created.json["date_created"], "2026-01-01T00:00:00Z");
    assert_eq!(created.json["date_updated"], "2026-01-01T00:00:00Z");
    assert_eq!(created.json["url"], url.as_str());
    assert_eq!(
        created.json["links"],
        serde_json::json!({
            "factors": format!("{url}/Factors"),
            "challenges": format!("{url}/Challenges"),
            "new_factors": format!("{url}/Factors"),
        })
    );
    let keys: Vec<&str> = created
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "account_sid",
            "date_created",
            "date_updated",
            "identity",
            "links",
            "service_sid",
            "sid",
            "url"
        ]
    );
    // The same entity as fetched, and its first factor joins it.
    let fetched = h
        .get(&format!(
            "/v2/Services/{sid}/Entities/ff483d1ff591898a9942916050d2ca3f"
        ))
        .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
    assert_eq!(fetched.json, created.json);
    let factor = h
        .post(
            &format!("/v2/Services/{sid}/Entities/ff483d1ff591898a9942916050d2ca3f/Factors"),
            &[("FactorType", "totp"), ("FriendlyName", "alice")],
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.json);
    assert_eq!(factor.json["entity_sid"], created.json["sid"]);
}

#[tokio::test]
async fn create_entity_errors() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/Entities");
    assert_eq!(
        h.post(&url, &[("Identity", "user-0001")]).await.status,
        StatusCode::CREATED
    );
    // An identity is unique in its service: the documents' 60301, 409.
    h.post(&url, &[("Identity", "user-0001")])
        .await
        .assert_error(409, 60301);
    // Also when its first factor created it.
    h.totp_factor(&sid, "user-0002").await;
    h.post(&url, &[("Identity", "user-0002")])
        .await
        .assert_error(409, 60301);
    // The same identity in another service is another entity.
    let other = h.service("Other").await;
    assert_eq!(
        h.post(
            &format!("/v2/Services/{other}/Entities"),
            &[("Identity", "user-0001")]
        )
        .await
        .status,
        StatusCode::CREATED
    );
    h.post(&url, &[]).await.assert_error(400, 60200);
    for bad in [
        "short",
        "user--0001",
        "user_0001",
        "-user0001",
        &"a".repeat(65),
    ] {
        h.post(&url, &[("Identity", bad)])
            .await
            .assert_error(400, 60200);
    }
    h.post(
        &format!("/v2/Services/{OTHER_VA}/Entities"),
        &[("Identity", "user-0001")],
    )
    .await
    .assert_error(404, 20404);
    h.post("/v2/Services/VA123/Entities", &[("Identity", "user-0001")])
        .await
        .assert_error(400, 60200);
    // Nothing of the refused requests was written.
    let listed = h.get(&url).await;
    // (Both at the same second: listed by sid then.)
    let mut identities: Vec<&str> = listed.json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["identity"].as_str().unwrap())
        .collect();
    identities.sort_unstable();
    assert_eq!(identities, ["user-0001", "user-0002"]);
}

fn identities(page: &Value) -> Vec<String> {
    page["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["identity"].as_str().unwrap().to_owned())
        .collect()
}

/// The path and query of an absolute `meta` URL.
fn path_of(url: &Value) -> String {
    url.as_str().unwrap().strip_prefix(BASE).unwrap().to_owned()
}

#[tokio::test]
async fn list_entities_pages_like_the_other_lists() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let other = h.service("Other").await;
    let url = format!("/v2/Services/{sid}/Entities");

    let empty = h.get(&url).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.json);
    assert_eq!(empty.json["entities"], serde_json::json!([]));
    let list_url = format!("{BASE}/v2/Services/{sid}/Entities");
    assert_eq!(
        empty.json["meta"],
        serde_json::json!({
            "page": 0,
            "page_size": 50,
            "first_page_url": format!("{list_url}?PageSize=50&Page=0"),
            "previous_page_url": null,
            "next_page_url": null,
            "url": format!("{list_url}?PageSize=50&Page=0"),
            "key": "entities",
        })
    );

    // Five entities, created one second apart, by both paths; one elsewhere.
    let mut want = Vec::new();
    for n in 1..=5 {
        let identity = format!("user-000{n}");
        if n % 2 == 0 {
            h.totp_factor(&sid, &identity).await;
        } else {
            let reply = h.post(&url, &[("Identity", &identity)]).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        }
        want.push(identity);
        h.advance(1);
    }
    h.post(
        &format!("/v2/Services/{other}/Entities"),
        &[("Identity", "user-9999")],
    )
    .await;

    let all = h.get(&url).await;
    assert_eq!(identities(&all.json), want);
    assert_eq!(
        all.json["entities"][0]["url"],
        format!("{list_url}/user-0001")
    );

    // Two per page, forward by next_page_url, with Page echoed.
    let first = h.get(&format!("{url}?PageSize=2")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(identities(&first.json), want[..2]);
    assert_eq!(first.json["meta"]["page"], 0);
    assert_eq!(first.json["meta"]["page_size"], 2);
    assert_eq!(first.json["meta"]["key"], "entities");
    assert!(first.json["meta"]["previous_page_url"].is_null());
    let second = h.get(&path_of(&first.json["meta"]["next_page_url"])).await;
    assert_eq!(identities(&second.json), want[2..4]);
    assert_eq!(second.json["meta"]["page"], 1);
    assert_eq!(
        second.json["meta"]["url"],
        first.json["meta"]["next_page_url"]
    );
    let third = h.get(&path_of(&second.json["meta"]["next_page_url"])).await;
    assert_eq!(identities(&third.json), want[4..]);
    assert_eq!(third.json["meta"]["page"], 2);
    assert!(third.json["meta"]["next_page_url"].is_null());
    // And back.
    let back = h
        .get(&path_of(&third.json["meta"]["previous_page_url"]))
        .await;
    assert_eq!(identities(&back.json), want[2..4]);
    assert_eq!(back.json["meta"]["page"], 1);
    assert_eq!(
        path_of(&first.json["meta"]["first_page_url"]),
        format!("/v2/Services/{sid}/Entities?PageSize=2&Page=0")
    );

    // Newest first.
    let desc = h.get(&format!("{url}?Order=desc")).await;
    let mut reversed = want.clone();
    reversed.reverse();
    assert_eq!(identities(&desc.json), reversed);

    // The other service lists only its own.
    let theirs = h.get(&format!("/v2/Services/{other}/Entities")).await;
    assert_eq!(identities(&theirs.json), ["user-9999"]);

    // A deleted entity is no longer listed.
    assert_eq!(
        h.delete(&format!("{url}/user-0001")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(identities(&h.get(&url).await.json), want[1..]);
}

#[tokio::test]
async fn list_entities_errors() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/Entities");
    for query in [
        "PageSize=0",
        "PageSize=1001",
        "PageSize=x",
        "Page=-1",
        "Order=up",
        "PageToken=nonsense",
    ] {
        h.get(&format!("{url}?{query}"))
            .await
            .assert_error(400, 60200);
    }
    h.get(&format!("/v2/Services/{OTHER_VA}/Entities"))
        .await
        .assert_error(404, 20404);
    h.get("/v2/Services/VA123/Entities")
        .await
        .assert_error(400, 60200);
}

async fn mint(h: &Harness, service: &str, identity: &str) -> Value {
    let reply = h
        .post(
            &format!("/v2/Services/{service}/AccessTokens"),
            &[
                ("Identity", identity),
                ("FactorType", "push"),
                ("FactorFriendlyName", "Alice's phone"),
                ("Ttl", "120"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json
}

#[tokio::test]
async fn fetch_access_token_answers_the_resource_without_the_token() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let created = mint(&h, &sid, "user-0001").await;
    let token_sid = created["sid"].as_str().unwrap();
    let secret = created["token"].as_str().unwrap();
    h.advance(30);
    let fetched = h
        .get(&format!("/v2/Services/{sid}/AccessTokens/{token_sid}"))
        .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
    let mut want = created.clone();
    want["token"] = Value::Null;
    assert_eq!(fetched.json, want);
    assert_eq!(
        fetched.json["url"],
        format!("{BASE}/v2/Services/{sid}/AccessTokens/{token_sid}")
    );
    assert_eq!(fetched.json["ttl"], 120);
    assert_eq!(fetched.json["factor_type"], "push");
    assert_eq!(fetched.json["entity_identity"], "user-0001");
    assert_eq!(fetched.json["factor_friendly_name"], "Alice's phone");
    assert_eq!(fetched.json["date_created"], "2026-01-01T00:00:00Z");
    // Neither the credential nor its random part appears anywhere.
    let text = fetched.json.to_string();
    let random = secret.split_once('.').unwrap().1;
    assert!(!text.contains(secret) && !text.contains(random), "{text}");
    // Past its lifetime it is still the same resource.
    h.advance(600);
    let later = h
        .get(&format!("/v2/Services/{sid}/AccessTokens/{token_sid}"))
        .await;
    assert_eq!(later.json, want);
    // Upper-case hex digits name the same token.
    let upper = format!("YK{}", token_sid[2..].to_uppercase());
    assert_eq!(
        h.get(&format!("/v2/Services/{sid}/AccessTokens/{upper}"))
            .await
            .json,
        want
    );
}

#[tokio::test]
async fn fetch_access_token_stays_within_its_service() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let other = h.service("Other").await;
    let theirs = mint(&h, &other, "user-0001").await;
    let their_sid = theirs["sid"].as_str().unwrap();
    h.get(&format!("/v2/Services/{sid}/AccessTokens/{their_sid}"))
        .await
        .assert_error(404, 20404);
    assert_eq!(
        h.get(&format!("/v2/Services/{other}/AccessTokens/{their_sid}"))
            .await
            .status,
        StatusCode::OK
    );
    h.get(&format!(
        "/v2/Services/{sid}/AccessTokens/YK00000000000000000000000000000000"
    ))
    .await
    .assert_error(404, 20404);
    h.get(&format!("/v2/Services/{OTHER_VA}/AccessTokens/{their_sid}"))
        .await
        .assert_error(404, 20404);
    for bad in ["YK123", "YF00000000000000000000000000000000", "nonsense"] {
        h.get(&format!("/v2/Services/{sid}/AccessTokens/{bad}"))
            .await
            .assert_error(400, 60200);
    }
    // After the service is deleted, its tokens are gone with it.
    assert_eq!(
        h.delete(&format!("/v2/Services/{other}")).await.status,
        StatusCode::NO_CONTENT
    );
    h.get(&format!("/v2/Services/{other}/AccessTokens/{their_sid}"))
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn the_new_routes_are_host_only() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let token = mint(&h, &sid, "user-0001").await;
    let token_sid = token["sid"].as_str().unwrap();
    let device = basic("token", token["token"].as_str().unwrap());
    let routes = [
        (Method::GET, format!("/v2/Services/{sid}/Entities")),
        (Method::POST, format!("/v2/Services/{sid}/Entities")),
        (
            Method::GET,
            format!("/v2/Services/{sid}/AccessTokens/{token_sid}"),
        ),
    ];
    for (method, uri) in routes {
        for auth in [None, Some(basic("key", "wrong")), Some(device.clone())] {
            let reply = h
                .send(
                    method.clone(),
                    &uri,
                    auth.as_deref(),
                    &[("Identity", "user-0002")],
                )
                .await;
            reply.assert_error(401, 20003);
        }
    }
    // Nothing was created by the refused requests.
    let listed = h.get(&format!("/v2/Services/{sid}/Entities")).await;
    assert_eq!(listed.json["entities"], serde_json::json!([]));
}
