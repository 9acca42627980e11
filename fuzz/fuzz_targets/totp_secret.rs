//! Fuzz target `totp_secret`: see `totp_entry::secret`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "totp_entry.rs"]
#[allow(dead_code, reason = "each target uses one of the shared entry points")]
mod totp_entry;

fuzz_target!(|data: &[u8]| totp_entry::secret(data));
