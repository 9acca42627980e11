//! The guessing budget of TOTP factors: backoff, lock, cool-down, unlock, and the
//! daily bound against an attacker who creates challenges without limit, on a
//! manual clock; and concurrent guesses serialized on the factor.

use std::sync::Arc;

use verify_engine::{NewChallengeRequest, VerifyError};
use verify_model::factor::FactorKind;
use verify_model::guessing::DEFAULT_LOCK_DURATION;
use verify_model::{ChallengeOutcome, EventType, GuessPolicy, ModelError};

use crate::support::{Harness, block_on};
use crate::totp::{Enrolled, enrolled, rfc6238_code};

/// A 6-digit code that is not the one of `now` (nor of the steps around it).
fn wrong_code(e: &Enrolled, now: u64) -> String {
    let near: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
        .iter()
        .map(|t| rfc6238_code(&e.secret, *t))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|code| !near.contains(code))
        .unwrap()
}

/// One guess on a new challenge created with the code as its payload.
async fn guess(h: &Harness, e: &Enrolled, code: &str) -> Result<ChallengeOutcome, VerifyError> {
    h.verify
        .create_challenge(
            e.service,
            &e.identity,
            e.factor.sid(),
            NewChallengeRequest::new().with_auth_payload(code),
        )
        .await
        .map(|update| update.outcome)
}

fn failures(h: &Harness, e: &Enrolled) -> u32 {
    block_on(async {
        let factor = h
            .verify
            .fetch_factor(e.service, &e.identity, e.factor.sid())
            .await
            .unwrap();
        let FactorKind::Totp(totp) = factor.kind() else {
            panic!("a TOTP factor")
        };
        totp.guesses().failures()
    })
}

#[test]
fn a_user_who_mistypes_a_challenge_away_is_not_slowed_down() {
    let h = Harness::new(70);
    let e = enrolled(&h);
    h.advance(30);
    block_on(async {
        let challenge = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new(),
            )
            .await
            .unwrap()
            .challenge;
        let wrong = wrong_code(&e, h.now().as_secs());
        let mut last = None;
        for _ in 0..5 {
            last = Some(
                h.verify
                    .update_challenge(e.service, &e.identity, challenge.sid(), &wrong, None)
                    .await
                    .unwrap()
                    .outcome,
            );
        }
        // The fifth wrong code still ends the challenge as the service's does.
        assert_eq!(last, Some(ChallengeOutcome::AttemptsExhausted));
        assert_eq!(failures(&h, &e), 5);
        // At once, a new challenge with the right code signs in, and clears the run.
        let good = rfc6238_code(&e.secret, h.now().as_secs());
        assert_eq!(
            guess(&h, &e, &good).await.unwrap(),
            ChallengeOutcome::Approved
        );
    });
    assert_eq!(failures(&h, &e), 0);
}

#[test]
fn wrong_codes_back_off_then_lock_and_each_wrong_code_after_the_lock_locks_again() {
    let h = Harness::new(71);
    let e = enrolled(&h);
    h.advance(30);
    block_on(async {
        let wrong = wrong_code(&e, h.now().as_secs());
        for _ in 0..5 {
            assert!(matches!(
                guess(&h, &e, &wrong).await.unwrap(),
                ChallengeOutcome::Rejected { .. }
            ));
        }
        // The sixth wrong code makes the next check wait 1 s, then 2, 4, 8.
        for wait in [1, 2, 4, 8] {
            guess(&h, &e, &wrong).await.unwrap();
            let refused = guess(&h, &e, &wrong).await.unwrap_err();
            assert_eq!(
                (refused.code(), refused.http_status()),
                (20429, 429),
                "{refused}"
            );
            assert_eq!(refused.retry_after_secs(), Some(wait));
            h.advance(wait);
        }
        // The tenth locks the factor for an hour and writes factor.locked.
        guess(&h, &e, &wrong).await.unwrap();
        let locked = guess(&h, &e, &wrong).await.unwrap_err();
        assert_eq!((locked.code(), locked.http_status()), (60202, 429));
        assert_eq!(locked.retry_after_secs(), Some(3600));
        // During the lock even the right code is not compared, and no challenge is
        // created (the way around a per-challenge limit is closed).
        let good = rfc6238_code(&e.secret, h.now().as_secs());
        assert!(matches!(
            guess(&h, &e, &good).await,
            Err(VerifyError::Model(ModelError::FactorLocked { .. }))
        ));
        assert!(matches!(
            h.verify
                .create_challenge(
                    e.service,
                    &e.identity,
                    e.factor.sid(),
                    NewChallengeRequest::new()
                )
                .await,
            Err(VerifyError::Model(ModelError::FactorLocked { .. }))
        ));
        let events = h.verify.drain_events(1000).await.unwrap();
        let locks: Vec<_> = events
            .iter()
            .filter(|e| e.event.event_type == EventType::FactorLocked)
            .collect();
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].event.factor_sid, Some(e.factor.sid()));
        assert!(EventType::FactorLocked.is_webhook());

        // After the cool-down one wrong code locks it again at once.
        h.advance(3600);
        let wrong = wrong_code(&e, h.now().as_secs());
        guess(&h, &e, &wrong).await.unwrap();
        let relocked = guess(&h, &e, &wrong).await.unwrap_err();
        assert_eq!(relocked.code(), 60202);
        assert_eq!(relocked.retry_after_secs(), Some(3600));
        // After that lock the right code signs in and clears everything.
        h.advance(3600);
        let good = rfc6238_code(&e.secret, h.now().as_secs());
        assert_eq!(
            guess(&h, &e, &good).await.unwrap(),
            ChallengeOutcome::Approved
        );
    });
    assert_eq!(failures(&h, &e), 0);
}

#[test]
fn the_host_unlocks_a_locked_factor() {
    let h = Harness::with_config(72, |config| {
        config.with_code_guess_policy(GuessPolicy::new(2, DEFAULT_LOCK_DURATION).unwrap())
    });
    let e = enrolled(&h);
    h.advance(30);
    block_on(async {
        let wrong = wrong_code(&e, h.now().as_secs());
        guess(&h, &e, &wrong).await.unwrap();
        guess(&h, &e, &wrong).await.unwrap();
        assert_eq!(guess(&h, &e, &wrong).await.unwrap_err().code(), 60202);
        let unlocked = h
            .verify
            .unlock_factor(e.service, &e.identity, e.factor.sid())
            .await
            .unwrap();
        let FactorKind::Totp(totp) = unlocked.kind() else {
            panic!("a TOTP factor")
        };
        assert!(totp.guesses().is_clear());
        let good = rfc6238_code(&e.secret, h.now().as_secs());
        assert_eq!(
            guess(&h, &e, &good).await.unwrap(),
            ChallengeOutcome::Approved
        );
    });
}

/// The target: with the default policy, an attacker who creates challenges
/// without limit and retries the moment each refusal allows compares at most
/// `GuessPolicy::max_checks_per_day` codes in 24 hours, a chance below 10^-3 of
/// guessing a 6-digit code.
#[test]
fn an_attacker_with_unlimited_challenges_gets_at_most_the_daily_bound() {
    let h = Harness::new(73);
    let e = enrolled(&h);
    h.advance(30);
    let start = h.now().as_secs();
    let (mut compared, mut refused) = (0_u64, 0_u64);
    block_on(async {
        while h.now().as_secs() < start + 24 * 60 * 60 {
            let wrong = wrong_code(&e, h.now().as_secs());
            match guess(&h, &e, &wrong).await {
                Ok(ChallengeOutcome::Rejected { .. } | ChallengeOutcome::AttemptsExhausted) => {
                    compared += 1;
                }
                Ok(other) => panic!("a wrong code gave {other:?}"),
                Err(error) => {
                    refused += 1;
                    let wait = error.retry_after_secs().expect("a refusal says when");
                    h.advance(wait);
                }
            }
        }
    });
    let policy = GuessPolicy::default();
    assert!(
        compared <= policy.max_checks_per_day(),
        "{compared} codes compared in a day"
    );
    // The bound is reached, not avoided by refusing everything.
    assert!(compared >= policy.max_checks_per_day() - 2, "{compared}");
    assert!(refused > 0);
    let chance = f64::from(u32::try_from(compared).unwrap()) * 3.0 / 1e6;
    assert!(chance < 1e-3, "{chance}");
    assert!(policy.success_bound_per_day(6, 1) < 1e-3);
}

/// Guesses racing on one factor are counted one by one: with a lock after 3
/// failures, at most 3 of 32 concurrent wrong codes are compared.
#[test]
fn concurrent_guesses_are_serialized_on_the_factor() {
    let h = Harness::with_config(74, |config| {
        config.with_code_guess_policy(GuessPolicy::new(3, DEFAULT_LOCK_DURATION).unwrap())
    });
    let e = enrolled(&h);
    h.advance(30);
    let wrong = wrong_code(&e, h.now().as_secs());
    let (service, identity, factor) = (e.service, e.identity.clone(), e.factor.sid());
    let h = Arc::new(h);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (h, identity, wrong) = (Arc::clone(&h), identity.clone(), wrong.clone());
                tokio::spawn(async move {
                    h.verify
                        .create_challenge(
                            service,
                            &identity,
                            factor,
                            NewChallengeRequest::new().with_auth_payload(&wrong),
                        )
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    let compared = results
        .iter()
        .filter(|r| matches!(r, Ok(u) if matches!(u.outcome, ChallengeOutcome::Rejected { .. })))
        .count();
    assert!(compared <= 3, "{compared} of 32 compared");
    assert!(compared >= 1);
    // Every other guess was refused by the budget or lost its race (409): none
    // was compared.
    for result in &results {
        if let Err(error) = result {
            assert!(matches!(error.code(), 60202 | 20409), "{error}");
        }
    }
}

/// Push challenges are capped per factor: at most
/// `MAX_PENDING_PUSH_CHALLENGES` pending at once (each sends a notification), the
/// next refused with 20429 and `Retry-After` until the soonest expires; answering
/// or expiring one makes room.
#[test]
fn pending_push_challenges_are_capped_per_factor() {
    use verify_model::Details;
    use verify_model::limits::MAX_PENDING_PUSH_CHALLENGES;
    let h = Harness::new(75);
    let e = crate::push::enrolled(&h, 75);
    block_on(async {
        let request =
            || NewChallengeRequest::new().with_details(Details::new("Log in?", vec![]).unwrap());
        let mut first = None;
        for _ in 0..MAX_PENDING_PUSH_CHALLENGES {
            let created = h
                .verify
                .create_challenge(e.service, &e.identity, e.factor.sid(), request())
                .await
                .unwrap();
            first.get_or_insert(created.challenge.sid());
            h.advance(10);
        }
        let refused = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap_err();
        assert_eq!((refused.code(), refused.http_status()), (20429, 429));
        // The first expires 300 s after its creation, 50 s ago.
        assert_eq!(refused.retry_after_secs(), Some(250));
        // The host denies one: room for one more.
        let denied = h
            .verify
            .deny_challenge(e.service, &e.identity, first.unwrap())
            .await
            .unwrap();
        assert_eq!(denied.outcome, ChallengeOutcome::Denied);
        let created = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap();
        assert_eq!(created.outcome, ChallengeOutcome::Created);
        assert!(
            h.verify
                .create_challenge(e.service, &e.identity, e.factor.sid(), request())
                .await
                .is_err()
        );
        // Once they expire, challenges can be created again.
        h.advance(300);
        let created = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap();
        assert_eq!(created.outcome, ChallengeOutcome::Created);
    });
}
