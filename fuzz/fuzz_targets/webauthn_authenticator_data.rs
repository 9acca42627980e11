//! Fuzz target `webauthn_authenticator_data`: see `webauthn_parsers::authenticator_data`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "webauthn_parsers.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod webauthn_parsers;

fuzz_target!(|data: &[u8]| webauthn_parsers::authenticator_data(data));
