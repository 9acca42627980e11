//! `verify webauthn verify-registration` with `"mediation": "conditional"` (issue 17,
//! conditional create): on the W3C WebAuthn Level 3 `none-es256` registration with UP
//! cleared in authData (a `none` attestation signs nothing over authData), the
//! registration is rejected without it and accepted with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test should fail loudly"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use verify_webauthn::base64url;

const CLIENT_DATA: &str = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQU1NUHQ0VXh4R1RTdG5jZHE0MTdZRHdCRmk4dnBJYS1wdzhvT3VWVzRUQSIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6ZmFsc2UsImV4dHJhRGF0YSI6ImNsaWVudERhdGFKU09OIG1heSBiZSBleHRlbmRlZCB3aXRoIGFkZGl0aW9uYWwgZmllbGRzIGluIHRoZSBmdXR1cmUsIHN1Y2ggYXMgdGhpczogQmtRZURqZGNUQnJYQmlBd0pUTEU1USJ9";
const OBJECT: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA";
const ID: &str = "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q";

/// The vector's attestation object with UP (flags bit 0) cleared.
fn object_without_up() -> String {
    let mut object = base64url::decode(OBJECT, "attestationObject").unwrap();
    // "authData" (0x68 + 8 letters), its byte-string header (0x58 len), then the
    // 32-byte rpIdHash: the flags byte.
    let at = object
        .windows(9)
        .position(|w| w == b"\x68authData")
        .unwrap()
        + 9
        + 2
        + 32;
    assert_eq!(object[at] & 0x01, 0x01, "the vector sets UP");
    object[at] &= !0x01;
    base64url::encode(&object)
}

fn run(object: &str, extra: &Value) -> (i32, Value) {
    let mut request = json!({
        "rp_id": "example.org", "origins": ["https://example.org"],
        "challenge": "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA",
        "user_verification": "preferred", "now": 1_800_000_000,
        "credential": {"id": ID, "rawId": ID, "type": "public-key",
            "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": object},
            "clientExtensionResults": {}}
    });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(["webauthn", "verify-registration"])
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
fn without_up_a_registration_is_accepted_only_when_conditional() {
    let object = object_without_up();
    for extra in [json!({}), json!({"mediation": null})] {
        let (status, out) = run(&object, &extra);
        assert_eq!(status, 1, "{extra}: {out}");
        assert_eq!(out["error"]["code"], "user_not_present", "{out}");
    }
    let (status, out) = run(&object, &json!({"mediation": "conditional"}));
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["credential"]["id"], ID);
    // The unmodified vector registers either way.
    for extra in [json!({}), json!({"mediation": "conditional"})] {
        let (status, out) = run(OBJECT, &extra);
        assert_eq!(status, 0, "{extra}: {out}");
    }
}

#[test]
fn conditional_does_not_relax_required_user_verification() {
    // The vector's UV is clear.
    let (status, out) = run(
        &object_without_up(),
        &json!({"mediation": "conditional", "user_verification": "required"}),
    );
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "user_verification_required", "{out}");
}

#[test]
fn other_mediation_values_are_envelope_errors() {
    for (value, code) in [
        (json!("optional"), "out_of_range"),
        (json!("required"), "out_of_range"),
        (json!("silent"), "out_of_range"),
        (json!("Conditional"), "out_of_range"),
        (json!(true), "wrong_type"),
    ] {
        let (status, out) = run(&object_without_up(), &json!({"mediation": value}));
        assert_eq!(status, 2, "{value}: {out}");
        assert_eq!(out["error"]["code"], code, "{value}: {out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .contains("mediation"),
            "{value}: {out}"
        );
    }
}
