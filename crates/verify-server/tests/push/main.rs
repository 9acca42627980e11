//! Push notifications end to end: the server binary with `--push-credentials`
//! pointed at local APNs and FCM fakes (docs/push.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs, unreachable_pub)]

mod fakes;
mod support;

use std::time::Duration;

use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use serde_json::json;

use fakes::{Answer, ApnsAuth, Fake};
use support::{Device, Scratch, Server, eventually};

const APN_SID: &str = "CR0000000000000000000000000000a001";
const APN_CERT_SID: &str = "CR0000000000000000000000000000a002";
const FCM_SID: &str = "CR0000000000000000000000000000f001";
const TOPIC: &str = "com.example.owl";
const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";
const PROJECT: &str = "owl-bank";
const CLIENT_EMAIL: &str = "verify@owl-bank.iam.gserviceaccount.com";

struct Setup {
    scratch: Scratch,
    apns: Fake,
    apns_cert: Fake,
    fcm: Fake,
    credentials: std::path::PathBuf,
}

/// The fakes, the keys the credentials file names, and the file.
async fn setup(name: &str) -> Setup {
    let scratch = Scratch::new(name);
    // APNs token auth: a .p8 key.
    let p8 = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let p8_pem = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&p8, LineEnding::LF).unwrap();
    let apns = fakes::apns(
        TOPIC,
        ApnsAuth::Token {
            key: *p8.verifying_key(),
            key_id: KEY_ID.into(),
            team_id: TEAM_ID.into(),
        },
    )
    .await;
    // APNs certificate auth: a CA and the app's push certificate it issued.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client = rcgen::CertificateParams::new(vec!["Apple Push Services: com.example.owl".into()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let apns_cert = fakes::apns(TOPIC, ApnsAuth::ClientCertificate { ca_pem: ca.pem() }).await;
    // FCM: a service account with an RSA key.
    let rsa_key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let fcm = fakes::fcm(PROJECT, CLIENT_EMAIL, rsa_key.to_public_key()).await;
    let service_account = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": rsa_key.to_pkcs8_pem(LineEnding::LF).unwrap().as_str(),
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    scratch.write("AuthKey.p8", p8_pem.as_bytes());
    scratch.write("apns-cert.pem", client.pem().as_bytes());
    scratch.write("apns-key.pem", client_key.serialize_pem().as_bytes());
    scratch.write(
        "service-account.json",
        service_account.to_string().as_bytes(),
    );
    scratch.write("apns-ca.pem", apns.ca_pem.as_bytes());
    scratch.write("apns-cert-ca.pem", apns_cert.ca_pem.as_bytes());
    scratch.write("fcm-ca.pem", fcm.ca_pem.as_bytes());
    let file = json!({"credentials": [
        {"sid": APN_SID, "type": "apn", "environment": "sandbox", "topic": TOPIC,
         "token_key_file": "AuthKey.p8", "key_id": KEY_ID, "team_id": TEAM_ID,
         "base_url": apns.base_url(), "ca_file": "apns-ca.pem"},
        {"sid": APN_CERT_SID, "type": "apn", "environment": "production", "topic": TOPIC,
         "certificate_file": "apns-cert.pem", "private_key_file": "apns-key.pem",
         "base_url": apns_cert.base_url(), "ca_file": "apns-cert-ca.pem"},
        {"sid": FCM_SID, "type": "fcm", "service_account_file": "service-account.json",
         "base_url": fcm.base_url(), "token_url": format!("{}/token", fcm.base_url()),
         "ca_file": "fcm-ca.pem"},
    ]});
    let credentials = scratch.write("push.json", file.to_string().as_bytes());
    Setup {
        scratch,
        apns,
        apns_cert,
        fcm,
        credentials,
    }
}

impl Setup {
    async fn server(&self, extra: &[&str]) -> Server {
        let mut args = vec!["--push-credentials", self.credentials.to_str().unwrap()];
        args.extend_from_slice(extra);
        Server::start(&self.scratch.0.join("verify.db"), &args).await
    }
}

async fn service(server: &Server, apn: &str) -> String {
    let created = server
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Push.ApnCredentialSid", apn),
                ("Push.FcmCredentialSid", FCM_SID),
            ],
        )
        .await;
    created["sid"].as_str().unwrap().to_owned()
}

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn each_factor_with_a_token_gets_exactly_one_authenticated_notification() {
    let setup = setup("push-once").await;
    let server = setup.server(&[]).await;
    let service_sid = service(&server, APN_SID).await;
    let apn_token = "ab".repeat(32);
    let iphone = Device::enroll(&server, &service_sid, "user-0001", "apn", &apn_token).await;
    let pixel = Device::enroll(
        &server,
        &service_sid,
        "user-0002",
        "fcm",
        &"fcm-token:".repeat(8),
    )
    .await;
    let quiet = Device::enroll(&server, &service_sid, "user-0003", "none", "").await;
    let apn_challenge = iphone.challenge(&server).await;
    let fcm_challenge = pixel.challenge(&server).await;
    let _ = quiet.challenge(&server).await;

    assert!(
        eventually(WAIT, || setup.apns.received().len() == 1
            && setup.fcm.received().len() == 1)
        .await
    );
    // Later drains send nothing more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let apns = setup.apns.received();
    assert_eq!(apns.len(), 1, "{apns:?}");
    assert!(
        setup.apns.rejected().is_empty(),
        "{:?}",
        setup.apns.rejected()
    );
    let sent = &apns[0];
    assert_eq!(sent.path, format!("/3/device/{apn_token}"));
    assert_eq!(sent.headers["apns-topic"], TOPIC);
    assert_eq!(sent.headers["apns-push-type"], "alert");
    assert_eq!(sent.headers["apns-priority"], "10");
    let expiration: u64 = sent.headers["apns-expiration"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        expiration > now && expiration <= now + 300,
        "{expiration} vs {now}"
    );
    assert_eq!(sent.body["aps"]["alert"], "Approve login to Owl Bank?");
    assert_eq!(sent.body["aps"]["category"], "verify_push_challenge");
    assert_eq!(sent.body["type"], "verify_push_challenge");
    assert_eq!(sent.body["challenge_sid"], apn_challenge.as_str());
    assert_eq!(sent.body["factor_sid"], iphone.factor.as_str());
    assert_eq!(sent.body["message"], "Approve login to Owl Bank?");

    let fcm = setup.fcm.received();
    assert_eq!(fcm.len(), 1, "{fcm:?}");
    assert!(
        setup.fcm.rejected().is_empty(),
        "{:?}",
        setup.fcm.rejected()
    );
    let message = &fcm[0].body["message"];
    assert_eq!(message["token"], "fcm-token:".repeat(8));
    assert_eq!(message["data"]["type"], "verify_push_challenge");
    assert_eq!(message["data"]["challenge_sid"], fcm_challenge.as_str());
    assert_eq!(message["data"]["factor_sid"], pixel.factor.as_str());
    assert_eq!(message["data"]["message"], "Approve login to Owl Bank?");
    assert_eq!(message["android"]["priority"], "HIGH");

    // A second FCM notification reuses the cached access token.
    let _ = pixel.challenge(&server).await;
    assert!(eventually(WAIT, || setup.fcm.received().len() == 2).await);
    assert_eq!(setup.fcm.token_requests(), 1);

    // The counters.
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", server.base))
        .basic_auth(support::KEY, Some(support::SECRET))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "verify_push_notifications_total{platform=\"apn\",outcome=\"delivered\"} 1\n"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "verify_push_notifications_total{platform=\"fcm\",outcome=\"delivered\"} 2\n"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_auth_presents_the_client_certificate() {
    let setup = setup("push-cert").await;
    let server = setup.server(&[]).await;
    let service_sid = service(&server, APN_CERT_SID).await;
    let iphone = Device::enroll(&server, &service_sid, "user-0001", "apn", &"cd".repeat(32)).await;
    let challenge = iphone.challenge(&server).await;
    assert!(eventually(WAIT, || setup.apns_cert.received().len() == 1).await);
    assert_eq!(
        setup.apns_cert.received()[0].body["challenge_sid"],
        challenge.as_str()
    );
    assert!(setup.apns_cert.rejected().is_empty());
    // The token-auth fake saw nothing.
    assert!(setup.apns.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_answers_are_retried_or_stop_sending() {
    let setup = setup("push-failures").await;
    let server = setup.server(&[]).await;
    let service_sid = service(&server, APN_SID).await;
    let iphone = Device::enroll(&server, &service_sid, "user-0001", "apn", &"ef".repeat(32)).await;
    let pixel = Device::enroll(
        &server,
        &service_sid,
        "user-0002",
        "fcm",
        &"fcm-token:".repeat(8),
    )
    .await;

    // 429 with Retry-After 1, then 500, then success: delivered on the third attempt.
    setup.apns.push_answers(&[
        Answer::TooManyRequests {
            retry_after_secs: 1,
        },
        Answer::ServerError,
    ]);
    setup.fcm.push_answers(&[
        Answer::TooManyRequests {
            retry_after_secs: 1,
        },
        Answer::ServerError,
    ]);
    let _ = iphone.challenge(&server).await;
    let _ = pixel.challenge(&server).await;
    assert!(
        eventually(WAIT, || {
            setup
                .apns
                .received()
                .iter()
                .any(|r| r.answer == Answer::Success)
                && setup
                    .fcm
                    .received()
                    .iter()
                    .any(|r| r.answer == Answer::Success)
        })
        .await
    );
    assert_eq!(setup.apns.received().len(), 3);
    assert_eq!(setup.fcm.received().len(), 3);

    // Unregistered: the token is marked, the next challenge sends nothing.
    setup.apns.push_answers(&[Answer::Unregistered]);
    setup.fcm.push_answers(&[Answer::Unregistered]);
    let _ = iphone.challenge(&server).await;
    let _ = pixel.challenge(&server).await;
    assert!(
        eventually(WAIT, || setup.apns.received().len() == 4
            && setup.fcm.received().len() == 4)
        .await
    );
    let _ = iphone.challenge(&server).await;
    let _ = pixel.challenge(&server).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        setup.apns.received().len(),
        4,
        "sent to an unregistered APNs token"
    );
    assert_eq!(
        setup.fcm.received().len(),
        4,
        "sent to an unregistered FCM token"
    );
    assert!(
        setup.apns.rejected().is_empty(),
        "{:?}",
        setup.apns.rejected()
    );
    assert!(
        setup.fcm.rejected().is_empty(),
        "{:?}",
        setup.fcm.rejected()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_between_commit_and_send_delivers_after_restart() {
    let setup = setup("push-restart").await;
    // Run 1: no outbox task (as if the process died right after the commit).
    let first = setup.server(&["--disable-webhook-delivery"]).await;
    let service_sid = service(&first, APN_SID).await;
    let iphone = Device::enroll(&first, &service_sid, "user-0001", "apn", &"01".repeat(32)).await;
    let stored = iphone.challenge(&first).await;
    // Run 1 continued: the push service fails, the process is killed mid-retry.
    first.kill();
    setup.apns.set_default(Answer::ServerError);
    let second = setup.server(&[]).await;
    let retried = iphone.challenge(&second).await;
    assert!(eventually(WAIT, || setup.apns.received().len() >= 2).await);
    second.kill();
    // Run 3: the push service is back; both challenges are delivered, each once.
    setup.apns.set_default(Answer::Success);
    let delivered_before = setup.apns.received().len();
    let third = setup.server(&[]).await;
    let delivered = |sid: &str| {
        setup
            .apns
            .received()
            .iter()
            .filter(|r| r.answer == Answer::Success && r.body["challenge_sid"] == sid)
            .count()
    };
    assert!(eventually(WAIT, || delivered(&stored) == 1 && delivered(&retried) == 1).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(delivered(&stored), 1);
    assert_eq!(delivered(&retried), 1);
    assert!(setup.apns.received().len() > delivered_before);
    drop(third);
}
