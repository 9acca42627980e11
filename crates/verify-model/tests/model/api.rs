//! JSON: field names against the documents' examples (`testdata/`), value spellings,
//! url/links from the base URL, no secrets, and serde round trips.

use std::collections::BTreeSet;

use verify_model::api::{
    AccessTokenJson, ApiContext, ChallengeJson, CreatedFactorJson, FactorJson, WebhookJson,
};
use verify_model::list::{ChallengeFilter, ListMeta, ListOrder, PageSize, paginate};
use verify_model::{
    AccessToken, AccountSid, AnswerInput, BaseUrl, Challenge, ChallengeStatus, ChallengeTarget,
    DetailField, Details, EventType, Factor, FactorKind, NewAccessToken, NewChallenge, StringMap,
    Webhook, WebhookEventType,
};
use verify_model::{Field, ServiceSid};

use crate::support::{
    NOW, at, identity, new_factor, passkeys_config, rng, verified_passkey, verified_push,
    verified_totp,
};

fn testdata(name: &str) -> serde_json::Value {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn ctx() -> ApiContext {
    ApiContext::new(
        AccountSid::from_bytes([0xac; 16]),
        Some(BaseUrl::parse("https://verify.example/v2").unwrap()),
    )
}

fn push_challenge() -> (Factor, Challenge) {
    let factor = verified_push();
    let details = Details::new(
        "Hi! Mr. John Doe, would you like to sign up?",
        vec![DetailField::new("Action", "Sign up in portal").unwrap()],
    )
    .unwrap()
    .with_date(UnixTimeExt::parse("2020-07-01T12:13:14Z"));
    let hidden = StringMap::parse_json(Field::HiddenDetails, r#"{"ip": "127.0.0.1"}"#).unwrap();
    let input = NewChallenge::new()
        .with_details(details)
        .with_hidden_details(hidden);
    let challenge = Challenge::create(ChallengeTarget::Factor(&factor), input, NOW, &mut rng(30))
        .unwrap()
        .challenge;
    (factor, challenge)
}

struct UnixTimeExt;
impl UnixTimeExt {
    fn parse(text: &str) -> verify_model::UnixTime {
        verify_model::UnixTime::parse_rfc3339(text).unwrap()
    }
}

#[test]
fn challenge_has_exactly_the_documents_fields() {
    let (_, challenge) = push_challenge();
    let json = serde_json::to_value(ChallengeJson::new(&challenge, &ctx(), NOW)).unwrap();
    for example in ["challenge_push_created.json", "challenge_push_fetched.json"] {
        assert_eq!(keys(&json), keys(&testdata(example)), "{example}");
    }
    for item in testdata("challenge_list.json")["challenges"]
        .as_array()
        .unwrap()
    {
        assert_eq!(keys(&json), keys(item));
    }
    // Nested objects too.
    let example = testdata("challenge_push_created.json");
    assert_eq!(keys(&json["details"]), keys(&example["details"]));
    assert_eq!(keys(&json["links"]), keys(&example["links"]));
    assert_eq!(
        keys(&json["details"]["fields"][0]),
        keys(&example["details"]["fields"][0])
    );
}

#[test]
fn passkey_challenge_has_exactly_the_documents_fields() {
    let factor = verified_passkey();
    let ceremony = crate::support::ceremony(None);
    let challenge = Challenge::create(
        ChallengeTarget::DiscoverablePasskey(factor.service_sid()),
        NewChallenge::new().with_passkey(ceremony),
        NOW,
        &mut rng(31),
    )
    .unwrap()
    .challenge;
    let json = serde_json::to_value(ChallengeJson::new(&challenge, &ctx(), NOW)).unwrap();
    assert_eq!(
        keys(&json),
        keys(&testdata("challenge_passkeys_created.json"))
    );
    assert_eq!(json["entity_sid"], "");
    assert_eq!(json["factor_sid"], "");
    assert_eq!(json["links"], serde_json::Value::Null);
    assert_eq!(json["options"]["publicKey"]["challenge"], "WUYw");
    assert_eq!(json["options"]["publicKey"]["rpId"], "example.com");
    // The ceremony state is private.
    assert!(!json.to_string().contains("state"));
    let back: ChallengeJson = serde_json::from_value(json).unwrap();
    assert_eq!(back.entity_sid, None);
}

#[test]
fn the_documents_challenge_examples_parse() {
    for example in ["challenge_push_created.json", "challenge_push_fetched.json"] {
        // The documents' placeholder sids ("VAXXXX…") are not hex; make them so.
        let text = testdata(example).to_string().replace('X', "a");
        let parsed: ChallengeJson = serde_json::from_str(&text).unwrap();
        let again = serde_json::to_value(&parsed).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        // Every value survives the round trip (the seed's sids are upper/lower mixed
        // only in the placeholders, which we lowered).
        assert_eq!(again, original, "{example}");
    }
}

#[test]
fn challenge_values_use_the_documents_spellings() {
    let (_, challenge) = push_challenge();
    let json = serde_json::to_value(ChallengeJson::new(&challenge, &ctx(), NOW)).unwrap();
    assert_eq!(json["status"], "pending");
    assert_eq!(json["responded_reason"], "none");
    assert_eq!(json["factor_type"], "push");
    assert_eq!(json["date_responded"], serde_json::Value::Null);
    assert_eq!(json["metadata"], serde_json::Value::Null);
    assert_eq!(json["date_created"], NOW.to_string());
    assert_eq!(json["expiration_date"], at(300).to_string());
    assert_eq!(
        json["hidden_details"],
        serde_json::json!({"ip": "127.0.0.1"})
    );
    let url = format!(
        "https://verify.example/v2/Services/{}/Entities/{}/Challenges/{}",
        challenge.service_sid(),
        identity(),
        challenge.sid()
    );
    assert_eq!(json["url"], url.as_str());
    assert_eq!(
        json["links"]["notifications"],
        format!("{url}/Notifications").as_str()
    );
    // Read after expiry, it shows expired; after approval, approved with a date.
    let later = serde_json::to_value(ChallengeJson::new(&challenge, &ctx(), at(300))).unwrap();
    assert_eq!(later["status"], "expired");
    let approved = challenge
        .approve(&AnswerInput::new(at(10)))
        .unwrap()
        .challenge;
    let json = serde_json::to_value(ChallengeJson::new(&approved, &ctx(), at(500))).unwrap();
    assert_eq!(json["status"], "approved");
    assert_eq!(json["date_responded"], at(10).to_string());
}

#[test]
fn url_and_links_are_omitted_without_a_base() {
    let (factor, challenge) = push_challenge();
    let bare = ApiContext::new(AccountSid::from_bytes([1; 16]), None);
    let json = serde_json::to_value(ChallengeJson::new(&challenge, &bare, NOW)).unwrap();
    assert!(json.get("url").is_none());
    assert!(json.get("links").is_none());
    let json = serde_json::to_value(FactorJson::new(&factor, &bare)).unwrap();
    assert!(json.get("url").is_none());
}

#[test]
fn factor_has_exactly_the_documents_fields() {
    let verified = verified_passkey();
    let json = serde_json::to_value(FactorJson::new(&verified, &ctx())).unwrap();
    assert_eq!(
        keys(&json),
        keys(&testdata("factor_passkeys_verified.json"))
    );
    assert_eq!(
        keys(&json["config"]),
        keys(&testdata("factor_passkeys_verified.json")["config"])
    );
    assert_eq!(json["status"], "verified");
    assert_eq!(json["factor_type"], "passkeys");

    let created = Factor::create(
        new_factor("friendly_name"),
        FactorKind::passkeys(passkeys_config()),
        NOW,
        &mut rng(32),
    )
    .unwrap()
    .factor;
    let response =
        FactorJson::created_passkey(&created, &ctx(), serde_json::json!({"publicKey": {}}))
            .unwrap();
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(keys(&json), keys(&testdata("factor_passkeys_created.json")));
    assert_eq!(json["binding"], serde_json::Value::Null);
    assert_eq!(json["status"], "unverified");
    let back: CreatedFactorJson = serde_json::from_value(json).unwrap();
    assert_eq!(back, response);
}

#[test]
fn totp_secret_only_in_the_creation_binding() {
    let factor = verified_totp();
    let FactorKind::Totp(totp) = factor.kind() else {
        unreachable!()
    };
    let secret = totp.secret().to_base32();
    let plain = serde_json::to_string(&FactorJson::new(&factor, &ctx())).unwrap();
    assert!(!plain.contains(secret.as_str()));
    assert!(!format!("{factor:?}").contains(secret.as_str()));
    let json = serde_json::to_value(FactorJson::new(&factor, &ctx())).unwrap();
    assert_eq!(
        json["config"],
        serde_json::json!({"alg": "sha1", "code_length": 6, "time_step": 30, "skew": 1})
    );
    let created = FactorJson::created_totp(&factor, &ctx(), "otpauth://totp/x").unwrap();
    let json = serde_json::to_value(&created).unwrap();
    assert_eq!(json["binding"]["secret"], secret.as_str());
    assert_eq!(json["binding"]["uri"], "otpauth://totp/x");
    assert!(FactorJson::created_push(&factor, &ctx()).is_none());
}

#[test]
fn push_factor_config_and_binding() {
    let factor = verified_push();
    let json = serde_json::to_value(FactorJson::new(&factor, &ctx())).unwrap();
    assert_eq!(json["config"]["notification_platform"], "apn");
    assert_eq!(json["config"]["app_id"], "com.example.app");
    assert!(
        json["config"]["credential_sid"]
            .as_str()
            .unwrap()
            .starts_with("CR")
    );
    let created = serde_json::to_value(FactorJson::created_push(&factor, &ctx()).unwrap()).unwrap();
    assert_eq!(created["binding"]["alg"], "ES256");
    assert!(
        created["binding"]["public_key"]
            .as_str()
            .unwrap()
            .starts_with("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
    );
    let back: FactorJson = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(back).unwrap(), json);
}

#[test]
fn webhook_and_access_token_fields() {
    let service = ServiceSid::from_bytes([0xaa; 16]);
    let webhook = Webhook::create(
        service,
        "My Webhook",
        vec![
            WebhookEventType::Only(EventType::FactorDeleted),
            WebhookEventType::Only(EventType::FactorVerified),
        ],
        "https://mywebsite.com/webhook",
        NOW,
        &mut rng(33),
    )
    .unwrap();
    let json = serde_json::to_value(WebhookJson::new(&webhook, &ctx())).unwrap();
    assert_eq!(keys(&json), keys(&testdata("webhook.json")));
    assert_eq!(json["event_types"], testdata("webhook.json")["event_types"]);
    assert_eq!(json["webhook_method"], "POST");
    assert_eq!(json["version"], "v2");
    assert!(!json.to_string().contains("secret"));

    let token = AccessToken::issue(
        NewAccessToken::new(service, identity()).with_factor_friendly_name("John Doe iPhone"),
        NOW,
        &mut rng(34),
    )
    .unwrap();
    let json = serde_json::to_value(AccessTokenJson::new(&token, &ctx())).unwrap();
    assert_eq!(keys(&json), keys(&testdata("access_token.json")));
    assert_eq!(json["ttl"], 60);
    assert!(token.redeem(json["token"].as_str().unwrap(), at(1)).is_ok());
}

#[test]
fn list_response_meta_has_the_documents_fields() {
    let factor = verified_totp();
    let mut rng = rng(35);
    let challenges: Vec<Challenge> = (0..5)
        .map(|i| {
            Challenge::create(
                ChallengeTarget::Factor(&factor),
                NewChallenge::new(),
                at(i),
                &mut rng,
            )
            .unwrap()
            .challenge
        })
        .collect();
    let filter = ChallengeFilter::new(Some(factor.sid()), Some(ChallengeStatus::Pending));
    let size = PageSize::new(2).unwrap();
    let page = paginate(
        &challenges,
        |c| filter.matches(c, at(10)),
        ListOrder::Desc,
        size,
        None,
    )
    .unwrap();
    assert_eq!(page.items[0].sid(), challenges[4].sid());
    let base = BaseUrl::parse("https://verify.example/v2").unwrap();
    let list_url = base.challenges(factor.service_sid(), factor.identity());
    let meta = ListMeta::new(
        &list_url,
        "challenges",
        0,
        size,
        ListOrder::Desc,
        &filter.query_pairs(),
        &page,
    );
    let json = serde_json::json!({
        "challenges": page.items.iter().map(|c| ChallengeJson::new(c, &ctx(), at(10))).collect::<Vec<_>>(),
        "meta": meta,
    });
    let example = testdata("challenge_list.json");
    assert_eq!(keys(&json), keys(&example));
    assert_eq!(keys(&json["meta"]), keys(&example["meta"]));
    assert_eq!(json["meta"]["key"], "challenges");
    assert_eq!(json["meta"]["page_size"], 2);
    assert_eq!(json["meta"]["previous_page_url"], serde_json::Value::Null);
    let next = json["meta"]["next_page_url"].as_str().unwrap();
    assert!(next.starts_with(&format!(
        "{list_url}?PageSize=2&Page=1&FactorSid={}&Status=pending&Order=desc&PageToken=",
        factor.sid()
    )));
    // Following the token yields the rest, none repeated.
    let token = page.next_page_token.unwrap();
    let parsed = verify_model::list::PageToken::parse(&token.to_string()).unwrap();
    let second = paginate(
        &challenges,
        |c| filter.matches(c, at(10)),
        ListOrder::Desc,
        size,
        Some(&parsed),
    )
    .unwrap();
    assert_eq!(second.items[0].sid(), challenges[2].sid());
    // Past expiry, none is pending.
    let expired = paginate(
        &challenges,
        |c| filter.matches(c, at(1_000)),
        ListOrder::Asc,
        size,
        None,
    )
    .unwrap();
    assert!(expired.items.is_empty());
}

#[test]
fn events_serialize_with_webhook_names() {
    let (_, challenge) = push_challenge();
    let approved = challenge.approve(&AnswerInput::new(at(3))).unwrap();
    let json = serde_json::to_value(&approved.events[0]).unwrap();
    assert_eq!(json["type"], "challenge.approved");
    assert_eq!(json["challenge_status"], "approved");
    assert_eq!(json["factor_type"], "push");
    assert_eq!(json["entity_identity"], identity().as_str());
    assert_eq!(json["date_created"], at(3).to_string());
    let back: verify_model::Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, approved.events[0]);
}
