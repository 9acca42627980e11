use axum::http::StatusCode;

use crate::support::{BASE, Harness};

#[tokio::test]
async fn create_fetch_update_delete_a_service() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Totp.Issuer", "Owl"),
                ("Totp.TimeStep", "60"),
                ("Totp.CodeLength", "8"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let sid = created.str("sid");
    assert!(sid.starts_with("VA") && sid.len() == 34);
    assert_eq!(created.json["friendly_name"], "Owl Bank");
    assert_eq!(
        created.json["account_sid"],
        "AC0123456789abcdef0123456789abcdef"
    );
    assert_eq!(created.json["totp"]["issuer"], "Owl");
    assert_eq!(created.json["totp"]["time_step"], 60);
    assert_eq!(created.json["totp"]["code_length"], 8);
    assert_eq!(created.json["url"], format!("{BASE}/v2/Services/{sid}"));
    assert_eq!(created.json["date_created"], "2026-01-01T00:00:00Z");

    let fetched = h.get(&format!("/v2/Services/{sid}")).await;
    assert_eq!(fetched.json, created.json);

    h.advance(10);
    let updated = h
        .post(
            &format!("/v2/Services/{sid}"),
            &[("FriendlyName", "Owl Bank EU"), ("Totp.Skew", "2")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["friendly_name"], "Owl Bank EU");
    assert_eq!(updated.json["totp"]["skew"], 2);
    assert_eq!(updated.json["date_updated"], "2026-01-01T00:00:10Z");

    let passkeys = h
        .post(
            &format!("/v2/Services/{sid}"),
            &[
                ("Passkeys.RelyingParty.Id", "example.com"),
                ("Passkeys.RelyingParty.Name", "Example"),
                ("Passkeys.RelyingParty.Origins", "https://example.com"),
                ("Passkeys.AuthenticatorAttachment", "platform"),
                ("Passkeys.UserVerification", "required"),
            ],
        )
        .await;
    assert_eq!(passkeys.status, StatusCode::OK, "{}", passkeys.json);
    assert_eq!(
        passkeys.json["passkeys"]["relying_party"]["id"], "example.com",
        "{}",
        passkeys.json
    );

    assert_eq!(
        h.delete(&format!("/v2/Services/{sid}")).await.status,
        StatusCode::NO_CONTENT
    );
    h.get(&format!("/v2/Services/{sid}"))
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn service_validation_errors() {
    let h = Harness::new();
    h.post("/v2/Services", &[]).await.assert_error(400, 60200);
    h.post("/v2/Services", &[("FriendlyName", &"x".repeat(256))])
        .await
        .assert_error(400, 60200);
    h.post(
        "/v2/Services",
        &[("FriendlyName", "a"), ("Totp.TimeStep", "10")],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        "/v2/Services",
        &[("FriendlyName", "a"), ("Totp.TimeStep", "abc")],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        "/v2/Services",
        &[
            ("FriendlyName", "a"),
            ("Passkeys.RelyingParty.Id", "bad id!"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        "/v2/Services",
        &[
            ("FriendlyName", "a"),
            ("Passkeys.RelyingParty.Id", "example.com"),
            ("Passkeys.UserVerification", "sometimes"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.get("/v2/Services/VAnot-a-sid")
        .await
        .assert_error(400, 60200);
    h.get("/v2/Services/VA00000000000000000000000000000000")
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn services_page_forward_and_back() {
    let h = Harness::new();
    let mut sids = Vec::new();
    for i in 0..5 {
        sids.push(h.service(&format!("Service {i}")).await);
        h.advance(1);
    }
    let first = h.get("/v2/Services?PageSize=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let meta = &first.json["meta"];
    assert_eq!(meta["key"], "services");
    assert_eq!(meta["page"], 0);
    assert_eq!(meta["page_size"], 2);
    assert_eq!(meta["previous_page_url"], serde_json::Value::Null);
    assert_eq!(
        meta["first_page_url"],
        format!("{BASE}/v2/Services?PageSize=2&Page=0")
    );
    let listed: Vec<_> = first.json["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, sids[..2]);

    let next = meta["next_page_url"]
        .as_str()
        .unwrap()
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let second = h.get(&next).await;
    assert_eq!(second.json["meta"]["page"], 1);
    let listed: Vec<_> = second.json["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, sids[2..4]);
    let back = second.json["meta"]["previous_page_url"]
        .as_str()
        .unwrap()
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let again = h.get(&back).await;
    assert_eq!(again.json["services"], first.json["services"]);

    let desc = h.get("/v2/Services?PageSize=1&Order=desc").await;
    assert_eq!(desc.json["services"][0]["sid"], sids[4].as_str());

    h.get("/v2/Services?PageSize=0")
        .await
        .assert_error(400, 60200);
    h.get("/v2/Services?PageSize=1001")
        .await
        .assert_error(400, 60200);
    h.get("/v2/Services?PageToken=garbage")
        .await
        .assert_error(400, 60200);
    h.get("/v2/Services?Order=sideways")
        .await
        .assert_error(400, 60200);
}

#[tokio::test]
async fn entities_are_created_by_factors_and_deleted_with_them() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    h.get(&format!("/v2/Services/{sid}/Entities/user-0001"))
        .await
        .assert_error(404, 20404);
    let (factor, _) = h.totp_factor(&sid, "user-0001").await;
    let entity = h
        .get(&format!("/v2/Services/{sid}/Entities/user-0001"))
        .await;
    assert_eq!(entity.status, StatusCode::OK, "{}", entity.json);
    assert_eq!(entity.json["identity"], "user-0001");
    assert!(entity.str("sid").starts_with("YE"));
    assert_eq!(entity.json["service_sid"], sid.as_str());
    let url = format!("{BASE}/v2/Services/{sid}/Entities/user-0001");
    assert_eq!(
        entity.json["links"],
        serde_json::json!({
            "factors": format!("{url}/Factors"),
            "challenges": format!("{url}/Challenges"),
            "new_factors": format!("{url}/Factors"),
        })
    );

    h.get(&format!("/v2/Services/{sid}/Entities/no"))
        .await
        .assert_error(400, 60200);
    assert_eq!(
        h.delete(&format!("/v2/Services/{sid}/Entities/user-0001"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    h.get(&format!("/v2/Services/{sid}/Entities/user-0001"))
        .await
        .assert_error(404, 20404);
    h.get(&format!(
        "/v2/Services/{sid}/Entities/user-0001/Factors/{factor}"
    ))
    .await
    .assert_error(404, 20404);
}

/// Totp.* and Push.* are taken field by field: an update naming one keeps the
/// others as stored; Push.* are stored and returned; Passkeys origins may come as
/// one comma-separated value, as the documents' curl and the helper library send it.
#[tokio::test]
async fn service_settings_are_taken_field_by_field() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Totp.Issuer", "Owl"),
                ("Totp.TimeStep", "60"),
                ("Totp.CodeLength", "8"),
                ("Push.IncludeDate", "true"),
                (
                    "Push.ApnCredentialSid",
                    "CR0123456789abcdef0123456789abcdef",
                ),
                ("Passkeys.RelyingParty.Id", "example.com"),
                (
                    "Passkeys.RelyingParty.Origins",
                    "https://example.com, https://login.example.com",
                ),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let sid = created.str("sid");
    let url = format!("{BASE}/v2/Services/{sid}");
    assert_eq!(
        created.json["links"],
        serde_json::json!({
            "entities": format!("{url}/Entities"),
            "webhooks": format!("{url}/Webhooks"),
            "access_tokens": format!("{url}/AccessTokens"),
        })
    );
    assert_eq!(created.json["push"]["include_date"], true);
    assert_eq!(
        created.json["push"]["apn_credential_sid"],
        "CR0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        created.json["passkeys"]["relying_party"]["origins"],
        serde_json::json!(["https://example.com", "https://login.example.com"]),
        "{}",
        created.json
    );

    let updated = h
        .post(
            &format!("/v2/Services/{sid}"),
            &[
                ("Totp.Skew", "2"),
                (
                    "Push.FcmCredentialSid",
                    "CR00000000000000000000000000000001",
                ),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["totp"]["skew"], 2);
    assert_eq!(updated.json["totp"]["time_step"], 60, "{}", updated.json);
    assert_eq!(updated.json["totp"]["code_length"], 8);
    assert_eq!(updated.json["totp"]["issuer"], "Owl");
    assert_eq!(updated.json["push"]["include_date"], true);
    assert_eq!(
        updated.json["push"]["apn_credential_sid"],
        "CR0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        updated.json["push"]["fcm_credential_sid"],
        "CR00000000000000000000000000000001"
    );

    // An empty reference clears it; a malformed one or a bad flag is a 400.
    let cleared = h
        .post(
            &format!("/v2/Services/{sid}"),
            &[("Push.ApnCredentialSid", "")],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.json);
    assert!(cleared.json["push"]["apn_credential_sid"].is_null());
    for bad in [
        ("Push.ApnCredentialSid", "CR 01"),
        ("Push.FcmCredentialSid", &*"C".repeat(65)),
        ("Push.IncludeDate", "yes"),
        ("Totp.TimeStep", "61"),
    ] {
        h.post(&format!("/v2/Services/{sid}"), &[bad])
            .await
            .assert_error(400, 60200);
    }
    // Nothing of a refused update was written.
    let fetched = h.get(&format!("/v2/Services/{sid}")).await;
    assert_eq!(fetched.json["totp"]["time_step"], 60);
    assert!(fetched.json["push"]["apn_credential_sid"].is_null());
}

/// `Passkeys.AllowCredentials=empty` (this server's extension) is stored, shown in
/// the passkeys block, and refused when it is not `list` or `empty`.
#[tokio::test]
async fn passkeys_allow_credentials_setting() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Passkeys.RelyingParty.Id", "example.com"),
                ("Passkeys.AllowCredentials", "empty"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["passkeys"]["allow_credentials"], "empty");
    let listed = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Passkeys.RelyingParty.Id", "example.com"),
            ],
        )
        .await;
    assert!(listed.json["passkeys"].get("allow_credentials").is_none());
    h.post(
        "/v2/Services",
        &[
            ("FriendlyName", "Owl Bank"),
            ("Passkeys.RelyingParty.Id", "example.com"),
            ("Passkeys.AllowCredentials", "none"),
        ],
    )
    .await
    .assert_error(400, 60200);
}

/// The answers the framework writes itself (a body over the limit, a method the
/// route does not take) come in the service's JSON error shape too.
#[tokio::test]
async fn framework_rejections_have_the_json_error_shape() {
    let h = Harness::new();
    let big = "x".repeat(verify_server::form::MAX_BODY + 1);
    let too_large = h.post("/v2/Services", &[("FriendlyName", &big)]).await;
    too_large.assert_error(413, 60200);
    assert!(
        too_large.json["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let wrong_method = h.delete("/v2/Services").await;
    wrong_method.assert_error(405, 20004);
    assert!(
        wrong_method.headers.contains_key("allow"),
        "{:?}",
        wrong_method.headers
    );
}

/// A form body is a form: one that is not UTF-8 once decoded is refused (not stored
/// with U+FFFD), and a JSON or multipart Content-Type on a form route is a 415.
#[tokio::test]
async fn form_bodies_are_utf8_forms() {
    use axum::body::Body;
    use axum::http::{Method, Request};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let h = Harness::new();
    let send = |content_type: &'static str, body: &'static [u8]| {
        let app = h.app.clone();
        async move {
            let response = app
                .oneshot(
                    Request::builder()
                        .method(Method::POST)
                        .uri("/v2/Services")
                        .header("authorization", crate::support::basic("key", "secret"))
                        .header("content-type", content_type)
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status.as_u16(),
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
            )
        }
    };
    let form = "application/x-www-form-urlencoded";
    let (status, body) = send(form, b"FriendlyName=Owl%FFBank").await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (400, Some(60200)),
        "{body}"
    );
    let (status, body) = send(form, b"FriendlyName=Owl+B%C3%A4nk").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["friendly_name"], "Owl Bänk");
    let (status, body) = send("application/json", b"{\"FriendlyName\":\"Owl\"}").await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (415, Some(60200)),
        "{body}"
    );
    let (status, _) = send("multipart/form-data; boundary=x", b"--x--").await;
    assert_eq!(status, 415);
    let (status, body) = send(
        "application/x-www-form-urlencoded; charset=utf-8",
        b"FriendlyName=Owl",
    )
    .await;
    assert_eq!(status, 201, "{body}");
}
