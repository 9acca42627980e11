//! `verify webauthn verify-registration` with `refuse_backup_eligible`,
//! `aaguid_allow_list` and `aaguid_deny_list` (issue 17), on the W3C WebAuthn Level 3
//! `none-es256` registration (BE set, AAGUID 8446ccb9-ab1d-b374-750b-2367ff6f3a1f,
//! `none` attestation: the AAGUID is unsigned).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test should fail loudly"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const CLIENT_DATA: &str = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQU1NUHQ0VXh4R1RTdG5jZHE0MTdZRHdCRmk4dnBJYS1wdzhvT3VWVzRUQSIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6ZmFsc2UsImV4dHJhRGF0YSI6ImNsaWVudERhdGFKU09OIG1heSBiZSBleHRlbmRlZCB3aXRoIGFkZGl0aW9uYWwgZmllbGRzIGluIHRoZSBmdXR1cmUsIHN1Y2ggYXMgdGhpczogQmtRZURqZGNUQnJYQmlBd0pUTEU1USJ9";
const OBJECT: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA";
const ID: &str = "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q";
const REGISTER: &[&str] = &["webauthn", "verify-registration"];
const AAGUID: &str = "8446ccb9-ab1d-b374-750b-2367ff6f3a1f";
const OTHER: &str = "08987058-cadc-4b81-b6e1-30de50dcbe96";

fn run(extra: &Value) -> (i32, Value) {
    let mut request = json!({
        "rp_id": "example.org", "origins": ["https://example.org"],
        "challenge": "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA",
        "user_verification": "preferred", "now": 1_800_000_000,
        "credential": {"id": ID, "rawId": ID, "type": "public-key",
            "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": OBJECT},
            "clientExtensionResults": {}}
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    run_command(REGISTER, &request)
}

fn run_command(args: &[&str], request: &Value) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn verify");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        output.status.code().unwrap(),
        serde_json::from_str(stdout.trim()).unwrap(),
    )
}

#[test]
fn backup_eligible_is_refused_only_when_asked() {
    let (status, out) = run(&json!({}));
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["credential"]["backup_eligible"], true);
    assert_eq!(out["credential"]["aaguid"], AAGUID);
    let (status, out) = run(&json!({"refuse_backup_eligible": false}));
    assert_eq!(status, 0, "{out}");
    let (status, out) = run(&json!({"refuse_backup_eligible": true}));
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "backup_eligible_refused", "{out}");
}

#[test]
fn a_denied_aaguid_is_refused_though_unsigned() {
    let (status, out) = run(&json!({"aaguid_deny_list": [OTHER, AAGUID.to_uppercase()]}));
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "aaguid_denied", "{out}");
    let (status, out) = run(&json!({"aaguid_deny_list": [OTHER]}));
    assert_eq!(status, 0, "{out}");
}

#[test]
fn an_allow_list_grants_nothing_to_none_attestation() {
    for list in [json!([AAGUID]), json!([OTHER])] {
        let (status, out) = run(&json!({"aaguid_allow_list": list}));
        assert_eq!(status, 1, "{out}");
        assert_eq!(out["error"]["code"], "aaguid_not_allowed", "{out}");
    }
    let (status, out) = run(&json!({"aaguid_allow_list": []}));
    assert_eq!(status, 0, "{out}");
}

#[test]
fn bad_lists_are_envelope_errors() {
    let many: Vec<String> = (0..65)
        .map(|i| format!("{i:08x}-0000-0000-0000-000000000000"))
        .collect();
    for (extra, field, code) in [
        (
            json!({"aaguid_allow_list": ["x"]}),
            "aaguid_allow_list",
            "out_of_range",
        ),
        (
            json!({"aaguid_deny_list": ["8446ccb9ab1db374750b2367ff6f3a1f"]}),
            "aaguid_deny_list",
            "out_of_range",
        ),
        (
            json!({"aaguid_deny_list": many}),
            "aaguid_deny_list",
            "out_of_range",
        ),
        (
            json!({"aaguid_allow_list": [AAGUID, AAGUID]}),
            "aaguid_allow_list",
            "out_of_range",
        ),
        (
            json!({"aaguid_allow_list": [AAGUID], "aaguid_deny_list": [AAGUID]}),
            "aaguid_deny_list",
            "out_of_range",
        ),
        (
            json!({"aaguid_deny_list": AAGUID}),
            "aaguid_deny_list",
            "wrong_type",
        ),
        (
            json!({"refuse_backup_eligible": "yes"}),
            "refuse_backup_eligible",
            "wrong_type",
        ),
    ] {
        let (status, out) = run(&extra);
        assert_eq!(status, 2, "{extra}: {out}");
        assert_eq!(out["error"]["code"], code, "{extra}: {out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(field),
            "{extra}: {out}"
        );
    }
}

#[test]
fn an_allow_list_grants_a_listed_aaguid_of_a_trusted_packed_attestation() {
    let capture: Value = serde_json::from_str(include_str!(
        "../../verify-webauthn/testdata/chromium/ctap2-es256-packed-x5c.json"
    ))
    .unwrap();
    let (_, inspected) = run_command(
        &["inspect"],
        &json!({"kind": "attestation_object",
            "data": capture["registration"]["response"]["response"]["attestationObject"]}),
    );
    let leaf = inspected["attestation_object"]["att_stmt"]["x5c"][0]
        .as_str()
        .unwrap();
    let der = verify_webauthn::base64url::decode(leaf, "x5c").unwrap();
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    let mut request = json!({
        "rp_id": capture["rp_id"], "origins": [capture["origin"]],
        "challenge": capture["registration"]["challenge"], "user_verification": "discouraged",
        "now": capture["captured_at"], "credential": capture["registration"]["response"],
    });
    let (status, out) = run_command(REGISTER, &request);
    assert_eq!(status, 0, "{out}");
    let aaguid = out["credential"]["aaguid"].clone();
    request["aaguid_allow_list"] = json!([aaguid]);
    // Listed, but the chain reaches no anchor: the AAGUID is signed by nobody
    // trusted.
    let (status, out) = run_command(REGISTER, &request);
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "aaguid_not_allowed", "{out}");
    request["trust_anchors_pem"] = json!([pem]);
    let (status, out) = run_command(REGISTER, &request);
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["credential"]["attestation_trusted"], true);
    // Trusted, but not listed.
    request["aaguid_allow_list"] = json!([OTHER]);
    let (status, out) = run_command(REGISTER, &request);
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "aaguid_not_allowed", "{out}");
}
