//! Parsers of client input never panic and reject what they do not accept with a
//! typed error; storage records with arbitrary content never load into an invalid
//! value.

use proptest::prelude::*;
use verify_model::factor::PushBinding;
use verify_model::list::PageToken;
use verify_model::{
    BaseUrl, Challenge, ChallengeSid, Factor, Field, Identity, StringMap, TotpSecret, UnixTime,
};

proptest! {
    #[test]
    fn text_parsers_never_panic(text in "\\PC{0,80}") {
        let _ = Identity::parse(&text);
        let _ = ChallengeSid::parse(&text);
        let _ = UnixTime::parse_rfc3339(&text);
        let _ = BaseUrl::parse(&text);
        let _ = PageToken::parse(&text);
        let _ = TotpSecret::from_base32(&text);
        let _ = PushBinding::from_base64(&text);
        let _ = StringMap::parse_json(Field::Metadata, &text);
    }

    #[test]
    fn string_maps_from_json_objects(entries in proptest::collection::btree_map("\\PC{0,12}", "\\PC{0,40}", 0..40)) {
        let json = serde_json::to_string(&entries).unwrap();
        let result = StringMap::parse_json(Field::HiddenDetails, &json);
        if json.chars().count() <= 1024 {
            let map = result.unwrap();
            prop_assert_eq!(map.len(), entries.len());
            prop_assert_eq!(map.to_json_string(), json);
        } else {
            prop_assert!(result.is_err(), "a {}-character map was accepted", json.chars().count());
        }
    }

    #[test]
    fn arbitrary_json_never_loads_as_a_bogus_record(value in arbitrary_json()) {
        // Either it fails, or it is a record whose invariants hold (re-serializing
        // and loading again gives the same value).
        if let Ok(challenge) = serde_json::from_value::<Challenge>(value.clone()) {
            let again = serde_json::to_value(&challenge).unwrap();
            prop_assert_eq!(serde_json::from_value::<Challenge>(again).unwrap(), challenge);
        }
        if let Ok(factor) = serde_json::from_value::<Factor>(value) {
            let again = serde_json::to_value(&factor).unwrap();
            prop_assert_eq!(serde_json::from_value::<Factor>(again).unwrap(), factor);
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z_]{1,16}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn tampered_records_are_rejected() {
    let factor = crate::support::verified_totp();
    let good = serde_json::to_value(&factor).unwrap();
    assert_eq!(
        serde_json::from_value::<Factor>(good.clone()).unwrap(),
        factor
    );
    let tamper = |path: &[&str], value: serde_json::Value| {
        let mut record = good.clone();
        let mut slot = &mut record;
        for key in path {
            slot = &mut slot[*key];
        }
        *slot = value;
        serde_json::from_value::<Factor>(record)
    };
    assert!(tamper(&["failed_verification_attempts"], 6.into()).is_err());
    assert!(tamper(&["friendly_name"], "n".repeat(65).into()).is_err());
    assert!(tamper(&["kind", "code_length"], 9.into()).is_err());
    assert!(tamper(&["kind", "secret"], "AAAA".into()).is_err());
    assert!(tamper(&["sid"], "YC0123456789abcdef0123456789abcdef".into()).is_err());
    assert!(
        tamper(&["status"], "unverified".into()).is_err(),
        "unverified with a used step"
    );
    assert!(tamper(&["date_updated"], "1970-01-01T00:00:00Z".into()).is_err());
}
