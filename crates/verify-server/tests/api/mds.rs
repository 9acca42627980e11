//! `--mds-blob` / `--mds-root`: a server started with a FIDO MDS3 BLOB refuses the
//! AAGUIDs it reports revoked (with `none` attestation, under the default
//! attestation policy), and picks up a rewritten BLOB file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePrivateKey as _;
use rand_chacha::rand_core::SeedableRng as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use verify_engine::ManualClock;
use verify_engine::model::{AccountSid, ServiceSid, UnixTime};
use verify_engine::store::MemoryStore;
use verify_server::mds::WatchedMds;
use verify_server::{AppState, Credentials, router};

use crate::support::{BASE, Harness, T0};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const X: [u8; 16] = [0xaa; 16];
const Y: [u8; 16] = [0xbb; 16];

/// A root certificate and a BLOB signer issued by it.
struct Pki {
    root_pem: String,
    signer_der: Vec<u8>,
    signer_key: p256::ecdsa::SigningKey,
}

impl Pki {
    fn new() -> Self {
        let root_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        root.distinguished_name
            .push(rcgen::DnType::CommonName, "Test MDS Root");
        root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        root.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let root_cert = root.self_signed(&root_key).unwrap();
        let signer_key =
            p256::ecdsa::SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
        let pem = signer_key
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        let signer_pair = rcgen::KeyPair::from_pem(&pem).unwrap();
        let mut signer = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        signer
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test Metadata BLOB Signer");
        let signer_cert = signer
            .signed_by(&signer_pair, &root_cert, &root_key)
            .unwrap();
        Self {
            root_pem: root_cert.pem(),
            signer_der: signer_cert.der().to_vec(),
            signer_key,
        }
    }

    /// A BLOB numbered `no` reporting `revoked` as REVOKED and `certified` as
    /// certified.
    fn blob(&self, no: u64, revoked: [u8; 16], certified: [u8; 16]) -> String {
        let entry = |aaguid: [u8; 16], status: &str| {
            let h: String = aaguid.iter().map(|b| format!("{b:02x}")).collect();
            json!({
                "aaguid": format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]),
                "metadataStatement": { "description": format!("Key {status}"), "attestationRootCertificates": [] },
                "statusReports": [{ "status": "FIDO_CERTIFIED" }, { "status": status }],
            })
        };
        let payload = json!({
            "legalHeader": "test", "no": no, "nextUpdate": "2026-02-01",
            "entries": [entry(revoked, "REVOKED"), entry(certified, "FIDO_CERTIFIED_L1")],
        });
        let header =
            json!({ "alg": "ES256", "typ": "JWT", "x5c": [STANDARD.encode(&self.signer_der)] });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature: p256::ecdsa::Signature = self.signer_key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// Writes `text` to `path` as an operator should: a new file renamed into place.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("verify-mds-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A harness over an engine configured from the BLOB file, and its watcher.
fn harness(blob: &Path, root: &Path) -> (Harness, WatchedMds) {
    let clock = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
    let config = verify_engine::EngineConfig::new(
        AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
    );
    let (config, watched, summary) =
        WatchedMds::open(config, blob, root, UnixTime::from_secs(T0)).unwrap();
    assert_eq!((summary.serial, summary.refused), (1, 1));
    let shared: Arc<dyn verify_engine::Clock> = clock.clone();
    let state = Arc::new(
        AppState::with_engine_config(
            MemoryStore::new(),
            config,
            BASE,
            Credentials::new("key", "secret"),
            shared,
            rand_chacha::ChaCha20Rng::seed_from_u64(42),
        )
        .unwrap(),
    );
    let h = Harness {
        app: router(Arc::clone(&state)),
        state,
        clock,
    };
    (h, watched)
}

/// A `none` registration of a fresh passkey factor by an authenticator naming
/// `aaguid`.
async fn register(
    h: &Harness,
    service: &str,
    identity: &str,
    aaguid: [u8; 16],
) -> crate::support::Reply {
    let base = format!("/v2/Services/{service}/Passkeys");
    let created = h
        .post_json(
            &format!("{base}/Factors"),
            &json!({"friendly_name": "key", "identity": identity}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let challenge = created.json["options"]["publicKey"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = p256::ecdsa::SigningKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(9));
    let credential_id = sha2::Sha256::digest(identity.as_bytes())[..16].to_vec();
    let mut auth_data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
    auth_data.push(0x45);
    auth_data.extend_from_slice(&0_u32.to_be_bytes());
    auth_data.extend_from_slice(&aaguid);
    auth_data.extend_from_slice(&16_u16.to_be_bytes());
    auth_data.extend_from_slice(&credential_id);
    let point = key.verifying_key().to_encoded_point(false);
    auth_data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    auth_data.extend_from_slice(point.x().unwrap());
    auth_data.extend_from_slice(&[0x22, 0x58, 0x20]);
    auth_data.extend_from_slice(point.y().unwrap());
    let object = ciborium::Value::Map(vec![
        ("fmt".into(), "none".into()),
        ("attStmt".into(), ciborium::Value::Map(vec![])),
        ("authData".into(), ciborium::Value::Bytes(auth_data)),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&object, &mut bytes).unwrap();
    let client_data =
        format!(r#"{{"type":"webauthn.create","challenge":"{challenge}","origin":"{ORIGIN}"}}"#);
    let id = URL_SAFE_NO_PAD.encode(&credential_id);
    let body: Value = json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
        },
        "clientExtensionResults": {},
    });
    h.post_json(&format!("{base}/VerifyFactor"), &body).await
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
async fn a_revoked_aaguid_is_refused_and_a_rewritten_blob_replaces_the_anchors() {
    let pki = Pki::new();
    let dir = temp_dir("reload");
    let (blob, root) = (dir.join("blob.jwt"), dir.join("root.pem"));
    std::fs::write(&root, &pki.root_pem).unwrap();
    replace_file(&blob, &pki.blob(1, X, Y));
    let (h, watched) = harness(&blob, &root);
    let service = passkeys_service(&h).await;
    let sid = ServiceSid::parse(&service).unwrap();

    // X is revoked: refused with `none` attestation under the default policy
    // (attestation reported, not required), in the service's error shape.
    let refused = register(&h, &service, "user-000x", X).await;
    refused.assert_error(403, 60324);
    let ok = register(&h, &service, "user-000y", Y).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    assert_eq!(ok.json["status"], "verified");

    // Nothing changed: nothing reloaded.
    assert!(watched.reload_if_changed(h.now()).is_none());

    // The operator drops in a BLOB that revokes Y and no longer X.
    replace_file(&blob, &pki.blob(2, Y, X));
    let summary = watched.reload_if_changed(h.now()).unwrap().unwrap();
    assert_eq!((summary.serial, summary.refused), (2, 1));
    let anchors = h.state.engine.config().trust_anchors(sid);
    assert!(anchors.refusal(&Y).is_some());
    assert!(anchors.refusal(&X).is_none());
    assert_eq!(
        anchors.metadata(&X).unwrap().description,
        "Key FIDO_CERTIFIED_L1"
    );

    // A broken BLOB is refused once and the anchors in place stay.
    replace_file(&blob, "not a BLOB");
    assert!(watched.reload_if_changed(h.now()).unwrap().is_err());
    assert!(watched.reload_if_changed(h.now()).is_none());
    assert!(
        h.state
            .engine
            .config()
            .trust_anchors(sid)
            .refusal(&Y)
            .is_some()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The reloaded anchors as the registration endpoint sees them: a registration
/// after the file changed is judged by the new BLOB.
#[tokio::test]
async fn a_rewritten_blob_takes_effect_on_registrations() {
    let pki = Pki::new();
    let dir = temp_dir("effect");
    let (blob, root) = (dir.join("blob.jwt"), dir.join("root.pem"));
    std::fs::write(&root, &pki.root_pem).unwrap();
    replace_file(&blob, &pki.blob(1, X, Y));
    let (h, watched) = harness(&blob, &root);
    let service = passkeys_service(&h).await;
    replace_file(&blob, &pki.blob(2, Y, X));
    assert!(watched.reload_if_changed(h.now()).unwrap().is_ok());
    register(&h, &service, "user-000y", Y)
        .await
        .assert_error(403, 60324);
    let ok = register(&h, &service, "user-000x", X).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_blob_or_root_refuses_to_start_with_the_file_named() {
    let pki = Pki::new();
    let dir = temp_dir("start");
    let (blob, root) = (dir.join("blob.jwt"), dir.join("root.pem"));
    let config = || {
        verify_engine::EngineConfig::new(
            AccountSid::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
        )
    };
    let now = UnixTime::from_secs(T0);
    std::fs::write(&root, &pki.root_pem).unwrap();
    replace_file(&blob, "junk");
    let error = WatchedMds::open(config(), &blob, &root, now).unwrap_err();
    assert!(
        error.starts_with("--mds-blob") && error.contains("blob.jwt"),
        "{error}"
    );
    // Signed under another root.
    replace_file(&blob, &Pki::new().blob(1, X, Y));
    let error = WatchedMds::open(config(), &blob, &root, now).unwrap_err();
    assert!(error.contains("MDS root"), "{error}");
    let missing = dir.join("absent.pem");
    let error = WatchedMds::open(config(), &blob, &missing, now).unwrap_err();
    assert!(
        error.starts_with("--mds-root") && error.contains("absent.pem"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
