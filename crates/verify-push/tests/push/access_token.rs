//! Enrollment access tokens, including the single-use contract with the engine.

use std::collections::HashSet;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use verify_model::{ServiceSid, UnixTime};
use verify_push::{AccessTokenKey, AccessTokenKeys, AccessTokenRequest, CheckedAccessToken};

#[test]
fn a_replayed_access_token_is_caught_by_its_sid() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let keys = AccessTokenKeys::new(AccessTokenKey::generate("2026-11", &mut rng).unwrap());
    let service = ServiceSid::from_bytes([3; 16]);
    let now = UnixTime::from_secs(1_800_000_000);
    let issued = keys
        .mint(
            &AccessTokenRequest::new(service, "ff483d1ff591898a9942916050d2ca3f".into()),
            now,
            &mut rng,
        )
        .unwrap();
    // The engine's consumed set (a store's atomic insert in production).
    let mut consumed = HashSet::new();
    let mut enroll = |checked: CheckedAccessToken| consumed.insert(checked.sid);
    let first = keys.check(issued.token(), service, now).unwrap();
    assert_eq!(first.sid, issued.sid);
    assert!(enroll(first));
    let replay = keys.check(issued.token(), service, now).unwrap();
    assert_eq!(replay.sid, issued.sid, "a replay carries the same sid");
    assert!(!enroll(replay), "the second use is refused");
    // Two tokens for the same identity have distinct sids.
    let second = keys
        .mint(
            &AccessTokenRequest::new(service, "ff483d1ff591898a9942916050d2ca3f".into()),
            now,
            &mut rng,
        )
        .unwrap();
    assert_ne!(second.sid, issued.sid);
    assert_ne!(second.token(), issued.token());
}
