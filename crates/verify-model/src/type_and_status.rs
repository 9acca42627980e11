//! The plain value enums that errors name: a factor's type ([`FactorType`]) and a
//! challenge's status ([`ChallengeStatus`]). A leaf: it imports no module that
//! imports `crate::error`, so [`ModelError`](crate::ModelError) can name them
//! without an import circle. Their `FromStr` (which answers `ModelError`) and their
//! other methods stay with their resources (`crate::factor`, `crate::challenge`),
//! which re-export them.

use crate::macros::string_enum;

string_enum!(
    @declare
    /// A factor's kind (`factor_type`).
    FactorType, {
        /// A device key approving pushed challenges.
        Push => "push",
        /// An authenticator app's time-based one-time codes.
        Totp => "totp",
        /// A WebAuthn passkey.
        Passkeys => "passkeys",
    }
);

string_enum!(
    @declare
    /// A challenge's `status`.
    ChallengeStatus, {
        /// Waiting for an answer.
        Pending => "pending",
        /// Passed its expiration date unanswered.
        Expired => "expired",
        /// Approved.
        Approved => "approved",
        /// Denied (by the user, or after too many failed attempts).
        Denied => "denied",
    }
);
