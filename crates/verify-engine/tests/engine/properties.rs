//! Random interleavings of operations and clock advances never produce two
//! approvals of one challenge, an approval at or after the expiration date, a
//! terminal challenge that changes again, a TOTP step used twice, a last used
//! step that goes down, or a passkey sign count that goes down.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::Value;
use verify_engine::NewChallengeRequest;
use verify_model::factor::FactorKind;
use verify_model::{ChallengeOutcome, ChallengeSid, ChallengeStatus, Details, EventType};

use crate::support::{Harness, block_on, request_options};

#[derive(Debug, Clone)]
enum PushOp {
    Create,
    Approve(usize),
    Deny(usize),
    HostDeny(usize),
    Fetch(usize),
    Advance(u64),
}

fn push_op() -> impl Strategy<Value = PushOp> {
    prop_oneof![
        2 => Just(PushOp::Create),
        4 => (0..6_usize).prop_map(PushOp::Approve),
        2 => (0..6_usize).prop_map(PushOp::Deny),
        1 => (0..6_usize).prop_map(PushOp::HostDeny),
        1 => (0..6_usize).prop_map(PushOp::Fetch),
        3 => (0..200_u64).prop_map(PushOp::Advance),
    ]
}

#[derive(Debug, Clone)]
enum TotpOp {
    Create,
    Current(usize),
    Previous(usize),
    Wrong(usize),
    Advance(u64),
}

fn totp_op() -> impl Strategy<Value = TotpOp> {
    prop_oneof![
        2 => Just(TotpOp::Create),
        4 => (0..6_usize).prop_map(TotpOp::Current),
        1 => (0..6_usize).prop_map(TotpOp::Previous),
        1 => (0..6_usize).prop_map(TotpOp::Wrong),
        3 => (0..90_u64).prop_map(TotpOp::Advance),
    ]
}

#[derive(Debug, Clone)]
enum PasskeyOp {
    Create { usernameless: bool },
    Answer { index: usize, count: u32 },
    Advance(u64),
}

fn passkey_op() -> impl Strategy<Value = PasskeyOp> {
    prop_oneof![
        2 => any::<bool>().prop_map(|usernameless| PasskeyOp::Create { usernameless }),
        5 => ((0..6_usize), (0..12_u32)).prop_map(|(index, count)| PasskeyOp::Answer { index, count }),
        2 => (0..200_u64).prop_map(PasskeyOp::Advance),
    ]
}

/// Terminal statuses seen per challenge must never change.
fn check_terminal(
    seen: &mut HashMap<ChallengeSid, ChallengeStatus>,
    sid: ChallengeSid,
    status: ChallengeStatus,
) {
    if let Some(previous) = seen.get(&sid) {
        assert_eq!(*previous, status, "terminal status changed");
    } else if status.is_terminal() {
        seen.insert(sid, status);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn push_interleavings(seed in any::<u64>(), ops in proptest::collection::vec(push_op(), 1..30)) {
        let h = Harness::new(seed);
        let e = crate::push::enrolled(&h, seed);
        block_on(async {
            let mut challenges: Vec<(ChallengeSid, String, String, u64)> = Vec::new();
            let mut terminal = HashMap::new();
            for op in ops {
                match op {
                    PushOp::Create => {
                        let created = h.verify.create_challenge(
                            e.service, &e.identity, e.factor.sid(),
                            NewChallengeRequest::new().with_details(Details::new("Log in?", vec![]).unwrap()),
                        ).await;
                        // Only the cap on pending push challenges may refuse one.
                        let c = match created {
                            Ok(created) => created.challenge,
                            Err(error) => {
                                assert_eq!(error.code(), 20429, "{error}");
                                continue;
                            }
                        };
                        let served = h.verify.serve_push_challenge(e.service, &e.identity, c.sid()).await.unwrap();
                        let sign = |status: &str| {
                            let mut signed = serde_json::Map::new();
                            for field in served.signature_fields.split(',') {
                                signed.insert(field.to_owned(), served.json[field].clone());
                            }
                            signed.insert("status".into(), Value::String(status.into()));
                            e.device.answer(&serde_json::to_string(&signed).unwrap())
                        };
                        challenges.push((c.sid(), sign("approved"), sign("denied"), c.expiration_date().as_secs()));
                    }
                    PushOp::Approve(i) | PushOp::Deny(i) => {
                        let Some((sid, approve, deny, expires)) = challenges.get(i % challenges.len().max(1)).cloned() else { continue };
                        let payload = if matches!(op, PushOp::Approve(_)) { approve } else { deny };
                        if let Ok(update) = h.verify.update_challenge(e.service, &e.identity, sid, &payload, None).await {
                            if update.outcome == ChallengeOutcome::Approved {
                                assert!(h.now().as_secs() < expires, "approved at or after expiry");
                            }
                            check_terminal(&mut terminal, sid, update.challenge.status_at(h.now()));
                        }
                    }
                    PushOp::HostDeny(i) => {
                        let Some((sid, ..)) = challenges.get(i % challenges.len().max(1)).cloned() else { continue };
                        if let Ok(update) = h.verify.deny_challenge(e.service, &e.identity, sid).await {
                            check_terminal(&mut terminal, sid, update.challenge.status_at(h.now()));
                        }
                    }
                    PushOp::Fetch(i) => {
                        let Some((sid, ..)) = challenges.get(i % challenges.len().max(1)).cloned() else { continue };
                        let c = h.verify.fetch_challenge(e.service, &e.identity, sid).await.unwrap();
                        check_terminal(&mut terminal, sid, c.status_at(h.now()));
                    }
                    PushOp::Advance(secs) => h.advance(secs),
                }
            }
            // The outbox: exactly one `challenge.created` (the notification) and
            // at most one terminal event per challenge, and an approval only
            // before the expiration date.
            let events = h.verify.drain_events(10_000).await.unwrap();
            let mut created = HashSet::new();
            let mut ended = HashSet::new();
            for event in events {
                let Some(sid) = event.event.challenge_sid else { continue };
                if event.event.event_type == EventType::ChallengeCreated {
                    assert!(!ended.contains(&sid), "created after it ended");
                    assert!(created.insert(sid), "two created events for one challenge");
                    continue;
                }
                assert!(created.contains(&sid), "ended without being created");
                assert!(ended.insert(sid), "two terminal events for one challenge");
                if event.event.event_type == EventType::ChallengeApproved {
                    let (_, _, _, expires) = challenges.iter().find(|c| c.0 == sid).unwrap();
                    assert!(event.event.time.as_secs() < *expires);
                }
            }
        });
    }

    #[test]
    fn totp_interleavings(seed in any::<u64>(), ops in proptest::collection::vec(totp_op(), 1..30)) {
        let h = Harness::new(seed);
        let e = crate::totp::enrolled(&h);
        block_on(async {
            let mut challenges: Vec<(ChallengeSid, u64)> = Vec::new();
            let mut used_steps = HashSet::new();
            let mut last_step = 0_u64;
            let mut terminal = HashMap::new();
            for op in ops {
                let now = h.now().as_secs();
                let (index, code) = match op {
                    TotpOp::Create => {
                        match h.verify.create_challenge(e.service, &e.identity, e.factor.sid(), NewChallengeRequest::new()).await {
                            Ok(created) => {
                                let c = created.challenge;
                                challenges.push((c.sid(), c.expiration_date().as_secs()));
                            }
                            // Only the guessing budget may refuse a creation, and only
                            // while it makes checks wait.
                            Err(error) => {
                                assert!(matches!(error.code(), 60202 | 20429), "{error}");
                                assert!(error.retry_after_secs().is_some_and(|s| s >= 1));
                            }
                        }
                        continue;
                    }
                    TotpOp::Advance(secs) => { h.advance(secs); continue; }
                    TotpOp::Current(i) => (i, crate::totp::rfc6238_code(&e.secret, now)),
                    TotpOp::Previous(i) => (i, crate::totp::rfc6238_code(&e.secret, now.saturating_sub(30))),
                    TotpOp::Wrong(i) => {
                        let good = crate::totp::rfc6238_code(&e.secret, now);
                        (i, if good == "000000" { "000001".to_owned() } else { "000000".to_owned() })
                    }
                };
                let Some((sid, expires)) = challenges.get(index % challenges.len().max(1)).copied() else { continue };
                if let Ok(update) = h.verify.update_challenge(e.service, &e.identity, sid, &code, None).await {
                    if update.outcome == ChallengeOutcome::Approved {
                        assert!(now < expires, "approved at or after expiry");
                    }
                    check_terminal(&mut terminal, sid, update.challenge.status_at(h.now()));
                }
                let factor = h.verify.fetch_factor(e.service, &e.identity, e.factor.sid()).await.unwrap();
                let FactorKind::Totp(totp) = factor.kind() else { panic!("a TOTP factor") };
                let step = totp.last_used_step().unwrap();
                assert!(step >= last_step, "last used step went down");
                if step > last_step {
                    assert!(used_steps.insert(step), "a step approved twice");
                }
                last_step = step;
            }
            let events = h.verify.drain_events(10_000).await.unwrap();
            let mut ended = HashSet::new();
            for event in events {
                let Some(sid) = event.event.challenge_sid else { continue };
                assert!(ended.insert(sid), "two terminal events for one challenge");
            }
        });
    }

    #[test]
    fn passkey_interleavings(seed in any::<u64>(), ops in proptest::collection::vec(passkey_op(), 1..30)) {
        let h = Harness::new(seed);
        block_on(async {
            let r = crate::passkeys::registered(&h, seed).await;
            let mut challenges: Vec<(ChallengeSid, Value, u64)> = Vec::new();
            let mut terminal = HashMap::new();
            let mut last_count = 0_u32;
            for op in ops {
                match op {
                    PasskeyOp::Create { usernameless } => {
                        let identity = (!usernameless).then_some(&r.identity);
                        let c = h.verify.create_passkey_challenge(r.service, identity, None, None).await.unwrap().challenge;
                        challenges.push((c.sid(), request_options(&c), c.expiration_date().as_secs()));
                    }
                    PasskeyOp::Advance(secs) => h.advance(secs),
                    PasskeyOp::Answer { index, count } => {
                        let Some((sid, options, expires)) = challenges.get(index % challenges.len().max(1)).cloned() else { continue };
                        let assertion = r.authenticator.get(&options, crate::passkeys::ORIGIN, count, &r.user_handle());
                        if let Ok(update) = h.verify.approve_passkey_challenge(r.service, sid, &assertion).await {
                            if update.outcome == ChallengeOutcome::Approved {
                                assert!(h.now().as_secs() < expires, "approved at or after expiry");
                            }
                            check_terminal(&mut terminal, sid, update.challenge.status_at(h.now()));
                        }
                        let factor = h.verify.fetch_factor(r.service, &r.identity, r.factor.sid()).await.unwrap();
                        let FactorKind::Passkeys(passkey) = factor.kind() else { panic!("a passkey factor") };
                        let stored = passkey.credential().unwrap().sign_count;
                        assert!(stored >= last_count, "sign count went down");
                        last_count = stored;
                    }
                }
            }
            let events = h.verify.drain_events(10_000).await.unwrap();
            let mut ended = HashSet::new();
            for event in events {
                let Some(sid) = event.event.challenge_sid else { continue };
                assert!(ended.insert(sid), "two terminal events for one challenge");
                if event.event.event_type == EventType::ChallengeApproved {
                    let (_, _, expires) = challenges.iter().find(|c| c.0 == sid).unwrap();
                    assert!(event.event.time.as_secs() < *expires);
                }
            }
        });
    }
}
