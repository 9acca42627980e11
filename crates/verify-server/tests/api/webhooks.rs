use axum::http::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Harness, code};

#[tokio::test]
async fn webhook_crud_and_validation() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/Webhooks");
    let created = h
        .post(
            &url,
            &[
                ("FriendlyName", "audit"),
                ("EventTypes", "factor.created"),
                ("EventTypes", "challenge.approved"),
                ("WebhookUrl", "https://hooks.example.com/verify"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let webhook = created.str("sid");
    assert!(webhook.starts_with("YW"));
    assert!(created.str("secret").starts_with("whsec_"));
    assert_eq!(
        created.json["event_types"],
        serde_json::json!(["factor.created", "challenge.approved"])
    );
    assert_eq!(created.json["status"], "enabled");
    assert_eq!(created.json["webhook_method"], "POST");

    let fetched = h.get(&format!("{url}/{webhook}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.json.get("secret").is_none());

    let disabled = h
        .post(&format!("{url}/{webhook}"), &[("Status", "disabled")])
        .await;
    assert_eq!(disabled.json["status"], "disabled", "{}", disabled.json);
    h.post(&format!("{url}/{webhook}"), &[("Status", "paused")])
        .await
        .assert_error(400, 60200);
    h.post(&format!("{url}/{webhook}"), &[])
        .await
        .assert_error(400, 60200);

    let listed = h.get(&url).await;
    assert_eq!(listed.json["meta"]["key"], "webhooks");
    assert_eq!(listed.json["webhooks"][0]["sid"], webhook.as_str());

    h.post(
        &url,
        &[
            ("FriendlyName", "x"),
            ("EventTypes", "factor.exploded"),
            ("WebhookUrl", "https://a.example/"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(
        &url,
        &[
            ("FriendlyName", "x"),
            ("EventTypes", "*"),
            ("WebhookUrl", "ftp://a.example/"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(&url, &[("FriendlyName", "x"), ("EventTypes", "*")])
        .await
        .assert_error(400, 60200);
    h.get(&format!("{url}/YWnope"))
        .await
        .assert_error(400, 60200);

    assert_eq!(
        h.delete(&format!("{url}/{webhook}")).await.status,
        StatusCode::NO_CONTENT
    );
    h.get(&format!("{url}/{webhook}"))
        .await
        .assert_error(404, 20404);
}

/// Creates a webhook (`factor.created`, `https://hooks.example.com/verify`), returns
/// its resource URL.
async fn webhook(h: &Harness, service: &str) -> String {
    let created = h
        .post(
            &format!("/v2/Services/{service}/Webhooks"),
            &[
                ("FriendlyName", "audit"),
                ("EventTypes", "factor.created"),
                ("WebhookUrl", "https://hooks.example.com/verify"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    format!("/v2/Services/{service}/Webhooks/{}", created.str("sid"))
}

#[tokio::test]
async fn webhook_update_changes_each_parameter() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = webhook(&h, &sid).await;
    let created = h.get(&url).await.json;

    h.advance(5);
    let renamed = h.post(&url, &[("FriendlyName", "audit log")]).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    let fetched = h.get(&url).await.json;
    assert_eq!(fetched["friendly_name"], "audit log");
    // Absent parameters keep their values.
    assert_eq!(fetched["event_types"], created["event_types"]);
    assert_eq!(fetched["webhook_url"], created["webhook_url"]);
    assert_eq!(fetched["status"], "enabled");
    assert_ne!(fetched["date_updated"], created["date_updated"]);
    assert_eq!(fetched["date_created"], created["date_created"]);

    // EventTypes repeated, as the helper libraries send an array.
    h.post(
        &url,
        &[
            ("EventTypes", "factor.verified"),
            ("EventTypes", "challenge.denied"),
        ],
    )
    .await;
    assert_eq!(
        h.get(&url).await.json["event_types"],
        serde_json::json!(["factor.verified", "challenge.denied"])
    );
    // ... and as one comma-separated value.
    h.post(
        &url,
        &[("EventTypes", "factor.deleted, challenge.approved")],
    )
    .await;
    assert_eq!(
        h.get(&url).await.json["event_types"],
        serde_json::json!(["factor.deleted", "challenge.approved"])
    );
    h.post(&url, &[("EventTypes", "*")]).await;
    assert_eq!(
        h.get(&url).await.json["event_types"],
        serde_json::json!(["*"])
    );

    let moved = h
        .post(&url, &[("WebhookUrl", "http://127.0.0.1:9000/hook")])
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.json);
    assert_eq!(
        h.get(&url).await.json["webhook_url"],
        "http://127.0.0.1:9000/hook"
    );

    h.post(&url, &[("Status", "disabled")]).await;
    assert_eq!(h.get(&url).await.json["status"], "disabled");
    h.post(&url, &[("Status", "enabled")]).await;
    assert_eq!(h.get(&url).await.json["status"], "enabled");

    // Version v2 (the only version served) is accepted and changes nothing.
    let before = h.get(&url).await.json;
    let same = h.post(&url, &[("Version", "v2")]).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.json);
    assert_eq!(same.json, before);

    // Everything at once, as the documents' example sends it; the response is
    // the updated resource, without the secret.
    let all = h
        .post(
            &url,
            &[
                ("FriendlyName", "name"),
                ("EventTypes", "factor.deleted"),
                ("EventTypes", "factor.verified"),
                ("WebhookUrl", "https://owlbank.example.com"),
                ("Status", "disabled"),
                ("Version", "v2"),
            ],
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(all.json["friendly_name"], "name");
    assert_eq!(
        all.json["event_types"],
        serde_json::json!(["factor.deleted", "factor.verified"])
    );
    assert_eq!(all.json["webhook_url"], "https://owlbank.example.com");
    assert_eq!(all.json["status"], "disabled");
    assert_eq!(all.json["version"], "v2");
    assert!(all.json.get("secret").is_none());
    assert_eq!(h.get(&url).await.json, all.json);
}

#[tokio::test]
async fn webhook_update_validation() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = webhook(&h, &sid).await;
    let before = h.get(&url).await.json;
    for form in [
        vec![],
        vec![("FriendlyName", "")],
        vec![("FriendlyName", &*"x".repeat(65))],
        vec![("EventTypes", "factor.exploded")],
        vec![("EventTypes", "factor.created,")],
        vec![("EventTypes", "")],
        vec![("WebhookUrl", "ftp://a.example/")],
        vec![("WebhookUrl", "not a url")],
        vec![("WebhookUrl", "https://user:pw@a.example/")],
        vec![(
            "WebhookUrl",
            &*format!("https://a.example/{}", "x".repeat(2048)),
        )],
        vec![("Status", "paused")],
        vec![("Version", "v1")],
        vec![("Version", "v3")],
        // One bad parameter refuses the whole update.
        vec![("FriendlyName", "renamed"), ("Status", "paused")],
        vec![("FriendlyName", "renamed"), ("Version", "v1")],
    ] {
        let reply = h.post(&url, &form).await;
        assert_eq!(reply.status.as_u16(), 400, "{form:?}: {}", reply.json);
        reply.assert_error(400, 60200);
    }
    assert_eq!(h.get(&url).await.json, before, "nothing was changed");

    // An unknown webhook, one of another service, an unknown service.
    let unknown = format!("/v2/Services/{sid}/Webhooks/YW{}", "0".repeat(32));
    h.post(&unknown, &[("FriendlyName", "x")])
        .await
        .assert_error(404, 20404);
    let other = h.service("Other Bank").await;
    let webhook = url.rsplit('/').next().unwrap();
    h.post(
        &format!("/v2/Services/{other}/Webhooks/{webhook}"),
        &[("Status", "disabled")],
    )
    .await
    .assert_error(404, 20404);
    h.post(
        &format!("/v2/Services/VA{}/Webhooks/{webhook}", "0".repeat(32)),
        &[("Status", "disabled")],
    )
    .await
    .assert_error(404, 20404);
    h.post(
        &format!("/v2/Services/{sid}/Webhooks/YWnope"),
        &[("Status", "disabled")],
    )
    .await
    .assert_error(400, 60200);
    // A deleted webhook.
    assert_eq!(h.delete(&url).await.status, StatusCode::NO_CONTENT);
    h.post(&url, &[("Status", "disabled")])
        .await
        .assert_error(404, 20404);

    // The create takes the same Status and Version values.
    let create = format!("/v2/Services/{sid}/Webhooks");
    let base = [
        ("FriendlyName", "x"),
        ("EventTypes", "*"),
        ("WebhookUrl", "https://a.example/"),
    ];
    for extra in [("Status", "paused"), ("Version", "v1")] {
        let mut form = base.to_vec();
        form.push(extra);
        h.post(&create, &form).await.assert_error(400, 60200);
    }
    let mut form = base.to_vec();
    form.extend([("Status", "disabled"), ("Version", "v2")]);
    let created = h.post(&create, &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["status"], "disabled");
}

#[tokio::test]
async fn outbox_events_are_delivered_signed() {
    let h = Harness::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let receiver = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            received.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&received).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                if body.len() >= length {
                    socket
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .unwrap();
                    return (head.to_owned(), body.to_owned());
                }
            }
            if read == 0 {
                panic!("connection closed early");
            }
        }
    });
    let sid = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{sid}/Webhooks"),
            &[
                ("FriendlyName", "local"),
                ("EventTypes", "factor.verified"),
                ("WebhookUrl", &format!("http://127.0.0.1:{port}/hook")),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let secret = verify_engine::WebhookSecret::parse(&created.str("secret")).unwrap();
    let (factor, _secret) = h.verified_totp(&sid, "user-0001").await;

    let client =
        verify_server::delivery::WebhookClient::new(&crate::support::loopback_delivery()).unwrap();
    let handled = verify_server::delivery::drain_once(&h.state, &client)
        .await
        .unwrap();
    assert!(
        handled >= 2,
        "factor.created and factor.verified: {handled}"
    );
    let (head, body) = receiver.await.unwrap();
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    let id = header("webhook-id");
    let timestamp: u64 = header("webhook-timestamp").parse().unwrap();
    let expected = secret.sign(
        &id,
        verify_engine::model::UnixTime::from_secs(timestamp),
        body.as_bytes(),
    );
    assert_eq!(header("webhook-signature"), expected);
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "factor.verified", "{event}");
    assert_eq!(event["factor_sid"], factor.as_str());
    // The outbox is empty afterwards.
    assert_eq!(
        verify_server::delivery::drain_once(&h.state, &client)
            .await
            .unwrap(),
        0
    );
    let _ = code;
}

#[tokio::test]
async fn rotate_secret_shows_the_new_secret_once_and_the_overlap() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let created = h
        .post(
            &format!("/v2/Services/{service}/Webhooks"),
            &[
                ("FriendlyName", "hook"),
                ("EventTypes", "*"),
                ("WebhookUrl", "https://hooks.example.com/verify"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let (sid, old) = (created.str("sid"), created.str("secret"));
    let url = format!("/v2/Services/{service}/Webhooks/{sid}/RotateSecret");
    let rotated = h.post(&url, &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
    let new = rotated.str("secret");
    assert!(new.starts_with("whsec_") && new != old);
    assert_eq!(
        rotated.json["previous_secret_expires"],
        "2026-01-02T00:00:00Z"
    );
    // The secret is shown by the rotation only.
    let fetched = h
        .get(&format!("/v2/Services/{service}/Webhooks/{sid}"))
        .await;
    assert!(fetched.json.get("secret").is_none(), "{}", fetched.json);
    let hard = h.post(&url, &[("OverlapSecs", "0")]).await;
    assert_eq!(
        hard.json["previous_secret_expires"],
        serde_json::Value::Null
    );
    h.post(&url, &[("OverlapSecs", "604801")])
        .await
        .assert_error(400, 60200);
    h.post(&url, &[("OverlapSecs", "soon")])
        .await
        .assert_error(400, 60200);
    h.post(
        &format!("/v2/Services/{service}/Webhooks/YW00000000000000000000000000000000/RotateSecret"),
        &[],
    )
    .await
    .assert_error(404, 20404);
}

/// The delivery task drains the outbox only while its `DeliveryLeader` says this
/// process leads (on PostgreSQL the advisory lock decides; see
/// verify-store-sql's delivery_lease test): a follower leaves every event for the
/// leader.
#[tokio::test]
async fn only_the_leading_process_drains_the_outbox() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use verify_server::delivery::{self, DeliveryLeader, DeliveryOptions, WebhookClient};

    struct Switch(AtomicBool);
    impl DeliveryLeader for Switch {
        fn lead(&self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + '_>> {
            Box::pin(async move { self.0.load(Ordering::SeqCst) })
        }
    }

    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    h.totp_factor(&service, "user-0001").await;
    let leader = Arc::new(Switch(AtomicBool::new(false)));
    let shared: Arc<dyn DeliveryLeader> = leader.clone();
    let task = tokio::spawn(delivery::run(
        Arc::clone(&h.state),
        WebhookClient::new(&DeliveryOptions::default()).unwrap(),
        std::time::Duration::from_millis(50),
        Some(shared),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let waiting = h.state.engine.peek_events(None, 100).await.unwrap();
    assert!(!waiting.is_empty(), "a follower drained the outbox");
    leader.0.store(true, Ordering::SeqCst);
    let mut drained = false;
    for _ in 0..100 {
        if h.state
            .engine
            .peek_events(None, 100)
            .await
            .unwrap()
            .is_empty()
        {
            drained = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    task.abort();
    assert!(drained, "the leader did not drain the outbox");
}
