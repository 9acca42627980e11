//! Property: random interleavings of three clients (each acting on its own, possibly
//! stale, reads) and clock advances, written through `MemoryStore`, never produce two
//! answers to one challenge, an approval at or after expiry, a terminal challenge that
//! changes, a sign count or TOTP step that goes down, or a version that skips.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use verify_model::ceremony::{PasskeyCeremony, PasskeyRequestOptions};
use verify_model::factor::PasskeyCredential;
use verify_model::{
    AnswerInput, Challenge, ChallengeSid, ChallengeStatus, ChallengeTarget, Entity, EventType,
    Factor, FactorKind, FactorSid, FactorType, Identity, NewChallenge, NewFactor, PasskeysConfig,
    RelyingParty, Service, TotpAlgorithm, TotpParams, TotpSecret, UnixTime, VerificationProof,
};
use verify_store::{FactorInsert, MemoryStore, Store, StoreError};

const CLIENTS: usize = 3;
const CHALLENGES: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Reload {
        client: usize,
    },
    Approve {
        client: usize,
        challenge: usize,
        counter: u32,
    },
    Deny {
        client: usize,
        challenge: usize,
    },
    WrongCode {
        client: usize,
        challenge: usize,
    },
    PollExpiry {
        client: usize,
        challenge: usize,
    },
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    let challenge = 0..CHALLENGES;
    prop_oneof![
        client.clone().prop_map(|client| Op::Reload { client }),
        (client.clone(), challenge.clone(), 0_u32..50).prop_map(|(client, challenge, counter)| {
            Op::Approve {
                client,
                challenge,
                counter,
            }
        }),
        (client.clone(), challenge.clone())
            .prop_map(|(client, challenge)| Op::Deny { client, challenge }),
        (client.clone(), challenge.clone())
            .prop_map(|(client, challenge)| Op::WrongCode { client, challenge }),
        (client, challenge).prop_map(|(client, challenge)| Op::PollExpiry { client, challenge }),
        (0_u64..120).prop_map(|secs| Op::Advance { secs }),
    ]
}

/// What one client last read.
#[derive(Clone)]
struct View {
    factors: BTreeMap<FactorSid, Factor>,
    challenges: Vec<Challenge>,
}

struct World {
    store: MemoryStore,
    service: Service,
    passkey: FactorSid,
    totp: FactorSid,
    challenges: Vec<ChallengeSid>,
}

fn err(what: &str, e: impl std::fmt::Debug) -> String {
    format!("{what}: {e:?}")
}

async fn setup(seed: u64) -> Result<World, String> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t0 = UnixTime::from_secs(1_767_225_600);
    let store = MemoryStore::new();
    let service = Service::create("Owl Bank", t0, &mut rng).map_err(|e| err("service", e))?;
    store
        .insert_service(&service)
        .await
        .map_err(|e| err("insert service", e))?;
    let identity = Identity::parse("user-0001").map_err(|e| err("identity", e))?;
    let entity = Entity::create(service.sid(), identity, t0, &mut rng);
    store
        .insert_entity(&entity)
        .await
        .map_err(|e| err("insert entity", e))?;
    let new = || {
        NewFactor::new(
            service.sid(),
            entity.sid(),
            entity.identity().clone(),
            "Key",
        )
    };

    let rp = RelyingParty::new("example.com", "Owl", vec!["https://example.com".to_owned()])
        .map_err(|e| err("rp", e))?;
    let passkey = Factor::create(
        new(),
        FactorKind::passkeys(PasskeysConfig::new(rp)),
        t0,
        &mut rng,
    )
    .map_err(|e| err("passkey", e))?;
    store
        .insert_factor(FactorInsert::new(&passkey.factor, &passkey.events))
        .await
        .map_err(|e| err("insert passkey", e))?;
    let credential = PasskeyCredential::new(
        b"cred".to_vec(),
        vec![1; 77],
        -7,
        10,
        Vec::new(),
        false,
        false,
        [0; 16],
        "none",
        true,
    )
    .map_err(|e| err("credential", e))?;
    let passkey = passkey
        .factor
        .verify(VerificationProof::Passkey(credential), t0)
        .map_err(|e| err("verify passkey", e))?;
    store
        .update_factor(&passkey.factor, &passkey.events)
        .await
        .map_err(|e| err("update passkey", e))?;

    let kind = FactorKind::totp(
        TotpSecret::generate(&mut rng),
        TotpAlgorithm::default(),
        TotpParams::default(),
    );
    let totp = Factor::create(new(), kind, t0, &mut rng).map_err(|e| err("totp", e))?;
    store
        .insert_factor(FactorInsert::new(&totp.factor, &totp.events))
        .await
        .map_err(|e| err("insert totp", e))?;
    let totp = totp
        .factor
        .verify(VerificationProof::TotpStep(10), t0)
        .map_err(|e| err("verify totp", e))?;
    store
        .update_factor(&totp.factor, &totp.events)
        .await
        .map_err(|e| err("update totp", e))?;

    let mut challenges = Vec::new();
    for index in 0..CHALLENGES {
        let (factor, input) = if index % 2 == 0 {
            let options = PasskeyRequestOptions::new(
                b"YC0".to_vec(),
                300_000,
                "example.com".to_owned(),
                Vec::new(),
                verify_model::UserVerification::Preferred,
            );
            let ceremony = PasskeyCeremony::new(options, Some(b"YE0".to_vec()));
            (&passkey.factor, NewChallenge::new().with_passkey(ceremony))
        } else {
            (&totp.factor, NewChallenge::new())
        };
        let created = Challenge::create(ChallengeTarget::Factor(factor), input, t0, &mut rng)
            .map_err(|e| err("challenge", e))?;
        store
            .insert_challenge(&created.challenge, &created.events)
            .await
            .map_err(|e| err("insert", e))?;
        challenges.push(created.challenge.sid());
    }
    Ok(World {
        store,
        service,
        passkey: passkey.factor.sid(),
        totp: totp.factor.sid(),
        challenges,
    })
}

async fn read(world: &World) -> Result<View, String> {
    let s = world.service.sid();
    let mut factors = BTreeMap::new();
    for sid in [world.passkey, world.totp] {
        let factor = world
            .store
            .get_factor(s, sid)
            .await
            .map_err(|e| err("get factor", e))?;
        factors.insert(sid, factor.ok_or("a factor vanished")?);
    }
    let mut challenges = Vec::new();
    for sid in &world.challenges {
        let challenge = world
            .store
            .get_challenge(s, *sid)
            .await
            .map_err(|e| err("get challenge", e))?;
        challenges.push(challenge.ok_or("a challenge vanished")?);
    }
    Ok(View {
        factors,
        challenges,
    })
}

fn sign_count(factor: &Factor) -> Option<u32> {
    match factor.kind() {
        FactorKind::Passkeys(p) => p.credential().map(|c| c.sign_count),
        _ => None,
    }
}

fn last_step(factor: &Factor) -> Option<u64> {
    match factor.kind() {
        FactorKind::Totp(t) => t.last_used_step(),
        _ => None,
    }
}

/// Applies one client operation; a conflict makes the client reload.
async fn apply(world: &World, views: &mut [View], op: &Op, now: UnixTime) -> Result<(), String> {
    let (client, index) = match *op {
        Op::Reload { client } => {
            if let Some(view) = views.get_mut(client) {
                *view = read(world).await?;
            }
            return Ok(());
        }
        Op::Advance { .. } => return Ok(()),
        Op::Approve {
            client, challenge, ..
        }
        | Op::Deny { client, challenge }
        | Op::WrongCode { client, challenge }
        | Op::PollExpiry { client, challenge } => (client, challenge),
    };
    let Some(view) = views.get(client) else {
        return Ok(());
    };
    let Some(challenge) = view.challenges.get(index) else {
        return Ok(());
    };
    let Some(factor) = challenge
        .factor_sid()
        .and_then(|sid| view.factors.get(&sid))
    else {
        return Err("a challenge without its factor".to_owned());
    };
    // Each op yields the new challenge, maybe a new factor, and events.
    let decided = match *op {
        Op::Approve { counter, .. } if factor.factor_type() == FactorType::Passkeys => challenge
            .approve_passkey(factor, counter, false, now)
            .map(|p| (p.challenge, p.factor)),
        Op::Approve { counter, .. } => challenge
            .approve_totp(factor, u64::from(counter), now)
            .map(|p| (p.challenge, p.factor)),
        Op::Deny { .. } => challenge
            .deny(&AnswerInput::new(now).with_factor(factor))
            .map(|t| (t, None)),
        Op::WrongCode { .. } => challenge.record_failed_attempt(now).map(|t| (t, None)),
        Op::PollExpiry { .. } => match challenge.poll_expiry(now) {
            Ok(Some(t)) => Ok((t, None)),
            Ok(None) => return Ok(()),
            Err(e) => Err(e),
        },
        Op::Reload { .. } | Op::Advance { .. } => return Ok(()),
    };
    // The model refused (terminal, replayed step...): nothing to write.
    let Ok((challenge_t, factor_t)) = decided else {
        return Ok(());
    };
    let written = match &factor_t {
        Some(f) => {
            world
                .store
                .update_challenge_and_factor(&challenge_t, f)
                .await
        }
        None => {
            world
                .store
                .update_challenge(&challenge_t.challenge, &challenge_t.events)
                .await
        }
    };
    match written {
        Ok(()) => {
            if let Some(view) = views.get_mut(client) {
                if let Some(slot) = view.challenges.get_mut(index) {
                    *slot = challenge_t.challenge;
                }
                if let Some(f) = factor_t {
                    view.factors.insert(f.factor.sid(), f.factor);
                }
            }
            Ok(())
        }
        Err(StoreError::Conflict { .. }) => {
            if let Some(view) = views.get_mut(client) {
                *view = read(world).await?;
            }
            Ok(())
        }
        Err(other) => Err(err("an unexpected store error", other)),
    }
}

async fn run(seed: u64, ops: Vec<Op>) -> Result<(), String> {
    let world = setup(seed).await?;
    let first = read(&world).await?;
    let mut views = vec![first.clone(); CLIENTS];
    let mut before = first;
    let mut now = UnixTime::from_secs(1_767_225_600);
    for op in &ops {
        if let Op::Advance { secs } = op {
            now = now.saturating_add(std::time::Duration::from_secs(*secs));
        }
        apply(&world, &mut views, op, now).await?;
        let after = read(&world).await?;
        for (old, new) in before.challenges.iter().zip(&after.challenges) {
            let stepped = new.version() == old.version() || new.version() == old.version() + 1;
            if !stepped {
                return Err(format!(
                    "a challenge version went {} -> {}",
                    old.version(),
                    new.version()
                ));
            }
            if old.state().status().is_terminal() && new != old {
                return Err(format!("terminal challenge changed: {old:?} -> {new:?}"));
            }
            if new.state().status() == ChallengeStatus::Approved
                && new
                    .date_responded()
                    .is_none_or(|d| d >= new.expiration_date())
            {
                return Err(format!("approved at or after expiry: {new:?}"));
            }
        }
        for (sid, old) in &before.factors {
            let Some(new) = after.factors.get(sid) else {
                return Err("factor vanished".to_owned());
            };
            if sign_count(new) < sign_count(old) {
                return Err(format!(
                    "sign count went down: {:?} -> {:?}",
                    sign_count(old),
                    sign_count(new)
                ));
            }
            if last_step(new) < last_step(old) {
                return Err(format!(
                    "TOTP step went down: {:?} -> {:?}",
                    last_step(old),
                    last_step(new)
                ));
            }
        }
        before = after;
    }
    // At most one terminal event per challenge.
    let events = world
        .store
        .peek_events(None, usize::MAX)
        .await
        .map_err(|e| err("peek", e))?;
    for sid in &world.challenges {
        let terminal = events
            .iter()
            .filter(|e| e.event.challenge_sid == Some(*sid))
            .filter(|e| {
                matches!(
                    e.event.event_type,
                    EventType::ChallengeApproved
                        | EventType::ChallengeDenied
                        | EventType::ChallengeExpired
                )
            })
            .count();
        if terminal > 1 {
            return Err(format!("{terminal} terminal events for one challenge"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn interleavings_keep_the_invariants(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        prop_assert_eq!(runtime.block_on(run(seed, ops)), Ok(()));
    }
}
