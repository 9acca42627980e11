//! The demo endpoints' validation errors: JSON errors with the API's codes.

use axum::http::Method;
use serde_json::json;

use crate::support::{Harness, USER, assert_plain};

#[tokio::test]
async fn bodies_must_be_the_expected_json() {
    let h = Harness::new().await;
    for path in [
        "/demo/api/passkeys/register",
        "/demo/api/passkeys/register/finish",
        "/demo/api/passkeys/signin/finish",
        "/demo/api/totp/enroll",
        "/demo/api/totp/verify",
        "/demo/api/totp/signin",
        "/demo/api/push/token",
        "/demo/api/push/challenge",
        "/demo/api/qr",
    ] {
        let not_json = h
            .request(Method::POST, path, &[], b"identity=demo-user-0001".to_vec())
            .await;
        not_json.assert_error(400, 60200);
        let wrong_type = h.post_json(path, &json!({ "identity": 12 })).await;
        let message = wrong_type.assert_error(400, 60200);
        assert!(message.contains("JSON body"), "{path}: {message}");
    }
    // A missing field is named.
    let message = h
        .post_json("/demo/api/totp/verify", &json!({ "identity": USER }))
        .await
        .assert_error(400, 60200);
    assert!(message.contains("factor_sid"), "{message}");
}

#[tokio::test]
async fn identities_and_sids_are_checked() {
    let h = Harness::new().await;
    for identity in [
        "short",
        "has space-1234",
        "alice@example.com",
        "trailing-dash-",
    ] {
        let message = h
            .post_json("/demo/api/totp/enroll", &json!({ "identity": identity }))
            .await
            .assert_error(400, 60200);
        assert_eq!(
            message,
            "The user name must be 8 to 64 letters and digits, with single dashes between \
             groups (never an email or a real name)."
        );
        h.post_json("/demo/api/push/token", &json!({ "identity": identity }))
            .await
            .assert_error(400, 60200);
    }
    h.get("/demo/api/users/short/factors")
        .await
        .assert_error(400, 60200);
    h.post_json(
        "/demo/api/totp/verify",
        &json!({ "identity": USER, "factor_sid": "YFnope", "code": "123456" }),
    )
    .await
    .assert_error(400, 60200);
    h.post_json(
        "/demo/api/passkeys/signin/finish",
        &json!({ "challenge_sid": "nope", "credential": {} }),
    )
    .await
    .assert_error(400, 60200);
    let message = h
        .get(&format!(
            "/demo/api/users/{USER}/challenges/YC00000000000000000000000000000000"
        ))
        .await
        .assert_error(404, 60391);
    assert_eq!(
        message,
        "This sign-in request no longer exists: start again."
    );
    let delete = h
        .request(
            Method::DELETE,
            &format!("/demo/api/users/{USER}/factors/YF00000000000000000000000000000000"),
            &[],
            Vec::new(),
        )
        .await;
    let message = delete.assert_error(404, 20404);
    assert_plain(&message);
    assert!(message.starts_with("Not found"), "{message}");
}

#[tokio::test]
async fn credentials_must_be_objects() {
    let h = Harness::new().await;
    let created = h
        .post_json("/demo/api/passkeys/register", &json!({ "identity": USER }))
        .await
        .assert_ok();
    let factor = created["factor_sid"].as_str().unwrap();
    let message = h
        .post_json(
            "/demo/api/passkeys/register/finish",
            &json!({ "identity": USER, "factor_sid": factor, "credential": "AAAA" }),
        )
        .await
        .assert_error(400, 60200);
    assert!(message.contains("RegistrationResponseJSON"), "{message}");
    let message = h
        .post_json(
            "/demo/api/passkeys/signin/finish",
            &json!({ "challenge_sid": "YC00000000000000000000000000000000", "credential": [] }),
        )
        .await
        .assert_error(400, 60200);
    assert!(message.contains("AuthenticationResponseJSON"), "{message}");
}

#[tokio::test]
async fn sign_in_needs_an_enrolled_factor() {
    let h = Harness::new().await;
    let message = h
        .post_json("/demo/api/push/challenge", &json!({ "identity": USER }))
        .await
        .assert_error(404, 20404);
    assert_eq!(
        message,
        format!("No phone is set up for push approval for {USER} yet: set one up first.")
    );
    let message = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": "123456" }),
        )
        .await
        .assert_error(404, 20404);
    assert_eq!(
        message,
        format!(
            "No authenticator app is set up for {USER} yet: add one first, then sign in with \
             a code from it."
        )
    );
    // An unverified TOTP factor does not count.
    h.post_json("/demo/api/totp/enroll", &json!({ "identity": USER }))
        .await
        .assert_ok();
    h.post_json(
        "/demo/api/totp/signin",
        &json!({ "identity": USER, "code": "123456" }),
    )
    .await
    .assert_error(404, 20404);
    // No passkey for this identity.
    let no_passkey = h
        .post_json("/demo/api/passkeys/signin", &json!({ "identity": USER }))
        .await;
    assert!(no_passkey.status.is_client_error(), "{}", no_passkey.text());
    let message = no_passkey.json()["message"].as_str().unwrap().to_owned();
    assert_plain(&message);
    assert_eq!(
        message,
        "No passkey is set up for this user yet: add one first."
    );
    // Nor for a user the service never saw.
    let message = h
        .post_json(
            "/demo/api/passkeys/signin",
            &json!({ "identity": "nobody-0000" }),
        )
        .await
        .json()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "No passkey is set up for this user yet: add one first."
    );
    let factors = h
        .get(&format!("/demo/api/users/{USER}/factors"))
        .await
        .assert_ok();
    assert_eq!(factors["factors"].as_array().unwrap().len(), 1);
    let empty = h
        .get("/demo/api/users/nobody-0000/factors")
        .await
        .assert_ok();
    assert_eq!(empty["factors"], json!([]));
}

#[tokio::test]
async fn qr_refuses_other_text() {
    let h = Harness::new().await;
    h.post_json("/demo/api/qr", &json!({ "text": "https://example.com" }))
        .await
        .assert_error(400, 60200);
    h.post_json(
        "/demo/api/qr",
        &json!({ "text": format!("otpauth://totp/x?secret={}", "A".repeat(2000)) }),
    )
    .await
    .assert_error(400, 60200);
}
