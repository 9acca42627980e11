//! Webhooks: deliveries built from the outbox, filtered by event type, signed per
//! Standard Webhooks and checked by an independent verifier written from the
//! scheme's text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use verify_engine::{NewChallengeRequest, WebhookRequest};
use verify_model::{EventType, WebhookEventType, WebhookStatus};

use crate::support::{Harness, block_on};
use crate::totp::{enrolled, rfc6238_code};

/// Standard Webhooks, "Verifying webhook authenticity": the signed content is
/// `{msg_id}.{timestamp}.{payload}`; the key is the base64 part of `whsec_...`; the
/// header holds space-delimited `v1,<base64 HMAC-SHA256>` signatures, any of which
/// may match; the timestamp must be within the tolerance (5 minutes) of now.
fn verify_standard_webhook(
    secret: &str,
    headers: &[(&str, String)],
    body: &[u8],
    now: u64,
) -> Result<(), &'static str> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let id = header("webhook-id").ok_or("missing webhook-id")?;
    let timestamp = header("webhook-timestamp").ok_or("missing webhook-timestamp")?;
    let signatures = header("webhook-signature").ok_or("missing webhook-signature")?;
    let ts: u64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    if ts.abs_diff(now) > 300 {
        return Err("timestamp outside tolerance");
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or("bad secret prefix")?)
        .map_err(|_| "bad secret")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    for signature in signatures.split(' ') {
        let Some(("v1", encoded)) = signature.split_once(',') else {
            continue;
        };
        let Ok(bytes) = STANDARD.decode(encoded) else {
            continue;
        };
        if bytes[..] == expected[..] {
            return Ok(());
        }
    }
    Err("no matching signature")
}

#[test]
fn deliveries_are_filtered_and_signed() {
    let h = Harness::new(20);
    let e = enrolled(&h);
    block_on(async {
        let verified_only = h
            .verify
            .create_webhook(
                e.service,
                "Verified",
                vec![WebhookEventType::Only(EventType::FactorVerified)],
                "https://hooks.example/verified",
            )
            .await
            .unwrap();
        let everything = h
            .verify
            .create_webhook(
                e.service,
                "All",
                vec![WebhookEventType::All],
                "https://hooks.example/all",
            )
            .await
            .unwrap();
        let disabled = h
            .verify
            .create_webhook(
                e.service,
                "Off",
                vec![WebhookEventType::All],
                "https://hooks.example/off",
            )
            .await
            .unwrap();
        h.verify
            .update_webhook_status(e.service, disabled.webhook.sid(), WebhookStatus::Disabled)
            .await
            .unwrap();
        assert!(!format!("{:?}", everything.secret).contains(&everything.secret.to_whsec()[6..]));

        h.advance(30);
        let code = rfc6238_code(&e.secret, h.now().as_secs());
        let approved = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new().with_auth_payload(&code),
            )
            .await
            .unwrap();
        assert!(approved.is_approved());

        let events = h.verify.drain_events(100).await.unwrap();
        let types: Vec<EventType> = events.iter().map(|e| e.event.event_type).collect();
        assert_eq!(
            types,
            [
                EventType::FactorCreated,
                EventType::FactorVerified,
                EventType::ChallengeApproved
            ]
        );
        assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
        assert!(h.verify.drain_events(100).await.unwrap().is_empty());

        let mut delivered: Vec<(String, String)> = Vec::new();
        for event in &events {
            for request in h.verify.webhook_requests(event).await.unwrap() {
                let secret = if request.url.ends_with("/all") {
                    everything.secret.to_whsec()
                } else {
                    verified_only.secret.to_whsec()
                };
                verify_standard_webhook(
                    &secret,
                    &request.headers,
                    &request.body,
                    h.now().as_secs(),
                )
                .unwrap();
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                assert_eq!(body["service_sid"], e.service.to_string());
                assert_eq!(body["entity_identity"], e.identity.as_str());
                assert_eq!(body["factor_sid"], e.factor.sid().to_string());
                assert_eq!(body["factor_type"], "totp");
                assert!(body["uuid"].as_str().unwrap().len() == 36);
                assert!(body["account_sid"].as_str().unwrap().starts_with("AC"));
                delivered.push((
                    request.url.clone(),
                    body["type"].as_str().unwrap().to_owned(),
                ));
                // Tampering with the body, the id or the timestamp breaks the signature.
                check_tampering(&secret, &request, h.now().as_secs());
            }
        }
        assert_eq!(
            delivered,
            [
                ("https://hooks.example/all".into(), "factor.created".into()),
                (
                    "https://hooks.example/verified".into(),
                    "factor.verified".into()
                ),
                ("https://hooks.example/all".into(), "factor.verified".into()),
                (
                    "https://hooks.example/all".into(),
                    "challenge.approved".into()
                ),
            ]
        );

        // A retry of the same event carries the same webhook-id (receivers dedupe).
        let again = h.verify.webhook_requests(&events[2]).await.unwrap();
        let first = h.verify.webhook_requests(&events[2]).await.unwrap();
        assert_eq!(again[0].header("webhook-id"), first[0].header("webhook-id"));

        // CRUD: list, delete.
        let page = h
            .verify
            .list_webhooks(e.service, &verify_store::ListQuery::default())
            .await
            .unwrap();
        assert_eq!(page.items.len(), 3);
        h.verify
            .delete_webhook(e.service, verified_only.webhook.sid())
            .await
            .unwrap();
        let gone = h
            .verify
            .fetch_webhook(e.service, verified_only.webhook.sid())
            .await
            .unwrap_err();
        assert_eq!(gone.http_status(), 404);
        assert_eq!(
            h.verify.webhook_requests(&events[1]).await.unwrap().len(),
            1,
            "only the '*' webhook remains for factor.verified"
        );
    });
}

fn check_tampering(secret: &str, request: &WebhookRequest, now: u64) {
    let mut body = request.body.clone();
    body.push(b' ');
    assert!(verify_standard_webhook(secret, &request.headers, &body, now).is_err());
    for name in ["webhook-id", "webhook-timestamp"] {
        let headers: Vec<(&str, String)> = request
            .headers
            .iter()
            .map(|(key, value)| {
                if *key == name {
                    (*key, format!("{value}1"))
                } else {
                    (*key, value.clone())
                }
            })
            .collect();
        assert!(verify_standard_webhook(secret, &headers, &request.body, now).is_err());
    }
    assert!(
        verify_standard_webhook(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &request.headers,
            &request.body,
            now
        )
        .is_err()
    );
    assert!(verify_standard_webhook(secret, &request.headers, &request.body, now + 301).is_err());
}

#[test]
fn webhook_update_changes_fields_and_keeps_the_secret() {
    let h = Harness::new(91);
    let e = enrolled(&h);
    block_on(async {
        let created = h
            .verify
            .create_webhook(
                e.service,
                "Old",
                vec![WebhookEventType::All],
                "https://hooks.example/old",
            )
            .await
            .unwrap();
        let hook = created.webhook;
        let updated = h
            .verify
            .update_webhook(
                e.service,
                hook.sid(),
                Some("New"),
                Some(vec![WebhookEventType::Only(EventType::ChallengeApproved)]),
                Some("https://hooks.example/new"),
                Some(WebhookStatus::Disabled),
            )
            .await
            .unwrap();
        assert_eq!(updated.friendly_name().as_str(), "New");
        assert_eq!(updated.webhook_url(), "https://hooks.example/new");
        assert_eq!(updated.status(), WebhookStatus::Disabled);
        assert_eq!(updated.secret(), hook.secret());
        let stored = h.verify.fetch_webhook(e.service, hook.sid()).await.unwrap();
        assert_eq!(stored, updated);
        // An invalid URL is refused and nothing changes.
        assert!(
            h.verify
                .update_webhook(e.service, hook.sid(), None, None, Some("ftp://x"), None)
                .await
                .is_err()
        );
        assert_eq!(
            h.verify.fetch_webhook(e.service, hook.sid()).await.unwrap(),
            updated
        );
    });
}

/// A secret rotation: for the overlap every delivery carries a signature under
/// the new secret and one under the old, each checked by the independent
/// verifier with its secret alone, with the same `webhook-id`; after the overlap
/// the old secret no longer verifies.
#[test]
fn a_rotated_secret_signs_beside_the_new_one_for_the_overlap() {
    let h = Harness::new(21);
    let e = enrolled(&h);
    block_on(async {
        let created = h
            .verify
            .create_webhook(
                e.service,
                "All",
                vec![WebhookEventType::All],
                "https://hooks.example/all",
            )
            .await
            .unwrap();
        let old = created.secret.to_whsec().to_string();
        let events = h.verify.drain_events(100).await.unwrap();
        let event = events.last().unwrap();
        let before = h.verify.webhook_requests(event).await.unwrap();

        let rotated = h
            .verify
            .rotate_webhook_secret(
                e.service,
                created.webhook.sid(),
                std::time::Duration::from_secs(3600),
            )
            .await
            .unwrap();
        let new = rotated.secret.to_whsec().to_string();
        assert_ne!(new, old);
        let during = h.verify.webhook_requests(event).await.unwrap();
        let request = &during[0];
        let now = h.now().as_secs();
        verify_standard_webhook(&new, &request.headers, &request.body, now).unwrap();
        verify_standard_webhook(&old, &request.headers, &request.body, now).unwrap();
        assert_eq!(
            request
                .header("webhook-signature")
                .unwrap()
                .split(' ')
                .count(),
            2
        );
        assert_eq!(request.header("webhook-id"), before[0].header("webhook-id"));

        h.advance(3600);
        let after = h.verify.webhook_requests(event).await.unwrap();
        let request = &after[0];
        let now = h.now().as_secs();
        verify_standard_webhook(&new, &request.headers, &request.body, now).unwrap();
        assert_eq!(
            verify_standard_webhook(&old, &request.headers, &request.body, now),
            Err("no matching signature")
        );
        // The fetched webhook keeps the new secret and says nothing of it.
        let fetched = h
            .verify
            .fetch_webhook(e.service, created.webhook.sid())
            .await
            .unwrap();
        assert_eq!(fetched.version(), created.webhook.version() + 1);
    });
}
