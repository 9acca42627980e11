use axum::http::{Method, StatusCode};

use crate::support::{Harness, basic};

#[tokio::test]
async fn every_api_route_requires_the_api_key() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let routes = [
        (Method::GET, "/v2/Services".to_owned()),
        (Method::POST, "/v2/Services".to_owned()),
        (Method::GET, format!("/v2/Services/{sid}")),
        (Method::DELETE, format!("/v2/Services/{sid}")),
        (
            Method::GET,
            format!("/v2/Services/{sid}/Entities/user-0001"),
        ),
        (
            Method::GET,
            format!("/v2/Services/{sid}/Entities/user-0001/Factors"),
        ),
        (
            Method::GET,
            format!("/v2/Services/{sid}/Entities/user-0001/Challenges"),
        ),
        (Method::POST, format!("/v2/Services/{sid}/AccessTokens")),
        (Method::GET, format!("/v2/Services/{sid}/Webhooks")),
        (Method::POST, format!("/v2/Services/{sid}/Passkeys/Factors")),
    ];
    for (method, uri) in routes {
        for auth in [
            None,
            Some(basic("key", "wrong")),
            Some(basic("wrong", "secret")),
            Some(basic("key", "")),
            Some("Bearer key:secret".to_owned()),
            Some("Basic !!!notbase64".to_owned()),
        ] {
            let reply = h.send(method.clone(), &uri, auth.as_deref(), &[]).await;
            reply.assert_error(401, 20003);
            assert!(reply.headers.contains_key("www-authenticate"));
        }
    }
    // The service is still there: nothing ran.
    assert_eq!(
        h.get(&format!("/v2/Services/{sid}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_device_token_cannot_call_host_endpoints() {
    let h = Harness::new();
    let reply = h
        .send(
            Method::POST,
            "/v2/Services",
            Some(&basic("token", "YK.anything")),
            &[("FriendlyName", "x")],
        )
        .await;
    reply.assert_error(401, 20003);
    let reply = h
        .send(Method::GET, "/v2/Services", Some(&basic("token", "x")), &[])
        .await;
    reply.assert_error(401, 20003);
}

#[tokio::test]
async fn unknown_routes_answer_json_404_and_index_is_open() {
    let h = Harness::new();
    h.get("/v2/Nothing").await.assert_error(404, 20404);
    let index = h.send(Method::GET, "/", None, &[]).await;
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.json["api"], "/v2/Services");
}

#[tokio::test]
async fn notifications_of_an_unknown_challenge_answer_404() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let notify = format!(
        "/v2/Services/{sid}/Entities/user-0001/Challenges/YC00000000000000000000000000000000/Notifications"
    );
    h.post(&notify, &[]).await.assert_error(404, 60391);
}
