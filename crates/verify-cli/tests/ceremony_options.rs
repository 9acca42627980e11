//! `verify webauthn verify-registration` with `extensions` (issue 17): the requested
//! extensions' outputs are checked (an enforced `credProtect` level the signed
//! authenticator data does not carry is a rejection) and reported.
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
/// The W3C WebAuthn Level 3 `none-es256` attestation object, unchanged.
const PLAIN: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA";
/// The same with the ED flag and `{"credProtect": 1}` appended to its authenticator
/// data (a `none` attestation signs nothing over it).
const LEVEL_1: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YViyv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LXZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiCha2NyZWRQcm90ZWN0AQ";
/// The same with `{"credProtect": 3}`.
const LEVEL_3: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YViyv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LXZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiCha2NyZWRQcm90ZWN0Aw";
const ID: &str = "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q";

fn run(request: &Value) -> (i32, Value) {
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

fn request(attestation_object: &str, client_results: Value, extensions: Option<Value>) -> Value {
    let mut request = json!({
        "rp_id": "example.org", "origins": ["https://example.org"],
        "challenge": "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA",
        "user_verification": "preferred", "now": 1_800_000_000,
        "credential": {"id": ID, "rawId": ID, "type": "public-key",
            "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": attestation_object},
            "clientExtensionResults": client_results}
    });
    if let Some(extensions) = extensions {
        request["extensions"] = extensions;
    }
    request
}

#[test]
fn without_extensions_the_output_is_unchanged() {
    let (status, out) = run(&request(LEVEL_1, json!({"credProps": {"rk": "x"}}), None));
    assert_eq!(status, 0, "{out}");
    assert!(out.get("extensions").is_none(), "{out}");
}

#[test]
fn requested_outputs_are_reported() {
    let (status, out) = run(&request(
        LEVEL_3,
        json!({"credProps": {"rk": true}}),
        Some(
            json!({"cred_props": true, "cred_protect": "userVerificationRequired",
                    "enforce_cred_protect": true, "min_pin_length": true}),
        ),
    ));
    assert_eq!(status, 0, "{out}");
    assert_eq!(
        out["extensions"],
        json!({"cred_props_rk": true, "cred_protect": "userVerificationRequired"})
    );
}

#[test]
fn an_enforced_level_the_authenticator_data_lacks_is_a_rejection() {
    let enforced =
        json!({"cred_protect": "userVerificationRequired", "enforce_cred_protect": true});
    for object in [LEVEL_1, PLAIN] {
        let (status, out) = run(&request(object, json!({}), Some(enforced.clone())));
        assert_eq!(status, 1, "{out}");
        assert_eq!(
            out["error"]["code"], "extension_requirement_not_met",
            "{out}"
        );
    }
    // Not enforced: accepted, the level reported.
    let (status, out) = run(&request(
        LEVEL_1,
        json!({}),
        Some(json!({"cred_protect": "userVerificationRequired"})),
    ));
    assert_eq!(status, 0, "{out}");
    assert_eq!(
        out["extensions"]["cred_protect"],
        "userVerificationOptional"
    );
}

#[test]
fn a_malformed_requested_output_is_a_rejection() {
    let (status, out) = run(&request(
        PLAIN,
        json!({"credProps": {"rk": "yes"}}),
        Some(json!({"cred_props": true})),
    ));
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "extension_output_malformed", "{out}");
}

#[test]
fn bad_extension_settings_are_envelope_errors() {
    for (extensions, code) in [
        (json!({"cred_protect": "always"}), "out_of_range"),
        (json!({"enforce_cred_protect": true}), "missing_field"),
        (json!({"cred_props": "yes"}), "wrong_type"),
        (json!({"prf": true}), "unknown_field"),
        (json!(["cred_props"]), "wrong_type"),
    ] {
        let (status, out) = run(&request(PLAIN, json!({}), Some(extensions.clone())));
        assert_eq!(status, 2, "{extensions}: {out}");
        assert_eq!(out["error"]["code"], code, "{extensions}: {out}");
    }
}
