//! Factor verification with a software device.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Signer as _;
use verify_model::{FactorSid, UnixTime};
use verify_push::{
    DeviceKey, Encoded, FactorError, FactorStatus, FactorToVerify, PushError, verify_factor,
};

use crate::device::{Device, high_s};

fn setup() -> (Device, DeviceKey, FactorSid) {
    let device = Device::new(1);
    let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
    (device, key, FactorSid::from_bytes([0xa5; 16]))
}

const CREATED: UnixTime = UnixTime::from_secs(1_700_000_000);

#[test]
fn device_proof_verifies_within_the_lifetime() {
    let (device, key, sid) = setup();
    let proof = device.sign_factor(&sid.to_string());
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Unverified, CREATED);
    assert!(verify_factor(&factor, &proof, CREATED).is_ok());
    let last = CREATED.saturating_add(Duration::from_secs(24 * 3600 - 1));
    assert!(verify_factor(&factor, &proof, last).is_ok());
    let end = CREATED.saturating_add(Duration::from_secs(24 * 3600));
    assert_eq!(
        verify_factor(&factor, &proof, end),
        Err(PushError::Factor(FactorError::UnverifiedExpired {
            expired_at: end,
            now: end
        }))
    );
    let short = factor
        .clone()
        .with_unverified_lifetime(Duration::from_secs(3600))
        .unwrap();
    let hour = CREATED.saturating_add(Duration::from_secs(3600));
    assert!(matches!(
        verify_factor(&short, &proof, hour),
        Err(PushError::Factor(FactorError::UnverifiedExpired { .. }))
    ));
    assert!(
        factor
            .clone()
            .with_unverified_lifetime(Duration::from_secs(3599))
            .is_err()
    );
    assert!(
        factor
            .with_unverified_lifetime(Duration::from_secs(24 * 3600 + 1))
            .is_err()
    );
}

#[test]
fn verified_factors_are_refused() {
    let (device, key, sid) = setup();
    let proof = device.sign_factor(&sid.to_string());
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Verified, CREATED);
    assert_eq!(
        verify_factor(&factor, &proof, CREATED),
        Err(PushError::Factor(FactorError::AlreadyVerified))
    );
}

#[test]
fn wrong_key_wrong_sid_and_encodings_are_refused() {
    let (device, key, sid) = setup();
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Unverified, CREATED);
    let stranger = Device::new(2).sign_factor(&sid.to_string());
    assert_eq!(
        verify_factor(&factor, &stranger, CREATED),
        Err(PushError::SignatureInvalid)
    );
    let other_sid = device.sign_factor("YF00000000000000000000000000000000");
    assert_eq!(
        verify_factor(&factor, &other_sid, CREATED),
        Err(PushError::SignatureInvalid)
    );
    // A DER signature of 70 or 71 bytes has padding; find a factor whose proof does.
    let (padded_sid, proof) = (0_u8..=255)
        .map(|i| FactorSid::from_bytes([i; 16]))
        .map(|sid| (sid, device.sign_factor(&sid.to_string())))
        .find(|(_, proof)| proof.ends_with('='))
        .unwrap();
    let padded_factor = FactorToVerify::new(padded_sid, &key, FactorStatus::Unverified, CREATED);
    assert!(verify_factor(&padded_factor, &proof, CREATED).is_ok());
    assert_eq!(
        verify_factor(&padded_factor, proof.trim_end_matches('='), CREATED),
        Err(PushError::Base64 {
            what: Encoded::FactorAuthPayload
        })
    );
    // A raw r || s signature is not what the SDKs send here.
    let raw: Signature = device.key.sign(sid.to_string().as_bytes());
    assert_eq!(
        verify_factor(&factor, &STANDARD.encode(raw.to_bytes()), CREATED),
        Err(PushError::Factor(FactorError::NotDerSignature))
    );
    assert_eq!(
        verify_factor(&factor, "", CREATED),
        Err(PushError::Factor(FactorError::NotDerSignature))
    );
}

#[test]
fn high_s_der_proofs_are_accepted() {
    let (device, key, sid) = setup();
    let sig: Signature = device.key.sign(sid.to_string().as_bytes());
    let high = high_s(&sig);
    assert!(
        high.normalize_s().is_some(),
        "the test signature must be high-S"
    );
    let proof = STANDARD.encode(high.to_der().as_bytes());
    let factor = FactorToVerify::new(sid, &key, FactorStatus::Unverified, CREATED);
    assert!(verify_factor(&factor, &proof, CREATED).is_ok());
}
