#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

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
