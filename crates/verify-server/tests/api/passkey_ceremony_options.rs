//! The service's passkey ceremony options (this server's extension, issue 17):
//! `Passkeys.AttestationConveyance`, `Passkeys.Hints`, `Passkeys.AttestationFormats`
//! and `Passkeys.Extensions.*` are stored, echoed in the `passkeys` block and carried
//! by a passkey factor's creation options; a bad value is 400/60200 and writes
//! nothing. A verified factor's `config` shows the `credProps` rk and
//! `minPinLength` the registration reported (`extension_outputs`), and the
//! service's hints reach the sign-in challenges' request options.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::Harness;

const RP: (&str, &str) = ("Passkeys.RelyingParty.Id", "example.com");

fn with_rp<'a>(params: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("FriendlyName", "Owl Bank"), RP];
    form.extend_from_slice(params);
    form
}

#[tokio::test]
async fn ceremony_options_are_echoed_and_reach_the_creation_options() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &with_rp(&[
                ("Passkeys.AttestationConveyance", "direct"),
                ("Passkeys.Hints", "security-key"),
                ("Passkeys.Hints", "hybrid"),
                ("Passkeys.AttestationFormats", "packed,tpm"),
                ("Passkeys.Extensions.CredProps", "true"),
                (
                    "Passkeys.Extensions.CredProtect",
                    "userVerificationRequired",
                ),
                ("Passkeys.Extensions.EnforceCredProtect", "true"),
                ("Passkeys.Extensions.MinPinLength", "true"),
            ]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let expected = json!({
        "attestation_conveyance": "direct",
        "hints": ["security-key", "hybrid"],
        "attestation_formats": ["packed", "tpm"],
        "extensions": {
            "cred_props": true,
            "cred_protect": {"level": "userVerificationRequired", "enforce": true},
            "min_pin_length": true,
        },
    });
    let sid = created.str("sid");
    let fetched = h.get(&format!("/v2/Services/{sid}")).await;
    for json in [&created.json, &fetched.json] {
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&json["passkeys"][key], value, "{key} in {json}");
        }
    }
    let factor = h
        .post_json(
            &format!("/v2/Services/{sid}/Passkeys/Factors"),
            &json!({"identity": "ceremony-options-1", "friendly_name": "Key"}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.json);
    let options = &factor.json["options"]["publicKey"];
    assert_eq!(options["attestation"], "direct");
    assert_eq!(options["hints"], json!(["security-key", "hybrid"]));
    assert_eq!(options["attestationFormats"], json!(["packed", "tpm"]));
    assert_eq!(
        options["extensions"],
        json!({
            "credProps": true,
            "credentialProtectionPolicy": "userVerificationRequired",
            "enforceCredentialProtectionPolicy": true,
            "minPinLength": true,
        })
    );
    // The factor's config is the service's block, options included.
    assert_eq!(factor.json["config"]["hints"], expected["hints"]);
}

#[tokio::test]
async fn a_service_without_them_shows_and_serves_what_it_always_did() {
    let h = Harness::new();
    let created = h.post("/v2/Services", &with_rp(&[])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    for absent in [
        "attestation_conveyance",
        "hints",
        "attestation_formats",
        "extensions",
    ] {
        assert!(
            created.json["passkeys"].get(absent).is_none(),
            "{}",
            created.json
        );
    }
    let sid = created.str("sid");
    let factor = h
        .post_json(
            &format!("/v2/Services/{sid}/Passkeys/Factors"),
            &json!({"identity": "ceremony-options-2", "friendly_name": "Key"}),
        )
        .await;
    let options = &factor.json["options"]["publicKey"];
    assert_eq!(options["attestation"], "none");
    for absent in ["hints", "attestationFormats", "extensions"] {
        assert!(options.get(absent).is_none(), "{options}");
    }
}

#[tokio::test]
async fn bad_values_are_refused_and_write_nothing() {
    let h = Harness::new();
    let bad: [&[(&str, &str)]; 9] = [
        &[("Passkeys.AttestationConveyance", "always")],
        &[("Passkeys.Hints", "usb")],
        &[("Passkeys.Hints", "hybrid"), ("Passkeys.Hints", "hybrid")],
        &[("Passkeys.AttestationFormats", "packed,packed")],
        &[("Passkeys.AttestationFormats", "jwt")],
        &[("Passkeys.Extensions.CredProps", "yes")],
        &[("Passkeys.Extensions.CredProtect", "3")],
        &[("Passkeys.Extensions.EnforceCredProtect", "true")],
        &[("Passkeys.Extensions.MinPinLength", "1")],
    ];
    for params in bad {
        h.post("/v2/Services", &with_rp(params))
            .await
            .assert_error(400, 60200);
    }
    let listed = h.get("/v2/Services").await;
    assert_eq!(listed.json["services"], json!([]), "{}", listed.json);
    // On update too, leaving the stored block as it was.
    let created = h
        .post(
            "/v2/Services",
            &with_rp(&[("Passkeys.AttestationConveyance", "indirect")]),
        )
        .await;
    let sid = created.str("sid");
    let url = format!("/v2/Services/{sid}");
    h.post(&url, &[RP, ("Passkeys.Hints", "hybrid,hybrid")])
        .await
        .assert_error(400, 60200);
    let fetched = h.get(&url).await;
    assert_eq!(
        fetched.json["passkeys"]["attestation_conveyance"],
        "indirect"
    );
    // A valid update replaces the block.
    let updated = h
        .post(&url, &[RP, ("Passkeys.Hints", "client-device")])
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["passkeys"]["hints"], json!(["client-device"]));
    assert!(
        updated.json["passkeys"]
            .get("attestation_conveyance")
            .is_none()
    );
}

/// A software authenticator for `example.com` that answers creation options with a
/// `none` attestation, whose authenticator data nothing signs: `authenticator`
/// becomes its CBOR extensions map (when not empty) and `client` its
/// `clientExtensionResults`.
fn registration(
    seed: u64,
    options: &Value,
    authenticator: Vec<(ciborium::Value, ciborium::Value)>,
    client: Value,
) -> Value {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut credential_id = vec![0; 16];
    rng.fill_bytes(&mut credential_id);
    let key = p256::ecdsa::SigningKey::random(&mut rng);
    let mut data = sha2::Sha256::digest(b"example.com").to_vec();
    // UP, UV, AT; ED when an extensions map follows.
    data.push(0x45 | if authenticator.is_empty() { 0 } else { 0x80 });
    data.extend_from_slice(&0_u32.to_be_bytes());
    data.extend_from_slice(&[0; 16]);
    data.extend_from_slice(&u16::try_from(credential_id.len()).unwrap().to_be_bytes());
    data.extend_from_slice(&credential_id);
    let point = key.verifying_key().to_encoded_point(false);
    data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    data.extend_from_slice(point.x().unwrap());
    data.extend_from_slice(&[0x22, 0x58, 0x20]);
    data.extend_from_slice(point.y().unwrap());
    if !authenticator.is_empty() {
        ciborium::ser::into_writer(&ciborium::Value::Map(authenticator), &mut data).unwrap();
    }
    let object = ciborium::Value::Map(vec![
        ("fmt".into(), "none".into()),
        ("attStmt".into(), ciborium::Value::Map(vec![])),
        ("authData".into(), ciborium::Value::Bytes(data)),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&object, &mut bytes).unwrap();
    let challenge = options["publicKey"]["challenge"].as_str().unwrap();
    let client_data = format!(
        r#"{{"type":"webauthn.create","challenge":"{challenge}","origin":"https://example.com"}}"#
    );
    let id = URL_SAFE_NO_PAD.encode(&credential_id);
    json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
            "transports": ["internal"],
        },
        "clientExtensionResults": client,
    })
}

/// Creates a passkey factor for `identity` in `service` and verifies it with a
/// registration that reports `credProps.rk: true` and `minPinLength` 6; returns
/// the verification's answer.
async fn register_reporting_outputs(
    h: &Harness,
    service: &str,
    identity: &str,
    seed: u64,
) -> crate::support::Reply {
    let factor = h
        .post_json(
            &format!("/v2/Services/{service}/Passkeys/Factors"),
            &json!({"identity": identity, "friendly_name": "Key"}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.json);
    let response = registration(
        seed,
        &factor.json["options"],
        vec![("minPinLength".into(), ciborium::Value::Integer(6.into()))],
        json!({"credProps": {"rk": true}}),
    );
    let verified = h
        .post_json(
            &format!("/v2/Services/{service}/Passkeys/VerifyFactor"),
            &response,
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(verified.json["status"], "verified");
    verified
}

#[tokio::test]
async fn a_verified_factor_shows_the_reported_rk_and_min_pin_length() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &with_rp(&[
                ("Passkeys.Extensions.CredProps", "true"),
                ("Passkeys.Extensions.MinPinLength", "true"),
            ]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let service = created.str("sid");
    let verified = register_reporting_outputs(&h, &service, "outputs-user-1", 81).await;
    let expected = json!({"cred_props_rk": true, "min_pin_length": 6});
    assert_eq!(
        verified.json["config"]["extension_outputs"], expected,
        "{}",
        verified.json
    );
    // Beside the service's block, which the factor's config still is.
    assert_eq!(
        verified.json["config"]["relying_party"]["id"],
        "example.com"
    );
    assert_eq!(
        verified.json["config"]["extensions"],
        json!({"cred_props": true, "min_pin_length": true})
    );
    // Fetched and listed alike.
    let url = verified.str("url");
    let path = url
        .split_once("/v2/")
        .map(|(_, rest)| format!("/v2/{rest}"))
        .unwrap();
    let fetched = h.get(&path).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
    assert_eq!(fetched.json["config"]["extension_outputs"], expected);
    let listed = h
        .get(&format!(
            "/v2/Services/{service}/Entities/outputs-user-1/Factors"
        ))
        .await;
    assert_eq!(
        listed.json["factors"][0]["config"]["extension_outputs"], expected,
        "{}",
        listed.json
    );
}

#[tokio::test]
async fn outputs_of_extensions_not_requested_are_not_shown() {
    let h = Harness::new();
    let created = h.post("/v2/Services", &with_rp(&[])).await;
    let service = created.str("sid");
    let verified = register_reporting_outputs(&h, &service, "outputs-user-2", 82).await;
    assert!(
        verified.json["config"].get("extension_outputs").is_none(),
        "{}",
        verified.json
    );
    let fetched = h
        .get(&format!(
            "/v2/Services/{service}/Entities/outputs-user-2/Factors"
        ))
        .await;
    assert!(
        fetched.json["factors"][0]["config"]
            .get("extension_outputs")
            .is_none(),
        "{}",
        fetched.json
    );
}

#[tokio::test]
async fn sign_in_challenges_carry_the_services_hints_and_nothing_without_them() {
    let h = Harness::new();
    for (params, expected) in [
        (
            vec![("Passkeys.Hints", "client-device,security-key")],
            Some(json!(["client-device", "security-key"])),
        ),
        (vec![], None),
    ] {
        let created = h.post("/v2/Services", &with_rp(&params)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        let service = created.str("sid");
        let identity = "hints-user-1";
        let verified = register_reporting_outputs(&h, &service, identity, 83).await;
        let factor = verified.str("sid");
        let base = format!("/v2/Services/{service}");
        let mut answers = Vec::new();
        for body in [
            json!({"identity": identity}),
            json!({"identity": identity, "factor_sid": factor}),
            json!({}),
        ] {
            let reply = h
                .post_json(&format!("{base}/Passkeys/Challenges"), &body)
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
            answers.push(reply);
        }
        // The generic challenge creation with a passkey FactorSid, and a fetch.
        let generic = h
            .post(
                &format!("{base}/Entities/{identity}/Challenges"),
                &[("FactorSid", &factor)],
            )
            .await;
        assert_eq!(generic.status, StatusCode::CREATED, "{}", generic.json);
        let fetched = h
            .get(&format!(
                "{base}/Entities/{identity}/Challenges/{}",
                answers[0].str("sid")
            ))
            .await;
        assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
        answers.push(generic);
        answers.push(fetched);
        for reply in &answers {
            let options = &reply.json["options"]["publicKey"];
            assert!(options["challenge"].is_string(), "{}", reply.json);
            assert_eq!(options.get("hints"), expected.as_ref(), "{}", reply.json);
        }
    }
}
