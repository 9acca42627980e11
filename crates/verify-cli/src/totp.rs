//! `verify totp code | check | uri` (not yet built).

use crate::envelope::{Envelope, EnvelopeError, Outcome};

/// `verify totp code`.
pub(crate) fn code(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify totp code is not built yet",
    ))
}
/// `verify totp check`.
pub(crate) fn check(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify totp check is not built yet",
    ))
}
/// `verify totp uri`.
pub(crate) fn uri(_: &Envelope) -> Result<Outcome, EnvelopeError> {
    Ok(Outcome::rejected(
        "not_built",
        "verify totp uri is not built yet",
    ))
}
