//! `verify push` tests (owned by the push work).
