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

/// The TOTP code of `secret` at `now` with the given parameters.
fn code_with(
    secret: &str,
    now: verify_engine::model::UnixTime,
    alg: &str,
    digits: u8,
    step: u8,
) -> String {
    use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig};
    let algorithm = match alg {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        _ => Algorithm::Sha512,
    };
    let config = TotpConfig::new(
        algorithm,
        Digits::new(digits).unwrap(),
        Period::new(u32::from(step)).unwrap(),
        Skew::new(0).unwrap(),
    );
    verify_totp::generate(&Secret::from_base32_lenient(secret).unwrap(), &config, now)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn totp_config_update_changes_each_parameter() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Factors/{factor}");
    let before = h.get(&url).await.json;
    assert_eq!(
        before["config"],
        serde_json::json!({"alg": "sha1", "code_length": 6, "time_step": 30, "skew": 1})
    );

    for (name, value, field, expected) in [
        ("Config.Alg", "sha256", "alg", serde_json::json!("sha256")),
        (
            "Config.CodeLength",
            "8",
            "code_length",
            serde_json::json!(8),
        ),
        ("Config.TimeStep", "60", "time_step", serde_json::json!(60)),
        ("Config.Skew", "0", "skew", serde_json::json!(0)),
    ] {
        let previous = h.get(&url).await.json;
        let updated = h.post(&url, &[(name, value)]).await;
        assert_eq!(updated.status, StatusCode::OK, "{name}: {}", updated.json);
        assert_eq!(updated.json["config"][field], expected, "{}", updated.json);
        assert_eq!(updated.json["factor_type"], "totp");
        assert_eq!(updated.json["status"], "verified");
        assert!(updated.json.get("binding").is_none(), "{}", updated.json);
        let fetched = h.get(&url).await.json;
        assert_eq!(fetched["config"][field], expected);
        // The other parameters keep their values.
        for other in ["alg", "code_length", "time_step", "skew"] {
            if other != field {
                assert_eq!(
                    fetched["config"][other], previous["config"][other],
                    "{name}"
                );
            }
        }
    }
    assert_eq!(
        h.get(&url).await.json["config"],
        serde_json::json!({"alg": "sha256", "code_length": 8, "time_step": 60, "skew": 0})
    );

    // The factor now answers codes of the new parameters (after the last used window).
    h.advance(120);
    let challenge = h
        .post(
            &format!("/v2/Services/{sid}/Entities/user-0001/Challenges"),
            &[
                ("FactorSid", &factor),
                ("AuthPayload", &code_with(&secret, h.now(), "sha256", 8, 60)),
            ],
        )
        .await;
    assert_eq!(challenge.status, StatusCode::CREATED, "{}", challenge.json);
    assert_eq!(challenge.json["status"], "approved", "{}", challenge.json);

    // Several at once, with a rename: the response is the updated factor.
    let all = h
        .post(
            &url,
            &[
                ("FriendlyName", "work phone"),
                ("Config.Alg", "sha512"),
                ("Config.CodeLength", "7"),
                ("Config.TimeStep", "20"),
                ("Config.Skew", "2"),
            ],
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(all.json["friendly_name"], "work phone");
    assert_eq!(
        all.json["config"],
        serde_json::json!({"alg": "sha512", "code_length": 7, "time_step": 20, "skew": 2})
    );
    assert_eq!(h.get(&url).await.json, all.json);

    // An unverified TOTP factor takes them too; its first code uses them.
    let (pending, secret) = h.totp_factor(&sid, "user-0002").await;
    let pending_url = format!("/v2/Services/{sid}/Entities/user-0002/Factors/{pending}");
    let updated = h.post(&pending_url, &[("Config.CodeLength", "8")]).await;
    assert_eq!(updated.json["config"]["code_length"], 8, "{}", updated.json);
    assert_eq!(updated.json["status"], "unverified");
    let verified = h
        .post(
            &pending_url,
            &[("AuthPayload", &code_with(&secret, h.now(), "sha1", 8, 30))],
        )
        .await;
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);
}

#[tokio::test]
async fn totp_config_update_validation() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let (factor, _secret) = h.verified_totp(&sid, "user-0001").await;
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Factors/{factor}");
    let before = h.get(&url).await.json;
    for form in [
        [("Config.Alg", "md5")],
        [("Config.Alg", "SHA1x")],
        [("Config.CodeLength", "2")],
        [("Config.CodeLength", "9")],
        [("Config.CodeLength", "six")],
        [("Config.CodeLength", "300")],
        [("Config.TimeStep", "19")],
        [("Config.TimeStep", "61")],
        [("Config.TimeStep", "-30")],
        [("Config.Skew", "3")],
        [("Config.Skew", "")],
    ] {
        let reply = h.post(&url, &form).await;
        assert_eq!(reply.status.as_u16(), 400, "{form:?}: {}", reply.json);
        reply.assert_error(400, 60200);
    }
    // A refused parameter refuses the rename sent with it.
    h.post(&url, &[("FriendlyName", "renamed"), ("Config.Skew", "5")])
        .await
        .assert_error(400, 60200);
    // Push parameters on a TOTP factor, alone or beside TOTP ones.
    for form in [
        vec![("Config.AppId", "com.example.owl")],
        vec![("Config.NotificationPlatform", "none")],
        vec![("Config.SdkVersion", "2.0.0")],
        vec![
            ("FriendlyName", "renamed"),
            ("Config.NotificationToken", "t"),
        ],
        vec![("Config.CodeLength", "8"), ("Config.SdkVersion", "2.0.0")],
    ] {
        h.post(&url, &form).await.assert_error(400, 60200);
    }
    assert_eq!(h.get(&url).await.json, before, "nothing was changed");

    let unknown = format!(
        "/v2/Services/{sid}/Entities/user-0001/Factors/YF{}",
        "0".repeat(32)
    );
    h.post(&unknown, &[("Config.CodeLength", "8")])
        .await
        .assert_error(404, 20404);
}

#[tokio::test]
async fn push_config_update_and_totp_config_on_push() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let device = crate::device_auth::enroll(&h, &sid, "user-0001", 11, "none").await;
    let url = device.factor_url();
    let before = h.get(&url).await.json;
    assert_eq!(before["config"]["app_id"], "com.example.owl");

    // TOTP parameters on a push factor: 400, nothing changes (host or device).
    for form in [
        vec![("Config.Alg", "sha256")],
        vec![("Config.CodeLength", "8")],
        vec![("Config.TimeStep", "60")],
        vec![("Config.Skew", "0")],
        vec![("FriendlyName", "renamed"), ("Config.Skew", "0")],
        vec![("Config.SdkVersion", "2.1.0"), ("Config.TimeStep", "60")],
    ] {
        h.post(&url, &form).await.assert_error(400, 60200);
    }
    h.send(
        axum::http::Method::POST,
        &url,
        Some(&device.auth(&h)),
        &[("Config.CodeLength", "8")],
    )
    .await
    .assert_error(400, 60200);
    // Push values outside their limits refuse the rename sent with them.
    for form in [
        vec![
            ("FriendlyName", "renamed"),
            ("Config.NotificationPlatform", "fcm"),
        ],
        vec![
            ("FriendlyName", "renamed"),
            ("Config.NotificationPlatform", "fcm"),
            ("Config.NotificationToken", "short"),
        ],
        vec![("FriendlyName", "renamed"), ("Config.AppId", "")],
        vec![
            ("FriendlyName", "renamed"),
            ("Config.NotificationPlatform", "sms"),
        ],
    ] {
        h.post(&url, &form).await.assert_error(400, 60200);
    }
    assert_eq!(h.get(&url).await.json, before, "nothing was changed");

    // The push parameters keep working: absent ones keep their values.
    let token = "b".repeat(40);
    let updated = h
        .send(
            axum::http::Method::POST,
            &url,
            Some(&device.auth(&h)),
            &[
                ("Config.NotificationPlatform", "apn"),
                ("Config.NotificationToken", &token),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["config"]["notification_platform"], "apn");
    assert_eq!(updated.json["config"]["notification_token"], token.as_str());
    assert_eq!(updated.json["config"]["app_id"], "com.example.owl");
    assert_eq!(updated.json["config"]["sdk_version"], "2.0.0");
    let renamed = h
        .post(
            &url,
            &[
                ("Config.AppId", "com.example.owl2"),
                ("Config.SdkVersion", "2.2.0"),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    assert_eq!(renamed.json["config"]["app_id"], "com.example.owl2");
    assert_eq!(renamed.json["config"]["sdk_version"], "2.2.0");
    assert_eq!(renamed.json["config"]["notification_platform"], "apn");
    assert_eq!(
        renamed.json["config"]["credential_sid"],
        device.credential_sid
    );
    assert_eq!(h.get(&url).await.json, renamed.json);
}
