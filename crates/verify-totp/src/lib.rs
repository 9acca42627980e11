//! HOTP/TOTP for authenticator apps (work in progress).
#![forbid(unsafe_code)]
