//! Device request JWTs (docs/push-protocol.md, section 4) signed by a software device.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use verify_model::UnixTime;
use verify_push::{
    DeviceKey, JwsError, PushError, RequestAuthError, RequestJwt, RequestPolicy, http_date,
};

use crate::device::Device;

const KID: &str = "CR0123456789abcdef0123456789abcdef";
const SUB: &str = "AC0123456789abcdef0123456789abcdef";
const NOW: UnixTime = UnixTime::from_secs(1_735_689_600);
const SDK_HEADER: &str = r#"{"cty":"twilio-pba;v=1","kid":"CR0123456789abcdef0123456789abcdef","typ":"JWT","alg":"ES256"}"#;

fn claims(nbf: u64, exp: u64) -> String {
    json!({"sub": SUB, "exp": exp, "nbf": nbf}).to_string()
}

fn basic(jwt: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("token:{jwt}")))
}

fn check(key: &DeviceKey, jwt: &str, now: UnixTime) -> Result<(), PushError> {
    let request = RequestJwt::from_authorization(&basic(jwt))?;
    let kid = request.kid()?;
    request
        .verify(key, kid, SUB, &RequestPolicy::default(), now)
        .map(|_| ())
}

fn setup() -> (Device, DeviceKey) {
    let device = Device::new(11);
    let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
    (device, key)
}

#[test]
fn sdk_request_jwt_is_accepted_in_its_window() {
    let (mut device, key) = setup();
    let now = NOW.as_secs();
    let jwt = device.jws(SDK_HEADER, &claims(now, now + 600));
    let request = RequestJwt::from_authorization(&basic(&jwt)).unwrap();
    assert_eq!(request.kid().unwrap(), KID);
    let authenticated = request
        .verify(&key, KID, SUB, &RequestPolicy::default(), NOW)
        .unwrap();
    assert_eq!(authenticated.credential_sid, KID);
    // Leeway of 60 s on both ends.
    assert!(check(&key, &jwt, UnixTime::from_secs(now - 60)).is_ok());
    assert!(check(&key, &jwt, UnixTime::from_secs(now + 659)).is_ok());
}

#[test]
fn expired_and_early_request_jwts_are_refused() {
    let (mut device, key) = setup();
    let now = NOW.as_secs();
    let jwt = device.jws(SDK_HEADER, &claims(now, now + 600));
    assert_eq!(
        check(&key, &jwt, UnixTime::from_secs(now + 660)),
        Err(PushError::RequestAuth(RequestAuthError::Expired {
            expired_at: UnixTime::from_secs(now + 600),
            now: UnixTime::from_secs(now + 660)
        }))
    );
    assert!(matches!(
        check(&key, &jwt, UnixTime::from_secs(now - 61)),
        Err(PushError::RequestAuth(RequestAuthError::NotYetValid { .. }))
    ));
    // The host answers 401 with a Date header so the SDK corrects its clock.
    assert_eq!(http_date(NOW), "Wed, 01 Jan 2025 00:00:00 GMT");
}

#[test]
fn lifetime_is_capped() {
    let (mut device, key) = setup();
    let now = NOW.as_secs();
    for (nbf, exp) in [(now, now + 901), (now, now), (now + 10, now)] {
        let jwt = device.jws(SDK_HEADER, &claims(nbf, exp));
        assert!(
            matches!(
                check(&key, &jwt, NOW),
                Err(PushError::RequestAuth(RequestAuthError::Lifetime {
                    max: 900,
                    ..
                }))
            ),
            "{nbf} {exp}"
        );
    }
    let mut policy = RequestPolicy::default();
    policy.max_lifetime = Duration::from_secs(3600);
    let jwt = device.jws(SDK_HEADER, &claims(now, now + 901));
    assert!(
        RequestJwt::new(&jwt)
            .unwrap()
            .verify(&key, KID, SUB, &policy, NOW)
            .is_ok()
    );
}

#[test]
fn claims_and_header_are_checked() {
    let (mut device, key) = setup();
    let now = NOW.as_secs();
    let other_sub = json!({"sub": "AC1", "exp": now + 600, "nbf": now}).to_string();
    let jwt = device.jws(SDK_HEADER, &other_sub);
    assert_eq!(
        check(&key, &jwt, NOW),
        Err(PushError::RequestAuth(RequestAuthError::SubjectMismatch))
    );
    let no_exp = json!({"sub": SUB, "nbf": now}).to_string();
    let jwt = device.jws(SDK_HEADER, &no_exp);
    assert_eq!(
        check(&key, &jwt, NOW),
        Err(PushError::RequestAuth(RequestAuthError::MissingClaim {
            claim: "exp"
        }))
    );
    let string_nbf = json!({"sub": SUB, "exp": now + 600, "nbf": "now"}).to_string();
    let jwt = device.jws(SDK_HEADER, &string_nbf);
    assert_eq!(
        check(&key, &jwt, NOW),
        Err(PushError::RequestAuth(RequestAuthError::ClaimType {
            claim: "nbf"
        }))
    );
    // Fractional NumericDates are accepted (RFC 7519 §2).
    let fractional = format!(r#"{{"sub":"{SUB}","exp":{}.5,"nbf":{now}.25}}"#, now + 600);
    assert!(check(&key, &device.jws(SDK_HEADER, &fractional), NOW).is_ok());
    let jwt = device.jws(SDK_HEADER, &claims(now, now + 600));
    assert_eq!(
        RequestJwt::new(&jwt)
            .unwrap()
            .verify(&key, "CRother", SUB, &RequestPolicy::default(), NOW),
        Err(PushError::RequestAuth(RequestAuthError::KidMismatch))
    );
    let no_kid = device.jws(r#"{"typ":"JWT","alg":"ES256"}"#, &claims(now, now + 600));
    assert_eq!(
        RequestJwt::new(&no_kid).unwrap().kid(),
        Err(PushError::RequestAuth(RequestAuthError::MissingKid))
    );
    let wrong_cty = device.jws(
        &format!(r#"{{"cty":"other","kid":"{KID}","alg":"ES256"}}"#),
        &claims(now, now + 600),
    );
    assert_eq!(
        check(&key, &wrong_cty, NOW),
        Err(PushError::Jws(JwsError::HeaderMember { member: "cty" }))
    );
    let hs256 = device.jws(
        &format!(r#"{{"kid":"{KID}","alg":"HS256"}}"#),
        &claims(now, now + 600),
    );
    assert!(matches!(
        check(&key, &hs256, NOW),
        Err(PushError::Jws(JwsError::UnsupportedAlg { .. }))
    ));
}

#[test]
fn another_factors_key_is_refused() {
    let (_, key) = setup();
    let mut stranger = Device::new(12);
    let now = NOW.as_secs();
    let jwt = stranger.jws(SDK_HEADER, &claims(now, now + 600));
    assert_eq!(check(&key, &jwt, NOW), Err(PushError::SignatureInvalid));
}
