//! Fuzz target `push_binding`: see `verify_push::fuzzing::binding`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| verify_push::fuzzing::binding(data));
