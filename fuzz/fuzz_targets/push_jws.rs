//! Fuzz target `push_jws`: see `verify_push::fuzzing::jws`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| verify_push::fuzzing::jws(data));
