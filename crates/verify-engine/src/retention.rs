//! How long finished challenges are kept: [`Verify::prune_expired`] removes the
//! challenges whose expiration date is older than a [`Retention`], so a store
//! that runs for years holds what is recent, not every challenge ever made.

use std::time::Duration;

use verify_model::UnixTime;
use verify_store::Store;

use crate::engine::Verify;
use crate::error::VerifyError;

/// The shortest retention: a day, the window of the daily factor creation quota
/// (`MAX_FACTOR_CREATIONS_PER_DAY`), whose creation times are pruned with the
/// challenges.
pub const MIN_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The retention a host gets by default: 30 days, long enough to look a
/// challenge up when a user asks about a sign-in last week, short enough that
/// the challenges table holds about a month of traffic.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The most challenges one store call removes: each call is one short
/// transaction, so pruning a large backlog never holds the write lock long.
pub const PRUNE_BATCH: usize = 10_000;

/// How long a challenge is kept after its expiration date (answered, or past its
/// expiry unanswered): at least [`MIN_RETENTION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(Duration);

/// A retention shorter than [`MIN_RETENTION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a retention of {0:?} is shorter than a day (MIN_RETENTION)")]
pub struct RetentionTooShort(Duration);

impl RetentionTooShort {
    /// The retention that was asked for.
    #[must_use]
    pub const fn requested(self) -> Duration {
        self.0
    }
}

impl Retention {
    /// `keep` after the expiration date.
    ///
    /// # Errors
    /// [`RetentionTooShort`] for less than [`MIN_RETENTION`].
    pub const fn new(keep: Duration) -> Result<Self, RetentionTooShort> {
        if keep.as_secs() < MIN_RETENTION.as_secs() {
            return Err(RetentionTooShort(keep));
        }
        Ok(Self(keep))
    }

    /// How long challenges are kept after their expiration date.
    #[must_use]
    pub const fn keep(self) -> Duration {
        self.0
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self(DEFAULT_RETENTION)
    }
}

impl<S: Store> Verify<S> {
    /// Removes every challenge whose expiration date is more than `retention` ago
    /// (and the factor creation times the daily quota no longer counts), in
    /// batches of [`PRUNE_BATCH`]; returns how many challenges were removed. A host
    /// runs it now and then (the reference server: hourly); a pruned challenge
    /// answers "not found".
    ///
    /// # Errors
    /// [`VerifyError::Clock`]; [`VerifyError::Store`] (what was removed before the
    /// failure stays removed).
    pub async fn prune_expired(&self, retention: Retention) -> Result<usize, VerifyError> {
        let now = self.now()?;
        let cutoff = UnixTime::from_secs(now.as_secs().saturating_sub(retention.keep().as_secs()));
        let mut removed = 0_usize;
        loop {
            let batch = self.store.prune_expired(cutoff, PRUNE_BATCH).await?;
            removed = removed.saturating_add(batch);
            if batch < PRUNE_BATCH {
                return Ok(removed);
            }
        }
    }
}
