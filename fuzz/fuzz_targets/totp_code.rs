//! Fuzz target `totp_code`: see `totp_entry::code`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "totp_entry.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod totp_entry;

fuzz_target!(|data: &[u8]| totp_entry::code(data));
