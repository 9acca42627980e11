//! The service's passkey ceremony options (this server's extension, issue 17):
//! `Passkeys.AttestationConveyance`, `Passkeys.Hints`, `Passkeys.AttestationFormats`
//! and `Passkeys.Extensions.*` are stored, echoed in the `passkeys` block and carried
//! by a passkey factor's creation options; a bad value is 400/60200 and writes
//! nothing.

use axum::http::StatusCode;
use serde_json::json;

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
