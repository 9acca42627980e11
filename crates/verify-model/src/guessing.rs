//! The guessing budget of a TOTP factor: how many wrong codes it takes before
//! further checks are slowed down and then locked, across every challenge.
//!
//! A challenge allows [`MAX_CHALLENGE_ATTEMPTS`]
//! wrong codes, but challenges can be created without limit, so a per-challenge
//! count alone bounds nothing. The budget is kept on the factor
//! ([`GuessState`]) and judged by a [`GuessPolicy`]:
//!
//! - the first [`GuessPolicy::free_failures`] consecutive failures cost nothing
//!   (typos; by default as many as one challenge allows);
//! - each further failure makes the next check wait [`GuessPolicy::delay_after`]:
//!   `base_delay × 2^(n − free − 1)` after the `n`th, at most `max_delay`;
//! - at [`GuessPolicy::lock_after`] consecutive failures the factor is locked for
//!   `lock_for`, and every failure after that (the count is not reset by the
//!   cool-down) locks it again for `lock_for`;
//! - a correct code resets the count; so does the host
//!   ([`Factor::unlock_code_checks`](crate::Factor::unlock_code_checks)).
//!
//! Every check is counted *before* the code is compared
//! ([`Factor::reserve_code_check`](crate::Factor::reserve_code_check)), in a
//! compare-and-set write of the factor, so concurrent guesses are serialized on
//! the factor and each sees the failures of the others.
//!
//! **The bound.** In any 24 hours at most [`GuessPolicy::max_checks_per_day`]
//! codes are compared: `lock_after + ⌈86400 s / lock_for⌉` (the backoff only
//! lowers it). Each compared code is accepted for `2 × skew + 1` time steps, so an
//! attacker's chance of a correct guess in a day is at most
//! `max_checks_per_day × (2 × skew + 1) / 10^digits`
//! ([`GuessPolicy::success_bound_per_day`]). With the defaults (10 and 1 h: 34
//! checks a day) and the default skew of 1, that is 1.02 × 10⁻⁴ for 6 digits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Field, ModelError};
use crate::limits::MAX_CHALLENGE_ATTEMPTS;
use crate::time::UnixTime;

/// Consecutive failures that cost nothing by default: as many as one challenge
/// allows ([`MAX_CHALLENGE_ATTEMPTS`]), so a user who mistypes a few codes is never
/// slowed down and a challenge's fifth wrong code still answers 60308 as the
/// service's does.
pub const DEFAULT_FREE_CODE_FAILURES: u32 = MAX_CHALLENGE_ATTEMPTS;
/// The first backoff delay by default (after the failure past the free ones); it
/// doubles with each further failure.
pub const DEFAULT_CODE_BACKOFF: Duration = Duration::from_secs(1);
/// The longest backoff delay by default.
pub const DEFAULT_MAX_CODE_BACKOFF: Duration = Duration::from_secs(60);
/// Consecutive failures that lock a factor by default: ten wrong codes in a row
/// without one right one is not a user mistyping.
pub const DEFAULT_LOCK_AFTER_FAILURES: u32 = 10;
/// How long a lock lasts by default.
pub const DEFAULT_LOCK_DURATION: Duration = Duration::from_secs(60 * 60);

/// Most consecutive failures a policy may allow before locking.
pub const MAX_LOCK_AFTER_FAILURES: u32 = 100;
/// Shortest lock a policy may set (shorter locks would let too many guesses through
/// a day: see [`GuessPolicy::max_checks_per_day`]).
pub const MIN_LOCK_DURATION: Duration = Duration::from_secs(60);
/// Longest lock or backoff a policy may set.
pub const MAX_LOCK_DURATION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

const DAY: u64 = 24 * 60 * 60;

/// How a TOTP factor's failed codes slow down and lock further checks (see the
/// module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessPolicy {
    free_failures: u32,
    base_delay: Duration,
    max_delay: Duration,
    lock_after: u32,
    lock_for: Duration,
}

impl Default for GuessPolicy {
    fn default() -> Self {
        Self {
            free_failures: DEFAULT_FREE_CODE_FAILURES,
            base_delay: DEFAULT_CODE_BACKOFF,
            max_delay: DEFAULT_MAX_CODE_BACKOFF,
            lock_after: DEFAULT_LOCK_AFTER_FAILURES,
            lock_for: DEFAULT_LOCK_DURATION,
        }
    }
}

impl GuessPolicy {
    /// A policy that locks after `lock_after` consecutive failures for `lock_for`,
    /// with the default free failures and backoff (the free failures are capped at
    /// `lock_after − 1`).
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] when `lock_after` is outside
    /// 1..=[`MAX_LOCK_AFTER_FAILURES`] or `lock_for` (whole seconds) outside
    /// [`MIN_LOCK_DURATION`]..=[`MAX_LOCK_DURATION`].
    pub fn new(lock_after: u32, lock_for: Duration) -> Result<Self, ModelError> {
        if !(1..=MAX_LOCK_AFTER_FAILURES).contains(&lock_after) {
            return Err(ModelError::ValueOutOfRange {
                field: Field::CodeLockAfter,
                min: 1,
                max: u64::from(MAX_LOCK_AFTER_FAILURES),
                value: u64::from(lock_after),
            });
        }
        let secs = lock_for.as_secs();
        if secs < MIN_LOCK_DURATION.as_secs() || secs > MAX_LOCK_DURATION.as_secs() {
            return Err(ModelError::ValueOutOfRange {
                field: Field::CodeLockDuration,
                min: MIN_LOCK_DURATION.as_secs(),
                max: MAX_LOCK_DURATION.as_secs(),
                value: secs,
            });
        }
        Ok(Self {
            free_failures: DEFAULT_FREE_CODE_FAILURES.min(lock_after - 1),
            lock_after,
            lock_for: Duration::from_secs(secs),
            ..Self::default()
        })
    }

    /// With `free` consecutive failures that cost nothing (capped at
    /// `lock_after − 1`).
    #[must_use]
    pub fn with_free_failures(mut self, free: u32) -> Self {
        self.free_failures = free.min(self.lock_after - 1);
        self
    }

    /// With a first backoff delay of `base` (whole seconds), doubling up to `max`
    /// (both at most [`MAX_LOCK_DURATION`]; `max` at least `base`).
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        let base = Duration::from_secs(base.as_secs().min(MAX_LOCK_DURATION.as_secs()));
        self.base_delay = base;
        self.max_delay = Duration::from_secs(
            max.as_secs()
                .clamp(base.as_secs(), MAX_LOCK_DURATION.as_secs()),
        );
        self
    }

    /// Consecutive failures that cost nothing.
    #[must_use]
    pub const fn free_failures(&self) -> u32 {
        self.free_failures
    }

    /// Consecutive failures that lock the factor.
    #[must_use]
    pub const fn lock_after(&self) -> u32 {
        self.lock_after
    }

    /// How long a lock lasts.
    #[must_use]
    pub const fn lock_for(&self) -> Duration {
        self.lock_for
    }

    /// How long the next check waits after `failures` consecutive failures, and
    /// whether that wait is a lock: `None` while the failures are free.
    #[must_use]
    pub fn delay_after(&self, failures: u32) -> Option<(Duration, bool)> {
        if failures >= self.lock_after {
            return Some((self.lock_for, true));
        }
        if failures <= self.free_failures {
            return None;
        }
        let doublings = failures - self.free_failures - 1;
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        let secs = self.base_delay.as_secs().saturating_mul(factor);
        let delay = Duration::from_secs(secs.min(self.max_delay.as_secs()));
        (!delay.is_zero()).then_some((delay, false))
    }

    /// The most codes compared in any 24 hours: `lock_after` before the first lock,
    /// then one per lock (`⌈86400 / lock_for⌉`). The backoff delays only lower it.
    #[must_use]
    pub fn max_checks_per_day(&self) -> u64 {
        u64::from(self.lock_after) + DAY.div_ceil(self.lock_for.as_secs().max(1))
    }

    /// The most an attacker's chance of one correct guess in a day can be, for
    /// codes of `digits` digits accepted `skew` steps either side:
    /// `max_checks_per_day × (2 × skew + 1) / 10^digits` (at most 1).
    #[must_use]
    pub fn success_bound_per_day(&self, digits: u8, skew: u8) -> f64 {
        let accepted = f64::from(2 * u32::from(skew) + 1);
        // At most 100 + 1440 by the policy's bounds.
        let checks = f64::from(u32::try_from(self.max_checks_per_day()).unwrap_or(u32::MAX));
        let space = 10f64.powi(i32::from(digits));
        (checks * accepted / space).min(1.0)
    }
}

/// A TOTP factor's consecutive failed code checks and when the next check may run.
/// Cleared by a correct code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuessState {
    /// Consecutive failed (or reserved, not yet answered) checks.
    #[serde(default)]
    failures: u32,
    /// No code is compared before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_before: Option<UnixTime>,
    /// Whether `not_before` is a lock (past [`GuessPolicy::lock_after`]) rather than a
    /// backoff delay.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    locked: bool,
}

impl GuessState {
    /// No failure counted.
    pub const CLEAR: Self = Self {
        failures: 0,
        not_before: None,
        locked: false,
    };

    /// Whether nothing is counted (the state of a factor with no failure since its
    /// last correct code).
    #[must_use]
    pub const fn is_clear(&self) -> bool {
        self.failures == 0 && self.not_before.is_none() && !self.locked
    }

    /// Consecutive failed checks.
    #[must_use]
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// When the next check may run, if it must wait.
    #[must_use]
    pub const fn not_before(&self) -> Option<UnixTime> {
        self.not_before
    }

    /// Whether the factor is locked at `now` (not merely waiting out a backoff).
    #[must_use]
    pub fn is_locked(&self, now: UnixTime) -> bool {
        self.locked && self.not_before.is_some_and(|t| now < t)
    }

    /// Refuses a check at `now` while a delay or lock runs.
    ///
    /// # Errors
    /// [`ModelError::FactorLocked`] during a lock, [`ModelError::CodeChecksThrottled`]
    /// during a backoff delay.
    pub fn check_allowed(&self, now: UnixTime) -> Result<(), ModelError> {
        match self.not_before {
            Some(until) if now < until => {
                let retry_after_secs = until.saturating_duration_since(now).as_secs().max(1);
                Err(if self.locked {
                    ModelError::FactorLocked {
                        until,
                        retry_after_secs,
                    }
                } else {
                    ModelError::CodeChecksThrottled {
                        until,
                        retry_after_secs,
                    }
                })
            }
            _ => Ok(()),
        }
    }

    /// The state after one more failed check at `now`, and whether that failure
    /// starts a lock (the moment `factor.locked` is due).
    #[must_use]
    pub fn after_failure(&self, policy: &GuessPolicy, now: UnixTime) -> (Self, bool) {
        let failures = self.failures.saturating_add(1);
        match policy.delay_after(failures) {
            Some((delay, locked)) => (
                Self {
                    failures,
                    not_before: Some(now.saturating_add(delay)),
                    locked,
                },
                locked,
            ),
            None => (
                Self {
                    failures,
                    not_before: None,
                    locked: false,
                },
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn free_failures_then_doubling_delays_then_a_lock() {
        let policy = GuessPolicy::default();
        let delays: Vec<_> = (1..=11).map(|n| policy.delay_after(n)).collect();
        assert_eq!(delays[..5], [None; 5]);
        let secs = |d: Option<(Duration, bool)>| d.map(|(d, l)| (d.as_secs(), l));
        assert_eq!(
            delays[5..].iter().map(|d| secs(*d)).collect::<Vec<_>>(),
            [
                Some((1, false)),
                Some((2, false)),
                Some((4, false)),
                Some((8, false)),
                Some((3600, true)),
                Some((3600, true)),
            ]
        );
    }

    #[test]
    fn the_backoff_is_capped() {
        let policy = GuessPolicy::new(100, Duration::from_secs(3600))
            .unwrap()
            .with_backoff(Duration::from_secs(5), Duration::from_secs(90));
        assert_eq!(policy.delay_after(6), Some((Duration::from_secs(5), false)));
        assert_eq!(
            policy.delay_after(99),
            Some((Duration::from_secs(90), false))
        );
        assert_eq!(
            policy.delay_after(100),
            Some((Duration::from_secs(3600), true))
        );
    }

    #[test]
    fn bounds_are_checked_by_name() {
        assert!(matches!(
            GuessPolicy::new(0, DEFAULT_LOCK_DURATION),
            Err(ModelError::ValueOutOfRange {
                field: Field::CodeLockAfter,
                ..
            })
        ));
        assert!(matches!(
            GuessPolicy::new(10, Duration::from_secs(59)),
            Err(ModelError::ValueOutOfRange {
                field: Field::CodeLockDuration,
                ..
            })
        ));
        // A single allowed failure leaves no free ones.
        assert_eq!(
            GuessPolicy::new(1, DEFAULT_LOCK_DURATION)
                .unwrap()
                .free_failures(),
            0
        );
    }

    #[test]
    fn the_default_bound_for_six_digits_is_below_one_in_a_thousand() {
        let policy = GuessPolicy::default();
        assert_eq!(policy.max_checks_per_day(), 34);
        let six = policy.success_bound_per_day(6, 1);
        assert!((six - 1.02e-4).abs() < 1e-12, "{six}");
        assert!(policy.success_bound_per_day(6, 2) < 1e-3);
        assert!((policy.success_bound_per_day(3, 2) - 0.17).abs() < 1e-12);
    }

    #[test]
    fn a_state_refuses_until_its_time_and_names_lock_or_backoff() {
        let policy = GuessPolicy::default();
        let mut state = GuessState::default();
        assert!(state.is_clear());
        for n in 1..=5 {
            let (next, locked) = state.after_failure(&policy, at(0));
            assert!(!locked);
            assert_eq!(next.failures(), n);
            next.check_allowed(at(0)).unwrap();
            state = next;
        }
        let (next, _) = state.after_failure(&policy, at(0));
        assert!(matches!(
            next.check_allowed(at(0)),
            Err(ModelError::CodeChecksThrottled {
                retry_after_secs: 1,
                ..
            })
        ));
        next.check_allowed(at(1)).unwrap();
        let mut state = next;
        for _ in 7..10 {
            state = state.after_failure(&policy, at(100)).0;
        }
        let (locked_state, locked) = state.after_failure(&policy, at(100));
        assert!(locked);
        assert!(locked_state.is_locked(at(100)));
        assert!(matches!(
            locked_state.check_allowed(at(101)),
            Err(ModelError::FactorLocked {
                retry_after_secs: 3599,
                ..
            })
        ));
        locked_state.check_allowed(at(3700)).unwrap();
        assert!(!locked_state.is_locked(at(3700)));
    }

    #[test]
    fn a_clear_state_serializes_to_nothing_but_its_count() {
        let json = serde_json::to_string(&GuessState::default()).unwrap();
        assert_eq!(json, r#"{"failures":0}"#);
        let back: GuessState = serde_json::from_str("{}").unwrap();
        assert!(back.is_clear());
    }
}
