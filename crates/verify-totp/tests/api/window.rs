//! The window: its edges, single use, steps below zero, and which step wins when
//! several match.

use verify_model::UnixTime;
use verify_totp::{Algorithm, TotpError, check, check_at, generate_at, hotp};

use crate::support::{config, rfc_sha1_secret};

/// A time in the middle of step 1_000_000 of a 30 s period.
const NOW: u64 = 30_000_015;
const CURRENT: u64 = 1_000_000;

fn code_for_step(step: u64, digits: u8) -> String {
    let config = config(Algorithm::Sha1, digits, 30, 0);
    hotp(&rfc_sha1_secret(), Algorithm::Sha1, config.digits(), step)
        .unwrap()
        .to_string()
}

#[test]
fn edges_at_skew_one() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 6, 30, 1);
    for (step, drift) in [(CURRENT - 1, -1), (CURRENT, 0), (CURRENT + 1, 1)] {
        let matched = check_at(&secret, &config, &code_for_step(step, 6), NOW, None).unwrap();
        assert_eq!((matched.step(), matched.drift()), (step, drift));
    }
    for step in [CURRENT - 2, CURRENT + 2] {
        let err = check_at(&secret, &config, &code_for_step(step, 6), NOW, None).unwrap_err();
        assert_eq!(
            err,
            TotpError::CodeMismatch {
                current_step: CURRENT,
                skew: 1
            },
            "step {step}"
        );
        assert!(err.counts_as_attempt());
    }
}

#[test]
fn edges_at_skew_two_and_zero() {
    let secret = rfc_sha1_secret();
    let wide = config(Algorithm::Sha1, 8, 30, 2);
    for (step, drift) in [(CURRENT - 2, -2), (CURRENT + 2, 2)] {
        let matched = check_at(&secret, &wide, &code_for_step(step, 8), NOW, None).unwrap();
        assert_eq!((matched.step(), matched.drift()), (step, drift));
    }
    for step in [CURRENT - 3, CURRENT + 3] {
        assert!(matches!(
            check_at(&secret, &wide, &code_for_step(step, 8), NOW, None),
            Err(TotpError::CodeMismatch { .. })
        ));
    }
    let exact = config(Algorithm::Sha1, 8, 30, 0);
    assert!(check_at(&secret, &exact, &code_for_step(CURRENT, 8), NOW, None).is_ok());
    for step in [CURRENT - 1, CURRENT + 1] {
        assert!(matches!(
            check_at(&secret, &exact, &code_for_step(step, 8), NOW, None),
            Err(TotpError::CodeMismatch { skew: 0, .. })
        ));
    }
}

#[test]
fn step_boundaries_follow_floor_of_time_over_period() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 8, 30, 0);
    let first = CURRENT * 30;
    let last = first + 29;
    let code = code_for_step(CURRENT, 8);
    assert!(check_at(&secret, &config, &code, first, None).is_ok());
    assert!(check_at(&secret, &config, &code, last, None).is_ok());
    assert!(check_at(&secret, &config, &code, first - 1, None).is_err());
    assert!(check_at(&secret, &config, &code, last + 1, None).is_err());
}

#[test]
fn a_code_is_good_once() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 6, 30, 1);
    let code = code_for_step(CURRENT, 6);
    let first = check_at(&secret, &config, &code, NOW, None).unwrap();
    let replay = check_at(&secret, &config, &code, NOW, Some(first.step())).unwrap_err();
    assert_eq!(
        replay,
        TotpError::StepAlreadyUsed {
            step: CURRENT,
            last_used_step: CURRENT
        }
    );
    assert!(replay.counts_as_attempt());
    assert_eq!(replay.code(), "step_already_used");
    // Still refused 29 s later, within the same step and the next one's window.
    assert!(check_at(&secret, &config, &code, NOW + 29, Some(first.step())).is_err());
}

#[test]
fn an_older_code_after_a_newer_one_is_refused() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 6, 30, 1);
    let newer = check_at(&secret, &config, &code_for_step(CURRENT + 1, 6), NOW, None).unwrap();
    assert_eq!(newer.drift(), 1);
    for older in [CURRENT, CURRENT - 1] {
        let err = check_at(
            &secret,
            &config,
            &code_for_step(older, 6),
            NOW,
            Some(newer.step()),
        )
        .unwrap_err();
        assert_eq!(
            err,
            TotpError::StepAlreadyUsed {
                step: older,
                last_used_step: CURRENT + 1
            }
        );
    }
}

#[test]
fn a_code_above_the_last_used_step_is_accepted() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 6, 30, 1);
    let matched = check_at(
        &secret,
        &config,
        &code_for_step(CURRENT, 6),
        NOW,
        Some(CURRENT - 1),
    )
    .unwrap();
    assert_eq!(matched.step(), CURRENT);
}

#[test]
fn steps_below_zero_never_match_and_nothing_underflows() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 8, 30, 2);
    for time in [0, 1, 29, 30, 59] {
        let current = time / 30;
        let code = code_for_step(current, 8);
        let matched = check_at(&secret, &config, &code, time, None).unwrap();
        assert_eq!((matched.step(), matched.drift()), (current, 0));
    }
    // At time 0 only steps 0, 1 and 2 exist: the window never wraps around to the
    // steps at the top of u64.
    let top = code_for_step(u64::MAX, 8);
    let top_minus_one = code_for_step(u64::MAX - 1, 8);
    for code in [top, top_minus_one] {
        assert!(check_at(&secret, &config, &code, 0, None).is_err());
    }
    assert_eq!(
        check_at(&secret, &config, &code_for_step(2, 8), 0, None)
            .unwrap()
            .drift(),
        2
    );
}

#[test]
fn the_end_of_time_does_not_overflow() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 8, 20, 2);
    let current = u64::MAX / 20;
    let code = generate_at(&secret, &config, u64::MAX).unwrap();
    let matched = check_at(&secret, &config, &code.to_string(), u64::MAX, None).unwrap();
    assert_eq!(matched.step(), current);
    assert_eq!(
        check_at(
            &secret,
            &config,
            &code_for_step(current + 1, 8),
            u64::MAX,
            None
        )
        .unwrap()
        .drift(),
        1
    );
    // UnixTime saturates at 9999-12-31; the UnixTime API agrees with check_at there.
    let max = UnixTime::MAX;
    let code = generate_at(&secret, &config, max.as_secs()).unwrap();
    assert!(check(&secret, &config, &code.to_string(), max, None).is_ok());
}

/// Finds the first current step at or after `from` whose 3-digit codes at `offset_a`
/// and `offset_b` collide while the other steps within `skew` have other codes
/// (about one step in a thousand qualifies).
fn collision(from: u64, skew: i64, offset_a: i64, offset_b: i64) -> (u64, String) {
    (from..from + 100_000)
        .find_map(|current| {
            let code_at = |offset: i64| Some(code_for_step(current.checked_add_signed(offset)?, 3));
            let code = code_at(offset_a)?;
            let others_differ = (-skew..=skew)
                .filter(|offset| *offset != offset_a && *offset != offset_b)
                .all(|offset| code_at(offset).as_ref() != Some(&code));
            (code_at(offset_b)? == code && others_differ).then_some((current, code))
        })
        .expect("a 3-digit collision within 100000 steps")
}

#[test]
fn on_a_tie_the_later_step_wins() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 3, 30, 1);
    let (current, code) = collision(1_000, 1, -1, 1);
    let time = current * 30 + 7;
    let matched = check_at(&secret, &config, &code, time, None).unwrap();
    assert_eq!((matched.step(), matched.drift()), (current + 1, 1));
    // With the current step used, -1 is below it and +1 still good.
    let matched = check_at(&secret, &config, &code, time, Some(current)).unwrap();
    assert_eq!(matched.step(), current + 1);
    // With +1 used, -1 is at or below it too: refused, reporting the preferred step.
    let err = check_at(&secret, &config, &code, time, Some(current + 1)).unwrap_err();
    assert_eq!(
        err,
        TotpError::StepAlreadyUsed {
            step: current + 1,
            last_used_step: current + 1
        }
    );
}

#[test]
fn the_nearest_step_wins() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 3, 30, 2);
    let (current, code) = collision(1_000, 2, 0, 2);
    let time = current * 30;
    let matched = check_at(&secret, &config, &code, time, None).unwrap();
    assert_eq!((matched.step(), matched.drift()), (current, 0));
    // With the current step used, the code is still good for step +2.
    let matched = check_at(&secret, &config, &code, time, Some(current)).unwrap();
    assert_eq!((matched.step(), matched.drift()), (current + 2, 2));

    let (current, code) = collision(1_000, 2, -2, -1);
    let matched = check_at(&secret, &config, &code, current * 30, None).unwrap();
    assert_eq!((matched.step(), matched.drift()), (current - 1, -1));
}

#[test]
fn malformed_codes_are_refused_first() {
    let secret = rfc_sha1_secret();
    let config = config(Algorithm::Sha1, 6, 30, 1);
    for bad in [
        "",
        "12345",
        "1234567",
        "12 456",
        "abcdef",
        "12345\u{0}",
        "１２３４５６",
    ] {
        let err = check_at(&secret, &config, bad, NOW, None).unwrap_err();
        assert!(
            matches!(err, TotpError::CodeMalformed(_)),
            "{bad:?}: {err:?}"
        );
        assert_eq!(err.code(), "code_malformed");
        assert!(err.counts_as_attempt());
    }
}

#[test]
fn every_algorithm_checks() {
    for algorithm in Algorithm::ALL {
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
        let secret = verify_totp::Secret::generate(&mut rng, algorithm);
        let config = config(algorithm, 6, 30, 1);
        let code = generate_at(&secret, &config, NOW).unwrap().to_string();
        assert!(check_at(&secret, &config, &code, NOW, None).is_ok());
        // The same code under another algorithm (almost surely) fails.
        let other = Algorithm::ALL
            .into_iter()
            .find(|other| *other != algorithm)
            .unwrap();
        let other_code = generate_at(&secret, &config.with_algorithm(other), NOW)
            .unwrap()
            .to_string();
        if other_code != code {
            assert!(check_at(&secret, &config, &other_code, NOW, None).is_err());
        }
    }
}
