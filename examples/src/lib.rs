//! Runnable hosts built on verify: see `src/bin/`.
#![forbid(unsafe_code)]
