//! [`VerifyError`]: the engine's one error type, with [`VerifyError::code`] (the
//! service's machine codes, docs/api.md "Errors") and [`VerifyError::http_status`].
//!
//! # Error codes
//!
//! Every code an error answer of the reference server (`verify-server`) carries, in
//! its JSON `code` field: the engine's ([`VerifyError::code`], with the HTTP status of
//! [`status_of_code`]) and the few the server adds itself (marked "reference server").
//! Each row has an anchor, `#code-NNNNN`: the server's default `more_info` link for
//! a code points there. The service's documented codes keep their meaning; 60340 is
//! this project's own.
//!
//! | code | HTTP | meaning |
//! |---|---|---|
//! | <a id="code-60200"></a>60200 | 400 | a parameter is missing, malformed or outside its limit (the message names it); a passkeys configuration that is not a usable relying party; a passkey challenge answered through the generic challenge update ([`CODE_INVALID_PARAMETER`]) |
//! | <a id="code-60202"></a>60202 | 429 | the TOTP factor is locked after 10 wrong codes in a row (the guessing budget); `Retry-After` says when the lock ends; no code was compared |
//! | <a id="code-60301"></a>60301 | 409 | an entity with this identity already exists in the service |
//! | <a id="code-60308"></a>60308 | 429 | the challenge had its fifth wrong code and is now denied |
//! | <a id="code-60310"></a>60310 | 429 | the factor had its fifth failed verification and can no longer be verified |
//! | <a id="code-60311"></a>60311 | 403 | factor verification failed (a wrong first TOTP code, a bad device signature); one attempt was counted |
//! | <a id="code-60315"></a>60315 | 400 | the entity already holds the most factors of this type |
//! | <a id="code-60318"></a>60318 | 403 | the factor is not verified, so it cannot be challenged |
//! | <a id="code-60323"></a>60323 | 403 | the challenge (or passkey ceremony) has expired |
//! | <a id="code-60324"></a>60324 | 403 | the challenge's `AuthPayload` is invalid (a bad push signature, signed fields that differ) or a WebAuthn check failed (a passkey attestation or assertion); the challenge is unchanged |
//! | <a id="code-60326"></a>60326 | 429 | the entity has created 100 factors in the last 24 hours |
//! | <a id="code-60340"></a>60340 | 409 | the TOTP code was right for a time step this factor already used: codes are single-use (a replayed or shared code, or one a concurrent request accepted first); on a challenge it is a failed attempt and the challenge stays pending; the user waits for the next code ([`CODE_TOTP_CODE_ALREADY_USED`], this project's own code) |
//! | <a id="code-60364"></a>60364 | 400 | a challenge sid in the request path is malformed (reference server) |
//! | <a id="code-60369"></a>60369 | 400 | wrong factor type for the operation (a passkey factor through the TOTP/push factor creation, an access token for a type other than push, a notification for a non-push challenge) |
//! | <a id="code-60391"></a>60391 | 404 | no such challenge |
//! | <a id="code-20003"></a>20003 | 401 | authentication failed: missing or wrong API credentials, or a wrong, expired or used enrollment access token or device credential ([`CODE_UNAUTHORIZED`]) |
//! | <a id="code-20004"></a>20004 | 405 | the route does not take this method; `Allow` lists those it does (reference server) |
//! | <a id="code-20403"></a>20403 | 403 | an enrolled device acting on a factor that is not its own; a one-service API key on an operation that needs an all-services key (reference server) |
//! | <a id="code-20404"></a>20404 | 404 | no such resource or route, or an unverified factor whose lifetime has run out ([`CODE_NOT_FOUND`]) |
//! | <a id="code-20408"></a>20408 | 408 | the request body did not arrive in time; the connection is closed (reference server) |
//! | <a id="code-20409"></a>20409 | 409 | the state does not allow it (challenge no longer pending, factor already verified) or a concurrent update won: retry ([`CODE_CONFLICT`]) |
//! | <a id="code-20414"></a>20414 | 414 | the request's URI is longer than the server accepts (8 KiB; reference server) |
//! | <a id="code-20429"></a>20429 | 429 | wrong TOTP codes in a row slowed this factor's checks down (`Retry-After` says when the next is allowed; no code was compared); also, from the reference server, a push factor with 5 pending challenges, or a client over the per-IP request rate |
//! | <a id="code-20431"></a>20431 | 431 | the request's header block is larger than the server accepts (100 fields, 32 KiB; reference server) |
//! | <a id="code-20500"></a>20500 | 500 | the server failed (store, clock) ([`CODE_INTERNAL`]); a push service's refusal of a notification answers 502, its request to retry 503, with this code |
//! | <a id="code-20501"></a>20501 | 501 | an operation this build does not provide ([`CODE_NOT_IMPLEMENTED`]) |
//! | <a id="code-20503"></a>20503 | 503 | the store is unavailable for now (no connection in time, unreachable, restarting, or a SQLite file locked by another process); nothing was written; `Retry-After` says when to retry ([`CODE_UNAVAILABLE`]) |

use verify_model::ModelError;
use verify_push::PushError;
pub use verify_store::Resource;
use verify_store::{QuotaKind, StoreError};
use verify_totp::TotpError;

use crate::clock::ClockError;

/// Errors of webhook secrets and delivery requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A webhook secret is not `whsec_` followed by non-empty standard base64.
    #[error("webhook secret is not whsec_<base64>")]
    SecretMalformed,
    /// The delivery body could not be serialized.
    #[error("webhook delivery body could not be serialized")]
    BodyUnserializable,
}

/// Every way an engine operation can fail.
///
/// `Err` means the operation's decision was not written. A transition that was
/// written is an `Ok` whose outcome says so (a wrong TOTP code counted, a challenge
/// found expired and recorded so), except [`VerifyError::FactorVerificationFailed`],
/// which reports the failed attempt it recorded. Two operations write a first step
/// before their decision: a factor creation creates the entity of a new identity
/// (kept if the factor is then refused), and a challenge created with a TOTP
/// `auth_payload` is inserted before the code is checked (it stays pending if the
/// check then fails with an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The clock could not be read; nothing was done.
    #[error("clock: {0}")]
    Clock(#[from] ClockError),
    /// The RNG lock was poisoned by a panic in another thread; nothing was done.
    #[error("the engine's random number generator is unavailable")]
    RngUnavailable,
    /// A request value or a state transition was refused by the model (limits,
    /// terminal challenge, unverified factor, expired challenge, ...).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The TOTP crate refused a configuration or secret (a wrong code is reported as
    /// [`VerifyError::FactorVerificationFailed`] or a rejected challenge, not here).
    #[error(transparent)]
    Totp(#[from] TotpError),
    /// The push crate refused a binding or request (a bad signature is reported as
    /// [`VerifyError::FactorVerificationFailed`] or [`VerifyError::AuthPayloadInvalid`]).
    #[error(transparent)]
    Push(#[from] PushError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A webhook secret or delivery could not be built.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// No such resource (in this service, for this identity).
    #[error("{resource} not found")]
    NotFound {
        /// The kind of resource.
        resource: Resource,
    },
    /// The factor verification proof (first TOTP code, device signature, passkey
    /// attestation) was wrong; one failed attempt was recorded.
    #[error("factor verification failed ({remaining} attempts left)")]
    FactorVerificationFailed {
        /// Attempts left before 60310.
        remaining: u32,
    },
    /// A challenge's `AuthPayload` (push answer, passkey assertion) was malformed or
    /// its signature did not verify; the challenge is unchanged (60324). The source
    /// names the failed check (signature failures stay opaque).
    #[error("auth payload invalid")]
    AuthPayloadInvalid(#[source] PushError),
    /// The enrollment access token was not valid for this request (wrong token,
    /// expired, already used, another identity or service).
    #[error("access token not valid for this request")]
    AccessTokenInvalid,
    /// The service has no passkeys configuration (relying party).
    #[error("the service has no passkeys configuration")]
    PasskeysNotConfigured,
    /// The passkeys configuration is not a usable relying party (an RP ID that is
    /// not a lower-case host name, an origin that is not `https://` of the RP ID or
    /// a subdomain, `http://localhost` or an app origin). Refused when a service is
    /// created or updated; a configuration stored by an earlier release that fails
    /// the check is reported so, at the operation that needs it.
    #[error("passkeys configuration refused: {what}")]
    PasskeysConfigInvalid {
        /// What is wrong.
        what: String,
    },
    /// The operation does not answer a challenge of this kind (a passkey challenge
    /// through the generic update, say); `use_instead` names the one that does.
    #[error("a {kind} challenge is not answered by {operation}: use {use_instead}")]
    WrongOperationForKind {
        /// The challenge's kind.
        kind: verify_model::FactorType,
        /// The operation that was called.
        operation: &'static str,
        /// The operation that answers this kind.
        use_instead: &'static str,
    },
    /// A parameter that means something only with another was sent without it
    /// (`factor_sid` without `identity` for a passkey challenge: a factor is named
    /// within its entity).
    #[error("{given} requires {requires}")]
    ParameterRequires {
        /// The parameter sent.
        given: &'static str,
        /// The parameter it needs.
        requires: &'static str,
    },
    /// The operation lost a compare-and-set race on `resource` and retrying it could
    /// not be done safely (or the bounded retries ran out): another request changed
    /// the resource first. Nothing was written by this request.
    #[error("concurrent update of the {resource}: try again")]
    Conflict {
        /// The contended resource.
        resource: Resource,
    },
    /// The store holds a value the engine cannot use (e.g. a factor whose kind does
    /// not match its type); nothing was written.
    #[error("inconsistent stored {resource}: {rule}")]
    Inconsistent {
        /// The resource.
        resource: Resource,
        /// The broken rule.
        rule: &'static str,
    },
    /// A WebAuthn ceremony check failed (names the check: `OriginMismatch`,
    /// `ChallengeMismatch`, `SignCountRegressed`, an opaque `SignatureInvalid`, ...).
    #[error(transparent)]
    Webauthn(#[from] verify_webauthn::WebauthnError),
}

/// `code` for request validation errors without a documented code ("invalid
/// parameter").
pub const CODE_INVALID_PARAMETER: u32 = 60200;
/// `code` for authentication failures (401).
pub const CODE_UNAUTHORIZED: u32 = 20003;
/// `code` for not found (404).
pub const CODE_NOT_FOUND: u32 = 20404;
/// `code` for a state conflict (409).
pub const CODE_CONFLICT: u32 = 20409;
/// `code` for a TOTP code that was right for a time step the factor already used
/// (409): a replayed or shared code, or one a concurrent request accepted first.
/// Codes are single-use; the user waits for the next one. On a challenge it is a
/// failed attempt ([`verify_model::ChallengeOutcome::CodeAlreadyUsed`]). The service
/// does not document a code for this; it is this project's own.
pub const CODE_TOTP_CODE_ALREADY_USED: u32 = 60340;
/// `code` for a server-side failure (500).
pub const CODE_INTERNAL: u32 = 20500;
/// `code` for an operation this build does not provide (501).
pub const CODE_NOT_IMPLEMENTED: u32 = 20501;
/// `code` for a store that is unavailable for now (503: no database connection
/// within the acquire timeout, the database unreachable, restarting or locked by
/// another process); nothing was written and the request may be retried.
pub const CODE_UNAVAILABLE: u32 = 20503;

impl VerifyError {
    /// The stable machine code: the service's documented code where it has
    /// one (the table in docs/api.md, "Errors") (60308, 60310, 60311, 60315, 60318, 60323, 60324, 60326, 60364, 60369,
    /// 60391, 20404), else one of this crate's `CODE_*` constants.
    #[must_use]
    pub fn code(&self) -> u32 {
        match self {
            Self::Clock(_) | Self::RngUnavailable | Self::Inconsistent { .. } => CODE_INTERNAL,
            Self::Model(error) => model_code(error),
            Self::Totp(error) => {
                if matches!(error, TotpError::StepAlreadyUsed { .. }) {
                    CODE_TOTP_CODE_ALREADY_USED
                } else if error.counts_as_attempt() {
                    60311
                } else if matches!(error, TotpError::HmacKeyRejected) {
                    CODE_INTERNAL
                } else {
                    CODE_INVALID_PARAMETER
                }
            }
            Self::Push(error) => match error {
                PushError::AccessToken(_) | PushError::RequestAuth(_) => CODE_UNAUTHORIZED,
                PushError::SignatureInvalid => 60324,
                _ => CODE_INVALID_PARAMETER,
            },
            Self::Store(error) => store_code(error),
            Self::Webhook(WebhookError::SecretMalformed) => CODE_INVALID_PARAMETER,
            Self::Webhook(_) => CODE_INTERNAL,
            Self::NotFound {
                resource: Resource::Challenge,
            } => 60391,
            Self::NotFound { .. } => CODE_NOT_FOUND,
            Self::FactorVerificationFailed { .. } => 60311,
            Self::AuthPayloadInvalid(_) => 60324,
            Self::AccessTokenInvalid => CODE_UNAUTHORIZED,
            Self::PasskeysNotConfigured
            | Self::PasskeysConfigInvalid { .. }
            | Self::WrongOperationForKind { .. }
            | Self::ParameterRequires { .. } => CODE_INVALID_PARAMETER,
            Self::Conflict { .. } => CODE_CONFLICT,
            Self::Webauthn(error) => webauthn_code(error),
        }
    }

    /// Seconds a caller should wait before retrying (`Retry-After`), for the
    /// guessing budget's refusals (60202 locked, 20429 slowed down); `None` for
    /// every other error.
    #[must_use]
    pub const fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Model(error) => error.retry_after_secs(),
            _ => None,
        }
    }

    /// The HTTP status a server answers with.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        status_of_code(self.code())
    }
}

/// The HTTP status for a machine code of [`VerifyError::code`].
#[must_use]
pub const fn status_of_code(code: u32) -> u16 {
    match code {
        60308 | 60310 | 60326 | 60202 | 20429 => 429,
        60311 | 60318 | 60323 | 60324 => 403,
        60391 | CODE_NOT_FOUND => 404,
        CODE_UNAUTHORIZED => 401,
        CODE_CONFLICT | CODE_TOTP_CODE_ALREADY_USED => 409,
        CODE_INTERNAL => 500,
        CODE_NOT_IMPLEMENTED => 501,
        CODE_UNAVAILABLE => 503,
        _ => 400,
    }
}

fn model_code(error: &ModelError) -> u32 {
    if let Some(code) = error.code() {
        return code;
    }
    match error {
        ModelError::ChallengeNotPending { .. } | ModelError::FactorAlreadyVerified => CODE_CONFLICT,
        ModelError::TotpStepReused { .. } => CODE_TOTP_CODE_ALREADY_USED,
        ModelError::AccessTokenExpired { .. }
        | ModelError::AccessTokenUsed
        | ModelError::AccessTokenInvalid => CODE_UNAUTHORIZED,
        ModelError::CorruptRecord { .. } | ModelError::VersionExhausted => CODE_INTERNAL,
        _ => CODE_INVALID_PARAMETER,
    }
}

fn webauthn_code(error: &verify_webauthn::WebauthnError) -> u32 {
    use verify_webauthn::WebauthnError as W;
    match error {
        W::Malformed(_) => CODE_INVALID_PARAMETER,
        W::InvalidConfig { .. } | W::ChallengePrefixTooLong { .. } => CODE_INTERNAL,
        W::CeremonyExpired { .. } => 60323,
        _ => 60324,
    }
}

fn store_code(error: &StoreError) -> u32 {
    match error {
        StoreError::Conflict { .. } | StoreError::Duplicate { .. } => CODE_CONFLICT,
        StoreError::NotFound { .. } => CODE_NOT_FOUND,
        StoreError::QuotaExceeded {
            kind: QuotaKind::FactorsOfType,
            ..
        } => 60315,
        StoreError::QuotaExceeded { .. } => 60326,
        StoreError::InvalidPageToken => CODE_INVALID_PARAMETER,
        StoreError::Unavailable(_) => CODE_UNAVAILABLE,
        _ => CODE_INTERNAL,
    }
}

#[cfg(test)]
mod store_unavailable_tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_503_with_its_own_code_and_no_cause_in_the_message() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = VerifyError::from(StoreError::Unavailable(Box::new(cause)));
        assert_eq!((error.code(), error.http_status()), (CODE_UNAVAILABLE, 503));
        assert_eq!(error.to_string(), "store temporarily unavailable");
        let backend = VerifyError::from(StoreError::Backend(Box::new(std::io::Error::other("x"))));
        assert_eq!(
            (backend.code(), backend.http_status()),
            (CODE_INTERNAL, 500)
        );
    }
}
