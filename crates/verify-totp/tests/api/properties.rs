//! Property tests: generate → check round trips, single use, and agreement with
//! totp-rs as a reference implementation.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use verify_totp::{Algorithm, Secret, TotpConfig, TotpError, check_at, generate_at, hotp};

use crate::support::config;

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn any_config() -> impl Strategy<Value = TotpConfig> {
    (algorithm(), 3_u8..=8, 20_u32..=60, 0_u8..=2)
        .prop_map(|(algorithm, digits, period, skew)| config(algorithm, digits, period, skew))
}

fn any_secret() -> impl Strategy<Value = Secret> {
    prop_oneof![
        // Generated through the injected RNG, seeded by proptest.
        (any::<[u8; 32]>(), algorithm()).prop_map(|(seed, algorithm)| Secret::generate(
            &mut ChaCha20Rng::from_seed(seed),
            algorithm
        )),
        // Any length the crate accepts.
        proptest::collection::vec(any::<u8>(), Secret::MIN_BYTES..=Secret::MAX_BYTES)
            .prop_map(|bytes| Secret::from_bytes(bytes).unwrap()),
    ]
}

fn any_time() -> impl Strategy<Value = u64> {
    prop_oneof![0_u64..=200, 0_u64..=(1_u64 << 40), any::<u64>()]
}

/// The window's preference rank of a drift: 0, +1, -1, +2, -2.
fn rank(drift: i64) -> u64 {
    drift.unsigned_abs() * 2 + u64::from(drift < 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A code generated for any step of the window checks, for that step or for a
    /// step the window prefers that happens to share the code (short codes collide).
    #[test]
    fn generate_then_check_round_trips(
        secret in any_secret(),
        config in any_config(),
        now in any_time(),
        offset in -2_i64..=2,
    ) {
        let skew = i64::from(config.skew().get());
        let offset = offset.clamp(-skew, skew);
        let current = config.period().step_at(now);
        let Some(step) = current.checked_add_signed(offset) else {
            return Ok(()); // a step below 0 (or past u64::MAX) does not exist
        };
        let code = hotp(&secret, config.algorithm(), config.digits(), step).unwrap();
        let text = code.to_string();
        prop_assert_eq!(text.len(), usize::from(config.digits().get()));
        prop_assert!(text.bytes().all(|byte| byte.is_ascii_digit()));

        let matched = check_at(&secret, &config, &text, now, None).unwrap();
        let drift = i64::from(matched.drift());
        prop_assert_eq!(matched.step().checked_add_signed(-drift), Some(current));
        prop_assert!(drift.abs() <= skew);
        prop_assert!(rank(drift) <= rank(offset));
        let matched_code = hotp(&secret, config.algorithm(), config.digits(), matched.step()).unwrap();
        prop_assert_eq!(matched_code, code);
        if offset == 0 {
            prop_assert_eq!(generate_at(&secret, &config, now).unwrap().to_string(), text);
        }
    }

    /// Whatever the code, an accepted step is above the last used one; a refusal of a
    /// submitted code counts as an attempt.
    #[test]
    fn check_never_accepts_a_step_at_or_below_the_last_used(
        secret in any_secret(),
        config in any_config(),
        now in any_time(),
        code_offset in -3_i64..=3,
        last_offset in -4_i64..=3,
        random_code in proptest::option::of(0_u32..100_000_000),
    ) {
        let current = config.period().step_at(now);
        let last_used = current.checked_add_signed(last_offset);
        let text = match (random_code, current.checked_add_signed(code_offset)) {
            (Some(value), _) => format!("{:0width$}", value % 10_u32.pow(u32::from(config.digits().get())), width = usize::from(config.digits().get())),
            (None, Some(step)) => hotp(&secret, config.algorithm(), config.digits(), step).unwrap().to_string(),
            (None, None) => return Ok(()),
        };
        match check_at(&secret, &config, &text, now, last_used) {
            Ok(matched) => {
                prop_assert!(last_used.is_none_or(|last| matched.step() > last));
                let drift = i64::from(matched.drift());
                prop_assert!(drift.abs() <= i64::from(config.skew().get()));
            }
            Err(err) => {
                prop_assert!(err.counts_as_attempt(), "{err:?}");
                if let TotpError::StepAlreadyUsed { step, last_used_step } = err {
                    prop_assert_eq!(Some(last_used_step), last_used);
                    prop_assert!(step <= last_used_step);
                }
            }
        }
    }

    /// Our codes are totp-rs's codes (its `generate` for a time, with our parameters).
    #[test]
    fn agrees_with_totp_rs(
        bytes in proptest::collection::vec(any::<u8>(), Secret::MIN_BYTES..=Secret::MAX_BYTES),
        config in any_config(),
        now in 0_u64..=(1_u64 << 40),
    ) {
        let secret = Secret::from_bytes(bytes.clone()).unwrap();
        let reference_algorithm = match config.algorithm() {
            Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
            Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
            Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
            _ => unreachable!("a new algorithm needs a reference"),
        };
        let reference = totp_rs::TOTP::new_unchecked(
            reference_algorithm,
            usize::from(config.digits().get()),
            config.skew().get(),
            u64::from(config.period().get()),
            bytes,
        );
        prop_assert_eq!(
            generate_at(&secret, &config, now).unwrap().to_string(),
            reference.generate(now)
        );
    }
}
