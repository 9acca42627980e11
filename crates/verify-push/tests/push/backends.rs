//! The signature backends by name: the SDK vectors and random signatures (valid,
//! high-S, tampered, garbage) give the same verdict through [`RustCrypto`] and, with
//! the `ring` feature, through `Ring`. The rest of the suite runs through
//! [`DefaultBackend`], so CI runs it once per backend (`cargo test -p verify-push`
//! and with `--features ring`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::elliptic_curve::ops::Neg as _;
use p256::elliptic_curve::scalar::IsHigh as _;
use proptest::prelude::*;
use verify_push::crypto::{Backend, RustCrypto};
use verify_push::{DeviceKey, FactorError, JwsError, PushError};

use crate::device::Device;
use crate::vectors;

/// The SDK vectors, and one-byte changes to them, through backend `B`.
fn check_vectors<B: Backend>(name: &str) {
    let v = vectors::load();
    let key = DeviceKey::from_binding(&v.binding_public_key, "ES256").unwrap();
    let factor_sig = STANDARD
        .decode(&v.factor_verification.auth_payload)
        .unwrap();
    let (input, sig) = v.challenge_approval.auth_payload.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let sid = v.factor_verification.factor_sid.as_bytes();
    assert_eq!(key.verify_der_with::<B>(sid, &factor_sig), Ok(()), "{name}");
    assert_eq!(
        key.verify_raw_with::<B>(input.as_bytes(), &raw),
        Ok(()),
        "{name}"
    );
    // One byte of the message or the signature changed: refused.
    assert_eq!(
        key.verify_der_with::<B>(b"YF00000000000000000000000000000002", &factor_sig),
        Err(PushError::SignatureInvalid),
        "{name}"
    );
    let mut flipped = raw.clone();
    flipped[40] ^= 0x01;
    assert_eq!(
        key.verify_raw_with::<B>(input.as_bytes(), &flipped),
        Err(PushError::SignatureInvalid),
        "{name}"
    );
    // Encoding errors are decided before any backend runs, identically.
    assert_eq!(
        key.verify_der_with::<B>(sid, &raw),
        Err(FactorError::NotDerSignature.into()),
        "{name}"
    );
    assert_eq!(
        key.verify_raw_with::<B>(input.as_bytes(), &raw[..60]),
        Err(JwsError::SignatureLength { length: 60 }.into()),
        "{name}"
    );
    assert_eq!(
        key.verify_raw_with::<B>(input.as_bytes(), &[0; 64]),
        Err(PushError::SignatureInvalid),
        "{name}"
    );
}

#[test]
fn the_sdk_vectors_verify_through_every_backend() {
    check_vectors::<RustCrypto>("RustCrypto");
    #[cfg(feature = "ring")]
    check_vectors::<verify_push::crypto::Ring>("ring");
}

/// `(r, n - s)`: the high-S twin of a signature, as an SDK that does not normalize
/// may send.
fn high_s_twin(sig: &p256::ecdsa::Signature) -> Vec<u8> {
    let (r, s) = sig.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r, s.as_ref().neg()).unwrap();
    twin.to_bytes().to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn backends_agree_on_random_signatures(
        seed in any::<u64>(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        flip in any::<(u8, u8)>(),
        garbage in proptest::collection::vec(any::<u8>(), 64),
    ) {
        let mut device = Device::new(seed);
        let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
        let sig = device.raw(&message);
        let raw = sig.to_bytes().to_vec();
        let twin = high_s_twin(&sig);
        prop_assert!(bool::from(sig.s().is_high()) != bool::from(p256::ecdsa::Signature::from_slice(&twin).unwrap().s().is_high()));
        let mut tampered = raw.clone();
        let index = usize::from(flip.0) % tampered.len();
        tampered[index] ^= flip.1 | 1;
        let mut cases = vec![(raw, true), (twin, true), (tampered, false)];
        cases.push((garbage, false));
        for (bytes, valid) in cases {
            let reference = key.verify_raw_with::<RustCrypto>(&message, &bytes);
            prop_assert_eq!(reference.is_ok(), valid);
            #[cfg(feature = "ring")]
            prop_assert_eq!(
                key.verify_raw_with::<verify_push::crypto::Ring>(&message, &bytes),
                reference
            );
        }
    }
}
