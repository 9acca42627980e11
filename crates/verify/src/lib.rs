//! The verify engine.
//!
//! Not yet built: this crate will compose verify-webauthn, verify-totp and verify-push
//! over a `verify_store::Store` into the operations of a verification service
//! (services, entities, factors, challenges, access tokens, webhooks).
#![forbid(unsafe_code)]
