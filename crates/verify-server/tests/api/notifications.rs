//! `POST .../Challenges/{sid}/Notifications` (docs/api.md, "Notifications"): re-send for a pending push
//! challenge, `Ttl` 0..=300 (default 300), and the notification a push challenge's
//! creation sends from the outbox. Delivered through the state's
//! `NotificationSender` (a scripted one here; the default only logs; the real
//! APNs / FCM senders are tested against local fakes in `push_services.rs`).

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use verify_engine::model::NotificationPlatform;
use verify_server::push::{NotificationSender, OutgoingNotification, PushOutcome, SendFuture};

use crate::device_auth::{challenge, enroll};
use crate::support::Harness;

/// Records what it is handed and answers the scripted outcomes in order, then
/// `Delivered`.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) sent: Mutex<Vec<OutgoingNotification>>,
    pub(crate) answers: Mutex<Vec<PushOutcome>>,
}

impl NotificationSender for Recorder {
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a> {
        Box::pin(async move {
            self.sent.lock().unwrap().push(notification.clone());
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                PushOutcome::Delivered { id: None }
            } else {
                answers.remove(0)
            }
        })
    }
}

pub(crate) fn with_recorder(answers: Vec<PushOutcome>) -> (Harness, Arc<Recorder>) {
    let recorder = Arc::new(Recorder {
        sent: Mutex::new(Vec::new()),
        answers: Mutex::new(answers),
    });
    let sender: Arc<dyn NotificationSender> = recorder.clone();
    (Harness::with_sender(sender), recorder)
}

#[tokio::test]
async fn a_pending_push_challenge_is_renotified() {
    let (h, recorder) = with_recorder(Vec::new());
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
    assert_eq!(first.device_token, "f".repeat(64));
    assert_eq!(first.platform, NotificationPlatform::Apn);
    // apns-expiration: Ttl seconds from now; Ttl 0 is APNs' "now or never".
    assert_eq!(first.apns_expiration, crate::support::T0 + 300);
    assert_eq!(sent[1].apns_expiration, 0);
    let payload = &first.payload;
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
    let (h, recorder) = with_recorder(Vec::new());
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "fcm").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[("Ttl", "120")]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let sent = recorder.sent.lock().unwrap().clone();
    let payload = &sent[0].payload;
    assert_eq!(payload["message"]["android"]["ttl"], "120s");
    assert_eq!(payload["message"]["token"], "f".repeat(64));
    assert_eq!(payload["message"]["data"]["type"], "verify_push_challenge");
    assert_eq!(payload["message"]["data"]["challenge_sid"], sid);
    let redacted = sent[0].redacted_payload();
    assert_eq!(redacted["message"]["token"], "<redacted>");
    assert_eq!(redacted["message"]["data"]["challenge_sid"], sid);
}

#[tokio::test]
async fn a_device_without_a_platform_has_nothing_to_send() {
    let (h, recorder) = with_recorder(Vec::new());
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert!(recorder.sent.lock().unwrap().is_empty());
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
async fn push_service_refusals_answer_502_or_503_and_an_unregistered_token_stops_sends() {
    let (h, recorder) = with_recorder(vec![
        PushOutcome::Failed {
            status: Some(403),
            reason: "InvalidProviderToken".into(),
        },
        PushOutcome::Retry {
            after: Some(std::time::Duration::from_secs(7)),
            reason: "TooManyRequests".into(),
        },
        PushOutcome::Unregistered {
            reason: "Unregistered".into(),
        },
    ]);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}/Notifications", device.entity_url());
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status.as_u16(), 502, "{}", reply.json);
    assert_eq!(reply.json["status"], 502);
    assert!(reply.str("message").contains("InvalidProviderToken"));
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status.as_u16(), 503, "{}", reply.json);
    assert_eq!(reply.headers["retry-after"], "7");
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status.as_u16(), 502, "{}", reply.json);
    assert_eq!(recorder.sent.lock().unwrap().len(), 3);
    // The token is marked: nothing more is sent to it, the resource is still made.
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(recorder.sent.lock().unwrap().len(), 3);
    let metrics = h.state.push_metrics();
    assert_eq!(metrics.get(NotificationPlatform::Apn, "failed"), 1);
    assert_eq!(metrics.get(NotificationPlatform::Apn, "retried"), 1);
    assert_eq!(metrics.get(NotificationPlatform::Apn, "unregistered"), 1);
    // The device's next configuration (a new token) is sent to again.
    let updated = h
        .send(
            axum::http::Method::POST,
            &device.factor_url(),
            Some(&device.auth(&h)),
            &[("Config.NotificationToken", &"e".repeat(64))],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    let reply = h.post(&url, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].device_token, "e".repeat(64));
}

#[tokio::test]
async fn refusals_bad_ttl_terminal_non_push_and_unknown() {
    let (h, recorder) = with_recorder(Vec::new());
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

// ---- the notification of a new push challenge, from the outbox -------------------

fn quick_client() -> verify_server::delivery::WebhookClient {
    let mut options = verify_server::delivery::DeliveryOptions::default();
    options.first_backoff = std::time::Duration::from_millis(10);
    options.max_attempts = 3;
    verify_server::delivery::WebhookClient::new(&options).unwrap()
}

async fn drain(h: &Harness) -> usize {
    verify_server::delivery::drain_once(&h.state, &quick_client())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_push_challenge_is_notified_once_from_the_outbox() {
    let (h, recorder) = with_recorder(Vec::new());
    let service = h.service("Owl Bank").await;
    let apn = enroll(&h, &service, "user-0001", 9, "apn").await;
    let fcm = enroll(&h, &service, "user-0002", 10, "fcm").await;
    let none = enroll(&h, &service, "user-0003", 11, "none").await;
    drain(&h).await;
    // Nothing is sent inside the request that creates the challenge.
    let apn_challenge = challenge(&h, &apn).await;
    let fcm_challenge = challenge(&h, &fcm).await;
    let _ = challenge(&h, &none).await;
    assert!(recorder.sent.lock().unwrap().is_empty());

    assert_eq!(drain(&h).await, 3);
    let sent = recorder.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "one per factor with a token: {sent:?}");
    assert_eq!(sent[0].challenge_sid.to_string(), apn_challenge);
    assert_eq!(sent[0].factor_sid.to_string(), apn.factor);
    assert_eq!(sent[0].platform, NotificationPlatform::Apn);
    assert_eq!(sent[0].payload["aps"]["category"], "verify_push_challenge");
    assert_eq!(sent[0].payload["challenge_sid"], apn_challenge);
    // apns-expiration is the challenge's expiry (default 5 minutes).
    assert_eq!(sent[0].apns_expiration, crate::support::T0 + 300);
    assert_eq!(sent[1].challenge_sid.to_string(), fcm_challenge);
    assert_eq!(sent[1].platform, NotificationPlatform::Fcm);
    assert_eq!(sent[1].payload["message"]["data"]["factor_sid"], fcm.factor);
    assert_eq!(sent[1].payload["message"]["android"]["ttl"], "300s");
    // Acknowledged: a second drain sends nothing again.
    assert_eq!(drain(&h).await, 0);
    assert_eq!(recorder.sent.lock().unwrap().len(), 2);
    assert_eq!(
        h.state
            .push_metrics()
            .get(NotificationPlatform::Apn, "delivered"),
        1
    );
    let text = metrics_text(&h, Some(&crate::support::basic("key", "secret"))).await;
    assert!(
        text.contains(
            "verify_push_notifications_total{platform=\"apn\",outcome=\"delivered\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "verify_push_notifications_total{platform=\"fcm\",outcome=\"delivered\"} 1\n"
        )
    );
    // The counters are the host's: no API key, no metrics.
    assert!(metrics_text(&h, None).await.contains("20003"));
}

async fn metrics_text(h: &Harness, authorization: Option<&str>) -> String {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut request = axum::http::Request::get("/metrics");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = h
        .app
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn retries_honour_the_push_service_and_are_bounded() {
    let retry = || PushOutcome::Retry {
        after: None,
        reason: "500".into(),
    };
    let (h, recorder) = with_recorder(vec![retry(), retry()]);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    drain(&h).await;
    let _ = challenge(&h, &device).await;
    assert_eq!(drain(&h).await, 1);
    // Two 5xx, then delivered on the third attempt.
    assert_eq!(recorder.sent.lock().unwrap().len(), 3);
    let metrics = h.state.push_metrics();
    assert_eq!(metrics.get(NotificationPlatform::Apn, "retried"), 2);
    assert_eq!(metrics.get(NotificationPlatform::Apn, "delivered"), 1);

    // Always 5xx: three attempts (the client's bound), then dropped.
    *recorder.answers.lock().unwrap() = vec![retry(), retry(), retry(), retry()];
    let _ = challenge(&h, &device).await;
    assert_eq!(drain(&h).await, 1);
    assert_eq!(recorder.sent.lock().unwrap().len(), 6);
    assert_eq!(metrics.get(NotificationPlatform::Apn, "dropped"), 1);
    assert_eq!(drain(&h).await, 0);
}

#[tokio::test]
async fn an_unregistered_token_is_marked_and_not_sent_to_again() {
    let (h, recorder) = with_recorder(vec![PushOutcome::Unregistered {
        reason: "BadDeviceToken".into(),
    }]);
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "fcm").await;
    drain(&h).await;
    let _ = challenge(&h, &device).await;
    assert_eq!(drain(&h).await, 1);
    assert_eq!(recorder.sent.lock().unwrap().len(), 1);
    let _ = challenge(&h, &device).await;
    assert_eq!(drain(&h).await, 1);
    assert_eq!(
        recorder.sent.lock().unwrap().len(),
        1,
        "sent to a dead token"
    );
    assert_eq!(
        h.state
            .push_metrics()
            .get(NotificationPlatform::Fcm, "unregistered"),
        1
    );
    // The factor resource does not show the mark.
    let factor = h.get(&device.factor_url()).await;
    assert_eq!(factor.json["config"]["notification_token"], "f".repeat(64));
    assert!(
        factor.json["config"]
            .get("notification_token_invalid")
            .is_none()
    );
}

#[tokio::test]
async fn a_challenge_answered_or_expired_before_the_drain_is_not_notified() {
    let (h, recorder) = with_recorder(Vec::new());
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "apn").await;
    drain(&h).await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}", device.entity_url());
    let served = h.get(&url).await;
    let approved = h
        .send(
            axum::http::Method::POST,
            &url,
            Some(&device.auth(&h)),
            &[("AuthPayload", &device.answer(&served, "approved"))],
        )
        .await;
    assert_eq!(approved.json["status"], "approved", "{}", approved.json);
    let _ = challenge(&h, &device).await;
    h.advance(301);
    drain(&h).await;
    assert!(recorder.sent.lock().unwrap().is_empty());
}
