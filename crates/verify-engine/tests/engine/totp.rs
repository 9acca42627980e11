//! TOTP: enroll (otpauth URI), verify with the first code, challenge with a code,
//! replay refused, lockout after the attempt limit, expiry.

use hmac::{Hmac, Mac};
use verify_engine::{NewChallengeRequest, NewTotpFactor, VerifyError};
use verify_model::{
    ChallengeOutcome, ChallengeStatus, EventType, Factor, FactorStatus, Identity, ModelError,
    ServiceSid, UnixTime,
};

use crate::support::{Harness, block_on};

/// An independent RFC 6238 generator (HMAC-SHA-1, 6 digits, 30 s), written from
/// the RFC: T = floor(now / 30), HOTP(K, T) with dynamic truncation.
pub(crate) fn rfc6238_code(secret: &[u8], unix_seconds: u64) -> String {
    let counter = unix_seconds / 30;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// The secret of an otpauth URI (base32, unpadded).
pub(crate) fn uri_secret(uri: &str) -> Vec<u8> {
    let query = uri.split_once('?').unwrap().1;
    let secret = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("secret="))
        .unwrap();
    data_encoding_base32(secret)
}

fn data_encoding_base32(text: &str) -> Vec<u8> {
    // RFC 4648 base32 decoding, unpadded, upper case.
    let mut bits = 0_u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32"),
        };
        bits = (bits << 5) | u64::from(value);
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xff).to_be_bytes()[7]);
        }
    }
    out
}

pub(crate) struct Enrolled {
    pub(crate) service: ServiceSid,
    pub(crate) identity: Identity,
    pub(crate) factor: Factor,
    pub(crate) secret: Vec<u8>,
}

/// A service and a verified TOTP factor (verified with the code at T0).
pub(crate) fn enrolled(h: &Harness) -> Enrolled {
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap();
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_totp_factor(service.sid(), &identity, NewTotpFactor::new("jane@owl"))
            .await
            .unwrap();
        let secret = uri_secret(&created.uri);
        // The secret offered for typing is the URI's.
        assert_eq!(data_encoding_base32(created.secret_base32()), secret);
        assert!(
            created
                .uri
                .contains(&format!("secret={}&", created.secret_base32()))
        );
        let code = rfc6238_code(&secret, h.now().as_secs());
        let factor = h
            .verify
            .verify_factor(service.sid(), &identity, created.factor.sid(), &code)
            .await
            .unwrap();
        Enrolled {
            service: service.sid(),
            identity,
            factor,
            secret,
        }
    })
}

#[test]
fn enroll_verify_challenge_and_replay_refused() {
    let h = Harness::new(1);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap();
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_totp_factor(service.sid(), &identity, NewTotpFactor::new("jane@owl"))
            .await
            .unwrap();
        assert!(
            created
                .uri
                .starts_with("otpauth://totp/Owl%20Bank:jane%40owl?secret=")
        );
        assert!(
            created
                .uri
                .ends_with("&issuer=Owl%20Bank&algorithm=SHA1&digits=6&period=30")
        );
        assert_eq!(created.factor.status(), FactorStatus::Unverified);
        // The entity was created with its first factor.
        let entity = h
            .verify
            .fetch_entity(service.sid(), &identity)
            .await
            .unwrap();
        assert_eq!(entity.sid(), created.factor.entity_sid());

        // A challenge on an unverified factor is refused (60318).
        let refused = h
            .verify
            .create_challenge(
                service.sid(),
                &identity,
                created.factor.sid(),
                NewChallengeRequest::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), 60318);

        // A wrong first code is a failed verification (60311), then the right one.
        let secret = uri_secret(&created.uri);
        let good = rfc6238_code(&secret, h.now().as_secs());
        let wrong = if good == "000000" { "111111" } else { "000000" };
        let failed = h
            .verify
            .verify_factor(service.sid(), &identity, created.factor.sid(), wrong)
            .await
            .unwrap_err();
        assert!(matches!(
            failed,
            VerifyError::FactorVerificationFailed { remaining: 4 }
        ));
        assert_eq!((failed.code(), failed.http_status()), (60311, 403));
        let factor = h
            .verify
            .verify_factor(service.sid(), &identity, created.factor.sid(), &good)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);

        // Sign-in: the code of the next step approves a challenge created with it.
        h.advance(30);
        let code = rfc6238_code(&secret, h.now().as_secs());
        let approved = h
            .verify
            .create_challenge(
                service.sid(),
                &identity,
                factor.sid(),
                NewChallengeRequest::new().with_auth_payload(&code),
            )
            .await
            .unwrap();
        assert!(approved.is_approved());
        assert_eq!(
            approved.challenge.status_at(h.now()),
            ChallengeStatus::Approved
        );

        // The same code again, on a new challenge: refused, counted as an attempt.
        let replay = h
            .verify
            .create_challenge(
                service.sid(),
                &identity,
                factor.sid(),
                NewChallengeRequest::new().with_auth_payload(&code),
            )
            .await
            .unwrap();
        assert!(matches!(
            replay.outcome,
            ChallengeOutcome::CodeAlreadyUsed {
                failed_attempts: 1,
                remaining: 4
            }
        ));
        assert_eq!(
            replay.code(),
            Some(verify_engine::error::CODE_TOTP_CODE_ALREADY_USED)
        );
        assert_eq!(
            replay.challenge.status_at(h.now()),
            ChallengeStatus::Pending
        );

        // An older code after a newer one is refused too (codes are single-use
        // and monotonic), even inside the skew window.
        let previous = rfc6238_code(&secret, h.now().as_secs() - 30);
        let older = h
            .verify
            .update_challenge(
                service.sid(),
                &identity,
                replay.challenge.sid(),
                &previous,
                None,
            )
            .await
            .unwrap();
        assert!(matches!(
            older.outcome,
            ChallengeOutcome::CodeAlreadyUsed {
                failed_attempts: 2,
                ..
            }
        ));

        // The next step's code approves the pending challenge by update.
        h.advance(30);
        let next = rfc6238_code(&secret, h.now().as_secs());
        let update = h
            .verify
            .update_challenge(
                service.sid(),
                &identity,
                replay.challenge.sid(),
                &next,
                None,
            )
            .await
            .unwrap();
        assert!(update.is_approved());

        // An approved challenge cannot be answered again.
        let again = h
            .verify
            .update_challenge(
                service.sid(),
                &identity,
                replay.challenge.sid(),
                &next,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            again,
            VerifyError::Model(ModelError::ChallengeNotPending {
                status: ChallengeStatus::Approved
            })
        ));

        // Events: created, verified, two approvals (the outbox keeps order).
        let events: Vec<EventType> = h
            .verify
            .drain_events(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert_eq!(
            events,
            [
                EventType::FactorCreated,
                EventType::FactorVerified,
                EventType::ChallengeApproved,
                EventType::ChallengeApproved
            ]
        );
    });
}

#[test]
fn lockout_after_five_wrong_codes() {
    let h = Harness::new(2);
    let e = enrolled(&h);
    block_on(async {
        h.advance(60);
        let good = rfc6238_code(&e.secret, h.now().as_secs());
        let wrong = if good == "123456" { "654321" } else { "123456" };
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
        for attempt in 1..=4_u32 {
            let update = h
                .verify
                .update_challenge(e.service, &e.identity, challenge.sid(), wrong, None)
                .await
                .unwrap();
            assert_eq!(
                update.outcome,
                ChallengeOutcome::Rejected {
                    failed_attempts: attempt,
                    remaining: 5 - attempt
                }
            );
        }
        // A malformed code counts as an attempt too: the fifth denies.
        let fifth = h
            .verify
            .update_challenge(e.service, &e.identity, challenge.sid(), "12a456", None)
            .await
            .unwrap();
        assert_eq!(fifth.outcome, ChallengeOutcome::AttemptsExhausted);
        assert_eq!(fifth.code(), Some(60308));
        assert_eq!(fifth.challenge.status_at(h.now()), ChallengeStatus::Denied);
        // Locked: even the right code is refused (60308, 429), and nothing changes.
        let locked = h
            .verify
            .update_challenge(e.service, &e.identity, challenge.sid(), &good, None)
            .await
            .unwrap_err();
        assert_eq!((locked.code(), locked.http_status()), (60308, 429));
        let stored = h
            .verify
            .fetch_challenge(e.service, &e.identity, challenge.sid())
            .await
            .unwrap();
        assert_eq!(stored, fifth.challenge);
        // The good code was not consumed by the locked challenge: it still signs in.
        let fresh = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new().with_auth_payload(&good),
            )
            .await
            .unwrap();
        assert!(fresh.is_approved());
    });
}

#[test]
fn factor_verification_lockout_and_expiry() {
    let h = Harness::new(3);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap();
        let identity = Identity::parse("user-00000001").unwrap();
        let created = h
            .verify
            .create_totp_factor(service.sid(), &identity, NewTotpFactor::new("phone"))
            .await
            .unwrap();
        let secret = uri_secret(&created.uri);
        let good = rfc6238_code(&secret, h.now().as_secs());
        let wrong = if good == "999999" { "888888" } else { "999999" };
        for remaining in (0..5).rev() {
            let error = h
                .verify
                .verify_factor(service.sid(), &identity, created.factor.sid(), wrong)
                .await
                .unwrap_err();
            assert!(
                matches!(error, VerifyError::FactorVerificationFailed { remaining: r } if r == remaining)
            );
        }
        let exhausted = h
            .verify
            .verify_factor(service.sid(), &identity, created.factor.sid(), &good)
            .await
            .unwrap_err();
        assert_eq!((exhausted.code(), exhausted.http_status()), (60310, 429));

        // Another factor left unverified past 24 h can no longer be verified.
        let other = h
            .verify
            .create_totp_factor(service.sid(), &identity, NewTotpFactor::new("tablet"))
            .await
            .unwrap();
        h.advance(24 * 60 * 60);
        let secret = uri_secret(&other.uri);
        let code = rfc6238_code(&secret, h.now().as_secs());
        let expired = h
            .verify
            .verify_factor(service.sid(), &identity, other.factor.sid(), &code)
            .await
            .unwrap_err();
        assert!(matches!(
            expired,
            VerifyError::Model(ModelError::FactorExpired { .. })
        ));
    });
}

#[test]
fn an_answer_after_the_expiration_date_records_expiry() {
    let h = Harness::new(4);
    let e = enrolled(&h);
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
        assert_eq!(
            challenge.expiration_date(),
            UnixTime::from_secs(h.now().as_secs() + 300)
        );
        h.advance(300);
        let code = rfc6238_code(&e.secret, h.now().as_secs());
        let late = h
            .verify
            .update_challenge(e.service, &e.identity, challenge.sid(), &code, None)
            .await
            .unwrap();
        assert_eq!(late.outcome, ChallengeOutcome::Expired);
        assert_eq!(late.code(), Some(60323));
        let again = h
            .verify
            .update_challenge(e.service, &e.identity, challenge.sid(), &code, None)
            .await
            .unwrap_err();
        assert_eq!((again.code(), again.http_status()), (60323, 403));
        // The late code was not consumed.
        let fresh = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new().with_auth_payload(&code),
            )
            .await
            .unwrap();
        assert!(fresh.is_approved());
        let events: Vec<EventType> = h
            .verify
            .drain_events(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert!(events.contains(&EventType::ChallengeExpired));
    });
}

/// An independent RFC 6238 code (HMAC-SHA-1, 6 digits) for any period.
fn code_for_period(secret: &[u8], unix_seconds: u64, period: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&(unix_seconds / period).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

#[test]
fn a_time_step_change_keeps_used_windows_refused() {
    let h = Harness::new(21);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let mut request = NewTotpFactor::new("jane@owl");
        request.time_step = Some(60);
        let created = h
            .verify
            .create_totp_factor(service, &identity, request)
            .await
            .unwrap();
        assert!(created.uri.ends_with("&period=60"));
        let secret = uri_secret(&created.uri);
        // Verified with the code of the 60 s window [T0, T0 + 60).
        let t0 = h.now().as_secs();
        assert_eq!(t0 % 60, 0);
        let factor = h
            .verify
            .verify_factor(
                service,
                &identity,
                created.factor.sid(),
                &code_for_period(&secret, t0, 60),
            )
            .await
            .unwrap();

        // 35 s later the period becomes 30 s, skew 0.
        h.advance(35);
        let updated = h
            .verify
            .update_totp_factor_config(
                service,
                &identity,
                factor.sid(),
                None,
                None,
                Some(30),
                Some(0),
            )
            .await
            .unwrap();
        assert_eq!(updated.version(), factor.version() + 1);
        let verify_model::FactorKind::Totp(totp) = updated.kind() else {
            panic!("a TOTP factor")
        };
        assert_eq!((totp.params().time_step(), totp.params().skew()), (30, 0));
        assert_eq!(totp.params().code_length(), 6);
        // The window [T0 + 30, T0 + 60) began before the accepted one ended: its
        // code is refused (a floor conversion of the step would accept it).
        let inside = code_for_period(&secret, h.now().as_secs(), 30);
        let factor_sid = factor.sid();
        let challenge = |code: String| {
            let h = &h;
            let identity = &identity;
            async move {
                h.verify
                    .create_challenge(
                        service,
                        identity,
                        factor_sid,
                        NewChallengeRequest::new().with_auth_payload(&code),
                    )
                    .await
                    .unwrap()
            }
        };
        let refused = challenge(inside).await;
        assert!(
            matches!(refused.outcome, ChallengeOutcome::CodeAlreadyUsed { .. }),
            "{:?}",
            refused.outcome
        );
        // The first window beginning at or after T0 + 60 is accepted.
        h.advance(25);
        assert_eq!(h.now().as_secs(), t0 + 60);
        let next = challenge(code_for_period(&secret, h.now().as_secs(), 30)).await;
        assert!(next.is_approved());
        // No event for a configuration update.
        let events: Vec<EventType> = h
            .verify
            .drain_events(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert_eq!(
            events,
            [
                EventType::FactorCreated,
                EventType::FactorVerified,
                EventType::ChallengeApproved
            ]
        );
    });
}

#[test]
fn totp_config_update_checks_its_limits_and_type() {
    let h = Harness::new(22);
    let e = enrolled(&h);
    block_on(async {
        let update = |time_step: Option<u8>, skew: Option<u8>, code_length: Option<u8>| {
            let (h, e) = (&h, &e);
            async move {
                h.verify
                    .update_totp_factor_config(
                        e.service,
                        &e.identity,
                        e.factor.sid(),
                        Some(verify_model::TotpAlgorithm::Sha256),
                        code_length,
                        time_step,
                        skew,
                    )
                    .await
            }
        };
        for (time_step, skew, code_length) in [
            (Some(19), None, None),
            (Some(61), None, None),
            (None, Some(3), None),
            (None, None, Some(2)),
            (None, None, Some(9)),
        ] {
            let refused = update(time_step, skew, code_length).await.unwrap_err();
            assert!(
                matches!(
                    refused,
                    VerifyError::Model(ModelError::ValueOutOfRange { .. })
                ),
                "{refused:?}"
            );
        }
        // Nothing was written by the refusals.
        let unchanged = h
            .verify
            .fetch_factor(e.service, &e.identity, e.factor.sid())
            .await
            .unwrap();
        assert_eq!(unchanged.version(), e.factor.version());
        let updated = update(Some(20), Some(2), Some(8)).await.unwrap();
        let verify_model::FactorKind::Totp(totp) = updated.kind() else {
            panic!("a TOTP factor")
        };
        assert_eq!(totp.alg(), verify_model::TotpAlgorithm::Sha256);
        assert_eq!(
            (
                totp.params().time_step(),
                totp.params().skew(),
                totp.params().code_length()
            ),
            (20, 2, 8)
        );
        // Not a TOTP factor: refused.
        let r = crate::passkeys::registered(&h, 22).await;
        assert!(matches!(
            h.verify
                .update_totp_factor_config(
                    r.service,
                    &r.identity,
                    r.factor.sid(),
                    None,
                    None,
                    Some(30),
                    None
                )
                .await,
            Err(VerifyError::Model(ModelError::FactorTypeMismatch { .. }))
        ));
    });
}

/// Retention: a challenge is kept for the retention after its expiration date,
/// then `prune_expired` removes it (and it answers "not found"); a retention
/// under a day is refused.
#[test]
fn expired_challenges_are_pruned_after_the_retention() {
    use verify_engine::{MIN_RETENTION, Retention};
    let h = Harness::new(5);
    let e = enrolled(&h);
    let day = MIN_RETENTION;
    let short = day - std::time::Duration::from_secs(1);
    assert_eq!(Retention::new(short).unwrap_err().requested(), short);
    let retention = Retention::new(day).unwrap();
    block_on(async {
        let old = h
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
        h.advance(3600);
        let recent = h
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
        // A day after the first one's expiration, not yet the second's.
        h.advance(day.as_secs() + 300 - 3600);
        assert_eq!(h.verify.prune_expired(retention).await.unwrap(), 1);
        let gone = h
            .verify
            .fetch_challenge(e.service, &e.identity, old.sid())
            .await
            .unwrap_err();
        assert_eq!(gone.code(), 60391);
        assert!(
            h.verify
                .fetch_challenge(e.service, &e.identity, recent.sid())
                .await
                .is_ok()
        );
        assert_eq!(h.verify.prune_expired(retention).await.unwrap(), 0);
        h.advance(3600);
        assert_eq!(h.verify.prune_expired(retention).await.unwrap(), 1);
    });
}
