//! Cross-process races on PostgreSQL: several OS processes (this test binary
//! re-executed as workers, each with its own connection pool) approve one challenge
//! and consume one TOTP step at the same time, round after round: exactly one wins
//! each race, every round.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use verify_model::{ChallengeSid, FactorSid, ServiceSid, VerificationProof};
use verify_store::{FactorInsert, Store, StoreError};
use verify_store_sql::PgStore;

use crate::support::{PG_URL_VAR, Records, at, pg_schema_name, pg_url, schema_options};

const WORKERS: usize = 4;
const ROUNDS: usize = 25;
const PLAN_VAR: &str = "VERIFY_SQL_RACE_PLAN";
/// The TOTP step every racer presents (the factor was verified at step 100).
const STEP: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn one_winner_per_round_across_processes() {
    let url = pg_url("one_winner_per_round_across_processes");
    let schema = pg_schema_name(&url, "cross").await;
    let store = PgStore::connect_with(schema_options(&url, &schema), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut records = Records::new(31);
    let (service, entity, phone) = records.phone_in(&store, "user-0001").await;

    // Each round: one push challenge everybody answers, and a fresh TOTP factor with
    // one challenge per worker, all presenting the same step.
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let push_challenge = records.challenge(&phone, at(20));
        store.insert_challenge(&push_challenge, &[]).await.unwrap();
        let (totp, events) = records.totp_factor(&entity);
        store
            .insert_factor(FactorInsert::new(&totp, &events))
            .await
            .unwrap();
        let (totp, events) = Records::verified(&totp, VerificationProof::TotpStep(100), at(30));
        store.update_factor(&totp, &events).await.unwrap();
        let mut totp_challenges = Vec::new();
        for _ in 0..WORKERS {
            let challenge = records.challenge(&totp, at(40));
            store.insert_challenge(&challenge, &[]).await.unwrap();
            totp_challenges.push(challenge.sid().to_string());
        }
        rounds.push(serde_json::json!({
            "push_challenge": push_challenge.sid().to_string(),
            "phone": phone.sid().to_string(),
            "totp_factor": totp.sid().to_string(),
            "totp_challenges": totp_challenges,
        }));
    }
    let start_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1500;

    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for worker in 0..WORKERS {
        let plan = serde_json::json!({
            "url": url,
            "schema": schema,
            "service": service.sid().to_string(),
            "worker": worker,
            "start_ms": start_ms.to_string(),
            "rounds": rounds,
        });
        let child = Command::new(&exe)
            .args([
                "cross_process::worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PLAN_VAR, plan.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    let mut approvals = vec![0_usize; ROUNDS];
    let mut steps = vec![0_usize; ROUNDS];
    let mut lines_seen = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a worker failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // libtest prints "test cross_process::worker ... " just before the first line.
        for line in stdout
            .lines()
            .filter_map(|l| l.split_once("RACE ").map(|(_, r)| r))
        {
            lines_seen += 1;
            let parts: Vec<&str> = line.split(' ').collect();
            let round: usize = parts[1].parse().unwrap();
            let won = parts[2] == "won";
            match parts[0] {
                "approve" if won => approvals[round] += 1,
                "step" if won => steps[round] += 1,
                "approve" | "step" => {}
                other => panic!("unknown race {other}"),
            }
        }
    }
    assert_eq!(
        lines_seen,
        WORKERS * ROUNDS * 2,
        "every worker reports every round"
    );
    assert_eq!(
        approvals,
        vec![1; ROUNDS],
        "winners of each round's challenge"
    );
    assert_eq!(steps, vec![1; ROUNDS], "winners of each round's TOTP step");
    for round in &rounds {
        let sid = ChallengeSid::parse(round["push_challenge"].as_str().unwrap()).unwrap();
        let stored = store
            .get_challenge(service.sid(), sid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.version(), 1, "exactly one write landed");
    }
}

/// One racing process (run by `one_winner_per_round_across_processes`; does nothing
/// on its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process of one_winner_per_round_across_processes"]
async fn worker() {
    let Ok(plan) = std::env::var(PLAN_VAR) else {
        return;
    };
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    let url = text(&plan["url"]);
    let schema = text(&plan["schema"]);
    let _ = PG_URL_VAR;
    let service = ServiceSid::parse(&text(&plan["service"])).unwrap();
    let worker = usize::try_from(plan["worker"].as_u64().unwrap()).unwrap();
    let start_ms: u128 = text(&plan["start_ms"]).parse().unwrap();
    let store = PgStore::connect_with(schema_options(&url, &schema), 2)
        .await
        .unwrap();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    if let Some(wait) = start_ms.checked_sub(now_ms) {
        tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
    }
    for (index, round) in plan["rounds"].as_array().unwrap().iter().enumerate() {
        let challenge = ChallengeSid::parse(&text(&round["push_challenge"])).unwrap();
        let phone = FactorSid::parse(&text(&round["phone"])).unwrap();
        let won = approve(&store, service, challenge, phone, worker).await;
        println!("RACE approve {index} {}", if won { "won" } else { "lost" });
        let factor = FactorSid::parse(&text(&round["totp_factor"])).unwrap();
        let mine = ChallengeSid::parse(&text(&round["totp_challenges"][worker])).unwrap();
        let won = use_step(&store, service, factor, mine).await;
        println!("RACE step {index} {}", if won { "won" } else { "lost" });
    }
}

/// Answers the push challenge (even workers approve, odd ones deny), reloading on
/// a conflict as the engine does; whether this process's answer won.
async fn approve(
    store: &PgStore,
    service: ServiceSid,
    sid: ChallengeSid,
    phone: FactorSid,
    worker: usize,
) -> bool {
    let phone = store.get_factor(service, phone).await.unwrap().unwrap();
    let answer = verify_model::AnswerInput::new(at(30)).with_factor(&phone);
    loop {
        let current = store.get_challenge(service, sid).await.unwrap().unwrap();
        let decided = if worker.is_multiple_of(2) {
            current.approve(&answer)
        } else {
            current.deny(&answer)
        };
        let Ok(transition) = decided else {
            return false; // already answered
        };
        match store
            .update_challenge(&transition.challenge, &transition.events)
            .await
        {
            Ok(()) => return true,
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("answer failed: {other:?}"),
        }
    }
}

/// Presents the round's TOTP step on this worker's own challenge; whether it was
/// accepted (the step consumed by this process).
async fn use_step(
    store: &PgStore,
    service: ServiceSid,
    factor: FactorSid,
    sid: ChallengeSid,
) -> bool {
    loop {
        let factor = store.get_factor(service, factor).await.unwrap().unwrap();
        let challenge = store.get_challenge(service, sid).await.unwrap().unwrap();
        let paired = challenge.approve_totp(&factor, STEP, at(50)).unwrap();
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
            Ok(()) => return paired.factor.is_some(),
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("step failed: {other:?}"),
        }
    }
}
