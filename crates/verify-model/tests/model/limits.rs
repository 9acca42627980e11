//! Every limit at and just past its boundary, through the public constructors.

use std::time::Duration;

use verify_model::config::{NotificationPlatform, TotpParams};
use verify_model::factor::{
    PushBinding, PushConfig, UnverifiedFactorTtl, check_daily_creations, check_factor_quota,
};
use verify_model::limits::*;
use verify_model::list::PageSize;
use verify_model::{
    AccessToken, AnswerInput, Challenge, ChallengeOutcome, ChallengeStatus, ChallengeTarget,
    CredentialSid, DetailField, Details, Factor, FactorKind, FactorType, Field, Identity,
    ModelError, NewAccessToken, NewChallenge, Service, ServiceSid, StringMap, UnixTime,
};

use crate::support::{
    NOW, at, identity, new_factor, passkeys_config, push_kind, rng, spki, totp_kind,
    verified_passkey, verified_push, verified_totp,
};

fn length_error(err: ModelError) -> (Field, usize, usize) {
    match err {
        ModelError::LengthOutOfRange {
            field, max, length, ..
        } => (field, max, length),
        other => panic!("expected LengthOutOfRange, got {other:?}"),
    }
}

#[test]
fn identity_length() {
    assert!(Identity::parse(&"a".repeat(MIN_IDENTITY_LEN - 1)).is_err());
    assert!(Identity::parse(&"a".repeat(MIN_IDENTITY_LEN)).is_ok());
    assert!(Identity::parse(&"a".repeat(MAX_IDENTITY_LEN)).is_ok());
    assert_eq!(
        Identity::parse(&"a".repeat(MAX_IDENTITY_LEN + 1)),
        Err(ModelError::InvalidIdentity {
            min: 8,
            max: 64,
            length: 65
        })
    );
}

#[test]
fn service_friendly_name() {
    let mut rng = rng(1);
    assert!(Service::create(&"s".repeat(MAX_SERVICE_FRIENDLY_NAME_LEN), NOW, &mut rng).is_ok());
    let err = Service::create(
        &"s".repeat(MAX_SERVICE_FRIENDLY_NAME_LEN + 1),
        NOW,
        &mut rng,
    )
    .unwrap_err();
    assert_eq!(length_error(err), (Field::ServiceFriendlyName, 255, 256));
}

#[test]
fn factor_friendly_name_per_type() {
    let mut rng = rng(1);
    let at_limit = "n".repeat(MAX_FACTOR_FRIENDLY_NAME_LEN);
    let past = "n".repeat(MAX_FACTOR_FRIENDLY_NAME_LEN + 1);
    assert!(Factor::create(new_factor(&at_limit), totp_kind(1), NOW, &mut rng).is_ok());
    let err = Factor::create(new_factor(&past), totp_kind(1), NOW, &mut rng).unwrap_err();
    assert_eq!(length_error(err), (Field::FactorFriendlyName, 64, 65));
    assert!(Factor::create(new_factor(&past), push_kind(), NOW, &mut rng).is_err());
    // Passkeys allow 255.
    let passkeys = || FactorKind::passkeys(passkeys_config());
    assert!(Factor::create(new_factor(&past), passkeys(), NOW, &mut rng).is_ok());
    let long = "n".repeat(MAX_PASSKEY_FRIENDLY_NAME_LEN);
    assert!(Factor::create(new_factor(&long), passkeys(), NOW, &mut rng).is_ok());
    let longer = "n".repeat(MAX_PASSKEY_FRIENDLY_NAME_LEN + 1);
    let err = Factor::create(new_factor(&longer), passkeys(), NOW, &mut rng).unwrap_err();
    assert_eq!(length_error(err), (Field::FactorFriendlyName, 255, 256));
    assert!(Factor::create(new_factor(""), totp_kind(1), NOW, &mut rng).is_err());
}

#[test]
fn details_message_fields_label_value() {
    let message = |n| Details::new(&"m".repeat(n), vec![]);
    assert!(message(MAX_DETAILS_MESSAGE_LEN).is_ok());
    assert_eq!(
        length_error(message(MAX_DETAILS_MESSAGE_LEN + 1).unwrap_err()),
        (Field::DetailsMessage, 256, 257)
    );
    let field = DetailField::new("Action", "Sign up").unwrap();
    assert!(Details::new("m", vec![field.clone(); MAX_DETAILS_FIELDS]).is_ok());
    assert_eq!(
        Details::new("m", vec![field; MAX_DETAILS_FIELDS + 1]),
        Err(ModelError::TooManyItems {
            field: Field::DetailsFields,
            max: 20,
            count: 21
        })
    );
    assert!(DetailField::new(&"l".repeat(MAX_DETAILS_FIELD_LABEL_LEN), "v").is_ok());
    assert_eq!(
        length_error(
            DetailField::new(&"l".repeat(MAX_DETAILS_FIELD_LABEL_LEN + 1), "v").unwrap_err()
        ),
        (Field::DetailsFieldLabel, 36, 37)
    );
    assert!(DetailField::new("l", &"v".repeat(MAX_DETAILS_FIELD_VALUE_LEN)).is_ok());
    assert_eq!(
        length_error(
            DetailField::new("l", &"v".repeat(MAX_DETAILS_FIELD_VALUE_LEN + 1)).unwrap_err()
        ),
        (Field::DetailsFieldValue, 128, 129)
    );
}

#[test]
fn hidden_details_and_metadata_serialized_length() {
    // {"k":"…"} is 8 characters around the value.
    let map = |len: usize| StringMap::new(Field::HiddenDetails, [("k", "v".repeat(len - 8))]);
    let at_limit = map(MAX_STRING_MAP_LEN).unwrap();
    assert_eq!(at_limit.to_json_string().chars().count(), 1024);
    assert_eq!(
        length_error(map(MAX_STRING_MAP_LEN + 1).unwrap_err()),
        (Field::HiddenDetails, 1024, 1025)
    );
    // Characters, not bytes: 1016 two-byte characters fit.
    let wide = StringMap::new(Field::Metadata, [("k", "é".repeat(1016))]).unwrap();
    assert_eq!(wide.to_json_string().chars().count(), 1024);
    let factor = verified_totp();
    let challenge = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new().with_hidden_details(at_limit),
        NOW,
        &mut rng(5),
    );
    assert!(challenge.is_ok());
}

#[test]
fn challenge_expiration_window() {
    let factor = verified_totp();
    let create = |expiration| {
        let mut input = NewChallenge::new();
        if let Some(date) = expiration {
            input = input.with_expiration_date(date);
        }
        Challenge::create(ChallengeTarget::Factor(&factor), input, NOW, &mut rng(6))
    };
    let default = create(None).unwrap().challenge;
    assert_eq!(
        default.expiration_date(),
        NOW.saturating_add(DEFAULT_CHALLENGE_TTL)
    );
    assert_eq!(DEFAULT_CHALLENGE_TTL, Duration::from_secs(300));
    let max = NOW.saturating_add(MAX_CHALLENGE_TTL);
    assert_eq!(create(Some(max)).unwrap().challenge.expiration_date(), max);
    let past_max = at(MAX_CHALLENGE_TTL.as_secs() + 1);
    assert_eq!(
        create(Some(past_max)).unwrap_err(),
        ModelError::ExpirationOutOfRange {
            now: NOW,
            latest: max,
            requested: past_max
        }
    );
    assert!(create(Some(NOW)).is_err());
    assert!(create(Some(at(1))).is_ok());
}

#[test]
fn challenge_attempts() {
    let factor = verified_totp();
    let mut challenge = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new(),
        NOW,
        &mut rng(7),
    )
    .unwrap()
    .challenge;
    for attempt in 1..MAX_CHALLENGE_ATTEMPTS {
        let step = challenge.record_failed_attempt(at(1)).unwrap();
        assert_eq!(
            step.outcome,
            ChallengeOutcome::Rejected {
                failed_attempts: attempt,
                remaining: MAX_CHALLENGE_ATTEMPTS - attempt
            }
        );
        assert!(step.events.is_empty());
        challenge = step.challenge;
        assert_eq!(challenge.status_at(at(1)), ChallengeStatus::Pending);
    }
    let last = challenge.record_failed_attempt(at(2)).unwrap();
    assert_eq!(last.outcome, ChallengeOutcome::AttemptsExhausted);
    assert_eq!(last.challenge.status_at(at(2)), ChallengeStatus::Denied);
    assert_eq!(last.challenge.failed_attempts(), MAX_CHALLENGE_ATTEMPTS);
    let after = last.challenge.record_failed_attempt(at(3)).unwrap_err();
    assert_eq!(after, ModelError::ChallengeAttemptsExhausted { limit: 5 });
    assert_eq!(after.code(), Some(60308));
    let approve = last
        .challenge
        .approve(&AnswerInput::new(at(3)))
        .unwrap_err();
    assert_eq!(approve.code(), Some(60308));
}

/// Reused codes draw on the same five attempts as wrong ones, in any mix.
#[test]
fn reused_codes_count_against_the_challenge_attempts() {
    let factor = verified_totp();
    let mut challenge = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new(),
        NOW,
        &mut rng(8),
    )
    .unwrap()
    .challenge;
    for attempt in 1..MAX_CHALLENGE_ATTEMPTS {
        let step = if attempt % 2 == 0 {
            challenge.record_failed_attempt(at(1)).unwrap()
        } else {
            challenge.record_reused_code(at(1)).unwrap()
        };
        let expected = if attempt % 2 == 0 {
            ChallengeOutcome::Rejected {
                failed_attempts: attempt,
                remaining: MAX_CHALLENGE_ATTEMPTS - attempt,
            }
        } else {
            ChallengeOutcome::CodeAlreadyUsed {
                failed_attempts: attempt,
                remaining: MAX_CHALLENGE_ATTEMPTS - attempt,
            }
        };
        assert_eq!(step.outcome, expected);
        assert!(step.events.is_empty());
        challenge = step.challenge;
    }
    let last = challenge.record_reused_code(at(2)).unwrap();
    assert_eq!(last.outcome, ChallengeOutcome::AttemptsExhausted);
    assert_eq!(last.challenge.status_at(at(2)), ChallengeStatus::Denied);
    let expired = challenge.record_reused_code(at(10_000)).unwrap();
    assert_eq!(expired.outcome, ChallengeOutcome::Expired);
}

#[test]
fn factor_verification_attempts() {
    let mut factor = Factor::create(new_factor("Phone"), totp_kind(1), NOW, &mut rng(8))
        .unwrap()
        .factor;
    for _ in 0..MAX_FACTOR_VERIFICATION_ATTEMPTS {
        factor = factor.record_failed_verification(at(1)).unwrap().factor;
    }
    assert_eq!(factor.failed_verification_attempts(), 5);
    let err = factor
        .verify(verify_model::VerificationProof::TotpStep(1), at(2))
        .unwrap_err();
    assert_eq!(
        err,
        ModelError::FactorVerificationAttemptsExhausted { limit: 5 }
    );
    assert_eq!(err.code(), Some(60310));
    assert!(factor.record_failed_verification(at(2)).is_err());
}

#[test]
fn factor_quotas_and_daily_creations() {
    assert!(check_factor_quota(FactorType::Push, MAX_PUSH_FACTORS_PER_ENTITY - 1).is_ok());
    let err = check_factor_quota(FactorType::Push, MAX_PUSH_FACTORS_PER_ENTITY).unwrap_err();
    assert_eq!(
        err,
        ModelError::TooManyFactors {
            factor_type: FactorType::Push,
            limit: 20,
            count: 20
        }
    );
    assert_eq!(err.code(), Some(60315));
    assert!(check_factor_quota(FactorType::Totp, MAX_TOTP_FACTORS_PER_ENTITY - 1).is_ok());
    assert!(check_factor_quota(FactorType::Totp, MAX_TOTP_FACTORS_PER_ENTITY).is_err());
    assert!(check_daily_creations(MAX_FACTOR_CREATIONS_PER_DAY - 1).is_ok());
    assert_eq!(
        check_daily_creations(MAX_FACTOR_CREATIONS_PER_DAY)
            .unwrap_err()
            .code(),
        Some(60326)
    );
}

#[test]
fn unverified_factor_ttl_and_expiry() {
    let hour = 3600;
    assert!(UnverifiedFactorTtl::new(Duration::from_secs(hour - 1)).is_err());
    assert!(UnverifiedFactorTtl::new(Duration::from_secs(hour)).is_ok());
    assert!(UnverifiedFactorTtl::new(Duration::from_secs(24 * hour)).is_ok());
    assert!(UnverifiedFactorTtl::new(Duration::from_secs(24 * hour + 1)).is_err());
    let ttl = UnverifiedFactorTtl::new(Duration::from_secs(hour)).unwrap();
    let factor = Factor::create(
        new_factor("Phone").with_unverified_ttl(ttl),
        totp_kind(1),
        NOW,
        &mut rng(9),
    )
    .unwrap()
    .factor;
    assert!(
        factor
            .verify(verify_model::VerificationProof::TotpStep(1), at(hour - 1))
            .is_ok()
    );
    let err = factor
        .verify(verify_model::VerificationProof::TotpStep(1), at(hour))
        .unwrap_err();
    assert_eq!(
        err,
        ModelError::FactorExpired {
            expired_at: at(hour),
            now: at(hour)
        }
    );
    assert!(factor.is_expired_unverified(at(hour)));
}

#[test]
fn totp_parameters() {
    for (digits, step, skew, ok) in [
        (3, 20, 0, true),
        (8, 60, 2, true),
        (2, 30, 1, false),
        (9, 30, 1, false),
        (6, 19, 1, false),
        (6, 61, 1, false),
        (6, 30, 3, false),
    ] {
        assert_eq!(
            TotpParams::new(digits, step, skew).is_ok(),
            ok,
            "{digits} {step} {skew}"
        );
    }
    assert_eq!(TotpParams::default(), TotpParams::new(6, 30, 1).unwrap());
}

#[test]
fn auth_payload_lengths() {
    let totp = verified_totp();
    let challenge = Challenge::create(
        ChallengeTarget::Factor(&totp),
        NewChallenge::new(),
        NOW,
        &mut rng(10),
    )
    .unwrap()
    .challenge;
    assert!(challenge.check_auth_payload("12").is_err());
    assert!(challenge.check_auth_payload("123").is_ok());
    assert!(challenge.check_auth_payload("12345678").is_ok());
    assert_eq!(
        length_error(challenge.check_auth_payload("123456789").unwrap_err()),
        (Field::AuthPayload, 8, 9)
    );
    let push = verified_push();
    let details = Details::new("Sign in?", vec![]).unwrap();
    let challenge = Challenge::create(
        ChallengeTarget::Factor(&push),
        NewChallenge::new().with_details(details),
        NOW,
        &mut rng(11),
    )
    .unwrap()
    .challenge;
    assert!(
        challenge
            .check_auth_payload(&"j".repeat(MAX_PUSH_AUTH_PAYLOAD_LEN))
            .is_ok()
    );
    assert_eq!(
        length_error(
            challenge
                .check_auth_payload(&"j".repeat(MAX_PUSH_AUTH_PAYLOAD_LEN + 1))
                .unwrap_err()
        ),
        (Field::AuthPayload, 5456, 5457)
    );
}

#[test]
fn push_binding_and_config() {
    assert!(PushBinding::from_spki_der(&spki(PUSH_PUBLIC_KEY_SPKI_LEN)).is_ok());
    for len in [PUSH_PUBLIC_KEY_SPKI_LEN - 1, PUSH_PUBLIC_KEY_SPKI_LEN + 1] {
        assert_eq!(
            PushBinding::from_spki_der(&spki(len)),
            Err(ModelError::InvalidPublicKey {
                expected: 91,
                length: len
            })
        );
    }
    let binding = PushBinding::from_spki_der(&spki(91)).unwrap();
    assert!(
        binding
            .to_base64()
            .starts_with("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
    );
    assert_eq!(
        PushBinding::from_base64(&binding.to_base64()).unwrap(),
        binding
    );
    let mut wrong_curve = spki(91);
    wrong_curve[22] = 0x22;
    assert!(PushBinding::from_spki_der(&wrong_curve).is_err());

    let cred = CredentialSid::from_bytes([1; 16]);
    let config = |app: &str, platform, token: Option<&str>| {
        PushConfig::new(app, platform, token, None, cred)
    };
    let apn = NotificationPlatform::Apn;
    assert!(config(&"a".repeat(MAX_PUSH_APP_ID_LEN), apn, Some(&"t".repeat(32))).is_ok());
    assert_eq!(
        length_error(
            config(
                &"a".repeat(MAX_PUSH_APP_ID_LEN + 1),
                apn,
                Some(&"t".repeat(32))
            )
            .unwrap_err()
        ),
        (Field::PushAppId, 100, 101)
    );
    assert!(
        config(
            "app",
            apn,
            Some(&"t".repeat(MIN_NOTIFICATION_TOKEN_LEN - 1))
        )
        .is_err()
    );
    assert!(config("app", apn, Some(&"t".repeat(MAX_NOTIFICATION_TOKEN_LEN))).is_ok());
    assert_eq!(
        length_error(
            config(
                "app",
                apn,
                Some(&"t".repeat(MAX_NOTIFICATION_TOKEN_LEN + 1))
            )
            .unwrap_err()
        ),
        (Field::NotificationToken, 255, 256)
    );
    assert_eq!(
        config("app", apn, None).unwrap_err(),
        ModelError::MissingField {
            field: Field::NotificationToken
        }
    );
    assert!(config("app", NotificationPlatform::None, None).is_ok());
    assert!(config("app", NotificationPlatform::None, Some(&"t".repeat(32))).is_err());
}

#[test]
fn push_challenge_requires_a_message() {
    let push = verified_push();
    let err = Challenge::create(
        ChallengeTarget::Factor(&push),
        NewChallenge::new(),
        NOW,
        &mut rng(12),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ModelError::MissingField {
            field: Field::DetailsMessage
        }
    );
}

#[test]
fn unverified_factor_cannot_be_challenged() {
    let factor = Factor::create(new_factor("Phone"), totp_kind(1), NOW, &mut rng(13))
        .unwrap()
        .factor;
    let err = Challenge::create(
        ChallengeTarget::Factor(&factor),
        NewChallenge::new(),
        NOW,
        &mut rng(13),
    )
    .unwrap_err();
    assert_eq!(err, ModelError::FactorNotVerified);
    assert_eq!(err.code(), Some(60318));
}

#[test]
fn passkey_challenges_need_their_ceremony() {
    let factor = verified_passkey();
    let ceremony = crate::support::ceremony(None);
    assert!(
        Challenge::create(
            ChallengeTarget::Factor(&factor),
            NewChallenge::new(),
            NOW,
            &mut rng(14)
        )
        .is_err()
    );
    assert!(
        Challenge::create(
            ChallengeTarget::Factor(&factor),
            NewChallenge::new().with_passkey(ceremony.clone()),
            NOW,
            &mut rng(14)
        )
        .is_ok()
    );
    let totp = verified_totp();
    assert!(
        Challenge::create(
            ChallengeTarget::Factor(&totp),
            NewChallenge::new().with_passkey(ceremony),
            NOW,
            &mut rng(14)
        )
        .is_err()
    );
}

#[test]
fn page_size() {
    assert!(PageSize::new(u64::from(MIN_PAGE_SIZE) - 1).is_err());
    assert!(PageSize::new(u64::from(MIN_PAGE_SIZE)).is_ok());
    assert!(PageSize::new(u64::from(MAX_PAGE_SIZE)).is_ok());
    assert!(PageSize::new(u64::from(MAX_PAGE_SIZE) + 1).is_err());
    assert!(PageSize::new(u64::MAX).is_err());
}

#[test]
fn access_token_ttl() {
    let input = || NewAccessToken::new(ServiceSid::from_bytes([1; 16]), identity());
    let issue = |secs| {
        AccessToken::issue(
            input().with_ttl(Duration::from_secs(secs)),
            NOW,
            &mut rng(15),
        )
    };
    assert!(issue(MIN_ACCESS_TOKEN_TTL.as_secs() - 1).is_err());
    assert!(issue(MIN_ACCESS_TOKEN_TTL.as_secs()).is_ok());
    assert!(issue(MAX_ACCESS_TOKEN_TTL.as_secs()).is_ok());
    assert_eq!(
        issue(MAX_ACCESS_TOKEN_TTL.as_secs() + 1).unwrap_err(),
        ModelError::ValueOutOfRange {
            field: Field::AccessTokenTtl,
            min: 60,
            max: 300,
            value: 301
        }
    );
    assert_eq!(
        AccessToken::issue(input(), NOW, &mut rng(15))
            .unwrap()
            .expires_at(),
        UnixTime::from_secs(NOW.as_secs() + 60)
    );
}

#[test]
fn notification_ttl() {
    use verify_model::challenge::NotificationTtl;
    assert!(NotificationTtl::new(Duration::ZERO).is_ok());
    assert!(NotificationTtl::new(MAX_NOTIFICATION_TTL).is_ok());
    assert_eq!(
        NotificationTtl::new(MAX_NOTIFICATION_TTL + Duration::from_secs(1)),
        Err(ModelError::ValueOutOfRange {
            field: Field::NotificationTtl,
            min: 0,
            max: 300,
            value: 301
        })
    );
    assert_eq!(NotificationTtl::default().get(), MAX_NOTIFICATION_TTL);
}
