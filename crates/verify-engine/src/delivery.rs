//! Webhook delivery requests signed per the Standard Webhooks scheme.
//!
//! The engine never sends anything: [`WebhookRequest::build`] turns one outbox
//! [`Event`] and one [`Webhook`] into the HTTP request the host sends (URL, method,
//! headers, body), or `None` when the webhook does not want the event (disabled, or
//! the event type is not among its `event_types`, or another service's event).
//!
//! Signing (Standard Webhooks, "Signature scheme"):
//!
//! - `webhook-id`: a unique message id, stable across retries of the same delivery
//!   (here `msg_` + 32 hex digits derived from the webhook sid and the event's outbox
//!   sequence number, so a retry carries the same id and receivers can deduplicate);
//! - `webhook-timestamp`: integer unix seconds of the attempt;
//! - `webhook-signature`: `v1,` + standard base64 of
//!   HMAC-SHA256(secret, `"{webhook-id}.{webhook-timestamp}.{body}"`).
//!
//! The secret is the webhook's 32 random bytes; hosts hand it to receivers as
//! `whsec_` + standard base64 ([`WebhookSecret`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use verify_model::{AccountSid, Event, UnixTime, Webhook};
use zeroize::Zeroizing;

use crate::error::{VerifyError, WebhookError};

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The signature version tag of HMAC-SHA256 signatures.
pub const SIGNATURE_VERSION: &str = "v1";
/// Header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the unix timestamp of the attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret. `Debug` is redacted; the bytes are zeroized on drop.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// Wraps raw secret bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// Parses `whsec_<standard base64>`.
    ///
    /// # Errors
    /// [`WebhookError::SecretMalformed`] without the prefix, for invalid base64, or
    /// for an empty key.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::SecretMalformed)?;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(encoded)
                .map_err(|_| WebhookError::SecretMalformed)?,
        );
        if bytes.is_empty() {
            return Err(WebhookError::SecretMalformed);
        }
        Ok(Self(bytes))
    }

    /// The `whsec_…` text to hand to the receiver. Secret: show it once.
    #[must_use]
    pub fn to_whsec(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(&*self.0)))
    }

    /// The `v1,<base64>` signature of `body` sent as message `msg_id` at `timestamp`.
    #[must_use]
    pub fn sign(&self, msg_id: &str, timestamp: UnixTime, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_secs().to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!("{SIGNATURE_VERSION},{}", STANDARD.encode(tag))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it, and
        // an empty key (never produced by `parse`) still gives a MAC.
        <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// An HTTP request for the host to send to a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookRequest {
    /// `webhook_url`.
    pub url: String,
    /// `POST`.
    pub method: &'static str,
    /// Headers, in order: `content-type`, `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, exactly the bytes that were signed.
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// The delivery of the event with outbox sequence number `sequence` to
    /// `webhook`, signed at `now`; `None` when the webhook does not want it
    /// (another service, disabled, or the event type is not subscribed).
    ///
    /// The body is the event's JSON plus `uuid` (the message id as a UUID) and
    /// `account_sid`.
    ///
    /// # Errors
    /// [`VerifyError::Webhook`] when the body cannot be serialized (not expected
    /// for the model's events).
    pub fn build(
        webhook: &Webhook,
        event: &Event,
        sequence: u64,
        account_sid: AccountSid,
        now: UnixTime,
    ) -> Result<Option<Self>, VerifyError> {
        if webhook.service_sid() != event.service_sid || !webhook.wants(event.event_type) {
            return Ok(None);
        }
        let id = message_id(webhook, sequence);
        let Ok(Value::Object(mut body)) = serde_json::to_value(event) else {
            return Err(WebhookError::BodyUnserializable.into());
        };
        let mut payload = Map::new();
        payload.insert("uuid".into(), Value::String(id.uuid()));
        payload.insert("account_sid".into(), Value::String(account_sid.to_string()));
        payload.append(&mut body);
        let body = serde_json::to_vec(&Value::Object(payload))
            .map_err(|_| WebhookError::BodyUnserializable)?;
        let msg_id = id.msg_id();
        // One signature per signing secret, space separated (Standard Webhooks): the
        // new one and, during a rotation's overlap, the old one.
        let signature = webhook
            .signing_secrets(now)
            .map(|secret| {
                WebhookSecret::from_bytes(secret.expose_secret()).sign(&msg_id, now, &body)
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Some(Self {
            url: webhook.webhook_url().to_owned(),
            method: "POST",
            headers: vec![
                ("content-type", "application/json".to_owned()),
                (HEADER_ID, msg_id),
                (HEADER_TIMESTAMP, now.as_secs().to_string()),
                (HEADER_SIGNATURE, signature),
            ],
            body,
        }))
    }

    /// The value of header `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// 16 bytes naming one delivery: SHA-256 over the webhook sid and the sequence.
struct MessageId([u8; 16]);

fn message_id(webhook: &Webhook, sequence: u64) -> MessageId {
    let mut hash = Sha256::new();
    hash.update(b"verify webhook message v1\0");
    hash.update(webhook.sid().as_bytes());
    hash.update(sequence.to_be_bytes());
    let digest = hash.finalize();
    let mut id = [0_u8; 16];
    for (dst, src) in id.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    // RFC 9562 version 8 (custom) and the RFC variant bits.
    if let Some(byte) = id.get_mut(6) {
        *byte = (*byte & 0x0f) | 0x80;
    }
    if let Some(byte) = id.get_mut(8) {
        *byte = (*byte & 0x3f) | 0x80;
    }
    MessageId(id)
}

impl MessageId {
    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn msg_id(&self) -> String {
        format!("msg_{}", self.hex())
    }

    fn uuid(&self) -> String {
        let hex = self.hex();
        let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
        format!(
            "{}-{}-{}-{}-{}",
            part(0..8),
            part(8..12),
            part(12..16),
            part(16..20),
            part(20..32)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests.
    #[test]
    fn standard_webhooks_reference_example() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            UnixTime::from_secs(1_614_265_330),
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secret_round_trips_and_rejects_garbage() {
        let secret = WebhookSecret::from_bytes(&[7; 32]);
        let text = secret.to_whsec();
        assert!(text.starts_with("whsec_"));
        let parsed = WebhookSecret::parse(&text).unwrap();
        assert_eq!(
            parsed.sign("msg_1", UnixTime::from_secs(1), b"{}"),
            secret.sign("msg_1", UnixTime::from_secs(1), b"{}")
        );
        for bad in [
            "",
            "whsec_",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!",
        ] {
            assert_eq!(
                WebhookSecret::parse(bad).unwrap_err(),
                WebhookError::SecretMalformed
            );
        }
        assert!(!format!("{secret:?}").contains("BwcH"));
    }
}
