//! Approve / deny with a software device that signs the way each SDK does, and every
//! negative case of docs/push-protocol.md, section 6.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use verify_push::{
    ApprovalError, ChallengeToSign, Decision, DeviceKey, JsonError, JwsError, NumberMatch,
    PushError, SignatureFields, VerifiedAnswer, verify_answer,
};

use crate::device::{APPROVAL_HEADER, Device, high_s};

const FIELDS: [&str; 6] = [
    "sid",
    "factor_sid",
    "details",
    "hidden_details",
    "expiration_date",
    "date_created",
];

fn served() -> Map<String, Value> {
    json!({
        "sid": "YC0123456789abcdef0123456789abcdef",
        "account_sid": "AC00000000000000000000000000000000",
        "factor_sid": "YF0123456789abcdef0123456789abcdef",
        "date_created": "2025-01-01T00:00:00Z",
        "expiration_date": "2025-01-01T00:05:00Z",
        "status": "pending",
        "details": {
            "message": "Approve login to https://example.com/a/b?",
            "date": "2025-01-01T00:00:00Z",
            "fields": [
                {"label": "Location", "value": "Zürich 🇨🇭 — 東京"},
                {"label": "Amount", "value": "€1/2"}
            ]
        },
        "hidden_details": {"ip": "203.0.113.7", "path": "/login"}
    })
    .as_object()
    .unwrap()
    .clone()
}

struct Setup {
    device: Device,
    key: DeviceKey,
    challenge: ChallengeToSign,
}

fn setup() -> Setup {
    let device = Device::new(42);
    let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
    let challenge =
        ChallengeToSign::from_served(&served(), SignatureFields::new(&FIELDS).unwrap()).unwrap();
    Setup {
        device,
        key,
        challenge,
    }
}

/// Writes `entries` as a JSON object in exactly this order.
fn object(entries: &[(&str, Value)]) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", json!(key), value))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn entries(status: &str) -> Vec<(&'static str, Value)> {
    let served = served();
    let mut out: Vec<(&'static str, Value)> = FIELDS
        .iter()
        .map(|field| (*field, served[*field].clone()))
        .collect();
    out.push(("status", json!(status)));
    out
}

fn verify(setup: &Setup, auth_payload: &str) -> Result<VerifiedAnswer, PushError> {
    verify_answer(&setup.key, &setup.challenge, auth_payload)
}

#[test]
fn every_sdk_serialization_is_accepted() {
    let mut s = setup();
    let canonical = object(&entries("approved"));
    let mut reversed_entries = entries("approved");
    reversed_entries.reverse();
    let reversed = object(&reversed_entries);
    // iOS JSONSerialization escapes '/' as '\/'.
    let escaped_slashes = canonical.replace('/', "\\/");
    assert!(escaped_slashes.contains("\\/"));
    // Non-ASCII as \u escapes (surrogate pairs for astral characters).
    let ascii_only: String = canonical
        .chars()
        .flat_map(|c| {
            if c.is_ascii() {
                vec![c.to_string()]
            } else {
                let mut units = [0_u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|unit| format!("\\u{unit:04x}"))
                    .collect()
            }
        })
        .collect();
    // Pretty-printed with nested keys reordered.
    let mut nested = entries("approved");
    nested[2].1 = json!({
        "fields": served()["details"]["fields"].clone(),
        "date": "2025-01-01T00:00:00Z",
        "message": "Approve login to https://example.com/a/b?"
    });
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&object(&nested)).unwrap())
            .unwrap();
    for payload in [canonical, reversed, escaped_slashes, ascii_only, pretty] {
        let jws = s.device.answer(&payload);
        let answer = verify(&s, &jws).unwrap();
        assert_eq!(answer.decision(), Decision::Approved, "{payload}");
        assert_eq!(answer.challenge_sid(), s.challenge.challenge_sid());
    }
    let denied = s.device.answer(&object(&entries("denied")));
    assert_eq!(verify(&s, &denied).unwrap().decision(), Decision::Denied);
    // Other header spellings the SDKs might use: key order, extra kid.
    for header in [
        r#"{"alg":"ES256","typ":"JWT"}"#,
        r#"{"alg":"ES256"}"#,
        r#"{"alg":"ES256","typ":"JWT","kid":"CR1"}"#,
    ] {
        let payload = object(&entries("approved"));
        let jws = s.device.jws(header, &payload);
        assert!(verify(&s, &jws).is_ok(), "{header}");
    }
}

#[test]
fn high_s_signatures_are_accepted() {
    let mut s = setup();
    let payload = object(&entries("approved"));
    let jws = s.device.jws_with(APPROVAL_HEADER, &payload, |sig| {
        let high = high_s(sig);
        assert!(high.normalize_s().is_some());
        high.to_bytes().to_vec()
    });
    assert_eq!(verify(&s, &jws).unwrap().decision(), Decision::Approved);
}

/// Signs until `r` (or `s`) has a leading zero byte, then drops it: the 63-byte
/// signature of the iOS quirk.
fn short_signature(s: &mut Setup, short_r: bool) -> String {
    let payload = object(&entries("approved"));
    let input = Device::signing_input(APPROVAL_HEADER, &payload);
    for _ in 0..20_000 {
        let bytes = s.device.raw(input.as_bytes()).to_bytes();
        let index = if short_r { 0 } else { 32 };
        if bytes[index] == 0 {
            let mut raw = bytes.to_vec();
            raw.remove(index);
            return format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw));
        }
    }
    panic!("no signature with a short half in 20000 tries");
}

#[test]
fn sixty_three_byte_signatures_are_tried_both_ways() {
    let mut s = setup();
    for short_r in [true, false] {
        let jws = short_signature(&mut s, short_r);
        assert_eq!(verify(&s, &jws).unwrap().decision(), Decision::Approved);
        // The tolerance is no bypass: another key still fails.
        let stranger = DeviceKey::from_binding(&Device::new(7).binding(), "ES256").unwrap();
        assert_eq!(
            verify_answer(&stranger, &s.challenge, &jws),
            Err(PushError::SignatureInvalid)
        );
    }
}

#[test]
fn wrong_key_is_refused() {
    let s = setup();
    let mut stranger = Device::new(43);
    let jws = stranger.answer(&object(&entries("approved")));
    assert_eq!(verify(&s, &jws), Err(PushError::SignatureInvalid));
}

#[test]
fn each_signed_field_altered_is_refused() {
    let mut s = setup();
    for (index, field) in FIELDS.iter().enumerate() {
        let mut altered = entries("approved");
        altered[index].1 = match &altered[index].1 {
            Value::String(text) => json!(format!("{text}x")),
            Value::Object(map) => {
                let mut map = map.clone();
                map.insert("extra".into(), json!("1"));
                Value::Object(map)
            }
            other => panic!("unexpected {other}"),
        };
        let jws = s.device.answer(&object(&altered));
        assert_eq!(
            verify(&s, &jws).unwrap_err(),
            PushError::Approval(ApprovalError::FieldMismatch {
                field: (*field).to_owned()
            }),
            "{field}"
        );
    }
    // A nested change deep inside details.
    let mut altered = entries("approved");
    altered[2].1["fields"][0]["value"] = json!("Zurich");
    let jws = s.device.answer(&object(&altered));
    assert!(matches!(
        verify(&s, &jws),
        Err(PushError::Approval(ApprovalError::FieldMismatch { .. }))
    ));
}

#[test]
fn payload_tampered_after_signing_is_refused() {
    let mut s = setup();
    let denied = s.device.answer(&object(&entries("denied")));
    let approved_payload = URL_SAFE_NO_PAD.encode(object(&entries("approved")));
    let parts: Vec<&str> = denied.split('.').collect();
    let swapped = format!("{}.{approved_payload}.{}", parts[0], parts[2]);
    assert_eq!(verify(&s, &swapped), Err(PushError::SignatureInvalid));
    // Flipping one signature bit.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(verify(&s, &flipped), Err(PushError::SignatureInvalid));
}

#[test]
fn unknown_or_missing_status_is_refused() {
    let mut s = setup();
    for status in ["pending", "expired", "APPROVED", "approved ", ""] {
        let jws = s.device.answer(&object(&entries(status)));
        assert_eq!(
            verify(&s, &jws).unwrap_err(),
            PushError::Approval(ApprovalError::StatusUnknown),
            "{status:?}"
        );
    }
    let mut numeric = entries("x");
    numeric.last_mut().unwrap().1 = json!(1);
    let jws = s.device.answer(&object(&numeric));
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Approval(ApprovalError::StatusUnknown)
    );
    let mut missing = entries("approved");
    missing.pop();
    let jws = s.device.answer(&object(&missing));
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Approval(ApprovalError::StatusMissing)
    );
}

#[test]
fn duplicate_status_is_refused() {
    let mut s = setup();
    let mut twice = entries("denied");
    twice.push(("status", json!("approved")));
    let jws = s.device.answer(&object(&twice));
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Json(JsonError::DuplicateKey {
            key: "status".into()
        })
    );
}

#[test]
fn missing_and_unexpected_fields_are_refused() {
    let mut s = setup();
    for (index, field) in FIELDS.iter().enumerate() {
        let mut missing = entries("approved");
        missing.remove(index);
        let jws = s.device.answer(&object(&missing));
        assert_eq!(
            verify(&s, &jws).unwrap_err(),
            PushError::Approval(ApprovalError::FieldMissing {
                field: (*field).to_owned()
            })
        );
    }
    let mut extra = entries("approved");
    extra.push(("metadata", json!({"os": "iOS"})));
    let jws = s.device.answer(&object(&extra));
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Approval(ApprovalError::UnexpectedField {
            field: "metadata".into()
        })
    );
}

#[test]
fn alg_none_hs256_and_missing_alg_are_refused() {
    let mut s = setup();
    let payload = object(&entries("approved"));
    let input = Device::signing_input(r#"{"typ":"JWT","alg":"none"}"#, &payload);
    assert_eq!(
        verify(&s, &format!("{input}.")).unwrap_err(),
        PushError::Jws(JwsError::UnsupportedAlg { length: 4 })
    );
    let jws = s.device.jws(r#"{"typ":"JWT","alg":"HS256"}"#, &payload);
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Jws(JwsError::UnsupportedAlg { length: 5 })
    );
    let jws = s.device.jws(r#"{"typ":"JWT"}"#, &payload);
    assert_eq!(
        verify(&s, &jws).unwrap_err(),
        PushError::Jws(JwsError::MissingAlg)
    );
}

#[test]
fn wrong_segment_counts_are_refused() {
    let mut s = setup();
    let jws = s.device.answer(&object(&entries("approved")));
    let parts: Vec<&str> = jws.split('.').collect();
    for (text, got) in [
        (parts[..2].join("."), 2),
        (parts[0].to_owned(), 1),
        (format!("{jws}.{}", parts[2]), 4),
        (format!("{}..{}", parts[0], parts[2]), 3),
    ] {
        let err = verify(&s, &text).unwrap_err();
        if got == 3 {
            // Empty payload: decodes to no bytes, and the signature does not cover it.
            assert_eq!(err, PushError::SignatureInvalid);
        } else {
            assert_eq!(err, PushError::Jws(JwsError::SegmentCount { got }));
        }
    }
}

#[test]
fn der_signatures_are_refused() {
    let mut s = setup();
    let payload = object(&entries("approved"));
    let jws = s.device.jws_with(APPROVAL_HEADER, &payload, |sig| {
        sig.to_der().as_bytes().to_vec()
    });
    assert!(matches!(
        verify(&s, &jws),
        Err(PushError::Jws(JwsError::SignatureLength {
            length: 68..=72
        }))
    ));
}

#[test]
fn oversized_payloads_are_refused() {
    let mut s = setup();
    let mut big = entries("approved");
    big.push(("padding", json!("x".repeat(6000))));
    let jws = s.device.answer(&object(&big));
    assert!(matches!(
        verify(&s, &jws),
        Err(PushError::Approval(ApprovalError::TooLong {
            max: 5456,
            ..
        }))
    ));
}

#[test]
fn an_answer_is_tied_to_its_challenge() {
    // Replaying an approval against another challenge fails: the sid is signed.
    let mut s = setup();
    let jws = s.device.answer(&object(&entries("approved")));
    let answer = verify(&s, &jws).unwrap();
    assert_eq!(answer.challenge_sid(), s.challenge.challenge_sid());
    let mut other = served();
    other.insert("sid".into(), json!("YCffffffffffffffffffffffffffffffff"));
    let other =
        ChallengeToSign::from_served(&other, SignatureFields::new(&FIELDS).unwrap()).unwrap();
    assert_eq!(
        verify_answer(&s.key, &other, &jws).unwrap_err(),
        PushError::Approval(ApprovalError::FieldMismatch {
            field: "sid".into()
        })
    );
    // Replaying it against the same challenge verifies again: single use is the
    // engine's compare-and-set pending -> approved, which a replay finds not pending.
    // A minimal stand-in for that store shows the contract the engine keeps.
    let mut store = std::collections::HashMap::from([(answer.challenge_sid(), "pending")]);
    let mut apply = |answer: &VerifiedAnswer| match store.get_mut(&answer.challenge_sid()) {
        Some(status) if *status == "pending" => {
            *status = answer.decision().as_str();
            true
        }
        _ => false,
    };
    assert!(apply(&answer));
    let replay = verify(&s, &jws).unwrap();
    assert!(!apply(&replay));
}

#[test]
fn number_matching_confirms_the_signed_number() {
    let mut s = setup();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
    let number = NumberMatch::generate(&mut rng);
    let mut served = served();
    served["details"]["fields"]
        .as_array_mut()
        .unwrap()
        .push(number.details_field());
    let challenge =
        ChallengeToSign::from_served(&served, SignatureFields::new(&FIELDS).unwrap()).unwrap();
    let sign = |device: &mut Device, decision| {
        let payload = serde_json::to_string(&challenge.payload_to_sign(decision)).unwrap();
        device.answer(&payload)
    };
    let approved =
        verify_answer(&s.key, &challenge, &sign(&mut s.device, Decision::Approved)).unwrap();
    assert!(number.confirmed_by(&approved));
    let denied = verify_answer(&s.key, &challenge, &sign(&mut s.device, Decision::Denied)).unwrap();
    assert!(!number.confirmed_by(&denied));
    // Another number (a different login) is not confirmed by this answer.
    let other = loop {
        let candidate = NumberMatch::generate(&mut rng);
        if candidate != number {
            break candidate;
        }
    };
    assert!(!other.confirmed_by(&approved));
    // Without `details` among the signed fields, nothing is confirmed.
    let unsigned =
        ChallengeToSign::from_served(&served, SignatureFields::new(&["sid"]).unwrap()).unwrap();
    let payload = serde_json::to_string(&unsigned.payload_to_sign(Decision::Approved)).unwrap();
    let answer = verify_answer(&s.key, &unsigned, &s.device.answer(&payload)).unwrap();
    assert!(!number.confirmed_by(&answer));
}
