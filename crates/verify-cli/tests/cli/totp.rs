//! `verify totp` tests (owned by the totp work).
