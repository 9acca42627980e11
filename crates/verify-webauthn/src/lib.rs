#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attestation;
pub mod authenticator_data;
pub mod base64url;
pub mod challenge;
pub mod client_data;
pub mod cose;
pub mod crypto;
pub mod error;
pub mod extensions;
pub mod limits;
pub mod policy;

pub use error::{ParseError, WebauthnError};
pub mod authentication;
pub mod registration;
pub mod relying_party;
pub mod wire;
