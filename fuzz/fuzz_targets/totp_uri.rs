//! Fuzz target `totp_uri`: see `totp_entry::uri`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "totp_entry.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod totp_entry;

fuzz_target!(|data: &[u8]| totp_entry::uri(data));
