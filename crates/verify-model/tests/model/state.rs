//! Property tests of the state machines: terminal stays terminal, at most one
//! approval, expiry is monotone in `now`, attempts never exceed the limit, versions
//! advance by one, counters never go down.

use proptest::prelude::*;
use verify_model::challenge::ChallengeState;
use verify_model::limits::{MAX_CHALLENGE_ATTEMPTS, MAX_FACTOR_VERIFICATION_ATTEMPTS};
use verify_model::{
    AnswerInput, Challenge, ChallengeOutcome, ChallengeStatus, ChallengeTarget, Details, EventType,
    Factor, FactorStatus, ModelError, NewChallenge, UnixTime, VerificationProof,
};

use crate::support::{
    NOW, at, new_factor, rng, totp_kind, verified_passkey, verified_push, verified_totp,
};

#[derive(Debug, Clone, Copy)]
enum Action {
    Approve,
    Deny,
    Fail,
    Poll,
    /// Approve with a passkey of another entity of the same service.
    ApproveForeign,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => Just(Action::Approve),
        1 => Just(Action::Deny),
        3 => Just(Action::Fail),
        1 => Just(Action::Poll),
        1 => Just(Action::ApproveForeign),
    ]
}

/// A verified passkey of another entity (same service, same identity text).
fn foreign_passkey() -> Factor {
    let input = verify_model::NewFactor::new(
        verify_model::ServiceSid::from_bytes([0xaa; 16]),
        verify_model::EntitySid::from_bytes([0xee; 16]),
        crate::support::identity(),
        "Intruder",
    );
    let kind = verify_model::FactorKind::passkeys(crate::support::passkeys_config());
    Factor::create(input, kind, NOW, &mut rng(77))
        .unwrap()
        .factor
        .verify(
            VerificationProof::Passkey(crate::support::credential(0)),
            NOW,
        )
        .unwrap()
        .factor
}

/// The entity of `factor` (as the store would hold it).
fn entity_of(factor: &Factor) -> verify_model::Entity {
    serde_json::from_value(serde_json::json!({
        "sid": factor.entity_sid(),
        "service_sid": factor.service_sid(),
        "identity": factor.identity(),
        "date_created": NOW,
        "date_updated": NOW,
    }))
    .unwrap()
}

fn apply(
    challenge: &Challenge,
    factor: &Factor,
    action: Action,
    now: UnixTime,
) -> Result<Option<verify_model::ChallengeTransition>, ModelError> {
    match action {
        Action::Approve => challenge
            .approve(&AnswerInput::new(now).with_factor(factor))
            .map(Some),
        Action::ApproveForeign => challenge
            .approve(&AnswerInput::new(now).with_factor(&foreign_passkey()))
            .map(Some),
        Action::Deny => challenge
            .deny(&AnswerInput::new(now).with_factor(factor))
            .map(Some),
        Action::Fail => challenge.record_failed_attempt(now).map(Some),
        Action::Poll => challenge.poll_expiry(now),
    }
}

/// A challenge of kind `kind % 4` (TOTP, push, passkey factor, any passkey of the
/// entity) and the factor that may answer it.
fn new_challenge(kind: u8, seed: u64) -> (Challenge, Factor) {
    let mut rng = rng(seed);
    if kind % 4 == 3 {
        let factor = verified_passkey();
        let input = NewChallenge::new().with_passkey(crate::support::ceremony(Some(b"YE0")));
        let challenge = Challenge::create(
            ChallengeTarget::EntityPasskeys(&entity_of(&factor)),
            input,
            NOW,
            &mut rng,
        )
        .unwrap()
        .challenge;
        return (challenge, factor);
    }
    let factor = match kind % 4 {
        0 => verified_totp(),
        1 => verified_push(),
        _ => verified_passkey(),
    };
    let challenge = match kind % 4 {
        0 => Challenge::create(
            ChallengeTarget::Factor(&factor),
            NewChallenge::new(),
            NOW,
            &mut rng,
        ),
        1 => {
            let input = NewChallenge::new().with_details(Details::new("Sign in?", vec![]).unwrap());
            Challenge::create(ChallengeTarget::Factor(&factor), input, NOW, &mut rng)
        }
        _ => {
            let input = NewChallenge::new().with_passkey(crate::support::ceremony(None));
            Challenge::create(ChallengeTarget::Factor(&factor), input, NOW, &mut rng)
        }
    }
    .unwrap()
    .challenge;
    (challenge, factor)
}

proptest! {
    #[test]
    fn challenge_machine_invariants(
        kind in any::<u8>(),
        seed in any::<u64>(),
        steps in proptest::collection::vec((action(), 0_u64..120), 0..24),
    ) {
        let (mut challenge, factor) = new_challenge(kind, seed);
        let mut now = NOW;
        let mut approvals = 0;
        let mut terminal_events = 0;
        for (action, dt) in steps {
            now = UnixTime::from_secs(now.as_secs() + dt);
            let before = challenge.clone();
            let was_terminal = before.state() != ChallengeState::Pending;
            // The cheap up-front check agrees with recording an answer.
            prop_assert_eq!(
                before.check_answerable(now).err(),
                before.record_failed_attempt(now).err()
            );
            match apply(&before, &factor, action, now) {
                Ok(Some(transition)) => {
                    // Terminal stays terminal: no transition leaves it.
                    prop_assert!(!was_terminal, "transition out of {:?}", before.state());
                    prop_assert_eq!(transition.challenge.version(), before.version() + 1);
                    prop_assert_eq!(transition.challenge.sid(), before.sid());
                    let now_terminal = transition.challenge.state() != ChallengeState::Pending;
                    // An event exactly when the state became terminal.
                    prop_assert_eq!(transition.events.len(), usize::from(now_terminal));
                    if now_terminal {
                        terminal_events += 1;
                        let event = &transition.events[0];
                        prop_assert_eq!(event.challenge_sid, Some(before.sid()));
                        prop_assert_eq!(event.challenge_status, Some(transition.challenge.state().status()));
                        let expected = match transition.challenge.state().status() {
                            ChallengeStatus::Approved => EventType::ChallengeApproved,
                            ChallengeStatus::Denied => EventType::ChallengeDenied,
                            ChallengeStatus::Expired => EventType::ChallengeExpired,
                            _ => unreachable!(),
                        };
                        prop_assert_eq!(event.event_type, expected);
                    }
                    // Expiry is checked first.
                    if now >= before.expiration_date() {
                        prop_assert_eq!(transition.outcome, ChallengeOutcome::Expired);
                    }
                    if transition.outcome == ChallengeOutcome::Approved {
                        approvals += 1;
                        prop_assert!(now < before.expiration_date());
                    }
                    // Another entity's passkey never answers: only expiry happens.
                    if matches!(action, Action::ApproveForeign) {
                        prop_assert_eq!(transition.outcome, ChallengeOutcome::Expired);
                    }
                    // An answered challenge names the factor and entity that answered.
                    if matches!(transition.outcome, ChallengeOutcome::Approved | ChallengeOutcome::Denied) {
                        prop_assert_eq!(transition.challenge.factor_sid(), Some(factor.sid()));
                        prop_assert_eq!(transition.challenge.entity_sid(), Some(factor.entity_sid()));
                    }
                    challenge = transition.challenge;
                }
                Ok(None) => {
                    prop_assert!(matches!(action, Action::Poll));
                }
                Err(error) => {
                    // Err changes nothing, and only happens on terminal states here,
                    // or for another entity's passkey.
                    prop_assert!(
                        was_terminal || matches!(action, Action::ApproveForeign),
                        "{:?} on a pending challenge: {:?}", action, error
                    );
                }
            }
            prop_assert!(challenge.failed_attempts() <= MAX_CHALLENGE_ATTEMPTS);
            // A terminal state reads the same at every later time.
            if was_terminal {
                prop_assert_eq!(challenge.state(), before.state());
                prop_assert_eq!(challenge.status_at(now), before.status_at(now));
            }
        }
        prop_assert!(approvals <= 1);
        prop_assert!(terminal_events <= 1);
        // The stored record round-trips through serde.
        let json = serde_json::to_string(&challenge).unwrap();
        prop_assert_eq!(serde_json::from_str::<Challenge>(&json).unwrap(), challenge);
    }

    #[test]
    fn expiry_is_monotone_in_now(
        kind in any::<u8>(),
        fails in 0_u32..7,
        t1 in 0_u64..1_000,
        t2 in 0_u64..1_000,
    ) {
        let (mut challenge, _) = new_challenge(kind, 1);
        for _ in 0..fails {
            match challenge.record_failed_attempt(at(1)) {
                Ok(transition) => challenge = transition.challenge,
                Err(_) => break,
            }
        }
        let (early, late) = (at(t1.min(t2)), at(t1.max(t2)));
        if challenge.status_at(early) == ChallengeStatus::Expired {
            prop_assert_eq!(challenge.status_at(late), ChallengeStatus::Expired);
        }
        if challenge.status_at(early).is_terminal() {
            prop_assert_eq!(challenge.status_at(late), challenge.status_at(early));
        }
        // Expired reads happen exactly from the expiration date on, for pending ones.
        if challenge.state() == ChallengeState::Pending {
            prop_assert_eq!(
                challenge.status_at(late) == ChallengeStatus::Expired,
                late >= challenge.expiration_date()
            );
        }
    }

    #[test]
    fn factor_verifies_at_most_once_and_attempts_are_bounded(
        ops in proptest::collection::vec((any::<bool>(), 0_u64..4_000), 0..16),
    ) {
        let mut factor = Factor::create(new_factor("Phone"), totp_kind(1), NOW, &mut rng(2))
            .unwrap()
            .factor;
        let mut now = NOW;
        let mut verified_events = 0;
        for (succeed, dt) in ops {
            now = UnixTime::from_secs(now.as_secs() + dt);
            let result = if succeed {
                factor.verify(VerificationProof::TotpStep(now.as_secs() / 30), now)
            } else {
                factor.record_failed_verification(now)
            };
            match result {
                Ok(transition) => {
                    prop_assert_eq!(factor.status(), FactorStatus::Unverified);
                    prop_assert_eq!(transition.factor.version(), factor.version() + 1);
                    verified_events += transition
                        .events
                        .iter()
                        .filter(|e| e.event_type == EventType::FactorVerified)
                        .count();
                    factor = transition.factor;
                }
                Err(ModelError::FactorAlreadyVerified) => {
                    prop_assert_eq!(factor.status(), FactorStatus::Verified);
                }
                Err(ModelError::FactorVerificationAttemptsExhausted { .. }) => {
                    prop_assert_eq!(factor.failed_verification_attempts(), MAX_FACTOR_VERIFICATION_ATTEMPTS);
                }
                Err(ModelError::FactorExpired { .. }) => {
                    prop_assert!(factor.is_expired_unverified(now));
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
            prop_assert!(factor.failed_verification_attempts() <= MAX_FACTOR_VERIFICATION_ATTEMPTS);
        }
        prop_assert!(verified_events <= 1);
        prop_assert_eq!(verified_events == 1, factor.status() == FactorStatus::Verified);
        let json = serde_json::to_string(&factor).unwrap();
        prop_assert_eq!(serde_json::from_str::<Factor>(&json).unwrap(), factor);
    }

    #[test]
    fn totp_steps_are_single_use(steps in proptest::collection::vec(0_u64..100, 1..20)) {
        let mut factor = verified_totp();
        for step in steps {
            let last = factor.kind_totp_last();
            match factor.record_totp_step(step, NOW) {
                Ok(transition) => {
                    prop_assert!(last.is_none_or(|last| step > last));
                    factor = transition.factor;
                    prop_assert_eq!(factor.kind_totp_last(), Some(step));
                }
                Err(ModelError::TotpStepReused { last_used_step, step: got }) => {
                    prop_assert_eq!(Some(last_used_step), last);
                    prop_assert!(got <= last_used_step);
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn passkey_sign_count_never_decreases(counts in proptest::collection::vec(any::<u32>(), 1..20)) {
        let mut factor = verified_passkey();
        let mut highest = 0;
        for count in counts {
            factor = factor.record_passkey_use(count, true, NOW).unwrap().factor;
            highest = highest.max(count);
            let verify_model::FactorKind::Passkeys(passkey) = factor.kind() else { unreachable!() };
            prop_assert_eq!(passkey.credential().unwrap().sign_count, highest);
        }
    }
}

trait TotpLast {
    fn kind_totp_last(&self) -> Option<u64>;
}

impl TotpLast for Factor {
    fn kind_totp_last(&self) -> Option<u64> {
        match self.kind() {
            verify_model::FactorKind::Totp(totp) => totp.last_used_step(),
            _ => None,
        }
    }
}

#[test]
fn discoverable_passkey_challenge_binds_its_factor_on_approval() {
    let factor = verified_passkey();
    let ceremony = crate::support::ceremony(None);
    let challenge = Challenge::create(
        ChallengeTarget::DiscoverablePasskey(factor.service_sid()),
        NewChallenge::new().with_passkey(ceremony),
        NOW,
        &mut rng(20),
    )
    .unwrap()
    .challenge;
    assert_eq!(challenge.factor_sid(), None);
    // Without naming the factor, the approval is refused.
    assert!(challenge.approve(&AnswerInput::new(at(5))).is_err());
    // A factor of another service is refused.
    let other = verified_totp();
    assert!(
        challenge
            .approve(&AnswerInput::new(at(5)).with_factor(&other))
            .is_err()
    );
    let approved = challenge
        .approve(&AnswerInput::new(at(5)).with_factor(&factor))
        .unwrap();
    assert_eq!(approved.challenge.factor_sid(), Some(factor.sid()));
    assert_eq!(approved.challenge.identity(), Some(factor.identity()));
    assert_eq!(approved.events[0].factor_sid, Some(factor.sid()));
    // Unanswered, it expires with an event naming no entity.
    let expired = challenge.poll_expiry(at(300)).unwrap().unwrap();
    assert_eq!(expired.events[0].event_type, EventType::ChallengeExpired);
    assert_eq!(expired.events[0].entity_sid, None);
}

#[test]
fn entity_passkey_challenge_accepts_any_passkey_of_the_entity_only() {
    let factor = verified_passkey();
    let entity = entity_of(&factor);
    let ceremony = crate::support::ceremony(Some(b"user"));
    let sid = verify_model::ChallengeSid::generate(&mut rng(23));
    let created = Challenge::create(
        ChallengeTarget::EntityPasskeys(&entity),
        NewChallenge::new().with_passkey(ceremony).with_sid(sid),
        NOW,
        &mut rng(22),
    )
    .unwrap();
    let challenge = created.challenge;
    // The caller's sid, the entity known, no factor yet.
    assert_eq!(challenge.sid(), sid);
    assert_eq!(challenge.entity_sid(), Some(factor.entity_sid()));
    assert_eq!(challenge.identity(), Some(factor.identity()));
    assert_eq!(challenge.factor_sid(), None);
    // The pending record round-trips (its invariants hold).
    let json = serde_json::to_string(&challenge).unwrap();
    assert_eq!(serde_json::from_str::<Challenge>(&json).unwrap(), challenge);
    // Unnamed, another entity's passkey, or another type: refused, nothing changes.
    assert!(challenge.approve(&AnswerInput::new(at(5))).is_err());
    assert_eq!(
        challenge.approve(&AnswerInput::new(at(5)).with_factor(&foreign_passkey())),
        Err(ModelError::ChallengeFactorMismatch)
    );
    assert!(
        challenge
            .approve(&AnswerInput::new(at(5)).with_factor(&verified_totp()))
            .is_err()
    );
    assert!(
        challenge
            .approve_passkey(&foreign_passkey(), 1, false, at(5))
            .is_err()
    );
    // One of the entity's passkeys approves and becomes the challenge's factor.
    let answer = challenge.approve_passkey(&factor, 1, false, at(5)).unwrap();
    let approved = answer.challenge.challenge;
    assert_eq!(answer.challenge.outcome, ChallengeOutcome::Approved);
    assert_eq!(approved.version(), challenge.version() + 1);
    assert_eq!(approved.factor_sid(), Some(factor.sid()));
    assert_eq!(answer.challenge.events[0].factor_sid, Some(factor.sid()));
    // Terminal is terminal.
    assert!(approved.approve_passkey(&factor, 2, false, at(6)).is_err());
    // An answered record without a factor is corrupt.
    let mut record = serde_json::to_value(&approved).unwrap();
    record["subject"] = serde_json::json!({
        "type": "entity_passkeys",
        "entity_sid": factor.entity_sid(),
        "identity": factor.identity(),
    });
    assert!(serde_json::from_value::<Challenge>(record).is_err());
    // Unanswered, it expires naming the entity but no factor.
    let expired = challenge.poll_expiry(at(300)).unwrap().unwrap();
    assert_eq!(expired.events[0].entity_sid, Some(factor.entity_sid()));
    assert_eq!(expired.events[0].factor_sid, None);
}

#[test]
fn answering_with_a_different_factor_is_refused() {
    let factor = verified_totp();
    let challenge = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new(),
        NOW,
        &mut rng(21),
    )
    .unwrap()
    .challenge;
    let mut other_rng = rng(99);
    let other = Factor::create(new_factor("Other"), totp_kind(5), NOW, &mut other_rng)
        .unwrap()
        .factor
        .verify(VerificationProof::TotpStep(1), NOW)
        .unwrap()
        .factor;
    assert_eq!(
        challenge.approve(&AnswerInput::new(at(1)).with_factor(&other)),
        Err(ModelError::ChallengeFactorMismatch)
    );
    assert!(
        challenge
            .approve(&AnswerInput::new(at(1)).with_factor(&factor))
            .is_ok()
    );
}

#[test]
fn a_totp_code_is_used_once_across_challenges() {
    let factor = verified_totp();
    let step = NOW.as_secs() / 30 + 1;
    let create = |seed| {
        Challenge::create(
            ChallengeTarget::Factor(&factor),
            NewChallenge::new(),
            NOW,
            &mut rng(seed),
        )
        .unwrap()
        .challenge
    };
    let (first, second) = (create(40), create(41));
    let answer = first.approve_totp(&factor, step, at(31)).unwrap();
    assert_eq!(answer.challenge.outcome, ChallengeOutcome::Approved);
    let factor_after = answer.factor.unwrap().factor;
    assert_eq!(factor_after.version(), factor.version() + 1);
    // The same code (same step) on another challenge is a failed attempt, reported
    // as already used rather than wrong.
    let replay = second.approve_totp(&factor_after, step, at(32)).unwrap();
    assert_eq!(
        replay.challenge.outcome,
        ChallengeOutcome::CodeAlreadyUsed {
            failed_attempts: 1,
            remaining: MAX_CHALLENGE_ATTEMPTS - 1
        }
    );
    assert_eq!(replay.challenge.challenge.failed_attempts(), 1);
    assert!(replay.factor.is_none());
    // An earlier step is refused the same way; a later one approves.
    let older = second
        .approve_totp(&factor_after, step - 1, at(32))
        .unwrap();
    assert!(matches!(
        older.challenge.outcome,
        ChallengeOutcome::CodeAlreadyUsed { .. }
    ));
    assert!(older.factor.is_none());
    let later = second
        .approve_totp(&factor_after, step + 1, at(33))
        .unwrap();
    assert_eq!(later.challenge.outcome, ChallengeOutcome::Approved);
    // Expired first: nothing else happens.
    let expired = second
        .approve_totp(&factor_after, step + 1, at(300))
        .unwrap();
    assert_eq!(expired.challenge.outcome, ChallengeOutcome::Expired);
    assert!(expired.factor.is_none());
    // Wrong factor type.
    let push = verified_push();
    assert!(second.approve_totp(&push, step + 1, at(33)).is_err());
}

#[test]
fn passkey_approval_advances_the_counter() {
    let factor = verified_passkey();
    let ceremony = crate::support::ceremony(None);
    let challenge = Challenge::create(
        ChallengeTarget::DiscoverablePasskey(factor.service_sid()),
        NewChallenge::new().with_passkey(ceremony),
        NOW,
        &mut rng(42),
    )
    .unwrap()
    .challenge;
    let answer = challenge.approve_passkey(&factor, 7, true, at(3)).unwrap();
    assert_eq!(answer.challenge.outcome, ChallengeOutcome::Approved);
    let updated = answer.factor.unwrap().factor;
    let verify_model::FactorKind::Passkeys(passkey) = updated.kind() else {
        unreachable!()
    };
    assert_eq!(passkey.credential().unwrap().sign_count, 7);
    assert!(passkey.credential().unwrap().backup_state);
    // Approved is terminal for the paired answer too.
    assert!(
        answer
            .challenge
            .challenge
            .approve_passkey(&updated, 8, true, at(4))
            .is_err()
    );
}

/// A synced passkey's count stays 0: a use that moves nothing the credential
/// records writes no factor (only the challenge), one that does is paired.
#[test]
fn a_passkey_use_that_moves_nothing_pairs_no_factor_write() {
    let factor = verified_passkey();
    let pending = || {
        Challenge::create(
            ChallengeTarget::DiscoverablePasskey(factor.service_sid()),
            NewChallenge::new().with_passkey(crate::support::ceremony(None)),
            NOW,
            &mut rng(43),
        )
        .unwrap()
        .challenge
    };
    let still = pending().approve_passkey(&factor, 0, false, at(3)).unwrap();
    assert_eq!(still.challenge.outcome, ChallengeOutcome::Approved);
    assert!(still.factor.is_none(), "{:?}", still.factor);
    let counted = pending().approve_passkey(&factor, 1, false, at(3)).unwrap();
    assert!(counted.factor.is_some());
    let backed_up = pending().approve_passkey(&factor, 0, true, at(3)).unwrap();
    assert!(backed_up.factor.is_some());
}

#[test]
fn push_config_updates_keep_the_credential_sid() {
    use verify_model::config::NotificationPlatform;
    let factor = verified_push();
    let verify_model::FactorKind::Push(before) = factor.kind() else {
        unreachable!()
    };
    let updated = factor
        .update_push_config(
            "com.example.app",
            NotificationPlatform::None,
            None,
            Some("3.0.0"),
            at(1),
        )
        .unwrap()
        .factor;
    let verify_model::FactorKind::Push(after) = updated.kind() else {
        unreachable!()
    };
    assert_eq!(
        after.config().credential_sid(),
        before.config().credential_sid()
    );
    assert_eq!(after.config().notification_token(), None);
    assert_eq!(updated.version(), factor.version() + 1);
    assert!(
        factor
            .update_push_config("app", NotificationPlatform::Fcm, None, None, at(1))
            .is_err()
    );
    assert!(
        verified_totp()
            .update_push_config("app", NotificationPlatform::None, None, None, at(1))
            .is_err()
    );
}

#[test]
fn an_unregistered_token_is_marked_until_the_device_sends_a_new_one() {
    use verify_model::config::NotificationPlatform;
    let factor = verified_push();
    let token = "a".repeat(64);
    // Another token (the device re-registered meanwhile): nothing to record.
    assert!(
        factor
            .invalidate_notification_token(&"b".repeat(64), at(1))
            .unwrap()
            .is_none()
    );
    let marked = factor
        .invalidate_notification_token(&token, at(1))
        .unwrap()
        .unwrap();
    assert!(marked.events.is_empty());
    assert_eq!(marked.factor.version(), factor.version() + 1);
    let verify_model::FactorKind::Push(push) = marked.factor.kind() else {
        unreachable!()
    };
    assert!(push.notification_token_invalid());
    assert_eq!(push.deliverable_token(), None);
    assert_eq!(push.config().notification_token(), Some(token.as_str()));
    // Marked once; the stored record keeps the mark.
    assert!(
        marked
            .factor
            .invalidate_notification_token(&token, at(2))
            .unwrap()
            .is_none()
    );
    let stored: Factor =
        serde_json::from_value(serde_json::to_value(&marked.factor).unwrap()).unwrap();
    assert_eq!(stored, marked.factor);
    // The device's next configuration clears it.
    let updated = marked
        .factor
        .update_push_config(
            "com.example.app",
            NotificationPlatform::Apn,
            Some(&"c".repeat(64)),
            None,
            at(3),
        )
        .unwrap()
        .factor;
    let verify_model::FactorKind::Push(push) = updated.kind() else {
        unreachable!()
    };
    assert_eq!(push.deliverable_token(), Some("c".repeat(64).as_str()));
    // Not a push factor: nothing to record.
    assert!(
        verified_totp()
            .invalidate_notification_token(&token, at(1))
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_push_challenge_is_created_with_its_notification_event() {
    let factor = verified_push();
    let created = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new().with_details(Details::new("Approve?", Vec::new()).unwrap()),
        at(1),
        &mut rng(60),
    )
    .unwrap();
    let [event] = created.events.as_slice() else {
        panic!("one event expected")
    };
    assert_eq!(event.event_type, EventType::ChallengeCreated);
    assert!(!event.event_type.is_webhook());
    assert_eq!(event.challenge_sid, Some(created.challenge.sid()));
    assert_eq!(event.factor_sid, Some(factor.sid()));
    assert_eq!(event.identity.as_ref(), Some(factor.identity()));
    // A TOTP challenge has no notification.
    let totp = verified_totp();
    let created = Challenge::create(
        ChallengeTarget::Factor(&totp),
        NewChallenge::new(),
        at(1),
        &mut rng(61),
    )
    .unwrap();
    assert!(created.events.is_empty());
}

#[test]
fn factor_events_name_the_factor() {
    let created = Factor::create(new_factor("Phone"), totp_kind(1), NOW, &mut rng(50)).unwrap();
    assert_eq!(created.factor.version(), 0);
    assert_eq!(created.factor.status(), FactorStatus::Unverified);
    let [event] = created.events.as_slice() else {
        panic!("one event expected")
    };
    assert_eq!(event.event_type, EventType::FactorCreated);
    assert_eq!(event.factor_sid, Some(created.factor.sid()));
    assert_eq!(event.identity.as_ref(), Some(created.factor.identity()));
    assert_eq!(event.challenge_sid, None);
    let verified = created
        .factor
        .verify(VerificationProof::TotpStep(5), at(1))
        .unwrap();
    assert_eq!(verified.events[0].event_type, EventType::FactorVerified);
    assert_eq!(verified.events[0].time, at(1));
    // A proof for another type is refused and changes nothing.
    assert_eq!(
        created
            .factor
            .verify(VerificationProof::PushSignature, at(1)),
        Err(ModelError::FactorTypeMismatch {
            expected: verify_model::FactorType::Push,
            got: verify_model::FactorType::Totp
        })
    );
    let deleted = verified.factor.delete(at(2)).unwrap();
    assert_eq!(deleted.events[0].event_type, EventType::FactorDeleted);
    assert_eq!(deleted.factor.version(), verified.factor.version() + 1);
}

proptest! {
    #[test]
    fn access_tokens_redeem_at_most_once(tries in proptest::collection::vec((any::<bool>(), 0_u64..120), 1..10)) {
        use verify_model::{AccessToken, NewAccessToken};
        let token = AccessToken::issue(
            NewAccessToken::new(verify_model::ServiceSid::from_bytes([1; 16]), crate::support::identity()),
            NOW,
            &mut rng(60),
        )
        .unwrap();
        let value = token.token();
        let mut stored = token;
        let mut redeemed = 0;
        for (genuine, dt) in tries {
            let presented = if genuine { value.to_string() } else { "x".repeat(43) };
            if let Ok(next) = stored.redeem(&presented, at(dt)) {
                prop_assert!(genuine && dt < 60);
                redeemed += 1;
                stored = next;
            }
        }
        prop_assert!(redeemed <= 1);
    }
}

#[test]
fn passkey_registration_state_is_kept_until_verified_and_survives_storage() {
    use verify_model::FactorKind;
    let state = verify_model::ceremony::PasskeyRegistration::new(
        b"secret".to_vec(),
        b"YE0".to_vec(),
        Vec::new(),
        at(600),
    );
    let kind = FactorKind::passkeys_registering(crate::support::passkeys_config(), state.clone());
    let created = Factor::create(new_factor("Laptop"), kind, NOW, &mut rng(9))
        .unwrap()
        .factor;
    let FactorKind::Passkeys(passkey) = created.kind() else {
        panic!("a passkey factor");
    };
    assert_eq!(passkey.registration(), Some(&state));
    // The storage record round-trips the state.
    let stored: Factor = serde_json::from_str(&serde_json::to_string(&created).unwrap()).unwrap();
    assert_eq!(stored, created);
    // Verification records the credential and drops the spent ceremony state.
    let verified = created
        .verify(
            VerificationProof::Passkey(crate::support::credential(0)),
            NOW,
        )
        .unwrap()
        .factor;
    let FactorKind::Passkeys(passkey) = verified.kind() else {
        panic!("a passkey factor");
    };
    assert_eq!(passkey.registration(), None);
    assert!(passkey.credential().is_some());
    // A plain passkey factor has no state, and its record has no such key.
    let plain = verified_passkey();
    let record = serde_json::to_value(&plain).unwrap();
    assert!(!record.to_string().contains("registration"));
}

proptest! {
    /// The converted last used step is exactly the last new-period window that
    /// begins before the end of the last accepted old-period window.
    #[test]
    fn totp_step_conversion_is_tight_and_conservative(
        step in 0_u64..(u64::MAX / 64),
        old in 20_u8..=60,
        new in 20_u8..=60,
    ) {
        let k = verify_model::factor::convert_last_step(step, old, new);
        let end = (u128::from(step) + 1) * u128::from(old);
        // Window k begins before `end` (refused: it overlaps an accepted window)...
        prop_assert!(u128::from(k) * u128::from(new) < end);
        // ...and window k + 1 begins at or after it (accepted).
        prop_assert!((u128::from(k) + 1) * u128::from(new) >= end);
        if old == new {
            prop_assert_eq!(k, step);
        }
    }
}

#[test]
fn totp_config_update_converts_the_last_used_step() {
    use verify_model::config::{TotpAlgorithm, TotpParams};
    // Verified at NOW with the 30 s step NOW / 30: the window [NOW, NOW + 30).
    let factor = verified_totp();
    let last = factor.kind_totp_last().unwrap();
    assert_eq!(last, NOW.as_secs() / 30);
    let params = TotpParams::new(8, 60, 0).unwrap();
    let updated = factor
        .update_totp_config(TotpAlgorithm::Sha512, params, at(10))
        .unwrap();
    assert_eq!(updated.factor.version(), factor.version() + 1);
    assert!(updated.events.is_empty());
    let verify_model::FactorKind::Totp(totp) = updated.factor.kind() else {
        unreachable!()
    };
    assert_eq!(totp.alg(), TotpAlgorithm::Sha512);
    assert_eq!(totp.params(), params);
    assert_eq!(totp.secret(), {
        let verify_model::FactorKind::Totp(before) = factor.kind() else {
            unreachable!()
        };
        before.secret()
    });
    // NOW is a multiple of 20 but not of 60 (1_700_000_000 = 60 × 28_333_333 + 20):
    // the 60 s window holding [NOW, NOW + 30) began before NOW + 30, so it is used.
    let converted = totp.last_used_step().unwrap();
    assert_eq!(converted, (NOW.as_secs() + 30).div_ceil(60) - 1);
    assert!(converted * 60 < NOW.as_secs() + 30);
    assert!((converted + 1) * 60 >= NOW.as_secs() + 30);
    assert!(updated.factor.record_totp_step(converted, at(11)).is_err());
    assert!(
        updated
            .factor
            .record_totp_step(converted + 1, at(61))
            .is_ok()
    );
    // A factor never used keeps no step; other types are refused.
    let fresh = Factor::create(new_factor("New"), totp_kind(9), NOW, &mut rng(9))
        .unwrap()
        .factor;
    let unused = fresh
        .update_totp_config(TotpAlgorithm::Sha1, params, at(1))
        .unwrap();
    assert_eq!(unused.factor.kind_totp_last(), None);
    assert!(matches!(
        verified_push().update_totp_config(TotpAlgorithm::Sha1, params, at(1)),
        Err(ModelError::FactorTypeMismatch { .. })
    ));
}

#[test]
fn passkey_records_from_before_the_regression_counter_still_load() {
    let factor = verified_passkey();
    let mut record = serde_json::to_value(&factor).unwrap();
    let credential = &mut record["kind"]["credential"];
    assert_eq!(credential["sign_count_regressions"], 0);
    credential
        .as_object_mut()
        .unwrap()
        .remove("sign_count_regressions");
    assert_eq!(serde_json::from_value::<Factor>(record).unwrap(), factor);
    // The counter advances only on an accepted regression.
    let used = factor.record_passkey_use(4, false, at(1)).unwrap().factor;
    let again = used.record_passkey_use(4, false, at(2)).unwrap().factor;
    let regressions = |f: &Factor| match f.kind() {
        verify_model::FactorKind::Passkeys(p) => p.credential().unwrap().sign_count_regressions,
        _ => unreachable!(),
    };
    assert_eq!((regressions(&used), regressions(&again)), (0, 1));
    // Both zero is no regression (the authenticator keeps no counter).
    let zero = factor.record_passkey_use(0, false, at(1)).unwrap().factor;
    assert_eq!(regressions(&zero), 0);
}
