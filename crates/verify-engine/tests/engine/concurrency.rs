//! Many tasks on a multi-threaded runtime racing one decision: exactly one wins.

use std::sync::Arc;

use serde_json::Value;
use verify_engine::{ChallengeUpdate, NewChallengeRequest, VerifyError};
use verify_model::{ChallengeOutcome, ChallengeStatus, Details, EventType};

use crate::support::Harness;

const TASKS: usize = 16;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap()
}

fn approvals(results: &[Result<ChallengeUpdate, VerifyError>]) -> usize {
    results
        .iter()
        .filter(|r| matches!(r, Ok(u) if u.outcome == ChallengeOutcome::Approved))
        .count()
}

#[test]
fn many_tasks_approving_one_push_challenge_one_wins() {
    let h = Harness::new(40);
    let e = crate::push::enrolled(&h, 40);
    let h = Arc::new(h);
    runtime().block_on(async {
        let challenge = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new().with_details(Details::new("Log in?", vec![]).unwrap()),
            )
            .await
            .unwrap()
            .challenge;
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, challenge.sid())
            .await
            .unwrap();
        let mut signed = serde_json::Map::new();
        for field in served.signature_fields.split(',') {
            signed.insert(field.to_owned(), served.json[field].clone());
        }
        signed.insert("status".into(), Value::String("approved".into()));
        let answer = e.device.answer(&serde_json::to_string(&signed).unwrap());
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let h = Arc::clone(&h);
            let answer = answer.clone();
            let identity = e.identity.clone();
            let service = e.service;
            let sid = challenge.sid();
            tasks.push(tokio::spawn(async move {
                h.verify
                    .update_challenge(service, &identity, sid, &answer, None)
                    .await
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(approvals(&results), 1, "{results:?}");
        for result in &results {
            if let Err(error) = result {
                assert!(
                    matches!(error, VerifyError::Conflict { .. }) || error.http_status() == 409,
                    "{error:?}"
                );
            }
        }
        let events = h.verify.drain_events(1000).await.unwrap();
        let approved = events
            .iter()
            .filter(|e| e.event.event_type == EventType::ChallengeApproved)
            .count();
        assert_eq!(approved, 1);
    });
}

#[test]
fn many_tasks_consuming_one_totp_step_one_wins() {
    let h = Harness::new(41);
    let e = crate::totp::enrolled(&h);
    h.advance(30);
    let h = Arc::new(h);
    runtime().block_on(async {
        let code = crate::totp::rfc6238_code(&e.secret, h.now().as_secs());
        let mut challenges = Vec::new();
        for _ in 0..TASKS {
            challenges.push(
                h.verify
                    .create_challenge(
                        e.service,
                        &e.identity,
                        e.factor.sid(),
                        NewChallengeRequest::new(),
                    )
                    .await
                    .unwrap()
                    .challenge
                    .sid(),
            );
        }
        let mut tasks = Vec::new();
        for sid in challenges.clone() {
            let h = Arc::clone(&h);
            let code = code.clone();
            let identity = e.identity.clone();
            let service = e.service;
            tasks.push(tokio::spawn(async move {
                h.verify
                    .update_challenge(service, &identity, sid, &code, None)
                    .await
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(approvals(&results), 1, "{results:?}");
        let mut approved = 0;
        for sid in challenges {
            let challenge = h
                .verify
                .fetch_challenge(e.service, &e.identity, sid)
                .await
                .unwrap();
            if challenge.status_at(h.now()) == ChallengeStatus::Approved {
                approved += 1;
            }
        }
        assert_eq!(approved, 1);
    });
}

#[test]
fn racing_first_factors_share_one_entity_and_a_token_enrolls_once() {
    let h = Arc::new(Harness::new(42));
    runtime().block_on(async {
        let service = h
            .verify
            .create_service("Owl", &verify_engine::ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = verify_model::Identity::parse("racer-0001").unwrap();
        // Many first factors of one new identity at once: one entity for all.
        let mut tasks = Vec::new();
        for i in 0..TASKS {
            let h = Arc::clone(&h);
            let identity = identity.clone();
            tasks.push(tokio::spawn(async move {
                h.verify
                    .create_totp_factor(
                        service,
                        &identity,
                        verify_engine::NewTotpFactor::new(&format!("app {i}")),
                    )
                    .await
            }));
        }
        let mut entities = std::collections::HashSet::new();
        for task in tasks {
            entities.insert(task.await.unwrap().unwrap().factor.entity_sid());
        }
        assert_eq!(entities.len(), 1);

        // Many devices presenting one enrollment token at once: one factor.
        let token = h
            .verify
            .create_access_token(service, &identity, None, None)
            .await
            .unwrap();
        let device = crate::support::Device::new(42);
        let request = verify_engine::NewPushFactor::new("phone", &device.binding(), "com.owl");
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let h = Arc::clone(&h);
            let identity = identity.clone();
            let credential = token.credential().to_owned();
            let request = request.clone();
            tasks.push(tokio::spawn(async move {
                h.verify
                    .create_push_factor(service, &identity, &credential, request)
                    .await
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(error) => assert_eq!(error.http_status(), 401, "{error:?}"),
            }
        }
        assert_eq!(created, 1);
    });
}
