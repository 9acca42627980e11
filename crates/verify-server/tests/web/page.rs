//! The page and its assets, the JSON index, and the demo turned off.

use axum::http::StatusCode;
use verify_server::web::CONTENT_SECURITY_POLICY;

use crate::support::{BASE, Harness, USER};

#[tokio::test]
async fn index_serves_the_page_with_its_headers() {
    let h = Harness::new().await;
    let page = h.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(
        page.header("content-security-policy"),
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let html = page.text();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains(r#"<script src="/demo/app.js" defer></script>"#));
    // Nothing is loaded from another origin.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for id in [
        "identity",
        "passkey-register",
        "passkey-signin",
        "totp-enroll",
        "push-send",
        "device-enroll",
        "sign-out",
        "api-log",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "no #{id}");
    }
}

/// The sections in the order a visitor meets them, each with a heading and a lead
/// saying what it shows and what to do; sign-out beside the signed-in state; the
/// sids only in the developer panel (step 5).
#[tokio::test]
async fn page_reads_as_a_walk_through() {
    let html = Harness::new().await.get("/").await.text();
    let sections = [
        ("user-pane", "Choose a user name"),
        ("passkeys-pane", "Sign in with a passkey"),
        ("totp-pane", "Sign in with an authenticator app"),
        ("push-pane", "Approve a sign-in on your phone"),
        ("backend-pane", "See what the backend saw"),
    ];
    let mut last = 0;
    for (step, (id, heading)) in (1..).zip(sections) {
        let at = html
            .find(&format!(r#"<section class="pane" id="{id}""#))
            .unwrap_or_else(|| panic!("no section #{id}"));
        assert!(at > last, "#{id} is out of order");
        last = at;
        let section = &html[at..];
        let section = &section[..section.find("</section>").unwrap()];
        assert!(
            section.contains(&format!(
                r#"<span class="step">{step}</span> {heading}</h2>"#
            )),
            "#{id}: no step {step} heading {heading:?}"
        );
        let lead = section
            .find(r#"<p class="lead">"#)
            .unwrap_or_else(|| panic!("#{id}: no lead"));
        let lead = &section[lead..];
        assert!(
            lead[..lead.find("</p>").unwrap()].len() > 80,
            "#{id}: a short lead"
        );
    }
    // Within push: set up the phone (a), send from the website (b), approve (c).
    let push = &html[html.find(r#"id="push-pane""#).unwrap()..];
    let (enroll, send) = (
        push.find(r#"id="device-enroll""#).unwrap(),
        push.find(r#"id="push-send""#).unwrap(),
    );
    assert!(
        enroll < send,
        "the phone is set up before a request is sent"
    );
    // Sign-out sits with the signed-in state, hidden until signed in.
    assert!(
        html.contains(
            r#"<button id="sign-out" type="button" class="secondary" hidden>Sign out</button>"#
        ),
        "no hidden #sign-out button"
    );
    assert!(html.find(r#"id="signed-in""#).unwrap() < html.find(r#"id="sign-out""#).unwrap());
    // The developer panel is the one technical area.
    assert!(html.contains(r#"id="backend-pane" aria-labelledby="backend-title" data-technical"#));
    assert_eq!(html.matches("data-technical").count(), 1);
    // Every input has a label.
    for input in ["identity", "totp-verify-code", "totp-signin-code"] {
        assert!(
            html.contains(&format!(r#"<label for="{input}">"#)),
            "#{input} unlabelled"
        );
    }
}

#[tokio::test]
async fn assets_have_their_content_types() {
    let h = Harness::new().await;
    for (path, content_type, needle) in [
        (
            "/demo/app.js",
            "text/javascript; charset=utf-8",
            "parseCreationOptionsFromJSON",
        ),
        ("/demo/app.css", "text/css; charset=utf-8", "--accent"),
        ("/demo/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let reply = h.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), content_type, "{path}");
        assert!(reply.text().contains(needle), "{path}");
    }
    // The script speaks the SDK protocol (docs/push-protocol.md) to /v2.
    let script = h.get("/demo/app.js").await.text();
    for needle in [
        "twilio-pba;v=1",
        "Twilio-Verify-Signature-Fields",
        "parseRequestOptionsFromJSON",
        "token:",
    ] {
        assert!(script.contains(needle), "app.js lacks {needle}");
    }
}

#[tokio::test]
async fn json_index_moves_to_api_with_the_demo_on() {
    let h = Harness::new().await;
    let index = h.get("/api").await;
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.json()["api"], "/v2/Services");
}

#[tokio::test]
async fn demo_off_answers_404_and_keeps_the_json_index() {
    let h = Harness::without_demo();
    for path in [
        "/demo/api/config",
        "/demo/app.js",
        &format!("/demo/api/users/{USER}/factors"),
    ] {
        h.get(path).await.assert_error(404, 20404);
    }
    h.post_json(
        "/demo/api/qr",
        &serde_json::json!({"text": "otpauth://totp/x"}),
    )
    .await
    .assert_error(404, 20404);
    h.post_json(
        "/demo/api/push/token",
        &serde_json::json!({"identity": USER}),
    )
    .await
    .assert_error(404, 20404);
    for path in ["/", "/api"] {
        let index = h.get(path).await;
        assert_eq!(index.status, StatusCode::OK, "{path}");
        assert_eq!(index.json()["api"], "/v2/Services", "{path}");
    }
}

#[tokio::test]
async fn config_names_the_service_and_relying_party() {
    let h = Harness::new().await;
    let config = h.get("/demo/api/config").await;
    assert_eq!(config.header("cache-control"), "no-store");
    let json = config.assert_ok();
    assert_eq!(json["service_sid"], h.service());
    assert_eq!(json["rp_id"], "localhost");
    assert_eq!(json["origin"], BASE);
    // The demo service is an ordinary service of the API.
    let service = h
        .request(
            axum::http::Method::GET,
            &format!("/v2/Services/{}", h.service()),
            &[("authorization", &crate::support::basic("key", "secret"))],
            Vec::new(),
        )
        .await
        .assert_ok();
    assert_eq!(
        service["friendly_name"],
        verify_server::demo::DEMO_SERVICE_NAME
    );
}

#[tokio::test]
async fn qr_endpoint_answers_svg() {
    let h = Harness::new().await;
    let uri = "otpauth://totp/verify%20web%20demo:demo-user-0001?secret=JBSWY3DPEHPK3PXP&issuer=verify%20web%20demo&algorithm=SHA1&digits=6&period=30";
    let reply = h
        .post_json("/demo/api/qr", &serde_json::json!({ "text": uri }))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "image/svg+xml");
    assert_eq!(reply.header("cache-control"), "no-store");
    let svg = reply.text();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    // Another text gives another code.
    let other = h
        .post_json(
            "/demo/api/qr",
            &serde_json::json!({ "text": uri.replace("JBSW", "KRSX") }),
        )
        .await
        .text();
    assert_ne!(svg, other);
}
