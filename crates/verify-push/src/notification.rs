//! Notification payloads for APNs and FCM (built, never sent).
//!
//! The SDKs read `type` = `verify_push_challenge`, `challenge_sid`, `factor_sid` and
//! `message` from the notification; on iOS the message is also shown through
//! `aps.alert` with category `verify_push_challenge`. Devices that miss a notification
//! still find the challenge by polling.

use serde_json::{Map, Value, json};
use verify_model::{ChallengeSid, FactorSid};

use crate::error::NotificationError;

/// The notification `type` and APNs category the SDKs look for.
pub const NOTIFICATION_TYPE: &str = "verify_push_challenge";
/// APNs' limit on a remote notification payload, in bytes.
pub const APNS_MAX_BYTES: usize = 4096;
/// FCM's limit on a message payload, in bytes.
pub const FCM_MAX_BYTES: usize = 4096;

/// What a challenge notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeNotification {
    challenge_sid: ChallengeSid,
    factor_sid: FactorSid,
    message: String,
}

impl ChallengeNotification {
    /// A notification for `challenge_sid` on `factor_sid` showing `message` (the
    /// challenge's `details.message`, 1..=256 characters).
    ///
    /// # Errors
    /// [`NotificationError::MessageLength`].
    pub fn new(
        challenge_sid: ChallengeSid,
        factor_sid: FactorSid,
        message: &str,
    ) -> Result<Self, NotificationError> {
        let length = message.chars().count();
        if !(1..=256).contains(&length) {
            return Err(NotificationError::MessageLength { length });
        }
        Ok(Self {
            challenge_sid,
            factor_sid,
            message: message.to_owned(),
        })
    }

    fn data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("type".into(), NOTIFICATION_TYPE.into());
        data.insert(
            "challenge_sid".into(),
            self.challenge_sid.to_string().into(),
        );
        data.insert("factor_sid".into(), self.factor_sid.to_string().into());
        data.insert("message".into(), self.message.clone().into());
        data
    }

    /// The APNs payload (the body of the HTTP/2 request to APNs):
    /// `{"aps":{"alert":message,"category":"verify_push_challenge"},"message",
    /// "challenge_sid","factor_sid","type"}`.
    ///
    /// # Errors
    /// [`NotificationError::TooLarge`] beyond [`APNS_MAX_BYTES`].
    pub fn apns_payload(&self) -> Result<Value, NotificationError> {
        let mut payload = self.data();
        payload.insert(
            "aps".into(),
            json!({"alert": self.message, "category": NOTIFICATION_TYPE}),
        );
        bounded(Value::Object(payload), APNS_MAX_BYTES)
    }

    /// The FCM HTTP v1 message for the device `token` (32..=255 characters): a data
    /// message `{"message":{"token":..,"data":{type, challenge_sid, factor_sid,
    /// message}}}`, the fields the Android SDK reads.
    ///
    /// # Errors
    /// [`NotificationError::TokenLength`] or [`NotificationError::TooLarge`].
    pub fn fcm_message(&self, token: &str) -> Result<Value, NotificationError> {
        let length = token.chars().count();
        if !(32..=255).contains(&length) {
            return Err(NotificationError::TokenLength { length });
        }
        bounded(
            json!({"message": {"token": token, "data": Value::Object(self.data())}}),
            FCM_MAX_BYTES,
        )
    }

    /// [`Self::fcm_message`] plus FCM v1 `AndroidConfig`
    /// `"android": {"priority": "HIGH", "ttl": "<ttl_seconds>s"}`, so the data message
    /// wakes the device at once and is dropped once the challenge would have expired.
    ///
    /// # Errors
    /// As [`Self::fcm_message`].
    pub fn fcm_message_high_priority(
        &self,
        token: &str,
        ttl_seconds: u32,
    ) -> Result<Value, NotificationError> {
        let mut message = self.fcm_message(token)?;
        if let Some(Value::Object(inner)) = message.get_mut("message") {
            inner.insert(
                "android".into(),
                json!({"priority": "HIGH", "ttl": format!("{ttl_seconds}s")}),
            );
        }
        bounded(message, FCM_MAX_BYTES)
    }
}

fn bounded(payload: Value, max: usize) -> Result<Value, NotificationError> {
    let length = payload.to_string().len();
    if length > max {
        return Err(NotificationError::TooLarge { length, max });
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(message: &str) -> Result<ChallengeNotification, NotificationError> {
        ChallengeNotification::new(
            ChallengeSid::from_bytes([0xc; 16]),
            FactorSid::from_bytes([0xf; 16]),
            message,
        )
    }

    #[test]
    fn apns_payload_matches_the_quickstart() {
        let payload = notification("Approve login?")
            .unwrap()
            .apns_payload()
            .unwrap();
        assert_eq!(
            payload,
            json!({
                "aps": {"alert": "Approve login?", "category": "verify_push_challenge"},
                "message": "Approve login?",
                "challenge_sid": "YC0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
                "factor_sid": "YF0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
                "type": "verify_push_challenge"
            })
        );
    }

    #[test]
    fn fcm_message_is_a_data_message() {
        let token = "t".repeat(64);
        let message = notification("Hi \u{1F44B}")
            .unwrap()
            .fcm_message(&token)
            .unwrap();
        assert_eq!(message["message"]["token"], json!(token));
        assert_eq!(
            message["message"]["data"]["type"],
            json!("verify_push_challenge")
        );
        assert_eq!(message["message"]["data"]["message"], json!("Hi \u{1F44B}"));
        assert!(message["message"].get("notification").is_none());
        assert_eq!(
            notification("x").unwrap().fcm_message("short"),
            Err(NotificationError::TokenLength { length: 5 })
        );
    }

    #[test]
    fn fcm_high_priority_adds_android_config() {
        let token = "t".repeat(64);
        let notification = notification("Approve?").unwrap();
        let message = notification.fcm_message_high_priority(&token, 300).unwrap();
        assert_eq!(
            message["message"]["android"],
            json!({"priority": "HIGH", "ttl": "300s"})
        );
        assert_eq!(
            message["message"]["data"],
            notification.fcm_message(&token).unwrap()["message"]["data"]
        );
        assert_eq!(
            notification.fcm_message_high_priority("short", 300),
            Err(NotificationError::TokenLength { length: 5 })
        );
    }

    #[test]
    fn message_length_is_bounded() {
        assert_eq!(
            notification(""),
            Err(NotificationError::MessageLength { length: 0 })
        );
        assert!(notification(&"\u{e9}".repeat(256)).is_ok());
        assert_eq!(
            notification(&"x".repeat(257)),
            Err(NotificationError::MessageLength { length: 257 })
        );
        // The worst 256-character message (control characters escape to six bytes,
        // twice) still fits APNs; the size bound itself is checked directly.
        let escaped = "\u{1}".repeat(256);
        assert!(notification(&escaped).unwrap().apns_payload().is_ok());
        assert_eq!(
            bounded(json!("x".repeat(4095)), APNS_MAX_BYTES),
            Err(NotificationError::TooLarge {
                length: 4097,
                max: APNS_MAX_BYTES
            })
        );
    }
}
