//! `verify webauthn verify-registration | verify-authentication` and `verify inspect`
//! against crates/verify-cli/README.md: W3C WebAuthn L3 test vectors (inlined below, base64url of the
//! spec's bytes) and the Chromium captures committed in verify-webauthn's testdata.

use serde_json::{Value, json};

use crate::support::run_json;

const REGISTER: &[&str] = &["webauthn", "verify-registration"];
const AUTHENTICATE: &[&str] = &["webauthn", "verify-authentication"];
const INSPECT: &[&str] = &["inspect"];

/// `sctn-test-vectors-none-es256`: registration and authentication.
fn none_es256() -> Value {
    json!({
        "rp_id": "example.org", "origin": "https://example.org",
        "reg_challenge": "AMMPt4UxxGTStncdq417YDwBFi8vpIa-pw8oOuVW4TA",
        "registration": {"id": "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q", "rawId": "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q", "type": "public-key", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQU1NUHQ0VXh4R1RTdG5jZHE0MTdZRHdCRmk4dnBJYS1wdzhvT3VWVzRUQSIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6ZmFsc2UsImV4dHJhRGF0YSI6ImNsaWVudERhdGFKU09OIG1heSBiZSBleHRlbmRlZCB3aXRoIGFkZGl0aW9uYWwgZmllbGRzIGluIHRoZSBmdXR1cmUsIHN1Y2ggYXMgdGhpczogQmtRZURqZGNUQnJYQmlBd0pUTEU1USJ9", "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVZAAAAAIRGzLmrHbN0dQsjZ_9vOh8AIPkfOR20ybL94OpwGJy6P7Y_V5umEiszrZT_PsMwCEvkpQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA"}, "clientExtensionResults": {}},
        "auth_challenge": "OcDnUhQXulTUPo3JUXT0I97pvzzYBP9tZchXyav01Ag",
        "authentication": {"id": "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q", "rawId": "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q", "type": "public-key", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiT2NEblVoUVh1bFRVUG8zSlVYVDBJOTdwdnp6WUJQOXRaY2hYeWF2MDFBZyIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6ZmFsc2V9", "authenticatorData": "v6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LUZAAAAAA", "signature": "MEYCIQD1Ck4uRAkknEqFO6NhKC8JhB303UVHoTqHeAIY3v_NOAIhAISArA8Lk1OBdPV1vxGh3V14xuSGAT-TcpXqE2U-Mx6H"}, "clientExtensionResults": {}},
        "public_key_cose": "pQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA"
    })
}

/// `sctn-test-vectors-none-es256-topOrigin`: crossOrigin true, topOrigin https://example.com.
fn top_origin() -> Value {
    json!({
        "rp_id": "example.org", "origin": "https://example.org",
        "reg_challenge": "Th9MYZhpnjPBTxkhU_Sdfg6ONXfVrEFsXzrckqQfJ-U",
        "registration": {"id": "uK1ZuZYEerGOLOtXIGw2LaV0WHk0gfSo6_EBx8p8wPE", "rawId": "uK1ZuZYEerGOLOtXIGw2LaV0WHk0gfSo6_EBx8p8wPE", "type": "public-key", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiVGg5TVlaaHBualBCVHhraFVfU2RmZzZPTlhmVnJFRnNYenJja3FRZkotVSIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5vcmciLCJjcm9zc09yaWdpbiI6dHJ1ZSwidG9wT3JpZ2luIjoiaHR0cHM6Ly9leGFtcGxlLmNvbSJ9", "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikv6vDdDKViwYzYNOtZGHJxHNa5_jt1GWSpeDwFFKy5LVBAAAAAJdYb9CXmadkAcIARVCZ7yoAILitWbmWBHqxjizrVyBsNi2ldFh5NIH0qOvxAcfKfMDxpQECAyYgASFYIKHEfB2C2k6-gs1yIHECs4BnBwGZO8NTmK4uVyZCf-AdIlgghsEIDYKYcCjH9U7LGwEYXeJDs1kpSg7SEM1HSA8K3Ig"}, "clientExtensionResults": {}}
    })
}

fn registration_request(vector: &Value) -> Value {
    json!({
        "rp_id": vector["rp_id"],
        "origins": [vector["origin"]],
        "challenge": vector["reg_challenge"],
        "user_verification": "preferred",
        "now": 1_800_000_000u64,
        "credential": vector["registration"],
    })
}

fn authentication_request(vector: &Value, sign_count: u64, backup_eligible: Value) -> Value {
    json!({
        "rp_id": vector["rp_id"],
        "origins": [vector["origin"]],
        "challenge": vector["auth_challenge"],
        "user_verification": "preferred",
        "now": 1_800_000_000u64,
        "credential_record": {
            "id": vector["registration"]["rawId"],
            "public_key_cose": vector["public_key_cose"],
            "sign_count": sign_count,
            "backup_eligible": backup_eligible,
        },
        "credential": vector["authentication"],
    })
}

fn assert_rejected(out: &(i32, Value), code: &str) {
    let (status, json) = out;
    assert_eq!(*status, 1, "{json}");
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["error"]["code"], code, "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

fn assert_envelope_error(out: &(i32, Value), code: &str) {
    let (status, json) = out;
    assert_eq!(*status, 2, "{json}");
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["error"]["code"], code, "{json}");
}

#[test]
fn w3c_none_es256_registers_with_every_output_field() {
    let (status, out) = run_json(REGISTER, &registration_request(&none_es256()));
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["ok"], true);
    let credential = &out["credential"];
    assert_eq!(
        credential["id"],
        "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q"
    );
    assert_eq!(
        credential["public_key_cose"],
        none_es256()["public_key_cose"]
    );
    assert_eq!(credential["algorithm"], -7);
    assert_eq!(credential["sign_count"], 0);
    assert_eq!(credential["aaguid"], "8446ccb9-ab1d-b374-750b-2367ff6f3a1f");
    assert_eq!(credential["attestation_format"], "none");
    assert_eq!(credential["attestation_type"], "none");
    assert_eq!(credential["attestation_trusted"], false);
    // Flags 0x59 (vector's derived registration_flags 89): UP, BE, BS, AT; no UV.
    assert_eq!(credential["user_verified"], false);
    assert_eq!(credential["backup_eligible"], true);
    assert_eq!(credential["backup_state"], true);
    assert_eq!(credential["transports"], json!([]));
}

#[test]
fn w3c_none_es256_authenticates_and_applies_counter_and_backup_rules() {
    let vector = none_es256();
    let (status, out) = run_json(
        AUTHENTICATE,
        &authentication_request(&vector, 0, json!(true)),
    );
    assert_eq!(status, 0, "{out}");
    assert_eq!(
        out,
        json!({"ok": true, "sign_count": 0, "user_verified": false, "backup_state": true, "counter_warning": false})
    );
    // Stored 5, got 0: a regression, rejected by default, a warning under "warn".
    let mut request = authentication_request(&vector, 5, Value::Null);
    assert_rejected(&run_json(AUTHENTICATE, &request), "sign_count_regressed");
    request["counter_policy"] = json!("warn");
    let (status, out) = run_json(AUTHENTICATE, &request);
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["counter_warning"], true);
    // BE recorded false, asserted true.
    let request = authentication_request(&vector, 0, json!(false));
    assert_rejected(
        &run_json(AUTHENTICATE, &request),
        "backup_eligibility_changed",
    );
}

#[test]
fn authentication_rejections_name_the_failed_check() {
    let vector = none_es256();
    let base = authentication_request(&vector, 0, json!(true));

    let mut other_id = base.clone();
    other_id["credential_record"]["id"] = json!("AAAA");
    assert_rejected(&run_json(AUTHENTICATE, &other_id), "credential_id_mismatch");

    let mut origin = base.clone();
    origin["origins"] = json!(["https://example.com"]);
    assert_rejected(&run_json(AUTHENTICATE, &origin), "origin_mismatch");

    let mut challenge = base.clone();
    challenge["challenge"] = vector["reg_challenge"].clone();
    assert_rejected(&run_json(AUTHENTICATE, &challenge), "challenge_mismatch");

    let mut rp = base.clone();
    rp["rp_id"] = json!("example.com");
    assert_rejected(&run_json(AUTHENTICATE, &rp), "rp_id_hash_mismatch");

    let mut uv = base.clone();
    uv["user_verification"] = json!("required");
    assert_rejected(&run_json(AUTHENTICATE, &uv), "user_verification_required");

    let mut signature = base.clone();
    signature["credential"]["response"]["signature"] = json!(
        "MEYCIQD1Ck4uRAkknEqFO6NhKC8JhB303UVHoTqHeAIY3v_NOAIhAISArA8Lk1OBdPV1vxGh3V14xuSGAT-TcpXqE2U-Mx6I"
    );
    assert_rejected(&run_json(AUTHENTICATE, &signature), "signature_invalid");

    // Defects in the credential itself are rejections (exit 1), not usage errors.
    let mut bad_base64 = base.clone();
    bad_base64["credential"]["response"]["authenticatorData"] = json!("not base64url!");
    assert_rejected(&run_json(AUTHENTICATE, &bad_base64), "malformed");
    let mut empty = base;
    empty["credential"] = json!({});
    assert_rejected(&run_json(AUTHENTICATE, &empty), "malformed");
}

#[test]
fn registration_rejections_name_the_failed_check() {
    let base = registration_request(&none_es256());

    let mut algorithms = base.clone();
    algorithms["algorithms"] = json!([-8, -257]);
    assert_rejected(&run_json(REGISTER, &algorithms), "algorithm_not_allowed");

    let mut uv = base.clone();
    uv["user_verification"] = json!("required");
    assert_rejected(&run_json(REGISTER, &uv), "user_verification_required");

    let mut trusted = base.clone();
    trusted["require_trusted_attestation"] = json!(true);
    assert_rejected(&run_json(REGISTER, &trusted), "attestation_not_trusted");

    let mut padded = base.clone();
    let text = padded["credential"]["response"]["attestationObject"]
        .as_str()
        .unwrap()
        .to_owned();
    padded["credential"]["response"]["attestationObject"] =
        json!(format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4)));
    assert_eq!(
        run_json(REGISTER, &padded).0,
        0,
        "padded base64url is accepted"
    );

    let mut cbor = base;
    cbor["credential"]["response"]["attestationObject"] = json!("o2NmbXQ");
    assert_rejected(&run_json(REGISTER, &cbor), "malformed");
}

#[test]
fn cross_origin_follows_allow_cross_origin_and_top_origins() {
    let base = registration_request(&top_origin());
    assert_rejected(&run_json(REGISTER, &base), "cross_origin_rejected");

    let mut allowed = base;
    allowed["allow_cross_origin"] = json!(true);
    assert_eq!(
        run_json(REGISTER, &allowed).0,
        0,
        "any top origin when none are listed"
    );
    allowed["top_origins"] = json!([]);
    assert_eq!(run_json(REGISTER, &allowed).0, 0, "empty list allows any");
    allowed["top_origins"] = json!(["https://example.com"]);
    assert_eq!(run_json(REGISTER, &allowed).0, 0);
    allowed["top_origins"] = json!(["https://other.example"]);
    assert_rejected(&run_json(REGISTER, &allowed), "top_origin_mismatch");
}

#[test]
fn envelope_defects_exit_2() {
    let base = registration_request(&none_es256());
    let cases: &[(&str, Value, &str)] = &[
        ("rp_id", Value::Null, "missing_field"),
        ("origins", json!("https://example.org"), "wrong_type"),
        ("origins", json!(["example.org"]), "out_of_range"),
        ("challenge", json!(5), "wrong_type"),
        ("challenge", json!("***"), "out_of_range"),
        ("user_verification", json!("sometimes"), "out_of_range"),
        ("algorithms", json!(["ES256"]), "wrong_type"),
        ("algorithms", json!([12345]), "out_of_range"),
        ("allow_cross_origin", json!("yes"), "wrong_type"),
        ("trust_anchors_pem", json!(["junk"]), "out_of_range"),
        ("require_trusted_attestation", json!(1), "wrong_type"),
        ("now", json!(-1), "out_of_range"),
        ("credential", json!("a string"), "wrong_type"),
        ("credential", Value::Null, "missing_field"),
    ];
    for (field, value, code) in cases {
        let mut request = base.clone();
        request[*field] = value.clone();
        assert_envelope_error(&run_json(REGISTER, &request), code);
    }

    let base = authentication_request(&none_es256(), 0, json!(true));
    let cases: &[(&str, Value, &str)] = &[
        ("credential_record", Value::Null, "missing_field"),
        ("credential_record", json!([]), "wrong_type"),
        ("counter_policy", json!("maybe"), "out_of_range"),
    ];
    for (field, value, code) in cases {
        let mut request = base.clone();
        request[*field] = value.clone();
        assert_envelope_error(&run_json(AUTHENTICATE, &request), code);
    }
    let record_cases: &[(&str, Value, &str)] = &[
        ("id", Value::Null, "missing_field"),
        ("public_key_cose", json!("pQE"), "out_of_range"),
        ("sign_count", json!(4_294_967_296u64), "out_of_range"),
        ("sign_count", json!("1"), "wrong_type"),
        ("backup_eligible", json!("no"), "wrong_type"),
    ];
    for (field, value, code) in record_cases {
        let mut request = base.clone();
        request["credential_record"][*field] = value.clone();
        assert_envelope_error(&run_json(AUTHENTICATE, &request), code);
    }
}

/// The Chromium captures of verify-webauthn (see its tests/browser/README.md).
fn captures() -> Vec<Value> {
    [
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-es256-none-uv-discoverable.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-es256-packed-x5c.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-eddsa-packed-x5c.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-eddsa-none-uv-off.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-rs256-none.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-rs256-packed-x5c.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-backup-eligible-default-algs.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/ctap2-es256-backup-eligible-not-backed-up.json"),
        include_str!("../../../verify-webauthn/testdata/chromium/u2f-es256-fido-u2f.json"),
    ]
    .iter()
    .map(|text| serde_json::from_str(text).unwrap())
    .collect()
}

#[test]
fn chromium_credentials_verify_end_to_end() {
    for capture in captures() {
        let name = capture["name"].as_str().unwrap();
        let expected = &capture["expected"];
        let uv = if expected["user_verified"] == true {
            "required"
        } else {
            "discouraged"
        };
        let request = json!({
            "rp_id": capture["rp_id"], "origins": [capture["origin"]],
            "challenge": capture["registration"]["challenge"], "user_verification": uv,
            "now": capture["captured_at"], "credential": capture["registration"]["response"],
        });
        let (status, out) = run_json(REGISTER, &request);
        assert_eq!(status, 0, "{name}: {out}");
        let credential = &out["credential"];
        assert_eq!(credential["algorithm"], expected["algorithm"], "{name}");
        assert_eq!(
            credential["attestation_format"], expected["attestation_format"],
            "{name}"
        );
        assert_eq!(
            credential["user_verified"], expected["user_verified"],
            "{name}"
        );
        assert_eq!(
            credential["backup_eligible"], expected["backup_eligible"],
            "{name}"
        );
        assert_eq!(
            credential["backup_state"], expected["backup_state"],
            "{name}"
        );
        assert_eq!(
            credential["transports"], capture["registration"]["response"]["response"]["transports"],
            "{name}"
        );

        let mut sign_count = credential["sign_count"].as_u64().unwrap();
        for auth in capture["authentications"].as_array().unwrap() {
            let mut request = json!({
                "rp_id": capture["rp_id"], "origins": [capture["origin"]],
                "challenge": auth["challenge"], "user_verification": uv,
                "now": capture["captured_at"],
                "credential_record": {
                    "id": credential["id"], "public_key_cose": credential["public_key_cose"],
                    "sign_count": sign_count, "backup_eligible": credential["backup_eligible"],
                },
                "credential": auth["response"],
            });
            let (status, out) = run_json(AUTHENTICATE, &request);
            assert_eq!(status, 0, "{name}: {out}");
            assert_eq!(out["user_verified"], expected["user_verified"], "{name}");
            assert_eq!(out["backup_state"], expected["backup_state"], "{name}");
            assert_eq!(out["counter_warning"], false, "{name}");
            let new_count = out["sign_count"].as_u64().unwrap();
            assert!(new_count > sign_count, "{name}");

            // The same assertion replayed against the advanced counter: a regression.
            request["credential_record"]["sign_count"] = json!(new_count);
            assert_rejected(&run_json(AUTHENTICATE, &request), "sign_count_regressed");
            sign_count = new_count;
        }
    }
}

#[test]
fn chromium_packed_attestation_is_trusted_with_its_root_as_pem_anchor() {
    let capture = captures()
        .into_iter()
        .find(|c| c["name"] == "ctap2-es256-packed-x5c")
        .unwrap();
    let (_, inspected) = run_json(
        INSPECT,
        &json!({"kind": "attestation_object", "data": capture["registration"]["response"]["response"]["attestationObject"]}),
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
        "require_trusted_attestation": true,
    });
    assert_rejected(&run_json(REGISTER, &request), "attestation_not_trusted");
    request["trust_anchors_pem"] = json!([pem]);
    let (status, out) = run_json(REGISTER, &request);
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["credential"]["attestation_trusted"], true);
    assert_eq!(out["credential"]["attestation_type"], "basic");
    // Outside the certificate's validity the chain no longer reaches the anchor.
    request["now"] = json!(1_000_000_000u64);
    assert_eq!(run_json(REGISTER, &request).0, 1);
}

#[test]
fn inspect_guesses_every_kind() {
    let vector = none_es256();
    let registration = &vector["registration"];
    let authentication = &vector["authentication"];
    let cases = [
        (
            registration["response"]["attestationObject"].clone(),
            "attestation_object",
        ),
        (registration.clone(), "registration"),
        (authentication.clone(), "authentication"),
        (Value::String(registration.to_string()), "registration"),
        (
            authentication["response"]["clientDataJSON"].clone(),
            "client_data",
        ),
        (
            authentication["response"]["authenticatorData"].clone(),
            "authenticator_data",
        ),
        (vector["public_key_cose"].clone(), "cose_key"),
    ];
    for (data, kind) in cases {
        let (status, out) = run_json(INSPECT, &json!({ "data": data }));
        assert_eq!(status, 0, "{kind}: {out}");
        assert_eq!(out["kind"], kind, "{out}");
        let (status, explicit) = run_json(INSPECT, &json!({ "kind": kind, "data": data }));
        assert_eq!(status, 0, "{kind}: {explicit}");
        assert_eq!(explicit, out);
    }
}

#[test]
fn inspect_decodes_the_structures() {
    let vector = none_es256();
    let (_, out) = run_json(
        INSPECT,
        &json!({"data": vector["registration"]["response"]["attestationObject"]}),
    );
    let object = &out["attestation_object"];
    assert_eq!(object["fmt"], "none");
    assert_eq!(object["att_stmt"], json!({}));
    let auth_data = &object["auth_data"];
    assert_eq!(
        auth_data["rp_id_hash"],
        "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b5"
    );
    assert_eq!(auth_data["flags"]["value"], 0x59);
    assert_eq!(auth_data["flags"]["backup_state"], true);
    assert_eq!(auth_data["sign_count"], 0);
    let attested = &auth_data["attested_credential_data"];
    assert_eq!(attested["aaguid"], "8446ccb9-ab1d-b374-750b-2367ff6f3a1f");
    assert_eq!(
        attested["credential_id"],
        "-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q"
    );
    let key = &attested["credential_public_key"];
    assert_eq!(key["algorithm"], -7);
    assert_eq!(key["key_type"], "EC2");
    assert_eq!(key["curve"], "P-256");
    assert_eq!(key["public_key_cose"], vector["public_key_cose"]);

    let (_, out) = run_json(
        INSPECT,
        &json!({"kind": "client_data", "data": vector["registration"]["response"]["clientDataJSON"]}),
    );
    let client_data = &out["client_data"];
    assert_eq!(client_data["type"], "webauthn.create");
    assert_eq!(client_data["challenge"], vector["reg_challenge"]);
    // Unknown members are shown too.
    assert!(client_data["extraData"].is_string());

    // The RSA key of a Chromium capture.
    let capture = captures()
        .into_iter()
        .find(|c| c["name"] == "ctap2-rs256-none")
        .unwrap();
    let (_, out) = run_json(
        INSPECT,
        &json!({"data": capture["registration"]["response"]}),
    );
    let key = &out["registration"]["attestation_object"]["auth_data"]["attested_credential_data"]["credential_public_key"];
    assert_eq!(key["key_type"], "RSA");
    assert_eq!(key["algorithm_name"], "RS256");
    assert_eq!(key["modulus_bits"], 2048);
}

#[test]
fn inspect_rejects_what_it_cannot_decode() {
    // Undecodable data is a rejection; a bad envelope is a usage error.
    let (status, out) = run_json(INSPECT, &json!({"data": "AAAA"}));
    assert_eq!(status, 1, "{out}");
    assert_eq!(out["error"]["code"], "unrecognized");
    assert_rejected(
        &run_json(INSPECT, &json!({"kind": "cose_key", "data": "o2NmbXQ"})),
        "invalid_cose_key",
    );
    assert_rejected(
        &run_json(
            INSPECT,
            &json!({"kind": "authenticator_data", "data": "not base64!"}),
        ),
        "invalid_authenticator_data",
    );
    assert_envelope_error(
        &run_json(INSPECT, &json!({"kind": "jwt", "data": "AAAA"})),
        "out_of_range",
    );
    assert_envelope_error(
        &run_json(INSPECT, &json!({"kind": "cose_key"})),
        "missing_field",
    );
    assert_envelope_error(&run_json(INSPECT, &json!({"data": 5})), "wrong_type");
}
