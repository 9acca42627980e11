//! A sans-IO WebAuthn relying party (work in progress: see the crate README).
#![forbid(unsafe_code)]

pub mod crypto;
