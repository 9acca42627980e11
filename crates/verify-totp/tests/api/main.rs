//! The public API of verify-totp: one test binary, one module per topic.
//!
//! The modules are `#[cfg(test)]` so that the workspace's test allowances (unwrap,
//! expect, panic, indexing) apply to their helpers too: a failing test should fail
//! loudly.

#[cfg(test)]
mod properties;
#[cfg(test)]
mod support;
#[cfg(test)]
mod uri;
#[cfg(test)]
mod vectors;
#[cfg(test)]
mod window;
