//! The error code table of docs/api.md ("Errors") as the engine reports it.

use verify_engine::VerifyError;
use verify_engine::error::status_of_code;
use verify_model::{ChallengeStatus, ModelError, UnixTime};
use verify_store::Resource;

#[test]
fn spec_codes_and_statuses() {
    let t = UnixTime::from_secs(1);
    let cases: Vec<(VerifyError, u32, u16)> = vec![
        (
            ModelError::ChallengeAttemptsExhausted { limit: 5 }.into(),
            60308,
            429,
        ),
        (
            ModelError::FactorVerificationAttemptsExhausted { limit: 5 }.into(),
            60310,
            429,
        ),
        (
            VerifyError::FactorVerificationFailed { remaining: 1 },
            60311,
            403,
        ),
        (ModelError::FactorNotVerified.into(), 60318, 403),
        (
            ModelError::ChallengeExpired {
                expired_at: t,
                now: t,
            }
            .into(),
            60323,
            403,
        ),
        (
            VerifyError::AuthPayloadInvalid(verify_push::PushError::SignatureInvalid),
            60324,
            403,
        ),
        (
            ModelError::TooManyFactorCreations {
                limit: 100,
                count: 100,
            }
            .into(),
            60326,
            429,
        ),
        (
            VerifyError::NotFound {
                resource: Resource::Challenge,
            },
            60391,
            404,
        ),
        (
            VerifyError::NotFound {
                resource: Resource::Factor,
            },
            20404,
            404,
        ),
        (
            ModelError::ChallengeNotPending {
                status: ChallengeStatus::Denied,
            }
            .into(),
            20409,
            409,
        ),
        (ModelError::AccessTokenUsed.into(), 20003, 401),
    ];
    for (error, code, status) in cases {
        assert_eq!(
            (error.code(), error.http_status()),
            (code, status),
            "{error}"
        );
        assert_eq!(status_of_code(code), status);
    }
}
