use axum::http::StatusCode;

use crate::support::{BASE, Harness, code};

#[tokio::test]
async fn totp_factor_lifecycle() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Factors");
    let created = h
        .post(
            &url,
            &[
                ("FactorType", "totp"),
                ("FriendlyName", "alice@example.com"),
                ("Config.TimeStep", "30"),
                ("Metadata", r#"{"os":"ios"}"#),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let factor = created.str("sid");
    assert!(factor.starts_with("YF"));
    assert_eq!(created.json["status"], "unverified");
    assert_eq!(created.json["factor_type"], "totp");
    assert_eq!(created.json["metadata"]["os"], "ios");
    assert_eq!(created.json["config"]["time_step"], 30);
    let secret = created.json["binding"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = created.json["binding"]["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Owl%20Bank:alice%40example.com?secret="),
        "{uri}"
    );
    assert_eq!(created.json["url"], format!("{BASE}{url}/{factor}"));

    // Reads never return the binding.
    let fetched = h.get(&format!("{url}/{factor}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.json.get("binding").is_none(), "{}", fetched.json);

    // A wrong first code is a failed verification (403 60311), the factor stays unverified.
    let right = code(&secret, h.now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    h.post(&format!("{url}/{factor}"), &[("AuthPayload", wrong)])
        .await
        .assert_error(403, 60311);
    assert_eq!(
        h.get(&format!("{url}/{factor}")).await.json["status"],
        "unverified"
    );

    let verified = h
        .post(&format!("{url}/{factor}"), &[("AuthPayload", &right)])
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(verified.json["status"], "verified");

    let renamed = h
        .post(
            &format!("{url}/{factor}"),
            &[("FriendlyName", "work phone")],
        )
        .await;
    assert_eq!(renamed.json["friendly_name"], "work phone");
    h.post(&format!("{url}/{factor}"), &[])
        .await
        .assert_error(400, 60200);

    let listed = h.get(&url).await;
    assert_eq!(listed.json["meta"]["key"], "factors");
    assert_eq!(listed.json["factors"].as_array().unwrap().len(), 1);
    assert_eq!(listed.json["factors"][0]["sid"], factor.as_str());
    assert!(listed.json["factors"][0].get("binding").is_none());

    assert_eq!(
        h.delete(&format!("{url}/{factor}")).await.status,
        StatusCode::NO_CONTENT
    );
    h.get(&format!("{url}/{factor}"))
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn factor_validation_errors() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Factors");
    h.post(&url, &[("FriendlyName", "x")])
        .await
        .assert_error(400, 60200);
    h.post(&url, &[("FactorType", "sms"), ("FriendlyName", "x")])
        .await
        .assert_error(400, 60369);
    h.post(&url, &[("FactorType", "passkeys"), ("FriendlyName", "x")])
        .await
        .assert_error(400, 60369);
    h.post(&url, &[("FactorType", "totp")])
        .await
        .assert_error(400, 60200);
    h.post(
        &url,
        &[
            ("FactorType", "totp"),
            ("FriendlyName", "x"),
            ("Config.CodeLength", "12"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &url,
        &[
            ("FactorType", "totp"),
            ("FriendlyName", "x"),
            ("Config.Alg", "md5"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &url,
        &[
            ("FactorType", "totp"),
            ("FriendlyName", "x"),
            ("Binding.Secret", "not base32!"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &url,
        &[
            ("FactorType", "totp"),
            ("FriendlyName", "x"),
            ("Metadata", "[1,2]"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &format!("/v2/Services/{sid}/Entities/bad/Factors"),
        &[("FactorType", "totp"), ("FriendlyName", "x")],
    )
    .await
    .assert_error(400, 60200);
    h.get(&format!("{url}/YFnope"))
        .await
        .assert_error(400, 60200);
    // A push factor needs the device's enrollment token, not the API key.
    h.post(&url, &[("FactorType", "push"), ("FriendlyName", "x")])
        .await
        .assert_error(401, 20003);
    // A body that is not form-encoded.
    let reply = h
        .send(
            axum::http::Method::POST,
            &url,
            Some(&crate::support::basic("key", "secret")),
            &[],
        )
        .await;
    reply.assert_error(400, 60200);
}

#[tokio::test]
async fn a_given_secret_is_used() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Entities/user-0001/Factors"),
            &[
                ("FactorType", "totp"),
                ("FriendlyName", "a"),
                ("Binding.Secret", secret),
            ],
        )
        .await;
    assert_eq!(created.json["binding"]["secret"], secret);
    let factor = created.str("sid");
    let verified = h
        .post(
            &format!("/v2/Services/{sid}/Entities/user-0001/Factors/{factor}"),
            &[("AuthPayload", &code(secret, h.now()))],
        )
        .await;
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);
}
