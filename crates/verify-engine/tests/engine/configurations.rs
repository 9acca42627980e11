//! Random service configurations through the TOTP and push operations (the passkeys
//! configurations have their own property in passkeys.rs): every configuration the
//! service accepts runs enrollment, verification, a challenge and its approval to
//! the end, and every one it refuses is refused with a 4xx. No stored
//! configuration can lead to a 5xx later.

use hmac::{Hmac, Mac as _};
use proptest::prelude::*;
use verify_engine::{NewChallengeRequest, NewPushFactor, NewTotpFactor, ServiceSettings};
use verify_model::service::{PushServiceConfig, TotpServiceConfig};
use verify_model::{ChallengeOutcome, Details, FactorStatus, Identity, TotpParams};

use crate::push::payload;
use crate::support::{Device, Harness, block_on};
use crate::totp::uri_secret;

/// RFC 6238 with HMAC-SHA-1 (the service default algorithm) for any digits and
/// period, computed here, independently of verify-totp.
fn code(secret: &[u8], unix_seconds: u64, digits: u8, period: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&(unix_seconds / period).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    let modulus = 10_u64.pow(u32::from(digits));
    format!(
        "{:0width$}",
        u64::from(value) % modulus,
        width = usize::from(digits)
    )
}

fn issuer() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("Owl Bank".to_owned())),
        Just(Some("Öwl: Bänk & Co / 2".to_owned())),
        Just(Some("a\u{0}b".to_owned())),
        "[ -~]{1,80}".prop_map(Some),
    ]
}

fn credential_sid() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("CR00000000000000000000000000000000".to_owned())),
        "[ -~]{1,80}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any TOTP block the service accepts enrolls an authenticator app, verifies it
    /// with a code of that block's parameters and approves a challenge with the next
    /// one; a refused block is a 4xx.
    #[test]
    fn every_accepted_totp_configuration_runs_every_totp_operation(
        // Mostly inside the documented ranges, so accepted blocks are common.
        code_length in prop_oneof![4 => 3_u8..=8, 1 => any::<u8>()],
        time_step in prop_oneof![4 => 20_u8..=60, 1 => any::<u8>()],
        skew in prop_oneof![4 => 0_u8..=2, 1 => any::<u8>()],
        issuer in issuer(),
    ) {
        let h = Harness::new(61);
        block_on(async {
            let Ok(params) = TotpParams::new(code_length, time_step, skew) else {
                return;
            };
            let Ok(totp) = TotpServiceConfig::new(issuer.as_deref(), params) else {
                return;
            };
            let settings = ServiceSettings::new().with_totp(totp);
            let service = match h.verify.create_service("Owl", &settings).await {
                Ok(service) => service.sid(),
                Err(error) => {
                    assert!(error.http_status() < 500, "{error:?}");
                    return;
                }
            };
            let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
            let created = h
                .verify
                .create_totp_factor(service, &identity, NewTotpFactor::new("jane@owl"))
                .await
                .unwrap();
            let secret = uri_secret(&created.uri);
            let period = u64::from(time_step);
            let now = h.now().as_secs();
            let verified = h
                .verify
                .verify_factor(
                    service,
                    &identity,
                    created.factor.sid(),
                    &code(&secret, now, code_length, period),
                )
                .await
                .unwrap();
            assert_eq!(verified.status(), FactorStatus::Verified);
            // The next window's code approves a challenge (the verifying one is used).
            h.advance(period);
            let approved = h
                .verify
                .create_challenge(
                    service,
                    &identity,
                    verified.sid(),
                    NewChallengeRequest::new()
                        .with_auth_payload(&code(&secret, now + period, code_length, period)),
                )
                .await
                .unwrap();
            assert_eq!(approved.outcome, ChallengeOutcome::Approved);
        });
    }

    /// Any push block the service accepts enrolls a device with an access token,
    /// verifies the factor by its signature and approves a challenge by a signed
    /// answer; a refused block is a 4xx.
    #[test]
    fn every_accepted_push_configuration_runs_every_push_operation(
        include_date in any::<bool>(),
        apn in credential_sid(),
        fcm in credential_sid(),
        seed in any::<u64>(),
    ) {
        let h = Harness::new(62);
        block_on(async {
            let mut push = PushServiceConfig::default();
            push.include_date = include_date;
            push.apn_credential_sid = apn.clone();
            push.fcm_credential_sid = fcm.clone();
            let settings = ServiceSettings::new().with_push(push);
            let service = match h.verify.create_service("Owl", &settings).await {
                Ok(service) => service.sid(),
                Err(error) => {
                    assert!(error.http_status() < 500, "{apn:?} {fcm:?}: {error:?}");
                    return;
                }
            };
            let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
            let device = Device::new(seed);
            let token = h
                .verify
                .create_access_token(service, &identity, None, None)
                .await
                .unwrap();
            let factor = h
                .verify
                .create_push_factor(
                    service,
                    &identity,
                    token.credential(),
                    NewPushFactor::new("phone", &device.binding(), "com.owl.bank"),
                )
                .await
                .unwrap();
            let factor = h
                .verify
                .verify_factor(
                    service,
                    &identity,
                    factor.sid(),
                    &device.sign_factor(&factor.sid().to_string()),
                )
                .await
                .unwrap();
            assert_eq!(factor.status(), FactorStatus::Verified);
            let created = h
                .verify
                .create_challenge(
                    service,
                    &identity,
                    factor.sid(),
                    NewChallengeRequest::new()
                        .with_details(Details::new("Log in?", Vec::new()).unwrap()),
                )
                .await
                .unwrap();
            let served = h
                .verify
                .serve_push_challenge(service, &identity, created.challenge.sid())
                .await
                .unwrap();
            let approved = h
                .verify
                .update_challenge(
                    service,
                    &identity,
                    created.challenge.sid(),
                    &device.answer(&payload(&served, "approved")),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(approved.outcome, ChallengeOutcome::Approved);
        });
    }
}
