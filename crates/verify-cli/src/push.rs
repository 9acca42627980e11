//! `verify push verify-factor | verify-approval` (not yet built).

use crate::envelope::{Envelope, EnvelopeError, Outcome};

/// `verify push verify-factor`.
pub(crate) fn verify_factor(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify push verify-factor is not built yet",
    ))
}
/// `verify push verify-approval`.
pub(crate) fn verify_approval(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify push verify-approval is not built yet",
    ))
}
