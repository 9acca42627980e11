//! The conformance suite: checks any [`Store`](crate::Store) runs against itself.
//!
//! Each check is an `async fn(store) -> Result<(), Failure>` that starts from an
//! **empty** store, builds its records with a seeded RNG and a fixed clock, and returns
//! a [`Failure`] naming the check and what differed. [`conformance_suite!`] expands to
//! one `#[tokio::test]` per check (multi-threaded runtime, so the race checks really
//! race); [`CHECKS`] lists their names.
//!
//! ```ignore
//! // tests/conformance.rs of a store crate (dev-dependencies: tokio with
//! // "rt-multi-thread" and "macros", verify-store with feature "conformance"):
//! verify_store::conformance_suite!(MyStore::new);                    // sync factory
//! verify_store::conformance_suite!(async || MyStore::connect().await); // async expression
//! ```
//!
//! The race checks require `S: Clone` where clones share one backing store (a pool
//! handle, an `Arc`), as several server processes share one database.
//!
//! [`conformance_suite!`]: crate::conformance_suite

mod checks;
mod fixture;
mod races;

use std::fmt;

pub use checks::{
    access_token_redeem, challenge_crud, discoverable_passkey, entity_cascade_delete, entity_crud,
    entity_passkey, factor_crud, factor_quota, list_challenges, list_entities, list_factors,
    outbox, paired_write, passkey_credential_unique, prune_expired, service_cascade_delete,
    service_crud, webhook_crud,
};
pub use races::{
    race_challenge_approval, race_entity_identity, race_outbox_drain, race_sign_count,
    race_token_redeem, race_totp_step,
};

/// The names of every check, in the order [`conformance_suite!`](crate::conformance_suite)
/// runs them.
pub const CHECKS: [&str; 24] = [
    "service_crud",
    "entity_crud",
    "factor_crud",
    "factor_quota",
    "passkey_credential_unique",
    "access_token_redeem",
    "challenge_crud",
    "paired_write",
    "discoverable_passkey",
    "entity_passkey",
    "list_challenges",
    "list_factors",
    "list_entities",
    "webhook_crud",
    "entity_cascade_delete",
    "service_cascade_delete",
    "outbox",
    "prune_expired",
    "race_challenge_approval",
    "race_totp_step",
    "race_sign_count",
    "race_outbox_drain",
    "race_entity_identity",
    "race_token_redeem",
];

/// A conformance check that found the store misbehaving.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The check's name (one of [`CHECKS`]).
    pub check: &'static str,
    /// What was expected and what the store did.
    pub detail: String,
}

impl Failure {
    /// A failure of `check`.
    #[must_use]
    pub const fn new(check: &'static str, detail: String) -> Self {
        Self { check, detail }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.detail
        )
    }
}

impl std::error::Error for Failure {}

/// `ensure!(check, condition, "format", args..)`: fail the check unless `condition`.
macro_rules! ensure {
    ($check:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::conformance::Failure::new($check, format!($($fmt)+)));
        }
    };
}
pub(crate) use ensure;

/// `ok!(check, future_result, "what")`: await a store call that must succeed.
macro_rules! ok {
    ($check:expr, $call:expr, $what:expr) => {
        match $call.await {
            Ok(value) => value,
            Err(error) => {
                return Err($crate::conformance::Failure::new(
                    $check,
                    format!("{}: unexpected error: {error:?}", $what),
                ));
            }
        }
    };
}
pub(crate) use ok;

/// `refused!(check, future_result, pattern, "what")`: await a store call that must
/// fail with an error matching `pattern`.
macro_rules! refused {
    ($check:expr, $call:expr, $pattern:pat, $what:expr) => {
        match $call.await {
            Err($pattern) => {}
            other => {
                return Err($crate::conformance::Failure::new(
                    $check,
                    format!(
                        "{}: expected {}, got {other:?}",
                        $what,
                        stringify!($pattern)
                    ),
                ));
            }
        }
    };
}
pub(crate) use refused;

/// Calls `$callback!(check_1 check_2 ...)` with the name of every conformance check,
/// for store authors who build their own harness (one database schema per check,
/// say) and want it to stay complete as checks are added.
///
/// ```
/// macro_rules! names {
///     ($($check:ident)+) => { const NAMES: &[&str] = &[$(stringify!($check)),+]; };
/// }
/// verify_store::for_each_conformance_check!(names);
/// assert_eq!(NAMES, verify_store::conformance::CHECKS.as_slice());
/// ```
#[macro_export]
macro_rules! for_each_conformance_check {
    ($callback:ident) => {
        $crate::for_each_conformance_check!(@list [$callback] []);
    };
    (@suite $make:tt) => {
        $crate::for_each_conformance_check!(@list [] [$make]);
    };
    // The one list of checks.
    (@list [$($callback:ident)?] [$($make:tt)?]) => {
        $crate::for_each_conformance_check!(@emit [$($callback)?] [$($make)?]
            service_crud entity_crud factor_crud factor_quota passkey_credential_unique
            access_token_redeem challenge_crud paired_write discoverable_passkey entity_passkey
            list_challenges list_factors list_entities
            webhook_crud entity_cascade_delete service_cascade_delete outbox prune_expired
            race_challenge_approval race_totp_step race_sign_count race_outbox_drain
            race_entity_identity race_token_redeem
        );
    };
    (@emit [$callback:ident] [] $($check:ident)+) => {
        $callback!($($check)+);
    };
    (@emit [] [$make:tt] $($check:ident)+) => {
        $crate::__conformance_tests!($make $($check)+);
    };
}

/// Expands to one `#[tokio::test]` per conformance check, each on a fresh store, on a
/// multi-threaded runtime.
///
/// - `conformance_suite!(MyStore::new)`: a function or closure returning the store;
/// - `conformance_suite!(async my_factory)`: a function returning a future of it;
/// - `conformance_suite!(async || make_store().await)`: an expression evaluated
///   inside each (async) test.
///
/// The caller's crate needs `tokio` (features `rt-multi-thread`, `macros`) as a
/// dev-dependency and `verify-store` with the `conformance` feature. The store type
/// must be `Clone + 'static` with clones sharing one state.
///
/// ```ignore
/// verify_store::conformance_suite!(verify_store::MemoryStore::new);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    (async || $body:expr) => {
        $crate::for_each_conformance_check!(@suite ($body));
    };
    (async $factory:expr) => {
        $crate::for_each_conformance_check!(@suite (($factory)().await));
    };
    ($factory:expr) => {
        $crate::for_each_conformance_check!(@suite (($factory)()));
    };
}

/// Implementation detail of [`conformance_suite!`](crate::conformance_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($make:expr) $($check:ident)+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() -> ::std::result::Result<(), $crate::conformance::Failure> {
                $crate::conformance::$check($make).await
            }
        )+
    };
}
