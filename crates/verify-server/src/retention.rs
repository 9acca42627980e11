//! The hourly pass that removes challenges past `--challenge-retention-hours`
//! ([`verify_engine::Verify::prune_expired`]), so the store holds recent
//! challenges, not every one ever made.

use std::sync::Arc;
use std::time::Duration;

use verify_engine::Retention;
use verify_engine::store::Store;

use crate::AppState;

/// How often the pass runs. Challenges live minutes and are kept for days, so an
/// hour's lag is nothing; each pass is a few short transactions.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Removes challenges past `retention` now, then every [`PRUNE_INTERVAL`], for ever.
/// A failed pass (the store unavailable) is logged and retried at the next one.
/// Every process may run it: removing what another process already removed is a
/// no-op.
pub async fn run<S: Store + 'static>(state: Arc<AppState<S>>, retention: Retention) {
    let mut every = tokio::time::interval(PRUNE_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.engine.prune_expired(retention).await {
            Ok(0) => tracing::debug!("no challenge past the retention"),
            Ok(removed) => tracing::info!(
                removed,
                retention_hours = retention.keep().as_secs() / 3600,
                "challenges past the retention removed"
            ),
            Err(error) => tracing::warn!(%error, "pruning challenges failed; retrying in an hour"),
        }
    }
}
