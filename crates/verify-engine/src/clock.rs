//! Time for the engine: the [`Clock`] trait, [`SystemClock`] (feature `std-clock`)
//! and [`ManualClock`] for tests and simulations.
//!
//! The factor crates and the model never read the clock: the engine asks its
//! [`Clock`] once per operation and passes that `now` to every check, so a whole
//! operation sees one consistent instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use verify_model::UnixTime;

/// Why the current time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The system clock reads a time before 1970-01-01T00:00:00Z.
    #[error("the system clock reads a time before the unix epoch")]
    BeforeEpoch,
    /// The clock source is unavailable (a host-defined clock failed).
    #[error("the clock source is unavailable")]
    Unavailable,
}

/// A source of the current time, in whole seconds since the unix epoch.
///
/// Implement it to plug in the host's time source (a time service, a monotonic
/// correction); the engine calls [`Clock::now`] once at the start of each operation.
pub trait Clock: Send + Sync {
    /// The current time.
    ///
    /// # Errors
    /// [`ClockError`] when the time cannot be read; the operation then fails with
    /// [`VerifyError::Clock`](crate::VerifyError::Clock) and changes nothing.
    fn now(&self) -> Result<UnixTime, ClockError>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Result<UnixTime, ClockError> {
        (**self).now()
    }
}

/// The operating system's wall clock (`std::time::SystemTime`).
#[cfg(feature = "std-clock")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemClock;

#[cfg(feature = "std-clock")]
impl SystemClock {
    /// The system clock.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

#[cfg(feature = "std-clock")]
impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place the engine reads the OS clock"
    )]
    fn now(&self) -> Result<UnixTime, ClockError> {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| UnixTime::from_secs(elapsed.as_secs()))
            .map_err(|_| ClockError::BeforeEpoch)
    }
}

/// A clock that reads whatever it was last set to: for tests, simulations and
/// replaying captures. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    secs: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `now`.
    #[must_use]
    pub fn new(now: UnixTime) -> Self {
        Self {
            secs: Arc::new(AtomicU64::new(now.as_secs())),
        }
    }

    /// Sets the time (it may go backwards: the engine never assumes it does not).
    pub fn set(&self, now: UnixTime) {
        self.secs.store(now.as_secs(), Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds, clamped to [`UnixTime::MAX`]).
    pub fn advance(&self, by: Duration) {
        let now = UnixTime::from_secs(self.secs.load(Ordering::SeqCst)).saturating_add(by);
        self.set(now);
    }

    /// The time it reads.
    #[must_use]
    pub fn get(&self) -> UnixTime {
        UnixTime::from_secs(self.secs.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Result<UnixTime, ClockError> {
        Ok(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_and_advances() {
        let clock = ManualClock::new(UnixTime::from_secs(100));
        let other = clock.clone();
        clock.advance(Duration::from_secs(30));
        assert_eq!(other.now(), Ok(UnixTime::from_secs(130)));
        other.set(UnixTime::from_secs(5));
        assert_eq!(clock.now(), Ok(UnixTime::from_secs(5)));
        clock.set(UnixTime::MAX);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), Ok(UnixTime::MAX));
    }

    #[cfg(feature = "std-clock")]
    #[test]
    fn system_clock_reads_a_time_after_2024() {
        let now = SystemClock::new().now().unwrap();
        assert!(now.as_secs() > 1_704_067_200);
    }
}
