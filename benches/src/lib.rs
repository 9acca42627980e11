//! Criterion benchmarks for verify: see `benches/` beside this file; run with
//! `cargo bench -p verify-benches`.
#![forbid(unsafe_code)]
