//! Property tests over time and tokens: the request JWT window and access tokens.

use std::time::Duration;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::json;
use verify_model::{ServiceSid, UnixTime};
use verify_push::{
    AccessTokenKey, AccessTokenKeys, AccessTokenRequest, DeviceKey, RequestJwt, RequestPolicy,
};

use crate::device::Device;

const HEADER: &str = r#"{"cty":"twilio-pba;v=1","kid":"CR1","typ":"JWT","alg":"ES256"}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Accepted exactly when `nbf - 60 <= now < exp + 60` and `0 < exp - nbf <= 900`.
    #[test]
    fn request_window_is_exact(
        nbf in 1_000_000_u64..1_000_100,
        lifetime in 0_u64..1000,
        offset in -200_i64..1200,
        seed in any::<u64>(),
    ) {
        let mut device = Device::new(seed);
        let key = DeviceKey::from_binding(&device.binding(), "ES256").unwrap();
        let exp = nbf + lifetime;
        let claims = json!({"sub": "AC1", "exp": exp, "nbf": nbf}).to_string();
        let jwt = device.jws(HEADER, &claims);
        let now = nbf.checked_add_signed(offset).unwrap();
        let result = RequestJwt::new(&jwt).unwrap().verify(
            &key, "CR1", "AC1", &RequestPolicy::default(), UnixTime::from_secs(now));
        let expected = (1..=900).contains(&lifetime) && now + 60 >= nbf && now < exp + 60;
        prop_assert_eq!(result.is_ok(), expected, "{:?}", result);
    }

    /// Tokens round-trip for any valid identity, name and ttl, expire exactly at
    /// `now + ttl`, and any one-character change is refused.
    #[test]
    fn access_tokens_round_trip_and_resist_changes(
        identity in "[A-Za-z0-9]{4,10}(-[A-Za-z0-9]{4,10}){1,3}",
        name in proptest::option::of("\\PC{0,64}"),
        ttl in 60_u64..=300,
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select("AQgw_-.09xyz".chars().collect::<Vec<_>>()),
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = AccessTokenKeys::new(AccessTokenKey::generate("k1", &mut rng).unwrap());
        let service = ServiceSid::generate(&mut rng);
        let now = UnixTime::from_secs(1_800_000_000);
        let mut request = AccessTokenRequest::new(service, identity.clone());
        request.friendly_name = name.clone();
        request.ttl = Duration::from_secs(ttl);
        let issued = keys.mint(&request, now, &mut rng).unwrap();
        let checked = keys.check(issued.token(), service, now).unwrap();
        prop_assert_eq!(&checked.identity, &identity);
        prop_assert_eq!(&checked.friendly_name, &name);
        let last = UnixTime::from_secs(now.as_secs() + ttl - 1);
        prop_assert!(keys.check(issued.token(), service, last).is_ok());
        let end = UnixTime::from_secs(now.as_secs() + ttl);
        prop_assert!(keys.check(issued.token(), service, end).is_err());

        let mut chars: Vec<char> = issued.token().chars().collect();
        let index = position.index(chars.len());
        prop_assume!(chars[index] != replacement);
        chars[index] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(keys.check(&changed, service, now).is_err());
    }
}
