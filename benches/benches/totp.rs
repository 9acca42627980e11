//! The cost of a TOTP check at skew 0 and 1, beside a bare HMAC-SHA-1 of 8 bytes.
//!
//! A check computes every step of its window (1 step at skew 0, 3 at skew 1) whether
//! or not the code matches, so a valid code and a wrong one should cost the same; the
//! target is "check at skew 1 <= 1.3 x three bare HMACs".
#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use verify_model::UnixTime;
use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig, check, generate};

fn bench_totp(c: &mut Criterion) {
    let key = b"12345678901234567890";
    let secret = Secret::from_bytes(key.to_vec()).unwrap();
    let now = UnixTime::from_secs(1_767_225_615);
    let counter = now.as_secs() / 30;

    let mut group = c.benchmark_group("totp");
    group.bench_function("bare HMAC-SHA1 (8 bytes)", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(black_box(key)).unwrap();
            mac.update(&black_box(counter).to_be_bytes());
            black_box(mac.finalize().into_bytes())
        });
    });
    group.bench_function("3 x bare HMAC-SHA1 (8 bytes)", |b| {
        b.iter(|| {
            for step in [counter - 1, counter, counter + 1] {
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(black_box(key)).unwrap();
                mac.update(&black_box(step).to_be_bytes());
                black_box(mac.finalize().into_bytes());
            }
        });
    });
    for skew in [0, 1] {
        let config = TotpConfig::new(
            Algorithm::Sha1,
            Digits::DEFAULT,
            Period::DEFAULT,
            Skew::new(skew).unwrap(),
        );
        let valid = generate(&secret, &config, now).unwrap().to_string();
        // A wrong code of the right shape: costs the full window.
        let wrong = (0..1_000_000)
            .map(|value| format!("{value:06}"))
            .find(|code| check(&secret, &config, code, now, None).is_err())
            .unwrap();
        group.bench_function(format!("check skew {skew} valid"), |b| {
            b.iter(|| check(&secret, &config, black_box(&valid), now, None).is_ok());
        });
        group.bench_function(format!("check skew {skew} wrong"), |b| {
            b.iter(|| check(&secret, &config, black_box(&wrong), now, None).is_err());
        });
    }
    group.finish();
}

criterion_group!(benches, bench_totp);
criterion_main!(benches);
