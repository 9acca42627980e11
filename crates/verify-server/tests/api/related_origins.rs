//! Related origins (WebAuthn L3 §5.11, issue 17): `Passkeys.RelatedOrigins` lets a
//! service accept an origin outside its RP ID, and `GET /.well-known/webauthn`
//! (no authentication) answers `{"origins": [...]}` for the RP ID named by the
//! request's `Host`, 404 when no service of that RP ID lists any.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::Harness;

const RP: (&str, &str) = ("Passkeys.RelyingParty.Id", "example.com");

/// `GET /.well-known/webauthn` with `Host: host`, without credentials.
async fn well_known(h: &Harness, host: &str) -> (StatusCode, String, Value) {
    let request = Request::builder()
        .uri("/.well-known/webauthn")
        .header("host", host)
        .body(Body::empty())
        .unwrap();
    let response = h.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap(),
    )
}

#[tokio::test]
async fn an_origin_outside_the_rp_id_is_accepted_only_when_related() {
    let h = Harness::new();
    let outside = [
        ("FriendlyName", "Owl Bank"),
        RP,
        (
            "Passkeys.RelyingParty.Origins",
            "https://example.com,https://example.co.uk",
        ),
    ];
    // Refused as before without the listing, and with a listing that breaks the
    // rule (not an origin of the service, inside the RP ID, not https).
    h.post("/v2/Services", &outside)
        .await
        .assert_error(400, 60200);
    for related in [
        "https://example.net",
        "https://login.example.com",
        "http://example.co.uk",
    ] {
        let mut form = outside.to_vec();
        form.push(("Passkeys.RelatedOrigins", related));
        h.post("/v2/Services", &form).await.assert_error(400, 60200);
    }
    let mut form = outside.to_vec();
    form.push(("Passkeys.RelatedOrigins", "https://example.co.uk"));
    let created = h.post("/v2/Services", &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(
        created.json["passkeys"]["related_origins"],
        json!(["https://example.co.uk"])
    );
    assert_eq!(
        created.json["passkeys"]["relying_party"]["origins"],
        json!(["https://example.com", "https://example.co.uk"])
    );
    // A service without them shows nothing.
    let plain = h
        .post("/v2/Services", &[("FriendlyName", "Plain"), RP])
        .await;
    assert!(plain.json["passkeys"].get("related_origins").is_none());
}

#[tokio::test]
async fn well_known_webauthn_answers_for_the_hosts_rp_id() {
    let h = Harness::new();
    // Nothing configured yet.
    let (status, _, body) = well_known(&h, "example.com").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for (name, origins, related) in [
        (
            "One",
            "https://example.com,https://example.co.uk",
            "https://example.co.uk",
        ),
        (
            "Two",
            "https://example.co.uk,https://example.de",
            "https://example.co.uk,https://example.de",
        ),
    ] {
        let created = h
            .post(
                "/v2/Services",
                &[
                    ("FriendlyName", name),
                    RP,
                    ("Passkeys.RelyingParty.Origins", origins),
                    ("Passkeys.RelatedOrigins", related),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    }
    // Another RP ID's service without related origins.
    h.post(
        "/v2/Services",
        &[
            ("FriendlyName", "Other"),
            ("Passkeys.RelyingParty.Id", "example.org"),
        ],
    )
    .await;
    let expected = json!({"origins": ["https://example.co.uk", "https://example.de"]});
    for host in ["example.com", "EXAMPLE.com:8443"] {
        let (status, content_type, body) = well_known(&h, host).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert_eq!(body, expected, "{host}");
    }
    // A host that is no service's RP ID, or one whose services list none: 404.
    for host in ["example.org", "example.co.uk", "login.example.com"] {
        let (status, _, body) = well_known(&h, host).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}: {body}");
        assert_eq!(body["code"], 20404, "{body}");
    }
}
