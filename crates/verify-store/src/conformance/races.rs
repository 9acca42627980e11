//! The concurrency checks: many tasks on a multi-threaded runtime race on one record
//! through clones of one store, each reloading and retrying on a conflict as the
//! engine does. Exactly one may win where one must.

use std::collections::BTreeSet;

use verify_model::{
    ChallengeSid, ChallengeStatus, EventType, Factor, FactorKind, FactorSid, ServiceSid,
    VerificationProof,
};

use super::checks::{at, outbox_types, service_and_entity, verified_totp};
use super::fixture::{Fixture, T0};
use super::{Failure, ensure, ok};
use crate::error::StoreError;
use crate::store::{FactorInsert, Store};

/// How many tasks race.
const RACERS: usize = 16;
/// Retries before a task gives up (a store that never lets anyone win).
const MAX_ROUNDS: usize = 1_000;

/// What one racing task ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Its write went through and decided the challenge.
    Won(ChallengeStatus),
    /// Its code was refused as already used (recorded as a failed attempt).
    Replayed,
    /// The model refused: the challenge was no longer pending.
    TooLate,
}

async fn join_all(
    check: &'static str,
    handles: Vec<tokio::task::JoinHandle<Result<Ending, Failure>>>,
) -> Result<Vec<Ending>, Failure> {
    let mut endings = Vec::with_capacity(handles.len());
    for handle in handles {
        match handle.await {
            Ok(result) => endings.push(result?),
            Err(error) => {
                return Err(Failure::new(
                    check,
                    format!("a racing task failed: {error}"),
                ));
            }
        }
    }
    Ok(endings)
}

/// A start line: every racer reads before any writes, so the first round really
/// races (without it, fast stores finish one task before the next starts).
fn start_line() -> std::sync::Arc<tokio::sync::Barrier> {
    std::sync::Arc::new(tokio::sync::Barrier::new(RACERS))
}

async fn load_challenge<S: Store>(
    check: &'static str,
    store: &S,
    service: ServiceSid,
    sid: ChallengeSid,
) -> Result<verify_model::Challenge, Failure> {
    match ok!(
        check,
        store.get_challenge(service, sid),
        "reload the challenge"
    ) {
        Some(challenge) => Ok(challenge),
        None => Err(Failure::new(check, "the challenge disappeared".to_owned())),
    }
}

async fn load_factor<S: Store>(
    check: &'static str,
    store: &S,
    service: ServiceSid,
    sid: FactorSid,
) -> Result<Factor, Failure> {
    match ok!(check, store.get_factor(service, sid), "reload the factor") {
        Some(factor) => Ok(factor),
        None => Err(Failure::new(check, "the factor disappeared".to_owned())),
    }
}

/// Sixteen tasks answer one push challenge (half approve, half deny), each
/// reloading and retrying on a conflict: exactly one answer wins, the stored status
/// is the winner's, and exactly one event is written.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_challenge_approval<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_challenge_approval";
    let mut fx = Fixture::new(C, 20);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let (phone, events) = fx.push_factor(&entity, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&phone, &events)),
        "insert a push factor"
    );
    let (phone, events) = fx.verified(&phone, VerificationProof::PushSignature, at(10))?;
    ok!(C, store.update_factor(&phone, &events), "verify it");
    let challenge = fx.challenge(&phone, at(20))?;
    ok!(
        C,
        store.insert_challenge(&challenge, &[]),
        "insert a challenge"
    );
    let before = outbox_types(C, &store).await?.len();

    let start = start_line();
    let mut handles = Vec::new();
    for racer in 0..RACERS {
        let store = store.clone();
        let phone = phone.clone();
        let start = std::sync::Arc::clone(&start);
        let (service, sid) = (service.sid(), challenge.sid());
        handles.push(tokio::spawn(async move {
            let answer = verify_model::AnswerInput::new(at(30)).with_factor(&phone);
            for round in 0..MAX_ROUNDS {
                let current = load_challenge(C, &store, service, sid).await;
                if round == 0 {
                    start.wait().await;
                }
                let current = current?;
                let decided = if racer % 2 == 0 {
                    current.approve(&answer)
                } else {
                    current.deny(&answer)
                };
                let Ok(transition) = decided else {
                    return Ok(Ending::TooLate);
                };
                match store
                    .update_challenge(&transition.challenge, &transition.events)
                    .await
                {
                    Ok(()) => return Ok(Ending::Won(transition.challenge.status_at(at(30)))),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(other) => {
                        return Err(Failure::new(
                            C,
                            format!("a racing answer failed: {other:?}"),
                        ));
                    }
                }
            }
            Err(Failure::new(
                C,
                "no answer won within the retry limit".to_owned(),
            ))
        }));
    }
    let endings = join_all(C, handles).await?;
    let winners: Vec<ChallengeStatus> = endings
        .iter()
        .filter_map(|e| match e {
            Ending::Won(status) => Some(*status),
            _ => None,
        })
        .collect();
    ensure!(
        C,
        winners.len() == 1,
        "{} answers won a race for one challenge: {endings:?}",
        winners.len()
    );
    let stored = load_challenge(C, &store, service.sid(), challenge.sid()).await?;
    ensure!(
        C,
        winners.first() == Some(&stored.status_at(at(30))),
        "the stored status {:?} is not the winner's {winners:?}",
        stored.status_at(at(30))
    );
    let after = outbox_types(C, &store).await?;
    let answers = after.get(before..).unwrap_or_default();
    ensure!(
        C,
        answers.len() == 1
            && answers
                .iter()
                .all(|t| matches!(t, EventType::ChallengeApproved | EventType::ChallengeDenied)),
        "a race for one challenge wrote events {answers:?}"
    );
    Ok(())
}

/// Sixteen tasks each answer their own TOTP challenge with a code of the same
/// time step: exactly one approval; every other task sees the step as used.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_totp_step<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_totp_step";
    const STEP: u64 = 200;
    let mut fx = Fixture::new(C, 21);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let factor = verified_totp(C, &store, &mut fx, &entity).await?;
    let mut challenges = Vec::new();
    for _ in 0..RACERS {
        let challenge = fx.challenge(&factor, at(40))?;
        ok!(
            C,
            store.insert_challenge(&challenge, &[]),
            "insert a challenge"
        );
        challenges.push(challenge.sid());
    }

    let mut handles = Vec::new();
    let start = start_line();
    for sid in challenges {
        let store = store.clone();
        let start = std::sync::Arc::clone(&start);
        let (service, factor_sid) = (service.sid(), factor.sid());
        handles.push(tokio::spawn(async move {
            for round in 0..MAX_ROUNDS {
                let factor = load_factor(C, &store, service, factor_sid).await;
                let challenge = load_challenge(C, &store, service, sid).await;
                if round == 0 {
                    start.wait().await;
                }
                let (factor, challenge) = (factor?, challenge?);
                let Ok(paired) = challenge.approve_totp(&factor, STEP, at(50)) else {
                    return Ok(Ending::TooLate);
                };
                let written = match &paired.factor {
                    Some(factor_write) => {
                        store
                            .update_challenge_and_factor(&paired.challenge, factor_write)
                            .await
                    }
                    None => {
                        store
                            .update_challenge(&paired.challenge.challenge, &paired.challenge.events)
                            .await
                    }
                };
                match written {
                    Ok(()) if paired.factor.is_some() => {
                        return Ok(Ending::Won(paired.challenge.challenge.status_at(at(50))));
                    }
                    Ok(()) => return Ok(Ending::Replayed),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(other) => {
                        return Err(Failure::new(C, format!("a racing code failed: {other:?}")));
                    }
                }
            }
            Err(Failure::new(
                C,
                "no code was decided within the retry limit".to_owned(),
            ))
        }));
    }
    let endings = join_all(C, handles).await?;
    let approved = endings
        .iter()
        .filter(|e| **e == Ending::Won(ChallengeStatus::Approved))
        .count();
    let replayed = endings.iter().filter(|e| **e == Ending::Replayed).count();
    ensure!(
        C,
        approved == 1 && replayed == RACERS.saturating_sub(1),
        "one TOTP step accepted {approved} times ({replayed} refused as used): {endings:?}"
    );
    let stored = load_factor(C, &store, service.sid(), factor.sid()).await?;
    let step = match stored.kind() {
        FactorKind::Totp(totp) => totp.last_used_step(),
        _ => None,
    };
    ensure!(
        C,
        step == Some(STEP),
        "the stored last used step is {step:?}, expected {STEP}"
    );
    let approvals = outbox_types(C, &store)
        .await?
        .into_iter()
        .filter(|t| *t == EventType::ChallengeApproved)
        .count();
    ensure!(
        C,
        approvals == 1,
        "{approvals} challenge.approved events for one TOTP step"
    );
    Ok(())
}

fn sign_count_of(factor: &Factor) -> Option<u32> {
    match factor.kind() {
        FactorKind::Passkeys(passkey) => passkey.credential().map(|c| c.sign_count),
        _ => None,
    }
}

/// Sixteen tasks each approve their own passkey challenge with a different sign
/// count while a watcher reads the factor: the count read never goes down, ends at
/// the highest, and a write from a stale read is refused.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_sign_count<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_sign_count";
    let mut fx = Fixture::new(C, 22);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let (passkey, events) = fx.passkey_factor(&entity, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&passkey, &events)),
        "insert a passkey factor"
    );
    let credential = fx.credential(b"cred-race", 0)?;
    let (passkey, events) =
        fx.verified(&passkey, VerificationProof::Passkey(credential), at(10))?;
    ok!(C, store.update_factor(&passkey, &events), "verify it");
    let mut challenges = Vec::new();
    for _ in 0..RACERS {
        let challenge = fx.challenge(&passkey, at(20))?;
        ok!(
            C,
            store.insert_challenge(&challenge, &[]),
            "insert a challenge"
        );
        challenges.push(challenge.sid());
    }

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let watcher = {
        let store = store.clone();
        let (service, sid) = (service.sid(), passkey.sid());
        tokio::spawn(async move {
            let mut seen = 0_u32;
            loop {
                let factor = load_factor(C, &store, service, sid).await?;
                let count = sign_count_of(&factor).unwrap_or_default();
                ensure!(
                    C,
                    count >= seen,
                    "the sign count went down from {seen} to {count}"
                );
                seen = count;
                if *stop_rx.borrow_and_update() {
                    return Ok(seen);
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let mut handles = Vec::new();
    let start = start_line();
    for (index, sid) in challenges.into_iter().enumerate() {
        let store = store.clone();
        let start = std::sync::Arc::clone(&start);
        let (service, factor_sid) = (service.sid(), passkey.sid());
        let count = u32::try_from(index)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
            .saturating_mul(10);
        handles.push(tokio::spawn(async move {
            for round in 0..MAX_ROUNDS {
                let factor = load_factor(C, &store, service, factor_sid).await;
                let challenge = load_challenge(C, &store, service, sid).await;
                if round == 0 {
                    start.wait().await;
                }
                let (factor, challenge) = (factor?, challenge?);
                let Ok(paired) = challenge.approve_passkey(&factor, count, false, at(30)) else {
                    return Ok(Ending::TooLate);
                };
                let Some(factor_write) = paired.factor.as_ref() else {
                    return Err(Failure::new(
                        C,
                        "the model did not record the sign count".to_owned(),
                    ));
                };
                let Some(written) = sign_count_of(&factor_write.factor) else {
                    return Err(Failure::new(C, "the factor lost its credential".to_owned()));
                };
                ensure!(
                    C,
                    written >= sign_count_of(&factor).unwrap_or_default(),
                    "the model lowered a count"
                );
                match store
                    .update_challenge_and_factor(&paired.challenge, factor_write)
                    .await
                {
                    Ok(()) => return Ok(Ending::Won(ChallengeStatus::Approved)),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(other) => {
                        return Err(Failure::new(
                            C,
                            format!("a racing sign-in failed: {other:?}"),
                        ));
                    }
                }
            }
            Err(Failure::new(
                C,
                "a sign-in never got through within the retry limit".to_owned(),
            ))
        }));
    }
    let endings = join_all(C, handles).await?;
    let _ = stop_tx.send(true);
    match watcher.await {
        Ok(result) => {
            result?;
        }
        Err(error) => return Err(Failure::new(C, format!("the watcher failed: {error}"))),
    }
    ensure!(
        C,
        endings
            .iter()
            .all(|e| *e == Ending::Won(ChallengeStatus::Approved)),
        "every sign-in with its own challenge must get through: {endings:?}"
    );
    let stored = load_factor(C, &store, service.sid(), passkey.sid()).await?;
    let highest = u32::try_from(RACERS).unwrap_or(u32::MAX).saturating_mul(10);
    ensure!(
        C,
        sign_count_of(&stored) == Some(highest),
        "the stored sign count is {:?}, expected the highest, {highest}",
        sign_count_of(&stored)
    );
    // A write prepared from the factor as first read (count 0) must be refused.
    let late = fx.challenge(&passkey, at(40))?;
    ok!(
        C,
        store.insert_challenge(&late, &[]),
        "insert one more challenge"
    );
    let stale = fx.model(late.approve_passkey(&passkey, 5, false, at(41)))?;
    if let Some(factor_write) = stale.factor.as_ref() {
        let result = store
            .update_challenge_and_factor(&stale.challenge, factor_write)
            .await;
        ensure!(
            C,
            matches!(result, Err(StoreError::Conflict { .. })),
            "a stale sign count write returned {result:?}"
        );
    }
    let stored = load_factor(C, &store, service.sid(), passkey.sid()).await?;
    ensure!(
        C,
        sign_count_of(&stored) == Some(highest),
        "a stale write lowered the sign count"
    );
    Ok(())
}

/// Concurrent drains hand out every event exactly once, each batch in order.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_outbox_drain<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_outbox_drain";
    const EVENTS: usize = 240;
    let mut fx = Fixture::new(C, 23);
    let (_, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let (factor, events) = fx.totp_factor(&entity, T0)?;
    let Some(event) = events.first() else {
        return Err(Failure::new(
            C,
            "the model wrote no factor.created event".to_owned(),
        ));
    };
    let many = vec![event.clone(); EVENTS];
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&factor, &many)),
        "a write with many events"
    );

    let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let start = std::sync::Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            let mut got = Vec::new();
            for _ in 0..MAX_ROUNDS {
                let batch = match store.drain_events(7).await {
                    Ok(batch) => batch,
                    Err(error) => return Err(Failure::new(C, format!("drain failed: {error:?}"))),
                };
                if batch.is_empty() {
                    return Ok(got);
                }
                ensure!(
                    C,
                    batch
                        .windows(2)
                        .all(|w| matches!(w, [a, b] if a.sequence < b.sequence)),
                    "a drained batch is out of order"
                );
                got.extend(batch.into_iter().map(|e| e.sequence));
                tokio::task::yield_now().await;
            }
            Err(Failure::new(
                C,
                "the outbox never emptied: drains do not remove events".to_owned(),
            ))
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        match handle.await {
            Ok(result) => all.extend(result?),
            Err(error) => return Err(Failure::new(C, format!("a draining task failed: {error}"))),
        }
    }
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    ensure!(
        C,
        all.len() == EVENTS && distinct.len() == EVENTS,
        "{} events drained ({} distinct) of {EVENTS}",
        all.len(),
        distinct.len()
    );
    Ok(())
}

/// Sixteen tasks create the first entity of one identity at once (as sixteen first
/// factors would): exactly one insert wins, every other gets
/// [`StoreError::Duplicate`] on the identity and reads the winner back.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_entity_identity<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_entity_identity";
    let mut fx = Fixture::new(C, 24);
    let service = fx.service("Owl Bank")?;
    ok!(C, store.insert_service(&service), "insert a service");
    let start = start_line();
    let mut handles = Vec::new();
    for _ in 0..RACERS {
        let entity = fx.entity(&service, "user-0001")?;
        let store = store.clone();
        let start = std::sync::Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            match store.insert_entity(&entity).await {
                Ok(()) => Ok(Some(entity.sid())),
                Err(StoreError::Duplicate {
                    key: crate::error::UniqueKey::Identity,
                    ..
                }) => Ok(None),
                Err(other) => Err(Failure::new(
                    C,
                    format!("a racing insert failed: {other:?}"),
                )),
            }
        }));
    }
    let mut winners = Vec::new();
    for handle in handles {
        match handle.await {
            Ok(result) => winners.extend(result?),
            Err(error) => return Err(Failure::new(C, format!("a racing task failed: {error}"))),
        }
    }
    ensure!(
        C,
        winners.len() == 1,
        "{} entities created for one identity",
        winners.len()
    );
    let identity = fx.identity("user-0001")?;
    let read = ok!(
        C,
        store.get_entity_by_identity(service.sid(), &identity),
        "read the winner"
    );
    ensure!(
        C,
        read.map(|e| e.sid()).as_ref() == winners.first(),
        "the stored entity is not the one whose insert succeeded"
    );
    Ok(())
}

/// Sixteen devices enroll a push factor with one access token at once: exactly one
/// factor is created, and exactly one `factor.created` event written.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn race_token_redeem<S: Store + Clone + 'static>(store: S) -> Result<(), Failure> {
    const C: &str = "race_token_redeem";
    let mut fx = Fixture::new(C, 25);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let token = fx.access_token(&service, entity.identity(), T0)?;
    ok!(C, store.insert_access_token(&token), "insert a token");
    let redeemed = fx.model(token.redeem(&token.token(), at(5)))?;
    let start = start_line();
    let mut handles = Vec::new();
    for _ in 0..RACERS {
        let (factor, events) = fx.push_factor(&entity, at(5))?;
        let (store, redeemed) = (store.clone(), redeemed.clone());
        let start = std::sync::Arc::clone(&start);
        handles.push(tokio::spawn(async move {
            start.wait().await;
            let insert = FactorInsert::new(&factor, &events).redeeming(&redeemed);
            match store.insert_factor(insert).await {
                Ok(()) => Ok(true),
                Err(StoreError::Conflict { .. }) => Ok(false),
                Err(other) => Err(Failure::new(
                    C,
                    format!("a racing enrollment failed: {other:?}"),
                )),
            }
        }));
    }
    let mut enrolled = 0_usize;
    for handle in handles {
        match handle.await {
            Ok(result) => enrolled = enrolled.saturating_add(usize::from(result?)),
            Err(error) => return Err(Failure::new(C, format!("a racing task failed: {error}"))),
        }
    }
    ensure!(
        C,
        enrolled == 1,
        "one access token enrolled {enrolled} factors"
    );
    let count = ok!(
        C,
        store.count_factors(entity.sid(), verify_model::FactorType::Push),
        "count"
    );
    ensure!(
        C,
        count == 1,
        "{count} push factors stored for one access token"
    );
    let created = outbox_types(C, &store)
        .await?
        .into_iter()
        .filter(|t| *t == EventType::FactorCreated)
        .count();
    ensure!(
        C,
        created == 1,
        "{created} factor.created events for one access token"
    );
    Ok(())
}
