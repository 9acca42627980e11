//! The demo's flows end to end through the router: passkeys with a software
//! authenticator, TOTP with computed codes, push with a P-256 device answering
//! through `/v2` with its request JWT; and the demo service found again on a restart.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use verify_engine::store::MemoryStore;
use verify_server::{Demo, router_with_demo};

use crate::support::{BASE, Harness, USER, assert_plain, basic, code, state_over};

struct Authenticator {
    key: p256::ecdsa::SigningKey,
    credential_id: Vec<u8>,
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}"}}"#).into_bytes()
}

impl Authenticator {
    fn new(seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut credential_id = vec![0; 16];
        rng.fill_bytes(&mut credential_id);
        Self {
            key: p256::ecdsa::SigningKey::random(&mut rng),
            credential_id,
        }
    }

    fn auth_data(&self, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(b"localhost").to_vec();
        data.push(0x05 | if attested { 0x40 } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            let point = self.key.verifying_key().to_encoded_point(false);
            data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
            data.extend_from_slice(point.x().unwrap());
            data.extend_from_slice(&[0x22, 0x58, 0x20]);
            data.extend_from_slice(point.y().unwrap());
        }
        data
    }

    fn create(&self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(0, true)),
            ),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key", "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data("webauthn.create", challenge, BASE)),
                "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    fn get(&self, options: &Value, count: u32, user_handle: &str, origin: &str) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(count, false);
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": user_handle,
            },
            "clientExtensionResults": {},
        })
    }
}

#[tokio::test]
async fn passkey_register_sign_in_list_and_delete() {
    let h = Harness::new().await;
    let authenticator = Authenticator::new(1);
    let created = h
        .post_json("/demo/api/passkeys/register", &json!({ "identity": USER }))
        .await
        .assert_ok();
    let options = &created["options"];
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    let user_handle = options["publicKey"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let factor = created["factor_sid"].as_str().unwrap().to_owned();
    let verified = h
        .post_json(
            "/demo/api/passkeys/register/finish",
            &json!({ "identity": USER, "factor_sid": factor, "credential": authenticator.create(options) }),
        )
        .await
        .assert_ok();
    assert_eq!(verified["factor"]["status"], "verified");

    // Sign in by identity.
    let started = h
        .post_json("/demo/api/passkeys/signin", &json!({ "identity": USER }))
        .await
        .assert_ok();
    let challenge = started["challenge_sid"].as_str().unwrap().to_owned();
    let done = h
        .post_json(
            "/demo/api/passkeys/signin/finish",
            &json!({
                "challenge_sid": challenge,
                "credential": authenticator.get(&started["options"], 1, &user_handle, BASE),
            }),
        )
        .await
        .assert_ok();
    assert_eq!(done["identity"], USER);
    assert_eq!(done["challenge"]["status"], "approved");

    // Usernameless; a wrong origin is refused and named.
    let started = h
        .post_json("/demo/api/passkeys/signin", &json!({}))
        .await
        .assert_ok();
    assert!(
        started["options"]["publicKey"]["allowCredentials"].is_null()
            || started["options"]["publicKey"]["allowCredentials"] == json!([])
    );
    let challenge = started["challenge_sid"].as_str().unwrap().to_owned();
    let wrong = h
        .post_json(
            "/demo/api/passkeys/signin/finish",
            &json!({
                "challenge_sid": challenge,
                "credential": authenticator.get(&started["options"], 2, &user_handle, "http://evil.localhost:8080"),
            }),
        )
        .await;
    assert!(wrong.status.is_client_error(), "{}", wrong.text());
    let message = wrong.json()["message"].as_str().unwrap().to_owned();
    assert_plain(&message);
    assert!(
        message.starts_with("Your passkey's answer was refused (origin mismatch"),
        "{message}"
    );
    assert!(message.contains("http://evil.localhost:8080"), "{message}");
    let done = h
        .post_json(
            "/demo/api/passkeys/signin/finish",
            &json!({
                "challenge_sid": challenge,
                "credential": authenticator.get(&started["options"], 3, &user_handle, BASE),
            }),
        )
        .await
        .assert_ok();
    assert_eq!(done["identity"], USER);

    // List, delete, list.
    let list = h
        .get(&format!("/demo/api/users/{USER}/factors"))
        .await
        .assert_ok();
    let factors = list["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0]["sid"], factor.as_str());
    assert_eq!(factors[0]["factor_type"], "passkeys");
    let deleted = h
        .request(
            Method::DELETE,
            &format!("/demo/api/users/{USER}/factors/{factor}"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let list = h
        .get(&format!("/demo/api/users/{USER}/factors"))
        .await
        .assert_ok();
    assert_eq!(list["factors"], json!([]));
}

#[tokio::test]
async fn totp_enroll_verify_and_sign_in() {
    let h = Harness::new().await;
    let enrolled = h
        .post_json("/demo/api/totp/enroll", &json!({ "identity": USER }))
        .await
        .assert_ok();
    let secret = enrolled["secret"].as_str().unwrap().to_owned();
    let uri = enrolled["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let factor = enrolled["factor_sid"].as_str().unwrap().to_owned();

    // A wrong first code is refused.
    let wrong = if code(&secret, h.now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let message = h
        .post_json(
            "/demo/api/totp/verify",
            &json!({ "identity": USER, "factor_sid": factor, "code": wrong }),
        )
        .await
        .assert_error(403, 60311);
    assert_eq!(message, "That code did not match; 4 attempts left.");
    let verified = h
        .post_json(
            "/demo/api/totp/verify",
            &json!({ "identity": USER, "factor_sid": factor, "code": code(&secret, h.now()) }),
        )
        .await
        .assert_ok();
    assert_eq!(verified["factor"]["status"], "verified");

    // Codes are single-use: sign in with the next step's code; a wrong code is an
    // error the page shows.
    h.advance(30);
    let message = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": wrong }),
        )
        .await
        .assert_error(403, 60324);
    assert_eq!(message, "That code did not match; 4 attempts left.");
    let signin_code = code(&secret, h.now());
    let done = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": signin_code }),
        )
        .await
        .assert_ok();
    assert_eq!(done["identity"], USER);
    assert_eq!(done["challenge"]["status"], "approved");

    // The same code again is refused as already used, not as a wrong code; it is
    // the first failed attempt on a new pending challenge.
    let message = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": signin_code }),
        )
        .await
        .assert_error(409, 60340);
    assert_eq!(
        message,
        "That code was already used: each code works once, so wait for the next one \
         (4 attempts left)."
    );

    // Guesses answer the same pending challenge: the fifth failed attempt denies it
    // (60308), then a new challenge starts.
    h.advance(30);
    for left in ["3 attempts", "2 attempts", "1 attempt"] {
        let message = h
            .post_json(
                "/demo/api/totp/signin",
                &json!({ "identity": USER, "code": wrong }),
            )
            .await
            .assert_error(403, 60324);
        assert_eq!(message, format!("That code did not match; {left} left."));
    }
    let message = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": wrong }),
        )
        .await
        .assert_error(429, 60308);
    assert_plain(&message);
    assert!(message.starts_with("Too many wrong codes"), "{message}");
    let message = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": wrong }),
        )
        .await
        .assert_error(403, 60324);
    assert_eq!(message, "That code did not match; 4 attempts left.");
}

/// Being signed in is the page's state alone: no demo answer sets a cookie, so the
/// page's "Sign out" has nothing to clear on the server. Signing in again after it
/// needs a new answer (here a new code), as the first time.
#[tokio::test]
async fn sign_in_keeps_no_session_on_the_server() {
    let h = Harness::new().await;
    let enrolled = h
        .post_json("/demo/api/totp/enroll", &json!({ "identity": USER }))
        .await;
    let secret = enrolled.assert_ok()["secret"].as_str().unwrap().to_owned();
    let factor = enrolled.json()["factor_sid"].as_str().unwrap().to_owned();
    let verified = h
        .post_json(
            "/demo/api/totp/verify",
            &json!({ "identity": USER, "factor_sid": factor, "code": code(&secret, h.now()) }),
        )
        .await;
    h.advance(30);
    let signed_in = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": code(&secret, h.now()) }),
        )
        .await;
    assert_eq!(signed_in.assert_ok()["challenge"]["status"], "approved");
    let config = h.get("/demo/api/config").await;
    for reply in [&enrolled, &verified, &signed_in, &config] {
        assert!(
            reply.headers.get("set-cookie").is_none(),
            "{:?}",
            reply.headers
        );
        assert_eq!(reply.header("cache-control"), "no-store");
    }
    // Nothing to present but a new answer: the same code again is refused.
    let again = h
        .post_json(
            "/demo/api/totp/signin",
            &json!({ "identity": USER, "code": code(&secret, h.now()) }),
        )
        .await
        .assert_error(409, 60340);
    assert_plain(&again);
}

fn jws(key: &p256::ecdsa::SigningKey, payload: &str) -> String {
    jws_with(key, r#"{"typ":"JWT","alg":"ES256"}"#, payload)
}

fn jws_with(key: &p256::ecdsa::SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[tokio::test]
async fn push_token_challenge_and_status() {
    let h = Harness::new().await;
    let service = h.service();
    let token = h
        .post_json("/demo/api/push/token", &json!({ "identity": USER }))
        .await
        .assert_ok();
    assert_eq!(token["service_sid"], service.as_str());
    let credential = token["token"].as_str().unwrap();

    // The device enrolls with the token as the SDKs do.
    let key = p256::ecdsa::SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(5));
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let factors = format!("/v2/Services/{service}/Entities/{USER}/Factors");
    let created = h
        .post_form(
            &factors,
            &basic("token", credential),
            &[
                ("FactorType", "push"),
                ("FriendlyName", "Demo browser device"),
                ("Binding.PublicKey", &public_key),
                ("Binding.Alg", "ES256"),
                ("Config.AppId", "com.example.verify-web-demo"),
                ("Config.NotificationPlatform", "none"),
            ],
        )
        .await
        .assert_ok();
    let factor = created["sid"].as_str().unwrap().to_owned();
    // Later device calls carry a request JWT signed by the device key (docs/push-protocol.md, section 4).
    let now = h.now().as_secs();
    let device_jwt = jws_with(
        &key,
        &json!({
            "cty": "twilio-pba;v=1",
            "kid": created["config"]["credential_sid"],
            "typ": "JWT",
            "alg": "ES256",
        })
        .to_string(),
        &json!({ "sub": created["account_sid"], "exp": now + 600, "nbf": now }).to_string(),
    );
    let device = basic("token", &device_jwt);
    let sig: p256::ecdsa::DerSignature = key.sign(factor.as_bytes());
    let verified = h
        .post_form(
            &format!("{factors}/{factor}"),
            &device,
            &[("AuthPayload", &STANDARD.encode(sig.as_bytes()))],
        )
        .await
        .assert_ok();
    assert_eq!(verified["status"], "verified");

    // The relying party sends a challenge; the device approves it.
    let sent = h
        .post_json("/demo/api/push/challenge", &json!({ "identity": USER }))
        .await
        .assert_ok();
    let challenge = sent["challenge"]["sid"].as_str().unwrap().to_owned();
    assert_eq!(sent["challenge"]["status"], "pending");
    assert_eq!(sent["challenge"]["factor_sid"], factor.as_str());
    assert_eq!(
        sent["challenge"]["details"]["message"],
        "Sign in to the verify web demo?"
    );
    // The page reads the sid from the JSON (its developer panel shows it); no message
    // names it.
    assert!(sent.get("message").is_none(), "{sent}");
    let status_url = format!("/demo/api/users/{USER}/challenges/{challenge}");
    assert_eq!(
        h.get(&status_url).await.assert_ok()["challenge"]["status"],
        "pending"
    );
    let served = h
        .request(
            Method::GET,
            &format!("/v2/Services/{service}/Entities/{USER}/Challenges/{challenge}"),
            &[("authorization", &device)],
            Vec::new(),
        )
        .await;
    let fields = served.header("twilio-verify-signature-fields").to_owned();
    let served = served.assert_ok();
    let mut payload = Map::new();
    for field in fields.split(',') {
        payload.insert(field.to_owned(), served[field].clone());
    }
    payload.insert("status".to_owned(), json!("approved"));
    h.post_form(
        &format!("/v2/Services/{service}/Entities/{USER}/Challenges/{challenge}"),
        &device,
        &[(
            "AuthPayload",
            &jws(&key, &Value::Object(payload).to_string()),
        )],
    )
    .await
    .assert_ok();
    assert_eq!(
        h.get(&status_url).await.assert_ok()["challenge"]["status"],
        "approved"
    );
}

#[tokio::test]
async fn setup_finds_the_demo_service_again_and_follows_the_base_url() {
    let store = MemoryStore::new();
    let (first, _) = state_over(store.clone(), BASE);
    let demo = Demo::setup(&first).await.unwrap();
    let again = Demo::setup(&first).await.unwrap();
    assert_eq!(demo, again);

    // The same store under another base URL: the same service, its relying party
    // moved to the new host.
    let (moved, _) = state_over(store, "https://verify.example.com");
    let moved_demo = Demo::setup(&moved).await.unwrap();
    assert_eq!(moved_demo.service_sid(), demo.service_sid());
    assert_eq!(moved_demo.rp_id(), "verify.example.com");
    assert_eq!(moved_demo.origin(), "https://verify.example.com");
    let h = Harness {
        app: router_with_demo(moved, moved_demo),
        clock: Arc::new(verify_engine::ManualClock::default()),
        demo: None,
    };
    let config = h.get("/demo/api/config").await.assert_ok();
    assert_eq!(config["rp_id"], "verify.example.com");
    let services = h
        .request(
            Method::GET,
            "/v2/Services",
            &[("authorization", &basic("key", "secret"))],
            Vec::new(),
        )
        .await
        .assert_ok();
    assert_eq!(services["services"].as_array().unwrap().len(), 1);
    assert_eq!(
        services["services"][0]["passkeys"]["relying_party"]["id"], "verify.example.com",
        "{services}"
    );
}

#[tokio::test]
async fn base_url_with_an_ip_host_is_refused() {
    let (state, _) = crate::support::state("http://[::1]:8080");
    assert!(Demo::setup(&state).await.is_err());
}
