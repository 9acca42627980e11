//! Fuzz target `model_challenge`: see `model_driver::challenge`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "model_driver.rs"]
#[allow(dead_code, reason = "each target uses one of the shared drivers")]
mod model_driver;

fuzz_target!(|data: &[u8]| model_driver::challenge(data));
