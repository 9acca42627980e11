//! The storage traits the `verify` engine runs on.
//!
//! Not yet built: this crate will hold the `Store` traits (services, entities, factors,
//! challenges, access tokens, webhooks, event outbox) whose every state change is a
//! compare-and-set on a version, an in-memory store, and a conformance suite that any
//! store runs against itself.
#![forbid(unsafe_code)]
