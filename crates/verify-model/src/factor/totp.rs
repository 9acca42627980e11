//! A TOTP factor's data ([`TotpFactor`]) and the TOTP-only step arithmetic
//! ([`convert_last_step`]).

use serde::{Deserialize, Serialize};

use crate::config::{TotpAlgorithm, TotpParams};
use crate::error::ModelError;
use crate::guessing::GuessState;
use crate::secret::TotpSecret;

/// A TOTP factor's data: its secret (never in public JSON), algorithm, parameters and
/// the last accepted time step (codes are single-use: a step at or below it is
/// refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    pub(super) secret: TotpSecret,
    pub(super) alg: TotpAlgorithm,
    #[serde(flatten)]
    pub(super) params: TotpParams,
    pub(super) last_used_step: Option<u64>,
    /// Consecutive wrong codes across challenges (absent from records that never
    /// had one, as release 0.1.0 wrote them).
    #[serde(default, skip_serializing_if = "GuessState::is_clear")]
    pub(super) guesses: GuessState,
}

impl TotpFactor {
    /// The shared secret.
    #[must_use]
    pub const fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// The HMAC algorithm.
    #[must_use]
    pub const fn alg(&self) -> TotpAlgorithm {
        self.alg
    }

    /// Digits, period and skew.
    #[must_use]
    pub const fn params(&self) -> TotpParams {
        self.params
    }

    /// The last time step a code was accepted for, if any.
    #[must_use]
    pub const fn last_used_step(&self) -> Option<u64> {
        self.last_used_step
    }

    /// Consecutive wrong codes and when the next check may run.
    #[must_use]
    pub const fn guesses(&self) -> &GuessState {
        &self.guesses
    }

    pub(super) fn advance(&mut self, step: u64) -> Result<(), ModelError> {
        if let Some(last_used_step) = self.last_used_step
            && step <= last_used_step
        {
            return Err(ModelError::TotpStepReused {
                last_used_step,
                step,
            });
        }
        self.last_used_step = Some(step);
        Ok(())
    }
}

/// The last used step under `new_period` for a factor whose last accepted code was
/// step `step` of `old_period`: the largest `k` with `k × new_period` before the end
/// of that window, `(step + 1) × old_period` (so `⌈end / new_period⌉ - 1`).
/// Computed in `u128`; saturates at `u64::MAX` (refuse everything) on absurd input.
#[must_use]
pub fn convert_last_step(step: u64, old_period: u8, new_period: u8) -> u64 {
    let end = (u128::from(step) + 1) * u128::from(old_period);
    let new_period = u128::from(new_period.max(1));
    let k = end.div_ceil(new_period).saturating_sub(1);
    u64::try_from(k).unwrap_or(u64::MAX)
}
