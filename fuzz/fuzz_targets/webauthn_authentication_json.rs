//! Fuzz target `webauthn_authentication_json`: see `webauthn_parsers::authentication_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "webauthn_parsers.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod webauthn_parsers;

fuzz_target!(|data: &[u8]| webauthn_parsers::authentication_json(data));
