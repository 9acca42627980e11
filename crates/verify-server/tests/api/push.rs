use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::{Map, Value};

use crate::support::{Harness, basic};

fn device() -> SigningKey {
    SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(9))
}

fn jws(key: &SigningKey, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[tokio::test]
async fn push_enrollment_challenge_and_signed_approval() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;

    // The host mints an enrollment token.
    let token = h
        .post(
            &format!("/v2/Services/{sid}/AccessTokens"),
            &[
                ("Identity", "user-0001"),
                ("FactorType", "push"),
                ("Ttl", "120"),
            ],
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.json);
    assert!(token.str("sid").starts_with("YK"));
    let credential = token.str("token");
    assert!(!credential.is_empty());

    // The device creates its factor with the token.
    let key = device();
    let public_key = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
    let url = format!("/v2/Services/{sid}/Entities/user-0001/Factors");
    let form = [
        ("FactorType", "push"),
        ("FriendlyName", "Alice's phone"),
        ("Binding.PublicKey", public_key.as_str()),
        ("Binding.Alg", "ES256"),
        ("Config.AppId", "com.example.owl"),
        ("Config.NotificationPlatform", "none"),
        ("Config.SdkVersion", "2.0.0"),
    ];
    let bad = h
        .send(
            Method::POST,
            &url,
            Some(&basic("token", "YK00000000000000000000000000000000.nope")),
            &form,
        )
        .await;
    assert_eq!(bad.status.as_u16(), 401, "{}", bad.json);
    let created = h
        .send(
            Method::POST,
            &url,
            Some(&basic("token", &credential)),
            &form,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["factor_type"], "push");
    assert_eq!(created.json["binding"]["alg"], "ES256");
    assert!(
        created.json["config"]["credential_sid"].is_string(),
        "{}",
        created.json
    );
    let factor = created.str("sid");
    // The token is single-use.
    let again = h
        .send(
            Method::POST,
            &url,
            Some(&basic("token", &credential)),
            &form,
        )
        .await;
    assert_eq!(again.status.as_u16(), 401, "{}", again.json);

    // The device verifies the factor by signing its sid (DER, standard base64).
    let bad_sig: DerSignature = key.sign(b"something else");
    h.post(
        &format!("{url}/{factor}"),
        &[("AuthPayload", &STANDARD.encode(bad_sig.as_bytes()))],
    )
    .await
    .assert_error(403, 60311);
    let sig: DerSignature = key.sign(factor.as_bytes());
    let verified = h
        .post(
            &format!("{url}/{factor}"),
            &[("AuthPayload", &STANDARD.encode(sig.as_bytes()))],
        )
        .await;
    assert_eq!(verified.json["status"], "verified", "{}", verified.json);

    // The host creates a challenge with details; the device fetches and signs it.
    let challenges = format!("/v2/Services/{sid}/Entities/user-0001/Challenges");
    h.post(&challenges, &[("FactorSid", &factor)])
        .await
        .assert_error(400, 60200);
    let pending = h
        .post(
            &challenges,
            &[
                ("FactorSid", &factor),
                ("Details.Message", "Approve login to Owl Bank?"),
                ("Details.Fields", r#"{"label":"IP","value":"192.0.2.1"}"#),
                ("HiddenDetails", r#"{"ip":"192.0.2.1"}"#),
            ],
        )
        .await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.json);
    assert_eq!(pending.json["details"]["fields"][0]["label"], "IP");
    assert_eq!(pending.json["hidden_details"]["ip"], "192.0.2.1");
    let challenge = pending.str("sid");
    let served = h.get(&format!("{challenges}/{challenge}")).await;
    let fields = served
        .headers
        .get("twilio-verify-signature-fields")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(fields.split(',').any(|f| f == "sid"));
    let mut payload = Map::new();
    for field in fields.split(',') {
        payload.insert(field.to_owned(), served.json[field].clone());
    }
    payload.insert("status".to_owned(), Value::String("approved".to_owned()));
    let payload = Value::Object(payload).to_string();

    // A tampered answer (signed over "denied", payload says "approved") is refused.
    let denied_jws = jws(&key, &payload.replace("\"approved\"", "\"denied\""));
    let mut parts: Vec<&str> = denied_jws.split('.').collect();
    let approved_b64 = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    parts[1] = &approved_b64;
    h.post(
        &format!("{challenges}/{challenge}"),
        &[("AuthPayload", &parts.join("."))],
    )
    .await
    .assert_error(403, 60324);
    assert_eq!(
        h.get(&format!("{challenges}/{challenge}")).await.json["status"],
        "pending"
    );

    let approved = h
        .post(
            &format!("{challenges}/{challenge}"),
            &[("AuthPayload", &jws(&key, &payload))],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(approved.json["status"], "approved");
}

#[tokio::test]
async fn access_token_validation_errors() {
    let h = Harness::new();
    let sid = h.service("Owl Bank").await;
    let url = format!("/v2/Services/{sid}/AccessTokens");
    h.post(&url, &[("FactorType", "push")])
        .await
        .assert_error(400, 60200);
    h.post(&url, &[("Identity", "user-0001")])
        .await
        .assert_error(400, 60200);
    h.post(&url, &[("Identity", "user-0001"), ("FactorType", "totp")])
        .await
        .assert_error(400, 60369);
    h.post(
        &url,
        &[
            ("Identity", "user-0001"),
            ("FactorType", "push"),
            ("Ttl", "5"),
        ],
    )
    .await
    .assert_error(400, 60200);
    h.post(&url, &[("Identity", "x"), ("FactorType", "push")])
        .await
        .assert_error(400, 60200);
    h.post(
        "/v2/Services/VA00000000000000000000000000000000/AccessTokens",
        &[("Identity", "user-0001"), ("FactorType", "push")],
    )
    .await
    .assert_error(404, 20404);
}
