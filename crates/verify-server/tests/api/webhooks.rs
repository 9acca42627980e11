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
    let secret = verify::WebhookSecret::parse(&created.str("secret")).unwrap();
    let (factor, _secret) = h.verified_totp(&sid, "user-0001").await;

    let client = verify_server::delivery::WebhookClient::new(
        &verify_server::delivery::DeliveryOptions::default(),
    )
    .unwrap();
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
        verify::model::UnixTime::from_secs(timestamp),
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
