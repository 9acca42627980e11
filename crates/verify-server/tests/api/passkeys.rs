//! The four passkeys endpoints with a software authenticator (P-256, `none`
//! attestation), JSON bodies.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::Harness;

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";

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
        let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
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

    fn create(&self, options: &Value, origin: &str) -> Value {
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
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data("webauthn.create", challenge, origin)),
                "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    fn get(&self, options: &Value, count: u32, user_handle: &[u8]) -> Value {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.get", challenge, ORIGIN);
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
                "userHandle": URL_SAFE_NO_PAD.encode(user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}

fn with(mut credential: Value, extra: &[(&str, &str)]) -> Value {
    for (key, value) in extra {
        credential[*key] = Value::String((*value).to_owned());
    }
    credential
}

async fn passkeys_service(h: &Harness) -> String {
    let reply = h
        .post(
            "/v2/Services",
            &[
                ("FriendlyName", "Owl Bank"),
                ("Passkeys.RelyingParty.Id", RP_ID),
                ("Passkeys.RelyingParty.Name", "Example"),
                ("Passkeys.RelyingParty.Origins", ORIGIN),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.str("sid")
}

#[tokio::test]
async fn register_then_sign_in_by_identity_and_usernameless() {
    let h = Harness::new();
    let sid = passkeys_service(&h).await;
    let base = format!("/v2/Services/{sid}/Passkeys");
    let created = h
        .post_json(
            &format!("{base}/Factors"),
            &json!({"friendly_name": "laptop", "identity": "user-0001"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["factor_type"], "passkeys");
    assert_eq!(created.json["status"], "unverified");
    let options = created.json["options"].clone();
    assert_eq!(options["publicKey"]["rp"]["id"], RP_ID, "{options}");
    assert!(options["publicKey"]["pubKeyCredParams"].is_array());
    // As the service's documents show: the friendly name as both names.
    assert_eq!(options["publicKey"]["user"]["name"], "laptop");
    assert_eq!(options["publicKey"]["user"]["displayName"], "laptop");
    let factor = created.str("sid");
    let entity = created.str("entity_sid");
    assert_eq!(
        options["publicKey"]["user"]["id"],
        URL_SAFE_NO_PAD.encode(entity.as_bytes()),
        "user.id is the base64url of the entity sid"
    );

    let authenticator = Authenticator::new(5);
    // Wrong origin: refused, the factor stays unverified.
    let wrong = with(
        authenticator.create(&options, "https://evil.example"),
        &[("identity", "user-0001"), ("factor_sid", &factor)],
    );
    let refused = h.post_json(&format!("{base}/VerifyFactor"), &wrong).await;
    assert!(refused.status.is_client_error(), "{}", refused.json);
    // Naming the factor half-way.
    h.post_json(
        &format!("{base}/VerifyFactor"),
        &with(
            authenticator.create(&options, ORIGIN),
            &[("identity", "user-0001")],
        ),
    )
    .await
    .assert_error(400, 60200);

    // The documents' body: the bare credential, routed by its challenge.
    let good = authenticator.create(&options, ORIGIN);
    let verified = h.post_json(&format!("{base}/VerifyFactor"), &good).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(verified.json["status"], "verified");

    // Sign in by identity.
    let challenge = h
        .post_json(
            &format!("{base}/Challenges"),
            &json!({"identity": "user-0001"}),
        )
        .await;
    assert_eq!(challenge.status, StatusCode::CREATED, "{}", challenge.json);
    assert_eq!(challenge.json["status"], "pending");
    let request_options = challenge.json["options"].clone();
    assert!(
        request_options["publicKey"]["challenge"].is_string(),
        "{request_options}"
    );
    let challenge_sid = challenge.str("sid");
    let assertion = authenticator.get(&request_options, 1, entity.as_bytes());
    let approved = h
        .post_json(&format!("{base}/ApproveChallenge"), &assertion)
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.json);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(approved.json["sid"], challenge_sid.as_str());
    assert_eq!(approved.json["factor_sid"], factor.as_str());
    // Replayed, bare or naming the challenge: it is no longer pending.
    for replayed in [
        assertion.clone(),
        with(assertion, &[("challenge_sid", &challenge_sid)]),
    ] {
        let replay = h
            .post_json(&format!("{base}/ApproveChallenge"), &replayed)
            .await;
        assert!(replay.status.is_client_error(), "{}", replay.json);
    }

    // Usernameless: no identity; the userHandle names the entity.
    let open = h.post_json(&format!("{base}/Challenges"), &json!({})).await;
    assert_eq!(open.status, StatusCode::CREATED, "{}", open.json);
    let open_sid = open.str("sid");
    let assertion = authenticator.get(&open.json["options"], 2, entity.as_bytes());
    let approved = h
        .post_json(
            &format!("{base}/ApproveChallenge"),
            &with(assertion, &[("challenge_sid", &open_sid)]),
        )
        .await;
    assert_eq!(approved.json["status"], "approved", "{}", approved.json);
}

#[tokio::test]
async fn passkeys_validation_errors() {
    let h = Harness::new();
    let plain = h.service("No passkeys").await;
    h.post_json(
        &format!("/v2/Services/{plain}/Passkeys/Factors"),
        &json!({"friendly_name": "x", "identity": "user-0001"}),
    )
    .await
    .assert_error(400, 60200);
    let sid = passkeys_service(&h).await;
    let base = format!("/v2/Services/{sid}/Passkeys");
    h.post_json(
        &format!("{base}/Factors"),
        &json!({"identity": "user-0001"}),
    )
    .await
    .assert_error(400, 60200);
    h.post_json(
        &format!("{base}/Factors"),
        &json!({"friendly_name": 5, "identity": "user-0001"}),
    )
    .await
    .assert_error(400, 60200);
    h.post_json(&format!("{base}/Factors"), &json!([1]))
        .await
        .assert_error(400, 60200);
    h.post_json(&format!("{base}/VerifyFactor"), &json!({"identity": "user-0001", "factor_sid": "YF00000000000000000000000000000000", "id": "x"}))
        .await
        .assert_error(404, 20404);
    h.post_json(
        &format!("{base}/Challenges"),
        &json!({"identity": "user-0009"}),
    )
    .await
    .assert_error(404, 20404);
    h.post_json(
        &format!("{base}/ApproveChallenge"),
        &json!({"challenge_sid": "YC00000000000000000000000000000000"}),
    )
    .await
    .assert_error(404, 60391);
    // A bare credential whose challenge names no challenge of this service.
    let stranger = Authenticator::new(9).get(
        &json!({"publicKey": {"challenge": URL_SAFE_NO_PAD.encode([7_u8; 48])}}),
        1,
        b"YE00000000000000000000000000000000",
    );
    h.post_json(&format!("{base}/ApproveChallenge"), &stranger)
        .await
        .assert_error(404, 60391);
    let registration = Authenticator::new(9).create(
        &json!({"publicKey": {"challenge": URL_SAFE_NO_PAD.encode([7_u8; 48])}}),
        ORIGIN,
    );
    h.post_json(&format!("{base}/VerifyFactor"), &registration)
        .await
        .assert_error(404, 20404);
}

/// The identities of a service's entities, in creation order.
async fn entity_identities(h: &Harness, service: &str) -> Vec<String> {
    let listed = h.get(&format!("/v2/Services/{service}/Entities")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    listed.json["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["identity"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn passkey_factor_without_identity_gets_a_fresh_one() {
    let h = Harness::new();
    let sid = passkeys_service(&h).await;
    let base = format!("/v2/Services/{sid}/Passkeys");
    let created = h
        .post_json(
            &format!("{base}/Factors"),
            &json!({"friendly_name": "laptop"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let identity = created.str("identity");
    assert_eq!(identity.len(), 32, "{identity}");
    assert!(
        identity
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{identity}"
    );
    let factor = created.str("sid");
    assert_eq!(
        created.json["url"],
        format!("http://verify.test/v2/Services/{sid}/Entities/{identity}/Factors/{factor}")
    );
    // The entity exists under that identity, and it is the factor's.
    let entity = h
        .get(&format!("/v2/Services/{sid}/Entities/{identity}"))
        .await;
    assert_eq!(entity.status, StatusCode::OK, "{}", entity.json);
    assert_eq!(entity.json["sid"], created.json["entity_sid"]);
    assert_eq!(
        created.json["options"]["publicKey"]["user"]["id"],
        URL_SAFE_NO_PAD.encode(entity.str("sid").as_bytes())
    );
    // `null` and `""` are absent too; every creation gets its own identity.
    let mut seen = vec![identity.clone()];
    for absent in [Value::Null, json!("")] {
        let again = h
            .post_json(
                &format!("{base}/Factors"),
                &json!({"friendly_name": "phone", "identity": absent}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
        assert!(!seen.contains(&again.str("identity")), "{}", again.json);
        assert_ne!(again.json["entity_sid"], created.json["entity_sid"]);
        seen.push(again.str("identity"));
    }
    assert_eq!(entity_identities(&h, &sid).await, seen);

    // The factor verifies like any other, found from the bare credential.
    let authenticator = Authenticator::new(21);
    let registration = authenticator.create(&created.json["options"], ORIGIN);
    let verified = h
        .post_json(&format!("{base}/VerifyFactor"), &registration)
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
    assert_eq!(verified.json["status"], "verified");
    assert_eq!(verified.json["identity"], identity.as_str());
    // And a sign-in by that identity offers it.
    let challenge = h
        .post_json(
            &format!("{base}/Challenges"),
            &json!({"identity": identity}),
        )
        .await;
    assert_eq!(challenge.status, StatusCode::CREATED, "{}", challenge.json);
    assert_eq!(
        challenge.json["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn passkey_factor_refusals_without_identity_create_no_entity() {
    let h = Harness::new();
    let sid = passkeys_service(&h).await;
    let url = format!("/v2/Services/{sid}/Passkeys/Factors");
    h.post_json(&url, &json!({"friendly_name": "x".repeat(256)}))
        .await
        .assert_error(400, 60200);
    h.post_json(&url, &json!({"friendly_name": ""}))
        .await
        .assert_error(400, 60200);
    h.post_json(&url, &json!({})).await.assert_error(400, 60200);
    h.post_json(&url, &json!({"friendly_name": "x", "identity": 7}))
        .await
        .assert_error(400, 60200);
    h.post_json(
        &url,
        &json!({"friendly_name": "x", "config": {"user_verification": "required"}}),
    )
    .await
    .assert_error(400, 60200);
    assert!(entity_identities(&h, &sid).await.is_empty());
    // A service without passkeys: refused before an identity is made.
    let plain = h.service("No passkeys").await;
    h.post_json(
        &format!("/v2/Services/{plain}/Passkeys/Factors"),
        &json!({"friendly_name": "x"}),
    )
    .await
    .assert_error(400, 60200);
    assert!(entity_identities(&h, &plain).await.is_empty());
    h.post_json(
        "/v2/Services/VA00000000000000000000000000000000/Passkeys/Factors",
        &json!({"friendly_name": "x"}),
    )
    .await
    .assert_error(404, 20404);
}

/// The service's configuration as `passkeys_service` set it, in the documents'
/// `config` shape.
fn service_config() -> Value {
    json!({
        "relying_party": {"id": RP_ID, "name": "Example", "origins": [ORIGIN]},
        "authenticator_attachment": "any",
        "discoverable_credentials": "preferred",
        "user_verification": "preferred",
    })
}

#[tokio::test]
async fn passkey_factor_config_must_repeat_the_services() {
    let h = Harness::new();
    let sid = passkeys_service(&h).await;
    let url = format!("/v2/Services/{sid}/Passkeys/Factors");
    // The whole configuration, repeated: taken.
    let full = h
        .post_json(
            &url,
            &json!({"friendly_name": "laptop", "identity": "user-0001", "config": service_config()}),
        )
        .await;
    assert_eq!(full.status, StatusCode::CREATED, "{}", full.json);
    assert_eq!(full.json["config"], service_config());
    // Some of it, or an empty object: taken.
    for partial in [
        json!({"user_verification": "preferred"}),
        json!({"relying_party": {"id": RP_ID}}),
        json!({"relying_party": {"origins": [ORIGIN, ORIGIN]}}),
        json!({}),
        Value::Null,
    ] {
        let reply = h
            .post_json(
                &url,
                &json!({"friendly_name": "k", "identity": "user-0001", "config": partial}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{partial}: {}",
            reply.json
        );
        assert_eq!(reply.json["config"], service_config());
    }
    let before = h
        .get(&format!("/v2/Services/{sid}/Entities/user-0001/Factors"))
        .await
        .json["factors"]
        .as_array()
        .unwrap()
        .len();
    // Anything that differs, stricter or looser: refused, naming the field.
    let differing = [
        (
            "relying_party.id",
            json!({"relying_party": {"id": "evil.example"}}),
        ),
        (
            "relying_party.name",
            json!({"relying_party": {"name": "Other"}}),
        ),
        (
            "relying_party.origins",
            json!({"relying_party": {"origins": [ORIGIN, "https://login.example.org"]}}),
        ),
        (
            "authenticator_attachment",
            json!({"authenticator_attachment": "platform"}),
        ),
        (
            "discoverable_credentials",
            json!({"discoverable_credentials": "required"}),
        ),
        (
            "user_verification",
            json!({"user_verification": "required"}),
        ),
        (
            "user_verification",
            json!({"user_verification": "discouraged"}),
        ),
    ];
    for (field, config) in differing {
        let reply = h
            .post_json(
                &url,
                &json!({"friendly_name": "k", "identity": "user-0001", "config": config}),
            )
            .await;
        reply.assert_error(400, 60200);
        assert!(reply.str("message").contains(field), "{}", reply.json);
    }
    // Not the documents' shape: refused.
    for config in [
        json!("platform"),
        json!([1]),
        json!({"relying_party": "example.org"}),
        json!({"relying_party": {"origins": ORIGIN}}),
        json!({"relying_party": {"origins": [1]}}),
        json!({"relying_party": {"id": RP_ID, "icon": "x"}}),
        json!({"user_verification": "always"}),
        json!({"user_verification": true}),
        json!({"attestation": "direct"}),
    ] {
        h.post_json(
            &url,
            &json!({"friendly_name": "k", "identity": "user-0001", "config": config}),
        )
        .await
        .assert_error(400, 60200);
    }
    let after = h
        .get(&format!("/v2/Services/{sid}/Entities/user-0001/Factors"))
        .await
        .json["factors"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a refused config created a factor");
}
