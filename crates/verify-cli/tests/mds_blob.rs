//! `verify webauthn verify-registration` with `trust_mds_blob` and
//! `trust_mds_roots_pem`: a FIDO MDS3 BLOB verified against the given root, whose
//! revoked AAGUIDs are refused even without `require_trusted_attestation` (the
//! W3C L3 `none` vector's AAGUID, `testdata/README.md`).
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
const ATTESTATION: &str = "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA";
const ID: &str = "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q";
const ROOT: &str = include_str!("testdata/mds-root.pem");
const REVOKED: &str = include_str!("testdata/mds-blob-revoked.jwt");
const CERTIFIED: &str = include_str!("testdata/mds-blob-certified.jwt");

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

/// The vector's registration (2027-01-15 is inside the test PKI's validity), with
/// `extra` members added to the envelope.
fn request(extra: &Value) -> Value {
    let mut request = json!({
        "rp_id": "example.org", "origins": ["https://example.org"],
        "challenge": "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA",
        "user_verification": "preferred", "now": 1_800_000_000,
        "credential": {"id": ID, "rawId": ID, "type": "public-key",
            "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": ATTESTATION},
            "clientExtensionResults": {}}
    });
    for (name, value) in extra.as_object().unwrap() {
        request[name] = value.clone();
    }
    request
}

#[test]
fn a_revoked_aaguid_is_refused_without_requiring_trust() {
    let (status, out) = run(&request(&json!({})));
    assert_eq!(status, 0, "without a BLOB the vector registers: {out}");
    let (status, out) = run(&request(
        &json!({"trust_mds_blob": CERTIFIED, "trust_mds_roots_pem": [ROOT]}),
    ));
    assert_eq!(status, 0, "a certified entry refuses nothing: {out}");
    assert_eq!(out["credential"]["attestation_trusted"], false, "{out}");
    let (status, out) = run(&request(
        &json!({"trust_mds_blob": REVOKED, "trust_mds_roots_pem": [ROOT]}),
    ));
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["ok"], false, "{out}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.contains("REVOKED"), "{out}");
}

#[test]
fn a_blob_not_under_the_given_root_or_alone_is_an_input_error() {
    // A root of the same name with another key: the BLOB's chain does not reach it.
    let other_root = include_str!("testdata/other-root.pem");
    for (extra, field) in [
        (json!({"trust_mds_blob": REVOKED}), "trust_mds_roots_pem"),
        (json!({"trust_mds_roots_pem": [ROOT]}), "trust_mds_blob"),
        (
            json!({"trust_mds_blob": "a.b.c", "trust_mds_roots_pem": [ROOT]}),
            "trust_mds_blob",
        ),
        (
            json!({"trust_mds_blob": REVOKED, "trust_mds_roots_pem": [other_root]}),
            "trust_mds_blob",
        ),
    ] {
        let (status, out) = run(&request(&extra));
        assert_eq!(status, 2, "{extra}: {out}");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{extra}: {out}");
    }
    // A BLOB whose payload was edited (REVOKED removed) fails its signature.
    let (head, rest) = REVOKED.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{head}.{}.{signature}", String::from_utf8(bytes).unwrap());
    let (status, out) = run(&request(
        &json!({"trust_mds_blob": tampered, "trust_mds_roots_pem": [ROOT]}),
    ));
    assert_eq!(status, 2, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trust_mds_blob"),
        "{out}"
    );
}
