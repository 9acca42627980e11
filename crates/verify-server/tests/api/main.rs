//! API tests against the router (no sockets, except the webhook delivery test's
//! loopback receivers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

mod support;

mod api_keys;
mod auth;
mod challenges;
mod connection_timeouts;
mod database;
mod device_auth;
mod entities;
mod every_operation;
mod factors;
mod guessing;
mod mds;
mod notifications;
mod passkey_ceremony_options;
mod passkey_restrictions;
mod passkeys;
mod push;
mod related_origins;
mod secrets_command;
mod services;
mod webhook_ssrf;
mod webhooks;
mod webhooks_https;
mod wire;
