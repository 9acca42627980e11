//! The whole push flow against verify-model's factor and challenge state machines:
//! the answer verified here drives `pending → approved`, and a replayed answer finds
//! the challenge no longer pending.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use verify_model::api::ChallengeJson;
use verify_model::config::NotificationPlatform;
use verify_model::factor::{PushBinding, PushConfig};
use verify_model::{
    AccountSid, AnswerInput, ApiContext, Challenge, ChallengeOutcome, ChallengeStatus,
    ChallengeTarget, CredentialSid, DetailField, Details, EntitySid, Factor, FactorKind, Identity,
    ModelError, NewChallenge, NewFactor, ServiceSid, UnixTime, VerificationProof,
};
use verify_push::{
    ChallengeToSign, Decision, DeviceKey, FactorStatus, FactorToVerify, SignatureFields,
    verify_answer, verify_factor,
};

use crate::device::Device;

#[test]
fn a_replayed_approval_is_refused_by_the_challenge_state_machine() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let now = UnixTime::from_secs(1_735_689_600);
    let mut device = Device::new(21);

    // Enrollment: the device's binding becomes a factor, then proves possession.
    let binding = device.binding();
    let key = DeviceKey::from_binding(&binding, "ES256").unwrap();
    let config = PushConfig::new(
        "com.example.app",
        NotificationPlatform::None,
        None,
        Some("3.0.0"),
        CredentialSid::generate(&mut rng),
    )
    .unwrap();
    let kind = FactorKind::push(PushBinding::from_base64(&binding).unwrap(), config);
    let input = NewFactor::new(
        ServiceSid::generate(&mut rng),
        EntitySid::generate(&mut rng),
        Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap(),
        "Jane's phone",
    );
    let factor = Factor::create(input, kind, now, &mut rng).unwrap().factor;
    let proof = device.sign_factor(&factor.sid().to_string());
    let pushed = FactorToVerify::new(factor.sid(), &key, FactorStatus::Unverified, now);
    let verified = verify_factor(&pushed, &proof, now).unwrap();
    assert_eq!(verified.factor_sid, factor.sid());
    let factor = factor
        .verify(VerificationProof::PushSignature, now)
        .unwrap()
        .factor;

    // A challenge, served as the resource JSON the SDK fetches.
    let details = Details::new(
        "Approve login?",
        vec![DetailField::new("IP", "203.0.113.7").unwrap()],
    )
    .unwrap();
    let challenge = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new().with_details(details),
        now,
        &mut rng,
    )
    .unwrap()
    .challenge;
    let ctx = ApiContext::new(AccountSid::generate(&mut rng), None);
    let served = serde_json::to_value(ChallengeJson::new(&challenge, &ctx, now)).unwrap();
    let Value::Object(served) = served else {
        panic!("challenge JSON is an object")
    };
    let view = ChallengeToSign::from_served(&served, SignatureFields::recommended()).unwrap();

    // The device approves; the verified answer moves the challenge.
    let payload = serde_json::to_string(&view.payload_to_sign(Decision::Approved)).unwrap();
    let auth_payload = device.answer(&payload);
    let answer = verify_answer(&key, &view, &auth_payload).unwrap();
    assert_eq!(answer.challenge_sid(), challenge.sid());
    assert_eq!(answer.factor_sid(), Some(factor.sid()));
    let later = UnixTime::from_secs(now.as_secs() + 10);
    let approved = challenge
        .approve(&AnswerInput::new(later).with_factor(&factor))
        .unwrap();
    assert_eq!(approved.outcome, ChallengeOutcome::Approved);

    // The replay still carries a valid signature, but the stored challenge is no
    // longer pending: the second transition is refused.
    let replay = verify_answer(&key, &view, &auth_payload).unwrap();
    assert_eq!(replay.challenge_sid(), approved.challenge.sid());
    let second = approved
        .challenge
        .approve(&AnswerInput::new(later).with_factor(&factor));
    assert_eq!(
        second.unwrap_err(),
        ModelError::ChallengeNotPending {
            status: ChallengeStatus::Approved
        }
    );
}
