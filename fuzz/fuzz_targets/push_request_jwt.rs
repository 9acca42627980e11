//! Fuzz target `push_request_jwt`: see `verify_push::fuzzing::request_jwt`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| verify_push::fuzzing::request_jwt(data));
