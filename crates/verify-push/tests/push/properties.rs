//! Property tests: whatever the SDK's serialization choices and the challenge's
//! contents, an honest answer verifies; any one-character change to it does not.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use verify_push::{ChallengeToSign, Decision, DeviceKey, SignatureFields, verify_answer};

use crate::device::Device;

fn served(message: &str, label: &str, value: &str, ip: &str) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "sid": "YC0123456789abcdef0123456789abcdef",
        "factor_sid": "YF0123456789abcdef0123456789abcdef",
        "details": {"message": message, "fields": [{"label": label, "value": value}]},
        "hidden_details": {"ip": ip},
        "expiration_date": "2025-01-01T00:05:00Z",
        "date_created": "2025-01-01T00:00:00Z"
    }) else {
        unreachable!()
    };
    map
}

/// Serializes `payload` with the top-level keys in `order` (a permutation seed) and
/// optionally every `/` escaped.
fn serialize(payload: &Map<String, Value>, rotate: usize, escape: bool) -> String {
    let mut entries: Vec<(&String, &Value)> = payload.iter().collect();
    let len = entries.len();
    entries.rotate_left(rotate % len);
    let body: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", json!(key), value))
        .collect();
    let text = format!("{{{}}}", body.join(","));
    if escape {
        text.replace('/', "\\/")
    } else {
        text
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn honest_answers_verify(
        message in "\\PC{1,60}",
        label in "\\PC{1,20}",
        value in "\\PC{0,40}",
        ip in "[0-9./:a-f]{1,20}",
        rotate in 0_usize..7,
        escape in any::<bool>(),
        approve in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut device = Device::new(seed);
        let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
        let challenge = ChallengeToSign::from_served(
            &served(&message, &label, &value, &ip),
            SignatureFields::recommended(),
        ).unwrap();
        let decision = if approve { Decision::Approved } else { Decision::Denied };
        let payload = serialize(&challenge.payload_to_sign(decision), rotate, escape);
        let answer = verify_answer(&key, &challenge, &device.answer(&payload)).unwrap();
        prop_assert_eq!(answer.decision(), decision);
        prop_assert_eq!(answer.challenge_sid(), challenge.challenge_sid());
    }

    #[test]
    fn any_one_character_change_is_refused(
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".chars().collect::<Vec<_>>()
        ),
        seed in any::<u64>(),
    ) {
        let mut device = Device::new(seed);
        let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
        let challenge = ChallengeToSign::from_served(
            &served("Approve?", "IP", "203.0.113.7", "203.0.113.7"),
            SignatureFields::recommended(),
        ).unwrap();
        let payload = serde_json::to_string(&challenge.payload_to_sign(Decision::Approved)).unwrap();
        let good = device.answer(&payload);
        let mut chars: Vec<char> = good.chars().collect();
        let index = position.index(chars.len());
        prop_assume!(chars[index] != replacement);
        chars[index] = replacement;
        let bad: String = chars.into_iter().collect();
        prop_assert!(verify_answer(&key, &challenge, &bad).is_err(), "{}", bad);
    }
}
