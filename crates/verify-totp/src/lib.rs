#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod code;
mod config;
mod error;
mod otp;
mod secret;
pub mod uri;

pub use code::Code;
pub use config::{Algorithm, Digits, Period, Skew, TotpConfig};
pub use error::{CodeError, ConfigError, SecretError, TotpError, UriError};
pub use otp::{Match, check, check_at, generate, generate_at, hotp};
pub use secret::Secret;
pub use uri::KeyUri;
