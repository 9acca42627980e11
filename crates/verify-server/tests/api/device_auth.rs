//! Device-authenticated calls (docs/push-protocol.md, section 4): after the host mints the enrollment access
//! token, the push SDK's flow runs with device credentials only: the token creates
//! the factor, then request JWTs signed by the factor key verify it, list and fetch
//! challenges, answer them and delete the factor. Refusals: another entity, another factor, an expired
//! JWT (401 with `Date`), the access token reused, host-only endpoints.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::{Map, Value, json};

use crate::support::{Harness, Reply, basic};

/// The harness's account sid: the JWT `sub`.
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

/// A push device as the SDK runs it: its key and, once enrolled, its factor.
pub(crate) struct Device {
    pub(crate) key: SigningKey,
    pub(crate) service: String,
    pub(crate) identity: String,
    pub(crate) factor: String,
    pub(crate) credential_sid: String,
}

impl Device {
    /// A request JWT as the SDKs build it, valid from `nbf` for 600 s.
    pub(crate) fn jwt_at(&self, nbf: u64) -> String {
        let header = json!({
            "cty": "twilio-pba;v=1",
            "kid": self.credential_sid,
            "typ": "JWT",
            "alg": "ES256",
        });
        let claims = json!({"sub": ACCOUNT, "exp": nbf + 600, "nbf": nbf});
        sign_jws(&self.key, &header.to_string(), &claims.to_string())
    }

    /// `Authorization` for a request made now.
    pub(crate) fn auth(&self, h: &Harness) -> String {
        basic("token", &self.jwt_at(h.now().as_secs()))
    }

    pub(crate) fn entity_url(&self) -> String {
        format!("/v2/Services/{}/Entities/{}", self.service, self.identity)
    }

    pub(crate) fn factor_url(&self) -> String {
        format!("{}/Factors/{}", self.entity_url(), self.factor)
    }

    /// The approve/deny `AuthPayload` for a challenge served as `served`.
    pub(crate) fn answer(&self, served: &Reply, status: &str) -> String {
        let fields = served
            .headers
            .get("twilio-verify-signature-fields")
            .expect("the signature fields header")
            .to_str()
            .unwrap()
            .to_owned();
        let mut payload = Map::new();
        for field in fields.split(',') {
            payload.insert(field.to_owned(), served.json[field].clone());
        }
        payload.insert("status".to_owned(), Value::String(status.to_owned()));
        sign_jws(
            &self.key,
            r#"{"typ":"JWT","alg":"ES256"}"#,
            &Value::Object(payload).to_string(),
        )
    }
}

pub(crate) fn sign_jws(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// The host mints a token; the device creates its factor with it and verifies the
/// factor with a request JWT (no API key). `platform` is `none`, `apn` or `fcm`.
pub(crate) async fn enroll(
    h: &Harness,
    service: &str,
    identity: &str,
    seed: u64,
    platform: &str,
) -> Device {
    let token = h
        .post(
            &format!("/v2/Services/{service}/AccessTokens"),
            &[("Identity", identity), ("FactorType", "push")],
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.json);
    let credential = token.str("token");
    let key = SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let push_token = "f".repeat(64);
    let mut form = vec![
        ("FactorType", "push"),
        ("FriendlyName", "Jane's phone"),
        ("Binding.PublicKey", public_key.as_str()),
        ("Binding.Alg", "ES256"),
        ("Config.AppId", "com.example.owl"),
        ("Config.NotificationPlatform", platform),
        ("Config.SdkVersion", "2.0.0"),
    ];
    if platform != "none" {
        form.push(("Config.NotificationToken", push_token.as_str()));
    }
    let created = h
        .send(
            Method::POST,
            &format!("/v2/Services/{service}/Entities/{identity}/Factors"),
            Some(&basic("token", &credential)),
            &form,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let mut device = Device {
        key,
        service: service.to_owned(),
        identity: identity.to_owned(),
        factor: created.str("sid"),
        credential_sid: created.json["config"]["credential_sid"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let sig: DerSignature = device.key.sign(device.factor.as_bytes());
    let verified = h
        .send(
            Method::POST,
            &device.factor_url(),
            Some(&device.auth(h)),
            &[("AuthPayload", &STANDARD.encode(sig.as_bytes()))],
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);
    device.factor = verified.str("sid");
    device
}

/// The host creates a push challenge for the device's factor.
pub(crate) async fn challenge(h: &Harness, device: &Device) -> String {
    let created = h
        .post(
            &format!("{}/Challenges", device.entity_url()),
            &[
                ("FactorSid", &device.factor),
                ("Details.Message", "Approve login to Owl Bank?"),
                ("Details.Fields", r#"{"label":"IP","value":"192.0.2.1"}"#),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    created.str("sid")
}

#[track_caller]
fn assert_401_with_date(reply: &Reply, h: &Harness) {
    reply.assert_error(401, 20003);
    let date = reply
        .headers
        .get("date")
        .expect("a 401 to a device carries Date")
        .to_str()
        .unwrap();
    assert_eq!(date, verify_engine::push::http_date(h.now()));
}

#[tokio::test]
async fn the_sdk_flow_runs_on_device_credentials_alone() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;

    // The device reads its factor.
    let factor = h
        .send(
            Method::GET,
            &device.factor_url(),
            Some(&device.auth(&h)),
            &[],
        )
        .await;
    assert_eq!(factor.status, StatusCode::OK, "{}", factor.json);
    assert_eq!(factor.json["status"], "verified");
    assert_eq!(
        factor.json["config"]["credential_sid"],
        device.credential_sid
    );

    // The host challenges; the device polls pending challenges (newest first).
    let sid = challenge(&h, &device).await;
    let list = h
        .send(
            Method::GET,
            &format!(
                "{}/Challenges?FactorSid={}&Status=pending&Order=desc&PageSize=10",
                device.entity_url(),
                device.factor
            ),
            Some(&device.auth(&h)),
            &[],
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json["challenges"][0]["sid"], sid, "{}", list.json);

    // It fetches the challenge to sign it, and approves with its key.
    let url = format!("{}/Challenges/{sid}", device.entity_url());
    let served = h.send(Method::GET, &url, Some(&device.auth(&h)), &[]).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.json);
    assert_eq!(served.json["status"], "pending");
    let approved = h
        .send(
            Method::POST,
            &url,
            Some(&device.auth(&h)),
            &[("AuthPayload", &device.answer(&served, "approved"))],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(approved.json["status"], "approved");
    // The host sees the decision.
    assert_eq!(h.get(&url).await.json["status"], "approved");

    // The SDK's factor update (a new push token) with the JWT.
    let updated = h
        .send(
            Method::POST,
            &device.factor_url(),
            Some(&device.auth(&h)),
            &[
                ("Config.NotificationPlatform", "fcm"),
                ("Config.NotificationToken", &"a".repeat(40)),
                ("Config.SdkVersion", "2.1.0"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["config"]["notification_platform"], "fcm");
    assert_eq!(updated.json["config"]["sdk_version"], "2.1.0");
    assert_eq!(updated.json["config"]["app_id"], "com.example.owl");
    assert_eq!(
        updated.json["config"]["credential_sid"],
        device.credential_sid
    );
}

#[tokio::test]
async fn a_device_can_deny() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let sid = challenge(&h, &device).await;
    let url = format!("{}/Challenges/{sid}", device.entity_url());
    let served = h.send(Method::GET, &url, Some(&device.auth(&h)), &[]).await;
    let denied = h
        .send(
            Method::POST,
            &url,
            Some(&device.auth(&h)),
            &[("AuthPayload", &device.answer(&served, "denied"))],
        )
        .await;
    assert_eq!(denied.status, StatusCode::OK, "{}", denied.json);
    assert_eq!(denied.json["status"], "denied");
}

#[tokio::test]
async fn a_device_cannot_touch_another_entity() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let alice = enroll(&h, &service, "alice-0001", 1, "none").await;
    let bob = enroll(&h, &service, "bob-00000002", 2, "none").await;
    let alice_challenge = challenge(&h, &alice).await;
    let alice_challenge_url = format!("{}/Challenges/{alice_challenge}", alice.entity_url());

    // Bob's valid JWT on Alice's entity: his factor is not hers.
    for (method, url) in [
        (Method::GET, alice.factor_url()),
        (Method::GET, alice_challenge_url.clone()),
        (Method::GET, format!("{}/Challenges", alice.entity_url())),
    ] {
        let reply = h.send(method, &url, Some(&bob.auth(&h)), &[]).await;
        assert_401_with_date(&reply, &h);
    }
    // Bob signs Alice's served challenge with his key: refused before any check of
    // the payload, and nothing changes.
    let served = h.get(&alice_challenge_url).await;
    let reply = h
        .send(
            Method::POST,
            &alice_challenge_url,
            Some(&bob.auth(&h)),
            &[("AuthPayload", &bob.answer(&served, "approved"))],
        )
        .await;
    assert_401_with_date(&reply, &h);
    assert_eq!(h.get(&alice_challenge_url).await.json["status"], "pending");
    // Bob's JWT with Bob's factor sid in Alice's path.
    let reply = h
        .send(
            Method::GET,
            &format!("{}/Factors/{}", alice.entity_url(), bob.factor),
            Some(&bob.auth(&h)),
            &[],
        )
        .await;
    assert_401_with_date(&reply, &h);
}

#[tokio::test]
async fn a_device_acts_only_on_its_own_factor() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let phone = enroll(&h, &service, "user-0001", 1, "none").await;
    let tablet = enroll(&h, &service, "user-0001", 2, "none").await;
    // The phone's JWT on the tablet's factor: authenticated, but not its factor.
    h.send(
        Method::GET,
        &tablet.factor_url(),
        Some(&phone.auth(&h)),
        &[],
    )
    .await
    .assert_error(403, 20403);
    h.send(
        Method::POST,
        &tablet.factor_url(),
        Some(&phone.auth(&h)),
        &[("FriendlyName", "mine now")],
    )
    .await
    .assert_error(403, 20403);
    h.send(
        Method::DELETE,
        &tablet.factor_url(),
        Some(&phone.auth(&h)),
        &[],
    )
    .await
    .assert_error(403, 20403);
    assert_eq!(
        h.get(&tablet.factor_url()).await.json["friendly_name"],
        "Jane's phone"
    );
    // A tablet challenge answered by the phone's key fails the signature check.
    let sid = challenge(&h, &tablet).await;
    let url = format!("{}/Challenges/{sid}", tablet.entity_url());
    let served = h.send(Method::GET, &url, Some(&phone.auth(&h)), &[]).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.json);
    h.send(
        Method::POST,
        &url,
        Some(&phone.auth(&h)),
        &[("AuthPayload", &phone.answer(&served, "approved"))],
    )
    .await
    .assert_error(403, 60324);
    assert_eq!(h.get(&url).await.json["status"], "pending");
}

#[tokio::test]
async fn a_device_deletes_its_own_factor_as_the_sdk_does() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let phone = enroll(&h, &service, "user-0001", 1, "none").await;
    let tablet = enroll(&h, &service, "user-0001", 2, "none").await;
    let sid = challenge(&h, &phone).await;
    let auth = phone.auth(&h);
    let deleted = h
        .send(Method::DELETE, &phone.factor_url(), Some(&auth), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    h.get(&phone.factor_url()).await.assert_error(404, 20404);
    h.get(&format!("{}/Challenges/{sid}", phone.entity_url()))
        .await
        .assert_error(404, 60391);
    // The deleted factor's key no longer authenticates, even with an unexpired JWT.
    let again = h
        .send(Method::DELETE, &phone.factor_url(), Some(&auth), &[])
        .await;
    assert_401_with_date(&again, &h);
    // The entity's other device is untouched.
    assert_eq!(h.get(&tablet.factor_url()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_or_future_jwt_gets_401_with_the_server_date() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let stale = basic("token", &device.jwt_at(h.now().as_secs()));
    // 600 s lifetime + 60 s leeway.
    h.advance(661);
    let reply = h
        .send(Method::GET, &device.factor_url(), Some(&stale), &[])
        .await;
    assert_401_with_date(&reply, &h);
    assert!(reply.str("message").contains("expired"), "{}", reply.json);
    // The SDK corrects its clock from Date and retries: accepted.
    let retried = h
        .send(
            Method::GET,
            &device.factor_url(),
            Some(&device.auth(&h)),
            &[],
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.json);
    // A device clock 10 minutes ahead.
    let ahead = basic("token", &device.jwt_at(h.now().as_secs() + 600));
    let reply = h
        .send(Method::GET, &device.factor_url(), Some(&ahead), &[])
        .await;
    assert_401_with_date(&reply, &h);
}

#[tokio::test]
async fn the_access_token_only_creates_the_factor() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let sid = challenge(&h, &device).await;
    // A fresh (unused) enrollment token for the same identity.
    let token = h
        .post(
            &format!("/v2/Services/{service}/AccessTokens"),
            &[("Identity", "user-0001"), ("FactorType", "push")],
        )
        .await
        .str("token");
    let auth = basic("token", &token);
    for (method, url) in [
        (
            Method::GET,
            format!("{}/Challenges/{sid}", device.entity_url()),
        ),
        (Method::GET, format!("{}/Challenges", device.entity_url())),
        (Method::GET, device.factor_url()),
    ] {
        let reply = h.send(method, &url, Some(&auth), &[]).await;
        assert_401_with_date(&reply, &h);
    }
    let reply = h
        .send(
            Method::POST,
            &format!("{}/Challenges/{sid}", device.entity_url()),
            Some(&auth),
            &[("AuthPayload", "x.y.z")],
        )
        .await;
    assert_401_with_date(&reply, &h);
}

/// A form body.
type Form<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn a_device_jwt_is_refused_on_host_endpoints() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let auth = device.auth(&h);
    let sid = challenge(&h, &device).await;
    let calls: Vec<(Method, String, Form<'_>)> = vec![
        (Method::GET, format!("/v2/Services/{service}"), vec![]),
        (Method::GET, device.entity_url(), vec![]),
        (Method::DELETE, device.entity_url(), vec![]),
        (
            Method::GET,
            format!("{}/Factors", device.entity_url()),
            vec![],
        ),
        (
            Method::POST,
            format!("{}/Challenges", device.entity_url()),
            vec![
                ("FactorSid", device.factor.as_str()),
                ("Details.Message", "hi"),
            ],
        ),
        (
            Method::POST,
            format!("{}/Challenges/{sid}/Notifications", device.entity_url()),
            vec![],
        ),
        (
            Method::POST,
            format!("/v2/Services/{service}/AccessTokens"),
            vec![("Identity", "user-0001"), ("FactorType", "push")],
        ),
        (
            Method::POST,
            format!("{}/Factors", device.entity_url()),
            vec![("FactorType", "totp"), ("FriendlyName", "x")],
        ),
    ];
    for (method, url, form) in calls {
        let reply = h.send(method.clone(), &url, Some(&auth), &form).await;
        assert_eq!(reply.status.as_u16(), 401, "{method} {url}: {}", reply.json);
        assert!(reply.headers.contains_key("date"));
    }
    // Nothing was deleted.
    assert_eq!(h.get(&device.factor_url()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn forged_and_malformed_jwts_are_refused() {
    let h = Harness::new();
    let service = h.service("Owl Bank").await;
    let device = enroll(&h, &service, "user-0001", 9, "none").await;
    let now = h.now().as_secs();
    let good = device.jwt_at(now);
    let (input, _) = good.rsplit_once('.').unwrap();
    let other_key = SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(77));
    let foreign: Signature = other_key.sign(input.as_bytes());
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD
            .encode(json!({"alg": "none", "kid": device.credential_sid, "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(json!({"sub": ACCOUNT, "exp": now + 600, "nbf": now}).to_string())
    );
    let other_sub = sign_jws(
        &device.key,
        &json!({"alg": "ES256", "kid": device.credential_sid, "typ": "JWT"}).to_string(),
        &json!({"sub": "AC00000000000000000000000000000000", "exp": now + 600, "nbf": now})
            .to_string(),
    );
    for jwt in [
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(foreign.to_bytes())),
        unsigned,
        other_sub,
        format!("{input}.AAAA"),
        "a.b.c".to_owned(),
        format!("{good}x"),
    ] {
        let reply = h
            .send(
                Method::GET,
                &device.factor_url(),
                Some(&basic("token", &jwt)),
                &[],
            )
            .await;
        assert_401_with_date(&reply, &h);
        // Refused as the JWT it is, never as a misused enrollment access token.
        let message = reply.json["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("device authentication failed"),
            "{jwt}: {message}"
        );
    }
}
