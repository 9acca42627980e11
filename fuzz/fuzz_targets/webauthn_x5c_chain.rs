//! Fuzz target `webauthn_x5c_chain`: see `webauthn_parsers::x5c_chain`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "webauthn_parsers.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod webauthn_parsers;

fuzz_target!(|data: &[u8]| webauthn_parsers::x5c_chain(data));
