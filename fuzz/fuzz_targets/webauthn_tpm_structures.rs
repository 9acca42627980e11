//! Fuzz target `webauthn_tpm_structures`: see `webauthn_parsers::tpm_structures`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "webauthn_parsers.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod webauthn_parsers;

fuzz_target!(|data: &[u8]| webauthn_parsers::tpm_structures(data));
