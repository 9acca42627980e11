//! Fuzz target `webauthn_cose_key`: see `webauthn_parsers::cose_key`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "webauthn_parsers.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod webauthn_parsers;

fuzz_target!(|data: &[u8]| webauthn_parsers::cose_key(data));
