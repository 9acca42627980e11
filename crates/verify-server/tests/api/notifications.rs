//! `POST .../Challenges/{sid}/Notifications` (docs/api.md, "Notifications"): re-send for a pending push
//! challenge, `Ttl` 0..=300 (default 300). Delivered through the router's
//! `NotificationSender` (a recording one here; the default only logs).

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::http::StatusCode;
use verify_server::delivery::{
    NotificationSendError, NotificationSender, OutgoingNotification, SendFuture,
};

use crate::device_auth::{challenge, enroll};
use crate::support::Harness;

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<OutgoingNotification>>,
    fail: bool,
}

impl NotificationSender for Recorder {
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a> {
        Box::pin(async move {
            if self.fail {
                return Err(NotificationSendError::Service("APNs said no".to_owned()));
            }
            self.sent.lock().unwrap().push(notification.clone());
            Ok(())
        })
    }
}

fn with_recorder(fail: bool) -> (Harness, Arc<Recorder>) {
    let mut h = Harness::new();
    let recorder = Arc::new(Recorder {
        sent: Mutex::new(Vec::new()),
        fail,
    });
    let sender: Arc<dyn NotificationSender> = recorder.clone();
    h.app = h.app.layer(Extension(sender));
    (h, recorder)
}

#[tokio::test]
async fn a_pending_push_challenge_is_renotified() {
    let (h, recorder) = with_recorder(false);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());

    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert!(reply.str("sid").starts_with("NT"), "{}", reply.json);
    assert_eq!(reply.json["challenge_sid"], sid);
    assert_eq!(reply.json["identity"], "user-0001");
    assert_eq!(reply.json["service_sid"], service);
    assert!(reply.str("entity_sid").starts_with("YE"));
    assert_eq!(reply.json["ttl"], 300);
    assert_eq!(reply.json["priority"], "high");
    assert_eq!(reply.json["date_created"], "2026-01-01T00:00:00Z");

    let reply = h.post(&url, &[("Ttl", "0")]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(reply.json["ttl"], 0);

    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    let first = &sent[0];
    assert_eq!(first.challenge_sid.to_string(), sid);
    assert_eq!(first.factor_sid.to_string(), device.factor);
    assert_eq!(first.ttl.as_secs(), 300);
    assert_eq!(sent[1].ttl.as_secs(), 0);
    assert_eq!(first.device_token.as_deref(), Some("f".repeat(64).as_str()));
    let payload = first.payload.as_ref().unwrap();
    assert_eq!(payload["type"], "verify_push_challenge");
    assert_eq!(payload["challenge_sid"], sid);
    assert_eq!(payload["factor_sid"], device.factor);
    assert_eq!(payload["aps"]["alert"], "Approve login to Owl Bank?");
    assert_eq!(payload["aps"]["category"], "verify_push_challenge");
    // Debug never shows the device token.
    assert!(!format!("{first:?}").contains(&"f".repeat(64)));
}

#[tokio::test]
async fn an_fcm_device_gets_the_fcm_message_and_logs_redact_its_token() {
    let (h, recorder) = with_recorder(false);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "fcm").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[("Ttl", "120")]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let sent = recorder.sent.lock().unwrap().clone();
    let payload = sent[0].payload.as_ref().unwrap();
    assert_eq!(payload["message"]["token"], "f".repeat(64));
    assert_eq!(payload["message"]["data"]["type"], "verify_push_challenge");
    assert_eq!(payload["message"]["data"]["challenge_sid"], sid);
    let redacted = sent[0].redacted_payload().unwrap();
    assert_eq!(redacted["message"]["token"], "<redacted>");
    assert_eq!(redacted["message"]["data"]["challenge_sid"], sid);
}

#[tokio::test]
async fn a_device_without_a_platform_has_nothing_to_send() {
    let (h, recorder) = with_recorder(false);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].payload.is_none());
    assert!(sent[0].device_token.is_none());
}

#[tokio::test]
async fn the_default_sender_logs_and_answers_201() {
    // No sender installed: the logging default.
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[("Ttl", "300")]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
}

#[tokio::test]
async fn a_refusing_push_service_is_a_502() {
    let (h, _) = with_recorder(true);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status.as_u16(), 502, "{}", reply.json);
    assert_eq!(reply.json["status"], 502);
}

#[tokio::test]
async fn refusals_bad_ttl_terminal_non_push_and_unknown() {
    let (h, recorder) = with_recorder(false);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());

    for ttl in ["301", "-1", "abc", "1e3", ""] {
        h.post(&url, &[("Ttl", ttl)]).await.assert_error(400, 60200);
    }

    // A TOTP challenge: wrong factor type.
    let (totp, _secret) = h.verified_totp(&service, "user-0001").await;
    let totp_challenge = h
        .post(
            &format!("{}/Challenges", device.entity_url()),
            &[("FactorSid", &totp)],
        )
        .await;
    assert_eq!(
        totp_challenge.status,
        StatusCode::CREATED,
        "{}",
        totp_challenge.json
    );
    let totp_url = format!(
        "{}/Challenges/{}/Notifications",
        device.entity_url(),
        totp_challenge.str("sid")
    );
    h.post(&totp_url, &[]).await.assert_error(400, 60369);

    // Denied push challenge: terminal.
    let challenge_url = format!("{}/Challenges/{sid}", device.entity_url());
    let served = h.get(&challenge_url).await;
    let denied = h
        .send(
            axum::http::Method::POST,
            &challenge_url,
            Some(&device.auth(&h)),
            &[("AuthPayload", &device.answer(&served, "denied"))],
        )
        .await;
    assert_eq!(denied.json["status"], "denied", "{}", denied.json);
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status.as_u16(), 409, "{}", reply.json);

    // Expired push challenge (default 5 minutes).
    let expiring = challenge(&h, &device).await;
    h.advance(301);
    h.post(
        &format!(
            "{}/Challenges/{expiring}/Notifications",
            device.entity_url()
        ),
        &[],
    )
    .await
    .assert_error(403, 60323);

    // Unknown and malformed challenge sids.
    h.post(
        &format!(
            "{}/Challenges/YC00000000000000000000000000000000/Notifications",
            device.entity_url()
        ),
        &[],
    )
    .await
    .assert_error(404, 60391);
    h.post(
        &format!("{}/Challenges/nope/Notifications", device.entity_url()),
        &[],
    )
    .await
    .assert_error(400, 60364);

    // Nothing was handed to the sender.
    assert!(recorder.sent.lock().unwrap().is_empty());
}
