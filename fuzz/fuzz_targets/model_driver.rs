//! The drivers of the `model_*` fuzz targets, shared with
//! `crates/verify-model/tests/fuzz_corpus.rs`: that test `#[path]`-includes this file
//! and replays every committed corpus file through the same functions, decoding the
//! structure-aware inputs with the same `arbitrary::Unstructured`. One copy of the
//! driver, two users; nothing is added to verify-model itself.
//!
//! - `challenge`: a random sequence of operations with forward time deltas on a
//!   challenge of each kind; checks terminal stays terminal, at most one approval, no
//!   approval at or after expiry, attempts within the limit, versions + 1 per
//!   transition, `Err` changes nothing, the factor's last used TOTP step and passkey
//!   sign count never go down, and records round-trip through their storage form.
//! - `factor`: the same for a factor's `unverified → verified` machine and its usage
//!   updates.
//! - `records`: arbitrary bytes into every resource's storage-form deserializer; what
//!   is accepted re-serializes to an equal value.

use arbitrary::{Arbitrary, Unstructured};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use verify_model::ceremony::{PasskeyCeremony, PasskeyRequestOptions};
use verify_model::challenge::ChallengeState;
use verify_model::config::{
    NotificationPlatform, PasskeysConfig, RelyingParty, TotpAlgorithm, TotpParams, UserVerification,
};
use verify_model::factor::{FactorKind, PasskeyCredential, PushBinding, PushConfig};
use verify_model::limits::{MAX_CHALLENGE_ATTEMPTS, MAX_FACTOR_VERIFICATION_ATTEMPTS};
use verify_model::{
    AccessToken, AnswerInput, Challenge, ChallengeTarget, ChallengeTransition, CredentialSid,
    Details, Entity, EntitySid, Event, Factor, FactorStatus, FactorTransition, Identity,
    NewChallenge, NewFactor, PairedTransition, Service, ServiceSid, TotpSecret, UnixTime,
    VerificationProof, Webhook,
};

const START: u64 = 1_700_000_000;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Totp,
    Push,
    Passkeys,
}

fn credential(sign_count: u32) -> Option<PasskeyCredential> {
    PasskeyCredential::new(
        vec![1, 2, 3, 4],
        vec![0xa5; 77],
        -7,
        sign_count,
        vec!["internal".into()],
        true,
        false,
        [0; 16],
        "none",
        true,
    )
    .ok()
}

/// An unverified factor of `kind` created at `now`.
fn new_factor(kind: Kind, seed: u64, now: UnixTime) -> Option<Factor> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kind = match kind {
        Kind::Totp => FactorKind::totp(
            TotpSecret::generate(&mut rng),
            TotpAlgorithm::Sha1,
            TotpParams::default(),
        ),
        Kind::Push => {
            let mut der = vec![
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
            ];
            der.resize(91, 0x11);
            let config = PushConfig::new(
                "com.example.app",
                NotificationPlatform::None,
                None,
                Some("2.2.0"),
                CredentialSid::from_bytes([0xcc; 16]),
            )
            .ok()?;
            FactorKind::push(PushBinding::from_spki_der(&der).ok()?, config)
        }
        Kind::Passkeys => FactorKind::passkeys(PasskeysConfig::new(
            RelyingParty::new("example.com", "Example", vec!["https://example.com".into()]).ok()?,
        )),
    };
    let input = NewFactor::new(
        ServiceSid::from_bytes([0xaa; 16]),
        EntitySid::from_bytes([0xbb; 16]),
        Identity::parse("ff483d1ff591898a9942916050d2ca3f").ok()?,
        "Device",
    );
    Factor::create(input, kind, now, &mut rng)
        .ok()
        .map(|t| t.factor)
}

fn proof_for(kind: Kind, now: UnixTime) -> Option<VerificationProof> {
    Some(match kind {
        Kind::Totp => VerificationProof::TotpStep(now.as_secs() / 30),
        Kind::Push => VerificationProof::PushSignature,
        Kind::Passkeys => VerificationProof::Passkey(credential(0)?),
    })
}

fn last_used_step(factor: &Factor) -> Option<u64> {
    match factor.kind() {
        FactorKind::Totp(totp) => totp.last_used_step(),
        _ => None,
    }
}

fn sign_count(factor: &Factor) -> Option<u32> {
    match factor.kind() {
        FactorKind::Passkeys(passkey) => passkey.credential().map(|c| c.sign_count),
        _ => None,
    }
}

/// The storage record round-trips: what a store writes it can read back, equal.
fn assert_roundtrip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(value);
    let back = json
        .ok()
        .and_then(|json| serde_json::from_slice::<T>(&json).ok());
    assert_eq!(
        back.as_ref(),
        Some(value),
        "storage record does not round-trip"
    );
}

/// Checks a factor transition against the factor before it.
fn check_factor_step(before: &Factor, after: &Factor) {
    assert_eq!(after.version(), before.version() + 1, "factor version + 1");
    assert_eq!(after.sid(), before.sid());
    assert_eq!(after.factor_type(), before.factor_type());
    if before.status() == FactorStatus::Verified {
        assert_eq!(
            after.status(),
            FactorStatus::Verified,
            "verified stays verified"
        );
    }
    assert!(after.failed_verification_attempts() <= MAX_FACTOR_VERIFICATION_ATTEMPTS);
    assert!(after.failed_verification_attempts() >= before.failed_verification_attempts());
    if let Some(old) = last_used_step(before) {
        assert!(
            last_used_step(after).is_some_and(|new| new >= old),
            "TOTP step went down"
        );
    }
    if let Some(old) = sign_count(before) {
        assert!(
            sign_count(after).is_some_and(|new| new >= old),
            "sign count went down"
        );
    }
    assert!(after.date_updated() >= before.date_updated());
}

#[derive(Arbitrary, Debug)]
enum ChallengeOp {
    Approve {
        dt: u16,
        with_factor: bool,
    },
    Deny {
        dt: u16,
        with_factor: bool,
    },
    ApproveTotp {
        dt: u16,
        step_delta: i8,
    },
    ApprovePasskey {
        dt: u16,
        sign_count: u32,
        backup_state: bool,
    },
    Fail {
        dt: u16,
    },
    Poll {
        dt: u16,
    },
    Reload,
}

#[derive(Arbitrary, Debug)]
struct ChallengeScenario {
    kind: Kind,
    discoverable: bool,
    seed: u64,
    /// Requested lifetime in seconds (default 5 min when absent).
    ttl: Option<u16>,
    ops: Vec<ChallengeOp>,
}

/// `model_challenge`.
pub fn challenge(data: &[u8]) {
    let Ok(scenario) = ChallengeScenario::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut now = UnixTime::from_secs(START);
    let Some(created) = new_factor(scenario.kind, scenario.seed, now) else {
        panic!("fixture factor refused");
    };
    let Some(proof) = proof_for(scenario.kind, now) else {
        panic!("fixture proof refused");
    };
    let Ok(verified) = created.verify(proof, now) else {
        panic!("fresh factor not verifiable");
    };
    let mut factor = verified.factor;
    let mut request = NewChallenge::new();
    if let Some(ttl) = scenario.ttl {
        request = request.with_expiration_date(UnixTime::from_secs(START + u64::from(ttl)));
    }
    match scenario.kind {
        Kind::Push => {
            if let Ok(details) = Details::new("Sign in?", vec![]) {
                request = request.with_details(details);
            }
        }
        Kind::Passkeys | Kind::Totp => {}
    }
    // An open passkey challenge: discoverable (even seed) or for any passkey of the
    // factor's entity (odd seed).
    let entity: Option<Entity> = serde_json::from_value(serde_json::json!({
        "sid": factor.entity_sid(),
        "service_sid": factor.service_sid(),
        "identity": factor.identity(),
        "date_created": now,
        "date_updated": now,
    }))
    .ok();
    let target = match (&entity, scenario.discoverable, scenario.kind) {
        (Some(entity), true, Kind::Passkeys) if scenario.seed % 2 == 1 => {
            ChallengeTarget::EntityPasskeys(entity)
        }
        (_, true, Kind::Passkeys) => ChallengeTarget::DiscoverablePasskey(factor.service_sid()),
        _ => ChallengeTarget::Factor(&factor),
    };
    if scenario.kind == Kind::Passkeys {
        // A discoverable sign-in names no user; the others carry the user handle.
        let user_handle =
            (!matches!(target, ChallengeTarget::DiscoverablePasskey(_))).then(|| b"YE0".to_vec());
        let options = PasskeyRequestOptions::new(
            b"YC0".to_vec(),
            300_000,
            "example.com".to_owned(),
            Vec::new(),
            UserVerification::Preferred,
        );
        request = request.with_passkey(PasskeyCeremony::new(options, user_handle));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed);
    let Ok(created) = Challenge::create(target, request, now, &mut rng) else {
        // Only a requested lifetime outside 1 s..=60 min is refused.
        assert!(
            scenario
                .ttl
                .is_some_and(|ttl| ttl == 0 || u64::from(ttl) > 3600),
            "challenge creation refused"
        );
        return;
    };
    let mut challenge = created.challenge;
    assert_eq!(challenge.version(), 0);
    let mut approvals = 0_u32;
    for op in scenario.ops {
        let before = challenge.clone();
        let factor_before = factor.clone();
        let result: Step = match op {
            ChallengeOp::Reload => {
                assert_roundtrip(&challenge);
                assert_roundtrip(&factor);
                continue;
            }
            ChallengeOp::Approve { dt, with_factor } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                let mut answer = AnswerInput::new(now);
                if with_factor {
                    answer = answer.with_factor(&factor);
                }
                paired(before.approve(&answer))
            }
            ChallengeOp::Deny { dt, with_factor } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                let mut answer = AnswerInput::new(now);
                if with_factor {
                    answer = answer.with_factor(&factor);
                }
                paired(before.deny(&answer))
            }
            ChallengeOp::ApproveTotp { dt, step_delta } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                let step = (now.as_secs() / 30).saturating_add_signed(i64::from(step_delta));
                before.approve_totp(&factor, step, now).map(split)
            }
            ChallengeOp::ApprovePasskey {
                dt,
                sign_count,
                backup_state,
            } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                before
                    .approve_passkey(&factor, sign_count, backup_state, now)
                    .map(split)
            }
            ChallengeOp::Fail { dt } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                paired(before.record_failed_attempt(now))
            }
            ChallengeOp::Poll { dt } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                match before.poll_expiry(now) {
                    Ok(Some(transition)) => paired(Ok(transition)),
                    Ok(None) => {
                        assert!(
                            before.state() != ChallengeState::Pending
                                || now < before.expiration_date(),
                            "a due challenge was not expired"
                        );
                        continue;
                    }
                    Err(err) => Err(err),
                }
            }
        };
        let Ok((transition, factor_transition)) = result else {
            // Err: nothing changed (we keep `before`, which is what a store does).
            continue;
        };
        let ChallengeTransition {
            challenge: after,
            events,
            ..
        } = transition;
        assert_eq!(
            before.state(),
            ChallengeState::Pending,
            "terminal stays terminal"
        );
        assert_eq!(
            after.version(),
            before.version() + 1,
            "challenge version + 1"
        );
        assert_eq!(after.sid(), before.sid());
        assert!(after.failed_attempts() <= MAX_CHALLENGE_ATTEMPTS);
        assert!(after.failed_attempts() >= before.failed_attempts());
        if now >= before.expiration_date() {
            assert_eq!(
                after.state(),
                ChallengeState::Expired,
                "due challenge must expire"
            );
        }
        match after.state() {
            ChallengeState::Approved { date_responded } => {
                approvals += 1;
                assert!(
                    date_responded < after.expiration_date(),
                    "approved at or after expiry"
                );
            }
            ChallengeState::Pending => assert!(events.is_empty()),
            _ => {}
        }
        if after.state() != ChallengeState::Pending {
            assert_eq!(events.len(), 1, "one event on the terminal transition");
        }
        if matches!(
            after.state(),
            ChallengeState::Approved { .. }
                | ChallengeState::Denied {
                    cause: verify_model::challenge::DenialCause::Responded,
                    ..
                }
        ) {
            assert_eq!(
                after.factor_sid(),
                Some(factor.sid()),
                "answered by its factor"
            );
            assert_eq!(after.entity_sid(), Some(factor.entity_sid()));
        }
        if let Some(factor_transition) = factor_transition {
            check_factor_step(&factor_before, &factor_transition.factor);
            assert!(
                matches!(after.state(), ChallengeState::Approved { .. }),
                "the factor changes only with an approval"
            );
            factor = factor_transition.factor;
        }
        challenge = after;
    }
    assert!(approvals <= 1, "approved more than once");
}

/// A challenge transition and, for paired answers, the factor's.
type Step = Result<(ChallengeTransition, Option<FactorTransition>), verify_model::ModelError>;

fn paired(result: Result<ChallengeTransition, verify_model::ModelError>) -> Step {
    result.map(|challenge| (challenge, None))
}

fn split(paired: PairedTransition) -> (ChallengeTransition, Option<FactorTransition>) {
    (paired.challenge, paired.factor)
}

#[derive(Arbitrary, Debug)]
enum FactorOp {
    Verify {
        dt: u16,
        right_type: bool,
        step_delta: i8,
    },
    Fail {
        dt: u16,
    },
    TotpStep {
        dt: u16,
        step_delta: i8,
    },
    PasskeyUse {
        dt: u16,
        sign_count: u32,
        backup_state: bool,
    },
    Rename {
        dt: u16,
        name: String,
    },
    Reload,
}

#[derive(Arbitrary, Debug)]
struct FactorScenario {
    kind: Kind,
    seed: u64,
    ops: Vec<FactorOp>,
}

/// `model_factor`.
pub fn factor(data: &[u8]) {
    let Ok(scenario) = FactorScenario::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut now = UnixTime::from_secs(START);
    let Some(mut factor) = new_factor(scenario.kind, scenario.seed, now) else {
        panic!("fixture factor refused");
    };
    assert_eq!(factor.version(), 0);
    let mut verifications = 0_u32;
    for op in scenario.ops {
        let before = factor.clone();
        let result: Result<FactorTransition, _> = match op {
            FactorOp::Reload => {
                assert_roundtrip(&factor);
                continue;
            }
            FactorOp::Verify {
                dt,
                right_type,
                step_delta,
            } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                let kind = if right_type {
                    scenario.kind
                } else {
                    match scenario.kind {
                        Kind::Totp => Kind::Push,
                        Kind::Push => Kind::Passkeys,
                        Kind::Passkeys => Kind::Totp,
                    }
                };
                let proof = match (kind, proof_for(kind, now)) {
                    (Kind::Totp, _) => Some(VerificationProof::TotpStep(
                        (now.as_secs() / 30).saturating_add_signed(i64::from(step_delta)),
                    )),
                    (_, proof) => proof,
                };
                let Some(proof) = proof else { continue };
                let result = before.verify(proof, now);
                if result.is_ok() {
                    verifications += 1;
                    assert!(right_type, "a proof of another type verified the factor");
                    assert_eq!(before.status(), FactorStatus::Unverified);
                    assert!(
                        now < before.verification_deadline(),
                        "verified after the deadline"
                    );
                    assert!(
                        before.failed_verification_attempts() < MAX_FACTOR_VERIFICATION_ATTEMPTS
                    );
                }
                result
            }
            FactorOp::Fail { dt } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                before.record_failed_verification(now)
            }
            FactorOp::TotpStep { dt, step_delta } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                let step = (now.as_secs() / 30).saturating_add_signed(i64::from(step_delta));
                let result = before.record_totp_step(step, now);
                if result.is_ok() {
                    assert!(last_used_step(&before).is_none_or(|last| step > last));
                }
                result
            }
            FactorOp::PasskeyUse {
                dt,
                sign_count,
                backup_state,
            } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                before.record_passkey_use(sign_count, backup_state, now)
            }
            FactorOp::Rename { dt, name } => {
                now = now.saturating_add(std::time::Duration::from_secs(u64::from(dt)));
                before.rename(&name, now)
            }
        };
        let Ok(transition) = result else {
            continue;
        };
        check_factor_step(&before, &transition.factor);
        if transition.factor.status() != FactorStatus::Verified {
            assert!(
                !matches!(transition.outcome, verify_model::FactorOutcome::Verified),
                "verified outcome without the status"
            );
        }
        factor = transition.factor;
    }
    assert!(verifications <= 1, "verified more than once");
    assert_roundtrip(&factor);
}

/// `model_records`: every storage-form deserializer on the same bytes.
pub fn records(data: &[u8]) {
    fn one<T>(data: &[u8])
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        if let Ok(value) = serde_json::from_slice::<T>(data) {
            assert_roundtrip(&value);
        }
    }
    one::<Service>(data);
    one::<Entity>(data);
    one::<Factor>(data);
    one::<Challenge>(data);
    one::<Webhook>(data);
    one::<AccessToken>(data);
    one::<Event>(data);
}
