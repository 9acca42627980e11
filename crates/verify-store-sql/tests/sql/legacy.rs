//! A database written by release 0.1.0 (`testdata/release-0.1.0.sqlite`, made by
//! that release's engine: see `testdata/README.md`) opened by today's store:
//! `migrate` applies schema 0002 and rewrites every factor and challenge row in
//! today's record shape (`record_format` 2), the records read back as release 0.1.0
//! wrote them, and every flow 0.1.0 left open continues through today's engine:
//! TOTP and push challenges are answered, unverified TOTP, push and passkey factors
//! are verified, and pending passkey challenges (by factor, by identity and
//! discoverable) are approved. The same upgrade is run on PostgreSQL by an
//! ignored test (run with `VERIFY_TEST_POSTGRES_URL` set and `--include-ignored`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use sqlx::Row as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use verify_engine::{EngineConfig, ManualClock, NewPushFactor, ServedChallenge, Verify};
use verify_model::{
    AccountSid, Challenge, ChallengeFilter, ChallengeOutcome, ChallengeSid, ChallengeStatus,
    ChallengeSubject, Entity, Event, EventType, Factor, FactorSid, FactorStatus, FactorType,
    Identity, Service, ServiceSid, UnixTime, Webhook,
};
use verify_store::{ListQuery, Store, StoreError};
use verify_store_sql::{PgStore, SCHEMA_VERSION, SecretSealer, SqlStoreError, SqliteStore};

use verify_store_sql::AesGcmSealer;

use crate::support::{pg_schema, pg_url, sqlite_path};

/// The fixture's directory.
fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/testdata")
}

/// What the generator recorded beside the database: keys, secrets, sids and the
/// records as release 0.1.0 returned them.
fn fixture() -> Value {
    let text = std::fs::read_to_string(testdata().join("release-0.1.0.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A copy of the fixture database (the committed file is never written).
fn copy_db(tag: &str) -> PathBuf {
    let path = sqlite_path(tag);
    std::fs::copy(testdata().join("release-0.1.0.sqlite"), &path).unwrap();
    path
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The sealer the fixture was written with (its key is in the JSON).
fn sealer(fx: &Value) -> Arc<dyn SecretSealer> {
    let key: [u8; 32] = unhex(fx["sealer"]["key_hex"].as_str().unwrap())
        .try_into()
        .unwrap();
    Arc::new(AesGcmSealer::new(&key).unwrap())
}

/// Opens (without migrating) a copy of the fixture with its sealer.
async fn open(path: &Path, fx: &Value) -> SqliteStore {
    SqliteStore::open(path)
        .await
        .unwrap()
        .with_sealer(sealer(fx))
}

fn time(fx: &Value, name: &str) -> UnixTime {
    UnixTime::from_secs(fx["times"][name].as_u64().unwrap())
}

/// Today's model reading a record as release 0.1.0 serialized it.
fn model<T: serde::de::DeserializeOwned>(record: &Value) -> T {
    serde_json::from_value(record.clone()).unwrap()
}

fn service_sid(fx: &Value) -> ServiceSid {
    model::<Service>(&fx["services"]["owl"]).sid()
}

fn identity(fx: &Value, name: &str) -> Identity {
    Identity::parse(fx["identities"][name].as_str().unwrap()).unwrap()
}

fn factor_sid(fx: &Value, name: &str) -> FactorSid {
    model::<Factor>(&fx["factors"][name]).sid()
}

fn challenge_sid(fx: &Value, name: &str) -> ChallengeSid {
    model::<Challenge>(&fx["challenges"][name]).sid()
}

/// `(sid, version, record_format)` of every row of `table`, in sid order.
async fn formats(pool: &sqlx::SqlitePool, table: &str) -> Vec<(Vec<u8>, i64, i64)> {
    sqlx::query(&format!(
        "SELECT sid, version, record_format FROM {table} ORDER BY sid"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1), row.get(2)))
    .collect()
}

async fn applied_version(pool: &sqlx::SqlitePool) -> i64 {
    sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0)
}

/// A TOTP code of `secret` (base32, SHA-1, 6 digits, 30 s) at `now`.
fn code_at(secret: &str, now: UnixTime) -> String {
    let uri = format!(
        "otpauth://totp/Owl%20Bank:x?secret={secret}&issuer=Owl%20Bank&algorithm=SHA1&digits=6&period=30"
    );
    let key = verify_totp::KeyUri::parse(&uri).unwrap();
    let config = key.config(verify_totp::Skew::new(1).unwrap());
    verify_totp::generate(key.secret(), &config, now)
        .unwrap()
        .to_string()
}

/// A push device holding the fixture's P-256 key, signing as the SDKs do.
struct Device {
    key: SigningKey,
}

impl Device {
    fn new(private_hex: &str) -> Self {
        Self {
            key: SigningKey::from_slice(&unhex(private_hex)).unwrap(),
        }
    }

    /// `Binding.PublicKey`: standard base64 of the SPKI DER.
    fn binding(&self) -> String {
        STANDARD.encode(
            self.key
                .verifying_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes(),
        )
    }

    /// The factor verification payload: a DER signature over the sid.
    fn sign_factor(&self, sid: FactorSid) -> String {
        let sig: DerSignature = self.key.sign(sid.to_string().as_bytes());
        STANDARD.encode(sig.as_bytes())
    }

    /// The signed answer (compact JWS) to a served challenge: its signature fields
    /// exactly as served, plus `status`.
    fn answer(&self, served: &ServedChallenge, status: &str) -> String {
        let mut signed = serde_json::Map::new();
        for field in served.signature_fields.split(',') {
            signed.insert(field.to_owned(), served.json[field].clone());
        }
        signed.insert("status".into(), Value::String(status.into()));
        let payload = serde_json::to_string(&Value::Object(signed)).unwrap();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(payload.as_bytes())
        );
        let sig: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// A software authenticator (P-256, `none` attestation) with the fixture's key.
struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    rp_id: String,
    origin: String,
}

impl Authenticator {
    fn new(fx: &Value, name: &str) -> Self {
        let keys = &fx["keys"][name];
        Self {
            key: SigningKey::from_slice(&unhex(keys["private_key"].as_str().unwrap())).unwrap(),
            credential_id: URL_SAFE_NO_PAD
                .decode(keys["credential_id"].as_str().unwrap())
                .unwrap(),
            rp_id: fx["rp_id"].as_str().unwrap().to_owned(),
            origin: fx["origin"].as_str().unwrap().to_owned(),
        }
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(point.x().unwrap());
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(point.y().unwrap());
        cose
    }

    /// Authenticator data: user present and verified, `count`, and when `attested`
    /// the credential (zero AAGUID).
    fn auth_data(&self, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(0x05 | if attested { 0x40 } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            let len = u16::try_from(self.credential_id.len()).unwrap();
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{}"}}"#,
            self.origin
        )
        .into_bytes()
    }

    /// `navigator.credentials.create()` for creation options `{"publicKey": ...}`.
    fn create(&self, options: &Value) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.create", challenge);
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
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get()` for request options `{"publicKey": ...}`.
    fn get(&self, options: &Value, count: u32, user_handle: &[u8]) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(count, false);
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&message);
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
        .to_string()
    }
}

/// Today's engine over `store`, with the fixture's account and a fixed clock.
fn engine<S: Store>(store: S, fx: &Value, clock: &ManualClock) -> Verify<S> {
    let account: AccountSid = serde_json::from_value(fx["account_sid"].clone()).unwrap();
    Verify::new(
        store,
        EngineConfig::new(account),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(7),
    )
}

/// The request options release 0.1.0 served for a passkey challenge (what the
/// browser holds when it answers after the upgrade).
fn served_options(fx: &Value, name: &str) -> Value {
    fx["challenges"][name]["passkey"]["options"].clone()
}

/// The user handle of the fixture's `alice` (her entity sid's text).
fn alice_handle(fx: &Value) -> Vec<u8> {
    fx["factors"]["passkey_a"]["entity_sid"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// Every factor and challenge row is at `record_format` 2 and holds today's shape.
async fn assert_all_upgraded(pool: &sqlx::SqlitePool) {
    for table in ["verify_factors", "verify_challenges"] {
        let rows = formats(pool, table).await;
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|(_, _, format)| *format == 2),
            "{table}: {rows:?}"
        );
    }
    let texts: Vec<String> = sqlx::query("SELECT record FROM verify_challenges")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for text in texts {
        let record: Value = serde_json::from_str(&text).unwrap();
        for legacy in [
            "factor_type",
            "entity_sid",
            "identity",
            "factor_sid",
            "passkey",
        ] {
            assert!(record.get(legacy).is_none(), "{legacy} in {text}");
        }
        assert!(record.get("subject").is_some() && record.get("kind").is_some());
    }
}

#[tokio::test]
async fn release_010_rows_upgrade_in_place_and_read_back_as_written() {
    let fx = fixture();
    let path = copy_db("legacy_read");
    let store = open(&path, &fx).await;
    assert_eq!(applied_version(store.pool()).await, 1);
    let versions_before: Vec<(Vec<u8>, i64)> =
        sqlx::query("SELECT sid, version FROM verify_challenges ORDER BY sid")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();

    store.migrate().await.unwrap();
    assert_eq!(applied_version(store.pool()).await, SCHEMA_VERSION);
    assert_all_upgraded(store.pool()).await;
    // The upgrade rewrites the encoding, not the resource: versions stay.
    let after: Vec<(Vec<u8>, i64)> = formats(store.pool(), "verify_challenges")
        .await
        .into_iter()
        .map(|(sid, version, _)| (sid, version))
        .collect();
    assert_eq!(after, versions_before);
    // A secret is still sealed after the rewrite.
    let secret = fx["keys"]["totp_a"].as_str().unwrap();
    let plain: i64 = sqlx::query("SELECT COUNT(*) FROM verify_factors WHERE record LIKE $1")
        .bind(format!("%{secret}%"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(plain, 0);

    // Every record reads back as release 0.1.0 returned it.
    let service = service_sid(&fx);
    for (name, record) in fx["factors"].as_object().unwrap() {
        let expected: Factor = model(record);
        let stored = store
            .get_factor(service, expected.sid())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, expected, "factor {name}");
        assert_eq!(
            stored.factor_type().as_str(),
            record["kind"]["factor_type"].as_str().unwrap()
        );
        assert_eq!(stored.status().as_str(), record["status"].as_str().unwrap());
        assert_eq!(
            stored.identity().as_str(),
            record["identity"].as_str().unwrap()
        );
        assert_eq!(
            stored.entity_sid().to_string(),
            record["entity_sid"].as_str().unwrap()
        );
        assert_eq!(stored.version(), record["version"].as_u64().unwrap());
    }
    let bob = store
        .get_factor(service, factor_sid(&fx, "passkey_bob"))
        .await
        .unwrap()
        .unwrap();
    let verify_model::FactorKind::Passkeys(passkey) = bob.kind() else {
        panic!("bob's factor is a passkey");
    };
    let registration = passkey.registration().unwrap();
    let legacy = &fx["factors"]["passkey_bob"]["kind"]["registration"];
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&registration.challenge),
        legacy["challenge"].as_str().unwrap()
    );
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&registration.user_id),
        legacy["user_id"].as_str().unwrap()
    );

    for (name, record) in fx["challenges"].as_object().unwrap() {
        let expected: Challenge = model(record);
        let stored = store
            .get_challenge(service, expected.sid())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, expected, "challenge {name}");
        let text = |key: &str| record[key].as_str().map(str::to_owned);
        assert_eq!(
            Some(stored.factor_type().as_str().to_owned()),
            text("factor_type")
        );
        assert_eq!(
            stored.state().status().as_str(),
            record["state"]["status"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            stored.entity_sid().map(|s| s.to_string()),
            text("entity_sid")
        );
        assert_eq!(
            stored.identity().map(|i| i.as_str().to_owned()),
            text("identity")
        );
        assert_eq!(
            stored.factor_sid().map(|s| s.to_string()),
            text("factor_sid")
        );
        assert_eq!(
            serde_json::to_value(stored.details()).unwrap(),
            record["details"]
        );
        assert_eq!(
            serde_json::to_value(stored.hidden_details()).unwrap(),
            record["hidden_details"]
        );
        assert_eq!(
            serde_json::to_value(stored.metadata()).unwrap(),
            record["metadata"]
        );
        assert_eq!(
            serde_json::to_value(stored.expires_at()).unwrap(),
            record["expiration_date"]
        );
        assert_eq!(
            serde_json::to_value(stored.date_created()).unwrap(),
            record["date_created"]
        );
        assert_eq!(
            u64::from(stored.failed_attempts()),
            record["failed_attempts"].as_u64().unwrap()
        );
        assert_eq!(stored.version(), record["version"].as_u64().unwrap());
        match (stored.passkey(), record["passkey"].as_object()) {
            (None, None) => {}
            (Some(ceremony), Some(legacy)) => {
                let served = serde_json::to_value(&ceremony.options).unwrap();
                let legacy_options = &legacy["options"]["publicKey"];
                for key in ["challenge", "rpId", "allowCredentials", "userVerification"] {
                    assert_eq!(served[key], legacy_options[key], "{name}: {key}");
                }
                assert_eq!(
                    ceremony
                        .user_handle
                        .as_deref()
                        .map(|h| URL_SAFE_NO_PAD.encode(h)),
                    legacy["state"]["user_handle"].as_str().map(str::to_owned)
                );
            }
            other => panic!("{name}: a ceremony on one side only: {other:?}"),
        }
    }
    assert_eq!(
        fx["challenges"]["push_pending_approve"]["hidden_details"]["session"],
        "s-1"
    );
    assert_eq!(
        fx["challenges"]["push_approved"]["metadata"]["os"],
        "Android"
    );

    let owl: Service = model(&fx["services"]["owl"]);
    assert_eq!(store.get_service(owl.sid()).await.unwrap(), Some(owl));
    let webhook: Webhook = model(&fx["webhook"]);
    assert_eq!(
        store
            .get_webhook(webhook.service_sid(), webhook.sid())
            .await
            .unwrap(),
        Some(webhook)
    );
    let alice = identity(&fx, "alice");
    let entity: Option<Entity> = store.get_entity_by_identity(service, &alice).await.unwrap();
    assert_eq!(
        entity.unwrap().sid().to_string(),
        fx["factors"]["totp_a"]["entity_sid"].as_str().unwrap()
    );
    let outbox = store.peek_events(None, 100).await.unwrap();
    let recorded = fx["outbox"].as_array().unwrap();
    assert_eq!(outbox.len(), recorded.len());
    for (event, expected) in outbox.iter().zip(recorded) {
        assert_eq!(event.sequence, expected["sequence"].as_u64().unwrap());
        assert_eq!(event.event, model::<Event>(&expected["event"]));
    }

    // Migrating again changes nothing.
    let texts = |pool: sqlx::SqlitePool| async move {
        sqlx::query(
            "SELECT record FROM verify_challenges UNION ALL SELECT record FROM verify_factors",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
    };
    let once = texts(store.pool().clone()).await;
    store.migrate().await.unwrap();
    assert_eq!(texts(store.pool().clone()).await, once);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_010_flows_continue_through_todays_engine() {
    let fx = fixture();
    let path = copy_db("legacy_flows");
    let store = open(&path, &fx).await;
    store.migrate().await.unwrap();
    // A minute after release 0.1.0 wrote its pending records: within every lifetime
    // (challenges 1 h, the passkey registration 10 min, the access token 5 min).
    let clock =
        ManualClock::new(time(&fx, "t0").saturating_add(std::time::Duration::from_secs(60)));
    let verify = engine(store.clone(), &fx, &clock);
    let service = service_sid(&fx);
    let alice = identity(&fx, "alice");

    // TOTP: the pending challenge (one wrong code recorded by 0.1.0) takes a
    // correct code; the unverified factor verifies with its secret's code.
    let totp = challenge_sid(&fx, "totp_pending");
    let code = code_at(fx["keys"]["totp_a"].as_str().unwrap(), clock.get());
    let approved = verify
        .update_challenge(service, &alice, totp, &code, None)
        .await
        .unwrap();
    assert!(approved.is_approved());
    assert_eq!(approved.challenge.failed_attempts(), 1);
    let code = code_at(fx["keys"]["totp_b"].as_str().unwrap(), clock.get());
    let totp_b = verify
        .verify_factor(service, &alice, factor_sid(&fx, "totp_b"), &code)
        .await
        .unwrap();
    assert_eq!(totp_b.status(), FactorStatus::Verified);

    // Push: the device approves one pending challenge and denies the other, each by
    // a signed answer over the challenge as today's engine serves it.
    let phone = Device::new(fx["keys"]["phone"].as_str().unwrap());
    let pending = challenge_sid(&fx, "push_pending_approve");
    let served = verify
        .serve_push_challenge(service, &alice, pending)
        .await
        .unwrap();
    assert_eq!(
        served.json["details"]["message"],
        "Approve login from Lisbon?"
    );
    assert_eq!(served.json["hidden_details"]["session"], "s-1");
    let approved = verify
        .update_challenge(
            service,
            &alice,
            pending,
            &phone.answer(&served, "approved"),
            None,
        )
        .await
        .unwrap();
    assert!(approved.is_approved());
    let pending = challenge_sid(&fx, "push_pending_deny");
    let served = verify
        .serve_push_challenge(service, &alice, pending)
        .await
        .unwrap();
    let denied = verify
        .update_challenge(
            service,
            &alice,
            pending,
            &phone.answer(&served, "denied"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(denied.outcome, ChallengeOutcome::Denied);
    // The unverified push factor verifies by its device's signature.
    let tablet = Device::new(fx["keys"]["tablet"].as_str().unwrap());
    let push_b = factor_sid(&fx, "push_b");
    let push_b = verify
        .verify_factor(service, &alice, push_b, &tablet.sign_factor(push_b))
        .await
        .unwrap();
    assert_eq!(push_b.status(), FactorStatus::Verified);
    assert_eq!(push_b.friendly_name().as_str(), "Alice's tablet");
    // The enrollment token 0.1.0 minted for carol enrolls her phone.
    let carol = identity(&fx, "carol");
    let carol_phone = Device::new(fx["keys"]["carol_phone"].as_str().unwrap());
    let created = verify
        .create_push_factor(
            service,
            &carol,
            fx["carol_access_token"].as_str().unwrap(),
            NewPushFactor::new("ignored", &carol_phone.binding(), "com.owl.bank"),
        )
        .await
        .unwrap();
    assert_eq!(created.friendly_name().as_str(), "Carol's phone");
    let carol_factor = verify
        .verify_factor(
            service,
            &carol,
            created.sid(),
            &carol_phone.sign_factor(created.sid()),
        )
        .await
        .unwrap();
    assert_eq!(carol_factor.status(), FactorStatus::Verified);

    // Passkeys: bob's pending registration finishes with the options 0.1.0 served.
    let bob = identity(&fx, "bob");
    let bob_key = Authenticator::new(&fx, "bob_key");
    let bob_factor = verify
        .verify_passkey_factor(
            service,
            &bob,
            factor_sid(&fx, "passkey_bob"),
            &bob_key.create(&fx["bob_creation_options"]),
        )
        .await
        .unwrap();
    assert_eq!(bob_factor.status(), FactorStatus::Verified);
    // The pending sign-ins by factor, by identity and discoverable are approved by
    // alice's laptop (its sign count was 2 in 0.1.0).
    let laptop = Authenticator::new(&fx, "laptop");
    let handle = alice_handle(&fx);
    let passkey_a = factor_sid(&fx, "passkey_a");
    for (count, name) in [
        (3, "passkey_factor_pending"),
        (4, "passkey_identity_pending"),
        (5, "passkey_discoverable_pending"),
    ] {
        let assertion = laptop.get(&served_options(&fx, name), count, &handle);
        let approved = verify
            .approve_passkey_challenge(service, challenge_sid(&fx, name), &assertion)
            .await
            .unwrap();
        assert!(approved.is_approved(), "{name}");
        assert_eq!(approved.challenge.factor_sid(), Some(passkey_a), "{name}");
        assert!(matches!(
            approved.challenge.subject(),
            ChallengeSubject::Factor { .. }
        ));
    }
    // The passkey registered after the upgrade signs in too (discoverable).
    let fresh = verify
        .create_passkey_challenge(service, None, None, None)
        .await
        .unwrap()
        .challenge;
    // As the API serves them: `{"publicKey": PublicKeyCredentialRequestOptionsJSON}`.
    let options = json!({ "publicKey": fresh.passkey().unwrap().options });
    let bob_handle = bob_factor.entity_sid().to_string().into_bytes();
    let approved = verify
        .approve_passkey_challenge(service, fresh.sid(), &bob_key.get(&options, 1, &bob_handle))
        .await
        .unwrap();
    assert_eq!(approved.challenge.factor_sid(), Some(bob_factor.sid()));

    // Lists after the flows.
    let services = verify.list_services(&ListQuery::default()).await.unwrap();
    assert_eq!(services.items.len(), 2);
    let factors = verify
        .list_factors(service, &alice, &ListQuery::default())
        .await
        .unwrap();
    let mut statuses: Vec<(FactorType, FactorStatus)> = factors
        .items
        .iter()
        .map(|f| (f.factor_type(), f.status()))
        .collect();
    statuses.sort_by_key(|(t, s)| (t.as_str(), s.as_str()));
    assert_eq!(
        statuses,
        [
            (FactorType::Passkeys, FactorStatus::Verified),
            (FactorType::Push, FactorStatus::Verified),
            (FactorType::Push, FactorStatus::Verified),
            (FactorType::Totp, FactorStatus::Verified),
            (FactorType::Totp, FactorStatus::Verified),
        ]
    );
    let challenges = verify
        .list_challenges(
            service,
            &alice,
            &ChallengeFilter::default(),
            &ListQuery::default(),
        )
        .await
        .unwrap();
    let count = |status: ChallengeStatus| {
        challenges
            .items
            .iter()
            .filter(|c| c.status_at(clock.get()) == status)
            .count()
    };
    // 12 of 0.1.0 (the discoverable ones now bound to alice): 8 approved, 2 denied,
    // 1 expired; none pending.
    assert_eq!(challenges.items.len(), 12);
    assert_eq!(count(ChallengeStatus::Approved), 9);
    assert_eq!(count(ChallengeStatus::Denied), 2);
    assert_eq!(count(ChallengeStatus::Expired), 1);
    assert_eq!(count(ChallengeStatus::Pending), 0);

    // The outbox: 0.1.0's events, then today's, in order.
    let events = verify.peek_events(None, 100).await.unwrap();
    let recorded = fx["outbox"].as_array().unwrap().len();
    let types: Vec<EventType> = events
        .iter()
        .skip(recorded)
        .map(|e| e.event.event_type)
        .collect();
    assert_eq!(
        types,
        [
            EventType::ChallengeApproved,
            EventType::FactorVerified,
            EventType::ChallengeApproved,
            EventType::ChallengeDenied,
            EventType::FactorVerified,
            EventType::FactorCreated,
            EventType::FactorVerified,
            EventType::FactorVerified,
            EventType::ChallengeApproved,
            EventType::ChallengeApproved,
            EventType::ChallengeApproved,
            EventType::ChallengeApproved,
        ]
    );
    assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
    // Rows written by today's engine are format 2 as well.
    assert_all_upgraded(store.pool()).await;
    store.close().await;
}

#[tokio::test]
async fn an_interrupted_upgrade_continues_where_it_stopped() {
    let fx = fixture();
    let path = copy_db("legacy_resume");
    let store = open(&path, &fx).await;
    // One 0.1.0 challenge row does not load (edited behind the store's back).
    let broken = challenge_sid(&fx, "push_pending_deny");
    let original: String = sqlx::query("SELECT record FROM verify_challenges WHERE sid = $1")
        .bind(broken.as_bytes().as_slice())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    sqlx::query("UPDATE verify_challenges SET record = $1 WHERE sid = $2")
        .bind(original.replace("\"push\"", "\"sms\""))
        .bind(broken.as_bytes().as_slice())
        .execute(store.pool())
        .await
        .unwrap();

    let failed = store.migrate().await;
    let Err(SqlStoreError::Upgrade(StoreError::Corrupt { rule, .. })) = failed else {
        panic!("expected the upgrade to stop at the broken row, got {failed:?}");
    };
    let hex: String = broken
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(rule.contains(&hex), "{rule}");
    // The schema is at version 2; the factors' batches were committed, the
    // challenges' batch with the broken row was rolled back whole.
    assert_eq!(applied_version(store.pool()).await, SCHEMA_VERSION);
    let factors = formats(store.pool(), "verify_factors").await;
    assert!(factors.iter().all(|(_, _, format)| *format == 2));
    let challenges = formats(store.pool(), "verify_challenges").await;
    assert!(challenges.iter().all(|(_, _, format)| *format == 1));

    // Mended, the next migrate finishes the upgrade.
    sqlx::query("UPDATE verify_challenges SET record = $1 WHERE sid = $2")
        .bind(&original)
        .bind(broken.as_bytes().as_slice())
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_all_upgraded(store.pool()).await;

    // A row marked format 1 that already holds today's shape is rewritten to
    // itself: the upgrade can always be rerun.
    let text_of = |pool: sqlx::SqlitePool| async move {
        sqlx::query("SELECT record FROM verify_challenges WHERE sid = $1")
            .bind(broken.as_bytes().as_slice())
            .fetch_one(&pool)
            .await
            .unwrap()
            .get::<String, _>(0)
    };
    let upgraded = text_of(store.pool().clone()).await;
    sqlx::query("UPDATE verify_challenges SET record_format = 1")
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_all_upgraded(store.pool()).await;
    assert_eq!(text_of(store.pool().clone()).await, upgraded);
    store.close().await;
}

/// The columns of each table, in the fixture's schema 1, with how to carry each
/// value from SQLite to PostgreSQL.
#[derive(Clone, Copy)]
enum Col {
    Bytes,
    OptBytes,
    Int,
    Text,
    OptText,
}

const TABLES: &[(&str, &[(&str, Col)])] = &[
    (
        "verify_services",
        &[
            ("sid", Col::Bytes),
            ("date_created", Col::Int),
            ("version", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_entities",
        &[
            ("sid", Col::Bytes),
            ("service_sid", Col::Bytes),
            ("identity", Col::Text),
            ("date_created", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_factors",
        &[
            ("sid", Col::Bytes),
            ("service_sid", Col::Bytes),
            ("entity_sid", Col::Bytes),
            ("identity", Col::Text),
            ("factor_type", Col::Text),
            ("credential_id", Col::OptBytes),
            ("date_created", Col::Int),
            ("version", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_factor_creations",
        &[
            ("entity_sid", Col::Bytes),
            ("date_created", Col::Int),
            ("factor_sid", Col::Bytes),
        ],
    ),
    (
        "verify_challenges",
        &[
            ("sid", Col::Bytes),
            ("service_sid", Col::Bytes),
            ("entity_sid", Col::OptBytes),
            ("identity", Col::OptText),
            ("factor_sid", Col::OptBytes),
            ("factor_type", Col::Text),
            ("status", Col::Text),
            ("expiration_date", Col::Int),
            ("date_created", Col::Int),
            ("version", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_access_tokens",
        &[
            ("sid", Col::Bytes),
            ("service_sid", Col::Bytes),
            ("identity", Col::Text),
            ("date_created", Col::Int),
            ("version", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_webhooks",
        &[
            ("sid", Col::Bytes),
            ("service_sid", Col::Bytes),
            ("date_created", Col::Int),
            ("version", Col::Int),
            ("record", Col::Text),
        ],
    ),
    (
        "verify_outbox",
        &[("sequence", Col::Int), ("record", Col::Text)],
    ),
];

/// Copies every row of release 0.1.0's SQLite fixture into a PostgreSQL schema at
/// version 1 (as if 0.1.0 had written them there).
async fn copy_to_postgres(from: &sqlx::SqlitePool, to: &sqlx::PgPool) {
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let rows = sqlx::query(&format!("SELECT {} FROM {table}", names.join(", ")))
            .fetch_all(from)
            .await
            .unwrap();
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        for row in &rows {
            let mut query = sqlx::query(&insert);
            for (i, (_, col)) in columns.iter().enumerate() {
                query = match col {
                    Col::Bytes => query.bind(row.get::<Vec<u8>, _>(i)),
                    Col::OptBytes => query.bind(row.get::<Option<Vec<u8>>, _>(i)),
                    Col::Int => query.bind(row.get::<i64, _>(i)),
                    Col::Text => query.bind(row.get::<String, _>(i)),
                    Col::OptText => query.bind(row.get::<Option<String>, _>(i)),
                };
            }
            query.execute(to).await.unwrap();
        }
    }
    let last: i64 = sqlx::query("SELECT last FROM verify_outbox_counter")
        .fetch_one(from)
        .await
        .unwrap()
        .get(0);
    sqlx::query("UPDATE verify_outbox_counter SET last = $1 WHERE id = 1")
        .bind(last)
        .execute(to)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn release_010_rows_upgrade_on_postgres() {
    let test = "release_010_rows_upgrade_on_postgres";
    let url = pg_url(test);
    let fx = fixture();
    let options = pg_schema(&url, "legacy").await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    // Schema 1 exactly as release 0.1.0 applied it (same SQL, so same checksum).
    let release_010 = Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            Cow::Borrowed("init"),
            MigrationType::Simple,
            Cow::Borrowed(include_str!("../../migrations/postgres/0001_init.sql")),
            false,
        )]),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    release_010.run(&pool).await.unwrap();
    let source = copy_db("legacy_pg_source");
    let sqlite = SqliteStore::open(&source).await.unwrap();
    copy_to_postgres(sqlite.pool(), &pool).await;
    sqlite.close().await;

    let store = PgStore::from_pool(pool.clone()).with_sealer(sealer(&fx));
    store.migrate().await.unwrap();
    for table in ["verify_factors", "verify_challenges"] {
        let formats: Vec<i64> = sqlx::query(&format!("SELECT record_format FROM {table}"))
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(formats.len(), fx[&table[7..]].as_object().unwrap().len());
        assert!(formats.iter().all(|f| *f == 2), "{table}: {formats:?}");
    }
    let service = service_sid(&fx);
    for record in fx["challenges"].as_object().unwrap().values() {
        let expected: Challenge = model(record);
        let stored = store.get_challenge(service, expected.sid()).await.unwrap();
        assert_eq!(stored, Some(expected));
    }

    // Two flows continue: a TOTP approval and a passkey sign-in by identity.
    let clock =
        ManualClock::new(time(&fx, "t0").saturating_add(std::time::Duration::from_secs(60)));
    let verify = engine(store.clone(), &fx, &clock);
    let alice = identity(&fx, "alice");
    let code = code_at(fx["keys"]["totp_a"].as_str().unwrap(), clock.get());
    let approved = verify
        .update_challenge(
            service,
            &alice,
            challenge_sid(&fx, "totp_pending"),
            &code,
            None,
        )
        .await
        .unwrap();
    assert!(approved.is_approved());
    let laptop = Authenticator::new(&fx, "laptop");
    let name = "passkey_identity_pending";
    let assertion = laptop.get(&served_options(&fx, name), 3, &alice_handle(&fx));
    let approved = verify
        .approve_passkey_challenge(service, challenge_sid(&fx, name), &assertion)
        .await
        .unwrap();
    assert!(approved.is_approved());
    store.close().await;
}
