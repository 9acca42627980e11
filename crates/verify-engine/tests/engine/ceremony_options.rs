//! A service's passkey ceremony options (issue 17): attestation conveyance, hints,
//! attestation formats and the registration extensions reach the creation options,
//! and an enforced `credProtect` level is checked against the signed authenticator
//! data when the factor is verified; the outputs reported are stored on the factor,
//! and the service's hints reach the sign-in challenges' request options too.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use verify_engine::{ServiceSettings, VerifyError};
use verify_model::config::{
    AttestationConveyance, AttestationFormat, AttestationFormats, CredProtect,
    CredentialProtection, PasskeyExtensionOutputs, PasskeyExtensions, PasskeyHint, PasskeyHints,
};
use verify_model::{
    ChallengeOutcome, Factor, FactorKind, FactorStatus, Identity, PasskeysConfig, RelyingParty,
    ServiceSid,
};
use verify_webauthn::WebauthnError;

use crate::passkeys::{Authenticator, ORIGIN, RP_ID};
use crate::support::{Harness, block_on, request_options};

/// The ED flag of authenticator data: an extensions map follows.
const ED: u8 = 0x80;

fn config() -> PasskeysConfig {
    PasskeysConfig::new(RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap())
}

async fn service_with(h: &Harness, config: PasskeysConfig) -> ServiceSid {
    h.verify
        .create_service("Owl Bank", &ServiceSettings::new().with_passkeys(config))
        .await
        .unwrap()
        .sid()
}

fn cred_protect_config(level: CredentialProtection, enforce: bool) -> PasskeysConfig {
    let mut config = config();
    config.extensions =
        PasskeyExtensions::new().with_cred_protect(Some(CredProtect::new(level, enforce)));
    config
}

/// `response` (a `none` attestation, whose authenticator data nothing signs) with
/// `extensions` appended to its authenticator data as the CBOR extensions map, and
/// `client_results` as its `clientExtensionResults`.
fn with_extension_outputs(
    response: &str,
    extensions: Vec<(ciborium::Value, ciborium::Value)>,
    client_results: serde_json::Value,
) -> String {
    let mut json: serde_json::Value = serde_json::from_str(response).unwrap();
    let object_bytes = URL_SAFE_NO_PAD
        .decode(json["response"]["attestationObject"].as_str().unwrap())
        .unwrap();
    let object: ciborium::Value = ciborium::de::from_reader(object_bytes.as_slice()).unwrap();
    let ciborium::Value::Map(mut entries) = object else {
        panic!("an attestation object is a map");
    };
    for (key, value) in &mut entries {
        if key.as_text() == Some("authData") {
            let ciborium::Value::Bytes(auth_data) = value else {
                panic!("authData is bytes");
            };
            if !extensions.is_empty() {
                auth_data[32] |= ED;
                ciborium::ser::into_writer(
                    &ciborium::Value::Map(extensions.clone()),
                    &mut *auth_data,
                )
                .unwrap();
            }
        }
    }
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&ciborium::Value::Map(entries), &mut bytes).unwrap();
    json["response"]["attestationObject"] = URL_SAFE_NO_PAD.encode(&bytes).into();
    json["clientExtensionResults"] = client_results;
    json.to_string()
}

fn cred_protect_output(level: u8) -> Vec<(ciborium::Value, ciborium::Value)> {
    vec![("credProtect".into(), ciborium::Value::Integer(level.into()))]
}

#[test]
fn a_default_service_serves_the_options_it_always_did() {
    let h = Harness::new(71);
    block_on(async {
        let service = service_with(&h, config()).await;
        let identity = Identity::parse("ceremony-default").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        let options = &created.options["publicKey"];
        assert_eq!(options["attestation"], "none");
        for absent in ["hints", "attestationFormats", "extensions"] {
            assert!(options.get(absent).is_none(), "{absent} in {options}");
        }
    });
}

#[test]
fn the_services_ceremony_options_reach_the_creation_options() {
    let h = Harness::new(72);
    block_on(async {
        let mut config = config();
        config.attestation_conveyance = AttestationConveyance::Direct;
        config.hints =
            PasskeyHints::new(vec![PasskeyHint::SecurityKey, PasskeyHint::Hybrid]).unwrap();
        config.attestation_formats =
            AttestationFormats::new(vec![AttestationFormat::Packed, AttestationFormat::Tpm])
                .unwrap();
        config.extensions = PasskeyExtensions::new()
            .with_cred_props(true)
            .with_cred_protect(Some(CredProtect::new(
                CredentialProtection::UserVerificationOptionalWithCredentialIdList,
                true,
            )))
            .with_min_pin_length(true);
        let service = service_with(&h, config.clone()).await;
        assert_eq!(
            h.verify.fetch_service(service).await.unwrap().passkeys(),
            Some(&config)
        );
        let identity = Identity::parse("ceremony-options").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        let options = &created.options["publicKey"];
        assert_eq!(options["attestation"], "direct");
        assert_eq!(options["hints"], json!(["security-key", "hybrid"]));
        assert_eq!(options["attestationFormats"], json!(["packed", "tpm"]));
        assert_eq!(
            options["extensions"],
            json!({
                "credProps": true,
                "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
                "enforceCredentialProtectionPolicy": true,
                "minPinLength": true,
            })
        );
        // The requested outputs are accepted when present and well-formed.
        let response = with_extension_outputs(
            &Authenticator::new(72).create(&created.options, ORIGIN),
            vec![
                ("credProtect".into(), ciborium::Value::Integer(2.into())),
                ("minPinLength".into(), ciborium::Value::Integer(6.into())),
            ],
            json!({"credProps": {"rk": true}}),
        );
        let factor = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);
        // The reported rk and minimum PIN length are stored on the factor.
        let stored = h
            .verify
            .fetch_factor(service, &identity, factor.sid())
            .await
            .unwrap();
        assert_eq!(
            extension_outputs(&stored),
            PasskeyExtensionOutputs::new()
                .with_cred_props_rk(Some(true))
                .with_min_pin_length(Some(6))
        );
        assert_eq!(stored, factor);
    });
}

/// The extension outputs a verified passkey factor's credential record keeps.
fn extension_outputs(factor: &Factor) -> PasskeyExtensionOutputs {
    let FactorKind::Passkeys(passkey) = factor.kind() else {
        panic!("not a passkey factor: {factor:?}");
    };
    passkey.credential().unwrap().extension_outputs
}

#[test]
fn reported_outputs_are_stored_only_for_requested_extensions() {
    let h = Harness::new(76);
    block_on(async {
        let mut rk_only = config();
        rk_only.extensions = PasskeyExtensions::new().with_cred_props(true);
        let mut pin_only = config();
        pin_only.extensions = PasskeyExtensions::new().with_min_pin_length(true);
        let both = PasskeyExtensionOutputs::new()
            .with_cred_props_rk(Some(false))
            .with_min_pin_length(Some(4));
        for (seed, config, expected) in [
            (
                0,
                rk_only,
                PasskeyExtensionOutputs::new().with_cred_props_rk(Some(false)),
            ),
            (
                1,
                pin_only,
                PasskeyExtensionOutputs::new().with_min_pin_length(Some(4)),
            ),
            (2, config(), PasskeyExtensionOutputs::new()),
        ] {
            let service = service_with(&h, config).await;
            let identity = Identity::parse("ceremony-outputs").unwrap();
            let created = h
                .verify
                .create_passkey_factor(service, &identity, "Key")
                .await
                .unwrap();
            // The authenticator reports both, whatever was requested.
            let response = with_extension_outputs(
                &Authenticator::new(760 + seed).create(&created.options, ORIGIN),
                vec![("minPinLength".into(), ciborium::Value::Integer(4.into()))],
                json!({"credProps": {"rk": false}}),
            );
            let factor = h
                .verify
                .verify_passkey_factor_response(service, &response)
                .await
                .unwrap();
            assert_eq!(extension_outputs(&factor), expected);
            assert_ne!(extension_outputs(&factor), both);
        }
    });
}

#[test]
fn an_enforced_cred_protect_level_refuses_a_weaker_registration() {
    let h = Harness::new(73);
    block_on(async {
        let service = service_with(
            &h,
            cred_protect_config(CredentialProtection::UserVerificationRequired, true),
        )
        .await;
        let identity = Identity::parse("ceremony-enforced").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        let plain = Authenticator::new(73).create(&created.options, ORIGIN);
        // A lower level in the signed authenticator data, and no level at all, are
        // refused; each counts a failed attempt and leaves the factor unverified.
        for extensions in [cred_protect_output(1), cred_protect_output(2), vec![]] {
            let response = with_extension_outputs(&plain, extensions, json!({}));
            let refused = h
                .verify
                .verify_passkey_factor_response(service, &response)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    refused,
                    VerifyError::Webauthn(WebauthnError::ExtensionRequirementNotMet {
                        extension: "credProtect",
                        ..
                    })
                ),
                "{refused:?}"
            );
        }
        let factor = h
            .verify
            .fetch_factor(service, &identity, created.factor.sid())
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Unverified);
        // The level asked for passes.
        let response = with_extension_outputs(&plain, cred_protect_output(3), json!({}));
        let factor = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);
    });
}

#[test]
fn an_unenforced_cred_protect_level_accepts_what_the_authenticator_gives() {
    let h = Harness::new(74);
    block_on(async {
        let service = service_with(
            &h,
            cred_protect_config(CredentialProtection::UserVerificationRequired, false),
        )
        .await;
        let identity = Identity::parse("ceremony-unenforced").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        assert_eq!(
            created.options["publicKey"]["extensions"]["enforceCredentialProtectionPolicy"],
            false
        );
        let response = with_extension_outputs(
            &Authenticator::new(74).create(&created.options, ORIGIN),
            cred_protect_output(1),
            json!({}),
        );
        let factor = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);
    });
}

#[test]
fn a_malformed_cred_props_output_is_refused_only_when_requested() {
    let h = Harness::new(75);
    block_on(async {
        let mut requested = config();
        requested.extensions = PasskeyExtensions::new().with_cred_props(true);
        for (config, refused) in [(requested, true), (config(), false)] {
            let service = service_with(&h, config).await;
            let identity = Identity::parse("ceremony-cred-props").unwrap();
            let created = h
                .verify
                .create_passkey_factor(service, &identity, "Key")
                .await
                .unwrap();
            let response = with_extension_outputs(
                &Authenticator::new(75).create(&created.options, ORIGIN),
                vec![],
                json!({"credProps": {"rk": "yes"}}),
            );
            let result = h
                .verify
                .verify_passkey_factor_response(service, &response)
                .await;
            assert_eq!(
                matches!(
                    result,
                    Err(VerifyError::Webauthn(
                        WebauthnError::ExtensionOutputMalformed { .. }
                    ))
                ),
                refused,
                "{result:?}"
            );
        }
    });
}

#[test]
fn the_services_hints_reach_every_sign_in_challenges_options() {
    let h = Harness::new(77);
    block_on(async {
        let mut hinted = config();
        hinted.hints =
            PasskeyHints::new(vec![PasskeyHint::ClientDevice, PasskeyHint::Hybrid]).unwrap();
        for (config, expected) in [
            (hinted, Some(json!(["client-device", "hybrid"]))),
            (config(), None),
        ] {
            let service = service_with(&h, config).await;
            let identity = Identity::parse("ceremony-hints").unwrap();
            let authenticator = Authenticator::new(77);
            let created = h
                .verify
                .create_passkey_factor(service, &identity, "Key")
                .await
                .unwrap();
            let factor = h
                .verify
                .verify_passkey_factor_response(
                    service,
                    authenticator.create(&created.options, ORIGIN),
                )
                .await
                .unwrap();
            let by_identity = h
                .verify
                .create_passkey_challenge(service, Some(&identity), None, None)
                .await
                .unwrap()
                .challenge;
            let by_factor = h
                .verify
                .create_passkey_challenge(service, Some(&identity), Some(factor.sid()), None)
                .await
                .unwrap()
                .challenge;
            let usernameless = h
                .verify
                .create_passkey_challenge(service, None, None, None)
                .await
                .unwrap()
                .challenge;
            for challenge in [&by_identity, &by_factor, &usernameless] {
                let options = request_options(challenge);
                assert_eq!(
                    options["publicKey"].get("hints"),
                    expected.as_ref(),
                    "{options}"
                );
            }
            // The stored challenge serves the same options, and its assertion approves.
            let stored = h
                .verify
                .fetch_challenge(service, &identity, by_identity.sid())
                .await
                .unwrap();
            assert_eq!(request_options(&stored), request_options(&by_identity));
            let assertion = authenticator.get(
                &request_options(&stored),
                ORIGIN,
                1,
                factor.entity_sid().to_string().as_bytes(),
            );
            let approved = h
                .verify
                .approve_passkey_challenge(service, stored.sid(), &assertion)
                .await
                .unwrap();
            assert_eq!(approved.outcome, ChallengeOutcome::Approved);
        }
    });
}
