//! The parameters of a TOTP factor: [`Algorithm`], [`Digits`], [`Period`], [`Skew`],
//! gathered in [`TotpConfig`].
//!
//! Each is a newtype validated on construction, with the ranges of the service (docs/api.md,
//! "Limits"): code length 3..=8, time step 20..=60 s, skew 0..=2 steps. A value of one of
//! these types is always in range, so the code that uses them never re-checks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use verify_model::limits;

use crate::error::ConfigError;

/// The HMAC hash function (RFC 6238 §1.2: SHA-1, SHA-256 or SHA-512).
///
/// Its JSON form is the service's `Config.Alg`: `"sha1"`, `"sha256"`, `"sha512"`. Its
/// otpauth form ([`Algorithm::as_uri_str`]) is upper case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-1, the default and the only algorithm every authenticator app honours.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// The model's `config.alg`, mapped by variant (the model's set is closed, so a new
/// algorithm there fails this match rather than falling into a default).
impl From<verify_model::TotpAlgorithm> for Algorithm {
    fn from(alg: verify_model::TotpAlgorithm) -> Self {
        match alg {
            verify_model::TotpAlgorithm::Sha1 => Self::Sha1,
            verify_model::TotpAlgorithm::Sha256 => Self::Sha256,
            verify_model::TotpAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// `u8` to `u32` in a const (`u32::from` is not const).
#[expect(clippy::as_conversions, reason = "u8 to u32 widens losslessly")]
const fn widen(value: u8) -> u32 {
    value as u32
}

impl Algorithm {
    /// Every algorithm, in the order SHA-1, SHA-256, SHA-512.
    pub const ALL: [Self; 3] = [Self::Sha1, Self::Sha256, Self::Sha512];

    /// The service's lower-case name: `sha1`, `sha256` or `sha512`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// The Key Uri Format's upper-case name: `SHA1`, `SHA256` or `SHA512`.
    #[must_use]
    pub const fn as_uri_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Length in bytes of the secrets [`Secret::generate`](crate::Secret::generate)
    /// makes for this algorithm: the hash's output length, as RFC 6238's reference
    /// implementation (Appendix A) keys each algorithm (20, 32 and 64 bytes).
    #[must_use]
    pub const fn generated_secret_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = ConfigError;

    /// Parses `sha1`, `sha256` or `sha512` in any letter case (the service writes them
    /// in lower case, otpauth URIs in upper case). `SHA-1` and the like are refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(text))
            .ok_or(ConfigError::UnknownAlgorithm { length: text.len() })
    }
}

/// Number of decimal digits in a code: 3..=8 (default 6).
///
/// RFC 4226 §5.3 asks for at least 6; the service allows 3..=8 (docs/api.md), and so
/// do we. Fewer digits make guessing easier: the attempt limit is what protects short
/// codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Digits(u8);

impl Digits {
    /// The fewest digits allowed (the service's limit, defined once in the model).
    pub const MIN: u8 = limits::MIN_TOTP_CODE_LENGTH;
    /// The most digits allowed.
    pub const MAX: u8 = limits::MAX_TOTP_CODE_LENGTH;
    /// Six digits, the default of the service and of every authenticator app.
    pub const DEFAULT: Self = Self(limits::DEFAULT_TOTP_CODE_LENGTH);

    /// `digits` if it is within 3..=8.
    ///
    /// # Errors
    /// [`ConfigError::DigitsOutOfRange`] otherwise.
    pub const fn new(digits: u8) -> Result<Self, ConfigError> {
        if digits >= Self::MIN && digits <= Self::MAX {
            Ok(Self(digits))
        } else {
            Err(ConfigError::DigitsOutOfRange { got: digits })
        }
    }

    /// The number of digits.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// 10^digits, the modulus of RFC 4226's truncation.
    pub(crate) fn modulus(self) -> u32 {
        10_u32.pow(u32::from(self.0))
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u8> for Digits {
    type Error = ConfigError;
    fn try_from(digits: u8) -> Result<Self, Self::Error> {
        Self::new(digits)
    }
}

impl From<Digits> for u8 {
    fn from(digits: Digits) -> Self {
        digits.0
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The time step X of RFC 6238 in seconds: 20..=60 (default 30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Period(u32);

impl Period {
    /// The shortest time step allowed, in seconds (the service's limit, defined
    /// once in the model).
    pub const MIN: u32 = widen(limits::MIN_TOTP_TIME_STEP);
    /// The longest time step allowed, in seconds.
    pub const MAX: u32 = widen(limits::MAX_TOTP_TIME_STEP);
    /// Thirty seconds, RFC 6238 §5.2's recommendation and every app's default.
    pub const DEFAULT: Self = Self(widen(limits::DEFAULT_TOTP_TIME_STEP));

    /// `seconds` if it is within 20..=60.
    ///
    /// # Errors
    /// [`ConfigError::PeriodOutOfRange`] otherwise.
    pub const fn new(seconds: u32) -> Result<Self, ConfigError> {
        if seconds >= Self::MIN && seconds <= Self::MAX {
            Ok(Self(seconds))
        } else {
            Err(ConfigError::PeriodOutOfRange { got: seconds })
        }
    }

    /// The time step in seconds.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The time step T = floor(unix_seconds / X) that contains `unix_seconds` (RFC 6238
    /// §4.2 with T0 = 0).
    #[must_use]
    pub fn step_at(self, unix_seconds: u64) -> u64 {
        // Never divides by zero: the constructor keeps the period at 20 or more.
        unix_seconds / u64::from(self.0)
    }
}

impl Default for Period {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u32> for Period {
    type Error = ConfigError;
    fn try_from(seconds: u32) -> Result<Self, Self::Error> {
        Self::new(seconds)
    }
}

impl From<Period> for u32 {
    fn from(period: Period) -> Self {
        period.0
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many time steps before and after the current one a code may come from: 0..=2
/// (default 1, RFC 6238 §5.2's recommendation of one step of network delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Skew(u8);

impl Skew {
    /// The widest skew allowed, in steps (the service's limit, defined once in the
    /// model).
    pub const MAX: u8 = limits::MAX_TOTP_SKEW;
    /// One step either side.
    pub const DEFAULT: Self = Self(limits::DEFAULT_TOTP_SKEW);

    /// `steps` if it is within 0..=2.
    ///
    /// # Errors
    /// [`ConfigError::SkewOutOfRange`] otherwise.
    pub const fn new(steps: u8) -> Result<Self, ConfigError> {
        if steps <= Self::MAX {
            Ok(Self(steps))
        } else {
            Err(ConfigError::SkewOutOfRange { got: steps })
        }
    }

    /// The skew in steps.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for Skew {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u8> for Skew {
    type Error = ConfigError;
    fn try_from(steps: u8) -> Result<Self, Self::Error> {
        Self::new(steps)
    }
}

impl From<Skew> for u8 {
    fn from(skew: Skew) -> Self {
        skew.0
    }
}

impl fmt::Display for Skew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A TOTP factor's parameters. The default is the service's: SHA-1, 6 digits, 30 s,
/// skew 1.
///
/// ```
/// use verify_totp::{Algorithm, Digits, Period, Skew, TotpConfig};
/// # fn main() -> Result<(), verify_totp::TotpError> {
/// let config = TotpConfig::default()
///     .with_algorithm(Algorithm::Sha256)
///     .with_digits(Digits::new(8)?)
///     .with_period(Period::new(60)?)
///     .with_skew(Skew::new(0)?);
/// assert_eq!(config.digits().get(), 8);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TotpConfig {
    algorithm: Algorithm,
    digits: Digits,
    period: Period,
    skew: Skew,
}

impl TotpConfig {
    /// A configuration from already validated parts.
    #[must_use]
    pub const fn new(algorithm: Algorithm, digits: Digits, period: Period, skew: Skew) -> Self {
        Self {
            algorithm,
            digits,
            period,
            skew,
        }
    }

    /// This configuration with `algorithm`.
    #[must_use]
    pub const fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// This configuration with `digits`.
    #[must_use]
    pub const fn with_digits(mut self, digits: Digits) -> Self {
        self.digits = digits;
        self
    }

    /// This configuration with `period`.
    #[must_use]
    pub const fn with_period(mut self, period: Period) -> Self {
        self.period = period;
        self
    }

    /// This configuration with `skew`.
    #[must_use]
    pub const fn with_skew(mut self, skew: Skew) -> Self {
        self.skew = skew;
        self
    }

    /// The HMAC hash function.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The code length.
    #[must_use]
    pub const fn digits(&self) -> Digits {
        self.digits
    }

    /// The time step.
    #[must_use]
    pub const fn period(&self) -> Period {
        self.period
    }

    /// The accepted clock skew in steps.
    #[must_use]
    pub const fn skew(&self) -> Skew {
        self.skew
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_the_services() {
        assert!(Digits::new(2).is_err());
        assert!(Digits::new(3).is_ok());
        assert!(Digits::new(8).is_ok());
        assert!(Digits::new(9).is_err());
        assert!(Period::new(19).is_err());
        assert!(Period::new(20).is_ok());
        assert!(Period::new(60).is_ok());
        assert!(Period::new(61).is_err());
        assert!(Skew::new(2).is_ok());
        assert!(Skew::new(3).is_err());
    }

    #[test]
    fn defaults_are_sha1_6_30_1() {
        let config = TotpConfig::default();
        assert_eq!(config.algorithm(), Algorithm::Sha1);
        assert_eq!(config.digits().get(), 6);
        assert_eq!(config.period().get(), 30);
        assert_eq!(config.skew().get(), 1);
    }

    #[test]
    fn algorithm_names() {
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.as_str().parse::<Algorithm>().unwrap(), algorithm);
            assert_eq!(
                algorithm.as_uri_str().parse::<Algorithm>().unwrap(),
                algorithm
            );
        }
        assert!("SHA-1".parse::<Algorithm>().is_err());
        assert!("md5".parse::<Algorithm>().is_err());
        assert!("".parse::<Algorithm>().is_err());
    }

    #[test]
    fn json_form_is_validated() {
        let config = TotpConfig::default().with_algorithm(Algorithm::Sha512);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            json,
            r#"{"algorithm":"sha512","digits":6,"period":30,"skew":1}"#
        );
        assert_eq!(serde_json::from_str::<TotpConfig>(&json).unwrap(), config);
        let bad = r#"{"algorithm":"sha1","digits":9,"period":30,"skew":1}"#;
        assert!(serde_json::from_str::<TotpConfig>(bad).is_err());
    }
}
