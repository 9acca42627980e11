//! A service's passkey restrictions (issue 17): refusing backup-eligible (synced)
//! credentials, AAGUID allow- and deny-lists at registration, and cross-origin
//! ceremonies with their top origins. The software authenticator's `none`
//! attestation signs nothing, so its authenticator data and client data are edited
//! here to carry a BE flag, another AAGUID, or a cross-origin client.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use verify_engine::{ServiceSettings, VerifyError};
use verify_model::config::{Aaguid, PasskeyRestrictions};
use verify_model::{FactorStatus, Identity, PasskeysConfig, RelyingParty, ServiceSid};
use verify_webauthn::WebauthnError;

use crate::passkeys::{Authenticator, ORIGIN, RP_ID};
use crate::support::{Harness, block_on};

const BE: u8 = 0x08;
const LISTED: [u8; 16] = [0x5a; 16];

fn config(restrictions: PasskeyRestrictions) -> PasskeysConfig {
    let mut config =
        PasskeysConfig::new(RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap());
    config.restrictions = restrictions;
    config
}

fn restrictions(
    refuse_backup_eligible: bool,
    allow: &[[u8; 16]],
    deny: &[[u8; 16]],
    cross_origin: Option<Vec<String>>,
) -> PasskeyRestrictions {
    PasskeyRestrictions::new_checked(
        refuse_backup_eligible,
        allow.iter().copied().map(Aaguid::from_bytes).collect(),
        deny.iter().copied().map(Aaguid::from_bytes).collect(),
        cross_origin.is_some(),
        cross_origin.unwrap_or_default(),
    )
    .unwrap()
}

async fn service_with(h: &Harness, restrictions: PasskeyRestrictions) -> ServiceSid {
    h.verify
        .create_service(
            "Owl Bank",
            &ServiceSettings::new().with_passkeys(config(restrictions)),
        )
        .await
        .unwrap()
        .sid()
}

/// A new passkey factor's registration response from authenticator `seed`, its
/// authenticator data edited by `edit` (a `none` attestation: nothing signs it).
async fn response(
    h: &Harness,
    service: ServiceSid,
    seed: u64,
    edit: impl Fn(&mut [u8]),
) -> (verify_model::FactorSid, String) {
    let identity = Identity::parse(&format!("restricted-{seed}")).unwrap();
    let created = h
        .verify
        .create_passkey_factor(service, &identity, "Key")
        .await
        .unwrap();
    let plain = Authenticator::new(seed).create(&created.options, ORIGIN);
    (created.factor.sid(), edit_auth_data(&plain, edit))
}

fn edit_auth_data(response: &str, edit: impl Fn(&mut [u8])) -> String {
    let mut json: serde_json::Value = serde_json::from_str(response).unwrap();
    let bytes = URL_SAFE_NO_PAD
        .decode(json["response"]["attestationObject"].as_str().unwrap())
        .unwrap();
    let ciborium::Value::Map(mut entries) =
        ciborium::de::from_reader::<ciborium::Value, _>(bytes.as_slice()).unwrap()
    else {
        panic!("an attestation object is a map");
    };
    for (key, value) in &mut entries {
        if key.as_text() == Some("authData") {
            let ciborium::Value::Bytes(auth_data) = value else {
                panic!("authData is bytes");
            };
            edit(auth_data);
        }
    }
    let mut out = Vec::new();
    ciborium::ser::into_writer(&ciborium::Value::Map(entries), &mut out).unwrap();
    json["response"]["attestationObject"] = URL_SAFE_NO_PAD.encode(&out).into();
    json.to_string()
}

fn set_backup_eligible(auth_data: &mut [u8]) {
    auth_data[32] |= BE;
}

fn set_aaguid(aaguid: [u8; 16]) -> impl Fn(&mut [u8]) {
    move |auth_data| auth_data[37..53].copy_from_slice(&aaguid)
}

/// `response` with its client data replaced by a cross-origin one (`topOrigin`
/// when given).
fn cross_origin(response: &str, top_origin: Option<&str>) -> String {
    let mut json: serde_json::Value = serde_json::from_str(response).unwrap();
    let client_data = URL_SAFE_NO_PAD
        .decode(json["response"]["clientDataJSON"].as_str().unwrap())
        .unwrap();
    let mut client: serde_json::Value = serde_json::from_slice(&client_data).unwrap();
    client["crossOrigin"] = true.into();
    if let Some(top) = top_origin {
        client["topOrigin"] = top.into();
    }
    json["response"]["clientDataJSON"] = URL_SAFE_NO_PAD.encode(client.to_string()).into();
    json.to_string()
}

async fn verify(h: &Harness, service: ServiceSid, response: &str) -> Result<(), VerifyError> {
    h.verify
        .verify_passkey_factor_response(service, response)
        .await
        .map(|factor| assert_eq!(factor.status(), FactorStatus::Verified))
}

fn webauthn(result: Result<(), VerifyError>) -> WebauthnError {
    match result {
        Err(VerifyError::Webauthn(error)) => error,
        other => panic!("expected a WebAuthn refusal, got {other:?}"),
    }
}

#[test]
fn backup_eligible_credentials_are_refused_only_when_the_service_says_so() {
    let h = Harness::new(81);
    block_on(async {
        let default = service_with(&h, PasskeyRestrictions::new()).await;
        let (_, synced) = response(&h, default, 810, set_backup_eligible).await;
        verify(&h, default, &synced).await.unwrap();

        let strict = service_with(&h, restrictions(true, &[], &[], None)).await;
        let (sid, synced) = response(&h, strict, 811, set_backup_eligible).await;
        assert!(matches!(
            webauthn(verify(&h, strict, &synced).await),
            WebauthnError::BackupEligibleRefused
        ));
        // A failed attempt; the factor stays unverified.
        let identity = Identity::parse("restricted-811").unwrap();
        let factor = h.verify.fetch_factor(strict, &identity, sid).await.unwrap();
        assert_eq!(factor.status(), FactorStatus::Unverified);
        assert_eq!(factor.failed_verification_attempts(), 1);
        // A device-bound credential registers.
        let (_, bound) = response(&h, strict, 812, |_| {}).await;
        verify(&h, strict, &bound).await.unwrap();
    });
}

#[test]
fn a_denied_aaguid_is_refused_even_unsigned() {
    let h = Harness::new(82);
    block_on(async {
        let service = service_with(&h, restrictions(false, &[], &[LISTED], None)).await;
        let (_, denied) = response(&h, service, 820, set_aaguid(LISTED)).await;
        let refused = webauthn(verify(&h, service, &denied).await);
        assert!(
            matches!(&refused, WebauthnError::AaguidDenied { aaguid }
                if *aaguid == Aaguid::from_bytes(LISTED).to_string()),
            "{refused:?}"
        );
        // The authenticator's own (all-zero) AAGUID is not denied.
        let (_, other) = response(&h, service, 821, |_| {}).await;
        verify(&h, service, &other).await.unwrap();
    });
}

#[test]
fn an_allow_list_grants_nothing_to_an_unsigned_aaguid() {
    let h = Harness::new(83);
    block_on(async {
        let service = service_with(&h, restrictions(false, &[LISTED], &[], None)).await;
        // Listed, but `none` attestation signs no AAGUID: refused.
        let (_, listed) = response(&h, service, 830, set_aaguid(LISTED)).await;
        let refused = webauthn(verify(&h, service, &listed).await);
        assert!(
            matches!(&refused, WebauthnError::AaguidNotAllowed { aaguid, attested: false }
                if *aaguid == Aaguid::from_bytes(LISTED).to_string()),
            "{refused:?}"
        );
        let (_, unlisted) = response(&h, service, 831, |_| {}).await;
        assert!(matches!(
            webauthn(verify(&h, service, &unlisted).await),
            WebauthnError::AaguidNotAllowed {
                attested: false,
                ..
            }
        ));
    });
}

#[test]
fn restrictions_set_after_a_factor_was_created_apply_to_its_registration() {
    let h = Harness::new(84);
    block_on(async {
        let service = service_with(&h, PasskeyRestrictions::new()).await;
        let (_, synced) = response(&h, service, 840, set_backup_eligible).await;
        h.verify
            .update_service(
                service,
                &ServiceSettings::new().with_passkeys(config(restrictions(true, &[], &[], None))),
            )
            .await
            .unwrap();
        assert!(matches!(
            webauthn(verify(&h, service, &synced).await),
            WebauthnError::BackupEligibleRefused
        ));
    });
}

#[test]
fn cross_origin_ceremonies_follow_the_service() {
    let h = Harness::new(85);
    block_on(async {
        let default = service_with(&h, PasskeyRestrictions::new()).await;
        let (_, plain) = response(&h, default, 850, |_| {}).await;
        assert!(matches!(
            webauthn(verify(&h, default, &cross_origin(&plain, None)).await),
            WebauthnError::CrossOriginRejected { .. }
        ));

        let top = "https://portal.example.net";
        let allowing = service_with(
            &h,
            restrictions(false, &[], &[], Some(vec![top.to_owned()])),
        )
        .await;
        let (_, plain) = response(&h, allowing, 851, |_| {}).await;
        assert!(matches!(
            webauthn(
                verify(
                    &h,
                    allowing,
                    &cross_origin(&plain, Some("https://evil.example"))
                )
                .await
            ),
            WebauthnError::TopOriginMismatch { .. }
        ));
        verify(&h, allowing, &cross_origin(&plain, Some(top)))
            .await
            .unwrap();

        // Any top origin when none is listed.
        let any = service_with(&h, restrictions(false, &[], &[], Some(vec![]))).await;
        let (_, plain) = response(&h, any, 852, |_| {}).await;
        verify(
            &h,
            any,
            &cross_origin(&plain, Some("https://anywhere.example")),
        )
        .await
        .unwrap();
    });
}

#[test]
fn a_top_origin_that_is_no_web_origin_is_refused_when_configured() {
    let h = Harness::new(86);
    block_on(async {
        for bad in [
            "ftp://portal.example.net",
            "https://portal.example.net/path",
            "ios:bundle-id:com.example.app",
        ] {
            let refused = h
                .verify
                .create_service(
                    "Owl Bank",
                    &ServiceSettings::new().with_passkeys(config(restrictions(
                        false,
                        &[],
                        &[],
                        Some(vec![bad.to_owned()]),
                    ))),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(refused, VerifyError::PasskeysConfigInvalid { .. }),
                "{bad}: {refused:?}"
            );
        }
    });
}
