//! `verify webauthn` tests (owned by the webauthn work).
