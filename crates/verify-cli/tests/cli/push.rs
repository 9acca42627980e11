//! `verify push verify-factor | verify-approval` against crates/verify-cli/README.md.
//!
//! Inputs are the SDK vectors (`push-sdk-vectors.json`) plus answers signed with the
//! same test key by an independent implementation (Python `cryptography`): a denial
//! with the keys in another order, a `"status":"pending"` answer and an answer over
//! an altered `details`.

use serde_json::{Value, json};

use crate::support::{run, run_json};

const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgjQ0xMMW93gW37CrK1c6X9NEbUju4T3KNeEsG9Axg8NByRc+LGpzWKPrqyE8/W0VxQzRZCipF1BfU/JJ6J5G7A==";
const FACTOR_SID: &str = "YF00000000000000000000000000000001";
const FACTOR_PROOF: &str = "MEUCIQDyMmKLqdY2vJkAQ+7MlO4VwGPhZ989TugkBcXdLB/aoAIgZJcKtQwOWxWSdwriZ7eHcSMa6sNXjWJyzmTRntpUcPA=";
const APPROVED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJZQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwiZmFjdG9yX3NpZCI6IllGMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJkZXRhaWxzIjp7Im1lc3NhZ2UiOiJBcHByb3ZlIGxvZ2luPyIsImZpZWxkcyI6W3sibGFiZWwiOiJJUCIsInZhbHVlIjoiMjAzLjAuMTEzLjcifV19LCJoaWRkZW5fZGV0YWlscyI6eyJpcCI6IjIwMy4wLjExMy43In0sImV4cGlyYXRpb25fZGF0ZSI6IjIwMjUtMDEtMDFUMDA6MDU6MDBaIiwic3RhdHVzIjoiYXBwcm92ZWQifQ.lX8VdRJ3-V6gTn_cIJRSreHCrYSBMRv4vIJZVLlkN_U_IVytPNe8O76cA6LLNy6ZhXSU5l1PSq9-J4d-Rkhbzg";
const DENIED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJleHBpcmF0aW9uX2RhdGUiOiIyMDI1LTAxLTAxVDAwOjA1OjAwWiIsImhpZGRlbl9kZXRhaWxzIjp7ImlwIjoiMjAzLjAuMTEzLjcifSwiZGV0YWlscyI6eyJtZXNzYWdlIjoiQXBwcm92ZSBsb2dpbj8iLCJmaWVsZHMiOlt7ImxhYmVsIjoiSVAiLCJ2YWx1ZSI6IjIwMy4wLjExMy43In1dfSwiZmFjdG9yX3NpZCI6IllGMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJzaWQiOiJZQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwic3RhdHVzIjoiZGVuaWVkIn0.yWBE0f0O8FJfDHn6PRPQiQ77U1J09Ou3ApS5VvLusCrJ8LgoCnW2umCmuzbQnmzviGE3AqEBWOzIJTVMXYyeSA";
const PENDING: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJZQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwiZmFjdG9yX3NpZCI6IllGMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJkZXRhaWxzIjp7Im1lc3NhZ2UiOiJBcHByb3ZlIGxvZ2luPyIsImZpZWxkcyI6W3sibGFiZWwiOiJJUCIsInZhbHVlIjoiMjAzLjAuMTEzLjcifV19LCJoaWRkZW5fZGV0YWlscyI6eyJpcCI6IjIwMy4wLjExMy43In0sImV4cGlyYXRpb25fZGF0ZSI6IjIwMjUtMDEtMDFUMDA6MDU6MDBaIiwic3RhdHVzIjoicGVuZGluZyJ9.LYxkwsEC5MIRshqmYwJhMym2eYwSUW2HzJQpbwNmFPM80Th1YfTtrggVgv-tMN0RCI05zKFbamaSWRi30V6JBg";
const ALTERED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJZQzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwiZmFjdG9yX3NpZCI6IllGMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJkZXRhaWxzIjp7Im1lc3NhZ2UiOiJBcHByb3ZlIHBheW1lbnQ_IiwiZmllbGRzIjpbeyJsYWJlbCI6IklQIiwidmFsdWUiOiIyMDMuMC4xMTMuNyJ9XX0sImhpZGRlbl9kZXRhaWxzIjp7ImlwIjoiMjAzLjAuMTEzLjcifSwiZXhwaXJhdGlvbl9kYXRlIjoiMjAyNS0wMS0wMVQwMDowNTowMFoiLCJzdGF0dXMiOiJhcHByb3ZlZCJ9.F0Px21tRxAAf3h3Q8etEC0F8K9P-LjexAYIEkyjVE89B1ezI9MNVIahCiPKq4csekkfyUxD38_ZhuEYY4Bti7A";

fn challenge() -> Value {
    json!({
        "sid": "YC00000000000000000000000000000002",
        "factor_sid": FACTOR_SID,
        "details": {"message": "Approve login?", "fields": [{"label": "IP", "value": "203.0.113.7"}]},
        "hidden_details": {"ip": "203.0.113.7"},
        "expiration_date": "2025-01-01T00:05:00Z",
        "status": "pending"
    })
}

fn approval(auth_payload: &str) -> Value {
    json!({
        "public_key": PUBLIC_KEY,
        "signature_fields": ["sid", "factor_sid", "details", "hidden_details", "expiration_date"],
        "challenge": challenge(),
        "auth_payload": auth_payload
    })
}

fn factor(public_key: &str, factor_sid: &str, auth_payload: &str) -> Value {
    json!({"public_key": public_key, "factor_sid": factor_sid, "auth_payload": auth_payload})
}

#[test]
fn verify_factor_accepts_the_sdk_vector() {
    let (status, out) = run_json(
        &["push", "verify-factor"],
        &factor(PUBLIC_KEY, FACTOR_SID, FACTOR_PROOF),
    );
    assert_eq!(status, 0, "{out}");
    assert_eq!(out, json!({"ok": true}));
}

#[test]
fn verify_factor_rejects_another_sid_and_bad_encodings() {
    let (status, out) = run_json(
        &["push", "verify-factor"],
        &factor(
            PUBLIC_KEY,
            "YF00000000000000000000000000000002",
            FACTOR_PROOF,
        ),
    );
    assert_eq!(
        (status, &out["error"]["code"]),
        (1, &json!("signature_invalid")),
        "{out}"
    );
    assert_eq!(out["ok"], false);
    for (public_key, auth_payload, code) in [
        ("not base64!", FACTOR_PROOF, "invalid_public_key"),
        (
            PUBLIC_KEY.trim_end_matches('='),
            FACTOR_PROOF,
            "invalid_public_key",
        ),
        ("AAAA", FACTOR_PROOF, "invalid_public_key"),
        (PUBLIC_KEY, "AAAA", "malformed_auth_payload"),
        (PUBLIC_KEY, "%%%", "malformed_auth_payload"),
        (
            PUBLIC_KEY,
            FACTOR_PROOF.trim_end_matches('='),
            "malformed_auth_payload",
        ),
    ] {
        let (status, out) = run_json(
            &["push", "verify-factor"],
            &factor(public_key, FACTOR_SID, auth_payload),
        );
        assert_eq!(status, 1, "{public_key} {auth_payload}: {out}");
        assert_eq!(out["error"]["code"], code, "{out}");
    }
    let (status, out) = run_json(
        &["push", "verify-factor"],
        &factor(
            PUBLIC_KEY,
            "YC00000000000000000000000000000001",
            FACTOR_PROOF,
        ),
    );
    assert_eq!(
        (status, &out["error"]["code"]),
        (1, &json!("invalid_factor_sid")),
        "{out}"
    );
}

#[test]
fn verify_factor_envelope_defects_exit_2() {
    let (status, out) = run(
        &["push", "verify-factor"],
        r#"{"public_key": "x", "factor_sid": "y"}"#,
    );
    assert_eq!(
        (status, &out["error"]["code"]),
        (2, &json!("missing_field"))
    );
    let (status, out) = run_json(
        &["push", "verify-factor"],
        &json!({"public_key": 1, "factor_sid": FACTOR_SID, "auth_payload": FACTOR_PROOF}),
    );
    assert_eq!((status, &out["error"]["code"]), (2, &json!("wrong_type")));
}

#[test]
fn verify_approval_accepts_approved_and_denied() {
    let (status, out) = run_json(&["push", "verify-approval"], &approval(APPROVED));
    assert_eq!(status, 0, "{out}");
    assert_eq!(out, json!({"ok": true, "status": "approved"}));
    let (status, out) = run_json(&["push", "verify-approval"], &approval(DENIED));
    assert_eq!(status, 0, "{out}");
    assert_eq!(out, json!({"ok": true, "status": "denied"}));
}

#[test]
fn verify_approval_rejects_bad_answers() {
    let mut tampered_signature = APPROVED.to_owned();
    let last = tampered_signature.pop().unwrap();
    tampered_signature.push(if last == 'g' { 'A' } else { 'g' });
    let parts: Vec<&str> = APPROVED.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        DENIED.split('.').nth(1).unwrap(),
        parts[2]
    );
    for (auth_payload, code) in [
        (tampered_signature.as_str(), "signature_invalid"),
        (swapped.as_str(), "signature_invalid"),
        (PENDING, "invalid_status"),
        (ALTERED, "field_mismatch"),
        ("a.b", "malformed_auth_payload"),
        ("", "malformed_auth_payload"),
        ("eyJhbGciOiJub25lIn0.e30.", "malformed_auth_payload"),
    ] {
        let (status, out) = run_json(&["push", "verify-approval"], &approval(auth_payload));
        assert_eq!(status, 1, "{auth_payload}: {out}");
        assert_eq!(out["ok"], false);
        assert_eq!(out["error"]["code"], code, "{out}");
    }
    // The right answer with another key is a bad signature.
    let mut request = approval(APPROVED);
    request["public_key"] = json!(
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJu/OvQ7p40pmkYfhizqRIrL3M5RbZJzJ+fkh6fna2BKQI4venMe7Mw0VDGdwTdJa5wVSBXRLbzG/QHB0WHLQ5g=="
    );
    let (status, out) = run_json(&["push", "verify-approval"], &request);
    assert_eq!(
        (status, &out["error"]["code"]),
        (1, &json!("signature_invalid")),
        "{out}"
    );
    // The served challenge changed after signing.
    let mut request = approval(APPROVED);
    request["challenge"]["hidden_details"]["ip"] = json!("198.51.100.1");
    let (status, out) = run_json(&["push", "verify-approval"], &request);
    assert_eq!(
        (status, &out["error"]["code"]),
        (1, &json!("field_mismatch")),
        "{out}"
    );
    let mut request = approval(APPROVED);
    request["public_key"] = json!("garbage");
    let (status, out) = run_json(&["push", "verify-approval"], &request);
    assert_eq!(
        (status, &out["error"]["code"]),
        (1, &json!("invalid_public_key")),
        "{out}"
    );
}

#[test]
fn verify_approval_envelope_defects_exit_2() {
    let mut no_sid = approval(APPROVED);
    no_sid["signature_fields"] = json!(["details"]);
    let mut not_served = approval(APPROVED);
    not_served["signature_fields"] = json!(["sid", "metadata"]);
    let mut wrong_type = approval(APPROVED);
    wrong_type["challenge"] = json!("YC00000000000000000000000000000002");
    let mut missing = approval(APPROVED);
    missing.as_object_mut().unwrap().remove("auth_payload");
    for (request, code) in [
        (no_sid, "out_of_range"),
        (not_served, "out_of_range"),
        (wrong_type, "wrong_type"),
        (missing, "missing_field"),
    ] {
        let (status, out) = run_json(&["push", "verify-approval"], &request);
        assert_eq!(status, 2, "{out}");
        assert_eq!(out["error"]["code"], code, "{out}");
    }
}
