//! Fixtures: a seeded RNG, a fixed clock, and one factor of each type.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use verify_model::config::{
    NotificationPlatform, PasskeysConfig, RelyingParty, TotpAlgorithm, TotpParams,
};
use verify_model::factor::{PasskeyCredential, PushBinding, PushConfig};
use verify_model::{
    CredentialSid, EntitySid, Factor, FactorKind, Identity, NewFactor, ServiceSid, TotpSecret,
    UnixTime, VerificationProof,
};

pub(crate) const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub(crate) fn at(offset_secs: u64) -> UnixTime {
    UnixTime::from_secs(NOW.as_secs() + offset_secs)
}

pub(crate) fn identity() -> Identity {
    Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap()
}

pub(crate) fn new_factor(name: &str) -> NewFactor {
    NewFactor::new(
        ServiceSid::from_bytes([0xaa; 16]),
        EntitySid::from_bytes([0xbb; 16]),
        identity(),
        name,
    )
}

/// The SPKI DER of an uncompressed P-256 point (the model checks only its shape).
pub(crate) fn spki(len: usize) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    der.resize(len, 0x11);
    der
}

pub(crate) fn totp_kind(seed: u64) -> FactorKind {
    FactorKind::totp(
        TotpSecret::generate(&mut rng(seed)),
        TotpAlgorithm::Sha1,
        TotpParams::default(),
    )
}

pub(crate) fn push_kind() -> FactorKind {
    let config = PushConfig::new(
        "com.example.app",
        NotificationPlatform::Apn,
        Some(&"a".repeat(64)),
        Some("2.2.0"),
        CredentialSid::from_bytes([0xcc; 16]),
    )
    .unwrap();
    FactorKind::push(PushBinding::from_spki_der(&spki(91)).unwrap(), config)
}

pub(crate) fn passkeys_config() -> PasskeysConfig {
    PasskeysConfig::new(
        RelyingParty::new("example.com", "Example", vec!["https://example.com".into()]).unwrap(),
    )
}

pub(crate) fn credential(sign_count: u32) -> PasskeyCredential {
    PasskeyCredential::new(
        vec![1, 2, 3, 4],
        vec![0xa5; 77],
        -7,
        sign_count,
        vec!["internal".into(), "hybrid".into()],
        true,
        false,
        [0; 16],
        "none",
        true,
    )
    .unwrap()
}

/// A verified factor of each type.
pub(crate) fn verified_totp() -> Factor {
    let created = Factor::create(new_factor("Phone"), totp_kind(1), NOW, &mut rng(2)).unwrap();
    created
        .factor
        .verify(VerificationProof::TotpStep(NOW.as_secs() / 30), NOW)
        .unwrap()
        .factor
}

pub(crate) fn verified_push() -> Factor {
    let created = Factor::create(new_factor("iPhone"), push_kind(), NOW, &mut rng(3)).unwrap();
    created
        .factor
        .verify(VerificationProof::PushSignature, NOW)
        .unwrap()
        .factor
}

pub(crate) fn verified_passkey() -> Factor {
    let kind = FactorKind::passkeys(passkeys_config());
    let created = Factor::create(new_factor("Laptop"), kind, NOW, &mut rng(4)).unwrap();
    created
        .factor
        .verify(VerificationProof::Passkey(credential(0)), NOW)
        .unwrap()
        .factor
}

/// A passkey ceremony whose WebAuthn challenge is the text `YF0`: discoverable
/// without a user handle, an identified sign-in with one.
pub(crate) fn ceremony(user_handle: Option<&[u8]>) -> verify_model::ceremony::PasskeyCeremony {
    let options = verify_model::ceremony::PasskeyRequestOptions::new(
        b"YF0".to_vec(),
        300_000,
        "example.com".to_owned(),
        Vec::new(),
        verify_model::UserVerification::Preferred,
    );
    verify_model::ceremony::PasskeyCeremony::new(options, user_handle.map(<[u8]>::to_vec))
}
