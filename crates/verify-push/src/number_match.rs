//! Number matching (opt-in, beyond the SDKs).
//!
//! The login page shows a short number; the challenge carries the same number as a
//! `details.fields` entry (`{"label": "Number", "value": "47"}`), which the SDK shows
//! and signs unchanged like any other field. The user approves only if the number on
//! the phone matches the one on the screen, which defeats approve-anything push
//! fatigue.
//!
//! [`NumberMatch::confirmed_by`] says whether a verified answer is an approval whose
//! signed `details.fields` carry this exact number: that is what proves the device was
//! shown the right one. It is `false` for a denial, for a challenge whose signature
//! fields do not include `details`, and for an answer to a challenge that carried
//! another number.

use rand_core::{CryptoRng, RngCore};
use serde_json::{Value, json};

use crate::approval::{Decision, VerifiedAnswer};

/// The `details.fields` label carrying the number.
pub const NUMBER_LABEL: &str = "Number";

/// A number to match, drawn uniformly from `10^(digits-1) .. 10^digits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberMatch {
    number: String,
}

impl NumberMatch {
    /// Draws a two-digit number (10..=99) from `rng`.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        // Rejection sampling: 90 * 47_721_858 = 4_294_967_220 ≤ 2^32, so values below
        // it map uniformly onto 0..90.
        const ZONE: u32 = 90 * 47_721_858;
        loop {
            let draw = rng.next_u32();
            if draw < ZONE {
                let value = 10 + draw % 90;
                return Self {
                    number: value.to_string(),
                };
            }
        }
    }

    /// The number as shown on the login page.
    #[must_use]
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The `details.fields` entry to add to the challenge.
    #[must_use]
    pub fn details_field(&self) -> Value {
        json!({"label": NUMBER_LABEL, "value": self.number})
    }

    /// Whether `answer` approves a challenge whose signed `details.fields` hold this
    /// number.
    #[must_use]
    pub fn confirmed_by(&self, answer: &VerifiedAnswer) -> bool {
        answer.decision() == Decision::Approved
            && answer
                .signed_payload()
                .get("details")
                .and_then(|details| details.get("fields"))
                .and_then(Value::as_array)
                .is_some_and(|fields| {
                    fields.iter().any(|field| {
                        field.get("label").and_then(Value::as_str) == Some(NUMBER_LABEL)
                            && field.get("value").and_then(Value::as_str)
                                == Some(self.number.as_str())
                    })
                })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn numbers_are_two_digits_and_vary() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let numbers: Vec<String> = (0..200)
            .map(|_| NumberMatch::generate(&mut rng).number().to_owned())
            .collect();
        assert!(
            numbers
                .iter()
                .all(|n| n.len() == 2 && n.parse::<u32>().is_ok_and(|v| (10..=99).contains(&v)))
        );
        let distinct: std::collections::BTreeSet<_> = numbers.iter().collect();
        assert!(distinct.len() > 50, "{}", distinct.len());
    }
}
