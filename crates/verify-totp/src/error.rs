//! The crate's one error type, [`TotpError`], and its families.
//!
//! No variant carries a secret, a code or a decoded secret byte: only lengths,
//! positions, ranges and time steps.

use thiserror::Error;

/// Why a TOTP operation failed.
///
/// [`TotpError::code`] gives each variant a stable snake_case machine code, and
/// [`TotpError::counts_as_attempt`] says whether the engine must count the failure
/// against the challenge's (or factor's) attempt limit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TotpError {
    /// A parameter is outside the service's ranges.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A secret could not be decoded or has an unusable length.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The submitted code is not a string of exactly `digits` ASCII digits. Checked
    /// before any HMAC is computed.
    #[error(transparent)]
    CodeMalformed(#[from] CodeError),
    /// An `otpauth://` URI could not be built or parsed.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// The code matches no usable time step in the window. Deliberately says nothing
    /// about how close it came.
    #[error("the code matches no time step within {skew} of the current step {current_step}")]
    CodeMismatch {
        /// The step containing `now`.
        current_step: u64,
        /// The configured skew in steps.
        skew: u8,
    },
    /// The code is the right one for a time step at or below the factor's last used
    /// step, and for no later step in the window: codes are single-use.
    #[error(
        "the code is for time step {step}, at or below the last used step {last_used_step}: codes are single-use"
    )]
    StepAlreadyUsed {
        /// The (already consumed) step the code belongs to.
        step: u64,
        /// The factor's last used step.
        last_used_step: u64,
    },
    /// The HMAC implementation refused the key. HMAC takes keys of any length, so the
    /// pinned `hmac` crate never does this; it is reported rather than assumed away.
    #[error("the HMAC implementation refused the secret as a key")]
    HmacKeyRejected,
}

impl TotpError {
    /// A stable snake_case machine code for this error, one per check.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Config(ConfigError::UnknownAlgorithm { .. }) => "algorithm_unknown",
            Self::Config(ConfigError::DigitsOutOfRange { .. }) => "digits_out_of_range",
            Self::Config(ConfigError::PeriodOutOfRange { .. }) => "period_out_of_range",
            Self::Config(ConfigError::SkewOutOfRange { .. }) => "skew_out_of_range",
            Self::Secret(SecretError::TooShort { .. }) => "secret_too_short",
            Self::Secret(SecretError::TooLong { .. }) => "secret_too_long",
            Self::Secret(_) => "secret_malformed",
            Self::CodeMalformed(_) => "code_malformed",
            Self::Uri(_) => "uri_invalid",
            Self::CodeMismatch { .. } => "code_mismatch",
            Self::StepAlreadyUsed { .. } => "step_already_used",
            Self::HmacKeyRejected => "hmac_key_rejected",
        }
    }

    /// Whether this is a failed verification attempt: a submitted code that was
    /// malformed, wrong, or already used. The engine counts these against the
    /// challenge's attempt limit (5, error 60308) or the factor's verification limit
    /// (5, error 60310). The other errors are defects of the factor or the request,
    /// not guesses, and count nothing.
    #[must_use]
    pub const fn counts_as_attempt(&self) -> bool {
        matches!(
            self,
            Self::CodeMalformed(_) | Self::CodeMismatch { .. } | Self::StepAlreadyUsed { .. }
        )
    }
}

/// A TOTP parameter outside its range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The algorithm is not `sha1`, `sha256` or `sha512` (in any letter case).
    #[error("unknown algorithm ({length} characters): expected sha1, sha256 or sha512")]
    UnknownAlgorithm {
        /// Length of the rejected name in bytes.
        length: usize,
    },
    /// The code length is outside 3..=8.
    #[error("code length {got} is outside 3..=8")]
    DigitsOutOfRange {
        /// The rejected length.
        got: u8,
    },
    /// The time step is outside 20..=60 seconds.
    #[error("time step {got} s is outside 20..=60 s")]
    PeriodOutOfRange {
        /// The rejected time step in seconds.
        got: u32,
    },
    /// The skew is outside 0..=2 steps.
    #[error("skew {got} is outside 0..=2 steps")]
    SkewOutOfRange {
        /// The rejected skew.
        got: u8,
    },
}

/// A secret that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A character outside the base32 alphabet (RFC 4648 §6, either letter case),
    /// spaces and trailing `=` padding.
    #[error("invalid base32 character at position {position}")]
    InvalidCharacter {
        /// Byte offset of the character in the text.
        position: usize,
    },
    /// `=` padding in the middle, too much of it, or padding that does not complete
    /// a block of 8 characters.
    #[error("invalid base32 padding")]
    InvalidPadding,
    /// A number of base32 characters no whole number of bytes encodes (1, 3 or 6
    /// modulo 8).
    #[error("{symbols} base32 characters do not encode a whole number of bytes")]
    InvalidLength {
        /// Number of base32 symbols (padding and spaces excluded).
        symbols: usize,
    },
    /// The text is longer than any secret this crate accepts could be.
    #[error("base32 text of {length} bytes is longer than the {max} allowed")]
    TextTooLong {
        /// Length of the text in bytes.
        length: usize,
        /// The most allowed.
        max: usize,
    },
    /// The secret is shorter than the minimum.
    #[error("a {bits}-bit secret is shorter than the minimum of {min_bits} bits")]
    TooShort {
        /// Length of the secret in bits.
        bits: usize,
        /// The minimum in bits.
        min_bits: usize,
    },
    /// The secret is longer than the maximum.
    #[error("a {bytes}-byte secret is longer than the maximum of {max_bytes} bytes")]
    TooLong {
        /// Length of the secret in bytes.
        bytes: usize,
        /// The maximum in bytes.
        max_bytes: usize,
    },
}

/// A submitted code that is not a code at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodeError {
    /// The code has the wrong number of characters.
    #[error("the code has {got} characters, expected {expected} digits")]
    WrongLength {
        /// The configured number of digits.
        expected: u8,
        /// The number of characters (Unicode scalar values) submitted, capped at 255.
        got: u8,
    },
    /// The code contains something other than the ASCII digits 0-9.
    #[error("the code contains a non-digit at position {position}")]
    NonDigit {
        /// Byte offset of the first non-digit.
        position: usize,
    },
}

/// An `otpauth://` URI that cannot be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UriError {
    /// The text is longer than the maximum accepted.
    #[error("the URI has {length} bytes, more than the {max} accepted")]
    TooLong {
        /// Length in bytes.
        length: usize,
        /// The most accepted.
        max: usize,
    },
    /// The scheme is not `otpauth://`.
    #[error("the URI does not start with otpauth://")]
    NotOtpauth,
    /// The OTP type is not `totp` (`hotp` counters are not supported).
    #[error("unsupported OTP type ({length} characters): only totp is supported")]
    UnsupportedType {
        /// Length of the type in bytes.
        length: usize,
    },
    /// The label (issuer prefix and account name) is missing or has an empty part.
    #[error("the label has no account name")]
    MissingAccount,
    /// The issuer is empty where one is required, or the label's issuer prefix is
    /// empty.
    #[error("the issuer is empty")]
    EmptyIssuer,
    /// A `%` is not followed by two hex digits.
    #[error("invalid percent-encoding in the {part}")]
    InvalidPercentEncoding {
        /// `label` or the parameter's name.
        part: &'static str,
    },
    /// The percent-decoded bytes are not UTF-8.
    #[error("the {part} is not UTF-8 once percent-decoded")]
    NotUtf8 {
        /// `label` or the parameter's name.
        part: &'static str,
    },
    /// A known parameter appears more than once.
    #[error("the parameter `{name}` appears more than once")]
    DuplicateParameter {
        /// The parameter's name.
        name: &'static str,
    },
    /// The required `secret` parameter is missing.
    #[error("the secret parameter is missing")]
    MissingSecret,
    /// `digits` or `period` is not a decimal number.
    #[error("the {name} parameter is not a decimal number")]
    InvalidNumber {
        /// The parameter's name.
        name: &'static str,
    },
    /// `secret` is not a usable base32 secret.
    #[error("the secret parameter is unusable: {0}")]
    Secret(SecretError),
    /// `algorithm`, `digits` or `period` is outside the supported values.
    #[error("a parameter is unsupported: {0}")]
    Config(ConfigError),
}
