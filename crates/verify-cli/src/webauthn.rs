//! `verify webauthn verify-registration | verify-authentication` and `verify inspect`
//! (not yet built).

use crate::envelope::{Envelope, EnvelopeError, Outcome};

/// `verify webauthn verify-registration`.
pub(crate) fn verify_registration(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify webauthn verify-registration is not built yet",
    ))
}
/// `verify webauthn verify-authentication`.
pub(crate) fn verify_authentication(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify webauthn verify-authentication is not built yet",
    ))
}
/// `verify inspect`.
pub(crate) fn inspect(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify inspect is not built yet",
    ))
}
