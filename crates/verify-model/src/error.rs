//! The crate's one error type.

use thiserror::Error;

/// Why a value of the model could not be built or a transition could not happen.
///
/// Each variant names the rule that was violated and carries the limit and the
/// offending length or count, never the offending value itself (it may be secret or
/// personal data).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A sid did not match `^XX[0-9a-fA-F]{32}$` for its prefix.
    #[error(
        "invalid sid: expected {expected_prefix} followed by 32 hex digits (got {length} characters)"
    )]
    InvalidSid {
        /// The prefix this kind of sid must start with.
        expected_prefix: &'static str,
        /// Length of the rejected text in bytes.
        length: usize,
    },
    /// A timestamp was not `YYYY-MM-DDTHH:MM:SSZ` or named an impossible instant.
    #[error("invalid timestamp: expected YYYY-MM-DDTHH:MM:SSZ in UTC (got {length} characters)")]
    InvalidTimestamp {
        /// Length of the rejected text in bytes.
        length: usize,
    },
}
